/**
 * Spark's `.zstd` event logs: standard Zstandard (zstd-jni), one or many frames back to back,
 * decoded by fzstd. We walk the frame and block headers ourselves and push fzstd whole blocks, so
 * that a cut-off file is told apart from a damaged one, errors carry the offset of their block,
 * and a header cannot make fzstd allocate an absurd window.
 * Not verified: the optional content checksum (XXH64), which zstd-jni does not write by default.
 */
import { Decompress } from 'fzstd';
import type { ByteReader } from './byteReader';
import { CodecError, badMagicError, shortTailError, truncatedError } from './codecError';

const FRAME_MAGIC = 0xfd2fb528;
const MAGIC_BYTES = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const MAGIC_TEXT = '0xFD2FB528 (bytes 28 b5 2f fd)';
const FORMAT = 'a zstd stream';
/** Skippable frames: magic 0x184D2A50..0x184D2A5F, a 4-byte size, then data to ignore. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
/**
 * fzstd 0.1.1 reads an offset's extra bits with one 32-bit load, which loses bits for offset codes
 * above 25: frames with windows over 64 MiB (`zstd --long=27`, `--ultra -22`) decode to wrong bytes
 * without an error. It also shifts its whole window once per 128 KiB block, so big windows are slow.
 * 32 MiB covers every level up to 20 without --long (Spark's default level 1 uses 512 KiB).
 */
const MAX_WINDOW = 32 * 1024 * 1024;
const MAX_BLOCK = 128 * 1024;
const DICT_ID_BYTES = [0, 1, 2, 4] as const;
const CONTENT_SIZE_BYTES = [0, 2, 4, 8] as const;

function readLE(b: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = n - 1; i >= 0; i--) v = v * 256 + b[at + i]!;
  return v;
}

export async function* decodeZstd(reader: ByteReader, file: string): AsyncGenerator<Buffer> {
  const output: Buffer[] = [];
  const fz = new Decompress((data) => {
    if (data.length > 0) output.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  });
  /** Pushes bytes to fzstd; returns its error instead of throwing so that what it decoded is yielded first. */
  const feed = (bytes: Uint8Array, final: boolean): Error | null => {
    try {
      fz.push(bytes, final);
      return null;
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
  };
  const corrupt = (at: number, why: string): CodecError => new CodecError(file, at, false, `corrupt zstd stream: ${why}`);

  let truncated: CodecError | null = null;
  frames: for (;;) {
    const at = reader.position;
    if (!(await reader.ensure(4))) {
      const left = reader.available;
      if (left === 0) break;
      throw shortTailError(file, at, reader.peek(left), MAGIC_BYTES, FORMAT, MAGIC_TEXT, 'a zstd frame header');
    }
    const magic = reader.peek(4).readUInt32LE(0);
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (!(await reader.ensure(8))) {
        truncated = truncatedError(file, at, 'a skippable zstd frame header');
        break;
      }
      const size = reader.peek(8).readUInt32LE(4);
      reader.skip(8);
      if ((await reader.discard(size)) < size) {
        truncated = truncatedError(file, at, 'a skippable zstd frame', `${size} bytes`);
        break;
      }
      continue;
    }
    if (magic !== FRAME_MAGIC) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));

    if (!(await reader.ensure(5))) {
      truncated = truncatedError(file, at, 'a zstd frame header');
      break;
    }
    const descriptor = reader.peek(5)[4]!;
    const singleSegment = (descriptor >>> 5) & 1;
    const hasChecksum = (descriptor >>> 2) & 1;
    if (descriptor & 0x08) throw corrupt(at, `the frame at byte ${at} has the reserved bit of its header set`);
    const dictBytes = DICT_ID_BYTES[descriptor & 3]!;
    const fcsFlag = descriptor >>> 6;
    const sizeBytes = fcsFlag === 0 ? singleSegment : CONTENT_SIZE_BYTES[fcsFlag]!;
    const headerLen = 5 + (singleSegment ? 0 : 1) + dictBytes + sizeBytes;
    if (!(await reader.ensure(headerLen))) {
      truncated = truncatedError(file, at, 'a zstd frame header');
      break;
    }
    const header = reader.peek(headerLen);
    const dictId = readLE(header, 5 + (singleSegment ? 0 : 1), dictBytes);
    if (dictId !== 0) {
      throw new CodecError(file, at, false, `the zstd frame at byte ${at} needs dictionary ${dictId}; frames compressed with a dictionary cannot be read`);
    }
    let window: number;
    if (singleSegment) {
      window = readLE(header, headerLen - sizeBytes, sizeBytes) + (fcsFlag === 1 ? 256 : 0);
    } else {
      const exponent = header[5]! >>> 3;
      const base = 2 ** (10 + exponent);
      window = base + (base / 8) * (header[5]! & 7);
    }
    if (window > MAX_WINDOW) {
      throw new CodecError(
        file,
        at,
        false,
        `the zstd frame at byte ${at} needs a ${(window / 2 ** 20).toFixed(0)} MiB window, more than the ${MAX_WINDOW / 2 ** 20} MiB this reader supports; ` +
          'recompress with a level of 19 or lower and without --long (or the header is damaged)',
      );
    }
    const maxBlock = Math.min(window, MAX_BLOCK);
    let failure = feed(header, false);
    reader.skip(headerLen);
    if (failure !== null) throw corrupt(at, `the frame header at byte ${at} is invalid (${failure.message})`);

    for (;;) {
      const blockAt = reader.position;
      if (!(await reader.ensure(3))) {
        truncated = truncatedError(file, blockAt, 'a zstd block header');
        break frames;
      }
      const b = reader.peek(3);
      const blockHeader = b[0]! | (b[1]! << 8) | (b[2]! << 16);
      const last = blockHeader & 1;
      const type = (blockHeader >>> 1) & 3;
      const size = blockHeader >>> 3;
      if (type === 3) throw corrupt(blockAt, `the block at byte ${blockAt} has the reserved block type 3`);
      if (size > maxBlock) throw corrupt(blockAt, `the block at byte ${blockAt} declares ${size} bytes, more than the ${maxBlock} this frame allows`);
      // An RLE block (type 1) stores one byte that is repeated `size` times.
      const bodyLen = type === 1 ? 1 : size;
      if (!(await reader.ensure(3 + bodyLen))) {
        truncated = truncatedError(file, blockAt, 'a zstd block', `${bodyLen} bytes, only ${reader.available - 3} present`);
        break frames;
      }
      failure = feed(reader.peek(3 + bodyLen), false);
      reader.skip(3 + bodyLen);
      while (output.length > 0) yield output.shift()!;
      if (failure !== null) throw corrupt(blockAt, `the block at byte ${blockAt} cannot be decoded (${failure.message})`);
      if (last) break;
    }
    if (hasChecksum) {
      const checksumAt = reader.position;
      if (!(await reader.ensure(4))) {
        truncated = truncatedError(file, checksumAt, 'the checksum of a zstd frame');
        break;
      }
      const failed = feed(reader.peek(4), false);
      reader.skip(4);
      if (failed !== null) throw corrupt(checksumAt, `the frame checksum at byte ${checksumAt} is misplaced (${failed.message})`);
    }
  }
  // fzstd holds back very small frames until it has 18 bytes; `final` flushes them.
  const failure = feed(new Uint8Array(0), true);
  while (output.length > 0) yield output.shift()!;
  if (truncated !== null) throw truncated;
  if (failure !== null) throw corrupt(reader.position, `the stream does not end cleanly (${failure.message})`);
}
