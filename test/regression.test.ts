/**
 * Regression flags (issue 18) on generated histories: a run against the runs of its name and source
 * before it. The pure check (assessRun, checkRun), the thresholds' schemas, and the store's side
 * (baselineRuns, baselines, environments, checkRegressions) on both stores, sql.js and PostgreSQL (issue 17).
 */
import { describe, expect, it } from 'vitest';
import type { SparkAppRecord } from '../src/collectors/record';
import { assessRun, baselineEnvironment, checkRegressions, checkRun, packCheck, unpackCheck, REGRESSION_METRICS, type RegressionCheck } from '../src/analysis/regression';
import { median } from '../src/common/stats';
import { DEFAULT_THRESHOLDS, parseRegressionSettings, regressionConfigSchema, sourceThresholds, type RegressionThresholds } from '../src/analysis/regressionThresholds';
import { makeRecord } from './support/records';
import { GB, MIN, nightlyEnvironment, nightlyHistory, nightlyRun } from './support/nightly';
import { memoryRepository } from './support/memoryRepository';
import { describeEachStore } from './support/stores';
import { describeShared, sharedPath } from './support/shared';
import { collectAll } from '../src/collectors/eventlog/collect';
import { configDiff } from '../src/analysis/compare';

const T: RegressionThresholds = { ...DEFAULT_THRESHOLDS };

/** Run i of the nightly job, and its history, with up to ±5% of noise per metric (support/nightly.ts). */
const run = (i: number, over: Partial<SparkAppRecord> = {}): SparkAppRecord => nightlyRun(i, over, true);
const history = (n: number, over: (i: number) => Partial<SparkAppRecord> = () => ({})): SparkAppRecord[] => nightlyHistory(n, over, true);
const environment = nightlyEnvironment;

const flagged = (c: RegressionCheck): Record<string, string | null> => Object.fromEntries(c.metrics.filter((m) => m.flag !== null).map((m) => [m.field, m.flag]));

