/**
 * The Jobs table (issue 15): every collected job in one sortable, filterable table, paged from SQL.
 * Pure: the page's query (what the reader typed and picked) becomes a repository query here, and a
 * stored record becomes a row of display texts here, so the host only runs them and the page only
 * draws them. Fields, their friendly names and how their values read are src/storage/fields.ts's,
 * the same ones `jobs --sort/--where` take; a condition is written as on the command line.
 */
import type { SparkAppRecord } from '../../collectors/record';
import { STATUSES, type AppStatus } from '../../collectors/record/status';
import { FIELDS, FieldError, fieldOf, fieldText, isRecordColumn, parseCondition, type FieldCondition, type FieldKind, type RecordColumn } from '../../storage/fields';
import type { JobQuery, JobRepository } from '../../storage/repository';
import { measured, type RecordFigure } from '../../common/format';
import { jobIcon } from '../format';
import type { JobKey } from '../jobPage/protocol';

/** What the reader asked for, as the page sends it and saves it. */
export interface TableQuery {
  /** Contained in the name, the application id or the user, any case. */
  text: string;
  /** Conditions as `jobs --where` takes them, separated by commas: `failed>0, spill>1g, duration>1h`. */
  conditions: string;
  status: AppStatus | null;
  user: string | null;
  source: string | null;
  /** First and last day (YYYY-MM-DD, local), of the end time (a running job's start). */
  from: string | null;
  to: string | null;
  /** Only runs whose stored regression check says they regressed against their history (issue 18). */
  regressed: boolean;
  sort: RecordColumn;
  descending: boolean;
}

export const DEFAULT_QUERY: TableQuery = { text: '', conditions: '', status: null, user: null, source: null, from: null, to: null, regressed: false, sort: 'start_time', descending: true };

/** The columns shown until the reader picks others. */
export const DEFAULT_COLUMNS: readonly RecordColumn[] = ['app_name', 'status', 'start_time', 'duration_ms', 'cpu_time_ms', 'total_tasks', 'failed_tasks', 'shuffle_read_bytes', 'disk_spilled_bytes', 'source'];

/** Column widths by what a field holds: wide enough for its longest usual value, so that the default columns fit a 1,000 px editor. */
const KIND_WIDTH: Record<FieldKind, string> = { text: '7em', time: '13.5em', duration: '6em', count: '4.5em', bytes: '6.5em', mb: '6.5em' };
const COLUMN_WIDTH: Partial<Record<RecordColumn, string>> = { app_name: '12em', app_id: '15em', status: '7.5em', attempt_id: '5em', spark_version: '6em' };

/** A column's width in the table's grid. */
export function columnWidth(column: RecordColumn): string {
  return COLUMN_WIDTH[column] ?? KIND_WIDTH[fieldOf(column).kind];
}

/** The check box and state icon columns before the picked ones. */
const LEAD_COLUMNS: readonly string[] = ['2.2em', '1.8em'];
/** How wide the first name-like column (the name, else the app id) may grow into an editor's free width. */
const NAME_MAX_WIDTH_EM = 36;
/** The page's side padding, the grid's border and a vertical scroll bar, in px (jobsTable.css). */
const PAGE_CHROME_PX = 32 + 2 + 14;

/**
 * The grid's `grid-template-columns`. Each column has its width, except the name (the app id when
 * the name is not shown), which takes the editor's free width, up to NAME_MAX_WIDTH_EM: at a fixed
 * 12em, Spark's two runs NewYorkTaxiData_2025_06_27_00_24_44 and …_03_56_52 both read
 * "NewYorkTaxiData_2…" with half the editor empty. Every row is a grid of its own, so the width is
 * one expression of the viewport's width (100vw), the same in every row.
 */
export function gridColumns(shown: readonly RecordColumn[]): string {
  const flexible = shown.includes('app_name') ? 'app_name' : shown.includes('app_id') ? 'app_id' : null;
  const em = (w: string): number => Number(/^([\d.]+)em$/.exec(w)?.[1] ?? 0);
  const others = [...LEAD_COLUMNS, ...shown.filter((c) => c !== flexible).map(columnWidth)].reduce((a, w) => a + em(w), 0);
  return [
    ...LEAD_COLUMNS,
    ...shown.map((c) => (c === flexible ? `max(${columnWidth(c)}, min(${NAME_MAX_WIDTH_EM}em, calc(100vw - ${Number(others.toFixed(2))}em - ${PAGE_CHROME_PX}px)))` : columnWidth(c))),
  ].join(' ');
}

/** One-click thresholds the page offers; each adds its condition to the conditions box. */
export const QUICK_FILTERS: readonly { label: string; condition: string }[] = [
  { label: 'Failed tasks > 0', condition: 'failed_tasks>0' },
  { label: 'Disk spill > 1 GB', condition: 'disk_spilled_bytes>1g' },
  { label: 'Duration > 1 h', condition: 'duration_ms>1h' },
];

/** How many rows one request reads: a screenful or two. */
export const PAGE_ROWS = 100;

