/**
 * Replays one application attempt's event-log lines into a normalized record.
 *
 * Why it looks at bytes: `SparkListenerTaskEnd` (and its twin `TaskStart`) are nearly every line of
 * a real log, and the record needs only a handful of numbers from each. Task ends are read by
 * searching the known keys of Spark's `JsonProtocol.taskMetricsToJson` inside the line's
 * `"Task Metrics"` object (always the last field of the event, Spark 1.x–4.x), without decoding the
 * line; anything that does not look exactly as expected falls back to `JSON.parse`, which also
 * reports malformed lines. All other events the record needs are rare and are parsed in full;
 * events it does not need (TaskStart, SQL, block updates, custom listeners) are skipped unparsed.
 */
import { isUtf8 } from 'node:buffer';
import { Quality, redactSecrets, type AppStatus, type Problem, type SparkAppRecord } from '../record';
import { memoryStringToMb } from './jvmUnits';

const EVENT_PREFIX = Buffer.from('{"Event":"');
const TASK_END_EVENT = Buffer.from('SparkListenerTaskEnd"');
const REASON = Buffer.from('"Task End Reason":{"Reason":"');
const TASK_METRICS = Buffer.from('"Task Metrics":');
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;

/** Task-metric keys, in Spark's JsonProtocol spelling; each appears at most once inside "Task Metrics". */
const METRIC_KEYS = {
  cpuNs: Buffer.from('"Executor CPU Time":'),
  memorySpilled: Buffer.from('"Memory Bytes Spilled":'),
  diskSpilled: Buffer.from('"Disk Bytes Spilled":'),
  remoteRead: Buffer.from('"Remote Bytes Read":'),
  localRead: Buffer.from('"Local Bytes Read":'),
  shuffleWritten: Buffer.from('"Shuffle Bytes Written":'),
  inputRead: Buffer.from('"Bytes Read":'),
  outputWritten: Buffer.from('"Bytes Written":'),
} as const;
type MetricName = keyof typeof METRIC_KEYS;
const METRIC_NAMES = Object.keys(METRIC_KEYS) as MetricName[];

/** Events replay needs in full; every other event type is skipped without parsing. */
const PARSED_EVENTS = new Set([
  'SparkListenerLogStart',
  'SparkListenerApplicationStart',
  'SparkListenerApplicationEnd',
  'SparkListenerEnvironmentUpdate',
  'SparkListenerExecutorAdded',
  'SparkListenerBlockManagerAdded',
  'SparkListenerStageCompleted',
  'SparkListenerTaskEnd',
]);


/** At most this many malformed-line problems per file; the rest are counted in one summary problem. */
const MAX_LINE_PROBLEMS = 20;

export interface ReplayHints {
  /** App id from the file or folder name, used when the log has no SparkListenerApplicationStart. */
  appId: string;
  source: string;
  /** The layout says the app is still running (`.inprogress` file or `appstatus_*.inprogress`). */
  inProgress: boolean;
  tags: Record<string, string>;
}

type Json = Record<string, unknown>;

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null;
}
function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
function obj(v: unknown): Json | null {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
}
function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Whether `needle` is at `pos`, entirely before `end`. */
function bytesAt(buf: Buffer, pos: number, end: number, needle: Buffer): boolean {
  return pos + needle.length <= end && buf.compare(needle, 0, needle.length, pos, pos + needle.length) === 0;
}

/** Reads a JSON integer starting at `pos`; null when the bytes there are not one. */
function readInt(buf: Buffer, pos: number, end: number): number | null {
  let neg = false;
  if (buf[pos] === 0x2d) {
    neg = true;
    pos++;
  }
  let value = 0;
  let digits = 0;
  while (pos < end) {
    const c = buf[pos]!;
    if (c < 0x30 || c > 0x39) break;
    value = value * 10 + (c - 0x30);
    digits++;
    pos++;
  }
  if (digits === 0) return null;
  const next = buf[pos];
  // A fraction or exponent means this is not the integer Spark writes: let JSON.parse handle it.
  if (next === 0x2e || next === 0x65 || next === 0x45) return null;
  return neg ? -value : value;
}

