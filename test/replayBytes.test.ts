/**
 * The replay's byte reader (replay.ts from its constants to fastStageCompleted: nextQuote,
 * indexOfKey, scanMetrics, readInt, fastTaskEnd, fastStageCompleted, the fastEvents table and line())
 * against its rule: a line gives the same record whichever path reads it, the bytes or JSON.parse,
 * and Spark's usual lines never reach JSON.parse. Each case is a log written here and read by the
 * collector, once as written and once with a space after each line under test, which sends those
 * lines to JSON.parse (issue 19, from the byte reader's surviving mutants).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit } from '../src/collectors/eventlog/readLog';
import type { Problem, SparkAppRecord } from '../src/collectors/record';
import { tempDir } from './support/tmp';

const T0 = Date.UTC(2024, 0, 2);
const j = (o: object): string => JSON.stringify(o);
const appStart = j({ Event: 'SparkListenerApplicationStart', 'App Name': 'bytes', 'App ID': 'app-bytes', Timestamp: T0, User: 'u' });
const appEnd = j({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 });

interface Read {
  record: SparkAppRecord | null;
  /** Problems without their file, which differs from run to run. */
  problems: Omit<Problem, 'file'>[];
  /** JSON.parse calls while reading. */
  parses: number;
  /** The text of each JSON.parse call, in order. */
  parsedTexts: string[];
}

async function readLines(text: string): Promise<Read> {
  const file = path.join(tempDir(), 'app-bytes');
  writeFileSync(file, text);
  const unit: LogUnit = { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: 'app-bytes', inProgress: false, compacted: false };
  const parse = vi.spyOn(JSON, 'parse');
  try {
    const { record, problems } = await readUnit(unit, { source: 'test' });
    return { record, problems: problems.map(({ file: _file, ...p }) => p), parses: parse.mock.calls.length, parsedTexts: parse.mock.calls.map(([text]) => text) };
  } finally {
    parse.mockRestore();
  }
}

/**
 * Reads `lines` between an application start and end, as written (the byte reader takes what it
 * can) and with a trailing space on each (valid JSON, but not ending in `}`, so JSON.parse reads it).
 */
async function bothPaths(lines: readonly string[]): Promise<{ bytes: Read; parsed: Read }> {
  const log = (tail: string): string => `${[appStart, ...lines.map((l) => l + tail), appEnd].join('\n')}\n`;
  const bytes = await readLines(log(''));
  const parsed = await readLines(log(' '));
  expect(parsed.parses).toBeGreaterThanOrEqual(lines.length);
  return { bytes, parsed };
}

/** Asserts the rule: the same record and problems on both paths. Returns the byte path's read. */
async function samePaths(lines: readonly string[]): Promise<Read> {
  const { bytes, parsed } = await bothPaths(lines);
  expect(bytes.record).not.toBeNull();
  expect(bytes.record).toEqual(parsed.record);
  // JSON.parse's message for a malformed line names a column, which the added space can move.
  const comparable = (r: Read): Read['problems'] => r.problems.map((p) => (p.code === 'malformed-json' ? { ...p, column: 0, message: p.message.replace(/column \d+/, 'column N') } : p));
  expect(comparable(bytes)).toEqual(comparable(parsed));
  return bytes;
}

/** The application start and end lines are parsed on both paths; these are the parses of the lines under test. */
const ownParses = (r: Read): number => r.parses - 2;

