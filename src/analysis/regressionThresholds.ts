/**
 * When a run counts as regressed (issue 18): one table of thresholds, read from the editor's settings
 * (`sparkOptimizer.regression.<setting>`, camelCase) and from a source's `regression:` mapping in the
 * config file (snake_case), both validated by zod schemas built from that table. A source's keys win
 * over the settings, the settings over the defaults. Only zod here: the config schema (registry.ts)
 * imports it, so it stays out of the check's own imports.
 */
import * as z from 'zod';

/** Fewer completed runs before a run than this, and it is never flagged (issue 18). */
export const MIN_BASELINE_RUNS = 3;

interface ThresholdKey {
  /** Its name in a source's `regression:` mapping. */
  key: string;
  schema: z.ZodNumber;
  default: number;
  description: string;
}

/**
 * Every threshold by its setting name. Floors are in the units people think in (seconds, MiB); the
 * check works in the record's (ms, bytes). A metric is flagged when it is above its baseline times
 * `factor` AND above it by more than its floor: a 30 s job taking 60 s is not news.
 */
export const THRESHOLD_KEYS = {
  baselineRuns: {
    key: 'baseline_runs',
    schema: z.number().int().min(MIN_BASELINE_RUNS).max(100),
    default: 10,
    description: `How many earlier completed runs of the same application name and source make the baseline (their median), ${MIN_BASELINE_RUNS} to 100. A run with fewer than ${MIN_BASELINE_RUNS} before it is never flagged.`,
  },
  factor: {
    key: 'factor',
    schema: z.number().min(1).max(100),
    default: 1.5,
    description: 'A metric is flagged when it exceeds its baseline by this factor (1.5: 50% more) and by the floor for its kind.',
  },
  minIncreaseSeconds: {
    key: 'min_increase_seconds',
    schema: z.number().min(0).max(604_800),
    default: 60,
    description: 'Floor for duration and CPU time: flagged only when more than this many seconds over the baseline.',
  },
  minIncreaseMb: {
    key: 'min_increase_mb',
    schema: z.number().min(0).max(1_048_576),
    default: 1024,
    description: 'Floor for input, shuffle read/write and memory/disk spill: flagged only when more than this many MiB over the baseline.',
  },
  minIncreaseFailedTasks: {
    key: 'min_increase_failed_tasks',
    schema: z.number().int().min(0).max(1_000_000),
    default: 10,
    description: 'Floor for failed tasks: flagged only when more than this many over the baseline. Failures where none of the baseline runs had any are flagged whatever the floor.',
  },
  minIncreaseFailedStages: {
    key: 'min_increase_failed_stages',
    schema: z.number().int().min(0).max(100_000),
    default: 1,
    description: 'Floor for failed stages: flagged only when more than this many over the baseline. Failures where none of the baseline runs had any are flagged whatever the floor.',
  },
  minIncreaseExecutors: {
    key: 'min_increase_executors',
    schema: z.number().int().min(0).max(100_000),
    default: 4,
    description: 'Floor for the executor count: flagged only when more than this many over the baseline.',
  },
} as const satisfies Record<string, ThresholdKey>;

export type ThresholdSetting = keyof typeof THRESHOLD_KEYS;
/** The thresholds, whole: setting name to value, in the settings' units (seconds, MiB). */
export type RegressionThresholds = Record<ThresholdSetting, number>;

export const REGRESSION_SETTING_KEYS = Object.keys(THRESHOLD_KEYS) as ThresholdSetting[];

export const DEFAULT_THRESHOLDS: Readonly<RegressionThresholds> = Object.freeze(Object.fromEntries(REGRESSION_SETTING_KEYS.map((k) => [k, THRESHOLD_KEYS[k].default])) as RegressionThresholds);

type ConfigKey = (typeof THRESHOLD_KEYS)[ThresholdSetting]['key'];

/** A source's `regression:` mapping in the config file: each key optional (left out: the setting's value). */
export const regressionConfigSchema = z
  .object(Object.fromEntries(REGRESSION_SETTING_KEYS.map((k) => [THRESHOLD_KEYS[k].key, THRESHOLD_KEYS[k].schema.optional().describe(THRESHOLD_KEYS[k].description)])) as Record<ConfigKey, z.ZodOptional<z.ZodNumber>>)
  .strict()
  .describe('When a run of this source counts as regressed against its earlier runs; each key left out takes the editor setting sparkOptimizer.regression.<key in camelCase>, else its default.');
export type RegressionConfig = z.infer<typeof regressionConfigSchema>;
/** The keys of a `regression:` mapping, for "did you mean" on an unknown one. */
export const REGRESSION_CONFIG_KEYS: readonly ConfigKey[] = REGRESSION_SETTING_KEYS.map((k) => THRESHOLD_KEYS[k].key);

/** The editor's settings: a bad value falls back to its default (with a warning, see parseRegressionSettings). */
export const regressionSettingsSchema = z.object(
  Object.fromEntries(REGRESSION_SETTING_KEYS.map((k) => [k, THRESHOLD_KEYS[k].schema.catch(THRESHOLD_KEYS[k].default)])) as Record<ThresholdSetting, z.ZodCatch<z.ZodNumber>>,
);

/**
 * The settings' raw values (`sparkOptimizer.regression.<key>`, undefined when unset) as thresholds,
 * and a warning per value that had to be replaced by its default, worded as parseSettings words them.
 */
export function parseRegressionSettings(raw: Readonly<Record<string, unknown>>): { thresholds: RegressionThresholds; warnings: string[] } {
  const thresholds = regressionSettingsSchema.parse(Object.fromEntries(REGRESSION_SETTING_KEYS.map((k) => [k, raw[k] ?? THRESHOLD_KEYS[k].default])));
  const warnings = REGRESSION_SETTING_KEYS.filter((k) => raw[k] !== undefined && raw[k] !== thresholds[k]).map(
    (k) => `Setting sparkOptimizer.regression.${k} = ${JSON.stringify(raw[k])} is not valid; using ${JSON.stringify(thresholds[k])}.`,
  );
  return { thresholds, warnings };
}

/** A source's thresholds: its `regression:` keys over the settings' (or the defaults). */
export function sourceThresholds(settings: Readonly<RegressionThresholds>, config: RegressionConfig | undefined): RegressionThresholds {
  const out = { ...settings };
  for (const k of REGRESSION_SETTING_KEYS) {
    const v = config?.[THRESHOLD_KEYS[k].key];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
