/**
 * Stage-attempt and executor summaries from the History Server (issue 15), against real HTTP servers
 * on 127.0.0.1 (test/support/historyServerFake.ts):
 *
 * 1. Spark's own expected REST answers (`../shared/spark-events/HistoryServerExpectations`, served
 *    at the paths of its URL_MAP.tsv): every summary field equals what Spark's stage and executor
 *    lists say, field by field.
 * 2. Synthetic answers: the status mapping, the driver rule, which stage attempts get a task summary,
 *    bounded concurrency, the cap, failures (404, 5xx, a bad answer, many in a row), refused
 *    credentials, an old server without `duration`, and 2,000 stages.
 * 3. The joins: `mode: eventlog` passes the engine's summaries through; Dataproc's and EMR's joined
 *    records carry the History Server's (or the event log's); platform-only records have none.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { collectHistoryServerAll, type HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { hostOf } from '../src/collectors/historyServer/summaries';
import { collectDataprocAll } from '../src/collectors/dataproc/collect';
import { collectEmrAll } from '../src/collectors/emr/collect';
import type { CollectedApp } from '../src/collectors/contract';
import type { ExecutorSummary, StageSummary } from '../src/collectors/record/summaries';
import { fakeCluster, fakeJob, startDataprocFake } from './support/dataprocFake';
import { EmrFake } from './support/emrFake';
import { eventLogText } from './support/eventLogGenerator';
import { serve, syntheticListing, syntheticRoutes, taskSummaryAnswer, type FakeServer, type Route, type SyntheticApp } from './support/historyServerFake';
import { describeShared, sharedPath } from './support/shared';
import { tempDir } from './support/tmp';
import { zip } from './support/zip';

const fast = (url: string, extra: Partial<HistoryServerOptions> = {}): HistoryServerOptions => ({ url, backoffMs: 5, maxDelayMs: 20, timeoutMs: 3000, ...extra });
const iso = (gmt: string): string => new Date(gmt.replace(/GMT$/, 'Z')).toISOString();
const isTaskSummary = (r: string): boolean => r.includes('/taskSummary');

// ---------------------------------------------------------------------------------------------
// 1. Spark's expected REST answers

describeShared('History Server summaries on Spark’s expected REST answers', () => {
  const dir = sharedPath('spark-events', 'HistoryServerExpectations');
  const read = (file: string): unknown => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
  const LOCAL = 'local-1422981780767';
  const CLUSTER = 'app-20161116163331-0000';

  interface RestStageJson {
    stageId: number;
    attemptId: number;
    name: string;
    status: string;
    submissionTime: string;
    firstTaskLaunchedTime: string;
    completionTime: string;
    numCompleteTasks: number;
    numFailedTasks: number;
    numKilledTasks: number;
    inputBytes: number;
    outputBytes: number;
    shuffleReadBytes: number;
    shuffleRemoteBytesRead: number;
    shuffleLocalBytesRead: number;
    shuffleWriteBytes: number;
    memoryBytesSpilled: number;
    diskBytesSpilled: number;
    executorRunTime: number;
    executorCpuTime: number;
    jvmGcTime: number;
    peakExecutionMemory: number;
  }
  interface RestExecutorJson {
    id: string;
    hostPort: string;
    totalCores: number;
    addTime: string;
    removeTime?: string;
    removeReason?: string;
    totalTasks: number;
    failedTasks: number;
    totalGCTime: number;
    totalShuffleRead: number;
    totalShuffleWrite: number;
  }

  /** Task summaries are not among Spark's expectation files: each stage attempt gets its own made-up quantiles, to see them land on the right stage. */
  const durationsOf = (stageId: number): number[] => [1, 2, 3, 4, 5].map((k) => stageId * 100 + k * 10);

  async function sharedServer(): Promise<FakeServer> {
    const routes: Record<string, Route> = {};
    for (const line of readFileSync(path.join(dir, 'URL_MAP.tsv'), 'utf8').split('\n').slice(1)) {
      const [file, restPath] = line.split('\t');
      if (!file || !restPath) continue;
      routes[restPath.trim()] = { text: readFileSync(path.join(dir, file), 'utf8') };
    }
    // HistoryServerSuite has no /allexecutors case. In both applications no executor was ever
    // removed (every one isActive), so /allexecutors (active + dead) answers what /executors does.
    for (const id of [LOCAL, CLUSTER]) routes[`applications/${id}/allexecutors`] = routes[`applications/${id}/executors`]!;
    const listed = (read('application_list_json_expectation.json') as { id: string }[]).filter((a) => a.id === LOCAL || a.id === CLUSTER);
    routes.applications = { json: listed };
    for (const s of read('stage_list_json_expectation.json') as RestStageJson[]) {
      routes[`applications/${LOCAL}/stages/${s.stageId}/${s.attemptId}/taskSummary`] = { json: taskSummaryAnswer(durationsOf(s.stageId)) };
    }
    return serve(routes);
  }

  /** What the summary must say of one of Spark's stage entries, by the mapping summaries.ts documents. */
  function expectedStage(s: RestStageJson): StageSummary {
    return {
      stage_id: s.stageId,
      attempt_id: s.attemptId,
      name: s.name,
      status: s.status.toLowerCase() as StageSummary['status'],
      submission_time: iso(s.submissionTime),
      completion_time: iso(s.completionTime),
      // From the first task's launch, as Spark's stage table measures it.
      duration_ms: Date.parse(iso(s.completionTime)) - Date.parse(iso(s.firstTaskLaunchedTime)),
      num_tasks: s.numCompleteTasks + s.numFailedTasks + s.numKilledTasks,
      failed_tasks: s.numFailedTasks,
      killed_tasks: s.numKilledTasks,
      input_bytes: s.inputBytes,
      output_bytes: s.outputBytes,
      shuffle_read_bytes: s.shuffleReadBytes,
      shuffle_write_bytes: s.shuffleWriteBytes,
      memory_spilled_bytes: s.memoryBytesSpilled,
      disk_spilled_bytes: s.diskBytesSpilled,
      executor_run_time_ms: s.executorRunTime,
      // Spark 1.2 never measured CPU time: REST's 0 is unknown, as the record says (record/summaries.ts stageCpuKnown).
      cpu_time_ms: null,
      gc_time_ms: s.jvmGcTime,
      peak_execution_memory_bytes: s.peakExecutionMemory,
      task_duration_ms: s.numCompleteTasks > 0 ? { min: durationsOf(s.stageId)[0]!, p25: durationsOf(s.stageId)[1]!, p50: durationsOf(s.stageId)[2]!, p75: durationsOf(s.stageId)[3]!, max: durationsOf(s.stageId)[4]! } : null,
    };
  }

  function expectedExecutor(e: RestExecutorJson): ExecutorSummary {
    return {
      executor_id: e.id,
      host: e.hostPort.slice(0, e.hostPort.lastIndexOf(':')),
      // 0 is Spark's "not known" (an executor seen only through its block manager).
      total_cores: e.totalCores === 0 ? null : e.totalCores,
      add_time: iso(e.addTime),
      remove_time: e.removeTime === undefined ? null : iso(e.removeTime),
      remove_reason: e.removeReason ?? null,
      total_tasks: e.totalTasks,
      failed_tasks: e.failedTasks,
      gc_time_ms: e.totalGCTime,
      shuffle_read_bytes: e.totalShuffleRead,
      shuffle_write_bytes: e.totalShuffleWrite,
    };
  }

  it(`${LOCAL}: every stage attempt and the (only) executor equal Spark's /stages and /executors, field by field`, async () => {
    const s = await sharedServer();
    const r = await collectHistoryServerAll(fast(s.url));
    const app = r.apps.find((a) => a.record.app_id === LOCAL)!;
    expect(app.summaries).toBeDefined();
    const rest = (read('stage_list_json_expectation.json') as RestStageJson[]).slice().sort((a, b) => a.stageId - b.stageId || a.attemptId - b.attemptId);
    const got = app.summaries!.stages;
    expect(got.map((x) => `${x.stage_id}.${x.attempt_id}`)).toEqual(rest.map((x) => `${x.stageId}.${x.attemptId}`));
    for (const [i, want] of rest.entries()) {
      const e = expectedStage(want);
      for (const f of Object.keys(e) as (keyof StageSummary)[]) expect(got[i]![f], `stage ${want.stageId}.${want.attemptId} ${f}`).toEqual(e[f]);
      expect(Object.keys(got[i]!).sort()).toEqual(Object.keys(e).sort());
      // Spark's shuffleReadBytes is already remote + local.
      expect(got[i]!.shuffle_read_bytes).toBe(want.shuffleRemoteBytesRead + want.shuffleLocalBytesRead);
    }
    // A few values read off the file by hand, so that the mapping above is not only checked against itself.
    const failed = got.find((x) => x.stage_id === 2)!;
    expect(failed).toMatchObject({ status: 'failed', num_tasks: 8, failed_tasks: 1, killed_tasks: 0, duration_ms: 51, executor_run_time_ms: 278, submission_time: '2015-02-03T16:43:06.296Z' });
    expect(got.find((x) => x.stage_id === 1)).toMatchObject({ input_bytes: 28000128, shuffle_write_bytes: 13180, gc_time_ms: 152, duration_ms: 457 });
    // Stage 0 waited 6 ms for its first task (submitted 16:43:04.228, first launch .234, completed .819).
    expect(got.find((x) => x.stage_id === 0)).toMatchObject({ submission_time: '2015-02-03T16:43:04.228Z', duration_ms: 585 });
    // The stages add up to the record's totals.
    expect(got.reduce((t, x) => t + x.num_tasks, 0)).toBe(app.record.total_tasks);
    expect(got.reduce((t, x) => t + x.failed_tasks, 0)).toBe(app.record.failed_tasks);
    // One task summary per stage attempt with a successful task (all four), and nothing failed.
    expect(s.requests.filter(isTaskSummary).filter((q) => q.includes(LOCAL)).sort()).toEqual(rest.map((x) => `applications/${LOCAL}/stages/${x.stageId}/${x.attemptId}/taskSummary?quantiles=0.0,0.25,0.5,0.75,1.0`).sort());
    expect(app.problems.filter((p) => p.code === 'rest-task-summary' || p.code === 'invalid-value')).toEqual([]);

    // Local mode: the driver is the only executor, so it is listed.
    const executors = read('executor_list_json_expectation.json') as RestExecutorJson[];
    expect(app.summaries!.executors).toEqual(executors.map(expectedExecutor));
    expect(app.summaries!.executors).toEqual([
      { executor_id: 'driver', host: 'localhost', total_cores: null, add_time: '2015-02-03T16:43:00.906Z', remove_time: null, remove_reason: null, total_tasks: 32, failed_tasks: 1, gc_time_ms: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 13180 },
    ]);
  });

  it(`${CLUSTER}: the executors equal Spark's /executors, the driver left out; no /stages answer leaves the stages empty and says so`, async () => {
    const s = await sharedServer();
    const r = await collectHistoryServerAll(fast(s.url));
    const app = r.apps.find((a) => a.record.app_id === CLUSTER)!;
    const executors = read('executor_node_excludeOnFailure_expectation.json') as RestExecutorJson[];
    expect(executors.some((e) => e.id === 'driver')).toBe(true);
    const got = app.summaries!.executors;
    expect(got).toEqual(executors.filter((e) => e.id !== 'driver').map(expectedExecutor));
    expect(got.map((e) => e.executor_id)).toEqual(['3', '2', '1', '0']);
    expect(got.find((e) => e.executor_id === '2')).toMatchObject({ host: '172.22.0.167', total_cores: 4, total_tasks: 4, failed_tasks: 4, gc_time_ms: 88 });
    // The memory-usage expectation is the same path: its executors agree too.
    const other = read('executor_memory_usage_expectation.json') as RestExecutorJson[];
    expect(got).toEqual(other.filter((e) => e.id !== 'driver').map(expectedExecutor));
    expect(app.summaries!.stages).toEqual([]);
    expect(app.problems.map((p) => p.code)).toContain('rest-missing');
    expect(s.requests.filter((q) => q.includes(CLUSTER) && isTaskSummary(q))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Synthetic answers

const T0 = Date.UTC(2025, 2, 1, 10, 0, 0);

function app(over: Partial<SyntheticApp> = {}): SyntheticApp {
  return { id: 'app-1', startMs: T0, endMs: T0 + 600_000, executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 4 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4 }], ...over };
}

async function serveApps(apps: SyntheticApp[], extra: Record<string, Route> = {}): Promise<FakeServer> {
  return serve({ applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps), ...extra });
}

