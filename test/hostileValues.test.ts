/**
 * Issue 13, items 3, 5 and 6: values no real Spark or cloud API writes, each in a small log or
 * answer made here. The record survives, the value that cannot be true is not stored (null, or left
 * out of its total), an error says where it was read, and the record is flagged `invalid:<field>`.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { StepSummary } from '@aws-sdk/client-emr';
import { afterEach, describe, expect, it } from 'vitest';
import { collectDatabricksAll } from '../src/collectors/databricks/collect';
import { platformRecord } from '../src/collectors/dataproc/record';
import { stepRecord } from '../src/collectors/emr/steps';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { toRecord, type AttemptAnswers } from '../src/collectors/historyServer/record';
import { validateRecord, type Problem, type SparkAppRecord } from '../src/collectors/record';
import { startDatabricksFake, workspace, type DatabricksFake } from './support/databricksFake';
import { startFakeServer, syntheticListing, syntheticRoutes, type FakeServer } from './support/historyServerFake';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const T0 = Date.UTC(2024, 5, 1);
const j = (o: object): string => JSON.stringify(o);
/**
 * The same event with a space after each key's colon: not the compact form the byte reader takes, so
 * JSON.parse reads it. Done on the text, so numbers keep their digits (JSON.stringify would write a
 * 400-digit number as null).
 */
const spaced = (line: string): string => line.replaceAll('":', '": ');

const appStart = (timestamp: unknown = T0): string => j({ Event: 'SparkListenerApplicationStart', 'App Name': 'hostile', 'App ID': 'app-1', Timestamp: timestamp, User: 'ann' });
const appEnd = (timestamp: unknown = T0 + 60_000): string => j({ Event: 'SparkListenerApplicationEnd', Timestamp: timestamp });
const env = (props: Record<string, unknown>): string => j({ Event: 'SparkListenerEnvironmentUpdate', 'JVM Information': {}, 'Spark Properties': props, 'System Properties': {}, 'Classpath Entries': {} });
const executorAdded = (id: string, cores: unknown): string => j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': id, 'Executor Info': { Host: 'h', 'Total Cores': cores } });
/** A Spark 3.x task end in JsonProtocol's field order (the byte reader's shape), with `raw` spliced in as the text of one metric. */
function taskEnd(id: number, raw: Partial<Record<'cpu' | 'input', string>> = {}): string {
  const metrics = `{"Executor Deserialize Time":1,"Executor Run Time":20,"Executor CPU Time":${raw.cpu ?? '3000000'},"Result Size":900,"JVM GC Time":0,"Memory Bytes Spilled":0,"Disk Bytes Spilled":0,"Shuffle Read Metrics":{"Remote Blocks Fetched":0,"Local Blocks Fetched":0,"Remote Bytes Read":10,"Local Bytes Read":5,"Total Records Read":1},"Shuffle Write Metrics":{"Shuffle Bytes Written":7,"Shuffle Write Time":1,"Shuffle Records Written":1},"Input Metrics":{"Bytes Read":${raw.input ?? '100'},"Records Read":1},"Output Metrics":{"Bytes Written":0,"Records Written":0}}`;
  return `{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"ResultTask","Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":${id},"Executor ID":"1","Failed":false},"Task Metrics":${metrics}}`;
}

function unitOf(file: string): LogUnit {
  return { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: path.basename(file), inProgress: false, compacted: false };
}

async function readLines(lines: string[]): Promise<{ record: SparkAppRecord; problems: Problem[]; file: string }> {
  const file = path.join(tempDir(), 'app-1');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { record, problems } = await readUnit(unitOf(file), { source: 'test' });
  expect(record).not.toBeNull();
  return { record: record!, problems, file };
}

describe('a property value nested 100,000 levels deep (item 5)', () => {
  // Written as text: JSON.stringify of such a value overflows the stack too.
  const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const PLACEHOLDER = '"@deep@"';

  it.each([
    ['byte reader', (l: string): string => l],
    ['parsed path', spaced],
  ])('%s: a problem on its line, the other properties kept, and every line after it read', async (_path, shape) => {
    const nested = shape(env({ 'spark.executor.memory': '3g', 'spark.evil': '@deep@' })).replace(PLACEHOLDER, DEEP);
    const { record, problems, file } = await readLines([appStart(), nested, executorAdded('1', 2), taskEnd(1), taskEnd(2), appEnd()]);
    expect(record).toMatchObject({ status: 'completed', total_tasks: 2, num_executors: 1, executor_memory_mb: 3072, end_time: new Date(T0 + 60_000).toISOString() });
    expect(record.environment).toEqual({ 'spark.executor.memory': '3g' });
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'bad-property', file, line: 2 })]);
    expect(problems[0]!.message).toContain('spark.evil');
  });

  it('as an old log’s [key, value] pair, too', async () => {
    const pairs = env([['spark.driver.memory', '512m'], ['spark.evil', '@deep@']] as unknown as Record<string, unknown>).replace(PLACEHOLDER, DEEP);
    const { record, problems } = await readLines([appStart(), pairs, taskEnd(1), appEnd()]);
    expect(record).toMatchObject({ driver_memory_mb: 512, total_tasks: 1, status: 'completed' });
    expect(problems.map((p) => [p.code, p.line])).toEqual([['bad-property', 2]]);
  });
});

