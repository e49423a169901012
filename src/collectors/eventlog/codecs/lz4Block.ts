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
import { CodecError, badMagicError, decodeBlockAt, shortTailError } from './codecError';
import { LzMemory } from './lzWasm';

const MAGIC = Buffer.from('LZ4Block', 'latin1');
const MAGIC_TEXT = "'LZ4Block'";
const FORMAT = 'an LZ4Block stream (lz4-java, as Spark writes .lz4)';
const HEADER_LEN = 21;
const METHOD_RAW = 0x10;
const METHOD_LZ4 = 0x20;
const CHECKSUM_SEED = 0x9747b28c;

/** lz4-java allows up to 32 MiB blocks (level 15); anything declaring more is damage, not data. */
const MAX_BLOCK = 64 * 1024 * 1024;

/** LZ4's worst-case compressed size for n input bytes (LZ4_COMPRESSBOUND, lz4-java maxCompressedLength). */
function compressBound(n: number): number {
  return n + Math.floor(n / 255) + 16;
}

export async function* decodeLz4Block(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  const memory = new LzMemory();
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
    const decoded =
      method === METHOD_RAW ? memory.store(block.subarray(HEADER_LEN)) : decodeBlockAt(at, corrupt, () => memory.decode('lz4', block, HEADER_LEN, block.length, originalLen));
    if (decoded.length !== originalLen) throw corrupt(`decodes to ${decoded.length} bytes, but its header says ${originalLen}`);
    const actual = memory.xxh32(decoded, CHECKSUM_SEED) & 0x0fffffff;
    if (actual !== checksum) {
      throw corrupt(`fails its checksum (stored 0x${checksum.toString(16)}, computed 0x${actual.toString(16)}): the data is damaged`);
    }
    reader.skip(HEADER_LEN + compressedLen);
    yield output.handOut(decoded);
  }
}
