/**
 * Stage-attempt and executor summaries (issue 15), built while an event log streams by: replay.ts
 * feeds every task end, stage and executor event here, from its byte path and its JSON.parse path
 * alike, and `summaries()` gives record/summaries.ts's shapes at the end. Memory grows with the
 * number of stage attempts and executors, never with the number of tasks: a stage keeps sums, and
 * its task durations go into a DurationSketch of bounded size.
 *
 * Counting follows Spark's History Server (core/.../status/AppStatusListener.scala), so that the
 * numbers equal its `/stages` and `/allexecutors` lists (test/stageConformance.test.ts):
 * - a task end counts as success, killed (TaskKilled, TaskCommitDenied) or failed (anything else,
 *   Resubmitted too); a Resubmitted end adds no metrics (the History Server has already removed the
 *   task it would update: onTaskEnd's `liveTasks.remove` finds nothing);
 * - the metrics of every other ended task are summed into its stage attempt and executor, failed
 *   and killed ones included;
 * - the task-duration quantiles are over successful tasks only, with duration = Task Info
 *   `Finish Time - Launch Time` (TaskInfo.duration), as AppStatusStore.taskSummary computes its
 *   `duration` distribution (it filters `status == "SUCCESS"`), and each quantile is the value at
 *   index min(floor(q * n), n - 1) of the sorted durations, as there.
 * Where we differ on purpose (stageConformance.test.ts asserts each): a stage's peak execution
 * memory is its largest task peak (the History Server sums the task peaks) and null when no task
 * carried one (it says 0); an executor's tasks are the task ends on it (it counts task starts);
 * the driver is listed only when it is the only executor (issue 15); a stage only listed by a job
 * (never submitted) is `skipped` and known by id alone (replay.ts fastJobStart says why).
 */
import { isoTime, timeFault } from '../record';
import type { AppSummaries, ExecutorSummary, StageStatus, StageSummary, TaskDurationQuantiles } from '../record/summaries';

/**
 * The task metrics a summary uses, by index into the values replay.ts reads per task (its
 * METRIC_KEYS follow this order; replay checks it at load). NaN where a task's metrics lack the key.
 */
export const TASK_METRIC = {
  cpuNs: 0,
  memorySpilled: 1,
  diskSpilled: 2,
  remoteRead: 3,
  localRead: 4,
  shuffleWritten: 5,
  inputRead: 6,
  outputWritten: 7,
  runTime: 8,
  gcTime: 9,
  peakMemory: 10,
} as const;

/** How a task attempt ended, by its end reason, as the History Server counts it (see replay.ts taskOutcome). */
export type TaskOutcome = 'success' | 'failed' | 'killed' | 'resubmitted';

/** Durations kept exactly per stage attempt before the sketch takes over. */
export const EXACT_DURATIONS = 64;
/** Sub-buckets per power of two: bucket width 1/64 of its lower bound. */
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;
/**
 * The sketch's relative accuracy: a bucket's midpoint is within half its width, at most
 * 0.5/64 = 0.78% of its lower bound, of every value in it; so every quantile it gives is within 1%
 * of the true duration at that rank (plus rounding to whole ms).
 */
export const SKETCH_ALPHA = 0.01;
/** Buckets up to the largest duration a double holds as an integer (2^53 ms): the sketch never has more. */
export const MAX_BUCKETS = 54 * SUB;
/** The bits of a double, to take a duration's bucket from its exponent and top mantissa bits (no Math.log per task). */
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** Bucket of ms >= 1: 64 per power of two, [2^e (1 + m/64), 2^e (1 + (m+1)/64)) is bucket 64 e + m. */
function bucketOf(ms: number): number {
  F64[0] = ms;
  const hi = U32[HI]!;
  return (((hi >>> 20) - 1023) << SUB_BITS) | ((hi >>> (20 - SUB_BITS)) & (SUB - 1));
}

/** The midpoint of bucket i. */
function bucketMid(i: number): number {
  return 2 ** (i >> SUB_BITS) * (1 + ((i & (SUB - 1)) + 0.5) / SUB);
}