const invalidAt = (field: keyof SparkAppRecord, file: string, line?: number): Problem =>
  expect.objectContaining({ severity: 'error', code: 'invalid-value', field, file, ...(line !== undefined ? { line } : {}) }) as Problem;

describe('a time outside the range a record holds (item 3)', () => {
  it.each([
    ['8640000000000001 (past JavaScript’s last Date)', 8_640_000_000_000_001],
    ['1e17', 1e17],
    ['a year past 9999', Date.UTC(10_000, 0, 1)],
    ['a fraction of a millisecond', T0 + 60_000.5],
    ['before 1970', -5],
    ['text', 'yesterday'],
  ])('an ApplicationEnd Timestamp of %s: the record is kept, completed, with end_time null and an error on the line', async (_name, bad) => {
    const { record, problems, file } = await readLines([appStart(), executorAdded('1', 2), taskEnd(1), appEnd(bad)]);
    expect(record).toMatchObject({ app_id: 'app-1', status: 'completed', start_time: new Date(T0).toISOString(), end_time: null, duration_ms: null, total_tasks: 1 });
    expect(record.quality).toContain('invalid:end_time');
    expect(record.quality).not.toContain('truncated');
    expect(problems).toEqual([invalidAt('end_time', file, 4)]);
    expect(problems[0]!.message).toMatch(/^SparkListenerApplicationEnd Timestamp .+ is (after the year 9999|not a whole number of milliseconds|before 1970|not a number): left out of end_time$/);
  });

  it('an ApplicationStart Timestamp of 1e17: start_time null, flagged invalid (not missing), no time-order noise', async () => {
    const { record, problems, file } = await readLines([appStart(1e17), appEnd()]);
    expect(record).toMatchObject({ start_time: null, submit_time: null, end_time: new Date(T0 + 60_000).toISOString(), duration_ms: null });
    expect(record.quality).toContain('invalid:start_time');
    expect(record.quality).not.toContain('missing:start_time');
    expect(problems).toEqual([invalidAt('start_time', file, 1)]);
  });

  it('spark.app.submitTime of 99999999999999999999: submit_time null (not the start), the error on the environment line', async () => {
    const { record, problems, file } = await readLines([appStart(), env({ 'spark.app.submitTime': '99999999999999999999' }), appEnd()]);
    expect(record).toMatchObject({ submit_time: null, start_time: new Date(T0).toISOString(), status: 'completed' });
    expect(record.quality).toContain('invalid:submit_time');
    expect(record.quality).not.toContain('defaulted:submit_time');
    expect(problems).toEqual([invalidAt('submit_time', file, 2)]);
    expect(problems[0]!.message).toContain('99999999999999999999');
  });
});

