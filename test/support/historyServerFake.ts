/**
 * A real HTTP server on 127.0.0.1 (random port) that plays a Spark History Server for tests.
 * Routes are keyed by the path after `/api/v1/`, with the query string (`applications?status=completed`)
 * or without it (matched when no route has the exact query). A route is a JSON value (served as is),
 * or a handler that answers itself (faults: slow, reset, truncated, 429, …).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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
    if (route === undefined) {
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
  executors: { id: string; cores: number }[];
  stages: { id: number; attempt?: number; status: string; complete: number; failed?: number; killed?: number; cpuNs?: number; input?: number; output?: number; shuffleRead?: number; shuffleWrite?: number; memSpill?: number; diskSpill?: number }[];
  /** Stage ids referenced by jobs (defaults to the listed stages). */
  jobStageIds?: number[];
}

const gmt = (ms: number): string => new Date(ms).toISOString().replace(/Z$/, 'GMT');

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

/** Routes for the attempts' /environment, /allexecutors, /stages and /jobs. */
export function syntheticRoutes(apps: SyntheticApp[]): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const a of apps) {
    const base = `applications/${a.id}${a.attemptId !== undefined ? `/${a.attemptId}` : ''}`;
    routes[`${base}/environment`] = { json: { runtime: { javaVersion: '17' }, sparkProperties: Object.entries(a.properties ?? {}), systemProperties: [], classpathEntries: [] } };
    routes[`${base}/allexecutors`] = { json: a.executors.map((e) => ({ id: e.id, hostPort: 'h:1', isActive: false, totalCores: e.cores, totalTasks: 0 })) };
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
      })),
    };
    routes[`${base}/jobs`] = { json: [{ jobId: 0, status: 'SUCCEEDED', stageIds: a.jobStageIds ?? [...new Set(a.stages.map((s) => s.id))] }] };
  }
  return routes;
}
