/**
 * Issue #12, items 5–10 and the fast path's line bound: each case is a small log written here, in
 * the shape the Spark version in question writes, checked through the collector (and the CLI where
 * the issue is about what people see).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { SKIPPED_FILE, discover, passedOverSummary, type LogUnit } from '../src/collectors/eventlog/discovery';
import type { Problem } from '../src/collectors/record';
import { eventLogText } from './support/eventLogGenerator';
import { lzfStream } from './support/sparkCompress';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
const T0 = Date.UTC(2014, 5, 1);

const j = (o: object): string => JSON.stringify(o);
const appStart = (extra: object = {}): string => j({ Event: 'SparkListenerApplicationStart', 'App Name': 'old job', Timestamp: T0, User: 'ann', ...extra });
const appEnd = j({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 });
const env = (props: Record<string, string>): string => j({ Event: 'SparkListenerEnvironmentUpdate', 'JVM Information': {}, 'Spark Properties': props, 'System Properties': {}, 'Classpath Entries': {} });
/** A Spark 1.x task end: no CPU time, and only the metric groups the task had. */
function taskEnd1x(id: number, metrics: object | null, reason = 'Success'): string {
  return j({
    Event: 'SparkListenerTaskEnd',
    'Stage ID': 0,
    'Stage Attempt ID': 0,
    'Task Type': 'ShuffleMapTask',
    'Task End Reason': { Reason: reason },
    'Task Info': { 'Task ID': id, Index: id, 'Launch Time': T0, 'Executor ID': '1', Host: 'h', Locality: 'PROCESS_LOCAL', 'Finish Time': T0 + 10, Failed: false, Accumulables: [] },
    ...(metrics === null ? {} : { 'Task Metrics': metrics }),
  });
}
const mapMetrics = (written: number, read: number): object => ({
  'Host Name': 'h',
  'Executor Deserialize Time': 3,
  'Executor Run Time': 30,
  'Result Size': 900,
  'JVM GC Time': 0,
  'Result Serialization Time': 0,
  'Memory Bytes Spilled': 0,
  'Disk Bytes Spilled': 0,
  'Shuffle Write Metrics': { 'Shuffle Bytes Written': written, 'Shuffle Write Time': 5 },
  'Input Metrics': { 'Data Read Method': 'Hadoop', 'Bytes Read': read },
});
const reduceMetrics = (remote: number, local: number): object => ({
  'Host Name': 'h',
  'Executor Run Time': 20,
  'Memory Bytes Spilled': 7,
  'Disk Bytes Spilled': 0,
  'Shuffle Read Metrics': { 'Remote Blocks Fetched': 1, 'Local Blocks Fetched': 1, 'Fetch Wait Time': 0, 'Remote Bytes Read': remote, 'Local Bytes Read': local },
});
const executorAdded = (id: string): string => j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': id, 'Executor Info': { Host: 'h', 'Total Cores': 2 } });

function unitOf(file: string): LogUnit {
  return { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: path.basename(file), inProgress: false, compacted: false };
}