describe('values that cannot be true are not stored (item 6)', () => {
  /** Both of replay's paths must give one record, and the same problems. */
  async function bothPaths(lines: string[]): Promise<{ record: SparkAppRecord; problems: Problem[]; file: string }> {
    const fast = await readLines(lines);
    const parsed = await readLines(lines.map(spaced));
    expect(parsed.record).toEqual(fast.record);
    expect(parsed.problems.map((p) => ({ ...p, file: '' }))).toEqual(fast.problems.map((p) => ({ ...p, file: '' })));
    return fast;
  }

  it('a 400-digit CPU time: cpu_time_ms null (not Infinity), the error on its line, the other metrics still summed', async () => {
    const { record, problems, file } = await bothPaths([appStart(), executorAdded('1', 2), taskEnd(1), taskEnd(2, { cpu: '9'.repeat(400) }), appEnd()]);
    expect(record).toMatchObject({ cpu_time_ms: null, total_tasks: 2, input_bytes: 200, shuffle_read_bytes: 30 });
    expect(record.quality).toContain('invalid:cpu_time_ms');
    expect(record.quality).not.toContain('missing:cpu_time_ms');
    expect(problems).toEqual([invalidAt('cpu_time_ms', file, 4)]);
  });

  it.each([
    ['1.5', 'not a whole number'],
    ['1e20', 'over 2^53 - 1'],
    ['9007199254740993', 'over 2^53 - 1'],
    ['"100"', 'not a number'],
  ])('Bytes Read %s: left out of input_bytes (an integer still), flagged, an error on its line', async (raw, fault) => {
    const { record, problems, file } = await bothPaths([appStart(), taskEnd(1), taskEnd(2, { input: raw }), taskEnd(3), appEnd()]);
    expect(record).toMatchObject({ input_bytes: 200, total_tasks: 3, cpu_time_ms: 9 });
    expect(record.quality).toContain('invalid:input_bytes');
    expect(problems).toEqual([invalidAt('input_bytes', file, 3)]);
    expect(problems[0]!.message).toContain(fault);
  });

  it('the largest exact integer is still read, on the byte reader', async () => {
    const { record, problems } = await bothPaths([appStart(), taskEnd(1, { input: String(Number.MAX_SAFE_INTEGER) }), appEnd()]);
    expect(problems).toEqual([]);
    expect(record.input_bytes).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['-4', -4],
    ['0', 0],
    ['2.5', 2.5],
  ])('"Total Cores": %s: executor_cores null (not a guess from the other executors), an error on its line', async (_name, cores) => {
    const { record, problems, file } = await readLines([appStart(), executorAdded('1', 4), executorAdded('2', cores), appEnd()]);
    expect(record).toMatchObject({ executor_cores: null, num_executors: 2 });
    expect(record.quality).toContain('invalid:executor_cores');
    expect(record.quality).not.toContain('defaulted:executor_cores');
    expect(problems).toEqual([invalidAt('executor_cores', file, 3)]);
  });

  it('an impossible Total Cores is still reported when spark.executor.cores decides, but the record is not flagged', async () => {
    const { record, problems } = await readLines([appStart(), env({ 'spark.executor.cores': '3' }), executorAdded('1', -4), appEnd()]);
    expect(record.executor_cores).toBe(3);
    expect(record.quality).not.toContain('invalid:executor_cores');
    expect(problems.map((p) => [p.code, p.line])).toEqual([['invalid-value', 3]]);
  });

  it.each(['0', '99999999999999999999'])('spark.executor.cores=%s: executor_cores null, the error on the environment line', async (cores) => {
    const { record, problems, file } = await readLines([appStart(), env({ 'spark.executor.cores': cores }), executorAdded('1', 4), appEnd()]);
    expect(record.executor_cores).toBeNull();
    expect(record.quality).toContain('invalid:executor_cores');
    expect(problems).toEqual([invalidAt('executor_cores', file, 2)]);
  });

  it('many bad lines: 20 errors listed per file, the rest counted', async () => {
    const lines = [appStart(), ...Array.from({ length: 30 }, (_, i) => taskEnd(i, { input: '0.5' })), appEnd()];
    const { record, problems } = await readLines(lines);
    expect(record).toMatchObject({ total_tasks: 30, input_bytes: 0 });
    expect(problems.filter((p) => p.line !== undefined)).toHaveLength(20);
    expect(problems.at(-1)).toMatchObject({ code: 'invalid-value', message: '10 more invalid values not listed' });
  });

  describe('validateRecord, the net under every source', () => {
    it.each([
      [{ cpu_time_ms: Infinity }, 'cpu_time_ms', null],
      [{ executor_cores: -4 }, 'executor_cores', null],
      [{ driver_memory_mb: 1e300 }, 'driver_memory_mb', null],
      [{ start_time: '+275760-09-13T00:00:00.000Z' }, 'start_time', null],
      [{ input_bytes: 1.5 }, 'input_bytes', 0],
      [{ shuffle_read_bytes: 2 ** 60 }, 'shuffle_read_bytes', 0],
    ] as const)('%o: an error, the field %s stored as %s, flagged invalid', (overrides, field, stored) => {
      const record = makeRecord(overrides);
      const problems = validateRecord(record, 'f');
      expect(problems).toContainEqual(expect.objectContaining({ severity: 'error', code: 'record-invalid', field, file: 'f' }));
      expect(record[field]).toBe(stored);
      expect(record.quality).toEqual([`invalid:${field}`]);
    });

    it('a valid record is left as it is', () => {
      const record = makeRecord();
      expect(validateRecord(record)).toEqual([]);
      expect(record).toEqual(makeRecord());
    });
  });
});

