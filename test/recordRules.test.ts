/**
 * The record module's rules (src/collectors/record/rules.ts, finish.ts) one at a time, then each
 * source that uses them, for the behaviour issue 14 made the same everywhere: before it, each
 * source had its own copy of these rules, and the copies disagreed (the tests marked "issue 14"
 * fail on the code before it).
 */
import type { StepSummary } from '@aws-sdk/client-emr';
import { describe, expect, it } from 'vitest';
import { platformRecord as databricksRecord, runClusters, type Run } from '../src/collectors/databricks/record';
import { platformRecord as dataprocRecord, type Job } from '../src/collectors/dataproc/record';
import { stepRecord } from '../src/collectors/emr/steps';
import { AppReplay } from '../src/collectors/eventlog/replay';
import { toRecord, type AttemptAnswers } from '../src/collectors/historyServer/record';
import type { Problem, RecordFindings, SparkAppRecord } from '../src/collectors/record';
import { MAX_STORED_TEXT, finishRecord } from '../src/collectors/record/finish';
import { executorCores, executorCount, executorInstances, memoryMb, memoryStringToMb, recordTimes, submitTimeProperty } from '../src/collectors/record/rules';

const T0 = 1_700_000_000_000;
const iso = (ms: number): string => new Date(ms).toISOString();

function findings(over: Partial<RecordFindings> = {}): RecordFindings {
  return { quality: new Set(), problems: [], where: 'src', ...over };
}
const flags = (f: RecordFindings): string[] => [...f.quality].sort();

describe('JVM memory strings, as Spark’s JavaUtils.byteStringAs reads them', () => {
  it.each([
    ['512m', 512],
    ['4g', 4096],
    ['4G', 4096],
    ['4gb', 4096],
    ['4GB', 4096],
    ['  4g\t', 4096],
    ['1t', 1024 * 1024],
    ['1p', 1024 ** 3],
    ['2048k', 2],
    ['1000k', 0], // rounded down, as ByteUnit.convertFrom does
    ['1073741824b', 1024],
    ['1536', 1536], // a bare number is MiB for spark.{executor,driver}.memory
    ['0', 0],
  ])('%j -> %d MiB', (s, mb) => expect(memoryStringToMb(s)).toBe(mb));

  it('a bare number is bytes when asked', () => expect(memoryStringToMb('1073741824', 'b')).toBe(1024));

  it.each([
    ['1.5g', 'Spark refuses fractions ("Fractional values are not supported")'],
    ['4 g', 'Spark allows no space before the unit'],
    ['4gib', 'not one of Spark’s units'],
    ['4x', 'not a unit'],
    ['-1g', 'negative'],
    ['g', 'no number'],
    ['', 'empty'],
    ['lots', 'nonsense'],
    ['99999999999999999999t', 'past 2^53 MiB'],
  ])('%j is not a memory size (%s)', (s) => expect(memoryStringToMb(s)).toBeNull());
});

describe('memoryMb: a memory property, or what the source falls back to, flagged', () => {
  it('a size from the property, with no flag', () => {
    const f = findings();
    expect(memoryMb({ 'spark.executor.memory': '8g' }, 'spark.executor.memory', 'spark-default', f)).toBe(8192);
    expect(flags(f)).toEqual([]);
    expect(f.problems).toEqual([]);
  });

  it('absent: Spark’s default 1g for an application Spark ran, flagged defaulted; unknown for a platform record, flagged missing', () => {
    const spark = findings();
    expect(memoryMb({}, 'spark.driver.memory', 'spark-default', spark)).toBe(1024);
    expect(flags(spark)).toEqual(['defaulted:driver_memory_mb']);
    const platform = findings();
    expect(memoryMb({}, 'spark.driver.memory', 'unknown', platform)).toBeNull();
    expect(flags(platform)).toEqual(['missing:driver_memory_mb']);
    expect([...spark.problems, ...platform.problems]).toEqual([]);
  });

  it('not a size: a warning naming the property (and the run or step), then the same fallback', () => {
    const spark = findings();
    expect(memoryMb({ 'spark.executor.memory': '1.5g' }, 'spark.executor.memory', 'spark-default', spark)).toBe(1024);
    expect(flags(spark)).toEqual(['defaulted:executor_memory_mb']);
    expect(spark.problems).toEqual([{ severity: 'warning', code: 'bad-property', message: 'spark.executor.memory="1.5g" is not a JVM memory size; using Spark\'s default 1g', file: 'src' }]);
    const platform = findings({ subject: 'run 7' });
    expect(memoryMb({ 'spark.driver.memory': '4 gb' }, 'spark.driver.memory', 'unknown', platform)).toBeNull();
    expect(flags(platform)).toEqual(['missing:driver_memory_mb']);
    expect(platform.problems).toEqual([{ severity: 'warning', code: 'bad-property', message: 'run 7: spark.driver.memory="4 gb" is not a JVM memory size', file: 'src' }]);
  });
});

