/**
 * What the History Server collector lists, against a fake that answers `/applications` as Spark's
 * ApplicationListResource does (status, minDate, minEndDate, maxEndDate, limit; an application is
 * listed when any attempt is in the window; newest end first, by its latest attempt), and where an
 * incremental run starts (a review, items 1 to 5):
 *
 * 1. max-apps above a page with a YARN-retried application: the listing kept asking for pages full of
 *    the retried application and failed (r1).
 * 2. max-apps counted other users' and other shards' applications (r8).
 * 3. status all + since asked for minDate only: an application that started before since and ended
 *    after it was dropped (r5).
 * 4. The incremental cursor was the newest end time stored under the source's name, so a capped
 *    trial run, a cancelled or failed first run, a run of one user, or another server collected under
 *    the same name made every later run skip the older applications for good (r10, r11, r3); now only a
 *    complete listing of the same server records one (historyServer/cursor.ts), on both stores.
 * 5. An application the server listed late (log replay), after a newer one was stored, was never
 *    collected (r2): incremental runs ask from the cursor minus an hour.
 */
import { describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { JobOverrides } from '../src/collectors/descriptor';
import { collectHistoryServerAll, type HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { OVERLAP_MS } from '../src/collectors/historyServer/cursor';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import type { JobRepository } from '../src/storage/repository';
import { unchangedCheck } from '../src/storage/unchanged';
import { describeEachStore } from './support/stores';
import { serve, syntheticListing, syntheticRoutes, type FakeServer, type Handler, type SyntheticApp } from './support/historyServerFake';

const T0 = Date.UTC(2024, 0, 10);
const fast = (url: string, extra: Partial<HistoryServerOptions> = {}): HistoryServerOptions => ({ url, backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000, ...extra });
const param = (v: string | null): number | undefined => (v === null ? undefined : Date.parse(v.replace(/GMT$/, 'Z')));

/**
 * `/applications` as Spark answers it, over whatever `apps()` holds when asked (a list a test may
 * change between runs). Attempts of one application are given latest first, as Spark keeps them.
 */
export function sparkListing(apps: () => SyntheticApp[]): Handler {
  return (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const status = q.getAll('status').map((s) => s.toLowerCase());
    const wantCompleted = status.length === 0 || status.includes('completed');
    const wantRunning = status.length === 0 || status.includes('running');
    const minDate = param(q.get('minDate')) ?? -Infinity;
    const minEnd = param(q.get('minEndDate')) ?? -Infinity;
    const maxEnd = param(q.get('maxEndDate')) ?? Infinity;
    const limit = q.has('limit') ? Number(q.get('limit')) : Infinity;
    const listing = syntheticListing(apps()) as { id: string; attempts: { startTimeEpoch: number; endTimeEpoch: number; completed: boolean }[] }[];
    const latestEnd = (a: (typeof listing)[number]): number => (a.attempts[0]!.completed ? a.attempts[0]!.endTimeEpoch : Infinity);
    const out = listing
      .sort((a, b) => latestEnd(b) - latestEnd(a) || (a.id < b.id ? -1 : 1))
      .filter((app) => {
        const running = !app.attempts[0]!.completed;
        if (running ? !wantRunning : !wantCompleted) return false;
        return app.attempts.some((at) => at.startTimeEpoch >= minDate && (running || (at.endTimeEpoch >= minEnd && at.endTimeEpoch <= maxEnd)));
      })
      .slice(0, limit);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(out));
  };
}

/** An attempt that ran `ms` and ended at `end`, by `user`. */
export const app = (id: string, end: number | null, extra: Partial<SyntheticApp> = {}): SyntheticApp => ({
  id,
  user: 'etl',
  startMs: (end ?? T0) - 500,
  endMs: end,
  executors: [{ id: 'driver', cores: 1 }],
  stages: [],
  ...extra,
});

function sparkServer(apps: SyntheticApp[]): Promise<FakeServer> {
  return serve({ applications: sparkListing(() => apps), ...syntheticRoutes(apps) });
}

const ids = (r: { apps: { record: { app_id: string; attempt_id: string | null } }[] }): string[] => [...new Set(r.apps.map((a) => a.record.app_id))].sort();

describe('History Server listing: max-apps, users, shards, status all', () => {
  it('max-apps 501 with a YARN-retried application (an attempt a day older): 501 applications, no listing failure (r1)', async () => {
    const apps: SyntheticApp[] = [
      // Latest attempt first: it ends after every other application; the first ended a day before them all.
      app('app-retried', T0 + 1_000_000, { attemptId: '2' }),
      app('app-retried', T0 - 86_000_000, { attemptId: '1', startMs: T0 - 86_400_000 }),
    ];
    for (let i = 0; i < 520; i++) apps.push(app(`app-${String(i).padStart(4, '0')}`, T0 + i * 1000));
    const s = await sparkServer(apps);
    const r = await collectHistoryServerAll(fast(s.url, { maxApps: 501 }));
    expect(r.problems).toEqual([]);
    expect(ids(r)).toHaveLength(501);
    // Both of the retried application's attempts, once each.
    expect(r.apps.filter((a) => a.record.app_id === 'app-retried').map((a) => a.record.attempt_id)).toEqual(['2', '1']);
    // The second page asked for the one new application plus the two it knew would come again.
    expect(s.requests.filter((p) => p.startsWith('applications?'))).toEqual([
      'applications?status=completed&limit=500',
      `applications?status=completed&maxEndDate=${encodeURIComponent(new Date(T0 + 21_000).toISOString().replace('Z', 'GMT'))}&limit=3`,
    ]);

    // A whole listing with small pages: every application once, however many pages the retried one comes again on.
    const all = await collectHistoryServerAll(fast(s.url, { pageSize: 7 }));
    expect(all.problems).toEqual([]);
    expect(ids(all)).toHaveLength(521);
    expect(all.apps).toHaveLength(522);
  });

  it('since leaves out, before fetching, an attempt that ended before it (the server lists the application for its newer attempt)', async () => {
    const apps = [app('app-retried', T0 + 1000, { attemptId: '2' }), app('app-retried', T0 - 86_000_000, { attemptId: '1', startMs: T0 - 86_400_000 })];
    const s = await sparkServer(apps);
    const r = await collectHistoryServerAll(fast(s.url, { since: new Date(T0) }));
    expect(r.apps.map((a) => a.record.attempt_id)).toEqual(['2']);
    expect(r.filtered).toBe(1);
    expect(s.requests.filter((p) => p.startsWith('applications/app-retried/1/'))).toEqual([]);
  });

  it('max-apps counts the user’s applications, not the others listed before them (r8)', async () => {
    // Newest first: five of etl's, then three of irashid's.
    const apps = [...[0, 1, 2].map((i) => app(`app-ira-${i}`, T0 + i * 1000, { user: 'irashid' })), ...[3, 4, 5, 6, 7].map((i) => app(`app-etl-${i}`, T0 + i * 1000))];
    const s = await sparkServer(apps);
    const r = await collectHistoryServerAll(fast(s.url, { user: 'irashid', maxApps: 3 }));
    expect(r.problems).toEqual([]);
    expect(ids(r)).toEqual(['app-ira-0', 'app-ira-1', 'app-ira-2']);
    const two = await collectHistoryServerAll(fast(s.url, { user: 'irashid', maxApps: 2 }));
    expect(ids(two)).toEqual(['app-ira-1', 'app-ira-2']);
  });

  it('max-apps counts the shard’s applications, not other shards’ (r8)', async () => {
    const apps = Array.from({ length: 40 }, (_, i) => app(`app-${i}`, T0 + i * 1000));
    const s = await sparkServer(apps);
    const shard = { index: 1, count: 4 };
    const whole = await collectHistoryServerAll(fast(s.url, { shard }));
    const mine = ids(whole);
    expect(mine.length).toBeGreaterThan(3);
    const r = await collectHistoryServerAll(fast(s.url, { shard, maxApps: 3 }));
    expect(r.problems).toEqual([]);
    // The shard's three newest.
    const newest = [...mine].sort((a, b) => Number(b.slice(4)) - Number(a.slice(4))).slice(0, 3).sort();
    expect(ids(r)).toEqual(newest);
  });

  it('status all with since: completed applications that ended at/after since (even if they started before), running ones that started at/after it (r5)', async () => {
    const since = new Date(T0);
    const apps = [
      app('app-long', T0 + 60_000, { startMs: T0 - 3_600_000 }), // started before since, ended after: kept
      app('app-old', T0 - 60_000), // ended before since: left out
      app('app-new', T0 + 5_000), // kept
      app('app-running-new', null, { startMs: T0 + 1000 }), // kept
      app('app-running-old', null, { startMs: T0 - 1000 }), // started before since: left out
    ];
    const s = await sparkServer(apps);
    const r = await collectHistoryServerAll(fast(s.url, { status: 'all', since }));
    expect(r.problems).toEqual([]);
    expect(ids(r)).toEqual(['app-long', 'app-new', 'app-running-new']);
    const at = encodeURIComponent(since.toISOString().replace('Z', 'GMT'));
    expect(s.requests.filter((p) => p.startsWith('applications?'))).toEqual([`applications?status=running&minDate=${at}`, `applications?status=completed&minEndDate=${at}&limit=500`]);
  });
});

// ---------------------------------------------------------------------------------------------
// Where incremental runs start (the cursor), through the pipeline the CLI and the editor run.

/** A CLI run: `--source history-server --url URL [flags]`, named by its type whatever the URL. */
function cliSource(url: string): SourceConfig {
  return { ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: url }), name: 'history_server' };
}

