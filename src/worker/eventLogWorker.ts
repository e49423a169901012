/** Worker-thread entry: reads the application attempts the pool hands it, one at a time, in order. */
import { parentPort } from 'node:worker_threads';
import { readUnit } from '../collectors/eventlog/readLog';
import { wireBuffers } from '../collectors/record/summariesWire';
import { isReadRequest, wireResult, type ReadRequest, type WorkerReply } from '../collectors/eventlog/workerProtocol';

const REPORT_EVERY = 64 * 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('eventLogWorker must run in a worker thread');

/** Reads one attempt and answers for it. */
function read(msg: ReadRequest): Promise<void> {
  const send = (reply: WorkerReply, transfer: ArrayBuffer[] = []): void => port!.postMessage(reply, transfer);
  let pending = 0;
  return readUnit(msg.unit, {
    source: msg.source,
    ...msg.limits,
    onBytes: (n) => {
      pending += n;
      if (pending >= REPORT_EVERY) {
        send({ type: 'bytes', id: msg.id, bytes: pending });
        pending = 0;
      }
    },
  }).then(
    (result) => {
      const wire = wireResult(result);
      send({ type: 'done', id: msg.id, result: wire, bytes: pending }, wireBuffers(wire.summaries));
    },
    (err: unknown) => send({ type: 'failed', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

// The pool hands out small attempts a few ahead (pool.ts): they are read one after another, in order.
let queue: Promise<void> = Promise.resolve();
port.on('message', (msg: unknown) => {
  if (!isReadRequest(msg)) return;
  queue = queue.then(() => read(msg));
});
