/**
 * Event-log analyzer: everything in a Spark event log that would make collection wrong or
 * incomplete, as findings with exact ranges. Fed line by line (from an editor's text or streamed
 * from disk through the same decoders as collection), so a file of any size is checked in bounded
 * memory. Unlike the collector's replay, it parses every line: it must find what is wrong anywhere.
 *
 * What collection itself checks (a key an event needs, a value that cannot be true, bytes that are
 * not UTF-8, the record's times and sizes) is found by collection's own engine: the analyzer runs
 * the replay (replay.ts) beside its checks and gives its problems as they are, on their lines (a
 * review: the two had drifted apart in codes, wording and columns). The analyzer adds only what the
 * engine does not look for.
 */
import { createReadStream } from 'node:fs';
import * as path from 'node:path';
import { CodecError, DecompressionLimitError, codecFromName, decode, type Codec } from '../collectors/eventlog/codecs/index';
import { DATABRICKS_ROLLED, ROLLING_PART_MISSING, discover, rollingGapText, rollingGaps } from '../collectors/eventlog/discovery';
import { DEFAULT_MAX_LINE_MB, overlongMessage, splitLines } from '../collectors/eventlog/lines';
import { MALFORMED_JSON, MISSING_EVENT, MISSING_EVENT_MESSAGE, TRUNCATED_LINE, codecFailureSeverity, malformedJson, truncatedLineMessage } from '../common/lineProblems';
import { AppReplay } from '../collectors/eventlog/replay';
import { finishRecord } from '../collectors/record/finish';
import type { Problem } from '../collectors/record';
import { timeFault } from '../collectors/record';
import { range, lineRange, sortFindings, type Finding, type FindingSeverity } from './findings';

export interface EventLogContext {
  /** The file's name (base name is enough): tells `.inprogress` and rolling parts apart. */
  fileName: string;
  /**
   * Names of the files in the same folder, to spot missing parts of a rolling log; the file's own
   * name may be among them (it changes nothing: `validate` passes one listing for a folder's files).
   */
  siblings?: readonly string[];
  /**
   * Whether the log is still being written, as discovery tells from its layout: an `appstatus_…`
   * file ending in `.inprogress` next to a rolling log, a Spark 1.x folder without
   * APPLICATION_COMPLETE (discovery.ts). Unknown (left out): only an `.inprogress` name says so.
   */
  inProgress?: boolean;
  /** The version a Spark 1.x folder names in its SPARK_VERSION_x file (discovery.ts), which collection records for a log without LogStart. */
  sparkVersion?: string;
}

/** Event types Spark itself writes (JsonProtocol and the SQL/streaming listeners); others are custom. */
const KNOWN_EVENTS = new Set([
  'SparkListenerLogStart',
  'SparkListenerApplicationStart',
  'SparkListenerApplicationEnd',
  'SparkListenerEnvironmentUpdate',
  'SparkListenerExecutorAdded',
  'SparkListenerExecutorRemoved',
  'SparkListenerExecutorMetricsUpdate',
  'SparkListenerBlockManagerAdded',
  'SparkListenerBlockManagerRemoved',
  'SparkListenerBlockUpdated',
  'SparkListenerJobStart',
  'SparkListenerJobEnd',
  'SparkListenerStageSubmitted',
  'SparkListenerStageCompleted',
  'SparkListenerStageExecutorMetrics',
  'SparkListenerTaskStart',
  'SparkListenerTaskGettingResult',
  'SparkListenerTaskEnd',
  'SparkListenerUnpersistRDD',
  'SparkListenerResourceProfileAdded',
  'SparkListenerSpeculativeTaskSubmitted',
  'SparkListenerUnschedulableTaskSetAdded',
  'SparkListenerUnschedulableTaskSetRemoved',
  'SparkListenerMiscellaneousProcessAdded',
]);
const KNOWN_PREFIXES = ['org.apache.spark.sql.', 'org.apache.spark.scheduler.', 'org.apache.spark.streaming.'];

