/**
 * The Job page's view model (issue 15): plain data computed from a record and its stage and
 * executor summaries, which the webview only renders. Pure (no vscode, no DOM), so it is tested in
 * Node (test/jobPageModel.test.ts) and the webview bundle can import its sort function.
 *
 * Times on the page are seconds since the application started (the Spark UI's event timeline reads
 * the same way); absolute times are UTC ISO text, as the record holds them.
 */
import type { SparkAppRecord } from '../../collectors/record';
import { sparkVersionBefore } from '../../collectors/record/sparkVersion';
import { stageRan, withStageCpu, type AppSummaries, type StageStatus, type StageSummary } from '../../collectors/record/summaries';
import type { RegressionCheck, RegressionStatus } from '../../analysis/regression';
import { formatBytes, formatDuration, plural } from '../../common/format';
import { fieldOf, fieldText, isRecordColumn } from '../../storage/fields';
import { maxOf, minOf } from '../../common/arrays';

/** Stages are costly when, largest first, they make up this share of all executor run time… */
export const COSTLY_RUN_TIME_SHARE = 0.8;
/** …each holding at least this share of it and this many times the average stage's (in an even job no stage stands out), and no more than this many of them. */
export const COSTLY_MIN_SHARE = 0.05;
export const COSTLY_ABOVE_MEAN = 1.5;
export const COSTLY_MAX_STAGES = 10;
/** A stage is skewed when its slowest task took this many times its median task… */
export const SKEW_FACTOR = 3;
/** …and that slowest task took at least this long (a 40 ms task 5× a 8 ms median is noise); the COSTLY_MAX_STAGES whose stragglers cost the most time. */
export const SKEW_MIN_MAX_TASK_MS = 1_000;

export type Tone = 'ok' | 'warn' | 'error' | 'neutral';

export interface Card {
  id: 'status' | 'duration' | 'tasks' | 'cpu' | 'io' | 'shuffle' | 'spill' | 'executors';
  label: string;
  value: string;
  detail: string;
  tone: Tone;
}

export interface GanttRow {
  /** `3.1`: stage 3, attempt 1. */
  key: string;
  label: string;
  name: string;
  status: StageStatus;
  /** Seconds since the timeline's origin: submitted, completed. */
  start: number;
  end: number;
  /**
   * When its first task launched (end minus its duration, as Spark's stage table measures it), from
   * `start` to `end`. Before it the stage waited: for executors (NewYorkTaxiData on Kubernetes: stage 0
   * submitted at +34 s, executors up at +64 s, a 32 s bar for a 2.2 s stage), or for free cores.
   */
  runStart: number;
  /** The stage's duration as the stage table gives it (first task to completion), formatted. */
  duration: string;
  /** Row of the packed timeline: stage attempts that overlap in time never share one. */
  lane: number;
  costly: boolean;
}

export interface StageRow {
  key: string;
  stageId: number;
  attempt: number;
  name: string;
  /** The name as the table shows it: a call site's directories elided (stageName). */
  shortName: string;
  status: StageStatus;
  durationMs: number | null;
  duration: string;
  tasks: number;
  failedTasks: number;
  killedTasks: number;
  /** Failed tasks, then a failed stage attempt: what "sort by failures" orders on. */
  failures: number;
  input: string;
  inputBytes: number;
  /** Input / output, formatted. */
  io: string;
  shuffleReadBytes: number;
  shuffleWriteBytes: number;
  /** Read + write, what "sort by shuffle" orders on. */
  shuffleBytes: number;
  shuffle: string;
  /** Spilled to disk: what "sort by spill" orders on (the memory size is of the same data). */
  spillBytes: number;
  spill: string;
  /** The spilled data's size as it was held in memory. */
  memorySpill: string;
  runTimeMs: number;
  runTime: string;
  /** Share of the application's executor run time, 0..1. */
  runShare: number;
  /** Null where Spark never measured it (before 2.1; stageCpuKnown) or the stage did not run. */
  cpuTimeMs: number | null;
  /** '-' where cpuTimeMs is null. */
  cpuTime: string;
  gcTime: string;
  /** Slowest task / median task; null without task durations or with a 0 ms median. */
  skew: number | null;
  skewText: string;
  /** Median and max task duration, formatted ("1.2 s / 8.4 s"). */
  taskTimes: string;
  costly: boolean;
  /** Why it is costly, in words ("41% of executor run time", "slowest task 12× the median"). */
  costlyReasons: string[];
}

