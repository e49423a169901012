/** The Job page's view model (issue 15): pure, from a record and its stage and executor summaries. */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceConfig } from '../src/collectors/config';
import type { AppSummaries, ExecutorSummary, StageSummary } from '../src/collectors/record/summaries';
import { findEventLog, notFoundMessage, opensAsText } from '../src/views/jobPage/eventLog';
import { filterConfig, findingCodesOf, jobPageModel, offsetText, packLanes, sortStages, stageName, type RegressionSection } from '../src/views/jobPage/model';
import { checkRegressions } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { JobStore } from '../src/storage/jobStore';
import { analyzeEventLogText } from '../src/analysis/eventLogAnalyzer';
import { collectAll } from '../src/collectors/eventlog/collect';
import { eventLogText, rng } from './support/eventLogGenerator';
import { realisticSummaries } from './support/summaries';
import { isHostMessage, isPageMessage, isPageState } from '../src/views/jobPage/protocol';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const T0 = Date.parse('2024-06-01T00:00:01.000Z');
const at = (s: number): string => new Date(T0 + s * 1000).toISOString();

function stage(id: number, o: Partial<StageSummary> & { from?: number; to?: number } = {}): StageSummary {
  const { from = id * 10, to = id * 10 + 5, ...rest } = o;
  return {
    stage_id: id,
    attempt_id: 0,
    name: `map at Job.scala:${id}`,
    status: 'complete',
    submission_time: at(from),
    completion_time: at(to),
    duration_ms: (to - from) * 1000,
    num_tasks: 10,
    failed_tasks: 0,
    killed_tasks: 0,
    input_bytes: 0,
    output_bytes: 0,
    shuffle_read_bytes: 0,
    shuffle_write_bytes: 0,
    memory_spilled_bytes: 0,
    disk_spilled_bytes: 0,
    executor_run_time_ms: 1_000,
    cpu_time_ms: 800,
    gc_time_ms: 10,
    peak_execution_memory_bytes: null,
    task_duration_ms: { min: 90, p25: 95, p50: 100, p75: 105, max: 120 },
    ...rest,
  };
}

function executor(id: string, o: Partial<ExecutorSummary> = {}): ExecutorSummary {
  return { executor_id: id, host: `host-${id}`, total_cores: 2, add_time: at(0), remove_time: null, remove_reason: null, total_tasks: 10, failed_tasks: 0, gc_time_ms: 1_500, shuffle_read_bytes: 2048, shuffle_write_bytes: 0, ...o };
}

