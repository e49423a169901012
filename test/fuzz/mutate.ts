/**
 * Mutations as small plain descriptors (so fast-check prints and shrinks a counterexample as a few
 * numbers, not megabytes), and the functions that apply them: to JSON values (an event-log line,
 * a REST answer), to the lines of a text, and to bytes (compressed or not). Built only from
 * records, tuples, integers and constants, never `.map`, so a failing case found by sampling can
 * be handed back to fast-check as an example and shrunk (fc.check's `examples`).
 */
import fc from 'fast-check';

// ---------------------------------------------------------------------------------------------
// Hostile values

/**
 * Numbers as raw JSON text: outside JavaScript's date range (8.64e15 ms), past 2^53, a 400-digit
 * CPU time, negative, fractional, exponent forms, -0, and the int32/int64 edges Spark's Long and
 * Int fields can hold (issue #13 items 3 and 6).
 */
export const RAW_NUMBERS = [
  '8640000000000001',
  '-8640000000000001',
  '99999999999999999999',
  '1e17',
  '1e308',
  '-1e308',
  '1e400',
  '9'.repeat(400),
  '-4',
  '-1',
  '0',
  '-0',
  '1.5',
  '0.0001',
  '2147483648',
  '-2147483649',
  '9223372036854775807',
  '-9223372036854775808',
  '4.9e-324',
  '123456789.123456789e3',
] as const;

export type Hostile =
  | { t: 'num'; i: number }
  | { t: 'str'; kind: 'empty' | 'long' | 'nul' | 'surrogate' | 'bom' | 'digits' | 'number-word' | 'date' | 'rtl'; n: number }
  | { t: 'bool' }
  | { t: 'null' }
  | { t: 'array' }
  | { t: 'object' }
  /** `depth` levels of nesting (issue #13 item 5: 100,000 levels dropped the rest of the log). */
  | { t: 'deep'; depth: number; kind: 'array' | 'object' };

export const hostileArb: fc.Arbitrary<Hostile> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('num' as const), i: fc.nat({ max: RAW_NUMBERS.length - 1 }) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('str' as const),
      kind: fc.constantFrom('empty', 'long', 'nul', 'surrogate', 'bom', 'digits', 'number-word', 'date', 'rtl'),
      n: fc.integer({ min: 1, max: 200_000 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constantFrom('bool' as const, 'null' as const, 'array' as const, 'object' as const) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('deep' as const), depth: fc.constantFrom(64, 1000, 10_000, 100_000), kind: fc.constantFrom('array' as const, 'object' as const) }) },
);

/** The value as JSON text. Deep values are written as text: building them as objects would overflow our own stack. */
export function hostileJson(h: Hostile): string {
  switch (h.t) {
    case 'num':
      return RAW_NUMBERS[h.i % RAW_NUMBERS.length]!;
    case 'str':
      return JSON.stringify(hostileString(h.kind, h.n));
    case 'bool':
      return 'true';
    case 'null':
      return 'null';
    case 'array':
      return '[]';
    case 'object':
      return '{}';
    case 'deep':
      return h.kind === 'array' ? `${'['.repeat(h.depth)}${']'.repeat(h.depth)}` : `${'{"a":'.repeat(h.depth)}1${'}'.repeat(h.depth)}`;
  }
}

export function hostileString(kind: Extract<Hostile, { t: 'str' }>['kind'], n: number): string {
  switch (kind) {
    case 'empty':
      return '';
    case 'long':
      return 'x'.repeat(n);
    case 'nul':
      return 'a\u0000b';
    case 'surrogate':
      return 'a\ud800b';
    case 'bom':
      return '\ufeff4g';
    case 'digits':
      return '9'.repeat(Math.min(n, 400));
    case 'number-word':
      return ['NaN', 'Infinity', '-Infinity', '1e400', '-4', '1.5', '0x10', ' 4 '][n % 8]!;
    case 'date':
      return ['+275760-09-13T00:00:00.001Z', '-271821-04-20T00:00:00.000Z', '2024-02-30T25:61:61.000GMT', '1969-12-31T23:59:59.999GMT', 'not a date'][n % 5]!;
    case 'rtl':
      return '\u202egnp.exe';
  }
}

// ---------------------------------------------------------------------------------------------
// JSON value mutations

/** Where in a JSON document a mutation lands: `pick` indexes its paths; `focus` prefers the keys a collector reads. */
export interface JsonEdit {
  pick: number;
  focus: boolean;
  op: 'set' | 'drop' | 'rename';
  value: Hostile;
}

export const jsonEditArb: fc.Arbitrary<JsonEdit> = fc.record({ pick: fc.nat(), focus: fc.boolean(), op: fc.constantFrom('set' as const, 'set' as const, 'set' as const, 'drop' as const, 'rename' as const), value: hostileArb });

