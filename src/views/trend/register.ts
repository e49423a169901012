/**
 * Show Trend (issue 15): the Jobs tree's context action on a job opens the trend of its application
 * name, one panel per name, refreshed when the database changes, restored after a reload by a
 * WebviewPanelSerializer from the name the page saved. The model is computed here, in the host.
 */
import * as vscode from 'vscode';
import type { SparkAppRecord } from '../../collectors/record';
import { COMMANDS } from '../commands';
import type { DatabaseService } from '../database';
import { webviewOptions } from '../webviewHtml';
import { isJobKey } from '../jobPage/protocol';
import { trendModel } from './model';
import { TrendPanel, VIEW_TYPE, trendTitle } from './panel';
import { isPageState } from './protocol';

export interface TrendDeps {
  db: DatabaseService;
  log: vscode.LogOutputChannel;
}

/** The newest runs of a name a trend reads: enough for months of a nightly job, bounded for an hourly one. */
export const TREND_RUN_LIMIT = 1_000;

export function register(deps: TrendDeps, context: vscode.ExtensionContext): void {
  const { db, log } = deps;
  const pages = new Map<string, TrendPanel>();

  const load = async (page: TrendPanel): Promise<void> => {
    const store = await db.open();
    const started = Date.now();
    // Exact name (the `name` query is a "contains" filter), newest first, at most TREND_RUN_LIMIT.
    const runs = store
      .list({ where: [{ field: 'app_name', op: '=', value: page.appName }], sort: 'start_time', descending: true, limit: TREND_RUN_LIMIT })
      .filter((r) => r.app_name === page.appName);
    if (runs.length === 0) {
      page.post({ type: 'missing', appName: page.appName, message: `No run of ${page.appName} is in the database.` });
      return;
    }
    const model = trendModel(page.appName, runs);
    page.post({ type: 'model', model, limit: runs.length >= TREND_RUN_LIMIT ? TREND_RUN_LIMIT : null });
    log.debug(`Trend ${page.appName}: ${model.points.length} runs, model in ${Date.now() - started} ms`);
  };

  const attach = (panel: vscode.WebviewPanel, appName: string): TrendPanel => {
    const page = new TrendPanel(panel, appName, context.extensionUri, {
      log,
      load,
      handle: async (_p, m) => {
        await vscode.commands.executeCommand(COMMANDS.openJob, m.key);
      },
    });
    pages.set(appName, page);
    page.onDidDispose(() => pages.delete(appName));
    return page;
  };

  context.subscriptions.push(
    { dispose: () => [...pages.values()].forEach((p) => p.dispose()) },
    vscode.commands.registerCommand(COMMANDS.showTrend, async (arg: unknown) => {
      // A Jobs tree node (its record) or a bare job key.
      const node = typeof arg === 'object' && arg !== null ? ((arg as { record?: unknown }).record ?? arg) : undefined;
      let record: SparkAppRecord | undefined;
      if (isJobKey(node)) record = typeof (node as Partial<SparkAppRecord>).app_name === 'string' ? (node as SparkAppRecord) : (await db.open()).get(node);
      if (!record) return;
      if (record.app_name === null) {
        void vscode.window.showInformationMessage(`Spark Optimizer: ${record.app_id} has no application name to follow over time.`);
        return;
      }
      const open = pages.get(record.app_name);
      if (open) {
        open.panel.reveal();
        return;
      }
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, trendTitle(record.app_name), vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
      attach(panel, record.app_name);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: unknown) => {
        if (!isPageState(state)) {
          panel.dispose(); // a page from before it saved its name: nothing to show
          return Promise.resolve();
        }
        attach(panel, state.appName);
        return Promise.resolve();
      },
    }),
    db.onDidChange(() => {
      for (const page of pages.values()) void load(page).catch((err: unknown) => log.warn(`Trend refresh: ${String(err)}`));
    }),
  );
}
