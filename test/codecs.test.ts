import { describe, it, expect } from 'vitest';
import { Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { CodecError, codecFromName, decode, type Codec } from '../src/collectors/eventlog/codecs/index';
import { xxh32 } from '../src/collectors/eventlog/codecs/lzWasm';
import { generateEventLog } from './support/eventLogGenerator';
import { lz4BlockStream, lzfStream, referenceXxh32, snappyStream, zstdFrames } from './support/sparkCompress';
import { codecError, decodeOutcome, type Outcome } from './support/decodeOutcome';

type Compressed = Exclude<Codec, 'none'>;
const CODECS: readonly Compressed[] = ['lz4', 'snappy', 'lzf', 'zstd', 'gzip'];

/** Deterministic xorshift bytes, for payloads no codec can shrink. */
function noise(n: number, seed: number): Buffer {
  const out = Buffer.alloc(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = s & 0xff;
  }
  return out;
}

/** A Spark-like log of about `approxBytes`, with one incompressible line so that writers store some blocks raw. */
function sparkLog(approxBytes: number, seed: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let run = 0; size < approxBytes; run++) {
    for (const line of generateEventLog({ seed: seed + run, stages: 4, tasksPerStage: 60, appId: `app-${seed}-${run}` })) {
      lines.push(line);
      size += line.length + 1;
      if (lines.length === 200) {
        const payload = noise(96 * 1024, seed).toString('base64');
        lines.push(JSON.stringify({ Event: 'CustomListenerEvent', Payload: payload }));
        size += payload.length;
      }
    }
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const LOG = sparkLog(3 * 1024 * 1024, 5);
const SMALL = sparkLog(200 * 1024, 9);

/** Two (or more) streams / frames / members back to back, split at a point inside a line. */
function compress(codec: Compressed, data: Buffer): Buffer {
  const cut = Math.floor(data.length * 0.4) + 7;
  const a = data.subarray(0, cut);
  const b = data.subarray(cut);
  switch (codec) {
    case 'lz4':
      return Buffer.concat([lz4BlockStream(a), lz4BlockStream(b, { blockSize: 64 * 1024 })]);
    case 'snappy':
      return Buffer.concat([snappyStream(a), snappyStream(b, { blockSize: 48 * 1024 })]);
    case 'lzf':
      return Buffer.concat([lzfStream(a), lzfStream(b, { chunkSize: 40000 })]);
    case 'zstd': {
      // A frame smaller than the 18 bytes fzstd waits for, and a skippable frame, between the real ones.
      const tiny = zstdFrames(b.subarray(0, 3));
      const skippable = Buffer.concat([Buffer.from([0x5a, 0x2a, 0x4d, 0x18, 5, 0, 0, 0]), Buffer.from('skip!')]);
      return Buffer.concat([zstdFrames(a, { frameSize: 256 * 1024 }), tiny, skippable, zstdFrames(b.subarray(3), { frameSize: 1024 * 1024, level: 3 })]);
    }
    case 'gzip':
      return Buffer.concat([gzipSync(a), gzipSync(b, { level: 9 })]);
  }
}

/** The largest decompressed unit each writer above produces: what a cut-off file may lose. */
const MAX_BLOCK: Record<Compressed, number> = { lz4: 64 * 1024, snappy: 48 * 1024, lzf: 0xffff, zstd: 128 * 1024, gzip: 0 };

function* slices(data: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, Math.min(i + size, data.length));
}

/** The input as a file stream hands it over: a Node stream of chunks of `size` bytes. */
function chunked(data: Buffer, size: number): AsyncIterable<Buffer> {
  return Readable.from(slices(data, size));
}

const run = (codec: Codec, input: AsyncIterable<Buffer>, file = `events_1_app.${codec}`): Promise<Outcome> => decodeOutcome(codec, input, file);

function isPrefixOf(prefix: Buffer, whole: Buffer): boolean {
  return prefix.length <= whole.length && whole.subarray(0, prefix.length).equals(prefix);
}

const FIXTURES = new Map<Compressed, Buffer>(CODECS.map((c) => [c, compress(c, LOG)]));
const SMALL_FIXTURES = new Map<Compressed, Buffer>(CODECS.map((c) => [c, compress(c, SMALL)]));
const fixture = (c: Compressed): Buffer => FIXTURES.get(c)!;

describe.each(CODECS)('decode %s', (codec) => {
  it('decodes concatenated streams of a multi-MB log to the original bytes', async () => {
    const compressed = fixture(codec);
    expect(compressed.length).toBeLessThan(LOG.length / 2);
    const { out, error } = await run(codec, chunked(compressed, 1024 * 1024));
    expect(error).toBeNull();
    expect(out.length).toBe(LOG.length);
    expect(out.equals(LOG)).toBe(true);
  });

  it.each([7, 64 * 1024, 1_000_003])('decodes the input split into %i-byte chunks', async (size) => {
    const { out, error } = await run(codec, chunked(fixture(codec), size));
    expect(error).toBeNull();
    expect(out.equals(LOG)).toBe(true);
  });

  it('decodes the input fed one byte at a time', async () => {
    const { out, error } = await run(codec, chunked(SMALL_FIXTURES.get(codec)!, 1));
    expect(error).toBeNull();
    expect(out.equals(SMALL)).toBe(true);
  });

  it('streams: the first output comes before more than a few blocks of input are read', async () => {
    const compressed = fixture(codec);
    let pulled = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const c of chunked(compressed, 16 * 1024)) {
        pulled += c.length;
        yield c;
      }
    }
    let pulledAtFirstOutput = -1;
    for await (const part of decode(codec, counting(), `x.${codec}`)) {
      if (part.length > 0 && pulledAtFirstOutput < 0) pulledAtFirstOutput = pulled;
    }
    expect(pulled).toBe(compressed.length);
    expect(pulledAtFirstOutput).toBeGreaterThan(0);
    expect(pulledAtFirstOutput).toBeLessThanOrEqual(192 * 1024);
  });

  it.each([0.5, 0.93])('cut off at %f of the file: yields a prefix, then a truncated CodecError', async (fraction) => {
    const compressed = fixture(codec);
    const cut = Math.floor(compressed.length * fraction);
    const outcome = await run(codec, chunked(compressed.subarray(0, cut), 64 * 1024), 'app-1.inprogress');
    const err = codecError(outcome);
    expect(err.truncated).toBe(true);
    expect(err.file).toBe('app-1.inprogress');
    expect(err.message).toContain('app-1.inprogress');
    expect(err.offset).toBeLessThanOrEqual(cut);
    expect(isPrefixOf(outcome.out, LOG)).toBe(true);
    expect(outcome.out.length).toBeGreaterThan(LOG.length * fraction * 0.5);
  });

  it('cut off in the last byte: every complete block was yielded before the error', async () => {
    const compressed = fixture(codec);
    const outcome = await run(codec, chunked(compressed.subarray(0, compressed.length - 1), 64 * 1024));
    expect(codecError(outcome).truncated).toBe(true);
    expect(isPrefixOf(outcome.out, LOG)).toBe(true);
    expect(outcome.out.length).toBeGreaterThanOrEqual(LOG.length - MAX_BLOCK[codec]);
  });

  it('decodes long runs and short repeating patterns (overlapping copies)', async () => {
    const runs = Buffer.from(
      ['a'.repeat(70_000), '-'.repeat(300), 'ab'.repeat(5000), '0123456789'.repeat(900), 'xyz'.repeat(40), '\n'].join('{"k":1}') + noise(300, 1).toString('hex'),
    );
    const { out, error } = await run(codec, chunked(compress(codec, runs), 999));
    expect(error).toBeNull();
    expect(out.equals(runs)).toBe(true);
  });

  it('cut off inside the first header: truncated, nothing yielded', async () => {
    const outcome = await run(codec, chunked(fixture(codec).subarray(0, 2), 1));
    const err = codecError(outcome);
    expect(err.truncated).toBe(true);
    expect(outcome.out.length).toBe(0);
  });

  it('plain text named as this codec: a clear, non-truncated error at byte 0', async () => {
    const outcome = await run(codec, chunked(LOG.subarray(0, 5000), 1024), `/logs/app-7.${codec}`);
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(0);
    expect(err.file).toBe(`/logs/app-7.${codec}`);
    expect(err.message).toContain(`/logs/app-7.${codec}`);
    expect(err.message).toMatch(/^\/logs\/app-7\.\w+: not an? /);
    expect(err.message).toContain('at byte 0, found plain text "{\\"Event\\":\\"SparkListener');
    expect(outcome.out.length).toBe(0);
  });

  it('a short text file named as this codec is not mistaken for a cut-off one', async () => {
    const err = codecError(await run(codec, chunked(Buffer.from('{}'), 1)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(0);
  });

  it('empty input yields nothing and no error', async () => {
    expect(await run(codec, chunked(Buffer.alloc(0), 1))).toEqual({ out: Buffer.alloc(0), error: null });
    expect(await run(codec, Readable.from([Buffer.alloc(0), Buffer.alloc(0)]))).toEqual({ out: Buffer.alloc(0), error: null });
  });

  it('passes errors of the input through unchanged', async () => {
    const ioError = new Error('EIO: i/o error, read');
    function* failing(): Generator<Buffer> {
      yield* slices(fixture(codec).subarray(0, 100 * 1024), 10_000);
      throw ioError;
    }
    const outcome = await run(codec, Readable.from(failing()));
    expect(outcome.error).toBe(ioError);
    expect(isPrefixOf(outcome.out, LOG)).toBe(true);
  });

  it('stopping early releases the input', async () => {
    let released = false;
    async function* source(): AsyncGenerator<Buffer> {
      try {
        yield* chunked(fixture(codec), 4096);
      } finally {
        released = true;
      }
    }
    let first: Buffer | undefined;
    for await (const part of decode(codec, source(), `x.${codec}`)) {
      first = part;
      break;
    }
    // Checked after the loop: a decoder that yields nothing must fail here, not skip the check.
    expect(first?.length ?? 0).toBeGreaterThan(0);
    expect(isPrefixOf(first!, LOG)).toBe(true);
    expect(released).toBe(true);
  });
});

/** Walks an LZ4Block stream's headers: [offset, method, compressedLen, originalLen]. */
function lz4Blocks(data: Buffer): [number, number, number, number][] {
  const blocks: [number, number, number, number][] = [];
  for (let at = 0; at < data.length; ) {
    expect(data.toString('latin1', at, at + 8)).toBe('LZ4Block');
    const compressedLen = data.readInt32LE(at + 9);
    blocks.push([at, data[at + 8]! & 0xf0, compressedLen, data.readInt32LE(at + 13)]);
    at += 21 + compressedLen;
  }
  return blocks;
}

describe('lz4 (lz4-java LZ4Block)', () => {
  const compressed = fixture('lz4');
  const blocks = lz4Blocks(compressed);

  it('the fixture has LZ4 blocks, raw blocks and end marks', () => {
    expect(blocks.filter((b) => b[1] === 0x20).length).toBeGreaterThan(20);
    expect(blocks.filter((b) => b[1] === 0x10 && b[3] > 0).length).toBeGreaterThan(0);
    expect(blocks.filter((b) => b[3] === 0).length).toBe(2);
  });

  it('a flipped byte in a compressed block fails with a non-truncated error in that block', async () => {
    const [at, , compressedLen] = blocks.find((b) => b[1] === 0x20 && b[0] > 0)!;
    const damaged = Buffer.from(compressed);
    damaged[at + 21 + Math.floor(compressedLen / 2)]! ^= 0x20;
    const outcome = await run('lz4', chunked(damaged, 64 * 1024));
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.offset).toBeGreaterThanOrEqual(at);
    expect(err.offset).toBeLessThan(at + 21 + compressedLen);
    expect(err.message).toMatch(/checksum|damaged/);
    expect(isPrefixOf(outcome.out, LOG)).toBe(true);
    expect(outcome.out.length).toBeGreaterThan(0);
  });

  it('a flipped byte in a raw block fails its checksum', async () => {
    const [at, , compressedLen] = blocks.find((b) => b[1] === 0x10 && b[3] > 0)!;
    const damaged = Buffer.from(compressed);
    damaged[at + 21 + 10]! ^= 0x01;
    const err = codecError(await run('lz4', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(at);
    expect(err.message).toContain('fails its checksum');
    expect(compressedLen).toBeGreaterThan(10);
  });

  it('a stream without its end mark (still being written) ends cleanly at a block boundary', async () => {
    const { out, error } = await run('lz4', chunked(lz4BlockStream(SMALL, { endMark: false }), 4096));
    expect(error).toBeNull();
    expect(out.equals(SMALL)).toBe(true);
  });

  it('a header declaring an absurd length is corruption, not a reason to allocate', async () => {
    const damaged = Buffer.from(compressed);
    damaged.writeInt32LE(0x7fffff00, 13);
    const err = codecError(await run('lz4', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(0);
    expect(err.message).toContain('decompressed bytes');
  });

  it('garbage after an end mark is reported where it starts', async () => {
    const stream = lz4BlockStream(SMALL);
    const { out, error } = await run('lz4', chunked(Buffer.concat([stream, Buffer.from('\n\n')]), 4096));
    expect(out.equals(SMALL)).toBe(true);
    const err = error as CodecError;
    expect(err).toBeInstanceOf(CodecError);
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(stream.length);
    expect(err.message).toContain(`expected magic 'LZ4Block' at byte ${stream.length}`);
  });

  it('says what a misnamed file really is', async () => {
    const err = codecError(await run('lz4', chunked(gzipSync(SMALL), 4096), 'app.lz4'));
    expect(err.message).toBe("app.lz4: not an LZ4Block stream (lz4-java, as Spark writes .lz4): expected magic 'LZ4Block' at byte 0, found gzip data (use the .gz suffix)");
  });

  it('XXH32 matches lz4js and the reference vectors', () => {
    expect(xxh32(Buffer.alloc(0), 0)).toBe(0x02cc5d05);
    expect(xxh32(Buffer.from('abc'), 0)).toBe(0x32d153ff);
    const data = noise(6000, 3);
    for (const n of [1, 3, 4, 15, 16, 17, 31, 32, 33, 100, 4999, 5000]) {
      for (const seed of [0, 0x9747b28c]) {
        expect(xxh32(data.subarray(0, n), seed)).toBe(referenceXxh32(data.subarray(0, n), seed));
        expect(xxh32(data.subarray(7, 7 + n), seed)).toBe(referenceXxh32(data.subarray(7, 7 + n), seed));
      }
    }
  });
});

describe('snappy (snappy-java stream)', () => {
  const compressed = fixture('snappy');

  it('a damaged length preamble in a chunk is corruption at that chunk', async () => {
    const damaged = Buffer.from(compressed);
    // First chunk: 16-byte stream header, 4-byte length, then the varint preamble of a 32 KiB block (80 80 02).
    expect([...damaged.subarray(20, 23)]).toEqual([0x80, 0x80, 0x02]);
    damaged[22]! ^= 0x01;
    const outcome = await run('snappy', chunked(damaged, 64 * 1024));
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(16);
    expect(outcome.out.length).toBe(0);
  });

  it('a damaged copy offset is caught inside the block', async () => {
    const damaged = Buffer.from(snappyStream(Buffer.from('abcdefgh'.repeat(64))));
    // Header, length, preamble (1 byte for 512), literal tag + 8 literals, then the first copy: make its offset 0.
    const copyAt = 16 + 4 + 2 + 1 + 8;
    expect(damaged[copyAt]! & 3).not.toBe(0);
    damaged[copyAt + 1] = 0;
    if ((damaged[copyAt]! & 3) !== 1) damaged[copyAt + 2] = 0;
    const err = codecError(await run('snappy', chunked(damaged, 7)));
    expect(err.truncated).toBe(false);
    expect(err.message).toContain('refers 0 bytes back');
  });

  it('a chunk length over the limit is corruption', async () => {
    const damaged = Buffer.from(compressed);
    damaged.writeUInt32BE(0x7ffffff0, 16);
    const err = codecError(await run('snappy', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(16);
  });

  it('names the Snappy framing format instead of calling it garbage', async () => {
    const framed = Buffer.concat([Buffer.from([0xff, 0x06, 0x00, 0x00]), Buffer.from('sNaPpY'), Buffer.alloc(20)]);
    const err = codecError(await run('snappy', chunked(framed, 1024), 'a.snappy'));
    expect(err.offset).toBe(0);
    expect(err.message).toContain('Snappy framing format (x-snappy-framed)');
  });
});

describe('lzf (ning compress-lzf)', () => {
  const compressed = fixture('lzf');

  it('the fixture has compressed and stored chunks', () => {
    const types = new Set<number>();
    for (let at = 0; at < compressed.length; ) {
      const type = compressed[at + 2]!;
      types.add(type);
      at += type === 0 ? 5 + compressed.readUInt16BE(at + 3) : 7 + compressed.readUInt16BE(at + 3);
    }
    expect([...types].sort()).toEqual([0, 1]);
  });

  it('a damaged uncompressed length is corruption at that chunk', async () => {
    const damaged = Buffer.from(compressed);
    expect(damaged[2]).toBe(1);
    damaged[6]! ^= 0x04;
    const err = codecError(await run('lzf', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBeLessThan(7 + compressed.readUInt16BE(3));
    expect(err.message).toContain('its header says');
  });

  it('a chunk that decodes to fewer bytes than its header says is corruption', async () => {
    const damaged = lzfStream(SMALL.subarray(0, 1000));
    expect(damaged.readUInt16BE(5)).toBe(1000);
    damaged.writeUInt16BE(1001, 5);
    const err = codecError(await run('lzf', chunked(damaged, 64)));
    expect(err.truncated).toBe(false);
    expect(err.message).toContain('decodes to 1000 bytes, but its header says 1001');
  });

  it('a back reference before the start of the chunk is corruption', async () => {
    // One literal "a", then a 3-byte back reference 6 bytes back: only 1 byte exists.
    const chunk = Buffer.from([0x5a, 0x56, 1, 0, 4, 0, 4, 0x00, 0x61, 0x20, 0x05]);
    const err = codecError(await run('lzf', chunked(chunk, 64)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(10);
    expect(err.message).toContain('points 6 bytes back');
  });

  it('an unknown chunk type is corruption', async () => {
    const damaged = Buffer.from(compressed);
    damaged[2] = 7;
    const err = codecError(await run('lzf', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.message).toContain('has type 7');
  });
});

describe('zstd', () => {
  const compressed = fixture('zstd');

  it('decodes one large-window frame (level 9) fed in one piece', async () => {
    const { out, error } = await run('zstd', chunked(zstdFrames(SMALL, { level: 9 }), 1 << 20));
    expect(error).toBeNull();
    expect(out.equals(SMALL)).toBe(true);
  });

  it('a block with the reserved block type is corruption at that block', async () => {
    // zstd-codec's streaming frames: magic, descriptor 0x00 (no content size, no checksum), window byte, then blocks.
    expect(compressed[4]).toBe(0);
    const damaged = Buffer.from(compressed);
    damaged[6]! |= 0x06;
    const err = codecError(await run('zstd', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(6);
    expect(err.message).toContain('reserved block type');
  });

  it('the reserved bit in a frame header is corruption', async () => {
    const damaged = Buffer.from(compressed);
    damaged[4]! |= 0x08;
    const err = codecError(await run('zstd', chunked(damaged, 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.offset).toBe(0);
  });

  it('refuses a window over the default limit, with advice', async () => {
    // Frame header: magic, descriptor 0 (window descriptor follows), window 2^(10+18) = 256 MiB; then a raw last block.
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3, 0x19, 0x00, 0x00, 0x61, 0x62, 0x63]);
    const err = codecError(await run('zstd', chunked(frame, 1024)));
    expect(err.truncated).toBe(false);
    expect(err.message).toContain('needs a 256 MiB window');
  });

  it('decodes a hand-made frame with raw and RLE blocks', async () => {
    // Raw block "abc" (size 3, type 0), then a last RLE block of 5 x "z" (size 5, type 1, last).
    const frame = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 3 << 3, 0x00, 0x00, 0x61, 0x62, 0x63, (5 << 3) | 2 | 1, 0x00, 0x00, 0x7a]);
    const { out, error } = await run('zstd', chunked(Buffer.concat([frame, frame]), 1));
    expect(error).toBeNull();
    expect(out.toString()).toBe('abczzzzzabczzzzz');
  });
});

describe('gzip', () => {
  it('a flipped byte fails with a non-truncated error', async () => {
    const damaged = Buffer.from(fixture('gzip'));
    damaged[Math.floor(damaged.length / 4)]! ^= 0x10;
    const outcome = await run('gzip', chunked(damaged, 64 * 1024));
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.message).toMatch(/corrupt gzip stream near byte \d+/);
  });

  it('cut off: yields everything zlib can decode from what is there', async () => {
    const compressed = fixture('gzip');
    for (const fraction of [0.3, 0.5, 0.77]) {
      const cut = compressed.subarray(0, Math.floor(compressed.length * fraction));
      const decodable = gunzipSync(cut, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      const outcome = await run('gzip', chunked(cut, 10_000));
      expect(codecError(outcome).truncated).toBe(true);
      expect(outcome.out.length).toBe(decodable.length);
      expect(isPrefixOf(outcome.out, LOG)).toBe(true);
    }
  });

  it('garbage after the last member is corruption, not the end of the file', async () => {
    const err = codecError(await run('gzip', chunked(Buffer.concat([gzipSync(SMALL), Buffer.from('trailing text')]), 64 * 1024)));
    expect(err.truncated).toBe(false);
    expect(err.message).toContain('not another gzip member');
  });
});

describe("codec 'none'", () => {
  it('passes the chunks through', async () => {
    const { out, error } = await run('none', chunked(LOG, 5000));
    expect(error).toBeNull();
    expect(out.equals(LOG)).toBe(true);
  });
});

describe('codecFromName', () => {
  it.each([
    ['app-1.lz4.inprogress', 'lz4'],
    ['app-1.lz4', 'lz4'],
    ['events_3_spark-123.lzf', 'lzf'],
    ['/var/log/spark/local-1700000000000.snappy', 'snappy'],
    ['local-1.zstd', 'zstd'],
    ['local-1.zst', 'zstd'],
    ['local-1.ZSTD.inprogress', 'zstd'],
    ['eventlog-2024-01-01--10-00.gz', 'gzip'],
    ['events_5_app-1.zstd.compact', 'zstd'],
    ['app-20161116163331-0000', 'none'],
    ['app-1.inprogress', 'none'],
    ['eventlog', 'none'],
    ['app-1.json', 'none'],
    ['dir.lz4/app-1', 'none'],
    ['lz4', 'none'],
  ] as const)('%s -> %s', (name, codec) => {
    expect(codecFromName(name)).toBe(codec);
  });
});
