/**
 * An application attempt's stage and executor summaries (collectors/record/summaries.ts) as one
 * compact text, and back: what the store keeps per attempt (migration 6, summaries.ts deflates the
 * texts of several attempts together). Pure (no database, no compression), so that another store (a
 * shared PostgreSQL one, issue 17) can keep the same texts.
 *
 * The text is a JSON array of columns rather than objects, so that field names are not repeated and
 * like values sit together for deflate:
 *
 *     [FORMAT, t0, stage count, stage columns, executor count, executor columns]
 *
 * Stage columns: stage_id (step), attempt_id, name (text), status (text), submission_time and
 * completion_time (time), then STAGE_PLAIN, then the five task-duration quantiles (all null: no
 * ended task). Executor columns: executor_id, host (text), add_time, remove_time (time),
 * remove_reason (text), then EXECUTOR_PLAIN. A decoder reads a column missing at the end as null,
 * so a later format may append fields. A column is one of:
 * - plain: the values as they are (counters, bytes: mostly distinct, nothing to gain);
 * - step: differences from the previous value (stage ids, ascending), or `{"raw": [...]}` when a
 *   value is not a safe integer;
 * - text: `[distinct values, index of each]` (names, statuses, hosts repeat);
 * - time: ISO-8601 times as milliseconds from a reference the decoder can rebuild (`t0`, the
 *   previous time of the column, the same row's other time); a text that `toISOString` would not
 *   give back exactly is kept as text, so every value reads back as it was given.
 * A stage's completion is kept as its distance from submission + duration (0 for Spark's own
 * figures), an executor's removal from its addition.
 *
 * Stages are kept by (stage_id, attempt_id), executors by numeric id (compareExecutorIds), each key
 * once (the last given wins, as INSERT OR REPLACE did with rows): the order `summariesOf` returns.
 */
import { AT, STAGE_STRIDE, stageTableOf, type StageTable } from '../collectors/record/stageTable';
import { STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageStatus, type StageSummary, type TaskDurationQuantiles } from '../collectors/record/summaries';

/** Bumped when the layout changes in a way an older decoder would misread. */
const FORMAT = 1;

/** Stage columns kept as they are, in their order after the times (see above). */
const STAGE_PLAIN = ['duration_ms', ...STAGE_COUNTERS, 'peak_execution_memory_bytes'] as const satisfies readonly (keyof StageSummary)[];
const QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const satisfies readonly (keyof TaskDurationQuantiles)[];
const EXECUTOR_PLAIN = ['total_cores', 'total_tasks', 'failed_tasks', 'gc_time_ms', 'shuffle_read_bytes', 'shuffle_write_bytes'] as const satisfies readonly (keyof ExecutorSummary)[];

type Json = null | number | string | Json[] | { raw: Json[] };