const TASK_METRIC_KEYS = ['Executor Deserialize Time', 'Executor Run Time', 'Executor CPU Time', 'Result Size', 'JVM GC Time', 'Memory Bytes Spilled', 'Disk Bytes Spilled'];
const NESTED_METRICS: Record<string, string[]> = {
  'Shuffle Read Metrics': ['Remote Bytes Read', 'Local Bytes Read', 'Remote Blocks Fetched', 'Local Blocks Fetched', 'Total Records Read'],
  'Shuffle Write Metrics': ['Shuffle Bytes Written', 'Shuffle Records Written'],
  'Input Metrics': ['Bytes Read', 'Records Read'],
  'Output Metrics': ['Bytes Written', 'Records Written'],
};

const DEFAULTED: [string, string][] = [
  ['spark.executor.cores', "the record uses the executors' Total Cores, else 1 (the YARN and Kubernetes default)"],
  ['spark.executor.memory', "the record uses Spark's default 1g (1024 MB)"],
  ['spark.driver.memory', "the record uses Spark's default 1g (1024 MB)"],
];

/** At most this many findings per code; the rest are summed up in one. */
const MAX_PER_CODE = 100;
const CLOCK_SLACK_MS = 1000;
// A codec suffix is never `.compact` itself: `events_3_app.compact` is part 3 of app, compacted, not compressed.
const ROLLING_PART = /^events_(\d+)_(.+?)(\.(?!compact$)[a-z0-9]+)?(\.compact)?$/;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | null => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** Epoch ms that can be one of the record's times (record.ts timeFault), else null: past ±8.64e15 ms `toISOString` throws. */
const time = (v: unknown): number | null => {
  const n = num(v);
  return n !== null && timeFault(n) === null ? n : null;
};
const iso = (ms: number): string => new Date(ms).toISOString();

export class EventLogAnalyzer {
  private readonly findings: Finding[] = [];
  private readonly perCode = new Map<string, number>();
  private readonly inProgress: boolean;
  private readonly firstPart: boolean;
  private readonly lastPart: boolean;

  private logStart = false;
  private appStart: { line: number; ts: number | null } | null = null;
  private appEnd: { line: number; ts: number | null } | null = null;
  private env: { line: number; length: number; props: Json } | null = null;
  private lastTime: { ts: number; line: number } | null = null;
  private readonly submittedStages = new Set<string>();
  private readonly unknownTypes = new Set<string>();
  private events = 0;
  private lastLine: { line: number; length: number; broken: boolean } | null = null;
  /** Collection's engine, fed the same lines: its problems are this analyzer's for the rules it checks. */
  private readonly replay: AppReplay;
  /** Length of each line the engine found a problem on (1-based line -> UTF-16 length), for the finding's range. */
  private readonly problemLines = new Map<number, number>();

  constructor(private readonly ctx: EventLogContext) {
    const name = path.basename(ctx.fileName);
    this.inProgress = ctx.inProgress ?? name.endsWith('.inprogress');
    // A part whose folder could not be listed: where it sits is unknown, so neither its start nor its end is looked for.
    const unplaced = ctx.siblings === undefined && readsFolderNames(name);
    ({ first: this.firstPart, last: this.lastPart } = unplaced ? { first: false, last: false } : partPosition(name, ctx.siblings ?? []));
    this.replay = new AppReplay({ appId: name, source: '', inProgress: this.inProgress, sparkVersion: ctx.sparkVersion, tags: {} });
    this.replay.beginFile(ctx.fileName);
  }

  /** How bad a codec's failure in this log is, as collection rates it (codecFailureSeverity). */
  codecSeverity(truncated: boolean): FindingSeverity {
    const severity = codecFailureSeverity(truncated, this.lastPart, this.inProgress);
    return severity === 'info' ? 'information' : severity;
  }

  private add(severity: FindingSeverity, code: string, r: Finding['range'], message: string, fixes?: Finding['fixes']): void {
    const n = (this.perCode.get(code) ?? 0) + 1;
    this.perCode.set(code, n);
    if (n <= MAX_PER_CODE) this.findings.push({ range: r, severity, code, message, ...(fixes ? { fixes } : {}) });
  }

