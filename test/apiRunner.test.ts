/**
 * The API collector runner (src/collectors/api/runner.ts) over an in-memory API: items are numbers,
 * listed in pages, each fetched into a record. What every API collector relies on: a refused
 * credential stops the requests, cancel stops the fetching, maxApps, the since/user filter, batches
 * no larger than batch_size, progress, and clients closed only after the last request has ended.
 */
import { describe, expect, it } from 'vitest';
import { listedMark, runApiCollector, type ApiCollector, type ApiCollectorOptions, type ApiRun, type Found, type Page } from '../src/collectors/api/runner';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectProgress, type CollectedApp } from '../src/collectors/contract';
import type { SparkAppRecord } from '../src/collectors/record';
import { makeRecord } from './support/records';

/** A 401 of the fake API. */
class Refused extends Error {}

const T0 = Date.parse('2024-06-01T00:00:00Z');
const HOUR = 3_600_000;

/** Item n: user `ann` when even, `bob` when odd; ends n hours after T0. */
const recordOf = (n: number, over: Partial<SparkAppRecord> = {}): SparkAppRecord =>
  makeRecord({ app_id: `app-${n}`, user: n % 2 === 0 ? 'ann' : 'bob', start_time: new Date(T0 + n * HOUR - 60_000).toISOString(), end_time: new Date(T0 + n * HOUR).toISOString(), ...over });
const appOf = (n: number, over: Partial<SparkAppRecord> = {}): CollectedApp => ({ record: recordOf(n, over), problems: [], files: [], provenance: apiProvenance(`fake/${n}`) });
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_v, i) => from + i);
const ids = (apps: CollectedApp[]): string[] => apps.map((a) => a.record.app_id);

/** Resolves after `ms`, or rejects with the signal's reason once it aborts. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    });
  });
}

/** What the fake API saw. */
interface Seen {
  pagesAsked: number;
  fetched: number[];
  inFlight: number;
  mostInFlight: number;
  /** Fetches not yet settled when close() was called. */
  openAtClose: number | undefined;
  closed: number;
}

type Steps = Omit<ApiCollector<number, CollectedApp>, 'maxApps' | 'shard' | 'list' | 'fetch' | 'found' | 'refused' | 'listFailed' | 'failed' | 'close'> &
  Partial<Pick<ApiCollector<number, CollectedApp>, 'maxApps' | 'shard' | 'found' | 'fetch'>> & {
    /** Pages of item numbers; an Error in place of a page is thrown there. */
    pages?: (number[] | Error)[];
    /** How long each fetch takes (default 1 ms), or throws. */
    fetchMs?: (n: number) => number | Error;
  };

function fakeApi(steps: Steps): { seen: Seen; build: (run: ApiRun) => ApiCollector<number, CollectedApp> } {
  const seen: Seen = { pagesAsked: 0, fetched: [], inFlight: 0, mostInFlight: 0, openAtClose: undefined, closed: 0 };
  const { pages = [range(1, 10)], fetchMs = () => 1, ...rest } = steps;
  const build = (run: ApiRun): ApiCollector<number, CollectedApp> => ({
    maxApps: 'items',
    shard: { unit: 'item', key: String },
    list: async function* (): AsyncGenerator<Page<number>> {
      for (const page of pages) {
        seen.pagesAsked++;
        await wait(1, run.signal);
        if (page instanceof Error) throw page;
        yield { items: page };
      }
    },
    fetch: async (n) => {
      seen.fetched.push(n);
      seen.inFlight++;
      seen.mostInFlight = Math.max(seen.mostInFlight, seen.inFlight);
      try {
        const ms = fetchMs(n);
        if (ms instanceof Error) throw ms;
        await wait(ms, run.signal);
        return appOf(n);
      } finally {
        seen.inFlight--;
      }
    },
    found: (app): Found[] => [{ apps: [app] }],
    refused: (err) => (err instanceof Refused ? { severity: 'error', code: 'auth-failed', message: `${err.message}; stopping the run`, file: 'fake' } : undefined),
    listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: `listing failed: ${err.message}`, file: 'fake' }),
    failed: (n, err) => ({ severity: 'error', code: 'item-failed', message: `item ${n}: ${err.message}`, file: `fake/${n}` }),
    close: () => {
      seen.openAtClose = seen.inFlight;
      seen.closed++;
    },
    ...rest,
  });
  return { seen, build };
}