describe('jobPageModel', () => {
  it('cards carry formatted values with units, and tones for failures and disk spill', () => {
    const m = jobPageModel(makeRecord({ failed_tasks: 10, total_tasks: 26, failed_stages: 1, disk_spilled_bytes: 3 * 1024 ** 3, memory_spilled_bytes: 512 * 1024 ** 2, shuffle_read_bytes: 1024 ** 2, shuffle_write_bytes: 1024 ** 2 }), undefined);
    const card = (id: string) => m.cards.find((c) => c.id === id)!;
    expect(m.cards.map((c) => c.id)).toEqual(['status', 'duration', 'tasks', 'cpu', 'io', 'shuffle', 'spill', 'executors']);
    expect(card('status')).toMatchObject({ value: 'completed', tone: 'warn', detail: 'with failures: 10 tasks, 1 stage' });
    expect(card('duration')).toMatchObject({ value: '10m 0s', detail: '' });
    expect(card('tasks')).toMatchObject({ value: '26', detail: '10 failed · 5 stages, 1 failed', tone: 'warn' });
    expect(card('cpu')).toMatchObject({ value: '2m 3s', detail: 'executor CPU time' });
    // Neither read + write nor memory + disk spill is a size of anything: each pair is shown apart.
    expect(card('io')).toMatchObject({ label: 'Input / output', value: '976.6 KB / 2 KB' });
    expect(card('shuffle')).toMatchObject({ label: 'Shuffle read / write', value: '1 MB / 1 MB' });
    expect(card('spill')).toMatchObject({ label: 'Spill (disk)', value: '3 GB', detail: '512 MB as held in memory', tone: 'warn' });
    expect(card('executors')).toMatchObject({ value: '4', detail: '2 cores, 4 GB each · driver 2 GB' });
    expect(jobPageModel(makeRecord({ status: 'failed' }), undefined).cards[0]!.tone).toBe('error');
    expect(jobPageModel(makeRecord({ failed_tasks: 0 }), undefined).cards[0]).toMatchObject({ tone: 'ok', detail: 'no failed tasks or stages' });
    expect(jobPageModel(makeRecord({ cpu_time_ms: null }), undefined).cards[3]).toMatchObject({ value: 'unknown', detail: 'not measured (Spark before 2.1)' });
  });

  it('a record without summaries keeps cards and config and says stages are not available', () => {
    const m = jobPageModel(makeRecord({ source: 'lakehouse', environment: { 'spark.sql.shuffle.partitions': '200', 'spark.app.name': 'x', 'spark.databricks.token': '*********(redacted)', 'spark.label.team10': 'a', 'spark.label.team2': 'b' } }), undefined);
    expect(m.hasSummaries).toBe(false);
    expect(m.summariesNote).toBe('Stages and executors are not available for this source (lakehouse): it reports the application only.');
    expect(m.stages).toEqual([]);
    expect(m.executors).toEqual([]);
    expect(m.timeline.gantt).toEqual([]);
    expect(m.config.map((c) => c.key)).toEqual(['spark.app.name', 'spark.databricks.token', 'spark.label.team2', 'spark.label.team10', 'spark.sql.shuffle.partitions']);
    expect(m.cards).toHaveLength(8);
  });

  it('stage rows: skew is max / median task time, costly marks the stages that make most of the run time and the skewed ones', () => {
    const stages = [
      stage(0, { executor_run_time_ms: 45_000 }), // 45% of 100 s
      stage(1, { executor_run_time_ms: 40_000 }), // 40%: 45 + 40 passes 80%
      stage(2, { executor_run_time_ms: 10_000 }),
      stage(3, { executor_run_time_ms: 4_000, task_duration_ms: { min: 100, p25: 200, p50: 400, p75: 500, max: 6_000 } }), // 15× skew, 6 s max
      stage(4, { executor_run_time_ms: 1_000, task_duration_ms: { min: 1, p25: 2, p50: 10, p75: 20, max: 500 } }), // 50× but a 0.5 s task: noise
    ];
    const m = jobPageModel(makeRecord(), { stages, executors: [] });
    const row = (id: number) => m.stages.find((r) => r.stageId === id)!;
    expect(m.stages.filter((r) => r.costly).map((r) => r.key)).toEqual(['0.0', '1.0', '3.0']);
    expect(row(0).costlyReasons).toEqual(['45% of executor run time']);
    expect(row(1).costlyReasons).toEqual(['40% of executor run time']);
    expect(row(2).costly).toBe(false);
    expect(row(3).costlyReasons).toEqual(['slowest task 15.0× the median']);
    expect(row(3)).toMatchObject({ skew: 15, skewText: '15.0×', taskTimes: '400 ms / 6.0 s', runShare: 0.04 });
    expect(row(4)).toMatchObject({ costly: false, skewText: '50.0×' });
    expect(jobPageModel(makeRecord(), { stages: [stage(0, { task_duration_ms: null })], executors: [] }).stages[0]).toMatchObject({ skew: null, skewText: '-', taskTimes: '-' });
    // An even job: no stage stands out by run time (each 20%, under 1.5x the average).
    const even = jobPageModel(makeRecord(), { stages: [0, 1, 2, 3, 4].map((i) => stage(i, { executor_run_time_ms: 20_000 + i * 1_000 })), executors: [] });
    expect(even.stages.filter((r) => r.costly)).toEqual([]);
  });

  it('stage rows format sizes and durations and count a failed attempt as a failure', () => {
    const m = jobPageModel(makeRecord(), { stages: [stage(7, { attempt_id: 1, status: 'failed', failed_tasks: 3, shuffle_read_bytes: 5 * 1024 ** 3, shuffle_write_bytes: 1024, memory_spilled_bytes: 1024 ** 2, disk_spilled_bytes: 0, duration_ms: 125_000 })], executors: [] });
    expect(m.stages[0]).toMatchObject({ key: '7.1', failures: 4, shuffle: '5 GB / 1 KB', spill: '0 B', memorySpill: '1 MB', spillBytes: 0, duration: '2m 5s', shuffleBytes: 5 * 1024 ** 3 + 1024 });
    expect(m.cards.find((c) => c.id === 'duration')!.detail).toBe('longest stage: 7 (attempt 1), 2m 5s');
  });

  it('sorts stages by each column, unknown values last, ties in stage order', () => {
    const stages = [stage(0, { duration_ms: 3_000, disk_spilled_bytes: 5 }), stage(1, { duration_ms: null, failed_tasks: 2 }), stage(2, { duration_ms: 9_000, shuffle_read_bytes: 10 }), stage(3, { duration_ms: 3_000, task_duration_ms: null })];
    const rows = jobPageModel(makeRecord(), { stages, executors: [] }).stages;
    const keys = (r: ReturnType<typeof sortStages>) => r.map((x) => x.stageId);
    expect(keys(sortStages(rows, 'duration', true))).toEqual([2, 0, 3, 1]);
    expect(keys(sortStages(rows, 'duration', false))).toEqual([0, 3, 2, 1]);
    expect(keys(sortStages(rows, 'shuffle', true))).toEqual([2, 0, 1, 3]);
    expect(keys(sortStages(rows, 'spill', true))).toEqual([0, 1, 2, 3]);
    expect(keys(sortStages(rows, 'failures', true))).toEqual([1, 0, 2, 3]);
    expect(keys(sortStages(rows, 'skew', false))).toEqual([0, 1, 2, 3]);
    expect(keys(sortStages(rows, 'skew', true))[3]).toBe(3);
    expect(keys(sortStages(rows, 'stage', false))).toEqual([0, 1, 2, 3]);
    expect(keys(rows)).toEqual([0, 1, 2, 3]); // a copy: the model is untouched
  });

  it('timeline: stage attempts in seconds since the start, packed so that overlapping ones never share a lane', () => {
    const stages = [stage(0, { from: 0, to: 10 }), stage(1, { from: 5, to: 20 }), stage(2, { from: 12, to: 30 }), stage(3, { submission_time: null, completion_time: null }), stage(4, { from: 25, completion_time: null, status: 'active' })];
    const m = jobPageModel(makeRecord(), { stages, executors: [] });
    expect(m.timeline.origin).toBe('2024-06-01T00:00:01.000Z');
    expect(m.timeline.span).toBe(600);
    expect(m.timeline.untimed).toBe(1);
    expect(m.timeline.gantt.map((g) => [g.key, g.start, g.end, g.lane])).toEqual([
      ['0.0', 0, 10, 0],
      ['1.0', 5, 20, 1],
      ['2.0', 12, 30, 0],
      ['4.0', 25, 600, 1], // still running: drawn to the application's end
    ]);
    expect(m.timeline.lanes).toBe(2);
    expect(m.timeline.gantt[0]!.label).toBe('Stage 0');
  });

  it('skipped stages (Spark 3.5 NewYorkTaxiData: stages 3 and 6) are said to be skipped, with no figures, not "0 ms" and "without a submission time"', () => {
    // As the event log leaves them: in a job's Stage Infos, never submitted, no task.
    const skippedStage = (id: number): StageSummary =>
      stage(id, { status: 'skipped', submission_time: null, completion_time: null, duration_ms: null, num_tasks: 0, executor_run_time_ms: 0, cpu_time_ms: 0, gc_time_ms: 0, task_duration_ms: null });
    const stages = [stage(0, { from: 0, to: 10 }), skippedStage(1), stage(2, { from: 12, to: 30 }), skippedStage(3), stage(4, { submission_time: null, completion_time: null })];
    const m = jobPageModel(makeRecord({ executor_cores: 1 }), { stages, executors: [] });
    expect(m.timeline.skipped).toBe(2);
    expect(m.timeline.untimed).toBe(1);
    expect(m.timeline.gantt.map((g) => g.key)).toEqual(['0.0', '2.0']);
    const row = m.stages.find((r) => r.key === '1.0')!;
    expect(row).toMatchObject({ status: 'skipped', duration: '-', runTime: '-', io: '-', shuffle: '-', spill: '-', memorySpill: '-', gcTime: '-', skewText: '-', taskTimes: '-' });
    // A stage that ran keeps its zeros: it read nothing.
    expect(m.stages.find((r) => r.key === '0.0')).toMatchObject({ io: '0 B / 0 B', runTime: '1.0 s' });
    // One core, not "1 cores".
    expect(m.cards.find((c) => c.id === 'executors')!.detail).toMatch(/^1 core, /);
  });

  it("shortens a PySpark stage's call site to its file and line, and keeps other names", () => {
    // The real PythonPi log (Spark 3.5.3): the table cut this before "pi.py:42".
    expect(stageName('reduce at /opt/spark/examples/src/main/python/pi.py:42')).toBe('reduce at …/python/pi.py:42');
    expect(stageName('showString at NativeMethodAccessorImpl.java:0')).toBe('showString at NativeMethodAccessorImpl.java:0');
    expect(stageName('count at <console>:26')).toBe('count at <console>:26');
    expect(stageName('collect at /tmp/job.py:3')).toBe('collect at /tmp/job.py:3');
    expect(stageName('save at s3://bucket/jobs/etl/daily/main.py:120')).toBe('save at …/daily/main.py:120');
    expect(stageName('')).toBe('');
    const m = jobPageModel(makeRecord(), { stages: [stage(0, { name: 'reduce at /opt/spark/examples/src/main/python/pi.py:42' })], executors: [] });
    expect(m.stages[0]).toMatchObject({ name: 'reduce at /opt/spark/examples/src/main/python/pi.py:42', shortName: 'reduce at …/python/pi.py:42' });
  });

  it('timeline: a bar says when its first task launched, so that the wait for executors shows apart from the run', () => {
    // NewYorkTaxiData (Spark 3.5.3 on Kubernetes): stage 0 submitted at +34 s, executors up at +64 s,
    // completed at +66.4 s; its duration (first task to completion, as Spark's stage table) 2.2 s.
    const stages = [stage(0, { from: 34, to: 66.4, duration_ms: 2_200 }), stage(1, { from: 70, to: 75, duration_ms: 5_000 }), stage(2, { from: 80, to: 81, duration_ms: 9_000 }), stage(3, { from: 90, completion_time: null, duration_ms: null, status: 'active' })];
    const m = jobPageModel(makeRecord(), { stages, executors: [] });
    const bar = (key: string) => m.timeline.gantt.find((g) => g.key === key)!;
    expect(bar('0.0')).toMatchObject({ start: 34, end: 66.4, duration: '2.2 s' });
    expect(bar('0.0').runStart).toBeCloseTo(64.2, 6);
    // No wait: the first task launched as it was submitted.
    expect(bar('1.0').runStart).toBe(70);
    // A duration longer than submission to completion (clocks of the driver and the tasks): the bar is all run.
    expect(bar('2.0').runStart).toBe(80);
    // Still running: no duration yet, drawn as running from its submission.
    expect(bar('3.0')).toMatchObject({ runStart: 90, duration: '-' });
  });

  it('executor count over time: steps at adds and removes, with the peak', () => {
    const executors = [executor('1', { add_time: at(2) }), executor('2', { add_time: at(2), remove_time: at(100), remove_reason: 'idle' }), executor('3', { add_time: at(50), remove_time: at(100) })];
    const m = jobPageModel(makeRecord(), { stages: [], executors });
    expect(m.timeline.executors).toEqual({ t: [0, 2, 50, 100, 600], count: [0, 2, 3, 1, 1], peak: 3 });
    expect(m.executors[1]).toMatchObject({ id: '2', host: 'host-2', cores: '2', removed: '2024-06-01 00:01:41 UTC', removeReason: 'idle', gcTime: '1.5 s', shuffleRead: '2 KB' });
  });

  it('quality flags in words, with a severity', () => {
    const m = jobPageModel(makeRecord({ quality: ['in_progress', 'missing:cpu_time_ms', 'invalid:end_time', 'something_new'] }), undefined);
    expect(m.flags.map((f) => [f.flag, f.severity])).toEqual([
      ['in_progress', 'warning'],
      ['missing:cpu_time_ms', 'info'],
      ['invalid:end_time', 'error'],
      ['something_new', 'info'],
    ]);
    expect(m.flags[1]!.text).toMatch(/^CPU time is not known/);
  });

  it("quality flags and sizing of Spark's own test logs say what was defaulted, and how, in words", () => {
    // local-1422981759269 (Spark before 1.5): no submit time, no CPU time, no version, sizing not set.
    const old = makeRecord({
      spark_version: null,
      cpu_time_ms: null,
      executor_cores: 1,
      executor_memory_mb: 1024,
      driver_memory_mb: 1024,
      quality: ['defaulted:driver_memory_mb', 'defaulted:executor_cores', 'defaulted:executor_memory_mb', 'defaulted:submit_time', 'missing:cpu_time_ms', 'missing:spark_version'],
    });
    const m = jobPageModel(old, undefined);
    const text = (flag: string): string => m.flags.find((f) => f.flag === flag)!.text;
    // Not "submit_time was not in the source: Spark's default was used": Spark has no default submit time.
    expect(text('defaulted:submit_time')).toBe('The submit time is not in the source (an event log has none): the start time stands in for it.');
    expect(text('defaulted:executor_memory_mb')).toMatch(/^Executor memory was not set in the source: Spark's default, .+, was used\.$/);
    expect(text('missing:cpu_time_ms')).toBe('CPU time is not in this event log: Spark writes executor CPU time from 2.1 on.');
    expect(text('missing:spark_version')).toMatch(/no SparkListenerLogStart/);
    expect(m.flags.every((f) => !/_ms|_mb|_time\b/.test(f.text))).toBe(true);
    // The card does not pass Spark's defaults off as the job's sizing.
    expect(m.cards.find((c) => c.id === 'executors')!.detail).toBe('1 core (default), 1 GB (default) each · driver 1 GB (default)');
    // A Spark 3 log without CPU time gets the general words, not the version's.
    expect(jobPageModel(makeRecord({ spark_version: '3.5.3', cpu_time_ms: null, quality: ['missing:cpu_time_ms'] }), undefined).flags[0]!.text).toBe('CPU time is not known for this application (the source does not report it).');
  });

  it('searches the configuration by key and value', () => {
    const entries = [{ key: 'spark.executor.memory', value: '4g' }, { key: 'spark.master', value: 'yarn' }];
    expect(filterConfig(entries, 'MEMORY')).toEqual([entries[0]]);
    expect(filterConfig(entries, 'yarn')).toEqual([entries[1]]);
    expect(filterConfig(entries, '  ')).toEqual(entries);
  });

  it('offsets read as a person says them', () => {
    expect([offsetText(3.25), offsetText(42), offsetText(245), offsetText(3_725)]).toEqual(['+3.3 s', '+42 s', '+4m 05s', '+1h 02m']);
    // Whole seconds as the axis' ticks are: no tenth beside the ticks past 10 s.
    expect([0, 5, 10, 15].map(offsetText)).toEqual(['+0 s', '+5 s', '+10 s', '+15 s']);
    // Rounded before split: no '+60 s' or '+10.0 s' (a review).
    expect([59.6, 9.96, 3599.7].map(offsetText)).toEqual(['+1m 00s', '+10 s', '+1h 00m']);
  });

  it('builds the model of a 2,000-stage application well under 500 ms', () => {
    const stages = Array.from({ length: 2_000 }, (_, i) =>
      stage(i, { from: i * 2, to: i * 2 + 7, executor_run_time_ms: 1_000 + ((i * 7919) % 5_000), shuffle_read_bytes: (i * 104_729) % 1_000_000, task_duration_ms: { min: 10, p25: 20, p50: 40, p75: 60, max: 40 + ((i * 31) % 2_000) } }),
    );
    const executors = Array.from({ length: 200 }, (_, i) => executor(String(i), { add_time: at(i), remove_time: i % 3 === 0 ? at(3_000 + i) : null }));
    const environment = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`spark.conf.key${i}`, `v${i}`]));
    const summaries: AppSummaries = { stages, executors };
    const record = makeRecord({ duration_ms: 4_100_000, end_time: at(4_100), environment, total_stages: 2_000 });
    jobPageModel(record, summaries); // warm-up (JIT), as the extension host has run code before
    const started = performance.now();
    const m = jobPageModel(record, summaries);
    const sorted = sortStages(m.stages, 'skew', true);
    const took = performance.now() - started;
    console.log(`jobPageModel for 2,000 stages, 200 executors, 400 properties (+ one sort): ${took.toFixed(1)} ms`);
    expect(took).toBeLessThan(100);
    expect(m.stages).toHaveLength(2_000);
    expect(m.timeline.gantt).toHaveLength(2_000);
    expect(m.timeline.lanes).toBe(4); // each stage lasts 7 s and a new one starts every 2 s
    expect(m.timeline.executors.peak).toBe(200);
    // Skewed stages abound in this app: only the ten whose stragglers cost most are marked (plus none by run time: it is even).
    expect(m.stages.filter((r) => r.costly).length).toBe(10);
    expect(sorted[0]!.skew).toBeGreaterThanOrEqual(sorted[1]!.skew!);
    expect(JSON.stringify(m).length).toBeLessThan(2_000_000); // what crosses to the webview
  });
});