describe('the regression check on generated histories', () => {
  it('steady runs are not flagged: none of 20 runs with ±5% noise, each against the 10 before it', () => {
    const all = history(30);
    for (let k = 0; k < 20; k++) {
      const c = checkRun(all[k]!, all.slice(k + 1), T);
      expect(c.status, all[k]!.app_id).toBe('steady');
      expect(c.baseline_runs).toHaveLength(10);
      expect(c.changes).toBeNull();
    }
    const c = checkRun(all[0]!, all.slice(1), T);
    expect(c.metrics.map((m) => m.field)).toEqual([...REGRESSION_METRICS]);
    expect(c.summary).toBe('Steady against 10 earlier runs');
  });

  it('a 2x slowdown is flagged, with its ratio, and with nothing in the input, version or config to explain it', () => {
    const base = history(10);
    const slow = run(10, { duration_ms: 20 * MIN, cpu_time_ms: 120 * MIN });
    const c = checkRun(slow, base, T);
    expect(c.status).toBe('regressed');
    expect(flagged(c)).toEqual({ duration_ms: 'threshold', cpu_time_ms: 'threshold' });
    const duration = c.metrics.find((m) => m.field === 'duration_ms')!;
    expect(duration.baseline).toBe(median(base.map((r) => r.duration_ms!)));
    expect(duration.ratio).toBeCloseTo(2, 1);
    expect(duration.delta).toBe(20 * MIN - duration.baseline!);
    expect(c.changes).toMatchObject({ spark_version: null, config: [] });
    expect(Math.abs(c.changes!.input_ratio! - 1)).toBeLessThan(0.11);
    expect(c.likely_cause).toBeNull();
    expect(c.summary).toMatch(/^Duration 2\.\dx, CPU time 2\.\dx$/);
    expect(c.explanation).toContain('the change is elsewhere');
  });

  it('a slowdown on the same input with 5x the stages is put down to another plan, and the stored check keeps it', () => {
    // The e2e's NightlyRegress: 30 stages against 6, the input, version and properties as before (a review
    // of the screenshots: the page said "the change is elsewhere" while Compare showed Stages 6 -> 30).
    const base = history(10, () => ({ total_stages: 6, total_tasks: 24 }));
    const c = checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 30, total_tasks: 120 }), base, T);
    expect(c.status).toBe('regressed');
    expect(c.changes!.plan).toEqual({ stages: [6, 30], tasks: [24, 120] });
    expect(c.causes).toEqual(['plan']);
    expect(c.summary).toMatch(/^Duration 2\.\dx; 30 stages \(was 6\)$/);
    expect(c.explanation).toContain("Likely cause: the job ran another plan, 30 stages and 120 tasks against the baseline's 6 and 24, with the input, Spark version and properties as before: the code or the query changed.");
    const row = { app_id: c.app_id, attempt_id: c.attempt_id, status: c.status, summary: c.summary, explanation: c.explanation };
    expect(unpackCheck(packCheck(c), row)).toEqual(c);
    // A check stored before the plan was kept reads back without one.
    const old = JSON.parse(packCheck(c)) as Record<string, unknown>;
    delete old.plan;
    expect(unpackCheck(JSON.stringify(old), row).changes!.plan).toBeNull();
    // One stage more, or a plan 1.4x the baseline's, is no other plan.
    expect(checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 7, total_tasks: 28 }), base, T).changes!.plan).toBeNull();
    expect(checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 2, total_tasks: 8 }), base, T).changes!.plan).toEqual({ stages: [6, 2], tasks: [24, 8] });
    // Counts that are not whole are no plan (a review): a cut-off run's, or baseline runs without stages (left out of the median).
    expect(checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 2, total_tasks: 8, quality: ['truncated'] }), base, T).changes!.plan).toBeNull();
    const someWithout = history(10, (i) => (i % 2 === 0 ? { total_stages: 0, total_tasks: 0, quality: ['missing:total_stages', 'missing:total_tasks'] } : { total_stages: 6, total_tasks: 24 }));
    expect(checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 6, total_tasks: 24 }), someWithout, T).changes!.plan).toBeNull();
  });

  it('a slowdown with 2x the input is reported as explained by the input', () => {
    const base = history(10);
    const c = checkRun(run(10, { duration_ms: 20 * MIN, input_bytes: 20 * GB }), base, T);
    expect(c.status).toBe('regressed');
    expect(flagged(c)).toEqual({ duration_ms: 'threshold', input_bytes: 'threshold' });
    expect(c.changes!.input_ratio).toBeCloseTo(2, 1);
    expect(c.likely_cause).toBe('input');
    expect(c.causes).toEqual(['input']);
    // The input is said once, as the cause: it read 'Duration 2.0x, Input 2.0x; input 2.0x'.
    expect(c.summary).toMatch(/^Duration 2\.\dx; input 2\.\dx$/);
    expect(c.explanation).toMatch(/Likely cause: more data, the input is 2\.\dx the baseline's \(20 GB against 10 GB\)/);
  });

  it('a config change shows in the diff against the baseline, without the per-run properties', () => {
    const base = history(10);
    const c = checkRun(run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '20', 'spark.speculation': 'true' }) }), base, T);
    expect(c.changes!.config).toEqual([
      { key: 'spark.speculation', a: null, b: 'true', per_run: false },
      { key: 'spark.sql.shuffle.partitions', a: '200', b: '20', per_run: false },
    ]);
    expect(c.likely_cause).toBe('config');
    expect(c.summary).toMatch(/; 2 properties changed$/);
    expect(c.explanation).toContain('2 Spark properties changed: spark.speculation (not set) → true; spark.sql.shuffle.partitions 200 → 20');
    // Without environments (assessRun, figures only) the config is not known, and not guessed.
    const figures = assessRun(run(10, { duration_ms: 20 * MIN }), base, T);
    expect(figures.changes!.config).toBeNull();
    expect(figures.explanation).toContain('The input size and Spark version are as in the baseline: the change');
  });

  it("the baseline's config is what most baseline runs had, and its version the most common one", () => {
    // The newest baseline run already had the new setting; the two before it did not (the properties
    // are compared with the newest CONFIG_BASELINE_RUNS = 3: those in force just before the run).
    const base = history(10, (i) => (i >= 9 ? { environment: environment(i, { 'spark.sql.shuffle.partitions': '20' }) } : {}));
    expect(baselineEnvironment(base.map((r) => r.environment))['spark.sql.shuffle.partitions']).toBe('200');
    const c = checkRun(run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '20' }), spark_version: '4.0.0' }), base, T);
    expect(c.changes!.config!.map((r) => r.key)).toEqual(['spark.sql.shuffle.partitions']);
    expect(c.changes!.spark_version).toEqual({ baseline: '3.5.3', run: '4.0.0' });
    // A version change comes before the properties that often change with it.
    expect(c.causes).toEqual(['version', 'config']);
    expect(c.explanation).toContain('Likely cause: the Spark version changed, Spark 3.5.3 → 4.0.0.');
    expect(c.explanation).toContain('Also: 1 Spark property changed: spark.sql.shuffle.partitions 200 → 20.');
    // A setting the newest two baseline runs already had, with no slowdown, does not explain this run's.
    const settled = history(10, (i) => (i >= 8 ? { environment: environment(i, { 'spark.sql.shuffle.partitions': '20' }) } : {}));
    const d = checkRun(run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '20' }) }), settled, T);
    expect(d.status).toBe('regressed');
    expect(d.changes!.config).toEqual([]);
    // A tie goes to the newest run's value.
    expect(baselineEnvironment([{ k: 'new' }, { k: 'old' }]).k).toBe('new');
    expect(baselineEnvironment([{ k: 'a' }, { k: 'b' }, { k: 'b' }, { k: 'a' }, {}]).k).toBe('a');
    expect(baselineEnvironment([{}, { k: 'b' }, {}])).toEqual({});
  });

  it('fewer than 3 earlier runs are never flagged, whatever the slowdown; 3 are enough', () => {
    const tenfold = run(10, { duration_ms: 100 * MIN, failed_tasks: 50 });
    for (const n of [0, 1, 2]) {
      const c = checkRun(tenfold, history(n), T);
      expect(c).toMatchObject({ status: 'unchecked', unchecked: 'too_few_runs', metrics: [], likely_cause: null });
    }
    expect(checkRun(tenfold, history(2), T).explanation).toBe('Not checked: 2 earlier completed runs of this name and source; 3 are needed.');
    expect(checkRun(tenfold, history(3), T).status).toBe('regressed');
  });

  it('CPU time not measured (null) is not counted as 0: in the baseline, or in the run', () => {
    // 6 of 10 baseline runs without CPU time: as zeros the median would be 0 and 66 min a regression.
    const base = history(10, (i) => (i < 6 ? { cpu_time_ms: null, quality: ['missing:cpu_time_ms'] } : { cpu_time_ms: 60 * MIN }));
    const c = checkRun(run(10, { cpu_time_ms: 66 * MIN }), base, T);
    expect(c.metrics.find((m) => m.field === 'cpu_time_ms')).toMatchObject({ value: 66 * MIN, baseline: 60 * MIN, ratio: 1.1, flag: null });
    expect(c.status).toBe('steady');
    // With only 2 baseline runs that know it, CPU time is not checked at all.
    const older = history(10, (i) => (i < 8 ? { cpu_time_ms: null } : {}));
    expect(checkRun(run(10, { cpu_time_ms: 600 * MIN }), older, T).metrics.find((m) => m.field === 'cpu_time_ms')).toMatchObject({ baseline: null, ratio: null, delta: null, flag: null });
    // A run without it is not checked on it either.
    expect(checkRun(run(10, { cpu_time_ms: null }), history(10), T).metrics.find((m) => m.field === 'cpu_time_ms')).toMatchObject({ value: null, delta: null, flag: null });
    // Nor are a platform-level record's Spark metrics, which are 0 and flagged missing.
    const platform = run(10, { failed_tasks: 0, input_bytes: 0, quality: ['missing:failed_tasks', 'missing:input_bytes'] });
    expect(checkRun(platform, history(10), T).metrics.filter((m) => m.value === null).map((m) => m.field)).toEqual(['failed_tasks', 'input_bytes'].sort((a, b) => REGRESSION_METRICS.indexOf(a as never) - REGRESSION_METRICS.indexOf(b as never)));
  });

  it('floors stop tiny jobs crying wolf; without floors the same runs are flagged', () => {
    const tiny = (i: number, over: Partial<SparkAppRecord> = {}): SparkAppRecord => run(i, { duration_ms: 20_000, cpu_time_ms: 30_000, input_bytes: 10 * 1024 ** 2, shuffle_read_bytes: 5 * 1024 ** 2, shuffle_write_bytes: 5 * 1024 ** 2, num_executors: 1, ...over });
    const base = Array.from({ length: 10 }, (_, k) => tiny(9 - k));
    // 3x the time, 10x the bytes, 2 failed tasks where the baseline had 1 each, 4x the executors: all under their floors.
    const worse = tiny(10, { duration_ms: 60_000, cpu_time_ms: 90_000, input_bytes: 100 * 1024 ** 2, shuffle_read_bytes: 50 * 1024 ** 2, shuffle_write_bytes: 50 * 1024 ** 2, num_executors: 4 });
    expect(checkRun(worse, base, T).status).toBe('steady');
    const noFloors = { ...T, minIncreaseSeconds: 0, minIncreaseMb: 0, minIncreaseFailedTasks: 0, minIncreaseFailedStages: 0, minIncreaseExecutors: 0 };
    expect(flagged(checkRun(worse, base, noFloors))).toEqual({ duration_ms: 'threshold', cpu_time_ms: 'threshold', input_bytes: 'threshold', shuffle_read_bytes: 'threshold', shuffle_write_bytes: 'threshold', num_executors: 'threshold' });
    // Over the floor but under the factor: 14 min against 10 is 1.4x.
    expect(checkRun(run(10, { duration_ms: 14 * MIN }), history(10), T).status).toBe('steady');
    expect(checkRun(run(10, { duration_ms: 14 * MIN }), history(10), { ...T, factor: 1.3 }).status).toBe('regressed');
  });

  it('failures where none of the baseline runs had any are flagged on their own; among failing runs the thresholds hold', () => {
    const c = checkRun(run(10, { failed_tasks: 1 }), history(10), T);
    expect(flagged(c)).toEqual({ failed_tasks: 'new_failures' });
    expect(c.summary).toBe('Failed tasks 1 (none before)');
    expect(c.explanation).toContain('Failed tasks 1, where none of the baseline runs had any');
    expect(flagged(checkRun(run(10, { failed_stages: 1, failed_tasks: 4 }), history(10), T))).toEqual({ failed_tasks: 'new_failures', failed_stages: 'new_failures' });
    // One baseline run failed some tasks: the median is 0, but 3 failures are under the floor of 10.
    const flaky = history(10, (i) => (i === 4 ? { failed_tasks: 2 } : {}));
    expect(checkRun(run(10, { failed_tasks: 3 }), flaky, T).status).toBe('steady');
    expect(flagged(checkRun(run(10, { failed_tasks: 11 }), flaky, T))).toEqual({ failed_tasks: 'threshold' });
  });

  it('the baseline is the newest N runs given; a run is checked only once finished, and only with a name', () => {
    // 10 slow runs long ago, then 10 fast ones: 20 min is a regression against the last 10, not against all 20.
    const base = history(20, (i) => (i < 10 ? { duration_ms: 20 * MIN } : {}));
    const slow = run(20, { duration_ms: 20 * MIN });
    expect(checkRun(slow, base, T).status).toBe('regressed');
    expect(checkRun(slow, base, { ...T, baselineRuns: 20 }).status).toBe('steady');
    expect(checkRun(slow, base, T).baseline_runs.map((k) => k.app_id)).toEqual(base.slice(0, 10).map((r) => r.app_id));
    expect(checkRun(run(20, { status: 'running', duration_ms: 60 * MIN }), base, T)).toMatchObject({ status: 'unchecked', unchecked: 'unfinished' });
    expect(checkRun(run(20, { app_name: null, duration_ms: 60 * MIN }), base, T)).toMatchObject({ status: 'unchecked', unchecked: 'no_history_key' });
    // A failed application is finished: its failures are checked.
    expect(checkRun(run(20, { status: 'failed', failed_stages: 2 }), base, T).status).toBe('regressed');
  });
});

