/** Worker-thread entry: reads the application attempts the pool hands it, one at a time, in order. */
import { parentPort } from 'node:worker_threads';
import { readUnit } from '../collectors/eventlog/readLog';
import { wireBuffers } from '../collectors/record/summariesWire';
import { isReadBatch, wireResult, type ReadRequest, type ReplyBatch, type WorkerReply } from '../collectors/eventlog/workerProtocol';

const REPORT_EVERY = 64 * 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('eventLogWorker must run in a worker thread');

/** Answers sent together while more attempts are queued (workerProtocol.ts, ReplyBatch). */
const REPLIES_PER_MESSAGE = 4;

let outbox: WorkerReply[] = [];
let transfers: ArrayBuffer[] = [];
/** Attempts received and not yet answered. */
let queued = 0;

function flush(): void {
  if (outbox.length === 0) return;
  port!.postMessage({ type: 'replies', replies: outbox } satisfies ReplyBatch, transfers);
  outbox = [];
  transfers = [];
}

/** Queues an attempt's answer; sent with the next few, or at once when nothing else is queued (a big log's, the last one's). */
function answer(reply: WorkerReply, buffers: ArrayBuffer[] = []): void {
  outbox.push(reply);
  for (const b of buffers) transfers.push(b);
  queued--;
  if (queued === 0 || outbox.length >= REPLIES_PER_MESSAGE) flush();
}

/** Reads one attempt and answers for it. */
function read(msg: ReadRequest): Promise<void> {
  let pending = 0;
  return readUnit(msg.unit, {
    source: msg.source,
    ...msg.limits,
    onBytes: (n) => {
      pending += n;
      if (pending >= REPORT_EVERY) {
        // Progress goes at once, with any answers waiting before it.
        flush();
        port!.postMessage({ type: 'replies', replies: [{ type: 'bytes', id: msg.id, bytes: pending }] } satisfies ReplyBatch);
        pending = 0;
      }
    },
  }).then(
    (result) => {
      if (pending > 0) outbox.push({ type: 'bytes', id: msg.id, bytes: pending });
      const wire = wireResult(result);
      answer({ type: 'done', id: msg.id, result: wire }, wireBuffers(wire.summaries));
    },
    (err: unknown) => answer({ type: 'failed', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

// The pool hands out small attempts a few ahead (pool.ts): they are read one after another, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: unknown) => {
  if (!isReadBatch(msg)) return;
  queued += msg.requests.length;
  for (const request of msg.requests) queue = queue.then(() => read(request));
});
