/** Reads the extension's settings for a scope; invalid values are logged once each and defaulted. */
import * as vscode from 'vscode';
import { REGRESSION_SETTING_KEYS, parseRegressionSettings, sourceThresholds, type RegressionConfig, type RegressionThresholds } from '../analysis/regressionThresholds';
import { SETTING_KEYS, parseSettings, type Settings } from './settingsSchema';

const warned = new WeakMap<vscode.LogOutputChannel, Set<string>>();

function warnOnce(log: vscode.LogOutputChannel, warnings: readonly string[]): void {
  const seen = warned.get(log) ?? new Set<string>();
  warned.set(log, seen);
  for (const w of warnings) {
    if (seen.has(w)) continue;
    seen.add(w);
    log.warn(w);
  }
}

export function readSettings(log: vscode.LogOutputChannel, scope?: vscode.Uri): Settings {
  const config = vscode.workspace.getConfiguration('sparkOptimizer', scope);
  const { settings, warnings } = parseSettings(Object.fromEntries(SETTING_KEYS.map((k) => [k, config.get<unknown>(k)])));
  warnOnce(log, warnings);
  return settings;
}

/**
 * The regression thresholds of a source (issue 18): its config's `regression:` keys over the
 * settings `sparkOptimizer.regression.*`, over the defaults. Invalid settings are logged once each.
 */
export function regressionThresholds(log: vscode.LogOutputChannel, source: { regression?: RegressionConfig } | undefined): RegressionThresholds {
  const config = vscode.workspace.getConfiguration('sparkOptimizer.regression');
  const { thresholds, warnings } = parseRegressionSettings(Object.fromEntries(REGRESSION_SETTING_KEYS.map((k) => [k, config.get<unknown>(k)])));
  warnOnce(log, warnings);
  return sourceThresholds(thresholds, source?.regression);
}
