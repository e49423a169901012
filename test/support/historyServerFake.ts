/**
 * A real HTTP server on 127.0.0.1 (random port) that plays a Spark History Server for tests.
 * Routes are keyed by the path after `/api/v1/`, with the query string (`applications?status=completed`)
 * or without it (matched when no route has the exact query). A route is a JSON value (served as is),
 * or a handler that answers itself (faults: slow, reset, truncated, 429, …).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { onTestFinished } from 'vitest';
import { listenLocal } from './localServer';

export type Handler = (req: IncomingMessage, res: ServerResponse, hit: number) => void;
export type Route = Handler | { json: unknown } | { text: string; status?: number };

export interface FakeServer {
  url: string;
  /** Requests seen: path after /api/v1/ with query, in order. */
  requests: string[];
  /** The Authorization header of each request, in order. */
  authorizations: (string | undefined)[];
  routes: Map<string, Route>;
  close: () => Promise<void>;
}

export async function startFakeServer(routes: Map<string, Route> | Record<string, Route>): Promise<FakeServer> {
  const table = routes instanceof Map ? routes : new Map(Object.entries(routes));
  const requests: string[] = [];
  const authorizations: (string | undefined)[] = [];
  const hits = new Map<string, number>();
  const local = await listenLocal((req, res) => {
    const rel = (req.url ?? '/').replace(/^\/api\/v1\//, '');
    requests.push(rel);
    authorizations.push(req.headers.authorization);
    const key = table.has(rel) ? rel : rel.split('?')[0]!;
    const route = table.get(key);
    const hit = (hits.get(key) ?? 0) + 1;
    hits.set(key, hit);
    const derived = route === undefined ? derivedTaskSummary(table, rel) : undefined;
    if (derived !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(derived));
    } else if (route === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`no route for ${rel}`);
    } else if (typeof route === 'function') {
      route(req, res, hit);
    } else if ('json' in route) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(route.json));
    } else {
      res.writeHead(route.status ?? 200, { 'content-type': 'application/json' });
      res.end(route.text);
    }
  });
  return {
    url: local.url,
    requests,
    authorizations,
    routes: table,
    close: local.close,
  };
}

/**
 * A real server answers `stages/{id}/{attempt}/taskSummary` for every stage attempt with a
 * successful task. A table that serves a `/stages` list but no route for one of its task summaries
 * (tests written before issue 15 asked for them) gets a stand-in: every task took the stage's mean
 * executor run time. Undefined (a 404, as Spark answers) for a stage attempt without a completed task.
 */