async function readText(lines: string[], name = 'app-1'): Promise<Awaited<ReturnType<typeof readUnit>>> {
  const file = path.join(tempDir(), name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return readUnit(unitOf(file), { source: 'test' });
}

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('Spark 1.x task ends (issue #12 items 1 and 6)', () => {
  const lines = [
    appStart({ 'App ID': 'app-1' }),
    executorAdded('1'),
    taskEnd1x(1, mapMetrics(100, 1000)),
    taskEnd1x(2, reduceMetrics(40, 2)),
    taskEnd1x(3, null, 'ExceptionFailure'),
    taskEnd1x(4, mapMetrics(5, 0)),
    appEnd,
  ];

  it('sums each metric from its own line only, with CPU time unknown (null), not 0', async () => {
    const { record, problems } = await readText(lines);
    expect(problems).toEqual([]);
    expect(record).toMatchObject({
      total_tasks: 4,
      failed_tasks: 1,
      shuffle_write_bytes: 105,
      input_bytes: 1000,
      shuffle_read_bytes: 42,
      memory_spilled_bytes: 7,
      output_bytes: 0,
      cpu_time_ms: null,
    });
    expect(record!.quality).toContain('missing:cpu_time_ms');
  });

  it('reads the same numbers when the lines are not in the compact form the fast path expects', async () => {
    const spaced = lines.map((l) => JSON.stringify(JSON.parse(l) as object, null, 1).replaceAll('\n', ''));
    const fast = (await readText(lines)).record!;
    const parsed = (await readText(spaced)).record!;
    expect(parsed).toEqual(fast);
  });

  it('counts CPU time once any task carries it (Spark 2.1+), and 0 for an app with no task', async () => {
    const withCpu = lines.map((l, i) => (i === 2 ? l.replace('"Host Name":"h",', '"Host Name":"h","Executor CPU Time":2500000,') : l));
    expect((await readText(withCpu)).record).toMatchObject({ cpu_time_ms: 2 });
    const none = (await readText([appStart({ 'App ID': 'app-1' }), executorAdded('1'), appEnd])).record!;
    expect(none.cpu_time_ms).toBe(0);
    expect(none.quality).not.toContain('missing:cpu_time_ms');
  });

  it('keeps metric keys inside string values and escaped quotes from being read as keys', async () => {
    const tricky = taskEnd1x(9, { 'Host Name': 'a\\"Bytes Read\\":77', 'Memory Bytes Spilled': 1, 'Input Metrics': { 'Data Read Method': '"Bytes Read":88', 'Bytes Read': 3 } });
    const { record } = await readText([appStart({ 'App ID': 'app-1' }), tricky, appEnd]);
    expect(record).toMatchObject({ input_bytes: 3, memory_spilled_bytes: 1, total_tasks: 1 });
  });
});

describe('events without their key field (issue #12 item 5)', () => {
  it.each([
    ['SparkListenerExecutorAdded', j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor Info': { 'Total Cores': 2 } }), 'missing:num_executors', 'Executor ID'],
    ['SparkListenerStageCompleted', j({ Event: 'SparkListenerStageCompleted', 'Stage Info': { 'Stage Name': 'x', 'Number of Tasks': 1 } }), 'missing:total_stages', 'Stage ID'],
    ['SparkListenerEnvironmentUpdate', j({ Event: 'SparkListenerEnvironmentUpdate', 'JVM Information': {} }), 'missing:environment', 'Spark Properties'],
  ])('%s: a problem on its line, and the record says what it lacks', async (_name, bad, flag, key) => {
    const { record, problems } = await readText([appStart({ 'App ID': 'app-1' }), executorAdded('1'), bad, appEnd]);
    expect(record!.quality).toContain(flag);
    const p = problems.find((x) => x.code === 'missing-key');
    expect(p).toMatchObject({ severity: 'warning', line: 3 });
    expect(p!.message).toContain(key);
    expect(p!.file).toMatch(/app-1$/);
  });

  it('an ApplicationStart without "App ID": a problem, and the id from spark.app.id', async () => {
    const { record, problems } = await readText([env({ 'spark.app.id': 'app-from-env' }), appStart(), appEnd], 'file-name-id');
    expect(record!.app_id).toBe('app-from-env');
    expect(problems).toContainEqual(expect.objectContaining({ code: 'missing-key', line: 2 }));
  });
});

describe('a log without an ApplicationStart (issue #12 item 8)', () => {
  it('takes the id and name from the environment before the file name', async () => {
    const { record } = await readText([env({ 'spark.app.id': 'local-123', 'spark.app.name': 'from env', 'spark.executor.memory': '2g' })], 'some-copy');
    expect(record).toMatchObject({ app_id: 'local-123', app_name: 'from env', executor_memory_mb: 2048 });
    expect(record!.quality).not.toContain('missing:app_id');
    const bare = (await readText([env({ 'spark.executor.memory': '2g' })], 'some-copy')).record!;
    expect(bare.app_id).toBe('some-copy');
    expect(bare.quality).toContain('missing:app_id');
  });
});

describe('the environment read without parsing the rest of its line', () => {
  it('gives the same properties as parsing the whole line, brackets and quotes in values included', async () => {
    const props = { 'spark.app.id': 'app-9', 'spark.driver.extraJavaOptions': '-Da={"b":[1,2]} -Dc=\\"d\\"', 'spark.executor.memory': '3g', 'weird}]key': 'x' };
    const line = j({ Event: 'SparkListenerEnvironmentUpdate', 'JVM Information': { 'Java Home': '/j' }, 'Spark Properties': props, 'System Properties': { 'user.name': 'z' }, 'Classpath Entries': { '/a.jar': 'System Classpath' } });
    const spaced = JSON.stringify(JSON.parse(line) as object, null, 1).replaceAll('\n', '');
    const fast = (await readText([line])).record!;
    const parsed = (await readText([spaced])).record!;
    expect(fast.environment).toEqual(props);
    expect(parsed).toEqual(fast);
  });
});

describe('submit time after start time (issue #12 item 10)', () => {
  it('is flagged in quality with a problem', async () => {
    const { record, problems } = await readText([env({ 'spark.app.submitTime': String(T0 + 5000) }), appStart({ 'App ID': 'app-1' }), appEnd]);
    expect(record!.quality).toContain('submit_after_start');
    expect(problems).toContainEqual(expect.objectContaining({ code: 'time-order' }));
    const ok = (await readText([env({ 'spark.app.submitTime': String(T0 - 5000) }), appStart({ 'App ID': 'app-1' }), appEnd])).record!;
    expect(ok.quality).not.toContain('submit_after_start');
  });
});

describe("Spark ≤ 1.2's folder layout (issue #12 item 7)", () => {
  function legacyFolder(root: string, name: string, opts: { version: string; complete: boolean; codec?: string }): void {
    const dir = path.join(root, name);
    mkdirSync(dir, { recursive: true });
    // Spark 1.0 logs have no LogStart and no App ID in ApplicationStart.
    const text = `${[env({ 'spark.executor.memory': '3g' }), appStart(), executorAdded('1'), taskEnd1x(1, mapMetrics(10, 20)), ...(opts.complete ? [appEnd] : [])].join('\n')}\n`;
    writeFileSync(path.join(dir, 'EVENT_LOG_1'), opts.codec ? lzfStream(Buffer.from(text)) : text);
    writeFileSync(path.join(dir, `SPARK_VERSION_${opts.version}`), '');
    if (opts.codec) writeFileSync(path.join(dir, `COMPRESSION_CODEC_${opts.codec}`), '');
    if (opts.complete) writeFileSync(path.join(dir, 'APPLICATION_COMPLETE'), '');
  }

  it('is one application per folder, keyed by its name, with the version, completion and codec its files name', async () => {
    const root = tempDir();
    legacyFolder(root, 'old job-1401580800000', { version: '1.0.2', complete: true });
    legacyFolder(root, 'app-20140601000000-0001', { version: '1.2.1', complete: true, codec: 'org.apache.spark.io.LZFCompressionCodec' });
    legacyFolder(root, 'app-20140601000000-0002', { version: '1.1.0', complete: false, codec: 'lzf' });
    const { apps, problems } = await collectAll({ path: root });
    expect(problems.filter((p) => p.severity !== 'info')).toEqual([]);
    const byId = Object.fromEntries(apps.map((a) => [a.record.app_id, a.record]));
    expect(Object.keys(byId).sort()).toEqual(['app-20140601000000-0001', 'app-20140601000000-0002', 'old job-1401580800000']);
    expect(byId['old job-1401580800000']).toMatchObject({ spark_version: '1.0.2', status: 'completed', executor_memory_mb: 3072, total_tasks: 1, input_bytes: 20 });
    expect(byId['app-20140601000000-0001']).toMatchObject({ spark_version: '1.2.1', status: 'completed', total_tasks: 1, shuffle_write_bytes: 10 });
    expect(byId['app-20140601000000-0001']!.tags).toMatchObject({ log_layout: 'legacy', log_codec: 'lzf' });
    expect(byId['app-20140601000000-0002']).toMatchObject({ spark_version: '1.1.0', status: 'running' });
    expect(byId['app-20140601000000-0002']!.quality).toContain('in_progress');
  });

  it('validate takes a folder without APPLICATION_COMPLETE as a log still being written, as collect does', () => {
    const root = tempDir();
    legacyFolder(root, 'app-running', { version: '1.1.0', complete: false });
    legacyFolder(root, 'app-died', { version: '1.1.0', complete: true });
    // A folder that says it completed but whose log has no end: its driver died.
    writeFileSync(path.join(root, 'app-died', 'EVENT_LOG_1'), readFileSync(path.join(root, 'app-running', 'EVENT_LOG_1')));
    const r = cli('validate', root, '--format', 'json', '--min-severity', 'information');
    const ends = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { file: string; code: string; severity: string; message: string })
      .filter((f) => f.code === 'missing-application-end')
      .map((f) => [path.basename(path.dirname(f.file)), f.severity, /^No SparkListenerApplicationEnd yet: the application is still running/.test(f.message)]);
    expect(ends.sort()).toEqual([
      ['app-died', 'warning', false],
      ['app-running', 'information', true],
    ]);
  });

  it('validate checks the folder, and its EVENT_LOG_1 named alone, with the codec the folder names', () => {
    const root = tempDir();
    legacyFolder(root, 'app-1', { version: '1.2.1', complete: true, codec: 'lzf' });
    for (const target of [root, path.join(root, 'app-1', 'EVENT_LOG_1')]) {
      const r = cli('validate', target, '--format', 'json');
      expect(r.stderr, target).toMatch(/^1 file checked: 0 errors/m);
      expect(r.code, target).toBe(0);
    }
    // Named alone, it is checked whatever its neighbours: here a link to nothing.
    symlinkSync(path.join(root, 'gone'), path.join(root, 'app-1', 'EVENT_LOG_2'));
    const alone = cli('validate', path.join(root, 'app-1', 'EVENT_LOG_1'), '--format', 'json');
    expect(alone.stderr).toMatch(/^1 file checked: 0 errors/m);
    expect(alone.code).toBe(0);
  });
});

describe('what a folder scan passes over (issue #12 item 9)', () => {
  function oddFolder(): string {
    const root = tempDir();
    writeFileSync(path.join(root, 'app-1'), eventLogText({ appId: 'app-1' }).text);
    // A log saved under a name that does not say so: read, by its first bytes.
    writeFileSync(path.join(root, 'copied-log.json'), eventLogText({ appId: 'app-2' }).text);
    writeFileSync(path.join(root, 'metrics.json'), '{"not": "an event log"}\n');
    writeFileSync(path.join(root, 'Application.log'), '24/06/01 INFO SparkContext: Running Spark version 3.5.0\n');
    writeFileSync(path.join(root, '.app-1.crc'), 'crc');
    // Dotless names without a digit are no app id (a review: README and a script were read as failed logs);
    // one that starts as a log is read all the same.
    writeFileSync(path.join(root, 'README'), 'Spark event logs of the nightly jobs.\n');
    writeFileSync(path.join(root, 'before-stop'), '#!/bin/sh\nexit 0\n');
    writeFileSync(path.join(root, 'nightly'), eventLogText({ appId: 'nightly-run' }).text);
    mkdirSync(path.join(root, 'sub'));
    writeFileSync(path.join(root, 'sub', 'local-3'), eventLogText({ appId: 'local-3' }).text);
    return root;
  }

  it('collect reads every log, says what it passed over and why, and lists them with --verbose', () => {
    const root = oddFolder();
    const r = cli('collect', '--source', 'event-logs', '--path', root, '--dry-run', '--format', 'json');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { app_id: string }).app_id).sort()).toEqual(['app-1', 'app-2', 'local-3', 'nightly-run']);
    expect(r.stderr).toContain('5 files passed over (1 hidden, 4 not an event log (by its name and first bytes)); --verbose lists them');
    expect(r.stderr).not.toMatch(/[1-9]\d* failed|malformed/);
    expect(r.stderr).not.toContain('metrics.json');
    const verbose = cli('collect', '--source', 'event-logs', '--path', root, '--dry-run', '--format', 'json', '--verbose');
    expect(verbose.stderr).toContain(`${path.join(root, 'metrics.json')}: information skipped-file not an event log`);
    expect(verbose.stderr).toContain(`${path.join(root, 'Application.log')}: information skipped-file not an event log`);
  });

  it('validate checks exactly the files collect reads', async () => {
    const root = oddFolder();
    const units: string[] = [];
    for await (const found of discover(root)) if (!('severity' in found)) units.push(...found.files.map((f) => f.path));
    expect(units.sort()).toEqual([path.join(root, 'app-1'), path.join(root, 'copied-log.json'), path.join(root, 'nightly'), path.join(root, 'sub', 'local-3')]);
    // One error per file, so the output names each file validate read.
    for (const f of units) writeFileSync(f, `${eventLogText({ appId: path.basename(f) }).text}not json\n`);
    const r = cli('validate', root, '--format', 'json');
    const files = new Set(r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file));
    expect([...files].sort()).toEqual(units.sort());
    expect(r.stderr).toMatch(/^4 files checked: .*5 files passed over/m);
    // --no-recursive, as collect takes it: the subfolder is passed over by both.
    const flat = cli('validate', root, '--format', 'json', '--no-recursive');
    expect(new Set(flat.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { file: string }).file))).toEqual(new Set([path.join(root, 'app-1'), path.join(root, 'copied-log.json'), path.join(root, 'nightly')]));
    expect(flat.stderr).toMatch(/^3 files checked: .*6 files passed over \(.*1 a folder, and the scan is not recursive/m);
    expect(cli('collect', '--path', root, '--dry-run', '--no-recursive').stderr).toMatch(/^6 files passed over \(.*1 a folder, and the scan is not recursive/m);
  });

  it('walks each real folder once: links back to a folder do not loop or read a log twice', async () => {
    const root = oddFolder();
    symlinkSync('.', path.join(root, 'loop-a'));
    symlinkSync('..', path.join(root, 'sub', 'loop-b'));
    const { apps, problems } = await collectAll({ path: root });
    expect(apps.map((a) => a.record.app_id).sort()).toEqual(['app-1', 'app-2', 'local-3', 'nightly-run']);
    expect(problems.filter((p) => p.message.includes('already scanned')).map((p) => path.basename(p.file ?? ''))).toEqual(['loop-a', 'loop-b']);
  });
});