describe('API sources: the same rules (items 3 and 6)', () => {
  describe('History Server', () => {
    const servers: FakeServer[] = [];
    afterEach(async () => {
      await Promise.all(servers.splice(0).map((s) => s.close()));
    });

    it('an endTimeEpoch of 1e17: the attempt is kept with end_time null, the error names its URL', async () => {
      const app = { id: 'app-far', user: 'etl', startMs: T0, endMs: T0 + 1000, executors: [{ id: '1', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 1 }] };
      const listing = syntheticListing([app]) as { attempts: Record<string, unknown>[] }[];
      Object.assign(listing[0]!.attempts[0]!, { endTimeEpoch: 1e17, endTime: '+5138-11-16T09:46:40.000GMT' });
      const s = await startFakeServer({ applications: { json: listing }, ...syntheticRoutes([app]) });
      servers.push(s);
      const r = await collectHistoryServerAll({ url: s.url, backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000 });
      expect(r.problems).toEqual([]);
      expect(r.apps).toHaveLength(1);
      const { record, problems } = r.apps[0]!;
      expect(record).toMatchObject({ app_id: 'app-far', status: 'completed', start_time: new Date(T0).toISOString(), end_time: null, duration_ms: null, total_tasks: 1 });
      expect(record.quality).toContain('invalid:end_time');
      expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'end_time', file: expect.stringContaining('applications/app-far') as unknown })]);
    });

    it('a Spark property nested 100,000 deep in /environment is left out with a warning; the record is kept (found by the fuzz suite)', async () => {
      const app = { id: 'app-deep', startMs: T0, endMs: T0 + 1000, executors: [], stages: [], properties: {} };
      const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
      const routes = syntheticRoutes([app]);
      routes['applications/app-deep/environment'] = { text: `{"runtime":{},"sparkProperties":[["spark.executor.cores","3"],["spark.deep",${deep}],[${deep},"x"]],"systemProperties":[],"classpathEntries":[]}` };
      const s = await startFakeServer({ applications: { json: syntheticListing([app]) }, ...routes });
      servers.push(s);
      const r = await collectHistoryServerAll({ url: s.url, backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000 });
      expect(r.problems).toEqual([]);
      expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-deep']);
      const { record, problems } = r.apps[0]!;
      expect(record.environment).toEqual({ 'spark.executor.cores': '3' });
      expect(record.executor_cores).toBe(3);
      expect(problems).toEqual([
        { severity: 'warning', code: 'bad-property', message: 'app-deep: 2 Spark properties are an object or array, not text (first: "spark.deep"): left out of environment', file: `${s.url}/api/v1/applications/app-deep/environment` },
      ]);
    });

    it('a start time past 9999 and a submitTime of 99999999999999999999: both null and flagged', () => {
      const problems: Problem[] = [];
      const record = toRecord(
        { ...hsAnswers(), attempt: { startTimeEpoch: 8_640_000_000_000_001, endTimeEpoch: T0, completed: true }, properties: { 'spark.app.submitTime': '99999999999999999999' } },
        'hs',
        problems,
        'http://hs/app-1',
      );
      expect(record).toMatchObject({ start_time: null, submit_time: null, end_time: new Date(T0).toISOString() });
      expect(record.quality).toEqual(expect.arrayContaining(['invalid:start_time', 'invalid:submit_time']));
      expect(record.quality).not.toContain('missing:start_time');
      expect(problems.map((p) => [p.code, p.field, p.file])).toEqual([
        ['invalid-value', 'start_time', 'http://hs/app-1'],
        ['invalid-value', 'submit_time', 'http://hs/app-1'],
      ]);
    });

    it('a stage’s 1.5 input bytes and Infinity CPU time are left out and flagged, per value', () => {
      const problems: Problem[] = [];
      const stages = [
        { status: 'COMPLETE', stageId: 0, attemptId: 0, numCompleteTasks: 1, inputBytes: 1.5, executorCpuTime: 4_000_000, outputBytes: 1.5 },
        { status: 'COMPLETE', stageId: 1, attemptId: 0, numCompleteTasks: 1, inputBytes: 10, executorCpuTime: Infinity, outputBytes: 1.5 },
      ];
      const record = toRecord({ ...hsAnswers(), stages }, 'hs', problems, 'http://hs/app-1');
      // 1.5 + 1.5 would have summed to a whole 3.
      expect(record).toMatchObject({ input_bytes: 10, output_bytes: 0, cpu_time_ms: null, total_tasks: 2 });
      expect(record.quality).toEqual(expect.arrayContaining(['invalid:input_bytes', 'invalid:output_bytes', 'invalid:cpu_time_ms']));
      expect(record.quality).not.toContain('missing:cpu_time_ms');
      expect(problems.map((p) => [p.code, p.field])).toEqual([
        ['invalid-value', 'cpu_time_ms'],
        ['invalid-value', 'input_bytes'],
        ['invalid-value', 'output_bytes'],
        ['invalid-value', 'output_bytes'],
      ]);
    });
  });

  describe('cloud APIs', () => {
    const fakes: DatabricksFake[] = [];
    afterEach(async () => {
      await Promise.all(fakes.splice(0).map((f) => f.close()));
    });

    it('Databricks: a run that ends at 1e17 is kept with end_time null and an error naming the run', async () => {
      const ws = workspace(1, { sharedClusters: 1 });
      ws.runs[0]!.end_time = 1e17;
      const f = await startDatabricksFake({ token: 't', runs: ws.runs, clusters: ws.clusters });
      fakes.push(f);
      const r = await collectDatabricksAll({ endpointUrl: f.url, token: 't', tokenSource: 'test', source: 'dbx', backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000 });
      expect(r.apps).toHaveLength(1);
      const { record, problems } = r.apps[0]!;
      expect(record).toMatchObject({ end_time: null, duration_ms: null, status: 'completed' });
      expect(record.start_time).toBe(new Date(ws.runs[0]!.start_time).toISOString());
      expect(record.quality).toContain('invalid:end_time');
      expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'end_time' })]);
      expect(problems[0]!.message).toContain(`run ${ws.runs[0]!.run_id}`);
    });

    it('Dataproc: a state time in the year 100000 is not stored as a six-digit-year string', () => {
      const problems: Problem[] = [];
      const job = { reference: { jobId: 'j1' }, status: { state: 'DONE', stateStartTime: '+100000-01-01T00:00:00Z' }, statusHistory: [{ state: 'PENDING', stateStartTime: '2024-06-01T00:00:00Z' }, { state: 'RUNNING', stateStartTime: '2024-06-01T00:00:05Z' }] };
      const record = platformRecord(job, 'sparkJob', null, {}, 'dp', problems, 'projects/p/regions/r/jobs/j1');
      expect(record).toMatchObject({ submit_time: '2024-06-01T00:00:00.000Z', start_time: '2024-06-01T00:00:05.000Z', end_time: null, duration_ms: null });
      expect(record.quality).toContain('invalid:end_time');
      expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'end_time', file: 'projects/p/regions/r/jobs/j1' })]);
    });

    it('EMR: a step that starts at the last Date JavaScript has is kept with start_time null', () => {
      const problems: Problem[] = [];
      const step: StepSummary = { Id: 's-1', Name: 'spark', Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(T0), StartDateTime: new Date(8_640_000_000_000_000), EndDateTime: new Date(T0 + 5000) } } };
      const record = stepRecord(step, { source: 'emr', sparkVersion: '3.5.0', clusterTags: {}, where: 'j-1' }, problems);
      expect(record).toMatchObject({ submit_time: new Date(T0).toISOString(), start_time: null, end_time: new Date(T0 + 5000).toISOString(), duration_ms: null });
      expect(record.quality).toContain('invalid:start_time');
      expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'invalid-value', field: 'start_time', file: 'j-1 step s-1' })]);
    });
  });
});