export interface ColumnInfo {
  column: RecordColumn;
  label: string;
  /** Right-aligned (a number). */
  numeric: boolean;
}

export const COLUMNS: readonly ColumnInfo[] = FIELDS.map((f) => ({ column: f.column, label: f.label, numeric: f.kind !== 'text' && f.kind !== 'time' }));

export interface TableRow {
  key: JobKey;
  /** The Jobs tree's icon for it (codicon name) and what it means. */
  icon: string;
  iconText: string;
  /** Its stored regression check's summary when that says it regressed (issue 18), else null. */
  regressed: string | null;
  /** Every column's display text (the page shows the ones picked). */
  cells: Record<RecordColumn, string>;
}

export function tableRow(r: SparkAppRecord, timeZone?: string, regressed: string | null = null): TableRow {
  const [icon, , iconText] = jobIcon(r, regressed ?? undefined);
  // A figure its source did not measure is stored as 0 and flagged: shown unknown, as the CLI shows it (measured).
  const value = (column: RecordColumn): string | number | null => (typeof r[column] === 'number' ? measured(r, column as RecordFigure) : r[column]);
  const cells = Object.fromEntries(FIELDS.map((f) => [f.column, fieldText(f, value(f.column), timeZone)])) as Record<RecordColumn, string>;
  return { key: { app_id: r.app_id, attempt_id: r.attempt_id }, icon, iconText, regressed, cells };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Local midnight of a `YYYY-MM-DD` day, `plusDays` later, as the ISO time the store compares. */
function localDay(day: string, plusDays: number): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** The conditions text split into conditions; each bad one is named in the error. */
export function parseConditions(text: string): { conditions: FieldCondition[]; errors: string[] } {
  const conditions: FieldCondition[] = [];
  const errors: string[] = [];
  for (const part of text.split(/,|\band\b/i)) {
    if (part.trim() === '') continue;
    try {
      conditions.push(parseCondition(part));
    } catch (err) {
      if (!(err instanceof FieldError)) throw err;
      errors.push(err.message);
    }
  }
  return { conditions, errors };
}

/** The repository query for what the reader asked, or what is wrong with it (the table then shows nothing new). */
export function toJobQuery(q: TableQuery): { query: JobQuery } | { errors: string[] } {
  const { conditions, errors } = parseConditions(q.conditions);
  if (q.from !== null && !DAY.test(q.from)) errors.push(`the first day must be a date like 2024-05-01, got ${JSON.stringify(q.from)}`);
  if (q.to !== null && !DAY.test(q.to)) errors.push(`the last day must be a date like 2024-05-31, got ${JSON.stringify(q.to)}`);
  if (q.from !== null && q.to !== null && DAY.test(q.from) && DAY.test(q.to) && q.from > q.to) errors.push(`the first day (${q.from}) is after the last (${q.to})`);
  if (errors.length > 0) return { errors };
  const query: JobQuery = { sort: q.sort, descending: q.descending };
  if (q.text.trim() !== '') query.text = q.text.trim();
  if (conditions.length > 0) query.where = conditions;
  if (q.status !== null) query.status = q.status;
  if (q.user !== null) query.user = q.user;
  if (q.source !== null) query.source = q.source;
  if (q.from !== null) query.since = localDay(q.from, 0);
  if (q.to !== null) query.until = localDay(q.to, 1);
  if (q.regressed) query.regressed = true;
  return { query };
}

export interface TablePage {
  /** How many match in all; null when not asked (the page already knows it: it is scrolling). */
  total: number | null;
  offset: number;
  rows: TableRow[];
}

/**
 * Rows `offset`… of what `q` asks for (at most `limit`), and how many there are in all when `count`
 * (a filtered count scans the table: a page scrolled to under the same query does not pay it again).
 */
export function tablePage(store: Pick<JobRepository, 'list' | 'count' | 'regressions'>, q: TableQuery, offset: number, limit: number, options: { count?: boolean; timeZone?: string } = {}): TablePage | { errors: string[] } {
  const built = toJobQuery(q);
  if ('errors' in built) return built;
  const records = store.list({ ...built.query, offset, limit });
  const checks = store.regressions(records);
  const rows = records.map((r, i) => tableRow(r, options.timeZone, checks[i]?.status === 'regressed' ? checks[i].summary : null));
  return { total: options.count === false ? null : store.count(built.query), offset, rows };
}

/** The choices the filters offer: the users and sources in the store, and every status. */
export interface TableChoices {
  users: string[];
  sources: string[];
  statuses: readonly AppStatus[];
}

export function tableChoices(store: Pick<JobRepository, 'groupCounts'>): TableChoices {
  const keys = (by: 'user' | 'source'): string[] =>
    store
      .groupCounts(by)
      .map((g) => g.key)
      .filter((k) => k !== '');
  return { users: keys('user'), sources: keys('source'), statuses: STATUSES };
}

export function isColumn(v: unknown): v is RecordColumn {
  return typeof v === 'string' && isRecordColumn(v);
}

export { fieldOf };