describe('job page protocol', () => {
  it('accepts the messages each side sends and refuses others', () => {
    const model = jobPageModel(makeRecord(), { stages: [stage(0)], executors: [executor('1')] });
    expect(isHostMessage({ type: 'model', model, eventLog: { path: '/logs/app-1', note: 'x' } })).toBe(true);
    expect(isHostMessage(JSON.parse(JSON.stringify({ type: 'model', model, eventLog: { path: null, note: '' } })))).toBe(true);
    expect(isHostMessage({ type: 'model', model: { ...model, stages: 'x' }, eventLog: { path: null, note: '' } })).toBe(false);
    expect(isHostMessage({ type: 'model', model })).toBe(false);
    expect(isHostMessage({ type: 'missing', key: { app_id: 'a', attempt_id: null }, message: 'gone' })).toBe(true);
    expect(isHostMessage({ type: 'missing', key: { app_id: '', attempt_id: null }, message: 'gone' })).toBe(false);
    expect(isPageMessage({ type: 'ready' })).toBe(true);
    expect(isPageMessage({ type: 'openEventLog' })).toBe(true);
    expect(isPageMessage({ type: 'runCommand', command: 'rm' })).toBe(false);
    expect(isPageMessage(null)).toBe(false);
    expect(isPageState({ key: { app_id: 'a', attempt_id: '1' }, sort: 'skew', descending: true, configQuery: '' })).toBe(true);
    expect(isPageState({ key: { app_id: 'a', attempt_id: '1' }, sort: 'name', descending: true, configQuery: '' })).toBe(false);
  });
});

