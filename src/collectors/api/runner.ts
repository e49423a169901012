/**
 * The API collector runner: what every API collector (History Server, EMR, Databricks, Dataproc)
 * does the same way, so that each one only lists, fetches and maps. The runner owns the run's
 * AbortController (linked to the caller's signal), the stop on refused credentials (one
 * `auth-failed` problem, then nothing more is requested or stored), paging, bounded concurrency,
 * the `since`/`user` filter, the shard (`--shard K/N`, for every API source here), `maxApps`,
 * batches of at most `batchSize` entries, progress, a cancel that keeps the records fetched to the
 * end (Collection.batches), and closing the collector's clients once its last request has ended,
 * however the run ends.
 *
 * Nothing here may import a cloud SDK or an auth library: every API collector's chunk loads this
 * file, and the event-log collector must not load those (test/startup.test.ts).
 */
import { setMaxListeners } from 'node:events';
import { DEFAULT_BATCH_SIZE, type Batch, type CollectContext, type CollectedApp, type CollectProgress, type Provenance } from '../contract';
import { matchesFilter, type Problem, type SparkAppRecord } from '../record';
import { inShard, type Shard } from '../shard';
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
  /** Only the listed items of this shard (`--shard K/N`), each by its collector's `shard.key` (shard.ts). */
  shard?: Shard;
}

/** One page of a listing. */
export interface Page<T> {
  /** What to fetch. */
  items: T[];
  /** What the listing itself found wrong (entries of an unexpected shape). */
  problems?: Problem[];
}

/**
 * What the listing already says of the record an item will give, so that `since` and `user` leave
 * it out before anything is fetched. A field left out is not known yet: the record decides. A null
 * is known to be none, and is left out as matchesFilter leaves out a record without it.
 */
export interface ListedFacts {
  user?: string | null;
  /** Epoch ms the record will be judged by: its end, or its start while it runs. */
  time?: number | null;
}

/** Records kept or left out together. */
export interface Found {
  apps: CollectedApp[];
  /** The record `since` and `user` judge all of them by (a Databricks run stands for its Spark applications); otherwise each its own. */
  judgedBy?: SparkAppRecord;
  /**
   * Records that no listed item stands for (EMR's applications that no cluster claimed) are split
   * by this identity instead, in a sharded run: kept only when it is the run's shard's.
   */
  shardKey?: string;
  /** These records are stored but not final (part of what they are read from failed: EMR's CloudWatch, a Dataproc cluster): the item is fetched again next run (`held`). */
  incomplete?: true;
}

/**
 * The mark the store keeps of a finished listed item (ApiCollector.held): one "file" at `where`,
 * whose mtime is the end time the listing gives and whose size stands for the state it gives, so
 * that the same item listed with another end time or state is fetched again. The History Server's
 * marks (historyServer/collect.ts heldMark) have the same shape, with size 0.
 */
