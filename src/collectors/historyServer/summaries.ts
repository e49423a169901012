/**
 * History Server answers as the per-stage-attempt and per-executor summaries of issue 15
 * (record/summaries.ts): `/stages` and `/allexecutors`, which fetchAttempt (collect.ts) already reads
 * for the record, plus one `/stages/{id}/{attempt}/taskSummary` per stage attempt that had a
 * successful task, for the task-duration quantiles.
 *
 * Semantics taken from Spark's AppStatusListener / AppStatusStore (core/src/main/scala/org/apache/
 * spark/status), where they differ from what the words suggest:
 * - numFailedTasks counts task ends whose reason is not Success, TaskKilled or TaskCommitDenied;
 *   numKilledTasks counts TaskKilled and TaskCommitDenied. So num_tasks (ended attempts) is
 *   complete + failed + killed.
 * - A stage's peakExecutionMemory is the SUM of its tasks' peaks (LiveEntityHelpers.addMetrics).
 * - The task summary covers successful tasks only (disk-backed stores: tasks that reported
 *   metrics), and no more than spark.ui.retainedTasks of them; quantile q is the value at index
 *   min(floor(q * n), n - 1) of the sorted values, so min and max are exact.
 * - An executor's totalTasks is counted at task start (killed attempts are in it); totalCores 0
 *   means not known (record.ts says why).
 */
import * as z from 'zod';
import { isoTime, countFault, type Problem } from '../record';
import { MAX_STORED_TEXT } from '../record/finish';
import type { AppSummaries, ExecutorSummary, StageStatus, StageSummary, TaskDurationQuantiles } from '../record/summaries';
import { AuthError } from '../http/jsonClient';
import type { HistoryServerClient } from './client';
import { restTimeMs, type RestExecutor, type RestStage } from './record';
import { MAX_TASK_SUMMARIES, TASK_SUMMARY_CONCURRENCY } from './taskSummaryLimits';

/** The quantiles asked for: min, p25, median, p75, max. Multiples of 0.05, which Spark caches (AppStatusStore.shouldCacheQuantile). */
export const TASK_QUANTILES = [0.0, 0.25, 0.5, 0.75, 1.0] as const;
const QUANTILES_PARAM = 'quantiles=0.0,0.25,0.5,0.75,1.0';

/** Older servers (Spark 2.x) have no `duration` distribution; their UI's "Duration" row is executorRunTime. */
export const taskSummarySchema = z.object({
  quantiles: z.array(z.number()).optional(),
  duration: z.array(z.number()).optional(),
  executorRunTime: z.array(z.number()).optional(),
});

export interface TaskSummaryLimits {
  /**
   * Task summaries asked for at once, per application attempt (default 4, at most
   * TASK_SUMMARIES.maxConcurrency): the attempts themselves run `concurrency` at once, and the
   * runner sizes the run signal's listeners for 8 requests per attempt (api/runner.ts).
   */
  taskSummaryConcurrency?: number;
  /**
   * Most task summaries asked for per application attempt (default 5000): past it, the other
   * stage attempts keep `task_duration_ms` null, with one warning. 0 asks for none.
   */
  maxTaskSummaries?: number;
}

/**
 * Task summary requests per application attempt: at once (default, most), in all (default), and
 * the failures in a row after which the rest are not asked for (a server without the endpoint, or
 * one struggling).
 */
const TASK_SUMMARIES = { concurrency: TASK_SUMMARY_CONCURRENCY.default, maxConcurrency: TASK_SUMMARY_CONCURRENCY.max, max: MAX_TASK_SUMMARIES.default, failuresInARow: 10 } as const;
/** Problems of one kind told one by one per application attempt; the rest are counted in one more. */
const PROBLEMS_TOLD = 10;

/** Problems of one kind, told one by one up to a limit and then counted, so a server with 5,000 odd stages gives 11 problems, not 5,000. */
class CappedProblems {
  private told = 0;
  private more = 0;

  constructor(
    private readonly into: Problem[],
    private readonly where: string,
    private readonly code: string,
    private readonly rest: (n: number) => string,
  ) {}

  add(message: string): void {
    if (this.told < PROBLEMS_TOLD) {
      this.told++;
      this.into.push({ severity: 'warning', code: this.code, message, file: this.where });
    } else this.more++;
  }

  flush(): void {
    if (this.more > 0) this.into.push({ severity: 'warning', code: this.code, message: this.rest(this.more), file: this.where });
    this.more = 0;
  }
}