describe('Open Event Log: finding the log from the source', () => {
  it('finds a file or a rolling folder named after the application, else offers the source path, and says why when there is none', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'nested', 'eventlog_v2_spark-abc'), { recursive: true });
    writeFileSync(path.join(dir, 'app-1_1.lz4'), '');
    writeFileSync(path.join(dir, 'app-1_2.lz4'), '');
    writeFileSync(path.join(dir, 'app-7'), '');
    const source = (p: string | string[]): SourceConfig => ({ type: 'event_log', name: 's', path: p, recursive: true, batch_size: 100 });
    expect((await findEventLog(source(dir), undefined, { app_id: 'app-7', attempt_id: null })).path).toBe(path.join(dir, 'app-7'));
    expect((await findEventLog(source(dir), undefined, { app_id: 'app-1', attempt_id: '2' })).path).toBe(path.join(dir, 'app-1_2.lz4'));
    expect((await findEventLog(source('.'), dir, { app_id: 'spark-abc', attempt_id: null })).path).toBe(path.join(dir, 'nested', 'eventlog_v2_spark-abc'));
    const missing = await findEventLog(source([dir]), undefined, { app_id: 'app-404', attempt_id: null });
    expect(missing).toEqual({ path: dir, note: "no file named after app-404 was found: this is the source's path", found: false });
    // Open Event Log says so before it reveals the folder (a review: it revealed it without a word).
    expect(notFoundMessage(missing, 'app-404')).toBe(`no event log named after app-404 was found in its source; showing the source's folder ${dir} in the Explorer instead.`);
    expect(notFoundMessage(await findEventLog(source(dir), undefined, { app_id: 'app-7', attempt_id: null }), 'app-7')).toBeUndefined();
    expect((await findEventLog(source(path.join(dir, 'gone')), undefined, { app_id: 'x', attempt_id: null })).path).toBeNull();
    expect((await findEventLog({ type: 'databricks', name: 'd' } as unknown as SourceConfig, undefined, { app_id: 'x', attempt_id: null })).note).toMatch(/databricks source reads an API/);
    expect((await findEventLog(undefined, undefined, { app_id: 'x', attempt_id: null })).note).toMatch(/not configured/);
    expect([opensAsText('/l/app-1', false), opensAsText('/l/app-1.zstd', false), opensAsText('/l/eventlog_v2_x', true)]).toEqual([true, false, false]);
    // A compressed log still being written, or a compacted rolling part, is not text either (it opened as binary in the editor).
    expect([opensAsText('/l/app-1.lz4.inprogress', false), opensAsText('/l/events_1_app-1.ZSTD.compact', false), opensAsText('/l/app-1.inprogress', false)]).toEqual([false, false, true]);
  });
});

