/**
 * Stored regression checks (issue 18): migration 8's table, JobRepository.saveRegressions /
 * regressions / JobQuery.regressed, kept consistent by delete, retention, upserts and merges of two
 * writers; and the one collection pipeline checking what a run stored (storeSink, collectRun).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRegressions, type RegressionCheck } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import type { SourceConfig } from '../src/collectors/registry';
import type { SparkAppRecord } from '../src/collectors/record';
import type { Batch } from '../src/collectors/contract';
import { collectRun, dryRunSink, plan, storeSink, type Runner } from '../src/pipeline';
import { JobStore } from '../src/storage/jobStore';
import { migrate, schemaVersion } from '../src/storage/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { loadSqlJs } from '../src/storage/sqlJs';
import type { AppKey, JobRepository } from '../src/storage/repository';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';
import { memoryRepository } from './support/memoryRepository';
import { describeEachStore } from './support/stores';
import { runnerOf } from './support/nightly';

const MIN = 60_000;
const GB = 1024 ** 3;

/** Run i of `name` (source `source`): 10 min ± 4%, started on day i of June 2024; `over` changes it. */
function run(i: number, over: Partial<SparkAppRecord> = {}, name = 'Nightly', source = 'prod'): SparkAppRecord {
  const start = Date.UTC(2024, 5, 1) + i * 86_400_000;
  const duration = Math.round(10 * MIN * (1 + ((i % 5) - 2) / 50));
  return makeRecord({
    app_id: `${name.toLowerCase()}-${String(i).padStart(3, '0')}`,
    app_name: name,
    source,
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + duration).toISOString(),
    duration_ms: duration,
    cpu_time_ms: 60 * MIN,
    input_bytes: 10 * GB,
    failed_tasks: 0,
    ...over,
  });
}

/** Six runs of Nightly: five steady, the last 2x slower. */
const series = (over: Partial<SparkAppRecord> = { duration_ms: 20 * MIN }): SparkAppRecord[] => [...Array.from({ length: 5 }, (_, i) => run(i)), run(5, over)];

const keyOf = (r: SparkAppRecord): AppKey => ({ app_id: r.app_id, attempt_id: r.attempt_id });

function checksOf(repo: JobRepository, records: readonly SparkAppRecord[]): RegressionCheck[] {
  return checkRegressions(repo, records.map(keyOf), DEFAULT_THRESHOLDS);
}