type Path = (string | number)[];

function paths(v: unknown, at: Path, out: Path[], depth: number): void {
  if (out.length >= 5000 || depth > 8 || v === null || typeof v !== 'object') return;
  const entries: [string | number, unknown][] = Array.isArray(v) ? v.slice(0, 50).map((x, i) => [i, x]) : Object.entries(v);
  for (const [k, x] of entries) {
    const p = [...at, k];
    out.push(p);
    paths(x, p, out, depth + 1);
  }
}

/** A marker that JSON.stringify keeps as one string token, replaced by raw text afterwards. */
const MARK = '\u0001fuzz-raw\u0001';

/**
 * `text` (one JSON document) with one value set, dropped or its key renamed, as `edit` says; the
 * text unchanged when it is not JSON or has no such place. `focusKeys` are the keys `focus` prefers.
 */
export function editJson(text: string, edit: JsonEdit, focusKeys: ReadonlySet<string>): string {
  try {
    return editParsed(JSON.parse(text) as unknown, edit, focusKeys);
  } catch {
    // Not JSON, or a value an earlier edit nested too deep for JSON.stringify: left as it is.
    return text;
  }
}

function editParsed(doc: unknown, edit: JsonEdit, focusKeys: ReadonlySet<string>): string {
  const all: Path[] = [];
  paths(doc, [], all, 0);
  const focused = edit.focus ? all.filter((p) => focusKeys.has(String(p[p.length - 1]))) : [];
  const candidates = focused.length > 0 ? focused : all;
  if (candidates.length === 0) return edit.op === 'set' ? hostileJson(edit.value) : JSON.stringify(doc);
  const target = candidates[edit.pick % candidates.length]!;
  let parent = doc as Record<string | number, unknown>;
  for (const k of target.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const key = target[target.length - 1]!;
  if (edit.op === 'drop') {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
    return JSON.stringify(doc);
  }
  if (edit.op === 'rename' && !Array.isArray(parent)) {
    const renamed: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(parent)) renamed[k === key ? `${k.toLowerCase()} ` : k] = v;
    for (const k of Object.keys(parent)) delete parent[k];
    Object.assign(parent, renamed);
    return JSON.stringify(doc);
  }
  // A number for a string that holds one (spark.app.submitTime, spark.executor.cores) stays a string.
  const raw = edit.value.t === 'num' && typeof parent[key] === 'string' && /^-?\d/.test(parent[key]) ? JSON.stringify(hostileJson(edit.value)) : hostileJson(edit.value);
  parent[key] = MARK;
  return JSON.stringify(doc).replace(JSON.stringify(MARK), () => raw);
}

// ---------------------------------------------------------------------------------------------
// Line mutations (event logs; configs use their own, in configTarget.ts)

export type LineEdit =
  | { op: 'dup' | 'del' | 'bom' | 'blank'; line: number }
  | { op: 'swap' | 'move'; line: number; other: number }
  | { op: 'cut'; at: number }
  | { op: 'crlf' }
  | { op: 'junk'; line: number; junk: number }
  | { op: 'json'; line: number; lineFocus: boolean; edit: JsonEdit };

/** Lines that are not JSON events, inserted whole. */
const JUNK_LINES = ['', '{', '}', '{"Event":', '{"Event":"SparkListenerTaskEnd"}', '{"Event":null}', '[1,2,3]', 'null', '"Event"', '\u0000\u0000\u0000', '{"Event":"SparkListenerApplicationStart","Timestamp":8640000000000001}', '{"Event":"SparkListenerApplicationEnd","Timestamp":-1}', '{"Event":"SparkListenerExecutorAdded","Executor ID":"9","Executor Info":{"Total Cores":-4}}', '{"Event":"SparkListenerTaskEnd","Task Metrics":{"Executor CPU Time":1e400,"Input Metrics":{"Bytes Read":1.5}}}'];

export const lineEditArb: fc.Arbitrary<LineEdit> = fc.oneof(
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('dup' as const, 'del' as const, 'bom' as const, 'blank' as const), line: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('swap' as const, 'move' as const), line: fc.nat(), other: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('crlf' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('junk' as const), line: fc.nat(), junk: fc.nat({ max: JUNK_LINES.length - 1 }) }) },
  { weight: 6, arbitrary: fc.record({ op: fc.constant('json' as const), line: fc.nat(), lineFocus: fc.boolean(), edit: jsonEditArb }) },
);

