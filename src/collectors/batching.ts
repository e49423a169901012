/**
 * The pieces every API collector (History Server, EMR, Databricks, Dataproc) shares, so each one is
 * only "list pages -> fetch each item -> map to a record": a bounded-concurrency fetch loop that
 * yields results as they complete, and a batch builder that flushes at the configured size.
 */
import type { Batch, CollectProgress, CollectedApp } from './contract';
import type { Problem } from './record';

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

/**
 * Builds batches of up to `size` entries (records, problems and filtered ones all count), and keeps
 * the run's progress counts of records and problems as they are added.
 */
export class Batcher {
  private batch: Batch = { apps: [], problems: [], filtered: 0, unchanged: 0 };
  /** The collector's progress; `apps` and `problems` are counted here, the rest by the collector. */
  readonly progress: CollectProgress = { logsFound: 0, logsDone: 0, bytesRead: 0, apps: 0, problems: 0 };

  constructor(private readonly size: number) {}

  app(app: CollectedApp): void {
    this.batch.apps.push(app);
    this.progress.apps++;
    this.progress.problems += app.problems.length;
  }

  problem(...problems: Problem[]): void {
    this.batch.problems.push(...problems);
    this.progress.problems += problems.length;
  }

  filtered(n = 1): void {
    this.batch.filtered += n;
  }

  get full(): boolean {
    return this.count >= Math.max(1, this.size);
  }

  get empty(): boolean {
    return this.count === 0;
  }

  take(): Batch {
    const b = this.batch;
    this.batch = { apps: [], problems: [], filtered: 0, unchanged: 0 };
    return b;
  }

  private get count(): number {
    return this.batch.apps.length + this.batch.problems.length + this.batch.filtered;
  }
}

export type Settled<T, R> = { item: T; result: R } | { item: T; error: Error };

/**
 * Runs `fetch` over the items of `pages` (an async iterable of arrays, e.g. API pages), at most
 * `concurrency` at once, yielding each outcome as it completes (a rejection is an outcome, not a
 * throw). Errors from `pages` itself propagate. Stops taking new items once `stop()` says so.
 */
export async function* pooled<T, R>(
  pages: AsyncIterable<T[]>,
  fetch: (item: T) => Promise<R>,
  concurrency: number,
  stop: () => boolean = () => false,
): AsyncGenerator<Settled<T, R>> {
  const inFlight = new Map<number, Promise<{ key: number; out: Settled<T, R> }>>();
  let key = 0;
  const settle = async (): Promise<Settled<T, R>> => {
    const done = await Promise.race(inFlight.values());
    inFlight.delete(done.key);
    return done.out;
  };
  for await (const page of pages) {
    for (const item of page) {
      if (stop()) break;
      const k = key++;
      inFlight.set(
        k,
        fetch(item).then(
          (result) => ({ key: k, out: { item, result } }),
          (err: unknown) => ({ key: k, out: { item, error: err instanceof Error ? err : new Error(String(err)) } }),
        ),
      );
      while (inFlight.size >= Math.max(1, concurrency)) yield await settle();
    }
    if (stop()) break;
  }
  while (inFlight.size > 0) yield await settle();
}
