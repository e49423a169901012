import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockFormatError } from '../src/collectors/eventlog/codecs/codecError';
import { Lz4Memory } from '../src/collectors/eventlog/codecs/lz4Wasm';
import { lz4BlockStream } from './support/sparkCompress';

const ROOT = path.resolve(__dirname, '..');

/** The raw LZ4 block `bytes` decoded into at most `cap` bytes, 3 bytes into a larger source as a file's chunks are. */
function decode(bytes: number[] | Buffer, cap: number): Buffer | BlockFormatError {
  const src = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes), Buffer.from('tail')]);
  try {
    return Buffer.from(new Lz4Memory().decode(src, 3, src.length - 4, cap));
  } catch (err) {
    if (err instanceof BlockFormatError) return err;
    throw err;
  }
}

/** LZ4's block format decoded one byte at a time, as its specification reads: the oracle for the copies' shortcuts. */
function naiveLz4(src: Buffer): Buffer {
  const out: number[] = [];
  let s = 0;
  for (;;) {
    const token = src[s++]!;
    let lit = token >> 4;
    if (lit === 15) for (let more = 255; more === 255; lit += more) more = src[s++]!;
    for (let i = 0; i < lit; i++) out.push(src[s++]!);
    if (s === src.length) return Buffer.from(out);
    const offset = src[s]! | (src[s + 1]! << 8);
    s += 2;
    let len = token & 15;
    if (len === 15) for (let more = 255; more === 255; len += more) more = src[s++]!;
    for (let i = 0, from = out.length - offset; i < len + 4; i++) out.push(out[from + i]!);
  }
}

/** One raw block: literals, then (offset, length) matches, each as a sequence of its own. */
function block(parts: (string | [offset: number, length: number])[]): Buffer {
  const bytes: number[] = [];
  const length = (n: number): void => {
    for (; n >= 255; n -= 255) bytes.push(255);
    bytes.push(n);
  };
  let literals = '';
  for (const part of [...parts, '']) {
    if (typeof part === 'string') {
      literals += part;
      if (part !== '') continue;
    }
    const match = typeof part === 'string' ? null : part;
    const lit = Buffer.from(literals, 'latin1');
    const matchLen = match === null ? 0 : match[1] - 4;
    bytes.push((Math.min(lit.length, 15) << 4) | (match === null ? 0 : Math.min(matchLen, 15)));
    if (lit.length >= 15) length(lit.length - 15);
    bytes.push(...lit);
    literals = '';
    if (match === null) break;
    bytes.push(match[0] & 0xff, match[0] >> 8);
    if (matchLen >= 15) length(matchLen - 15);
  }
  return Buffer.from(bytes);
}