  /**
   * One line of the log (without its newline), 0-based. `complete` = a newline followed it.
   * `buf[start, end)`: the line as read, for collection's engine, which reads bytes (as collection
   * gives them: a chunk and where the line is in it); made from the text when not given.
   */
  line(text: string, lineNo: number, complete = true, buf?: Buffer, start = 0, end = buf?.length ?? 0): void {
    if (buf === undefined) {
      buf = Buffer.from(text);
      end = buf.length;
    }
    this.engineLine(buf, start, end, lineNo + 1, complete, text.length);
    if (text.length > 0 && text.charCodeAt(text.length - 1) === 13) text = text.slice(0, -1);
    this.lastLine = { line: lineNo, length: text.length, broken: false };
    if (text.trim().length === 0) return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      if (!complete) {
        this.lastLine.broken = true;
        return; // reported in finish(), where the missing ApplicationEnd is explained with it
      }
      // The engine reads some events from their first bytes without parsing them (replay.ts): a
      // malformed line it did not parse is not skipped, and the message must not say it is.
      const bad = malformedJson(text, this.replay.lastLineProblem !== lineNo + 1);
      this.add('error', bad.code, range(lineNo, bad.column - 1, lineNo, text.length), bad.message);
      return;
    }
    const e = obj(value);
    // As the engine takes it: a number is an event type too (an unknown one).
    const type = e && (typeof e.Event === 'string' || typeof e.Event === 'number') ? String(e.Event) : null;
    if (!e || type === null) {
      this.add('error', MISSING_EVENT, lineRange(lineNo, text.length), MISSING_EVENT_MESSAGE);
      return;
    }
    this.events++;
    this.event(type, e, text, lineNo);
  }

  private ordered(ts: number | null, lineNo: number, length: number, what: string): void {
    if (ts === null || ts <= 0) return;
    if (this.lastTime && ts < this.lastTime.ts - CLOCK_SLACK_MS) {
      this.add(
        'warning',
        'time-backwards',
        lineRange(lineNo, length),
        `${what} (${iso(ts)}) is ${((this.lastTime.ts - ts) / 1000).toFixed(1)} s earlier than an event logged before it (line ${this.lastTime.line + 1}): the log's lines are out of order or were merged from several logs.`,
      );
    }
    if (!this.lastTime || ts > this.lastTime.ts) this.lastTime = { ts, line: lineNo };
  }

  /** A line given to collection's engine as collection gives it (1-based `lineNo`); the lines it found problems on are noted. */
  private engineLine(buf: Buffer, start: number, end: number, lineNo: number, complete: boolean, length: number): void {
    const before = this.replay.problems.length;
    if (complete) this.replay.line(buf, start, end, lineNo);
    else this.replay.lastLine(start === 0 && end === buf.length ? buf : buf.subarray(start, end), lineNo);
    if (this.replay.problems.length !== before) this.problemLines.set(lineNo, length);
  }

  private event(type: string, e: Json, text: string, lineNo: number): void {
    const whole = lineRange(lineNo, text.length);
    switch (type) {
      case 'SparkListenerLogStart':
        this.logStart = true;
        return;
      // A Timestamp that cannot be a time is the engine's invalid-value; an end before the start its time-order error.
      case 'SparkListenerApplicationStart':
        this.appStart = { line: lineNo, ts: time(e.Timestamp) };
        this.ordered(this.appStart.ts, lineNo, text.length, 'Application start');
        return;
      case 'SparkListenerApplicationEnd': {
        const ts = time(e.Timestamp);
        this.appEnd = { line: lineNo, ts };
        if (ts === null || this.appStart?.ts == null || ts >= this.appStart.ts) this.ordered(ts, lineNo, text.length, 'Application end');
        return;
      }
      case 'SparkListenerEnvironmentUpdate':
        this.env = { line: lineNo, length: text.length, props: obj(e['Spark Properties']) ?? {} };
        return;
      case 'SparkListenerJobStart':
        this.ordered(time(e['Submission Time']), lineNo, text.length, 'Job submission');
        return;
      case 'SparkListenerJobEnd':
        this.ordered(time(e['Completion Time']), lineNo, text.length, 'Job completion');
        return;
      case 'SparkListenerStageSubmitted': {
        const info = obj(e['Stage Info']);
        if (info) this.submittedStages.add(`${num(info['Stage ID'])}.${num(info['Stage Attempt ID']) ?? 0}`);
        return;
      }
      case 'SparkListenerStageCompleted': {
        const info = obj(e['Stage Info']);
        const sub = num(info?.['Submission Time']);
        const done = num(info?.['Completion Time']);
        if (sub !== null && done !== null && done < sub) {
          this.add('error', 'end-before-start', whole, `Stage ${num(info?.['Stage ID'])} completes before it was submitted (${done - sub} ms): its times cannot be right.`);
        }
        return;
      }
      case 'SparkListenerTaskEnd':
        this.taskEnd(e, text, lineNo);
        return;
      default:
        if (!KNOWN_EVENTS.has(type) && !KNOWN_PREFIXES.some((p) => type.startsWith(p)) && !this.unknownTypes.has(type)) {
          this.unknownTypes.add(type);
          const at = text.indexOf(type);
          this.add('information', 'unknown-event', at >= 0 ? range(lineNo, at, lineNo, at + type.length) : whole, `Unknown event type ${type} (a custom or platform listener): collection skips it. Reported once per type.`);
        }
    }
  }

  private taskEnd(e: Json, text: string, lineNo: number): void {
    const stage = `${num(e['Stage ID'])}.${num(e['Stage Attempt ID']) ?? 0}`;
    // Later parts of a rolling log legitimately end tasks of stages submitted in earlier parts.
    if (this.firstPart && !this.submittedStages.has(stage)) {
      this.add('warning', 'task-for-unknown-stage', lineRange(lineNo, text.length), `Task end for stage ${stage.replace('.', ' attempt ')}, which was never submitted in this log: events are missing or out of order.`);
      this.submittedStages.add(stage); // once per stage
    }
    const info = obj(e['Task Info']);
    const launch = num(info?.['Launch Time']);
    const finish = num(info?.['Finish Time']);
    if (launch !== null && finish !== null && finish > 0 && finish < launch) {
      this.add('error', 'end-before-start', lineRange(lineNo, text.length), `Task ${num(info?.['Task ID'])} finishes ${launch - finish} ms before it was launched: its times cannot be right.`);
    }
    const reason = obj(e['Task End Reason'])?.Reason;
    if (reason === 'Success' && info?.Failed === true) {
      this.add('warning', 'inconsistent-task', lineRange(lineNo, text.length), 'Task End Reason is Success but Task Info says Failed: the record counts it by its end reason, as succeeded (as Spark\'s History Server does), not in failed_tasks.');
    }
    const tm = obj(e['Task Metrics']);
    if (!tm) return;
    const negative = (key: string, v: unknown): void => {
      const n = num(v);
      if (n === null || n >= 0) return;
      const needle = `"${key}":${n}`;
      const at = text.indexOf(needle);
      // Not an error: Spark writes -1 for a metric it did not measure (some versions), and collection takes it so.
      this.add(
        'information',
        'negative-metric',
        at >= 0 ? range(lineNo, at, lineNo, at + needle.length) : lineRange(lineNo, text.length),
        `${key} is ${n}: Spark writes a negative value for a metric it did not measure; collection takes it as unknown and leaves it out of the application's totals.`,
      );
    };
    for (const k of TASK_METRIC_KEYS) negative(k, tm[k]);
    for (const [group, keys] of Object.entries(NESTED_METRICS)) {
      const g = obj(tm[group]);
      if (g) for (const k of keys) negative(k, g[k]);
    }
  }

  finish(): Finding[] {
    const top = range(0, 0, 0, 0);
    const { firstPart, lastPart } = this;
    const last = this.lastLine;
    this.engineProblems();
    if (this.events === 0) {
      if (last && last.broken) this.add('error', 'truncated-line', lineRange(last.line, last.length), 'The file holds only a cut-off line: no complete Spark event.');
      else this.add('error', 'no-events', top, 'No Spark listener event in this file: it is empty or not an event log.');
      return sortFindings(this.findings);
    }
    if (last?.broken) {
      this.add(
        this.inProgress ? 'information' : 'warning',
        TRUNCATED_LINE,
        lineRange(last.line, last.length),
        truncatedLineMessage(this.inProgress),
      );
    }
    if (firstPart) {
      if (!this.logStart) {
        const version = this.ctx.sparkVersion === undefined ? 'spark_version stays empty.' : `spark_version is taken from the folder's SPARK_VERSION_${this.ctx.sparkVersion} file.`;
        this.add('information', 'missing-log-start', top, `No SparkListenerLogStart: the log was written by Spark before 1.5 or lost its first line. ${version}`);
      }
      // A whole log without it has the engine's record-inconsistent warning instead (engineProblems), as collect reports it.
      if (!this.appStart && !lastPart) this.add('error', 'missing-application-start', top, 'No SparkListenerApplicationStart: the record has no start time, name or user, and takes its app id from the file name.');
      if (!this.env) this.add('warning', 'missing-environment-update', top, 'No SparkListenerEnvironmentUpdate: executor and driver sizes fall back to defaults.');
    }
    if (lastPart && !this.appEnd) {
      const at = last ? lineRange(last.line, last.length) : top;
      if (this.inProgress) this.add('information', 'missing-application-end', at, 'No SparkListenerApplicationEnd yet: the application is still running (its log is in progress). Its record is marked running.');
      else if (last?.broken)
        this.add('warning', 'missing-application-end', at, 'No SparkListenerApplicationEnd and the last line is cut off: the log was most likely truncated (a partial copy or a crashed driver). The record is marked truncated.');
      else
        this.add('warning', 'missing-application-end', at, 'No SparkListenerApplicationEnd: the application was still running when this copy was made, or its driver died. The record is marked truncated, status unknown.');
    }
    if (this.env) {
      for (const [key, fallback] of DEFAULTED) {
        if (this.env.props[key] === undefined) this.add('information', 'defaulted-property', lineRange(this.env.line, this.env.length), `${key} is not set: ${fallback}.`);
      }
    }
    this.rollingParts();
    for (const [code, n] of this.perCode) {
      if (n > MAX_PER_CODE) this.findings.push({ range: top, severity: 'information', code, message: `${n - MAX_PER_CODE} more "${code}" findings not listed.` });
    }
    return sortFindings(this.findings);
  }

  /**
   * Collection's own problems with this log, as `collect` reports them: one code, one message, on the
   * same line. Malformed and event-less lines are left out: this analyzer parses every line and
   * reports each of them with the same catalogue (lineProblems.ts), the engine only those it parses.
   */
  private engineProblems(): void {
    const replay = this.replay;
    replay.endFile();
    const record = replay.finish();
    // The record's own checks (its times, its consistency) need the whole application: a part of a
    // rolling or Databricks log checked alone gives only the problems of its lines.
    const whole = this.firstPart && this.lastPart;
    const problems: Problem[] = record === null || !whole ? replay.problems : [...replay.problems, ...finishRecord(record, this.ctx.fileName)];
    for (const p of problems) {
      if (p.code === MALFORMED_JSON || p.code === MISSING_EVENT || (p.line === undefined && !whole)) continue;
      const line = p.line === undefined ? 0 : p.line - 1;
      const column = p.column === undefined ? 0 : p.column - 1;
      const length = p.line === undefined ? 0 : (this.problemLines.get(p.line) ?? 0);
      const severity: FindingSeverity = p.severity === 'info' ? 'information' : p.severity;
      this.add(severity, p.code, range(line, column, line, Math.max(column, length)), p.message);
    }
  }

  private rollingParts(): void {
    const m = ROLLING_PART.exec(path.basename(this.ctx.fileName));
    if (!m || this.ctx.siblings === undefined) return;
    const app = m[2]!;
    const present = new Set<number>();
    let compactFrom = 0;
    for (const s of [...this.ctx.siblings, path.basename(this.ctx.fileName)]) {
      const o = ROLLING_PART.exec(s);
      if (!o || o[2] !== app) continue;
      present.add(Number(o[1]));
      if (o[4]) compactFrom = Math.max(compactFrom, Number(o[1]));
    }
    const missing = rollingGaps(present, compactFrom, Number(m[1]) - 1);
    if (missing.length > 0) {
      this.add('warning', ROLLING_PART_MISSING, range(0, 0, 0, 0), `This is part ${m[1]} of a rolling event log, but ${rollingGapText(missing)}: the application's record will be incomplete.`);
    }
    if (!this.ctx.siblings.some((s) => s.startsWith(APP_STATUS_PREFIX))) {
      this.add('information', 'rolling-status-missing', range(0, 0, 0, 0), 'The folder has no appstatus_… file: the application is taken as finished only if its log ends with SparkListenerApplicationEnd, and as still running otherwise (as collection takes it).');
    }
  }
}