interface RunOutcome {
  counts: { new: number; updated: number; unchanged: number };
  /** The `since` the run asked the server for (ISO), if any. */
  since: string | undefined;
}

/** One collection into `repo` as `collect` runs it: planned with the store's cursor, run, stored. */
async function collect(repo: JobRepository, url: string, overrides: JobOverrides = {}, stopAfter?: number): Promise<RunOutcome> {
  const planned = plan([cliSource(url)], { overrides, newestEndTime: (of) => repo.newestEndTime(of) });
  const controller = new AbortController();
  let stored = 0;
  // What the store holds, as the CLI's store and the editor's worker tell it (unchanged.ts).
  const isUnchanged = unchangedCheck(repo.knownFiles());
  const result = await collectRun(planned.jobs, ({ job }, signal) => ({ batches: runJob(job, { signal, isUnchanged }) }), storeSink(repo), controller.signal, (batch) => {
    stored += batch.apps.length;
    if (stopAfter !== undefined && stored >= stopAfter) controller.abort();
  });
  const since = (planned.jobs[0]!.job.options as HistoryServerOptions).since;
  return { counts: result.counts, since: since?.toISOString() };
}

const storedIds = (repo: JobRepository): string[] => repo.list({ limit: 100_000 }).map((r) => r.app_id).sort();

