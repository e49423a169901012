/**
 * Stage-attempt and executor summaries (issue 15), built while an event log streams by: replay.ts
 * feeds every task end, stage and executor event here, from its byte path and its JSON.parse path
 * alike, and `summaries()` gives record/summaries.ts's shapes at the end. Memory grows with the
 * number of stage attempts and executors, never with the number of tasks: a stage keeps sums and
 * its first few task durations in a slot of a typed array, the rest go into a DurationSketch of
 * bounded size.
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
 * the driver is listed only when it is the only executor (issue 15). A stage only listed by a job
 * (never submitted) is `skipped`, named as the job's Stage Infos name it, as the History Server
 * names it (AppStatusListener.onJobStart; replay.ts fastJobStart); unnamed in logs before Spark 1.2,
 * which have no Stage Infos (the History Server says "unknown" there, Spark's placeholder).
 */
import { isoTime } from '../record';
import { AT, QUANTILE_AT, STAGE_STRIDE as ROW_STRIDE, tableSummaries, tableTime } from '../record/stageTable';
import { type AppSummaries, type ExecutorSummary, type StageStatus, type TaskDurationQuantiles } from '../record/summaries';

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

/**
 * Where task() finds a task's duration (Task Info's Finish Time - Launch Time; NaN when unknown):
 * in the same array as its metrics, after them. A double passed as an argument or returned is
 * boxed, a heap number per task end (issue 15).
 */
export const TASK_DURATION = Object.keys(TASK_METRIC).length;
/** Where task() finds a task's Launch Time (NaN when unknown): a stage's duration runs from its first task's launch. */
export const TASK_LAUNCH = TASK_DURATION + 1;
/** The length of a task's values (TaskValues): the metrics, its duration and its launch time. */
export const TASK_VALUES = TASK_LAUNCH + 1;

/** How a task attempt ended, by its end reason, as the History Server counts it (see replay.ts taskOutcome). */
export type TaskOutcome = 'success' | 'failed' | 'killed' | 'resubmitted';

/**
 * Durations kept exactly per stage attempt before the sketch takes over: about 1 KB a stage at
 * most. 128, not 64: a stage of 65-128 tasks spans a few hundred buckets (~2.4 KB, grown several
 * times), so exact values cost it less memory and time as well as being exact (issue 15: the Spark
 * 1.4 shape has stages of 100 tasks; BENCHMARKS.md has the measurements).
 */
export const EXACT_DURATIONS = 128;
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
/** add()'s value, for addAt. */
const ONE = new Float64Array(1);
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

/** Sorts values[0, n) in place by insertion: for the few durations of a small stage, cheaper than a native sort's call. */
function sortFew(values: { [i: number]: number }, n: number): void {
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    let j = i - 1;
    for (; j >= 0 && values[j]! > v; j--) values[j + 1] = values[j]!;
    values[j + 1] = v;
  }
}

/** Cells a sketch's exact durations grow to from two (grownExact), then EXACT_DURATIONS. */
const FIRST_EXACT_CELLS = 32;

/**
 * `exact`'s n values (all its cells) and `ms` in an array of FIRST_EXACT_CELLS or EXACT_DURATIONS
 * cells: two arrays made as a stage's durations grow to EXACT_DURATIONS, not push's four (19, 44, 82,
 * 139 cells; issue 15: ~2.3 KB of garbage per 100-task stage, a third of what the Spark 1.4 shape
 * allocates with summaries).
 */
function grownExact(exact: readonly number[], n: number, ms: number): number[] {
  const grown = new Array<number>(n < FIRST_EXACT_CELLS ? FIRST_EXACT_CELLS : EXACT_DURATIONS);
  for (let i = 0; i < n; i++) grown[i] = exact[i]!;
  grown[n] = ms;
  return grown;
}

/**
 * The quantiles of n exact durations, sorted[0, n) ascending: AppStatusStore.taskSummary's value at
 * index min(floor(q * n), n - 1) (below n for these q).
 */
