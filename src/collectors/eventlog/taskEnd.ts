/**
 * What the two readers of a task end's bytes share: replay.ts's searches (searchTaskEnd) and the
 * layouts of the last task ends (taskLayout.ts). The metric keys they read, where they put what a
 * line gives (TaskValues, TaskInts, TaskSpans), and the keys both find the same way (Task Info
 * after the end reason, Task Metrics from the line's end), so that a layout learned from a line
 * reads it exactly as the searches did.
 */
import type { SparkAppRecord } from '../record';
import { TASK_DURATION, TASK_METRIC } from './summaries';
import { BACKSLASH, CLOSE_BRACE, COMMA, backwardKey, indexOfKey, lastIndexOfKey, sameBytes, sameWords, wordKey } from './jsonBytes';

export const TASK_INFO = Buffer.from('"Task Info":');
export const TASK_METRICS = Buffer.from('"Task Metrics":');
export const SUCCESS = Buffer.from('Success');
/** The keys searched back from a line's end (lastIndexOfKey). */
const TASK_INFO_BACK = backwardKey(TASK_INFO);
const TASK_METRICS_BACK = backwardKey(TASK_METRICS);
const TASK_INFO_KEY = wordKey(TASK_INFO);
/** How far from the last task's distance TaskMetricsFinder looks first. */
const METRICS_SLACK = 48;

/**
 * Task-metric keys, in Spark's JsonProtocol spelling, with the group object that holds each (null:
 * "Task Metrics" itself) and the record field it is summed into (DESIGN.md §2: shuffle read is
 * remote + local; null: only the stage and executor summaries use it); each key appears at most
 * once inside "Task Metrics". The order is summaries.ts's TASK_METRIC (checked below).
 */
export const METRIC_KEYS = {
  cpuNs: { key: 'Executor CPU Time', group: null, field: 'cpu_time_ms' },
  memorySpilled: { key: 'Memory Bytes Spilled', group: null, field: 'memory_spilled_bytes' },
  diskSpilled: { key: 'Disk Bytes Spilled', group: null, field: 'disk_spilled_bytes' },
  remoteRead: { key: 'Remote Bytes Read', group: 'Shuffle Read Metrics', field: 'shuffle_read_bytes' },
  localRead: { key: 'Local Bytes Read', group: 'Shuffle Read Metrics', field: 'shuffle_read_bytes' },
  shuffleWritten: { key: 'Shuffle Bytes Written', group: 'Shuffle Write Metrics', field: 'shuffle_write_bytes' },
  inputRead: { key: 'Bytes Read', group: 'Input Metrics', field: 'input_bytes' },
  outputWritten: { key: 'Bytes Written', group: 'Output Metrics', field: 'output_bytes' },
  runTime: { key: 'Executor Run Time', group: null, field: null },
  gcTime: { key: 'JVM GC Time', group: null, field: null },
  peakMemory: { key: 'Peak Execution Memory', group: null, field: null },
} as const satisfies Record<string, { key: string; group: string | null; field: keyof SparkAppRecord | null }>;
export type MetricName = keyof typeof METRIC_KEYS;
export const METRIC_NAMES = Object.keys(METRIC_KEYS) as MetricName[];
METRIC_NAMES.forEach((name, i) => {
  if (TASK_METRIC[name] !== i) throw new Error(`METRIC_KEYS and TASK_METRIC disagree on ${name}`);
});
/** Metric values of one task, by METRIC_NAMES index (NaN where the task's metrics lack the key), then its duration at TASK_DURATION. */
export type TaskValues = Float64Array;
if (TASK_DURATION !== METRIC_NAMES.length) throw new Error('TASK_DURATION must follow the metrics');
/** For each key length in bytes, the indexes and bytes of the wanted keys that long, so the scan compares a key only with those. */
export const KEYS_BY_LENGTH: { index: number; key: Buffer }[][] = [];
METRIC_NAMES.forEach((name, index) => {
  const key = Buffer.from(METRIC_KEYS[name].key, 'latin1');
  (KEYS_BY_LENGTH[key.length] ??= []).push({ index, key });
});