export class AppReplay {
  readonly problems: Problem[] = [];
  private file = '';
  private fileLineProblems = 0;
  private sawEvent = false;

  private sparkVersion: string | null = null;
  private appId: string | null = null;
  private attemptId: string | null = null;
  private appName: string | null = null;
  private user: string | null = null;
  private startMs: number | null = null;
  private endMs: number | null = null;
  private props: Record<string, string> | null = null;
  private readonly executors = new Set<string>();
  private readonly executorCores = new Map<string, number>();
  private readonly blockManagers = new Set<string>();
  private readonly stages = new Set<string>();
  private readonly failedStages = new Set<string>();
  private exitCode: number | null = null;
  private tasks = 0;
  private failedTasks = 0;
  private readonly metrics: Record<MetricName, number> = {
    cpuNs: 0,
    memorySpilled: 0,
    diskSpilled: 0,
    remoteRead: 0,
    localRead: 0,
    shuffleWritten: 0,
    inputRead: 0,
    outputWritten: 0,
  };
  private readonly extraQuality = new Set<string>();

  constructor(private readonly hints: ReplayHints) {}

  /** Starts the next file of this attempt (rolling logs have several); line numbers restart. */
  beginFile(file: string): void {
    this.file = file;
    this.fileLineProblems = 0;
  }

  endFile(): void {
    const hidden = this.fileLineProblems - MAX_LINE_PROBLEMS;
    if (hidden > 0) {
      this.problem('error', 'malformed-line', `${hidden} more malformed lines not listed`, undefined);
    }
  }

  flag(quality: string): void {
    this.extraQuality.add(quality);
  }

  problem(severity: Problem['severity'], code: string, message: string, line: number | undefined): void {
    this.problems.push({ severity, code, message, file: this.file, line });
  }

  private lineProblem(code: string, message: string, line: number): void {
    this.fileLineProblems++;
    if (this.fileLineProblems <= MAX_LINE_PROBLEMS) this.problem('error', code, message, line);
  }

  /** Whether any line of the log was a Spark listener event. */
  get sawSparkEvent(): boolean {
    return this.sawEvent;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (end <= start) return;
    if (bytesAt(buf, start, end, EVENT_PREFIX)) {
      const nameStart = start + EVENT_PREFIX.length;
      const nameEnd = buf.indexOf(QUOTE, nameStart);
      if (nameEnd !== -1 && nameEnd < end) {
        if (
          nameEnd - nameStart === TASK_END_EVENT.length - 1 &&
          bytesAt(buf, nameStart, end, TASK_END_EVENT) &&
          buf[end - 1] === CLOSE_BRACE &&
          this.fastTaskEnd(buf, nameEnd, end)
        ) {
          this.sawEvent = true;
          return;
        }
        const name = buf.toString('latin1', nameStart, nameEnd);
        if (!PARSED_EVENTS.has(name)) {
          this.sawEvent = true;
          // Skipped unparsed, but a cut-off line is still worth a problem.
          if (buf[end - 1] !== CLOSE_BRACE) this.lineProblem('malformed-line', `${name} event is cut off (no closing brace)`, lineNo);
          return;
        }
      }
    }
    this.slowLine(buf, start, end, lineNo);
  }

  /**
   * A last line without a newline: replayed if it is complete JSON, otherwise ignored without a
   * malformed-line problem (the caller reports the cut-off once). Returns whether it was usable.
   */
  lastLine(buf: Buffer, lineNo: number): boolean {
    try {
      JSON.parse(buf.toString('utf8'));
    } catch {
      return false;
    }
    this.line(buf, 0, buf.length, lineNo);
    return true;
  }

