/**
 * The event-log rules of DESIGN.md §2 one at a time, on a few hand-written events each, so that a
 * broken rule fails a test that names it (issue 19). Each rule is checked on both of replay's
 * paths: the byte reader for Spark's usual field order, and the parsed path for anything else.
 */
import { describe, expect, it, vi } from 'vitest';
import { AppReplay } from '../src/collectors/eventlog/replay';
import type { SparkAppRecord } from '../src/collectors/record';

type Event = Record<string, unknown>;

function replay(events: readonly Event[]): { record: SparkAppRecord; replay: AppReplay } {
  const r = new AppReplay({ appId: 'app-rules', source: 'test', inProgress: false, tags: {} });
  r.beginFile('app-rules');
  events.forEach((e, i) => {
    const buf = Buffer.from(JSON.stringify(e));
    r.line(buf, 0, buf.length, i + 1);
  });
  r.endFile();
  const record = r.finish();
  expect(r.problems).toEqual([]);
  return { record: record!, replay: r };
}

const start: Event = { Event: 'SparkListenerApplicationStart', 'App Name': 'rules', 'App ID': 'app-rules', Timestamp: 1_700_000_000_000, User: 'u' };
const end: Event = { Event: 'SparkListenerApplicationEnd', Timestamp: 1_700_000_060_000 };

function executorAdded(id: string, cores = 4): Event {
  return { Event: 'SparkListenerExecutorAdded', Timestamp: 1, 'Executor ID': id, 'Executor Info': { Host: 'h', 'Total Cores': cores, 'Log Urls': {} } };
}
function blockManagerAdded(id: string): Event {
  return { Event: 'SparkListenerBlockManagerAdded', 'Block Manager ID': { 'Executor ID': id, Host: 'h', Port: 1 }, 'Maximum Memory': 1 };
}

/** Spark's field order (JsonProtocol.stageCompletedToJson): the byte reader takes it. */
function stageCompleted(id: number, attempt: number, failure?: string | null): Event {
  return {
    Event: 'SparkListenerStageCompleted',
    'Stage Info': { 'Stage ID': id, 'Stage Attempt ID': attempt, 'Stage Name': `stage ${id}`, 'Number of Tasks': 1, ...(failure !== undefined ? { 'Failure Reason': failure } : {}), Accumulables: [] },
  };
}
/** The same facts in another field order: only the parsed path reads it. */
function stageCompletedReordered(id: number, attempt: number, failure?: string): Event {
  return {
    Event: 'SparkListenerStageCompleted',
    'Stage Info': { 'Stage Attempt ID': attempt, 'Stage ID': id, 'Stage Name': `stage ${id}`, ...(failure !== undefined ? { 'Failure Reason': failure } : {}), Accumulables: [] },
  };
}

interface TaskOpts {
  reason?: string;
  remote?: number;
  local?: number;
  /** Puts the reason after the metrics, which sends the line to the parsed path. */
  parsed?: boolean;
}
function taskEnd({ reason = 'Success', remote = 0, local = 0, parsed = false }: TaskOpts = {}): Event {
  const head = { Event: 'SparkListenerTaskEnd', 'Stage ID': 0, 'Stage Attempt ID': 0, 'Task Type': 'ResultTask' };
  const endReason = { 'Task End Reason': { Reason: reason } };
  const info = { 'Task Info': { 'Task ID': 1, Failed: reason !== 'Success' && reason !== 'TaskKilled' } };
  const metrics = {
    'Task Metrics': {
      'Executor CPU Time': 1_000_000,
      'Memory Bytes Spilled': 0,
      'Disk Bytes Spilled': 0,
      'Shuffle Read Metrics': { 'Remote Blocks Fetched': 1, 'Local Blocks Fetched': 1, 'Remote Bytes Read': remote, 'Local Bytes Read': local, 'Total Records Read': 1 },
      'Shuffle Write Metrics': { 'Shuffle Bytes Written': 0 },
      'Input Metrics': { 'Bytes Read': 0 },
      'Output Metrics': { 'Bytes Written': 0 },
    },
  };
  return parsed ? { ...head, ...info, ...metrics, ...endReason } : { ...head, ...endReason, ...info, ...metrics };
}