describe('LZ4 in WebAssembly (lz4.wat)', () => {
  it('lz4Module.ts is what lz4.wat assembles to (npm run wasm)', async () => {
    const { WASM_MODULES, assemble } = await import('../scripts/wasm.mjs');
    for (const m of WASM_MODULES) {
      expect(readFileSync(path.join(ROOT, m.module), 'utf8'), `${m.module}: run npm run wasm`).toBe(await assemble(ROOT, m.wat, m.name));
    }
  });

  it('decodes literals and matches of every length and offset the copies treat apart', () => {
    const text = 'spark.executor.memory=4g;' + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(20);
    const cases: (string | [number, number])[][] = [];
    for (const offset of [1, 2, 3, 4, 7, 8, 9, 16, 25]) {
      for (const length of [4, 5, 8, 9, 15, 16, 18, 19, 31, 32, 33, 64, 255 + 19, 1000]) cases.push([text.slice(0, 30), [offset, length], text.slice(0, 3)]);
    }
    for (const lit of [1, 7, 8, 15, 16, 17, 31, 32, 33, 270, 700]) cases.push([text.slice(0, lit), [lit, 4], 'end']);
    for (const parts of cases) {
      const src = block(parts);
      const expected = naiveLz4(src);
      expect(decode(src, expected.length)).toEqual(expected);
    }
  });

  it('decodes what lz4js compresses, block by block, the same as the input', () => {
    const input = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"Event":"SparkListenerTaskEnd","Stage ID":${i % 7},"Task ID":${i}}\n`).join(''));
    const stream = lz4BlockStream(input, { blockSize: 64 * 1024 });
    const out: Buffer[] = [];
    const memory = new Lz4Memory();
    for (let at = 0; at < stream.length; ) {
      const compressedLen = stream.readInt32LE(at + 9);
      const originalLen = stream.readInt32LE(at + 13);
      if (originalLen > 0) {
        const decoded = (stream[at + 8]! & 0xf0) === 0x20 ? memory.decode(stream, at + 21, at + 21 + compressedLen, originalLen) : memory.store(stream.subarray(at + 21, at + 21 + compressedLen));
        expect(memory.xxh32(decoded, 0x9747b28c) & 0x0fffffff).toBe(stream.readUInt32LE(at + 17));
        out.push(Buffer.from(decoded));
      }
      at += 21 + compressedLen;
    }
    expect(Buffer.concat(out).equals(input)).toBe(true);
  });

  it('names each kind of damage and where in the source it is', () => {
    // Positions are into the source buffer, whose block starts at byte 3.
    const cases: [bytes: number[], cap: number, at: number, message: string][] = [
      [[], 10, 3, 'the block ends without its final literals'],
      [[0xf0], 100, 4, 'a literal length runs past the end of the block'],
      [[0xf0, 255, 255], 1000, 6, 'a literal length runs past the end of the block'],
      [[0x50, 0x61, 0x62], 10, 4, 'a run of 5 literals runs past the end of the block'],
      [[0x30, 0x61, 0x62, 0x63], 2, 4, 'the block decodes to more bytes than its header says'],
      [[0x10, 0x61, 0x01], 10, 5, 'a match offset is cut off by the end of the block'],
      [[0x10, 0x61, 0x02, 0x00, 0x00], 10, 5, 'a match refers 2 bytes back, before the start of the block'],
      [[0x10, 0x61, 0x00, 0x00, 0x00], 10, 5, 'a match refers 0 bytes back, before the start of the block'],
      [[0x1f, 0x61, 0x01, 0x00], 100, 7, 'a match length runs past the end of the block'],
      [[0x10, 0x61, 0x01, 0x00, 0x00], 4, 7, 'the block decodes to more bytes than its header says'],
      [[0x10, 0x61, 0x01, 0x00], 10, 7, 'the block ends without its final literals'],
    ];
    for (const [bytes, cap, at, message] of cases) {
      const err = decode(bytes, cap);
      expect(err, JSON.stringify(bytes)).toBeInstanceOf(BlockFormatError);
      expect({ at: (err as BlockFormatError).at, message: (err as BlockFormatError).message }, JSON.stringify(bytes)).toEqual({ at, message });
    }
  });

  it('never writes past the output it was given, whatever the block says', () => {
    // A match that would fill 1,000 bytes into room for 20: refused before any byte is written.
    expect(decode(block(['abcdefgh', [8, 1000]]), 20)).toBeInstanceOf(BlockFormatError);
    // Exactly the room: decoded whole.
    expect(decode(block(['abcdefgh', [8, 12], 'x']), 21)).toEqual(Buffer.from('abcdefgh'.repeat(2) + 'abcdx'));
  });

  it('a stream grows its memory for a larger block and still decodes the smaller ones', () => {
    const memory = new Lz4Memory();
    const small = block(['hello world, ', [13, 13]]);
    const large = block(['0123456789', [10, 200_000], 'end']);
    for (const src of [small, large, small]) {
      const expected = naiveLz4(src);
      expect(Buffer.from(memory.decode(src, 0, src.length, expected.length))).toEqual(expected);
    }
  });
});