  /** Task end read from bytes; false when the line is not in the expected shape (caller parses it). */
  private fastTaskEnd(buf: Buffer, from: number, end: number): boolean {
    const reason = buf.indexOf(REASON, from);
    if (reason === -1 || reason >= end) return false;
    const reasonStart = reason + REASON.length;
    const reasonEnd = buf.indexOf(QUOTE, reasonStart);
    if (reasonEnd === -1 || reasonEnd >= end) return false;
    const outcome = taskOutcome(buf.toString('latin1', reasonStart, reasonEnd));
    // "Task Metrics" is the event's last field: searching back from the end skips the accumulables.
    const tm = buf.lastIndexOf(TASK_METRICS, end - TASK_METRICS.length);
    if (tm < reasonEnd) return false;
    const valueAt = tm + TASK_METRICS.length;
    const values: Partial<Record<MetricName, number>> = {};
    if (buf[valueAt] === 0x7b) {
      // Keys are searched in Spark 2+'s order, each from where the previous one was found; a key
      // not found that way (Spark 1.x orders them differently) is searched again from the start.
      let cursor = valueAt;
      for (const name of METRIC_NAMES) {
        const key = METRIC_KEYS[name];
        let at = buf.indexOf(key, cursor);
        if (at === -1 || at >= end) at = cursor === valueAt ? -1 : buf.indexOf(key, valueAt);
        if (at === -1 || at >= end) continue;
        const v = readInt(buf, at + key.length, end);
        if (v === null) return false;
        values[name] = v;
        cursor = at + key.length;
      }
    } else if (!bytesAt(buf, valueAt, end, NULL_LITERAL)) {
      return false;
    }
    this.addTask(outcome, values);
    return true;
  }

  private addTask(outcome: TaskOutcome, values: Partial<Record<MetricName, number>>): void {
    this.tasks++;
    if (outcome === 'failed') this.failedTasks++;
    for (const name of METRIC_NAMES) {
      const v = values[name];
      // Negative metrics are impossible (Spark uses -1 for "unknown" in some old versions): ignore them.
      if (v !== undefined && v > 0) this.metrics[name] += v;
    }
  }

  private slowLine(buf: Buffer, start: number, end: number, lineNo: number): void {
    const bytes = buf.subarray(start, end);
    const text = bytes.toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch (err) {
      const preview = text.length > 60 ? `${text.slice(0, 60)}…` : text;
      const binary = !isUtf8(bytes) || /[\u0000-\u0008\u000e-\u001f]/.test(preview);
      this.lineProblem(
        'malformed-line',
        binary
          ? 'not JSON text (binary or invalid UTF-8 bytes) — is this really an uncompressed event log?'
          : `malformed JSON (${(err as Error).message}): ${JSON.stringify(preview)}`,
        lineNo,
      );
      return;
    }
    const e = obj(event);
    const type = e ? str(e.Event) : null;
    if (!e || type === null) {
      this.lineProblem('missing-event', 'JSON object without an "Event" field', lineNo);
      return;
    }
    this.sawEvent = true;
    if (!isUtf8(bytes)) this.problem('warning', 'invalid-utf8', 'invalid UTF-8 bytes (replaced by U+FFFD)', lineNo);
    this.event(type, e);
  }

