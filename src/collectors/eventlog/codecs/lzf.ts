/**
 * Spark's `.lzf` event logs: ning compress-lzf's LZFOutputStream (Spark's LZFCompressionCodec).
 * Chunks of at most 64 KiB: `Z` `V`, a type byte, then for type 0 (stored) an int16 BE length and
 * the bytes, for type 1 (compressed) int16 BE compressed and uncompressed lengths and LZF data.
 */
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, decodeBlockAt, truncatedError } from './codecError';
import { copyLiterals, copyMatch, type LzUnit } from './lzCopy';

const FORMAT = 'an LZF stream (ning compress-lzf, as Spark writes .lzf)';
const MAGIC_TEXT = "'ZV'";
const TYPE_STORED = 0;
const TYPE_COMPRESSED = 1;
const STORED_HEADER = 5;
const COMPRESSED_HEADER = 7;

/** How lzfDecodeBlock's errors name what it decodes. */
const UNIT: LzUnit = { name: 'chunk', sizeFrom: 'header' };

/** Decodes LZF data src[start, end) into dst from index 0; returns the bytes written. */
export function lzfDecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  let s = start;
  let d = 0;
  while (s < end) {
    const ctrl = src[s++]!;
    if (ctrl < 32) {
      const lit = ctrl + 1;
      copyLiterals(src, s, end, dst, d, lit, UNIT);
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
    copyMatch(dst, d, offset, len, s - 1, UNIT);
    d += len;
  }
  return d;
}

export async function* decodeLzf(reader: ByteReader, file: string): AsyncGenerator<Buffer> {
  while (!(await reader.atEnd())) {
    const at = reader.position;
    if (!(await reader.ensure(STORED_HEADER))) {
      const left = reader.available;
      const tail = reader.peek(left);
      const prefixOk = tail[0] === 0x5a && (left < 2 || tail[1] === 0x56) && (left < 3 || tail[2] === TYPE_STORED || tail[2] === TYPE_COMPRESSED);
      if (prefixOk) throw truncatedError(file, at, 'an LZF chunk header');
      throw badMagicError(file, at, FORMAT, MAGIC_TEXT, tail);
    }
    const head = reader.peek(STORED_HEADER);
    if (head[0] !== 0x5a || head[1] !== 0x56) throw badMagicError(file, at, FORMAT, MAGIC_TEXT, reader.peek(Math.min(reader.available, 64)));
    const type = head[2]!;
    if (type === TYPE_STORED) {
      const length = head.readUInt16BE(3);
      const chunk = await reader.peekBlock(STORED_HEADER, length, file, 'a stored LZF chunk');
      const out = Buffer.allocUnsafe(length);
      chunk.copy(out, 0, STORED_HEADER);
      reader.skip(STORED_HEADER + length);
      if (length > 0) yield out;
      continue;
    }
    const corrupt = (why: string, where = at): CodecError => new CodecError(file, where, false, `corrupt LZF stream: the chunk at byte ${at} ${why}`);
    if (type !== TYPE_COMPRESSED) throw corrupt(`has type ${type} (expected 0 stored or 1 compressed)`, at + 2);
    if (!(await reader.ensure(COMPRESSED_HEADER))) throw truncatedError(file, at, 'an LZF chunk header');
    const header = reader.peek(COMPRESSED_HEADER);
    const compressedLen = header.readUInt16BE(3);
    const length = header.readUInt16BE(5);
    const chunk = await reader.peekBlock(COMPRESSED_HEADER, compressedLen, file, 'an LZF chunk');
    const out = Buffer.allocUnsafe(length);
    const written = decodeBlockAt(at, corrupt, () => lzfDecodeBlock(chunk, COMPRESSED_HEADER, chunk.length, out));
    if (written !== length) throw corrupt(`decodes to ${written} bytes, but its header says ${length}`);
    reader.skip(COMPRESSED_HEADER + compressedLen);
    if (length > 0) yield out;
  }
}
