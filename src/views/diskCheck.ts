/**
 * `Spark Optimizer: Check Compressed and Large Event Logs`: the editor cannot show compressed logs or
 * files over 50 MB as text, so their analysis runs from disk in a worker thread, with a cancellable
 * progress notification; the findings go to the Problems panel like any other diagnostics.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FolderNames } from '../analysis/folderNames';
import type { AnalysisWorker } from './analysisWorker';
import { COMMANDS } from './commands';
import { toDiagnostic } from './diagnostics';
import { readSettings } from './settings';
import { settingsReadLimits } from './settingsSchema';

const COMPRESSED = '**/*.{lz4,lzf,snappy,zstd,zst,gz,inprogress}';
const NAMED_LOGS = '**/{events_*_*,eventlog,application_*_*,app-*-*,local-*}';
const EDITOR_LIMIT = 50 * 1024 * 1024;

async function candidates(): Promise<vscode.Uri[]> {
  const found = new Map<string, vscode.Uri>();
  for (const u of await vscode.workspace.findFiles(COMPRESSED, '**/node_modules/**', 5000)) found.set(u.fsPath, u);
  for (const u of await vscode.workspace.findFiles(NAMED_LOGS, '**/node_modules/**', 5000)) {
    if (found.has(u.fsPath) || /\.(json|ya?ml|md|txt|js|ts)$/.test(u.fsPath)) continue;
    if ((await stat(u.fsPath)).size > EDITOR_LIMIT) found.set(u.fsPath, u);
  }
  return [...found.values()].sort((a, b) => a.fsPath.localeCompare(b.fsPath));
}

export function register(deps: { worker: AnalysisWorker; log: vscode.LogOutputChannel }, context: vscode.ExtensionContext): void {
  const collection = vscode.languages.createDiagnosticCollection('spark-optimizer-disk');
  context.subscriptions.push(
    collection,
    vscode.commands.registerCommand(COMMANDS.checkLogFiles, async (arg: unknown) => {
      const files = arg instanceof vscode.Uri ? [arg] : await candidates();
      if (files.length === 0) {
        void vscode.window.showInformationMessage('Spark Optimizer: no compressed or large event logs in this workspace.');
        return;
      }
      await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: 'Spark Optimizer: checking event logs', cancellable: true }, async (progress, token) => {
        const sub = token.onCancellationRequested(() => deps.worker.stop());
        let problems = 0;
        let checked = 0;
        let failed = 0;
        // Each folder listed once, whatever the number of logs in it.
        const folders = new FolderNames();
        try {
          for (const [i, uri] of files.entries()) {
            if (token.isCancellationRequested) break;
            progress.report({ message: `${i + 1}/${files.length}: ${path.basename(uri.fsPath)}`, increment: 100 / files.length });
            const siblings = await folders.siblingsOf(uri.fsPath);
            if (token.isCancellationRequested) break;
            try {
              const findings = await deps.worker.analyze({ file: uri.fsPath, siblings, limits: settingsReadLimits(readSettings(deps.log, uri)) });
              collection.set(uri, findings.map(toDiagnostic));
              problems += findings.length;
              checked++;
            } catch (err) {
              if (token.isCancellationRequested) break;
              failed++;
              deps.log.error(`${uri.fsPath}: ${(err as Error).message}`);
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