function derivedTaskSummary(table: Map<string, Route>, rel: string): unknown {
  const m = /^(.*)\/stages\/(\d+)\/(\d+)\/taskSummary(\?.*)?$/.exec(rel);
  if (!m) return undefined;
  const list = table.get(`${m[1]!}/stages`);
  if (list === undefined || typeof list === 'function') return undefined;
  let stages: unknown;
  try {
    stages = 'json' in list ? list.json : JSON.parse(list.text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(stages)) return undefined;
  const stage = (stages as { stageId?: unknown; attemptId?: unknown; numCompleteTasks?: unknown; executorRunTime?: unknown }[]).find(
    (s) => s.stageId === Number(m[2]) && (s.attemptId ?? 0) === Number(m[3]),
  );
  const done = typeof stage?.numCompleteTasks === 'number' ? stage.numCompleteTasks : 0;
  if (done <= 0) return undefined;
  const mean = typeof stage?.executorRunTime === 'number' ? Math.round(stage.executorRunTime / done) : 0;
  return taskSummaryAnswer([mean, mean, mean, mean, mean]);
}

/** REST answers for one synthetic attempt, built from a handful of values (Spark 3.x field names). */
export interface SyntheticApp {
  id: string;
  attemptId?: string;
  name?: string;
  user?: string;
  startMs: number;
  endMs: number | null;
  sparkVersion?: string;
  properties?: Record<string, string>;
  /** `host`, `addMs` and the rest: the executor summary's fields (issue 15); absent ones are not in the answer. */
  executors: { id: string; cores: number; host?: string; addMs?: number; removeMs?: number; removeReason?: string; tasks?: number; failedTasks?: number; gcMs?: number; shuffleRead?: number; shuffleWrite?: number }[];
  /**
   * `durations`: the task summary's `duration` quantiles (min, p25, p50, p75, max), served at
   * `stages/{id}/{attempt}/taskSummary` for a stage with a completed task (default 100 … 500);
   * `null` answers its task summary with a 404. `submitMs`/`completeMs`/`runMs`/`gcMs`/`peakMem`: the stage summary's.
   */
  stages: {
    id: number;
    attempt?: number;
    status: string;
    complete: number;
    failed?: number;
    killed?: number;
    cpuNs?: number;
    input?: number;
    output?: number;
    shuffleRead?: number;
    shuffleWrite?: number;
    memSpill?: number;
    diskSpill?: number;
    durations?: number[] | null;
    submitMs?: number;
    completeMs?: number;
    runMs?: number;
    gcMs?: number;
    peakMem?: number;
  }[];
  /** Stage ids referenced by jobs (defaults to the listed stages). */
  jobStageIds?: number[];
}

const gmt = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, 'GMT');

/** A `taskSummary` answer as Spark 3.x gives it for the quantiles 0, .25, .5, .75, 1 (doubles; only `duration` is set from the test). */
export function taskSummaryAnswer(duration: number[]): unknown {
  const zeros = duration.map(() => 0);
  return {
    quantiles: [0.0, 0.25, 0.5, 0.75, 1.0],
    duration,
    executorDeserializeTime: zeros,
    executorDeserializeCpuTime: zeros,
    executorRunTime: duration.map((d) => Math.max(0, d - 1)),
    executorCpuTime: zeros,
    resultSize: zeros,
    jvmGcTime: zeros,
    resultSerializationTime: zeros,
    gettingResultTime: zeros,
    schedulerDelay: zeros,
    peakExecutionMemory: zeros,
    memoryBytesSpilled: zeros,
    diskBytesSpilled: zeros,
    inputMetrics: { bytesRead: zeros, recordsRead: zeros },
    outputMetrics: { bytesWritten: zeros, recordsWritten: zeros },
    shuffleReadMetrics: { readBytes: zeros, readRecords: zeros, remoteBlocksFetched: zeros, localBlocksFetched: zeros, fetchWaitTime: zeros, remoteBytesRead: zeros, remoteBytesReadToDisk: zeros, totalBlocksFetched: zeros },
    shuffleWriteMetrics: { writeBytes: zeros, writeRecords: zeros, writeTime: zeros },
  };
}

export function syntheticListing(apps: SyntheticApp[]): unknown[] {
  const byId = new Map<string, SyntheticApp[]>();
  for (const a of apps) byId.set(a.id, [...(byId.get(a.id) ?? []), a]);
  return [...byId.entries()].map(([id, attempts]) => ({
    id,
    name: attempts[0]!.name ?? id,
    attempts: attempts.map((a) => ({
      ...(a.attemptId !== undefined ? { attemptId: a.attemptId } : {}),
      startTime: gmt(a.startMs),
      endTime: a.endMs === null ? '1969-12-31T23:59:59.999GMT' : gmt(a.endMs),
      lastUpdated: gmt(a.endMs ?? a.startMs),
      duration: a.endMs === null ? 0 : a.endMs - a.startMs,
      sparkUser: a.user ?? 'alice',
      completed: a.endMs !== null,
      appSparkVersion: a.sparkVersion ?? '3.5.3',
      startTimeEpoch: a.startMs,
      endTimeEpoch: a.endMs ?? -1,
      lastUpdatedEpoch: a.endMs ?? a.startMs,
    })),
  }));
}