/** `n` completed applications a second apart, newest `app-{n-1}`, ending at T0 + i s. */
const many = (n: number, prefix = 'app'): SyntheticApp[] => Array.from({ length: n }, (_, i) => app(`${prefix}-${String(i).padStart(3, '0')}`, T0 + i * 1000));

describeEachStore('History Server incremental runs: the cursor', (open) => {
  it('a --max-apps trial, then a full run: the full run collects the older applications too (r10)', async () => {
    const repo = await open();
    const s = await sparkServer(many(30));
    const trial = await collect(repo, s.url, { maxApps: 5 });
    expect(trial.counts.new).toBe(5);
    const full = await collect(repo, s.url);
    // No cursor from the capped trial: the full run lists everything.
    expect(full.since).toBeUndefined();
    expect(full.counts).toMatchObject({ new: 25, unchanged: 5 });
    expect(storedIds(repo)).toHaveLength(30);
    // That complete run recorded where it reached (the newest it stored: the trial's five were held, not
    // fetched again); the next asks from there minus the overlap.
    const next = await collect(repo, s.url);
    expect(next.since).toBe(new Date(T0 + 24_000 - OVERLAP_MS).toISOString());
    expect(repo.listRuns(1)[0]!.options).toMatchObject({ cursor: new Date(T0 + 24_000).toISOString() });
    expect(next.counts).toMatchObject({ new: 0, updated: 0, unchanged: 30 });
  });

  it('a capped run whose cap is partly met by applications the store holds records no cursor either', async () => {
    const repo = await open();
    // Two hours apart: the overlap covers one application, not all.
    const s = await sparkServer(Array.from({ length: 20 }, (_, i) => app(`app-${String(i).padStart(3, '0')}`, T0 + i * 7_200_000)));
    await collect(repo, s.url, { maxApps: 5 });
    const capped = await collect(repo, s.url, { maxApps: 8 });
    // The five newest are held (counted unchanged, not fetched), three more stored: the cap was reached.
    expect(capped.counts).toMatchObject({ new: 3, unchanged: 5 });
    const full = await collect(repo, s.url);
    expect(full.since).toBeUndefined();
    expect(storedIds(repo)).toHaveLength(20);
  });

  it('a first run cancelled part way, then a re-run: the re-run collects the rest (r11)', async () => {
    const repo = await open();
    const s = await sparkServer(many(40));
    const first = await collect(repo, s.url, { batchSize: 2, concurrency: 1 }, 6);
    expect(first.counts.new).toBeGreaterThanOrEqual(6);
    expect(first.counts.new).toBeLessThan(40);
    const again = await collect(repo, s.url);
    expect(again.since).toBeUndefined();
    expect(storedIds(repo)).toHaveLength(40);
  });

  it('two servers collected under one name (the CLI names runs by type): the second one’s older applications are all collected (r3)', async () => {
    const repo = await open();
    const a = await sparkServer(many(5, 'a').map((x) => ({ ...x, endMs: x.endMs! + 86_400_000, startMs: x.startMs + 86_400_000 })));
    const b = await sparkServer(many(12, 'b'));
    await collect(repo, a.url);
    const second = await collect(repo, b.url);
    expect(second.since).toBeUndefined();
    expect(second.counts.new).toBe(12);
    // Each server has its own cursor, under the same name.
    expect((await collect(repo, a.url)).since).toBe(new Date(T0 + 86_400_000 + 4000 - OVERLAP_MS).toISOString());
    expect((await collect(repo, b.url)).since).toBe(new Date(T0 + 11_000 - OVERLAP_MS).toISOString());
    // Credentials in the URL, or /api/v1, name the same server.
    expect((await collect(repo, b.url.replace('http://', 'http://u:pw@') + '/api/v1/')).since).toBe(new Date(T0 + 11_000 - OVERLAP_MS).toISOString());
  });

  it('a first run of one user, then a run of all: everyone’s applications', async () => {
    const repo = await open();
    const apps = many(10).map((x, i) => ({ ...x, user: i === 9 ? 'irashid' : 'etl' }));
    const s = await sparkServer(apps);
    expect((await collect(repo, s.url, { user: 'irashid' })).counts.new).toBe(1);
    const all = await collect(repo, s.url);
    expect(all.since).toBeUndefined();
    expect(storedIds(repo)).toHaveLength(10);
  });

  it('a listing that fails part way, then a run that can read it: the rest arrives', async () => {
    const repo = await open();
    const apps = many(505);
    let failing = true;
    const listing = sparkListing(() => apps);
    const s = await serve({
      ...syntheticRoutes(apps),
      applications: (req, res, hit) => {
        // The second page (of 500) fails, every retry: list-failed after the newest 500.
        if (failing && (req.url ?? '').includes('maxEndDate')) {
          res.writeHead(500);
          res.end('down');
          return;
        }
        listing(req, res, hit);
      },
    });
    const first = await collect(repo, s.url, { concurrency: 8 });
    expect(first.counts.new).toBe(500);
    failing = false;
    const again = await collect(repo, s.url, { concurrency: 8 });
    expect(again.since).toBeUndefined();
    expect(storedIds(repo)).toHaveLength(505);
  });

  it('an application that could not be fetched is asked for again by the next run', async () => {
    const repo = await open();
    const apps = many(12);
    let failing = true;
    const routes = syntheticRoutes(apps);
    const stages = routes['applications/app-003/stages']!;
    const s = await serve({
      ...routes,
      applications: sparkListing(() => apps),
      'applications/app-003/stages': (req, res, hit) => {
        if (!failing) return typeof stages === 'function' ? stages(req, res, hit) : (res.writeHead(200, { 'content-type': 'application/json' }), res.end(JSON.stringify((stages as { json: unknown }).json)));
        res.writeHead(500);
        res.end('broken');
      },
    });
    expect((await collect(repo, s.url)).counts.new).toBe(11);
    failing = false;
    const again = await collect(repo, s.url);
    expect(again.since).toBeUndefined();
    expect(storedIds(repo)).toHaveLength(12);
  });

  it('an application listed late (its log replayed after a newer one was stored) is collected by the next run: the overlap (r2)', async () => {
    const repo = await open();
    const apps = [app('app-b', T0 + 10_000)];
    const s = await serve({ applications: sparkListing(() => apps), ...syntheticRoutes([app('app-a', T0), app('app-b', T0 + 10_000), app('app-c', T0 + 20_000)]) });
    expect((await collect(repo, s.url)).counts.new).toBe(1);
    // The server has now replayed A (ended 10 s before B) and C.
    apps.push(app('app-a', T0), app('app-c', T0 + 20_000));
    const second = await collect(repo, s.url);
    expect(second.since).toBe(new Date(T0 + 10_000 - OVERLAP_MS).toISOString());
    // B, listed again in the overlap, is held completed with the same end time: counted unchanged, not fetched again.
    expect(second.counts).toMatchObject({ new: 2, unchanged: 1 });
    expect(storedIds(repo)).toEqual(['app-a', 'app-b', 'app-c']);
    expect(s.requests.filter((p) => p.startsWith('applications/app-b/')).filter((p) => p.endsWith('/environment'))).toHaveLength(1);
    expect(s.requests.filter((p) => p.startsWith('applications/app-a/')).filter((p) => p.endsWith('/environment'))).toHaveLength(1);
    // A third run: A, B and C are all in the hour before the cursor, none is fetched again.
    const before = s.requests.length;
    const third = await collect(repo, s.url);
    expect(third.since).toBe(new Date(T0 + 20_000 - OVERLAP_MS).toISOString());
    expect(third.counts).toMatchObject({ new: 0, updated: 0, unchanged: 3 });
    expect(s.requests.slice(before).filter((p) => !p.startsWith('applications?'))).toEqual([]);
  });
});
