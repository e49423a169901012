/**
 * A Spark engineer's review of the regression check (issue 18): what a run or its baseline does not
 * know is not a change, and the words say only what is known.
 */
import { describe, expect, it } from 'vitest';
import type { SparkAppRecord } from '../src/collectors/record';
import { checkRegressions, checkRun } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS, type RegressionThresholds } from '../src/analysis/regressionThresholds';
import { GB, MIN, nightlyEnvironment as environment, nightlyHistory as history, nightlyRun as run } from './support/nightly';
import { memoryRepository } from './support/memoryRepository';

const T: RegressionThresholds = { ...DEFAULT_THRESHOLDS };


/** An event log without its LogStart and EnvironmentUpdate: no version, no properties (replay.ts flags the second). */
const unlogged: Partial<SparkAppRecord> = { spark_version: null, environment: {}, quality: ['missing:environment'] };

describe('the regression check and what a run does not know', () => {
  it("a 2x slower run whose log had no version and no properties is not put down to 'Spark 3.5.3 → unknown' nor to every property unset", () => {
    const c = checkRun(run(10, { duration_ms: 20 * MIN, ...unlogged }), history(10), T);
    expect(c.status).toBe('regressed');
    expect(c.changes).toMatchObject({ spark_version: null, config: null });
    expect(c.causes).toEqual([]);
    expect(c.summary).toBe('Duration 2.0x');
    expect(c.explanation).not.toMatch(/unknown|properties changed|(not set)/);
    // Nor is it said that the version is as before: it is not known.
    expect(c.explanation).toContain('The input size is as in the baseline; the Spark version is not known for this run or its baseline; the Spark properties were not collected for this run or its baseline.');
    // Properties not collected, all else known: no conclusion that the change is elsewhere.
    const d = checkRun(run(10, { duration_ms: 20 * MIN, environment: {}, quality: ['missing:environment'] }), history(10), T);
    expect(d.explanation).toMatch(/ The input size and Spark version are as in the baseline; the Spark properties were not collected for this run or its baseline\.$/);
  });

  it('baseline runs without their properties are not a baseline of unset properties: the newest runs that have them are', () => {
    // The two newest baseline runs' logs lost their EnvironmentUpdate; the run changed one property.
    const base = history(10, (i) => (i >= 8 ? { environment: {}, quality: ['missing:environment'] } : {}));
    const c = checkRun(run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '20' }) }), base, T);
    expect(c.changes!.config).toEqual([{ key: 'spark.sql.shuffle.partitions', a: '200', b: '20', per_run: false }]);
    expect(c.likely_cause).toBe('config');
    expect(c.summary).toBe('Duration 2.0x; 1 property changed');
    // A baseline version not known is left out of the most common one.
    const versions = history(10, (i) => (i >= 5 ? { spark_version: null } : {}));
    const d = checkRun(run(10, { duration_ms: 20 * MIN }), versions, T);
    expect(d.changes!.spark_version).toBeNull();
    expect(d.explanation).toContain('The input size and Spark version are as in the baseline, and so are the Spark properties: the change is elsewhere');
  });

  it('an input not known for the run is not said to be as in the baseline', () => {
    const c = checkRun(run(10, { duration_ms: 20 * MIN, input_bytes: 0, quality: ['missing:input_bytes'] }), history(10), T);
    expect(c.status).toBe('regressed');
    expect(c.explanation).toContain('The Spark version is as in the baseline, and so are the Spark properties; the input size is not known for this run or its baseline.');
  });

  it('checkRegressions over a store says the same as checkRun: the run without properties, and a baseline whose newest runs lack theirs', async () => {
    const { repo } = await memoryRepository();
    const base = history(10, (i) => (i >= 8 ? { environment: {}, quality: ['missing:environment'] } : {}));
    repo.upsert(base);
    const fresh = run(10, { duration_ms: 20 * MIN, environment: environment(10, { 'spark.sql.shuffle.partitions': '20' }) });
    repo.upsert([fresh]);
    const [stored] = checkRegressions(repo, [fresh], T);
    expect(stored).toEqual(checkRun(repo.get(fresh)!, repo.baselineRuns(fresh, 10), T));
    expect(stored!.changes!.config!.map((r) => r.key)).toEqual(['spark.sql.shuffle.partitions']);

    const bare = run(11, { duration_ms: 20 * MIN, ...unlogged });
    repo.upsert([bare]);
    const [unknown] = checkRegressions(repo, [bare], T);
    expect(unknown).toEqual(checkRun(repo.get(bare)!, repo.baselineRuns(bare, 10), T));
    expect(unknown!.changes).toMatchObject({ spark_version: null, config: null });
    expect(unknown!.causes).toEqual([]);
  });
});

