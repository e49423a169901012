/**
 * Spark's `.snappy` event logs: snappy-java's SnappyOutputStream (Spark's SnappyCompressionCodec).
 * A 16-byte header (magic `\x82SNAPPY\0`, int32 BE version, int32 BE minimum compatible version),
 * then chunks: int32 BE compressed length + one raw Snappy block. SnappyInputStream accepts the
 * header again where a chunk length would be (streams written back to back), and so do we.
 *
 * Not accepted, with a message naming them: the Snappy framing format (x-snappy-framed, which
 * snappy-java writes only through SnappyFramedOutputStream) and snappy-java's headerless legacy
 * form (the whole file one raw block, which cannot be streamed and which Spark does not write).
 */
import type { BlockOutput } from './blockOutput';
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, decodeBlockAt, shortTailError, truncatedError } from './codecError';
import { copyLiteralsWide, copyMatchWide, type LzUnit } from './lzCopy';

const MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const MAGIC_TEXT = "'\\x82SNAPPY\\0'";
/** The magic's first four bytes read as a chunk length: a repeated stream header. */
const MAGIC_HEAD = 0x82534e41;
const FORMAT = 'a snappy-java stream (as Spark writes .snappy)';
const HEADER_LEN = 16;
/** snappy-java writes 32 KiB blocks by default (spark.io.compression.snappy.blockSize); larger than this is damage. */
const MAX_BLOCK = 64 * 1024 * 1024;

/** Reads a raw Snappy block's varint preamble: [uncompressed length, offset of the first element]. */
export function snappyLength(src: Uint8Array, start: number, end: number): [number, number] {
  let length = 0;
  let s = start;
  for (let shift = 0; shift <= 28; shift += 7) {
    if (s >= end) throw new BlockFormatError(s, 'the block ends inside its length preamble');
    const b = src[s++]!;
    if (shift === 28 && b > 0x0f) throw new BlockFormatError(s - 1, 'the length preamble does not fit in 32 bits');
    length += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return [length, s];
  }
  throw new BlockFormatError(s, 'the length preamble does not fit in 32 bits');
}

/** How snappyDecodeBlock's errors name what it decodes. */
const UNIT: LzUnit = { name: 'block', sizeFrom: 'preamble' };

/** Decodes raw Snappy elements src[start, end) into dst from index 0; returns the bytes written. */
export function snappyDecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dstView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let s = start;
  let d = 0;
  while (s < end) {
    const tag = src[s++]!;
    const kind = tag & 3;
    if (kind === 0) {
      let lit = tag >>> 2;
      if (lit >= 60) {
        const n = lit - 59;
        if (end - s < n) throw new BlockFormatError(s, 'a literal length is cut off by the end of the block');
        lit = src[s]!;
        if (n > 1) lit += src[s + 1]! * 0x100;
        if (n > 2) lit += src[s + 2]! * 0x10000;
        if (n > 3) lit += src[s + 3]! * 0x1000000;
        s += n;
      }
      lit += 1;
      copyLiteralsWide(src, srcView, s, end, dst, dstView, d, lit, UNIT);
      s += lit;
      d += lit;
      continue;
    }
    let len: number;
    let offset: number;
    if (kind === 1) {
      if (s >= end) throw new BlockFormatError(s, 'a copy is cut off by the end of the block');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | src[s++]!;
    } else if (kind === 2) {
      if (end - s < 2) throw new BlockFormatError(s, 'a copy is cut off by the end of the block');
      len = (tag >>> 2) + 1;
      offset = src[s]! | (src[s + 1]! << 8);
      s += 2;
    } else {
      if (end - s < 4) throw new BlockFormatError(s, 'a copy is cut off by the end of the block');
      len = (tag >>> 2) + 1;
      offset = (src[s]! | (src[s + 1]! << 8) | (src[s + 2]! << 16) | (src[s + 3]! << 24)) >>> 0;
      s += 4;
    }
    if (offset === 0 || offset > d) throw new BlockFormatError(s, `a copy refers ${offset} bytes back, before the start of the block`);
    copyMatchWide(dst, dstView, d, offset, len, s, UNIT);
    d += len;
  }
  return d;
}

export async function* decodeSnappyStream(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  let expectHeader = true;
  while (!(await reader.atEnd())) {
    const at = reader.position;
    if (!(await reader.ensure(4))) {
      if (expectHeader) throw shortTailError(file, at, reader.peek(reader.available), MAGIC, FORMAT, MAGIC_TEXT, 'a snappy-java stream header');
      throw truncatedError(file, at, 'a snappy-java chunk length');
    }
    const lengthField = reader.peek(4).readUInt32BE(0);
    if (expectHeader || lengthField === MAGIC_HEAD) {
      if (!(await reader.ensure(HEADER_LEN))) throw shortTailError(file, at, reader.peek(reader.available), MAGIC, FORMAT, MAGIC_TEXT, 'a snappy-java stream header');
      const header = reader.peek(HEADER_LEN);
      if (!header.subarray(0, MAGIC.length).equals(MAGIC)) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));
      reader.skip(HEADER_LEN);
      expectHeader = false;
      continue;
    }
    const corrupt = (why: string, where = at): CodecError =>
      new CodecError(file, where, false, `corrupt snappy-java stream: the chunk at byte ${at} ${why}`);
    if (lengthField === 0 || lengthField > MAX_BLOCK) throw corrupt(`declares ${lengthField | 0} compressed bytes`);
    const chunk = await reader.peekBlock(4, lengthField, file, 'a Snappy chunk');
    const out = decodeBlockAt(at, corrupt, () => {
      const [length, body] = snappyLength(chunk, 4, chunk.length);
      if (length > MAX_BLOCK) throw corrupt(`declares ${length} decompressed bytes`);
      const decoded = output.take(length);
      const written = snappyDecodeBlock(chunk, body, chunk.length, decoded);
      if (written !== length) throw corrupt(`decodes to ${written} bytes, but its preamble says ${length}`);
      return decoded;
    });
    reader.skip(4 + lengthField);
    yield out;
  }
}
