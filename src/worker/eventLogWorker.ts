/**
 * Worker-thread entry: reads the application attempts the pool hands it, one at a time, in order;
 * or, started with a DecodeJob as workerData, decodes one compressed file for decodeAside.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { CodecError, decode } from '../collectors/eventlog/codecs/index';
import { AHEAD, CHUNK, type DecodeJob, type DecodeMessage } from '../collectors/eventlog/decodeAside';
import { readFileChunks, readUnit } from '../collectors/eventlog/readLog';
import { isReadRequest, type ReadRequest, type WorkerReply } from '../collectors/eventlog/workerProtocol';

const REPORT_EVERY = 64 * 1024 * 1024;

const port = parentPort;
if (!port) throw new Error('eventLogWorker must run in a worker thread');

/** Reads one attempt and answers for it. */
function read(msg: ReadRequest): Promise<void> {
  const send = (reply: WorkerReply): void => port!.postMessage(reply);
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
      if (pending > 0) send({ type: 'bytes', id: msg.id, bytes: pending });
      send({ type: 'done', id: msg.id, result });
    },
    (err: unknown) => send({ type: 'failed', id: msg.id, message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
}

/** Decodes the job's file, sending about CHUNK decoded bytes a message, at most AHEAD unacknowledged. */
async function decodeFile(job: DecodeJob): Promise<void> {
  const send = (m: DecodeMessage, transfer: ArrayBuffer[] = []): void => port!.postMessage(m, transfer);
  let acked = 0;
  let sent = 0;
  let wake: (() => void) | null = null;
  port!.on('message', (m: unknown) => {
    if ((m as { type?: unknown } | null)?.type !== 'ack') return;
    acked++;
    wake?.();
  });
  let read = 0;
  let acc = Buffer.allocUnsafeSlow(CHUNK);
  let filled = 0;
  const flush = async (data: Uint8Array): Promise<void> => {
    while (sent - acked >= AHEAD) await new Promise<void>((resolve) => (wake = resolve));
    send({ type: 'chunk', data, read }, [data.buffer as ArrayBuffer]);
    sent++;
    read = 0;
  };
  const flushAcc = async (): Promise<void> => {
    if (filled === 0) return;
    const data = acc.subarray(0, filled);
    acc = Buffer.allocUnsafeSlow(CHUNK);
    filled = 0;
    await flush(data);
  };
  try {
    for await (const chunk of decode(job.codec, readFileChunks(job.file, false, undefined, (n) => (read += n)), job.file, job.options)) {
      // Decoders may reuse their output memory after the next pull: copy now.
      if (chunk.length > acc.length - filled) await flushAcc();
      if (chunk.length >= acc.length) await flush(new Uint8Array(chunk));
      else {
        chunk.copy(acc, filled);
        filled += chunk.length;
      }
    }
    await flushAcc();
    send({ type: 'end', read });
  } catch (err) {
    await flushAcc();
    const e = err instanceof Error ? err : new Error(String(err));
    send({ type: 'error', message: e.message, read, codec: e instanceof CodecError ? { file: e.file, offset: e.offset, truncated: e.truncated, problem: e.problem } : undefined });
  }
}

const job = workerData as DecodeJob | null | undefined;
if (job?.mode === 'decode') {
  void decodeFile(job);
} else {
  // The pool hands out small attempts a few ahead (pool.ts): they are read one after another, in order.
  let queue: Promise<void> = Promise.resolve();
  port.on('message', (msg: unknown) => {
    if (!isReadRequest(msg)) return;
    queue = queue.then(() => read(msg));
  });
}
