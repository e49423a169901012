/**
 * Decompression on another thread. For a compressed log read alone, Spark's codecs in JS and zlib
 * take about as long as the replay itself (~480 MB/s against ~800 MB/s), so decoding on one core
 * while this thread replays on another nearly halves the time (issue #12). The worker is the event-log
 * pool's script started in decode mode (workerData), so no other bundle ships.
 *
 * Flow control keeps memory bounded: the worker sends chunks of about CHUNK bytes and waits once
 * AHEAD of them are unacknowledged; this side acknowledges each chunk when the replay asks for the
 * next. A CodecError in the worker arrives as one after everything decoded before it.
 */
import { Worker } from 'node:worker_threads';
import { CodecError, type Codec, type DecodeOptions } from './codecs/index';

/** Main -> worker (workerData): what to decode. */
export interface DecodeJob {
  mode: 'decode';
  file: string;
  codec: Exclude<Codec, 'none'>;
  options: DecodeOptions;
}

export type DecodeMessage =
  /** Worker -> main: decoded bytes (a transferred buffer) and the compressed bytes read for them. */
  | { type: 'chunk'; data: Uint8Array; read: number }
  /** Worker -> main, last: the input ended cleanly. */
  | { type: 'end'; read: number }
  /** Worker -> main, last: decoding failed; `codec` when the input is bad (not a bug). */
  | { type: 'error'; message: string; read: number; codec?: { file: string; offset: number; truncated: boolean; problem: string } };

/** Main -> worker: the replay took one more chunk. */
export interface DecodeAck {
  type: 'ack';
}

/** Decoded bytes per message. */
export const CHUNK = 1024 * 1024;
/** Unacknowledged chunks the worker may have sent. */
export const AHEAD = 4;

function isDecodeMessage(m: unknown): m is DecodeMessage {
  const t = (m as { type?: unknown } | null)?.type;
  return t === 'chunk' || t === 'end' || t === 'error';
}

/**
 * The decoded bytes of `file`, decoded by a worker running `script`. Stops the worker when the
 * caller stops early, on abort, or at the end.
 */
export async function* decodeAside(script: string, file: string, codec: Exclude<Codec, 'none'>, options: DecodeOptions, signal?: AbortSignal, onBytes?: (n: number) => void): AsyncGenerator<Buffer> {
  const job: DecodeJob = { mode: 'decode', file, codec, options };
  const worker = new Worker(script, { workerData: job });
  const inbox: (DecodeMessage | Error)[] = [];
  let wake: (() => void) | null = null;
  const push = (m: DecodeMessage | Error): void => {
    inbox.push(m);
    wake?.();
  };
  worker.on('message', (m: unknown) => {
    if (isDecodeMessage(m)) push(m);
  });
  worker.on('error', (err) => push(err));
  worker.on('exit', (code) => push(new Error(`decoder thread exited with code ${code}`)));
  const onAbort = (): void => push(new Error('aborted'));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      while (inbox.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift()!;
      signal?.throwIfAborted();
      if (m instanceof Error) throw m;
      onBytes?.(m.read);
      if (m.type === 'end') return;
      if (m.type === 'error') throw m.codec ? new CodecError(m.codec.file, m.codec.offset, m.codec.truncated, m.codec.problem) : new Error(m.message);
      yield Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
      worker.postMessage({ type: 'ack' } satisfies DecodeAck);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    worker.removeAllListeners('exit');
    await worker.terminate();
  }
}
