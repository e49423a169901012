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
import { IsoTimes } from '../collectors/record';
import { AT, cellOf, nullIfNaN, QUANTILE_AT, stageTableOf, type StageTable } from '../collectors/record/stageTable';
import { QUANTILES, STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageStatus, type StageSummary } from '../collectors/record/summaries';

/** Bumped when the layout changes in a way an older decoder would misread. */
const FORMAT = 1;

/** Stage columns kept as they are, in their order after the times (see above). */
const STAGE_PLAIN = ['duration_ms', ...STAGE_COUNTERS, 'peak_execution_memory_bytes'] as const satisfies readonly (keyof StageSummary)[];
const EXECUTOR_PLAIN = ['total_cores', 'total_tasks', 'failed_tasks', 'gc_time_ms', 'shuffle_read_bytes', 'shuffle_write_bytes'] as const satisfies readonly (keyof ExecutorSummary)[];

type Json = null | number | string | Json[] | { raw: Json[] };

/** Executors by numeric id ("2" before "10"), then any other id ("driver") by text. */
export function compareExecutorIds(a: string, b: string): number {
  const na = numericId(a);
  const nb = numericId(b);
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb || (a < b ? -1 : a > b ? 1 : 0);
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An id of digits 0-9 only as its number; NaN for any other. */
function numericId(id: string): number {
  if (id.length === 0) return Number.NaN;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return Number.NaN;
  }
  return Number(id);
}

/**
 * In key order (`order`), each key once: the last one given (the sort is stable, so equal keys stay
 * in the order given). Items given so (the event-log engine's executors, nearly always) are kept as
 * they are, not copied.
 */
function lastByKey<T>(items: readonly T[], order: (a: T, b: T) => number): readonly T[] {
  let inOrder = true;
  for (let i = 1; i < items.length && inOrder; i++) inOrder = order(items[i - 1]!, items[i]!) < 0;
  if (inOrder) return items;
  const sorted = [...items].sort(order);
  return sorted.filter((item, i) => i + 1 === sorted.length || order(item, sorted[i + 1]!) !== 0);
}

const DAY_MS = 86_400_000;
/** The digit at `i` of `text`, or NaN. */
function digit(text: string, i: number): number {
  const d = text.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : Number.NaN;
}

/** Days in each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Days since 1970 of the date `text` starts with, `YYYY-MM-DDT` as toISOString writes one (years
 * 0000-9999); null for any other text, and for a day the Gregorian calendar does not have
 * (2024-02-30, which Date.parse reads as March 1st). Counted, not parsed by a Date: a Date.parse and
 * a toISOString per application were a large part of a small one's encoding (issue #12).
 */
function isoDay(text: string): number | null {
  if (text.charCodeAt(4) !== 0x2d || text.charCodeAt(7) !== 0x2d || text.charCodeAt(10) !== 0x54) return null;
  const year = digit(text, 0) * 1000 + digit(text, 1) * 100 + digit(text, 2) * 10 + digit(text, 3);
  const month = digit(text, 5) * 10 + digit(text, 6);
  const day = digit(text, 8) * 10 + digit(text, 9);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  // NaN (not a digit) fails these too.
  if (!(year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!))) return null;
  // The proleptic Gregorian calendar's days, in eras of 400 years that start on March 1st (as
  // Howard Hinnant's days_from_civil counts them), so that February's leap day ends a year.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  return era * 146_097 + yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear - 719_468;
}

/**
 * ISO-8601 times' milliseconds, without a Date per time: an attempt with 2,000 stages has 4,000
 * stage times, mostly on a day or two, and Date.parse per time was half of the encoding's time. The
 * date part (`2024-05-06T`) is checked (isoDay) once per day. (Decoding writes times back through
 * record.ts's IsoTimes.)
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
      const day = isoDay(text);
      if (day === null) return this.slowMs(text);
      this.day = day;
      this.prefix = text.slice(0, 11);
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

}

function unstep(column: Json | undefined, n: number): number[] {
  if (column !== undefined && column !== null && !Array.isArray(column) && typeof column === 'object') return column.raw as number[];
  const deltas = (column ?? []) as number[];
  let previous = 0;
  return Array.from({ length: n }, (_, i) => (previous += deltas[i] ?? 0));
}

function untext(column: Json | undefined, n: number): (string | null)[] {
  if (!Array.isArray(column)) return new Array<null>(n).fill(null);
  const [values, at] = column as [(string | null)[], number[]];
  return Array.from({ length: n }, (_, i) => values[at[i]!] ?? null);
}

function untime(times: IsoTimes, v: Json | undefined, ref: number): { iso: string | null; ms: number | null } {
  if (typeof v === 'number') {
    const ms = ref + v;
    // A time the record would refuse (before 1970, after 9999) was stored as toISOString wrote it, and is given back so.
    return { iso: times.of(ms) ?? new Date(ms).toISOString(), ms };
  }
  return { iso: typeof v === 'string' ? v : null, ms: null };
}

function column(columns: readonly Json[], i: number, n: number): Json[] {
  const c = columns[i];
  return Array.isArray(c) ? c : new Array<null>(n).fill(null);
}

/** Values JsonWriter.values gives JSON.stringify at a time. */
const SLICE = 2048;
/** The first buffer a JsonWriter writes into (SCRATCH); each next one twice as large, up to WRITER_MAX. */
const WRITER_FIRST = 64 * 1024;
const WRITER_MAX = 1024 * 1024;

