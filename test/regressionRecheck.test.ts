/**
 * The re-check of later runs (issue 18, regression.ts laterChecks): a run stored into or removed
 * from a history changes the baselines of the runs after it, whose stored verdicts are made again.
 * Two gaps, closed here: a removal (Delete Job, retention, a platform-level run superseded) left
 * verdicts that went on quoting the run removed (the Jobs tree, `regressed` queries, the CLI); and a
 * failed run after an older run collected late was never checked again, a completed one was.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { laterChecks, recheckAfterRemoval } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { REPLACES_TAG } from '../src/collectors/contract';
import { Quality, type SparkAppRecord } from '../src/collectors/record';
import { JobStore } from '../src/storage/jobStore';
import { migrate, schemaVersion, SCHEMA_VERSION } from '../src/storage/migrations';
import { laterRunsPgSql } from '../src/storage/postgres/repository';
import { laterRunsSql, type AppKey, type JobRepository, type LaterRun, type RunGroup } from '../src/storage/repository';
import { loadSqlJs } from '../src/storage/sqlJs';
import { removeAndRecheck } from '../src/views/jobCommands';
import { memoryRepository } from './support/memoryRepository';
import { MIN, collectNightly, nightlyRun as run } from './support/nightly';
import { describePostgres, newDatabase, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

/** Run i of Nightly (source prod) on day i. */
const later = (i: number, over: Partial<LaterRun> = {}): LaterRun => ({
  app_id: `nightly-${String(i).padStart(3, '0')}`,
  attempt_id: null,
  app_name: 'Nightly',
  source: 'prod',
  time: new Date(Date.UTC(2024, 5, 1) + i * 86_400_000).toISOString(),
  status: 'completed',
  ...over,
});

/** A store of these runs: laterRuns as the stores answer it (runs of the group's name and source after its time). */
function storeOf(runs: readonly LaterRun[]): { laterRuns(groups: readonly RunGroup[]): LaterRun[]; asked: RunGroup[][] } {
  const asked: RunGroup[][] = [];
  return {
    asked,
    laterRuns: (groups) => {
      asked.push([...groups]);
      return runs.filter((r) => groups.some((g) => g.app_name === r.app_name && g.source === r.source && r.time > g.time));
    },
  };
}

describe('laterChecks', () => {
  it('per history, the runs after a moved run with fewer than baselineRuns completed runs between, one read for all histories', () => {
    const runs = [...Array.from({ length: 12 }, (_, i) => later(i)), later(3, { source: 'other', app_id: 'other-003' }), later(5, { source: 'other', app_id: 'other-005' })];
    const store = storeOf(runs);
    const ids = (xs: readonly LaterRun[]): string[] => xs.map((r) => r.app_id).sort();
    const got = laterChecks(store, [later(2), later(4, { source: 'other', app_id: 'other-004' })], new Set<string>(), (source) => (source === 'prod' ? 3 : 10));
    expect(ids(got)).toEqual(['nightly-003', 'nightly-004', 'nightly-005', 'other-005']);
    expect(store.asked).toHaveLength(1);
    // A run checked anyway is not returned, and still counts as a run between.
    expect(ids(laterChecks(store, [later(2)], new Set(['nightly-004\u0000']), () => 3))).toEqual(['nightly-003', 'nightly-005']);
    // Runs moved in one history: the walk starts again after each.
    expect(ids(laterChecks(store, [later(2), later(8)], new Set<string>(), () => 2))).toEqual(['nightly-003', 'nightly-004', 'nightly-009', 'nightly-010']);
    expect(laterChecks(store, [], new Set<string>(), () => 3)).toEqual([]);
  });

  it('a failed run is returned by the same rule as a completed one, and is no run between: it is in no baseline (gap 2)', () => {
    // Runs 3 and 4 failed: the completed runs after run 1 are 2, 5, 6, 7...
    const failed = new Set([3, 4]);
    const store = storeOf(Array.from({ length: 10 }, (_, i) => later(i, { status: failed.has(i) ? 'failed' : 'completed' })));
    const got = laterChecks(store, [later(1)], new Set<string>(), () => 3);
    expect(got.map((r) => [r.app_id, r.status])).toEqual([
      ['nightly-002', 'completed'],
      ['nightly-003', 'failed'],
      ['nightly-004', 'failed'],
      ['nightly-005', 'completed'],
      ['nightly-006', 'completed'],
    ]);
  });
});

const keyOf = (r: Pick<SparkAppRecord, 'app_id' | 'attempt_id'>): AppKey => ({ app_id: r.app_id, attempt_id: r.attempt_id });

