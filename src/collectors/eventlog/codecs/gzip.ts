/**
 * `.gz` event logs (Databricks' rotated `eventlog-*.gz`, or a log someone gzipped): gzip, possibly
 * several members back to back, decoded by Node's zlib.
 *
 * A zlib stream that fails is destroyed with its unread output, so the output is taken from 'data'
 * events as it comes and the input goes in pieces, each written only after the previous one is
 * done: when the error comes, everything decoded before it has been handed on. end() (Z_FINISH) then
 * tells a finished stream from a cut-off one ("unexpected end of file").
 *
 * Speed (issue 12): zlib inflates on the thread pool, and every output buffer it fills is a round
 * trip through the main thread, so few large steps, and zlib working while the caller parses:
 * - each piece is sized for about STEP_OUTPUT of output by the ratio seen so far (PIECE at first, at
 *   most MAX_PIECE), in an output buffer of that size: a step is one round trip, and a bomb's
 *   steps shrink to ~1 KiB of input instead of holding a thousand times a fixed piece;
 * - the next piece is written as soon as the previous one is done, before its output is handed on.
 * On the 128 MB Spark 3.5 shape (bench.ts `--child engine-gz`): 0.62 s with 16 KiB pieces, one step
 * at a time and 64 KiB buffers; 0.29 s so.
 * Known limit: when data that is not gzip follows a complete member, zlib fails the step that also
 * finished that member, and that step's output (up to about STEP_OUTPUT) is lost with it.
 */
import * as zlib from 'node:zlib';
import type { ByteReader } from './byteReader';
import { CodecError, badMagicError, shortTailError } from './codecError';

const MAGIC = Buffer.from([0x1f, 0x8b]);
const MAGIC_TEXT = '1f 8b';
const FORMAT = 'a gzip stream';
const DEFLATE = 8;
/** The output a step aims at, and zlib's output buffer (its chunkSize; 16 KiB by default). */
const STEP_OUTPUT = 1024 * 1024;
/** The first piece, before any ratio is known: at deflate's most (~1,032x), 16 MiB of output. */
const PIECE = 16 * 1024;
/** Pieces stay between these; 64 KiB is a 16x log's 1 MiB step. */
const MIN_PIECE = 1024;
const MAX_PIECE = 64 * 1024;

interface ZlibError extends Error {
  code?: string;
}

export async function* decodeGzip(reader: ByteReader, file: string): AsyncGenerator<Buffer> {
  if (!(await reader.ensure(3))) {
    const left = reader.available;
    if (left === 0) return;
    throw shortTailError(file, 0, reader.peek(left), MAGIC, FORMAT, MAGIC_TEXT, 'a gzip header');
  }
  const head = reader.peek(Math.min(reader.available, 64));
  if (!head.subarray(0, 2).equals(MAGIC)) throw badMagicError(file, 0, FORMAT, MAGIC_TEXT, head);
  if (head[2] !== DEFLATE) throw new CodecError(file, 2, false, `not a gzip stream Node can read: compression method ${head[2]} at byte 2, expected 8 (deflate)`);

  const gunzip = zlib.createGunzip({ chunkSize: STEP_OUTPUT });
  const output: Buffer[] = [];
  let failure: ZlibError | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  let decoded = 0;
  gunzip.on('data', (chunk: Buffer) => {
    decoded += chunk.length;
    output.push(chunk);
  });
  gunzip.on('error', (err: ZlibError) => {
    failure = err;
    wake?.();
  });
  gunzip.on('end', () => {
    ended = true;
    wake?.();
  });
  gunzip.on('close', () => wake?.());
  /** Starts one zlib operation and waits until it calls back, fails or ends the stream. */
  const step = (start: (done: () => void) => void): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      start(resolve);
    });
  let fed = 0;
  const failed = (): CodecError | null => {
    const err: ZlibError | null = failure;
    if (err === null) return null;
    if (err.code === 'Z_BUF_ERROR') {
      return new CodecError(file, fed, true, `the file ends inside a gzip member (after ${fed} bytes); it was cut off or is still being written`);
    }
    const where = gunzip.bytesWritten;
    const why =
      err.message === 'incorrect data check'
        ? 'the CRC-32 of a member does not match its data: the data is damaged'
        : err.message === 'incorrect header check'
          ? 'bytes after the end of a gzip member are not another gzip member'
          : `zlib reports "${err.message}"`;
    return new CodecError(file, where, false, `corrupt gzip stream near byte ${where}: ${why}`);
  };

  /** Starts the next zlib step; its bytes once zlib is done with them, 0 when the input has ended. */
  const feed = async (): Promise<number> => {
    if (!(await reader.ensure(1))) return 0;
    // Whole pieces even when the input comes in tiny chunks: one zlib step per piece.
    const want = fed === 0 || decoded === 0 ? PIECE : Math.max(MIN_PIECE, Math.min(MAX_PIECE, Math.floor((STEP_OUTPUT * fed) / decoded)));
    await reader.ensure(want);
    const n = Math.min(reader.available, want);
    // A copy: zlib reads it on the thread pool while the reader may reuse its memory for the next piece.
    const piece = Buffer.from(reader.peek(n));
    reader.skip(n);
    await step((done) => gunzip.write(piece, () => done()));
    fed += n;
    return n;
  };

  try {
    // One step ahead: zlib inflates the next piece on the thread pool while the caller reads this
    // one's output (issue 12: the main thread waited for zlib about half of a .gz log's time).
    // Still one zlib operation at a time, each started after the previous one is done.
    let ahead = feed();
    for (;;) {
      const n = await ahead;
      if (n === 0) break;
      const err = failed();
      ahead = err === null ? feed() : Promise.resolve(0);
      // Awaited on the next turn; until then a failed read must not count as an unhandled rejection.
      ahead.catch(() => undefined);
      while (output.length > 0) yield output.shift()!;
      if (err !== null) throw err;
    }
    if (!ended) await step(() => gunzip.end());
    while (output.length > 0) yield output.shift()!;
    const err = failed();
    if (err !== null) throw err;
  } finally {
    gunzip.destroy();
  }
}