const only = (r: { apps: CollectedApp[] }): CollectedApp => {
  expect(r.apps).toHaveLength(1);
  return r.apps[0]!;
};

describe('History Server summaries (synthetic answers)', () => {
  it('maps every status, time and metric; asks task summaries only for stage attempts with a successful task', async () => {
    const a = app({
      endMs: null,
      executors: [
        { id: 'driver', cores: 0, host: 'drv.example:4040' },
        { id: '1', cores: 4, host: 'w1.example:7337', addMs: T0 + 1000, removeMs: T0 + 90_000, removeReason: 'Executor heartbeat timed out', tasks: 12, failedTasks: 2, gcMs: 340, shuffleRead: 5000, shuffleWrite: 7000 },
        { id: '2', cores: 4, host: '[fe80::1]:7337', addMs: T0 + 2000, tasks: 3 },
      ],
      stages: [
        { id: 0, status: 'COMPLETE', complete: 8, failed: 1, killed: 2, cpuNs: 2_500_000_999, input: 1, output: 2, shuffleRead: 3, shuffleWrite: 4, memSpill: 5, diskSpill: 6, submitMs: T0 + 10_000, completeMs: T0 + 15_500, runMs: 4000, gcMs: 70, peakMem: 1 << 20, durations: [10, 20.0, 30, 40, 900] },
        { id: 1, status: 'FAILED', complete: 0, failed: 4, submitMs: T0 + 16_000, completeMs: T0 + 17_000 },
        { id: 1, attempt: 1, status: 'ACTIVE', complete: 3, submitMs: T0 + 18_000 },
        { id: 2, status: 'PENDING', complete: 0 },
        { id: 3, status: 'SKIPPED', complete: 0 },
      ],
    });
    const s = await serveApps([a]);
    const got = only(await collectHistoryServerAll(fast(s.url, { status: 'all' })));
    expect(got.problems.filter((p) => p.severity !== 'info' && p.code !== 'rest-missing')).toEqual([]);
    const stages = got.summaries!.stages;
    expect(stages.map((x) => [x.stage_id, x.attempt_id, x.status])).toEqual([
      [0, 0, 'complete'],
      [1, 0, 'failed'],
      [1, 1, 'active'],
      [2, 0, 'active'],
      [3, 0, 'skipped'],
    ]);
    expect(stages[0]).toEqual({
      stage_id: 0,
      attempt_id: 0,
      name: 'stage 0',
      status: 'complete',
      submission_time: new Date(T0 + 10_000).toISOString(),
      completion_time: new Date(T0 + 15_500).toISOString(),
      duration_ms: 5500,
      num_tasks: 11,
      failed_tasks: 1,
      killed_tasks: 2,
      input_bytes: 1,
      output_bytes: 2,
      shuffle_read_bytes: 3,
      shuffle_write_bytes: 4,
      memory_spilled_bytes: 5,
      disk_spilled_bytes: 6,
      executor_run_time_ms: 4000,
      cpu_time_ms: 2500,
      gc_time_ms: 70,
      peak_execution_memory_bytes: 1 << 20,
      task_duration_ms: { min: 10, p25: 20, p50: 30, p75: 40, max: 900 },
    });
    // Only failed tasks: no summary to ask for (Spark's covers successful tasks), so none.
    expect(stages[1]).toMatchObject({ num_tasks: 4, failed_tasks: 4, duration_ms: 1000, task_duration_ms: null, peak_execution_memory_bytes: null });
    // Still running: no completion, no duration; its successful tasks so far have a summary.
    expect(stages[2]).toMatchObject({ completion_time: null, duration_ms: null, task_duration_ms: { min: 100, max: 500 } });
    // Waiting on its parents: active, not started.
    expect(stages[3]).toMatchObject({ submission_time: null, num_tasks: 0, task_duration_ms: null });
    expect(s.requests.filter(isTaskSummary).sort()).toEqual(['applications/app-1/stages/0/0/taskSummary?quantiles=0.0,0.25,0.5,0.75,1.0', 'applications/app-1/stages/1/1/taskSummary?quantiles=0.0,0.25,0.5,0.75,1.0']);

    // The driver is left out beside real executors; a removed executor keeps its time and reason.
    expect(got.summaries!.executors).toEqual([
      { executor_id: '1', host: 'w1.example', total_cores: 4, add_time: new Date(T0 + 1000).toISOString(), remove_time: new Date(T0 + 90_000).toISOString(), remove_reason: 'Executor heartbeat timed out', total_tasks: 12, failed_tasks: 2, gc_time_ms: 340, shuffle_read_bytes: 5000, shuffle_write_bytes: 7000 },
      { executor_id: '2', host: 'fe80::1', total_cores: 4, add_time: new Date(T0 + 2000).toISOString(), remove_time: null, remove_reason: null, total_tasks: 3, failed_tasks: 0, gc_time_ms: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 0 },
    ]);
  });

  it('hostOf takes the host out of every form of hostPort', () => {
    expect(hostOf('10.0.0.5:43211')).toBe('10.0.0.5');
    expect(hostOf('ip-10-0-0-5.ec2.internal:7337')).toBe('ip-10-0-0-5.ec2.internal');
    expect(hostOf('[2001:db8::7]:4040')).toBe('2001:db8::7');
    expect(hostOf('bare-host')).toBe('bare-host');
    expect(hostOf('')).toBeNull();
    expect(hostOf(undefined)).toBeNull();
    expect(hostOf(':4040')).toBeNull();
  });

  it('local mode: the driver, the only executor, is listed; an application without executors has none', async () => {
    const s = await serveApps([app({ id: 'app-local', executors: [{ id: 'driver', cores: 8, host: 'laptop:4040', tasks: 9 }] }), app({ id: 'app-none', executors: [] })]);
    const r = await collectHistoryServerAll(fast(s.url));
    const local = r.apps.find((x) => x.record.app_id === 'app-local')!;
    expect(local.summaries!.executors).toEqual([expect.objectContaining({ executor_id: 'driver', host: 'laptop', total_cores: 8, total_tasks: 9 })]);
    expect(r.apps.find((x) => x.record.app_id === 'app-none')!.summaries!.executors).toEqual([]);
  });

  it('a task summary that cannot be had (404, 500 after retries, a bad answer) is a warning of its stage, which keeps null; the app and the other stages arrive', async () => {
    const stages = [0, 1, 2, 3].map((id) => ({ id, status: 'COMPLETE', complete: 2, durations: [id, id, id, id, id] }));
    const a = app({ stages: [...stages.slice(0, 3), { ...stages[3]!, durations: null }] });
    const s = await serveApps([a], {
      'applications/app-1/stages/1/0/taskSummary': { text: 'boom', status: 500 },
      'applications/app-1/stages/2/0/taskSummary': { json: { quantiles: [0, 0.25, 0.5, 0.75, 1], duration: [5, 4, 3, 2, 1] } },
    });
    const got = only(await collectHistoryServerAll(fast(s.url, { maxAttempts: 2 })));
    const durations = got.summaries!.stages.map((x) => x.task_duration_ms);
    expect(durations).toEqual([{ min: 0, p25: 0, p50: 0, p75: 0, max: 0 }, null, null, null]);
    const warned = got.problems.filter((p) => p.code === 'rest-task-summary');
    expect(warned.map((p) => p.severity)).toEqual(['warning', 'warning', 'warning']);
    expect(warned.map((p) => /^stage (\d)\.0:/.exec(p.message)![1]).sort()).toEqual(['1', '2', '3']);
    expect(warned.find((p) => p.message.startsWith('stage 1.0'))!.message).toContain('HTTP 500');
    expect(warned.find((p) => p.message.startsWith('stage 2.0'))!.message).toContain('not in order');
    expect(warned.find((p) => p.message.startsWith('stage 3.0'))!.message).toContain('HTTP 404');
    // The 500 was retried (2 attempts), the others asked once.
    expect(s.requests.filter((q) => q.startsWith('applications/app-1/stages/1/0/taskSummary'))).toHaveLength(2);
    expect(got.record.total_tasks).toBe(8);
  });

  it('after 10 failures in a row the other task summaries are not asked for: one warning says how many', async () => {
    const a = app({ stages: Array.from({ length: 30 }, (_, id) => ({ id, status: 'COMPLETE', complete: 1, durations: null })) });
    const s = await serveApps([a]);
    const got = only(await collectHistoryServerAll(fast(s.url, { taskSummaryConcurrency: 1 })));
    expect(s.requests.filter(isTaskSummary)).toHaveLength(10);
    const warned = got.problems.filter((p) => p.code === 'rest-task-summary');
    expect(warned).toHaveLength(11);
    expect(warned.at(-1)!.message).toBe('10 task summaries failed in a row: the other 20 were not asked for, and their stage attempts have no task durations');
    expect(got.summaries!.stages.every((x) => x.task_duration_ms === null)).toBe(true);
  });

  it('maxTaskSummaries caps the requests per attempt, with one warning; 0 asks for none', async () => {
    const a = app({ stages: Array.from({ length: 5 }, (_, id) => ({ id, status: 'COMPLETE', complete: 1 })) });
    const s = await serveApps([a]);
    const got = only(await collectHistoryServerAll(fast(s.url, { maxTaskSummaries: 3 })));
    expect(s.requests.filter(isTaskSummary)).toHaveLength(3);
    expect(got.summaries!.stages.filter((x) => x.task_duration_ms !== null)).toHaveLength(3);
    expect(got.problems.filter((p) => p.code === 'task-summaries-capped').map((p) => p.message)).toEqual([
      '5 stage attempts have tasks; task durations were asked for 3 of them (the most per application attempt), the other 2 have none',
    ]);
    const none = only(await collectHistoryServerAll(fast(s.url, { maxTaskSummaries: 0 })));
    expect(none.summaries!.stages).toHaveLength(5);
    expect(s.requests.filter(isTaskSummary)).toHaveLength(3);
  });

  it('task summaries go taskSummaryConcurrency at a time', async () => {
    const a = app({ stages: Array.from({ length: 24 }, (_, id) => ({ id, status: 'COMPLETE', complete: 1 })) });
    let inFlight = 0;
    let most = 0;
    const held: Record<string, Route> = {};
    for (const st of a.stages) {
      held[`applications/app-1/stages/${st.id}/0/taskSummary`] = (_req, res: ServerResponse) => {
        inFlight++;
        most = Math.max(most, inFlight);
        // Answered on a later turn, so that the requests the client keeps open overlap here.
        setTimeout(() => {
          inFlight--;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify(taskSummaryAnswer([1, 2, 3, 4, 5])));
        }, 5);
      };
    }
    const s = await serveApps([a], held);
    const got = only(await collectHistoryServerAll(fast(s.url, { taskSummaryConcurrency: 3 })));
    expect(s.requests.filter(isTaskSummary)).toHaveLength(24);
    expect(most).toBeLessThanOrEqual(3);
    expect(most).toBeGreaterThan(1);
    expect(got.summaries!.stages.every((x) => x.task_duration_ms?.max === 5)).toBe(true);
  });

  it('an old server (no `duration` distribution) gives the executor run time, said once', async () => {
    const a = app({ stages: [0, 1].map((id) => ({ id, status: 'COMPLETE', complete: 3, durations: null })) });
    const old = { json: { quantiles: [0, 0.25, 0.5, 0.75, 1], executorRunTime: [7.0, 8.0, 9.0, 10.0, 11.0], jvmGcTime: [0, 0, 0, 0, 0] } };
    const s = await serveApps([a], { 'applications/app-1/stages/0/0/taskSummary': old, 'applications/app-1/stages/1/0/taskSummary': old });
    const got = only(await collectHistoryServerAll(fast(s.url)));
    expect(got.summaries!.stages.map((x) => x.task_duration_ms)).toEqual([
      { min: 7, p25: 8, p50: 9, p75: 10, max: 11 },
      { min: 7, p25: 8, p50: 9, p75: 10, max: 11 },
    ]);
    const said = got.problems.filter((p) => p.code === 'task-duration-run-time');
    expect(said.map((p) => p.severity)).toEqual(['info']);
    expect(said[0]!.message).toContain('2 stage attempt(s)');
  });

  it('refused credentials on a task summary stop the run as on any other request', async () => {
    const a = app({ stages: [0, 1, 2].map((id) => ({ id, status: 'COMPLETE', complete: 1 })) });
    const s = await serveApps([a], { 'applications/app-1/stages/1/0/taskSummary': { text: '{"message":"no"}', status: 401 } });
    const r = await collectHistoryServerAll(fast(s.url, { taskSummaryConcurrency: 1 }));
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual(['auth-failed']);
  });

  it('values that cannot be true are left out of the summary and said, a few at a time; an unknown status leaves its stage out', async () => {
    const stages = [
      { status: 'COMPLETE', stageId: 0, attemptId: 0, numCompleteTasks: 1, inputBytes: 1.5, executorRunTime: -3, submissionTime: 'yesterday' },
      { status: 'WEIRD', stageId: 1, attemptId: 0, numCompleteTasks: 1 },
      ...Array.from({ length: 15 }, (_, i) => ({ status: 'SKIPPED', stageId: 10 + i, attemptId: 0, outputBytes: -1 })),
    ];
    const a = app();
    const s = await serveApps([a], { 'applications/app-1/stages': { json: stages }, 'applications/app-1/stages/0/0/taskSummary': { json: taskSummaryAnswer([1, 1, 1, 1, 1]) } });
    const got = only(await collectHistoryServerAll(fast(s.url)));
    const st = got.summaries!.stages;
    expect(st.map((x) => x.stage_id)).toEqual([0, ...Array.from({ length: 15 }, (_, i) => 10 + i)]);
    expect(st[0]).toMatchObject({ input_bytes: 0, executor_run_time_ms: 0, submission_time: null, task_duration_ms: { max: 1 } });
    const invalid = got.problems.filter((p) => p.code === 'invalid-value' && p.message.includes('summar'));
    expect(invalid).toHaveLength(11);
    expect(invalid.at(-1)!.message).toMatch(/^\d+ more stage or executor values that cannot be true/);
    expect(got.problems.filter((p) => p.code === 'rest-shape').map((p) => p.message)).toEqual(['stage 1.0: unknown status "WEIRD"; the stage attempt is left out of the summaries']);
  });

  it('2,000 stage attempts: every one gets its task durations, in bounded time', async () => {
    const a = app({ stages: Array.from({ length: 2000 }, (_, id) => ({ id, status: 'COMPLETE', complete: 2, durations: [id, id, id, id, id + 1] })) });
    const s = await serveApps([a]);
    const started = Date.now();
    const got = only(await collectHistoryServerAll(fast(s.url)));
    expect(Date.now() - started).toBeLessThan(20_000);
    expect(got.summaries!.stages).toHaveLength(2000);
    expect(got.summaries!.stages.every((x) => x.task_duration_ms !== null && x.task_duration_ms.max === x.stage_id + 1)).toBe(true);
    expect(s.requests.filter(isTaskSummary)).toHaveLength(2000);
    expect(got.problems.filter((p) => p.severity !== 'info')).toEqual([]);
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------
// 3. The joins

describe('summaries through the joins', () => {
  it('mode: eventlog gives the event-log engine’s summaries (whatever it has) with the record', async () => {
    const log = eventLogText({ appId: 'app-el', stages: 3, tasksPerStage: 10, failEvery: 4, startMs: Date.UTC(2024, 5, 1) });
    const bytes = await zip({ 'app-el': log.text });
    const s = await serve({
      applications: { json: syntheticListing([{ id: 'app-el', startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }]) },
      'applications/app-el/logs': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(bytes);
      },
    });
    const viaServer = only(await collectHistoryServerAll(fast(s.url, { mode: 'eventlog' })));
    const dir = tempDir();
    writeFileSync(path.join(dir, 'app-el'), log.text);
    const direct = await collectAll({ path: path.join(dir, 'app-el') });
    expect(viaServer.summaries).toEqual(direct.apps[0]!.summaries);
    expect('summaries' in viaServer).toBe(direct.apps[0]!.summaries !== undefined);
  });

  it('Dataproc: a job joined to the Persistent History Server carries its summaries; a platform-only job has none', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'dataproc-summaries-'));
    const saved = { HOME: process.env.HOME, CLOUDSDK_CONFIG: process.env.CLOUDSDK_CONFIG, METADATA_SERVER_DETECTION: process.env.METADATA_SERVER_DETECTION };
    process.env.HOME = home;
    process.env.CLOUDSDK_CONFIG = path.join(home, 'gcloud');
    process.env.METADATA_SERVER_DETECTION = 'none';
    try {
      const appId = 'application_1700000000000_0001';
      const hsApp = app({ id: appId, stages: [{ id: 0, status: 'COMPLETE', complete: 3, durations: [1, 2, 3, 4, 5] }], executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 2, host: 'w-1:7337', tasks: 3 }] });
      const routes = syntheticRoutes([hsApp]);
      routes[`applications/${appId}`] = { json: syntheticListing([hsApp])[0] };
      const hs = await serve(routes);
      const dp = await startDataprocFake({
        project: 'p',
        region: 'r',
        tokens: ['tok-0123456789'],
        jobs: [
          fakeJob({ id: 'j-a', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000, yarnApps: [appId] }),
          fakeJob({ id: 'j-b', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000, yarnApps: [] }),
        ],
        clusters: { c1: fakeCluster('c1', { image: '2.2.40-debian12', master: ['n2-standard-4', 1], worker: ['n2-standard-4', 2] }) },
      });
      onTestFinished(() => dp.close());
      const out = await collectDataprocAll({ projectId: 'p', region: 'r', endpointUrl: dp.url, accessToken: 'tok-0123456789', historyServerUrl: hs.url, backoffMs: 5, timeoutMs: 3000 });
      const joined = out.apps.find((x) => x.record.app_id === appId)!;
      expect(joined.record.tags.origin).toBe('dataproc+history_server');
      expect(joined.summaries!.stages).toEqual([expect.objectContaining({ stage_id: 0, num_tasks: 3, task_duration_ms: { min: 1, p25: 2, p50: 3, p75: 4, max: 5 } })]);
      expect(joined.summaries!.executors).toEqual([expect.objectContaining({ executor_id: '1', host: 'w-1', total_tasks: 3 })]);
      const platform = out.apps.find((x) => x.record.tags.job_id === 'j-b')!;
      expect(platform.summaries).toBeUndefined();
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(home, { recursive: true, force: true });
    }
  });

  describe('EMR', () => {
    const KEYS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_REGION', 'AWS_EC2_METADATA_DISABLED', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE'] as const;
    const HOUR = 3_600_000;
    const created = Date.UTC(2026, 5, 1, 8, 0, 0);

    async function withEmr(run: (endpoint: string, fake: EmrFake) => Promise<void>): Promise<void> {
      const saved = Object.fromEntries(KEYS.map((k) => [k, process.env[k]]));
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
      const none = path.join(tmpdir(), 'emr-summaries-no-such-dir');
      process.env.AWS_CONFIG_FILE = path.join(none, 'config');
      process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(none, 'credentials');
      delete process.env.AWS_PROFILE;
      delete process.env.AWS_REGION;
      delete process.env.AWS_SESSION_TOKEN;
      process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEEXAMPLE00002';
      process.env.AWS_SECRET_ACCESS_KEY = 'fake-secret-for-summaries-test';
      const fake = new EmrFake();
      const endpoint = await fake.start();
      try {
        fake.clusters = [
          {
            Id: 'j-SUMMARIES0001',
            Name: 'etl',
            State: 'TERMINATED',
            Created: new Date(created),
            Ready: new Date(created + 5 * 60_000),
            Ended: new Date(created + HOUR),
            ReleaseLabel: 'emr-7.1.0',
            Applications: [{ Name: 'Spark', Version: '3.5.0' }],
            Tags: [],
            groups: [{ InstanceGroupType: 'MASTER', InstanceType: 'm5.xlarge', RequestedInstanceCount: 1, RunningInstanceCount: 0 }],
            steps: [
              {
                Id: 's-1',
                Name: 'job',
                ActionOnFailure: 'CONTINUE',
                Config: { Jar: 'command-runner.jar', Args: ['spark-submit', 's3://code/a.py'] },
                Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(created + 9 * 60_000), StartDateTime: new Date(created + 10 * 60_000), EndDateTime: new Date(created + 20 * 60_000) } },
              },
              {
                Id: 's-2',
                Name: 'other job',
                ActionOnFailure: 'CONTINUE',
                Config: { Jar: 'command-runner.jar', Args: ['spark-submit', 's3://code/b.py'] },
                Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(created + 39 * 60_000), StartDateTime: new Date(created + 40 * 60_000), EndDateTime: new Date(created + 50 * 60_000) } },
              },
            ],
          },
        ];
        await run(endpoint, fake);
      } finally {
        await fake.stop();
        for (const k of KEYS) {
          if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
      }
    }

    it('an application joined from the History Server carries its summaries; the step without one has none', async () => {
      await withEmr(async (endpoint) => {
        const hsApp = app({ id: `application_${created}_0001`, startMs: created + 11 * 60_000, endMs: created + 19 * 60_000, stages: [{ id: 0, status: 'COMPLETE', complete: 6, durations: [2, 3, 4, 5, 6] }] });
        const hs = await serveApps([hsApp]);
        const out = await collectEmrAll({ endpointUrl: endpoint, region: 'us-east-1', source: 'emr', maxAttempts: 2, timeoutMs: 5000, cloudwatch: false, historyServerUrl: hs.url });
        const joined = out.apps.find((x) => x.record.app_id === hsApp.id)!;
        expect(joined.record.tags).toMatchObject({ step_id: 's-1', origin: 'history_server' });
        expect(joined.summaries!.stages).toEqual([expect.objectContaining({ num_tasks: 6, task_duration_ms: { min: 2, p25: 3, p50: 4, p75: 5, max: 6 } })]);
        expect(joined.summaries!.executors.map((e) => e.executor_id)).toEqual(['1']);
        expect(out.apps.find((x) => x.record.app_id === 'emr-step-s-2')!.summaries).toBeUndefined();
      });
    });

    it('an application joined from an event-log folder carries the engine’s summaries (whatever it has)', async () => {
      await withEmr(async (endpoint) => {
        const logs = tempDir();
        mkdirSync(logs, { recursive: true });
        const log = eventLogText({ appId: `application_${created}_0002`, startMs: created + 41 * 60_000, seed: 7, stages: 2, tasksPerStage: 3 });
        writeFileSync(path.join(logs, log.totals.app_id), log.text);
        const direct = await collectAll({ path: path.join(logs, log.totals.app_id) });
        const out = await collectEmrAll({ endpointUrl: endpoint, region: 'us-east-1', source: 'emr', maxAttempts: 2, timeoutMs: 5000, cloudwatch: false, eventLogDir: logs });
        const joined = out.apps.find((x) => x.record.app_id === log.totals.app_id)!;
        expect(joined.record.tags).toMatchObject({ step_id: 's-2' });
        expect(joined.summaries).toEqual(direct.apps[0]!.summaries);
        expect(out.apps.find((x) => x.record.app_id === 'emr-step-s-1')!.summaries).toBeUndefined();
      });
    });
  });
});