const APP_STATUS_PREFIX = 'appstatus_';

/** A Databricks part: the current `eventlog` or a rolled `eventlog-<time>` (discovery's rule). */
const isDatabricksPart = (name: string): boolean => name === 'eventlog' || DATABRICKS_ROLLED.test(name);

/**
 * A folder's names grouped by what a log among them reads of the others (siblingsFor): each
 * application's rolling parts, the Databricks parts (`eventlog` and `eventlog-<time>`), and one
 * `appstatus_…` file if there is any. Made once per folder: a log's partPosition and rollingParts
 * then look through its own group, not through every name (a folder of 10,000 logs would look
 * through 10,000 names per log; issue #12).
 */
export interface FolderIndex {
  readonly rolling: ReadonlyMap<string, readonly string[]>;
  readonly databricks: readonly string[];
  readonly appStatus: string | undefined;
}

export function folderIndex(names: readonly string[]): FolderIndex {
  const rolling = new Map<string, string[]>();
  const databricks: string[] = [];
  let appStatus: string | undefined;
  for (const name of names) {
    const part = ROLLING_PART.exec(name);
    if (part) {
      const same = rolling.get(part[2]!);
      if (same) same.push(name);
      else rolling.set(part[2]!, [name]);
    } else if (isDatabricksPart(name)) databricks.push(name);
    else if (appStatus === undefined && name.startsWith(APP_STATUS_PREFIX)) appStatus = name;
  }
  return { rolling, databricks, appStatus };
}

