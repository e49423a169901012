/**
 * Extension entry: builds the services and registers the features. Wiring only; activation
 * failures are shown once.
 */
import * as vscode from 'vscode';
import { AnalysisWorker } from './views/analysisWorker';
import { CollectionController } from './views/collection';
import { COMMANDS } from './views/commands';
import { DatabaseService } from './views/database';
import { register as registerDatabaseCommands } from './views/databaseCommands';
import { DiagnosticsController } from './views/diagnostics';
import { register as registerDiskCheck } from './views/diskCheck';
import { register as registerCompare } from './views/compare/register';
import { register as registerJobCommands } from './views/jobCommands';
import { register as registerJobPage } from './views/jobPage/register';
import { register as registerJobsTable } from './views/jobsTable/register';
import { JobsTree } from './views/jobs';
import { readSettings } from './views/settings';
import { register as registerSourceCommands } from './views/sourceCommands';
import { register as registerTrend } from './views/trend/register';
import { SourcesModel, SourcesTree } from './views/sources';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Spark Optimizer', { log: true });
  context.subscriptions.push(log);
  try {
    const root = vscode.workspace.workspaceFolders?.[0]?.uri;
    const model = new SourcesModel(root, log);
    const db = new DatabaseService(root, log, context.secrets, (source) => model.find(source)?.config);
    const sourcesTree = new SourcesTree(model, db);
    const jobsTree = new JobsTree(db);
    const jobsView = vscode.window.createTreeView('sparkOptimizer.jobs', { treeDataProvider: jobsTree, showCollapseAll: true });
    const collection = new CollectionController(context.extensionPath, db, log, root, context.secrets);
    const analysisWorker = new AnalysisWorker(context.extensionPath);
    context.subscriptions.push(
      db,
      model,
      sourcesTree,
      jobsTree,
      jobsView,
      collection,
      analysisWorker,
      new DiagnosticsController(analysisWorker, log),
      vscode.window.createTreeView('sparkOptimizer.sources', { treeDataProvider: sourcesTree }),
      vscode.commands.registerCommand(COMMANDS.refresh, async () => {
        // During a collection the store is reopened once the run has saved (DatabaseService.reset); Refresh does not wait for that.
        const reset = db.reset();
        await model.reload();
        if (!db.busy) await reset;
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('sparkOptimizer.databasePath') || e.affectsConfiguration('sparkOptimizer.database')) void db.reset();
        if (e.affectsConfiguration('sparkOptimizer.autoCollectIntervalMinutes')) scheduleAutoCollect();
      }),
    );
    const showFilter = (): void => {
      jobsView.message = jobsTree.describeFilter();
    };
    registerSourceCommands({ model, collection, jobs: jobsTree, root, trusted: () => vscode.workspace.isTrusted, showFilter }, context);
    registerDatabaseCommands({ db }, context);
    registerJobCommands({ db, tree: jobsTree, view: jobsView, log, root, sources: model }, context);
    registerJobPage({ db, sources: model, log }, context);
    registerTrend({ db, log }, context);
    registerCompare({ db, log }, context);
    registerJobsTable({ db, log }, context);
    registerDiskCheck({ worker: analysisWorker, log }, context);

    let timer: NodeJS.Timeout | undefined;
    const scheduleAutoCollect = (): void => {
      clearInterval(timer);
      const minutes = readSettings(log, root).autoCollectIntervalMinutes;
      if (minutes > 0) timer = setInterval(() => vscode.workspace.isTrusted && !collection.running && void collection.run(model.all, { quiet: true }), minutes * 60_000);
    };
    scheduleAutoCollect();
    context.subscriptions.push(
      { dispose: () => clearInterval(timer) },
      vscode.workspace.onDidGrantWorkspaceTrust(() => {
        void model.reload();
        void db.reset(); // a PostgreSQL store is not opened in an untrusted workspace
      }),
    );
    void model.reload();
    log.info(`Spark Optimizer activated${vscode.workspace.isTrusted ? '' : ' (untrusted workspace: analysis only)'}.`);
  } catch (err) {
    log.error(`Activation failed: ${(err as Error).stack ?? String(err)}`);
    void vscode.window.showErrorMessage(`Spark Optimizer failed to start: ${(err as Error).message}`, 'Show Log').then((a) => a && log.show());
  }
}

export function deactivate(): void {}
