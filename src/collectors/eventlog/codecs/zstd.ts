/**
 * Spark's `.zstd` event logs: standard Zstandard (zstd-jni), one or many frames back to back. We
 * walk the frame and block headers here, so that a cut-off file is told apart from a damaged one,
 * errors carry the offset of their block, and a header cannot make us allocate an absurd window;
 * zstdFrameDecoder.ts decodes the blocks into a ring the size of the window.
 * Not verified: the optional content checksum (XXH64), which zstd-jni does not write by default.
 */
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, shortTailError, truncatedError } from './codecError';
import { ZSTD_MAX_BLOCK, ZstdFrameDecoder } from './zstdFrameDecoder';

const FRAME_MAGIC = 0xfd2fb528;
const MAGIC_BYTES = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const MAGIC_TEXT = '0xFD2FB528 (bytes 28 b5 2f fd)';
const FORMAT = 'a zstd stream';
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, a 4-byte size, then data to ignore. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/** zstd's own default decoder limit (ZSTD_WINDOWLOG_LIMIT_DEFAULT = 27), which `zstd -d` applies too. */
export const DEFAULT_MAX_ZSTD_WINDOW_MB = 128;
/** windowLog 30: a 1 GiB ring is as much as a worker should hold; no event log writer goes near it. */
export const MAX_ZSTD_WINDOW_MB_LIMIT = 1024;
/** The option that raises the window limit, named in the error that refuses a frame. */
const WINDOW_OPTION = 'zstd_max_window_mb (config), --zstd-max-window-mb (CLI) or sparkOptimizer.zstdMaxWindowMb (editor)';
const DICT_ID_BYTES = [0, 1, 2, 4] as const;
const CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;

function readLE(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
  return v;
}

export interface ZstdOptions {
  /** Largest window a frame may need, in MiB (1 to MAX_ZSTD_WINDOW_MB_LIMIT); DEFAULT_MAX_ZSTD_WINDOW_MB if absent. */
  maxWindowMb?: number;
  /** Hand out views of the window instead of copies (DecodeOptions.reuseOutput). */
  reuseOutput?: boolean;
}

/** A block's body is copied into scratch at LEAD, with room on both sides for the decoder's bit loads. */
const LEAD = 16;
const TAIL = 8;