/** Whether a log of this name reads its folder's names (a rolling or Databricks part); a whole log does not. */
export function readsFolderNames(name: string): boolean {
  return ROLLING_PART.test(name) || isDatabricksPart(name);
}

/**
 * The names of `name`'s folder that the analyzer reads for it (EventLogContext.siblings): the other
 * parts of its rolling log and an appstatus file, or the other Databricks parts, or none for a whole
 * log. The analyzer finds the same with these as with every name of the folder (analysis.test.ts).
 */
export function siblingsFor(name: string, index: FolderIndex): readonly string[] {
  const part = ROLLING_PART.exec(name);
  if (part) {
    const parts = index.rolling.get(part[2]!) ?? [];
    return index.appStatus === undefined ? parts : [...parts, index.appStatus];
  }
  return isDatabricksPart(name) ? index.databricks : [];
}

/**
 * Where a file sits in a multi-file log: rolling `events_N_…` parts (from the last `.compact` on)
 * and Databricks `eventlog-<time>` parts followed by `eventlog`. Only the first part has the
 * application's start events; only the last has its end.
 */
export function partPosition(name: string, siblings: readonly string[]): { first: boolean; last: boolean } {
  const rolling = ROLLING_PART.exec(name);
  if (rolling) {
    const indexes = siblings.map((s) => ROLLING_PART.exec(s)).filter((o) => o !== null && o[2] === rolling[2]).map((o) => ({ n: Number(o![1]), compact: o![4] !== undefined }));
    const n = Number(rolling[1]);
    const start = Math.max(rolling[4] ? n : 0, ...indexes.filter((i) => i.compact).map((i) => i.n));
    return { first: n <= start || !indexes.some((i) => i.n < n && i.n >= start), last: !indexes.some((i) => i.n > n) };
  }
  // Any other name is a whole log: its folder's names are not looked at (a folder of 10,000 logs would
  // look at 10,000 names per log).
  if (!isDatabricksPart(name)) return { first: true, last: true };
  const rolled = siblings.filter((s) => DATABRICKS_ROLLED.test(s)).sort();
  if (name === 'eventlog') return { first: rolled.length === 0, last: true };
  return { first: rolled.length === 0 || name <= rolled[0]!, last: !siblings.includes('eventlog') && !rolled.some((r) => r > name) };
}