export function listedMark(where: string, endMs: number, state: string): Provenance {
  // FNV-1a: a small stable number per state text.
  let h = 0x811c9dc5;
  for (let i = 0; i < state.length; i++) h = Math.imul(h ^ state.charCodeAt(i), 0x01000193) >>> 0;
  return { path: where, files: [{ path: where, size: h, mtimeMs: endMs, codec: 'rest' }] };
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
  /**
   * How a sharded run (`--shard K/N`) splits the listing: `key` is a listed item's identity, the same
   * on every host (the id of the application, run, job or cluster listed); `unit` names the items in
   * the run's summary ("shard 2/4: 12 of 50 clusters"). Items of other shards are not fetched nor
   * counted, unless `fetchOthers()` says the collector needs them all the same (EMR: a cluster claims
   * the loose applications that ran on it): those are fetched and given to `found` with `mine` false,
   * and nothing of them may be stored.
   */
  shard: { unit: string; key: (item: T) => string; fetchOthers?: () => boolean };
  /** Runs before the listing (a folder to check, logs read up front). Refused credentials thrown here stop the run. */
  prepare?: () => Promise<void>;
  /** The listing, a page at a time. An error ends it: refused credentials stop the run, anything else is `listFailed`. */
  list: () => AsyncIterable<Page<T>>;
  /** What the listing tells of an item's record, for `since` and `user` before it is fetched. */
  listed?: (item: T) => ListedFacts;
  /**
   * Incremental runs: the mark (listedMark) of a listed item that is finished, by what the listing
   * says of it (its state and end time); null while it runs or when the listing does not say. An
   * item of the run's shard, kept by since and user, that the store holds with the same mark
   * (CollectContext.isUnchanged) is not fetched again: it is counted unchanged, as one whatever
   * number of records it stands for (an EMR cluster's steps). The last record
   * stored of an item fetched carries its mark as its provenance, so the store learns it; unless
   * one of its records is running or has an error, a problem told while its records are found is an
   * error, or a Found is `incomplete`: then the item is fetched again next run. A record with an
   * error that has no files of its own (an API answer, not an event log) carries the mark instead:
   * the store keeps it as read with problems (ingest), which forgets a clean read of the same mark
   * (an item fetched without isUnchanged: EMR reads its History Server so into the same store).
   */
  held?: (item: T) => Provenance | null;
  /** Fetches one item (`mine`: of the run's shard; always, unless `shard.fetchOthers`); `concurrency` of them run at once. A rejection is `refused` or `failed`. */
  fetch: (item: T, mine: boolean) => Promise<R>;
  /**
   * The records of one fetched item. Taken one item at a time, as fetches complete: what runs here
   * never runs `concurrency` times at once (EMR reads a cluster's own log folder here).
   */
  found: (result: R, item: T, mine: boolean) => Iterable<Found> | AsyncIterable<Found>;
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
  let collection: Collection<T, R> | undefined;
  try {
    collection = new Collection(options, ctx, build);
    yield* collection.batches();
  } catch (err) {
    // A cancelled run rejects with the caller's reason, not with whichever request noticed it first.
    throw ctx.signal?.aborted === true && ctx.signal.reason !== undefined ? ctx.signal.reason : err;
  } finally {
    await collection?.end();
  }
}

/** One run of one API collector. */
class Collection<T, R> implements ApiRun {
  private readonly batcher: Batcher;
  // A private controller: a stop cancels the other requests in flight, a cancel cancels them all.
  private readonly controller = new AbortController();
  private readonly onAbort = (): void => this.controller.abort(this.ctx.signal?.reason);
  // Fetches still running when the run ends early (cancelled, stopped, or the consumer stopped
  // reading): aborted and waited for, so that each one's temporary folder is gone when the run is.
  private readonly running = new Set<Promise<unknown>>();
  /** Fetches that ended with their result, not yet handed over by the pool. */
  private readonly fetched = new Map<T, R>();
  private readonly concurrency: number;
  private readonly c: ApiCollector<T, R>;
  private readonly scrub: ((text: string) => string) | undefined;
  private isStopped = false;
  private stored = 0;
  /**
   * The item whose records are being found (one at a time): its mark as listed, that mark unless
   * withheld (an error, a running record, an incomplete Found), and its latest record, held back so
   * that the item's last one can carry the mark.
   */
  private finding: { listed: Provenance | null; mark: Provenance | null; last?: CollectedApp } | undefined;

  constructor(
    private readonly options: ApiCollectorOptions,
    private readonly ctx: CollectContext,
    build: (run: ApiRun) => ApiCollector<T, R>,
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 4);
    this.batcher = new Batcher(options.batchSize ?? DEFAULT_BATCH_SIZE);
    // Every request in flight listens on this signal, one listener each (several per item).
    setMaxListeners(this.concurrency * 8 + 10, this.controller.signal);
    ctx.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (ctx.signal?.aborted) this.onAbort();
    this.c = build(this);
    this.scrub = this.c.scrub;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get progress(): CollectProgress {
    return this.batcher.progress;
  }

