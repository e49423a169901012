/**
 * A damaged `.gz` log hands on everything zlib decodes before the damage (codecs/gzip.ts): a zlib
 * step that fails loses its output, up to 1 MiB, which for most logs was the whole log (found by a
 * review: junk after a complete member kept 3 of 200 lines, and the error named byte 16384 for junk
 * at byte 64,495). Every fixture is made here.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import type { CodecError } from '../src/collectors/eventlog/codecs/index';
import { codecError, decodeOutcome, type Outcome } from './support/decodeOutcome';
import { eventLogText, rng } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const MiB = 2 ** 20;
/** gzip.ts KEEP_INPUT: a file over this is not decoded again after a failure. */
const KEEP_INPUT = 16 * MiB;
/** gzip.ts MAX_PIECE: the most input one zlib step takes. */
const MAX_PIECE = 64 * 1024;

/** 1.4 MB of log, 92 KB gzipped: three zlib steps (16 KiB, 64 KiB, the rest). */
const LOG = eventLogText({ seed: 3, stages: 4, tasksPerStage: 100, appId: 'app-gz' });
const TEXT = Buffer.from(LOG.text);
const MEMBER = gzipSync(TEXT);
const FILE = '/logs/app-gz.gz';

/** decode() of `data` handed over in chunks of `size` bytes, as a file stream does. */
function run(data: Buffer, size = 64 * 1024): Promise<Outcome> {
  const chunks = Array.from({ length: Math.ceil(data.length / size) }, (_, i) => data.subarray(i * size, (i + 1) * size));
  return decodeOutcome('gzip', Readable.from(chunks), FILE);
}

/** The byte a "near byte N" error names. */
function nearByte(err: CodecError): number {
  const m = /^corrupt gzip stream near byte (\d+): /.exec(err.problem);
  expect(m, err.problem).not.toBeNull();
  expect(Number(m![1])).toBe(err.offset);
  return err.offset;
}

function flipped(data: Buffer, at: number): Buffer {
  const copy = Buffer.from(data);
  copy[at]! ^= 0x10;
  return copy;
}

describe('junk after a complete member', () => {
  it.each([64 * 1024, 1000])('every byte of the member is handed on, then the error at the junk (input in chunks of %i bytes)', async (size) => {
    const outcome = await run(Buffer.concat([MEMBER, Buffer.from('GARBAGE')]), size);
    expect(outcome.out.equals(TEXT)).toBe(true);
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.file).toBe(FILE);
    expect(err.message).toBe(`${FILE}: ${err.problem}`);
    expect(err.problem).toMatch(/bytes after the end of a gzip member are not another gzip member$/);
    // zlib tells junk from a member header at its second byte; the old code named the previous step's end (81,920).
    expect(nearByte(err)).toBeGreaterThanOrEqual(MEMBER.length);
    expect(err.offset).toBeLessThanOrEqual(MEMBER.length + 1);
  });

  it('after several members, and when the whole file is one zlib step', async () => {
    const small = eventLogText({ seed: 4, stages: 1, tasksPerStage: 10 }).text;
    expect(gzipSync(small).length).toBeLessThan(16 * 1024);
    const one = await run(Buffer.concat([gzipSync(small), Buffer.from('junk')]));
    expect(one.out.toString()).toBe(small);
    expect(nearByte(codecError(one))).toBe(gzipSync(small).length + 1);

    const two = await run(Buffer.concat([MEMBER, gzipSync(small, { level: 9 }), Buffer.from('junk')]));
    expect(two.out.equals(Buffer.concat([TEXT, Buffer.from(small)]))).toBe(true);
    expect(nearByte(codecError(two))).toBe(MEMBER.length + gzipSync(small, { level: 9 }).length + 1);
  });
});

