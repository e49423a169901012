/** The trend view model (issue 15): one application name's runs over time. */
import { describe, expect, it } from 'vitest';
import { trendModel } from '../src/views/trend/model';
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

  it('summarises each metric by the median of the runs before the newest, and how the newest compares with it', () => {
    const m = trendModel('Nightly', runs);
    // r1 and r2 before r3: the newest is not part of its own baseline (as on the Job page).
    expect(m.summary.duration_ms).toEqual({ median: 110_000, earlier: 2, newestRatio: 300_000 / 110_000 });
    // CPU: only the runs that measured it count (r1 did not).
    expect(m.summary.cpu_time_ms).toEqual({ median: 3_000, earlier: 1, newestRatio: 3 });
    expect(m.summary.failed_tasks).toEqual({ median: 1, earlier: 2, newestRatio: 0 });
    // A median of 0 gives no ratio rather than Infinity.
    const zero = trendModel('Nightly', [runs[1]!, runs[2]!, makeRecord({ app_id: 'r4', app_name: 'Nightly', start_time: day(4), failed_tasks: 0 })].map((r) => ({ ...r, failed_tasks: 0 })));
    expect(zero.summary.failed_tasks).toEqual({ median: 0, earlier: 2, newestRatio: null });
    expect(trendModel('None', []).summary.duration_ms).toEqual({ median: null, earlier: 0, newestRatio: null });
    expect(trendModel('One', [runs[0]!]).summary.duration_ms).toEqual({ median: null, earlier: 0, newestRatio: null });
  });
});
