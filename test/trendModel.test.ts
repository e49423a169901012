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

  it('summarises each metric by its median and how the newest run compares with it', () => {
    const m = trendModel('Nightly', runs);
    expect(m.summary.duration_ms).toEqual({ median: 120_000, newestRatio: 2.5 });
    // CPU: only the runs that measured it count.
    expect(m.summary.cpu_time_ms).toEqual({ median: 6_000, newestRatio: 1.5 });
    // A median of 0 gives no ratio rather than Infinity.
    expect(m.summary.failed_tasks).toEqual({ median: 0, newestRatio: null });
    expect(trendModel('None', []).summary.duration_ms).toEqual({ median: null, newestRatio: null });
  });
});
