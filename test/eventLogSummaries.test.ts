/**
 * The event-log stage and executor summaries (issue 15, src/collectors/eventlog/summaries.ts): the
 * rules they count by, the two replay paths agreeing on them, the bounded task-duration sketch and
 * its error, and their way through the worker pool. Conformance with Spark's own lists is in
 * stageConformance.test.ts.
 */
import { copyFileSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { AppReplay } from '../src/collectors/eventlog/replay';
import { DurationSketch, EXACT_DURATIONS, MAX_BUCKETS, SKETCH_ALPHA } from '../src/collectors/eventlog/summaries';
import { stageTableOf } from '../src/collectors/record/stageTable';
import { isoTime, IsoTimes, timeFault } from '../src/collectors/record';
import type { AppSummaries, StageSummary } from '../src/collectors/record/summaries';
import { eventLogText, rng as random } from './support/eventLogGenerator';
import { describeShared, sharedPath } from './support/shared';
import { tempDir } from './support/tmp';

const WORKER = path.resolve(__dirname, '..', 'dist', 'worker.js');
const T0 = 1_700_000_000_000;
const j = (v: unknown): string => JSON.stringify(v);
const appStart = j({ Event: 'SparkListenerApplicationStart', 'App Name': 'a', 'App ID': 'app-sum', Timestamp: T0, User: 'u' });
const appEnd = j({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 });

/** Spark's quantile of sorted values (AppStatusStore.taskSummary): the value at index min(floor(q n), n - 1). */
function sparkQuantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(Math.floor(q * sorted.length), sorted.length - 1)]!;
}

interface Read {
  summaries: AppSummaries | undefined;
  parses: number;
}

async function readText(text: string): Promise<Read> {
  const file = path.join(tempDir(), 'app-sum');
  writeFileSync(file, text);
  const unit: LogUnit = { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: 'app-sum', inProgress: false, compacted: false };
  const parse = vi.spyOn(JSON, 'parse');
  try {
    const { summaries } = await readUnit(unit, { source: 'test' });
    return { summaries, parses: parse.mock.calls.length };
  } finally {
    parse.mockRestore();
  }
}

/**
 * `lines` between an application start and end, read as written and with a trailing space on
 * each (valid JSON that does not end in `}`, so JSON.parse reads it): the summaries must be equal.
 */
async function samePaths(lines: readonly string[]): Promise<Read> {
  const log = (tail: string): string => `${[appStart, ...lines.map((l) => l + tail), appEnd].join('\n')}\n`;
  const bytes = await readText(log(''));
  const parsed = await readText(log(' '));
  expect(parsed.parses).toBeGreaterThanOrEqual(lines.length);
  expect(bytes.summaries).toBeDefined();
  expect(bytes.summaries).toEqual(parsed.summaries);
  return bytes;
}

interface TaskOpts {
  stage?: number;
  attempt?: number | null;
  reason?: object;
  executor?: string;
  launch?: number;
  finish?: number;
  metrics?: object | null;
  info?: object;
}
/** A task end in Spark's field order (JsonProtocol.taskEndToJson). */
function taskEnd({ stage = 0, attempt = 0, reason = { Reason: 'Success' }, executor = '1', launch = T0 + 1000, finish = T0 + 1100, metrics = {}, info }: TaskOpts = {}): string {
  const head = attempt === null ? { Event: 'SparkListenerTaskEnd', 'Stage ID': stage } : { Event: 'SparkListenerTaskEnd', 'Stage ID': stage, 'Stage Attempt ID': attempt };
  const taskInfo = info ?? { 'Task ID': 1, Index: 0, Attempt: 0, 'Launch Time': launch, 'Executor ID': executor, Host: 'h1', Locality: 'PROCESS_LOCAL', Speculative: false, 'Getting Result Time': 0, 'Finish Time': finish, Failed: false, Killed: false, Accumulables: [{ ID: 1, Name: 'Executor ID', Update: '"Launch Time":5' }] };
  return j({ ...head, 'Task Type': 'ResultTask', 'Task End Reason': reason, 'Task Info': taskInfo, 'Task Executor Metrics': { JVMHeapMemory: 1 }, 'Task Metrics': metrics });
}
function metrics(v: { run?: number; gc?: number; peak?: number; cpu?: number; remote?: number; local?: number; written?: number; input?: number; output?: number; mem?: number; disk?: number }): object {
  return {
    'Executor Deserialize Time': 1,
    'Executor Run Time': v.run ?? 0,
    'Executor CPU Time': v.cpu ?? 0,
    ...(v.peak === undefined ? {} : { 'Peak Execution Memory': v.peak }),
    'Result Size': 10,
    'JVM GC Time': v.gc ?? 0,
    'Memory Bytes Spilled': v.mem ?? 0,
    'Disk Bytes Spilled': v.disk ?? 0,
    'Shuffle Read Metrics': { 'Remote Bytes Read': v.remote ?? 0, 'Local Bytes Read': v.local ?? 0 },
    'Shuffle Write Metrics': { 'Shuffle Bytes Written': v.written ?? 0 },
    'Input Metrics': { 'Bytes Read': v.input ?? 0 },
    'Output Metrics': { 'Bytes Written': v.output ?? 0 },
  };
}
function stageInfo(id: number, attempt: number, extra: object = {}): object {
  return { 'Stage ID': id, 'Stage Attempt ID': attempt, 'Stage Name': `stage ${id}`, 'Number of Tasks': 2, 'RDD Info': [{ 'RDD ID': 1, Name: 'Stage Name', 'Parent IDs': [] }], 'Parent IDs': [], Details: 'at "Submission Time":1', ...extra, Accumulables: [{ ID: 2, Name: 'Failure Reason', Value: 1 }] };
}
const stageSubmitted = (id: number, attempt: number, extra: object = {}): string => j({ Event: 'SparkListenerStageSubmitted', 'Stage Info': stageInfo(id, attempt, extra), Properties: { 'Stage Name': 'not this' } });
const stageCompleted = (id: number, attempt: number, extra: object = {}): string => j({ Event: 'SparkListenerStageCompleted', 'Stage Info': stageInfo(id, attempt, extra) });
const jobStart = (ids: number[]): string => j({ Event: 'SparkListenerJobStart', 'Job ID': 0, 'Submission Time': T0, 'Stage Infos': ids.map((id) => stageInfo(id, 0)), 'Stage IDs': ids, Properties: {} });
const executorAdded = (id: string, cores = 4, host = 'h1'): string => j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0 + 10, 'Executor ID': id, 'Executor Info': { Host: host, 'Total Cores': cores, 'Log Urls': {} } });