describe('Open Event Log at a quality flag', () => {
  // The engine flags the record; the editor's analyzer marks the line; findingCodesOf ties the two.
  it.each([
    ['truncated', 'app-flag', (lines: string[]) => [...lines.slice(0, -3), lines.at(-3)!.slice(0, 40)]],
    ['in_progress', 'app-flag.inprogress', (lines: string[]) => lines.filter((l) => !l.includes('SparkListenerApplicationEnd'))],
  ])('%s: the record has the flag and the analyzer marks a line with one of its codes', async (flag, name, cut) => {
    const dir = tempDir();
    const text = `${cut(eventLogText({ appId: 'app-flag', stages: 2, tasksPerStage: 3 }).text.trimEnd().split('\n')).join('\n')}\n`;
    writeFileSync(path.join(dir, name), text);
    const { apps } = await collectAll({ path: dir });
    expect(apps[0]!.record.quality).toContain(flag);
    const codes = analyzeEventLogText(text, { fileName: name }).map((f) => f.code);
    expect(findingCodesOf(flag).filter((c) => codes.includes(c))).not.toEqual([]);
  });

  it('has no line for what the log cannot show', () => {
    expect(findingCodesOf('compacted')).toEqual([]);
    expect(findingCodesOf('missing:cpu_time_ms')).toContain('missing-event');
  });
});