export interface ExecutorRow {
  id: string;
  host: string;
  cores: string;
  added: string;
  removed: string;
  removeReason: string;
  tasks: number;
  failedTasks: number;
  gcTimeMs: number;
  gcTime: string;
  shuffleRead: string;
  shuffleWrite: string;
}

export interface ConfigEntry {
  key: string;
  value: string;
}

export interface QualityFlag {
  flag: string;
  severity: 'error' | 'warning' | 'info';
  text: string;
}

/** The run against its own history (issue 18): the regression check in words and a table. */
export interface RegressionSection {
  status: RegressionStatus;
  /** "Regressed: Duration 2.0x; input 2.0x", "Steady against …", "Not checked: …". */
  headline: string;
  /** The check's whole reason (a regressed run), else ''. */
  explanation: string;
  baselineRuns: number;
  /** Every metric checked: this run, the baseline's median, the ratio; flagged ones say why. */
  metrics: { field: string; label: string; value: string; baseline: string; ratio: string; flagged: boolean; why: string }[];
  /** The Spark properties that differ from the baseline's (a regressed run). */
  config: { key: string; baseline: string; run: string }[];
  /** Whether the run has a name, so Compare with Previous Run and Show Trend can follow it. */
  hasName: boolean;
}

export interface JobPageModel {
  key: { app_id: string; attempt_id: string | null };
  title: string;
  /** Facts under the title: app id, attempt, user, Spark version, source, start. */
  facts: { label: string; value: string }[];
  cards: Card[];
  /** Whether stages and executors are known for this record (false for platform-only sources). */
  hasSummaries: boolean;
  /** Why stages are missing, when they are. */
  summariesNote: string | null;
  timeline: {
    /** UTC ISO time of second 0 (the application's start, or its first stage). */
    origin: string | null;
    /** Seconds from origin to the application's end (or the last thing seen). */
    span: number;
    lanes: number;
    gantt: GanttRow[];
    /** Stage attempts without a submission time that ran (or may have), left off the timeline. */
    untimed: number;
    /** Skipped stages (their shuffle output was there from an earlier job: Spark never submitted them), left off the timeline. */
    skipped: number;
    /** Executors alive over time, as steps: count[i] holds from t[i] to t[i + 1]. */
    executors: { t: number[]; count: number[]; peak: number };
  };
  stages: StageRow[];
  executors: ExecutorRow[];
  config: ConfigEntry[];
  flags: QualityFlag[];
  /** Null when the run was not checked against its history (no check given). */
  regression: RegressionSection | null;
}

/** The regression section of a run's page from its check (analysis/regression.ts). */
export function regressionSection(check: RegressionCheck): RegressionSection {
  const n = check.baseline_runs.length;
  const headline =
    check.status === 'regressed' ? `Regressed: ${check.summary}` : check.status === 'steady' ? `Steady: no metric is over the median of its last ${plural(n, 'completed run')} by the thresholds` : check.explanation;
  return {
    status: check.status,
    headline,
    explanation: check.status === 'regressed' ? check.explanation : '',
    baselineRuns: n,
    metrics: check.metrics.map((m) => {
      const f = fieldOf(m.field);
      return {
        field: m.field,
        label: m.label,
        value: fieldText(f, m.value),
        baseline: fieldText(f, m.baseline),
        ratio: m.ratio === null ? '-' : `${m.ratio.toFixed(2)}x`,
        flagged: m.flag !== null,
        why: m.flag === 'new_failures' ? 'failures where the baseline had none' : m.flag === 'threshold' ? 'over the factor and the floor' : '',
      };
    }),
    config: (check.changes?.config ?? []).map((c) => ({ key: c.key, baseline: c.a ?? '(not set)', run: c.b ?? '(not set)' })),
    hasName: check.app_name !== null,
  };
}