describe.each([
  ['byte reader', false],
  ['parsed path', true],
] as const)('replay rules (%s)', (_path, parsed) => {
  it('failed tasks: every reason but Success, TaskKilled and TaskCommitDenied; all of them count as tasks', () => {
    const reasons = ['Success', 'Success', 'TaskKilled', 'TaskCommitDenied', 'Resubmitted', 'ExceptionFailure', 'FetchFailed', 'ExecutorLostFailure', 'TaskResultLost', 'UnknownReason'];
    const { record } = replay([start, ...reasons.map((reason) => taskEnd({ reason, parsed })), end]);
    expect(record.total_tasks).toBe(10);
    expect(record.failed_tasks).toBe(6);
  });

  it('failed tasks: a killed task alone is not a failure, a resubmitted one alone is', () => {
    expect(replay([start, taskEnd({ reason: 'TaskKilled', parsed }), end]).record.failed_tasks).toBe(0);
    expect(replay([start, taskEnd({ reason: 'TaskCommitDenied', parsed }), end]).record.failed_tasks).toBe(0);
    expect(replay([start, taskEnd({ reason: 'Resubmitted', parsed }), end]).record.failed_tasks).toBe(1);
  });

  it('shuffle read is remote + local bytes', () => {
    const { record } = replay([start, taskEnd({ remote: 1000, local: 24, parsed }), taskEnd({ remote: 0, local: 7, parsed }), taskEnd({ remote: 300, local: 0, parsed }), end]);
    expect(record.shuffle_read_bytes).toBe(1331);
  });
});

describe.each([
  ['byte reader', stageCompleted],
  ['parsed path', stageCompletedReordered],
] as const)('stage counting (%s)', (_path, stage) => {
  it('a stage retried after a failure: two attempts, one failed. The later successful attempt does not clear the failed one', () => {
    const { record } = replay([start, stage(0, 0), stage(1, 0, 'FetchFailed'), stage(1, 1), end]);
    expect(record.total_stages).toBe(3);
    expect(record.failed_stages).toBe(1);
  });

  it('the same attempt seen again (a compacted copy, a replayed event) takes its latest outcome', () => {
    expect(replay([start, stage(1, 0, 'lost'), stage(1, 0), end]).record).toMatchObject({ total_stages: 1, failed_stages: 0 });
    expect(replay([start, stage(1, 0), stage(1, 0, 'lost'), end]).record).toMatchObject({ total_stages: 1, failed_stages: 1 });
  });
});

describe('stage counting, Failure Reason null', () => {
  it('a null Failure Reason is not a failure, on either path', () => {
    expect(replay([start, stageCompleted(3, 0, null), end]).record).toMatchObject({ total_stages: 1, failed_stages: 0 });
    expect(replay([start, stageCompletedReordered(3, 0, null as unknown as string), end]).record).toMatchObject({ total_stages: 1, failed_stages: 0 });
  });
});

describe('num_executors', () => {
  it('leaves out the driver when executors exist', () => {
    const { record } = replay([start, executorAdded('driver', 8), executorAdded('1'), executorAdded('2'), end]);
    expect(record.num_executors).toBe(2);
    // The driver's cores are not an executor's either.
    expect(record.executor_cores).toBe(4);
  });

  it('counts the driver alone in local mode, and its cores', () => {
    const { record } = replay([start, executorAdded('driver', 8), end]);
    expect(record.num_executors).toBe(1);
    expect(record.executor_cores).toBe(8);
  });

  it('logs before Spark 1.3 (no ExecutorAdded): the block managers, without <driver> when others exist', () => {
    expect(replay([start, blockManagerAdded('<driver>'), blockManagerAdded('0'), blockManagerAdded('1'), blockManagerAdded('2'), end]).record.num_executors).toBe(3);
    expect(replay([start, blockManagerAdded('<driver>'), end]).record.num_executors).toBe(1);
  });
});

