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
 */
import { describe, expect, it } from 'vitest';
import { collectHistoryServerAll, type HistoryServerOptions } from '../src/collectors/historyServer/collect';
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