  get stopped(): boolean {
    return this.isStopped;
  }

  problem(...problems: Problem[]): void {
    if (this.finding !== undefined && problems.some((p) => p.severity === 'error')) this.finding.mark = null;
    this.batcher.problem(...problems.map((p) => this.scrubbed(p)));
  }

  filtered(n = 1): void {
    this.batcher.filtered(n);
  }

  stop(p: Problem): void {
    if (this.isStopped) return;
    this.isStopped = true;
    this.problem(p);
    this.controller.abort(new Error(p.message));
  }

  /**
   * The run's batches. A cancelled run (the caller's signal aborts) yields what it holds of records
   * fetched to the end (the batcher's, and fetches done but not yet taken), then rejects with the
   * cancel's reason: a review saw "Cancelled: 0 new" after minutes of finished downloads. It does not
   * wait for the requests in flight (end() does, after the consumer has what was held).
   */
  async *batches(): AsyncGenerator<Batch> {
    try {
      yield* this.collect();
    } catch (err) {
      if (!this.cancelled) throw err;
    }
    if (!this.cancelled) return;
    yield* this.harvest();
    this.report();
    while (!this.batcher.empty) yield this.batcher.take();
    this.ctx.signal?.throwIfAborted();
  }

  private get cancelled(): boolean {
    return this.ctx.signal?.aborted === true;
  }

  private async *collect(): AsyncGenerator<Batch> {
    const c = this.c;
    const perItem = (c.progress ?? 'items') === 'items';
    if (c.prepare !== undefined) {
      try {
        await c.prepare();
      } catch (err) {
        const authFailed = this.ctx.signal?.aborted ? undefined : c.refused(err);
        if (authFailed === undefined) throw err;
        this.stop(authFailed);
      }
      this.report();
    }
    if (!this.isStopped) {
      for await (const done of this.untilCancelled(pooled(this.pages(perItem), (item) => this.fetch(item), this.concurrency, () => this.isStopped))) {
        this.fetched.delete(done.item);
        const mine = this.mine(done.item);
        if (perItem && mine) this.progress.logsDone++;
        let reported = false;
        if ('error' in done) {
          if (this.ctx.signal?.aborted) throw done.error;
          if (!this.isStopped) {
            const authFailed = c.refused(done.error);
            if (authFailed !== undefined) this.stop(authFailed);
            else this.problem(c.failed(done.item, done.error));
          }
        } else if (!this.isStopped) {
          reported = yield* this.records(done.result, done.item, mine);
        }
        if (!reported) this.report();
        yield* this.full();
      }
    }
    this.ctx.signal?.throwIfAborted();
    for (const found of c.finish?.() ?? []) {
      this.keep(found);
      yield* this.full();
    }
    this.report();
    while (!this.batcher.empty) yield this.batcher.take();
  }

  /**
   * Keeps the records of one fetched item, one Found at a time (full batches are yielded as they
   * fill). An item whose records were not all found (a cancel, a failure) carries no mark: it is
   * fetched again next run. `atHand`: only when `found` gives them without reading more. Returns
   * whether progress was reported.
   */
  private async *records(result: R, listed: T, mine: boolean, atHand = false): AsyncGenerator<Batch, boolean> {
    const founds = this.c.found(result, listed, mine);
    // An async step (EMR reads a cluster's own logs here) has not started: nothing of it runs.
    if (atHand && Symbol.asyncIterator in founds) return false;
    let reported = false;
    const mark = mine ? (this.c.held?.(listed) ?? null) : null;
    const item: Collection<T, R>['finding'] = { listed: mark, mark };
    this.finding = item;
    let all = false;
    try {
      // An async step is left behind by a cancel, not waited for.
      for await (const found of Symbol.asyncIterator in founds ? this.untilCancelled(founds) : founds) {
        this.keep(found);
        this.report();
        reported = true;
        yield* this.full();
      }
      all = true;
    } finally {
      this.finding = undefined;
      if (item.last !== undefined) this.batcher.app(item.mark === null || !all ? item.last : { ...item.last, provenance: item.mark });
    }
    return reported;
  }