/**
 * Task durations (whole ms, >= 0) of one stage attempt. Exact up to EXACT_DURATIONS values, so
 * small stages get the History Server's exact quantiles; past that a log-bucket sketch with
 * relative error (the DDSketch / HdrHistogram idea): 64 buckets per power of two, taken from the
 * double's exponent and top six mantissa bits, whose midpoints are within 0.78% of every value in
 * them. Its buckets are one dense array over the indexes seen so far, at most MAX_BUCKETS (3,456)
 * cells whatever the number of tasks; a stage whose tasks take 100 ms to 1 min uses about 600.
 * Zeros are counted apart. Min and max are always exact.
 */
export class DurationSketch {
  private exact: Float64Array | null = null;
  private buckets: Float64Array | null = null;
  /** Index of buckets[0]. */
  private lo = 0;
  private zeros = 0;
  count = 0;
  min = Infinity;
  max = -Infinity;

  add(ms: number): void {
    if (ms < this.min) this.min = ms;
    if (ms > this.max) this.max = ms;
    const n = this.count++;
    if (this.buckets !== null) {
      this.bucket(ms);
      return;
    }
    {
      if (n < EXACT_DURATIONS) {
        if (this.exact === null || n === this.exact.length) {
          const grown = new Float64Array(Math.min(EXACT_DURATIONS, n === 0 ? 8 : n * 2));
          if (this.exact !== null) grown.set(this.exact);
          this.exact = grown;
        }
        this.exact[n] = ms;
        return;
      }
      const kept = this.exact!;
      this.exact = null;
      this.buckets = new Float64Array(0);
      for (let i = 0; i < kept.length; i++) this.bucket(kept[i]!);
    }
    this.bucket(ms);
  }

  private bucket(ms: number): void {
    if (ms <= 0) {
      this.zeros++;
      return;
    }
    const index = bucketOf(ms);
    let b = this.buckets!;
    if (b.length === 0) {
      this.lo = index;
      b = this.buckets = new Float64Array(1);
    } else if (index < this.lo || index >= this.lo + b.length) {
      // Grow to cover the new index, with some room on that side so that growing stays rare.
      const newLo = index < this.lo ? Math.max(0, index - 16) : this.lo;
      const newHi = index >= this.lo + b.length ? Math.min(MAX_BUCKETS, index + 17) : this.lo + b.length;
      const grown = new Float64Array(newHi - newLo);
      grown.set(b, this.lo - newLo);
      this.lo = newLo;
      b = this.buckets = grown;
    }
    b[index - this.lo]!++;
  }

  /** Cells held (exact values or buckets): bounded by max(EXACT_DURATIONS, MAX_BUCKETS). */
  get cells(): number {
    return this.buckets?.length ?? this.exact?.length ?? 0;
  }

  /** The value at 0-based rank `rank` of the sorted durations (exact, or within SKETCH_ALPHA). */
  private atRank(rank: number, sorted: Float64Array | null): number {
    if (sorted !== null) return sorted[rank]!;
    if (rank < this.zeros) return 0;
    let seen = this.zeros;
    const b = this.buckets!;
    for (let i = 0; i < b.length; i++) {
      seen += b[i]!;
      if (seen > rank) {
        const mid = bucketMid(this.lo + i);
        return Math.min(this.max, Math.max(this.min, Math.round(mid)));
      }
    }
    return this.max;
  }

  quantiles(): TaskDurationQuantiles | null {
    const n = this.count;
    if (n === 0) return null;
    const sorted = this.exact !== null ? this.exact.subarray(0, n).sort() : null;
    // AppStatusStore.taskSummary: the value at index min(floor(q * n), n - 1).
    return {
      min: this.min,
      p25: this.atRank(Math.min(Math.floor(0.25 * n), n - 1), sorted),
      p50: this.atRank(Math.min(Math.floor(0.5 * n), n - 1), sorted),
      p75: this.atRank(Math.min(Math.floor(0.75 * n), n - 1), sorted),
      max: this.max,
    };
  }
}

