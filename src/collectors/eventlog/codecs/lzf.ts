/**
 * Spark's `.lzf` event logs: ning compress-lzf's LZFOutputStream (Spark's LZFCompressionCodec).
 * Chunks of at most 64 KiB: `Z` `V`, a type byte, then for type 0 (stored) an int16 BE length and
 * the bytes, for type 1 (compressed) int16 BE compressed and uncompressed lengths and LZF data.
 */
import type { BlockOutput } from './blockOutput';
import type { ByteReader } from './byteReader';
import { CodecError, badMagicError, decodeBlockAt, truncatedError } from './codecError';
import { LzMemory } from './lzWasm';

const FORMAT = 'an LZF stream (ning compress-lzf, as Spark writes .lzf)';
const MAGIC_TEXT = "'ZV'";
/** A chunk's type byte (after 'ZV'), and its header's length: 'ZV', type, length (2), and for a compressed chunk its uncompressed length (2). */
const STORED = { type: 0, header: 5 } as const;
const COMPRESSED = { type: 1, header: 7 } as const;

export async function* decodeLzf(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  const memory = new LzMemory();
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
    const decoded = decodeBlockAt(at, corrupt, () => memory.decode('lzf', chunk, COMPRESSED.header, chunk.length, length));
    if (decoded.length !== length) throw corrupt(`decodes to ${decoded.length} bytes, but its header says ${length}`);
    reader.skip(COMPRESSED.header + compressedLen);
    if (length > 0) yield output.handOut(decoded);
  }
}
