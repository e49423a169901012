/**
 * The record's fields by friendly name (issue 15): one table that `jobs --sort/--where`, the jobs
 * table view and compare read, so a field is called the same everywhere. Each field is found by its
 * snake_case column name (`failed_tasks`), its friendly names (`failed`) or its label ("Failed
 * tasks"), case-insensitively. Pure: no I/O.
 *
 * `tags`, `environment` and `quality` are JSON, neither sortable nor compared here.
 */
import type { SparkAppRecord } from '../collectors/record';
import { formatBytes, formatDuration, formatLocalTime, groupDigits } from '../common/format';
import { parseTime } from '../common/parseTime';

/**
 * How a field's values read and print: `bytes` take 1024-based units (`10GB`, `512m`), `duration`
 * and `ms` take `500ms`, `90s`, `5m`, `1h30m` (a bare number is ms), `mb` takes memory units with a
 * bare number in MiB (as `spark.executor.memory` does), `time` takes an ISO date or time.
 */
export type FieldKind = 'text' | 'time' | 'duration' | 'count' | 'bytes' | 'mb';

export type RecordColumn = Exclude<keyof SparkAppRecord, 'tags' | 'environment' | 'quality'>;

export interface FieldInfo {
  column: RecordColumn;
  label: string;
  /** Other names it is found by (lower case); the column name is always one. */
  names: readonly string[];
  kind: FieldKind;
}

export const FIELDS: readonly FieldInfo[] = [
  { column: 'app_id', label: 'App ID', names: ['app', 'id'], kind: 'text' },
  { column: 'attempt_id', label: 'Attempt', names: ['attempt'], kind: 'text' },
  { column: 'app_name', label: 'Name', names: ['name'], kind: 'text' },
  { column: 'user', label: 'User', names: [], kind: 'text' },
  { column: 'status', label: 'Status', names: [], kind: 'text' },
  { column: 'source', label: 'Source', names: [], kind: 'text' },
  { column: 'spark_version', label: 'Spark version', names: ['spark', 'version'], kind: 'text' },
  { column: 'submit_time', label: 'Submitted', names: ['submit', 'submitted'], kind: 'time' },
  { column: 'start_time', label: 'Started', names: ['start', 'started'], kind: 'time' },
  { column: 'end_time', label: 'Ended', names: ['end', 'ended'], kind: 'time' },
  { column: 'duration_ms', label: 'Duration', names: ['duration'], kind: 'duration' },
  { column: 'cpu_time_ms', label: 'CPU time', names: ['cpu'], kind: 'duration' },
  { column: 'total_tasks', label: 'Tasks', names: ['tasks'], kind: 'count' },
  { column: 'failed_tasks', label: 'Failed tasks', names: ['failed'], kind: 'count' },
  { column: 'total_stages', label: 'Stages', names: ['stages'], kind: 'count' },
  { column: 'failed_stages', label: 'Failed stages', names: [], kind: 'count' },
  { column: 'input_bytes', label: 'Input', names: ['input'], kind: 'bytes' },
  { column: 'output_bytes', label: 'Output', names: ['output'], kind: 'bytes' },
  { column: 'shuffle_read_bytes', label: 'Shuffle read', names: ['shuffle', 'shuffle_read'], kind: 'bytes' },
  { column: 'shuffle_write_bytes', label: 'Shuffle write', names: ['shuffle_write'], kind: 'bytes' },
  // "spill" is what reached the disk: the memory figure is the deserialized size of the same data.
  { column: 'disk_spilled_bytes', label: 'Disk spill', names: ['spill', 'disk_spill'], kind: 'bytes' },
  { column: 'memory_spilled_bytes', label: 'Memory spill', names: ['memory_spill'], kind: 'bytes' },
  { column: 'num_executors', label: 'Executors', names: ['executors'], kind: 'count' },
  { column: 'executor_cores', label: 'Executor cores', names: ['cores'], kind: 'count' },
  { column: 'executor_memory_mb', label: 'Executor memory', names: ['executor_memory', 'memory'], kind: 'mb' },
  { column: 'driver_memory_mb', label: 'Driver memory', names: ['driver_memory'], kind: 'mb' },
];

function normalized(name: string): string {
  return name.trim().toLowerCase().replace(/[\s-]+/g, '_');
}

const BY_NAME: ReadonlyMap<string, FieldInfo> = new Map(FIELDS.flatMap((f) => [f.column, normalized(f.label), ...f.names].map((n) => [n, f] as const)));
const COLUMNS: ReadonlySet<string> = new Set(FIELDS.map((f) => f.column));

/** The field a name (column, friendly name or label, any case) stands for. */
export function fieldByName(name: string): FieldInfo | undefined {
  return BY_NAME.get(normalized(name));
}

export function isRecordColumn(name: string): name is RecordColumn {
  return COLUMNS.has(name);
}