/** One value of one line, mostly on the lines and keys the collectors read. */
export const valueEditArb: fc.Arbitrary<LineEdit> = fc.record({
  op: fc.constant('json' as const),
  line: fc.nat(),
  lineFocus: fc.constantFrom(true, true, true, false),
  edit: fc.record({
    pick: fc.nat(),
    focus: fc.constantFrom(true, true, true, false),
    op: fc.constantFrom('set' as const, 'set' as const, 'set' as const, 'drop' as const, 'rename' as const),
    value: fc.oneof({ weight: 3, arbitrary: fc.record({ t: fc.constant('num' as const), i: fc.nat({ max: RAW_NUMBERS.length - 1 }) }) }, { weight: 2, arbitrary: hostileArb }),
  }),
});

/** Event types the collectors read (replay.ts's PARSED_EVENTS): `lineFocus` picks among these lines. */
const READ_EVENTS = /^\{"Event":"SparkListener(LogStart|ApplicationStart|ApplicationEnd|EnvironmentUpdate|ExecutorAdded|BlockManagerAdded|StageCompleted|TaskEnd)"/;

/** Keys the event-log replay and the History Server mapping read. */
export const FOCUS_KEYS: ReadonlySet<string> = new Set([
  'Timestamp', 'App ID', 'App Name', 'App Attempt ID', 'User', 'Spark Version', 'ExitCode', 'Spark Properties', 'spark.app.submitTime', 'spark.executor.cores',
  'spark.executor.memory', 'spark.driver.memory', 'spark.app.id', 'Executor ID', 'Executor Info', 'Total Cores', 'Block Manager ID', 'Stage Info', 'Stage ID', 'Stage Attempt ID',
  'Failure Reason', 'Task End Reason', 'Reason', 'Task Info', 'Failed', 'Task Metrics', 'Executor CPU Time', 'Memory Bytes Spilled', 'Disk Bytes Spilled', 'Shuffle Read Metrics',
  'Remote Bytes Read', 'Local Bytes Read', 'Shuffle Write Metrics', 'Shuffle Bytes Written', 'Input Metrics', 'Bytes Read', 'Output Metrics', 'Bytes Written',
  // History Server answers
  'id', 'name', 'attempts', 'attemptId', 'startTime', 'endTime', 'startTimeEpoch', 'endTimeEpoch', 'sparkUser', 'completed', 'appSparkVersion', 'sparkProperties',
  'totalCores', 'status', 'stageId', 'numCompleteTasks', 'numFailedTasks', 'numKilledTasks', 'executorCpuTime', 'executorRunTime', 'inputBytes', 'outputBytes',
  'shuffleReadBytes', 'shuffleWriteBytes', 'memoryBytesSpilled', 'diskBytesSpilled', 'jobId', 'stageIds',
]);

/** Whether every edit keeps each line a line of its own, changing at most one value: the rest of the log must still be read. */
export function onlyValueEdits(edits: readonly LineEdit[]): boolean {
  return edits.length === 1 && edits[0]!.op === 'json';
}

/** `text` (lines ending in '\n') with `edits` applied in order, as bytes. */
export function editLines(text: string, edits: readonly LineEdit[]): Buffer {
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  let crlf = false;
  let cut: number | null = null;
  const bom = new Set<number>();
  for (const e of edits) {
    const n = lines.length;
    if (n === 0) break;
    switch (e.op) {
      case 'dup':
        lines.splice(e.line % n, 0, lines[e.line % n]!);
        break;
      case 'del':
        lines.splice(e.line % n, 1);
        break;
      case 'blank':
        lines.splice(e.line % (n + 1), 0, '');
        break;
      case 'bom':
        bom.add(e.line % 3 === 0 ? 0 : e.line % n);
        break;
      case 'swap': {
        const [a, b] = [e.line % n, e.other % n];
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        break;
      }
      case 'move': {
        const [moved] = lines.splice(e.line % n, 1);
        lines.splice(e.other % n, 0, moved!);
        break;
      }
      case 'cut':
        cut = e.at;
        break;
      case 'crlf':
        crlf = true;
        break;
      case 'junk':
        lines.splice(e.line % (n + 1), 0, JUNK_LINES[e.junk % JUNK_LINES.length]!);
        break;
      case 'json': {
        // Focused: an event type the collectors read first, then one of its lines, so the rare
        // events (ApplicationStart, ApplicationEnd, EnvironmentUpdate) are hit as often as TaskEnd.
        const byType = new Map<string, number[]>();
        if (e.lineFocus) lines.forEach((l, i) => {
          const type = READ_EVENTS.exec(l)?.[1];
          if (type !== undefined) byType.set(type, [...(byType.get(type) ?? []), i]);
        });
        const groups = [...byType.values()];
        const group = groups[e.line % Math.max(1, groups.length)];
        const i = group !== undefined ? group[Math.floor(e.line / groups.length) % group.length]! : e.line % n;
        lines[i] = editJson(lines[i]!, e.edit, FOCUS_KEYS);
        break;
      }
    }
  }
  const out = Buffer.from(lines.map((l, i) => (bom.has(i) ? `\ufeff${l}` : l)).join(crlf ? '\r\n' : '\n') + (crlf ? '\r\n' : '\n'));
  return cut === null ? out : out.subarray(0, cut % (out.length + 1));
}

// ---------------------------------------------------------------------------------------------
// Byte mutations: on a compressed file they corrupt its framing; on a plain one they make invalid UTF-8

/** A byte position: near the start (headers), near the end (last block, checksums) or anywhere. */
export interface Pos {
  from: 'start' | 'end' | 'any';
  n: number;
}

export type ByteEdit =
  | { op: 'flip'; at: Pos; bit: number }
  | { op: 'set'; at: Pos; value: number }
  /** A 4-byte length or checksum field overwritten (lz4 block lengths at 9 and 13, snappy's at 16, …). */
  | { op: 'int32'; at: Pos; value: number; be: boolean }
  | { op: 'cut'; at: Pos }
  | { op: 'del' | 'dup'; at: Pos; len: number }
  | { op: 'insert'; at: Pos; bytes: number }
  | { op: 'bom' }
  | { op: 'append'; bytes: number };

const posArb: fc.Arbitrary<Pos> = fc.record({ from: fc.constantFrom('start' as const, 'start' as const, 'end' as const, 'any' as const, 'any' as const), n: fc.nat() });

/** Byte runs to insert: invalid UTF-8 (lone continuation, overlong NUL, surrogate, cut sequence), NUL, a BOM, a newline, a frame magic. */
const INSERTS: readonly number[][] = [[0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0], [0xef, 0xbb, 0xbf], [0x0a], [0x28, 0xb5, 0x2f, 0xfd], [0x1f, 0x8b, 8], [0x4c, 0x5a, 0x34, 0x42, 0x6c, 0x6f, 0x63, 0x6b], [0x5a, 0x56, 0x00]];

const INT32S = [0, 1, 0x7fffffff, -1, -0x80000000, 0x10000000, 0x01000000, 65536];

export const byteEditArb: fc.Arbitrary<ByteEdit> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: posArb, bit: fc.nat({ max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: posArb, value: fc.constantFrom(0, 0xff, 0x0a, 0x7f, 0x80, 0x22, 0x7b) }),
  fc.record({ op: fc.constant('int32' as const), at: posArb, value: fc.nat({ max: INT32S.length - 1 }), be: fc.boolean() }),
  fc.record({ op: fc.constant('cut' as const), at: posArb }),
  fc.record({ op: fc.constantFrom('del' as const, 'dup' as const), at: posArb, len: fc.integer({ min: 1, max: 4096 }) }),
  fc.record({ op: fc.constant('insert' as const), at: posArb, bytes: fc.nat({ max: INSERTS.length - 1 }) }),
  fc.record({ op: fc.constant('bom' as const) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.nat({ max: INSERTS.length - 1 }) }),
);

