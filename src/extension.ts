/**
 * Extension entry: builds the services and registers features; nothing else happens here.
 * (The sidebar, storage and diagnostics arrive with their issues.)
 */
import * as vscode from 'vscode';
import { register as registerDryRun } from './views/dryRunCommand';

export function activate(context: vscode.ExtensionContext): void {
  registerDryRun(context);
}

export function deactivate(): void {}
