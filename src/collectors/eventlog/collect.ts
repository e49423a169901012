/**
 * The event-log collector: discover -> read each attempt (in parallel on a worker pool when there
 * are several and a worker script is available) -> filter -> yield batches as results arrive.
 * Bad input never stops the run: it becomes problems, and the rest is still collected. A cancel
 * yields the attempts read to their end in a last batch, then rejects with the cancel's reason.
 */
import { availableParallelism } from 'node:os';
import { DEFAULT_BATCH_SIZE, emptyBatch, gather, type Batch, type CollectContext, type CollectProgress, type Gathered } from '../contract';
import { matchesFilter } from '../record';
import { inShard, logIdentity, type Shard } from '../shard';
import { SKIPPED_FILE, discover, type LogUnit } from './discovery';
import { POOL_DEPTH, UnitPool } from './pool';
import { readUnit, type ReadLimits, type UnitResult } from './readLog';

export interface EventLogOptions {
  path: string;
  recursive?: boolean;
  /** Keep applications that ended at or after this time (running ones: started at or after). */
  since?: Date;
  user?: string;
  /** Name of the configured source, stored in each record's `source`. */
  source?: string;
  /** Attempts read at once; defaults to the machine's cores. */
  concurrency?: number;
  batchSize?: number;
  /** Longest line read, in bytes (default 32 MiB; see lines.ts). */
  maxLineBytes?: number;
  /** Largest zstd window a log may need, in MiB (default 128, windowLog 27; see codecs/zstd.ts). */
  maxZstdWindowMb?: number;
  /** Most decompressed bytes per compressed byte before a log counts as a decompression bomb (default 1000; see codecs/index.ts). */
  maxDecompressionRatio?: number;
  /** Only the attempts of this shard (`--shard K/N`), each by its path relative to `path` (shard.ts). */
  shard?: Shard;
}

/** The worker pool starts after this many logs, or once the logs found hold this many bytes. */
const POOL_AFTER_LOGS = 32;
const POOL_AFTER_BYTES = 16 * 1024 * 1024;