  /**
   * A cancelled run's fetches that had ended with their result but were not taken yet: their records
   * are kept too when they are at hand (not EMR's, which reads a cluster's logs to find them).
   */
  private async *harvest(): AsyncGenerator<Batch> {
    const perItem = (this.c.progress ?? 'items') === 'items';
    for (const [listed, result] of [...this.fetched]) {
      this.fetched.delete(listed);
      const mine = this.mine(listed);
      if (perItem && mine) this.progress.logsDone++;
      if (this.isStopped) continue;
      try {
        yield* this.records(result, listed, mine, true);
      } catch {
        // Not all at hand: nothing more of it, and it is fetched again next run.
      }
    }
  }

  /**
   * `source`'s values until the run is cancelled; then it stops at once, without waiting for what
   * `source` awaits (requests in flight that take time to give up). What is left of it ends in the
   * background, and end() waits for that before it closes the clients.
   */
  private async *untilCancelled<V>(source: AsyncIterable<V>): AsyncGenerator<V> {
    const it = source[Symbol.asyncIterator]();
    let left = false;
    try {
      for (;;) {
        const next = await this.orCancelled(it.next());
        if (next.done === true) return;
        yield next.value;
      }
    } catch (err) {
      left = this.cancelled;
      throw err;
    } finally {
      const closing = it.return?.();
      if (closing !== undefined) {
        if (left) this.track(closing);
        else await closing;
      }
    }
  }

  /** `p`, or the cancel's reason as soon as the caller's signal aborts. */
  private orCancelled<V>(p: Promise<V>): Promise<V> {
    const signal = this.ctx.signal;
    if (signal === undefined) return p;
    // Left behind by a cancel, its rejection is nobody's to handle.
    p.catch(() => undefined);
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    return new Promise<V>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason as Error);
      signal.addEventListener('abort', onAbort, { once: true });
      void p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  /** Something still running that end() waits for (a fetch, an iterator a cancel left behind). */
  private track(p: Promise<unknown>): void {
    const settled: Promise<unknown> = p.then(
      () => this.running.delete(settled),
      () => this.running.delete(settled),
    );
    this.running.add(settled);
  }

  /** Aborts what is still in flight, waits for it to end, then closes the collector's clients. */
  async end(): Promise<void> {
    this.ctx.signal?.removeEventListener('abort', this.onAbort);
    if (!this.controller.signal.aborted) this.controller.abort(new Error('the collection ended'));
    // What a cancel left behind ends after the fetches it waits on, and may add to them meanwhile.
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
    await this.c.close();
  }

  private *full(): Generator<Batch> {
    while (this.batcher.full) yield this.batcher.take();
  }

  private report(): void {
    this.ctx.onProgress?.({ ...this.progress, bytesRead: this.c.bytesRead?.() ?? this.progress.bytesRead });
  }

  private scrubbed(p: Problem): Problem {
    return this.scrub === undefined ? p : { ...p, message: this.scrub(p.message) };
  }