describe('executorCores', () => {
  const observed: [string, number][] = [
    ['driver', 8],
    ['1', 2],
    ['2', 6],
  ];

  it('spark.executor.cores wins when it is a whole number (spaces allowed); otherwise the most cores of an executor other than the driver', () => {
    const f = findings();
    expect(executorCores({ 'spark.executor.cores': ' 4 ' }, observed, 'spark-default', f)).toBe(4);
    expect(executorCores({ 'spark.executor.cores': 'four' }, observed, 'spark-default', f)).toBe(6);
    expect(executorCores({}, observed, 'spark-default', f)).toBe(6);
    expect(executorCores({}, [['driver', 8]], 'spark-default', f)).toBe(8); // local mode: the driver is the executor
    expect(flags(f)).toEqual([]);
    expect(f.problems).toEqual([]);
  });

  it.each([
    ['0', 'no cores at all'],
    ['99999999999999999999', 'over 2^53 - 1'],
  ])('spark.executor.cores=%s cannot be: null, flagged invalid, an error where the properties were read', (raw, fault) => {
    const f = findings({ propsAt: { file: 'log', line: 3 } });
    expect(executorCores({ 'spark.executor.cores': raw }, observed, 'spark-default', f)).toBeNull();
    expect(flags(f)).toEqual(['invalid:executor_cores']);
    expect(f.problems).toEqual([{ severity: 'error', code: 'invalid-value', field: 'executor_cores', message: `spark.executor.cores "${raw}" is ${fault}: left out of executor_cores`, file: 'log', line: 3 }]);
  });

  it('an executor whose cores could not be true (NaN, already reported) makes the most unknown: null, flagged invalid, no second problem', () => {
    const f = findings();
    expect(executorCores({}, [...observed, ['3', NaN]], 'spark-default', f)).toBeNull();
    expect(flags(f)).toEqual(['invalid:executor_cores']);
    expect(f.problems).toEqual([]);
  });

  it('neither: Spark’s default 1 (YARN, Kubernetes), flagged defaulted; or unknown, flagged missing', () => {
    const spark = findings();
    expect(executorCores({}, [], 'spark-default', spark)).toBe(1);
    expect(flags(spark)).toEqual(['defaulted:executor_cores']);
    const platform = findings();
    expect(executorCores({ 'spark.executor.cores': '' }, [], 'unknown', platform)).toBeNull();
    expect(flags(platform)).toEqual(['missing:executor_cores']);
  });
});

describe('executorCount and executorInstances', () => {
  it('executors other than the driver; the driver alone counts as one (local mode, <driver> before Spark 1.3); none is unknown, flagged', () => {
    const f = findings();
    expect(executorCount(['driver', '1', '2'], f)).toBe(2);
    expect(executorCount(['driver'], f)).toBe(1);
    expect(executorCount(new Set(['<driver>']), f)).toBe(1);
    expect(flags(f)).toEqual([]);
    expect(executorCount([], f)).toBeNull();
    expect(flags(f)).toEqual(['missing:num_executors']);
  });

  it('spark.executor.instances only with dynamic allocation off, explicitly or by the platform’s default', () => {
    const count = (props: Record<string, string>, dynamicByDefault: boolean): [number | null, string[]] => {
      const f = findings();
      return [executorInstances(props, dynamicByDefault, f), flags(f)];
    };
    expect(count({ 'spark.executor.instances': '5' }, false)).toEqual([5, []]);
    expect(count({ 'spark.executor.instances': '5' }, true)).toEqual([null, ['missing:num_executors']]);
    expect(count({ 'spark.executor.instances': '5', 'spark.dynamicAllocation.enabled': ' FALSE ' }, true)).toEqual([5, []]);
    expect(count({ 'spark.executor.instances': '5', 'spark.dynamicAllocation.enabled': 'true' }, false)).toEqual([null, ['missing:num_executors']]);
    expect(count({ 'spark.executor.instances': 'many', 'spark.dynamicAllocation.enabled': 'false' }, true)).toEqual([null, ['missing:num_executors']]);
    expect(count({}, false)).toEqual([null, ['missing:num_executors']]);
  });

  it('0 instances cannot run an application: null, flagged invalid, an error', () => {
    const f = findings();
    expect(executorInstances({ 'spark.executor.instances': '0' }, false, f)).toBeNull();
    expect(flags(f)).toEqual(['invalid:num_executors']);
    expect(f.problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'num_executors', message: 'spark.executor.instances "0" is no executors at all: left out of num_executors' })]);
  });
});