function offset(p: Pos, length: number): number {
  if (length === 0) return 0;
  const near = Math.min(length, 64);
  return p.from === 'start' ? p.n % near : p.from === 'end' ? length - 1 - (p.n % near) : p.n % length;
}

export function editBytes(input: Buffer, edits: readonly ByteEdit[]): Buffer {
  let b = Buffer.from(input);
  for (const e of edits) {
    switch (e.op) {
      case 'flip':
        if (b.length > 0) b[offset(e.at, b.length)]! ^= 1 << e.bit;
        break;
      case 'set':
        if (b.length > 0) b[offset(e.at, b.length)] = e.value;
        break;
      case 'int32': {
        if (b.length < 4) break;
        const at = Math.min(offset(e.at, b.length), b.length - 4);
        const v = INT32S[e.value % INT32S.length]!;
        if (e.be) b.writeInt32BE(v, at);
        else b.writeInt32LE(v, at);
        break;
      }
      case 'cut':
        b = b.subarray(0, offset(e.at, b.length));
        break;
      case 'del': {
        const at = offset(e.at, b.length);
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + e.len)]);
        break;
      }
      case 'dup': {
        const at = offset(e.at, b.length);
        b = Buffer.concat([b.subarray(0, at + e.len), b.subarray(at)]);
        break;
      }
      case 'insert': {
        const at = offset(e.at, b.length);
        b = Buffer.concat([b.subarray(0, at), Buffer.from(INSERTS[e.bytes % INSERTS.length]!), b.subarray(at)]);
        break;
      }
      case 'bom':
        b = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), b]);
        break;
      case 'append':
        b = Buffer.concat([b, Buffer.from(INSERTS[e.bytes % INSERTS.length]!)]);
        break;
    }
  }
  return b;
}
