/**
 * A fixed pool of worker threads that read application attempts in parallel (one huge file streams
 * on one core; many files spread over all cores). A worker reads its attempts one at a time, in the
 * order given; small attempts are handed out ahead (POOL_DEPTH), so a worker does not wait for this
 * thread between two of them (issue #12: with one at a time, workers reading 66 KB logs sat idle a
 * third of the time). A big attempt is only given to a worker with nothing else queued, and nothing is queued
 * behind it, so one big log does not hold up small ones; so is an attempt read again after its worker died.
 * `close()` terminates every worker at once, which is how cancellation really stops the work.
 */
import { Worker } from 'node:worker_threads';
import type { LogUnit } from './discovery';
import type { ReadLimits, UnitResult } from './readLog';
import { PER_MESSAGE, repliesOf, unwireResult, type ReadBatch, type ReadRequest, type WorkerReply } from './workerProtocol';

interface Pending {
  resolve: (r: UnitResult) => void;
  reject: (e: Error) => void;
  onBytes?: (n: number) => void;
  /** May queue behind others on a worker (SMALL_UNIT_BYTES); a retried attempt never does. */
  small: boolean;
  request: Omit<ReadRequest, 'type' | 'id'>;
  /** Whether a worker holding it crashed already. */
  retried: boolean;
  /** Bytes its reads have reported to onBytes, and bytes the read now under way has read (progress()). */
  reported: number;
  read: number;
}

/**
 * Attempts handed to one worker ahead of its answers: enough for it to go on reading while this
 * thread stores a batch. 10,000 small logs (`collect` into a new database, 3 interleaved rounds),
 * time each worker waited with nothing to read: 16 ahead 0.81-0.93 s (since answers and requests go 8
 * to a message), 32 ahead 0.42-0.50 s, 64 ahead 0.16-0.20 s; wall 3.83-3.88 / 3.64-3.73 / 3.55-3.58 s,
 * the same CPU (issue #12).
 */
export const POOL_DEPTH = 64;
/**
 * Requests for one worker go PER_MESSAGE together (workerProtocol.ts ReadBatch) while it still holds
 * at least REQUESTS_LOW unanswered; fewer held, they go at once.
 */
const REQUESTS_LOW = 4;
/** Attempts up to this size (all files, compressed) may queue on a worker. */
const SMALL_UNIT_BYTES = 1024 * 1024;

export class UnitPool {
  private readonly workers: Worker[] = [];
  /** Request ids each worker holds, oldest first. */
  private readonly queued = new Map<Worker, number[]>();
  private readonly waiting: (() => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  /** Requests made and not yet sent, by worker (send()); sent at the latest after this turn of the event loop. */
  private readonly outboxes = new Map<Worker, ReadRequest[]>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: string,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.spawn();
  }

  private spawn(): void {
    const worker = new Worker(this.script);
    this.workers.push(worker);
    this.queued.set(worker, []);
    worker.on('message', (msg: unknown) => {
      for (const reply of repliesOf(msg)) this.receive(worker, reply);
      this.wake();
    });
    // A worker that dies (out of memory, a crash) held attempts it had not answered: some read and
    // waiting to go with the next few answers, one being read, the rest not started. Each is read
    // again once, alone on a worker, so that only the one that kills a worker again fails.
    const crash = (err: Error): void => {
      const ids = this.queued.get(worker) ?? [];
      this.queued.delete(worker);
      this.outboxes.delete(worker);
      this.workers.splice(this.workers.indexOf(worker), 1);
      const again: number[] = [];
      for (const id of ids) {
        const p = this.pending.get(id);
        if (p === undefined) continue;
        if (p.retried || this.closed) {
          p.reject(err);
          this.pending.delete(id);
        } else {
          p.retried = true;
          p.small = false;
          p.read = 0;
          again.push(id);
        }
      }
      if (!this.closed) {
        this.spawn();
        for (const id of again) void this.place(id);
        this.wake();
      }
    };
    worker.on('error', crash);
    worker.on('exit', (code) => {
      if (!this.closed && this.queued.has(worker)) crash(new Error(`worker exited with code ${code}`));
    });
  }