describe('zstd windows over the default limit (issue #12 item 4): the setting reaches the decoder', () => {
  /** One zstd frame declaring a 256 MiB window (descriptor exponent 18), holding `data` in raw blocks. */
  function bigWindowFrame(data: Buffer): Buffer {
    const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 18 << 3])];
    for (let at = 0; at < data.length; at += 128 * 1024) {
      const block = data.subarray(at, at + 128 * 1024);
      const last = at + block.length >= data.length ? 1 : 0;
      const header = (block.length << 3) | last; // type 0: raw
      parts.push(Buffer.from([header & 0xff, (header >> 8) & 0xff, (header >> 16) & 0xff]), block);
    }
    return Buffer.concat(parts);
  }

  it('is refused by default with the flag named, and read with --zstd-max-window-mb or zstd_max_window_mb', () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(path.join(logs, 'app-photon.zstd'), bigWindowFrame(Buffer.from(eventLogText({ appId: 'app-photon' }).text)));
    const refused = cli('collect', '--source', 'event-logs', '--path', logs, '--dry-run', '--format', 'json');
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/app-photon\.zstd.*needs a 256 MiB window.*--zstd-max-window-mb/);
    const flag = cli('collect', '--source', 'event-logs', '--path', logs, '--dry-run', '--format', 'json', '--zstd-max-window-mb', '256');
    expect((JSON.parse(flag.stdout) as { app_id: string }).app_id).toBe('app-photon');
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), 'sources:\n  - name: photon\n    type: event_log\n    path: logs\n    zstd_max_window_mb: 256\n');
    const config = cli('collect', '--config', path.join(dir, 'spark-optimizer.yaml'), '--dry-run', '--format', 'json');
    expect((JSON.parse(config.stdout) as { app_id: string; source: string }).source).toBe('photon');
    expect(cli('collect', '--source', 'event-logs', '--path', logs, '--zstd-max-window-mb', '2048').code).toBe(2);
    const validated = cli('validate', logs, '--zstd-max-window-mb', '256');
    expect(validated.stderr).toMatch(/^1 file checked: 0 errors/m);
  });
});

