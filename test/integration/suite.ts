/**
 * Runs inside a VS Code launched by @vscode/test-electron (scripts/integration.mjs): checks the
 * extension's API wiring (activation, commands, diagnostics, quick fixes) with the real vscode API.
 * Waits on real signals (onDidChangeDiagnostics), never on sleeps.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../src/views/commands';

function diagnosticsFor(uri: vscode.Uri, code: string, timeoutMs = 20_000): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const found = vscode.languages.getDiagnostics(uri);
      if (found.some((d) => d.code === code)) {
        sub.dispose();
        clearTimeout(timer);
        resolve(found);
        return true;
      }
      return false;
    };
    const sub = vscode.languages.onDidChangeDiagnostics(() => void check());
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${code} diagnostic on ${uri.fsPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    check();
  });
}

export async function run(): Promise<void> {
  const ext = vscode.extensions.getExtension('spark-optimizer.spark-optimizer');
  assert.ok(ext, 'extension not installed');
  await ext.activate();

  const registered = new Set(await vscode.commands.getCommands(true));
  for (const id of Object.values(COMMANDS)) assert.ok(registered.has(id), `command ${id} not registered`);

  const root = vscode.workspace.workspaceFolders?.[0]?.uri;
  assert.ok(root, 'no workspace folder');
  const log = vscode.Uri.file(path.join(root.fsPath, 'logs', 'app-20240611120000-0002'));
  const logDoc = await vscode.workspace.openTextDocument(log);
  assert.equal(logDoc.languageId, 'spark-eventlog');
  const logDiags = await diagnosticsFor(log, 'malformed-json');
  assert.equal(logDiags.find((d) => d.code === 'malformed-json')!.range.start.line, 8);

  const config = vscode.Uri.file(path.join(root.fsPath, 'spark-optimizer.yaml'));
  await vscode.workspace.openTextDocument(config);
  const configDiags = await diagnosticsFor(config, 'unknown-key');
  const typo = configDiags.find((d) => d.code === 'unknown-key')!;
  const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', config, typo.range);
  assert.ok(actions.some((a) => a.title === 'Rename to "path"'), `quick fixes: ${actions.map((a) => a.title).join(', ')}`);
}