export function fieldOf(column: RecordColumn): FieldInfo {
  return BY_NAME.get(column)!;
}

export const OPERATORS = ['=', '!=', '>', '>=', '<', '<='] as const;
export type Operator = (typeof OPERATORS)[number];

/** `FIELD OP VALUE` read: a column, an operator, and a value in the column's own units; null = `IS [NOT] NULL`. */
export interface FieldCondition {
  field: RecordColumn;
  op: Operator;
  value: string | number | null;
}

export class FieldError extends Error {}

const BYTE_UNITS: Readonly<Record<string, number>> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4, tib: 1024 ** 4 };
const MS_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/** `1.5g`, `512 MB`, `100`: a size in `unit`s (1 = bytes, 1024² = MiB), rounded down to a whole one. */
function size(raw: string, unit: number): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(raw);
  const factor = m && (m[2] === '' ? unit : BYTE_UNITS[m[2]!.toLowerCase()]);
  return factor ? Math.floor((Number(m[1]) * factor) / unit) : undefined;
}

/** `1h30m`, `90s`, `500ms`, `2.5h`, `100` (ms). */
function duration(raw: string): number | undefined {
  if (/^\d+(\.\d+)?$/.test(raw)) return Math.floor(Number(raw));
  const parts = [...raw.toLowerCase().matchAll(/(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== raw.toLowerCase().replace(/\s+/g, '')) return undefined;
  return Math.floor(parts.reduce((n, p) => n + Number(p[1]) * MS_UNITS[p[2]!]!, 0));
}

const EXAMPLES: Readonly<Record<FieldKind, string>> = {
  text: 'text',
  time: 'a date or time like 2024-05-01, 2024-05-01 12:00 (local) or 2024-05-01T12:00:00Z',
  duration: 'a duration like 90s, 5m, 1h30m or a number of ms',
  count: 'a whole number',
  bytes: 'a size like 512MB, 1.5g or a number of bytes',
  mb: 'a size like 4g, 512m or a number of MiB',
};

/** A value of `field` as the database holds it; throws FieldError saying what was expected. */
export function parseValue(field: FieldInfo, raw: string): string | number {
  const text = raw.trim();
  let v: string | number | undefined;
  switch (field.kind) {
    case 'text':
      v = text;
      break;
    case 'time': {
      v = parseTime(text)?.toISOString();
      break;
    }
    case 'duration':
      v = duration(text);
      break;
    case 'count':
      v = /^\d+$/.test(text) ? Number(text) : undefined;
      break;
    case 'bytes':
      v = size(text, 1);
      break;
    case 'mb':
      v = size(text, 1024 ** 2);
      break;
  }
  if (v === undefined) throw new FieldError(`${field.column} takes ${EXAMPLES[field.kind]}, got ${JSON.stringify(raw)}`);
  return v;
}

/** `FIELD OP VALUE` (`failed>0`, `duration >= 1h`, `user=etl`, `end_time=null`); throws FieldError. */
export function parseCondition(text: string): FieldCondition {
  const m = /^\s*([A-Za-z][\w -]*?)\s*(!=|>=|<=|=|>|<)\s*(.*)$/.exec(text);
  if (!m) throw new FieldError(`a condition is FIELD OP VALUE with OP one of ${OPERATORS.join(' ')}, like failed_tasks>0; got ${JSON.stringify(text)}`);
  const field = fieldByName(m[1]!);
  if (!field) throw new FieldError(`unknown field ${JSON.stringify(m[1]!.trim())} in ${JSON.stringify(text)}; fields: ${FIELDS.map((f) => f.column).join(', ')}`);
  const op = m[2] as Operator;
  const raw = m[3]!;
  if (raw.trim().toLowerCase() === 'null') {
    if (op !== '=' && op !== '!=') throw new FieldError(`null can only be compared with = or !=, in ${JSON.stringify(text)}`);
    return { field: field.column, op, value: null };
  }
  return { field: field.column, op, value: parseValue(field, raw) };
}

/** A field's value as a person reads it: sizes and durations in units, times local (or in `timeZone`) with their zone. */
export function fieldText(field: FieldInfo, value: string | number | null, timeZone?: string): string {
  if (value === null) return '-';
  if (typeof value === 'string') return field.kind === 'time' ? formatLocalTime(value, timeZone) : value;
  switch (field.kind) {
    case 'bytes':
      return formatBytes(value);
    case 'mb':
      return formatBytes(value * 1024 ** 2);
    case 'duration':
      return formatDuration(value);
    default:
      return groupDigits(value);
  }
}

/** The table `jobs --help` prints: each field's column, friendly names and what its values take. */
export function fieldsHelp(): string {
  const rows = FIELDS.map((f) => [f.column, [normalized(f.label), ...f.names].filter((n, i, all) => n !== f.column && all.indexOf(n) === i).join(', '), EXAMPLES[f.kind]]);
  const widths = [0, 1].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]}`).join('\n');
}