/** A task end's stage id, attempt, launch and finish time, in that order (a layout's slot - STAGE_SLOT, taskLayout.ts). */
export type TaskInts = Float64Array;
/** Start and end in the line of the end reason's text, then of the executor id's (-1: none; a layout's 2 * (slot - REASON_SLOT)). */
export type TaskSpans = Int32Array;

/** Task Info's Finish Time - Launch Time (Spark's TaskInfo.duration); NaN for a task with no launch or no finish. */
export function taskDuration(launch: number, finish: number): number {
  return launch > 0 && finish >= launch ? finish - launch : NaN;
}

/**
 * Where `"Task Info":` is in a task end whose reason is at taskSpans[0, 1) and whose Task Metrics
 * is at `tm`, its value an object; -1 when it is not so. Task Info follows the reason (Spark
 * 1.x-4.x), before the metrics. A success's reason ends right there: its `"Success"},"Task Info":`
 * is checked in place first. A failure's may hold a long stack trace, so its Task Info is searched
 * back from the metrics instead (past its Accumulables, usually shorter).
 */
export function taskInfoKey(buf: Buffer, words: DataView, spans: TaskSpans, tm: number): number {
  const reasonStart = spans[0]!;
  const reasonEnd = spans[1]!;
  const success = reasonEnd - reasonStart === SUCCESS.length && sameBytes(buf, reasonStart, SUCCESS);
  const info = success
    ? buf[reasonEnd + 1] === CLOSE_BRACE && buf[reasonEnd + 2] === COMMA && sameWords(words, reasonEnd + 3, tm, TASK_INFO_KEY)
      ? reasonEnd + 3
      : indexOfKey(buf, words, reasonEnd + 1, tm, TASK_INFO)
    : lastIndexOfKey(buf, reasonEnd + 1, tm, TASK_INFO_BACK);
  // lastIndexOfKey does not look at escapes: a match at an escaped quote (inside a string) goes to JSON.parse.
  if (info === -1 || buf[info - 1] === BACKSLASH || buf[info + TASK_INFO.length] !== 0x7b) return -1;
  return info;
}

/** What Task Info gives, unknown before it is read: the launch and finish time, the executor. */
export function resetInfo(ints: TaskInts, spans: TaskSpans): void {
  ints[2] = NaN;
  ints[3] = NaN;
  spans[2] = -1;
  spans[3] = -1;
}

/** TaskInts before a task end is read: stage attempt 0 (Spark 1.0-1.1 write none), times unknown; no reason or executor found. */
export function resetHead(ints: TaskInts, spans: TaskSpans): void {
  ints[0] = 0;
  ints[1] = 0;
  ints[2] = NaN;
  ints[3] = NaN;
  spans.fill(-1);
}

/** taskDuration of the launch and finish time in `ints`; NaN when either is unknown. */
export function durationOf(ints: TaskInts): number {
  const launch = ints[2]!;
  const finish = ints[3]!;
  return Number.isNaN(launch) || Number.isNaN(finish) ? NaN : taskDuration(launch, finish);
}

/**
 * Where `"Task Metrics":` is in a task end. It is the event's last field, so its distance from the
 * line's end barely changes from task to task (only digit counts do): look within METRICS_SLACK
 * bytes of the last distance first, then search back from the end (which skips the accumulables).
 * Either way the match is checked byte for byte. One per replay, shared by its searches and its
 * layouts: the distance is the last task end's, whichever read it.
 */
export class TaskMetricsFinder {
  /** Bytes from the last task end's `"Task Metrics":` to its line's end; 0 before the first. */
  private distance = 0;

  /** Where `"Task Metrics":` is in buf[from, end), or -1. */
  find(buf: Buffer, words: DataView, from: number, end: number): number {
    if (this.distance > 0) {
      const guess = end - this.distance;
      const hi = Math.min(end, guess + METRICS_SLACK + TASK_METRICS.length);
      const at = indexOfKey(buf, words, Math.max(from, guess - METRICS_SLACK), hi, TASK_METRICS);
      if (at !== -1) return at;
    }
    const at = lastIndexOfKey(buf, from, end, TASK_METRICS_BACK);
    if (at !== -1) this.distance = end - at;
    return at;
  }
}
