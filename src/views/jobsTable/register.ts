/**
 * The Jobs table (issue 15): Open Jobs Table (the Jobs view's title bar, the palette) opens one
 * panel over every collected job. The page asks for rows by position; each request runs one SQL
 * page and one count on the store (model.ts `tablePage`), so 100,000 jobs cost what one screenful
 * costs. When the database changes the page is sent its choices again and asks for its rows again.
 * Restored after a reload by a WebviewPanelSerializer (the page's query and columns are its state).
 */
import * as vscode from 'vscode';
import { shownRegression } from '../../storage/storedSecrets';
import { COMMANDS } from '../commands';
import type { DatabaseService } from '../database';
import { WebviewPage, webviewOptions } from '../webviewHtml';
import { COLUMNS, QUICK_FILTERS, tableChoices, tablePage } from './model';
import { isPageMessage, type HostMessage, type PageMessage, type QueryOverride } from './protocol';

export const VIEW_TYPE = 'sparkOptimizer.jobsTable';
const TITLE = 'Spark Jobs';

export interface JobsTableDeps {
  db: DatabaseService;
  log: vscode.LogOutputChannel;
}

class JobsTablePanel extends WebviewPage<JobsTablePanel, HostMessage, PageMessage> {
  constructor(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, handlers: ConstructorParameters<typeof WebviewPage<JobsTablePanel, HostMessage, PageMessage>>[3]) {
    super(panel, extensionUri, { bundle: 'jobsTable', title: TITLE, what: 'Jobs table', isPageMessage }, handlers);
  }
}

export function register(deps: JobsTableDeps, context: vscode.ExtensionContext): void {
  const { db, log } = deps;
  let open: JobsTablePanel | undefined;
  /** What the next init sets on the page's query (Show Regressed), once. */
  let override: QueryOverride | undefined;

  const load = async (page: JobsTablePanel): Promise<void> => {
    const store = await db.open();
    const query = override;
    override = undefined;
    page.post({ type: 'init', columns: COLUMNS, choices: tableChoices(store), quickFilters: QUICK_FILTERS, ...(query ? { query } : {}) });
  };

  const handle = async (page: JobsTablePanel, m: Exclude<PageMessage, { type: 'ready' }>): Promise<void> => {
    switch (m.type) {
      case 'rows': {
        const store = await db.open();
        const started = performance.now();
        // The regressed runs' summaries masked as shown (storedSecrets.ts): an older client sharing the
        // database may have stored a check quoting a secret. Here, not in model.ts, which the webview bundles.
        const shown = { list: store.list.bind(store), count: store.count.bind(store), regressions: (keys: Parameters<typeof store.regressions>[0]) => store.regressions(keys).map((c) => c && shownRegression(c)) };
        const result = tablePage(shown, m.query, m.offset, m.limit, { count: m.count });
        const ms = Math.round(performance.now() - started);
        if ('errors' in result) page.post({ type: 'invalid', id: m.id, errors: result.errors });
        else page.post({ type: 'rows', id: m.id, ...result, ms });
        log.debug(`Jobs table: rows ${m.offset}+${m.limit}${'total' in result && result.total !== null ? ` of ${result.total}` : ''} in ${ms} ms`);
        return;
      }
      case 'openJob':
        await vscode.commands.executeCommand(COMMANDS.openJob, m.key);
        return;
      case 'compare': {
        // The earlier run is A (the baseline), whichever was picked first.
        const store = await db.open();
        const at = (k: typeof m.a): number => {
          const r = store.get(k);
          return r ? Date.parse(r.start_time ?? r.submit_time ?? r.end_time ?? '') : Number.NaN;
        };
        const [a, b] = at(m.b) < at(m.a) ? [m.b, m.a] : [m.a, m.b];
        await vscode.commands.executeCommand(COMMANDS.compareJobs, a, b);
        return;
      }
    }
  };

  const attach = (panel: vscode.WebviewPanel): JobsTablePanel => {
    const page = new JobsTablePanel(panel, context.extensionUri, { log, load, handle });
    open = page;
    page.onDidDispose(() => {
      if (open === page) open = undefined;
    });
    return page;
  };

  context.subscriptions.push(
    { dispose: () => open?.dispose() },
    // With { regressed: true } (a collection's "Show Regressed"): the table shows only the runs that regressed.
    vscode.commands.registerCommand(COMMANDS.openJobsTable, (arg?: unknown) => {
      override = typeof arg === 'object' && arg !== null && (arg as QueryOverride).regressed === true ? { regressed: true } : undefined;
      if (open) {
        // A hidden panel's page is made anew when shown (no retained context): its 'ready' loads it,
        // override included. A visible one is told now.
        const visible = open.panel.visible;
        open.panel.reveal();
        if (override && visible) void load(open).catch((err: unknown) => log.warn(`Jobs table: ${String(err)}`));
        return;
      }
      attach(vscode.window.createWebviewPanel(VIEW_TYPE, TITLE, vscode.ViewColumn.Active, webviewOptions(context.extensionUri)));
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel) => {
        attach(panel);
        return Promise.resolve();
      },
    }),
    db.onDidChange(() => {
      if (open) void load(open).catch((err: unknown) => log.warn(`Jobs table refresh: ${String(err)}`));
    }),
  );
}