describe('times', () => {
  it('spark.app.submitTime in epoch ms; absent or not digits is none; one past the year 9999 is an error, flagged invalid', () => {
    const f = findings({ propsAt: { file: 'log', line: 2 } });
    expect(submitTimeProperty({ 'spark.app.submitTime': String(T0) }, f)).toBe(T0);
    expect(submitTimeProperty({ 'spark.app.submitTime': '17e11' }, f)).toBeNull();
    expect(submitTimeProperty({}, f)).toBeNull();
    expect(flags(f)).toEqual([]);
    expect(submitTimeProperty({ 'spark.app.submitTime': '99999999999999999999' }, f)).toBeNull();
    expect(flags(f)).toEqual(['invalid:submit_time']);
    expect(f.problems).toEqual([expect.objectContaining({ code: 'invalid-value', field: 'submit_time', file: 'log', line: 2 })]);
  });

  const times = (t: { submit?: number | null; start?: number | null; end?: number | null }, f = findings()): ReturnType<typeof recordTimes> =>
    recordTimes({ submit: t.submit ?? null, submitFrom: 'spark.app.submitTime', start: t.start ?? null, end: t.end ?? null }, f);

  it('every time as ISO-8601 UTC and the duration from start to end, with no flag', () => {
    const f = findings();
    expect(times({ submit: T0 - 500, start: T0, end: T0 + 60_000 }, f)).toEqual({ submit_time: iso(T0 - 500), start_time: iso(T0), end_time: iso(T0 + 60_000), duration_ms: 60_000 });
    expect(times({ submit: T0, start: T0, end: T0 }, f)).toMatchObject({ duration_ms: 0 });
    expect(flags(f)).toEqual([]);
    expect(f.problems).toEqual([]);
  });

  it('no submit time: the start, flagged defaulted; but not for one already flagged invalid, and not without a start', () => {
    const f = findings();
    expect(times({ start: T0 }, f).submit_time).toBe(iso(T0));
    expect(flags(f)).toEqual(['defaulted:submit_time']);
    const invalid = findings({ quality: new Set(['invalid:submit_time']) });
    expect(times({ start: T0 }, invalid).submit_time).toBeNull();
    expect(flags(invalid)).toEqual(['invalid:submit_time']);
    const none = findings();
    expect(times({ end: T0 }, none)).toEqual({ submit_time: null, start_time: null, end_time: iso(T0), duration_ms: null });
    expect(flags(none)).toEqual(['missing:start_time']);
  });

  it('an unknown start is flagged missing, unless it is flagged invalid', () => {
    const f = findings({ quality: new Set(['invalid:start_time']) });
    times({ end: T0 }, f);
    expect(flags(f)).toEqual(['invalid:start_time']);
  });

  it('submitted after it started: kept, flagged submit_after_start, with a clock-skew warning', () => {
    const f = findings();
    expect(times({ submit: T0 + 500, start: T0 }, f).submit_time).toBe(iso(T0 + 500));
    expect(flags(f)).toEqual(['submit_after_start']);
    expect(f.problems).toEqual([
      { severity: 'warning', code: 'time-order', message: `submitted (${iso(T0 + 500)}, spark.app.submitTime) after it started (${iso(T0)}): clock skew between the submitting host and the driver`, file: 'src' },
    ]);
  });

  it('an end before the start: the duration unknown, an error naming the application, or the run or step', () => {
    const app = findings();
    expect(times({ start: T0, end: T0 - 1 }, app)).toMatchObject({ start_time: iso(T0), end_time: iso(T0 - 1), duration_ms: null });
    expect(app.problems).toEqual([{ severity: 'error', code: 'time-order', message: `application ends (${iso(T0 - 1)}) before it starts (${iso(T0)})`, file: 'src' }]);
    const run = findings({ subject: 'run 7' });
    times({ start: T0, end: T0 - 1 }, run);
    expect(run.problems.map((p) => p.message)).toEqual([`run 7 ends (${iso(T0 - 1)}) before it starts (${iso(T0)})`]);
  });
});

