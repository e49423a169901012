/**
 * Issue 13, hostile files: a decompression bomb stops at a ratio in every codec (item 8).
 * Every file is made here; the big ones are compressed, so little touches the disk.
 */
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodecError, DecompressionLimitError, RATIO_FREE_BYTES, decode, type Codec } from '../src/collectors/eventlog/codecs/index';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from './support/sparkCompress';

const MiB = 2 ** 20;

/** Zeros compress beyond 10x in every codec (deflate ~1000x, LZ4 255x, LZF 88x, Snappy 21x, zstd far more). */
const COMPRESSORS: [Codec, (b: Buffer) => Buffer][] = [
  ['gzip', (b) => gzipSync(b)],
  ['zstd', (b) => zstdFrames(b)],
  ['lz4', (b) => lz4BlockStream(b)],
  ['snappy', (b) => snappyStream(b)],
  ['lzf', (b) => lzfStream(b)],
];

async function drain(codec: Codec, data: Buffer, ratio?: number): Promise<{ bytes: number; error: unknown }> {
  const pieces = Array.from({ length: Math.ceil(data.length / (64 * 1024)) }, (_, i) => data.subarray(i * 64 * 1024, (i + 1) * 64 * 1024));
  let bytes = 0;
  try {
    for await (const chunk of decode(codec, Readable.from(pieces), `/logs/app.${codec}`, ratio === undefined ? {} : { maxDecompressionRatio: ratio })) bytes += chunk.length;
    return { bytes, error: null };
  } catch (error) {
    return { bytes, error };
  }
}

describe('a decompression bomb stops at a ratio, in every codec (item 8)', () => {
  const zeros = Buffer.alloc(RATIO_FREE_BYTES + 4 * MiB);

  it.each(COMPRESSORS)('%s: past the free allowance, output over the ratio times the input read is a DecompressionLimitError', async (codec, compress) => {
    const compressed = compress(zeros);
    const stopped = await drain(codec, compressed, 10);
    expect(stopped.error).toBeInstanceOf(DecompressionLimitError);
    const err = stopped.error as DecompressionLimitError;
    expect(err).toBeInstanceOf(CodecError);
    expect(err.truncated).toBe(false);
    expect(err.file).toBe(`/logs/app.${codec}`);
    expect(err.problem).toMatch(/^the first [\d.]+ [KM]iB of the file decompress to [\d.]+ MiB or more, over 10 times their size: stopped there, .* raise max_decompression_ratio \(config\), --max-decompression-ratio \(CLI\) or sparkOptimizer\.maxDecompressionRatio \(editor\)$/);
    // Everything before the block that went over was handed on (blocks are at most 128 KiB here), nothing after it.
    expect(stopped.bytes).toBeGreaterThan(RATIO_FREE_BYTES - 128 * 1024);
    expect(stopped.bytes).toBeLessThanOrEqual(RATIO_FREE_BYTES);
    // Within the ratio, the same input decodes whole.
    expect(await drain(codec, compressed, 1_000_000)).toEqual({ bytes: zeros.length, error: null });
  });

  it('a bad ratio option is a programming error, not a damaged file', async () => {
    for (const bad of [1, Number.NaN, 2_000_000]) {
      const { error } = await drain('gzip', gzipSync(Buffer.from('{}\n')), bad);
      expect(error).toBeInstanceOf(RangeError);
    }
  });
});
