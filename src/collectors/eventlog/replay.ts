/**
 * Replays one application attempt's event-log lines into a normalized record.
 *
 * Why it looks at bytes: `SparkListenerTaskEnd` (and its twin `TaskStart`) are nearly every line of
 * a real log, and the record needs only a handful of numbers from each. Task ends are read without
 * decoding the line: by the layout of the last task ends when the line has it (taskLayout.ts), else
 * by searching the known keys of Spark's `JsonProtocol.taskMetricsToJson` inside the line's
 * `"Task Metrics"` object (always the last field of the event, Spark 1.x–4.x); anything that does
 * not look exactly as expected falls back to `JSON.parse`, which also reports malformed lines.
 * All other events the record needs are rare and are parsed in full; events it does not need
 * (TaskStart, SQL, block updates, custom listeners) are skipped unparsed.
 */
import { isUtf8 } from 'node:buffer';
import { MALFORMED_JSON, MISSING_EVENT, MISSING_EVENT_MESSAGE, NESTED_TOO_DEEP, malformedJson, moreNotListed, nestedTooDeepMessage } from '../../common/lineProblems';
import { isStackOverflow } from '../../common/stack';
import { Quality, countFault, invalidValue, redactSecrets, textProperties, timeFault, type AppStatus, type Problem, type RecordFindings, type SparkAppRecord } from '../record';
import { coresFault, executorCount, recordSizing, recordTimes, submitTimeProperty } from '../record/rules';
import { stageCpuKnown, type AppSummaries } from '../record/summaries';
import { COMPLETED_FAILED, COMPLETED_OK, SUBMITTED, SummaryTracker, TASK_DURATION, TASK_LAUNCH, TASK_VALUES, plainStage, type TaskOutcome } from './summaries';
import { BACKSLASH, CLOSE_BRACE, COLON, NULL_LITERAL, QUOTE, backwardKey, bytesAt, indexOfKey, intInto, lastIndexOfKey, nextQuote, pastInt, readInt, sameBytes, sameWords, wordKey, type WordKey } from './jsonBytes';
import { KEYS_BY_LENGTH, METRIC_KEYS, METRIC_NAMES, SUCCESS, TASK_INFO, TASK_METRICS, TaskMetricsFinder, resetHead, taskDuration, taskInfoKey, type MetricName, type TaskInts, type TaskSpans, type TaskValues } from './taskEnd';
import { TaskLayouts, type TaskLayoutLibrary } from './taskLayout';

const EVENT_PREFIX = Buffer.from('{"Event":"');
const STAGE_COMPLETED_EVENT = Buffer.from('SparkListenerStageCompleted');
const STAGE_SUBMITTED_EVENT = Buffer.from('SparkListenerStageSubmitted');
const TASK_STAGE_ID = Buffer.from(',"Stage ID":');
/** Members of Task Info and Stage Info the summaries read from bytes (summaries.ts), and where their byte reader stops. */
const quotedKey = (k: string): Buffer => Buffer.from(`"${k}":`);
const TASK_INFO_KEYS = ['Launch Time', 'Executor ID', 'Finish Time'].map(quotedKey);
const [LAUNCH_AT, EXECUTOR_AT, FINISH_AT] = [0, 1, 2] as const;
const STAGE_INFO_KEYS = ['Stage Name', 'Submission Time', 'Completion Time', 'Failure Reason'].map(quotedKey);
const [NAME_AT, SUBMITTED_AT, COMPLETED_AT, FAILURE_AT] = [0, 1, 2, 3] as const;
const JOB_START_EVENT = Buffer.from('SparkListenerJobStart');
const JOB_STAGE_IDS = quotedKey('Stage IDs');
const JOB_STAGE_INFOS = quotedKey('Stage Infos');
/** How each of a job start's Stage Infos opens (JsonProtocol.stageInfoToJson, Spark 1.2-4.x): its id, attempt and name come first. */
const STAGE_INFO_OPEN = Buffer.from('{"Stage ID":');
const STAGE_NAME = Buffer.from(',"Stage Name":');
const ACCUMULABLES = quotedKey('Accumulables');
const STAGE_INFO_ID = Buffer.from(',"Stage Info":{"Stage ID":');
const STAGE_ATTEMPT_ID = Buffer.from(',"Stage Attempt ID":');
const ENVIRONMENT_UPDATE = 'SparkListenerEnvironmentUpdate';
const ENVIRONMENT_UPDATE_EVENT = Buffer.from(ENVIRONMENT_UPDATE);
const SPARK_PROPERTIES = Buffer.from('"Spark Properties":');
const REASON = Buffer.from('"Task End Reason":{"Reason":"');
/** The keys searched back from a line's end (lastIndexOfKey). */
const JOB_STAGE_IDS_BACK = backwardKey(JOB_STAGE_IDS);
const SUBMITTED_BACK = backwardKey(STAGE_INFO_KEYS[SUBMITTED_AT]!);
/**
 * The task end reason comes right after "Stage ID", "Stage Attempt ID" and "Task Type" (Spark
 * 1.x–4.x); a line without it this near the start takes the parsed path.
 */
const REASON_WITHIN = 256;

type MetricField = NonNullable<(typeof METRIC_KEYS)[MetricName]['field']>;
/** The record fields the keys are summed into, each once, and the one each key feeds (by index; NO_FIELD: none). */
const METRIC_FIELDS = [...new Set(METRIC_NAMES.flatMap((name) => METRIC_KEYS[name].field ?? []))];
const NO_FIELD = 255;
const FIELD_OF_KEY = Uint8Array.from(METRIC_NAMES, (name) => {
  const field = METRIC_KEYS[name].field;
  return field === null ? NO_FIELD : METRIC_FIELDS.indexOf(field);
});

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
  // For the stage and executor summaries only (summaries.ts).
  'SparkListenerStageSubmitted',
  'SparkListenerJobStart',
  'SparkListenerExecutorRemoved',
]);


/** At most this many line problems (malformed JSON, …) per file; the rest are counted in one summary problem. So are invalid values. */
const MAX_LINE_PROBLEMS = 20;