describe('regression thresholds', () => {
  it('settings: good values kept, bad ones defaulted with a warning naming the setting', () => {
    const { thresholds, warnings } = parseRegressionSettings({ baselineRuns: 2, factor: 2, minIncreaseMb: -1, minIncreaseSeconds: 30 });
    expect(thresholds).toEqual({ ...DEFAULT_THRESHOLDS, factor: 2, minIncreaseSeconds: 30 });
    expect(warnings).toEqual(['Setting sparkOptimizer.regression.baselineRuns = 2 is not valid; using 10.', 'Setting sparkOptimizer.regression.minIncreaseMb = -1 is not valid; using 1024.']);
    expect(parseRegressionSettings({})).toEqual({ thresholds: DEFAULT_THRESHOLDS, warnings: [] });
  });

  it("a source's regression: keys win over the settings; unknown keys and bad values are refused", () => {
    const config = regressionConfigSchema.parse({ factor: 3, min_increase_seconds: 300 });
    expect(sourceThresholds({ ...DEFAULT_THRESHOLDS, factor: 2, baselineRuns: 20 }, config)).toEqual({ ...DEFAULT_THRESHOLDS, factor: 3, baselineRuns: 20, minIncreaseSeconds: 300 });
    expect(sourceThresholds(DEFAULT_THRESHOLDS, undefined)).toEqual(DEFAULT_THRESHOLDS);
    expect(regressionConfigSchema.safeParse({ factor: 0.5 }).success).toBe(false);
    expect(regressionConfigSchema.safeParse({ baseline_runs: 2.5 }).success).toBe(false);
    expect(regressionConfigSchema.safeParse({ fator: 2 }).success).toBe(false);
  });
});