/** Task metrics summed per stage attempt and executor, by TASK_METRIC index (peakMemory is a maximum, not a sum). */
const METRIC_COUNT = Object.keys(TASK_METRIC).length;

/** One stage attempt's sums; a task end allocates nothing. */
export class StageStats {
  name: string | null = null;
  submittedMs: number | null = null;
  completedMs: number | null = null;
  /** Seen in a StageSubmitted or StageCompleted, or running tasks: not skipped. */
  ran = false;
  completed = false;
  failed = false;
  tasks = 0;
  failedTasks = 0;
  killedTasks = 0;
  /** Sums by TASK_METRIC index; at peakMemory (the last) the largest task peak. */
  readonly sums = new Float64Array(METRIC_COUNT);
  /** A task carried "Peak Execution Memory" (>= 0). */
  peakSeen = false;
  readonly durations = new DurationSketch();

  constructor(
    readonly stageId: number,
    readonly attemptId: number,
  ) {}
}

export class ExecutorStats {
  host: string | null = null;
  cores: number | null = null;
  addedMs: number | null = null;
  removedMs: number | null = null;
  removeReason: string | null = null;
  tasks = 0;
  failedTasks = 0;
  /** Sums by TASK_METRIC index (the summary uses GC time and shuffle). */
  readonly sums = new Float64Array(METRIC_COUNT);
  /** The id's UTF-8 bytes, for the byte path's lookup without decoding. */
  readonly idBytes: Buffer;

  constructor(readonly id: string) {
    this.idBytes = Buffer.from(id, 'utf8');
  }
}

/** The last index: the loops in task() sum every metric before it. */
const PEAK = TASK_METRIC.peakMemory;

function isDriver(id: string): boolean {
  return id === 'driver' || id === '<driver>';
}

/** FNV-1a over buf[start, end): the byte path's executor-id hash (the parsed path hashes the same bytes). */
function hashBytes(buf: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
  return h >>> 0;
}

/** Whether `id` is exactly the bytes buf[start, end). */
function sameId(id: Buffer, buf: Buffer, start: number, end: number): boolean {
  if (id.length !== end - start) return false;
  for (let i = 0; i < id.length; i++) if (id[i] !== buf[start + i]) return false;
  return true;
}

/** Stage attempts and executors of one application attempt, fed by replay.ts. */
export class SummaryTracker {
  private readonly stages = new Map<number, StageStats>();
  private lastStage: StageStats | null = null;
  private readonly executors = new Map<string, ExecutorStats>();
  /** Executors by hashBytes of their id, for the byte path; a bucket lists the ids with that hash. */
  private readonly byHash = new Map<number, ExecutorStats[]>();
  /** The executor executorAt found last. */
  private lastExecutor: ExecutorStats | null = null;

  /** The stage attempt, made on first sight. */
  stage(stageId: number, attemptId: number): StageStats {
    const last = this.lastStage;
    if (last !== null && last.stageId === stageId && last.attemptId === attemptId) return last;
    // Stage ids are Ints, attempts small: one number keys both (exact below 2^53).
    const key = stageId * 0x100000 + attemptId;
    let s = this.stages.get(key);
    if (s === undefined || s.stageId !== stageId || s.attemptId !== attemptId) {
      s = new StageStats(stageId, attemptId);
      this.stages.set(key, s);
    }
    this.lastStage = s;
    return s;
  }

  /** The executor, made on first sight. */
  executor(id: string): ExecutorStats {
    let e = this.executors.get(id);
    if (e === undefined) {
      e = new ExecutorStats(id);
      this.executors.set(id, e);
      const h = hashBytes(e.idBytes, 0, e.idBytes.length);
      const list = this.byHash.get(h);
      if (list === undefined) this.byHash.set(h, [e]);
      else list.push(e);
    }
    return e;
  }

