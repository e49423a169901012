/**
 * The four-bytes-at-a-time paths the decoders took for speed (issue 12): the LZ copies that may write
 * up to 3 bytes past a run, XXH32 reading lanes through a DataView at any alignment, and zstd's ring
 * copies, whose overshoot must never reach window bytes a later match reads. Each is checked against
 * the plain byte loop or an independent implementation, at the sizes where it switches paths.
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BlockFormatError } from '../src/collectors/eventlog/codecs/codecError';
import { decode } from '../src/collectors/eventlog/codecs/index';
import { copyLiterals, copyLiteralsWide, copyMatch, copyMatchWide, type LzUnit } from '../src/collectors/eventlog/codecs/lzCopy';
import { xxh32 } from '../src/collectors/eventlog/codecs/lz4Wasm';
import { logOfSize } from './support/eventLogGenerator';
import { isCi } from './support/shared';
import { describeSkipped } from './support/skip';
import { referenceXxh32 } from './support/sparkCompress';

const UNIT: LzUnit = { name: 'block', sizeFrom: 'header' };

/** Bytes with no short period, so that a copy from the wrong place shows. */
function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed * 101 + 11) & 0xff);
}

function viewOf(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return null;
}

describe('copyMatchWide', () => {
  it('writes what a byte-at-a-time copy writes, for every short offset and length, with 0 to 9 bytes of room to spare', () => {
    const wrong: string[] = [];
    for (const offset of [1, 2, 3, 4, 5, 7, 8, 9, 16, 33, 100]) {
      for (let len = 1; len <= 70; len++) {
        for (let spare = 0; spare <= 9; spare++) {
          const d = 128;
          const dst = new Uint8Array(d + len + spare);
          dst.set(pattern(d, offset));
          const expected = dst.slice();
          for (let i = 0; i < len; i++) expected[d + i] = expected[d - offset + i]!;
          copyMatchWide(dst, viewOf(dst), d, offset, len, 0, UNIT);
          if (!Buffer.from(dst.subarray(0, d + len)).equals(expected.subarray(0, d + len))) wrong.push(`offset ${offset}, length ${len}, spare ${spare}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a match longer than the room left exactly as copyMatch does, writing nothing', () => {
    const dst = new Uint8Array(40);
    dst.set(pattern(32, 1));
    const before = dst.slice();
    const wide = thrown(() => copyMatchWide(dst, viewOf(dst), 32, 8, 9, 17, UNIT));
    const plain = thrown(() => copyMatch(dst.slice(), 32, 8, 9, 17, UNIT));
    expect(wide).toBeInstanceOf(BlockFormatError);
    expect(wide).toEqual(plain);
    expect(wide).toMatchObject({ at: 17 });
    expect(dst).toEqual(before);
  });
});

describe('copyLiteralsWide', () => {
  it('writes what copyLiterals writes, for every length, with 0 to 5 bytes to spare in the input and in the output', () => {
    const wrong: string[] = [];
    const src = pattern(200, 3);
    for (let len = 1; len <= 70; len++) {
      for (let spareIn = 0; spareIn <= 5; spareIn++) {
        for (let spareOut = 0; spareOut <= 5; spareOut++) {
          const s = 9;
          const end = s + len + spareIn;
          const dst = new Uint8Array(5 + len + spareOut);
          copyLiteralsWide(src, viewOf(src), s, end, dst, viewOf(dst), 5, len, UNIT);
          if (!Buffer.from(dst.subarray(5, 5 + len)).equals(src.subarray(s, s + len))) wrong.push(`length ${len}, spare ${spareIn}/${spareOut}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it('refuses a run past the end of its unit or of the output exactly as copyLiterals does', () => {
    const src = pattern(64, 4);
    for (const [end, room, len] of [
      [14, 2, 5],
      [14, 40, 5],
      [30, 4, 5],
      [60, 30, 40],
    ] as const) {
      const dst = new Uint8Array(room);
      const wide = thrown(() => copyLiteralsWide(src, viewOf(src), 10, end, dst, viewOf(dst), 0, len, UNIT));
      const plain = thrown(() => copyLiterals(src, 10, end, new Uint8Array(room), 0, len, UNIT));
      expect(wide).toBeInstanceOf(BlockFormatError);
      expect(wide).toEqual(plain);
      expect(wide).toMatchObject({ at: 10 });
    }
  });
});

describe('xxh32 in WebAssembly', () => {
  it('agrees with lz4js at every alignment of the start and every length up to 70', () => {
    // A view into a larger buffer at an odd offset, as the input chunks of a file stream are.
    const whole = Buffer.from(pattern(300, 5));
    const data = whole.subarray(3);
    for (let start = 0; start < 8; start++) {
      for (let len = 0; len <= 70; len++) {
        expect(xxh32(data.subarray(start, start + len), 0x9747b28c)).toBe(referenceXxh32(data.subarray(start, start + len), 0x9747b28c));
      }
    }
  });
});


async function decodeAll(data: Buffer, chunk: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  const input = Readable.from((function* () {
    for (let i = 0; i < data.length; i += chunk) yield data.subarray(i, i + chunk);
  })());
  for await (const part of decode('zstd', input, 'events.zstd')) parts.push(Buffer.from(part));
  return Buffer.concat(parts);
}

const zstdCli = spawnSync('zstd', ['--version'], { encoding: 'utf8' });
// Skipped loudly where the zstd command is missing; in CI, where scripts/e2e/setup.sh installs it, run and fail.
if (zstdCli.status !== 0 && !isCi()) {
  describeSkipped('zstd ring copies', 'the zstd command is not installed: the small-window zstd tests did not run');
} else {
  describe('zstd ring copies', () => {
    // With a 1 KiB window the ring is 3 KiB and wraps every third block: many matches start in the
    // previous lap, and every block ends at its limit, where the copies must go byte by byte.
    it.each(['10', '11', '17'])('decodes a frame with a 2^%s-byte window byte for byte', async (wlog) => {
      const log = logOfSize(600_000);
      const compressed = spawnSync('zstd', ['-q', '-c', '-6', `--zstd=wlog=${wlog}`], { input: log, maxBuffer: 64 << 20 });
      expect(compressed.status).toBe(0);
      const out = await decodeAll(compressed.stdout, 4096);
      expect(out.length).toBe(log.length);
      expect(out.equals(log)).toBe(true);
    });
  });
}