describeEachStore('checking new runs against the store', (open) => {
  it('baselineRuns and baselines: completed runs of the same name and source that started before it, newest first, at most n', async () => {
    const repo = await open();
    const runs = history(12).reverse();
    repo.upsert([
      ...runs,
      // Not baseline runs of nightly-011: another source, another name, failed, running, later.
      run(5, { app_id: 'other-source', source: 'staging' }),
      run(6, { app_id: 'other-name', app_name: 'Hourly' }),
      run(7, { app_id: 'failed', status: 'failed' }),
      run(8, { app_id: 'running', status: 'running', end_time: null }),
      run(13, { app_id: 'later' }),
    ]);
    const newest = runs.at(-1)!;
    const ids = (rs: { app_id: string }[]): string[] => rs.map((r) => r.app_id);
    expect(ids(repo.baselineRuns(newest, 10))).toEqual(ids(runs.slice(1, 11).reverse()));
    expect(repo.baselineRuns(newest, 3)).toEqual(runs.slice(8, 11).reverse());
    expect(repo.baselineRuns(runs[0]!, 10)).toEqual([]);
    expect(repo.baselineRuns({ ...newest, app_name: null }, 10)).toEqual([]);
    // Many at once, figures only: the same runs in the same order, without environments and tags.
    const figures = ({ environment: _e, tags: _t, ...rest }: SparkAppRecord): Omit<SparkAppRecord, 'environment' | 'tags'> => rest;
    const key = (r: SparkAppRecord): { app_id: string; attempt_id: string | null } => ({ app_id: r.app_id, attempt_id: r.attempt_id });
    const keys = [newest, { app_id: 'gone', attempt_id: null }, runs[0]!, runs[5]!, { app_id: 'later', attempt_id: null }].map((k) => ({ app_id: k.app_id, attempt_id: k.attempt_id }));
    const many = repo.baselines(keys, 3, ['app_id', 'attempt_id', 'duration_ms', 'quality', 'cpu_time_ms']);
    expect(many.map((b) => b.run.app_id)).toEqual(['nightly-011', 'nightly-000', 'nightly-005', 'later']);
    expect(many[0]!.run).toEqual(figures(newest));
    expect(many[0]!.baseline).toEqual(repo.baselineRuns(newest, 3).map((r) => ({ app_id: r.app_id, attempt_id: null, duration_ms: r.duration_ms, quality: r.quality, cpu_time_ms: r.cpu_time_ms })));
    expect(many[0]!.baseline.length).toBe(3);
    expect(many[1]!.baseline).toEqual([]);
    expect(many[2]!.baseline.map((r) => r.app_id)).toEqual(['nightly-004', 'nightly-003', 'nightly-002']);
    expect(many[3]!.baseline.map((r) => r.app_id)).toEqual(['nightly-011', 'nightly-010', 'nightly-009']);
    // A size per run: a source's own thresholds.
    expect(repo.baselines(keys, (r) => (r.app_id === 'later' ? 5 : 1), ['app_id']).map((b) => b.baseline.length)).toEqual([1, 0, 1, 5]);
    expect(() => repo.baselines(keys, 1, ['environment' as 'app_id'])).toThrow('not fields of a record');
    // More keys than one statement takes.
    const lots = [...Array.from({ length: 1_200 }, (_, i) => ({ app_id: `none-${i}`, attempt_id: null })), key(newest)];
    expect(repo.baselines(lots, 10, ['app_id']).map((b) => b.baseline.length)).toEqual([10]);
    expect(repo.environments([key(runs[3]!), { app_id: 'gone', attempt_id: null }, key(newest)])).toEqual([runs[3]!.environment, {}, newest.environment]);
  });

  it('baselines of many runs equal each run\'s baselineRuns: runs of one name read together, ties in time, attempts, long histories, sizes per run', async () => {
    const repo = await open();
    // A seeded mix: three names over two sources, many runs sharing a time (copies of one log), attempts, runs without a start.
    let seed = 7;
    const next = (k: number): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), Math.floor((seed / 2 ** 31) * k));
    const records: SparkAppRecord[] = [];
    for (let i = 0; i < 400; i++) {
      const day = next(40);
      const time = `2024-03-${String(1 + (day % 28)).padStart(2, '0')}T0${next(3)}:00:00.000Z`;
      records.push(
        makeRecord({
          app_id: `app-${String(next(300)).padStart(3, '0')}-${i}`,
          attempt_id: next(4) === 0 ? String(1 + next(2)) : null,
          app_name: ['Nightly', 'Hourly', 'Once'][next(3)]!,
          source: next(5) === 0 ? 'staging' : 'event_log',
          status: next(8) === 0 ? 'failed' : 'completed',
          start_time: next(10) === 0 ? null : time,
          submit_time: time,
          duration_ms: 1000 + next(5000),
          quality: next(6) === 0 ? ['missing:cpu_time_ms'] : [],
        }),
      );
    }
    repo.upsert(records);
    const nightly = records.filter((r) => r.app_name === 'Nightly' && r.source === 'event_log' && r.start_time !== null).sort((a, b) => a.start_time!.localeCompare(b.start_time!));
    const [oldest, newest] = [nightly[0]!, nightly.at(-1)!];
    const keyOf = (r: SparkAppRecord): { app_id: string; attempt_id: string | null } => ({ app_id: r.app_id, attempt_id: r.attempt_id });
    const pick = (r: SparkAppRecord): Record<string, unknown> => ({ app_id: r.app_id, attempt_id: r.attempt_id, duration_ms: r.duration_ms, quality: r.quality });
    const fields = ['app_id', 'attempt_id', 'duration_ms', 'quality'] as const;
    for (const [keys, size] of [
      [records.map(keyOf), 10],
      [records.slice(0, 5).map(keyOf), 3],
      [records.filter((_, i) => i % 7 === 0).map(keyOf), (r: { duration_ms: number | null }) => (r.duration_ms! % 3) * 4],
      // Two runs a month apart, a hundred between them: read run by run.
      [[oldest, newest].map(keyOf), 2],
    ] as const) {
      const many = repo.baselines(keys, size, fields);
      expect(many.length).toBe(keys.length);
      // Most runs have a baseline to compare: the check is not of empty lists.
      expect(many.filter((b) => b.baseline.length > 0).length).toBeGreaterThanOrEqual(many.length / 2);
      for (const { run, baseline } of many) {
        const record = records.find((r) => r.app_id === run.app_id && r.attempt_id === run.attempt_id)!;
        const n = typeof size === 'number' ? size : size(run);
        expect(baseline).toEqual(repo.baselineRuns(record, n).map(pick));
      }
    }
  });

  it('checkRegressions over a store: each new run against its own history, per-source thresholds, config read only for the regressed', async () => {
    const repo = await open();
    const nightly = history(10).reverse();
    const staging = history(10).reverse().map((r) => ({ ...r, app_id: `staging-${r.app_id}`, source: 'staging' }));
    repo.upsert([...nightly, ...staging]);
    const fresh = [
      run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '50' }) }),
      run(10, { app_id: 'staging-nightly-010', source: 'staging', duration_ms: 14 * MIN }),
      run(10, { app_id: 'new-job', app_name: 'Brand new', duration_ms: 90 * MIN }),
    ];
    repo.upsert(fresh);
    const keys = [...fresh, { app_id: 'not-stored', attempt_id: null }].map((r) => ({ app_id: r.app_id, attempt_id: r.attempt_id }));
    const perSource = (r: { source: string }): RegressionThresholds => (r.source === 'staging' ? { ...T, factor: 1.2 } : T);
    const checks = checkRegressions(repo, keys, perSource);
    expect(checks.map((c) => [c.app_id, c.status, c.likely_cause])).toEqual([
      ['nightly-010', 'regressed', 'config'],
      ['staging-nightly-010', 'regressed', null],
      ['new-job', 'unchecked', null],
    ]);
    expect(checks[0]!.changes!.config).toEqual([{ key: 'spark.sql.shuffle.partitions', a: '200', b: '50', per_run: false }]);
    expect(checks[0]!.baseline_runs.map((k) => k.app_id)).toEqual(nightly.map((r) => r.app_id).reverse());
    // With the default thresholds the staging run (1.4x) is steady.
    expect(checkRegressions(repo, keys.slice(1, 2), T).map((c) => c.status)).toEqual(['steady']);
    // The same as the pure check over the same records.
    expect(checks[0]).toEqual(checkRun(repo.get(keys[0]!)!, repo.baselineRuns(fresh[0]!, 10), T));
  });
});