/** Property names in natural order: team2 before team10. */
const NATURAL = new Intl.Collator('en', { numeric: true });

const ms = (iso: string | null): number | null => {
  if (iso === null) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
};

const count = (n: number): string => n.toLocaleString('en-US');
const utc = (iso: string | null): string => (iso === null ? '-' : `${iso.slice(0, 19).replace('T', ' ')} UTC`);
/** Seconds since the origin as text: `+12.3 s`, `+4m 05s`, `+1h 02m`. */
export function offsetText(seconds: number): string {
  // Rounded before it is split, as formatDuration: 59.6 s is +1m 00s, not +60 s; 9.96 s is +10 s.
  const tenths = Math.round(Math.max(0, seconds) * 10);
  // A tenth below 10 s, unless whole (the axis' ticks: +0 s, +5 s, +10 s, not +5.0 s beside +10 s).
  if (tenths < 100) return `+${(tenths / 10).toFixed(tenths % 10 === 0 ? 0 : 1)} s`;
  const s = Math.round(tenths / 10);
  if (s < 60) return `+${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `+${m}m ${String(s % 60).padStart(2, '0')}s`;
  return `+${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
}

function cards(r: SparkAppRecord, s: AppSummaries | undefined): Card[] {
  const failedSomething = r.failed_tasks > 0 || r.failed_stages > 0;
  const statusTone: Tone = r.status === 'failed' ? 'error' : r.status === 'running' || r.status === 'unknown' || failedSomething ? 'warn' : 'ok';
  const runTimeMs = s ? s.stages.reduce((a, st) => a + st.executor_run_time_ms, 0) : 0;
  const cpuDetail = r.cpu_time_ms === null ? 'not measured (Spark before 2.1)' : runTimeMs > 0 ? `${Math.round((100 * r.cpu_time_ms) / runTimeMs)}% of ${formatDuration(runTimeMs)} executor run time` : 'executor CPU time';
  const exec = s?.executors ?? [];
  // Spark's defaults (1 core, 1 GB), not what the job set: said so (Spark's own test logs set neither).
  const dflt = (field: string): string => (r.quality.includes(`defaulted:${field}`) ? ' (default)' : '');
  const cores = r.executor_cores === null ? null : `${plural(r.executor_cores, 'core')}${dflt('executor_cores')}`;
  const mem = r.executor_memory_mb === null ? null : `${formatBytes(r.executor_memory_mb * 1024 ** 2)}${dflt('executor_memory_mb')}`;
  const each = [cores, mem].filter((x) => x !== null).join(', ');
  const longest = s?.stages.reduce<StageSummary | undefined>((a, st) => (st.duration_ms !== null && st.duration_ms > (a?.duration_ms ?? -1) ? st : a), undefined);
  return [
    {
      id: 'status',
      label: 'Status',
      value: r.status,
      detail: failedSomething ? `with failures: ${plural(r.failed_tasks, 'task')}, ${plural(r.failed_stages, 'stage')}` : r.status === 'completed' ? 'no failed tasks or stages' : '',
      tone: statusTone,
    },
    {
      id: 'duration',
      label: 'Duration',
      value: formatDuration(r.duration_ms),
      detail: longest ? `longest stage: ${longest.stage_id}${longest.attempt_id > 0 ? ` (attempt ${longest.attempt_id})` : ''}, ${formatDuration(longest.duration_ms)}` : r.start_time ? '' : 'start unknown',
      tone: 'neutral',
    },
    {
      id: 'tasks',
      label: 'Tasks',
      value: count(r.total_tasks),
      detail: `${count(r.failed_tasks)} failed · ${plural(r.total_stages, 'stage')}, ${count(r.failed_stages)} failed`,
      tone: failedSomething ? 'warn' : 'neutral',
    },
    { id: 'cpu', label: 'CPU time', value: r.cpu_time_ms === null ? 'unknown' : formatDuration(r.cpu_time_ms), detail: cpuDetail, tone: 'neutral' },
    { id: 'io', label: 'Input / output', value: `${formatBytes(r.input_bytes)} / ${formatBytes(r.output_bytes)}`, detail: 'read from and written to storage', tone: 'neutral' },
    // Read and write are not added: what one stage writes, the next reads.
    { id: 'shuffle', label: 'Shuffle read / write', value: `${formatBytes(r.shuffle_read_bytes)} / ${formatBytes(r.shuffle_write_bytes)}`, detail: 'between stages', tone: 'neutral' },
    // Spark's two spill sizes are of the same data (as held in memory, as written to disk): never added.
    {
      id: 'spill',
      label: 'Spill (disk)',
      value: formatBytes(r.disk_spilled_bytes),
      detail: `${formatBytes(r.memory_spilled_bytes)} as held in memory`,
      tone: r.disk_spilled_bytes > 0 ? 'warn' : 'neutral',
    },
    {
      id: 'executors',
      label: 'Executors',
      value: r.num_executors === null ? (exec.length > 0 ? count(exec.length) : 'unknown') : count(r.num_executors),
      detail: [each && `${each} each`, r.driver_memory_mb === null ? '' : `driver ${formatBytes(r.driver_memory_mb * 1024 ** 2)}${dflt('driver_memory_mb')}`].filter(Boolean).join(' · '),
      tone: 'neutral',
    },
  ];
}

function skewOf(s: StageSummary): number | null {
  const d = s.task_duration_ms;
  if (!d || d.p50 <= 0) return null;
  return d.max / d.p50;
}

/** The costly stage attempts' keys, with why, by the rules at the top of this file. */
function costlyStages(stages: readonly StageSummary[], totalRunMs: number): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const add = (k: string, why: string): void => {
    out.set(k, [...(out.get(k) ?? []), why]);
  };
  if (totalRunMs > 0) {
    const byRunTime = [...stages].sort((a, b) => b.executor_run_time_ms - a.executor_run_time_ms);
    const minShare = Math.max(COSTLY_MIN_SHARE, COSTLY_ABOVE_MEAN / stages.length);
    let sum = 0;
    for (const s of byRunTime.slice(0, COSTLY_MAX_STAGES)) {
      const share = s.executor_run_time_ms / totalRunMs;
      if (sum >= COSTLY_RUN_TIME_SHARE * totalRunMs || share < minShare) break;
      sum += s.executor_run_time_ms;
      add(`${s.stage_id}.${s.attempt_id}`, `${Math.round(share * 100)}% of executor run time`);
    }
  }
  // The skewed stages whose stragglers cost the most wall time (slowest task minus the median), at most COSTLY_MAX_STAGES.
  const skewed = stages
    .filter((s) => (skewOf(s) ?? 0) >= SKEW_FACTOR && (s.task_duration_ms?.max ?? 0) >= SKEW_MIN_MAX_TASK_MS)
    .sort((a, b) => b.task_duration_ms!.max - b.task_duration_ms!.p50 - (a.task_duration_ms!.max - a.task_duration_ms!.p50))
    .slice(0, COSTLY_MAX_STAGES);
  for (const s of skewed) add(`${s.stage_id}.${s.attempt_id}`, `slowest task ${skewOf(s)!.toFixed(1)}× the median`);
  return out;
}

