/**
 * Stage attempts as a table: what the event-log engine gives (issue 15), so that an application of
 * tens of thousands of stages costs no object per stage until someone reads them as StageSummary
 * rows. A 1 GB Spark 3.x log of ~75,000 stages held ~45 MB of StageSummary objects, their ISO time
 * texts and quantile objects, made cold after the parse, and the store then parsed those texts back
 * into milliseconds to encode them (BENCHMARKS.md, issue 15). The store encodes a table directly
 * (storage/summaryCodec.ts); views, the CLI and the tests read `stages` as ever, built on first read.
 *
 * A table row is STAGE_STRIDE doubles in one Float64Array (STAGE_NUMBERS, NaN for null, times as
 * epoch ms), its name and status beside it. It crosses a worker boundary as it is (`toWire`): a typed
 * array is copied as one block by structured clone, where rows would be cloned object by object.
 */
import { isoTime } from '../record';
import { STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageStatus, type StageSummary, type TaskDurationQuantiles } from './summaries';

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

const QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const satisfies readonly (keyof TaskDurationQuantiles)[];
const QUANTILE_AT = [AT.task_min_ms, AT.task_p25_ms, AT.task_p50_ms, AT.task_p75_ms, AT.task_max_ms] as const;

export interface StageTable {
  /** Stage attempts, by (stage_id, attempt_id), each once. */
  readonly count: number;
  /** count * STAGE_STRIDE numbers (more cells may follow them, unused). */
  readonly numbers: Float64Array;
  readonly names: readonly (string | null)[];
  readonly statuses: readonly StageStatus[];
}

/** The tables of summaries made by tableSummaries, by the summaries object (no property of theirs, so equality and JSON see none). */
const TABLES = new WeakMap<AppSummaries, StageTable>();

/** The number at `at` of row `i`, or null for NaN. */
function numberOrNull(t: StageTable, i: number, at: number): number | null {
  const v = t.numbers[i * STAGE_STRIDE + at]!;
  return Number.isNaN(v) ? null : v;
}

/** Row `i` of `t` as a StageSummary. */
export function stageRow(t: StageTable, i: number): StageSummary {
  const m = t.numbers;
  const at = i * STAGE_STRIDE;
  const quantiles = Number.isNaN(m[at + AT.task_min_ms]!) ? null : (Object.fromEntries(QUANTILES.map((q, k) => [q, m[at + QUANTILE_AT[k]!]!])) as unknown as TaskDurationQuantiles);
  const row: Record<string, unknown> = {
    stage_id: m[at + AT.stage_id]!,
    attempt_id: m[at + AT.attempt_id]!,
    name: t.names[i] ?? null,
    status: t.statuses[i]!,
    submission_time: isoTime(numberOrNull(t, i, AT.submission_ms)),
    completion_time: isoTime(numberOrNull(t, i, AT.completion_ms)),
    duration_ms: numberOrNull(t, i, AT.duration_ms),
  };
  for (const c of STAGE_COUNTERS) row[c] = m[at + AT[c]]!;
  row.peak_execution_memory_bytes = numberOrNull(t, i, AT.peak_execution_memory_bytes);
  row.task_duration_ms = quantiles;
  return row as unknown as StageSummary;
}

/** Every row of `t`, in order. */
export function stageRows(t: StageTable): StageSummary[] {
  return Array.from({ length: t.count }, (_, i) => stageRow(t, i));
}

/**
 * Summaries whose stages are `table`: `stages` is made from it when first read (and kept; setting it
 * drops the table), so that a caller that only stores them (stageTableOf) makes no row at all.
 * `stages` is an own enumerable property before `executors`, as in a plain AppSummaries, so that
 * equality, spreading and JSON see the same object.
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
      TABLES.delete(s);
    },
  });
  s.executors = executors;
  TABLES.set(s, table);
  return s;
}

/** The table `s` was made from (tableSummaries), while its stages were not replaced; undefined for any other summaries. */
export function stageTableOf(s: AppSummaries): StageTable | undefined {
  return TABLES.get(s);
}

/** Summaries as they cross a worker boundary: a table as it is (one typed array), other summaries as they are. */
export type WireSummaries = AppSummaries | { table: StageTable; executors: ExecutorSummary[] };

export function toWire(s: AppSummaries): WireSummaries {
  const table = stageTableOf(s);
  return table === undefined ? s : { table, executors: s.executors };
}

export function fromWire(w: WireSummaries): AppSummaries {
  return 'table' in w ? tableSummaries(w.table, w.executors) : w;
}

/** Whether `v` is summaries in either wire form (a message checked on receipt). */
export function isWireSummaries(v: unknown): v is WireSummaries {
  const w = v as { stages?: unknown; table?: Partial<StageTable>; executors?: unknown } | null;
  if (typeof w !== 'object' || w === null || !Array.isArray(w.executors)) return false;
  if (Array.isArray(w.stages)) return true;
  const t = w.table;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.count === 'number' &&
    t.numbers instanceof Float64Array &&
    t.numbers.length >= t.count * STAGE_STRIDE &&
    Array.isArray(t.names) &&
    t.names.length >= t.count &&
    Array.isArray(t.statuses) &&
    t.statuses.length >= t.count
  );
}