function stage(s: AppSummaries | undefined, id: number, attempt = 0): StageSummary {
  const found = s?.stages.find((x) => x.stage_id === id && x.attempt_id === attempt);
  if (!found) throw new Error(`no stage ${id}.${attempt}`);
  return found;
}

describe('stage attempts', () => {
  it('status: complete, failed, active (submitted, never completed), skipped (in a job, never submitted); times and duration', async () => {
    const { summaries, parses } = await samePaths([
      jobStart([0, 1, 2, 3]),
      stageSubmitted(0, 0, { 'Submission Time': T0 + 100 }),
      stageCompleted(0, 0, { 'Submission Time': T0 + 100, 'Completion Time': T0 + 600 }),
      stageSubmitted(1, 0, { 'Submission Time': T0 + 700 }),
      stageCompleted(1, 0, { 'Submission Time': T0 + 700, 'Completion Time': T0 + 800, 'Failure Reason': 'boom' }),
      stageSubmitted(1, 1, { 'Submission Time': T0 + 900 }),
      stageSubmitted(2, 0, { 'Submission Time': T0 + 1000 }),
      // No partitions to compute: DAGScheduler posts it submitted and completed without a submission time (the History Server's SKIPPED).
      stageSubmitted(4, 0, {}),
      stageCompleted(4, 0, { 'Completion Time': T0 + 1100 }),
    ]);
    // Only the application start and end are parsed: every stage and job line is read from its bytes.
    expect(parses).toBe(2);
    expect(summaries!.stages.map((s) => [s.stage_id, s.attempt_id, s.status])).toEqual([
      [0, 0, 'complete'],
      [1, 0, 'failed'],
      [1, 1, 'active'],
      [2, 0, 'active'],
      [3, 0, 'skipped'],
      [4, 0, 'skipped'],
    ]);
    expect(stage(summaries, 0)).toMatchObject({ name: 'stage 0', submission_time: new Date(T0 + 100).toISOString(), completion_time: new Date(T0 + 600).toISOString(), duration_ms: 500, num_tasks: 0, task_duration_ms: null, peak_execution_memory_bytes: null });
    expect(stage(summaries, 1, 1)).toMatchObject({ completion_time: null, duration_ms: null });
    // A stage only listed by a job is named as the job's Stage Infos name it (the History Server's AppStatusListener.onJobStart).
    expect(stage(summaries, 3)).toMatchObject({ name: 'stage 3', submission_time: null });
  });

  it('a skipped stage is named and numbered as its job’s Stage Info says, read from the line’s bytes; logs before Spark 1.2 (no Stage Infos) give ids alone', async () => {
    const info = (id: number, attempt: number, name: unknown): object => ({ ...stageInfo(id, attempt), 'Stage Name': name, Details: 'org.apache.spark.rdd.RDD.count(RDD.scala:1)\n{"Stage ID":99}' });
    const job = (id: number, infos: object[], ids: number[]): string => j({ Event: 'SparkListenerJobStart', 'Job ID': id, 'Submission Time': T0, 'Stage Infos': infos, 'Stage IDs': ids, Properties: { 'spark.job.description': '{"Stage ID":98,"Stage Name":"not a stage"}' } });
    const { summaries, parses } = await samePaths([
      job(0, [info(0, 0, 'map at <console>:14'), info(1, 0, 'count at <console>:17')], [0, 1]),
      stageSubmitted(1, 0, { 'Stage Name': 'count at <console>:17', 'Submission Time': T0 + 10 }),
      stageCompleted(1, 0, { 'Stage Name': 'count at <console>:17', 'Submission Time': T0 + 10, 'Completion Time': T0 + 20 }),
      // A stage shared with a running job whose attempt 0 failed: the History Server keys it by the Stage Info's attempt.
      job(1, [info(2, 1, 'reduce "x" \u00e9'), info(3, 0, null)], [2, 3]),
      job(2, [], []),
    ]);
    // Every job start is read from its bytes: the application start and end are the only lines parsed, and the escaped name alone.
    expect(parses).toBe(2 + 1);
    expect(summaries!.stages.map((s) => [s.stage_id, s.attempt_id, s.status, s.name])).toEqual([
      [0, 0, 'skipped', 'map at <console>:14'],
      [1, 0, 'complete', 'count at <console>:17'],
      [2, 1, 'skipped', 'reduce "x" \u00e9'],
      [3, 0, 'skipped', null],
    ]);
    // Spark 1.0-1.1 job starts list ids only (JsonProtocol.jobStartFromJson then says "unknown"): unnamed, attempt 0.
    const old = await samePaths([j({ Event: 'SparkListenerJobStart', 'Job ID': 0, 'Stage IDs': [4, 5], Properties: {} })]);
    expect(old.parses).toBe(2);
    expect(old.summaries!.stages.map((s) => [s.stage_id, s.attempt_id, s.status, s.name])).toEqual([
      [4, 0, 'skipped', null],
      [5, 0, 'skipped', null],
    ]);
    // Not in Spark's shape (a Stage Info whose name is not right after its id and attempt, a count that differs from
    // the Stage IDs, an attempt or name that is not one): parsed, and the same as the byte path would have given.
    const odd = await samePaths([
      j({ Event: 'SparkListenerJobStart', 'Job ID': 0, 'Stage Infos': [{ 'Stage ID': 6, 'Number of Tasks': 1, 'Stage Name': 'late name' }], 'Stage IDs': [6] }),
      j({ Event: 'SparkListenerJobStart', 'Job ID': 1, 'Stage Infos': [{ 'Stage ID': 7, 'Stage Attempt ID': 0, 'Stage Name': 'seven' }], 'Stage IDs': [7, 8] }),
      j({ Event: 'SparkListenerJobStart', 'Job ID': 2, 'Stage Infos': [{ 'Stage ID': 9, 'Stage Attempt ID': null, 'Stage Name': 9 }], 'Stage IDs': [9] }),
      j({ Event: 'SparkListenerJobStart', 'Job ID': 3, 'Stage Infos': null, 'Stage IDs': [10] }),
    ]);
    expect(odd.parses).toBe(2 + 4);
    expect(odd.summaries!.stages.map((s) => [s.stage_id, s.attempt_id, s.name])).toEqual([
      [6, 0, 'late name'],
      [7, 0, 'seven'],
      [9, 0, '9'],
      [10, 0, null],
    ]);
  });

  it("a stage's duration runs from its first task's launch, as the History Server's stage table measures it (not from its submission)", async () => {
    // 300 task ends: read by the searches first, then by the layouts they learn; the earliest launch is the 200th's.
    const tasks = Array.from({ length: 300 }, (_, i) => taskEnd({ launch: T0 + (i === 199 ? 5_000 : 6_000 + i), finish: T0 + 8_000 + i }));
    const { summaries } = await samePaths([stageSubmitted(0, 0, { 'Submission Time': T0 }), ...tasks, stageCompleted(0, 0, { 'Submission Time': T0, 'Completion Time': T0 + 9_000 })]);
    // Submitted at T0, waiting 5 s for executors: the stage ran 4 s.
    expect(stage(summaries, 0)).toMatchObject({ submission_time: new Date(T0).toISOString(), duration_ms: 4_000 });
    // No task end: from its submission.
    const none = await samePaths([stageSubmitted(0, 0, { 'Submission Time': T0 }), stageCompleted(0, 0, { 'Submission Time': T0, 'Completion Time': T0 + 9_000 })]);
    expect(stage(none.summaries, 0)).toMatchObject({ duration_ms: 9_000 });
  });

  it('tasks counted as the History Server counts them; metrics summed (not for Resubmitted); peak is the largest task peak', async () => {
    const { summaries, parses } = await samePaths([
      taskEnd({ metrics: metrics({ run: 10, gc: 1, cpu: 2_500_000, remote: 5, local: 6, written: 7, input: 8, output: 9, mem: 10, disk: 11, peak: 100 }) }),
      taskEnd({ reason: { Reason: 'TaskKilled', 'Kill Reason': 'x' }, metrics: metrics({ run: 20, gc: 2, cpu: 600_000, peak: 300 }) }),
      taskEnd({ reason: { Reason: 'TaskCommitDenied', 'Job ID': 1, 'Partition ID': 1, 'Attempt Number': 0 }, metrics: metrics({ run: 1 }) }),
      taskEnd({ reason: { Reason: 'ExecutorLostFailure', 'Executor ID': '9', 'Exit Caused By App': true }, metrics: metrics({ run: 30, peak: 200 }) }),
      taskEnd({ reason: { Reason: 'FetchFailed', 'Block Manager Address': { 'Executor ID': '8', Host: 'h8', Port: 1 }, 'Shuffle ID': 0 }, metrics: null }),
      taskEnd({ reason: { Reason: 'Resubmitted' }, metrics: metrics({ run: 1000, gc: 1000, remote: 1000 }) }),
      taskEnd({ stage: 1, metrics: metrics({ run: -1, gc: -1 }) }),
    ]);
    expect(parses).toBe(2);
    expect(stage(summaries, 0)).toMatchObject({
      status: 'active',
      num_tasks: 6,
      failed_tasks: 3,
      killed_tasks: 2,
      executor_run_time_ms: 61,
      gc_time_ms: 3,
      cpu_time_ms: 3,
      shuffle_read_bytes: 11,
      shuffle_write_bytes: 7,
      input_bytes: 8,
      output_bytes: 9,
      memory_spilled_bytes: 10,
      disk_spilled_bytes: 11,
      peak_execution_memory_bytes: 300,
    });
    // Spark's -1 (unknown) adds nothing; a task without "Peak Execution Memory" leaves it unknown.
    expect(stage(summaries, 1)).toMatchObject({ executor_run_time_ms: 0, gc_time_ms: 0, peak_execution_memory_bytes: null });
    // The "Executor ID"s inside failure reasons name other executors, not where the task ran.
    expect(summaries!.executors.map((e) => [e.executor_id, e.total_tasks, e.failed_tasks, e.gc_time_ms, e.shuffle_read_bytes])).toEqual([['1', 7, 3, 3, 11]]);
  });

  it('task-duration quantiles: Finish Time - Launch Time of successful tasks only, at Spark’s indexes, exact for small stages', async () => {
    const durations = [50, 10, 40, 20, 30, 70, 60];
    const lines = durations.map((d) => taskEnd({ finish: T0 + 1000 + d }));
    lines.push(taskEnd({ reason: { Reason: 'TaskKilled' }, finish: T0 + 1000 + 9999 }), taskEnd({ reason: { Reason: 'ExceptionFailure' }, finish: T0 + 1000 + 1 }));
    const { summaries } = await samePaths(lines);
    const sorted = [...durations].sort((a, b) => a - b);
    expect(stage(summaries, 0).task_duration_ms).toEqual({ min: 10, p25: sparkQuantile(sorted, 0.25), p50: sparkQuantile(sorted, 0.5), p75: sparkQuantile(sorted, 0.75), max: 70 });
    expect(stage(summaries, 0).task_duration_ms).toEqual({ min: 10, p25: 20, p50: 40, p75: 60, max: 70 });
  });

  it('a stage with only failed tasks has no durations', async () => {
    const { summaries } = await samePaths([taskEnd({ reason: { Reason: 'ExceptionFailure' } })]);
    expect(stage(summaries, 0)).toMatchObject({ num_tasks: 1, failed_tasks: 1, task_duration_ms: null });
  });
});