describe('damage inside a member', () => {
  it('a CRC-32 that does not match: the data is handed on, then an error (not a cut-off) at the CRC', async () => {
    const crcAt = MEMBER.length - 8;
    const outcome = await run(flipped(MEMBER, crcAt));
    expect(outcome.out.equals(TEXT)).toBe(true);
    const err = codecError(outcome);
    expect(err.truncated).toBe(false);
    expect(err.problem).toMatch(/the CRC-32 of a member does not match its data: the data is damaged$/);
    expect(nearByte(err)).toBeGreaterThanOrEqual(crcAt);
    expect(err.offset).toBeLessThan(crcAt + 4);
  });

  it('a flipped byte in the last part: everything the bytes before it decode to is handed on, and the error names a byte at or after it', async () => {
    for (const fraction of [0.9, 0.6, 0.3, 0.1]) {
      const at = Math.floor(MEMBER.length * fraction);
      const before = gunzipSync(MEMBER.subarray(0, at), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      const outcome = await run(flipped(MEMBER, at));
      expect(outcome.out.subarray(0, before.length).equals(before), `flip at ${at}`).toBe(true);
      const err = codecError(outcome);
      expect(err.file).toBe(FILE);
      expect(err.truncated).toBe(false);
      expect(nearByte(err)).toBeGreaterThanOrEqual(at);
      expect(err.offset).toBeLessThan(MEMBER.length);
    }
  });

  it(`past the first ${KEEP_INPUT / MiB} MiB of a file nothing is decoded again: the failing step is lost, and the error names that step's bytes`, async () => {
    // Bytes gzip cannot shrink, so that the file is over KEEP_INPUT and its steps are MAX_PIECE.
    const next = rng(7);
    const data = Buffer.alloc(KEEP_INPUT + MiB);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(next() * 256);
    const member = gzipSync(data, { level: 1 });
    const outcome = await run(Buffer.concat([member, Buffer.from('GARBAGE')]));
    expect(data.subarray(0, outcome.out.length).equals(outcome.out)).toBe(true);
    expect(outcome.out.length).toBeGreaterThan(data.length - MAX_PIECE);
    expect(outcome.out.length).toBeLessThan(data.length);
    const err = codecError(outcome);
    const m = /^corrupt gzip stream in bytes (\d+) to (\d+): bytes after the end of a gzip member are not another gzip member; what they decode to before the damage is lost/.exec(err.problem);
    expect(m, err.problem).not.toBeNull();
    expect(Number(m![1])).toBe(err.offset);
    expect(Number(m![2])).toBe(member.length + 'GARBAGE'.length - 1);
    expect(err.offset).toBeGreaterThan(member.length - MAX_PIECE);
  });
});

describe('collected', () => {
  it('junk after the member: the whole app is stored, with the error among its problems', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app-big.gz');
    writeFileSync(file, Buffer.concat([MEMBER, Buffer.from('GARBAGE')]));
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    expect(apps.map((a) => [a.record.app_id, a.record.status, a.record.total_tasks])).toEqual([[LOG.totals.app_id, 'completed', LOG.totals.total_tasks]]);
    const errors = apps[0]!.problems.filter((p) => p.severity === 'error');
    expect(errors.map((p) => `${p.code} ${p.file}`)).toEqual([`codec-corrupt ${file}`]);
    expect(errors[0]!.message).toMatch(/^corrupt gzip stream near byte \d+: bytes after the end of a gzip member are not another gzip member$/);
  });

  it('a gzip log of which nothing decodes is no record but a failed log with an error naming the file; the others are stored', async () => {
    const dir = tempDir();
    const bad = path.join(dir, 'app-bad.gz');
    // The first deflate block of type 3, which does not exist: zlib fails before any output.
    const damaged = Buffer.from(MEMBER);
    damaged[10] = 0x07;
    writeFileSync(bad, damaged);
    writeFileSync(path.join(dir, 'app-ok.gz'), MEMBER);
    const { apps, problems } = await collectAll({ path: dir });
    expect(apps.map((a) => a.record.app_id)).toEqual([LOG.totals.app_id]);
    expect(problems.map((p) => `${p.severity} ${p.code} ${p.file} ${p.message}`)).toEqual([`error codec-corrupt ${bad} corrupt gzip stream near byte 10: zlib reports "invalid block type"`]);
  });
});
