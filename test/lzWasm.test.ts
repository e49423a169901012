/**
 * lz.wat's raw-block decoders (LZ4, Snappy, LZF) against byte-at-a-time oracles written from the
 * formats' descriptions, at the lengths and offsets where its copies switch paths (eight bytes at a
 * time up to 32 literals, a bulk copy past them; eight-byte match copies from 8 bytes back, byte
 * copies nearer), and every kind of damage each names, at the byte where it is.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BlockFormatError } from '../src/collectors/eventlog/codecs/codecError';
import { LzMemory, type LzFormat } from '../src/collectors/eventlog/codecs/lzWasm';
import { lz4BlockStream } from './support/sparkCompress';

const ROOT = path.resolve(__dirname, '..');

/** Literals, or a match of [offset, length]. */
type Part = string | [offset: number, length: number];

interface Format {
  /** A raw block of these parts (each literal run and match as the format writes them). */
  encode(parts: Part[]): Buffer;
  /** The format decoded one byte at a time, as its description reads; input assumed sound. */
  naive(src: Buffer): Buffer;
  /** Longest literal run / match one element holds (longer ones are split). */
  maxLiterals: number;
  maxMatch: number;
  maxOffset: number;
}

function copyBack(out: number[], offset: number, len: number): void {
  for (let i = 0, from = out.length - offset; i < len; i++) out.push(out[from + i]!);
}

const FORMATS: Record<LzFormat, Format> = {
  lz4: {
    maxLiterals: 100_000,
    maxMatch: 100_000,
    maxOffset: 0xffff,
    encode(parts) {
      const bytes: number[] = [];
      const length = (n: number): void => {
        for (; n >= 255; n -= 255) bytes.push(255);
        bytes.push(n);
      };
      let literals = '';
      for (const part of [...parts, null]) {
        if (typeof part === 'string') {
          literals += part;
          continue;
        }
        const lit = Buffer.from(literals, 'latin1');
        const matchLen = part === null ? 0 : part[1] - 4;
        bytes.push((Math.min(lit.length, 15) << 4) | (part === null ? 0 : Math.min(matchLen, 15)));
        if (lit.length >= 15) length(lit.length - 15);
        bytes.push(...lit);
        literals = '';
        if (part === null) break;
        bytes.push(part[0] & 0xff, part[0] >> 8);
        if (matchLen >= 15) length(matchLen - 15);
      }
      return Buffer.from(bytes);
    },
    naive(src) {
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
        copyBack(out, offset, len + 4);
      }
    },
  },
  snappy: {
    maxLiterals: 100_000,
    maxMatch: 64,
    maxOffset: 0xffff,
    encode(parts) {
      const bytes: number[] = [];
      for (const part of parts) {
        if (typeof part === 'string') {
          const n = part.length - 1;
          if (n < 60) bytes.push(n << 2);
          else if (n < 0x100) bytes.push(60 << 2, n);
          else bytes.push(62 << 2, n & 0xff, (n >> 8) & 0xff, n >> 16);
          bytes.push(...Buffer.from(part, 'latin1'));
        } else {
          // A 2-byte-offset copy (kind 2) for every length, a 1-byte one (kind 1) where it fits.
          const [offset, len] = part;
          if (len >= 4 && len <= 11 && offset < 2048) bytes.push(((offset >> 8) << 5) | ((len - 4) << 2) | 1, offset & 0xff);
          else bytes.push(((len - 1) << 2) | 2, offset & 0xff, offset >> 8);
        }
      }
      return Buffer.from(bytes);
    },
    naive(src) {
      const out: number[] = [];
      let s = 0;
      while (s < src.length) {
        const tag = src[s++]!;
        if ((tag & 3) === 0) {
          let lit = tag >> 2;
          if (lit >= 60) {
            const n = lit - 59;
            lit = 0;
            for (let i = 0; i < n; i++) lit += src[s++]! * 2 ** (8 * i);
          }
          for (let i = 0; i <= lit; i++) out.push(src[s++]!);
        } else if ((tag & 3) === 1) {
          copyBack(out, ((tag >> 5) << 8) | src[s++]!, ((tag >> 2) & 7) + 4);
        } else if ((tag & 3) === 2) {
          copyBack(out, src[s]! | (src[s + 1]! << 8), (tag >> 2) + 1);
          s += 2;
        } else {
          copyBack(out, src.readUInt32LE(s), (tag >> 2) + 1);
          s += 4;
        }
      }
      return Buffer.from(out);
    },
  },
  lzf: {
    maxLiterals: 32,
    maxMatch: 264,
    maxOffset: 8192,
    encode(parts) {
      const bytes: number[] = [];
      for (const part of parts) {
        if (typeof part === 'string') {
          bytes.push(part.length - 1, ...Buffer.from(part, 'latin1'));
        } else {
          const [offset, len] = part;
          const o = offset - 1;
          if (len - 2 < 7) bytes.push(((len - 2) << 5) | (o >> 8), o & 0xff);
          else bytes.push((7 << 5) | (o >> 8), len - 9, o & 0xff);
        }
      }
      return Buffer.from(bytes);
    },
    naive(src) {
      const out: number[] = [];
      let s = 0;
      while (s < src.length) {
        const ctrl = src[s++]!;
        if (ctrl < 32) {
          for (let i = 0; i <= ctrl; i++) out.push(src[s++]!);
          continue;
        }
        let len = ctrl >> 5;
        if (len === 7) len += src[s++]!;
        copyBack(out, ((ctrl & 0x1f) << 8) + src[s++]! + 1, len + 2);
      }
      return Buffer.from(out);
    },
  },
};