describe('executors', () => {
  it('added, removed, cores and host; the driver is left out beside executors, listed when alone (local mode)', async () => {
    const { summaries } = await samePaths([
      j({ Event: 'SparkListenerBlockManagerAdded', 'Block Manager ID': { 'Executor ID': 'driver', Host: 'drv', Port: 1 }, 'Maximum Memory': 1, Timestamp: T0 + 1 }),
      executorAdded('1', 4, 'h1'),
      executorAdded('2', 8, 'h2'),
      j({ Event: 'SparkListenerBlockManagerAdded', 'Block Manager ID': { 'Executor ID': '2', Host: 'other', Port: 1 }, 'Maximum Memory': 1, Timestamp: T0 + 99 }),
      j({ Event: 'SparkListenerExecutorRemoved', Timestamp: T0 + 5000, 'Executor ID': '2', 'Removed Reason': 'lost worker' }),
      taskEnd({ executor: '2', metrics: metrics({ gc: 4, written: 3 }) }),
      taskEnd({ executor: 'driver' }),
    ]);
    expect(summaries!.executors).toEqual([
      { executor_id: '1', host: 'h1', total_cores: 4, add_time: new Date(T0 + 10).toISOString(), remove_time: null, remove_reason: null, total_tasks: 0, failed_tasks: 0, gc_time_ms: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 0 },
      // The task end after its removal is not its own (the History Server updates live executors only).
      { executor_id: '2', host: 'h2', total_cores: 8, add_time: new Date(T0 + 10).toISOString(), remove_time: new Date(T0 + 5000).toISOString(), remove_reason: 'lost worker', total_tasks: 0, failed_tasks: 0, gc_time_ms: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 0 },
    ]);
    const local = await samePaths([executorAdded('driver', 2, 'localhost'), taskEnd({ executor: 'driver' })]);
    expect(local.summaries!.executors.map((e) => [e.executor_id, e.total_cores, e.total_tasks])).toEqual([['driver', 2, 1]]);
  });

  it('an executor removed and added again under its id is a new executor: its removal and counts start anew (a review)', async () => {
    const { summaries } = await samePaths([
      executorAdded('1', 4, 'h1'),
      executorAdded('2', 8, 'h2'),
      taskEnd({ executor: '2', metrics: metrics({ gc: 4, written: 3 }) }),
      j({ Event: 'SparkListenerExecutorRemoved', Timestamp: T0 + 5000, 'Executor ID': '2', 'Removed Reason': 'lost worker' }),
      // ExecutorLostFailure ends posted after the removal: not counted.
      taskEnd({ executor: '2', reason: { Reason: 'ExecutorLostFailure', 'Executor ID': '2', 'Exit Caused By App': true } }),
      j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0 + 6000, 'Executor ID': '2', 'Executor Info': { Host: 'h3', 'Total Cores': 2 } }),
      taskEnd({ executor: '2', metrics: metrics({ gc: 5, written: 7 }) }),
    ]);
    expect(summaries!.executors.find((e) => e.executor_id === '2')).toEqual({ executor_id: '2', host: 'h3', total_cores: 2, add_time: new Date(T0 + 6000).toISOString(), remove_time: null, remove_reason: null, total_tasks: 1, failed_tasks: 0, gc_time_ms: 5, shuffle_read_bytes: 0, shuffle_write_bytes: 7 });
  });
});