/**
 * A stage's name for a table cell: Spark names a stage by its call site, `reduce at <file>:<line>`,
 * and PySpark's file is a whole path (`reduce at /opt/spark/examples/src/main/python/pi.py:42`, the
 * real PythonPi log), which a cell cuts before the file and line that tell stages apart. The
 * directories but the last are elided: `reduce at …/python/pi.py:42`. Other names are kept.
 */
export function stageName(name: string): string {
  const m = /^(.* at )((?:[^/\s]*\/)+)([^/\s]+\/[^/\s]+)$/.exec(name);
  if (!m) return name;
  const [, op, dirs, tail] = m;
  return dirs!.replace(/\/$/, '').includes('/') ? `${op}…/${tail}` : name;
}

function stageRows(stages: readonly StageSummary[]): StageRow[] {
  const totalRunMs = stages.reduce((a, s) => a + s.executor_run_time_ms, 0);
  const costly = costlyStages(stages, totalRunMs);
  return stages.map((s) => {
    const key = `${s.stage_id}.${s.attempt_id}`;
    const skew = skewOf(s);
    const d = s.task_duration_ms;
    const reasons = costly.get(key) ?? [];
    const ran = stageRan(s);
    const bytes = (n: number): string => (ran ? formatBytes(n) : '-');
    return {
      key,
      stageId: s.stage_id,
      attempt: s.attempt_id,
      name: s.name ?? '',
      shortName: stageName(s.name ?? ''),
      status: s.status,
      durationMs: s.duration_ms,
      duration: formatDuration(s.duration_ms),
      tasks: s.num_tasks,
      failedTasks: s.failed_tasks,
      killedTasks: s.killed_tasks,
      failures: s.failed_tasks + (s.status === 'failed' ? 1 : 0),
      input: bytes(s.input_bytes),
      inputBytes: s.input_bytes,
      io: ran ? `${formatBytes(s.input_bytes)} / ${formatBytes(s.output_bytes)}` : '-',
      shuffleReadBytes: s.shuffle_read_bytes,
      shuffleWriteBytes: s.shuffle_write_bytes,
      shuffleBytes: s.shuffle_read_bytes + s.shuffle_write_bytes,
      shuffle: ran ? `${formatBytes(s.shuffle_read_bytes)} / ${formatBytes(s.shuffle_write_bytes)}` : '-',
      spillBytes: s.disk_spilled_bytes,
      spill: bytes(s.disk_spilled_bytes),
      memorySpill: bytes(s.memory_spilled_bytes),
      runTimeMs: s.executor_run_time_ms,
      runTime: ran ? formatDuration(s.executor_run_time_ms) : '-',
      runShare: totalRunMs > 0 ? s.executor_run_time_ms / totalRunMs : 0,
      cpuTimeMs: ran ? s.cpu_time_ms : null,
      cpuTime: ran ? formatDuration(s.cpu_time_ms) : '-',
      gcTime: ran ? formatDuration(s.gc_time_ms) : '-',
      skew,
      skewText: skew === null ? '-' : `${skew.toFixed(1)}×`,
      taskTimes: d ? `${formatDuration(d.p50)} / ${formatDuration(d.max)}` : '-',
      costly: reasons.length > 0,
      costlyReasons: reasons,
    };
  });
}

