/**
 * Host side of a collection run in a worker thread: an async iterable of batches the host upserts,
 * plus cancel(). Cancel sends a cancel message, then terminates the worker if it has not finished
 * within a grace period; a worker that crashes ends the iteration with an error, never a hang.
 */
import { Worker } from 'node:worker_threads';
import type { Batch, CollectProgress } from '../collectors/contract';
import { isWorkerMessage, unwireBatch, type CollectJob, type HostMessage } from './collectProtocol';

const CANCEL_GRACE_MS = 2000;

export class CancelledError extends Error {
  constructor() {
    super('collection cancelled');
    this.name = 'CancelledError';
  }
}

export interface WorkerRun {
  batches: AsyncIterable<Batch>;
  cancel(): void;
}

export function collectInWorker(script: string, job: CollectJob, onProgress: (p: CollectProgress) => void): WorkerRun {
  const worker = new Worker(script);
  const queue: Batch[] = [];
  let finished: { error?: Error } | null = null;
  let wake: (() => void) | null = null;
  let cancelled = false;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  const end = (error?: Error): void => {
    if (finished) return;
    finished = { error };
    notify();
    void worker.terminate();
  };
  worker.on('message', (m: unknown) => {
    // A message that is not the protocol's would be data lost without a word: the run fails instead.
    if (!isWorkerMessage(m)) return end(new Error('collection worker sent a message that is not part of the protocol'));
    if (m.type === 'batch') {
      queue.push(unwireBatch(m.batch));
      notify();
    } else if (m.type === 'progress') onProgress(m.progress);
    else if (m.type === 'done') end(m.cancelled ? new CancelledError() : undefined);
    else end(new Error(`collection worker failed: ${m.message}`));
  });
  worker.on('error', (err) => end(new Error(`collection worker crashed: ${err.message}`)));
  worker.on('exit', (code) => end(cancelled ? new CancelledError() : new Error(`collection worker exited unexpectedly (code ${code})`)));
  worker.postMessage({ type: 'start', job } satisfies HostMessage);

  async function* batches(): AsyncGenerator<Batch> {
    for (;;) {
      while (queue.length > 0) yield queue.shift()!;
      if (finished) {
        if (finished.error) throw finished.error;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  return {
    batches: batches(),
    cancel: () => {
      if (finished || cancelled) return;
      cancelled = true;
      worker.postMessage({ type: 'cancel' });
      setTimeout(() => end(new CancelledError()), CANCEL_GRACE_MS).unref();
    },
  };
}
