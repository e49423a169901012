/**
 * History Server `mode: eventlog`, incremental runs (a review): a second collect asks again for the
 * hour before its cursor (cursor.ts OVERLAP_MS), and every finished attempt listed there was
 * downloaded again (its whole `/logs` zip, GBs for a large log) to be stored unchanged; mode api
 * already left those out. Now a finished attempt read from its log without errors is held as in
 * mode api, under its `/logs` URL, so that a record read through the REST answers does not stop the
 * (more exact) log from being read when a source changes mode.
 *
 * Also (mode api): an incremental run judged each attempt by the cursor's `since`, so the first
 * attempt of a YARN-retried application, still running at the last run, was left out for good when
 * the application ended: it had ended long before the cursor.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { OVERLAP_MS } from '../src/collectors/historyServer/cursor';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import type { JobRepository } from '../src/storage/repository';
import { unchangedCheck } from '../src/storage/unchanged';
import { eventLogText } from './support/eventLogGenerator';
import { serve, syntheticListing, syntheticRoutes, type Route, type SyntheticApp } from './support/historyServerFake';
import { memoryRepository } from './support/memoryRepository';
import { zip } from './support/zip';

const T0 = Date.UTC(2024, 5, 1);

/** Two finished applications ten minutes apart (both in the overlap hour of a run after them), their logs served as zips at `/logs`. */
async function twoApps(): Promise<{ apps: SyntheticApp[]; routes: Record<string, Route> }> {
  const logs = [eventLogText({ appId: 'app-a', startMs: T0, seed: 1 }), eventLogText({ appId: 'app-b', startMs: T0 + 600_000, seed: 2 })];
  const apps: SyntheticApp[] = logs.map((l, i) => ({ id: i === 0 ? 'app-a' : 'app-b', startMs: l.totals.start_ms, endMs: l.totals.end_ms, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
  const routes: Record<string, Route> = { applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps) };
  for (const [i, l] of logs.entries()) {
    const bytes = await zip({ [apps[i]!.id]: l.text });
    routes[`applications/${apps[i]!.id}/logs`] = (_req: unknown, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bytes);
    };
  }
  return { apps, routes };
}

function source(url: string, mode: 'api' | 'eventlog'): SourceConfig {
  return { ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: url, mode }), name: 'history_server' };
}

/** One collection into `repo` as `collect` runs it: planned with the store's cursor, the store telling what it holds. */
async function collect(repo: JobRepository, url: string, mode: 'api' | 'eventlog'): Promise<{ counts: { new: number; updated: number; unchanged: number }; since: string | undefined }> {
  const planned = plan([source(url, mode)], { overrides: {}, newestEndTime: (of) => repo.newestEndTime(of) });
  const isUnchanged = unchangedCheck(repo.knownFiles());
  const result = await collectRun(planned.jobs, ({ job }, signal) => ({ batches: runJob(job, { signal, isUnchanged }) }), storeSink(repo), new AbortController().signal);
  return { counts: result.counts, since: (planned.jobs[0]!.job.options as HistoryServerOptions).since?.toISOString() };
}

