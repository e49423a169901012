/**
 * Stage attempts as a table: what the event-log engine gives (issue 15), so that an application of
 * tens of thousands of stages costs no object per stage until someone reads them as StageSummary
 * rows. A 1 GB Spark 3.x log of ~75,000 stages held ~45 MB of StageSummary objects, their ISO time
 * texts and quantile objects, made cold after the parse, and the store then parsed those texts back
 * into milliseconds to encode them (BENCHMARKS.md, issue 15). The store encodes a table directly
 * (storage/summaryCodec.ts); views, the CLI and the tests read `stages` as ever, built on first read.
 *
 * A table's entries are rows of numbers (STAGE_NUMBERS, NaN for null, times as epoch ms) in chunks of
 * Float64Arrays, with each entry's name and status beside them. The engine rewrites its tracker's stage
 * slots in place as the rows (eventlog/summaries.ts), so a log's stages are never held twice: rows are
 * `stride` doubles apart (its slots are wider than STAGE_NUMBERS), and `rows` lists the row of each
 * entry in key order. Summaries cross a worker boundary as the store's text (summariesWire.ts).
 */
import { IsoTimes, timeFault } from '../record';
import { QUANTILES, STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageStatus, type StageSummary, type TaskDurationQuantiles } from './summaries';

/** A table row's numbers, in order; NaN where the summary holds null. Times are epoch ms. */
export const STAGE_NUMBERS = [
  'stage_id',
  'attempt_id',
  'submission_ms',
  'completion_ms',
  'duration_ms',
  ...STAGE_COUNTERS,
  'peak_execution_memory_bytes',
  'task_min_ms',
  'task_p25_ms',
  'task_p50_ms',
  'task_p75_ms',
  'task_max_ms',
] as const;
export type StageNumber = (typeof STAGE_NUMBERS)[number];

/** Where each of STAGE_NUMBERS is in a row. */
export const AT = Object.fromEntries(STAGE_NUMBERS.map((k, i) => [k, i])) as { readonly [K in StageNumber]: number };
export const STAGE_STRIDE = STAGE_NUMBERS.length;

/** Where each of QUANTILES is in a row. */
export const QUANTILE_AT = [AT.task_min_ms, AT.task_p25_ms, AT.task_p50_ms, AT.task_p75_ms, AT.task_max_ms] as const;

export interface StageTable {
  /** Stage attempts (entries), by (stage_id, attempt_id), each once. */
  readonly count: number;
  /** The rows: row r in chunks[r >> chunkBits], from (r & (2^chunkBits - 1)) * stride, STAGE_NUMBERS in order. */
  readonly chunks: readonly Float64Array[];
  readonly chunkBits: number;
  /** Doubles from a row to the next (STAGE_STRIDE or more). */
  readonly stride: number;
  /** The row of each entry; null: entry i is row i. */
  readonly rows: Int32Array | null;
  /** By entry. */
  readonly names: readonly (string | null)[];
  readonly statuses: readonly StageStatus[];
}

/**
 * A time as a table holds it: epoch ms, or NaN for none and for any time isoTime refuses (timeFault),
 * so that a table and its rows say the same (the engine writes its times through this).
 */
export function tableTime(ms: number): number {
  return Number.isNaN(ms) || timeFault(ms) !== null ? Number.NaN : ms;
}

/** A table's number as a summary field holds it: NaN is null. */
export function nullIfNaN(v: number): number | null {
  return Number.isNaN(v) ? null : v;
}

/** Entry i's number at `at` (one of AT's). */
export function cellOf(t: StageTable, i: number, at: number): number {
  const r = t.rows === null ? i : t.rows[i]!;
  return t.chunks[r >> t.chunkBits]![(r & ((1 << t.chunkBits) - 1)) * t.stride + at]!;
}

/** Where tableSummaries keeps the table on its summaries: a symbol, not enumerable, so that equality, JSON and structured clone see none. */
const TABLE = Symbol('stage table');
type WithTable = AppSummaries & { [TABLE]?: StageTable };

/** Entry i's number at `at`, or null for NaN. */
function numberOrNull(t: StageTable, i: number, at: number): number | null {
  return nullIfNaN(cellOf(t, i, at));
}

/** Entry `i` of `t` as a StageSummary (`times`: one IsoTimes for the rows made together). */
export function stageRow(t: StageTable, i: number, times = new IsoTimes()): StageSummary {
  const quantiles = Number.isNaN(cellOf(t, i, AT.task_min_ms)) ? null : (Object.fromEntries(QUANTILES.map((q, k) => [q, cellOf(t, i, QUANTILE_AT[k]!)])) as unknown as TaskDurationQuantiles);
  const row: Record<string, unknown> = {
    stage_id: cellOf(t, i, AT.stage_id),
    attempt_id: cellOf(t, i, AT.attempt_id),
    name: t.names[i] ?? null,
    status: t.statuses[i]!,
    submission_time: times.of(numberOrNull(t, i, AT.submission_ms)),
    completion_time: times.of(numberOrNull(t, i, AT.completion_ms)),
    duration_ms: numberOrNull(t, i, AT.duration_ms),
  };
  for (const c of STAGE_COUNTERS) row[c] = cellOf(t, i, AT[c]);
  // NaN where Spark never measured it (stageCpuKnown).
  row.cpu_time_ms = numberOrNull(t, i, AT.cpu_time_ms);
  row.peak_execution_memory_bytes = numberOrNull(t, i, AT.peak_execution_memory_bytes);
  row.task_duration_ms = quantiles;
  return row as unknown as StageSummary;
}

/** Every row of `t`, in order. */
export function stageRows(t: StageTable): StageSummary[] {
  const times = new IsoTimes();
  return Array.from({ length: t.count }, (_, i) => stageRow(t, i, times));
}

/**
 * Summaries whose stages are `table`: `stages` is made from it when first read (and kept; setting it
 * drops the table), so that a caller that only stores them (stageTableOf) makes no row at all.
 * `stages` is an own enumerable property before `executors`, as in a plain AppSummaries, so that
 * equality, spreading and JSON see the same object. The rows are read from the table: a store keeps
 * the table, so a change made to a row in place is not kept (nothing does that; set `stages` instead).
 */
export function tableSummaries(table: StageTable, executors: ExecutorSummary[]): AppSummaries {
  let rows: StageSummary[] | undefined;
  const s = {} as AppSummaries;
  Object.defineProperty(s, 'stages', {
    enumerable: true,
    configurable: true,
    get: () => (rows ??= stageRows(table)),
    set: (v: StageSummary[]) => {
      rows = v;
      delete (s as WithTable)[TABLE];
    },
  });
  s.executors = executors;
  Object.defineProperty(s, TABLE, { value: table, enumerable: false, configurable: true });
  return s;
}

/** The table `s` was made from (tableSummaries), while its stages were not replaced; undefined for any other summaries. */
export function stageTableOf(s: AppSummaries): StageTable | undefined {
  return (s as WithTable)[TABLE];
}

