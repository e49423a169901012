/**
 * The API collector runner: what every API collector (History Server, EMR, Databricks, Dataproc)
 * does the same way, so that each one only lists, fetches and maps. The runner owns the run's
 * AbortController (linked to the caller's signal), the stop on refused credentials (one
 * `auth-failed` problem, then nothing more is requested or stored), paging, bounded concurrency,
 * the `since`/`user` filter, `maxApps`, batches of at most `batchSize` entries, progress, and
 * closing the collector's clients once its last request has ended, however the run ends.
 *
 * Nothing here may import a cloud SDK or an auth library: every API collector's chunk loads this
 * file, and the event-log collector must not load those (test/startup.test.ts).
 */
import { setMaxListeners } from 'node:events';
import { DEFAULT_BATCH_SIZE, type Batch, type CollectContext, type CollectedApp, type CollectProgress } from '../contract';
import { matchesFilter, type Problem, type SparkAppRecord } from '../record';
import { Batcher } from './batcher';
import { pooled } from './pooled';

/** What every API collector (History Server, EMR, Databricks, Dataproc) takes besides its own settings. */
export interface ApiCollectorOptions {
  /** Name of the configured source, stored in each record's `source`. */
  source?: string;
  /** Items that ended at or after this time (running ones: started at or after). */
  since?: Date;
  /** Only applications (or runs) of this user. */
  user?: string;
  /** At most this many items (applications, steps, runs or jobs). */
  maxApps?: number;
  /** Items fetched at once (default 4). */
  concurrency?: number;
  /** Records per batch (default 100). */
  batchSize?: number;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
}

/** One page of a listing. */
export interface Page<T> {
  /** What to fetch. */
  items: T[];
  /** What the listing itself found wrong (entries of an unexpected shape). */
  problems?: Problem[];
  /** Entries that are not for this collector at all (Dataproc's Hadoop jobs): counted as filtered. */
  filtered?: number;
}

/**
 * What the listing already says of the record an item will give, so that `since` and `user` leave
 * it out before anything is fetched. A field left out is not known yet: the record decides. A null
 * is known to be none, and is left out as matchesFilter leaves out a record without it.
 */
export interface Listed {
  user?: string | null;
  /** Epoch ms the record will be judged by: its end, or its start while it runs. */
  time?: number | null;
}

/** Records kept or left out together. */
export interface Found {
  apps: CollectedApp[];
  /** The record `since` and `user` judge all of them by (a Databricks run stands for its Spark applications); otherwise each its own. */
  judgedBy?: SparkAppRecord;
}

/** The run as a collector's steps see it. */
export interface ApiRun {
  /** Aborted when the run is cancelled, stops or ends: every request of the run takes it. */
  readonly signal: AbortSignal;
  /** The run's counts; a collector with `progress: 'collector'` keeps logsFound and logsDone here itself. */
  readonly progress: CollectProgress;
  /** The run stopped (refused credentials, or `maxApps` records stored): nothing more is stored. */
  readonly stopped: boolean;
  /** Problems not tied to one record (a cluster that cannot be read, a summary). */
  problem(...problems: Problem[]): void;
  filtered(n?: number): void;
  /** Refused credentials: `problem` is told once, the requests in flight are aborted, nothing more is asked. */
  stop(problem: Problem): void;
}