/** Columns of at most this many values are written value by value (JsonWriter.values). */
const FEW = 16;

/**
 * Where every JsonWriter of a thread writes first, reused: encodeSummaryBytes is synchronous and
 * copies what it wrote into a buffer of the text's size before it returns. A first buffer of each
 * writer's own would be a second ArrayBuffer per small application (~500 bytes of text; 10,000
 * small logs, issue #12) beside the one bytes() gives.
 */
const SCRATCH = Buffer.allocUnsafeSlow(WRITER_FIRST);

/**
 * JSON text written as bytes into buffers, joined once at the end into a buffer of exactly its size
 * and of its own (summariesWire.ts transfers it to another thread as it is): no string of the whole
 * text, and no array of a whole column's values. A 2 GB Spark 3.0 log's ~150,000 stage attempts are
 * ~15 MB of text; made as 25 arrays of 150,000 values, then one string, then its bytes, their
 * garbage held the collect's peak RSS at 200-250 MB (issue 12: < 150 MB for a 2 GB log).
 * Numbers and texts are written as JSON.stringify writes them (summaryCodecReference.test.ts compares).
 */
class JsonWriter {
  /** Buffers filled, in order. */
  private readonly full: Buffer[] = [];
  private fullBytes = 0;
  private buf = SCRATCH;
  private at = 0;

  /**
   * Text of one-byte characters that JSON does not escape (punctuation, a number's text), byte by
   * byte: a small application's summaries are ~120 such pieces, and a native write per piece made
   * encoding twice as slow as JSON.stringify of the whole.
   */
  ascii(text: string): void {
    const n = text.length;
    if (this.at + n > this.buf.length) this.grow(n);
    const buf = this.buf;
    let at = this.at;
    for (let i = 0; i < n; i++) buf[at++] = text.charCodeAt(i);
    this.at = at;
  }