interface TaskOpts {
  reason?: string;
  /** The "Task Metrics" value as raw JSON text (null leaves the key out). */
  metrics?: string | null;
  info?: object;
  taskType?: string;
}
/** A task end in Spark's field order (JsonProtocol.taskEndToJson), metrics as raw text. */
function taskEnd({ reason = 'Success', metrics = '{}', info = { 'Task ID': 1, Failed: false }, taskType = 'ResultTask' }: TaskOpts = {}): string {
  const head = j({ Event: 'SparkListenerTaskEnd', 'Stage ID': 0, 'Stage Attempt ID': 0, 'Task Type': taskType, 'Task End Reason': { Reason: reason }, 'Task Info': info });
  return metrics === null ? head : `${head.slice(0, -1)},"Task Metrics":${metrics}}`;
}
/** Spark 3's task metrics with the given values. */
function metricsOf(v: { cpu?: number | string; mem?: number | string; disk?: number | string; remote?: number | string; local?: number | string; written?: number | string; input?: number | string; output?: number | string }): string {
  const n = (x: number | string | undefined, d: number): string => (x === undefined ? String(d) : String(x));
  return (
    `{"Executor Deserialize Time":1,"Executor Deserialize CPU Time":2,"Executor Run Time":3,"Executor CPU Time":${n(v.cpu, 0)},` +
    `"Peak Execution Memory":0,"Result Size":10,"JVM GC Time":0,"Result Serialization Time":0,` +
    `"Memory Bytes Spilled":${n(v.mem, 0)},"Disk Bytes Spilled":${n(v.disk, 0)},` +
    `"Shuffle Read Metrics":{"Remote Blocks Fetched":0,"Local Blocks Fetched":0,"Fetch Wait Time":0,"Remote Bytes Read":${n(v.remote, 0)},"Remote Bytes Read To Disk":0,"Local Bytes Read":${n(v.local, 0)},"Total Records Read":0},` +
    `"Shuffle Write Metrics":{"Shuffle Bytes Written":${n(v.written, 0)},"Shuffle Write Time":0,"Shuffle Records Written":0},` +
    `"Input Metrics":{"Bytes Read":${n(v.input, 0)},"Records Read":0},"Output Metrics":{"Bytes Written":${n(v.output, 0)},"Records Written":0},"Updated Blocks":[]}`
  );
}
/** A stage completion in Spark's field order (JsonProtocol.stageInfoToJson). */
function stageCompleted(id: number | string, attempt: number | string, failure?: string | null): string {
  const tail = failure === undefined ? '' : `,"Failure Reason":${j([failure]).slice(1, -1)}`;
  return `{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":${id},"Stage Attempt ID":${attempt},"Stage Name":"s","Number of Tasks":1,"Submission Time":1,"Completion Time":2${tail},"Accumulables":[]}}`;
}

describe('the byte reader gives the parsed path’s record', () => {
  it('every metric, summed over tasks, without JSON.parse', async () => {
    const r = await samePaths([
      taskEnd({ metrics: metricsOf({ cpu: 3_000_000, mem: 1, disk: 2, remote: 30, local: 4, written: 5, input: 6, output: 7 }) }),
      taskEnd({ metrics: metricsOf({ cpu: 4_000_000, mem: 10, disk: 20, remote: 300, local: 40, written: 50, input: 60, output: 70 }) }),
    ]);
    expect(ownParses(r)).toBe(0);
    expect(r.record).toMatchObject({ total_tasks: 2, cpu_time_ms: 7, memory_spilled_bytes: 11, disk_spilled_bytes: 22, shuffle_read_bytes: 374, shuffle_write_bytes: 55, input_bytes: 66, output_bytes: 77 });
  });
});