/** One API collector's own steps, over items `T` that are fetched as `R`. */
export interface ApiCollector<T, R> {
  /**
   * What `maxApps` counts: listed items (a run, a job: no more are fetched), stored records (an EMR
   * cluster gives many), or nothing here because the listing asks the server for that many (the
   * History Server's `limit` counts applications, and its items are attempts).
   */
  maxApps: 'items' | 'records' | 'listing';
  /** Who counts logsFound and logsDone: the runner, one per item (default), or the collector (an EMR cluster is many steps). */
  progress?: 'items' | 'collector';
  /** Takes secrets out of every message stored (default: messages as they are). */
  scrub?: (text: string) => string;
  /** Bytes read so far, for progress (default: `progress.bytesRead` as the collector keeps it). */
  bytesRead?: () => number;
  /** Runs before the listing (a folder to check, logs read up front). Refused credentials thrown here stop the run. */
  prepare?: () => Promise<void>;
  /** The listing, a page at a time. An error ends it: refused credentials stop the run, anything else is `listFailed`. */
  list: () => AsyncIterable<Page<T>>;
  /** What the listing tells of an item's record, for `since` and `user` before it is fetched. */
  listed?: (item: T) => Listed;
  /** Fetches one item; `concurrency` of them run at once. A rejection is `refused` or `failed`. */
  fetch: (item: T) => Promise<R>;
  /**
   * The records of one fetched item. Taken one item at a time, as fetches complete: what runs here
   * never runs `concurrency` times at once (EMR reads a cluster's own log folder here).
   */
  found: (result: R, item: T) => Iterable<Found> | AsyncIterable<Found>;
  /** The records (and problems) left once every item is in; not called when the run is cancelled. */
  finish?: () => Iterable<Found>;
  /** The `auth-failed` problem when `err` means the credentials are refused, else undefined. */
  refused: (err: unknown) => Problem | undefined;
  /** The problem of a listing that cannot be read: it ends the listing, the items being fetched still arrive. */
  listFailed: (err: Error) => Problem;
  /** The problem of one item that could not be fetched; the others still arrive. */
  failed: (item: T, err: Error) => Problem;
  /** Closes the collector's clients and removes its temporary folders; called after its last request has ended. */
  close: () => Promise<void> | void;
}

const asError = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** A run that cannot start (no credentials, a setting that cannot work): its problems in one batch, nothing requested. */
export function* notStarted(problems: Problem[], ctx: CollectContext): Generator<Batch> {
  ctx.onProgress?.({ logsFound: 0, logsDone: 0, bytesRead: 0, apps: 0, problems: problems.length });
  yield { apps: [], problems, filtered: 0, unchanged: 0 };
}

/**
 * Runs one API collection: `build` is given the run (its signal, its problems, its stop) and
 * returns the collector's steps; batches come out as records are stored.
 */