const stageKey = (s: { stageId: number; attemptId?: number }): string => `${s.stageId}.${s.attemptId ?? 0}`;

/**
 * PENDING (a stage of a running job waiting on its parents) is `active`: it has not started
 * (submission_time is null) but it will, while `skipped` says it never will. A finished
 * application has no PENDING stage: Spark marks them SKIPPED when their job ends.
 */
const STATUS: Readonly<Record<string, StageStatus>> = { COMPLETE: 'complete', FAILED: 'failed', ACTIVE: 'active', PENDING: 'active', SKIPPED: 'skipped' };

/** The stage attempts that get a task summary: those with a successful task (Spark's summary covers only those; none is a 404). */
export function hasTaskSummary(s: RestStage): boolean {
  return s.status !== 'SKIPPED' && s.status !== 'PENDING' && s.numCompleteTasks !== undefined && s.numCompleteTasks > 0;
}

function text(v: string | undefined): string | null {
  if (v === undefined || v === '') return null;
  return v.length > MAX_STORED_TEXT ? v.slice(0, MAX_STORED_TEXT) : v;
}

/** `host:port`, `[v6]:port` or a bare host → the host; null when there is none. */
export function hostOf(hostPort: string | undefined): string | null {
  if (hostPort === undefined || hostPort === '') return null;
  const v6 = /^\[([^\]]*)\](:\d*)?$/.exec(hostPort);
  if (v6) return v6[1] === '' ? null : v6[1]!;
  const m = /^(.*):\d*$/.exec(hostPort);
  const host = m ? m[1]! : hostPort;
  return host === '' ? null : host;
}

/** Reads numbers and times of one answer, reporting (capped) those that cannot be true. */
class Values {
  constructor(private readonly bad: CappedProblems) {}

  /** A count, size or duration: absent is 0; one that cannot be true (countFault) is 0 and said. */
  count(v: number | undefined, what: string): number {
    return this.nullableCount(v, what) ?? 0;
  }

  nullableCount(v: number | undefined, what: string): number | null {
    if (v === undefined) return null;
    const fault = countFault(v);
    if (fault === null) return v;
    this.bad.add(`${what} ${String(v)} is ${fault}: left out of the summary`);
    return null;
  }

  time(t: string | undefined, what: string): { ms: number | null; iso: string | null } {
    if (t === undefined || t === '') return { ms: null, iso: null };
    const ms = restTimeMs(t);
    const iso = isoTime(ms);
    if (iso === null) {
      this.bad.add(`${what} ${JSON.stringify(t.slice(0, 40))} is not a time: left out of the summary`);
      return { ms: null, iso: null };
    }
    return { ms, iso };
  }
}

/** One stage attempt as a summary, without its task durations (null); null for a status Spark does not have. */
function stageSummary(s: RestStage, v: Values, unknown: CappedProblems): StageSummary | null {
  const status = STATUS[s.status];
  const at = `stage ${stageKey(s)}`;
  if (status === undefined) {
    unknown.add(`${at}: unknown status ${JSON.stringify(s.status.slice(0, 40))}; the stage attempt is left out of the summaries`);
    return null;
  }
  const submitted = v.time(s.submissionTime, `${at} submissionTime`);
  const firstLaunch = v.time(s.firstTaskLaunchedTime, `${at} firstTaskLaunchedTime`);
  const completed = v.time(s.completionTime, `${at} completionTime`);
  const complete = v.count(s.numCompleteTasks, `${at} numCompleteTasks`);
  const failed = v.count(s.numFailedTasks, `${at} numFailedTasks`);
  const killed = v.count(s.numKilledTasks, `${at} numKilledTasks`);
  // Spark's stage data has no duration of its own; its stage table shows completion - first task
  // launch (StageTable.scala), as the event-log summaries do: from the submission when no task launched.
  const from = firstLaunch.ms ?? submitted.ms;
  const duration = from !== null && completed.ms !== null && completed.ms >= from ? completed.ms - from : null;
  const cpuNs = v.count(s.executorCpuTime, `${at} executorCpuTime`);
  const shuffleRead =
    s.shuffleReadBytes !== undefined ? v.count(s.shuffleReadBytes, `${at} shuffleReadBytes`) : v.count(s.shuffleRemoteBytesRead, `${at} shuffleRemoteBytesRead`) + v.count(s.shuffleLocalBytesRead, `${at} shuffleLocalBytesRead`);
  return {
    stage_id: s.stageId,
    attempt_id: s.attemptId ?? 0,
    name: text(s.name),
    status,
    submission_time: submitted.iso,
    completion_time: completed.iso,
    duration_ms: duration,
    num_tasks: complete + failed + killed,
    failed_tasks: failed,
    killed_tasks: killed,
    input_bytes: v.count(s.inputBytes, `${at} inputBytes`),
    output_bytes: v.count(s.outputBytes, `${at} outputBytes`),
    shuffle_read_bytes: shuffleRead,
    shuffle_write_bytes: v.count(s.shuffleWriteBytes, `${at} shuffleWriteBytes`),
    memory_spilled_bytes: v.count(s.memoryBytesSpilled, `${at} memoryBytesSpilled`),
    disk_spilled_bytes: v.count(s.diskBytesSpilled, `${at} diskBytesSpilled`),
    executor_run_time_ms: v.count(s.executorRunTime, `${at} executorRunTime`),
    // Nanoseconds in Spark's answer; 0 where Spark never measured it (before 2.1). Whether it did is
    // the record's to say (record.ts cpuKnown, from the version and every stage): its stages follow it
    // by the rule of every source, record/summaries.ts withStageCpu, which its readers apply.
    cpu_time_ms: Math.floor(cpuNs / 1e6),
    gc_time_ms: v.count(s.jvmGcTime, `${at} jvmGcTime`),
    peak_execution_memory_bytes: v.nullableCount(s.peakExecutionMemory, `${at} peakExecutionMemory`),
    task_duration_ms: null,
  };
}