const collect = collectNightly;
/** The app ids of a run's stored baseline; none for a run without a stored regressed check. */
const baselineOf = (repo: JobRepository, r: SparkAppRecord): string[] => repo.regressions([keyOf(r)])[0]?.check?.baseline_runs.map((k) => k.app_id) ?? [];
const defaults = (): typeof DEFAULT_THRESHOLDS => DEFAULT_THRESHOLDS;
/** The LaterRun of nightly run i as stored. */
const historyRun = (i: number): LaterRun => ({ app_id: run(i).app_id, attempt_id: null, app_name: 'Nightly', source: 'prod', time: run(i).start_time!, status: 'completed' });

describeEachStore('a removed run leaves no stored verdict that quotes it', (open) => {
  it('delete() and applyRetention() give the runs they removed that were in a history: completed, with a name and a time', async () => {
    const repo = await open();
    repo.upsert([run(1), run(2), run(3, { status: 'running', end_time: null }), run(4, { status: 'failed' }), run(5, { app_name: null }), run(6, { start_time: null, submit_time: null, end_time: null })]);
    const removed: LaterRun[] = [];
    expect(repo.delete([1, 3, 4, 5, 6].map((i) => keyOf(run(i))).concat({ app_id: 'not-stored', attempt_id: null }), removed)).toBe(5);
    expect(removed).toEqual([historyRun(1)]);
    // Without a receiver, as before.
    expect(repo.delete([])).toBe(0);
    repo.upsert([run(0), run(3, { status: 'failed' })]);
    const dropped: LaterRun[] = [];
    // Runs 0 to 3 end more than 30 days before July 5th (run 3: June 4th).
    expect(repo.applyRetention(30, new Date('2024-07-05T00:00:00Z'), dropped)).toBe(3);
    expect(dropped.sort((a, b) => (a.time < b.time ? -1 : 1))).toEqual([historyRun(0), historyRun(2)]);
    expect(repo.count()).toBe(0);
  });

  it('Delete Job: the later runs whose baselines held it are checked again (gap 1)', async () => {
    const repo = await open();
    const slow = run(6, { duration_ms: 20 * MIN });
    await collect(repo, [0, 1, 2, 3, 4, 5].map((i) => run(i)).concat(slow));
    expect(baselineOf(repo, slow)).toEqual(['nightly-005', 'nightly-004', 'nightly-003', 'nightly-002', 'nightly-001', 'nightly-000']);
    // As the Jobs view's Delete Job does it (jobCommands.ts); the settings' thresholds (no source config).
    await removeAndRecheck(repo, (removed) => repo.delete([keyOf(run(3))], removed), silentLog, () => undefined);
    expect(baselineOf(repo, slow)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
    expect(repo.list({ regressed: true }).map((r) => r.app_id)).toEqual([slow.app_id]);
    // Its history down to two runs: the verdict says so, and the run is no longer listed as regressed.
    await removeAndRecheck(repo, (removed) => repo.delete([0, 1, 2, 4].map((i) => keyOf(run(i))), removed), silentLog, () => undefined);
    expect(repo.regressions([keyOf(slow)])[0]).toMatchObject({ status: 'unchecked', summary: 'Not checked (1 earlier run)' });
    expect(repo.list({ regressed: true })).toEqual([]);
  });

  it('retention: the later runs whose baselines held a dropped run are checked again (gap 1)', async () => {
    const repo = await open();
    const slow = run(8, { duration_ms: 20 * MIN });
    await collect(repo, [0, 1, 2, 3, 4, 5, 6, 7].map((i) => run(i)).concat(slow));
    expect(baselineOf(repo, slow)).toContain('nightly-000');
    // Runs 0 to 2 end more than 30 days before July 4th.
    const n = await removeAndRecheck(repo, (removed) => repo.applyRetention(30, new Date('2024-07-04T00:00:00Z'), removed), silentLog, () => undefined);
    expect(n).toBe(3);
    expect(baselineOf(repo, slow)).toEqual(['nightly-007', 'nightly-006', 'nightly-005', 'nightly-004', 'nightly-003']);
    // Run 5 has two runs left before it: too few to check.
    expect(repo.regressions([run(5), run(6), run(7)].map(keyOf)).map((s) => s?.status)).toEqual(['unchecked', 'steady', 'steady']);
  });

  it("a platform-level run superseded by its Spark application's record (another name) is removed from its history's verdicts by the collection (gap 1)", async () => {
    const repo = await open();
    // Run 3 is first known by its platform's record (an EMR step, say), named as the job is; its Spark
    // application is named otherwise, and replaces it when collected.
    const platform = run(3, { app_id: 'step-3', quality: [Quality.platformLevel] });
    const slow = run(6, { duration_ms: 20 * MIN });
    await collect(repo, [0, 1, 2, platform, 4, 5].map((i) => (typeof i === 'number' ? run(i) : i)).concat(slow));
    expect(baselineOf(repo, slow)).toContain('step-3');
    const result = await collect(repo, [run(3, { app_name: 'nightly_job.py', tags: { [REPLACES_TAG]: 'step-3' } })]);
    expect(repo.get(keyOf(platform))).toBeUndefined();
    expect(baselineOf(repo, slow)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
    // Regressed before, so not reported again.
    expect(result.regressed).toEqual([]);
  });

  it("Delete Job re-checks with its source's thresholds: the source's `regression:` keys over the settings", async () => {
    const repo = await open();
    const slow = run(8, { duration_ms: 20 * MIN });
    await collect(repo, [0, 1, 2, 3, 4, 5, 6, 7].map((i) => run(i)).concat(slow));
    await removeAndRecheck(repo, (removed) => repo.delete([keyOf(run(7))], removed), silentLog, (source) => (source === 'prod' ? { regression: { baseline_runs: 3 } } : undefined));
    expect(baselineOf(repo, slow)).toEqual(['nightly-006', 'nightly-005', 'nightly-004']);
  });

  it("recheckAfterRemoval walks each source's history with its own window", async () => {
    const repo = await open();
    const history = Array.from({ length: 12 }, (_, i) => run(i));
    await collect(repo, history);
    const removed: LaterRun[] = [];
    repo.delete([keyOf(run(2))], removed);
    // A window of 3: runs 3 to 5 held run 2.
    const again = await recheckAfterRemoval(repo, removed, () => ({ ...DEFAULT_THRESHOLDS, baselineRuns: 3 }));
    expect(again).toBe(3);
    expect(await recheckAfterRemoval(repo, [], defaults)).toBe(0);
  });
});

describeEachStore('a failed run after an older run collected late is checked again, as a completed one is (gap 2)', (open) => {
  it('collected before its history, it is unchecked; once the history is collected, it is regressed', async () => {
    const repo = await open();
    const failed = run(6, { duration_ms: 20 * MIN, status: 'failed' });
    const completed = run(7, { duration_ms: 20 * MIN });
    await collect(repo, [run(4), run(5), failed, completed]);
    expect(repo.regressions([failed, completed].map(keyOf)).map((s) => s?.status)).toEqual(['unchecked', 'unchecked']);
    const result = await collect(repo, [0, 1, 2, 3].map((i) => run(i)));
    expect(repo.regressions([failed, completed].map(keyOf)).map((s) => s?.status)).toEqual(['regressed', 'regressed']);
    // Its baseline is the completed runs before it; the failed run is in none (run 7's has 5, 4, 3...).
    expect(baselineOf(repo, failed)).toEqual(['nightly-005', 'nightly-004', 'nightly-003', 'nightly-002', 'nightly-001', 'nightly-000']);
    expect(baselineOf(repo, completed)).toEqual(['nightly-005', 'nightly-004', 'nightly-003', 'nightly-002', 'nightly-001', 'nightly-000']);
    expect(result.regressed.map((r) => r.key.app_id)).toEqual([failed.app_id, completed.app_id]);
  });

  it('a deleted run is no longer quoted by the failed runs after it either', async () => {
    const repo = await open();
    const failed = run(6, { duration_ms: 20 * MIN, status: 'failed' });
    await collect(repo, [0, 1, 2, 3, 4, 5].map((i) => run(i)).concat(failed));
    expect(baselineOf(repo, failed)).toContain('nightly-005');
    await removeAndRecheck(repo, (removed) => repo.delete([keyOf(run(5))], removed), silentLog, () => undefined);
    expect(baselineOf(repo, failed)).toEqual(['nightly-004', 'nightly-003', 'nightly-002', 'nightly-001', 'nightly-000']);
  });
});

describe('recheckAfterRemoval (sql.js)', () => {
  it('checks again in chunks of 1,000, saying how far it is, and stores every check', async () => {
    const { repo } = await memoryRepository();
    // 110 names of 11 runs; the first run of each removed: 10 runs of each checked again.
    repo.upsert(Array.from({ length: 110 * 11 }, (_, k) => run(k % 11, { app_id: `job-${Math.floor(k / 11)}-${k % 11}`, app_name: `Job ${Math.floor(k / 11)}` })));
    const removed: LaterRun[] = [];
    repo.delete(Array.from({ length: 110 }, (_, j) => ({ app_id: `job-${j}-0`, attempt_id: null })), removed);
    const progress: [number, number][] = [];
    expect(await recheckAfterRemoval(repo, removed, defaults, (checked, total) => progress.push([checked, total]))).toBe(1100);
    expect(progress).toEqual([
      [1000, 1100],
      [1100, 1100],
    ]);
    expect(repo.regressions([{ app_id: 'job-109-10', attempt_id: null }])[0]).toMatchObject({ status: 'steady' });
    expect(repo.list().filter((r) => repo.regressions([r])[0] === null)).toEqual([]);
  });
});

describe('laterRuns stays an index seek per history, failed runs too (sql.js)', () => {
  it('completed runs by index apps_baseline, failed ones by apps_failed_history; no scan of applications', async () => {
    const { db } = await memoryRepository();
    const plan = db.exec(`EXPLAIN QUERY PLAN ${laterRunsSql(500)}`, Array.from({ length: 1500 }, (_, i) => String(i)))[0]!.values.map((r) => String(r[3]));
    expect(plan).toContainEqual(expect.stringMatching(/^SEARCH a USING INDEX apps_baseline \(app_name=\? AND source=\? AND <expr>>\?\)$/));
    expect(plan).toContainEqual(expect.stringMatching(/^SEARCH a USING INDEX apps_failed_history \(app_name=\? AND source=\? AND <expr>>\?\)$/));
    expect(plan.filter((p) => /^SCAN a\b/.test(p))).toEqual([]);
  });
});

describePostgres('laterRuns stays an index seek per history, failed runs too (PostgreSQL)', (server) => {
  const { open, connect } = pgHandles();

  it('over 100,000 runs: completed runs by index apps_baseline, failed ones by apps_failed_history', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    store.upsert([makeRecord({ app_id: 'app-seed' })]);
    const client = await connect(s, url);
    // 200 names of 500 runs, a run a minute; one in twenty of each name's runs failed.
    await client.query(`INSERT INTO applications SELECT 'app-' || i, '', NULL, 'job-' || (i % 200), "user", submit_time, to_char(timestamp '2024-01-01' + i * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"'),
        end_time, duration_ms, spark_version, executor_cores, executor_memory_mb, num_executors, driver_memory_mb, total_tasks, failed_tasks, total_stages, failed_stages, cpu_time_ms, input_bytes, output_bytes,
        shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, tags, environment, quality, source, CASE WHEN (i / 200) % 20 = 3 THEN 'failed' ELSE 'completed' END, record_hash, first_seen, last_updated, summaries_hash, summaries
      FROM applications, generate_series(1, 100000) i WHERE app_id = 'app-seed'`);
    await client.query('ANALYZE');
    const groups = Array.from({ length: 20 }, (_, i) => ({ app_name: `job-${i * 10}`, source: 'event_log', time: '2024-03-01T00:00:00.000Z' }));
    let n = 0;
    const sql = laterRunsPgSql(groups.length).replace(/\?/g, () => `$${++n}`);
    const params = groups.flatMap((g) => [g.app_name, g.source, g.time]);
    const plan = (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    expect(plan).toMatch(/(Index Scan using|Index Only Scan using|Bitmap Index Scan on) apps_baseline /);
    expect(plan).toMatch(/(Index Scan using|Index Only Scan using|Bitmap Index Scan on) apps_failed_history /);
    expect(plan).not.toMatch(/Seq Scan on applications/);
    // And it answers as the embedded file does: the finished runs after the time, with their status.
    const found = store.laterRuns(groups.slice(0, 1));
    expect(found.length).toBe((await client.query("SELECT 1 FROM applications WHERE app_name = 'job-0' AND start_time > '2024-03-01T00:00:00.000Z' AND status IN ('completed', 'failed')")).rowCount);
    expect(new Set(found.map((r) => r.status))).toEqual(new Set(['completed', 'failed']));
  });
});

describe('the embedded file before migration 11 (an index only)', () => {
  it('a command that only reads reads it, and leaves the file as it is; a writer upgrades it', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db, 'v10.db', 10, false);
    const file = path.join(tempDir(), 'jobs.db');
    writeFileSync(file, db.export());
    db.close();
    const before = readFileSync(file);
    const reader = await JobStore.open(file, { readOnly: true });
    try {
      expect(reader.count()).toBe(0);
      expect(reader.laterRuns([{ app_name: 'Nightly', source: 'prod', time: '2024-01-01' }])).toEqual([]);
    } finally {
      reader.close();
    }
    expect(readFileSync(file).equals(before)).toBe(true);
    const writer = await JobStore.open(file);
    try {
      writer.upsert([run(1)]);
      await writer.save();
    } finally {
      writer.close();
    }
    const after = new SQL.Database(readFileSync(file));
    try {
      expect(schemaVersion(after)).toBe(SCHEMA_VERSION);
      expect(after.exec("SELECT name FROM sqlite_schema WHERE name = 'apps_failed_history'")[0]?.values).toEqual([['apps_failed_history']]);
    } finally {
      after.close();
    }
  });
});

const silentLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } as unknown as Parameters<typeof removeAndRecheck>[2];