export async function* collectEventLogs(options: EventLogOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'event_log';
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const progress: CollectProgress & { bytesFound: number } = { phase: 'discovering', logsFound: 0, logsDone: 0, bytesRead: 0, bytesFound: 0, apps: 0, problems: 0 };
  const report = (): void => ctx.onProgress?.({ ...progress });
  const onBytes = (n: number): void => {
    progress.bytesRead += n;
  };

  const limits: ReadLimits = { maxLineBytes: options.maxLineBytes, maxZstdWindowMb: options.maxZstdWindowMb, maxDecompressionRatio: options.maxDecompressionRatio };
  let pool: UnitPool | undefined;
  let bytesFound = 0;
  const readOne = (unit: LogUnit): Promise<UnitResult> => {
    bytesFound += unit.files.reduce((n, f) => n + f.size, 0);
    // A few small logs are read here: starting workers costs ~20 MB and tens of ms each, more than
    // they save (issue #12: start-up). The pool starts once the run shows it has work for it.
    const enough = progress.logsFound > POOL_AFTER_LOGS || (progress.logsFound > 1 && bytesFound > POOL_AFTER_BYTES);
    if (ctx.workerScript && concurrency > 1 && (pool !== undefined || enough)) {
      pool ??= new UnitPool(ctx.workerScript, concurrency);
      return pool.read(unit, source, onBytes, limits);
    }
    return readUnit(unit, { source, signal: ctx.signal, onBytes, ...limits });
  };

  let batch = emptyBatch();
  // Reads in flight, and those done in the order they finished: settle() takes the first done.
  // (Promise.race over every read in flight added a handler to each per call: 10,000 small logs
  // with 32 in flight were 320,000 handlers, ~60-90 ms of this thread and their garbage; issue #12.)
  let inFlight = 0;
  const done: { unit: LogUnit; result: UnitResult | Error }[] = [];
  let wake: (() => void) | undefined;
  const start = (unit: LogUnit): void => {
    inFlight++;
    const finish = (result: UnitResult | Error): void => {
      done.push({ unit, result });
      wake?.();
    };
    readOne(unit).then(finish, (err: unknown) => finish(err instanceof Error ? err : new Error(String(err))));
  };

  /** Takes the first read done into the batch (waiting for one, but never past a cancel). */
  const settle = async (): Promise<void> => {
    while (done.length === 0) {
      ctx.signal?.throwIfAborted();
      await new Promise<void>((resolve) => (wake = resolve));
    }
    wake = undefined;
    const first = done.shift()!;
    // Cancelled: say so, not what closing the pool did to the reads in flight.
    if (first.result instanceof Error) ctx.signal?.throwIfAborted();
    taken(first.unit, first.result);
  };
  const taken = (unit: LogUnit, result: UnitResult | Error): void => {
    inFlight--;
    progress.logsDone++;
    if (result instanceof Error) {
      batch.problems.push({ severity: 'error', code: 'read-failed', message: `reading ${unit.path} failed: ${result.message}`, file: unit.path });
    } else if (result.record === null) {
      batch.problems.push(...result.problems);
    } else if (matchesFilter(result.record, options)) {
      const { record, summaries, problems } = result;
      batch.apps.push({ record, ...(summaries === undefined ? {} : { summaries }), problems, files: unit.files.map((f) => f.path), provenance: unit });
      progress.apps++;
    } else {
      batch.filtered++;
    }
    progress.problems += result instanceof Error ? 1 : result.problems.length;
    report();
  };
  const size = (): number => batch.apps.length + batch.problems.length + batch.filtered + batch.unchanged;
  const full = (): boolean => size() >= batchSize;
  const take = (): Batch => {
    const b = batch;
    batch = emptyBatch();
    return b;
  };

  // Cancelling must stop the workers now, not after the attempts they are reading; and what waits
  // for a read to end stops waiting.
  const onAbort = (): void => {
    void pool?.close();
    wake?.();
  };
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  // The pool takes small attempts POOL_DEPTH per worker ahead (pool.ts), so that many may be in flight.
  const room = (): boolean => inFlight < (pool ? concurrency * POOL_DEPTH : concurrency);
  try {
    // Discovery first (it only lists and stats), so that progress says "N of TOTAL", not "N of N+1".
    // But once it has found enough for the pool, the pool reads while it goes on (what it reads is
    // reported after): 10,000 small logs took ~75 ms to find, and a worker ~35 ms to start (issue #12).
    const units: LogUnit[] = [];
    // units[0, next) were decided while discovery went on: started, or unchanged (those are in `unchangedEarly`).
    const unchangedEarly = new Set<LogUnit>();
    let next = 0;
    let otherShards = 0;
    for await (const found of discover(options.path, options.recursive ?? true)) {
      ctx.signal?.throwIfAborted();
      if ('severity' in found) {
        batch.problems.push(found);
        if (found.code !== SKIPPED_FILE) progress.problems++;
        if (full()) yield take();
        continue;
      }
      // Another shard's attempt: not read, not counted, and its files not remembered as known.
      if (!inShard(logIdentity(options.path, found.path), options.shard)) {
        otherShards++;
        continue;
      }
      units.push(found);
      progress.logsFound++;
      progress.bytesFound += found.files.reduce((n, f) => n + f.size, 0);
      report();
      if (ctx.workerScript && concurrency > 1 && progress.logsFound > POOL_AFTER_LOGS) {
        for (; next < units.length && room(); next++) {
          const unit = units[next]!;
          if (ctx.isUnchanged?.(unit)) unchangedEarly.add(unit);
          else start(unit);
        }
      }
    }
    progress.phase = 'reading';
    if (options.shard !== undefined) batch.shard = { unit: 'log', mine: units.length, total: units.length + otherShards };
    for (const [i, found] of units.entries()) {
      ctx.signal?.throwIfAborted();
      const decided = i < next;
      if (decided ? unchangedEarly.has(found) : ctx.isUnchanged?.(found)) {
        batch.unchanged++;
        progress.logsDone++;
        report();
        if (full()) yield take();
        continue;
      }
      if (!decided) start(found);
      while (!room()) await settle();
      if (full()) yield take();
    }
    while (inFlight > 0) {
      await settle();
      ctx.signal?.throwIfAborted();
      if (full()) yield take();
    }
    if (size() > 0 || batch.shard !== undefined) yield take();
  } catch (err) {
    if (!ctx.signal?.aborted) throw err;
    // Cancelled: the attempts read to their end are kept (a review saw "Cancelled: 0 new" after
    // minutes of reading), in a last batch, then the run rejects as before. Reads still in flight
    // are not waited for, and what they did not finish is not stored.
    for (const d of done.splice(0)) {
      if (d.result instanceof Error) continue;
      taken(d.unit, d.result);
      if (full()) yield take();
    }
    if (size() > 0 || batch.shard !== undefined) yield take();
    ctx.signal.throwIfAborted();
    throw err;
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    await pool?.close();
  }
}

/** Everything a collection found, in one place; for tests and small runs. */
export function collectAll(options: EventLogOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectEventLogs(options, ctx));
}