const isDriver = (id: string): boolean => id === 'driver' || id === '<driver>';

function executorSummary(e: RestExecutor, v: Values): ExecutorSummary {
  const at = `executor ${e.id}`;
  const cores = v.nullableCount(e.totalCores, `${at} totalCores`);
  return {
    executor_id: e.id,
    host: hostOf(e.hostPort),
    total_cores: cores === null || cores === 0 ? null : cores,
    add_time: v.time(e.addTime, `${at} addTime`).iso,
    remove_time: v.time(e.removeTime, `${at} removeTime`).iso,
    remove_reason: text(e.removeReason),
    total_tasks: v.count(e.totalTasks, `${at} totalTasks`),
    failed_tasks: v.count(e.failedTasks, `${at} failedTasks`),
    gc_time_ms: v.count(e.totalGCTime, `${at} totalGCTime`),
    shuffle_read_bytes: v.count(e.totalShuffleRead, `${at} totalShuffleRead`),
    shuffle_write_bytes: v.count(e.totalShuffleWrite, `${at} totalShuffleWrite`),
  };
}

/**
 * The summaries of one attempt's `/stages` and `/allexecutors` answers (null where the server had
 * none), task durations not yet filled in. Stage attempts by stage id then attempt; executors in the
 * server's order, the driver only when it is the only one (local mode).
 */
