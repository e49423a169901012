/**
 * Cross-source agreement without ../shared: synthetic event logs (test/support/eventLogGenerator.ts)
 * are read by the event-log engine, and the same events are turned into History Server REST answers
 * by a small aggregator written here the way Spark's AppStatusListener builds them (one /stages
 * entry per stage attempt with task counts by outcome and summed task metrics, /allexecutors from
 * executor and block-manager adds, /environment as [key, value] pairs, the application list from
 * the start and end events). Both records must agree field by field, except `tags` and `source`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { sparkAppRecordSchema, type SparkAppRecord } from '../src/collectors/record';
import { eventLogText, type GeneratorOptions } from './support/eventLogGenerator';
import { startFakeServer, type FakeServer, type Route } from './support/historyServerFake';
import { tempDir } from './support/tmp';

type Json = Record<string, unknown>;
const gmt = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, 'GMT');

interface StageAgg {
  stageId: number;
  attemptId: number;
  status: string;
  numCompleteTasks: number;
  numFailedTasks: number;
  numKilledTasks: number;
  executorCpuTime: number;
  inputBytes: number;
  outputBytes: number;
  shuffleRemoteBytesRead: number;
  shuffleLocalBytesRead: number;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  memoryBytesSpilled: number;
  diskBytesSpilled: number;
}

/** REST answers for one event log, as a History Server would give them. */
function restAnswers(text: string): { app: Json; base: string; routes: Record<string, Route> } {
  const events = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Json);
  let appId = '';
  let attemptId: string | undefined;
  let name = '';
  let user = '';
  let start = 0;
  let end: number | null = null;
  let version = '';
  let props: [string, string][] = [];
  const executors = new Map<string, number>();
  const stages = new Map<string, StageAgg>();
  const jobStageIds: number[] = [];
  const stageOf = (id: number, attempt: number): StageAgg => {
    const key = `${id}.${attempt}`;
    let s = stages.get(key);
    if (!s) {
      s = { stageId: id, attemptId: attempt, status: 'ACTIVE', numCompleteTasks: 0, numFailedTasks: 0, numKilledTasks: 0, executorCpuTime: 0, inputBytes: 0, outputBytes: 0, shuffleRemoteBytesRead: 0, shuffleLocalBytesRead: 0, shuffleReadBytes: 0, shuffleWriteBytes: 0, memoryBytesSpilled: 0, diskBytesSpilled: 0 };
      stages.set(key, s);
    }
    return s;
  };
  const n = (v: unknown): number => (typeof v === 'number' ? v : 0);
  const o = (v: unknown): Json => (v !== null && typeof v === 'object' ? (v as Json) : {});
  for (const e of events) {
    switch (e.Event) {
      case 'SparkListenerLogStart':
        version = String(e['Spark Version']);
        break;
      case 'SparkListenerApplicationStart':
        appId = String(e['App ID']);
        attemptId = typeof e['App Attempt ID'] === 'string' ? e['App Attempt ID'] : undefined;
        name = String(e['App Name']);
        user = String(e.User);
        start = n(e.Timestamp);
        break;
      case 'SparkListenerApplicationEnd':
        end = n(e.Timestamp);
        break;
      case 'SparkListenerEnvironmentUpdate':
        props = Object.entries(o(e['Spark Properties'])).map(([k, v]) => [k, String(v)]);
        break;
      case 'SparkListenerExecutorAdded':
        executors.set(String(e['Executor ID']), n(o(e['Executor Info'])['Total Cores']));
        break;
      case 'SparkListenerBlockManagerAdded': {
        const id = String(o(e['Block Manager ID'])['Executor ID']);
        if (!executors.has(id)) executors.set(id, 0);
        break;
      }
      case 'SparkListenerJobStart':
        jobStageIds.push(...(e['Stage IDs'] as number[]));
        break;
      case 'SparkListenerStageSubmitted': {
        const info = o(e['Stage Info']);
        stageOf(n(info['Stage ID']), n(info['Stage Attempt ID']));
        break;
      }
      case 'SparkListenerStageCompleted': {
        const info = o(e['Stage Info']);
        stageOf(n(info['Stage ID']), n(info['Stage Attempt ID'])).status = info['Failure Reason'] !== undefined ? 'FAILED' : 'COMPLETE';
        break;
      }
      case 'SparkListenerTaskEnd': {
        const s = stageOf(n(e['Stage ID']), n(e['Stage Attempt ID']));
        const reason = String(o(e['Task End Reason']).Reason);
        if (reason === 'Success') s.numCompleteTasks++;
        else if (reason === 'TaskKilled') s.numKilledTasks++;
        else s.numFailedTasks++;
        const m = o(e['Task Metrics']);
        const sr = o(m['Shuffle Read Metrics']);
        s.executorCpuTime += n(m['Executor CPU Time']);
        s.inputBytes += n(o(m['Input Metrics'])['Bytes Read']);
        s.outputBytes += n(o(m['Output Metrics'])['Bytes Written']);
        s.shuffleRemoteBytesRead += n(sr['Remote Bytes Read']);
        s.shuffleLocalBytesRead += n(sr['Local Bytes Read']);
        s.shuffleReadBytes += n(sr['Remote Bytes Read']) + n(sr['Local Bytes Read']);
        s.shuffleWriteBytes += n(o(m['Shuffle Write Metrics'])['Shuffle Bytes Written']);
        s.memoryBytesSpilled += n(m['Memory Bytes Spilled']);
        s.diskBytesSpilled += n(m['Disk Bytes Spilled']);
        break;
      }
      default:
        break;
    }
  }
  const attempt = {
    ...(attemptId !== undefined ? { attemptId } : {}),
    startTime: gmt(start),
    endTime: end === null ? '1969-12-31T23:59:59.999GMT' : gmt(end),
    lastUpdated: gmt(end ?? start),
    duration: end === null ? 0 : end - start,
    sparkUser: user,
    completed: end !== null,
    appSparkVersion: version,
    startTimeEpoch: start,
    endTimeEpoch: end ?? -1,
    lastUpdatedEpoch: end ?? start,
  };
  const base = `applications/${appId}${attemptId !== undefined ? `/${attemptId}` : ''}`;
  return {
    app: { id: appId, name, attempts: [attempt] },
    base,
    routes: {
      [`${base}/environment`]: { json: { runtime: {}, sparkProperties: props, hadoopProperties: [], systemProperties: [], classpathEntries: [] } },
      [`${base}/allexecutors`]: { json: [...executors.entries()].map(([id, cores]) => ({ id, totalCores: cores, isActive: true })) },
      [`${base}/stages`]: { json: [...stages.values()].reverse() },
      [`${base}/jobs`]: { json: jobStageIds.map((id, i) => ({ jobId: i, stageIds: [id] })) },
    },
  };
}

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const CASES: { file: string; opts: GeneratorOptions }[] = [
  { file: 'app-plain', opts: { appId: 'app-plain', seed: 1, stages: 3, tasksPerStage: 5 } },
  { file: 'app-failing', opts: { appId: 'app-failing', seed: 2, stages: 5, tasksPerStage: 7, failEvery: 4, failStageEvery: 2, executors: 3 } },
  { file: 'application_1_0001_2', opts: { appId: 'application_1_0001', attemptId: '2', seed: 3, stages: 2, tasksPerStage: 4 } },
  { file: 'app-running.inprogress', opts: { appId: 'app-running', seed: 4, stages: 2, tasksPerStage: 3, running: true } },
];