describe('checking new runs against the store (sql.js)', () => {
  it('environments: a row stored before environment blocks (schema 2) is read from its own column', async () => {
    const { repo, db } = await memoryRepository();
    const old = run(1);
    repo.upsert([old, run(2)]);
    db.run("UPDATE applications SET env_block = NULL, env_start = NULL, env_end = NULL, environment = ? WHERE app_id = 'nightly-001'", [JSON.stringify(old.environment)]);
    expect(repo.environments([{ app_id: 'nightly-002', attempt_id: null }, { app_id: 'nightly-001', attempt_id: null }])).toEqual([run(2).environment, old.environment]);
  });

  it('the baseline query walks its index (migration 7), not every run of the name', async () => {
    const { db } = await memoryRepository();
    const plan = db.exec(
      `EXPLAIN QUERY PLAN SELECT * FROM applications WHERE app_name = 'a' AND source = 's' AND status = 'completed' AND COALESCE(start_time, submit_time, end_time) < 'x' AND NOT (app_id = 'i' AND attempt_key = '')
       ORDER BY COALESCE(start_time, submit_time, end_time) DESC, app_id DESC, attempt_key DESC LIMIT 10`,
    )[0]!.values.map((r) => String(r[3]));
    expect(plan.join('\n')).toContain('USING INDEX apps_baseline');
    expect(plan.join('\n')).not.toContain('TEMP B-TREE');
  });
});

