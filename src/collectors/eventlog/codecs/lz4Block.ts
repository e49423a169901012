/**
 * Spark's `.lz4` event logs: lz4-java's LZ4BlockOutputStream framing (Spark's LZ4CompressionCodec).
 * Each block: magic `LZ4Block`, a token (high nibble: 0x10 raw / 0x20 LZ4; low nibble: log2(block
 * size) - 10), compressed length, original length and checksum as little-endian int32, then the
 * data. The checksum is XXH32(original bytes, seed 0x9747b28c) masked to 28 bits (lz4-java's
 * StreamingXXHash32.asChecksum()). An all-zero block ends a stream; Spark reads with
 * stopOnEmptyBlock=false, so streams may follow back to back. A file that stops between blocks is a
 * stream Spark has not finished, which is fine.
 */
import type { BlockOutput } from './blockOutput';
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, decodeBlockAt, shortTailError } from './codecError';
import { copyLiteralsWide, copyMatchWide, type LzUnit } from './lzCopy';
import { xxh32 } from './xxhash32';

const MAGIC = Buffer.from('LZ4Block', 'latin1');
const MAGIC_TEXT = "'LZ4Block'";
const FORMAT = 'an LZ4Block stream (lz4-java, as Spark writes .lz4)';
const HEADER_LEN = 21;
const METHOD_RAW = 0x10;
const METHOD_LZ4 = 0x20;
const CHECKSUM_SEED = 0x9747b28c;

/**
 * The sum of an LZ4 extended length at src[s]: bytes of 255, then one below 255, each added to the
 * 4-bit length. How many bytes it took follows from the sum (lengthBytes), so the hot loop needs no
 * second result.
 */
function extendedLength(src: Uint8Array, s: number, end: number, what: string): number {
  let sum = 0;
  let more: number;
  do {
    if (s >= end) throw new BlockFormatError(s, `${what} runs past the end of the block`);
    more = src[s++]!;
    sum += more;
  } while (more === 255);
  return sum;
}

/** The bytes an extended length whose sum is `sum` took: one per full 255, and the last one. */
function lengthBytes(sum: number): number {
  return ((sum / 255) | 0) + 1;
}
/** lz4-java allows up to 32 MiB blocks (level 15); anything declaring more is damage, not data. */
const MAX_BLOCK = 64 * 1024 * 1024;

/** LZ4's worst-case compressed size for n input bytes (LZ4_COMPRESSBOUND, lz4-java maxCompressedLength). */
function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

/** How lz4DecodeBlock's errors name what it decodes. */
const UNIT: LzUnit = { name: 'block', sizeFrom: 'header' };

/**
 * Decodes one raw LZ4 block src[start, end) into dst from index 0 and returns the bytes written.
 * Every length and offset is checked against both buffers: the input may be damaged.
 */
export function lz4DecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dstView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let s = start;
  let d = 0;
  for (;;) {
    if (s >= end) throw new BlockFormatError(s, 'the block ends without its final literals');
    const token = src[s++]!;
    let lit = token >>> 4;
    if (lit === 15) {
      const more = extendedLength(src, s, end, 'a literal length');
      lit += more;
      s += lengthBytes(more);
    }
    if (lit > 0) {
      copyLiteralsWide(src, srcView, s, end, dst, dstView, d, lit, UNIT);
      s += lit;
      d += lit;
    }
    // The last sequence of a block is literals only.
    if (s === end) return d;
    if (end - s < 2) throw new BlockFormatError(s, 'a match offset is cut off by the end of the block');
    const offset = src[s]! | (src[s + 1]! << 8);
    if (offset === 0 || offset > d) throw new BlockFormatError(s, `a match refers ${offset} bytes back, before the start of the block`);
    s += 2;
    let len = token & 15;
    if (len === 15) {
      const more = extendedLength(src, s, end, 'a match length');
      len += more;
      s += lengthBytes(more);
    }
    len += 4;
    copyMatchWide(dst, dstView, d, offset, len, s, UNIT);
    d += len;
  }
}

export async function* decodeLz4Block(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  while (!(await reader.atEnd())) {
    const at = reader.position;
    if (!(await reader.ensure(HEADER_LEN))) throw shortTailError(file, at, reader.peek(reader.available), MAGIC, FORMAT, MAGIC_TEXT, 'an LZ4Block header');
    const header = reader.peek(HEADER_LEN);
    if (!header.subarray(0, MAGIC.length).equals(MAGIC)) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));
    const corrupt = (why: string, where = at): CodecError => new CodecError(file, where, false, `corrupt LZ4Block stream: the block at byte ${at} ${why}`);
    const token = header[8]!;
    const method = token & 0xf0;
    const level = token & 0x0f;
    const compressedLen = header.readInt32LE(9);
    const originalLen = header.readInt32LE(13);
    const checksum = header.readUInt32LE(17);
    if (method !== METHOD_RAW && method !== METHOD_LZ4) {
      throw corrupt(`has compression method 0x${method.toString(16)} (expected 0x10 raw or 0x20 LZ4)`);
    }
    const maxOriginal = Math.min(1 << (10 + level), MAX_BLOCK);
    if (originalLen < 0 || originalLen > maxOriginal) throw corrupt(`declares ${originalLen} decompressed bytes; its block size allows at most ${maxOriginal}`);
    if (compressedLen < 0 || compressedLen > compressBound(originalLen)) {
      throw corrupt(`declares ${compressedLen} compressed bytes for ${originalLen} decompressed bytes, which LZ4 never produces`);
    }
    if (originalLen === 0) {
      if (compressedLen !== 0 || checksum !== 0) throw corrupt('is an end-of-stream mark with non-zero lengths or checksum');
      reader.skip(HEADER_LEN);
      continue;
    }
    if (method === METHOD_RAW && compressedLen !== originalLen) {
      throw corrupt(`is stored uncompressed but declares ${compressedLen} stored and ${originalLen} original bytes`);
    }
    const block = await reader.peekBlock(HEADER_LEN, compressedLen, file, 'an LZ4 block');
    const out = output.take(originalLen);
    if (method === METHOD_RAW) {
      block.copy(out, 0, HEADER_LEN);
    } else {
      const written = decodeBlockAt(at, corrupt, () => lz4DecodeBlock(block, HEADER_LEN, block.length, out));
      if (written !== originalLen) throw corrupt(`decodes to ${written} bytes, but its header says ${originalLen}`);
    }
    const actual = xxh32(out, 0, originalLen, CHECKSUM_SEED) & 0x0fffffff;
    if (actual !== checksum) {
      throw corrupt(`fails its checksum (stored 0x${checksum.toString(16)}, computed 0x${actual.toString(16)}): the data is damaged`);
    }
    reader.skip(HEADER_LEN + compressedLen);
    yield out;
  }
}