describe('numbers', () => {
  it('Spark’s -1 for an unknown metric (old versions) is left out on the byte path too, but still says the metric was written', async () => {
    const r = await samePaths([taskEnd({ metrics: metricsOf({ cpu: -1, mem: -1, remote: -5, local: 3 }) }), taskEnd({ metrics: metricsOf({ cpu: -1, input: -2, output: 4 }) })]);
    expect(ownParses(r)).toBe(0);
    expect(r.record).toMatchObject({ cpu_time_ms: 0, memory_spilled_bytes: 0, shuffle_read_bytes: 3, input_bytes: 0, output_bytes: 4 });
    expect(r.record!.quality).not.toContain('missing:cpu_time_ms');
  });

  it('an exponent is read as the whole number, not the digits before it; a fraction is judged as the parsed path judges it', async () => {
    const r = await samePaths([
      taskEnd({ metrics: metricsOf({ input: '2e3', output: 2 }) }),
      taskEnd({ metrics: metricsOf({ output: '3E2' }) }),
      taskEnd({ metrics: metricsOf({ remote: '7.0e1' }) }),
      taskEnd({ metrics: metricsOf({ disk: '1.5' }) }),
    ]);
    expect(r.record).toMatchObject({ input_bytes: 2000, output_bytes: 302, shuffle_read_bytes: 70 });
  });

  it('a value that is not a number (a string, null, an object, a lone minus sign) is judged as the parsed path judges it', async () => {
    const r = await samePaths([
      taskEnd({ metrics: metricsOf({ input: '"12"', output: 'null', remote: '{"x":1}', cpu: '"1"' }) }),
      taskEnd({ metrics: metricsOf({ input: 5, output: 6, remote: 7 }) }),
      taskEnd({ metrics: metricsOf({ disk: '-' }) }),
    ]);
    expect(r.record).toMatchObject({ total_tasks: 2, input_bytes: 5, output_bytes: 6, shuffle_read_bytes: 7 });
  });

  it('integers up to 2^53 - 1 are read from bytes; larger ones, no longer exact, are judged as the parsed path judges them', async () => {
    const max = Number.MAX_SAFE_INTEGER;
    const exact = await samePaths([taskEnd({ metrics: metricsOf({ input: max, output: max - 1 }) })]);
    expect(ownParses(exact)).toBe(0);
    expect(exact.record).toMatchObject({ input_bytes: max, output_bytes: max - 1 });
    const over = await samePaths([taskEnd({ metrics: metricsOf({ input: '9007199254740993', output: '90071992547409910', remote: 3 }) })]);
    expect(over.record).toMatchObject({ shuffle_read_bytes: 3 });
  });
});

describe('strings: quotes, backslashes and key names inside them', () => {
  it('escaped quotes and backslashes before and inside the metrics; a key spelled inside a string is not a key', async () => {
    // Spark 1.x writes "Host Name" first inside "Task Metrics"; these texts end in 0, 1, 2 and 3 backslashes.
    const hosts = ['"Bytes Read":99,"x', 'h\\', 'h\\"Bytes Written":98,', 'h\\\\', '\\\\\\"Remote Bytes Read":97'];
    const lines = hosts.map((host, i) =>
      taskEnd({
        info: { 'Task ID': i, Host: host, Accumulables: [{ Name: '"Local Bytes Read":96', Value: host }] },
        metrics: j({ 'Host Name': host, 'Executor Run Time': 1, 'Shuffle Read Metrics': { 'Remote Bytes Read': 1, 'Local Bytes Read': 2 }, 'Input Metrics': { 'Bytes Read': 3 }, 'Output Metrics': { 'Bytes Written': 4 } }),
      }),
    );
    const r = await samePaths(lines);
    expect(ownParses(r)).toBe(0);
    expect(r.record).toMatchObject({ total_tasks: 5, shuffle_read_bytes: 15, input_bytes: 15, output_bytes: 20 });
  });

  it('a string value that spells a wanted key is not a key, even when a number follows it', async () => {
    const metrics = j({ Tags: ['Bytes Read', 7, 'Executor CPU Time', 8], 'Input Metrics': { 'Bytes Read': 3 } });
    const r = await samePaths([taskEnd({ metrics }), taskEnd({ metrics })]);
    expect(r.record).toMatchObject({ input_bytes: 6, cpu_time_ms: null });
  });

  it('a key repeated deeper in the metrics does not replace the one Spark writes first', async () => {
    // Spark writes each key once; a custom group after Input Metrics reusing "Bytes Read" is read by neither path.
    const metrics = j({ 'Input Metrics': { 'Bytes Read': 3 }, Custom: { 'Bytes Read': 1000 } });
    const r = await samePaths([taskEnd({ metrics })]);
    expect(r.record).toMatchObject({ input_bytes: 3 });
  });
});

describe('reasons', () => {
  it('only the exact reason Success is a success; a reason of its length or starting with it is not', async () => {
    const reasons = ['Success', 'Unknown', 'Success2', 'Succes', 'SuccessX', 'success', 'TaskKilled', 'TaskCommitDenied', 'ExceptionFailure', ''];
    const r = await samePaths(reasons.map((reason) => taskEnd({ reason, metrics: metricsOf({ input: 1 }) })));
    expect(ownParses(r)).toBe(0);
    expect(r.record).toMatchObject({ total_tasks: 10, failed_tasks: 7, input_bytes: 10 });
  });

  it('a task end without its reason near the start, without Task Metrics, or with metrics that are not an object', async () => {
    const late = `{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"${'x'.repeat(300)}","Task End Reason":{"Reason":"FetchFailed"},"Task Info":{},"Task Metrics":${metricsOf({ input: 5 })}}`;
    const r = await samePaths([late, taskEnd({ reason: 'ExceptionFailure', metrics: null }), taskEnd({ metrics: '[]' }), taskEnd({ metrics: '0' }), taskEnd({ metrics: 'null' })]);
    expect(r.record).toMatchObject({ total_tasks: 5, failed_tasks: 2, input_bytes: 5 });
  });
});