export interface ReplayHints {
  /** App id from the file or folder name, used when the log has no SparkListenerApplicationStart. */
  appId: string;
  source: string;
  /** The layout says the app is still running (`.inprogress` file or `appstatus_*.inprogress`). */
  inProgress: boolean;
  /** From the layout (Spark ≤ 1.2's `SPARK_VERSION_x` file), for logs without a LogStart. */
  sparkVersion?: string;
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

/**
 * A key compared eight bytes at a time (sameWides): its 8-byte words read as little-endian doubles,
 * the last ending with the key, as taskLayout.ts's TaskEndLayout.wides (which says why doubles compare as bits here).
 */
interface WideKey {
  readonly bytes: Buffer;
  readonly wides: Float64Array;
}

function wideKey(bytes: Buffer): WideKey {
  const wides = Float64Array.from({ length: Math.ceil(bytes.length / 8) }, (_, k) => bytes.readDoubleLE(Math.min(8 * k, bytes.length - 8)));
  if (bytes.length < 8 || wides.some((w) => Number.isNaN(w) || w === 0)) throw new Error(`not a wide key: ${bytes.toString('latin1')}`);
  return { bytes, wides };
}

/** Whether the key's bytes are at `at`, entirely inside [at, end), compared through `words` (a DataView of the line's buffer). */
function sameWides(words: DataView, at: number, end: number, key: WideKey): boolean {
  const length = key.bytes.length;
  if (at + length > end) return false;
  const w = key.wides;
  const last = w.length - 1;
  for (let k = 0; k < last; k++) if (words.getFloat64(at + 8 * k, true) !== w[k]) return false;
  return words.getFloat64(at + length - 8, true) === w[last];
}

/** A task end's and a task start's first bytes, up to the event name's closing quote. */
const TASK_END_LINE = wideKey(Buffer.from('{"Event":"SparkListenerTaskEnd"'));
const TASK_START_LINE = wideKey(Buffer.from('{"Event":"SparkListenerTaskStart"'));

/**
 * One pass over a "Task Metrics" object in buf[from, end), reading the integer value of each wanted
 * key into `values` at any depth (the shuffle and I/O groups are nested objects). NaN in `values`
 * marks a key not yet seen. Every unescaped quote outside a string opens a key or a string value; a
 * string is a key when a colon follows its closing quote. False when a wanted key's value is not
 * an integer.
 */
function scanMetrics(buf: Buffer, words: DataView, from: number, end: number, values: TaskValues): boolean {
  // Once every key has its value the rest (later duplicates are passed over anyway) cannot change
  // them: Spark 2.x-4.x tasks carry all of them before their records counts and Updated Blocks.
  let missing = METRIC_NAMES.length;
  let i = nextQuote(buf, words, from, end);
  while (i < end) {
    const keyStart = i + 1;
    const j = nextQuote(buf, words, keyStart, end);
    if (buf[j + 1] === COLON) {
      const candidates = KEYS_BY_LENGTH[j - keyStart];
      if (candidates !== undefined) {
        for (let k = 0; k < candidates.length; k++) {
          const { index, key } = candidates[k]!;
          if (Number.isNaN(values[index]!) && sameBytes(buf, keyStart, key)) {
            if (!intInto(buf, j + 2, end, values, index)) return false;
            if (--missing === 0) return true;
            break;
          }
        }
      }
    }
    i = nextQuote(buf, words, j + 1, end);
  }
  return true;
}

/**
 * The end (exclusive) of the JSON object or array that starts at buf[at], or -1 when there is none
 * before `end`. Strings are skipped whole, so brackets inside them do not count.
 */
function endOfValue(buf: Buffer, words: DataView, at: number, end: number): number {
  const open = buf[at];
  if (open !== 0x7b && open !== 0x5b) return -1;
  let depth = 0;
  for (let i = at; i < end; i++) {
    const c = buf[i];
    if (c === QUOTE) {
      i = nextQuote(buf, words, i + 1, end);
      if (i >= end) return -1;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return i + 1;
  }
  return -1;
}

/**
 * Where the values of `keys` (each `"name":`) are in buf[from, end), read from its bytes: one pass
 * from quote to quote (nextQuote), as TaskMetricsFinder (taskEnd.ts) does, so nested values and long strings cost
 * no more than their quotes. `found[k]` gets the position of keys[k]'s first value (the caller
 * sets -1 for not seen first). It stops when every key is found, or at the `stop` key, which
 * Spark writes after all of them (its Accumulables, often most of the line); then it returns that
 * key's position, else 0. A key inside a nested value counts as well: Spark writes none of these
 * there. -1 when a wanted key appears twice before that (JSON.parse keeps the last): the caller
 * then parses the line.
 */
function keysAt(buf: Buffer, words: DataView, from: number, end: number, keys: readonly Buffer[], found: Int32Array, stop: Buffer | null): number {
  let missing = 0;
  for (let k = 0; k < keys.length; k++) if (found[k] === -1) missing++;
  for (let i = nextQuote(buf, words, from, end); missing > 0 && i < end; i = nextQuote(buf, words, i + 1, end)) {
    // Every wanted key and the stop key start with a capital letter (Spark's keys do; values often not).
    const c = buf[i + 1]!;
    if (c < 0x41 || c > 0x5a) continue;
    if (stop !== null && bytesAt(buf, i, end, stop)) return i;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (!bytesAt(buf, i, end, key)) continue;
      if (found[k] !== -1) return -1;
      found[k] = i + key.length;
      missing--;
      i += key.length - 1;
      break;
    }
  }
  return 0;
}

const NEXT_COMPLETION = Buffer.from(',"Completion Time":');
const NEXT_FAILURE = Buffer.from(',"Failure Reason":');
const NEXT_ACCUMULABLES = Buffer.from(',"Accumulables":');

/**
 * Stage Info's members as Spark 1.x-4.x write them, from `at` (after the attempt id):
 * `,"Stage Name":…`, the RDDs and details, then `"Submission Time":N[,"Completion Time":N]
 * [,"Failure Reason":…],"Accumulables":`. One search for the submission time (back from the end),
 * the rest read where they must be, up to the Accumulables. A Failure Reason written after them
 * (never so in Spark's logs) is not seen here, though JSON.parse would see it: searching the
 * Accumulables for one would double this reader's cost. Fills `found` as keysAt does; false when
 * the line is not in that shape (keysAt then reads it, and does look after the Accumulables).
 */
function sparkStageInfo(buf: Buffer, at: number, end: number, found: Int32Array, completed: boolean): boolean {
  if (!bytesAt(buf, at, end, STAGE_NAME)) return false;
  found[NAME_AT] = at + STAGE_NAME.length;
  const submittedKey = STAGE_INFO_KEYS[SUBMITTED_AT]!;
  // Searched back from the line's end: after it come only the Accumulables (and a submitted stage's
  // Properties), often much shorter than the RDDs and details before it.
  const submitted = lastIndexOfKey(buf, at + STAGE_NAME.length, end, SUBMITTED_BACK);
  // Spark 1.x submits a stage without its Submission Time (set when its first task starts). The
  // search has just looked at the whole line for the key: it is nowhere, strings included, so a
  // submitted stage has its name alone (it uses no other key), without keysAt's walk over the line.
  if (submitted === -1) return !completed;
  found[SUBMITTED_AT] = submitted + submittedKey.length;
  let p = pastInt(buf, found[SUBMITTED_AT], end);
  if (bytesAt(buf, p, end, NEXT_COMPLETION)) {
    found[COMPLETED_AT] = p + NEXT_COMPLETION.length;
    p = pastInt(buf, found[COMPLETED_AT], end);
  }
  if (bytesAt(buf, p, end, NEXT_FAILURE)) {
    found[FAILURE_AT] = p + NEXT_FAILURE.length;
    return true;
  }
  return bytesAt(buf, p, end, NEXT_ACCUMULABLES);
}

/** How far from where the last task had them nearTaskInfo looks for Task Info's keys. */
const TASK_INFO_SLACK = 24;
const NEXT_EXECUTOR_ID = wordKey(Buffer.from(',"Executor ID":'));
const LAUNCH_KEY = wordKey(TASK_INFO_KEYS[LAUNCH_AT]!);
const FINISH_KEY = wordKey(TASK_INFO_KEYS[FINISH_AT]!);
const TASK_STAGE_ID_KEY = wordKey(TASK_STAGE_ID);
const STAGE_ATTEMPT_ID_KEY = wordKey(STAGE_ATTEMPT_ID);

/** `key` (which starts with a quote) at base + distance, else the first within TASK_INFO_SLACK bytes of there, inside [base, limit); -1 if none. */
function near(buf: Buffer, words: DataView, base: number, limit: number, distance: number, key: WordKey): number {
  const guess = base + distance;
  if (guess >= base && sameWords(words, guess, limit, key)) return guess;
  const from = Math.max(base, guess - TASK_INFO_SLACK);
  return indexOfKey(buf, words, from, Math.min(limit, base + distance + TASK_INFO_SLACK + key.bytes.length), key.bytes);
}

/** The integer at `at`, null for JSON's null, undefined when it is neither (the caller parses the line). */
function intOrNull(buf: Buffer, at: number, end: number): number | null | undefined {
  // The integer first: stage times are nearly never null.
  const value = readInt(buf, at, end);
  if (value !== null) return value;
  return bytesAt(buf, at, end, NULL_LITERAL) ? null : undefined;
}

/** Stage names RecentNames keeps. */
const RECENT_NAMES = 4;

/** A name RecentNames keeps: its text, and its bytes as sameWords compares them. */
interface RecentName {
  readonly text: string;
  readonly key: WordKey;
}

/**
 * The last stage names a replay decoded without escapes, given again when a stage line has the same
 * bytes (which decode to the same text): Spark writes a stage's name in its submission and its
 * completion, and an application's stages repeat a few names (one call site run by many jobs), so
 * most stage lines make no string (issue 15: a native utf8Slice and its garbage per stage line, two
 * stage lines per two task ends on the Spark 3.x/4.x shapes). Compared four bytes at a time: a
 * character at a time cost as much as the decoding. The one that matched last is first.
 */
class RecentNames {
  private readonly names: RecentName[] = [];

