/** `sparkOptimizer.collectDryRun`: collect a folder of event logs and show the summary (no storage yet). */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { collectEventLogs } from '../collectors/eventlog/collect';

export function register(context: vscode.ExtensionContext): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('sparkOptimizer.collectDryRun', async () => {
      const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: true, openLabel: 'Collect' });
      const target = picked?.[0];
      if (!target) return;
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Spark Optimizer: collecting event logs', cancellable: true },
        async (progress, token) => {
          const controller = new AbortController();
          const sub = token.onCancellationRequested(() => controller.abort());
          let apps = 0;
          let problems = 0;
          try {
            for await (const batch of collectEventLogs(
              { path: target.fsPath },
              {
                signal: controller.signal,
                workerScript: path.join(context.extensionPath, 'dist', 'worker.js'),
                onProgress: (p) => progress.report({ message: `${p.logsDone}/${p.logsFound} logs, ${p.apps} apps` }),
              },
            )) {
              apps += batch.apps.length;
              problems += batch.problems.length + batch.apps.reduce((n, a) => n + a.problems.length, 0);
            }
            void vscode.window.showInformationMessage(`Spark Optimizer (dry run): ${apps} application attempts, ${problems} problems.`);
          } finally {
            sub.dispose();
          }
        },
      );
    }),
  );
}
