/**
 * Below the application: one summary per stage attempt and per executor, as issue 15 names their
 * fields (`spark-optimizer show --format json` prints them as they are). Field names follow the
 * record's: snake_case, times as ISO-8601 UTC text, bytes and milliseconds as integers. Every
 * source that can see stages and executors (event logs, the History Server, and EMR and Dataproc
 * through theirs) gives these same shapes; the store keeps them in tables linked to the attempt.
 */
import type { SparkAppRecord } from '../record';

/**
 * Quality.missing('cpu_time_ms') (record.ts), spelt out: a value imported from record.ts would take it,
 * zod and Node's Buffer into the webview bundles that use this module (webviewBundles.test.ts;
 * stageCpuUnknown.test.ts checks the two agree).
 */
export const CPU_NEVER_MEASURED = 'missing:cpu_time_ms';

/** A stage attempt's status, as the History Server's stage list says it (lower case). */
export const STAGE_STATUSES = ['complete', 'failed', 'active', 'skipped'] as const;
export type StageStatus = (typeof STAGE_STATUSES)[number];

/** Task durations of one stage attempt's successful tasks (ms): exact min and max; from event logs, quantiles from a bounded sketch (exact up to 128 tasks). */
export interface TaskDurationQuantiles {
  min: number;
  p25: number;
  p50: number;
  p75: number;
  max: number;
}

/** TaskDurationQuantiles' fields, in order. */
export const QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const satisfies readonly (keyof TaskDurationQuantiles)[];

export interface StageSummary {
  stage_id: number;
  attempt_id: number;
  name: string | null;
  status: StageStatus;
  submission_time: string | null;
  completion_time: string | null;
  /** From the first task's launch to the completion, as Spark's stage table measures it; from the submission when no task launched. */
  duration_ms: number | null;
  /** Task attempts that ended. */
  num_tasks: number;
  /** Counted as the History Server counts them: an end reason other than Success, TaskKilled or TaskCommitDenied. */
  failed_tasks: number;
  killed_tasks: number;
  input_bytes: number;
  output_bytes: number;
  /** Remote + local. */
  shuffle_read_bytes: number;
  shuffle_write_bytes: number;
  memory_spilled_bytes: number;
  disk_spilled_bytes: number;
  executor_run_time_ms: number;
  /** Null where Spark never measured it (before 2.1): stageCpuKnown. */
  cpu_time_ms: number | null;
  gc_time_ms: number;
  /** Null where the log or the API does not have it. */
  peak_execution_memory_bytes: number | null;
  /** Of its successful tasks, as the History Server's task summary; null for a stage attempt with none. */
  task_duration_ms: TaskDurationQuantiles | null;
}

/**
 * Whether a stage attempt ran. A skipped one did not (Spark took its output from an earlier job's
 * shuffle files and never submitted it; the Spark UI lists it under Skipped Stages with no figures),
 * unless a task of it ended all the same: its sizes and times are then none at all, not 0 B and 0 ms.
 * The one rule the job page, its timeline and compare go by.
 */
export function stageRan(s: Pick<StageSummary, 'status' | 'num_tasks'>): boolean {
  return s.status !== 'skipped' || s.num_tasks > 0;
}

/**
 * Whether an application attempt's stages have a CPU time: the one rule of every source (event logs,
 * the History Server, and EMR and Dataproc through it) and of every reader of stored summaries.
 * Spark measures executor CPU time for every task from 2.1 on and for none before, so a stage's is
 * known exactly when its application's is: unless the record says Spark never measured it
 * (`missing:cpu_time_ms`, set by each source from what it sees: no task end carrying Executor CPU
 * Time in an event log; from the History Server, a version before 2.1 or tasks that ran without a
 * nanosecond of CPU, its executorCpuTime being 0 for old applications). Issue 12 item 6: unknown,
 * not a measured-looking 0.
 */
export function stageCpuKnown(record: Pick<SparkAppRecord, 'quality'>): boolean {
  return !record.quality.includes(CPU_NEVER_MEASURED);
}

/**
 * `summaries` with stageCpuKnown applied: every stage's cpu_time_ms null when its application's CPU
 * time was never measured; the same object when nothing changes. The History Server collector applies
 * it to what it collects (its stage answers say executorCpuTime 0 for such applications); readers
 * apply it to what the store gives, for summaries stored with 0 before the rule.
 */
export function withStageCpu<S extends AppSummaries | undefined>(record: Pick<SparkAppRecord, 'quality'>, summaries: S): S {
  if (summaries === undefined || stageCpuKnown(record) || summaries.stages.every((s) => s.cpu_time_ms === null)) return summaries;
  return { ...summaries, stages: summaries.stages.map((s) => (s.cpu_time_ms === null ? s : { ...s, cpu_time_ms: null })) };
}

/** A stage attempt's numbers that add up over attempts and stages (counts, bytes, times), in field order. */
export const STAGE_COUNTERS = [
  'num_tasks',
  'failed_tasks',
  'killed_tasks',
  'input_bytes',
  'output_bytes',
  'shuffle_read_bytes',
  'shuffle_write_bytes',
  'memory_spilled_bytes',
  'disk_spilled_bytes',
  'executor_run_time_ms',
  'cpu_time_ms',
  'gc_time_ms',
] as const satisfies readonly (keyof StageSummary)[];

export interface ExecutorSummary {
  executor_id: string;
  host: string | null;
  total_cores: number | null;
  add_time: string | null;
  remove_time: string | null;
  remove_reason: string | null;
  total_tasks: number;
  failed_tasks: number;
  gc_time_ms: number;
  shuffle_read_bytes: number;
  shuffle_write_bytes: number;
}

/** What a source saw below the application; absent when it could not see it (a platform-only record). */
export interface AppSummaries {
  stages: StageSummary[];
  /** The driver is listed only when it is the only executor (local mode). */
  executors: ExecutorSummary[];
}