describe('lines', () => {
  it('a log of task lines alone is still a Spark log', async () => {
    const r = await readLines(`${taskEnd({ metrics: metricsOf({ input: 4 }) })}\n`);
    expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4 });
    const starts = await readLines(`${j({ Event: 'SparkListenerTaskStart', 'Stage ID': 0, 'Task Info': {} })}\n`);
    expect(starts.record).toMatchObject({ total_tasks: 0 });
    const stages = await readLines(`${stageCompleted(0, 0)}\n`);
    expect(stages.record).toMatchObject({ total_stages: 1 });
  });

  it('blank lines and CRLF line ends are not problems', async () => {
    const r = await readLines(['', appStart, '', taskEnd({ metrics: metricsOf({ input: 4 }) }), '', stageCompleted(1, 0), appEnd, ''].join('\r\n'));
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4, total_stages: 1, status: 'completed' });
  });

  it('a cut-off line is a malformed line, whichever event it is; the lines after it are read', async () => {
    const task = taskEnd({ metrics: metricsOf({ input: 4 }) });
    const start = j({ Event: 'SparkListenerTaskStart', 'Stage ID': 0, 'Task Info': { 'Task ID': 1 } });
    const cut = [task.slice(0, -2), task.slice(0, task.length - 40), start.slice(0, -2), stageCompleted(2, 0).slice(0, -2), '{"Event":"SparkListenerJobSta'];
    const r = await readLines(`${[appStart, ...cut, task, appEnd].join('\n')}\n`);
    expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4, total_stages: 0 });
    expect(r.problems.map((p) => [p.code, p.line])).toEqual(cut.map((_, i) => ['malformed-json', i + 2]));
    // A cut-off event the fast path skips unparsed is reported as the parser sees it, as any malformed line.
    expect(r.problems[2]!.message).toMatch(/^Malformed JSON at column \d+ \(.*\)\. Collection skips this line: fix or remove it\.$/);
    expect(r.problems[4]!.message).toMatch(/^Malformed JSON at column \d+ \(/);
  });

  it('an event whose name only starts with a name the byte reader knows is another event', async () => {
    // Custom listeners name their own events; replay does not need these, so they are skipped.
    const lines = [taskEnd({ metrics: metricsOf({ input: 4 }) }), stageCompleted(0, 0, 'x')].map((l) => l.replace('"Event":"SparkListener', '"Event":"SparkListenerX'));
    const suffixed = [taskEnd({ metrics: metricsOf({ input: 4 }) }), stageCompleted(0, 0, 'x')].map((l) => l.replace(/"Event":"(\w+)"/, '"Event":"$1Summary"'));
    const r = await readLines(`${[appStart, ...lines, ...suffixed, appEnd].join('\n')}\n`);
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({ total_tasks: 0, total_stages: 0, input_bytes: 0 });
  });

  it('a line in another layout (spaces, the event name later) is read by JSON.parse into the same record', async () => {
    const spaced = JSON.stringify(JSON.parse(taskEnd({ metrics: metricsOf({ input: 4 }) })), null, 1).replace(/\n/g, '');
    const later = j({ 'Stage Info': { 'Stage ID': 1, 'Stage Attempt ID': 0, 'Failure Reason': 'x' }, Event: 'SparkListenerStageCompleted' });
    const r = await readLines(`${[appStart, spaced, later, appEnd].join('\n')}\n`);
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4, total_stages: 1, failed_stages: 1 });
  });
});

