/**
 * Spark's `.lzf` event logs: ning compress-lzf's LZFOutputStream (Spark's LZFCompressionCodec).
 * Chunks of at most 64 KiB: `Z` `V`, a type byte, then for type 0 (stored) an int16 BE length and
 * the bytes, for type 1 (compressed) int16 BE compressed and uncompressed lengths and LZF data.
 */
import type { BlockOutput } from './blockOutput';
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, decodeBlockAt, truncatedError } from './codecError';
import { copyLiteralsWide, copyMatchWide, type LzUnit } from './lzCopy';

const FORMAT = 'an LZF stream (ning compress-lzf, as Spark writes .lzf)';
const MAGIC_TEXT = "'ZV'";
/** How lzfDecodeBlock's errors name what it decodes. */
const UNIT: LzUnit = { name: 'chunk', sizeFrom: 'header' };
/** A chunk's type byte (after 'ZV'), and its header's length: 'ZV', type, length (2), and for a compressed chunk its uncompressed length (2). */
const STORED = { type: 0, header: 5 } as const;
const COMPRESSED = { type: 1, header: 7 } as const;

/**
 * Decodes LZF data src[start, end) into dst from index 0; returns the bytes written. A control byte
 * below 32 starts ctrl + 1 literals; any other is a back reference of length ctrl >> 5 (7: one more
 * length byte follows) plus 2, at an offset of 13 bits.
 */
export function lzfDecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const srcView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const dstView = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  let s = start;
  let d = 0;
  while (s < end) {
    const ctrl = src[s++]!;
    if (ctrl < 32) {
      const lit = ctrl + 1;
      copyLiteralsWide(src, srcView, s, end, dst, dstView, d, lit, UNIT);
      s += lit;
      d += lit;
      continue;
    }
    let len = ctrl >>> 5;
    if (len === 7) {
      if (s >= end) throw new BlockFormatError(s, 'a back reference is cut off by the end of the chunk');
      len += src[s++]!;
    }
    if (s >= end) throw new BlockFormatError(s, 'a back reference is cut off by the end of the chunk');
    const offset = ((ctrl & 0x1f) << 8) + src[s++]! + 1;
    len += 2;
    if (offset > d) throw new BlockFormatError(s - 1, `a back reference points ${offset} bytes back, before the start of the chunk`);
    copyMatchWide(dst, dstView, d, offset, len, s - 1, UNIT);
    d += len;
  }
  return d;
}

export async function* decodeLzf(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  while (!(await reader.atEnd())) {
    const at = reader.position;
    if (!(await reader.ensure(STORED.header))) {
      const left = reader.available;
      const tail = reader.peek(left);
      const prefixOk = tail[0] === 0x5a && (left < 2 || tail[1] === 0x56) && (left < 3 || tail[2] === STORED.type || tail[2] === COMPRESSED.type);
      if (prefixOk) throw truncatedError(file, at, 'an LZF chunk header');
      throw badMagicError(file, at, FORMAT, MAGIC_TEXT, tail);
    }
    const head = reader.peek(STORED.header);
    if (head[0] !== 0x5a || head[1] !== 0x56) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));
    const type = head[2]!;
    if (type === STORED.type) {
      const length = head.readUInt16BE(3);
      const chunk = await reader.peekBlock(STORED.header, length, file, 'a stored LZF chunk');
      const out = output.take(length);
      chunk.copy(out, 0, STORED.header);
      reader.skip(STORED.header + length);
      if (length > 0) yield out;
      continue;
    }
    const corrupt = (why: string, where = at): CodecError => new CodecError(file, where, false, `corrupt LZF stream: the chunk at byte ${at} ${why}`);
    if (type !== COMPRESSED.type) throw corrupt(`has type ${type} (expected 0 stored or 1 compressed)`, at + 2);
    if (!(await reader.ensure(COMPRESSED.header))) throw truncatedError(file, at, 'an LZF chunk header');
    const header = reader.peek(COMPRESSED.header);
    const compressedLen = header.readUInt16BE(3);
    const length = header.readUInt16BE(5);
    const chunk = await reader.peekBlock(COMPRESSED.header, compressedLen, file, 'an LZF chunk');
    const out = output.take(length);
    const written = decodeBlockAt(at, corrupt, () => lzfDecodeBlock(chunk, COMPRESSED.header, chunk.length, out));
    if (written !== length) throw corrupt(`decodes to ${written} bytes, but its header says ${length}`);
    reader.skip(COMPRESSED.header + compressedLen);
    if (length > 0) yield out;
  }
}
