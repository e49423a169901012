/**
 * A fixed pool of worker threads that read application attempts in parallel, one attempt per
 * worker at a time (one huge file streams on one core; many files spread over all cores).
 * `close()` terminates every worker at once, which is how cancellation really stops the work.
 */
import { Worker } from 'node:worker_threads';
import type { LogUnit } from './discovery';
import type { UnitResult } from './readLog';
import { isWorkerReply, type ReadRequest } from './workerProtocol';

interface Pending {
  resolve: (r: UnitResult) => void;
  reject: (e: Error) => void;
  onBytes?: (n: number) => void;
}

export class UnitPool {
  private readonly idle: Worker[] = [];
  private readonly waiting: ((w: Worker) => void)[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly owner = new Map<Worker, number>();
  private nextId = 1;
  private closed = false;

  constructor(
    private readonly script: string,
    size: number,
  ) {
    for (let i = 0; i < size; i++) this.idle.push(this.spawn());
  }

  private spawn(): Worker {
    const worker = new Worker(this.script);
    worker.on('message', (msg: unknown) => {
      if (!isWorkerReply(msg)) return;
      const p = this.pending.get(msg.id);
      if (!p) return;
      if (msg.type === 'bytes') return p.onBytes?.(msg.bytes);
      this.pending.delete(msg.id);
      this.owner.delete(worker);
      this.release(worker);
      if (msg.type === 'done') p.resolve(msg.result);
      else p.reject(new Error(`worker failed: ${msg.message}`));
    });
    const crash = (err: Error): void => {
      const id = this.owner.get(worker);
      this.owner.delete(worker);
      if (id !== undefined) {
        this.pending.get(id)?.reject(err);
        this.pending.delete(id);
      }
      if (!this.closed) this.release(this.spawn());
    };
    worker.on('error', crash);
    worker.on('exit', (code) => {
      if (!this.closed && this.owner.has(worker)) crash(new Error(`worker exited with code ${code}`));
    });
    return worker;
  }

  private release(worker: Worker): void {
    const next = this.waiting.shift();
    if (next) next(worker);
    else this.idle.push(worker);
  }

  private acquire(): Promise<Worker> {
    const w = this.idle.pop();
    return w ? Promise.resolve(w) : new Promise((resolve) => this.waiting.push(resolve));
  }

  async read(unit: LogUnit, source: string, onBytes?: (n: number) => void, maxLineBytes?: number): Promise<UnitResult> {
    if (this.closed) throw new Error('pool closed');
    const worker = await this.acquire();
    const id = this.nextId++;
    return new Promise<UnitResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onBytes });
      this.owner.set(worker, id);
      const req: ReadRequest = { type: 'read', id, unit, source, maxLineBytes };
      worker.postMessage(req);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.idle, ...this.owner.keys()];
    for (const p of this.pending.values()) p.reject(new Error('cancelled'));
    this.pending.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }
}