describe('stage completions', () => {
  it('ids and attempts of any width, failed or not, without JSON.parse', async () => {
    const r = await samePaths([stageCompleted(0, 0), stageCompleted(7, 12, 'lost'), stageCompleted(12345, 3, null), stageCompleted(12345, 4, 'null'), stageCompleted(98765432, 0, 'Job aborted: "quoted", \\ and \\"')]);
    expect(ownParses(r)).toBe(0);
    expect(r.record).toMatchObject({ total_stages: 5, failed_stages: 3 });
  });

  it('stage attempts told apart by their attempt number, not only by their id', async () => {
    const r = await samePaths([stageCompleted(5, 0, 'lost'), stageCompleted(5, 1), stageCompleted(5, 10), stageCompleted(51, 0), stageCompleted(50, 1, 'x')]);
    expect(r.record).toMatchObject({ total_stages: 5, failed_stages: 2 });
  });

  it('a stage in another shape (no attempt, ids that are not integers, a Failure Reason only inside a string) gives the parsed path’s record', async () => {
    const noAttempt = '{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":4,"Stage Name":"old","Failure Reason":"x","Accumulables":[]}}';
    const inString = '{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":6,"Stage Attempt ID":0,"Stage Name":"\\"Failure Reason\\":\\"x\\"","Accumulables":[]}}';
    const r = await samePaths([noAttempt, stageCompleted(4, 1), stageCompleted('3.0', 0), stageCompleted(3, '2.0', 'y'), stageCompleted(3, '-1'), inString, stageCompleted('"9"', 0)]);
    expect(r.record).toMatchObject({ total_stages: 6, failed_stages: 2 });
  });
});

describe('environment updates: the Spark Properties are parsed alone', () => {
  const env = (props: string): string =>
    `{"Event":"SparkListenerEnvironmentUpdate","JVM Information":{"Java Home":"/j"},"Spark Properties":${props},"Hadoop Properties":{},"System Properties":{"x":"{["},"Classpath Entries":{"/a.jar":"System Classpath"}}`;

  it('JSON.parse sees only the Spark Properties, whatever brackets, quotes and backslashes their values hold', async () => {
    // The System Properties and Classpath Entries around them are most of the line (tens of KB).
    const props = j({ 'spark.app.name': 'a }] "quoted" {[ name', 'spark.executor.memory': '3g', 'spark.dir': 'C:\\dir\\', 'spark.q': '\\"', 'spark.e': '' });
    const pairs = j([['spark.driver.memory', '2g'], ['spark.x', '] } "[{']]);
    for (const p of [props, pairs]) {
      const r = await samePaths([env(p)]);
      expect(r.parsedTexts).toEqual([appStart, p, appEnd]);
    }
    const r = await samePaths([env(props)]);
    expect(r.record).toMatchObject({ executor_memory_mb: 3072, app_name: 'bytes' });
    expect(r.record!.environment).toMatchObject({ 'spark.dir': 'C:\\dir\\', 'spark.q': '\\"', 'spark.e': '' });
  });

  it('Spark Properties that are not an object or array, or not closed, send the line to JSON.parse once', async () => {
    for (const p of ['null', '"x"', '5', 'true']) {
      const r = await samePaths([env(p)]);
      expect(r.parsedTexts).toEqual([appStart, env(p), appEnd]);
      expect(r.record!.quality).toContain('missing:environment');
      expect(r.problems).toEqual([{ severity: 'warning', code: 'missing-key', message: 'SparkListenerEnvironmentUpdate without "Spark Properties": event ignored, environment may be incomplete', line: 2 }]);
    }
    // Not closed within the line: a malformed line either way.
    const open = '{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"a":{"b":{"c":"d"}}';
    const r = await samePaths([open]);
    expect(r.parsedTexts).toEqual([appStart, open, appEnd]);
    expect(r.problems.map((p) => p.code)).toEqual(['malformed-json']);
    const unterminated = '{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"a":"b}';
    const u = await samePaths([unterminated]);
    expect(u.parsedTexts).toEqual([appStart, unterminated, appEnd]);
  });
});