describe('History Server collector vs event-log engine on the same (generated) application', () => {
  it('gives the same record, field by field, except tags and source', async () => {
    const dir = tempDir();
    const routes: Record<string, Route> = {};
    const listing: Json[] = [];
    for (const c of CASES) {
      const { text } = eventLogText(c.opts);
      writeFileSync(path.join(dir, c.file), text);
      const answers = restAnswers(text);
      listing.push(answers.app);
      Object.assign(routes, answers.routes);
    }
    routes.applications = { json: listing };
    const s = await startFakeServer(routes);
    servers.push(s);

    const fromLogs = await collectAll({ path: dir });
    const fromRest = await collectHistoryServerAll({ url: s.url, status: 'all', backoffMs: 5 });
    expect(fromRest.problems).toEqual([]);
    expect(fromLogs.problems).toEqual([]);
    const key = (r: SparkAppRecord): string => `${r.app_id}/${r.attempt_id ?? '-'}`;
    const logs = new Map(fromLogs.apps.map((a) => [key(a.record), a.record]));
    expect(fromRest.apps.map((a) => key(a.record)).sort()).toEqual([...logs.keys()].sort());
    const fields = (Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[]).filter((f) => f !== 'tags' && f !== 'source');
    for (const { record, problems } of fromRest.apps) {
      expect(problems, key(record)).toEqual([]);
      const log = logs.get(key(record))!;
      for (const f of fields) expect(record[f], `${key(record)} ${f}`).toEqual(log[f]);
    }
    // The cases do exercise the interesting parts.
    const failing = logs.get('app-failing/-')!;
    expect(failing.failed_tasks).toBeGreaterThan(0);
    expect(failing.failed_stages).toBeGreaterThan(0);
    expect(logs.get('app-running/-')!.status).toBe('running');
    expect(logs.get('application_1_0001/2')).toBeDefined();
  });
});