  /** The kept text whose bytes are buf[start, end) (`words`: a DataView of buf), else undefined. */
  find(words: DataView, start: number, end: number): string | undefined {
    const names = this.names;
    const length = end - start;
    for (let k = 0; k < names.length; k++) {
      const name = names[k]!;
      if (name.key.bytes.length !== length || !sameWords(words, start, end, name.key)) continue;
      if (k > 0) {
        names[k] = names[0]!;
        names[0] = name;
      }
      return name.text;
    }
    return undefined;
  }

  /** Keeps `text`, decoded from buf[start, end) (4 bytes or more, no escapes), in place of the one used longest ago. */
  add(buf: Buffer, start: number, end: number, text: string): void {
    if (this.names.length === RECENT_NAMES) this.names.pop();
    // A copy: the line's buffer is reused.
    this.names.unshift({ text, key: wordKey(Buffer.from(buf.subarray(start, end))) });
  }
}

/**
 * The string at `at` (a quote), null for JSON's null, undefined when it is neither. Escapes are
 * decoded by JSON.parse; a text `recent` keeps is given again, one of 4 bytes or more decoded without escapes is kept.
 */
function stringOrNull(buf: Buffer, words: DataView, at: number, end: number, recent: RecentNames): string | null | undefined {
  if (buf[at] !== QUOTE) return bytesAt(buf, at, end, NULL_LITERAL) ? null : undefined;
  const close = nextQuote(buf, words, at + 1, end);
  if (close >= end) return undefined;
  const known = close - at - 1 >= 4 ? recent.find(words, at + 1, close) : undefined;
  if (known !== undefined) return known;
  for (let i = at + 1; i < close; i++) if (buf[i] === BACKSLASH) return JSON.parse(buf.toString('utf8', at, close + 1)) as string;
  // utf8Slice is what toString('utf8', …) calls after checking its arguments (these are in range):
  // the JIT then compiles neither toString nor its checks (issue 15).
  const text = (buf as Buffer & { utf8Slice(start: number, end: number): string }).utf8Slice(at + 1, close);
  if (close - at - 1 >= 4) recent.add(buf, at + 1, close, text);
  return text;
}

/** A whole-number field of a parsed event (a time, an id), null when absent or not a safe integer. */
function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isSafeInteger(v) ? v : null;
}

export class AppReplay {
  readonly problems: Problem[] = [];
  private file = '';
  private fileLineProblems = 0;
  private fileValueProblems = 0;
  private sawEvent = false;

  private sparkVersion: string | null = null;
  private appId: string | null = null;
  private attemptId: string | null = null;
  private appName: string | null = null;
  private user: string | null = null;
  private startMs: number | null = null;
  private endMs: number | null = null;
  /** An ApplicationEnd with a Timestamp was seen, even one that is not a time (the app ended). */
  private ended = false;
  private props: Record<string, string> | null = null;
  /** Where the Spark Properties in use were read, for problems found in them when the record is built. */
  private propsAt: Pick<Problem, 'file' | 'line'> = {};
  /** Where the ApplicationEnd was read: an end before the start is reported at its line. */
  private endAt: Pick<Problem, 'file' | 'line'> | undefined;
  /** Record fields fed a value that cannot be true (flagged `invalid:`); for a time, only while its latest value is one. */
  private readonly invalidFields = new Set<keyof SparkAppRecord>();
  private readonly executors = new Set<string>();
  /** Total Cores per executor; NaN for a value that cannot be a number of cores. */
  private readonly executorCores = new Map<string, number>();
  private readonly blockManagers = new Set<string>();
  /**
   * Each stage attempt (`id.attempt`) seen completing, and whether its latest completion failed; with
   * summaries only those whose id and attempt are not plainStage's (the tracker's slots count the rest).
   */
  private readonly stageFailed = new Map<number | string, boolean>();
  private exitCode: number | null = null;
  private tasks = 0;
  private failedTasks = 0;
  /** Sums of the task metrics, by METRIC_FIELDS index. */
  private readonly metrics = new Float64Array(METRIC_FIELDS.length);
  /** Whether any task carried a metric of each field at all (Spark < 2.1 never writes Executor CPU Time). */
  private readonly metricSeen = new Uint8Array(METRIC_FIELDS.length);
  private words: DataView | undefined;
  private wordsFor: Buffer | undefined;
  /** Bytes from Task Info's start to the last task's Launch Time value, and from its Executor ID value to its Finish Time value (see nearTaskInfo); 0 before the first. */
  private launchDistance = 0;
  private finishDistance = 0;
  /** Where Task Metrics is in a task end, for the searches and the layouts alike. */
  private readonly metricsFinder = new TaskMetricsFinder();
  /** One task's values, reused line after line. */
  private readonly taskValues: TaskValues = new Float64Array(TASK_VALUES);
  /** One task's stage id, attempt, launch and finish time (TaskInts), and where its reason and executor id are in its line (TaskSpans). */
  private readonly taskInts: TaskInts = new Float64Array(4);
  private readonly taskSpans: TaskSpans = new Int32Array(4);
  /** Where searchTaskEnd found `"Task Metrics":`. */
  private taskMetricsAt = -1;
  /** Where searchTaskEnd found `"Task Info":` (with summaries). */
  private infoKeyAt = -1;
  /** The layouts of the last task ends (taskLayout.ts), which read into taskValues, taskInts and taskSpans. */
  private readonly layouts: TaskLayouts;
  private readonly extraQuality = new Set<string>();
  /** Stage attempts and executors (summaries.ts). */
  private readonly tracker = new SummaryTracker();
  /** Value positions keysAt finds, reused line after line. */
  private readonly taskInfoAt = new Int32Array(TASK_INFO_KEYS.length);
  private readonly stageInfoAt = new Int32Array(STAGE_INFO_KEYS.length);
  /** The stage names decoded last (stringOrNull). */
  private readonly recentNames = new RecentNames();
  /** What finish() gave last: summaries() takes its stages' CPU rule from it (null before). */
  private finished: SparkAppRecord | null = null;