describe('the passed-over summary', () => {
  it('says "1 file", not "1 files" (issue 16)', () => {
    const skipped = (file: string, why: string): Problem => ({ severity: 'info', code: SKIPPED_FILE, message: why, file });
    expect(passedOverSummary([skipped('/l/a', 'hidden')])).toBe('1 file passed over (1 hidden)');
    expect(passedOverSummary([skipped('/l/a', 'hidden'), skipped('/l/b', 'hidden')])).toBe('2 files passed over (2 hidden)');
  });
});

describe("a one-application folder's other files", () => {
  /** What discovery passes over in `root`: each file's name and why. */
  async function passedOver(root: string): Promise<string[]> {
    const out: string[] = [];
    for await (const found of discover(root)) {
      if ('severity' in found && found.code === SKIPPED_FILE) out.push(`${path.basename(found.file!)}: ${found.message}`);
    }
    return out;
  }

  it('are each passed over with a reason, not dropped without a word', async () => {
    const root = tempDir();
    const log = eventLogText({ appId: 'app-1' }).text;
    const dbx = path.join(root, 'cluster-1');
    mkdirSync(dbx);
    for (const name of ['eventlog', 'eventlog-2024-06-11--03-00', 'eventlog-2024-06-11--03-00-copy', '.eventlog.crc']) writeFileSync(path.join(dbx, name), log);
    mkdirSync(path.join(dbx, 'old'));
    const rolling = path.join(root, 'eventlog_v2_app-2');
    mkdirSync(rolling);
    for (const name of ['events_1_app-2', 'events_2_app-2.compact', 'events_3_app-2', 'appstatus_app-2', 'notes.txt']) writeFileSync(path.join(rolling, name), log);
    const legacy = path.join(root, 'app-3');
    mkdirSync(legacy);
    for (const name of ['EVENT_LOG_1', 'SPARK_VERSION_1.0.0', 'APPLICATION_COMPLETE', 'EVENT_LOG_1.bak']) writeFileSync(path.join(legacy, name), log);
    expect(await passedOver(root)).toEqual([
      'EVENT_LOG_1.bak: not a part of the legacy event log in its folder',
      '.eventlog.crc: hidden',
      'eventlog-2024-06-11--03-00-copy: not a part of the databricks event log in its folder',
      'old: not a part of the databricks event log in its folder',
      'events_1_app-2: a rolling part a compacted part replaces',
      'notes.txt: not a part of the rolling event log in its folder',
    ]);
  });
});