/** Routes for the attempts' /environment, /allexecutors, /stages, /jobs and the stages' taskSummary. */
export function syntheticRoutes(apps: SyntheticApp[]): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const a of apps) {
    const base = `applications/${a.id}${a.attemptId !== undefined ? `/${a.attemptId}` : ''}`;
    routes[`${base}/environment`] = { json: { runtime: { javaVersion: '17' }, sparkProperties: Object.entries(a.properties ?? {}), systemProperties: [], classpathEntries: [] } };
    routes[`${base}/allexecutors`] = {
      json: a.executors.map((e) => ({
        id: e.id,
        hostPort: e.host ?? 'h:1',
        isActive: false,
        totalCores: e.cores,
        totalTasks: e.tasks ?? 0,
        ...(e.failedTasks !== undefined ? { failedTasks: e.failedTasks } : {}),
        ...(e.gcMs !== undefined ? { totalGCTime: e.gcMs } : {}),
        ...(e.shuffleRead !== undefined ? { totalShuffleRead: e.shuffleRead } : {}),
        ...(e.shuffleWrite !== undefined ? { totalShuffleWrite: e.shuffleWrite } : {}),
        ...(e.addMs !== undefined ? { addTime: gmt(e.addMs) } : {}),
        ...(e.removeMs !== undefined ? { removeTime: gmt(e.removeMs) } : {}),
        ...(e.removeReason !== undefined ? { removeReason: e.removeReason } : {}),
      })),
    };
    routes[`${base}/stages`] = {
      json: a.stages.map((s) => ({
        status: s.status,
        stageId: s.id,
        attemptId: s.attempt ?? 0,
        numTasks: s.complete,
        numCompleteTasks: s.complete,
        numFailedTasks: s.failed ?? 0,
        numKilledTasks: s.killed ?? 0,
        executorCpuTime: s.cpuNs ?? 0,
        inputBytes: s.input ?? 0,
        outputBytes: s.output ?? 0,
        shuffleReadBytes: s.shuffleRead ?? 0,
        shuffleWriteBytes: s.shuffleWrite ?? 0,
        memoryBytesSpilled: s.memSpill ?? 0,
        diskBytesSpilled: s.diskSpill ?? 0,
        name: `stage ${s.id}`,
        ...(s.submitMs !== undefined ? { submissionTime: gmt(s.submitMs) } : {}),
        ...(s.completeMs !== undefined ? { completionTime: gmt(s.completeMs) } : {}),
        ...(s.runMs !== undefined ? { executorRunTime: s.runMs } : {}),
        ...(s.gcMs !== undefined ? { jvmGcTime: s.gcMs } : {}),
        ...(s.peakMem !== undefined ? { peakExecutionMemory: s.peakMem } : {}),
      })),
    };
    // Spark answers a task summary for a stage attempt with a successful task (AppStatusStore.taskSummary), else 404.
    for (const s of a.stages) {
      if (s.complete <= 0 || s.status === 'SKIPPED' || s.status === 'PENDING') continue;
      const at = `${base}/stages/${s.id}/${s.attempt ?? 0}/taskSummary`;
      routes[at] = s.durations === null ? { text: `no tasks reported metrics for ${s.id} / ${s.attempt ?? 0}`, status: 404 } : { json: taskSummaryAnswer(s.durations ?? [100, 200, 300, 400, 500]) };
    }
    routes[`${base}/jobs`] = { json: [{ jobId: 0, status: 'SUCCEEDED', stageIds: a.jobStageIds ?? [...new Set(a.stages.map((s) => s.id))] }] };
  }
  return routes;
}

/** A fake server that closes when the test that started it finishes. */
export async function serve(routes: Map<string, Route> | Record<string, Route>): Promise<FakeServer> {
  const s = await startFakeServer(routes);
  onTestFinished(() => s.close());
  return s;
}