  private event(type: string, e: Json): void {
    switch (type) {
      case 'SparkListenerLogStart':
        this.sparkVersion = str(e['Spark Version']);
        break;
      case 'SparkListenerApplicationStart':
        this.appId = str(e['App ID']) ?? this.appId;
        this.attemptId = str(e['App Attempt ID']) ?? this.attemptId;
        this.appName = str(e['App Name']);
        this.user = str(e.User);
        this.startMs = num(e.Timestamp);
        break;
      case 'SparkListenerApplicationEnd':
        this.endMs = num(e.Timestamp);
        // Spark 4 writes the driver's exit code; older logs cannot tell a failed app from a good one.
        this.exitCode = num(e.ExitCode);
        break;
      case 'SparkListenerEnvironmentUpdate': {
        const props = obj(e['Spark Properties']);
        // Very old logs write properties as [key, value] pairs, like the REST API does.
        const pairs = Array.isArray(e['Spark Properties']) ? (e['Spark Properties'] as unknown[]) : null;
        this.props = {};
        if (props) for (const [k, v] of Object.entries(props)) this.props[k] = String(v);
        if (pairs) for (const p of pairs) if (Array.isArray(p) && p.length === 2) this.props[String(p[0])] = String(p[1]);
        break;
      }
      case 'SparkListenerExecutorAdded': {
        const id = str(e['Executor ID']);
        if (id !== null) {
          this.executors.add(id);
          const cores = num(obj(e['Executor Info'])?.['Total Cores']);
          if (cores !== null) this.executorCores.set(id, cores);
        }
        break;
      }
      case 'SparkListenerBlockManagerAdded': {
        const id = str(obj(e['Block Manager ID'])?.['Executor ID']);
        if (id !== null) this.blockManagers.add(id);
        break;
      }
      case 'SparkListenerStageCompleted': {
        const info = obj(e['Stage Info']);
        const id = num(info?.['Stage ID']);
        if (info && id !== null) {
          const key = `${id}.${num(info['Stage Attempt ID']) ?? 0}`;
          this.stages.add(key);
          if (info['Failure Reason'] !== undefined && info['Failure Reason'] !== null) this.failedStages.add(key);
          else this.failedStages.delete(key);
        }
        break;
      }
      case 'SparkListenerTaskEnd': {
        const reason = str(obj(e['Task End Reason'])?.Reason);
        let outcome = taskOutcome(reason ?? 'Success');
        if (outcome === 'success' && obj(e['Task Info'])?.Failed === true) outcome = 'failed';
        const tm = obj(e['Task Metrics']);
        const sr = obj(tm?.['Shuffle Read Metrics']);
        this.addTask(outcome, {
          cpuNs: num(tm?.['Executor CPU Time']) ?? undefined,
          memorySpilled: num(tm?.['Memory Bytes Spilled']) ?? undefined,
          diskSpilled: num(tm?.['Disk Bytes Spilled']) ?? undefined,
          remoteRead: num(sr?.['Remote Bytes Read']) ?? undefined,
          localRead: num(sr?.['Local Bytes Read']) ?? undefined,
          shuffleWritten: num(obj(tm?.['Shuffle Write Metrics'])?.['Shuffle Bytes Written']) ?? undefined,
          inputRead: num(obj(tm?.['Input Metrics'])?.['Bytes Read']) ?? undefined,
          outputWritten: num(obj(tm?.['Output Metrics'])?.['Bytes Written']) ?? undefined,
        });
        break;
      }
      default:
        break;
    }
  }