export function toSummaries(stages: RestStage[] | null, executors: RestExecutor[] | null, problems: Problem[], where: string): AppSummaries | undefined {
  if (stages === null && executors === null) return undefined;
  const bad = new CappedProblems(problems, where, 'invalid-value', (n) => `${n} more stage or executor values that cannot be true were left out of the summaries`);
  const unknown = new CappedProblems(problems, where, 'rest-shape', (n) => `${n} more stage attempts with an unknown status were left out of the summaries`);
  const v = new Values(bad);
  const stageSummaries = (stages ?? []).flatMap((s) => stageSummary(s, v, unknown) ?? []).sort((a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id);
  const all = executors ?? [];
  const onlyDriver = all.length > 0 && all.every((e) => isDriver(e.id));
  const executorSummaries = all.filter((e) => onlyDriver || !isDriver(e.id)).map((e) => executorSummary(e, v));
  bad.flush();
  unknown.flush();
  return { stages: stageSummaries, executors: executorSummaries };
}

/** The quantiles of one task summary answer, or why not. */
function quantilesOf(answer: z.infer<typeof taskSummarySchema>): { q: TaskDurationQuantiles; runTime: boolean } | string {
  const runTime = answer.duration === undefined;
  const values = answer.duration ?? answer.executorRunTime;
  if (values === undefined) return 'the answer has no duration';
  if (answer.quantiles !== undefined && (answer.quantiles.length !== TASK_QUANTILES.length || answer.quantiles.some((q, i) => q !== TASK_QUANTILES[i]))) {
    return `the answer is for quantiles ${JSON.stringify(answer.quantiles.slice(0, 10))}, not those asked for`;
  }
  if (values.length !== TASK_QUANTILES.length) return `the answer has ${values.length} duration values for ${TASK_QUANTILES.length} quantiles`;
  // Spark gives the millisecond values as doubles (12.0); NaN where a disk store ran out of tasks.
  const ms = values.map((x) => Math.round(x));
  const fault = ms.map((x) => countFault(x)).find((f) => f !== null);
  if (fault !== undefined) return `a duration ${JSON.stringify(values)} is ${fault}`;
  if (ms.some((x, i) => i > 0 && x < ms[i - 1]!)) return `the durations ${JSON.stringify(values)} are not in order`;
  return { q: { min: ms[0]!, p25: ms[1]!, p50: ms[2]!, p75: ms[3]!, max: ms[4]! }, runTime };
}

/**
 * Fills in `task_duration_ms` from one `taskSummary` request per stage attempt with a successful
 * task, `concurrency` at once, at most `maxTaskSummaries` of them. A summary that cannot be had
 * (404, retries exhausted, a bad answer) is a warning for that stage, which keeps null; after
 * TASK_SUMMARIES.failuresInARow failures in a row the rest are not asked for. Refused credentials
 * and a cancelled run are thrown: they end the attempt as they would any other request.
 */
export async function fillTaskDurations(
  client: HistoryServerClient,
  base: string,
  stages: RestStage[],
  summaries: AppSummaries,
  problems: Problem[],
  signal: AbortSignal | undefined,
  limits: TaskSummaryLimits = {},
): Promise<void> {
  const where = client.urlOf(base);
  const byKey = new Map(summaries.stages.map((s) => [`${s.stage_id}.${s.attempt_id}`, s]));
  const wanted = stages.filter((s) => hasTaskSummary(s) && byKey.has(stageKey(s)));
  const max = Math.max(0, limits.maxTaskSummaries ?? TASK_SUMMARIES.max);
  const asked = wanted.slice(0, max);
  if (wanted.length > asked.length) {
    problems.push({
      severity: 'warning',
      code: 'task-summaries-capped',
      message: `${wanted.length} stage attempts have tasks; task durations were asked for ${asked.length} of them (the most per application attempt), the other ${wanted.length - asked.length} have none`,
      file: where,
    });
  }
  const failed = new CappedProblems(problems, where, 'rest-task-summary', (n) => `${n} more stage attempts have no task durations: their task summaries could not be read`);
  let inARow = 0;
  let gaveUp = 0;
  let runTime = 0;
  let next = 0;
  // The first refusal or cancel: the other workers stop taking stages, and it is thrown once all have ended.
  let fatal: { err: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (next < asked.length && fatal === null) {
      const s = asked[next++]!;
      if (inARow >= TASK_SUMMARIES.failuresInARow) {
        gaveUp++;
        continue;
      }
      const path = `${base}/stages/${s.stageId}/${s.attemptId ?? 0}/taskSummary?${QUANTILES_PARAM}`;
      let why: string;
      try {
        const got = quantilesOf(await client.getJson(path, taskSummarySchema, signal));
        if (typeof got !== 'string') {
          byKey.get(stageKey(s))!.task_duration_ms = got.q;
          if (got.runTime) runTime++;
          inARow = 0;
          continue;
        }
        why = got;
      } catch (err) {
        if (err instanceof AuthError || signal?.aborted === true) {
          fatal ??= { err };
          return;
        }
        why = err instanceof Error ? err.message : String(err);
      }
      inARow++;
      failed.add(`stage ${stageKey(s)}: no task durations: ${why}`);
    }
  };
  const concurrency = Math.min(TASK_SUMMARIES.maxConcurrency, Math.max(1, Math.floor(limits.taskSummaryConcurrency ?? TASK_SUMMARIES.concurrency)));
  await Promise.all(Array.from({ length: Math.min(concurrency, asked.length) }, worker));
  if (fatal !== null) throw (fatal as { err: unknown }).err;
  failed.flush();
  if (gaveUp > 0) {
    problems.push({
      severity: 'warning',
      code: 'rest-task-summary',
      message: `${TASK_SUMMARIES.failuresInARow} task summaries failed in a row: the other ${gaveUp} were not asked for, and their stage attempts have no task durations`,
      file: where,
    });
  }
  if (runTime > 0) {
    problems.push({
      severity: 'info',
      code: 'task-duration-run-time',
      message: `the server's task summaries have no duration (Spark before 3.x): task_duration_ms of ${runTime} stage attempt(s) is the tasks' executor run time`,
      file: where,
    });
  }
}