function quantilesOf(sorted: ArrayLike<number>, n: number, min: number, max: number): TaskDurationQuantiles {
  return { min, p25: sorted[Math.floor(0.25 * n)]!, p50: sorted[Math.floor(0.5 * n)]!, p75: sorted[Math.floor(0.75 * n)]!, max };
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
  /**
   * The durations while there are at most EXACT_DURATIONS: a plain array, as the sums are: a typed
   * array costs ~2 µs to allocate before the JIT has warmed up (issue 15: 20,000 of them, two per
   * stage of a 10,000-stage log, were a fifth of what the summaries cost it). Its first `count`
   * cells are the durations; past two it has room for more (grownExact).
   */
  private exact: number[] | null = null;
  /** Counts per bucket, a plain array as `exact` (see there). */
  private buckets: number[] | null = null;
  /** Index of buckets[0]. */
  private lo = 0;
  private zeros = 0;
  count = 0;
  /**
   * Exact, once count > 0. Small integers from the start, not ±Infinity: a field that holds a double
   * holds it in a heap number of its own (16 bytes each, a stage's kept to the end; issue 15).
   */
  min = 0;
  max = 0;

  add(ms: number): void {
    ONE[0] = ms;
    this.addAt(ONE, 0);
  }

  /**
   * Adds values[at]. Read from the array, not passed: a double passed to a call the JIT did not
   * inline is boxed, a heap number per task end (issue 15); only integers are passed on.
   */
  addAt(values: Float64Array, at: number): void {
    // An int32 as such (durations nearly always are: 2^31 ms is 24 days): a value read from a
    // Float64Array is a heap number, and min and max would then hold doubles (see there).
    const value = values[at]!;
    const ms = (value | 0) === value ? value | 0 : value;
    const n = this.count++;
    if (n === 0 || ms < this.min) this.min = ms;
    if (n === 0 || ms > this.max) this.max = ms;
    if (this.buckets === null) {
      if (n < EXACT_DURATIONS) {
        // A second value makes an array of two, not a push: push grows a one-element array to 18
        // cells, ~130 bytes more per stage kept to the end, and Spark 3.x/4.x logs have a stage per
        // two tasks (issue 15: what survives is what the scavenger copies).
        const exact = this.exact;
        if (exact === null) this.exact = [ms];
        else if (n === 1) this.exact = [exact[0]!, ms];
        else if (n < exact.length) exact[n] = ms;
        else this.exact = grownExact(exact, n, ms);
        return;
      }
      const kept = this.exact!;
      this.exact = null;
      this.buckets = [];
      // One array for the spread seen so far, not one per step out of it.
      let lowest = ms > 0 ? ms : Infinity;
      for (let i = 0; i < kept.length; i++) if (kept[i]! > 0 && kept[i]! < lowest) lowest = kept[i]!;
      // Through bucket(), counting nothing: its call to cover() then has run before the JIT compiles
      // it (first reached later, by a value out of range, it threw the compiled code away; issue 15).
      if (lowest !== Infinity) this.bucket(bucketOf(lowest), bucketOf(this.max), 0);
      for (let i = 0; i < kept.length; i++) {
        if (kept[i]! <= 0) this.zeros++;
        else {
          const index = bucketOf(kept[i]!);
          this.bucket(index, index, 1);
        }
      }
    }
    if (ms <= 0) {
      this.zeros++;
      return;
    }
    // bucketOf, written out: see above.
    F64[0] = ms;
    const hi = U32[HI]!;
    const index = (((hi >>> 20) - 1023) << SUB_BITS) | ((hi >>> (20 - SUB_BITS)) & (SUB - 1));
    this.bucket(index, index, 1);
  }

  /** Adds `count` (0 or 1) durations > 0 to bucket `index`, first making the buckets cover [index, upTo]. */
  private bucket(index: number, upTo: number, count: number): void {
    const b = this.buckets!;
    if (b.length === 0 || index < this.lo || upTo >= this.lo + b.length) this.cover(index, upTo);
    this.buckets![index - this.lo]! += count;
  }

  /**
   * Makes `buckets` cover indexes [from, to], with room beside them (16 to 64 buckets, as many as it
   * had) where it grows, so that a stage grows it a few times, not once every 16 buckets (a spread
   * of 1 s to 20 s is 277).
   */
  private cover(from: number, to: number): void {
    const b = this.buckets!;
    const room = Math.min(64, Math.max(16, b.length));
    const newLo = b.length === 0 || from < this.lo ? Math.max(0, from - room) : this.lo;
    const newHi = b.length === 0 || to >= this.lo + b.length ? Math.min(MAX_BUCKETS, to + room + 1) : this.lo + b.length;
    const grown = new Array<number>(newHi - newLo).fill(0);
    for (let i = 0; i < b.length; i++) grown[this.lo - newLo + i] = b[i]!;
    this.lo = newLo;
    this.buckets = grown;
  }

  /** Cells held (exact values or buckets): bounded by max(EXACT_DURATIONS, MAX_BUCKETS). */
  get cells(): number {
    return this.buckets?.length ?? this.exact?.length ?? 0;
  }

  /** The value at 0-based rank `rank` of the sorted durations, within SKETCH_ALPHA (from the buckets). */
  private atRank(rank: number): number {
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

  /** `scratch`: arrays to sort exact values in, one of n cells at index n, shared by the stages of one summaries() call. */
  quantiles(scratch: (Float64Array | undefined)[] = []): TaskDurationQuantiles | null {
    const n = this.count;
    if (n === 0) return null;
    const exact = this.exact;
    if (exact !== null) {
      // Most stages are small. A few values are sorted in place by insertion; more in an array of
      // exactly n cells, natively (Array sort would call a comparator per step, cold). Not in one of
      // EXACT_DURATIONS cells padded with Infinity: a stage of 10 tasks then sorted 128 values and
      // filled them first (issue 15: the Spark 1.4 shape's 2,022 stages took ~8 ms of quantiles).
      let sorted: ArrayLike<number> = exact;
      if (n <= 8) sortFew(exact, n);
      else {
        const cells = (scratch[n] ??= new Float64Array(n));
        for (let i = 0; i < n; i++) cells[i] = exact[i]!;
        sorted = cells.sort();
      }
      return quantilesOf(sorted, n, this.min, this.max);
    }
    // The same ranks as quantilesOf's, read from the buckets.
    return { min: this.min, p25: this.atRank(Math.floor(0.25 * n)), p50: this.atRank(Math.floor(0.5 * n)), p75: this.atRank(Math.floor(0.75 * n)), max: this.max };
  }
}

/** Task metrics summed per stage attempt and executor, by TASK_METRIC index (a stage's peakMemory is a maximum, not a sum). */
const METRIC_COUNT = Object.keys(TASK_METRIC).length;

/**
 * The template zeros() copies: built from a fraction, so its elements (and every copy's) are doubles
 * from the start, as most sums become (bytes pass 2^31): one elements kind for every executor's
 * sums, not a copy each when its first large sum arrives.
 */
const ZERO_SUMS: readonly number[] = Array.from({ length: METRIC_COUNT }, () => 0.5).fill(0);

/** METRIC_COUNT zeros, to sum into (one builtin call). */
function zeros(): number[] {
  return ZERO_SUMS.slice();
}

/**
 * A stage attempt is a slot of SummaryTracker's `chunks`, STAGE_STRIDE doubles in a Float64Array, not
 * an object (issue 15): Spark 3.x/4.x logs have a stage per two tasks, and a stage as objects (its
 * StageStats, sums and durations arrays: 445 bytes) was kept to the end, copied by every scavenge and
 * then marked in the old generation. A typed array's elements are outside the JS heap: the collector
 * never copies them, and an epoch time or a byte count there is never boxed. Slot s is in chunk
 * s >> CHUNK_BITS at (s & CHUNK_MASK) * STAGE_STRIDE: chunks of CHUNK_SLOTS, none copied when more
 * come (one array doubled when full held up to twice the slots used, and both copies while it grew:
 * 56 + 28 MB for a 2 GB Spark 3.0 log's ~150,000 stages, against 32 MB now).
 * A slot is its row of the table as it fills (record/stageTable.ts's AT; NaN for null), so that
 * summaries() has little left to do per stage (issue 15: that pass over every stage, cold at the
 * end of a log, was the largest part of what the summaries cost the Spark 3.x/4.x shapes):
 * - times are written through tableTime as they come, and the duration with them;
 * - the sums are added into their row cells; cpu_time_ms sums nanoseconds (made ms at the end, or
 *   NaN where Spark never measured CPU time),
 *   shuffle_read_bytes the remote bytes (the local ones are LOCAL_READ_SUM's, added at the end);
 * - the peak is the largest task peak (>= 0), NaN while none;
 * - while a stage has at most INLINE_DURATIONS successful durations, its quantile cells are their
 *   quantiles, kept as each comes: they hold all of them, sorted (see inlineDuration); past that
 *   its DurationSketch has them, and the cells are written from it at the end.
 * Then the fields below, past the row.
 */
const SLOT_ID = AT.stage_id;
const SLOT_ATTEMPT = AT.attempt_id;
const SLOT_SUBMITTED = AT.submission_ms;
const SLOT_COMPLETED = AT.completion_ms;
const SLOT_DURATION = AT.duration_ms;
const SLOT_TASKS = AT.num_tasks;
const SLOT_FAILED = AT.failed_tasks;
const SLOT_KILLED = AT.killed_tasks;
const SLOT_CPU = AT.cpu_time_ms;
const SLOT_SHUFFLE_READ = AT.shuffle_read_bytes;
const SLOT_PEAK = AT.peak_execution_memory_bytes;
const [SLOT_MIN, SLOT_P25, SLOT_P50, SLOT_P75, SLOT_MAX] = QUANTILE_AT;
/** The local shuffle bytes read (shuffle_read_bytes holds the remote ones until the end). */
const LOCAL_READ_SUM = ROW_STRIDE;
/** STAGE_RAN | STAGE_COMPLETED | STAGE_FAILED. */
const FLAGS = LOCAL_READ_SUM + 1;
/** Successful tasks' durations: how many. */
const DURATIONS = FLAGS + 1;
/** 1 + the index in SummaryTracker's `sketches` of the stage's DurationSketch, once it has more than INLINE_DURATIONS durations; 0 before. */
const SKETCH = DURATIONS + 1;
/** The earliest Launch Time of its task ends (Infinity while none): the History Server's firstTaskLaunchedTime. */
const FIRST_LAUNCH = SKETCH + 1;
const STAGE_STRIDE = FIRST_LAUNCH + 1;
/**
 * Durations a slot keeps in its quantile cells: up to four sorted values are all among the min,
 * p25, p50, p75 and max (index floor(q * n), n <= 4), so the cells hold them (Spark 3.x/4.x: most
 * stages have one or two tasks; a stage of more gets a sketch).
 */
const INLINE_DURATIONS = 4;
/** Where in a slot task() adds each TASK_METRIC sum but the peak. */
const SUM_CELL_OF: Record<Exclude<keyof typeof TASK_METRIC, 'peakMemory'>, number> = {
  cpuNs: AT.cpu_time_ms,
  memorySpilled: AT.memory_spilled_bytes,
  diskSpilled: AT.disk_spilled_bytes,
  remoteRead: AT.shuffle_read_bytes,
  localRead: LOCAL_READ_SUM,
  shuffleWritten: AT.shuffle_write_bytes,
  inputRead: AT.input_bytes,
  outputWritten: AT.output_bytes,
  runTime: AT.executor_run_time_ms,
  gcTime: AT.gc_time_ms,
};
/** SUM_CELL_OF by TASK_METRIC index (the peak's is never read). */
const SUM_CELL = Uint8Array.from(Object.keys(TASK_METRIC), (k) => SUM_CELL_OF[k as keyof typeof SUM_CELL_OF] ?? 0);

/** Seen in a StageSubmitted or StageCompleted, or running tasks: not skipped. */
const STAGE_RAN = 1;
const STAGE_COMPLETED = 2;
const STAGE_FAILED = 4;
/** What a stage line says of its attempt (SummaryTracker.stageEvent): the flags it sets. */
export const SUBMITTED = STAGE_RAN;
export const COMPLETED_OK = STAGE_RAN | STAGE_COMPLETED;
export const COMPLETED_FAILED = STAGE_RAN | STAGE_COMPLETED | STAGE_FAILED;
/**
 * Slots a chunk holds: 64 (13.8 KB), so that a small log's tracker stays small, and so that a new chunk
 * is first made at the 65th stage, before the JIT compiles newStage into stage(): with chunks of 1,024
 * the first was made after it, and that threw the compiled code away ("insufficient type feedback",
 * issue 15: stage() compiled twice on the Spark 4.x shape).
 */
const CHUNK_BITS = 6;
const CHUNK_SLOTS = 1 << CHUNK_BITS;
const CHUNK_MASK = CHUNK_SLOTS - 1;
/**
 * Chunks made at once at most (SummaryTracker.nextChunk): 16, 222 KB. A block's chunks not used by
 * the end stay with the summaries until they are stored (at most 15, ~208 KB).
 */
const BLOCK_CHUNKS = 16;
const NO_BLOCK = new Float64Array(0);
/**
 * Slots the first chunk starts with; it grows (four times, to CHUNK_SLOTS) as stages come. Most
 * small logs have a handful of stages: zeroing and collecting a 13.8 KB chunk per log cost ~3 us of
 * the 10,000 small logs' ~200 us each (issue #12).
 */
const FIRST_CHUNK_SLOTS = 8;

export class ExecutorStats {
  host: string | null = null;
  cores: number | null = null;
  addedMs: number | null = null;
  removedMs: number | null = null;
  removeReason: string | null = null;
  /** An ExecutorRemoved was read (its time may be unknown): later task ends are not counted, and an ExecutorAdded starts it anew. */
  removed = false;
  tasks = 0;
  failedTasks = 0;
  /** Sums by TASK_METRIC index, of the metrics the summary uses only (GC time and shuffle); the others stay 0. */
  readonly sums: number[] = zeros();
  /** The id's UTF-8 bytes, for the byte path's lookup without decoding. */
  readonly idBytes: Buffer;

  constructor(readonly id: string) {
    this.idBytes = Buffer.from(id, 'utf8');
  }

  /** As new: an executor added again under its id after its removal. */
  reset(): void {
    this.host = null;
    this.cores = null;
    this.addedMs = null;
    this.removedMs = null;
    this.removeReason = null;
    this.removed = false;
    this.tasks = 0;
    this.failedTasks = 0;
    this.sums.fill(0);
  }
}

/** The last index: the loop in task() sums every metric before it into a stage. */
const PEAK = TASK_METRIC.peakMemory;
/** The metrics an executor's summary uses (executorSummary), all task() sums into an executor. */
const { gcTime: GC_TIME, remoteRead: REMOTE_READ, localRead: LOCAL_READ, shuffleWritten: SHUFFLE_WRITTEN } = TASK_METRIC;
/** Executor ids that are small numbers (Spark numbers them from 1) are found by index: no hashing. */
const NUMBERED_EXECUTORS = 4096;

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

/**
 * The key of a stage attempt in SummaryTracker's map. Stage ids are Ints, attempts small: one number
 * keys both (exact below 2^53). The id alone for a first attempt, so the key stays a small integer
 * (stageId * 2^20 overflowed one past 2,048 stages, and the JIT then recompiled every function
 * holding it). A stage whose key another has is told apart by its fields.
 */
function stageKey(stageId: number, attemptId: number): number {
  return attemptId === 0 ? stageId : stageId + attemptId * 0x100000000;
}

/**
 * Whether a stage attempt's id and attempt are those Spark writes (an Int id, a small attempt): the
 * record counts those stages by the tracker's slots when it reads the summaries, any other pair by a
 * map of its own (replay.ts stageOutcome; its text keys could name two such pairs alike).
 */
export function plainStage(stageId: number, attemptId: number): boolean {
  return stageId >>> 0 === stageId && attemptId >>> 0 === attemptId && attemptId < 0x100000;
}

function isSlot(slot: number | undefined): slot is number {
  return slot !== undefined;
}

/** How far past the highest first attempt so far a stage id may be and still be kept by index (V8 keeps an array's elements fast across gaps up to 1,024). */
const DENSE_GAP = 1024;

/** Stage attempts and executors of one application attempt, fed by replay.ts. */
export class SummaryTracker {
  /** Every stage attempt's numbers, STAGE_STRIDE a slot in chunks of CHUNK_SLOTS (see STAGE_STRIDE); slots in order of first sight. */
  private readonly chunks: Float64Array[] = [];
  private stageCount = 0;
  /** Where nextChunk takes chunks from, and how much of it it has given. */
  private block = NO_BLOCK;
  private blockUsed = 0;
  /** Each slot's name (null while none was read: a job's stages in logs before Spark 1.2). */
  private readonly stageNames: (string | null)[] = [];
  /** The sketches of the stages with more than INLINE_DURATIONS durations (see SKETCH). */
  private readonly sketches: DurationSketch[] = [];
  /**
   * The slot of a first attempt, by stage id, while the ids stay dense (Spark numbers stages from 0):
   * no hashing. A gap of up to DENSE_GAP ids keeps V8's elements fast (a hole is undefined); an id
   * further on goes to `otherStages`.
   */
  private readonly slotOfId: (number | undefined)[] = [];
  /** The slots of every other stage attempt (retries, ids far ahead or not Ints), by stageKey. */
  private readonly otherStages = new Map<number, number>();
  private lastSlot = -1;
  /** What summaries() gave: the slots are rows of its table since. */
  private result: AppSummaries | undefined;
  private readonly executors = new Map<string, ExecutorStats>();
  /** Executors by hashBytes of their id, for the byte path; a bucket lists the ids with that hash. */
  private readonly byHash = new Map<number, ExecutorStats[]>();
  /** The executor executorAt found last. */
  private lastExecutor: ExecutorStats | null = null;
  /** Executors whose id is the decimal number (no leading zero) below NUMBERED_EXECUTORS, by that number. */
  private readonly byNumber: (ExecutorStats | undefined)[] = [];

  /** The stage attempt's slot, made on first sight. */
  stage(stageId: number, attemptId: number): number {
    const last = this.lastSlot;
    if (last !== -1) {
      const numbers = this.chunks[last >> CHUNK_BITS]!;
      const at = (last & CHUNK_MASK) * STAGE_STRIDE;
      if (numbers[at + SLOT_ID] === stageId && numbers[at + SLOT_ATTEMPT] === attemptId) return last;
    }
    // A first attempt seen before, by index; anything else in a method of its own, so that the JIT
    // compiles this (inlined into every caller) without paths first taken late (a new stage after
    // hundreds of tasks, a grown table): each threw the compiled code away (issue 15).
    const slot = attemptId === 0 && stageId >>> 0 === stageId ? this.slotOfId[stageId] : undefined;
    this.lastSlot = slot === undefined ? this.newOrOtherStage(stageId, attemptId) : slot;
    return this.lastSlot;
  }

  private newOrOtherStage(stageId: number, attemptId: number): number {
    let slot: number;
    if (attemptId === 0 && stageId >>> 0 === stageId && stageId < this.slotOfId.length + DENSE_GAP) {
      // Made in otherStages while its id was far ahead of the others? It stays there.
      const other = this.otherStages.size === 0 ? undefined : this.otherStages.get(stageId);
      if (other !== undefined && this.isSlotOf(other, stageId, 0)) return other;
      slot = this.newStage(stageId, 0);
      this.slotOfId[stageId] = slot;
    } else {
      const key = stageKey(stageId, attemptId);
      const other = this.otherStages.get(key);
      if (other !== undefined && this.isSlotOf(other, stageId, attemptId)) return other;
      slot = this.newStage(stageId, attemptId);
      this.otherStages.set(key, slot);
    }
    return slot;
  }

  private isSlotOf(slot: number, stageId: number, attemptId: number): boolean {
    return this.idOf(slot) === stageId && this.attemptOf(slot) === attemptId;
  }

  private idOf(slot: number): number {
    return this.chunks[slot >> CHUNK_BITS]![(slot & CHUNK_MASK) * STAGE_STRIDE + SLOT_ID]!;
  }

  private attemptOf(slot: number): number {
    return this.chunks[slot >> CHUNK_BITS]![(slot & CHUNK_MASK) * STAGE_STRIDE + SLOT_ATTEMPT]!;
  }

  private newStage(stageId: number, attemptId: number): number {
    if (this.result !== undefined) throw new Error('a stage event after the summaries were made (SummaryTracker.summaries() comes after the last event)');
    const slot = this.stageCount++;
    const chunk = slot >> CHUNK_BITS;
    const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
    if (chunk === this.chunks.length) this.chunks.push(chunk === 0 ? new Float64Array(FIRST_CHUNK_SLOTS * STAGE_STRIDE) : this.nextChunk());
    else if (at === this.chunks[chunk]!.length) this.growFirstChunk();
    // The rest of the slot is zeros, as the array was made.
    const numbers = this.chunks[chunk]!;
    numbers[at + SLOT_ID] = stageId;
    numbers[at + SLOT_ATTEMPT] = attemptId;
    // Null until known: the times and the duration, the peak, the quantiles.
    numbers[at + SLOT_SUBMITTED] = NaN;
    numbers[at + SLOT_COMPLETED] = NaN;
    numbers[at + SLOT_DURATION] = NaN;
    numbers[at + SLOT_PEAK] = NaN;
    numbers[at + SLOT_MIN] = NaN;
    numbers[at + SLOT_P25] = NaN;
    numbers[at + SLOT_P50] = NaN;
    numbers[at + SLOT_P75] = NaN;
    numbers[at + SLOT_MAX] = NaN;
    numbers[at + FIRST_LAUNCH] = Infinity;
    this.stageNames.push(null);
    return slot;
  }

  /**
   * A chunk after the first: a view of the block of chunks made last, or of a new block when that one
   * is used up (as many chunks as there are so far, up to BLOCK_CHUNKS). A typed array with memory of
   * its own took ~10 us to make in a busy engine (issue 15: most of newStage's time on a 1 GB Spark 3.0
   * log, ~1,170 chunks); a view of a block's memory is a small object.
   */
  private nextChunk(): Float64Array {
    const size = CHUNK_SLOTS * STAGE_STRIDE;
    if (this.blockUsed === this.block.length) {
      this.block = new Float64Array(Math.min(this.chunks.length, BLOCK_CHUNKS) * size);
      this.blockUsed = 0;
    }
    const from = this.blockUsed;
    this.blockUsed = from + size;
    return this.block.subarray(from, from + size);
  }

  /** The first chunk, full below CHUNK_SLOTS slots, made four times as big (see FIRST_CHUNK_SLOTS). */
  private growFirstChunk(): void {
    const full = this.chunks[0]!;
    const grown = new Float64Array(Math.min(full.length * 4, CHUNK_SLOTS * STAGE_STRIDE));
    grown.set(full);
    this.chunks[0] = grown;
  }

  /**
   * Stage attempts a completion was seen for whose id and attempt are plainStage's, and how many of
   * them last completed failed: the record's stage counts with summaries, read from the slots' flags
   * (a map of every attempt besides the slots cost the Spark 3.x shapes more than their stages' names;
   * issue 15). Before or after summaries(), which leaves the flags, ids and attempts as they are.
   */
  completedStages(): { completed: number; failed: number } {
    let completed = 0;
    let failed = 0;
    for (let slot = 0; slot < this.stageCount; slot++) {
      const numbers = this.chunks[slot >> CHUNK_BITS]!;
      const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
      const flags = numbers[at + FLAGS]!;
      if ((flags & STAGE_COMPLETED) === 0 || !plainStage(numbers[at + SLOT_ID]!, numbers[at + SLOT_ATTEMPT]!)) continue;
      completed++;
      if ((flags & STAGE_FAILED) !== 0) failed++;
    }
    return { completed, failed };
  }

  /** Cells a stage attempt's durations take: at most INLINE_DURATIONS in its slot, then its sketch's (tests: bounded; before summaries()). */
  durationCells(stageId: number, attemptId: number): number {
    const slot = this.stage(stageId, attemptId);
    const numbers = this.chunks[slot >> CHUNK_BITS]!;
    const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
    const sketch = numbers[at + SKETCH]!;
    return sketch === 0 ? Math.min(INLINE_DURATIONS, numbers[at + DURATIONS]!) : this.sketches[sketch - 1]!.cells;
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
    // Else, on a cluster, most ids are numbers: "1", "2", ... (the hash below costs more than these few digits).
    let n = 0;
    let i = start;
    if (end - start <= 4 && buf[start] !== 0x30) {
      for (; i < end; i++) {
        const d = buf[i]! - 0x30;
        if (d < 0 || d > 9) break;
        n = n * 10 + d;
      }
    }
    let e: ExecutorStats | undefined;
    if (i === end && i > start && n < NUMBERED_EXECUTORS) {
      e = this.byNumber[n];
      if (e === undefined) {
        e = this.executorByHash(buf, start, end);
        // Filled in order of first sight, so the array stays dense unless ids skip ahead (then still correct).
        this.byNumber[n] = e;
      }
    } else e = this.executorByHash(buf, start, end);
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

  /** One of a job's Stage Infos: an attempt it may run, skipped if never submitted; a stage line's name wins over this one. */
  jobStage(stageId: number, attemptId: number, name: string | null): void {
    const slot = this.stage(stageId, attemptId);
    if (name !== null) this.stageNames[slot] ??= name;
  }

  stageSubmitted(stageId: number, attemptId: number, name: string | null, submittedMs: number | null): void {
    this.stageEvent(stageId, attemptId, name, submittedMs, null, SUBMITTED);
  }

  /** A StageCompleted; the same attempt seen again (a compacted copy) takes its latest outcome. */
  stageCompleted(stageId: number, attemptId: number, name: string | null, submittedMs: number | null, completedMs: number | null, failed: boolean): void {
    this.stageEvent(stageId, attemptId, name, submittedMs, completedMs, failed ? COMPLETED_FAILED : COMPLETED_OK);
  }

  /**
   * A StageSubmitted (`outcome` SUBMITTED, `completedMs` null) or a StageCompleted (COMPLETED_OK or
   * COMPLETED_FAILED). One method for both, called by replay.ts's byte reader directly: the JIT
   * compiles it (and stage(), inlined) once, not once per kind of line (issue 15: the compiling is
   * much of what the summaries cost a 128 MB log).
   */
  stageEvent(stageId: number, attemptId: number, name: string | null, submittedMs: number | null, completedMs: number | null, outcome: number): void {
    const slot = this.stage(stageId, attemptId);
    const numbers = this.chunks[slot >> CHUNK_BITS]!;
    const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
    // A completion replaces the failed bit (its latest outcome); a submission keeps it.
    numbers[at + FLAGS] = (numbers[at + FLAGS]! & (outcome === SUBMITTED ? ~0 : ~STAGE_FAILED)) | outcome;
    if (name !== null) this.stageNames[slot] = name;
    if (submittedMs !== null) numbers[at + SLOT_SUBMITTED] = tableTime(submittedMs);
    if (completedMs !== null) numbers[at + SLOT_COMPLETED] = tableTime(completedMs);
  }

  executorAdded(id: string, host: string | null, cores: number | null, addedMs: number | null): void {
    const e = this.executor(id);
    // Added again after its removal (Spark lets an executor re-register): a new executor, as the
    // History Server makes a new one (AppStatusListener.onExecutorAdded).
    if (e.removed) e.reset();
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
    e.removed = true;
  }

  /**
   * One task end. `values` by TASK_METRIC index (NaN: not in the task's metrics), and at
   * TASK_DURATION its duration. `slot` (from stage()) is -1 and `executor` null when the line does
   * not name them.
   */
  task(slot: number, executor: ExecutorStats | null, outcome: TaskOutcome, values: Float64Array): void {
    const ok = outcome === 'success';
    const failed = outcome === 'failed' || outcome === 'resubmitted';
    // Resubmitted: the History Server already counted this task's metrics at its first end.
    const metrics = outcome !== 'resubmitted';
    // Values not above 0 add nothing: NaN (not written) and Spark's -1 (unknown), as replay.ts's addTask.
    // Counted without branches: a counter first reached after the JIT compiled this (the first failed
    // task, thousands of tasks in) made it throw the compiled code away and compile it again (issue 15).
    const failedOne = failed ? 1 : 0;
    if (slot !== -1) {
      const numbers = this.chunks[slot >> CHUNK_BITS]!;
      const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
      const tasks = numbers[at + SLOT_TASKS]!;
      numbers[at + SLOT_TASKS] = tasks + 1;
      // Ran: said by its first task (the flags are a double; or-ing them costs two conversions a task).
      if (tasks === 0) numbers[at + FLAGS] = numbers[at + FLAGS]! | STAGE_RAN;
      numbers[at + SLOT_FAILED]! += failedOne;
      // NaN (no launch time) is not below anything.
      const launch = values[TASK_LAUNCH]!;
      if (launch < numbers[at + FIRST_LAUNCH]!) numbers[at + FIRST_LAUNCH] = launch;
      numbers[at + SLOT_KILLED]! += outcome === 'killed' ? 1 : 0;
      if (metrics) {
        for (let i = 0; i < PEAK; i++) {
          const v = values[i]!;
          if (v > 0) numbers[at + SUM_CELL[i]!]! += v;
        }
        // The largest task peak (>= 0; NaN and Spark's -1 are not; the slot's NaN is below every one).
        const peak = values[PEAK]!;
        if (peak >= 0 && !(peak <= numbers[at + SLOT_PEAK]!)) numbers[at + SLOT_PEAK] = peak;
      }
      if (ok && values[TASK_DURATION]! >= 0) {
        const n = numbers[at + DURATIONS]!;
        numbers[at + DURATIONS] = n + 1;
        if (n < INLINE_DURATIONS) inlineDuration(numbers, at, n, values);
        else this.sketchOf(numbers, at).addAt(values, TASK_DURATION);
      }
    }
    // A removed executor's task ends (ExecutorLostFailure, Resubmitted, posted after its removal) are
    // not its own any more: the History Server updates live executors only (AppStatusListener.onTaskEnd).
    if (executor !== null && !executor.removed) {
      executor.tasks++;
      executor.failedTasks += failedOne;
      if (metrics) {
        // Only what executorSummary shows: a third of the adds of every metric.
        const sums = executor.sums;
        let v = values[GC_TIME]!;
        if (v > 0) sums[GC_TIME]! += v;
        v = values[REMOTE_READ]!;
        if (v > 0) sums[REMOTE_READ]! += v;
        v = values[LOCAL_READ]!;
        if (v > 0) sums[LOCAL_READ]! += v;
        v = values[SHUFFLE_WRITTEN]!;
        if (v > 0) sums[SHUFFLE_WRITTEN]! += v;
      }
    }
  }

  /** The stage's sketch, made from its inline durations when its durations outgrow them. */
  private sketchOf(numbers: Float64Array, at: number): DurationSketch {
    const index = numbers[at + SKETCH]!;
    if (index !== 0) return this.sketches[index - 1]!;
    const sketch = new DurationSketch();
    // The INLINE_DURATIONS durations so far, sorted, in the cells inlineDuration kept them in (order does not change a sketch).
    // An indexed loop: for-of's iterator is a try block in the code TurboFan inlines this into (task()).
    for (let i = 0; i < FOUR_SORTED.length; i++) sketch.add(numbers[at + FOUR_SORTED[i]!]!);
    this.sketches.push(sketch);
    numbers[at + SKETCH] = this.sketches.length;
    return sketch;
  }

  /**
   * Stage attempts by stage id then attempt; executors in the order first seen, the driver only when
   * alone. Called after the last event: each stage's slot is finished in place as its row of the
   * table (fillStage; no second copy of a log's stages: ~26 MB for the ~150,000 of a 2 GB Spark 3.0 log), so
   * the tracker takes no more events after it; called again, it gives the same summaries.
   */
  summaries(cpuKnown = true): AppSummaries {
    return (this.result ??= this.makeSummaries(cpuKnown));
  }

  /** `cpuKnown`: whether the stages have a CPU time (record/summaries.ts stageCpuKnown, which replay.ts asks of its record); NaN (null) in every row when not. */
  private makeSummaries(cpuKnown: boolean): AppSummaries {
    // First attempts are in id order already (filter skips the holes, in the builtin's loop: a loop
    // here was compiled on the stack and then thrown away); the others (retries, rare) are sorted in
    // among them.
    const slots = this.slotOfId.filter(isSlot);
    if (this.otherStages.size > 0) {
      for (const slot of this.otherStages.values()) slots.push(slot);
      slots.sort((a, b) => this.idOf(a) - this.idOf(b) || this.attemptOf(a) - this.attemptOf(b));
    }
    // A table (record/stageTable.ts), no object per stage: its rows are made only when read, and the
    // store encodes the table as it is (issue 15: a 1 GB Spark 3.0 log's 75,000 stage objects were
    // ~30 MB of heap made cold at the end). forEach's loop is the builtin's: no loop here for the
    // JIT to compile on the stack (OSR) and then discard; it calls fillStage with its context as
    // `this` (through an arrow the JIT compiled the callee twice, alone and inlined).
    const count = slots.length;
    const context: TableContext = {
      chunks: this.chunks,
      names: this.stageNames,
      sketches: this.sketches,
      scratch: [],
      cpuKnown,
      outNames: new Array<string | null>(count),
      statuses: new Array<StageStatus>(count),
      rows: new Int32Array(count),
    };
    slots.forEach(fillStage, context);
    // The last chunk cut to the slots used: a small log's table would otherwise carry its whole first
    // chunk (64 slots, 13.8 KB) to the main thread and the store's journal, per log (10,000 small logs:
    // 313-327 -> 500-520 MB peak before this).
    const chunks = [...this.chunks];
    const last = chunks.length - 1;
    const used = (this.stageCount - (last << CHUNK_BITS)) * STAGE_STRIDE;
    if (last >= 0 && used < chunks[last]!.length) chunks[last] = chunks[last]!.slice(0, used);
    // The slots are rows now: a later event would read and write them as slots. None may come (newStage throws).
    this.lastSlot = -1;
    this.slotOfId.length = 0;
    this.otherStages.clear();
    const all = [...this.executors.values()];
    const workers = all.filter((e) => !isDriver(e.id));
    const table = { count, chunks, chunkBits: CHUNK_BITS, stride: STAGE_STRIDE, rows: context.rows, names: context.outNames, statuses: context.statuses };
    return tableSummaries(table, (workers.length > 0 ? workers : all).map(executorSummary));
  }
}

function stageStatus(flags: number): StageStatus {
  if ((flags & STAGE_COMPLETED) !== 0) return (flags & STAGE_FAILED) !== 0 ? 'failed' : 'complete';
  return (flags & STAGE_RAN) !== 0 ? 'active' : 'skipped';
}

/** stageStatus by a slot's flags (STAGE_RAN | STAGE_COMPLETED | STAGE_FAILED): one load per stage at the end. */
const STATUS_OF_FLAGS: readonly StageStatus[] = Array.from({ length: 8 }, (_, flags) => stageStatus(flags));

/**
 * inlineDuration's durations to sort, shared by every tracker of a thread: used only within one
 * synchronous call. A typed array is memory of its own (off the heap), ~1-2 us to make and more to
 * collect, per log: 10,000 small logs made 20,000 of them (issue #12).
 */
const FEW = new Float64Array(INLINE_DURATIONS);
/** Where a slot of INLINE_DURATIONS durations has them, sorted (see inlineDuration). */
const FOUR_SORTED = [SLOT_MIN, SLOT_P25, SLOT_P50, SLOT_MAX] as const;

/**
 * Adds values[TASK_DURATION] (a successful task's duration, >= 0) to the slot at `at` of `numbers`,
 * which has n < INLINE_DURATIONS durations: its quantile cells (SLOT_MIN to SLOT_MAX) are rewritten
 * as the quantiles of the n + 1, AppStatusStore.taskSummary's value at index floor(q * (n + 1)), as
 * quantilesOf. Up to four sorted values are each one of those cells, so no other cell keeps them:
 * for n = 1 the min; 2: min, max; 3: min, p50, max; 4: min, p25, p50, max (FOUR_SORTED).
 */
function inlineDuration(numbers: Float64Array, at: number, n: number, values: Float64Array): void {
  const ms = values[TASK_DURATION]!;
  const few = FEW;
  if (n > 0) few[0] = numbers[at + SLOT_MIN]!;
  if (n === 2) few[1] = numbers[at + SLOT_MAX]!;
  else if (n === 3) {
    few[1] = numbers[at + SLOT_P50]!;
    few[2] = numbers[at + SLOT_MAX]!;
  }
  let j = n - 1;
  for (; j >= 0 && few[j]! > ms; j--) few[j + 1] = few[j]!;
  few[j + 1] = ms;
  // floor(q * k) for k <= 4 durations: k >> 2, k >> 1 and (3 * k) >> 2.
  const k = n + 1;
  numbers[at + SLOT_MIN] = few[0]!;
  numbers[at + SLOT_P25] = few[k >> 2]!;
  numbers[at + SLOT_P50] = few[k >> 1]!;
  numbers[at + SLOT_P75] = few[(3 * k) >> 2]!;
  numbers[at + SLOT_MAX] = few[n]!;
}

/** What fillStage uses besides its slot, for every stage of a summaries() call. */
interface TableContext {
  /** SummaryTracker's stage slots, names and sketches. */
  readonly chunks: readonly Float64Array[];
  readonly names: readonly (string | null)[];
  readonly sketches: readonly DurationSketch[];
  /** Arrays to sort a sketch's exact durations in (DurationSketch.quantiles). */
  readonly scratch: (Float64Array | undefined)[];
  /** Whether Spark measured CPU time (summaries()): else every row's is NaN, none. */
  readonly cpuKnown: boolean;
  readonly outNames: (string | null)[];
  readonly statuses: StageStatus[];
  /** The table's rows: the slot of each entry. */
  readonly rows: Int32Array;
}

/**
 * Entry `entry` of the table: the stage attempt in `slot`, whose slot is its row already but for the
 * few cells made here (see STAGE_STRIDE): a few loads and stores per stage, cold at the end.
 */
function fillStage(this: TableContext, slot: number, entry: number): void {
  const m = this.chunks[slot >> CHUNK_BITS]!;
  const at = (slot & CHUNK_MASK) * STAGE_STRIDE;
  m[at + SLOT_SHUFFLE_READ]! += m[at + LOCAL_READ_SUM]!;
  // From its first task's launch to its completion, as the History Server's stage table measures it
  // (StageTable.scala: the submission time counts the wait for executors, SPARK-10930); from its
  // submission when no task end gave a launch time. NaN when either end is unknown or they cross.
  const first = m[at + FIRST_LAUNCH]!;
  const from = first < Infinity ? tableTime(first) : m[at + SLOT_SUBMITTED]!;
  const completed = m[at + SLOT_COMPLETED]!;
  m[at + SLOT_DURATION] = completed >= from ? completed - from : Number.NaN;
  // Executor CPU Time is nanoseconds (DESIGN.md §2), as the History Server's executorCpuTime; none
  // where Spark never measured it (a sum of no value is 0, not a measured 0 ms).
  m[at + SLOT_CPU] = this.cpuKnown ? Math.floor(m[at + SLOT_CPU]! / 1e6) : Number.NaN;
  const sketch = m[at + SKETCH]!;
  if (sketch !== 0) sketchQuantiles(m, at, this.sketches[sketch - 1]!, this.scratch);
  this.rows[entry] = slot;
  this.outNames[entry] = this.names[slot] ?? null;
  const status = STATUS_OF_FLAGS[m[at + FLAGS]!]!;
  // Completed without ever having a submission time or a task: the History Server's SKIPPED
  // (AppStatusListener.onStageCompleted). DAGScheduler posts such a stage when it has no partitions to compute.
  this.statuses[entry] = status === 'complete' && Number.isNaN(m[at + SLOT_SUBMITTED]!) && m[at + SLOT_TASKS] === 0 ? 'skipped' : status;
}

/** The quantile cells of the slot at `at` of `m`, from its sketch (a stage of more than INLINE_DURATIONS durations). */
function sketchQuantiles(m: Float64Array, at: number, sketch: DurationSketch, scratch: (Float64Array | undefined)[]): void {
  const q = sketch.quantiles(scratch)!;
  m[at + SLOT_MIN] = q.min;
  m[at + SLOT_P25] = q.p25;
  m[at + SLOT_P50] = q.p50;
  m[at + SLOT_P75] = q.p75;
  m[at + SLOT_MAX] = q.max;
}

function executorSummary(e: ExecutorStats): ExecutorSummary {
  return {
    executor_id: e.id,
    host: e.host,
    total_cores: e.cores,
    add_time: isoTime(e.addedMs),
    remove_time: isoTime(e.removedMs),
    remove_reason: e.removeReason,
    total_tasks: e.tasks,
    failed_tasks: e.failedTasks,
    gc_time_ms: e.sums[TASK_METRIC.gcTime]!,
    shuffle_read_bytes: e.sums[TASK_METRIC.remoteRead]! + e.sums[TASK_METRIC.localRead]!,
    shuffle_write_bytes: e.sums[TASK_METRIC.shuffleWritten]!,
  };
}