  /**
   * A job start read from bytes, for the stages it may skip (summaries.ts): its Stage Infos' ids,
   * attempts and names, as the History Server creates a job's stages from them (AppStatusListener
   * .onJobStart) and marks those never submitted SKIPPED when the job ends. Each Stage Info opens
   * with `{"Stage ID":N,"Stage Attempt ID":N,"Stage Name":"…"` (Spark 1.2-4.x); the RDDs and call
   * sites after it, most of the line in SQL apps, are passed over by one native search per stage
   * after the first (Buffer#indexOf, bounded to the Stage Infos), not walked, and the last stage's not
   * at all. Logs before Spark 1.2 have no Stage
   * Infos: their `"Stage IDs":[…]` (searched back from the line's end: only the Properties follow it)
   * give the ids alone, attempt 0, as JsonProtocol.jobStartFromJson does (it names them "unknown",
   * we leave them unnamed). False when the line is not in that shape (then it is parsed): a list
   * not of integers, a Stage Info that does not open so, or fewer Stage Infos found than Stage IDs.
   * An arrow, the table's reader itself (fastEvents): through a closure calling it, TurboFan compiled
   * it twice, alone and inlined into the closure (issue 15).
   */
  private readonly fastJobStart = (buf: Buffer, from: number, end: number): boolean => {
    if (!this.withSummaries) return true;
    const key = lastIndexOfKey(buf, from, end, JOB_STAGE_IDS_BACK);
    if (key === -1) return true;
    let p = key + JOB_STAGE_IDS.length;
    if (buf[p] !== 0x5b) return false;
    p++;
    const ids: number[] = [];
    if (buf[p] !== 0x5d) {
      for (;;) {
        const id = readInt(buf, p, end);
        if (id === null) return false;
        ids.push(id);
        p = pastInt(buf, p, end);
        if (buf[p] === 0x5d) break;
        if (buf[p] !== 0x2c) return false;
        p++;
      }
    }
    // Stage Infos come before the Stage IDs, after the job id and submission time: a few keys in.
    const words = this.wordsOf(buf);
    const infosKey = indexOfKey(buf, words, from, key, JOB_STAGE_INFOS);
    if (infosKey === -1) {
      for (let k = 0; k < ids.length; k++) this.tracker.jobStage(ids[k]!, 0, null);
      return true;
    }
    const infosAt = infosKey + JOB_STAGE_INFOS.length;
    if (buf[infosAt] !== 0x5b) return false;
    // Read first, given to the tracker once the whole list is read as expected: else the line is parsed.
    const stages: { id: number; attempt: number; name: string | null }[] = [];
    // Spark lists every stage in both (JsonProtocol.jobStartToJson), so there are as many Stage Infos
    // as Stage IDs. The first opens the list; each next one is searched for from the one before, within
    // the Stage Infos (a view of the line up to the Stage IDs): the last one's RDDs and call site, most
    // of the bytes of a one-stage job's line, are not searched through.
    if (ids.length === 0 && buf[infosAt + 1] !== 0x5d) return false;
    const infos = buf.subarray(0, key);
    for (let at = infosAt + 1; stages.length < ids.length; ) {
      if (stages.length > 0) at = infos.indexOf(STAGE_INFO_OPEN, p);
      if (at === -1 || !bytesAt(buf, at, key, STAGE_INFO_OPEN)) return false;
      p = at + STAGE_INFO_OPEN.length;
      const id = readInt(buf, p, key);
      if (id === null) return false;
      p = pastInt(buf, p, key);
      let attempt = 0;
      if (bytesAt(buf, p, key, STAGE_ATTEMPT_ID)) {
        p += STAGE_ATTEMPT_ID.length;
        const a = readInt(buf, p, key);
        if (a === null) return false;
        attempt = a;
        p = pastInt(buf, p, key);
      }
      if (!bytesAt(buf, p, key, STAGE_NAME)) return false;
      const name = stringOrNull(buf, words, p + STAGE_NAME.length, key, this.recentNames);
      if (name === undefined) return false;
      stages.push({ id, attempt, name });
    }
    for (let k = 0; k < stages.length; k++) this.tracker.jobStage(stages[k]!.id, stages[k]!.attempt, stages[k]!.name);
    return true;
  };

  /**
   * Events read from their bytes besides task ends and starts (line() takes those first); a reader
   * returns false when the line is not in the shape it expects, and the line is then parsed.
   */
  private readonly fastEvents: readonly { name: Buffer; read: (buf: Buffer, from: number, end: number, lineNo: number) => boolean }[] = [
    { name: STAGE_COMPLETED_EVENT, read: (buf, from, end) => this.fastStageInfo(buf, from, end, true) },
    { name: STAGE_SUBMITTED_EVENT, read: (buf, from, end) => this.fastStageInfo(buf, from, end, false) },
    { name: JOB_START_EVENT, read: this.fastJobStart },
    { name: ENVIRONMENT_UPDATE_EVENT, read: (buf, from, end, lineNo) => this.fastEnvironment(buf, from, end, lineNo) },
  ];

  /**
   * Whether the stage and executor summaries are read (summaries.ts). Off only for the bench, which
   * measures what they cost the engine against the same build without them (issue 15: < 15%): task
   * ends then skip Task Info, stage submissions and job starts are passed over, and summaries() is
   * empty. A flag read per line costs nothing measurable on the normal path.
   */
  private readonly withSummaries: boolean;

  /**
   * @param options.layouts the task-end layouts this replay shares with the others of its thread
   *   (readLog.ts); without them it reads by layouts of its own only, learned after LEARN_AFTER task ends (taskLayout.ts)
   */
  constructor(
    private readonly hints: ReplayHints,
    options: { summaries?: boolean; layouts?: TaskLayoutLibrary } = {},
  ) {
    this.withSummaries = options.summaries ?? true;
    this.layouts = new TaskLayouts(this.taskValues, this.taskInts, this.taskSpans, this.metricsFinder, this.withSummaries, options.layouts);
  }

  /** Starts the next file of this attempt (rolling logs have several); line numbers restart. */
  beginFile(file: string): void {
    this.file = file;
    this.fileLineProblems = 0;
    this.fileValueProblems = 0;
  }

  endFile(): void {
    const hidden = this.fileLineProblems - MAX_LINE_PROBLEMS;
    if (hidden > 0) this.problem('error', MALFORMED_JSON, moreNotListed(hidden), undefined);
    const hiddenValues = this.fileValueProblems - MAX_LINE_PROBLEMS;
    if (hiddenValues > 0) this.problem('error', 'invalid-value', `${hiddenValues} more invalid values not listed`, undefined);
  }

  flag(quality: string): void {
    this.extraQuality.add(quality);
  }

  problem(severity: Problem['severity'], code: string, message: string, line: number | undefined, column?: number): void {
    this.problems.push({ severity, code, message, file: this.file, line, ...(column !== undefined ? { column } : {}) });
  }

  /**
   * The line of the last line problem (malformed JSON, no Event, nested too deep), listed or not: the
   * editor's analyzer, which parses every line, tells by it whether this replay parsed a malformed
   * line or read it from its bytes without parsing (eventLogAnalyzer.ts), to say which is true.
   */
  lastLineProblem = -1;

  private lineProblem(code: string, message: string, line: number, column?: number): void {
    this.lastLineProblem = line;
    this.fileLineProblems++;
    if (this.fileLineProblems <= MAX_LINE_PROBLEMS) this.problem('error', code, message, line, column);
  }

  /** A value on a line of this file that cannot be true: an error there (the caller decides what the field then holds). */
  private invalidOnLine(field: keyof SparkAppRecord, what: string, value: unknown, fault: string, line: number): void {
    this.fileValueProblems++;
    if (this.fileValueProblems <= MAX_LINE_PROBLEMS) this.problems.push(invalidValue(field, what, value, fault, { file: this.file, line }));
  }

  /** An event's Timestamp as epoch ms; null when absent, or (with an error on its line) when it cannot be a time. */
  private eventTime(e: Json, type: string, field: 'start_time' | 'end_time', lineNo: number): number | null {
    const v = e.Timestamp;
    if (v === undefined || v === null) return null;
    const fault = typeof v === 'number' ? timeFault(v) : 'not a number';
    if (fault === null) {
      this.invalidFields.delete(field);
      return v as number;
    }
    this.invalidOnLine(field, `${type} Timestamp`, v, fault, lineNo);
    this.invalidFields.add(field);
    return null;
  }

  /** Task ends read by a layout (taskLayout.ts), not by searching their keys: for tests and the bench. */
  get taskEndsByLayout(): number {
    return this.layouts.taskEndsRead;
  }

  /** Whether any line of the log was a Spark listener event. */
  get sawSparkEvent(): boolean {
    return this.sawEvent;
  }

