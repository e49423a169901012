/** Commands on sources: collect, dry run, cancel, create/open config, set a secret, reveal jobs. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { CollectionController } from './collection';
import { COMMANDS } from './commands';
import type { JobsTree } from './jobs';
import { isInvalidSource, type Source, type SourcesModel } from './sources';

const STARTER = `# Spark Optimizer collector config: the sources to collect Spark job metrics from.
# Each source has a name and a type (event_log, history_server, emr, databricks, dataproc).
sources:
  - name: local-event-logs
    type: event_log
    # A folder of Spark event logs (spark.eventLog.dir), relative to this file or absolute.
    path: spark-events
    # recursive: true        # walk sub-folders (default)
    # since: 2024-06-01      # only applications that ended after this date
  # - name: history
  #   type: history_server
  #   history_server_url: http://localhost:18080
  #   token: \${env:SPARK_HISTORY_TOKEN}   # never write a secret inline
  # - name: emr
  #   type: emr
  #   region: us-east-1        # credentials: the AWS default chain (AWS_PROFILE, SSO, env, instance role)
  # - name: databricks
  #   type: databricks
  #   host: https://dbc-1234.cloud.databricks.com   # token: DATABRICKS_TOKEN or "Set Source Secret…"
  # - name: dataproc
  #   type: dataproc
  #   project_id: my-project   # credentials: Application Default Credentials
  #   region: us-central1
`;

function isSource(v: unknown): v is Source {
  return typeof v === 'object' && v !== null && 'config' in v && 'name' in v;
}

async function pickSource(model: SourcesModel, arg: unknown, title: string): Promise<Source | undefined> {
  if (isSource(arg)) return arg;
  if (model.all.length === 1) return model.all[0];
  const pick = await vscode.window.showQuickPick(
    model.all.map((s) => ({ label: s.name, description: s.config.type, source: s })),
    { title },
  );
  return pick?.source;
}

export function register(
  deps: { model: SourcesModel; collection: CollectionController; jobs: JobsTree; root: vscode.Uri | undefined; trusted: () => boolean; showFilter: () => void },
  context: vscode.ExtensionContext,
): void {
  const { model, collection, root } = deps;
  const needTrust = (): boolean => {
    if (deps.trusted()) return true;
    void vscode.window.showWarningMessage('Spark Optimizer: collection is off in untrusted workspaces. Trust this workspace to collect.');
    return false;
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.collectSource, async (arg: unknown) => {
      if (!needTrust()) return;
      const s = await pickSource(model, arg, 'Collect from which source?');
      if (s) await collection.run([s]);
    }),
    vscode.commands.registerCommand(COMMANDS.collectAll, async () => {
      if (!needTrust()) return;
      if (model.all.length === 0) {
        void vscode.window.showInformationMessage('Spark Optimizer: no sources yet. Create a spark-optimizer.yaml first.', 'Create').then((a) => a && vscode.commands.executeCommand(COMMANDS.createConfig));
        return;
      }
      await collection.run(model.all);
    }),
    vscode.commands.registerCommand(COMMANDS.dryRun, async (arg: unknown) => {
      if (!needTrust()) return;
      const s = await pickSource(model, arg, 'Dry run which source? (nothing is stored)');
      if (s) await collection.run([s], { dryRun: true });
    }),
    vscode.commands.registerCommand(COMMANDS.cancelCollection, () => collection.cancel()),
    vscode.commands.registerCommand(COMMANDS.createConfig, async () => {
      if (!root) {
        void vscode.window.showWarningMessage('Spark Optimizer: open a folder first.');
        return;
      }
      const uri = vscode.Uri.joinPath(root, 'spark-optimizer.yaml');
      if (!existsSync(uri.fsPath)) await writeFile(uri.fsPath, STARTER);
      await vscode.window.showTextDocument(uri);
      await model.reload();
    }),
    vscode.commands.registerCommand(COMMANDS.openConfig, async (arg: unknown) => {
      // A source that cannot run: its config, at the source's line.
      if (isInvalidSource(arg)) {
        const at = new vscode.Position(Math.max(0, (arg.line ?? 1) - 1), 0);
        await vscode.window.showTextDocument(arg.configUri, { selection: new vscode.Range(at, at) });
        return;
      }
      const s = isSource(arg) ? arg : undefined;
      if (s?.configUri) await vscode.window.showTextDocument(s.configUri);
      else if (s) await vscode.commands.executeCommand('workbench.action.openSettings', 'sparkOptimizer.eventLogFolders');
    }),
    vscode.commands.registerCommand(COMMANDS.revealSourceJobs, async (arg: unknown) => {
      const s = await pickSource(model, arg, 'Show the jobs of which source?');
      if (!s) return;
      deps.jobs.setState({ grouping: 'source', filter: { source: s.name } });
      deps.showFilter();
      await vscode.commands.executeCommand('sparkOptimizer.jobs.focus');
    }),
    vscode.commands.registerCommand(COMMANDS.setSourceSecret, async (arg: unknown) => {
      const s = await pickSource(model, arg, 'Set the secret (token or password) of which source?');
      if (!s) return;
      const value = await vscode.window.showInputBox({ title: `Secret for ${s.name}`, prompt: 'Stored in the editor’s secret storage, never in settings or logs.', password: true, ignoreFocusOut: true });
      if (value === undefined) return;
      await context.secrets.store(`sparkOptimizer.secret.${s.name}`, value);
      void vscode.window.showInformationMessage(`Spark Optimizer: secret for ${s.name} saved.`);
    }),
  );
}