describe('the regression section (issue 18)', () => {
  it('says whether the run regressed against its history, by which metrics, with the baseline', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    const day = (d: number): string => new Date(Date.UTC(2024, 5, d, 2)).toISOString();
    const run = (d: number, minutes: number): ReturnType<typeof makeRecord> =>
      makeRecord({ app_id: `n-${d}`, app_name: 'Nightly', source: 'prod', start_time: day(d), end_time: new Date(Date.parse(day(d)) + minutes * 60_000).toISOString(), duration_ms: minutes * 60_000, failed_tasks: 0 });
    store.upsert([1, 2, 3, 4, 5].map((d) => run(d, 10)).concat([run(6, 30)]));
    const section = (d: number): RegressionSection => {
      const [check] = checkRegressions(store, [{ app_id: `n-${d}`, attempt_id: null }], DEFAULT_THRESHOLDS);
      return jobPageModel(store.get({ app_id: `n-${d}`, attempt_id: null })!, undefined, check).regression!;
    };
    const bad = section(6);
    expect(bad.status).toBe('regressed');
    expect(bad.headline).toMatch(/^Regressed: Duration 3(\.0)?x/);
    expect(bad.metrics.find((m) => m.field === 'duration_ms')).toMatchObject({ value: '30m 0s', baseline: '10m 0s', ratio: '3.00x', flagged: true });
    expect(bad.metrics.filter((m) => m.flagged).map((m) => m.field)).toEqual(['duration_ms']);
    expect(bad.baselineRuns).toBe(5);
    expect(bad.hasName).toBe(true);
    const steady = section(5);
    expect(steady.status).toBe('steady');
    expect(steady.headline).toMatch(/^Steady: .* last 4 completed runs/);
    const early = section(2);
    expect(early.status).toBe('unchecked');
    expect(early.headline).toMatch(/^Not checked: 1 earlier completed run/);
    expect(early.metrics).toEqual([]);
    expect(jobPageModel(store.get({ app_id: 'n-6', attempt_id: null })!, undefined).regression).toBeNull();
    store.close();
  });
});

