/**
 * History Server answers as records: the fields of an application, attempt, executor and stage the
 * mapping reads, and `toRecord`, which maps one attempt's REST answers onto the same record fields as
 * the event-log engine (replay.ts), decision for decision.
 */
import * as z from 'zod';
import { sparkVersionBefore } from '../record/sparkVersion';
import { Quality, SPARK_METRIC_FIELDS, checkedCount, checkedTime, redactSecrets, type Problem, type RecordFindings, type SparkAppRecord } from '../record';
import { completeRecord } from '../record/finish';
import { executorCount, recordSizing, recordTimes, submitTimeProperty } from '../record/rules';

// The answers, loosely: only the fields we read; everything else may change between Spark versions.

const n = z.number().optional();
export const attemptSchema = z.object({
  attemptId: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  startTimeEpoch: n,
  endTimeEpoch: n,
  sparkUser: z.string().optional(),
  completed: z.boolean().optional(),
  appSparkVersion: z.string().optional(),
});
export const appSchema = z.object({ id: z.string().min(1), name: z.string().optional(), attempts: z.array(attemptSchema).min(1) });
export type RestApp = z.infer<typeof appSchema>;
export type RestAttempt = z.infer<typeof attemptSchema>;

// The fields only the summaries read never fail an answer the record needs: a value of another type is left out.
const t = z.string().optional().catch(undefined);
const m = z.number().optional().catch(undefined);
export const executorSchema = z.object({
  id: z.string(),
  totalCores: n,
  // Read for the executor summaries (summaries.ts).
  hostPort: t,
  addTime: t,
  removeTime: t,
  removeReason: t,
  totalTasks: m,
  failedTasks: m,
  totalGCTime: m,
  totalShuffleRead: m,
  totalShuffleWrite: m,
});
export const stageSchema = z.object({
  status: z.string(),
  stageId: z.number(),
  attemptId: n,
  numCompleteTasks: n,
  numFailedTasks: n,
  numKilledTasks: n,
  executorCpuTime: n,
  executorRunTime: n,
  inputBytes: n,
  outputBytes: n,
  shuffleReadBytes: n,
  shuffleRemoteBytesRead: n,
  shuffleLocalBytesRead: n,
  shuffleWriteBytes: n,
  memoryBytesSpilled: n,
  diskBytesSpilled: n,
  // Read for the stage summaries (summaries.ts).
  name: t,
  submissionTime: t,
  firstTaskLaunchedTime: t,
  completionTime: t,
  jvmGcTime: m,
  peakExecutionMemory: m,
});

export type RestStage = z.infer<typeof stageSchema>;
export type RestExecutor = z.infer<typeof executorSchema>;

/** `2015-02-03T16:42:59.720GMT` (the REST API's date format) as epoch ms. */
export function restTimeMs(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = Date.parse(text.replace(/GMT$/, 'Z'));
  return Number.isNaN(ms) ? null : ms;
}

export function epochOrText(epoch: number | undefined, text: string | undefined): number | null {
  // Running apps report endTimeEpoch -1 (endTime 1969-12-31T23:59:59.999GMT).
  const ms = epoch ?? restTimeMs(text);
  return ms === null || ms <= 0 ? null : ms;
}

const pos = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);

export interface AttemptAnswers {
  app: RestApp;
  attempt: RestAttempt;
  /** null when the server has no /environment for the attempt. */
  properties: Record<string, string> | null;
  executors: RestExecutor[];
  /** null when the server has no /stages for the attempt: task and stage totals are then unknown. */
  stages: RestStage[] | null;
  /** Stage ids the jobs reference; null when /jobs was not available. */
  jobStageIds: number[] | null;
}

