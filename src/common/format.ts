/** Human units for the CLI's table and progress lines. */
import type { SparkAppRecord } from '../collectors/record';

/**
 * A count and its noun, singular for exactly one: "1 error", "2 errors", "1,024 files" (issue 16:
 * "1 errors"). The one rule for every summary; `many` for a plural that is not noun + s.
 */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${groupDigits(n)} ${n === 1 ? one : many}`;
}

/**
 * `n.toLocaleString('en-US')` ("1,234,567", "-1,234.5") without ICU for what the CLI prints: the
 * first use of any Intl service in a process maps ~7 MB of ICU's data, and `collect` of four small
 * logs peaked at 80 MB against the 60 MB target of issue #12. Safe integers and numbers of at most
 * three decimals (where en-US neither rounds nor pads); anything else (NaN, ±Infinity, more decimals,
 * beyond 2^53) is ICU's.
 */
export function groupDigits(n: number): string {
  const m = /^(-?)(\d+)(\.\d{1,3})?$/.exec(String(n));
  if (m === null || !(Math.abs(n) <= Number.MAX_SAFE_INTEGER)) return n.toLocaleString('en-US');
  return `${m[1] || (Object.is(n, -0) ? '-' : '')}${m[2]!.replace(/\B(?=(\d{3})+$)/g, ',')}${m[3] ?? ''}`;
}

/** Bytes in units of 1024 (`1.5 GB`); '-' when unknown. */
export function formatBytes(n: number | null): string {
  if (n === null) return '-';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  // Whole bytes: a rate below 1 KB/s is a fraction ('990.4239104022621 B/s', issue #13). One
  // decimal above, none when it is 0 ('256 MB', '1.5 GB'). Units are of 1024, in tables and messages alike.
  return `${i === 0 ? Math.round(v) : Number(v.toFixed(1))} ${units[i]}`;
}

/**
 * Text that must stay on its line (a table cell, a key's value in show, a run's line in compare):
 * visible(), with newlines and tabs escaped too, so that a name from a log cannot add a line.
 */
export function oneLine(text: string): string {
  return visible(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * Text for a message with its invisible characters shown as escapes (`\uFEFF`): a byte-order mark,
 * zero-width and direction marks, control characters other than newline and tab. A key or value
 * quoted in a message otherwise looks right and is not (issue #13: a BOM before a key).
 */
export function visible(text: string): string {
  return text.replace(/[^\P{Cc}\n\t]|\p{Cf}|[\u2028\u2029]/gu, (c) => {
    const hex = c.codePointAt(0)!.toString(16).toUpperCase();
    return hex.length <= 4 ? `\\u${hex.padStart(4, '0')}` : `\\u{${hex}}`;
  });
}

/**
 * `850 ms`, `12.3 s`, `4m 5s`, `2h 3m`. Each unit is rounded before it is split, so that a carry
 * moves up: 119.6 s is `2m 0s`, not `1m 60s`, and 59.96 s is `1m 0s`, not `60.0 s`.
 */
export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 1000) return `${ms} ms`;
  const tenths = Math.round(ms / 100);
  if (tenths < 600) return `${(tenths / 10).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  const minutes = Math.floor(seconds / 60);
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

const LOCAL_TIME = new Map<string, Intl.DateTimeFormat>();

const pad2 = (n: number): string => String(n).padStart(2, '0');

/**
 * formatLocalTime's text when the zone is UTC (`timeZone` 'UTC', or a process whose local zone is
 * UTC, as on most servers), built without Intl.DateTimeFormat: its first use maps ~7 MB of ICU's
 * data (issue #12, the CLI's 60 MB target). en-US calls that zone "UTC" at every instant, and
 * Date#toString names it "Coordinated Universal Time" (it gives no other zone that name; checked
 * over every IANA zone in test/startupNoIcu.test.ts). Any other zone, and years outside 1970-9999,
 * are ICU's (undefined).
 */
function utcTime(t: number, timeZone: string | undefined): string | undefined {
  const d = new Date(t);
  if (timeZone === undefined) {
    if (d.getTimezoneOffset() !== 0 || !d.toString().endsWith('(Coordinated Universal Time)')) return undefined;
  } else if (timeZone !== 'UTC') return undefined;
  const year = d.getUTCFullYear();
  if (year < 1970 || year > 9999) return undefined;
  return `${year}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())} UTC`;
}

/**
 * A time as the reader lives it: "2024-06-11 14:03 GMT+2", in the local zone (or `timeZone`), with
 * the zone said, so that runs of the same name are told apart and nobody mistakes UTC for local.
 */
export function formatLocalTime(iso: string | null, timeZone?: string): string {
  if (iso === null) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const utc = utcTime(t, timeZone);
  if (utc !== undefined) return utc;
  const key = timeZone ?? '';
  let f = LOCAL_TIME.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
    LOCAL_TIME.set(key, f);
  }
  const part = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

/**
 * Characters a terminal gives two columns: East Asian wide and fullwidth ones (Hangul, CJK, kana,
 * fullwidth forms; Unicode's EastAsianWidth W and F) and emoji shown as emoji. Combining marks take
 * none. The rest take one. Without Intl.Segmenter (ICU: issue #12).
 */
const WIDE = /[\p{Emoji_Presentation}\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uA960-\uA97F\uAC00-\uD7A3\uF900-\uFAFF\uFE10-\uFE19\uFE30-\uFE6F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{2FFFD}\u{30000}-\u{3FFFD}]/u;
const ZERO_WIDTH = /[\p{Mn}\p{Me}]/u;

function charWidth(c: string): number {
  return ZERO_WIDTH.test(c) ? 0 : WIDE.test(c) ? 2 : 1;
}

/** The columns `text` takes on a terminal (its length for printable ASCII). */
export function textWidth(text: string): number {
  if (/^[\x20-\x7E]*$/.test(text)) return text.length;
  let width = 0;
  for (const c of text) width += charWidth(c);
  return width;
}

/**
 * `text` in at most `width` terminal columns: as it is when it fits, else cut between characters
 * (never inside one) and ended with '…', so that a clipped name is not taken for the whole one.
 */
export function clip(text: string, width: number): string {
  if (textWidth(text) <= width) return text;
  let out = '';
  let used = 0;
  for (const c of text) {
    const w = charWidth(c);
    if (used + w > width - 1) break;
    out += c;
    used += w;
  }
  return `${out}…`;
}

/**
 * A cell that reads as a number: signed, grouped, with a decimal part, a unit or a percent (`-1,234`,
 * `+12.5%`, `1.5 GB`, `850 ms`), a duration of two units (`4m 5s`, `2h 3m`), or '-' (unknown). An IP
 * address is not one.
 */
const NUMBER_CELL = /^[+-]?\d[\d,]*(\.\d+)?(%| [A-Za-z]+)?$|^[+-]?\d+[hm] \d+[ms]$|^-$/;

/** Left-aligned text table; numbers right-aligned. Columns are measured in terminal columns (textWidth). */
export function table(header: string[], rows: string[][]): string {
  // A cell is one line of text a terminal only prints: an app name with a newline or an escape
  // sequence (it comes from the log) must neither break the table nor recolour the terminal.
  rows = rows.map((r) => r.map(oneLine));
  const widths = header.map((h, i) => Math.max(textWidth(h), ...rows.map((r) => textWidth(r[i] ?? ''))));
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => NUMBER_CELL.test(r[i] ?? '')));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => {
        const pad = ' '.repeat(Math.max(0, widths[i]! - textWidth(c)));
        return numeric[i] ? pad + c : c + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** A record's fields that hold a number (or null). */
export type RecordFigure = { [K in keyof SparkAppRecord]-?: SparkAppRecord[K] extends number | null ? K : never }[keyof SparkAppRecord];

/**
 * A record's figure as measured; null when unknown: null itself, or flagged `missing:<field>` or
 * `invalid:<field>` (collectors/record.ts Quality): a cloud run with no Spark metrics behind it,
 * or a History Server app without its stage list, stores 0 there, which is no measurement. The
 * rule analysis/regression.ts's valueOf applies to a run's check.
 */
export function measured<F extends RecordFigure>(r: Pick<SparkAppRecord, F | 'quality'>, field: F): number | null {
  const v = r[field];
  if (v === null || r.quality.length === 0) return v;
  let flags = UNKNOWN_FLAGS.get(field);
  if (flags === undefined) UNKNOWN_FLAGS.set(field, (flags = [`missing:${field}`, `invalid:${field}`]));
  return r.quality.includes(flags[0]) || r.quality.includes(flags[1]) ? null : v;
}
/** Each figure's two flags, made once: the regression check asks for 100,000 runs' figures at a time. */
const UNKNOWN_FLAGS = new Map<RecordFigure, readonly [string, string]>();

/** A count as tables and summaries print it: grouped (`1,234`), '-' when unknown. */
export function count(n: number | null): string {
  return n === null ? '-' : groupDigits(n);
}

/** The record in words: what a person reads in a tooltip or the job document. */
export function recordSummary(r: SparkAppRecord, time: (iso: string | null) => string = (iso) => iso ?? '-'): [string, string][] {
  const m = (field: RecordFigure): number | null => measured(r, field);
  return [
    ['Application', `${r.app_name ?? '-'} (${r.app_id}${r.attempt_id ? `, attempt ${r.attempt_id}` : ''})`],
    ['User', r.user ?? '-'],
    ['Status', r.status],
    ['Started', time(r.start_time)],
    ['Ended', time(r.end_time)],
    ['Duration', formatDuration(m('duration_ms'))],
    ['Spark', r.spark_version ?? '-'],
    ['Executors', `${count(m('num_executors'))} × ${count(m('executor_cores'))} cores, ${count(m('executor_memory_mb'))} MB; driver ${count(m('driver_memory_mb'))} MB`],
    ['Tasks', `${count(m('total_tasks'))} (${count(m('failed_tasks'))} failed)`],
    ['Stages', `${count(m('total_stages'))} (${count(m('failed_stages'))} failed)`],
    ['CPU time', formatDuration(m('cpu_time_ms'))],
    ['Input / output', `${formatBytes(m('input_bytes'))} / ${formatBytes(m('output_bytes'))}`],
    ['Shuffle read / write', `${formatBytes(m('shuffle_read_bytes'))} / ${formatBytes(m('shuffle_write_bytes'))}`],
    ['Spilled memory / disk', `${formatBytes(m('memory_spilled_bytes'))} / ${formatBytes(m('disk_spilled_bytes'))}`],
    ['Source', r.source],
    ['Quality', r.quality.length > 0 ? r.quality.join(', ') : 'complete'],
  ];
}
