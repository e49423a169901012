/**
 * The Job page (issue 15): opened by Open Job (the Jobs tree's click), one panel per application
 * attempt, refreshed when the database changes, restored after a reload by a WebviewPanelSerializer
 * from the key the page saved. The model is computed here, in the host, from the store.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SparkAppRecord } from '../../collectors/record';
import { checkRegressions } from '../../analysis/regression';
import { shownCheck, shownRecord } from '../../storage/storedSecrets';
import { COMMANDS } from '../commands';
import { regressionThresholds } from '../settings';
import type { DatabaseService } from '../database';
import type { SourcesModel } from '../sources';
import { findEventLog, notFoundMessage, opensAsText } from './eventLog';
import { findingCodesOf, jobPageModel } from './model';
import { webviewOptions } from '../webviewHtml';
import { JobPagePanel, VIEW_TYPE } from './panel';
import { isJobKey, isPageState, jobKeyText, type JobKey } from './protocol';

export interface JobPageDeps {
  db: DatabaseService;
  sources: SourcesModel;
  log: vscode.LogOutputChannel;
}


/** A Jobs tree node, a record or a bare key: what Open Job is called with. */
function jobKeyOf(arg: unknown): JobKey | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const rec = (arg as { record?: unknown }).record ?? arg;
  if (!isJobKey(rec)) return undefined;
  return { app_id: rec.app_id, attempt_id: rec.attempt_id };
}

export function register(deps: JobPageDeps, context: vscode.ExtensionContext): void {
  const { db, log } = deps;
  const pages = new Map<string, JobPagePanel>();

  const sourceOf = (r: SparkAppRecord): { config: Parameters<typeof findEventLog>[0]; dir: string | undefined } => {
    const s = deps.sources.find(r.source);
    return { config: s?.config, dir: s?.configUri ? path.dirname(s.configUri.fsPath) : undefined };
  };

  const load = async (page: JobPagePanel): Promise<void> => {
    const store = await db.open();
    const record = store.get(page.key);
    if (!record) {
      page.post({ type: 'missing', key: page.key, message: `${page.key.app_id}${page.key.attempt_id ? ` (attempt ${page.key.attempt_id})` : ''} is no longer in the database.` });
      return;
    }
    const started = Date.now();
    const { config, dir } = sourceOf(record);
    // The run against its own history (issue 18), with its source's thresholds.
    const [check] = checkRegressions(store, [page.key], regressionThresholds(log, config));
    // Masked as shown (storedSecrets.ts): an older client sharing the database may have stored secrets, and the check quotes the environments' properties.
    const model = jobPageModel(shownRecord(record), store.summariesOf(page.key), check && shownCheck(check));
    const eventLog = (page.eventLog ??= await findEventLog(config, dir, page.key));
    page.panel.title = `Job: ${model.title}`;
    page.post({ type: 'model', model, eventLog });
    log.debug(`Job page ${record.app_id}: ${model.stages.length} stages, model in ${Date.now() - started} ms`);
  };

  /**
   * The first diagnostic on `uri` whose code is one of `codes` (in their order of preference), once
   * the editor's analyzer has run on the newly opened log; undefined after `timeoutMs` without one.
   */
  const diagnosticWith = (uri: vscode.Uri, codes: readonly string[], timeoutMs = 15_000): Promise<vscode.Diagnostic | undefined> => {
    const pick = (): vscode.Diagnostic | undefined => {
      const ds = vscode.languages.getDiagnostics(uri);
      for (const code of codes) {
        const d = ds.find((x) => x.code === code);
        if (d) return d;
      }
      return undefined;
    };
    const now = pick();
    if (now || codes.length === 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const done = (d: vscode.Diagnostic | undefined): void => {
        clearTimeout(timer);
        sub.dispose();
        resolve(d);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const sub = vscode.languages.onDidChangeDiagnostics((e) => {
        if (!e.uris.some((u) => u.toString() === uri.toString())) return;
        const d = pick();
        if (d) done(d);
      });
    });
  };

  /** Opens the job's event log; with a quality `flag`, at the line the log shows it (the editor's own diagnostics say where). */
  const openEventLog = async (key: JobKey, flag?: string): Promise<void> => {
    const store = await db.open();
    const record = store.get(key);
    if (!record) return;
    const { config, dir } = sourceOf(record);
    const found = await findEventLog(config, dir, key);
    if (found.path === null) {
      void vscode.window.showInformationMessage(`Spark Optimizer: no event log to open for ${key.app_id}: ${found.note}.`);
      return;
    }
    const isDir = (await stat(found.path).catch(() => null))?.isDirectory() ?? false;
    const uri = vscode.Uri.file(found.path);
    const notFound = notFoundMessage(found, key.app_id);
    if (notFound !== undefined) {
      void vscode.window.showWarningMessage(`Spark Optimizer: ${notFound}`);
      await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    if (!opensAsText(found.path, isDir)) {
      await vscode.commands.executeCommand('revealInExplorer', uri);
      return;
    }
    const editor = await vscode.window.showTextDocument(uri, { preview: true, viewColumn: vscode.ViewColumn.Beside });
    if (flag === undefined) return;
    const codes = findingCodesOf(flag);
    const d = await diagnosticWith(uri, codes);
    if (!d) {
      void vscode.window.showInformationMessage(`Spark Optimizer: ${flag} is not tied to a line of ${path.basename(found.path)}${codes.length === 0 ? '' : ' (the analyzer marked none for it)'}.`);
      return;
    }
    editor.selection = new vscode.Selection(d.range.start, d.range.end);
    editor.revealRange(d.range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
  };

  const attach = (panel: vscode.WebviewPanel, key: JobKey, title: string): JobPagePanel => {
    const page = new JobPagePanel(panel, key, context.extensionUri, title, {
      log,
      load,
      handle: async (p, m) => {
        if (m.type === 'openJson') await vscode.commands.executeCommand(COMMANDS.openJobJson, p.key);
        else if (m.type === 'compareWithPrevious') await vscode.commands.executeCommand(COMMANDS.compareWithPrevious, p.key);
        else if (m.type === 'showTrend') await vscode.commands.executeCommand(COMMANDS.showTrend, p.key);
        else await openEventLog(p.key, m.flag);
      },
    });
    pages.set(jobKeyText(key), page);
    page.onDidDispose(() => pages.delete(jobKeyText(key)));
    return page;
  };

  context.subscriptions.push(
    { dispose: () => [...pages.values()].forEach((p) => p.dispose()) },
    vscode.commands.registerCommand(COMMANDS.openJob, (arg: unknown) => {
      const key = jobKeyOf(arg);
      if (!key) return;
      const open = pages.get(jobKeyText(key));
      if (open) {
        open.panel.reveal();
        return;
      }
      const name = (arg as { record?: SparkAppRecord }).record?.app_name ?? key.app_id;
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, `Job: ${name}`, vscode.ViewColumn.Active, webviewOptions(context.extensionUri));
      attach(panel, key, name);
    }),
    vscode.commands.registerCommand(COMMANDS.openEventLog, async (arg: unknown) => {
      const key = jobKeyOf(arg);
      if (key) await openEventLog(key);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: unknown) => {
        if (!isPageState(state)) {
          panel.dispose(); // a page from before it saved its key: nothing to show
          return Promise.resolve();
        }
        attach(panel, state.key, state.key.app_id);
        return Promise.resolve();
      },
    }),
    db.onDidChange(() => {
      for (const page of pages.values()) void load(page).catch((err: unknown) => log.warn(`Job page refresh: ${String(err)}`));
    }),
  );
}