  /** Any text, as UTF-8 (a slice of JSON.stringify's text). */
  text(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.at + text.length * 3 > this.buf.length) this.grow(text.length * 3);
    this.at += this.buf.write(text, this.at, 'utf8');
  }

  /** A value as JSON.stringify writes it in an array: numbers that are not finite, and undefined, are null. */
  value(v: number | string | null | undefined): void {
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v)) this.integer(v);
      else this.ascii(Number.isFinite(v) ? String(v) : 'null');
    } else if (typeof v === 'string') this.string(v);
    else this.ascii('null');
  }

  /** A safe integer's digits, as String gives them (-0 is 0). */
  private integer(v: number): void {
    // 2^53 has 16 digits, and the sign.
    if (this.at + 17 > this.buf.length) this.grow(17);
    if (v < 0) {
      this.buf[this.at++] = 0x2d;
      v = -v;
    }
    if (v <= 0x7fffffff) {
      this.digits(v | 0, 1);
      return;
    }
    // The digits above the last nine (below 2^53 / 10^9 < 2^24), then those nine: each part an
    // int32, whose division by 10 the JIT makes a multiplication (a double's % was a call per digit).
    const low = v % 1e9;
    this.digits((v - low) / 1e9, 1);
    this.digits(low, 9);
  }

  /** The digits of 0 <= x < 2^31, at least `width` of them (zeros first). */
  private digits(x: number, width: number): void {
    let n = 1;
    for (let p = 10; n < 10 && p <= x; p *= 10) n++;
    if (n < width) n = width;
    const buf = this.buf;
    let at = this.at + n;
    this.at = at;
    for (let i = 0; i < n; i++) {
      const rest = (x / 10) | 0;
      buf[--at] = 0x30 + x - rest * 10;
      x = rest;
    }
  }

  /** A string as JSON.stringify quotes it: byte by byte when no character of it is escaped or more than one byte. */
  private string(v: string): void {
    const n = v.length;
    if (this.at + n + 2 > this.buf.length) this.grow(n + 2);
    const buf = this.buf;
    let at = this.at;
    buf[at++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = v.charCodeAt(i);
      if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
        // Written again from the start, as JSON.stringify escapes it.
        this.text(JSON.stringify(v));
        return;
      }
      buf[at++] = c;
    }
    buf[at++] = 0x22;
    this.at = at;
  }

  /** Moves on to a buffer with room for `bytes` more. */
  private grow(bytes: number): void {
    this.full.push(this.buf.subarray(0, this.at));
    this.fullBytes += this.at;
    this.buf = Buffer.allocUnsafe(Math.max(bytes, Math.min(WRITER_MAX, this.buf.length * 2)));
    this.at = 0;
  }

  /**
   * `[v(0),v(1),…]` for i < n, as JSON.stringify writes the array. A long column goes through
   * JSON.stringify of SLICE values at a time: native, so fast while the code is still cold (a
   * collect runs this once; text made value by value in JS cost ~2 µs a stage more), and each slice
   * and its text are small enough for the young generation (a whole column of 150,000 values, array
   * and text, went to the large object space, which only a full collection frees).
   */
  values(n: number, v: (i: number) => number | string | null | undefined): void {
    if (n <= FEW) {
      // A small application's column (a few stages, a few executors): an array and a native call per
      // column cost more than its values.
      this.ascii('[');
      for (let i = 0; i < n; i++) {
        if (i > 0) this.ascii(',');
        this.value(v(i));
      }
      this.ascii(']');
      return;
    }
    const slice: (number | string | null | undefined)[] = [];
    this.ascii('[');
    for (let from = 0; from < n; from += SLICE) {
      const to = Math.min(n, from + SLICE);
      slice.length = 0;
      for (let i = from; i < to; i++) slice.push(v(i));
      if (from > 0) this.ascii(',');
      const text = JSON.stringify(slice);
      this.text(text.slice(1, -1));
    }
    this.ascii(']');
  }

  /** The text, in a buffer of its own (not a view of Node's pool or of SCRATCH) of exactly its size. */
  bytes(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.fullBytes + this.at);
    let at = 0;
    for (const b of this.full) at += b.copy(out, at);
    this.buf.copy(out, at, 0, this.at);
    return out;
  }
}

/**
 * A column in the text's forms (see the top of this file), written by `out`:
 * - step: differences from the previous value, or `{"raw": [...]}` when a value is not a safe integer;
 * - text: `[distinct values, index of each]`;
 * - plain: the values.
 */
function stepColumn(out: JsonWriter, n: number, v: (i: number) => number): void {
  let safe = true;
  for (let i = 0; i < n && safe; i++) safe = Number.isSafeInteger(v(i));
  if (!safe) {
    out.ascii('{"raw":');
    out.values(n, v);
    out.ascii('}');
    return;
  }
  let previous = 0;
  out.values(n, (i) => {
    const value = v(i);
    const d = value - previous;
    previous = value;
    return d;
  });
}

function textColumn(out: JsonWriter, n: number, v: (i: number) => string | null): void {
  if (n <= FEW) {
    // A few values (a small application's): a search of the distinct ones costs less than a Map and
    // an array of indexes.
    const distinct: (string | null)[] = [];
    for (let i = 0; i < n; i++) {
      const value = v(i);
      if (!distinct.includes(value)) distinct.push(value);
    }
    out.ascii('[');
    out.values(distinct.length, (k) => distinct[k]);
    out.ascii(',');
    out.values(n, (i) => distinct.indexOf(v(i)));
    out.ascii(']');
    return;
  }
  const index = new Map<string | null, number>();
  const at = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const value = v(i);
    let k = index.get(value);
    if (k === undefined) index.set(value, (k = index.size));
    at[i] = k;
  }
  const distinct = [...index.keys()];
  out.ascii('[');
  out.values(distinct.length, (k) => distinct[k]!);
  out.ascii(',');
  out.values(n, (i) => at[i]!);
  out.ascii(']');
}

/**
 * An attempt's stages as encodeSummaries reads them, in key order: from StageSummary rows or
 * straight from a stage table (stageTable.ts; the event-log engine's, no row made). A time is its
 * milliseconds, or (ms null) its text when it is not one toISOString gives.
 */
interface StageSource {
  readonly n: number;
  id(i: number): number;
  attempt(i: number): number;
  name(i: number): string | null;
  status(i: number): string;
  submittedMs(i: number): number | null;
  completedMs(i: number): number | null;
  submittedText(i: number): string | null;
  completedText(i: number): string | null;
  /** Column k of STAGE_PLAIN's, then QUANTILES' (PLAIN_COLUMNS in all). */
  plain(k: number, i: number): number | null;
}