export async function* runApiCollector<T, R>(options: ApiCollectorOptions, ctx: CollectContext, build: (run: ApiRun) => ApiCollector<T, R>): AsyncGenerator<Batch> {
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const batcher = new Batcher(options.batchSize ?? DEFAULT_BATCH_SIZE);
  const progress = batcher.progress;
  // A private controller: a stop cancels the other requests in flight, a cancel cancels them all.
  const controller = new AbortController();
  // Every request in flight listens on this signal, one listener each (several per item).
  setMaxListeners(concurrency * 8 + 10, controller.signal);
  const onAbort = (): void => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) onAbort();

  let stopped = false;
  let scrub: ((text: string) => string) | undefined;
  const scrubbed = (p: Problem): Problem => (scrub === undefined ? p : { ...p, message: scrub(p.message) });
  const run: ApiRun = {
    signal: controller.signal,
    progress,
    get stopped() {
      return stopped;
    },
    problem: (...problems) => batcher.problem(...problems.map(scrubbed)),
    filtered: (n = 1) => batcher.filtered(n),
    stop: (p) => {
      if (stopped) return;
      stopped = true;
      run.problem(p);
      controller.abort(new Error(p.message));
    },
  };

  // Fetches still running when the run ends early (cancelled, stopped, or the consumer stopped
  // reading): aborted and waited for, so that each one's temporary folder is gone when the run is.
  const running = new Set<Promise<unknown>>();
  let c: ApiCollector<T, R> | undefined;
  try {
    const collector = build(run);
    c = collector;
    scrub = collector.scrub;
    const perItem = (collector.progress ?? 'items') === 'items';
    const maxItems = collector.maxApps === 'items' ? (options.maxApps ?? Infinity) : Infinity;
    const maxRecords = collector.maxApps === 'records' ? (options.maxApps ?? Infinity) : Infinity;
    const report = (): void => ctx.onProgress?.({ ...progress, bytesRead: collector.bytesRead?.() ?? progress.bytesRead });

    /** The filter before anything is fetched: what the listing says of the item's record. */
    const listedOut = (item: T): boolean => {
      const known = collector.listed?.(item) ?? {};
      if (options.user !== undefined && known.user !== undefined && known.user !== options.user) return true;
      return options.since !== undefined && known.time !== undefined && (known.time === null || known.time < options.since.getTime());
    };

    /** The items to fetch, a listing page at a time; a listing that fails is one problem and ends the list. */
    async function* pages(): AsyncGenerator<T[]> {
      let taken = 0;
      const listing = collector.list()[Symbol.asyncIterator]();
      try {
        while (!stopped && taken < maxItems) {
          let page: IteratorResult<Page<T>>;
          try {
            page = await listing.next();
          } catch (err) {
            if (ctx.signal?.aborted) throw err;
            if (!stopped) {
              const authFailed = collector.refused(err);
              if (authFailed !== undefined) run.stop(authFailed);
              else run.problem(collector.listFailed(asError(err)));
            }
            return;
          }
          if (page.done || stopped) return;
          run.problem(...(page.value.problems ?? []));
          batcher.filtered(page.value.filtered ?? 0);
          const items: T[] = [];
          for (const item of page.value.items) {
            if (taken >= maxItems) break;
            if (listedOut(item)) batcher.filtered();
            else {
              taken++;
              items.push(item);
            }
          }
          if (perItem) progress.logsFound += items.length;
          report();
          ctx.signal?.throwIfAborted();
          yield items;
        }
      } finally {
        await listing.return?.();
      }
    }

    let stored = 0;
    /** Stores the records `since` and `user` keep, up to maxApps of them. */
    const keep = (found: Found): void => {
      if (stopped) return;
      if (found.judgedBy !== undefined && !matchesFilter(found.judgedBy, options)) return batcher.filtered();
      for (const app of found.apps) {
        if (stopped) return;
        if (found.judgedBy === undefined && !matchesFilter(app.record, options)) {
          batcher.filtered();
          continue;
        }
        batcher.app(scrub === undefined ? app : { ...app, problems: app.problems.map(scrubbed) });
        if (++stored >= maxRecords) {
          stopped = true;
          controller.abort(new Error(`maxApps: ${stored} records stored`));
        }
      }
    };

    const fetch = (item: T): Promise<R> => {
      const p = collector.fetch(item);
      const settled: Promise<unknown> = p.then(
        () => running.delete(settled),
        () => running.delete(settled),
      );
      running.add(settled);
      return p;
    };

    if (collector.prepare !== undefined) {
      try {
        await collector.prepare();
      } catch (err) {
        const authFailed = ctx.signal?.aborted ? undefined : collector.refused(err);
        if (authFailed === undefined) throw err;
        run.stop(authFailed);
      }
      report();
    }
    if (!stopped) {
      for await (const done of pooled(pages(), fetch, concurrency, () => stopped)) {
        if (perItem) progress.logsDone++;
        let reported = false;
        if ('error' in done) {
          if (ctx.signal?.aborted) throw done.error;
          if (!stopped) {
            const authFailed = collector.refused(done.error);
            if (authFailed !== undefined) run.stop(authFailed);
            else run.problem(collector.failed(done.item, done.error));
          }
        } else if (!stopped) {
          for await (const found of collector.found(done.result, done.item)) {
            keep(found);
            report();
            reported = true;
            while (batcher.full) yield batcher.take();
          }
        }
        if (!reported) report();
        while (batcher.full) yield batcher.take();
      }
    }
    ctx.signal?.throwIfAborted();
    for (const found of collector.finish?.() ?? []) {
      keep(found);
      while (batcher.full) yield batcher.take();
    }
    report();
    while (!batcher.empty) yield batcher.take();
  } catch (err) {
    // A cancelled run rejects with the caller's reason, not with whichever request noticed it first.
    throw ctx.signal?.aborted === true && ctx.signal.reason !== undefined ? ctx.signal.reason : err;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort(new Error('the collection ended'));
    await Promise.allSettled([...running]);
    await c?.close();
  }
}