describe('finishRecord: every source’s record is capped, then validated', () => {
  it('a property value over MAX_STORED_TEXT is cut and flagged capped, and the record’s invariants are still checked', () => {
    const { record } = hsRecord({});
    record.environment = { 'spark.huge': 'x'.repeat(MAX_STORED_TEXT + 1) };
    record.failed_tasks = 1;
    const problems = finishRecord(record, 'where');
    expect(record.environment['spark.huge']).toBe(`${'x'.repeat(MAX_STORED_TEXT)}… [cut: ${MAX_STORED_TEXT + 1} characters]`);
    expect(record.quality).toContain('capped:environment');
    expect(problems.map((p) => [p.code, p.field])).toEqual([
      ['value-capped', 'environment'],
      ['record-inconsistent', 'failed_tasks'],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Each source, through the same rules.

function hsRecord(over: Partial<AttemptAnswers>): { record: SparkAppRecord; problems: Problem[] } {
  const problems: Problem[] = [];
  const answers: AttemptAnswers = {
    app: { id: 'app-1', name: 'rules', attempts: [{}] },
    attempt: { startTimeEpoch: T0, endTimeEpoch: T0 + 60_000, completed: true, appSparkVersion: '3.5.3', sparkUser: 'u' },
    properties: { 'spark.executor.memory': '2g', 'spark.driver.memory': '1g' },
    executors: [{ id: 'driver' }, { id: '1', totalCores: 4 }],
    stages: [],
    jobStageIds: null,
    ...over,
  };
  return { record: toRecord(answers, 'hs', problems, 'http://hs/app-1'), problems };
}

/** A replayed log's record, finished as readUnit (eventlog/readLog.ts) finishes it. */
function replayRecord(props: Record<string, string>): { record: SparkAppRecord; problems: Problem[] } {
  const r = new AppReplay({ appId: 'app-1', source: 'test', inProgress: false, tags: {} });
  r.beginFile('app-1');
  const events = [
    { Event: 'SparkListenerApplicationStart', 'App Name': 'rules', 'App ID': 'app-1', Timestamp: T0, User: 'u' },
    { Event: 'SparkListenerEnvironmentUpdate', 'Spark Properties': props },
    { Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': '1', 'Executor Info': { Host: 'h', 'Total Cores': 4 } },
    { Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 },
  ];
  events.forEach((e, i) => {
    const buf = Buffer.from(JSON.stringify(e));
    r.line(buf, 0, buf.length, i + 1);
  });
  r.endFile();
  const record = r.finish()!;
  return { record, problems: [...r.problems, ...finishRecord(record, 'app-1')] };
}

describe('event logs and the History Server: one rule, one result (issue 14)', () => {
  const sources = [
    ['event log', replayRecord],
    ['History Server', (props: Record<string, string>) => hsRecord({ properties: props })],
  ] as const;

  it.each(sources)('%s: spark.executor.memory=1.5g, which Spark refuses, is Spark’s default 1g with a warning (was 1536)', (_name, read) => {
    const { record, problems } = read({ 'spark.executor.memory': '1.5g', 'spark.driver.memory': '2g' });
    expect(record.executor_memory_mb).toBe(1024);
    expect(record.quality).toContain('defaulted:executor_memory_mb');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'bad-property', message: 'spark.executor.memory="1.5g" is not a JVM memory size; using Spark\'s default 1g' })]);
  });

  it.each(sources)('%s: spark.executor.cores=0 is no number of cores: null, flagged invalid, an error (the History Server stored 0)', (_name, read) => {
    const { record, problems } = read({ 'spark.executor.cores': '0', 'spark.executor.memory': '2g', 'spark.driver.memory': '2g' });
    expect(record.executor_cores).toBeNull();
    expect(record.quality).toContain('invalid:executor_cores');
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'executor_cores' })]);
  });

  it.each(sources)('%s: submitted after it started is flagged submit_after_start, with a warning (the History Server said nothing)', (_name, read) => {
    const { record, problems } = read({ 'spark.app.submitTime': String(T0 + 500), 'spark.executor.memory': '2g', 'spark.driver.memory': '2g' });
    expect(record.submit_time).toBe(iso(T0 + 500));
    expect(record.quality).toContain('submit_after_start');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'time-order' })]);
  });

  it.each(sources)('%s: a property value of 100,000 characters is kept cut to MAX_STORED_TEXT, flagged capped (the History Server kept it whole)', (_name, read) => {
    const { record, problems } = read({ 'spark.huge': 'y'.repeat(100_000), 'spark.executor.memory': '2g', 'spark.driver.memory': '2g' });
    expect(record.environment['spark.huge']).toHaveLength(MAX_STORED_TEXT + '… [cut: 100000 characters]'.length);
    expect(record.quality).toContain('capped:environment');
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'value-capped', field: 'environment' })]);
  });

  it('History Server: an executor’s totalCores that is not a count is an error naming the executor, and the most cores unknown', () => {
    const { record, problems } = hsRecord({ executors: [{ id: 'driver' }, { id: '1', totalCores: 4 }, { id: '2', totalCores: 2.5 }] });
    expect(record.executor_cores).toBeNull();
    expect(record.quality).toContain('invalid:executor_cores');
    expect(problems).toEqual([expect.objectContaining({ code: 'invalid-value', field: 'executor_cores', message: 'executor 2 totalCores 2.5 is not a whole number: left out of executor_cores' })]);
  });
});