/** Executors by numeric id ("2" before "10"), then any other id ("driver") by text. */
export function compareExecutorIds(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Number.NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : Number.NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb || (a < b ? -1 : a > b ? 1 : 0);
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** In key order (`order`), each key once: the last one given (the sort is stable, so equal keys stay in the order given). */
function lastByKey<T>(items: readonly T[], order: (a: T, b: T) => number): T[] {
  const sorted = [...items].sort(order);
  return sorted.filter((item, i) => i + 1 === sorted.length || order(item, sorted[i + 1]!) !== 0);
}

const DAY_MS = 86_400_000;
const PAD2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const PAD3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** The digit at `i` of `text`, or NaN. */
function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

/**
 * ISO-8601 times and their milliseconds, without a Date per time: an attempt with 2,000 stages has
 * 4,000 stage times, mostly on a day or two, and Date.parse + toISOString per time were half of the
 * encoding's time. The date part (`2024-05-06T`) is checked, or made, by a Date once per day.
 */
class IsoDays {
  /** Days since 1970 of `prefix`. */
  private day = Number.NaN;
  private prefix = '';

  /** The milliseconds of a time that `toISOString` gives back exactly (`YYYY-MM-DDTHH:MM:SS.mmmZ`); null for any other text (kept as text). */
  ms(text: string | null): number | null {
    if (text === null) return null;
    if (text.length !== 24 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return this.slowMs(text);
    if (this.prefix.length !== 11 || !text.startsWith(this.prefix)) {
      const date = text.slice(0, 11);
      const day = Date.parse(`${date}00:00:00.000Z`);
      // 2024-02-30 parses as March 1st: not a text toISOString gives.
      if (!Number.isFinite(day) || new Date(day).toISOString().slice(0, 11) !== date) return this.slowMs(text);
      this.day = day / DAY_MS;
      this.prefix = date;
    }
    const hours = digit(text, 11) * 10 + digit(text, 12);
    const minutes = digit(text, 14) * 10 + digit(text, 15);
    const seconds = digit(text, 17) * 10 + digit(text, 18);
    const milli = digit(text, 20) * 100 + digit(text, 21) * 10 + digit(text, 22);
    // NaN (not a digit) fails these too.
    if (!(hours <= 23 && minutes <= 59 && seconds <= 59 && milli >= 0)) return null;
    return this.day * DAY_MS + ((hours * 60 + minutes) * 60 + seconds) * 1000 + milli;
  }

  private slowMs(text: string): number | null {
    const ms = Date.parse(text);
    return Number.isFinite(ms) && new Date(ms).toISOString() === text ? ms : null;
  }

  /** toISOString of `ms`. */
  iso(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      const iso = new Date(ms).toISOString(); // throws RangeError beyond ±8.64e15 ms, as it would
      this.day = day;
      this.prefix = iso.slice(0, iso.indexOf('T') + 1);
    }
    let rest = ms - day * DAY_MS;
    const hours = Math.floor(rest / 3_600_000);
    rest -= hours * 3_600_000;
    const minutes = Math.floor(rest / 60_000);
    rest -= minutes * 60_000;
    const seconds = Math.floor(rest / 1000);
    return `${this.prefix}${PAD2[hours]!}:${PAD2[minutes]!}:${PAD2[seconds]!}.${PAD3[rest - seconds * 1000]!}Z`;
  }
}

function step(values: readonly number[]): Json {
  if (!values.every(Number.isSafeInteger)) return { raw: [...values] };
  let previous = 0;
  return values.map((v) => {
    const d = v - previous;
    previous = v;
    return d;
  });
}

function unstep(column: Json | undefined, n: number): number[] {
  if (column !== undefined && column !== null && !Array.isArray(column) && typeof column === 'object') return column.raw as number[];
  const deltas = (column ?? []) as number[];
  let previous = 0;
  return Array.from({ length: n }, (_, i) => (previous += deltas[i] ?? 0));
}

function text(values: readonly (string | null)[]): Json {
  const index = new Map<string | null, number>();
  const at = values.map((v) => {
    let i = index.get(v);
    if (i === undefined) index.set(v, (i = index.size));
    return i;
  });
  return [[...index.keys()], at];
}

function untext(column: Json | undefined, n: number): (string | null)[] {
  if (!Array.isArray(column)) return new Array<null>(n).fill(null);
  const [values, at] = column as [(string | null)[], number[]];
  return Array.from({ length: n }, (_, i) => values[at[i]!] ?? null);
}

/** A time as milliseconds from `ref`; its text (or null) where it is not one toISOString gives. */
function time(value: string | null, ms: number | null, ref: number): Json {
  return ms === null ? value : ms - ref;
}

function untime(days: IsoDays, v: Json | undefined, ref: number): { iso: string | null; ms: number | null } {
  if (typeof v === 'number') {
    const ms = ref + v;
    return { iso: days.iso(ms), ms };
  }
  return { iso: typeof v === 'string' ? v : null, ms: null };
}

function plain<T>(rows: readonly T[], field: keyof T): Json[] {
  return rows.map((r) => r[field] as Json);
}

function column(columns: readonly Json[], i: number, n: number): Json[] {
  const c = columns[i];
  return Array.isArray(c) ? c : new Array<null>(n).fill(null);
}

/**
 * The stage columns encodeSummaries writes, before times become offsets: from StageSummary rows or
 * straight from a stage table (stageTable.ts; the event-log engine's, no row made), in key order.
 * A time is its milliseconds, or (ms null) its text when it is not one toISOString gives.
 */
interface StageColumns {
  readonly n: number;
  readonly ids: number[];
  readonly attempts: Json[];
  readonly names: (string | null)[];
  readonly statuses: (string | null)[];
  readonly submittedMs: (number | null)[];
  readonly submittedText: (string | null)[];
  readonly completedMs: (number | null)[];
  readonly completedText: (string | null)[];
  /** STAGE_PLAIN's columns, then QUANTILES'. */
  readonly plain: Json[][];
}

function rowColumns(rows: readonly StageSummary[], days: IsoDays): StageColumns {
  const stages = lastByKey(rows, (a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id);
  return {
    n: stages.length,
    ids: stages.map((s) => s.stage_id),
    attempts: plain(stages, 'attempt_id'),
    names: stages.map((s) => s.name),
    statuses: stages.map((s) => s.status),
    submittedMs: stages.map((s) => days.ms(s.submission_time)),
    submittedText: stages.map((s) => s.submission_time),
    completedMs: stages.map((s) => days.ms(s.completion_time)),
    completedText: stages.map((s) => s.completion_time),
    plain: [...STAGE_PLAIN.map((f) => plain(stages, f)), ...QUANTILES.map((q) => stages.map((s) => (s.task_duration_ms ? s.task_duration_ms[q] : null)))],
  };
}

/** A table's cell as a summary field holds it: NaN is null. */
const cell = (v: number): number | null => (Number.isNaN(v) ? null : v);

function tableColumns(t: StageTable): StageColumns {
  const m = t.numbers;
  // The engine gives its rows in key order, each key once; any other table is put so, the last row of a key kept.
  let order = Array.from({ length: t.count }, (_, i) => i);
  const key = (i: number, j: number): number => m[i * STAGE_STRIDE + AT.stage_id]! - m[j * STAGE_STRIDE + AT.stage_id]! || m[i * STAGE_STRIDE + AT.attempt_id]! - m[j * STAGE_STRIDE + AT.attempt_id]!;
  if (order.some((i) => i > 0 && key(i - 1, i) >= 0)) order = lastByKey(order, key);
  const numbers = (at: number): (number | null)[] => order.map((i) => cell(m[i * STAGE_STRIDE + at]!));
  const none = (): null[] => new Array<null>(order.length).fill(null);
  return {
    n: order.length,
    ids: order.map((i) => m[i * STAGE_STRIDE + AT.stage_id]!),
    attempts: numbers(AT.attempt_id),
    names: order.map((i) => t.names[i] ?? null),
    statuses: order.map((i) => t.statuses[i]!),
    submittedMs: numbers(AT.submission_ms),
    submittedText: none(),
    completedMs: numbers(AT.completion_ms),
    completedText: none(),
    plain: [...STAGE_PLAIN.map((f) => numbers(AT[f])), ...TABLE_QUANTILES.map((at) => numbers(at))],
  };
}

/** Where QUANTILES are in a table row. */
const TABLE_QUANTILES = [AT.task_min_ms, AT.task_p25_ms, AT.task_p50_ms, AT.task_p75_ms, AT.task_max_ms];

/** The summaries as text; `decodeSummaries` gives them back in summariesOf's order. */
export function encodeSummaries(summaries: AppSummaries): string {
  const days = new IsoDays();
  const table = stageTableOf(summaries);
  const stages = table === undefined ? rowColumns(summaries.stages, days) : tableColumns(table);
  const executors = lastByKey(summaries.executors, (a, b) => compareExecutorIds(a.executor_id, b.executor_id));
  const added = executors.map((e) => days.ms(e.add_time));
  const removed = executors.map((e) => days.ms(e.remove_time));
  let t0 = Infinity;
  for (const times of [stages.submittedMs, stages.completedMs, added, removed]) for (const ms of times) if (ms !== null && ms < t0) t0 = ms;
  if (t0 === Infinity) t0 = 0;

  let previous = t0;
  const submission = stages.submittedMs.map((ms, i) => {
    const v = time(stages.submittedText[i]!, ms, previous);
    previous = ms ?? previous;
    return v;
  });
  const durations = stages.plain[0] as (number | null)[];
  const completion = stages.completedMs.map((ms, i) => time(stages.completedText[i]!, ms, completionRef(stages.submittedMs[i]!, durations[i]!, t0)));
  const stageColumns: Json[] = [step(stages.ids), stages.attempts, text(stages.names), text(stages.statuses), submission, completion, ...stages.plain];

  previous = t0;
  const addition = executors.map((e, i) => {
    const v = time(e.add_time, added[i]!, previous);
    previous = added[i] ?? previous;
    return v;
  });
  const executorColumns: Json[] = [
    text(executors.map((e) => e.executor_id)),
    text(executors.map((e) => e.host)),
    addition,
    executors.map((e, i) => time(e.remove_time, removed[i]!, added[i] ?? t0)),
    text(executors.map((e) => e.remove_reason)),
    ...EXECUTOR_PLAIN.map((f) => plain(executors, f)),
  ];
  return JSON.stringify([FORMAT, t0, stages.n, stageColumns, executors.length, executorColumns]);
}

/** Where a completion time is counted from: submission + duration when both are known. */
function completionRef(submittedMs: number | null, duration: number | null, t0: number): number {
  if (submittedMs === null) return t0;
  return submittedMs + (duration !== null && Number.isSafeInteger(duration) ? duration : 0);
}

export class SummaryTextError extends Error {}

/** The summaries `text` holds. Throws SummaryTextError for a text of a newer format or not of encodeSummaries. */
export function decodeSummaries(text: string): AppSummaries {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new SummaryTextError(`not stage and executor summaries (${(err as Error).message})`);
  }
  if (!Array.isArray(parsed) || ![0, 1, 2, 4].every((i) => typeof parsed[i] === 'number')) throw new SummaryTextError('not stage and executor summaries');
  const [format, t0, nStages, stageColumns, nExecutors, executorColumns] = parsed as [number, number, number, Json[], number, Json[]];
  if (format > FORMAT) throw new SummaryTextError(`summaries in format ${format}, written by a newer Spark Optimizer (this one reads up to ${FORMAT})`);
  const days = new IsoDays();
  return { stages: decodeStages(days, stageColumns, nStages, t0), executors: decodeExecutors(days, executorColumns, nExecutors, t0) };
}

function decodeStages(days: IsoDays, columns: readonly Json[], n: number, t0: number): StageSummary[] {
  const ids = unstep(columns[0], n);
  const attempts = column(columns, 1, n) as number[];
  const names = untext(columns[2], n);
  const statuses = untext(columns[3], n) as StageStatus[];
  const submission = column(columns, 4, n);
  const completion = column(columns, 5, n);
  // STAGE_PLAIN's columns, then the quantiles'.
  const [duration, numTasks, failed, killed, input, output, shuffleRead, shuffleWrite, memorySpilled, diskSpilled, runTime, cpu, gc, peak, qMin, q25, q50, q75, qMax] = Array.from(
    { length: STAGE_PLAIN.length + QUANTILES.length },
    (_, k) => column(columns, 6 + k, n),
  ) as (number | null)[][];
  const out: StageSummary[] = new Array<StageSummary>(n);
  let previous = t0;
  for (let i = 0; i < n; i++) {
    const submitted = untime(days, submission[i], previous);
    previous = submitted.ms ?? previous;
    const completed = untime(days, completion[i], completionRef(submitted.ms, duration![i]!, t0));
    const min = qMin![i];
    // Field order as summaries.ts declares it: `show --format json` prints the objects as they are.
    out[i] = {
      stage_id: ids[i]!,
      attempt_id: attempts[i]!,
      name: names[i]!,
      status: statuses[i]!,
      submission_time: submitted.iso,
      completion_time: completed.iso,
      duration_ms: duration![i]!,
      num_tasks: numTasks![i]!,
      failed_tasks: failed![i]!,
      killed_tasks: killed![i]!,
      input_bytes: input![i]!,
      output_bytes: output![i]!,
      shuffle_read_bytes: shuffleRead![i]!,
      shuffle_write_bytes: shuffleWrite![i]!,
      memory_spilled_bytes: memorySpilled![i]!,
      disk_spilled_bytes: diskSpilled![i]!,
      executor_run_time_ms: runTime![i]!,
      cpu_time_ms: cpu![i]!,
      gc_time_ms: gc![i]!,
      peak_execution_memory_bytes: peak![i]!,
      task_duration_ms: min === null || min === undefined ? null : { min, p25: q25![i]!, p50: q50![i]!, p75: q75![i]!, max: qMax![i]! },
    };
  }
  return out;
}

function decodeExecutors(days: IsoDays, columns: readonly Json[], n: number, t0: number): ExecutorSummary[] {
  const ids = untext(columns[0], n);
  const hosts = untext(columns[1], n);
  const addition = column(columns, 2, n);
  const removal = column(columns, 3, n);
  const reasons = untext(columns[4], n);
  const counters = EXECUTOR_PLAIN.map((_, k) => column(columns, 5 + k, n));
  const out: ExecutorSummary[] = new Array<ExecutorSummary>(n);
  let previous = t0;
  for (let i = 0; i < n; i++) {
    const added = untime(days, addition[i], previous);
    previous = added.ms ?? previous;
    const removed = untime(days, removal[i], added.ms ?? t0);
    out[i] = {
      executor_id: ids[i]!,
      host: hosts[i]!,
      total_cores: counters[0]![i] as number | null,
      add_time: added.iso,
      remove_time: removed.iso,
      remove_reason: reasons[i]!,
      total_tasks: counters[1]![i] as number,
      failed_tasks: counters[2]![i] as number,
      gc_time_ms: counters[3]![i] as number,
      shuffle_read_bytes: counters[4]![i] as number,
      shuffle_write_bytes: counters[5]![i] as number,
    };
  }
  return out;
}
