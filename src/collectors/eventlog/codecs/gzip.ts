/**
 * `.gz` event logs (Databricks' rotated `eventlog-*.gz`, or a log someone gzipped): gzip, possibly
 * several members back to back, decoded by Node's zlib.
 *
 * The output is taken from 'data' events as it comes and the input goes in pieces, each written
 * only after the previous one is done; end() (Z_FINISH) then tells a finished stream from a cut-off
 * one ("unexpected end of file").
 *
 * Speed (issue 12): zlib inflates on the thread pool, and every output buffer it fills is a round
 * trip through the main thread, so few large steps, and zlib working while the caller parses:
 * - each piece is sized for about STEP_OUTPUT of output by the ratio seen so far (PIECE at first, at
 *   most MAX_PIECE), in an output buffer of that size: a step is one round trip, and a bomb's
 *   steps shrink to ~1 KiB of input instead of holding a thousand times a fixed piece;
 * - the next piece is written as soon as the previous one is done, before its output is handed on.
 * On the 128 MB Spark 3.5 shape (bench.ts `--child engine-gz`): 0.62 s with 16 KiB pieces, one step
 * at a time and 64 KiB buffers; 0.29 s so.
 *
 * A step that fails loses its output: Node's zlib reports the error instead of the output of the
 * inflate() call that met it, and a step is one such call (up to STEP_OUTPUT: for most logs, the
 * whole log). Junk after a complete member fails the step that also finished the member; a CRC
 * mismatch, the step that decoded the member's end. Decoding the failing piece again alone cannot
 * work: zlib's state before it (bit position, Huffman tables, window) is gone with the stream. So the
 * pieces written so far are kept (they are copies anyway; up to KEEP_INPUT of them) and, after a
 * failure, decoded again from byte 0 in a fresh stream (redecode) with the failing piece in writes
 * of NARROW bytes, then once more with the one of those that fails a byte per write: each write
 * before the one that fails hands on its output, and the error names that byte. Nothing is spent
 * until a step fails (bench `engine-gz` on the 12.5 MB gzip of the 128 MB shape: the same time, 7 MB
 * more peak memory); a failure costs two more decodes of what was read and at most ~500 writes of
 * ~6 us (decoding alone, those 12.5 MB with junk after them: 0.36 s, not 0.12 s; a 64 KB file: 15 ms;
 * a byte per write for the whole failing piece took 0.35 s for 48 KB). Past the first KEEP_INPUT
 * bytes of a file the failing step's output is still lost, and the error names the step's bytes.
 *
 * A CRC-32 (or length) mismatch: the data is handed on, then the error. LZ4Block holds back a block
 * that fails its checksum, but that checksum covers one block (32 KiB by Spark's default); a gzip
 * CRC covers the whole member, most of which has been handed on by the time the CRC is read, and the
 * damage may lie anywhere in it. Holding back the last step's output would protect nothing and lose
 * the log's end; the error (never a cut-off) marks the log damaged, and the garbage a damaged member
 * often decodes to fails to parse line by line, as `gzip -d` would show it.
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
/** Input kept for decoding again after a failure (redecode): a 128 MB Spark log gzips to 6-13 MB. */
const KEEP_INPUT = 16 * 1024 * 1024;
/** The writes a failing piece is decoded again in, before the failing one of them goes a byte at a time. */
const NARROW = 256;

interface ZlibError extends Error {
  code?: string;
}

/** Where a write that zlib failed starts in the input, and the error. */
interface Failure {
  at: number;
  err: ZlibError;
}

/** One gunzip stream driven a write at a time: its output as it comes, and how it ended. */
class Inflater {
  private readonly gunzip = zlib.createGunzip({ chunkSize: STEP_OUTPUT });
  /** Output not yet taken, in order. */
  readonly output: Buffer[] = [];
  /** Bytes of output so far. */
  decoded = 0;
  failure: ZlibError | null = null;
  ended = false;
  private wake: (() => void) | null = null;

  constructor() {
    this.gunzip.on('data', (chunk: Buffer) => {
      this.decoded += chunk.length;
      this.output.push(chunk);
    });
    this.gunzip.on('error', (err: ZlibError) => {
      this.failure = err;
      this.wake?.();
    });
    this.gunzip.on('end', () => {
      this.ended = true;
      this.wake?.();
    });
    this.gunzip.on('close', () => this.wake?.());
  }

  /** Writes one piece and waits until zlib is done with it or has failed. */
  write(piece: Buffer): Promise<void> {
    return this.step((done) => this.gunzip.write(piece, () => done()));
  }

  /** Z_FINISH: waits for the end of the stream, or the error of a cut-off one. */
  async end(): Promise<void> {
    if (!this.ended) await this.step(() => this.gunzip.end());
  }

  destroy(): void {
    this.gunzip.destroy();
  }

  /** Starts one zlib operation and waits until it calls back, fails or ends the stream. */
  private step(start: (done: () => void) => void): Promise<void> {
    return new Promise<void>((resolve) => {
      this.wake = resolve;
      start(resolve);
    });
  }
}