describe('a rolling log with parts missing', () => {
  /** A rolling folder of `parts` (names after events_), each a slice of one generated log's lines. */
  async function rolling(parts: string[]): Promise<{ units: LogUnit[]; results: Awaited<ReturnType<typeof readUnit>>[] }> {
    const dir = path.join(tempDir(), 'eventlog_v2_app-r');
    mkdirSync(dir);
    const lines = eventLogText({ appId: 'app-r' }).text.trimEnd().split('\n');
    const per = Math.ceil(lines.length / parts.length);
    // `3.compact` is part 3 compacted: events_3_app-r.compact.
    parts.forEach((name, i) => writeFileSync(path.join(dir, `events_${name.replace('.compact', '')}_app-r${name.endsWith('.compact') ? '.compact' : ''}`), `${lines.slice(i * per, (i + 1) * per).join('\n')}\n`));
    writeFileSync(path.join(dir, 'appstatus_app-r'), '');
    const units: LogUnit[] = [];
    for await (const found of discover(dir)) if (!('severity' in found)) units.push(found);
    return { units, results: await Promise.all(units.map((u) => readUnit(u, { source: 'test' }))) };
  }

  it('is read, flagged truncated, with a warning naming the parts (as validate names them)', async () => {
    const gap = await rolling(['2', '4']);
    expect(gap.units[0]!.missingParts).toEqual([1, 3]);
    const r = gap.results[0]!;
    expect(r.record!.quality).toContain('truncated');
    expect(r.problems[0]).toMatchObject({ severity: 'warning', code: 'rolling-part-missing', message: "this rolling event log's parts 1, 3 are missing from the folder: its record is incomplete", file: path.dirname(gap.units[0]!.files[0]!.path) });
    // Whole, or from its last compacted part on: nothing missing, no flag.
    for (const whole of [['1', '2', '3'], ['3.compact', '4']]) {
      const { units, results } = await rolling(whole);
      expect(units[0]!.missingParts, whole.join()).toBeUndefined();
      expect(results[0]!.record!.quality, whole.join()).not.toContain('truncated');
    }
  });
});