  /** The executor whose id is the UTF-8 bytes buf[start, end) (no escapes in them), without decoding them unless new. */
  executorAt(buf: Buffer, start: number, end: number): ExecutorStats {
    // Most task ends name the executor of the task before them (local mode: always the driver).
    const last = this.lastExecutor;
    if (last !== null && sameId(last.idBytes, buf, start, end)) return last;
    const e = this.executorByHash(buf, start, end);
    this.lastExecutor = e;
    return e;
  }

  private executorByHash(buf: Buffer, start: number, end: number): ExecutorStats {
    const list = this.byHash.get(hashBytes(buf, start, end));
    if (list !== undefined) {
      for (let k = 0; k < list.length; k++) {
        const e = list[k]!;
        if (sameId(e.idBytes, buf, start, end)) return e;
      }
    }
    return this.executor(buf.toString('utf8', start, end));
  }

  /** A job's Stage Infos: attempts it may run; those never submitted are skipped. */
  jobStage(stageId: number, attemptId: number, name: string | null): void {
    const s = this.stage(stageId, attemptId);
    s.name ??= name;
  }

  stageSubmitted(stageId: number, attemptId: number, name: string | null, submittedMs: number | null): void {
    const s = this.stage(stageId, attemptId);
    s.ran = true;
    if (name !== null) s.name = name;
    if (submittedMs !== null) s.submittedMs = submittedMs;
  }

  /** A StageCompleted; the same attempt seen again (a compacted copy) takes its latest outcome. */
  stageCompleted(stageId: number, attemptId: number, name: string | null, submittedMs: number | null, completedMs: number | null, failed: boolean): void {
    const s = this.stage(stageId, attemptId);
    s.ran = true;
    s.completed = true;
    s.failed = failed;
    if (name !== null) s.name = name;
    if (submittedMs !== null) s.submittedMs = submittedMs;
    if (completedMs !== null) s.completedMs = completedMs;
  }

  executorAdded(id: string, host: string | null, cores: number | null, addedMs: number | null): void {
    const e = this.executor(id);
    if (host !== null) e.host = host;
    if (cores !== null) e.cores = cores;
    if (addedMs !== null) e.addedMs = addedMs;
  }

  /** Logs before Spark 1.3 name executors only by their block managers; a later ExecutorAdded's values win. */
  blockManagerAdded(id: string, host: string | null, addedMs: number | null): void {
    const e = this.executor(id);
    e.host ??= host;
    e.addedMs ??= addedMs;
  }

  executorRemoved(id: string, removedMs: number | null, reason: string | null): void {
    const e = this.executor(id);
    e.removedMs = removedMs;
    e.removeReason = reason;
  }

  /**
   * One task end. `values` by TASK_METRIC index (NaN: not in the task's metrics); `durationMs` is
   * Finish Time - Launch Time, NaN when unknown. `stage` and `executor` are null when the line does
   * not name them.
   */
  task(stage: StageStats | null, executor: ExecutorStats | null, outcome: TaskOutcome, durationMs: number, values: Float64Array): void {
    const ok = outcome === 'success';
    const failed = outcome === 'failed' || outcome === 'resubmitted';
    // Resubmitted: the History Server already counted this task's metrics at its first end.
    const metrics = outcome !== 'resubmitted';
    // Values not above 0 add nothing: NaN (not written) and Spark's -1 (unknown), as replay.ts's addTask.
    if (stage !== null) {
      stage.ran = true;
      stage.tasks++;
      if (failed) stage.failedTasks++;
      else if (outcome === 'killed') stage.killedTasks++;
      if (metrics) {
        const sums = stage.sums;
        for (let i = 0; i < PEAK; i++) {
          const v = values[i]!;
          if (v > 0) sums[i]! += v;
        }
        const peak = values[PEAK]!;
        if (peak >= 0) {
          stage.peakSeen = true;
          if (peak > sums[PEAK]!) sums[PEAK] = peak;
        }
      }
      if (ok && durationMs >= 0) stage.durations.add(durationMs);
    }
    if (executor !== null) {
      executor.tasks++;
      if (failed) executor.failedTasks++;
      if (metrics) {
        const sums = executor.sums;
        for (let i = 0; i < PEAK; i++) {
          const v = values[i]!;
          if (v > 0) sums[i]! += v;
        }
      }
    }
  }

