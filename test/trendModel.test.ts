/** The trend view model (issue 15): one application name's runs over time. */
import { describe, expect, it } from 'vitest';
import { trendModel, type TrendMetric } from '../src/views/trend/model';
import { makeRecord } from './support/records';

describe('trendModel', () => {
  const day = (d: number): string => new Date(Date.UTC(2024, 5, d, 2)).toISOString();
  const runs = [
    makeRecord({ app_id: 'r3', app_name: 'Nightly', start_time: day(3), duration_ms: 300_000, cpu_time_ms: 9_000, failed_tasks: 0 }),
    makeRecord({ app_id: 'r1', app_name: 'Nightly', start_time: day(1), duration_ms: 100_000, cpu_time_ms: null, failed_tasks: 2 }),
    makeRecord({ app_id: 'r2', app_name: 'Nightly', start_time: day(2), duration_ms: 120_000, cpu_time_ms: 3_000, failed_tasks: 0 }),
    makeRecord({ app_id: 'r0', app_name: 'Nightly', submit_time: null, start_time: null, end_time: null, duration_ms: null }),
  ];

  it('orders the runs by start, keeps each run key for opening its page, and leaves out runs with no time', () => {
    const m = trendModel('Nightly', runs);
    expect(m.points.map((p) => p.app_id)).toEqual(['r1', 'r2', 'r3']);
    expect(m.points[0]!.at).toBe(Date.parse(day(1)));
    expect(m.points.map((p) => p.values.duration_ms)).toEqual([100_000, 120_000, 300_000]);
    expect(m.points[0]!.values.cpu_time_ms).toBeNull();
    expect(m.untimed).toBe(1);
  });

  it("gives each run its colours (the page only draws them): a failed run's point red, a failed-tasks count above 0 red", () => {
    const m = trendModel('Nightly', [
      ...runs,
      makeRecord({ app_id: 'r4', app_name: 'Nightly', start_time: day(4), status: 'failed', failed_tasks: 0 }),
      makeRecord({ app_id: 'r5', app_name: 'Nightly', start_time: day(5), status: 'running', failed_tasks: 0 }),
      makeRecord({ app_id: 'r6', app_name: 'Nightly', start_time: day(6), status: 'failed', failed_tasks: 7 }),
    ]);
    const colours = m.points.map((p) => [p.app_id, p.tone, p.failedTasksTone]);
    expect(colours).toEqual([
      ['r1', 'neutral', 'error'], // completed, 2 failed tasks
      ['r2', 'neutral', 'neutral'],
      ['r3', 'neutral', 'neutral'],
      ['r4', 'error', 'neutral'], // failed, though no task failed
      ['r5', 'neutral', 'neutral'], // running: no colour yet
      ['r6', 'error', 'error'],
    ]);
  });

  it('summarises each metric by the median of the runs before the newest, and how the newest compares with it', () => {
    const m = trendModel('Nightly', runs);
    // r1 and r2 before r3: the newest is not part of its own baseline (as on the Job page).
    expect(m.summary.duration_ms).toEqual({ median: 110_000, earlier: 2, newestRatio: 300_000 / 110_000, tone: 'error' });
    // CPU: only the runs that measured it count (r1 did not).
    expect(m.summary.cpu_time_ms).toEqual({ median: 3_000, earlier: 1, newestRatio: 3, tone: 'error' });
    expect(m.summary.failed_tasks).toEqual({ median: 1, earlier: 2, newestRatio: 0, tone: 'ok' });
    // A median of 0 gives no ratio rather than Infinity.
    const zero = trendModel('Nightly', [runs[1]!, runs[2]!, makeRecord({ app_id: 'r4', app_name: 'Nightly', start_time: day(4), failed_tasks: 0 })].map((r) => ({ ...r, failed_tasks: 0 })));
    expect(zero.summary.failed_tasks).toEqual({ median: 0, earlier: 2, newestRatio: null, tone: 'neutral' });
    expect(trendModel('None', []).summary.duration_ms).toEqual({ median: null, earlier: 0, newestRatio: null, tone: 'neutral' });
    expect(trendModel('One', [runs[0]!]).summary.duration_ms).toEqual({ median: null, earlier: 0, newestRatio: null, tone: 'neutral' });
  });

  it("gives each metric's card its colour (summary.tone): by the change, not by a ratio of noise; new failed tasks are an error", () => {
    // Spark's test app "Spark shell" (10 runs, 2015-2018): the newest against the median of the 9 before it.
    const spark = (newest: Partial<Parameters<typeof makeRecord>[0]>, before: Partial<Parameters<typeof makeRecord>[0]>) => {
      const earlier = Array.from({ length: 9 }, (_, i) => makeRecord({ app_id: `e${i}`, app_name: 'Spark shell', start_time: day(1 + i), ...before }));
      const m = trendModel('Spark shell', [...earlier, makeRecord({ app_id: 'new', app_name: 'Spark shell', start_time: day(20), ...newest })]);
      return (key: TrendMetric): string => m.summary[key].tone;
    };
    // 1.4 KB of shuffle write against 460 B is ×3.18, and nothing: not red.
    expect(spark({ shuffle_write_bytes: 1_434 }, { shuffle_write_bytes: 460 })('shuffle_write_bytes')).toBe('neutral');
    // 4 failed tasks where the runs before had none: red, though a median of 0 gives no ratio.
    expect(spark({ failed_tasks: 4 }, { failed_tasks: 0 })('failed_tasks')).toBe('error');
    expect(spark({ failed_tasks: 0 }, { failed_tasks: 0 })('failed_tasks')).toBe('neutral');
    // Real changes keep their colours: 7m 53s against 9 s, 10 GB against 5 GB, 1 min against 2 min.
    expect(spark({ duration_ms: 473_000 }, { duration_ms: 9_000 })('duration_ms')).toBe('error');
    expect(spark({ shuffle_read_bytes: 10 * 1024 ** 3 }, { shuffle_read_bytes: 7 * 1024 ** 3 })('shuffle_read_bytes')).toBe('warn');
    expect(spark({ duration_ms: 60_000 }, { duration_ms: 120_000 })('duration_ms')).toBe('ok');
    // 300 ms against 100 ms is ×3, and under a second: not red.
    expect(spark({ duration_ms: 300 }, { duration_ms: 100 })('duration_ms')).toBe('neutral');
    // Unknown (CPU time before Spark 2.1): no colour.
    expect(spark({ cpu_time_ms: 5_000 }, { cpu_time_ms: null })('cpu_time_ms')).toBe('neutral');
  });

  it('colours a rise from a median of 0 as failed tasks are coloured: news when over the floor, for every metric', () => {
    const fromNothing = (key: TrendMetric, newest: number): string => {
      const earlier = Array.from({ length: 3 }, (_, i) => makeRecord({ app_id: `e${i}`, app_name: 'Nightly', start_time: day(1 + i), [key]: 0 }));
      const m = trendModel('Nightly', [...earlier, makeRecord({ app_id: 'new', app_name: 'Nightly', start_time: day(9), [key]: newest })]);
      expect(m.summary[key].median).toBe(0);
      expect(m.summary[key].newestRatio).toBeNull();
      return m.summary[key].tone;
    };
    // 2 GiB of disk spill where the runs before spilled nothing was blue, as if nothing had changed.
    expect(fromNothing('disk_spilled_bytes', 2 * 1024 ** 3)).toBe('error');
    expect(fromNothing('shuffle_write_bytes', 5 * 1024 ** 2)).toBe('error');
    expect(fromNothing('cpu_time_ms', 90_000)).toBe('error');
    expect(fromNothing('failed_tasks', 4)).toBe('error');
    // Still noise under the floor (a second, a MiB), and no change at all is no colour.
    expect(fromNothing('disk_spilled_bytes', 460)).toBe('neutral');
    expect(fromNothing('cpu_time_ms', 300)).toBe('neutral');
    expect(fromNothing('disk_spilled_bytes', 0)).toBe('neutral');
    expect(fromNothing('failed_tasks', 0)).toBe('neutral');
  });
});
