/**
 * `.gz` event logs (Databricks' rotated `eventlog-*.gz`, or a log someone gzipped): gzip, possibly
 * several members back to back, decoded by Node's zlib.
 *
 * A zlib stream that fails is destroyed with its unread output, so the output is taken from 'data'
 * events as it comes and the input goes in small pieces, each written only after the previous one
 * is done: when the error comes, everything decoded before it has been handed on. end() (Z_FINISH)
 * then tells a finished stream from a cut-off one ("unexpected end of file").
 * Known limit: when data that is not gzip follows a complete member, zlib fails the step that
 * also finished that member, and up to OUTPUT_CHUNK (64 KiB) of its output is lost.
 */
import * as zlib from 'node:zlib';
import type { ByteReader } from './byteReader';
import { CodecError, badMagicError, shortTailError } from './codecError';

const MAGIC = Buffer.from([0x1f, 0x8b]);
const MAGIC_TEXT = '1f 8b';
const FORMAT = 'a gzip stream';
const DEFLATE = 8;
/** Input per zlib step: bounds the output held at once to this times the compression ratio. */
const PIECE = 16 * 1024;
/**
 * zlib's output buffer (its chunkSize, 16 KiB by default). Each one filled is a round trip to the
 * thread pool: at 15x, a 16 KiB piece took 15 of them. 64 KiB: ~620 -> ~940 MB/s of output
 * (scripts/codecBench.mjs, issue 12); 128 KiB gained 10% more for twice the loss above.
 */
const OUTPUT_CHUNK = 64 * 1024;

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

  const gunzip = zlib.createGunzip({ chunkSize: OUTPUT_CHUNK });
  const output: Buffer[] = [];
  let failure: ZlibError | null = null;
  let ended = false;
  let wake: (() => void) | null = null;
  gunzip.on('data', (chunk: Buffer) => output.push(chunk));
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

  try {
    while (await reader.ensure(1)) {
      // Whole pieces even when the input comes in tiny chunks: one zlib step per piece.
      await reader.ensure(PIECE);
      const n = Math.min(reader.available, PIECE);
      const piece = reader.peek(n);
      reader.skip(n);
      await step((done) => gunzip.write(piece, () => done()));
      while (output.length > 0) yield output.shift()!;
      const err = failed();
      if (err !== null) throw err;
      fed += n;
    }
    if (!ended) await step(() => gunzip.end());
    while (output.length > 0) yield output.shift()!;
    const err = failed();
    if (err !== null) throw err;
  } finally {
    gunzip.destroy();
  }
}