  /** The record for this attempt; null when the input held no Spark event at all. */
  finish(): SparkAppRecord | null {
    if (!this.sawEvent) return null;
    const quality = new Set<string>(this.extraQuality);
    const props = this.props ?? {};
    const prop = (k: string): string | undefined => props[k];
    if (this.props === null) quality.add(Quality.missing('environment'));

    const memory = (field: 'executor_memory_mb' | 'driver_memory_mb', key: string): number => {
      const raw = prop(key);
      const mb = raw === undefined ? null : memoryStringToMb(raw);
      if (raw !== undefined && mb === null) this.problem('warning', 'bad-property', `${key}=${JSON.stringify(raw)} is not a JVM memory size; using Spark's default 1g`, undefined);
      if (mb !== null) return mb;
      quality.add(Quality.defaulted(field));
      return 1024; // Spark's default for spark.executor.memory and spark.driver.memory
    };

    const executorIds = this.executors.size > 0 ? [...this.executors] : this.fallbackExecutors();
    const nonDriver = executorIds.filter((id) => !isDriver(id));
    const numExecutors = executorIds.length === 0 ? null : nonDriver.length > 0 ? nonDriver.length : 1;
    if (numExecutors === null) quality.add(Quality.missing('num_executors'));

    let executorCores: number | null = null;
    const coresProp = prop('spark.executor.cores');
    if (coresProp !== undefined && /^\d+$/.test(coresProp.trim())) executorCores = Number(coresProp);
    else {
      // In local mode the driver is the executor, so its cores count.
      const entries = [...this.executorCores.entries()];
      const nonDriverCores = entries.filter(([id]) => !isDriver(id));
      const observed = (nonDriverCores.length > 0 ? nonDriverCores : entries).map(([, c]) => c);
      if (observed.length > 0) executorCores = Math.max(...observed);
      else {
        executorCores = 1; // YARN and Kubernetes default (spark.executor.cores)
        quality.add(Quality.defaulted('executor_cores'));
      }
    }

    if (this.appId === null) quality.add(Quality.missing('app_id'));
    if (this.startMs === null) quality.add(Quality.missing('start_time'));
    if (this.sparkVersion === null) quality.add(Quality.missing('spark_version'));

    const submitProp = prop('spark.app.submitTime');
    let submitMs = submitProp !== undefined && /^\d+$/.test(submitProp) ? Number(submitProp) : null;
    if (submitMs === null && this.startMs !== null) {
      submitMs = this.startMs;
      quality.add(Quality.defaulted('submit_time'));
    }

    let status: AppStatus;
    if (this.endMs !== null) status = this.exitCode !== null && this.exitCode !== 0 ? 'failed' : 'completed';
    else if (this.hints.inProgress) {
      status = 'running';
      quality.add(Quality.inProgress);
    } else {
      status = 'unknown';
      quality.add(Quality.truncated);
    }

    let duration: number | null = null;
    if (this.startMs !== null && this.endMs !== null) {
      duration = this.endMs - this.startMs;
      if (duration < 0) {
        this.problem('error', 'time-order', `application ends (${iso(this.endMs)}) before it starts (${iso(this.startMs)})`, undefined);
        duration = null;
      }
    }

    const environment = redactSecrets(props);

    return {
      app_id: this.appId ?? this.hints.appId,
      attempt_id: this.attemptId,
      app_name: this.appName,
      user: this.user,
      submit_time: iso(submitMs),
      start_time: iso(this.startMs),
      end_time: iso(this.endMs),
      duration_ms: duration,
      spark_version: this.sparkVersion,
      executor_cores: executorCores,
      executor_memory_mb: memory('executor_memory_mb', 'spark.executor.memory'),
      num_executors: numExecutors,
      driver_memory_mb: memory('driver_memory_mb', 'spark.driver.memory'),
      total_tasks: this.tasks,
      failed_tasks: this.failedTasks,
      total_stages: this.stages.size,
      failed_stages: this.failedStages.size,
      cpu_time_ms: Math.floor(this.metrics.cpuNs / 1e6),
      input_bytes: this.metrics.inputRead,
      output_bytes: this.metrics.outputWritten,
      shuffle_read_bytes: this.metrics.remoteRead + this.metrics.localRead,
      shuffle_write_bytes: this.metrics.shuffleWritten,
      memory_spilled_bytes: this.metrics.memorySpilled,
      disk_spilled_bytes: this.metrics.diskSpilled,
      tags: { ...this.hints.tags },
      environment,
      source: this.hints.source,
      status,
      quality: [...quality].sort(),
    };
  }

  /** Logs older than Spark 1.3 have no ExecutorAdded: use the block managers (DESIGN.md §2). */
  private fallbackExecutors(): string[] {
    return [...this.blockManagers];
  }
}

const NULL_LITERAL = Buffer.from('null');

type TaskOutcome = 'success' | 'failed' | 'killed';

/** As Spark's History Server counts them (AppStatusListener): killed and commit-denied tasks are not failures. */
function taskOutcome(reason: string): TaskOutcome {
  if (reason === 'Success') return 'success';
  if (reason === 'TaskKilled' || reason === 'TaskCommitDenied') return 'killed';
  return 'failed';
}

function isDriver(id: string): boolean {
  return id === 'driver' || id === '<driver>';
}