describe('the byte path and the JSON.parse path give the same summaries', () => {
  it('odd but valid lines: escapes in names and executor ids, Spark 1.0-1.1 without attempts, keys out of Spark’s order, nulls, odd numbers', async () => {
    await samePaths([
      stageSubmitted(0, 0, { 'Stage Name': 'count at "x\\y" \u00e9', 'Submission Time': T0 }),
      stageCompleted(0, 0, { 'Stage Name': null, 'Submission Time': null, 'Completion Time': T0 + 5, 'Failure Reason': null }),
      j({ Event: 'SparkListenerStageCompleted', 'Stage Info': { 'Stage ID': 4, 'Stage Attempt ID': 0, Accumulables: [], 'Failure Reason': 'after the accumulables' } }),
      j({ Event: 'SparkListenerStageCompleted', 'Stage Info': { 'Stage ID': 5, 'Stage Attempt ID': 0, 'Stage Name': 7, 'Submission Time': 1.5 } }),
      taskEnd({ executor: 'ex"1\\' }),
      taskEnd({ executor: 'ex"1\\' }),
      taskEnd({ executor: 'é' }),
      // A failure's Task Info is searched back from the metrics: a string spelling it is not it.
      taskEnd({ reason: { Reason: 'ExceptionFailure', Description: '"Task Info":{"Launch Time":1,"Executor ID":"x","Finish Time":2}' }, executor: 'f1' }),
      taskEnd({ reason: { Reason: 'ExceptionFailure' }, info: { 'Task ID': 2, 'Launch Time': T0, 'Executor ID': 'f2', 'Finish Time': T0 + 7, Accumulables: [{ Name: 'a', Value: '"Task Info":{"Launch Time":1,"Executor ID":"y","Finish Time":2}' }] } }),
      taskEnd({ attempt: null, stage: 3 }),
      taskEnd({ info: { 'Task ID': 1, Accumulables: [], 'Finish Time': T0 + 50, 'Executor ID': '7', 'Launch Time': T0 } }),
      taskEnd({ info: { 'Task ID': 1, 'Launch Time': 1e3, 'Executor ID': 5, 'Finish Time': null } }),
      taskEnd({ info: { 'Task ID': 1, 'Launch Time': T0, 'Executor ID': null, 'Finish Time': T0 - 5 } }),
      taskEnd({ info: {} }),
      taskEnd({ metrics: { 'Executor Run Time': 1.5, 'JVM GC Time': '3', 'Peak Execution Memory': 2 ** 60 } }),
      j({ Event: 'SparkListenerJobStart', 'Job ID': 1, 'Stage Infos': [{ 'Stage ID': 9, 'RDD Info': [], 'Stage Name': 'late' }, { 'Stage ID': null }, { 'Stage Name': 'no id' }], Properties: {} }),
      j({ Event: 'SparkListenerJobStart', 'Job ID': 2, 'Stage IDs': [10] }),
    ]);
  });

  it('stage names given again from the last names read (RecentNames): repeats, same lengths, short, non-ASCII, escaped, more names than kept', async () => {
    const names = ['count at A.scala:1', 'count at A.scala:2', 'count at A.scala:1', 'ab', 'ab', 'é at B', 'é at B', 'x\\y"z', 'x\\y"z', 'abcd', 'abce', 'bbcd', 'n1 at C', 'n2 at C', 'n3 at C', 'n4 at C', 'n5 at C', 'count at A.scala:1', 'abcd'];
    const lines = names.flatMap((name, id) => [stageSubmitted(id, 0, { 'Stage Name': name, 'Submission Time': T0 }), stageCompleted(id, 0, { 'Stage Name': name, 'Submission Time': T0, 'Completion Time': T0 + 1 })]);
    const { summaries, parses } = await samePaths(lines);
    // The application start and end, and the escaped name of four lines (decoded by JSON.parse, never kept).
    expect(parses).toBe(6);
    expect(summaries!.stages.map((s) => s.name)).toEqual(names);
  });

  it('the record’s stage counts, with summaries from the tracker’s slots: the same as without them, for ids Spark writes and any others', async () => {
    const completed = (id: number, attempt: number, failed: boolean): string => stageCompleted(id, attempt, { 'Submission Time': T0, 'Completion Time': T0 + 1, ...(failed ? { 'Failure Reason': 'boom' } : {}) });
    const lines = [
      completed(0, 0, true),
      completed(0, 0, false),
      completed(1, 0, false),
      completed(1, 1, true),
      completed(1, 2 ** 21, true),
      completed(2 ** 33, 0, true),
      completed(1.5, 5, true),
      completed(1, 5.5, false),
      completed(-1, 0, true),
      completed(-0, 0, true),
      completed(3, 0, false),
      completed(3, 0, true),
      stageSubmitted(4, 0),
      jobStart([5]),
    ];
    const file = path.join(tempDir(), 'app-counts');
    writeFileSync(file, `${[appStart, ...lines, appEnd].join('\n')}\n`);
    const unit: LogUnit = { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: 'app-counts', inProgress: false, compacted: false };
    const full = await readUnit(unit, { source: 's' });
    const bare = await readUnit(unit, { source: 's', summaries: false });
    expect(full.record).toEqual(bare.record);
    // 0.0 (latest ok), 1.0, 1.1, 1.2^21, 2^33.0, "1.5.5" (1.5 attempt 5 and 1 attempt 5.5 spell the same key), -1.0, 0.0 again as -0, 3.0 (latest failed).
    expect([full.record!.total_stages, full.record!.failed_stages]).toEqual([8, 6]);
  });

  it('generated logs, whole', async () => {
    for (const seed of [1, 2, 3]) {
      const { text } = eventLogText({ appId: 'app-sum', seed, stages: 4, tasksPerStage: 30 });
      const lines = text.trim().split('\n');
      const bytes = await readText(`${lines.join('\n')}\n`);
      const parsed = await readText(`${lines.map((l) => `${l} `).join('\n')}\n`);
      expect(bytes.summaries!.stages.length).toBeGreaterThan(0);
      expect(bytes.summaries).toEqual(parsed.summaries);
    }
  });
});