/**
 * Analyzes a log's text (an editor document), with the line limit collection reads it with
 * (`maxLineBytes`, collection's default when absent): a longer line is the same line-too-long
 * finding `validate` gives, and is not read (a review: the editor said nothing of a 40 MB line).
 */
export function analyzeEventLogText(text: string, ctx: EventLogContext & { maxLineBytes?: number }): Finding[] {
  const a = new EventLogAnalyzer(ctx);
  const maxLine = ctx.maxLineBytes ?? DEFAULT_MAX_LINE_MB * 2 ** 20;
  const extra: Finding[] = [];
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  const count = endsWithNewline ? lines.length - 1 : lines.length;
  for (let i = 0; i < count; i++) {
    const line = lines[i]!;
    // A UTF-16 unit is 1 to 3 UTF-8 bytes: only a line that long can be over the limit, and only then are its bytes counted.
    if (line.length * 3 > maxLine) {
      const bytes = Buffer.byteLength(line);
      if (bytes > maxLine) {
        extra.push(overlong(i + 1, bytes, Buffer.from(line.slice(0, 256)), maxLine));
        continue;
      }
    }
    a.line(line, i, i < count - 1 || endsWithNewline);
  }
  return sortFindings([...extra, ...a.finish()]);
}

/** A line over the limit, as `validate` and the editor report it (1-based `lineNo`, its length in bytes, its first bytes). */
function overlong(lineNo: number, bytes: number, head: Buffer, maxLine: number): Finding {
  const message = overlongMessage(lineNo, bytes, head, maxLine);
  return { range: range(lineNo - 1, 0, lineNo - 1, 0), severity: 'error', code: 'line-too-long', message: `${message[0]!.toUpperCase()}${message.slice(1)}; collection skips it too.` };
}

