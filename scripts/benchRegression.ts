/**
 * `BENCH_ONLY=regression npm run bench` (issue 18): what checking newly collected runs for
 * regressions costs. Target: < 200 ms per 1,000 new runs over a store of 100,000.
 *
 * The store: 1,000 application names with 100 completed runs each (one a day), Spark-like
 * environments (test/support/records.ts), upserted as collections write them; then 1,000 new runs,
 * one per name, checked with checkRegressions (default thresholds). Three sets of new runs: all
 * steady, 5% of them twice as slow, all twice as slow (each regressed run also reads its own and its
 * baseline's environments for the config diff). Each set is timed first (cold) and then as the
 * median of 5 passes; the steady set is timed again without index apps_baseline (migration 7).
 * Then the re-check after a removal (recheckAfterRemoval: the later runs whose baselines held a removed
 * run are checked again and stored): Delete Job of one run mid-history, and a retention that drops
 * every name's oldest run (a day's runs, as a daily retention does after each collection).
 */
import type { Database } from 'sql.js';
import { checkRegressions, recheckAfterRemoval } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import type { SparkAppRecord } from '../src/collectors/record';
import { migrate } from '../src/storage/migrations';
import { SqlJsRepository, type AppKey, type LaterRun } from '../src/storage/repository';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { makeRecord, sparkLikeEnvironment } from '../test/support/records';

const NAMES = 1_000;
const RUNS_PER_NAME = 100;
const DAY = 86_400_000;
const BASE = Date.UTC(2024, 0, 1);
const GB = 1024 ** 3;

/** Wall time and this process's CPU time: on a shared machine the CPU time is the steadier figure. */
function timed<T>(fn: () => T): [T, { wall: number; cpu: number }] {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const v = fn();
  const used = process.cpuUsage(cpu);
  return [v, { wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }];
}

/** timed() for work that yields between its chunks (recheckAfterRemoval). */
async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, { wall: number; cpu: number }]> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  const v = await fn();
  const used = process.cpuUsage(cpu);
  return [v, { wall: performance.now() - t, cpu: (used.user + used.system) / 1000 }];
}

const ms = (t: { wall: number; cpu: number }): string => `${t.wall.toFixed(0)} ms (CPU ${t.cpu.toFixed(0)} ms)`;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** Run `day` of job `name`: about 10 min and 10 GB in, ±5%; `slow` doubles its duration and CPU time. */
function jobRun(name: number, day: number, id: string, slow = false): SparkAppRecord {
  const noise = 1 + (((name * 31 + day * 17) % 11) - 5) / 100;
  const start = BASE + day * DAY + name * 60_000;
  const duration = Math.round(600_000 * noise * (slow ? 2 : 1));
  const i = name * RUNS_PER_NAME + day;
  return makeRecord({
    app_id: id,
    app_name: `nightly-etl-${name}`,
    source: name % 2 === 0 ? 'prod' : 'staging',
    start_time: new Date(start).toISOString(),
    submit_time: new Date(start - 1000).toISOString(),
    end_time: new Date(start + duration).toISOString(),
    duration_ms: duration,
    cpu_time_ms: Math.round(3_600_000 * noise * (slow ? 2 : 1)),
    input_bytes: Math.round(10 * GB * noise),
    shuffle_read_bytes: Math.round(4 * GB * noise),
    shuffle_write_bytes: Math.round(4 * GB * noise),
    failed_tasks: 0,
    num_executors: 8,
    // The job's own settings stay put; Spark's per-run ones (app id, driver host, times) change every run.
    environment: { ...sparkLikeEnvironment(i), 'spark.app.name': `nightly-etl-${name}`, 'spark.sql.shuffle.partitions': '200', 'spark.executor.instances': '8' },
  });
}

function keyOf(r: SparkAppRecord): AppKey {
  return { app_id: r.app_id, attempt_id: r.attempt_id };
}

export async function regressionFigures(): Promise<string> {
  const SQL = await loadSqlJs();
  const db: Database = memoryDatabase(SQL);
  try {
    migrate(db, 'bench');
    const repo = new SqlJsRepository(db);
    // The history, written a day's collection (1,000 runs) at a time.
    const [, load] = timed(() => {
      for (let day = 0; day < RUNS_PER_NAME; day++) repo.upsert(Array.from({ length: NAMES }, (_, name) => jobRun(name, day, `app-${name}-${day}`)));
    });
    const sets: { label: string; slow: (name: number) => boolean }[] = [
      { label: 'steady', slow: () => false },
      { label: '5% regressed', slow: (name) => name % 20 === 0 },
      { label: 'all regressed', slow: () => true },
    ];
    const lines = [`store: ${repo.count().toLocaleString('en-US')} runs of ${NAMES.toLocaleString('en-US')} names (${(load.wall / 1000).toFixed(1)} s to upsert)`];
    let steadyKeys: AppKey[] = [];
    for (const set of sets) {
      const fresh = Array.from({ length: NAMES }, (_, name) => jobRun(name, RUNS_PER_NAME, `new-${set.label}-${name}`, set.slow(name)));
      repo.upsert(fresh);
      const keys = fresh.map(keyOf);
      if (set.label === 'steady') steadyKeys = keys;
      const [checks, cold] = timed(() => checkRegressions(repo, keys, DEFAULT_THRESHOLDS));
      const warm = Array.from({ length: 5 }, () => timed(() => checkRegressions(repo, keys, DEFAULT_THRESHOLDS))[1]);
      const regressed = checks.filter((c) => c.status === 'regressed').length;
      const expected = fresh.filter((_, name) => set.slow(name)).length;
      if (regressed !== expected) throw new Error(`${set.label}: ${regressed} regressed, expected ${expected}`);
      lines.push(`1,000 new runs, ${set.label} (${regressed} flagged): first ${ms(cold)}; median of 5 ${ms({ wall: median(warm.map((w) => w.wall)), cpu: median(warm.map((w) => w.cpu)) })}`);
    }
    // Delete Job of run 50 of one name: the 10 runs after it are checked again.
    const one: LaterRun[] = [];
    const [, deleteOne] = timed(() => repo.delete([{ app_id: 'app-0-50', attempt_id: null }], one));
    const [againOne, recheckOne] = await timedAsync(() => recheckAfterRemoval(repo, one, () => DEFAULT_THRESHOLDS));
    lines.push(`Delete Job of 1 run mid-history: delete ${ms(deleteOne)}, ${againOne} later runs checked again and stored in ${ms(recheckOne)}`);
    // Retention dropping day 0 of every name (all end before day 1): the next 10 runs of each are checked again.
    const dropped: LaterRun[] = [];
    const [n, retention] = timed(() => repo.applyRetention(30, new Date(BASE + 31 * DAY), dropped));
    const [again, recheck] = await timedAsync(() => recheckAfterRemoval(repo, dropped, () => DEFAULT_THRESHOLDS));
    lines.push(`retention dropping ${n.toLocaleString('en-US')} runs (each name's oldest): ${ms(retention)}, then ${again.toLocaleString('en-US')} later runs checked again and stored in ${ms(recheck)}`);
    db.exec('DROP INDEX apps_baseline');
    const [, noIndex] = timed(() => checkRegressions(repo, steadyKeys, DEFAULT_THRESHOLDS));
    lines.push(`1,000 new runs, steady, without index apps_baseline: ${ms(noIndex)}`);
    return lines.join('\n                       ');
  } finally {
    db.close();
  }
}
