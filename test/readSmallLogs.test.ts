/**
 * A plain log of at most 512 KiB is read and split synchronously, into one buffer every such file
 * reuses (readLog.ts splitSmallFile; issue #12: 10,000 small logs). It must give exactly what the
 * streamed path gives the same bytes, whatever the file holds, and attempts read at once in one
 * thread must not see each other's bytes.
 */
import { appendFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit, type UnitResult } from '../src/collectors/eventlog/readLog';
import { eventLogText, logOfSize } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

/** The streamed path's size: any file discovery saw bigger than 512 KiB. */
const STREAMED = 2 ** 40;

function unitOf(file: string, size = statSync(file).size, inProgress = false): LogUnit {
  return { layout: 'single', path: file, files: [{ path: file, codec: 'none', size, mtimeMs: 0 }], appIdHint: path.basename(file), inProgress, compacted: false };
}

/** What readUnit gives `file` read whole (its size as found) and streamed; both, and the bytes counted. */
async function bothWays(file: string, options: { maxLineBytes?: number; inProgress?: boolean } = {}): Promise<[UnitResult, UnitResult, number, number]> {
  let small = 0;
  let streamed = 0;
  const whole = await readUnit(unitOf(file, undefined, options.inProgress), { source: 's', maxLineBytes: options.maxLineBytes, onBytes: (n) => (small += n) });
  const stream = await readUnit(unitOf(file, STREAMED, options.inProgress), { source: 's', maxLineBytes: options.maxLineBytes, onBytes: (n) => (streamed += n) });
  return [whole, stream, small, streamed];
}

describe('small plain logs read whole', () => {
  const dir = tempDir();
  const log = eventLogText({ seed: 3, stages: 4, tasksPerStage: 30 }).text;

  it.each([
    ['a whole log', log],
    ['CRLF line ends', log.replace(/\n/g, '\r\n')],
    ['a byte-order mark', `\ufeff${log}`],
    ['a last line cut off', log.slice(0, log.length - 40)],
    ['a malformed line', log.replace('"SparkListenerTaskEnd"', '"SparkListenerTaskEnd" oops')],
    ['no newline at all', '{"Event":"SparkListenerLogStart","Spark Version":"3.5.0"}'],
    ['an empty file', ''],
    ['not a log', 'hello\nworld\n'],
  ])('%s: exactly what the streamed path gives', async (name, text) => {
    const file = path.join(dir, `${name.replace(/\W+/g, '-')}.log`);
    writeFileSync(file, text);
    const [whole, streamed, small, bytes] = await bothWays(file);
    expect(whole).toEqual(streamed);
    expect(small).toBe(bytes);
    expect(bytes).toBe(Buffer.byteLength(text));
  });

  it('a line over the limit is skipped with the same problem', async () => {
    const file = path.join(dir, 'overlong.log');
    writeFileSync(file, log);
    const [whole, streamed] = await bothWays(file, { maxLineBytes: 600 });
    expect(whole.problems.some((p) => p.code === 'line-too-long')).toBe(true);
    expect(whole).toEqual(streamed);
  });

  it('an in-progress log cut mid-line: the same info problem', async () => {
    const file = path.join(dir, 'running.log.inprogress');
    writeFileSync(file, log.slice(0, log.length - 25));
    const [whole, streamed] = await bothWays(file, { inProgress: true });
    expect(whole).toEqual(streamed);
  });

  it('a file that grew past 512 KiB since it was found is read to its end', async () => {
    const file = path.join(dir, 'grew.log');
    writeFileSync(file, log);
    const unit = unitOf(file);
    const before = await readUnit(unit, { source: 's' });
    appendFileSync(file, logOfSize(1_200_000));
    let bytes = 0;
    const grown = await readUnit(unit, { source: 's', onBytes: (n) => (bytes += n) });
    const streamed = await readUnit(unitOf(file, STREAMED), { source: 's' });
    expect(grown).toEqual(streamed);
    expect(bytes).toBe(statSync(file).size);
    expect(grown.record!.total_tasks).toBeGreaterThan(before.record!.total_tasks);
  });

  it('a file gone since it was found: read-failed, as streamed', async () => {
    const file = path.join(dir, 'never-written.log');
    const whole = await readUnit(unitOf(file, 10), { source: 's' });
    const streamed = await readUnit(unitOf(file, STREAMED), { source: 's' });
    expect(whole.problems.map((p) => p.code)).toEqual(['read-failed']);
    expect(whole).toEqual(streamed);
  });

  it('attempts read at once in one thread each get their own bytes', async () => {
    const files = Array.from({ length: 12 }, (_, i) => {
      const file = path.join(dir, `app-${i}.log`);
      writeFileSync(file, eventLogText({ seed: 10 + i, appId: `app-${i}`, stages: 1 + (i % 4), tasksPerStage: 5 + i }).text);
      return file;
    });
    const alone: UnitResult[] = [];
    for (const file of files) alone.push(await readUnit(unitOf(file), { source: 's' }));
    const together = await Promise.all(files.map((file) => readUnit(unitOf(file), { source: 's' })));
    expect(together).toEqual(alone);
    expect(new Set(together.map((r) => r.record?.app_id)).size).toBe(files.length);
  });
});