  line(buf: Buffer, start: number, end: number, lineNo: number): void {
    if (end <= start) return;
    const closed = buf[end - 1] === CLOSE_BRACE;
    if (closed) {
      // Task ends and starts, nearly every line, told by their first bytes eight at a time, and
      // called directly: one call site for all the readers would see too many functions to stay
      // fast (V8 inline caches hold four).
      const words = this.wordsOf(buf);
      if (sameWides(words, start, end, TASK_END_LINE)) {
        if (this.fastTaskEnd(buf, start + TASK_END_LINE.bytes.length, end)) this.sawEvent = true;
        else this.slowLine(buf, start, end, lineNo);
        return;
      }
      if (sameWides(words, start, end, TASK_START_LINE)) {
        this.sawEvent = true;
        return;
      }
    }
    if (bytesAt(buf, start, end, EVENT_PREFIX)) {
      const nameStart = start + EVENT_PREFIX.length;
      let nameEnd = nameStart;
      while (nameEnd < end && buf[nameEnd] !== QUOTE) nameEnd++;
      if (nameEnd < end) {
        if (closed) {
          const nameLength = nameEnd - nameStart;
          for (const fast of this.fastEvents) {
            if (fast.name.length !== nameLength || !sameBytes(buf, nameStart, fast.name)) continue;
            if (fast.read(buf, nameEnd + 1, end, lineNo)) {
              this.sawEvent = true;
              return;
            }
            break;
          }
        }
        const name = buf.toString('latin1', nameStart, nameEnd);
        if (!PARSED_EVENTS.has(name)) {
          this.sawEvent = true;
          // Skipped unparsed, but a cut-off line is still worth a problem: the parser says where, as for any other.
          if (!closed) this.slowLine(buf, start, end, lineNo);
          return;
        }
      }
    }
    this.slowLine(buf, start, end, lineNo);
  }

  /**
   * A last line without a newline: replayed if it is complete JSON, otherwise ignored without a
   * malformed-json problem (the caller reports the cut-off once). Returns whether it was usable.
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

  /**
   * Task end read from bytes; false when the line is not in the expected shape (caller parses it).
   * By one of the last layouts when the line has one (TaskLayouts.read), else by searching its keys
   * (searchTaskEnd), and then the line may become a layout (TaskLayouts.learn).
   */
  private fastTaskEnd(buf: Buffer, from: number, end: number): boolean {
    const words = this.wordsOf(buf);
    if (!this.layouts.read(buf, words, from, end, this.tasks)) {
      if (!this.searchTaskEnd(buf, words, from, end)) return false;
      this.layouts.learn(buf, words, from, end, this.tasks, this.taskMetricsAt, this.infoKeyAt);
    }
    const spans = this.taskSpans;
    const reasonStart = spans[0]!;
    const reasonEnd = spans[1]!;
    const outcome = reasonEnd - reasonStart === SUCCESS.length && sameBytes(buf, reasonStart, SUCCESS) ? 'success' : taskOutcome(buf.toString('latin1', reasonStart, reasonEnd));
    const values = this.taskValues;
    this.addTask(outcome, values);
    if (this.withSummaries) {
      const ints = this.taskInts;
      const executor = spans[2] === -1 ? null : this.tracker.executorAt(buf, spans[2]!, spans[3]!);
      this.tracker.task(this.tracker.stage(ints[0]!, ints[1]!), executor, outcome, values);
    }
    return true;
  }

  /**
   * A task end read by searching its keys, into taskValues, taskInts, taskSpans and taskMetricsAt;
   * false when the line is not in the expected shape (the caller parses it). Every search is a JS
   * loop bounded by the line, finding quotes four bytes at a time (nextQuote): `Buffer.indexOf` has
   * no end bound (a key a Spark 1.x task lacks scanned the rest of the 512 KiB chunk), and each call
   * with a multi-byte needle costs ~0.4 µs of set-up, more than scanning a Spark 1.x task's whole
   * metrics. The metrics are read in one pass over the "Task Metrics" object, whatever keys the
   * version leaves out.
   */
  private searchTaskEnd(buf: Buffer, words: DataView, from: number, end: number): boolean {
    const summaries = this.withSummaries;
    const ints = this.taskInts;
    const spans = this.taskSpans;
    resetHead(ints, spans);
    if (summaries) {
      // `,"Stage ID":N,"Stage Attempt ID":M` right after the event name (Spark 1.2-4.x; 1.0-1.1 lack the attempt).
      if (!sameWords(words, from, end, TASK_STAGE_ID_KEY)) return false;
      const idAt = from + TASK_STAGE_ID.length;
      if (!intInto(buf, idAt, end, ints, 0)) return false;
      // From the id's first byte (a digit), so the loop's body runs on every line: started after it,
      // it never ran for ids 0-9, and stage 10 came after the JIT compiled this (issue 15: a deopt).
      let at = idAt;
      while (at < end && buf[at] !== 0x2c) at++;
      if (sameWords(words, at, end, STAGE_ATTEMPT_ID_KEY) && !intInto(buf, at + STAGE_ATTEMPT_ID.length, end, ints, 1)) return false;
    }
    const reason = indexOfKey(buf, words, from, Math.min(end, from + REASON_WITHIN), REASON);
    if (reason === -1) return false;
    const reasonStart = reason + REASON.length;
    let reasonEnd = reasonStart;
    while (reasonEnd < end && buf[reasonEnd] !== QUOTE) reasonEnd++;
    if (reasonEnd === end) return false;
    spans[0] = reasonStart;
    spans[1] = reasonEnd;
    const tm = this.metricsFinder.find(buf, words, reasonEnd, end);
    if (tm === -1) return false;
    this.taskMetricsAt = tm;
    // NaN fills the metrics and the duration: what a task end does not carry is unknown.
    const values = this.taskValues.fill(NaN);
    if (summaries) {
      // Its launch time, executor and finish time come before its Accumulables, so the reader stops well short of them.
      const info = taskInfoKey(buf, words, spans, tm);
      if (info === -1) return false;
      this.infoKeyAt = info;
      const infoAt = info + TASK_INFO.length;
      const found = this.taskInfoAt;
      if (!this.nearTaskInfo(buf, words, infoAt, tm, found) && !this.searchTaskInfo(buf, words, infoAt, tm, found)) return false;
      if (!durationAt(buf, found[LAUNCH_AT]!, found[FINISH_AT]!, tm, values)) return false;
      const idAt = found[EXECUTOR_AT]!;
      if (idAt !== -1) {
        if (buf[idAt] !== QUOTE) {
          if (!bytesAt(buf, idAt, tm, NULL_LITERAL)) return false;
        } else {
          const idEnd = nextQuote(buf, words, idAt + 1, tm);
          if (idEnd >= tm) return false;
          for (let i = idAt + 1; i < idEnd; i++) if (buf[i] === BACKSLASH) return false;
          spans[2] = idAt + 1;
          spans[3] = idEnd;
        }
      }
    }
    const valueAt = tm + TASK_METRICS.length;
    if (buf[valueAt] === 0x7b) return scanMetrics(buf, words, valueAt + 1, end, values);
    return bytesAt(buf, valueAt, end, NULL_LITERAL);
  }