describe('the byte reader', () => {
  it('reads Spark’s usual task-end, task-start and stage-completed lines, and skips unneeded events, without JSON.parse', () => {
    // Task Info with escaped quotes and backslashes before the metrics; a Spark 1.x task without
    // CPU time or shuffle groups; metrics null; another event type that replay does not need.
    const tricky = { ...taskEnd({ reason: 'ExceptionFailure', remote: 5, local: 6 }), 'Task Info': { Host: 'h\\"x\\', Accumulables: [{ Name: 'a "quoted" \\ name', Value: '"Bytes Read":99' }] } };
    const old = { Event: 'SparkListenerTaskEnd', 'Stage ID': 0, 'Stage Attempt ID': 0, 'Task Type': 'ShuffleMapTask', 'Task End Reason': { Reason: 'Success' }, 'Task Info': {}, 'Task Metrics': { 'Memory Bytes Spilled': 3, 'Disk Bytes Spilled': 4, 'Input Metrics': { 'Bytes Read': 10 } } };
    const nullMetrics = { Event: 'SparkListenerTaskEnd', 'Stage ID': 0, 'Stage Attempt ID': 0, 'Task Type': 'ResultTask', 'Task End Reason': { Reason: 'TaskKilled' }, 'Task Info': {}, 'Task Metrics': null };
    const lines = [
      taskEnd({ remote: 100, local: 1 }),
      tricky,
      old,
      nullMetrics,
      { Event: 'SparkListenerTaskStart', 'Stage ID': 0, 'Task Info': { 'Task ID': 1 } },
      stageCompleted(0, 0),
      stageCompleted(1, 0, 'lost'),
      stageCompleted(2, 0, null),
      { Event: 'SparkListenerJobStart', 'Job ID': 0, Properties: {} },
    ].map((e) => Buffer.from(JSON.stringify(e)));
    const r = new AppReplay({ appId: 'app-bytes', source: 'test', inProgress: false, tags: {} });
    r.beginFile('f');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      lines.forEach((b, i) => r.line(b, 0, b.length, i + 1));
      expect(parse).not.toHaveBeenCalled();
    } finally {
      parse.mockRestore();
    }
    r.endFile();
    expect(r.problems).toEqual([]);
    expect(r.finish()).toMatchObject({
      total_tasks: 4,
      failed_tasks: 1,
      total_stages: 3,
      failed_stages: 1,
      shuffle_read_bytes: 112,
      input_bytes: 10,
      memory_spilled_bytes: 3,
      disk_spilled_bytes: 4,
      cpu_time_ms: 2,
    });
  });

  it('a line in another shape goes to the parsed path and still counts', () => {
    const lines = [taskEnd({ parsed: true, remote: 1, local: 2 }), stageCompletedReordered(4, 1, 'x')].map((e) => Buffer.from(JSON.stringify(e)));
    const r = new AppReplay({ appId: 'app-parsed', source: 'test', inProgress: false, tags: {} });
    r.beginFile('f');
    const parse = vi.spyOn(JSON, 'parse');
    try {
      lines.forEach((b, i) => r.line(b, 0, b.length, i + 1));
      expect(parse).toHaveBeenCalledTimes(2);
    } finally {
      parse.mockRestore();
    }
    expect(r.finish()).toMatchObject({ total_tasks: 1, shuffle_read_bytes: 3, total_stages: 1, failed_stages: 1 });
  });
});

