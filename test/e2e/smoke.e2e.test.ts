/**
 * Smoke test of the e2e harness: a throwaway extension (command, tree view, diagnostics) in a real
 * VS Code (code-server), checked the way a user would see it. Needs `bash scripts/e2e/setup.sh`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { describeE2e, startVsCode, type VsCodeSession } from './harness';

const TEST_TIMEOUT_MS = 120_000;

const EXTENSION_JS = `'use strict';
const vscode = require('vscode');

exports.activate = function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('e2eSmoke.hello', () => {
      void vscode.window.showInformationMessage('Hello from the extension host');
    }),
  );

  const items = ['First smoke item', 'Second smoke item'];
  context.subscriptions.push(
    vscode.window.registerTreeDataProvider('e2eSmoke.items', {
      getTreeItem: (label) => new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.None),
      getChildren: (element) => (element ? [] : items),
    }),
  );

  const diagnostics = vscode.languages.createDiagnosticCollection('e2eSmoke');
  context.subscriptions.push(diagnostics);
  const check = (doc) => {
    if (!doc.uri.path.endsWith('.smoke')) return;
    const warning = new vscode.Diagnostic(
      new vscode.Range(0, 0, 0, 5),
      'Smoke warning: this file is only a test',
      vscode.DiagnosticSeverity.Warning,
    );
    warning.source = 'e2eSmoke';
    diagnostics.set(doc.uri, [warning]);
  };
  vscode.workspace.textDocuments.forEach(check);
  context.subscriptions.push(vscode.workspace.onDidOpenTextDocument(check));
};

exports.deactivate = function deactivate() {};
`;

function writeSmokeExtension(dir: string): void {
  mkdirSync(path.join(dir, 'dist'), { recursive: true });
  const manifest = {
    name: 'e2e-smoke',
    displayName: 'E2E Smoke',
    publisher: 'e2e-harness',
    version: '0.0.1',
    engines: { vscode: '^1.90.0' },
    main: './dist/extension.js',
    activationEvents: ['onStartupFinished'],
    contributes: {
      commands: [{ command: 'e2eSmoke.hello', title: 'E2E Smoke: Say Hello' }],
      views: { explorer: [{ id: 'e2eSmoke.items', name: 'Smoke Items' }] },
    },
  };
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
  writeFileSync(path.join(dir, 'dist', 'extension.js'), EXTENSION_JS);
}

describeE2e('e2e smoke (real VS Code)', () => {
  it('shows the tree, runs the command, reports the diagnostic', { timeout: TEST_TIMEOUT_MS }, async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'e2e-smoke-'));
    const extensionDir = path.join(root, 'extension');
    const workspace = path.join(root, 'workspace');
    writeSmokeExtension(extensionDir);
    mkdirSync(workspace);
    writeFileSync(path.join(workspace, 'a.smoke'), 'smoke test file\n');

    const timings: string[] = [];
    let last = Date.now();
    const step = (name: string): void => {
      const now = Date.now();
      timings.push(`${name} ${((now - last) / 1000).toFixed(1)}s`);
      last = now;
    };
    let session: VsCodeSession | undefined;
    try {
      session = await startVsCode({ extensionDir, workspace });
      step(`start (workbench ${(session.workbenchLoadMs / 1000).toFixed(1)}s)`);
      const s = session;

      await expect.poll(() => s.treeItems('Smoke Items'), { timeout: 30_000 }).toEqual(['First smoke item', 'Second smoke item']);
      step('tree');

      await s.runCommand('E2E Smoke: Say Hello');
      await s.waitForText('Hello from the extension host', 20_000);
      expect(await s.notifications()).toContain('Hello from the extension host');
      step('command+notification');

      await s.openFile('a.smoke');
      await expect
        .poll(async () => (await s.problems()).some((row) => row.includes('Smoke warning: this file is only a test')), { timeout: 30_000 })
        .toBe(true);
      step('file+problems');
      console.info(`e2e smoke timings: ${timings.join(', ')}`);
    } catch (err) {
      if (session) {
        const shot = await session.screenshot('smoke-failure').catch(() => 'none');
        console.error(`e2e smoke failed; screenshot: ${shot}\n--- code-server output (tail) ---\n${session.serverLog().split('\n').slice(-40).join('\n')}`);
      }
      throw err;
    } finally {
      await session?.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