export async function* decodeZstd(reader: ByteReader, file: string, options: ZstdOptions = {}): AsyncGenerator<Buffer> {
  const maxWindowMb = options.maxWindowMb ?? DEFAULT_MAX_ZSTD_WINDOW_MB;
  if (!(Number.isFinite(maxWindowMb) && maxWindowMb >= 1 && maxWindowMb <= MAX_ZSTD_WINDOW_MB_LIMIT)) {
    throw new RangeError(`the zstd window limit must be a number of MiB from 1 to ${MAX_ZSTD_WINDOW_MB_LIMIT}, not ${maxWindowMb}`);
  }
  const maxWindow = Math.floor(maxWindowMb * 2 ** 20);
  const reuse = options.reuseOutput === true;
  const decoder = new ZstdFrameDecoder();
  const scratch = new Uint8Array(LEAD + ZSTD_MAX_BLOCK + TAIL);
  const corrupt = (at: number, why: string): CodecError => new CodecError(file, at, false, `corrupt zstd stream: ${why}`);

  while (!(await reader.atEnd())) {
    const at = reader.position;
    if (!(await reader.ensure(4))) throw shortTailError(file, at, reader.peek(reader.available), MAGIC_BYTES, FORMAT, MAGIC_TEXT, 'a zstd frame header');
    const magic = reader.peek(4).readUInt32LE(0);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (!(await reader.ensure(8))) throw truncatedError(file, at, 'a skippable zstd frame header');
      const size = reader.peek(8).readUInt32LE(4);
      reader.skip(8);
      if ((await reader.discard(size)) < size) throw truncatedError(file, at, 'a skippable zstd frame', `${size} bytes`);
      continue;
    }
    if (magic !== FRAME_MAGIC) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));

    if (!(await reader.ensure(5))) throw truncatedError(file, at, 'a zstd frame header');
    const descriptor = reader.peek(5)[4]!;
    const singleSegment = (descriptor >>> 5) & 1;
    const hasChecksum = (descriptor >>> 2) & 1;
    if (descriptor & 0x08) throw corrupt(at, `the frame at byte ${at} has the reserved bit of its header set`);
    const dictBytes = DICT_ID_BYTES[descriptor & 3]!;
    const fcsFlag = descriptor >>> 6;
    const sizeBytes = fcsFlag === 0 ? singleSegment : CONTENT_SIZE_BYTES[fcsFlag]!;
    const headerLen = 5 + (singleSegment ? 0 : 1) + dictBytes + sizeBytes;
    if (!(await reader.ensure(headerLen))) throw truncatedError(file, at, 'a zstd frame header');
    const header = reader.peek(headerLen);
    const dictId = readLE(header, 5 + (singleSegment ? 0 : 1), dictBytes);
    if (dictId !== 0) {
      throw new CodecError(file, at, false, `the zstd frame at byte ${at} needs dictionary ${dictId}; frames compressed with a dictionary cannot be read`);
    }
    const contentSize = sizeBytes === 0 ? -1 : readLE(header, headerLen - sizeBytes, sizeBytes) + (fcsFlag === 1 ? 256 : 0);
    let window: number;
    if (singleSegment) {
      window = contentSize;
    } else {
      const exponent = header[5]! >>> 3;
      const base = 2 ** (10 + exponent);
      window = base + (base / 8) * (header[5]! & 7);
    }
    if (window > maxWindow) {
      const mib = window / 2 ** 20;
      const need = mib >= 1 ? `${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB` : `${window} bytes`;
      const advice =
        mib <= MAX_ZSTD_WINDOW_MB_LIMIT
          ? `set ${WINDOW_OPTION} to ${Math.ceil(mib)} or more to read it (memory use grows with the window)`
          : `windows over ${MAX_ZSTD_WINDOW_MB_LIMIT} MiB are not supported; recompress without --long or with a smaller --long=N`;
      throw new CodecError(
        file,
        at,
        false,
        `the zstd frame at byte ${at} needs a ${need} window, more than the ${maxWindowMb} MiB allowed: ${advice} (or the header is damaged)`,
      );
    }
    decoder.startFrame(window);
    const maxBlock = Math.min(window, ZSTD_MAX_BLOCK);
    reader.skip(headerLen);

    for (;;) {
      const blockAt = reader.position;
      if (!(await reader.ensure(3))) throw truncatedError(file, blockAt, 'a zstd block header');
      const b = reader.peek(3);
      const blockHeader = b[0]! | (b[1]! << 8) | (b[2]! << 16);
      const last = blockHeader & 1;
      const type = (blockHeader >>> 1) & 3;
      const size = blockHeader >>> 3;
      if (type === 3) throw corrupt(blockAt, `the block at byte ${blockAt} has the reserved block type 3`);
      if (size > maxBlock) throw corrupt(blockAt, `the block at byte ${blockAt} declares ${size} bytes, more than the ${maxBlock} this frame allows`);
      // An RLE block (type 1) stores one byte that is repeated `size` times.
      const bodyLen = type === 1 ? 1 : size;
      const block = await reader.peekBlock(3, bodyLen, file, 'a zstd block');
      scratch.set(block.subarray(3), LEAD);
      reader.skip(3 + bodyLen);
      let out: { start: number; end: number };
      try {
        out = decoder.block(type, scratch, LEAD, size);
      } catch (err) {
        // RangeError: a damaged block that slipped past the checks and made a copy run out of bounds.
        if (!(err instanceof BlockFormatError || err instanceof RangeError)) throw err;
        throw corrupt(blockAt, `the block at byte ${blockAt} cannot be decoded (${err.message})`);
      }
      // A copy, unless the caller is done with it before the next: the ring is overwritten as decoding goes on.
      if (out.end > out.start) {
        const ring = decoder.output;
        yield reuse ? Buffer.from(ring.buffer, ring.byteOffset + out.start, out.end - out.start) : Buffer.from(ring.subarray(out.start, out.end));
      }
      if (last) break;
    }
    if (contentSize >= 0 && decoder.frameSize !== contentSize) {
      throw corrupt(reader.position, `the frame at byte ${at} declares ${contentSize} bytes of content but holds ${decoder.frameSize}`);
    }
    if (hasChecksum) {
      const checksumAt = reader.position;
      if (!(await reader.ensure(4))) throw truncatedError(file, checksumAt, 'the checksum of a zstd frame');
      reader.skip(4);
    }
  }
}
