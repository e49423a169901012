/**
 * Conformance of the event-log stage and executor summaries (issue 15, src/collectors/eventlog/summaries.ts)
 * with Apache Spark's own History Server answers: `HistoryServerExpectations/*stage_list*` (the REST
 * `/stages` list, also filtered by `?status=`) and `executor_list_json_expectation.json` /
 * `executor_node_excludeOnFailure_expectation.json` (`/executors`), for the logs they were made from
 * (URL_MAP.tsv names the app of each). Every expected number is read from those files here.
 *
 * Stage attempt, REST StageData -> StageSummary:
 * - stageId, attemptId -> stage_id, attempt_id; status (upper case) -> status (lower case); name -> name
 * - submissionTime, completionTime ("…GMT") -> submission_time, completion_time (ISO-8601 "…Z");
 *   duration_ms = completion - firstTaskLaunchedTime, as the History Server's stage table measures
 *   it (StageTable.scala; the submission time counts the wait for executors, SPARK-10930)
 * - numCompleteTasks + numFailedTasks + numKilledTasks -> num_tasks (task attempts that ended; REST's
 *   numTasks is the stage's partition count, not what ran)
 * - numFailedTasks -> failed_tasks; numKilledTasks -> killed_tasks
 * - inputBytes, outputBytes, shuffleReadBytes (remote + local), shuffleWriteBytes, memoryBytesSpilled,
 *   diskBytesSpilled, executorRunTime, jvmGcTime -> input_bytes, output_bytes, shuffle_read_bytes,
 *   shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, executor_run_time_ms, gc_time_ms
 * - floor(executorCpuTime / 1e6) -> cpu_time_ms (REST and the log both give nanoseconds), with one
 *   deliberate difference: where Spark never measured CPU time (before 2.1: no task end carries
 *   "Executor CPU Time", as in local-1422981780767, Spark 1.2), REST says executorCpuTime 0 and we
 *   say null (unknown), as the record does (record/summaries.ts stageCpuKnown; issue 12 item 6). Asserted below.
 * - peakExecutionMemory -> peak_execution_memory_bytes, with two deliberate differences: REST sums
 *   the task peaks of a stage (LiveEntityHelpers.addMetrics adds every metric), we keep the largest
 *   task peak, since a sum of peaks is no peak; and REST says 0 where the log never carries "Peak
 *   Execution Memory" (logs before Spark 1.5), we say null (unknown). Both asserted below.
 * Skipped stage attempts: the expectations here list none (their app, local-1422981780767, skips no
 * stage), so what Spark reports for them is taken from the History Server's code, applied to the log
 * by JSON.parse here: AppStatusListener.onJobStart makes a stage of each of a job's Stage Infos,
 * keyed by (Stage ID, Stage Attempt ID) and named by its Stage Name; onJobEnd marks those still
 * PENDING (never submitted) SKIPPED, with no times and no tasks. We match it: status `skipped`, the
 * Stage Info's name and attempt, no times, num_tasks 0 (REST's numTasks is the partition count).
 * Executor, REST ExecutorSummary -> ExecutorSummary:
 * - id -> executor_id; the host of hostPort -> host; totalCores -> total_cores; addTime, removeTime,
 *   removeReason -> add_time, remove_time, remove_reason
 * - totalTasks -> total_tasks (REST counts task starts, we count task ends: equal once every task
 *   ended, as in these logs); failedTasks -> failed_tasks; totalGCTime -> gc_time_ms;
 *   totalShuffleRead, totalShuffleWrite -> shuffle_read_bytes, shuffle_write_bytes
 * - Differences: REST's totalGCTime of the Spark 1.2 local-mode driver is 0 though its stage list
 *   counts 352 ms of GC on the same tasks (asserted below: we give the tasks' sum); REST lists the driver always, we list it only when it is the only executor (local
 *   mode; issue 15), so the cluster app's driver is asserted absent; a driver known only from its
 *   BlockManagerAdded (logs before Spark 1.3 have no ExecutorAdded) has totalCores 0 in REST, which
 *   is "not known" there: we say null.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import type { CollectedApp } from '../src/collectors/contract';
import type { ExecutorSummary, StageSummary } from '../src/collectors/record/summaries';
import { describeShared, sharedPath } from './support/shared';

const LOGS = sharedPath('spark-events', 'spark-events');
const EXPECTATIONS = sharedPath('spark-events', 'HistoryServerExpectations');

type Json = Record<string, unknown>;

function expectation(file: string): Json[] {
  return JSON.parse(readFileSync(path.join(EXPECTATIONS, file), 'utf8')) as Json[];
}

/** The app id a REST path of URL_MAP.tsv names, by expectation file. */
function appOf(file: string): string {
  const line = readFileSync(path.join(EXPECTATIONS, 'URL_MAP.tsv'), 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${file}\t`));
  if (line === undefined) throw new Error(`${file} is not in URL_MAP.tsv`);
  return /applications\/([^/?]+)/.exec(line.split('\t')[1]!)![1]!;
}

/** "2015-02-03T16:43:07.191GMT" -> "2015-02-03T16:43:07.191Z"; absent -> null. */
function restTime(v: unknown): string | null {
  return typeof v === 'string' ? new Date(v.replace(/GMT$/, 'Z')).toISOString() : null;
}

async function read(appId: string): Promise<CollectedApp> {
  const { apps } = await collectAll({ path: path.join(LOGS, appId), source: 'conformance' });
  expect(apps).toHaveLength(1);
  expect(apps[0]!.summaries).toBeDefined();
  return apps[0]!;
}

/** What our stage attempt must say, from REST's, by the mapping above (peak memory compared apart). */
function expectedStage(s: Json): Omit<StageSummary, 'peak_execution_memory_bytes' | 'task_duration_ms'> {
  const n = (k: string): number => s[k] as number;
  const submitted = restTime(s.submissionTime);
  const completed = restTime(s.completionTime);
  const firstLaunch = restTime(s.firstTaskLaunchedTime);
  return {
    stage_id: n('stageId'),
    attempt_id: n('attemptId'),
    name: s.name as string,
    status: (s.status as string).toLowerCase() as StageSummary['status'],
    submission_time: submitted,
    completion_time: completed,
    duration_ms: firstLaunch !== null && completed !== null ? Date.parse(completed) - Date.parse(firstLaunch) : null,
    num_tasks: n('numCompleteTasks') + n('numFailedTasks') + n('numKilledTasks'),
    failed_tasks: n('numFailedTasks'),
    killed_tasks: n('numKilledTasks'),
    input_bytes: n('inputBytes'),
    output_bytes: n('outputBytes'),
    shuffle_read_bytes: n('shuffleReadBytes'),
    shuffle_write_bytes: n('shuffleWriteBytes'),
    memory_spilled_bytes: n('memoryBytesSpilled'),
    disk_spilled_bytes: n('diskBytesSpilled'),
    executor_run_time_ms: n('executorRunTime'),
    cpu_time_ms: Math.floor(n('executorCpuTime') / 1e6),
    gc_time_ms: n('jvmGcTime'),
  };
}

function expectedExecutor(e: Json): Omit<ExecutorSummary, 'total_cores'> {
  const n = (k: string): number => e[k] as number;
  return {
    executor_id: e.id as string,
    host: (e.hostPort as string).replace(/:\d+$/, ''),
    add_time: restTime(e.addTime),
    remove_time: restTime(e.removeTime),
    remove_reason: (e.removeReason as string | undefined) ?? null,
    total_tasks: n('totalTasks'),
    failed_tasks: n('failedTasks'),
    gc_time_ms: n('totalGCTime'),
    shuffle_read_bytes: n('totalShuffleRead'),
    shuffle_write_bytes: n('totalShuffleWrite'),
  };
}

describeShared('stage and executor summaries equal Spark’s History Server lists', () => {
  for (const file of ['stage_list_json_expectation.json', 'complete_stage_list_json_expectation.json', 'failed_stage_list_json_expectation.json']) {
    it(`${file}: every stage attempt, field by field`, async () => {
      const app = await read(appOf(file));
      const rest = expectation(file);
      const status = /^(complete|failed)_/.exec(file)?.[1];
      const ours = app.summaries!.stages.filter((s) => status === undefined || s.status === status);
      expect(ours.map((s) => `${s.stage_id}.${s.attempt_id}`).sort()).toEqual(rest.map((s) => `${String(s.stageId)}.${String(s.attemptId)}`).sort());
      expect(rest.length).toBeGreaterThan(0);
      for (const r of rest) {
        const s = ours.find((o) => o.stage_id === r.stageId && o.attempt_id === r.attemptId)!;
        const { peak_execution_memory_bytes: peak, task_duration_ms: durations, cpu_time_ms: cpu, ...rest } = s;
        const { cpu_time_ms: restCpu, ...others } = expectedStage(r);
        expect(rest).toEqual(others);
        // Deliberate difference: this Spark 1.2 log's task ends never carry "Executor CPU Time" (Spark
        // measures it from 2.1); REST says 0, we say unknown, as the record does.
        expect(r.executorCpuTime).toBe(0);
        expect(restCpu).toBe(0);
        expect(app.record.cpu_time_ms).toBeNull();
        expect(app.record.quality).toContain('missing:cpu_time_ms');
        expect(cpu).toBeNull();
        // Deliberate difference: this Spark 1.2 log never carries "Peak Execution Memory"; REST says 0, we say unknown.
        expect(r.peakExecutionMemory).toBe(0);
        expect(peak).toBeNull();
        // Every stage here had successful tasks: their durations are known.
        expect(durations).not.toBeNull();
        expect(durations!.min).toBeLessThanOrEqual(durations!.p50);
        expect(durations!.p50).toBeLessThanOrEqual(durations!.max);
      }
    });
  }

  it('skipped stages: named and keyed as the History Server makes them from the job starts’ Stage Infos (Spark 1.2 and 3.5 logs)', async () => {
    // The shared expectations list no skipped stage: the History Server's rule is applied to the logs below.
    for (const file of ['stage_list_json_expectation.json', 'complete_stage_list_json_expectation.json', 'failed_stage_list_json_expectation.json']) {
      expect(expectation(file).filter((s) => s.status === 'SKIPPED')).toEqual([]);
    }
    const logs = [
      path.join(LOGS, 'local-1422981759269'),
      path.join(LOGS, 'local-1425081759269'),
      sharedPath('real-logs', 'eventlog_v2_spark-110be3a8424d4a2789cb88134418217b'),
      sharedPath('real-logs', 'eventlog_v2_spark-cc4d115f011443d787f03a71a476a745'),
    ];
    let skippedSeen = 0;
    for (const log of logs) {
      const { apps } = await collectAll({ path: log, source: 'conformance' });
      expect(apps).toHaveLength(1);
      const files = statSync(log).isDirectory() ? readdirSync(log).filter((f) => f.startsWith('events_')).map((f) => path.join(log, f)) : [log];
      const events = files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Json));
      // AppStatusListener: a stage per Stage Info of each job start (by id and attempt), ACTIVE once submitted.
      const pending = new Map<string, { stage_id: number; attempt_id: number; name: string }>();
      const submitted = new Set<string>();
      for (const e of events) {
        if (e.Event === 'SparkListenerJobStart') {
          for (const info of e['Stage Infos'] as Json[]) pending.set(`${String(info['Stage ID'])}.${String(info['Stage Attempt ID'])}`, { stage_id: info['Stage ID'] as number, attempt_id: info['Stage Attempt ID'] as number, name: info['Stage Name'] as string });
        } else if (e.Event === 'SparkListenerStageSubmitted' || e.Event === 'SparkListenerStageCompleted') {
          const info = e['Stage Info'] as Json;
          submitted.add(`${String(info['Stage ID'])}.${String(info['Stage Attempt ID'])}`);
        }
      }
      const expected = [...pending].filter(([key]) => !submitted.has(key)).map(([, s]) => s);
      expect(expected.length).toBeGreaterThan(0);
      skippedSeen += expected.length;
      const ours = apps[0]!.summaries!.stages.filter((s) => s.status === 'skipped');
      expect(ours.map(({ stage_id, attempt_id, name }) => ({ stage_id, attempt_id, name }))).toEqual(expected.sort((a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id));
      for (const s of ours) expect(s).toMatchObject({ submission_time: null, completion_time: null, duration_ms: null, num_tasks: 0, task_duration_ms: null });
    }
    // Spark 1.2: stage 3 "map at <console>:14" of each log; Spark 3.5: stages 3 and 6 of each NewYorkTaxiData run.
    expect(skippedSeen).toBe(6);
  });

  it('executor_list_json_expectation.json: the driver of a local-mode app, the only executor', async () => {
    const file = 'executor_list_json_expectation.json';
    const app = await read(appOf(file));
    const rest = expectation(file);
    expect(rest).toHaveLength(1);
    const ours = app.summaries!.executors;
    expect(ours.map((e) => e.executor_id)).toEqual(['driver']);
    const { total_cores: cores, gc_time_ms: gc, ...others } = ours[0]!;
    expect({ ...others, gc_time_ms: 0 }).toEqual(expectedExecutor(rest[0]!));
    // Difference: REST's executor list says totalGCTime 0 for this Spark 1.2 log, while REST's own
    // stage list sums jvmGcTime over the same 32 tasks (all on this driver) to 352 ms.
    // AppStatusListener.onTaskEnd adds each task's jvmGCTime to its executor, so the executor
    // expectation looks older than that code; we keep the executor consistent with its stages.
    expect(rest[0]!.totalGCTime).toBe(0);
    const stageGc = expectation('stage_list_json_expectation.json').reduce((n, s) => n + (s.jvmGcTime as number), 0);
    expect(stageGc).toBe(352);
    expect(gc).toBe(stageGc);
    // Deliberate difference: known only from its BlockManagerAdded (Spark 1.2), REST says 0 cores, we say unknown.
    expect(rest[0]!.totalCores).toBe(0);
    expect(cores).toBeNull();
  });

  it('executor_node_excludeOnFailure_expectation.json: every executor of a cluster app; the driver is left out', async () => {
    const file = 'executor_node_excludeOnFailure_expectation.json';
    const app = await read(appOf(file));
    const rest = expectation(file);
    const ours = app.summaries!.executors;
    // Deliberate difference: REST lists the driver (with no task) beside the executors; we do not.
    const driver = rest.find((e) => e.id === 'driver')!;
    expect(driver.totalTasks).toBe(0);
    const executors = rest.filter((e) => e.id !== 'driver');
    expect(ours.map((e) => e.executor_id).sort()).toEqual(executors.map((e) => e.id as string).sort());
    for (const r of executors) {
      const e = ours.find((o) => o.executor_id === r.id)!;
      expect(e).toEqual({ ...expectedExecutor(r), total_cores: r.totalCores });
    }
    // The failures REST counts per executor are here too (two executors failed every task).
    expect(ours.filter((e) => e.failed_tasks > 0).map((e) => e.executor_id).sort()).toEqual(['0', '2']);
  });

  it('the record’s totals are the sums of its stage attempts (every task end belongs to one)', async () => {
    for (const appId of ['local-1422981780767', 'app-20161116163331-0000', 'application_1553914137147_0018', 'eventlog_v2_local-1766844910796']) {
      const { record, summaries } = await read(appId);
      const sum = (k: keyof StageSummary): number => summaries!.stages.reduce((n, s) => n + (s[k] as number), 0);
      expect(sum('num_tasks')).toBe(record.total_tasks);
      expect(sum('failed_tasks')).toBe(record.failed_tasks);
      expect(sum('input_bytes')).toBe(record.input_bytes);
      expect(sum('shuffle_read_bytes')).toBe(record.shuffle_read_bytes);
      expect(sum('shuffle_write_bytes')).toBe(record.shuffle_write_bytes);
      expect(summaries!.stages.filter((s) => s.status === 'failed')).toHaveLength(record.failed_stages);
      // CPU time: unknown in every stage exactly when the record says Spark never measured it (Spark 1.2 here; 2.1, 3.0 and 4.x measure it).
      expect(summaries!.stages.map((s) => s.cpu_time_ms === null)).toEqual(summaries!.stages.map(() => record.cpu_time_ms === null));
      expect(record.cpu_time_ms === null).toBe(appId === 'local-1422981780767');
    }
  });
});
