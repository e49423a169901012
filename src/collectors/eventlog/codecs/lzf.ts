/**
 * Spark's `.lzf` event logs: ning compress-lzf's LZFOutputStream (Spark's LZFCompressionCodec).
 * Chunks of at most 64 KiB: `Z` `V`, a type byte, then for type 0 (stored) an int16 BE length and
 * the bytes, for type 1 (compressed) int16 BE compressed and uncompressed lengths and LZF data.
 */
import type { ByteReader } from './byteReader';
import { BlockFormatError, CodecError, badMagicError, truncatedError } from './codecError';
import { copyLiterals, copyMatch } from './lzCopy';

const FORMAT = 'an LZF stream (ning compress-lzf, as Spark writes .lzf)';
const MAGIC_TEXT = "'ZV'";
const TYPE_STORED = 0;
const TYPE_COMPRESSED = 1;
const STORED_HEADER = 5;
const COMPRESSED_HEADER = 7;

/** Decodes LZF data src[start, end) into dst from index 0; returns the bytes written. */
export function lzfDecodeBlock(src: Uint8Array, start: number, end: number, dst: Uint8Array): number {
  const dEnd = dst.length;
  let s = start;
  let d = 0;
  while (s < end) {
    const ctrl = src[s++]!;
    if (ctrl < 32) {
      const lit = ctrl + 1;
      if (lit > end - s) throw new BlockFormatError(s, `a run of ${lit} literals runs past the end of the chunk`);
      if (lit > dEnd - d) throw new BlockFormatError(s, 'the chunk decodes to more bytes than its header says');
      copyLiterals(src, s, dst, d, lit);
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
    if (len > dEnd - d) throw new BlockFormatError(s - 1, 'the chunk decodes to more bytes than its header says');
    copyMatch(dst, d, offset, len);
    d += len;
  }
  return d;
}

export async function* decodeLzf(reader: ByteReader, file: string): AsyncGenerator<Buffer> {
  for (;;) {
    const at = reader.position;
    if (!(await reader.ensure(STORED_HEADER))) {
      const left = reader.available;
      if (left === 0) return;
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
      if (!(await reader.ensure(STORED_HEADER + length))) throw truncatedError(file, at, 'a stored LZF chunk', `${length} bytes, only ${reader.available - STORED_HEADER} present`);
      const out = Buffer.allocUnsafe(length);
      reader.peek(STORED_HEADER + length).copy(out, 0, STORED_HEADER);
      reader.skip(STORED_HEADER + length);
      if (length > 0) yield out;
      continue;
    }
    if (type !== TYPE_COMPRESSED) {
      throw new CodecError(file, at + 2, false, `corrupt LZF stream: the chunk at byte ${at} has type ${type} (expected 0 stored or 1 compressed)`);
    }
    if (!(await reader.ensure(COMPRESSED_HEADER))) throw truncatedError(file, at, 'an LZF chunk header');
    const header = reader.peek(COMPRESSED_HEADER);
    const compressedLen = header.readUInt16BE(3);
    const length = header.readUInt16BE(5);
    if (!(await reader.ensure(COMPRESSED_HEADER + compressedLen))) {
      throw truncatedError(file, at, 'an LZF chunk', `${compressedLen} bytes, only ${reader.available - COMPRESSED_HEADER} present`);
    }
    const chunk = reader.peek(COMPRESSED_HEADER + compressedLen);
    const out = Buffer.allocUnsafe(length);
    let written: number;
    try {
      written = lzfDecodeBlock(chunk, COMPRESSED_HEADER, chunk.length, out);
    } catch (err) {
      if (!(err instanceof BlockFormatError)) throw err;
      const where = at + err.at;
      throw new CodecError(file, where, false, `corrupt LZF stream: the chunk at byte ${at} is damaged at byte ${where}: ${err.message}`);
    }
    if (written !== length) {
      throw new CodecError(file, at, false, `corrupt LZF stream: the chunk at byte ${at} decodes to ${written} bytes, but its header says ${length}`);
    }
    reader.skip(COMPRESSED_HEADER + compressedLen);
    if (length > 0) yield out;
  }
}
