/**
 * Decompression on another thread (decodeAside.ts): the same bytes and the same errors as decoding
 * here, in every codec, with the real worker bundle (dist/worker.js, built by `npm test`).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { CodecError, decode, type Codec } from '../src/collectors/eventlog/codecs/index';
import { decodeAside } from '../src/collectors/eventlog/decodeAside';
import { DECODE_ASIDE_MIN_BYTES, readUnit } from '../src/collectors/eventlog/readLog';
import { eventLogText } from './support/eventLogGenerator';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from './support/sparkCompress';
import { tempDir } from './support/tmp';

const WORKER = path.resolve(__dirname, '..', 'dist', 'worker.js');

const COMPRESS: Record<Exclude<Codec, 'none'>, (b: Buffer) => Buffer> = {
  gzip: (b) => gzipSync(b),
  lz4: (b) => lz4BlockStream(b),
  snappy: (b) => snappyStream(b),
  lzf: (b) => lzfStream(b),
  zstd: (b) => zstdFrames(b),
};

async function all(chunks: AsyncIterable<Buffer>): Promise<{ bytes: Buffer; error: unknown }> {
  const out: Buffer[] = [];
  try {
    for await (const c of chunks) out.push(Buffer.from(c));
    return { bytes: Buffer.concat(out), error: null };
  } catch (error) {
    return { bytes: Buffer.concat(out), error };
  }
}

async function* fileInput(file: string): AsyncGenerator<Buffer> {
  const { readFile } = await import('node:fs/promises');
  yield await readFile(file);
}

describe('decoding on another thread', () => {
  const text = Buffer.from(eventLogText({ stages: 30, tasksPerStage: 40 }).text);

  it.each(Object.keys(COMPRESS) as Exclude<Codec, 'none'>[])('%s: the same bytes, and the compressed bytes read are reported', async (codec) => {
    const file = path.join(tempDir(), `log.${codec}`);
    const compressed = COMPRESS[codec](text);
    writeFileSync(file, compressed);
    let read = 0;
    const { bytes, error } = await all(decodeAside(WORKER, file, codec, {}, undefined, (n) => (read += n)));
    expect(error).toBeNull();
    expect(bytes.equals(text)).toBe(true);
    expect(read).toBe(compressed.length);
  });

  it.each(Object.keys(COMPRESS) as Exclude<Codec, 'none'>[])('%s: a cut-off file gives what decoded before the cut, then the same CodecError as decoding here', async (codec) => {
    const file = path.join(tempDir(), `cut.${codec}`);
    const compressed = COMPRESS[codec](text);
    writeFileSync(file, compressed.subarray(0, Math.floor(compressed.length * 0.6)));
    const aside = await all(decodeAside(WORKER, file, codec, {}));
    const here = await all(decode(codec, fileInput(file), file));
    expect(here.error).toBeInstanceOf(CodecError);
    expect(aside.error).toBeInstanceOf(CodecError);
    expect((aside.error as CodecError).message).toBe((here.error as CodecError).message);
    expect((aside.error as CodecError).truncated).toBe((here.error as CodecError).truncated);
    expect(aside.bytes.equals(here.bytes)).toBe(true);
  });

  it('stops the thread when the reader stops early', async () => {
    const file = path.join(tempDir(), 'log.zstd');
    writeFileSync(file, zstdFrames(Buffer.concat([text, text, text])));
    let got = 0;
    for await (const chunk of decodeAside(WORKER, file, 'zstd', {})) {
      got += chunk.length;
      break;
    }
    expect(got).toBeGreaterThan(0);
  });

  it('readUnit decodes a big compressed log aside and gets the record it gets decoding here', async () => {
    // Random text inside a property keeps the compressed file over the threshold.
    const filler = randomBytes(DECODE_ASIDE_MIN_BYTES).toString('base64');
    const log = eventLogText({ appId: 'app-aside', stages: 10, tasksPerStage: 20 }).text.replace('"spark.app.name":', `"spark.filler":"${filler}","spark.app.name":`);
    const file = path.join(tempDir(), 'app-aside.gz');
    const compressed = gzipSync(log);
    expect(compressed.length).toBeGreaterThanOrEqual(DECODE_ASIDE_MIN_BYTES);
    writeFileSync(file, compressed);
    const unit = { layout: 'single' as const, path: file, files: [{ path: file, codec: 'gzip' as const, size: compressed.length, mtimeMs: 0 }], appIdHint: 'x', inProgress: false, compacted: false };
    const here = await readUnit(unit, { source: 't' });
    let read = 0;
    const aside = await readUnit(unit, { source: 't', decodeScript: WORKER, onBytes: (n) => (read += n) });
    expect(here.record!.environment['spark.filler']).toBe(filler);
    expect(aside).toEqual(here);
    expect(read).toBe(compressed.length);
  });
});
