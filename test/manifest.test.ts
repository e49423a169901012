import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, CONTEXT, ITEM } from '../src/views/commands';
import { SETTING_KEYS, parseSettings } from '../src/views/settingsSchema';
import { REGRESSION_SETTING_KEYS, THRESHOLD_KEYS, parseRegressionSettings } from '../src/analysis/regressionThresholds';

interface Manifest {
  contributes: {
    commands: { command: string; title: string; category: string }[];
    menus: Record<string, { command: string; when?: string }[]>;
    configuration: { properties: Record<string, { default: unknown; description: string; minimum?: number; maximum?: number; type?: string }> };
    views: Record<string, { id: string }[]>;
    viewsWelcome: { view: string; when?: string }[];
  };
}
const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', 'package.json'), 'utf8')) as Manifest;

describe('package.json manifest', () => {
  it('contributes exactly the commands of the typed table, each with the category', () => {
    expect(manifest.contributes.commands.map((c) => c.command).sort()).toEqual(Object.values(COMMANDS).sort());
    for (const c of manifest.contributes.commands) expect(c.category).toBe('Spark Optimizer');
  });

  it('menus name only known commands, and `when` clauses only known context keys and item kinds', () => {
    const known = new Set<string>(Object.values(COMMANDS));
    const keys = Object.values(CONTEXT);
    const items = Object.values(ITEM);
    for (const entries of Object.values(manifest.contributes.menus)) {
      for (const e of entries) {
        expect(known.has(e.command), e.command).toBe(true);
        for (const m of (e.when ?? '').matchAll(/sparkOptimizer\.[A-Za-z.]+/g)) {
          expect([...keys, ...items, 'sparkOptimizer.sources', 'sparkOptimizer.jobs'], e.when).toContain(m[0]);
        }
      }
    }
    const views = manifest.contributes.views.sparkOptimizer!.map((v) => v.id);
    for (const w of manifest.contributes.viewsWelcome) expect(views).toContain(w.view);
  });

  it('offers its commands in the palette from the first second: none waits for a context key the extension sets after it finds sources or jobs (issue 16)', () => {
    // hasSources and hasJobs are set once the sources are found and the Jobs view is drawn: a palette
    // entry behind them was missing for seconds after start-up, or until the Jobs view was shown.
    // Commands run from the palette say what is missing instead (no sources yet, no jobs to delete).
    const late: string[] = [CONTEXT.hasSources, CONTEXT.hasJobs];
    const gated = (manifest.contributes.menus.commandPalette ?? []).filter((e) => late.some((k) => (e.when ?? '').includes(k)));
    expect(gated).toEqual([]);
  });

  it('declares every setting with a default and a description, and the schema knows the same keys', () => {
    const props = manifest.contributes.configuration.properties;
    // The regression thresholds (issue 18) have their own schema, regressionThresholds.ts.
    const regression = REGRESSION_SETTING_KEYS.map((k) => `sparkOptimizer.regression.${k}`);
    expect(Object.keys(props).sort()).toEqual([...SETTING_KEYS.map((k) => `sparkOptimizer.${k}`), ...regression].sort());
    for (const [k, p] of Object.entries(props)) {
      expect(p.description.length, k).toBeGreaterThan(10);
      if (regression.includes(k)) continue;
      expect(parseSettings({ [k.replace('sparkOptimizer.', '')]: p.default }).warnings).toEqual([]);
    }
  });

  it('declares the regression thresholds with the default and range of their schema', () => {
    const props = manifest.contributes.configuration.properties;
    for (const k of REGRESSION_SETTING_KEYS) {
      const p = props[`sparkOptimizer.regression.${k}`]!;
      const range = THRESHOLD_KEYS[k].schema.toJSONSchema() as { minimum: number; maximum: number; type: string };
      expect(p, k).toMatchObject({ default: THRESHOLD_KEYS[k].default, minimum: range.minimum, maximum: range.maximum, type: range.type });
      expect(parseRegressionSettings({ [k]: p.default }).warnings, k).toEqual([]);
      expect(parseRegressionSettings({ [k]: p.minimum! - 1 }).warnings, k).toHaveLength(1);
      expect(parseRegressionSettings({ [k]: p.maximum! + 1 }).warnings, k).toHaveLength(1);
    }
  });
});

describe('settings parsing', () => {
  it('keeps good values and defaults bad ones with a warning', () => {
    const { settings, warnings } = parseSettings({ databasePath: 'db/jobs.db', retentionDays: -3, concurrency: 2.5, eventLogFolders: ['logs', 7], zstdMaxWindowMb: 4096 });
    expect(settings).toEqual({ database: '', databasePath: 'db/jobs.db', eventLogFolders: [], autoCollectIntervalMinutes: 0, retentionDays: 0, concurrency: 0, zstdMaxWindowMb: 128, maxLineMb: 32, maxDecompressionRatio: 1000 });
    expect(warnings).toEqual([
      'Setting sparkOptimizer.eventLogFolders = ["logs",7] is not valid; using [].',
      'Setting sparkOptimizer.retentionDays = -3 is not valid; using 0.',
      'Setting sparkOptimizer.concurrency = 2.5 is not valid; using 0.',
      'Setting sparkOptimizer.zstdMaxWindowMb = 4096 is not valid; using 128.',
    ]);
    expect(parseSettings({ zstdMaxWindowMb: 512 }).settings.zstdMaxWindowMb).toBe(512);
  });
});