  /** Stage attempts by stage id then attempt; executors in the order first seen, the driver only when alone. */
  summaries(): AppSummaries {
    const stages = [...this.stages.values()].sort((a, b) => a.stageId - b.stageId || a.attemptId - b.attemptId).map(stageSummary);
    const all = [...this.executors.values()];
    const workers = all.filter((e) => !isDriver(e.id));
    return { stages, executors: (workers.length > 0 ? workers : all).map(executorSummary) };
  }
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/**
 * isoTime (record.ts) without a Date per call: an app with 10,000 stages has 20,000 stage times,
 * and a Date and toISOString for each cost a third of building the summaries. The civil date from
 * days since 1970 is Howard Hinnant's `civil_from_days`; equal to isoTime for every time
 * timeFault accepts (eventLogSummaries.test.ts compares them).
 */
export function fastIsoTime(ms: number | null): string | null {
  if (ms === null || timeFault(ms) !== null) return isoTime(ms);
  const days = Math.floor(ms / 86_400_000);
  let rest = ms - days * 86_400_000;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return `${year}-${pad2(month)}-${pad2(day)}T${pad2(hours)}:${pad2(minutes)}:${pad2(seconds)}.${millis < 10 ? `00${millis}` : millis < 100 ? `0${millis}` : millis}Z`;
}

function stageStatus(s: StageStats): StageStatus {
  if (s.completed) return s.failed ? 'failed' : 'complete';
  return s.ran ? 'active' : 'skipped';
}

function stageSummary(s: StageStats): StageSummary {
  const m = s.sums;
  const submitted = fastIsoTime(s.submittedMs);
  const completed = fastIsoTime(s.completedMs);
  return {
    stage_id: s.stageId,
    attempt_id: s.attemptId,
    name: s.name,
    status: stageStatus(s),
    submission_time: submitted,
    completion_time: completed,
    duration_ms: submitted !== null && completed !== null && s.completedMs! >= s.submittedMs! ? s.completedMs! - s.submittedMs! : null,
    num_tasks: s.tasks,
    failed_tasks: s.failedTasks,
    killed_tasks: s.killedTasks,
    input_bytes: m[TASK_METRIC.inputRead]!,
    output_bytes: m[TASK_METRIC.outputWritten]!,
    shuffle_read_bytes: m[TASK_METRIC.remoteRead]! + m[TASK_METRIC.localRead]!,
    shuffle_write_bytes: m[TASK_METRIC.shuffleWritten]!,
    memory_spilled_bytes: m[TASK_METRIC.memorySpilled]!,
    disk_spilled_bytes: m[TASK_METRIC.diskSpilled]!,
    executor_run_time_ms: m[TASK_METRIC.runTime]!,
    // Executor CPU Time is nanoseconds (DESIGN.md §2), as the History Server's executorCpuTime.
    cpu_time_ms: Math.floor(m[TASK_METRIC.cpuNs]! / 1e6),
    gc_time_ms: m[TASK_METRIC.gcTime]!,
    peak_execution_memory_bytes: s.peakSeen ? m[PEAK]! : null,
    task_duration_ms: s.durations.quantiles(),
  };
}

function executorSummary(e: ExecutorStats): ExecutorSummary {
  return {
    executor_id: e.id,
    host: e.host,
    total_cores: e.cores,
    add_time: fastIsoTime(e.addedMs),
    remove_time: fastIsoTime(e.removedMs),
    remove_reason: e.removeReason,
    total_tasks: e.tasks,
    failed_tasks: e.failedTasks,
    gc_time_ms: e.sums[TASK_METRIC.gcTime]!,
    shuffle_read_bytes: e.sums[TASK_METRIC.remoteRead]! + e.sums[TASK_METRIC.localRead]!,
    shuffle_write_bytes: e.sums[TASK_METRIC.shuffleWritten]!,
  };
}