function why(err: ZlibError): string {
  switch (err.message) {
    case 'incorrect data check':
      return 'the CRC-32 of a member does not match its data: the data is damaged';
    case 'incorrect length check':
      return 'the length recorded at the end of a member does not match its data: the data is damaged';
    case 'incorrect header check':
      return 'bytes after the end of a gzip member are not another gzip member';
    default:
      return `zlib reports "${err.message}"`;
  }
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

  const inflater = new Inflater();
  const output = inflater.output;
  /** Every piece written so far, while they come to at most KEEP_INPUT bytes (then null): what redecode reads. */
  let kept: Buffer[] | null = [];
  /** Input bytes written so far, the last piece's included. */
  let fed = 0;
  /** Where the last piece starts in the input: a failed step's first byte. */
  let stepStart = 0;

  /** Starts the next zlib step; its bytes once zlib is done with them, 0 when the input has ended. */
  const feed = async (): Promise<number> => {
    if (!(await reader.ensure(1))) return 0;
    const decoded = inflater.decoded;
    // Whole pieces even when the input comes in tiny chunks: one zlib step per piece.
    const want = fed === 0 || decoded === 0 ? PIECE : Math.max(MIN_PIECE, Math.min(MAX_PIECE, Math.floor((STEP_OUTPUT * fed) / decoded)));
    await reader.ensure(want);
    const n = Math.min(reader.available, want);
    // A copy: zlib reads it on the thread pool while the reader may reuse its memory for the next piece.
    const piece = Buffer.from(reader.peek(n));
    reader.skip(n);
    stepStart = fed;
    fed += n;
    if (kept !== null && fed <= KEEP_INPUT) kept.push(piece);
    else kept = null;
    await inflater.write(piece);
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
      const err = inflater.failure;
      ahead = err === null ? feed() : Promise.resolve(0);
      // Awaited on the next turn; until then a failed read must not count as an unhandled rejection.
      ahead.catch(() => undefined);
      while (output.length > 0) yield output.shift()!;
      if (err === null) continue;
      if (kept !== null) {
        // Narrowed down in two decodes: the failing piece in writes of NARROW bytes, then the one that fails a byte at a time.
        let handed = inflater.decoded;
        let failed: Failure | null = { at: stepStart, err };
        for (const size of [NARROW, 1]) {
          const again = await redecode(kept, handed, failed.at, size);
          handed += again.rest.length;
          if (again.rest.length > 0) yield again.rest;
          failed = again.failed;
          if (failed === null) break;
        }
        if (failed !== null) throw new CodecError(file, failed.at, false, `corrupt gzip stream near byte ${failed.at}: ${why(failed.err)}`);
      }
      const problem = `corrupt gzip stream in bytes ${stepStart} to ${fed - 1}: ${why(err)}`;
      throw new CodecError(file, stepStart, false, kept !== null ? problem : `${problem}; what they decode to before the damage is lost (past its first ${KEEP_INPUT / 2 ** 20} MiB a file is not decoded again)`);
    }
    await inflater.end();
    while (output.length > 0) yield output.shift()!;
    const err = inflater.failure;
    if (err !== null) {
      if (err.code === 'Z_BUF_ERROR') throw new CodecError(file, fed, true, `the file ends inside a gzip member (after ${fed} bytes); it was cut off or is still being written`);
      throw new CodecError(file, fed, false, `corrupt gzip stream at its end (byte ${fed}): ${why(err)}`);
    }
  } finally {
    inflater.destroy();
  }
}

/**
 * After a failed step: decodes `pieces` (the input from byte 0) again in a fresh stream, the bytes
 * before `from` (which decode) a piece per write, the rest `size` bytes per write. Returns its output
 * past the first `skip` bytes (handed on already) up to the write that fails, and where that write
 * starts in the input with zlib's error (null should the same bytes decode this time).
 */
async function redecode(pieces: readonly Buffer[], skip: number, from: number, size: number): Promise<{ rest: Buffer; failed: Failure | null }> {
  const again = new Inflater();
  const rest: Buffer[] = [];
  let seen = 0;
  /** Moves the output past `skip` to `rest`. */
  const take = (): void => {
    for (const chunk of again.output) {
      const start = Math.max(0, skip - seen);
      seen += chunk.length;
      if (start < chunk.length) rest.push(chunk.subarray(start));
    }
    again.output.length = 0;
  };
  try {
    let at = 0;
    for (const piece of pieces) {
      for (let i = 0; i < piece.length; ) {
        const end = Math.min(piece.length, at + i < from ? from - at : i + size);
        await again.write(piece.subarray(i, end));
        take();
        if (again.failure !== null) return { rest: Buffer.concat(rest), failed: { at: at + i, err: again.failure } };
        i = end;
      }
      at += piece.length;
    }
    return { rest: Buffer.concat(rest), failed: null };
  } finally {
    again.destroy();
  }
}