describeShared('the two paths agree on Spark’s own test logs', () => {
  it('every log in spark-events: the same summaries read as written and with each line forced through JSON.parse', async () => {
    const dir = sharedPath('spark-events', 'spark-events');
    const padded = tempDir();
    for (const name of readdirSync(dir)) {
      const from = path.join(dir, name);
      if (statSync(from).isDirectory()) {
        mkdirSync(path.join(padded, name));
        for (const f of readdirSync(from)) copyFileSync(path.join(from, f), path.join(padded, name, f));
        continue;
      }
      const text = readFileSync(from, 'utf8');
      writeFileSync(path.join(padded, name), text.replace(/\}\n/g, '} \n'));
    }
    const key = (a: { record: { app_id: string; attempt_id: string | null } }): string => `${a.record.app_id}/${a.record.attempt_id ?? ''}`;
    const asWritten = (await collectAll({ path: dir, source: 's' })).apps.sort((a, b) => key(a).localeCompare(key(b)));
    const parsed = (await collectAll({ path: padded, source: 's' })).apps.sort((a, b) => key(a).localeCompare(key(b)));
    expect(asWritten.length).toBeGreaterThan(10);
    expect(asWritten.map((a) => [key(a), a.summaries])).toEqual(parsed.map((a) => [key(a), a.summaries]));
    expect(asWritten.filter((a) => a.summaries!.stages.length > 0).length).toBeGreaterThan(10);
  });
});