describe('the timeline of an application with very many stages', () => {
  /** The rule packLanes keeps: each bar in the lowest-numbered lane free at its start, by a scan of every lane. */
  function scanLanes(bars: readonly { start: number; end: number }[]): number[] {
    const ends: number[] = [];
    return bars.map((b) => {
      let lane = ends.findIndex((end) => end <= b.start);
      if (lane < 0) lane = ends.push(b.end) - 1;
      else ends[lane] = b.end;
      return lane;
    });
  }

  it('packs bars into the lanes a scan of every lane gives', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const next = rng(seed);
      // Starts in order, with ties; ends equal to starts, touching others, or long.
      let t = 0;
      const bars = Array.from({ length: 3_000 }, () => {
        t += next() < 0.3 ? 0 : Math.floor(next() * 10);
        const start = t;
        const kind = next();
        return { start, end: kind < 0.2 ? start : start + Math.floor((kind < 0.9 ? 30 : 3_000) * next()) };
      });
      expect(packLanes(bars)).toEqual(scanLanes(bars));
    }
    expect(packLanes([])).toEqual([]);
  });

  it('is made for 150,000 stage attempts without a start time on the record (no argument list of every stage)', () => {
    const { stages, executors } = realisticSummaries(1, 150_000, 4);
    const m = jobPageModel(makeRecord({ start_time: null, end_time: null }), { stages, executors });
    expect(m.stages).toHaveLength(150_000);
    expect(m.timeline.origin).toBe(stages[0]!.submission_time);
    expect(m.timeline.gantt).toHaveLength(150_000);
    expect(m.timeline.lanes).toBe(m.timeline.gantt.reduce((most, g) => Math.max(most, g.lane), 0) + 1);
  });
});