describe('the record’s other rules', () => {
  const env = (props: Record<string, string> | [string, string][]): Event => ({ Event: 'SparkListenerEnvironmentUpdate', 'Spark Properties': props });

  it('a task fails by its end reason alone, as Spark counts it (AppStatusListener): Task Info.Failed does not make a Success fail, on either path', () => {
    // Before issue 14 the parsed path counted this task failed and the byte reader did not.
    for (const parsed of [false, true]) {
      const t = { ...taskEnd({ parsed }), 'Task Info': { 'Task ID': 1, Failed: true } };
      expect(replay([start, t, end]).record).toMatchObject({ total_tasks: 1, failed_tasks: 0 });
      const failed = { ...taskEnd({ parsed, reason: 'ExceptionFailure' }), 'Task Info': { 'Task ID': 1, Failed: false } };
      expect(replay([start, failed, end]).record).toMatchObject({ total_tasks: 1, failed_tasks: 1 });
    }
  });

  it('every metric group on the parsed path; negative values (unknown in old Spark) are left out', () => {
    const t = {
      Event: 'SparkListenerTaskEnd',
      'Task Info': {},
      'Task Metrics': {
        'Executor CPU Time': 5_000_000,
        'Memory Bytes Spilled': -1,
        'Disk Bytes Spilled': 7,
        'Shuffle Read Metrics': { 'Remote Bytes Read': 1, 'Local Bytes Read': 2 },
        'Shuffle Write Metrics': { 'Shuffle Bytes Written': 3 },
        'Input Metrics': { 'Bytes Read': 4 },
        'Output Metrics': { 'Bytes Written': 5 },
      },
      'Task End Reason': { Reason: 'Success' },
    };
    expect(replay([start, t, t, end]).record).toMatchObject({ cpu_time_ms: 10, memory_spilled_bytes: 0, disk_spilled_bytes: 14, shuffle_read_bytes: 6, shuffle_write_bytes: 6, input_bytes: 8, output_bytes: 10 });
  });

  it('CPU time: unknown (null, flagged) when tasks never carried it; 0 when there was no task', () => {
    const old = { Event: 'SparkListenerTaskEnd', 'Task End Reason': { Reason: 'Success' }, 'Task Info': {}, 'Task Metrics': { 'Disk Bytes Spilled': 1 } };
    const r = replay([start, old, end]).record;
    expect(r.cpu_time_ms).toBeNull();
    expect(r.quality).toContain('missing:cpu_time_ms');
    const none = replay([start, end]).record;
    expect(none.cpu_time_ms).toBe(0);
    expect(none.quality).not.toContain('missing:cpu_time_ms');
  });

  it('executor cores: spark.executor.cores when it is a number (spaces allowed), else the largest executor', () => {
    const ex = [executorAdded('1', 2), executorAdded('2', 6)];
    expect(replay([start, env({ 'spark.executor.cores': '12' }), ...ex, end]).record.executor_cores).toBe(12);
    expect(replay([start, env({ 'spark.executor.cores': ' 3 ' }), ...ex, end]).record.executor_cores).toBe(3);
    for (const bad of ['4x', 'x4', 'four', '']) expect(replay([start, env({ 'spark.executor.cores': bad }), ...ex, end]).record.executor_cores).toBe(6);
    const r = replay([start, { Event: 'SparkListenerExecutorAdded', 'Executor ID': '1', 'Executor Info': { Host: 'h' } }, end]).record;
    expect(r.executor_cores).toBe(1);
    expect(r.quality).toContain('defaulted:executor_cores');
  });

  it('without ApplicationStart: id and name from the environment, flagged missing:start_time; no id at all: missing:app_id', () => {
    const r = replay([env({ 'spark.app.id': 'app-env', 'spark.app.name': 'from env' }), end]).record;
    expect(r).toMatchObject({ app_id: 'app-env', app_name: 'from env', start_time: null, duration_ms: null });
    expect(r.quality).toContain('missing:start_time');
    expect(r.quality).not.toContain('missing:app_id');
    const blank = replay([env({ 'spark.app.id': ' ', 'spark.app.name': '' }), end]).record;
    expect(blank).toMatchObject({ app_id: 'app-rules', app_name: null });
    expect(blank.quality).toContain('missing:app_id');
    // ApplicationStart wins over the environment.
    expect(replay([start, env({ 'spark.app.id': 'x', 'spark.app.name': 'y' }), end]).record).toMatchObject({ app_id: 'app-rules', app_name: 'rules' });
  });

  it('submit time: spark.app.submitTime in ms; else the start, flagged; after the start, flagged with a warning', () => {
    expect(replay([start, env({ 'spark.app.submitTime': '1699999999000' }), end]).record).toMatchObject({ submit_time: new Date(1_699_999_999_000).toISOString(), quality: expect.not.arrayContaining(['defaulted:submit_time']) as unknown });
    const defaulted = replay([start, env({ 'spark.app.submitTime': '17e11' }), end]).record;
    expect(defaulted.submit_time).toBe(new Date(1_700_000_000_000).toISOString());
    expect(defaulted.quality).toContain('defaulted:submit_time');
    const equal = replay([start, env({ 'spark.app.submitTime': '1700000000000' }), end]).record;
    expect(equal.quality).not.toContain('submit_after_start');
    const r = new AppReplay({ appId: 'a', source: 's', inProgress: false, tags: {} });
    for (const e of [start, env({ 'spark.app.submitTime': '1700000000500' }), end]) {
      const b = Buffer.from(JSON.stringify(e));
      r.line(b, 0, b.length, 1);
    }
    expect(r.finish()!.quality).toContain('submit_after_start');
    expect(r.problems.map((p) => [p.severity, p.code])).toEqual([['warning', 'time-order']]);
  });

  it('status and duration: completed, failed by exit code, running when in progress, unknown (truncated) otherwise; an end before the start is an error', () => {
    expect(replay([start, end]).record).toMatchObject({ status: 'completed', duration_ms: 60_000 });
    expect(replay([start, { ...end, ExitCode: 0 }]).record.status).toBe('completed');
    expect(replay([start, { ...end, ExitCode: 2 }]).record.status).toBe('failed');
    const cut = replay([start]).record;
    expect(cut).toMatchObject({ status: 'unknown', end_time: null, duration_ms: null });
    expect(cut.quality).toContain('truncated');
    const running = new AppReplay({ appId: 'a', source: 's', inProgress: true, tags: {} });
    const b = Buffer.from(JSON.stringify(start));
    running.line(b, 0, b.length, 1);
    expect(running.finish()).toMatchObject({ status: 'running', quality: expect.arrayContaining(['in_progress']) as unknown });
    const backwards = new AppReplay({ appId: 'a', source: 's', inProgress: false, tags: {} });
    for (const e of [start, { ...end, Timestamp: 1_699_999_999_999 }]) {
      const line = Buffer.from(JSON.stringify(e));
      backwards.line(line, 0, line.length, 1);
    }
    expect(backwards.finish()!.duration_ms).toBeNull();
    expect(backwards.problems.map((p) => [p.severity, p.code])).toEqual([['error', 'time-order']]);
    expect(replay([start, { ...end, Timestamp: 1_700_000_000_000 }]).record.duration_ms).toBe(0);
  });

  it('old logs write Spark Properties as [key, value] pairs; other entries are ignored', () => {
    const pairs = [['spark.executor.memory', '3g'], ['spark.driver.memory', '512m'], ['spark.lonely'], 'spark.text', ['a', 'b', 'c']] as unknown as [string, string][];
    const r = replay([start, env(pairs), end]).record;
    expect(r).toMatchObject({ executor_memory_mb: 3072, driver_memory_mb: 512 });
    expect(r.environment).toEqual({ 'spark.executor.memory': '3g', 'spark.driver.memory': '512m' });
  });

  it('parsed path: null metrics and missing metric groups count the task and add nothing', () => {
    const bare = (metrics: unknown): Event => ({ Event: 'SparkListenerTaskEnd', 'Task Info': {}, 'Task Metrics': metrics, 'Task End Reason': { Reason: 'Success' } });
    const r = replay([start, bare(null), bare({ 'Executor CPU Time': 2_000_000 }), bare({}), end]).record;
    expect(r).toMatchObject({ total_tasks: 3, cpu_time_ms: 2, shuffle_read_bytes: 0, shuffle_write_bytes: 0, input_bytes: 0, output_bytes: 0 });
  });

  it('a submit time without a start is not called later than the start', () => {
    const r = replay([env({ 'spark.app.id': 'x', 'spark.app.submitTime': '1700000000500' }), end]).record;
    expect(r.submit_time).toBe(new Date(1_700_000_000_500).toISOString());
    expect(r.quality).not.toContain('submit_after_start');
    expect(r.quality).not.toContain('defaulted:submit_time');
  });
});
