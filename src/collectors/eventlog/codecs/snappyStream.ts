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
import { LzMemory } from './lzWasm';

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

export async function* decodeSnappyStream(reader: ByteReader, file: string, output: BlockOutput): AsyncGenerator<Buffer> {
  const memory = new LzMemory();
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
    const decoded = decodeBlockAt(at, corrupt, () => {
      const [length, body] = snappyLength(chunk, 4, chunk.length);
      if (length > MAX_BLOCK) throw corrupt(`declares ${length} decompressed bytes`);
      const out = memory.decode('snappy', chunk, body, chunk.length, length);
      if (out.length !== length) throw corrupt(`decodes to ${out.length} bytes, but its preamble says ${length}`);
      return out;
    });
    reader.skip(4 + lengthField);
    yield output.handOut(decoded);
  }
}