  /**
   * A stage submission or completion read from bytes: Spark 1.x-4.x write `"Stage Info":{"Stage
   * ID":N,"Stage Attempt ID":M,` right after the event name, then the name, the RDDs, the times and
   * (only for a failed attempt) `"Failure Reason"`, all before the Accumulables, where the reader
   * stops. Small apps have as many stage lines as task lines, each with kilobytes of accumulables.
   * False when the line is not in that shape (the caller parses it).
   */
  private fastStageInfo(buf: Buffer, from: number, end: number, completed: boolean): boolean {
    if (!completed && !this.withSummaries) return true;
    if (!sameBytes(buf, from, STAGE_INFO_ID)) return false;
    const words = this.wordsOf(buf);
    const idAt = from + STAGE_INFO_ID.length;
    const id = readInt(buf, idAt, end);
    if (id === null) return false;
    let at = idAt + 1;
    while (at < end && buf[at] !== 0x2c) at++;
    if (!sameBytes(buf, at, STAGE_ATTEMPT_ID)) return false;
    const attemptAt = at + STAGE_ATTEMPT_ID.length;
    const attempt = readInt(buf, attemptAt, end);
    if (attempt === null) return false;
    at = attemptAt + 1;
    while (at < end && buf[at] !== 0x2c && buf[at] !== CLOSE_BRACE) at++;
    // Four stores, not TypedArray#fill: a builtin's call per stage line (issue 15).
    const found = this.stageInfoAt;
    found[NAME_AT] = -1;
    found[SUBMITTED_AT] = -1;
    found[COMPLETED_AT] = -1;
    found[FAILURE_AT] = -1;
    const stopped = sparkStageInfo(buf, at, end, found, completed) ? 0 : keysAt(buf, words, at, end, STAGE_INFO_KEYS, found.fill(-1), ACCUMULABLES);
    if (stopped === -1) return false;
    if (stopped > 0) {
      // A key this event uses that is not before the Accumulables (so not seen above) is left to
      // JSON.parse if it is anywhere after them; a completed stage's Failure Reason is looked for so
      // (as this reader always did), a submitted stage's only lacks its completion.
      const used = completed ? STAGE_INFO_KEYS.length : COMPLETED_AT;
      for (let k = 0; k < used; k++) if (found[k] === -1 && indexOfKey(buf, words, stopped, end, STAGE_INFO_KEYS[k]!) !== -1) return false;
    }
    const nameAt = found[NAME_AT];
    const submittedAt = found[SUBMITTED_AT];
    const completedAt = found[COMPLETED_AT];
    const failureAt = found[FAILURE_AT];
    const name = nameAt === -1 || !this.withSummaries ? null : stringOrNull(buf, words, nameAt, end, this.recentNames);
    const submitted = submittedAt === -1 ? null : intOrNull(buf, submittedAt, end);
    const completedMs = completedAt === -1 ? null : intOrNull(buf, completedAt, end);
    if (name === undefined || submitted === undefined || completedMs === undefined) return false;
    let outcome = SUBMITTED;
    if (completed) {
      const failed = failureAt !== -1 && !bytesAt(buf, failureAt, end, NULL_LITERAL);
      this.stageOutcome(id, attempt, failed);
      outcome = failed ? COMPLETED_FAILED : COMPLETED_OK;
    }
    // One call site for both kinds of line: the JIT compiles the tracker's side of them once (issue 15).
    if (this.withSummaries) this.tracker.stageEvent(id, attempt, name, submitted, completed ? completedMs : null, outcome);
    return true;
  }

  /** A parsed StageCompleted. */
  private stageCompleted(id: number, attempt: number, name: string | null, submitted: number | null, completed: number | null, failed: boolean): void {
    this.stageOutcome(id, attempt, failed);
    if (this.withSummaries) this.tracker.stageCompleted(id, attempt, name, submitted, completed, failed);
  }

  /** A stage attempt's completion, for the record's stage counts. */
  private stageOutcome(id: number, attempt: number, failed: boolean): void {
    const plain = plainStage(id, attempt);
    // With summaries the tracker's slot of this attempt says the same (its caller feeds it this
    // completion): counted from there at the end (SummaryTracker.completedStages), no map kept beside it.
    if (plain && this.withSummaries) return;
    // The same attempt seen again (a rolling log's compacted copy, a replayed event) takes its latest outcome.
    // A number for the ids Spark writes, no string built and hashed per stage; a string for any
    // other pair. The two kinds of key never meet.
    const key = plain ? id + attempt * 0x100000000 : `${id}.${attempt}`;
    this.stageFailed.set(key, failed);
  }

  /**
   * Task Info's launch time, executor and finish time found by walking its keys (keysAt), when
   * they are not where the last task had them (the first task, a new layout): a method of its own,
   * so that the hot path's compiled code does not carry it. False when the line must be parsed.
   */
  private searchTaskInfo(buf: Buffer, words: DataView, infoAt: number, tm: number, found: Int32Array): boolean {
    found.fill(-1);
    let stopped = keysAt(buf, words, infoAt + 1, tm, TASK_INFO_KEYS, found, ACCUMULABLES);
    // Not all before the Accumulables (never so in Spark's logs): look on to the metrics.
    if (stopped > 0) stopped = keysAt(buf, words, stopped + 1, tm, TASK_INFO_KEYS, found, null);
    if (stopped === -1) return false;
    if (found[LAUNCH_AT] !== -1) this.launchDistance = found[LAUNCH_AT]! - infoAt;
    if (found[EXECUTOR_AT] !== -1 && found[FINISH_AT] !== -1) this.finishDistance = found[FINISH_AT]! - found[EXECUTOR_AT]!;
    return true;
  }

  /**
   * Task Info's launch time, executor and finish time where the last task had them: Spark writes
   * `"Launch Time":N,"Executor ID":"…"` a nearly constant distance into Task Info (only digit
   * counts change), and `"Finish Time":` a nearly constant distance after the executor id (its
   * host and locality change it a little). Each is looked for within TASK_INFO_SLACK bytes of
   * there and checked byte for byte; false sends the line to the full search (keysAt).
   */
  private nearTaskInfo(buf: Buffer, words: DataView, infoAt: number, tm: number, found: Int32Array): boolean {
    if (this.launchDistance === 0 || this.finishDistance === 0) return false;
    const launchKey = TASK_INFO_KEYS[LAUNCH_AT]!;
    const launch = near(buf, words, infoAt, tm, this.launchDistance - launchKey.length, LAUNCH_KEY);
    if (launch === -1) return false;
    let p = launch + launchKey.length;
    if (buf[p] === 0x2d) p++;
    while (p < tm && buf[p]! >= 0x30 && buf[p]! <= 0x39) p++;
    if (!sameWords(words, p, tm, NEXT_EXECUTOR_ID)) return false;
    const id = p + NEXT_EXECUTOR_ID.bytes.length;
    const finishKey = TASK_INFO_KEYS[FINISH_AT]!;
    const finish = near(buf, words, id, tm, this.finishDistance - finishKey.length, FINISH_KEY);
    if (finish === -1) return false;
    found[LAUNCH_AT] = launch + launchKey.length;
    found[EXECUTOR_AT] = id;
    found[FINISH_AT] = finish + finishKey.length;
    this.launchDistance = found[LAUNCH_AT] - infoAt;
    this.finishDistance = found[FINISH_AT] - id;
    return true;
  }

  /** A DataView of exactly `buf`'s bytes, made once per chunk (see nextQuote). */
  private wordsOf(buf: Buffer): DataView {
    if (this.wordsFor !== buf) {
      this.wordsFor = buf;
      this.words = new DataView(buf.buffer, buf.byteOffset, buf.length);
    }
    return this.words!;
  }

  private addTask(outcome: TaskOutcome, values: TaskValues): void {
    this.tasks++;
    if (outcome === 'failed' || outcome === 'resubmitted') this.failedTasks++;
    for (let i = 0; i < METRIC_NAMES.length; i++) {
      const v = values[i]!;
      if (Number.isNaN(v)) continue;
      const field = FIELD_OF_KEY[i]!;
      if (field === NO_FIELD) continue;
      this.metricSeen[field] = 1;
      // Negative metrics are impossible (Spark uses -1 for "unknown" in some old versions): ignore them.
      if (v > 0) this.metrics[field]! += v;
    }
  }

