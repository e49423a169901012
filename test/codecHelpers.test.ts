/**
 * The pieces the block framings share (issue 14): the reader's whole-block peek, the short-tail verdict and the raw-decoder error translation. The
 * framings' own tests (codecs.test.ts, hostileFiles.test.ts) reach them only through whole files.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ByteReader } from '../src/collectors/eventlog/codecs/byteReader';
import { BlockFormatError, CodecError, decodeBlockAt, shortTailError } from '../src/collectors/eventlog/codecs/codecError';

function chunks(...parts: number[][]): AsyncIterable<Buffer> {
  return Readable.from(parts.map((p) => Buffer.from(p)));
}

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  throw new Error('nothing thrown');
}


describe('ByteReader.peekBlock', () => {
  it('hands out header and body contiguous across chunks, without consuming them', async () => {
    const reader = new ByteReader(chunks([1, 2], [3], [4, 5, 6]));
    expect([...(await reader.peekBlock(2, 3, 'f', 'a block'))]).toEqual([1, 2, 3, 4, 5]);
    expect(reader.position).toBe(0);
    expect(reader.available).toBe(6);
  });

  it('at end of input inside the body: cut off, at the block, naming the body size and what is there', async () => {
    const reader = new ByteReader(chunks([7, 7, 7], [9, 9], [9, 9]));
    await reader.peekBlock(1, 2, 'f.lz4', 'an LZ4 block');
    reader.skip(3);
    const err: unknown = await reader.peekBlock(2, 5, 'f.lz4', 'an LZ4 block').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CodecError);
    expect(err).toMatchObject({
      offset: 3,
      truncated: true,
      message: 'f.lz4: the file ends inside an LZ4 block starting at byte 3 (5 bytes, only 2 present); it was cut off or is still being written',
    });
  });
});

describe('shortTailError', () => {
  const MAGIC = Buffer.from('LZ4Block', 'latin1');
  const verdict = (tail: string): CodecError => shortTailError('f', 0, Buffer.from(tail, 'latin1'), MAGIC, 'an LZ4Block stream', "'LZ4Block'", 'an LZ4Block header');

  it('a tail that begins as the magic does is a cut-off file, shorter or longer than the magic', () => {
    for (const tail of ['L', 'LZ4', 'LZ4Block', 'LZ4Block\x25\x00\x01']) {
      expect(verdict(tail), JSON.stringify(tail)).toMatchObject({ truncated: true, message: 'f: the file ends inside an LZ4Block header starting at byte 0; it was cut off or is still being written' });
    }
  });

  it('anything else is not this codec', () => {
    for (const tail of ['X', 'LZ5', 'LZ4BlocX\x25\x00']) {
      expect(verdict(tail).truncated, JSON.stringify(tail)).toBe(false);
      expect(verdict(tail).message).toMatch(/^f: not an LZ4Block stream: expected magic 'LZ4Block' at byte 0, found /);
    }
  });
});

describe('decodeBlockAt', () => {
  const corrupt = (why: string, where = 100): CodecError => new CodecError('f', where, false, `corrupt X stream: the block at byte 100 ${why}`);

  it('returns what the raw decoder returns', () => {
    expect(decodeBlockAt(100, corrupt, () => 42)).toBe(42);
  });

  it("makes the raw decoder's BlockFormatError the framing's error at the damaged byte of the file", () => {
    const err = thrown(() =>
      decodeBlockAt(100, corrupt, () => {
        throw new BlockFormatError(7, 'a match refers 9 bytes back');
      }),
    );
    expect(err).toBeInstanceOf(CodecError);
    expect(err).toMatchObject({ offset: 107, truncated: false, message: 'f: corrupt X stream: the block at byte 100 is damaged at byte 107: a match refers 9 bytes back' });
  });

  it('lets every other error through unchanged', () => {
    // The framing's own verdict from inside the decoder (snappy's preamble check), and a bug.
    for (const other of [corrupt('declares 5 bytes'), new TypeError('a bug')]) {
      const raise = (): never => {
        throw other;
      };
      expect(thrown(() => decodeBlockAt(100, corrupt, raise))).toBe(other);
    }
  });
});