  private receive(worker: Worker, reply: WorkerReply): void {
    // A worker already given up for dead (its 'error' may come before its last messages): what it held
    // is read again elsewhere, so its late answers are not taken (one would leave its id queued on the
    // worker that reads it again, which would then never be given more).
    const ids = this.queued.get(worker);
    if (ids === undefined) return;
    const p = this.pending.get(reply.id);
    if (!p) return;
    if (reply.type === 'bytes') return this.progress(p, reply.bytes);
    this.pending.delete(reply.id);
    ids.splice(ids.indexOf(reply.id), 1);
    if (reply.type === 'failed') p.reject(new Error(`worker failed: ${reply.message}`));
    else {
      this.progress(p, reply.bytes);
      p.resolve(unwireResult(reply.result));
    }
  }

  /**
   * `bytes` more read of attempt `p`: only what its reads have not reported yet goes to onBytes, so
   * that an attempt read again after its worker died counts its bytes once, not twice.
   */
  private progress(p: Pending, bytes: number): void {
    p.read += bytes;
    if (p.read <= p.reported) return;
    const fresh = p.read - p.reported;
    p.reported = p.read;
    p.onBytes?.(fresh);
  }

  /** Sends `request` to `worker`: now if it is about to run out of work, else with the next few (at the latest after this turn). */
  private send(worker: Worker, request: ReadRequest): void {
    let box = this.outboxes.get(worker);
    if (box === undefined) {
      const fresh: ReadRequest[] = (box = []);
      this.outboxes.set(worker, fresh);
      setImmediate(() => {
        if (this.outboxes.get(worker) === fresh) this.flush(worker);
      });
    }
    box.push(request);
    // What the worker holds: the requests sent to it and not answered (queued, less those not sent yet).
    const held = this.queued.get(worker)!.length - box.length;
    if (held < REQUESTS_LOW || box.length >= PER_MESSAGE) this.flush(worker);
  }

  private flush(worker: Worker): void {
    const box = this.outboxes.get(worker);
    this.outboxes.delete(worker);
    if (box !== undefined && box.length > 0 && !this.closed) worker.postMessage({ type: 'reads', requests: box } satisfies ReadBatch);
  }

  /** The worker to give a request to now, if any: the least busy one that may take it. */
  private pick(small: boolean): Worker | undefined {
    let best: Worker | undefined;
    let bestCount = Infinity;
    for (const w of this.workers) {
      const ids = this.queued.get(w)!;
      // A big or retried attempt is queued alone (place()), so the oldest tells whether small ones may join.
      const free = ids.length === 0 || (small && ids.length < POOL_DEPTH && this.pending.get(ids[0]!)?.small === true);
      if (free && ids.length < bestCount) {
        best = w;
        bestCount = ids.length;
      }
    }
    return best;
  }

  private wake(): void {
    // Every waiter looks again; those that still find no worker wait for the next answer.
    for (const w of this.waiting.splice(0)) w();
  }

  read(unit: LogUnit, source: string, onBytes?: (n: number) => void, limits?: ReadLimits): Promise<UnitResult> {
    const small = unit.files.reduce((n, f) => n + f.size, 0) <= SMALL_UNIT_BYTES;
    const id = this.nextId++;
    const result = new Promise<UnitResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onBytes, small, request: { unit, source, limits }, retried: false, reported: 0, read: 0 });
    });
    void this.place(id);
    return result;
  }

  /** Gives attempt `id` to a worker that may take it, once one may; rejects it if the pool closes first. */
  private async place(id: number): Promise<void> {
    for (;;) {
      const p = this.pending.get(id);
      if (p === undefined) return; // settled meanwhile: the pool closed
      if (this.closed) {
        p.reject(new Error('pool closed'));
        this.pending.delete(id);
        return;
      }
      const worker = this.pick(p.small);
      if (worker) {
        this.queued.get(worker)!.push(id);
        this.send(worker, { type: 'read', id, ...p.request });
        return;
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.workers];
    for (const p of this.pending.values()) p.reject(new Error('cancelled'));
    this.pending.clear();
    this.wake();
    await Promise.all(all.map((w) => w.terminate()));
  }
}