/** `parts` with literal runs and matches longer than one element of `format` holds split into several. */
function split(format: Format, parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const part of parts) {
    if (typeof part === 'string') {
      for (let i = 0; i < part.length; i += format.maxLiterals) out.push(part.slice(i, i + format.maxLiterals));
    } else {
      for (let left = part[1]; left > 0; ) {
        const n = left - format.maxMatch >= 4 || left <= format.maxMatch ? Math.min(left, format.maxMatch) : left - 4;
        out.push([part[0], n]);
        left -= n;
      }
    }
  }
  return out;
}

/** The raw `format` block `bytes` decoded into at most `cap` bytes, 3 bytes into a larger source as a file's chunks are. */
function decode(format: LzFormat, bytes: number[] | Buffer, cap: number): Buffer | BlockFormatError {
  const src = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes), Buffer.from('tail')]);
  try {
    return Buffer.from(new LzMemory().decode(format, src, 3, src.length - 4, cap));
  } catch (err) {
    if (err instanceof BlockFormatError) return err;
    throw err;
  }
}

const TEXT = 'spark.executor.memory=4g;' + 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(30);

describe('lz.wat', () => {
  it('lzModule.ts is what lz.wat assembles to (npm run wasm)', async () => {
    const { WASM_MODULES, assemble } = await import('../scripts/wasm.mjs');
    for (const m of WASM_MODULES) {
      expect(readFileSync(path.join(ROOT, m.module), 'utf8'), `${m.module}: run npm run wasm`).toBe(await assemble(ROOT, m.wat, m.name));
    }
  });

  describe.each(Object.keys(FORMATS) as LzFormat[])('%s', (name) => {
    const format = FORMATS[name];

    it('decodes literals and matches of every length and offset the copies treat apart, as the oracle does', () => {
      const wrong: string[] = [];
      const cases: Part[][] = [];
      for (const offset of [1, 2, 3, 4, 5, 7, 8, 9, 16, 25, 33, 100]) {
        for (const length of [4, 5, 7, 8, 9, 15, 16, 17, 18, 19, 31, 32, 33, 40, 64, 65, 70, 255 + 19, 1000]) {
          cases.push([TEXT.slice(0, 110), [offset, length], TEXT.slice(0, 3)]);
        }
      }
      for (let lit = 1; lit <= 70; lit++) cases.push([TEXT.slice(0, lit), [lit, 4], 'end']);
      for (const lit of [270, 700]) cases.push([TEXT.slice(0, lit), [Math.min(lit, format.maxOffset), 4], 'end']);
      for (const parts of cases) {
        const src = format.encode(split(format, parts));
        const expected = format.naive(src);
        const out = decode(name, src, expected.length);
        if (!(out instanceof Buffer) || !out.equals(expected)) wrong.push(JSON.stringify(parts).slice(0, 80));
      }
      expect(wrong).toEqual([]);
    });

    it('decodes a block that fills its room exactly and refuses one that needs more, writing nothing past the room and its slack', () => {
      const src = format.encode(split(format, ['abcdefgh', [8, 100], 'x']));
      const expected = format.naive(src);
      const memory = new LzMemory();
      const first = memory.decode(name, src, 0, src.length, expected.length);
      expect(Buffer.from(first)).toEqual(expected);
      // Everything past the output's room and its 32 bytes of slack (lzWasm.ts SLACK) is marked; no decode may touch it.
      const whole = new Uint8Array(first.buffer);
      const past = first.byteOffset + expected.length + 32;
      whole.fill(0xaa, past);
      for (const cap of [expected.length - 1, 20, 1]) expect(() => memory.decode(name, src, 0, src.length, cap)).toThrow(BlockFormatError);
      expect(Buffer.from(memory.decode(name, src, 0, src.length, expected.length))).toEqual(expected);
      expect(new Uint8Array(first.buffer).buffer).toBe(whole.buffer);
      expect(whole.subarray(past).every((b) => b === 0xaa)).toBe(true);
    });

    it('a stream grows its memory for a larger block and still decodes the smaller ones', () => {
      const memory = new LzMemory();
      const small = format.encode(split(format, ['hello world, ', [13, 13]]));
      const large = format.encode(split(format, ['0123456789', [10, 200_000], 'end']));
      for (const src of [small, large, small]) {
        const expected = format.naive(src);
        expect(Buffer.from(memory.decode(name, src, 0, src.length, expected.length))).toEqual(expected);
      }
    });
  });

  it('decodes what lz4js compresses, block by block, checksums and all', () => {
    const input = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"Event":"SparkListenerTaskEnd","Stage ID":${i % 7},"Task ID":${i}}\n`).join(''));
    const stream = lz4BlockStream(input, { blockSize: 64 * 1024 });
    const out: Buffer[] = [];
    const memory = new LzMemory();
    for (let at = 0; at < stream.length; ) {
      const compressedLen = stream.readInt32LE(at + 9);
      const originalLen = stream.readInt32LE(at + 13);
      if (originalLen > 0) {
        const body = stream.subarray(at + 21, at + 21 + compressedLen);
        const decoded = (stream[at + 8]! & 0xf0) === 0x20 ? memory.decode('lz4', body, 0, body.length, originalLen) : memory.store(body);
        expect(memory.xxh32(decoded, 0x9747b28c) & 0x0fffffff).toBe(stream.readUInt32LE(at + 17));
        out.push(Buffer.from(decoded));
      }
      at += 21 + compressedLen;
    }
    expect(Buffer.concat(out).equals(input)).toBe(true);
  });

  // Each as the JavaScript decoders before lz.wat worded it, at the same byte (positions are into the
  // source buffer, whose block starts at byte 3).
  const DAMAGE: [LzFormat, bytes: number[], cap: number, at: number, message: string][] = [
    ['lz4', [], 10, 3, 'the block ends without its final literals'],
    ['lz4', [0xf0], 100, 4, 'a literal length runs past the end of the block'],
    ['lz4', [0xf0, 255, 255], 1000, 6, 'a literal length runs past the end of the block'],
    ['lz4', [0x50, 0x61, 0x62], 10, 4, 'a run of 5 literals runs past the end of the block'],
    ['lz4', [0x30, 0x61, 0x62, 0x63], 2, 4, 'the block decodes to more bytes than its header says'],
    ['lz4', [0x10, 0x61, 0x01], 10, 5, 'a match offset is cut off by the end of the block'],
    ['lz4', [0x10, 0x61, 0x02, 0x00, 0x00], 10, 5, 'a match refers 2 bytes back, before the start of the block'],
    ['lz4', [0x10, 0x61, 0x00, 0x00, 0x00], 10, 5, 'a match refers 0 bytes back, before the start of the block'],
    ['lz4', [0x1f, 0x61, 0x01, 0x00], 100, 7, 'a match length runs past the end of the block'],
    ['lz4', [0x10, 0x61, 0x01, 0x00, 0x00], 4, 7, 'the block decodes to more bytes than its header says'],
    ['lz4', [0x10, 0x61, 0x01, 0x00], 10, 7, 'the block ends without its final literals'],
    ['snappy', [61 << 2, 0x05], 100, 4, 'a literal length is cut off by the end of the block'],
    ['snappy', [63 << 2, 1, 2, 3], 100, 4, 'a literal length is cut off by the end of the block'],
    ['snappy', [4 << 2, 0x61, 0x62], 100, 4, 'a run of 5 literals runs past the end of the block'],
    ['snappy', [63 << 2, 0xff, 0xff, 0xff, 0xff, 0x61], 100, 8, 'a run of 4294967296 literals runs past the end of the block'],
    ['snappy', [2 << 2, 0x61, 0x62, 0x63], 2, 4, 'the block decodes to more bytes than its preamble says'],
    ['snappy', [0, 0x61, 0x01], 10, 6, 'a copy is cut off by the end of the block'],
    ['snappy', [0, 0x61, 0x02, 0x01], 10, 6, 'a copy is cut off by the end of the block'],
    ['snappy', [0, 0x61, 0x03, 0x01, 0x00, 0x00], 10, 6, 'a copy is cut off by the end of the block'],
    ['snappy', [0, 0x61, 0x01, 0x02], 10, 7, 'a copy refers 2 bytes back, before the start of the block'],
    ['snappy', [0, 0x61, 0x03, 0x00, 0x00, 0x00, 0x80], 10, 10, 'a copy refers 2147483648 bytes back, before the start of the block'],
    ['snappy', [0, 0x61, 0x02, 0x00, 0x00], 10, 8, 'a copy refers 0 bytes back, before the start of the block'],
    ['snappy', [0, 0x61, 0x01, 0x01], 3, 7, 'the block decodes to more bytes than its preamble says'],
    ['lzf', [4, 0x61, 0x62], 10, 4, 'a run of 5 literals runs past the end of the chunk'],
    ['lzf', [2, 0x61, 0x62, 0x63], 2, 4, 'the chunk decodes to more bytes than its header says'],
    ['lzf', [0, 0x61, 0xe0], 10, 6, 'a back reference is cut off by the end of the chunk'],
    ['lzf', [0, 0x61, 0x20], 10, 6, 'a back reference is cut off by the end of the chunk'],
    ['lzf', [0, 0x61, 0x20, 0x01], 10, 6, 'a back reference points 2 bytes back, before the start of the chunk'],
    ['lzf', [0, 0x61, 0x20, 0x00], 3, 6, 'the chunk decodes to more bytes than its header says'],
  ];

  it('an LZ4 length of 16 MiB of 255s (past 2^32 summed) is refused, not wrapped to a short run', () => {
    const run = Buffer.alloc(16_843_009, 255);
    run[run.length - 1] = 246;
    // 15 + 255 x 16,843,008 + 246 = 2^32 + 5 literals: summed in 32 bits, 5.
    const literals = decode('lz4', Buffer.concat([Buffer.from([0xf0]), run, Buffer.from('abcde')]), 100);
    expect(literals).toBeInstanceOf(BlockFormatError);
    expect((literals as BlockFormatError).message).toMatch(/^a run of \d+ literals runs past the end of the block$/);
    // The same length for a match (4 + 15 + ... wraps to 4 + 2^32 - 4): more than the room.
    const match = decode('lz4', Buffer.concat([Buffer.from([0x1f, 0x61, 0x01, 0x00]), run.subarray(0, run.length - 1), Buffer.from([241, 0x00])]), 100);
    expect(match).toBeInstanceOf(BlockFormatError);
    expect((match as BlockFormatError).message).toBe('the block decodes to more bytes than its header says');
  });

  it.each(DAMAGE)('%s: %j names its damage and where it is', (format, bytes, cap, at, message) => {
    const err = decode(format, bytes, cap);
    expect(err).toBeInstanceOf(BlockFormatError);
    expect({ at: (err as BlockFormatError).at, message: (err as BlockFormatError).message }).toEqual({ at, message });
  });
});
