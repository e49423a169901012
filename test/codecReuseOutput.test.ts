/**
 * DecodeOptions.reuseOutput (issue 12): with it the decoders hand out memory they overwrite later,
 * for a caller that is done with each chunk before asking for the next; without it every chunk must
 * stay as it was given, however long the caller keeps it.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decode, type Codec } from '../src/collectors/eventlog/codecs/index';
import { logOfSize } from './support/eventLogGenerator';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from './support/sparkCompress';

const LOG = logOfSize(3_000_000);
const WRITERS: readonly [Codec, (b: Buffer) => Buffer][] = [
  ['lz4', (b) => lz4BlockStream(b)],
  ['snappy', (b) => snappyStream(b)],
  ['lzf', (b) => lzfStream(b)],
  // Small frames: several frames and a ring that is reused from one frame to the next.
  ['zstd', (b) => zstdFrames(b, { frameSize: 700 * 1024 })],
];

function chunked(data: Buffer, size: number): AsyncIterable<Buffer> {
  return Readable.from(
    (function* () {
      for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
    })(),
  );
}

describe.each(WRITERS)('%s output chunks', (codec, write) => {
  const compressed = write(LOG);

  it('stay as they were given by default, kept until the end without copying', async () => {
    const kept: Buffer[] = [];
    for await (const chunk of decode(codec, chunked(compressed, 64 * 1024), `events.${codec}`)) kept.push(chunk);
    expect(kept.length).toBeGreaterThan(2);
    expect(Buffer.concat(kept).equals(LOG)).toBe(true);
  });

  it('with reuseOutput, decode to the same bytes for a caller done with each before the next', async () => {
    const copies: Buffer[] = [];
    const seen: ArrayBufferLike[] = [];
    for await (const chunk of decode(codec, chunked(compressed, 64 * 1024), `events.${codec}`, { reuseOutput: true })) {
      copies.push(Buffer.from(chunk));
      if (!seen.includes(chunk.buffer)) seen.push(chunk.buffer);
    }
    expect(Buffer.concat(copies).equals(LOG)).toBe(true);
    // The memory really is reused: far fewer backing buffers than chunks.
    expect(seen.length).toBeLessThan(copies.length / 2);
  });
});