/**
 * Greedy interval packing: each bar takes the lowest-numbered lane free at its start (bars sorted by
 * start). Busy lanes wait in a heap by end, free ones in a heap by number: a lane free at one bar's
 * start is free at every later start, so each bar pops the lanes that ended before it and takes the
 * lowest free one. A scan of every lane per bar took 3.4 s for a Spark streaming log's 150,000 stages.
 */
export function packLanes(bars: readonly { start: number; end: number }[]): number[] {
  const busy = new MinHeap<[end: number, lane: number]>((a, b) => a[0] - b[0] || a[1] - b[1]);
  const free = new MinHeap<number>((a, b) => a - b);
  let lanes = 0;
  return bars.map((b) => {
    while (busy.size > 0 && busy.peek()![0] <= b.start) free.push(busy.pop()![1]);
    const lane = free.size > 0 ? free.pop()! : lanes++;
    busy.push([b.end, lane]);
    return lane;
  });
}

/** A binary min-heap under `before` (negative: the first comes first). */
class MinHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    for (let i = a.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (this.before(a[i]!, a[parent]!) >= 0) break;
      [a[i], a[parent]] = [a[parent]!, a[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      a[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!) < 0) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function timeline(r: SparkAppRecord, s: AppSummaries | undefined, rows: readonly StageRow[]): JobPageModel['timeline'] {
  const stages = s?.stages ?? [];
  const execs = s?.executors ?? [];
  const starts = [ms(r.start_time), ...stages.map((st) => ms(st.submission_time)), ...execs.map((e) => ms(e.add_time))].filter((t): t is number => t !== null);
  const originMs = ms(r.start_time) ?? (starts.length > 0 ? minOf(starts) : null);
  const skipped = stages.filter((st) => !stageRan(st) && ms(st.submission_time) === null).length;
  if (originMs === null) return { origin: null, span: 0, lanes: 0, gantt: [], untimed: stages.length - skipped, skipped, executors: { t: [], count: [], peak: 0 } };
  const ends = [ms(r.end_time), ...stages.map((st) => ms(st.completion_time)), ...execs.map((e) => ms(e.remove_time)), ...starts].filter((t): t is number => t !== null);
  let endMs = originMs;
  for (const t of ends) if (t > endMs) endMs = t;
  const sec = (t: number): number => (t - originMs) / 1000;
  const costly = new Set(rows.filter((x) => x.costly).map((x) => x.key));

  const timed = stages
    .map((st) => ({ st, start: ms(st.submission_time), end: ms(st.completion_time) }))
    .filter((x): x is { st: StageSummary; start: number; end: number | null } => x.start !== null)
    .map((x) => ({ st: x.st, start: sec(x.start), end: sec(Math.max(x.start, x.end ?? endMs)) }))
    .sort((a, b) => a.start - b.start || a.st.stage_id - b.st.stage_id || a.st.attempt_id - b.st.attempt_id);
  const lanes = packLanes(timed);
  const gantt: GanttRow[] = timed.map((x, i) => {
    const key = `${x.st.stage_id}.${x.st.attempt_id}`;
    const ran = x.st.duration_ms === null || x.st.completion_time === null ? x.start : x.end - x.st.duration_ms / 1000;
    const runStart = Math.min(x.end, Math.max(x.start, ran));
    return {
      key,
      label: x.st.attempt_id > 0 ? `Stage ${x.st.stage_id} (attempt ${x.st.attempt_id})` : `Stage ${x.st.stage_id}`,
      name: x.st.name ?? '',
      status: x.st.status,
      start: x.start,
      end: x.end,
      runStart,
      duration: formatDuration(x.st.duration_ms),
      lane: lanes[i]!,
      costly: costly.has(key),
    };
  });

  // Executors alive: +1 at each add, -1 at each remove; one step per distinct time.
  const deltas = new Map<number, number>();
  for (const e of execs) {
    const add = ms(e.add_time);
    if (add === null) continue;
    deltas.set(sec(add), (deltas.get(sec(add)) ?? 0) + 1);
    const rm = ms(e.remove_time);
    if (rm !== null) deltas.set(sec(Math.max(rm, add)), (deltas.get(sec(Math.max(rm, add))) ?? 0) - 1);
  }
  const t: number[] = [0];
  const n: number[] = [0];
  let alive = 0;
  let peak = 0;
  for (const [at, d] of [...deltas].sort((a, b) => a[0] - b[0])) {
    alive += d;
    peak = Math.max(peak, alive);
    if (t[t.length - 1] === at) n[n.length - 1] = alive;
    else {
      t.push(at);
      n.push(alive);
    }
  }
  const span = sec(endMs);
  if (t[t.length - 1]! < span) {
    t.push(span);
    n.push(alive);
  }
  return { origin: new Date(originMs).toISOString(), span, lanes: lanes.length === 0 ? 0 : maxOf(lanes) + 1, gantt, untimed: stages.length - timed.length - skipped, skipped, executors: { t, count: n, peak } };
}

const FLAG_TEXT: Record<string, [QualityFlag['severity'], string]> = {
  in_progress: ['warning', 'The event log was still being written: the application had not ended when it was read.'],
  truncated: ['warning', 'The event log ends early (a broken or missing last part): totals cover what was read.'],
  compacted: ['warning', 'The event log was compacted by Spark: task metrics of the compacted part are incomplete.'],
  rest_capped: ['warning', "The History Server's retention limit was hit: some stages or tasks were not listed."],
  submit_after_start: ['info', "The submit time is after the start time: the submitting host's clock and the driver's disagree."],
  platform_level: ['info', 'A platform-level record (a cloud run or step) with no Spark metrics behind it: times and sizing only.'],
};

/**
 * The event-log analyzer's finding codes (src/analysis/eventLogAnalyzer.ts) that show where in the log
 * a quality flag comes from, most telling first: Open Event Log on a flag goes to the first line the
 * editor's diagnostics mark with one of them. Empty: the flag has no line (a compacted log, a source
 * that does not report a field).
 */
export function findingCodesOf(flag: string): readonly string[] {
  const [kind] = flag.split(':', 1);
  switch (kind) {
    case 'in_progress':
      return ['missing-application-end'];
    case 'truncated':
      return ['truncated-line', 'codec-truncated', 'rolling-part-missing', 'malformed-json', 'codec-corrupt'];
    case 'submit_after_start':
      return ['end-before-start', 'time-backwards'];
    case 'invalid':
      return ['invalid-value', 'negative-metric', 'inconsistent-task'];
    case 'defaulted':
      return ['defaulted-property'];
    case 'missing':
      return ['missing-event', 'missing-environment-update', 'missing-application-start', 'missing-log-start'];
    default:
      return [];
  }
}

/** A record field's friendly name ("Executor memory"), or the flag's own text for what is not a field. */
const fieldLabel = (field: string): string => (isRecordColumn(field) ? fieldOf(field).label : field);

/**
 * Per-field words where the general ones mislead: an event log has no submit time (the start stands
 * in for it, rules.ts), and no executor CPU time before Spark 2.1. Seen on Spark's own test logs,
 * where every app read "submit_time was not in the source: Spark's default was used".
 */
function flagText(r: SparkAppRecord, kind: string, field: string): string | null {
  if (kind === 'defaulted' && field === 'submit_time') return 'The submit time is not in the source (an event log has none): the start time stands in for it.';
  // An unknown version is of a log before Spark 1.5 (none carry one).
  if (kind === 'missing' && field === 'cpu_time_ms' && (r.spark_version === null || sparkVersionBefore(r.spark_version, 2, 1))) return 'CPU time is not in this event log: Spark writes executor CPU time from 2.1 on.';
  if (kind === 'missing' && field === 'spark_version') return "Spark's version is not in this event log: it has no SparkListenerLogStart event (older Spark versions wrote none).";
  return null;
}

function flags(r: SparkAppRecord): QualityFlag[] {
  return r.quality.map((flag) => {
    const known = FLAG_TEXT[flag];
    if (known) return { flag, severity: known[0], text: known[1] };
    const [kind = '', field = ''] = flag.split(':', 2);
    const special = flagText(r, kind, field);
    const label = fieldLabel(field);
    const value = isRecordColumn(field) ? fieldText(fieldOf(field), r[field]) : null;
    if (kind === 'missing') return { flag, severity: 'info', text: special ?? `${label} is not known for this application (the source does not report it).` };
    if (kind === 'defaulted') return { flag, severity: 'info', text: special ?? `${label} was not set in the source: Spark's default${value !== null && value !== '-' ? `, ${value},` : ''} was used.` };
    if (kind === 'invalid') return { flag, severity: 'error', text: `A value read for ${label} could not be true and was left out.` };
    return { flag, severity: 'info', text: flag };
  });
}

/** The page for one application attempt. `summaries` is undefined when the source could not see stages (a platform-only record). */
export function jobPageModel(record: SparkAppRecord, stored: AppSummaries | undefined, check?: RegressionCheck): JobPageModel {
  // Stage CPU by the rule every source goes by (stored summaries may hold 0 where Spark never measured it).
  const summaries = withStageCpu(record, stored);
  const stages = summaries ? stageRows(summaries.stages) : [];
  const r = record;
  const facts = [
    { label: 'Application', value: r.app_id },
    ...(r.attempt_id ? [{ label: 'Attempt', value: r.attempt_id }] : []),
    { label: 'User', value: r.user ?? '-' },
    { label: 'Spark', value: r.spark_version ?? '-' },
    { label: 'Source', value: r.source },
    { label: 'Started', value: utc(r.start_time) },
    { label: 'Ended', value: utc(r.end_time) },
  ];
  return {
    key: { app_id: r.app_id, attempt_id: r.attempt_id },
    title: r.app_name ?? r.app_id,
    facts,
    cards: cards(r, summaries),
    hasSummaries: summaries !== undefined,
    summariesNote: summaries ? null : `Stages and executors are not available for this source (${r.source}): it reports the application only.`,
    timeline: timeline(r, summaries, stages),
    stages,
    executors: (summaries?.executors ?? []).map((e) => ({
      id: e.executor_id,
      host: e.host ?? '-',
      cores: e.total_cores === null ? '-' : String(e.total_cores),
      added: e.add_time === null ? '-' : utc(e.add_time),
      removed: e.remove_time === null ? '-' : utc(e.remove_time),
      removeReason: e.remove_reason ?? '',
      tasks: e.total_tasks,
      failedTasks: e.failed_tasks,
      gcTimeMs: e.gc_time_ms,
      gcTime: formatDuration(e.gc_time_ms),
      shuffleRead: formatBytes(e.shuffle_read_bytes),
      shuffleWrite: formatBytes(e.shuffle_write_bytes),
    })),
    config: Object.entries(r.environment)
      .sort(([a], [b]) => NATURAL.compare(a, b))
      .map(([key, value]) => ({ key, value })),
    flags: flags(r),
    regression: check ? regressionSection(check) : null,
  };
}

export const STAGE_SORTS = ['stage', 'duration', 'shuffle', 'spill', 'failures', 'skew', 'runTime'] as const;
export type StageSort = (typeof STAGE_SORTS)[number];

const SORT_VALUE: Record<StageSort, (r: StageRow) => number> = {
  stage: (r) => r.stageId * 1_000 + r.attempt,
  duration: (r) => r.durationMs ?? -1,
  shuffle: (r) => r.shuffleBytes,
  spill: (r) => r.spillBytes,
  failures: (r) => r.failures,
  skew: (r) => r.skew ?? -1,
  runTime: (r) => r.runTimeMs,
};

/** Stage rows in the order a column asks (a copy); ties keep stage order. Unknown values (no duration, no skew) go last. */
export function sortStages(rows: readonly StageRow[], by: StageSort, descending: boolean): StageRow[] {
  const v = SORT_VALUE[by];
  const byStage = SORT_VALUE.stage;
  return [...rows].sort((a, b) => {
    const [x, y] = [v(a), v(b)];
    if (x < 0 !== y < 0) return x < 0 ? 1 : -1;
    return (descending ? y - x : x - y) || byStage(a) - byStage(b);
  });
}

/** Config entries whose key or value holds the text (case-insensitive); all of them for an empty query. */
export function filterConfig(entries: readonly ConfigEntry[], query: string): ConfigEntry[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...entries];
  return entries.filter((e) => e.key.toLowerCase().includes(q) || e.value.toLowerCase().includes(q));
}