describe('the regression check on more input', () => {
  it('2x the input explains up to 3x the time (the factor more), not a 10x slowdown, which is not put down to "more data"', () => {
    const explained = checkRun(run(10, { duration_ms: 25 * MIN, input_bytes: 20 * GB }), history(10), T);
    expect(explained.likely_cause).toBe('input');
    expect(explained.explanation).toContain('Likely cause: more data, the input is 2.0x the baseline');

    const c = checkRun(run(10, { duration_ms: 100 * MIN, input_bytes: 20 * GB }), history(10), T);
    expect(c.status).toBe('regressed');
    expect(c.explanation).not.toContain('rather than a change to the job');
    expect(c.explanation).toContain("More data, the input is 2.0x the baseline's (20 GB against 10 GB), does not explain Duration 10.0x: the change is likely elsewhere too");
    // With a config change too, that comes first; the input is still among the causes.
    const d = checkRun(run(10, { duration_ms: 100 * MIN, input_bytes: 20 * GB, environment: environment(10, { 'spark.sql.shuffle.partitions': '20' }) }), history(10), T);
    expect(d.causes).toEqual(['config', 'input']);
    expect(d.explanation).toContain('Likely cause: the configuration, 1 Spark property changed: spark.sql.shuffle.partitions 200 → 20. Also: the input is 2.0x');
  });

  it('a run whose status is unknown or running is not checked, and says so in words that read', () => {
    expect(checkRun(run(10, { status: 'unknown' }), history(10), T).explanation).toBe("Not checked: the run's status is unknown; only finished runs are checked.");
    expect(checkRun(run(10, { status: 'running' }), history(10), T).explanation).toBe("Not checked: the run's status is running; only finished runs are checked.");
  });
});

describe('the regression check on partial totals', () => {
  it("baseline runs whose task totals are partial (a compacted log, a History Server past spark.ui.retainedStages) do not pull the baseline down into a false alarm", () => {
    // Six of ten baseline runs listed only a third of their stages: their CPU, shuffle and spill are a third.
    for (const flag of ['rest_capped', 'compacted']) {
      const base = history(10, (i) => (i % 5 < 3 ? { quality: [flag], cpu_time_ms: 20 * MIN, shuffle_read_bytes: (4 * GB) / 3, input_bytes: (10 * GB) / 3 } : {}));
      const c = checkRun(run(10), base, T);
      expect(c.status, flag).toBe('steady');
      expect(c.metrics.find((m) => m.field === 'cpu_time_ms'), flag).toMatchObject({ value: 60 * MIN, baseline: 60 * MIN, flag: null });
      // Duration is the application's start and end, whole either way.
      expect(c.metrics.find((m) => m.field === 'duration_ms')!.baseline, flag).toBe(10 * MIN);
    }
    // The executors a compacted log lists are partial (removed ones are dropped); a History Server's /allexecutors are not.
    const compacted = history(10, () => ({ quality: ['compacted'], num_executors: 2 }));
    expect(checkRun(run(10, { num_executors: 8 }), compacted, T).metrics.find((m) => m.field === 'num_executors')!.baseline).toBeNull();
    const capped = history(10, () => ({ quality: ['rest_capped'], num_executors: 2 }));
    expect(checkRun(run(10, { num_executors: 8 }), capped, T).metrics.find((m) => m.field === 'num_executors')!.baseline).toBe(2);
  });

  it("a run's own partial total is at least that much: over the thresholds, it is flagged", () => {
    const c = checkRun(run(10, { quality: ['rest_capped'], cpu_time_ms: 150 * MIN }), history(10), T);
    expect(c.status).toBe('regressed');
    expect(c.metrics.find((m) => m.field === 'cpu_time_ms')).toMatchObject({ value: 150 * MIN, baseline: 60 * MIN, flag: 'threshold' });
  });
});

describe('the regression check on a run past the History Server retention limit', () => {
  it('its stage count is not read as another plan: the stages listed are partial (rest_capped), as a compacted log\'s are', () => {
    const base = history(10, () => ({ total_stages: 1500, total_tasks: 30_000 }));
    const c = checkRun(run(10, { duration_ms: 20 * MIN, quality: ['rest_capped'], total_stages: 600, total_tasks: 12_000 }), base, T);
    expect(c.status).toBe('regressed');
    expect(c.changes!.plan).toBeNull();
    expect(c.explanation).not.toContain('another plan');
    // Nor do capped baseline runs make a whole run's stages look like another plan.
    const capped = history(10, (i) => (i % 5 < 3 ? { quality: ['rest_capped'], total_stages: 600, total_tasks: 12_000 } : { total_stages: 1500, total_tasks: 30_000 }));
    expect(checkRun(run(10, { duration_ms: 20 * MIN, total_stages: 1500, total_tasks: 30_000 }), capped, T).changes!.plan).toBeNull();
  });
});

describe('the regression check on the names Spark gives interactive sessions and servers', () => {
  it('"Spark shell", "PySparkShell", a Thrift or Connect server, spark-sql: one name for unrelated work, not checked', () => {
    // ../shared/spark-events: three "Spark shell" sessions of different people were flagged "Duration 12x-60x" against the others.
    for (const name of ['Spark shell', 'PySparkShell', 'SparkR', 'sparklyr', 'Thrift JDBC/ODBC Server', 'Spark Connect server', 'Spark Connect Server', 'SparkSQL::worker-3.internal']) {
      const c = checkRun(run(10, { app_name: name, duration_ms: 100 * MIN }), history(10, () => ({ app_name: name })), T);
      expect(c, name).toMatchObject({ status: 'unchecked', unchecked: 'interactive', metrics: [], summary: 'Not checked (an interactive session or server)' });
      expect(c.explanation, name).toBe(`Not checked: "${name}" is the name Spark gives every interactive shell session or SQL or Connect server, so its runs are not repeats of one job.`);
    }
    // A job's own name that merely contains one is checked.
    expect(checkRun(run(10, { app_name: 'Nightly Spark shell export', duration_ms: 100 * MIN }), history(10, () => ({ app_name: 'Nightly Spark shell export' })), T).status).toBe('regressed');
  });
});
