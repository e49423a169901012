/**
 * The CLI's tables as a terminal shows them (a review of `jobs`, `show`, `compare`, `runs`): columns
 * line up by the columns a terminal gives each character (a CJK or emoji name takes two a
 * character), a duration column is a number column whatever its values' unit, a clipped name says
 * it was clipped, and counts are grouped as everywhere else.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compareRuns } from '../src/analysis/compare';
import { compareText } from '../src/analysis/compareText';
import { main } from '../src/cli/main';
import { recordRow, timeText } from '../src/cli/recordTable';
import { recordSummary, table } from '../src/common/format';
import { makeRecord } from './support/records';
import { makeSummaries } from './support/summaries';
import { describeShared, sharedPath } from './support/shared';
import { tempDir } from './support/tmp';

describe('table', () => {
  it('aligns a column by the columns a terminal gives its text: a CJK or emoji name takes two a character, a combining mark none', () => {
    // Written out by hand: 日本語ジョブ is 6 characters and 12 terminal columns, 🚀 is 2 UTF-16 units and 2 columns,
    // é as e + U+0301 is 2 units and 1 column.
    expect(table(['name', 'tasks'], [['日本語ジョブ', '1'], ['🚀 launch', '22'], ['cafe\u0301', '333']]).split('\n')).toEqual([
      'name          tasks',
      '------------  -----',
      '日本語ジョブ      1',
      '🚀 launch        22',
      'cafe\u0301            333',
    ]);
  });

  it('a column of durations is a number column whatever their unit (8m 29s beside 33.5 s), and an IP address is not a number', () => {
    expect(table(['duration', 'host'], [['8m 29s', '100.64.221.138'], ['33.5 s', '10.0.0.1'], ['2h 3m', 'node-1'], ['-', '-']]).split('\n')).toEqual([
      'duration  host',
      '--------  --------------',
      '  8m 29s  100.64.221.138',
      '  33.5 s  10.0.0.1',
      '   2h 3m  node-1',
      '       -  -',
    ]);
    // Signed changes and percentages, as compare prints them.
    expect(table(['change', '%'], [['+3m 25s', '+67.4%'], ['-46 ms', '-27.5%'], ['0 B', '0.0%']]).split('\n')).toEqual([' change       %', '-------  ------', '+3m 25s  +67.4%', ' -46 ms  -27.5%', '    0 B    0.0%']);
  });
});

describe("compare's stage counts", () => {
  it('are grouped as its metrics are (2,900, not 2900)', () => {
    const c = compareRuns({ record: makeRecord(), summaries: makeSummaries(3_000, 1) }, { record: makeRecord(), summaries: makeSummaries(2_900, 1) });
    expect(compareText(c, 10)).toContain('\nStages: 2,900 aligned by name, 0 by stage id, 100 only in A, 0 only in B; the 10 whose duration changed most:\n');
  });
});

describe("jobs' rows and show's summary", () => {
  it('a name longer than its column ends in … (not cut silently, nor inside an emoji), and counts are grouped', () => {
    const name = `${'x'.repeat(39)}🚀 and the rest of a long name`;
    const row = recordRow(makeRecord({ app_name: name, total_tasks: 150_000, failed_tasks: 1_200, num_executors: 1_000 }), timeText(true));
    expect(row[2]).toBe(`${'x'.repeat(39)}…`);
    expect(recordRow(makeRecord({ app_name: 'x'.repeat(40) }), timeText(true))[2]).toBe('x'.repeat(40));
    expect(row.slice(7, 10)).toEqual(['150,000', '1,200', '1,000']);
    const summary = new Map(recordSummary(makeRecord({ total_tasks: 150_000, failed_tasks: 1_200, total_stages: 2_000, failed_stages: 0, executor_memory_mb: 16_384, driver_memory_mb: 4_096, num_executors: 1_000 })));
    expect(summary.get('Tasks')).toBe('150,000 (1,200 failed)');
    expect(summary.get('Stages')).toBe('2,000 (0 failed)');
    expect(summary.get('Executors')).toBe('1,000 × 2 cores, 16,384 MB; driver 4,096 MB');
  });
});

/** A command run in-process through main(), as the user would run it; stdout and stderr as text. */
async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: '/' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describeShared('the CLI over ../shared/real-logs', () => {
  let db: string;
  beforeAll(async () => {
    db = path.join(tempDir(), 'real.db');
    expect((await cli('collect', '--source', 'event-logs', '--path', sharedPath('real-logs'), '--db', db)).code).toBe(0);
  });

  it('jobs: every duration and cpu cell ends in the same column (they read 8m 29s, 5m 4s, 7.4 s)', async () => {
    const jobs = await cli('jobs', '--db', db, '--utc');
    expect(jobs.code).toBe(0);
    const lines = jobs.out.split('\n');
    // Each column spans its dashes; the header names them in order.
    const spans = [...lines[1]!.matchAll(/-+/g)].map((m) => [m.index, m.index + m[0].length] as const);
    const names = lines[0]!.trim().split(/ {2,}/);
    const rows = lines.slice(2, -1);
    expect(rows).toHaveLength(3);
    for (const column of ['duration', 'cpu']) {
      const [start, end] = spans[names.indexOf(column)]!;
      const cells = rows.map((l) => l.slice(start, end));
      expect(cells.some((c) => /^\d+m \d+s/.test(c.trim())), column).toBe(true);
      // Right-aligned: each cell's text reaches the column's last character.
      expect(cells.map((c) => c.length === end - start && !c.endsWith(' ')), `${column}: ${JSON.stringify(cells)}`).toEqual([true, true, true]);
    }
  });

  it("show: the stage attempts' count says how many were skipped, as the record's stage count leaves them out", async () => {
    // NewYorkTaxiData (spark-110be3a8…): 8 stages in its jobs, stages 3 and 6 skipped (their shuffle output was reused).
    const r = await cli('show', 'spark-110be3a8424d4a2789cb88134418217b', '--db', db, '--utc');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nStages {17}6 \(0 failed\)\n/);
    expect(r.out).toContain('\nStage attempts: 8 (2 skipped)\n');
  });
});