function hsAnswers(): AttemptAnswers {
  return {
    app: { id: 'app-1', name: 'hostile', attempts: [{}] },
    attempt: { startTimeEpoch: T0, endTimeEpoch: T0 + 60_000, completed: true, appSparkVersion: '3.5.3', sparkUser: 'u' },
    properties: {},
    executors: [{ id: '1', totalCores: 2 }],
    stages: [],
    jobStageIds: null,
  };
}

describe('an empty "App ID" is no id (found by the fuzz suite)', () => {
  it('the id comes from spark.app.id, else the file name, with a warning on its line; an empty attempt id is none', async () => {
    const start = (id: string): string => j({ Event: 'SparkListenerApplicationStart', 'App Name': 'hostile', 'App ID': id, 'App Attempt ID': '', Timestamp: T0, User: 'ann' });
    const fromProps = await readLines([start(''), env({ 'spark.app.id': 'app-from-props' }), appEnd()]);
    expect(fromProps.record).toMatchObject({ app_id: 'app-from-props', attempt_id: null });
    expect(fromProps.problems).toEqual([
      expect.objectContaining({ severity: 'warning', code: 'missing-key', line: 1, message: 'SparkListenerApplicationStart with an empty "App ID": the id comes from spark.app.id or the file name' }),
    ]);
    const fromFile = await readLines([start('  '), env({}), appEnd()]);
    expect(fromFile.record.app_id).toBe('app-1');
  });
});
