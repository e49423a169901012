/**
 * A stage slot is its row of the stage table as it fills (eventlog/summaries.ts, issue 15): times
 * made table times as they come, sums in their row cells, a stage's first four durations kept as its
 * quantiles. Random stages of 0-9 tasks (every outcome, durations in any order with ties and zeros,
 * metrics absent or -1, times that cannot be times, stage lines seen twice) give what a plain tally of
 * the same events gives.
 */
import { describe, expect, it } from 'vitest';
import { SummaryTracker, TASK_DURATION, TASK_LAUNCH, TASK_METRIC, TASK_VALUES, type TaskOutcome } from '../src/collectors/eventlog/summaries';
import { isoTime, timeFault } from '../src/collectors/record';
import type { StageSummary } from '../src/collectors/record/summaries';
import { rng } from './support/eventLogGenerator';

interface Tally {
  id: number;
  tasks: number;
  failed: number;
  killed: number;
  sums: number[];
  peak: number | null;
  durations: number[];
  /** The earliest launch time given to one of its tasks. */
  firstLaunch: number | null;
  submitted: number | null;
  completed: number | null;
  ran: boolean;
  done: boolean;
  failedStage: boolean;
  name: string | null;
}

const METRICS = Object.keys(TASK_METRIC).length;
const OUTCOMES: TaskOutcome[] = ['success', 'success', 'success', 'failed', 'killed', 'resubmitted'];

function validTime(ms: number | null): number | null {
  return ms === null || timeFault(ms) !== null ? null : ms;
}

function expected(t: Tally): Partial<StageSummary> {
  const sorted = [...t.durations].sort((a, b) => a - b);
  const n = sorted.length;
  const submitted = validTime(t.submitted);
  const completed = validTime(t.completed);
  return {
    stage_id: t.id,
    attempt_id: 0,
    name: t.name,
    // Completed without a submission time or any task: skipped, as the History Server says.
    status: t.done ? (t.failedStage ? 'failed' : submitted === null && t.tasks === 0 ? 'skipped' : 'complete') : t.ran ? 'active' : 'skipped',
    submission_time: isoTime(submitted),
    completion_time: isoTime(completed),
    // From the first task's launch (the History Server's stage table), else from the submission.
    duration_ms: ((from) => (from !== null && completed !== null && completed >= from ? completed - from : null))(t.firstLaunch !== null ? validTime(t.firstLaunch) : submitted),
    num_tasks: t.tasks,
    failed_tasks: t.failed,
    killed_tasks: t.killed,
    input_bytes: t.sums[TASK_METRIC.inputRead],
    output_bytes: t.sums[TASK_METRIC.outputWritten],
    shuffle_read_bytes: t.sums[TASK_METRIC.remoteRead]! + t.sums[TASK_METRIC.localRead]!,
    shuffle_write_bytes: t.sums[TASK_METRIC.shuffleWritten],
    memory_spilled_bytes: t.sums[TASK_METRIC.memorySpilled],
    disk_spilled_bytes: t.sums[TASK_METRIC.diskSpilled],
    executor_run_time_ms: t.sums[TASK_METRIC.runTime],
    cpu_time_ms: Math.floor(t.sums[TASK_METRIC.cpuNs]! / 1e6),
    gc_time_ms: t.sums[TASK_METRIC.gcTime],
    peak_execution_memory_bytes: t.peak,
    task_duration_ms: n === 0 ? null : { min: sorted[0]!, p25: sorted[Math.floor(0.25 * n)]!, p50: sorted[Math.floor(0.5 * n)]!, p75: sorted[Math.floor(0.75 * n)]!, max: sorted[n - 1]! },
  };
}

describe('stage slots that are their table rows as they fill', () => {
  it('give what a plain tally gives, for stages of 0 to 9 tasks in any order', () => {
    for (const seed of [11, 12, 13, 14]) {
      const next = rng(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
      const tracker = new SummaryTracker();
      const tallies: Tally[] = [];
      const values = new Float64Array(TASK_VALUES);
      const times = [null, 1_700_000_000_000, 1_700_000_123_456, -5, 1.5, 1_699_999_999_000];
      for (let id = 0; id < 400; id++) {
        const t: Tally = { id, tasks: 0, failed: 0, killed: 0, sums: new Array<number>(METRICS).fill(0), peak: null, durations: [], submitted: null, completed: null, firstLaunch: null, ran: false, done: false, failedStage: false, name: null };
        tallies.push(t);
        if (next() < 0.2) tracker.jobStage(id, 0, null);
        const line = (): void => {
          const r = next();
          if (r < 0.5) {
            const name = next() < 0.8 ? `stage ${id}` : null;
            const submitted = pick(times);
            tracker.stageSubmitted(id, 0, name, submitted);
            t.ran = true;
            if (name !== null) t.name = name;
            if (submitted !== null) t.submitted = submitted;
          } else if (r < 0.8) {
            const name = next() < 0.8 ? `done ${id}` : null;
            const submitted = pick(times);
            const completed = pick(times);
            const failed = next() < 0.2;
            tracker.stageCompleted(id, 0, name, submitted, completed, failed);
            t.ran = true;
            t.done = true;
            t.failedStage = failed;
            if (name !== null) t.name = name;
            if (submitted !== null) t.submitted = submitted;
            if (completed !== null) t.completed = completed;
          }
        };
        line();
        const tasks = Math.floor(next() * 10);
        for (let k = 0; k < tasks; k++) {
          const outcome = pick(OUTCOMES);
          values.fill(Number.NaN);
          for (let m = 0; m < METRICS; m++) {
            const r = next();
            if (r < 0.2) continue;
            values[m] = r < 0.3 ? -1 : Math.floor(next() * 3e12);
          }
          // Few distinct durations, so that ties are common; NaN: unknown.
          values[TASK_DURATION] = next() < 0.1 ? Number.NaN : Math.floor(next() * 6) * 100;
          // Launch times from the same few, unknown now and then: the earliest known one starts the stage's duration.
          const launch = next() < 0.1 ? null : pick(times.filter((x) => x !== null));
          values[TASK_LAUNCH] = launch ?? Number.NaN;
          if (launch !== null && (t.firstLaunch === null || launch < t.firstLaunch)) t.firstLaunch = launch;
          tracker.task(tracker.stage(id, 0), null, outcome, values);
          t.tasks++;
          t.ran = true;
          if (outcome === 'failed' || outcome === 'resubmitted') t.failed++;
          if (outcome === 'killed') t.killed++;
          if (outcome !== 'resubmitted') {
            for (let m = 0; m < METRICS; m++) if (m !== TASK_METRIC.peakMemory && values[m]! > 0) t.sums[m]! += values[m]!;
            const peak = values[TASK_METRIC.peakMemory]!;
            if (peak >= 0 && (t.peak === null || peak > t.peak)) t.peak = peak;
          }
          if (outcome === 'success' && values[TASK_DURATION]! >= 0) t.durations.push(values[TASK_DURATION]!);
        }
        // A second stage line now and then: the latest of each value wins.
        if (next() < 0.3) line();
        // Stages never seen at all have no slot and no row.
        if (!t.ran && next() < 0.5) tracker.jobStage(id, 0, null);
      }
      const stages = tracker.summaries().stages;
      const seen = new Set(stages.map((s) => s.stage_id));
      const want = tallies.filter((t) => seen.has(t.id));
      expect(stages.map((s) => s.stage_id)).toEqual(want.map((t) => t.id));
      stages.forEach((s, i) => expect(s).toEqual({ ...s, ...expected(want[i]!) }));
    }
  });
});