/** What discovery knows of a log besides its own name (validateCommand.ts gives the analyzer the same). */
export type DiscoveredContext = Pick<EventLogFileOptions, 'inProgress' | 'sparkVersion' | 'codec'>;

/**
 * What discovery tells of one log checked on its own (the editor's open document, a file checked
 * from disk), as `validate` hands it to the analyzer for the logs it finds: whether it is the last
 * part of a log still being written (a rolling log's `appstatus_….inprogress`, a Spark 1.x folder
 * without APPLICATION_COMPLETE), a Spark 1.x folder's version (SPARK_VERSION_x) and codec. A part
 * of a rolling or Databricks log is found among its folder's (a folder of whole logs is not walked:
 * their names say it all), a Spark 1.x EVENT_LOG_N through its folder (discover's rule). Empty
 * when discovery finds nothing for it (an untitled document, a folder that cannot be listed).
 */
export async function discoveredContext(file: string): Promise<DiscoveredContext> {
  return (await discoveredAt(discoveryTarget(file))).get(path.resolve(file)) ?? {};
}

/**
 * discoveredContext for a run that checks many logs one after another (Check Compressed and Large
 * Event Logs on a rolling log's folder): a folder of parts is walked once for all of them, not once
 * per part (1,000 parts: 3.3 s of walks, growing with the square of their number). The last walk is
 * kept: such runs take a folder's logs one after another (sorted by path).
 */
export class DiscoveredContexts {
  private last: { target: string; contexts: Promise<Map<string, DiscoveredContext>> } | undefined;

  async of(file: string): Promise<DiscoveredContext> {
    const target = discoveryTarget(file);
    if (this.last?.target !== target) this.last = { target, contexts: discoveredAt(target) };
    return (await this.last.contexts).get(path.resolve(file)) ?? {};
  }
}

/** What discovery walks to tell of `file`: its folder for a part of a rolling or Databricks log, else the file itself. */
function discoveryTarget(file: string): string {
  const name = path.basename(file);
  const folder = path.dirname(file);
  const partOfFolder = isDatabricksPart(name) || (ROLLING_PART.test(name) && /^eventlog_v2_/.test(path.basename(folder)));
  return partOfFolder ? folder : file;
}

/** What discovery tells of each log file it finds at `target`, by its resolved path (the first unit naming a file wins). */
async function discoveredAt(target: string): Promise<Map<string, DiscoveredContext>> {
  const contexts = new Map<string, DiscoveredContext>();
  try {
    for await (const found of discover(target, false)) {
      if ('severity' in found) continue;
      found.files.forEach((f, i) => {
        const key = path.resolve(f.path);
        if (!contexts.has(key)) contexts.set(key, { inProgress: found.inProgress && i === found.files.length - 1, codec: f.codec, ...(found.sparkVersion !== undefined ? { sparkVersion: found.sparkVersion } : {}) });
      });
    }
  } catch {
    // A file that went away while it was looked at: nothing known beyond its name.
  }
  return contexts;
}