describe('History Server mode eventlog: incremental runs', () => {
  it('a second run does not download again the logs of finished attempts it stored (both in the overlap hour)', async () => {
    const { repo } = await memoryRepository();
    const { apps, routes } = await twoApps();
    const s = await serve(routes);
    const logRequests = (): string[] => s.requests.filter((r) => r.endsWith('/logs'));
    expect((await collect(repo, s.url, 'eventlog')).counts).toMatchObject({ new: 2, updated: 0, unchanged: 0 });
    expect(logRequests().sort()).toEqual(['applications/app-a/logs', 'applications/app-b/logs']);
    const second = await collect(repo, s.url, 'eventlog');
    // The cursor is app-b's end: the run asks from an hour before it, which lists both again.
    expect(second.since).toBe(new Date(apps[1]!.endMs! - OVERLAP_MS).toISOString());
    expect(second.counts).toMatchObject({ new: 0, updated: 0, unchanged: 2 });
    expect(logRequests()).toHaveLength(2);
  });

  it('attempts stored through the REST answers (mode api) are still read from their logs when the source changes to mode eventlog', async () => {
    const { repo } = await memoryRepository();
    const { routes } = await twoApps();
    const s = await serve(routes);
    expect((await collect(repo, s.url, 'api')).counts).toMatchObject({ new: 2 });
    const switched = await collect(repo, s.url, 'eventlog');
    expect(s.requests.filter((r) => r.endsWith('/logs')).sort()).toEqual(['applications/app-a/logs', 'applications/app-b/logs']);
    expect(switched.counts.new + switched.counts.updated + switched.counts.unchanged).toBe(2);
    expect(switched.counts.unchanged).toBeLessThan(2);
  });

  it('an attempt whose log was read with an error is downloaded again next run', async () => {
    const { repo } = await memoryRepository();
    const { routes } = await twoApps();
    // app-b's zip holds no event log: its attempt fails, and is not held.
    const empty = await zip({ 'notes.txt': 'nothing here' });
    routes['applications/app-b/logs'] = (_req: unknown, res: ServerResponse) => {
      res.writeHead(200);
      res.end(empty);
    };
    const s = await serve(routes);
    expect((await collect(repo, s.url, 'eventlog')).counts).toMatchObject({ new: 1 });
    await collect(repo, s.url, 'eventlog');
    expect(s.requests.filter((r) => r === 'applications/app-b/logs')).toHaveLength(2);
    expect(s.requests.filter((r) => r === 'applications/app-a/logs')).toHaveLength(1);
  });
});

/**
 * `/applications` as Spark's ApplicationListResource answers it, for the tests below: status (an
 * application whose latest attempt runs is running), minEndDate (any attempt of a completed one in
 * the window), newest end first, limit.
 */
function sparkListing(apps: () => SyntheticApp[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const minEnd = q.has('minEndDate') ? Date.parse(q.get('minEndDate')!.replace(/GMT$/, 'Z')) : -Infinity;
    const listing = syntheticListing(apps()) as { attempts: { endTimeEpoch: number; completed: boolean }[] }[];
    const out = listing
      .filter((a) => (a.attempts[0]!.completed ? q.get('status') !== 'running' && a.attempts.some((t) => t.endTimeEpoch >= minEnd) : q.get('status') !== 'completed'))
      .sort((a, b) => b.attempts[0]!.endTimeEpoch - a.attempts[0]!.endTimeEpoch)
      .slice(0, q.has('limit') ? Number(q.get('limit')) : undefined);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  };
}

describe('History Server incremental runs: a retried application', () => {
  it('the first attempt of an application that was still running at the last run is collected once the application ends, however long before the cursor it ended', async () => {
    const { repo } = await memoryRepository();
    const others: SyntheticApp[] = Array.from({ length: 5 }, (_, i) => ({ id: `app-${i}`, startMs: T0 + i * 1000 - 500, endMs: T0 + i * 1000, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
    // YARN retried app-r: attempt 1 failed five hours before the others ended; attempt 2 still runs.
    const first: SyntheticApp = { id: 'app-r', attemptId: '1', startMs: T0 - 6 * 3_600_000, endMs: T0 - 5 * 3_600_000, executors: [{ id: 'driver', cores: 1 }], stages: [] };
    let second: SyntheticApp = { ...first, attemptId: '2', startMs: T0 - 5 * 3_600_000, endMs: null };
    const s = await serve({ applications: sparkListing(() => [second, first, ...others]), ...syntheticRoutes([first, second, ...others]) });
    expect((await collect(repo, s.url, 'api')).counts).toMatchObject({ new: 5 });
    // Attempt 2 ends three hours after the others: the next run asks from the cursor (app-4's end) minus the overlap.
    second = { ...second, endMs: T0 + 3 * 3_600_000 };
    const next = await collect(repo, s.url, 'api');
    expect(next.since).toBe(new Date(T0 + 4000 - OVERLAP_MS).toISOString());
    const keys = repo.list({ limit: 100 }).map((r) => `${r.app_id}/${r.attempt_id ?? '-'}`).sort();
    expect(keys).toEqual(['app-0/-', 'app-1/-', 'app-2/-', 'app-3/-', 'app-4/-', 'app-r/1', 'app-r/2']);
    expect(next.counts).toMatchObject({ new: 2, unchanged: 5 });
  });
});