describeShared('what changed between real runs of one job (../shared)', () => {
  it("runs of one Spark 1.2-1.4 shell differ only in what Spark sets per run: the driver's servers, folders and ids", async () => {
    const dir = sharedPath('spark-events', 'spark-events');
    const { apps } = await collectAll({ path: dir });
    const shells = ['local-1422981759269', 'local-1422981780767', 'local-1425081759269', 'local-1430917381534'].map((id) => apps.find((a) => a.record.app_id === id)!.record);
    expect(shells.map((r) => r.app_name)).toEqual(['Spark shell', 'Spark shell', 'Spark shell', 'Spark shell']);
    const [first, ...later] = shells.map((r) => r.environment);
    const rows = later.flatMap((env) => configDiff(first!, env));
    // They do differ (ports, a random Tachyon folder, the app id), all in properties Spark sets anew for each run.
    expect(new Set(rows.filter((r) => r.per_run).map((r) => r.key))).toEqual(
      new Set(['spark.app.id', 'spark.driver.host', 'spark.driver.port', 'spark.repl.class.uri', 'spark.fileserver.uri', 'spark.tachyonStore.folderName']),
    );
    // What is left is the one real difference: the last run logged its events elsewhere.
    expect(rows.filter((r) => !r.per_run).map((r) => r.key)).toEqual(['spark.eventLog.dir']);
  });
});
