/** Reads the extension's settings for a scope; invalid values are logged once each and defaulted. */
import * as vscode from 'vscode';
import { SETTING_KEYS, parseSettings, type Settings } from './settingsSchema';

const warned = new WeakMap<vscode.LogOutputChannel, Set<string>>();

export function readSettings(log: vscode.LogOutputChannel, scope?: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration('sparkOptimizer', scope);
  const { settings, warnings } = parseSettings(Object.fromEntries(SETTING_KEYS.map((k) => [k, config.get<unknown>(k)])));
  const seen = warned.get(log) ?? new Set<string>();
  warned.set(log, seen);
  for (const w of warnings) {
    if (seen.has(w)) continue;
    seen.add(w);
    log.warn(w);
  }
  return settings;
}
