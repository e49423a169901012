/**
 * The summary tracker's stage slots (eventlog/summaries.ts) across many chunks: thousands of stage
 * attempts seen in a scrambled order, retries, ids far ahead and negative, tasks landing on old
 * stages long after, give the summaries a plain per-stage tally gives.
 */
import { describe, expect, it } from 'vitest';
import { SummaryTracker, TASK_DURATION, TASK_METRIC } from '../src/collectors/eventlog/summaries';
import { isoTime } from '../src/collectors/record';
import { stageTableOf } from '../src/collectors/record/stageTable';
import { rng } from './support/eventLogGenerator';

interface Tally {
  id: number;
  attempt: number;
  tasks: number;
  input: number;
  submitted: number | null;
  completed: number | null;
  durations: number[];
}

describe('the summary tracker with thousands of stage attempts', () => {
  it('keeps each one apart, in whatever order they come, as a plain tally does', () => {
    for (const seed of [1, 2, 3]) {
      const next = rng(seed);
      const tracker = new SummaryTracker();
      const tally = new Map<string, Tally>();
      // 5,000 first attempts (several chunks of slots), every 7th retried, some ids far ahead or negative.
      const keys: [number, number][] = [];
      for (let i = 0; i < 5_000; i++) {
        const id = i % 97 === 3 ? 1_000_000 + i : i % 89 === 5 ? -i : i;
        keys.push([id, 0]);
        if (i % 7 === 0) keys.push([id, 1 + (i % 3)]);
      }
      const values = new Float64Array(TASK_DURATION + 1);
      for (let step = 0; step < 40_000; step++) {
        // Mostly recent stages, sometimes one long past (a late task end).
        const k = next() < 0.9 ? Math.min(keys.length - 1, Math.floor((step / 40_000) * keys.length + next() * 20)) : Math.floor(next() * keys.length);
        const [id, attempt] = keys[k]!;
        const key = `${id}.${attempt}`;
        let t = tally.get(key);
        if (t === undefined) {
          t = { id, attempt, tasks: 0, input: 0, submitted: null, completed: null, durations: [] };
          tally.set(key, t);
          const submitted = 1_700_000_000_000 + k * 1_000;
          tracker.stageSubmitted(id, attempt, `stage ${key}`, submitted);
          t.submitted = submitted;
        }
        values.fill(Number.NaN);
        const input = Math.floor(next() * 1e9);
        const duration = Math.floor(next() * 5_000);
        values[TASK_METRIC.inputRead] = input;
        values[TASK_DURATION] = duration;
        tracker.task(tracker.stage(id, attempt), null, 'success', values);
        t.tasks++;
        t.input += input;
        t.durations.push(duration);
        if (next() < 0.05 && t.completed === null) {
          t.completed = t.submitted! + 10_000;
          tracker.stageCompleted(id, attempt, null, null, t.completed, false);
        }
      }
      const expected = [...tally.values()].sort((a, b) => a.id - b.id || a.attempt - b.attempt);
      const stages = tracker.summaries().stages;
      expect(stages.length).toBe(expected.length);
      stages.forEach((s, i) => {
        const t = expected[i]!;
        const sorted = [...t.durations].sort((a, b) => a - b);
        expect({ id: s.stage_id, attempt: s.attempt_id, name: s.name, tasks: s.num_tasks, input: s.input_bytes, submitted: s.submission_time, completed: s.completion_time, status: s.status, min: s.task_duration_ms?.min, max: s.task_duration_ms?.max }).toEqual({
          id: t.id,
          attempt: t.attempt,
          name: `stage ${t.id}.${t.attempt}`,
          tasks: t.tasks,
          input: t.input,
          submitted: isoTime(t.submitted),
          completed: isoTime(t.completed),
          status: t.completed === null ? 'active' : 'complete',
          min: sorted[0],
          max: sorted.at(-1),
        });
        // Quantiles are exact while a stage has at most 128 durations (EXACT_DURATIONS).
        if (sorted.length <= 128) expect(s.task_duration_ms?.p50).toBe(sorted[Math.floor(0.5 * sorted.length)]);
      });
    }
  });

  it("gives its summaries once: the same again, a small log's table no larger than its stages, and no event after them", () => {
    const tracker = new SummaryTracker();
    const values = new Float64Array(TASK_DURATION + 1).fill(Number.NaN);
    values[TASK_DURATION] = 10;
    for (const id of [0, 1, 2]) {
      tracker.stageSubmitted(id, 0, `stage ${id}`, 1_700_000_000_000);
      tracker.task(tracker.stage(id, 0), null, 'success', values);
    }
    const s = tracker.summaries();
    expect(tracker.summaries()).toBe(s);
    const table = stageTableOf(s)!;
    // Three slots' worth, not the first chunk's 64 (it crosses to the main thread and waits in the store's journal).
    expect(table.chunks.reduce((n, c) => n + c.length, 0)).toBe(3 * table.stride);
    const before = JSON.stringify(s);
    expect(() => tracker.task(tracker.stage(0, 0), null, 'success', values)).toThrow(/after the summaries were made/);
    expect(() => tracker.stageSubmitted(7, 0, 'late', null)).toThrow(/after the summaries were made/);
    expect(JSON.stringify(tracker.summaries())).toBe(before);
  });

  it.each([1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 130])('%i stages, the first chunk grown as they come: every stage kept, the table its stages exactly', (count) => {
    const tracker = new SummaryTracker();
    const values = new Float64Array(TASK_DURATION + 1).fill(Number.NaN);
    values[TASK_METRIC.inputRead] = 1;
    for (let id = 0; id < count; id++) {
      tracker.stageSubmitted(id, 0, `stage ${id}`, 1_700_000_000_000 + id);
      // Tasks on every stage so far after each new one: slots written after the chunk that holds them grew.
      for (let earlier = 0; earlier <= id; earlier += 7) {
        values[TASK_DURATION] = earlier + 1;
        tracker.task(tracker.stage(earlier, 0), null, 'success', values);
      }
    }
    const s = tracker.summaries();
    expect(stageTableOf(s)!.chunks.reduce((n, c) => n + c.length, 0)).toBe(count * stageTableOf(s)!.stride);
    s.stages.forEach((stage, id) => {
      const tasks = id % 7 === 0 ? count - id : 0;
      expect(stage).toMatchObject({ stage_id: id, name: `stage ${id}`, submission_time: isoTime(1_700_000_000_000 + id), num_tasks: tasks, input_bytes: tasks });
    });
    expect(s.stages).toHaveLength(count);
  });
});