describe('stored regression checks (migration 8)', () => {
  it('migration 8 makes the table and its index on status, and `jobs --regressed`-style reads use it', async () => {
    const { db } = await memoryRepository();
    const tables = db.exec("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') AND tbl_name = 'regressions' ORDER BY name")[0]!.values.flat();
    expect(tables).toEqual(['regressions', 'regressions_status', 'sqlite_autoindex_regressions_1']);
    const plan = db
      .exec("EXPLAIN QUERY PLAN SELECT app_id, attempt_key FROM regressions WHERE status = 'regressed'")[0]!
      .values.map((r) => String(r[3]))
      .join('\n');
    expect(plan).toContain('regressions_status');
  });

  it('migration 9 packs the checks stored whole: under a third of the text, read back as they were', async () => {
    const { repo } = await memoryRepository();
    const runs = series({ duration_ms: 20 * MIN, input_bytes: 30 * GB, spark_version: '3.5.1', environment: { 'spark.sql.shuffle.partitions': '50' } });
    repo.upsert(runs);
    const checks = checksOf(repo, runs);
    expect(checks[5]).toMatchObject({ status: 'regressed', causes: ['input', 'version', 'config'] });
    // A database of schema 8, with the checks as it stored them: whole.
    const SQL = await loadSqlJs();
    const old = new SQL.Database();
    try {
      migrate(old, 'v8.db', 8, false);
      for (const c of checks) {
        old.run('INSERT INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
          c.app_id,
          c.attempt_id ?? '',
          c.status,
          c.summary,
          c.explanation,
          c.status === 'regressed' ? JSON.stringify(c) : null,
          '2024-07-01T00:00:00.000Z',
        ]);
      }
      const text = (): string => String(old.exec("SELECT check_json FROM regressions WHERE status = 'regressed'")[0]!.values[0]![0]);
      const whole = text();
      migrate(old, 'v8.db', 9);
      expect(schemaVersion(old)).toBe(9);
      expect(text().startsWith('{"v":2,')).toBe(true);
      expect(text().length * 3).toBeLessThan(whole.length);
      const read = new SqlJsRepository(old).regressions(runs.map(keyOf));
      expect(read.map((r) => r?.check ?? null)).toEqual(checks.map((c) => (c.status === 'regressed' ? c : null)));
    } finally {
      old.close();
    }
  });

  it('delete and retention leave no check of a run behind in the table', async () => {
    const { repo, db } = await memoryRepository();
    const runs = series();
    repo.upsert(runs);
    repo.saveRegressions(checksOf(repo, runs));
    const stored = (): number => Number(db.exec('SELECT COUNT(*) FROM regressions')[0]!.values[0]![0]);
    expect(stored()).toBe(6);
    repo.delete([keyOf(runs[5]!)]);
    expect(stored()).toBe(5);
    repo.applyRetention(1, new Date('2024-06-04T00:00:00Z'));
    expect(stored()).toBe(3);
  });

  it('a merge of two writers keeps the table consistent: both writers\' checks, none for a run the other writer deleted', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const first = await JobStore.open(file);
    const runs = series();
    first.upsert(runs);
    first.saveRegressions(checkRegressions(first, runs.map(keyOf), DEFAULT_THRESHOLDS));
    await first.save();
    first.close();

    // Two writers load the same file. A checks a new run of Hourly and re-checks nightly-004; B deletes nightly-004 and nightly-005, then saves first.
    const a = await JobStore.open(file);
    const b = await JobStore.open(file);
    const hourly = Array.from({ length: 4 }, (_, i) => run(i, {}, 'Hourly'));
    a.upsert(hourly);
    a.saveRegressions(checkRegressions(a, [...hourly, runs[4]!].map(keyOf), DEFAULT_THRESHOLDS));
    b.delete([keyOf(runs[4]!), keyOf(runs[5]!)]);
    await b.save();
    b.close();
    expect(await a.save()).toEqual({ written: true, merged: true });
    a.close();

    const merged = await JobStore.open(file);
    try {
      expect(merged.count()).toBe(4 + 4);
      // B's delete holds, and A's check of a run B deleted is not stored without its run.
      expect(merged.regressions([keyOf(runs[4]!), keyOf(runs[5]!)])).toEqual([null, null]);
      expect(merged.regressions(hourly.map(keyOf)).map((s) => s?.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady']);
      expect(merged.regressions(runs.slice(0, 4).map(keyOf)).map((s) => s?.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady']);
      expect(merged.count({ regressed: true })).toBe(0);
    } finally {
      merged.close();
    }
  });
});

describeEachStore('stored regression checks', (open, kind) => {
  it('saveRegressions keeps all of a regressed check and the words of the others; regressions() reads them back in the keys\' order', async () => {
    const repo = await open();
    const runs = series();
    repo.upsert(runs);
    const checks = checksOf(repo, runs);
    expect(checks.map((c) => c.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady', 'steady', 'regressed']);
    expect(repo.saveRegressions(checks, new Date('2024-07-01T00:00:00Z'))).toBe(6);

    const stranger = { app_id: 'not-stored', attempt_id: null };
    const read = repo.regressions([keyOf(runs[5]!), stranger, keyOf(runs[3]!), keyOf(runs[0]!)]);
    expect(read[1]).toBeNull();
    expect(read[0]).toEqual({
      app_id: runs[5]!.app_id,
      attempt_id: null,
      status: 'regressed',
      summary: checks[5]!.summary,
      explanation: checks[5]!.explanation,
      check: checks[5],
      checked_at: '2024-07-01T00:00:00.000Z',
      // The run as stored, which the check is of (a copy stores it only onto that run).
      of: { status: 'completed', end_time: runs[5]!.end_time },
    });
    expect(read[0]!.summary).toMatch(/^Duration 2\.\dx$/);
    expect(read[2]).toMatchObject({ status: 'steady', summary: 'Steady against 3 earlier runs', check: null });
    expect(read[3]).toMatchObject({ status: 'unchecked', summary: 'Not checked (0 earlier runs)', check: null });
  });

  it('a regressed check with every kind of change, of an attempt, reads back as it was checked', async () => {
    const repo = await open();
    const over = { attempt_id: '2', duration_ms: 20 * MIN, input_bytes: 30 * GB, spark_version: '3.5.1', failed_tasks: 4, cpu_time_ms: null, environment: { 'spark.sql.shuffle.partitions': '50', 'spark.extra': 'x' } };
    const runs = series(over);
    repo.upsert(runs);
    const checks = checksOf(repo, runs);
    expect(checks[5]).toMatchObject({ attempt_id: '2', status: 'regressed', likely_cause: 'input' });
    expect(checks[5]!.changes!.config!.length).toBeGreaterThan(1);
    expect(checks[5]!.metrics.find((m) => m.field === 'failed_tasks')!.flag).toBe('new_failures');
    repo.saveRegressions(checks);
    expect(repo.regressions([keyOf(runs[5]!)])[0]!.check).toEqual(checks[5]);
  });

  it('a check replaces the run\'s earlier one; a check of a run not stored is left out', async () => {
    const repo = await open();
    const runs = series();
    repo.upsert(runs);
    const [first] = checksOf(repo, [runs[5]!]);
    repo.saveRegressions([first!], new Date('2024-07-01T00:00:00Z'));
    const steady: RegressionCheck = { ...first!, status: 'steady', summary: 'Steady against 5 earlier runs', changes: null };
    expect(repo.saveRegressions([steady, { ...steady, app_id: 'gone' }], new Date('2024-07-02T00:00:00Z'))).toBe(1);
    expect(repo.regressions([keyOf(runs[5]!), { app_id: 'gone', attempt_id: null }])).toEqual([
      expect.objectContaining({ status: 'steady', check: null, checked_at: '2024-07-02T00:00:00.000Z' }),
      null,
    ]);
  });

  it('attempts are told apart (attempt_id null vs "1" vs "2"), and pages of more than 500 keys are read whole', async () => {
    const repo = await open();
    const attempts = [null, '1', '2'].map((a) => makeRecord({ app_id: 'app-a', attempt_id: a }));
    const many = Array.from({ length: 1200 }, (_, i) => makeRecord({ app_id: `many-${i}` }));
    repo.upsert([...attempts, ...many]);
    const words = (r: SparkAppRecord, status: RegressionCheck['status']): Parameters<JobRepository['saveRegressions']>[0][number] => ({
      app_id: r.app_id,
      attempt_id: r.attempt_id,
      status,
      summary: `${r.app_id}/${r.attempt_id ?? '-'}`,
      explanation: '',
      check: null,
    });
    repo.saveRegressions([words(attempts[0]!, 'steady'), words(attempts[2]!, 'regressed'), ...many.map((r, i) => words(r, i % 3 === 0 ? 'regressed' : 'steady'))]);
    expect(repo.regressions(attempts.map(keyOf)).map((s) => s && `${s.status} ${s.summary}`)).toEqual(['steady app-a/-', null, 'regressed app-a/2']);
    const read = repo.regressions(many.map(keyOf));
    expect(read.every((s, i) => s?.summary === `many-${i}/-`)).toBe(true);
    expect(repo.count({ regressed: true })).toBe(1 + 400);
  });

  it('JobQuery.regressed filters list, count and groupCounts, with the other filters', async () => {
    const repo = await open();
    const nightly = series();
    const hourly = series({ duration_ms: 30 * MIN }).map((r, i) => ({ ...r, app_id: `hourly-${i}`, app_name: 'Hourly', user: 'ops' }));
    repo.upsert([...nightly, ...hourly]);
    repo.saveRegressions(checksOf(repo, [...nightly, ...hourly]));
    expect(repo.list({ regressed: true }).map((r) => r.app_id)).toEqual(['nightly-005', 'hourly-5']);
    expect(repo.count({ regressed: true })).toBe(2);
    expect(repo.count({ regressed: false })).toBe(10);
    expect(repo.count()).toBe(12);
    expect(repo.list({ regressed: true, user: 'ops' }).map((r) => r.app_id)).toEqual(['hourly-5']);
    expect(repo.list({ regressed: true, name: 'night', sort: 'duration_ms', limit: 1 }).map((r) => r.app_id)).toEqual(['nightly-005']);
    expect(repo.list({ regressed: true, where: [{ field: 'duration_ms', op: '>', value: 25 * MIN }] }).map((r) => r.app_id)).toEqual(['hourly-5']);
    expect(repo.groupCounts('user', { regressed: true })).toEqual([
      { key: 'etl', count: 1 },
      { key: 'ops', count: 1 },
    ]);
    // A run never checked is not regressed.
    repo.upsert([run(40)]);
    expect(repo.count({ regressed: true })).toBe(2);
    expect(repo.count({ regressed: false })).toBe(11);
  });

  it('delete and retention take a run\'s check with it; a record that changes loses its check, an unchanged one keeps it', async () => {
    const repo = await open();
    const runs = series();
    repo.upsert(runs);
    repo.saveRegressions(checksOf(repo, runs));

    expect(repo.delete([keyOf(runs[5]!)])).toBe(1);
    expect(repo.regressions([keyOf(runs[5]!)])).toEqual([null]);
    expect(repo.count({ regressed: true })).toBe(0);

    // Retention drops runs 0 and 1 (ended before 2024-06-03) and their checks.
    expect(repo.applyRetention(1, new Date('2024-06-04T00:00:00Z'))).toBe(2);
    expect(repo.regressions(runs.slice(0, 2).map(keyOf))).toEqual([null, null]);

    // The same record again: unchanged, its check stays. A changed record: its check was of the copy replaced.
    const changed: AppKey[] = [];
    expect(repo.upsert([runs[3]!], new Date(), changed)).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(changed).toEqual([]);
    expect(repo.regressions([keyOf(runs[3]!)])[0]?.status).toBe('steady');
    expect(repo.upsert([{ ...runs[3]!, duration_ms: 11 * MIN }, run(9)], new Date(), changed)).toEqual({ new: 1, updated: 1, unchanged: 0 });
    expect(changed).toEqual([keyOf(runs[3]!), keyOf(run(9))]);
    expect(repo.regressions([keyOf(runs[3]!), keyOf(runs[4]!)]).map((s) => s?.status ?? null)).toEqual([null, 'steady']);
  });

  it('an upsert that fails gives no keys: it stored nothing', async () => {
    const repo = await open();
    const changed: AppKey[] = [];
    const broken = { ...run(1), total_tasks: null } as unknown as SparkAppRecord;
    // Each store's words for the broken NOT NULL column.
    const notNull = kind === 'sqlite' ? /NOT NULL constraint failed: applications\.total_tasks/ : /null value in column "total_tasks" of relation "applications" violates not-null constraint/;
    expect(() => repo.upsert([run(0), broken], new Date(), changed)).toThrow(notNull);
    expect(changed).toEqual([]);
    expect(repo.count()).toBe(0);
  });
});

/** A runner that yields `records` as one batch per job, as a collector would. */

const source = (name: string, extra: Partial<SourceConfig> = {}): SourceConfig => ({ type: 'event_log', name, path: `/logs/${name}`, ...extra }) as SourceConfig;

describe('the collection pipeline checks what a run stored (issue 18)', () => {
  it('the runs stored new or updated are checked, the checks stored, and the regressed ones are in the result', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const runs = series();
      const { jobs } = plan([source('prod')]);
      const result = await collectRun(jobs, runnerOf({ prod: runs }), storeSink(store), new AbortController().signal);
      expect(result.counts.new).toBe(6);
      expect(result.regressed).toEqual([{ key: keyOf(runs[5]!), app_name: 'Nightly', source: 'prod', summary: store.regressions([keyOf(runs[5]!)])[0]!.summary }]);
      expect(result.regressed[0]!.summary).toMatch(/^Duration 2\.\dx$/);
      expect(store.regressions(runs.map(keyOf)).map((s) => s?.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady', 'steady', 'regressed']);
      expect(store.list({ regressed: true }).map((r) => r.app_id)).toEqual(['nightly-005']);

      // A run that stores nothing new checks nothing: the result has no regressed runs, and the stored checks stay.
      const again = await collectRun(jobs, runnerOf({ prod: runs }), storeSink(store), new AbortController().signal);
      expect(again.counts.unchanged).toBe(6);
      expect(again.regressed).toEqual([]);
      expect(store.count({ regressed: true })).toBe(1);

      // A run that comes again changed is checked again: back to normal, it is steady.
      const fixed = await collectRun(jobs, runnerOf({ prod: [run(5)] }), storeSink(store), new AbortController().signal);
      expect(fixed.counts.updated).toBe(1);
      expect(fixed.regressed).toEqual([]);
      expect(store.regressions([keyOf(runs[5]!)])[0]?.status).toBe('steady');
    } finally {
      store.close();
    }
  });

  it('checks in chunks in history order, says how far it is, and gives the regressed runs in the order they were stored', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      // 2,500 runs of five names stored newest first: every run is checked, against its history as a whole.
      const names = ['A', 'B', 'C', 'D', 'E'];
      const runs = Array.from({ length: 2_500 }, (_, i) => {
        const day = 499 - Math.floor(i / 5);
        return run(day, day % 97 === 0 ? { duration_ms: 30 * MIN } : {}, names[i % 5]);
      });
      const progress: [number, number][] = [];
      const { jobs } = plan([source('prod')]);
      const result = await collectRun(jobs, runnerOf({ prod: runs }), storeSink(store, { onCheck: (checked, total) => progress.push([checked, total]) }), new AbortController().signal);
      expect(result.counts.new).toBe(2_500);
      expect(progress).toEqual([[0, 2_500], [1_000, 2_500], [2_000, 2_500], [2_500, 2_500]]);
      const checks = store.regressions(runs.map(keyOf));
      expect(checks.every((c) => c !== null)).toBe(true);
      // The slow days regressed, once their names had enough history; the others did not.
      const slow = runs.filter((r) => r.duration_ms === 30 * MIN && Number(r.app_id.slice(-3)) >= 3).map((r) => r.app_id);
      expect(result.regressed.map((r) => r.key.app_id)).toEqual(slow);
      // Each check is the one the store gives for that run alone.
      const sample = [runs[0]!, runs[1_234]!, runs[2_499]!];
      expect(checksOf(store, sample).map((c) => [c.status, c.summary])).toEqual(sample.map((r) => store.regressions([keyOf(r)])[0]).map((c) => [c!.status, c!.summary]));
    } finally {
      store.close();
    }
  });

  it('each source\'s `regression:` keys win over the thresholds the sink is given, which win over the defaults', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const lenient = series().map((r) => ({ ...r, source: 'lenient' }));
      const strict = series({ duration_ms: 13 * MIN }).map((r) => ({ ...r, source: 'strict', app_id: `strict-${r.app_id}` }));
      const plain = series({ duration_ms: 13 * MIN }).map((r) => ({ ...r, source: 'plain', app_id: `plain-${r.app_id}` }));
      const { jobs } = plan([source('lenient', { regression: { factor: 3 } }), source('strict', { regression: { factor: 1.2 } }), source('plain')]);
      expect(jobs.map((j) => j.regression)).toEqual([{ factor: 3 }, { factor: 1.2 }, undefined]);
      // The editor's settings: a 1-minute floor is kept, 1.25x.
      const sink = storeSink(store, { regression: { thresholds: { ...DEFAULT_THRESHOLDS, factor: 1.25 } } });
      const result = await collectRun(jobs, runnerOf({ lenient, strict, plain }), sink, new AbortController().signal);
      // lenient: 2x < 3x. strict: 1.3x > 1.2x. plain: 1.3x > the settings' 1.25x (the default 1.5x would not flag it).
      expect(result.regressed.map((r) => r.source)).toEqual(['strict', 'plain']);
    } finally {
      store.close();
    }
  });

  it('a run\'s baseline may come from another job of the run: all jobs are stored before any run is checked', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const runs = series();
      // Two paths of one source, the newest runs read first.
      const { jobs } = plan([source('prod', { path: ['/logs/new', '/logs/old'] })]);
      let n = 0;
      const runner: Runner = (planned, signal) => runnerOf({ prod: n++ === 0 ? runs.slice(3) : runs.slice(0, 3) })(planned, signal);
      const result = await collectRun(jobs, runner, storeSink(store), new AbortController().signal);
      expect(jobs).toHaveLength(2);
      expect(result.regressed.map((r) => r.key)).toEqual([keyOf(runs[5]!)]);
    } finally {
      store.close();
    }
  });

  it('a dry run checks and stores nothing; a cancelled run checks nothing', async () => {
    const runs = series();
    const { jobs } = plan([source('prod')]);
    const dry = await collectRun(jobs, runnerOf({ prod: runs }), dryRunSink, new AbortController().signal);
    expect(dry.regressed).toEqual([]);
    expect(dry.counts.new).toBe(6);

    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const cancel = new AbortController();
      const cancelled = await collectRun(jobs, runnerOf({ prod: runs }, cancel), storeSink(store), cancel.signal);
      expect(cancelled.regressed).toEqual([]);
      expect(store.count()).toBe(6);
      expect(store.regressions(runs.map(keyOf))).toEqual(runs.map(() => null));
    } finally {
      store.close();
    }
  });

  it('a run that fails after storing some jobs still checks what they stored, and the failure is what it throws', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const runs = series();
      const { jobs } = plan([source('prod'), source('broken')]);
      const runner: Runner = (planned, signal) =>
        planned.job.name === 'broken'
          ? {
              batches: (async function* (): AsyncGenerator<Batch> {
                await Promise.resolve();
                throw new Error('listing refused');
              })(),
            }
          : runnerOf({ prod: runs })(planned, signal);
      await expect(collectRun(jobs, runner, storeSink(store), new AbortController().signal)).rejects.toThrow('listing refused');
      expect(store.count({ regressed: true })).toBe(1);
    } finally {
      store.close();
    }
  });
});