/** What analyzeEventLogFile takes besides the file: the context, and the limits collection reads with (readLog.ts). */
export interface EventLogFileOptions extends Partial<EventLogContext> {
  codec?: Codec;
  maxZstdWindowMb?: number;
  maxDecompressionRatio?: number;
  /** Longest line read, in bytes (collection's default when absent); longer lines are a finding, skipped as they stream by. */
  maxLineBytes?: number;
}

/**
 * Analyzes a log from disk, any size and any codec, streamed (files over the editor's 50 MB limit
 * and compressed logs), with the limits collection reads it with. Codec problems and a file that
 * cannot be read (permissions, a folder, I/O errors) become findings too.
 */
export async function analyzeEventLogFile(file: string, ctx: EventLogFileOptions = {}, signal?: AbortSignal): Promise<Finding[]> {
  const a = new EventLogAnalyzer({ fileName: ctx.fileName ?? path.basename(file), siblings: ctx.siblings, inProgress: ctx.inProgress, sparkVersion: ctx.sparkVersion });
  // Spark 1.x folders name the codec in a file of their own (discovery.ts); else the name says it.
  const codec = ctx.codec ?? codecFromName(path.basename(file));
  const maxLine = ctx.maxLineBytes ?? DEFAULT_MAX_LINE_MB * 2 ** 20;
  const extra: Finding[] = [];
  let lastLine = 0;
  try {
    const split = await splitLines(
      decode(codec, createReadStream(file, { signal, highWaterMark: 512 * 1024 }) as AsyncIterable<Buffer>, file, {
        maxZstdWindowMb: ctx.maxZstdWindowMb,
        maxDecompressionRatio: ctx.maxDecompressionRatio,
        // Each line is made a string as it is given, and splitLines copies what it keeps.
        reuseOutput: true,
      }),
      (buf, start, end, lineNo) => {
        lastLine = lineNo;
        a.line(buf.toString('utf8', start, end), lineNo - 1, true, buf, start, end);
      },
      maxLine,
      (lineNo, bytes, head) => {
        lastLine = lineNo;
        extra.push(overlong(lineNo, bytes, head, maxLine));
      },
    );
    if (split.tail) a.line(split.tail.toString('utf8'), split.lines, false, split.tail);
    lastLine = split.lines;
  } catch (err) {
    if (signal?.aborted) throw err;
    if (err instanceof DecompressionLimitError) {
      extra.push({ range: range(lastLine, 0, lastLine, 0), severity: 'error', code: 'decompression-limit', message: `${err.problem}. Collection stops there too.` });
    } else if (err instanceof CodecError) {
      extra.push({
        range: range(lastLine, 0, lastLine, 0),
        severity: a.codecSeverity(err.truncated),
        code: err.truncated ? 'codec-truncated' : 'codec-corrupt',
        message: err.problem,
      });
    } else {
      const code = (err as NodeJS.ErrnoException).code;
      if (typeof code !== 'string') throw err;
      // Reading stopped here: what came before was checked, what would have come after was not.
      extra.push({ range: range(lastLine, 0, lastLine, 0), severity: 'error', code: 'read-failed', message: readFailure(code, err as Error) });
      return sortFindings(extra);
    }
  }
  return sortFindings([...extra, ...a.finish()]);
}

/** Why a file could not be read, for a person: the system's code, what it means, and that collection cannot read it either. */
export function readFailure(code: string, err: Error): string {
  const why: Record<string, string> = {
    EACCES: 'permission denied: this user may not read it',
    EPERM: 'operation not permitted',
    EISDIR: 'it is a folder, not a file',
    ENOENT: 'it no longer exists (deleted or moved while being checked)',
    EIO: 'an input/output error from the disk or file system',
    ELOOP: 'too many levels of symbolic links',
  };
  return `Cannot read this file: ${code}${why[code] !== undefined ? ` (${why[code]})` : ` (${err.message})`}. Collection cannot read it either.`;
}