  /** The items to fetch, a listing page at a time; a listing that fails is one problem and ends the list. */
  private async *pages(perItem: boolean): AsyncGenerator<T[]> {
    const c = this.c;
    const maxItems = c.maxApps === 'items' ? (this.options.maxApps ?? Infinity) : Infinity;
    let taken = 0;
    const listing = c.list()[Symbol.asyncIterator]();
    try {
      while (!this.isStopped && taken < maxItems) {
        let page: IteratorResult<Page<T>>;
        try {
          page = await listing.next();
        } catch (err) {
          if (this.ctx.signal?.aborted) throw err;
          if (!this.isStopped) {
            const authFailed = c.refused(err);
            if (authFailed !== undefined) this.stop(authFailed);
            else this.problem(c.listFailed(asError(err)));
          }
          return;
        }
        if (page.done || this.isStopped) return;
        this.problem(...(page.value.problems ?? []));
        const items: T[] = [];
        const tally = { unit: c.shard.unit, mine: 0, total: 0 };
        const others = c.shard.fetchOthers?.() === true;
        for (const item of page.value.items) {
          if (taken >= maxItems) break;
          tally.total++;
          // Another shard's item is in no count but the tally; it is judged before since and user.
          if (!this.mine(item)) {
            if (others) items.push(item);
            continue;
          }
          tally.mine++;
          if (this.listedOut(item)) this.filtered();
          else if (this.held(item)) this.batcher.unchanged();
          else {
            taken++;
            items.push(item);
            if (perItem) this.progress.logsFound++;
          }
        }
        if (this.options.shard !== undefined) this.batcher.sharded(tally);
        this.report();
        this.ctx.signal?.throwIfAborted();
        yield items;
      }
    } finally {
      await listing.return?.();
    }
  }

  /** Whether a listed item is the run's shard's. */
  private mine(item: T): boolean {
    return this.ours(this.c.shard.key(item));
  }

  /** Whether an identity is the run's shard's: the one place an API source is split (shard.ts). */
  private ours(identity: string): boolean {
    return inShard(identity, this.options.shard);
  }

  /** Whether the store holds the item as listed (its mark): not fetched again. */
  private held(item: T): boolean {
    const isUnchanged = this.ctx.isUnchanged;
    if (isUnchanged === undefined || this.c.held === undefined) return false;
    const mark = this.c.held(item);
    return mark !== null && isUnchanged(mark);
  }

  /** The filter before anything is fetched: what the listing says of the item's record. */
  private listedOut(item: T): boolean {
    const { since, user } = this.options;
    const known = this.c.listed?.(item) ?? {};
    if (user !== undefined && known.user !== undefined && known.user !== user) return true;
    return since !== undefined && known.time !== undefined && (known.time === null || known.time < since.getTime());
  }

  private fetch(item: T): Promise<R> {
    const p = this.c.fetch(item, this.mine(item));
    // Until the pool hands it over: a cancel keeps it (harvest).
    void p.then(
      (result) => this.fetched.set(item, result),
      () => undefined,
    );
    this.track(p);
    return p;
  }

  /** Stores the records `since` and `user` keep (matchesFilter), up to maxApps of them when it counts records. */
  private keep(found: Found): void {
    if (this.isStopped) return;
    const item = this.finding;
    if (item !== undefined && found.incomplete === true) item.mark = null;
    if (found.shardKey !== undefined && !this.ours(found.shardKey)) return;
    if (found.judgedBy !== undefined && !matchesFilter(found.judgedBy, this.options)) {
      this.filtered();
      return;
    }
    const maxRecords = this.c.maxApps === 'records' ? (this.options.maxApps ?? Infinity) : Infinity;
    for (const app of found.apps) {
      if (this.isStopped) return;
      if (found.judgedBy === undefined && !matchesFilter(app.record, this.options)) {
        this.filtered();
        continue;
      }
      const kept = this.scrub === undefined ? app : { ...app, problems: app.problems.map((p) => this.scrubbed(p)) };
      if (item === undefined) this.batcher.app(kept);
      else {
        const errored = kept.problems.some((p) => p.severity === 'error');
        if (kept.record.status === 'running' || errored) item.mark = null;
        if (item.last !== undefined) this.batcher.app(item.last);
        // Read with an error: the store forgets the mark (ApiCollector.held), whatever it held of it.
        item.last = errored && item.listed !== null && kept.provenance.files.length === 0 ? { ...kept, provenance: item.listed } : kept;
      }
      if (++this.stored >= maxRecords) {
        this.isStopped = true;
        this.controller.abort(new Error(`maxApps: ${this.stored} records stored`));
      }
    }
  }
}