  private slowLine(buf: Buffer, start: number, end: number, lineNo: number): void {
    const bytes = buf.subarray(start, end);
    const text = bytes.toString('utf8');
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      const bad = malformedJson(text);
      this.lineProblem(bad.code, bad.message, lineNo, bad.column);
      return;
    }
    const e = obj(event);
    const type = e ? str(e.Event) : null;
    if (!e || type === null) {
      this.lineProblem(MISSING_EVENT, MISSING_EVENT_MESSAGE, lineNo, 1);
      return;
    }
    this.sawEvent = true;
    if (!isUtf8(bytes)) this.problem('warning', 'invalid-utf8', 'invalid UTF-8 bytes (replaced by U+FFFD)', lineNo);
    try {
      this.event(type, e, lineNo);
    } catch (err) {
      this.tooDeep(err, type, lineNo);
    }
  }

  /**
   * A line whose values overflowed the stack while being read (a value nested thousands of levels
   * deep: JSON.parse itself does not recurse, code reading what it gave may): a problem on its
   * line, and the lines after it are still read. Any other error is a bug and is thrown on.
   */
  private tooDeep(err: unknown, type: string, lineNo: number): void {
    if (!isStackOverflow(err)) throw err;
    this.lineProblem(NESTED_TOO_DEEP, nestedTooDeepMessage(type, err), lineNo, 1);
  }

  /**
   * An event that parsed but lacks the key it exists for: a problem on its line, and the field it
   * would have fed is flagged `missing:` (its value is what the other events gave).
   */
  private keyless(type: string, key: string, field: keyof SparkAppRecord, lineNo: number): void {
    this.problem('warning', 'missing-key', `${type} without "${key}": event ignored, ${field} may be incomplete`, lineNo);
    this.extraQuality.add(Quality.missing(field));
  }

  /** The `Spark Properties` of an EnvironmentUpdate, from either path. */
  private environmentUpdate(value: unknown, lineNo: number): void {
    const props = obj(value);
    // Very old logs write properties as [key, value] pairs, like the REST API does.
    const pairs = Array.isArray(value) ? (value as unknown[]) : null;
    if (!props && !pairs) {
      this.keyless(ENVIRONMENT_UPDATE, 'Spark Properties', 'environment', lineNo);
      return;
    }
    this.propsAt = { file: this.file, line: lineNo };
    if (props !== null && allText(props)) {
      // What textProperties would make of it: the same keys, in the same order, and values.
      this.props = props as Record<string, string>;
      return;
    }
    const entries = props ? Object.entries(props) : pairs!.flatMap((p) => (Array.isArray(p) && p.length === 2 ? [p as [unknown, unknown]] : []));
    const { properties, leftOut } = textProperties(entries);
    this.props = properties;
    if (leftOut !== null) this.problem('warning', 'bad-property', leftOut, lineNo);
  }

  /**
   * An EnvironmentUpdate with only its `Spark Properties` parsed: the System Properties and
   * Classpath Entries around them are most of the line (tens of KB), and most of a small log.
   * False when the line is not in that shape (the caller parses it whole).
   */
  private fastEnvironment(buf: Buffer, from: number, end: number, lineNo: number): boolean {
    const words = this.wordsOf(buf);
    const key = indexOfKey(buf, words, from, end, SPARK_PROPERTIES);
    if (key === -1) return false;
    const valueStart = key + SPARK_PROPERTIES.length;
    const valueEnd = endOfValue(buf, words, valueStart, end);
    if (valueEnd === -1) return false;
    const text = buf.subarray(valueStart, valueEnd);
    let value: unknown;
    try {
      value = JSON.parse(text.toString('utf8'));
    } catch {
      return false;
    }
    if (!isUtf8(text)) this.problem('warning', 'invalid-utf8', 'invalid UTF-8 bytes (replaced by U+FFFD)', lineNo);
    try {
      this.environmentUpdate(value, lineNo);
    } catch (err) {
      this.tooDeep(err, ENVIRONMENT_UPDATE, lineNo);
    }
    return true;
  }

  private event(type: string, e: Json, lineNo: number): void {
    switch (type) {
      case 'SparkListenerLogStart':
        this.sparkVersion = str(e['Spark Version']);
        break;
      case 'SparkListenerApplicationStart': {
        // An empty id is no id: it would key every such log to one record.
        const id = nonEmpty(str(e['App ID']));
        if (id === null) this.problem('warning', 'missing-key', `${type} ${str(e['App ID']) === '' ? 'with an empty' : 'without'} "App ID": the id comes from spark.app.id or the file name`, lineNo);
        this.appId = id ?? this.appId;
        this.attemptId = nonEmpty(str(e['App Attempt ID'])) ?? this.attemptId;
        this.appName = str(e['App Name']);
        this.user = str(e.User);
        this.startMs = this.eventTime(e, type, 'start_time', lineNo);
        break;
      }
      case 'SparkListenerApplicationEnd':
        this.endMs = this.eventTime(e, type, 'end_time', lineNo);
        this.endAt = { file: this.file, line: lineNo };
        this.ended = this.endMs !== null || this.invalidFields.has('end_time');
        // Spark 4 writes the driver's exit code; older logs cannot tell a failed app from a good one.
        this.exitCode = num(e.ExitCode);
        break;
      case 'SparkListenerEnvironmentUpdate':
        this.environmentUpdate(e['Spark Properties'], lineNo);
        break;
      case 'SparkListenerExecutorAdded': {
        const id = str(e['Executor ID']);
        if (id === null) {
          this.keyless(type, 'Executor ID', 'num_executors', lineNo);
          break;
        }
        this.executors.add(id);
        const executorInfo = obj(e['Executor Info']);
        const cores = executorInfo?.['Total Cores'];
        const host = str(executorInfo?.Host);
        if (cores === undefined || cores === null) {
          this.tracker.executorAdded(id, host, null, int(e.Timestamp));
          break;
        }
        const fault = typeof cores !== 'number' ? 'not a number' : coresFault(cores);
        if (fault !== null) this.invalidOnLine('executor_cores', `${type} Executor Info.Total Cores`, cores, fault, lineNo);
        this.executorCores.set(id, fault === null ? (cores as number) : NaN);
        this.tracker.executorAdded(id, host, fault === null ? (cores as number) : null, int(e.Timestamp));
        break;
      }
      case 'SparkListenerExecutorRemoved': {
        const id = str(e['Executor ID']);
        if (id !== null) this.tracker.executorRemoved(id, int(e.Timestamp), str(e['Removed Reason']));
        break;
      }
      case 'SparkListenerBlockManagerAdded': {
        const manager = obj(e['Block Manager ID']);
        const id = str(manager?.['Executor ID']);
        if (id === null) this.keyless(type, 'Block Manager ID.Executor ID', 'num_executors', lineNo);
        else {
          this.blockManagers.add(id);
          this.tracker.blockManagerAdded(id, str(manager?.Host), int(e.Timestamp));
        }
        break;
      }
      case 'SparkListenerStageCompleted':
      case 'SparkListenerStageSubmitted': {
        const info = obj(e['Stage Info']);
        const id = num(info?.['Stage ID']);
        if (!info || id === null) {
          if (type === 'SparkListenerStageCompleted') this.keyless(type, info ? 'Stage Info.Stage ID' : 'Stage Info', 'total_stages', lineNo);
          break;
        }
        const attempt = num(info['Stage Attempt ID']) ?? 0;
        const name = info['Stage Name'] === undefined ? null : str(info['Stage Name']);
        if (type === 'SparkListenerStageSubmitted') this.tracker.stageSubmitted(id, attempt, name, int(info['Submission Time']));
        else this.stageCompleted(id, attempt, name, int(info['Submission Time']), int(info['Completion Time']), info['Failure Reason'] !== undefined && info['Failure Reason'] !== null);
        break;
      }
      case 'SparkListenerJobStart': {
        // Stages a job may run; those never submitted are skipped (summaries.ts), named as its Stage
        // Infos name them; logs before Spark 1.2 have only their ids (fastJobStart says more).
        const ids = e['Stage IDs'];
        if (!Array.isArray(ids)) break;
        const infos = e['Stage Infos'];
        if (!Array.isArray(infos)) {
          for (const v of ids) {
            const id = int(v);
            if (id !== null) this.tracker.jobStage(id, 0, null);
          }
          break;
        }
        for (const v of infos) {
          const info = obj(v);
          const id = int(info?.['Stage ID']);
          if (info === null || id === null) continue;
          this.tracker.jobStage(id, int(info['Stage Attempt ID']) ?? 0, str(info['Stage Name']));
        }
        break;
      }
      case 'SparkListenerTaskEnd': {
        const outcome = taskOutcome(str(obj(e['Task End Reason'])?.Reason) ?? 'Success');
        const tm = obj(e['Task Metrics']);
        const values = this.taskValues.fill(NaN);
        METRIC_NAMES.forEach((name, i) => {
          const { key, group, field } = METRIC_KEYS[name];
          const v = (group === null ? tm : obj(tm?.[group]))?.[key];
          if (v === undefined || v === null) return;
          // Negative integers are Spark's "unknown" (addTask skips them). The byte reader takes only
          // safe integers, so every value that cannot be true is judged here, whichever path saw the line first.
          if (typeof v === 'number' && Number.isSafeInteger(v)) values[i] = v;
          // A summary-only metric that cannot be true is left out of the summaries.
          else if (field !== null) {
            this.invalidOnLine(field, `SparkListenerTaskEnd Task Metrics.${group === null ? '' : `${group}.`}${key}`, v, typeof v === 'number' ? countFault(v)! : 'not a number', lineNo);
            this.invalidFields.add(field);
          }
        });
        this.addTask(outcome, values);
        const stageId = num(e['Stage ID']);
        const taskInfo = obj(e['Task Info']);
        const executorId = str(taskInfo?.['Executor ID']);
        const launch = int(taskInfo?.['Launch Time']);
        const finish = int(taskInfo?.['Finish Time']);
        values[TASK_DURATION] = launch === null || finish === null ? NaN : taskDuration(launch, finish);
        values[TASK_LAUNCH] = launch ?? NaN;
        this.tracker.task(
          stageId === null ? -1 : this.tracker.stage(stageId, num(e['Stage Attempt ID']) ?? 0),
          executorId === null ? null : this.tracker.executor(executorId),
          outcome,
          values,
        );
        break;
      }
      default:
        break;
    }
  }

  /**
   * The attempt's stage and executor summaries (call after finish()); none when they are not read.
   * Their CPU times go by the rule of every source (stageCpuKnown) on the record finish() made.
   */
  summaries(): AppSummaries {
    return this.withSummaries ? this.tracker.summaries(this.finished === null || stageCpuKnown(this.finished)) : { stages: [], executors: [] };
  }

  /** Stage attempts whose latest completion failed. */
  private failedStages(): number {
    let failed = 0;
    for (const f of this.stageFailed.values()) if (f) failed++;
    return failed;
  }

  /** The record for this attempt; null when the input held no Spark event at all. */
  finish(): SparkAppRecord | null {
    if (!this.sawEvent) return null;
    const quality = new Set<string>(this.extraQuality);
    for (const field of this.invalidFields) quality.add(Quality.invalid(field));
    const found: RecordFindings = { quality, problems: this.problems, where: this.file, propsAt: this.propsAt };
    const props = this.props ?? {};
    const prop = (k: string): string | undefined => props[k];
    if (this.props === null) quality.add(Quality.missing('environment'));

    // Logs older than Spark 1.3 have no ExecutorAdded: their block managers name the executors (DESIGN.md §2).
    const sizing = recordSizing(props, executorCount(this.executors.size > 0 ? this.executors : this.blockManagers, found), this.executorCores, 'spark-default', found);

    // Without an ApplicationStart (a log cut at its head, or an odd writer) the environment still
    // names the app, better than the file name does.
    const appId = this.appId ?? nonEmpty(prop('spark.app.id'));
    const appName = this.appName ?? nonEmpty(prop('spark.app.name'));
    if (appId === null) quality.add(Quality.missing('app_id'));
    const sparkVersion = this.sparkVersion ?? this.hints.sparkVersion ?? null;
    if (sparkVersion === null) quality.add(Quality.missing('spark_version'));

    const times = recordTimes({ submit: submitTimeProperty(props, found), submitFrom: 'spark.app.submitTime', start: this.startMs, end: this.endMs, endAt: this.endAt }, found);

    let status: AppStatus;
    if (this.ended) status = this.exitCode !== null && this.exitCode !== 0 ? 'failed' : 'completed';
    else if (this.hints.inProgress) {
      status = 'running';
      quality.add(Quality.inProgress);
    } else {
      status = 'unknown';
      quality.add(Quality.truncated);
    }

    const tracked = this.withSummaries ? this.tracker.completedStages() : { completed: 0, failed: 0 };
    const total = (field: MetricField): number => this.metrics[METRIC_FIELDS.indexOf(field)]!;
    // Executor CPU Time exists from Spark 2.1 (DESIGN.md §2): tasks that never carried it leave CPU
    // time unknown, not a measured-looking 0 (no task at all used no CPU).
    const cpuMeasured = this.metricSeen[METRIC_FIELDS.indexOf('cpu_time_ms')] === 1 || this.tasks === 0;
    // A task's CPU time that cannot be true leaves the total unknown; other totals leave the value out.
    const cpuInvalid = this.invalidFields.has('cpu_time_ms');
    if (!cpuMeasured && !cpuInvalid) quality.add(Quality.missing('cpu_time_ms'));

    return (this.finished = {
      app_id: appId ?? this.hints.appId,
      attempt_id: this.attemptId,
      app_name: appName,
      user: this.user,
      ...times,
      spark_version: sparkVersion,
      ...sizing,
      total_tasks: this.tasks,
      failed_tasks: this.failedTasks,
      total_stages: this.stageFailed.size + tracked.completed,
      failed_stages: this.failedStages() + tracked.failed,
      cpu_time_ms: cpuMeasured && !cpuInvalid ? Math.floor(total('cpu_time_ms') / 1e6) : null,
      input_bytes: total('input_bytes'),
      output_bytes: total('output_bytes'),
      shuffle_read_bytes: total('shuffle_read_bytes'),
      shuffle_write_bytes: total('shuffle_write_bytes'),
      memory_spilled_bytes: total('memory_spilled_bytes'),
      disk_spilled_bytes: total('disk_spilled_bytes'),
      tags: { ...this.hints.tags },
      environment: redactSecrets(props, found),
      source: this.hints.source,
      status,
      quality: [...quality].sort(),
    });
  }

}