describeShared('without summaries (the bench measures their cost so)', () => {
  it('the same records and problems as with them, and no stages or executors: Spark’s own test logs and a generated one', async () => {
    const dir = sharedPath('spark-events', 'spark-events');
    const files = readdirSync(dir).filter((name) => !statSync(path.join(dir, name)).isDirectory()).map((name) => path.join(dir, name));
    const generated = path.join(tempDir(), 'app-gen');
    writeFileSync(generated, eventLogText({ appId: 'app-gen', seed: 3, stages: 6, tasksPerStage: 90 }).text);
    files.push(generated);
    expect(files.length).toBeGreaterThan(8);
    let withStages = 0;
    for (const file of files) {
      const unit: LogUnit = { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: 'x', inProgress: false, compacted: false };
      const full = await readUnit(unit, { source: 's' });
      const bare = await readUnit(unit, { source: 's', summaries: false });
      expect(bare.record, file).toEqual(full.record);
      expect(bare.problems, file).toEqual(full.problems);
      expect(bare.summaries, file).toEqual({ stages: [], executors: [] });
      if (full.summaries!.stages.length > 0) withStages++;
    }
    expect(withStages).toBeGreaterThan(8);
  });
});

describe('the task-duration sketch', () => {
  it(`is exact up to ${EXACT_DURATIONS} durations`, () => {
    const next = random(7);
    const values = Array.from({ length: EXACT_DURATIONS }, () => Math.floor(next() * 5000));
    const sketch = new DurationSketch();
    for (const v of values) sketch.add(v);
    const sorted = [...values].sort((a, b) => a - b);
    expect(sketch.quantiles()).toEqual({ min: sorted[0], p25: sparkQuantile(sorted, 0.25), p50: sparkQuantile(sorted, 0.5), p75: sparkQuantile(sorted, 0.75), max: sorted.at(-1) });
    // At every count, across the exact values' growth (2, then 32 cells, then EXACT_DURATIONS), with a double among them.
    const growing = new DurationSketch();
    for (let n = 1; n <= EXACT_DURATIONS; n++) {
      growing.add(n === 40 ? 2 ** 33 + 1 : values[n - 1]!);
      const some = values.slice(0, n).map((v, i) => (i === 39 ? 2 ** 33 + 1 : v)).sort((a, b) => a - b);
      expect(growing.quantiles(), `${n} durations`).toEqual({ min: some[0], p25: sparkQuantile(some, 0.25), p50: sparkQuantile(some, 0.5), p75: sparkQuantile(some, 0.75), max: some.at(-1) });
    }
  });

  it(`past that, every quantile is within ${SKETCH_ALPHA * 100}% (+ 0.5 ms rounding) of the exact one; min and max stay exact`, () => {
    const shapes: [string, (r: () => number) => number][] = [
      ['uniform', (r) => Math.floor(r() * 100_000)],
      ['log-normal (skewed)', (r) => Math.floor(Math.exp(6 + 2 * Math.sqrt(-2 * Math.log(r() || 1e-9)) * Math.cos(2 * Math.PI * r())))],
      ['mostly tiny, some zeros, a long tail', (r) => (r() < 0.1 ? 0 : r() < 0.95 ? Math.floor(r() * 20) : Math.floor(r() * 10_000_000))],
    ];
    for (const [name, draw] of shapes) {
      for (const n of [EXACT_DURATIONS + 1, 1000, 50_000]) {
        const next = random(n);
        const values = Array.from({ length: n }, () => draw(next));
        const sketch = new DurationSketch();
        for (const v of values) sketch.add(v);
        const sorted = [...values].sort((a, b) => a - b);
        const q = sketch.quantiles()!;
        expect(q.min, name).toBe(sorted[0]);
        expect(q.max, name).toBe(sorted.at(-1));
        for (const [p, got] of [[0.25, q.p25], [0.5, q.p50], [0.75, q.p75]] as const) {
          const exact = sparkQuantile(sorted, p);
          expect(Math.abs(got - exact), `${name}, n=${n}, p${p * 100}: ${got} vs ${exact}`).toBeLessThanOrEqual(SKETCH_ALPHA * exact + 0.5);
        }
      }
    }
  });

  it('holds a bounded number of cells: 200,000 durations over the whole range of a double', () => {
    const sketch = new DurationSketch();
    const next = random(3);
    let most = 0;
    for (let i = 0; i < 200_000; i++) {
      sketch.add(Math.floor(Math.exp(next() * Math.log(Number.MAX_SAFE_INTEGER))));
      most = Math.max(most, sketch.cells);
    }
    expect(sketch.count).toBe(200_000);
    expect(most).toBeLessThanOrEqual(MAX_BUCKETS);
    // 64 buckets per power of two up to 2^53 ms: 3,456 cells of 8 bytes at most, per stage attempt.
    expect(MAX_BUCKETS).toBe(3456);
  });

  it('200,000 tasks in one stage of a log: some hundred cells, and quantiles within the bound', () => {
    const replay = new AppReplay({ appId: 'big', source: 'test', inProgress: false, tags: {} });
    replay.beginFile('big');
    const next = random(11);
    const durations: number[] = [];
    const feed = (line: string, n: number): void => {
      const b = Buffer.from(line);
      replay.line(b, 0, b.length, n);
    };
    feed(appStart, 1);
    for (let i = 0; i < 200_000; i++) {
      const d = 100 + Math.floor(next() * next() * 60_000);
      durations.push(d);
      feed(taskEnd({ executor: String(i % 50), finish: T0 + 1000 + d, metrics: metrics({ run: d }) }), i + 2);
    }
    replay.endFile();
    // Asked before summaries(), which rewrites the stage's slot as its row.
    const cells = (replay as unknown as { tracker: { durationCells(id: number, attempt: number): number } }).tracker.durationCells(0, 0);
    const s = replay.summaries().stages[0]!;
    expect(s.num_tasks).toBe(200_000);
    // 100 ms .. 60 s at 64 buckets per doubling: about 590 buckets, however many tasks.
    expect(cells).toBeLessThan(700);
    const sorted = durations.sort((a, b) => a - b);
    const q = s.task_duration_ms!;
    expect([q.min, q.max]).toEqual([sorted[0], sorted.at(-1)]);
    for (const [p, got] of [[0.25, q.p25], [0.5, q.p50], [0.75, q.p75]] as const) expect(Math.abs(got - sparkQuantile(sorted, p))).toBeLessThanOrEqual(SKETCH_ALPHA * sparkQuantile(sorted, p) + 0.5);
    expect(replay.summaries().executors).toHaveLength(50);
  });
});

