/**
 * `Spark Optimizer: Check Compressed and Large Event Logs`: the editor cannot show compressed logs or
 * files over 50 MB as text, so their analysis runs from disk in a worker thread, with a cancellable
 * progress notification; the findings go to the Problems panel like any other diagnostics.
 */
import { readdir, stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DiscoveredContexts } from '../analysis/eventLogAnalyzer';
import { FolderNames } from '../analysis/folderNames';
import { errorText } from '../common/errors';
import { CODEC_SUFFIXES, codecFromName } from '../collectors/eventlog/codecs/index';
import type { AnalysisWorker } from './analysisWorker';
import { COMMANDS } from './commands';
import { toDiagnostic } from './diagnostics';
import { readSettings } from './settings';
import { settingsReadLimits } from './settingsSchema';

/**
 * Compressed logs, finished or in progress. A plain `*.inprogress` is text: the editor opens it and
 * its own diagnostics check it (it was reported twice, once by each; a review), unless it is over
 * the editor's limit, which NAMED_LOGS finds.
 */
const COMPRESSED = `**/*.{${[...CODEC_SUFFIXES, ...CODEC_SUFFIXES.map((c) => `${c}.inprogress`)].join(',')}}`;
const NAMED_LOGS = '**/{events_*_*,eventlog,application_*_*,app-*-*,local-*}';
const NAMED_LOG = /^(events_.+_.+|eventlog|application_.+_.+|app-.+-.+|local-.+)$/;
const NOT_A_LOG = /\.(json|ya?ml|md|txt|js|ts)$/;
const EDITOR_LIMIT = 50 * 1024 * 1024;

/** The workspace's logs the editor cannot show as text: compressed, or over its size limit. */
async function candidates(): Promise<vscode.Uri[]> {
  const found = new Map<string, vscode.Uri>();
  for (const u of await vscode.workspace.findFiles(COMPRESSED, '**/node_modules/**', 5000)) found.set(u.fsPath, u);
  for (const u of await vscode.workspace.findFiles(NAMED_LOGS, '**/node_modules/**', 5000)) {
    if (found.has(u.fsPath) || NOT_A_LOG.test(u.fsPath)) continue;
    if ((await stat(u.fsPath)).size > EDITOR_LIMIT) found.set(u.fsPath, u);
  }
  return [...found.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/**
 * The event logs in a folder the Explorer's menu was opened on (a rolling log's `eventlog_v2_…`
 * folder, whose name the menu's when clause matches): each of its logs, compressed or not, of any
 * size: it was asked for. Reading the folder as one file failed with EISDIR (a review).
 */
async function logsInFolder(folder: string): Promise<vscode.Uri[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && (codecFromName(e.name) !== 'none' || (NAMED_LOG.test(e.name) && !NOT_A_LOG.test(e.name))))
    .map((e) => vscode.Uri.file(path.join(e.parentPath, e.name)))
    .sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

/** Whether `file` is `folder` or inside it. */
function isUnder(file: string, folder: string): boolean {
  const rel = path.relative(folder, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

export function register(deps: { worker: AnalysisWorker; log: vscode.LogOutputChannel }, context: vscode.ExtensionContext): void {
  const collection = vscode.languages.createDiagnosticCollection('spark-optimizer-disk');
  context.subscriptions.push(
    collection,
    vscode.commands.registerCommand(COMMANDS.checkLogFiles, async (arg: unknown) => {
      const target = arg instanceof vscode.Uri ? arg : undefined;
      const isFolder = target !== undefined && (await stat(target.fsPath).catch(() => undefined))?.isDirectory() === true;
      // What this run checks loses its old findings first: a log deleted or fixed since keeps none.
      if (target === undefined) collection.clear();
      else {
        const stale: vscode.Uri[] = [];
        collection.forEach((uri) => void (isUnder(uri.fsPath, target.fsPath) && stale.push(uri)));
        for (const uri of stale) collection.delete(uri);
      }
      const files = target === undefined ? await candidates() : isFolder ? await logsInFolder(target.fsPath) : [target];
      if (files.length === 0) {
        void vscode.window.showInformationMessage(`Spark Optimizer: no ${target === undefined ? 'compressed or large event logs in this workspace' : `event logs in ${path.basename(target.fsPath)}`}.`);
        return;
      }
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Spark Optimizer: checking event logs', cancellable: true }, async (progress, token) => {
        const sub = token.onCancellationRequested(() => deps.worker.stop());
        let problems = 0;
        let checked = 0;
        let failed = 0;
        // Each folder listed once, whatever the number of logs in it.
        const folders = new FolderNames();
        const discovery = new DiscoveredContexts();
        try {
          for (const [i, uri] of files.entries()) {
            if (token.isCancellationRequested) break;
            progress.report({ message: `${i + 1}/${files.length}: ${path.basename(uri.fsPath)}`, increment: 100 / files.length });
            const siblings = await folders.siblingsOf(uri.fsPath);
            if (token.isCancellationRequested) break;
            try {
              // What discovery tells of the log (still being written, a Spark 1.x folder's version), as validate and the editor's own diagnostics take it.
              const discovered = await discovery.of(uri.fsPath);
              const findings = await deps.worker.analyze({ file: uri.fsPath, siblings, limits: settingsReadLimits(readSettings(deps.log, uri)), discovered });
              collection.set(uri, findings.map(toDiagnostic));
              problems += findings.length;
              checked++;
            } catch (err) {
              if (token.isCancellationRequested) break;
              failed++;
              collection.delete(uri);
              deps.log.error(`${uri.fsPath}: ${errorText(err)}`);
            }
          }
        } finally {
          sub.dispose();
        }
        const notChecked = failed > 0 ? `; ${failed} could not be checked (see the Spark Optimizer output)` : '';
        void vscode.window.showInformationMessage(`Spark Optimizer: checked ${checked} event logs on disk, ${problems} findings (see Problems)${notChecked}.`);
      });
    }),
  );
}