const PLAIN_COLUMNS = STAGE_PLAIN.length + QUANTILES.length;
/** The duration's plain column: a completion time is kept as its distance from submission + duration. */
const DURATION = STAGE_PLAIN.indexOf('duration_ms');

function rowSource(rows: readonly StageSummary[], days: IsoDays): StageSource {
  const stages = lastByKey(rows, (a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id);
  const submitted = stages.map((s) => days.ms(s.submission_time));
  const completed = stages.map((s) => days.ms(s.completion_time));
  return {
    n: stages.length,
    id: (i) => stages[i]!.stage_id,
    attempt: (i) => stages[i]!.attempt_id,
    name: (i) => stages[i]!.name,
    status: (i) => stages[i]!.status,
    submittedMs: (i) => submitted[i]!,
    completedMs: (i) => completed[i]!,
    submittedText: (i) => stages[i]!.submission_time,
    completedText: (i) => stages[i]!.completion_time,
    plain: (k, i) => (k < STAGE_PLAIN.length ? stages[i]![STAGE_PLAIN[k]!] : (stages[i]!.task_duration_ms?.[QUANTILES[k - STAGE_PLAIN.length]!] ?? null)),
  };
}

/** Where STAGE_PLAIN's and then QUANTILES' columns are in a table row. */
const TABLE_PLAIN = [...STAGE_PLAIN.map((f) => AT[f]), ...QUANTILE_AT];

function tableSource(t: StageTable): StageSource {
  // The engine gives its entries in key order, each key once; any other table is put so, the last entry of a key kept.
  const key = (i: number, j: number): number => cellOf(t, i, AT.stage_id) - cellOf(t, j, AT.stage_id) || cellOf(t, i, AT.attempt_id) - cellOf(t, j, AT.attempt_id);
  let inOrder = true;
  for (let i = 1; i < t.count && inOrder; i++) inOrder = key(i - 1, i) < 0;
  const order = inOrder ? null : lastByKey(Array.from({ length: t.count }, (_, i) => i), key);
  const entry = order === null ? (i: number): number => i : (i: number): number => order[i]!;
  const n = order === null ? t.count : order.length;
  // A cell as a summary field holds it.
  const cell = (i: number, at: number): number | null => nullIfNaN(cellOf(t, entry(i), at));
  return {
    n,
    id: (i) => cellOf(t, entry(i), AT.stage_id),
    attempt: (i) => cellOf(t, entry(i), AT.attempt_id),
    name: (i) => t.names[entry(i)] ?? null,
    status: (i) => t.statuses[entry(i)]!,
    submittedMs: (i) => cell(i, AT.submission_ms),
    completedMs: (i) => cell(i, AT.completion_ms),
    submittedText: () => null,
    completedText: () => null,
    plain: (k, i) => cell(i, TABLE_PLAIN[k]!),
  };
}

/** The summaries as text; `decodeSummaries` gives them back in summariesOf's order. */
export function encodeSummaries(summaries: AppSummaries): string {
  return encodeSummaryBytes(summaries).toString('utf8');
}

/** The text summaries were read from (textSummaries), kept on them while their stages and executors are not replaced. */
const TEXT = Symbol('summaries text');
type WithText = AppSummaries & { [TEXT]?: Buffer };

/**
 * Summaries given as their text (UTF-8): `stages` and `executors` are decoded together when either is
 * first read, and encodeSummaryBytes gives the text back as it is. Summaries that cross a worker
 * boundary are their text (summariesWire.ts): a store writes it without decoding it. Setting either
 * field drops the text. Both are own enumerable properties, `stages` first, as in a plain AppSummaries.
 * A text that does not decode throws when a field is first read (SummaryTextError).
 */
export function textSummaries(text: Buffer): AppSummaries {
  let decoded: AppSummaries | undefined;
  const s = {} as WithText;
  const field = <K extends keyof AppSummaries>(key: K): void => {
    Object.defineProperty(s, key, {
      enumerable: true,
      configurable: true,
      get: () => (decoded ??= decodeSummaries(text.toString('utf8')))[key],
      set: (v: AppSummaries[K]) => {
        decoded = { ...(decoded ?? decodeSummaries(text.toString('utf8'))), [key]: v };
        delete s[TEXT];
      },
    });
  };
  field('stages');
  field('executors');
  Object.defineProperty(s, TEXT, { value: text, enumerable: false, configurable: true });
  return s;
}

/**
 * encodeSummaries' text as UTF-8 (what the stores keep), written value by value or a slice of a
 * column at a time (JsonWriter), in a buffer of its own of exactly its size (summariesWire.ts
 * transfers it as it is); summaries read from a text give it back.
 */
export function encodeSummaryBytes(summaries: AppSummaries): Buffer {
  const given = (summaries as WithText)[TEXT];
  if (given !== undefined) return given;
  const days = new IsoDays();
  const table = stageTableOf(summaries);
  const stages = table === undefined ? rowSource(summaries.stages, days) : tableSource(table);
  const executors = lastByKey(summaries.executors, (a, b) => compareExecutorIds(a.executor_id, b.executor_id));
  const added = executors.map((e) => days.ms(e.add_time));
  const removed = executors.map((e) => days.ms(e.remove_time));
  let t0 = Infinity;
  const earliest = (ms: number | null): void => {
    if (ms !== null && ms < t0) t0 = ms;
  };
  for (let i = 0; i < stages.n; i++) {
    earliest(stages.submittedMs(i));
    earliest(stages.completedMs(i));
  }
  added.forEach(earliest);
  removed.forEach(earliest);
  if (t0 === Infinity) t0 = 0;

  // [FORMAT, t0, stage count, [stage columns], executor count, [executor columns]]
  const out = new JsonWriter();
  out.ascii(`[${FORMAT},`);
  out.value(t0);
  out.ascii(`,${stages.n},[`);
  stepColumn(out, stages.n, (i) => stages.id(i));
  out.ascii(',');
  out.values(stages.n, (i) => stages.attempt(i));
  out.ascii(',');
  textColumn(out, stages.n, (i) => stages.name(i));
  out.ascii(',');
  textColumn(out, stages.n, (i) => stages.status(i));
  // Times as ms from the column's previous time; a completion from its submission + duration.
  let previous = t0;
  out.ascii(',');
  out.values(stages.n, (i) => {
    const ms = stages.submittedMs(i);
    if (ms === null) return stages.submittedText(i);
    const v = ms - previous;
    previous = ms;
    return v;
  });
  out.ascii(',');
  out.values(stages.n, (i) => {
    const ms = stages.completedMs(i);
    return ms === null ? stages.completedText(i) : ms - completionRef(stages.submittedMs(i), stages.plain(DURATION, i), t0);
  });
  for (let k = 0; k < PLAIN_COLUMNS; k++) {
    out.ascii(',');
    out.values(stages.n, (i) => stages.plain(k, i));
  }

  const m = executors.length;
  out.ascii(`],${m},[`);
  textColumn(out, m, (i) => executors[i]!.executor_id);
  out.ascii(',');
  textColumn(out, m, (i) => executors[i]!.host);
  previous = t0;
  out.ascii(',');
  out.values(m, (i) => {
    const ms = added[i]!;
    if (ms === null) return executors[i]!.add_time;
    const v = ms - previous;
    previous = ms;
    return v;
  });
  out.ascii(',');
  out.values(m, (i) => (removed[i] === null ? executors[i]!.remove_time : removed[i]! - (added[i] ?? t0)));
  out.ascii(',');
  textColumn(out, m, (i) => executors[i]!.remove_reason);
  for (const f of EXECUTOR_PLAIN) {
    out.ascii(',');
    out.values(m, (i) => executors[i]![f]);
  }
  out.ascii(']]');
  return out.bytes();
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
  const times = new IsoTimes();
  return { stages: decodeStages(times, stageColumns, nStages, t0), executors: decodeExecutors(times, executorColumns, nExecutors, t0) };
}

function decodeStages(times: IsoTimes, columns: readonly Json[], n: number, t0: number): StageSummary[] {
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
    const submitted = untime(times, submission[i], previous);
    previous = submitted.ms ?? previous;
    const completed = untime(times, completion[i], completionRef(submitted.ms, duration![i]!, t0));
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

function decodeExecutors(times: IsoTimes, columns: readonly Json[], n: number, t0: number): ExecutorSummary[] {
  const ids = untext(columns[0], n);
  const hosts = untext(columns[1], n);
  const addition = column(columns, 2, n);
  const removal = column(columns, 3, n);
  const reasons = untext(columns[4], n);
  const counters = EXECUTOR_PLAIN.map((_, k) => column(columns, 5 + k, n));
  const out: ExecutorSummary[] = new Array<ExecutorSummary>(n);
  let previous = t0;
  for (let i = 0; i < n; i++) {
    const added = untime(times, addition[i], previous);
    previous = added.ms ?? previous;
    const removed = untime(times, removal[i], added.ms ?? t0);
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