describe('stage times', () => {
  it('IsoTimes and isoTime equal toISOString: 1970, leap days, centuries, the year 9999, 100,000 random times and 100,000 in a row on a few days; null for null and refused times', () => {
    const edges = [0, 1, 951_782_400_000, 951_868_799_999, 4_107_542_400_000, 253_402_300_799_999, 1_709_164_800_000, 1_422_981_780_906];
    let seed = 5;
    const next = (): number => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 100_000; i++) edges.push(Math.floor(next() * 253_402_300_799_999));
    // Times a few seconds apart across midnights and a leap day, as a log's stages are: the kept day changes under way.
    for (let ms = 951_782_400_000 - 3_600_000, i = 0; i < 100_000; i++, ms += Math.floor(next() * 5_000)) edges.push(ms);
    const dated = (ms: number | null): string | null => (ms === null || timeFault(ms) !== null ? null : new Date(ms).toISOString());
    const times = new IsoTimes();
    // isoTime keeps one IsoTimes for the thread: its times and those of another IsoTimes interleave here.
    for (const ms of edges) {
      expect(times.of(ms), String(ms)).toBe(dated(ms));
      expect(isoTime(ms + 1_000), String(ms + 1_000)).toBe(dated(ms + 1_000));
    }
    for (const ms of [null, -1, 1.5, 253_402_300_800_000, 0, Number.NaN, Infinity]) {
      expect(times.of(ms)).toBe(dated(ms));
      expect(isoTime(ms)).toBe(dated(ms));
    }
  });
});

describe('through the worker pool', () => {
  it('summaries arrive on CollectedApp as read on this thread, as stage tables (one of several chunks of slots)', async () => {
    const dir = tempDir();
    for (let i = 0; i < 6; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 3, tasksPerStage: 20 }).text);
    writeFileSync(path.join(dir, 'app-many'), eventLogText({ appId: 'app-many', seed: 9, stages: 2_500, tasksPerStage: 1 }).text);
    const pooled = await collectAll({ path: dir, concurrency: 2 }, { workerScript: WORKER });
    const inline = await collectAll({ path: dir, concurrency: 1 });
    const byId = (r: typeof pooled): unknown[] => [...r.apps].sort((a, b) => a.record.app_id.localeCompare(b.record.app_id)).map((a) => [a.record.app_id, a.summaries]);
    expect(pooled.apps).toHaveLength(7);
    expect(pooled.apps.map((a) => a.summaries!.stages.length).sort((a, b) => a - b)).toEqual([3, 3, 3, 3, 3, 3, 2_500]);
    expect(pooled.apps.every((a) => stageTableOf(a.summaries!) !== undefined)).toBe(true);
    expect(byId(pooled)).toEqual(byId(inline));
  });
});
