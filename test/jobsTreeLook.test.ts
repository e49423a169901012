/** How a job reads in the Jobs tree (issue 15): its icon says how it went, its description when it started. */
import { describe, expect, it } from 'vitest';
import { formatLocalTime } from '../src/common/format';
import { jobDescription, jobIcon, regressedText } from '../src/views/format';
import { makeRecord } from './support/records';

describe('a job in the tree', () => {
  it('a completed application with failed tasks or stages is a warning, not a green check', () => {
    expect(jobIcon(makeRecord({ status: 'completed', total_tasks: 26, failed_tasks: 10, failed_stages: 0 }))).toEqual(['warning', 'list.warningForeground', 'completed, but 10 of 26 tasks failed']);
    expect(jobIcon(makeRecord({ status: 'completed', total_tasks: 26, failed_tasks: 0, failed_stages: 2 }))[2]).toBe('completed, but 2 stages failed');
    expect(jobIcon(makeRecord({ status: 'completed', total_tasks: 26, failed_tasks: 1, failed_stages: 1 }))[2]).toBe('completed, but 1 of 26 tasks failed and 1 stage failed');
    expect(jobIcon(makeRecord({ status: 'completed', failed_tasks: 0, failed_stages: 0 }))[0]).toBe('pass');
  });

  it('a failed application is an error and a running one spins, whatever their task counts', () => {
    expect(jobIcon(makeRecord({ status: 'failed', failed_tasks: 0 }))[0]).toBe('error');
    expect(jobIcon(makeRecord({ status: 'running', failed_tasks: 3 }))[0]).toBe('sync');
    expect(jobIcon(makeRecord({ status: 'unknown' }))[0]).toBe('question');
  });

  it('the description starts with the local start time and its zone, so runs of one name are told apart', () => {
    const a = makeRecord({ app_name: 'Nightly', start_time: '2024-06-11T14:03:00.000Z', duration_ms: 90_000, total_tasks: 26, failed_tasks: 10 });
    const b = makeRecord({ app_name: 'Nightly', start_time: '2024-06-12T14:03:00.000Z', duration_ms: 90_000, total_tasks: 26, failed_tasks: 10 });
    expect(jobDescription(a, 'Europe/Berlin')).toMatch(/^2024-06-11 16:03 GMT\+2 · 1m 30s · completed · 26 tasks · 10 failed · /);
    expect(jobDescription(b, 'Europe/Berlin')).not.toBe(jobDescription(a, 'Europe/Berlin'));
    expect(formatLocalTime('2024-01-11T23:30:00.000Z', 'America/New_York')).toBe('2024-01-11 18:30 EST');
    expect(formatLocalTime('2024-06-11T00:05:00.000Z', 'UTC')).toBe('2024-06-11 00:05 UTC');
    expect(formatLocalTime(null)).toBe('-');
    expect(formatLocalTime('not a time')).toBe('-');
  });
});

describe('grammar in the views (issue 16)', () => {
  it('one task is "1 task"', () => {
    expect(jobDescription(makeRecord({ total_tasks: 1, failed_tasks: 0 }), 'UTC')).toContain(' · 1 task · ');
    expect(jobDescription(makeRecord({ total_tasks: 2, failed_tasks: 0 }), 'UTC')).toContain(' · 2 tasks · ');
  });
});

describe('a run that regressed against its history (issue 18)', () => {
  it('is a warning with the check summary, unless it failed or runs', () => {
    expect(jobIcon(makeRecord({ status: 'completed', failed_tasks: 0 }), 'Duration 2.0x')).toEqual(['warning', 'list.warningForeground', 'regressed against its earlier runs: Duration 2.0x']);
    expect(jobIcon(makeRecord({ status: 'failed' }), 'Duration 2.0x')[0]).toBe('error');
    expect(jobIcon(makeRecord({ status: 'completed', failed_tasks: 0 }))[0]).toBe('pass');
  });

  it('is named in the collection notification, the first three by name', () => {
    const run = (n: number): { key: { app_id: string; attempt_id: null }; app_name: string; summary: string } => ({ key: { app_id: `a-${n}`, attempt_id: null }, app_name: `Job ${n}`, summary: `Duration ${n}.0x` });
    expect(regressedText([run(2)])).toBe('1 run regressed against its history: Job 2 (Duration 2.0x).');
    expect(regressedText([1, 2, 3, 4, 5].map(run))).toBe('5 runs regressed against their history: Job 1 (Duration 1.0x), Job 2 (Duration 2.0x), Job 3 (Duration 3.0x), and 2 more.');
  });
});