describe('the parsed path’s readers', () => {
  it('ids written as numbers by other writers are read as text', async () => {
    const lines = [
      j({ Event: 'SparkListenerApplicationStart', 'App Name': 'n', 'App ID': 12345, 'App Attempt ID': 2, Timestamp: T0, User: 'u' }),
      j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': 7, 'Executor Info': { Host: 'h', 'Total Cores': 3 } }),
      j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': 8, 'Executor Info': { Host: 'h', 'Total Cores': 5 } }),
      j({ Event: 'SparkListenerTaskEnd', 'Task Info': {}, 'Task End Reason': { Reason: 5 }, 'Task Metrics': {} }),
      appEnd,
    ];
    const r = await readLines(`${lines.join('\n')}\n`);
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({ app_id: '12345', attempt_id: '2', num_executors: 2, executor_cores: 5, total_tasks: 1, failed_tasks: 1 });
  });

  it('an application start or end without a Timestamp, or with a null one, has no time, and no invalid value', async () => {
    const noTime = [j({ Event: 'SparkListenerApplicationStart', 'App Name': 'n', 'App ID': 'app-t' }), j({ Event: 'SparkListenerApplicationEnd', Timestamp: null })];
    const r = await readLines(`${noTime.join('\n')}\n`);
    expect(r.problems.map((p) => p.code)).not.toContain('invalid-value');
    expect(r.record).toMatchObject({ start_time: null, end_time: null });
    expect(r.record!.quality).toContain('missing:start_time');
    expect(r.record!.quality).not.toContain('invalid:start_time');
  });

  it('a Timestamp written as text is an invalid value, “not a number”', async () => {
    const r = await readLines(`${[j({ Event: 'SparkListenerApplicationStart', 'App Name': 'n', 'App ID': 'app-t', Timestamp: String(T0) }), appEnd].join('\n')}\n`);
    expect(r.record).toMatchObject({ start_time: null });
    expect(r.problems).toEqual([{ severity: 'error', code: 'invalid-value', field: 'start_time', message: `SparkListenerApplicationStart Timestamp "${T0}" is not a number: left out of start_time`, line: 1 }]);
  });

  it('a Stage Info that is not an object is a missing Stage Info', async () => {
    const r = await readLines(`${[appStart, j({ Event: 'SparkListenerStageCompleted', 'Stage Info': 'x' }), appEnd].join('\n')}\n`);
    expect(r.record).toMatchObject({ total_stages: 0 });
    expect(r.problems).toEqual([{ severity: 'warning', code: 'missing-key', message: 'SparkListenerStageCompleted without "Stage Info": event ignored, total_stages may be incomplete', line: 2 }]);
  });
});

describe('problems listed per file', () => {
  const bad = (n: number): string[] => Array.from({ length: n }, (_, i) => `{"Event":"SparkListenerTaskEnd","Task Info":{"Task ID":${i}},`);

  it('the first 20 are listed, the rest counted in one error', async () => {
    const r = await readLines(`${[appStart, ...bad(25), appEnd].join('\n')}\n`);
    expect(r.problems.map((p) => [p.severity, p.code, p.line])).toEqual([...bad(20).map((_, i) => ['error', 'malformed-json', i + 2]), ['error', 'malformed-json', undefined]]);
    expect(r.problems.at(-1)!.message).toBe('5 more malformed lines not listed');
  });

  it('exactly 20 are all listed, with no count', async () => {
    const r = await readLines(`${[appStart, ...bad(20), appEnd].join('\n')}\n`);
    expect(r.problems.map((p) => [p.severity, p.code, p.line])).toEqual(bad(20).map((_, i) => ['error', 'malformed-json', i + 2]));
  });

  it('invalid values too: 20 listed, the rest counted in one error; exactly 20, no count', async () => {
    const fractions = (n: number): string[] => Array.from({ length: n }, () => taskEnd({ metrics: metricsOf({ input: '0.5' }) }));
    const many = await readLines(`${[appStart, ...fractions(23), appEnd].join('\n')}\n`);
    expect(many.problems.map((p) => [p.severity, p.code, p.line])).toEqual([...fractions(20).map((_, i) => ['error', 'invalid-value', i + 2]), ['error', 'invalid-value', undefined]]);
    expect(many.problems.at(-1)!.message).toBe('3 more invalid values not listed');
    const twenty = await readLines(`${[appStart, ...fractions(20), appEnd].join('\n')}\n`);
    expect(twenty.problems.map((p) => [p.code, p.line])).toEqual(fractions(20).map((_, i) => ['invalid-value', i + 2]));
  });
});

