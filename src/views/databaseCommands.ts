/**
 * The jobs store in the editor's chrome (issue 17): a status-bar item saying which store is open (the
 * workspace file or a PostgreSQL server; click: the setting), and the command that keeps a server's
 * password in the editor's secret storage.
 */
import * as vscode from 'vscode';
import { COMMANDS } from './commands';
import { OPEN_DATABASE_SETTING, OPEN_SETTINGS_ACTION, openDatabaseSetting, type DatabaseService } from './database';
import { storeStatus } from './databaseSetting';

/** Left, after the workbench's own items. */
const STATUS_PRIORITY = -100;

export function register(deps: { db: DatabaseService }, context: vscode.ExtensionContext): void {
  const { db } = deps;
  const item = vscode.window.createStatusBarItem('sparkOptimizer.database', vscode.StatusBarAlignment.Left, STATUS_PRIORITY);
  item.name = 'Spark Optimizer Jobs Database';
  item.command = OPEN_DATABASE_SETTING;
  const update = (): void => {
    const status = db.status;
    if (!status) {
      item.hide();
      return;
    }
    const view = storeStatus(status.location, status.problem);
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.backgroundColor = view.error ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    item.show();
  };
  update();

  context.subscriptions.push(
    item,
    db.onDidChangeStatus(update),
    vscode.commands.registerCommand(COMMANDS.setDatabasePassword, async () => {
      let loc;
      try {
        loc = db.location();
      } catch (err) {
        void vscode.window.showErrorMessage(`Spark Optimizer: ${(err as Error).message}`, OPEN_SETTINGS_ACTION).then((a) => a && openDatabaseSetting());
        return;
      }
      if (loc.kind !== 'postgres') {
        void vscode.window
          .showInformationMessage(`Spark Optimizer: the jobs database is the file ${loc.file}, which takes no password. To use a PostgreSQL server, set sparkOptimizer.database to its postgres:// URL.`, OPEN_SETTINGS_ACTION)
          .then((a) => a && openDatabaseSetting());
        return;
      }
      const password = await vscode.window.showInputBox({
        title: `Password for ${loc.display}`,
        prompt: 'Kept in the editor’s secret storage, never in settings or logs. Empty: forget the stored one (PGPASSWORD or ~/.pgpass are used then).',
        password: true,
        ignoreFocusOut: true,
      });
      if (password === undefined) return;
      // The store is reopened once a running collection has saved (DatabaseService.reset): say why nothing happens yet.
      if (db.busy) void vscode.window.showInformationMessage('Spark Optimizer: password saved; the database is reopened with it once the running collection has saved.');
      await db.setPassword(loc, password);
      try {
        const store = await db.open();
        void vscode.window.showInformationMessage(`Spark Optimizer: ${password === '' ? 'forgot the stored password; ' : ''}connected to ${store.where}.`);
      } catch {
        // The service has shown why (naming the server, never the password).
      }
    }),
  );
}