/**
 * A task's outcome by its end reason alone, as Spark's History Server counts it
 * (AppStatusListener.onTaskEnd): killed and commit-denied tasks are killed (numKilledTasks), not
 * failures; every other reason but Success fails (Resubmitted too). `Task Info.Failed` is not
 * read: Spark does not count by it. A line without a reason (no Spark writes one) is a success.
 */
function taskOutcome(reason: string): TaskOutcome {
  if (reason === 'Success') return 'success';
  if (reason === 'TaskKilled' || reason === 'TaskCommitDenied') return 'killed';
  // Failed, but its metrics were already counted at the task's first end (summaries.ts).
  if (reason === 'Resubmitted') return 'resubmitted';
  return 'failed';
}

/** Where durationAt has intInto write the launch and finish time (see there). */
const TIMES = new Float64Array(2);

/**
 * taskDuration from the Launch Time and Finish Time values at `launchAt` and `finishAt` (-1: the
 * key is absent, unknown as on the parsed path), into values[TASK_DURATION]: NaN when either is
 * unknown (absent or null). False when either is not what Spark writes (an integer or null): the
 * caller parses the line. The times are written into TIMES (intInto) and the duration into
 * `values`, never returned: a large double returned is boxed, a heap number per task end.
 */
function durationAt(buf: Buffer, launchAt: number, finishAt: number, end: number, values: TaskValues): boolean {
  TIMES.fill(NaN);
  if (launchAt !== -1 && !intInto(buf, launchAt, end, TIMES, 0) && !bytesAt(buf, launchAt, end, NULL_LITERAL)) return false;
  if (finishAt !== -1 && !intInto(buf, finishAt, end, TIMES, 1) && !bytesAt(buf, finishAt, end, NULL_LITERAL)) return false;
  const launch = TIMES[0]!;
  const finish = TIMES[1]!;
  values[TASK_DURATION] = Number.isNaN(launch) || Number.isNaN(finish) ? NaN : taskDuration(launch, finish);
  values[TASK_LAUNCH] = launch;
  return true;
}

/**
 * Whether every property of a parsed object is text, none named `__proto__` (which JSON.parse
 * makes an own key, and a copy by assignment does not): the object is then its own textProperties,
 * kept as it is (its ~200 properties copied per log were a tenth of a small log's environment).
 */
function allText(props: Json): boolean {
  for (const key in props) if (typeof props[key] !== 'string' || key === '__proto__') return false;
  return true;
}

function nonEmpty(v: string | null | undefined): string | null {
  return v === undefined || v === null || v.trim() === '' ? null : v;
}

