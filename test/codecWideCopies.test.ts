/**
 * The paths the decoders took for speed (issue 12): XXH32 in WebAssembly at any alignment, and zstd's
 * ring copies, whose overshoot must never reach window bytes a later match reads. Each is checked
 * against an independent implementation, at the sizes where it switches paths. The LZ copies'
 * eight-byte shortcuts are checked in lzWasm.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decode } from '../src/collectors/eventlog/codecs/index';
import { xxh32 } from '../src/collectors/eventlog/codecs/lzWasm';
import { logOfSize } from './support/eventLogGenerator';
import { isCi } from './support/shared';
import { describeSkipped } from './support/skip';
import { referenceXxh32 } from './support/sparkCompress';

/** Bytes with no short period, so that a copy from the wrong place shows. */
function pattern(n: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 37 + seed * 101 + 11) & 0xff);
}

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