describe('platform records (Databricks, Dataproc, EMR): the same rules, unknown instead of Spark’s defaults (issue 14)', () => {
  function databricks(conf: Record<string, string>, times: Partial<Run> = {}): { record: SparkAppRecord; problems: Problem[] } {
    const run: Run = { run_id: 7, run_name: 'nightly', start_time: T0, end_time: T0 + 60_000, state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' }, existing_cluster_id: 'c-1', ...times };
    const problems: Problem[] = [];
    const record = databricksRecord(run, runClusters(run), { num_workers: 2, spark_conf: conf }, {}, 'dbx', problems, 'run 7');
    return { record, problems };
  }
  function dataproc(props: Record<string, string>, history: Job['statusHistory'] = [{ state: 'PENDING', stateStartTime: iso(T0 - 1000) }, { state: 'RUNNING', stateStartTime: iso(T0) }], end = iso(T0 + 60_000)): { record: SparkAppRecord; problems: Problem[] } {
    const job: Job = { reference: { jobId: 'j1' }, status: { state: 'DONE', stateStartTime: end }, statusHistory: history, sparkJob: { properties: props } };
    const problems: Problem[] = [];
    const record = dataprocRecord(job, 'sparkJob', null, {}, 'dp', problems, 'jobs/j1');
    return { record, problems };
  }
  function emr(args: string[], timeline: NonNullable<NonNullable<StepSummary['Status']>['Timeline']> = { CreationDateTime: new Date(T0 - 1000), StartDateTime: new Date(T0), EndDateTime: new Date(T0 + 60_000) }): { record: SparkAppRecord; problems: Problem[] } {
    const step: StepSummary = { Id: 's-1', Name: 'spark', Config: { Jar: 'command-runner.jar', Args: ['spark-submit', ...args, 's3://code/job.py'] }, Status: { State: 'COMPLETED', Timeline: timeline } };
    const problems: Problem[] = [];
    const record = stepRecord(step, { source: 'emr', sparkVersion: '3.5.0', clusterTags: {}, where: 'j-1' }, problems);
    return { record, problems };
  }

  it('sizes from the properties, by the same memory and cores rules; what they do not say is unknown, flagged missing', () => {
    const dbx = databricks({ 'spark.executor.memory': '4G', 'spark.executor.cores': '3' }).record;
    expect(dbx).toMatchObject({ executor_memory_mb: 4096, executor_cores: 3, driver_memory_mb: null });
    expect(dbx.quality).toContain('missing:driver_memory_mb');
    const dp = dataproc({ 'spark.executor.memory': '4096m', 'spark.driver.memory': '2g', 'spark.executor.cores': '2' }).record;
    expect(dp).toMatchObject({ executor_memory_mb: 4096, driver_memory_mb: 2048, executor_cores: 2 });
    const step = emr(['--executor-memory', '6g', '--executor-cores', '3', '--num-executors', '5']).record;
    expect(step).toMatchObject({ executor_memory_mb: 6144, executor_cores: 3, num_executors: 5, driver_memory_mb: null });
  });

  it('spark.executor.cores=0 is an error, flagged invalid, on every platform (Dataproc and EMR stored 0, Databricks called it missing)', () => {
    for (const { record, problems } of [databricks({ 'spark.executor.cores': '0' }), dataproc({ 'spark.executor.cores': '0' }), emr(['--executor-cores', '0'])]) {
      expect(record.executor_cores).toBeNull();
      expect(record.quality).toContain('invalid:executor_cores');
      expect(record.quality).not.toContain('missing:executor_cores');
      expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'executor_cores' }));
    }
  });

  it('a memory size Spark refuses is a warning naming the run, job or step, and unknown', () => {
    const expected = [
      [databricks({ 'spark.executor.memory': '1.5g' }), 'run 7: spark.executor.memory="1.5g" is not a JVM memory size'],
      [dataproc({ 'spark.executor.memory': '1.5g' }), 'job j1: spark.executor.memory="1.5g" is not a JVM memory size'],
      [emr(['--executor-memory', '1.5g']), 'step s-1: spark.executor.memory="1.5g" is not a JVM memory size'],
    ] as const;
    for (const [{ record, problems }, message] of expected) {
      expect(record.executor_memory_mb).toBeNull();
      expect(record.quality).toContain('missing:executor_memory_mb');
      expect(problems).toContainEqual(expect.objectContaining({ severity: 'warning', code: 'bad-property', message }));
    }
  });

  it('Dataproc: 0 executors with dynamic allocation off is an error, flagged invalid (was null with no flag)', () => {
    const { record, problems } = dataproc({ 'spark.dynamicAllocation.enabled': 'false', 'spark.executor.instances': '0' });
    expect(record.num_executors).toBeNull();
    expect(record.quality).toContain('invalid:num_executors');
    expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'num_executors' }));
    expect(dataproc({ 'spark.dynamicAllocation.enabled': 'false', 'spark.executor.instances': '4' }).record.num_executors).toBe(4);
  });

  it('EMR: --num-executors with dynamic allocation turned on is only the starting count: unknown, flagged missing (was the count)', () => {
    const { record } = emr(['--conf', 'spark.dynamicAllocation.enabled=true', '--num-executors', '5']);
    expect(record.num_executors).toBeNull();
    expect(record.quality).toContain('missing:num_executors');
  });

  it('Dataproc: a job that ends before it starts is an error naming the job (the duration was left out silently)', () => {
    const { record, problems } = dataproc({}, [{ state: 'PENDING', stateStartTime: iso(T0 - 1000) }, { state: 'RUNNING', stateStartTime: iso(T0) }], iso(T0 - 500));
    expect(record.duration_ms).toBeNull();
    expect(problems).toContainEqual({ severity: 'error', code: 'time-order', message: `job j1 ends (${iso(T0 - 500)}) before it starts (${iso(T0)})`, file: 'jobs/j1' });
  });

  it('Dataproc and EMR: no submit time is the start, flagged defaulted (Dataproc did not flag it, EMR left it empty)', () => {
    const dp = dataproc({}, [{ state: 'PENDING' }, { state: 'RUNNING', stateStartTime: iso(T0) }]).record;
    expect(dp.submit_time).toBe(iso(T0));
    expect(dp.quality).toContain('defaulted:submit_time');
    const step = emr([], { StartDateTime: new Date(T0), EndDateTime: new Date(T0 + 60_000) }).record;
    expect(step.submit_time).toBe(iso(T0));
    expect(step.quality).toContain('defaulted:submit_time');
  });

  it('Databricks: the run’s start_time is its submit time, not a default', () => {
    const { record } = databricks({});
    expect(record.submit_time).toBe(iso(T0));
    expect(record.quality).not.toContain('defaulted:submit_time');
  });

  it('every platform caps a property value to MAX_STORED_TEXT, flagged (they kept it whole)', () => {
    const huge = 'z'.repeat(MAX_STORED_TEXT + 10);
    for (const { record } of [databricks({ 'spark.huge': huge }), dataproc({ 'spark.huge': huge }), emr(['--conf', `spark.huge=${huge}`])]) {
      expect(record.environment['spark.huge']).toBe(`${'z'.repeat(MAX_STORED_TEXT)}… [cut: ${MAX_STORED_TEXT + 10} characters]`);
      expect(record.quality).toContain('capped:environment');
    }
  });
});