async function batchesOf(options: ApiCollectorOptions, steps: Steps, ctx: CollectContext = {}): Promise<{ batches: Batch[]; seen: Seen; progress: CollectProgress[] }> {
  const { seen, build } = fakeApi(steps);
  const progress: CollectProgress[] = [];
  const batches: Batch[] = [];
  for await (const b of runApiCollector(options, { ...ctx, onProgress: (p) => progress.push(p) }, build)) batches.push(b);
  return { batches, seen, progress };
}

const sizeOf = (b: Batch): number => b.apps.length + b.problems.length + b.filtered;

describe('API collector runner', () => {
  it('stores each item once, in batches never over batch_size (records, problems and filtered all count), with progress per item', async () => {
    const { batches, seen, progress } = await batchesOf(
      { batchSize: 3, user: 'ann' },
      {
        pages: [range(1, 7), range(8, 14)],
        // The listing knows the user: bob's items are left out before they are fetched.
        listed: (n) => ({ user: n % 2 === 0 ? 'ann' : 'bob' }),
        fetchMs: (n) => (n === 6 ? new Error('HTTP 500') : 1),
      },
    );
    const apps = batches.flatMap((b) => b.apps);
    expect(ids(apps).sort()).toEqual(['app-10', 'app-12', 'app-14', 'app-2', 'app-4', 'app-8']);
    expect(batches.flatMap((b) => b.problems)).toEqual([{ severity: 'error', code: 'item-failed', message: 'item 6: HTTP 500', file: 'fake/6' }]);
    expect(batches.reduce((n, b) => n + b.filtered, 0)).toBe(7);
    expect(seen.fetched.sort((a, b) => a - b)).toEqual([2, 4, 6, 8, 10, 12, 14]);
    for (const b of batches) expect(sizeOf(b)).toBeLessThanOrEqual(3);
    expect(batches.length).toBe(Math.ceil((6 + 1 + 7) / 3));
    expect(progress.at(-1)).toMatchObject({ logsFound: 7, logsDone: 7, apps: 6, problems: 1 });
    expect(seen.closed).toBe(1);
  });

  it('fetches at most `concurrency` items at once', async () => {
    const { batches, seen } = await batchesOf({ concurrency: 3 }, { pages: [range(1, 20)], fetchMs: (n) => 1 + (n % 4) });
    expect(batches.flatMap((b) => b.apps)).toHaveLength(20);
    expect(seen.mostInFlight).toBe(3);
  });

  it('refused credentials on one item: one auth-failed problem, the fetches in flight are aborted, nothing more is fetched or stored', async () => {
    const { batches, seen } = await batchesOf({ concurrency: 2 }, { pages: [range(1, 20)], fetchMs: (n) => (n === 3 ? new Refused('HTTP 401') : n === 1 ? 1 : 50) });
    // 1 and 2 start; 1 ends and 3 takes its place and is refused while 2 is still in flight.
    expect(seen.fetched).toEqual([1, 2, 3]);
    expect(ids(batches.flatMap((b) => b.apps))).toEqual(['app-1']);
    expect(batches.flatMap((b) => b.problems)).toEqual([{ severity: 'error', code: 'auth-failed', message: 'HTTP 401; stopping the run', file: 'fake' }]);
    expect(seen.openAtClose).toBe(0);
  });

  it('a refused listing stops the run before anything is fetched; a listing that fails later ends the list and the items being fetched still arrive', async () => {
    const refused = await batchesOf({}, { pages: [new Refused('HTTP 403')] });
    expect(refused.batches.flatMap((b) => b.problems).map((p) => p.code)).toEqual(['auth-failed']);
    expect(refused.seen.fetched).toEqual([]);

    const failed = await batchesOf({ concurrency: 2 }, { pages: [[1, 2, 3], new Error('HTTP 500'), [4, 5]], fetchMs: () => 20 });
    expect(ids(failed.batches.flatMap((b) => b.apps)).sort()).toEqual(['app-1', 'app-2', 'app-3']);
    expect(failed.batches.flatMap((b) => b.problems)).toEqual([{ severity: 'error', code: 'list-failed', message: 'listing failed: HTTP 500', file: 'fake' }]);
    expect(failed.seen.pagesAsked).toBe(2);
  });

  it('cancel rejects with the caller\'s reason, aborts the fetches in flight, starts no other, and closes once they have ended', async () => {
    const controller = new AbortController();
    const { seen, build } = fakeApi({ pages: [range(1, 50)], fetchMs: () => 60_000 });
    const run = gather(runApiCollector({ concurrency: 4 }, { signal: controller.signal, onProgress: (p) => p.logsFound > 0 && setTimeout(() => controller.abort(new Error('cancelled by test')), 5) }, build));
    await expect(run).rejects.toThrow('cancelled by test');
    expect(seen.fetched).toEqual([1, 2, 3, 4]);
    expect(seen.closed).toBe(1);
    expect(seen.openAtClose).toBe(0);
  });

  it('a run cancelled before it starts asks for nothing', async () => {
    const { seen, build } = fakeApi({});
    await expect(gather(runApiCollector({}, { signal: AbortSignal.abort(new Error('cancelled early')) }, build))).rejects.toThrow('cancelled early');
    expect(seen.fetched).toEqual([]);
    expect(seen.closed).toBe(1);
  });

  it('a consumer that stops reading still gets the fetches in flight aborted and the clients closed after them', async () => {
    const { seen, build } = fakeApi({ pages: [range(1, 50)], fetchMs: (n) => (n === 1 ? 1 : 60_000) });
    for await (const b of runApiCollector({ batchSize: 1, concurrency: 3 }, {}, build)) {
      expect(ids(b.apps)).toEqual(['app-1']);
      break;
    }
    // 1 ends and its batch is handed over before another fetch starts.
    expect(seen.fetched).toEqual([1, 2, 3]);
    expect(seen.closed).toBe(1);
    expect(seen.openAtClose).toBe(0);
  });

  it("maxApps of items counts the items the listed filter keeps, and asks for no page after the one that reaches it", async () => {
    const { batches, seen } = await batchesOf(
      { maxApps: 4, user: 'ann' },
      { pages: [[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]], listed: (n) => ({ user: n % 2 === 0 ? 'ann' : 'bob' }) },
    );
    expect(ids(batches.flatMap((b) => b.apps)).sort()).toEqual(['app-2', 'app-4', 'app-6', 'app-8']);
    expect(batches.reduce((n, b) => n + b.filtered, 0)).toBe(4); // 1, 3, 5, 7: 9 is past the cap
    expect(seen.pagesAsked).toBe(3);
  });

  it('maxApps of records stops once that many records are stored, whatever items are still listed', async () => {
    const { batches, seen } = await batchesOf(
      { maxApps: 5, concurrency: 1 },
      { maxApps: 'records', pages: [range(1, 10)], found: (app) => [1, 2, 3].map((k) => ({ apps: [{ ...app, record: { ...app.record, app_id: `${app.record.app_id}.${k}` } }] })) },
    );
    expect(ids(batches.flatMap((b) => b.apps))).toEqual(['app-1.1', 'app-1.2', 'app-1.3', 'app-2.1', 'app-2.2']);
    expect(seen.fetched.length).toBeLessThanOrEqual(3);
  });

  it('since: a listed item without a time is left out unfetched, one whose time is not known yet is fetched and judged on its record', async () => {
    const since = new Date(T0 + 5 * HOUR);
    const { batches, seen } = await batchesOf(
      { since },
      {
        pages: [range(1, 10)],
        // Items 1-3 have no time in the listing, 4-6 one not known before the fetch, 7-10 their end.
        listed: (n) => (n <= 3 ? { time: null } : n <= 6 ? {} : { time: T0 + n * HOUR }),
      },
    );
    expect(seen.fetched.sort((a, b) => a - b)).toEqual([4, 5, 6, 7, 8, 9, 10]);
    expect(ids(batches.flatMap((b) => b.apps)).sort()).toEqual(['app-10', 'app-5', 'app-6', 'app-7', 'app-8', 'app-9']);
    expect(batches.reduce((n, b) => n + b.filtered, 0)).toBe(4); // 1-3 as listed, 4 on its record
  });

  it('records judged by another record are kept or left out together (a run stands for its Spark applications)', async () => {
    const found = (app: CollectedApp): Found[] => [{ apps: [appOf(100), appOf(101)], judgedBy: app.record }];
    const kept = await batchesOf({ user: 'ann' }, { pages: [[2]], found });
    expect(ids(kept.batches.flatMap((b) => b.apps))).toEqual(['app-100', 'app-101']);
    const left = await batchesOf({ user: 'ann' }, { pages: [[3]], found });
    expect(left.batches.flatMap((b) => b.apps)).toEqual([]);
    expect(left.batches.reduce((n, b) => n + b.filtered, 0)).toBe(1);
  });

  it('scrub takes secrets out of every message: the listing\'s, the items\', and the records\' own', async () => {
    const secret = 'tok-SECRET-1';
    const { batches } = await batchesOf(
      {},
      {
        scrub: (text) => text.split(secret).join('***'),
        pages: [[1, 2]],
        fetchMs: (n) => (n === 2 ? new Error(`bad token ${secret}`) : 1),
        found: (app) => [{ apps: [{ ...app, problems: [{ severity: 'warning', code: 'x', message: `saw ${secret}` }] }] }],
        prepare: () => Promise.resolve(),
      },
    );
    const text = JSON.stringify(batches);
    expect(text).not.toContain(secret);
    expect(text).toContain('item 2: bad token ***');
    expect(text).toContain('saw ***');
  });

  it('refused credentials in prepare stop the run before the listing', async () => {
    const { batches, seen } = await batchesOf({}, { prepare: () => Promise.reject(new Refused('HTTP 401')) });
    expect(batches.flatMap((b) => b.problems).map((p) => p.code)).toEqual(['auth-failed']);
    expect(seen.pagesAsked).toBe(0);
    expect(seen.closed).toBe(1);
  });

  it('held: an item the store holds as listed is counted unchanged, not fetched; the last clean record of a fetched item carries its mark, a record with an error carries it to be forgotten', async () => {
    const mark = (n: number): ReturnType<typeof listedMark> => listedMark(`fake/${n}`, T0 + n * HOUR, 'DONE');
    const { batches, seen } = await batchesOf(
      { concurrency: 1 },
      {
        pages: [range(1, 5)],
        held: (n) => (n === 5 ? null : mark(n)),
        found: (app, n): Found[] => {
          if (n === 2) return [{ apps: [app] }, { apps: [appOf(20)] }];
          if (n === 3) return [{ apps: [{ ...app, problems: [{ severity: 'error', code: 'x', message: 'broken' }] }] }, { apps: [appOf(30)] }];
          if (n === 4) return [{ apps: [app], incomplete: true }];
          return [{ apps: [app] }];
        },
      },
      { isUnchanged: (unit) => unit.path === 'fake/1' && unit.files[0]!.mtimeMs === T0 + HOUR },
    );
    expect(seen.fetched).toEqual([2, 3, 4, 5]);
    expect(batches.reduce((n, b) => n + b.unchanged, 0)).toBe(1);
    const provenance = Object.fromEntries(batches.flatMap((b) => b.apps).map((a) => [a.record.app_id, a.provenance.files.length === 0 ? a.provenance.path : `mark ${a.provenance.path}`]));
    // app-3's error withholds item 3's mark from app-30 and goes with it itself: ingest stores a read with errors as not known.
    expect(provenance).toEqual({ 'app-2': 'fake/2', 'app-20': 'mark fake/2', 'app-3': 'mark fake/3', 'app-30': 'fake/30', 'app-4': 'fake/4', 'app-5': 'fake/5' });
    // Another state, or another end time, is another mark.
    expect(listedMark('w', 1, 'DONE').files[0]!.size).not.toBe(listedMark('w', 1, 'ERROR').files[0]!.size);
  });

  it('held: a record with an error read from files of its own (an event log) keeps them, and no record carries the mark', async () => {
    const log = { path: 'logs/app-1', files: [{ path: 'logs/app-1/events', size: 10, mtimeMs: T0, codec: 'none' }] };
    const { batches } = await batchesOf(
      { concurrency: 1 },
      {
        pages: [[1]],
        held: (n) => listedMark(`fake/${n}`, T0 + n * HOUR, 'DONE'),
        found: (app): Found[] => [{ apps: [{ ...app, problems: [{ severity: 'error', code: 'x', message: 'broken line' }], provenance: log }] }, { apps: [appOf(10)] }],
      },
    );
    expect(batches.flatMap((b) => b.apps).map((a) => [a.record.app_id, a.provenance.path])).toEqual([
      ['app-1', 'logs/app-1'],
      ['app-10', 'fake/10'],
    ]);
  });
});