describe('lines cut off or out of shape', () => {
  it('a last line without its newline is read when it is complete', async () => {
    const r = await readLines([appStart, taskEnd({ metrics: metricsOf({ input: 4 }) }), appEnd].join('\n'));
    expect(r.problems).toEqual([]);
    expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4, status: 'completed' });
    expect(r.record!.quality).not.toContain('truncated');
  });

  it('the last line of a file cut inside its event name or its task end reason is a malformed line', async () => {
    for (const cut of ['{"Event":"SparkListenerJobSta', '{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"R","Task End Reason":{"Reason":"Success}']) {
      const r = await readLines(`${[appStart, cut].join('\n')}\n`);
      expect(r.record).toMatchObject({ total_tasks: 0 });
      expect(r.problems.map((p) => [p.code, p.line])).toEqual([['malformed-json', 2]]);
    }
  });

  it('a task end whose reason or metrics are not JSON is a malformed line, not a task', async () => {
    const lines = [
      '{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"R","Task End Reason":{"Reason":"Success}',
      taskEnd({ metrics: 'nope' }),
      taskEnd({ metrics: 'nul' }),
      taskEnd({ metrics: metricsOf({ input: 4 }) }),
    ];
    const { bytes, parsed } = await bothPaths(lines);
    for (const r of [bytes, parsed]) {
      expect(r.record).toMatchObject({ total_tasks: 1, input_bytes: 4 });
      expect(r.problems.map((p) => [p.code, p.line])).toEqual([['malformed-json', 2], ['malformed-json', 3], ['malformed-json', 4]]);
    }
  });

  it('a task end without Task Metrics takes no metrics from elsewhere in the chunk', async () => {
    // Lines are views into a 512 KiB chunk: a search that fails must not land at a fixed place in it.
    // These first lines put an object at the chunk's bytes 14 and 16.
    for (const head of ['{"pad_pad_pa":{"Bytes Read":1000,"Executor CPU Time":5000000}}', '{"pad_pad_pad_":{"Bytes Read":1000,"Executor CPU Time":5000000}}']) {
      expect(head[14] === '{' || head[16] === '{').toBe(true);
      const noMetrics = taskEnd({ reason: 'ExceptionFailure', metrics: null });
      const r = await readLines(`${[head, appStart, noMetrics, noMetrics, appEnd].join('\n')}\n`);
      expect(r.record).toMatchObject({ total_tasks: 2, failed_tasks: 2, input_bytes: 0, cpu_time_ms: null });
    }
  });
});

describe('stage completions out of shape', () => {
  it('without an attempt number and nothing after the id: attempt 0, not the next line’s attempt', async () => {
    const r = await samePaths(['{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":5}}', stageCompleted(7, 3), stageCompleted(5, 0)]);
    expect(r.record).toMatchObject({ total_stages: 2, failed_stages: 0 });
  });

  it('another key where the attempt number belongs, or another object where Stage Info belongs, is not read as one', async () => {
    const sameLength = '{"Event":"SparkListenerStageCompleted","Stage Info":{"Stage ID":4,"Stage Attempt No":3,"Stage Name":"s"}}';
    const otherInfo = '{"Event":"SparkListenerStageCompleted","Other Info":{"Stage ID":9,"Stage Attempt ID":0}}';
    const r = await samePaths([sameLength, stageCompleted(4, 0), otherInfo]);
    expect(r.record).toMatchObject({ total_stages: 1, failed_stages: 0 });
    expect(r.problems.map((p) => [p.code, p.line])).toEqual([['missing-key', 4]]);
  });

  it('an attempt number that is not an integer is read as the parsed path reads it', async () => {
    // The parsed path reads 2.0 as 2, and an attempt that is not a number as 0.
    const r = await samePaths([stageCompleted(3, '2.0', 'y'), stageCompleted(3, 2), stageCompleted(3, '"1"', 'z'), stageCompleted(3, 0)]);
    expect(r.record).toMatchObject({ total_stages: 2, failed_stages: 0 });
  });
});
