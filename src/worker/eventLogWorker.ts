/** Worker-thread entry: reads the application attempts the pool hands it, one at a time, in order. */
import { getPriority, setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { readUnit } from '../collectors/eventlog/readLog';
import { wireBuffers } from '../collectors/record/summariesWire';
import { PER_MESSAGE, requestsOf, wireResult, type ReadRequest, type ReplyBatch, type WorkerReply } from '../collectors/eventlog/workerProtocol';

const REPORT_EVERY = 64 * 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('eventLogWorker must run in a worker thread');

/**
 * A reader's nice value: readers yield the core to the thread that stores what they read. With two
 * cores and three busy threads, that thread fell behind and finished alone after the readers, one
 * core idle (10,000 small logs: storing ended ~0.2 s after reading; issue #12). CFS gives a nice-0
 * thread ~9x a thread's share 10 below it while both want a core, and a reader alone all of it. Only on
 * Linux, where each thread has its own nice value: elsewhere it would lower the whole process.
 */
const READER_NICE = 10;
if (process.platform === 'linux') {
  try {
    // Lower than the thread it was started from (a run under `nice` stays below it), never higher.
    setPriority(0, Math.min(19, getPriority(0) + READER_NICE));
  } catch {
    // not allowed here: the reader runs as it was
  }
}

let outbox: WorkerReply[] = [];
let transfers: ArrayBuffer[] = [];
/** Attempts received and not yet answered. */
let queued = 0;

function flush(): void {
  if (outbox.length === 0) return;
  const replies = outbox;
  const buffers = transfers;
  outbox = [];
  transfers = [];
  try {
    port!.postMessage({ type: 'replies', replies } satisfies ReplyBatch, buffers);
  } catch {
    // One of them could not be sent (a value that does not clone, say; nothing was transferred): each
    // again alone, copied, and one that still cannot be sent is answered with why. Never an attempt
    // left unanswered: the pool would wait for it for ever.
    for (const reply of replies) {
      try {
        port!.postMessage({ type: 'replies', replies: [reply] } satisfies ReplyBatch);
      } catch (err) {
        port!.postMessage({ type: 'replies', replies: [{ type: 'failed', id: reply.id, message: `its answer could not be sent to the main thread: ${messageOf(err)}` }] } satisfies ReplyBatch);
      }
    }
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? (err.stack ?? err.message) : String(err));

/** An attempt's answer: sent with the next few, or at once when no other attempt is queued (a big log's, the last one's). */
function answer(reply: WorkerReply, buffers: ArrayBuffer[] = []): void {
  outbox.push(reply);
  for (const b of buffers) transfers.push(b);
  queued--;
  if (queued === 0 || outbox.length >= PER_MESSAGE) flush();
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
        // Progress goes at once, after the answers made before it.
        outbox.push({ type: 'bytes', id: msg.id, bytes: pending });
        flush();
        pending = 0;
      }
    },
  }).then(
    (result) => {
      let wire: ReturnType<typeof wireResult>;
      try {
        wire = wireResult(result);
      } catch (err) {
        return answer({ type: 'failed', id: msg.id, message: messageOf(err) });
      }
      answer({ type: 'done', id: msg.id, result: wire, bytes: pending }, wireBuffers(wire.summaries));
    },
    (err: unknown) => answer({ type: 'failed', id: msg.id, message: messageOf(err) }),
  );
}

// The pool hands out small attempts ahead (pool.ts POOL_DEPTH): they are read one after another, in order.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: unknown) => {
  const requests = requestsOf(msg);
  queued += requests.length;
  // Each read in turn, whatever became of the one before (a link that threw would stop every later one).
  for (const request of requests) chain = chain.then(() => read(request)).catch(() => undefined);
});
