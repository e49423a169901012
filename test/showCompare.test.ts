/**
 * `spark-optimizer show`, `compare` and `jobs --sort/--where` through main() (issue 15), over a
 * database built here: records read from generated event logs, with hand-built stage and executor
 * summaries (until the collectors fill them).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRun } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { collectAll } from '../src/collectors/eventlog/collect';
import type { SparkAppRecord } from '../src/collectors/record';
import type { AppSummaries } from '../src/collectors/record/summaries';
import { main } from '../src/cli/main';
import { JobStore } from '../src/storage/jobStore';
import { eventLogText } from './support/eventLogGenerator';
import { makeExecutor, makeStage } from './support/summaries';
import { tempDir } from './support/tmp';

interface Ran {
  code: number;
  out: string;
  err: string;
}

async function cli(...args: string[]): Promise<Ran> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: '/' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let db: string;
const records = new Map<string, SparkAppRecord>();
const summariesA: AppSummaries = {
  stages: [
    makeStage({ stage_id: 0, name: 'load at Etl.scala:10', duration_ms: 4_000 }),
    makeStage({ stage_id: 1, name: 'join at Etl.scala:20', attempt_id: 0, status: 'failed', duration_ms: 9_000, failed_tasks: 5 }),
    makeStage({ stage_id: 1, name: 'join at Etl.scala:20', attempt_id: 1, duration_ms: 30_000 }),
    makeStage({ stage_id: 2, name: 'write at Etl.scala:30', duration_ms: 1_000, task_duration_ms: null, peak_execution_memory_bytes: null }),
  ],
  executors: [makeExecutor({ executor_id: '10' }), makeExecutor({ executor_id: '2', remove_time: '2024-06-01T00:05:00.000Z', remove_reason: 'Container lost' })],
};
const summariesB: AppSummaries = {
  stages: [
    makeStage({ stage_id: 0, name: 'load at Etl.scala:10', duration_ms: 5_000 }),
    makeStage({ stage_id: 1, name: 'join at Etl.scala:20', duration_ms: 60_000, shuffle_read_bytes: 10_000 }),
    makeStage({ stage_id: 2, name: 'cache at Etl.scala:25', duration_ms: 2_000 }),
    makeStage({ stage_id: 3, name: 'write at Etl.scala:30', duration_ms: 1_500 }),
  ],
  executors: [makeExecutor({ executor_id: '1' })],
};

beforeAll(async () => {
  const dir = tempDir();
  const logs = path.join(dir, 'logs');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(logs);
  writeFileSync(path.join(logs, 'app-a'), eventLogText({ appId: 'app-a', appName: 'NightlyEtl', stages: 3, tasksPerStage: 4, seed: 1 }).text);
  writeFileSync(path.join(logs, 'app-b'), eventLogText({ appId: 'app-b', appName: 'NightlyEtl', stages: 4, tasksPerStage: 6, failEvery: 5, seed: 2 }).text);
  writeFileSync(path.join(logs, 'app-c_1'), eventLogText({ appId: 'app-c', attemptId: '1', appName: 'Retried', stages: 1, tasksPerStage: 2, seed: 3 }).text);
  writeFileSync(path.join(logs, 'app-c_2'), eventLogText({ appId: 'app-c', attemptId: '2', appName: 'Retried', stages: 2, tasksPerStage: 2, seed: 4 }).text);
  const collected = await collectAll({ path: logs });
  expect(collected.problems).toEqual([]);
  for (const a of collected.apps) records.set(`${a.record.app_id}/${a.record.attempt_id ?? ''}`, a.record);
  // B was run with another setting (the generator writes the same properties for every app).
  const b = records.get('app-b/')!;
  records.set('app-b/', { ...b, environment: { ...b.environment, 'spark.sql.shuffle.partitions': '400' } });
  expect([...records.keys()].sort()).toEqual(['app-a/', 'app-b/', 'app-c/1', 'app-c/2']);
  db = path.join(dir, 'jobs.db');
  const store = await JobStore.open(db);
  store.upsert([{ record: records.get('app-a/')!, summaries: summariesA }, { record: records.get('app-b/')!, summaries: summariesB }, records.get('app-c/1')!, records.get('app-c/2')!]);
  // B's check against three runs like A (issue 18): its failed tasks are new, so it regressed.
  const a = records.get('app-a/')!;
  const check = checkRun(records.get('app-b/')!, [1, 2, 3].map((n) => ({ ...a, app_id: `app-a${n}` })), DEFAULT_THRESHOLDS);
  expect(check.status).toBe('regressed');
  // C's second attempt, checked with no earlier run of its name: unchecked.
  const lone = checkRun(records.get('app-c/2')!, [], DEFAULT_THRESHOLDS);
  expect(lone.status).toBe('unchecked');
  store.saveRegressions([check, lone], new Date('2024-06-02T00:00:00Z'));
  await store.save();
  store.close();
});

describe('spark-optimizer show', () => {
  it('--format json: one object, the record\'s keys plus stages and executors with summaries.ts\'s field names', async () => {
    const r = await cli('show', 'app-a', '--db', db, '--format', 'json');
    expect(r.code).toBe(0);
    expect(r.out.split('\n')).toHaveLength(1);
    const shown = JSON.parse(r.out) as Record<string, unknown>;
    const { stages, executors, regression, ...record } = shown;
    expect(record).toEqual(records.get('app-a/'));
    // Never checked (stored without a collect): its check is null.
    expect(regression).toBeNull();
    expect(stages).toEqual([...summariesA.stages].sort((x, y) => x.stage_id - y.stage_id || x.attempt_id - y.attempt_id));
    expect((stages as object[]).map((s) => Object.keys(s).sort())).toEqual(summariesA.stages.map((s) => Object.keys(s).sort()));
    expect(executors).toEqual([summariesA.executors[1], summariesA.executors[0]]);
    expect(r.err).toBe('');
  });

  it('text: the record, the longest stages (--top) and the executors', async () => {
    const r = await cli('show', 'app-a', '--db', db, '--top', '2', '--utc');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^NightlyEtl\n/);
    expect(r.out).toMatch(/Application\s+NightlyEtl \(app-a\)/);
    expect(r.out).toContain(`Tasks                  ${records.get('app-a/')!.total_tasks} (0 failed)`);
    expect(r.out).toContain('Stage attempts: 4 (1 failed); the 2 longest:');
    const stageLines = r.out.split('\n').filter((l) => /Etl\.scala/.test(l)).map((l) => l.trim());
    expect(stageLines.map((l) => l.split(/\s{2,}/)[0])).toEqual(['1', '1']);
    expect(stageLines[0]).toMatch(/^1\s+1\s+complete\s+30\.0 s\s+30\.0 s\s+20\s+0\s/);
    expect(stageLines[1]).toMatch(/^1\s+0\s+failed\s+9\.0 s\s+30\.0 s\s+20\s+5\s/);
    expect(r.out).not.toContain('load at Etl.scala:10');
    expect(r.out).toContain('Executors: 2');
    expect(r.out).toMatch(/\n\s*2\s+host-2\s+4\s+2024-06-01 00:00 UTC\s+2024-06-01 00:05 UTC\s.*Container lost/);
  });

  it('text: a stage that never ran shows "-" for its figures, not 0 B and 0 ms, as the job page does', async () => {
    const dir = tempDir();
    const skippedDb = path.join(dir, 'skipped.db');
    const store = await JobStore.open(skippedDb);
    const zero = { num_tasks: 0, failed_tasks: 0, killed_tasks: 0, input_bytes: 0, output_bytes: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 0, memory_spilled_bytes: 0, disk_spilled_bytes: 0, executor_run_time_ms: 0, cpu_time_ms: 0, gc_time_ms: 0 };
    const stages = [
      makeStage({ stage_id: 0, name: 'load at Etl.scala:10', duration_ms: 4_000 }),
      makeStage({ stage_id: 1, name: 'reused at Etl.scala:15', status: 'skipped', duration_ms: null, submission_time: null, completion_time: null, task_duration_ms: null, ...zero }),
    ];
    store.upsert([{ record: { ...records.get('app-a/')!, app_id: 'app-s' }, summaries: { stages, executors: [] } }]);
    await store.save();
    store.close();
    const r = await cli('show', 'app-s', '--db', skippedDb);
    expect(r.code).toBe(0);
    const line = r.out.split('\n').find((l) => l.includes('reused at Etl.scala:15'))!.trim();
    expect(line.split(/\s{2,}/)).toEqual(['1', '0', 'skipped', ...Array<string>(11).fill('-'), 'reused at Etl.scala:15']);
    const ran = r.out.split('\n').find((l) => l.includes('load at Etl.scala:10'))!.trim();
    expect(ran).not.toMatch(/\s-\s/);
  });

  it('its stored check against its history: text says it with the reason, JSON as `jobs --regressed` does', async () => {
    const text = await cli('show', 'app-b', '--db', db, '--utc');
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\nHistory\s+Failed tasks \d+ \(none before\)[^\n]* \(as of 2024-06-02 00:00 UTC\)\n/);
    expect(text.out).toContain('\nRegressed against the median of 3 earlier completed runs');
    const json = JSON.parse((await cli('show', 'app-b', '--db', db, '--format', 'json')).out) as { regression: Record<string, unknown> };
    const listed = (await cli('jobs', '--regressed', '--db', db, '--format', 'json')).out.split('\n').map((l) => JSON.parse(l) as { app_id: string; regression: unknown });
    expect(listed.map((j) => j.app_id)).toEqual(['app-b']);
    expect(json.regression).toEqual(listed[0]!.regression);
    expect(json.regression).toMatchObject({ status: 'regressed', checked_at: '2024-06-02T00:00:00.000Z', likely_cause: 'input' });
    // A run never checked says how runs get checked.
    expect((await cli('show', 'app-a', '--db', db)).out).toMatch(/\nHistory\s+never checked \(a run is checked when a collection stores it new or updated\)\n/);
    // A run checked without a verdict says why, on its line.
    const retried = await cli('show', 'app-c', '--attempt', '2', '--db', db, '--utc');
    expect(retried.out).toMatch(/\nHistory\s+Not checked: 0 earlier completed runs of this name and source; 3 are needed\. \(as of 2024-06-02 00:00 UTC\)\n/);
    expect(retried.out).not.toContain('Regressed against');
  });

  it('a record without summaries says so; JSON has empty stages and executors', async () => {
    const text = await cli('show', 'app-c', '--attempt', '1', '--db', db);
    expect(text.code).toBe(0);
    expect(text.out).toContain('Stages and executors: not collected for this record');
    const json = JSON.parse((await cli('show', 'app-c', '--attempt', '1', '--db', db, '--format', 'json')).out) as Record<string, unknown>;
    expect([json.attempt_id, json.stages, json.executors]).toEqual(['1', [], []]);
  });

  it('several attempts and no --attempt: the last one, naming the others on stderr', async () => {
    const r = await cli('show', 'app-c', '--db', db, '--format', 'json');
    expect(r.code).toBe(0);
    expect((JSON.parse(r.out) as SparkAppRecord).attempt_id).toBe('2');
    expect(r.err).toMatch(/showing attempt 2 of app-c, the last; it also has 1 \(--attempt N\)/);
  });

  it('an unknown application or attempt is a clear error, exit 1; wrong arguments exit 2', async () => {
    const unknown = await cli('show', 'app-zzz', '--db', db);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no application "app-zzz" in .*jobs\.db/);
    const attempt = await cli('show', 'app-c', '--attempt', '7', '--db', db);
    expect(attempt.code).toBe(1);
    expect(attempt.err).toMatch(/app-c has no attempt "7"; its attempts: 1, 2/);
    expect((await cli('show', '--db', db)).code).toBe(2);
    expect((await cli('show', 'app-a', '--db', db, '--format', 'csv')).code).toBe(2);
    const noDb = await cli('show', 'app-a', '--db', path.join(tempDir(), 'none.db'));
    expect(noDb.code).toBe(1);
    expect(noDb.err).toMatch(/no database at/);
  });
});

describe('spark-optimizer compare', () => {
  it('--format json: metric deltas, stages aligned by name, and only the properties that differ', async () => {
    const r = await cli('compare', 'app-a', 'app-b', '--db', db, '--format', 'json');
    expect(r.code).toBe(0);
    const c = JSON.parse(r.out) as import('../src/analysis/compare').Comparison;
    const a = records.get('app-a/')!;
    const b = records.get('app-b/')!;
    expect(c.a).toMatchObject({ app_id: 'app-a', has_stages: true });
    const tasks = c.metrics.find((m) => m.field === 'total_tasks')!;
    expect(tasks).toMatchObject({ a: a.total_tasks, b: b.total_tasks, delta: b.total_tasks - a.total_tasks });
    expect(tasks.percent).toBeCloseTo(((b.total_tasks - a.total_tasks) / a.total_tasks) * 100, 1);
    expect(c.metrics.find((m) => m.field === 'failed_tasks')).toMatchObject({ a: 0, b: b.failed_tasks });
    expect(b.failed_tasks).toBeGreaterThan(0);
    expect(c.stages.map((s) => [s.name, s.a?.stage_id ?? null, s.b?.stage_id ?? null, s.matched_by])).toEqual([
      ['load at Etl.scala:10', 0, 0, 'name'],
      ['join at Etl.scala:20', 1, 1, 'name'],
      ['write at Etl.scala:30', 2, 3, 'name'],
      ['cache at Etl.scala:25', null, 2, null],
    ]);
    expect(c.stages[1]!.metrics.duration_ms).toEqual({ a: 39_000, b: 60_000, delta: 21_000, percent: 53.8 });
    // The config diff: only differing keys, secrets as stored (redacted, so equal and not listed).
    expect(c.config.length).toBeGreaterThan(0);
    for (const row of c.config) expect(row.a, row.key).not.toBe(row.b);
    expect(c.config.find((row) => row.key === 'spark.app.id')).toEqual({ key: 'spark.app.id', a: 'app-a', b: 'app-b', per_run: true });
    expect(c.config.map((row) => row.key)).not.toContain('spark.master');
    expect(c.config.filter((row) => !row.per_run)).toEqual([{ key: 'spark.sql.shuffle.partitions', a: null, b: '400', per_run: false }]);
    expect(r.out).not.toMatch(/secret\.key/);
  });

  it('text: the runs, the metrics, the stages whose duration moved most, the config diff', async () => {
    const r = await cli('compare', 'app-a', 'app-b', '--db', db, '--top', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^A {2}NightlyEtl \(app-a\) {2}completed/);
    expect(r.out).toMatch(/\nB {2}NightlyEtl \(app-b\) {2}completed/);
    // Start times say their zone (issue 16): local by default, UTC with --utc.
    expect(r.out).toMatch(/^A .* started \d{4}-\d\d-\d\d \d\d:\d\d \S+ {2}Spark/);
    const utc = await cli('compare', 'app-a', 'app-b', '--db', db, '--utc');
    expect(utc.out).toMatch(/^A .* started \d{4}-\d\d-\d\d \d\d:\d\d UTC {2}Spark/);
    expect(r.out).toMatch(/\nDuration\s+\S+( \S+)?\s+\S+( \S+)?\s+[+-]/);
    expect(r.out).toContain('Stages: 3 aligned by name, 0 by stage id, 0 only in A, 1 only in B; the 2 whose duration changed most:');
    expect(r.out).toMatch(/\n1 \(2 attempts\)\s+1\s+39\.0 s\s+1m 0s\s+\+21\.0 s\s+\+53\.8%\s+1m 0s\s+30\.0 s\s+\+8\.8 KB\s+5\s+0\s+join at Etl\.scala:20/);
    expect(r.out).toMatch(/\n-\s+2\s+-\s+2\.0 s\s+-\s+-\s+-\s+30\.0 s\s+-\s+-\s+0\s+cache at Etl\.scala:25/);
    expect(r.out).not.toMatch(/\n0\s+0\s+4\.0 s/);
    expect(r.out).toMatch(/\nConfig: 1 property differs\nproperty +A +B\n[- ]+\nspark\.sql\.shuffle\.partitions +\(not set\) +400\n/);
    expect(r.out).toMatch(/\(and .*spark\.app\.id.*, set anew for every run\)/);
  });

  it('picks attempts with --attempt-a/-b, says which it took without them, and fails clearly on an unknown one', async () => {
    const r = await cli('compare', 'app-c', 'app-c', '--attempt-a', '1', '--db', db, '--format', 'json');
    expect(r.code).toBe(0);
    const c = JSON.parse(r.out) as import('../src/analysis/compare').Comparison;
    expect([c.a.attempt_id, c.b.attempt_id, c.a.has_stages]).toEqual(['1', '2', false]);
    expect(r.err).toMatch(/B is attempt 2 of app-c, the last/);
    const missing = await cli('compare', 'app-a', 'app-nope', '--db', db);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/no application "app-nope"/);
    expect((await cli('compare', 'app-a', '--db', db)).code).toBe(2);
  });
});

describe('spark-optimizer jobs --sort and --where', () => {
  it('sorts by a friendly name and filters by conditions, in SQL', async () => {
    const failedFirst = await cli('jobs', '--db', db, '--sort', 'failed', '--format', 'json');
    expect(failedFirst.code).toBe(0);
    const rows = failedFirst.out.split('\n').map((l) => JSON.parse(l) as SparkAppRecord);
    expect(rows[0]!.app_id).toBe('app-b');
    expect(rows.map((x) => x.failed_tasks)).toEqual([...rows.map((x) => x.failed_tasks)].sort((x, y) => y - x));
    const byTasks = await cli('jobs', '--db', db, '--sort', 'Tasks', '--asc', '--format', 'json');
    const tasks = byTasks.out.split('\n').map((l) => (JSON.parse(l) as SparkAppRecord).total_tasks);
    expect(tasks).toEqual([...tasks].sort((x, y) => x - y));
    const failing = await cli('jobs', '--db', db, '--where', 'failed_tasks>0', '--format', 'json');
    expect(failing.out.split('\n').map((l) => (JSON.parse(l) as SparkAppRecord).app_id)).toEqual(['app-b']);
    const both = await cli('jobs', '--db', db, '--where', 'name=Retried', '--where', 'stages>=2', '--format', 'json');
    expect(both.out.split('\n').map((l) => (JSON.parse(l) as SparkAppRecord).attempt_id)).toEqual(['2']);
    const none = await cli('jobs', '--db', db, '--where', 'duration>100h');
    expect(none.out).toBe('0 of 0 applications');
  });

  it('bad fields and values are usage errors; --help lists the fields', async () => {
    const sort = await cli('jobs', '--db', db, '--sort', 'bogus');
    expect(sort.code).toBe(2);
    expect(sort.err).toMatch(/--sort takes a record field, got "bogus"/);
    const where = await cli('jobs', '--db', db, '--where', 'spill>lots');
    expect(where.code).toBe(2);
    expect(where.err).toMatch(/--where: disk_spilled_bytes takes a size like 512MB/);
    const help = await cli('jobs', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/--where COND/);
    expect(help.out).toMatch(/\n {2}duration_ms +duration +a duration like/);
    expect(help.out).toMatch(/\n {2}shuffle_read_bytes +shuffle_read, shuffle/);
  });
});