/** Maps one attempt's REST answers onto the record, by the record module's rules as replay.ts does. */
export function toRecord(a: AttemptAnswers, source: string, problems: Problem[], where: string): SparkAppRecord {
  const quality = new Set<string>();
  const found: RecordFindings = { quality, problems, where };
  const props = a.properties ?? {};
  if (a.properties === null) quality.add(Quality.missing('environment'));

  // REST reports totalCores 0 for executors known only from a block manager (logs before Spark
  // 1.3 have no ExecutorAdded); replay.ts has no cores for those either, so 0 means "unknown". A
  // value that cannot be a count is reported here, and makes the most cores unknown (NaN), as in replay.ts.
  const observed = a.executors.flatMap(({ id, totalCores: c }) => (c !== undefined && c > 0 ? [[id, checkedCount(c, 'executor_cores', `executor ${id} totalCores`, found) ?? NaN] as const] : []));
  const sizing = recordSizing(props, executorCount(a.executors.map((e) => e.id), found), observed, 'spark-default', found);

  const startMs = checkedTime(epochOrText(a.attempt.startTimeEpoch, a.attempt.startTime), 'start_time', 'startTimeEpoch/startTime', found);
  const completed = a.attempt.completed === true;
  const endMs = completed ? checkedTime(epochOrText(a.attempt.endTimeEpoch, a.attempt.endTime), 'end_time', 'endTimeEpoch/endTime', found) : null;
  const sparkVersion = a.attempt.appSparkVersion !== undefined && a.attempt.appSparkVersion !== '' ? a.attempt.appSparkVersion : null;
  if (sparkVersion === null) quality.add(Quality.missing('spark_version'));
  const times = recordTimes({ submit: submitTimeProperty(props, found), submitFrom: 'spark.app.submitTime', start: startMs, end: endMs }, found);

  const status = completed ? 'completed' : 'running';
  if (!completed) quality.add(Quality.inProgress);

  // Without the stage list every Spark metric is unknown, not 0: its sums and counts come from it
  // (a review: /stages answering 404 stored input, shuffle, spill and failures as a measured 0).
  if (a.stages === null) for (const f of SPARK_METRIC_FIELDS) quality.add(Quality.missing(f));
  const stages = a.stages ?? [];
  // Stage attempts that ran: never-submitted (SKIPPED) and waiting (PENDING) ones did no task.
  const ran = stages.filter((s) => s.status !== 'SKIPPED' && s.status !== 'PENDING');
  const sum = (f: (s: RestStage) => number): number => ran.reduce((t, s) => t + f(s), 0);
  // As pos(), but a stage value that cannot be true (a fraction, past 2^53) is left out of its total, reported and flagged.
  const value =
    (field: keyof SparkAppRecord, key: 'executorCpuTime' | 'inputBytes' | 'outputBytes' | 'shuffleReadBytes' | 'shuffleRemoteBytesRead' | 'shuffleLocalBytesRead' | 'shuffleWriteBytes' | 'memoryBytesSpilled' | 'diskBytesSpilled') =>
    (s: RestStage): number => {
      const v = s[key];
      return v === undefined || v <= 0 ? 0 : (checkedCount(v, field, `stage ${s.stageId}.${s.attemptId ?? 0} ${key}`, found) ?? 0);
    };
  const finished = ran.filter((s) => s.status === 'COMPLETE' || s.status === 'FAILED');
  const stageKeys = new Set(finished.map((s) => `${s.stageId}.${s.attemptId ?? 0}`));
  const failedKeys = new Set(finished.filter((s) => s.status === 'FAILED').map((s) => `${s.stageId}.${s.attemptId ?? 0}`));

  if (a.jobStageIds !== null) {
    const listed = new Set(stages.map((s) => s.stageId));
    const missing = [...new Set(a.jobStageIds)].filter((id) => !listed.has(id));
    if (missing.length > 0) {
      quality.add(Quality.restCapped);
      problems.push({ severity: 'warning', code: 'rest-capped', message: `the server no longer lists ${missing.length} stage(s) its jobs reference (spark.ui.retainedStages): task and stage totals are partial`, file: where });
    }
  }

  // REST reports executorCpuTime 0 where Spark never measured it (before 2.1; a newer server
  // replaying an old log), and older servers leave it out: tasks that ran without a nanosecond of
  // CPU mean CPU time is unknown, not 0.
  const cpuNs = sum(value('cpu_time_ms', 'executorCpuTime'));
  const cpuInvalid = quality.has(Quality.invalid('cpu_time_ms'));
  const cpuKnown = a.stages !== null && !sparkVersionBefore(sparkVersion, 2, 1) && (cpuNs > 0 || sum((s) => pos(s.executorRunTime)) === 0) && !cpuInvalid;
  if (!cpuKnown && !cpuInvalid) quality.add(Quality.missing('cpu_time_ms'));

  const fields: Omit<SparkAppRecord, 'quality'> = {
    app_id: a.app.id,
    attempt_id: a.attempt.attemptId ?? null,
    app_name: a.app.name ?? null,
    user: a.attempt.sparkUser ?? null,
    ...times,
    spark_version: sparkVersion,
    ...sizing,
    total_tasks: sum((s) => pos(s.numCompleteTasks) + pos(s.numFailedTasks) + pos(s.numKilledTasks)),
    failed_tasks: sum((s) => pos(s.numFailedTasks)),
    total_stages: stageKeys.size,
    failed_stages: failedKeys.size,
    cpu_time_ms: cpuKnown ? Math.floor(cpuNs / 1e6) : null,
    input_bytes: sum(value('input_bytes', 'inputBytes')),
    output_bytes: sum(value('output_bytes', 'outputBytes')),
    shuffle_read_bytes: sum((s) => (s.shuffleReadBytes !== undefined ? value('shuffle_read_bytes', 'shuffleReadBytes')(s) : value('shuffle_read_bytes', 'shuffleRemoteBytesRead')(s) + value('shuffle_read_bytes', 'shuffleLocalBytesRead')(s))),
    shuffle_write_bytes: sum(value('shuffle_write_bytes', 'shuffleWriteBytes')),
    memory_spilled_bytes: sum(value('memory_spilled_bytes', 'memoryBytesSpilled')),
    disk_spilled_bytes: sum(value('disk_spilled_bytes', 'diskBytesSpilled')),
    tags: { origin: 'history_server' },
    environment: redactSecrets(props, found),
    source,
    status,
  };
  return completeRecord(fields, found);
}
