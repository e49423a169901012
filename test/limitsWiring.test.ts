/**
 * Issue 13's input limits, wired end to end: each one is reachable from a source's config key, from
 * `collect`'s flag and (the event-log ones) from the editor's settings, and each of these really
 * changes what a run does. The event-log limits: max_line_mb, max_decompression_ratio; the HTTP
 * ones: max_response_mb, max_unpacked_mb, max_unpack_ratio. Every file and server is made here.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { parseConfig, type SourceConfig } from '../src/collectors/config';
import type { Batch } from '../src/collectors/contract';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../src/collectors/http/jsonClient';
import { MAX_RESPONSE_MB } from '../src/collectors/http/limits';
import { jobsFor, type SourceJob } from '../src/collectors/registry';
import { AnalysisWorker } from '../src/views/analysisWorker';
import { parseSettings, settingsJobDefaults, settingsReadLimits } from '../src/views/settingsSchema';
import { collectInWorker } from '../src/worker/collectClient';
import { isHostMessage } from '../src/worker/collectProtocol';
import type { JobOverrides } from '../src/collectors/descriptor';
import { plan as planSources } from '../src/pipeline';
import { startFakeServer, syntheticListing, type FakeServer, type Route } from './support/historyServerFake';
import { listenLocal } from './support/localServer';
import { tempDir } from './support/tmp';
import { zip } from './support/zip';

const ROOT = path.resolve(__dirname, '..');
const MiB = 2 ** 20;
const T0 = 1_700_000_000_000;

/** A small complete log with `middle` lines after its EnvironmentUpdate. */
function smallLog(appId: string, middle: string[] = []): string {
  return `${[
    JSON.stringify({ Event: 'SparkListenerLogStart', 'Spark Version': '3.5.3' }),
    JSON.stringify({ Event: 'SparkListenerApplicationStart', 'App Name': appId, 'App ID': appId, Timestamp: T0, User: 'u' }),
    JSON.stringify({ Event: 'SparkListenerEnvironmentUpdate', 'Spark Properties': { 'spark.executor.cores': '4' } }),
    ...middle,
    JSON.stringify({ Event: 'SparkListenerExecutorAdded', Timestamp: T0 + 10, 'Executor ID': '1', 'Executor Info': { Host: 'h', 'Total Cores': 4 } }),
    JSON.stringify({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 }),
  ].join('\n')}\n`;
}

/** `app-long`: one 2 MiB line (a SQL plan), under the default 32 MiB line limit and over 1 MiB. */
const longLog = (appId = 'app-long'): string => smallLog(appId, [JSON.stringify({ Event: 'org.apache.spark.sql.execution.ui.SparkListenerSQLExecutionStart', executionId: 0, physicalPlanDescription: 'x'.repeat(2 * MiB) })]);

let dense: Buffer | undefined;
/**
 * `app-dense.gz`: 18 MiB of one repeated line, which gzip packs about 300 to 1: read under the
 * default ratio of 1000, stopped under 100 once past the 16 MiB every file may expand to.
 */
function denseGz(): Buffer {
  const line = JSON.stringify({ Event: 'SparkListenerBlockUpdated', 'Block Updated Info': { 'Block ID': 'rdd_0_0' } });
  dense ??= gzipSync(Buffer.from(smallLog('app-dense', Array.from({ length: Math.ceil((18 * MiB) / (line.length + 1)) }, () => line))));
  return dense;
}

interface Run {
  code: number;
  out: string;
  err: string;
}

/** `spark-optimizer ARGS` in this process, in `cwd`. */
async function cli(cwd: string, ...args: string[]): Promise<Run> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** A `--format json` run's records as app id -> the codes of its problems. */
function problemCodes(run: Run): Record<string, string[]> {
  const rows = run.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { app_id: string; problems: { code: string }[] });
  return Object.fromEntries(rows.map((r) => [r.app_id, r.problems.map((p) => p.code)]));
}

/** A folder with `logs/app-long` and `logs/app-dense.gz`, or one of them. */
function logsFolder(which: 'long' | 'dense' | 'both' = 'both'): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'logs'));
  if (which !== 'dense') writeFileSync(path.join(dir, 'logs', 'app-long'), longLog());
  if (which !== 'long') writeFileSync(path.join(dir, 'logs', 'app-dense.gz'), denseGz());
  return dir;
}

function writeConfig(dir: string, lines: string[]): string {
  writeFileSync(path.join(dir, 'spark-optimizer.yaml'), `${lines.join('\n')}\n`);
  return 'spark-optimizer.yaml';
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((c) => c()));
});

const BOTH_READ = { 'app-long': [], 'app-dense': [] };
const LINE_SKIPPED = { 'app-long': ['line-too-long'], 'app-dense': [] };
const BOMB_STOPPED = { 'app-long': [], 'app-dense': ['decompression-limit'] };

describe('event-log limits from the config file and collect flags', () => {
  const collect = (dir: string, ...extra: string[]): Promise<Run> => cli(dir, 'collect', '--source', 'event-logs', '--path', 'logs', '--dry-run', '--format', 'json', ...extra);
  const fromConfig = (dir: string, key: string, value: number): Promise<Run> => {
    const file = writeConfig(dir, ['collector:', '  type: event_log', '  path: logs', `  ${key}: ${value}`]);
    return cli(dir, 'collect', '--config', file, '--dry-run', '--format', 'json');
  };

  it('max_line_mb: a 2 MiB line is read by default, skipped with --max-line-mb 1 or max_line_mb: 1', async () => {
    const dir = logsFolder('long');
    expect(problemCodes(await collect(dir))).toEqual({ 'app-long': [] });
    const flagged = await collect(dir, '--max-line-mb', '1');
    expect(problemCodes(flagged)).toEqual({ 'app-long': ['line-too-long'] });
    expect(flagged.out).toContain('over the 1 MB line limit');
    expect(problemCodes(await fromConfig(dir, 'max_line_mb', 1))).toEqual({ 'app-long': ['line-too-long'] });
    // A flag beside a config wins over it.
    expect(problemCodes(await cli(dir, 'collect', '--config', 'spark-optimizer.yaml', '--dry-run', '--format', 'json', '--max-line-mb', '4'))).toEqual({ 'app-long': [] });
  });

  it('max_decompression_ratio: a 300-to-1 gzip log is read by default, stopped with --max-decompression-ratio 100 or max_decompression_ratio: 100', async () => {
    const dir = logsFolder('dense');
    expect(problemCodes(await collect(dir))).toEqual({ 'app-dense': [] });
    const flagged = await collect(dir, '--max-decompression-ratio', '100');
    expect(problemCodes(flagged)).toEqual({ 'app-dense': ['decompression-limit'] });
    expect(flagged.out).toContain('over 100 times their size');
    expect(problemCodes(await fromConfig(dir, 'max_decompression_ratio', 100))).toEqual({ 'app-dense': ['decompression-limit'] });
  });
});

describe('limits out of range', () => {
  it.each([
    ['--max-line-mb', '513', '--max-line-mb must be at most 512'],
    ['--max-line-mb', '0', '--max-line-mb must be a positive integer'],
    ['--max-decompression-ratio', '1', '--max-decompression-ratio must be from 2 to 1000000'],
    ['--max-response-mb', '4097', '--max-response-mb must be from 1 to 4096'],
    ['--max-unpacked-mb', '1.5', '--max-unpacked-mb must be a positive integer'],
    ['--max-unpack-ratio', '1', '--max-unpack-ratio must be from 2 to 1000000'],
  ])('collect %s %s is a usage error', async (flag, value, message) => {
    const r = await cli(tempDir(), 'collect', '--source', 'event-logs', '--path', 'logs', flag, value);
    expect(r.code).toBe(2);
    expect(r.err).toContain(message);
  });

  const head: Record<string, string[]> = {
    event_log: ['  path: logs'],
    history_server: ['  history_server_url: http://127.0.0.1:9'],
    databricks: ['  host: https://dbc.example.com'],
    dataproc: ['  project_id: p'],
  };
  it.each([
    ['event_log', 'max_line_mb', 1, 512],
    ['event_log', 'max_decompression_ratio', 2, 1_000_000],
    ['history_server', 'max_line_mb', 1, 512],
    ['history_server', 'max_decompression_ratio', 2, 1_000_000],
    ['history_server', 'zstd_max_window_mb', 1, 1024],
    ['history_server', 'max_response_mb', 1, 4096],
    ['history_server', 'max_unpacked_mb', 1, 1_048_576],
    ['history_server', 'max_unpack_ratio', 2, 1_000_000],
    ['history_server', 'task_summary_concurrency', 1, 8],
    ['history_server', 'max_task_summaries', 0, 1_000_000],
    ['databricks', 'max_response_mb', 1, 4096],
    ['dataproc', 'max_response_mb', 1, 4096],
  ] as const)('%s %s: %d to %d; outside, a config error naming the file, line and key', async (type, key, min, max) => {
    const text = (v: number): string => ['collector:', `  type: ${type}`, ...head[type]!, `  ${key}: ${v}`].join('\n');
    for (const v of [min, max]) expect(parseConfig(text(v), '/base')).toMatchObject({ errors: [], sources: [{ [key]: v }] });
    for (const v of [min - 1, max + 1, min + 0.5]) expect(parseConfig(text(v), '/base').errors.map((e) => [e.line, e.path.join('.')])).toEqual([[4, `collector.${key}`]]);
    const dir = tempDir();
    writeConfig(dir, [text(max + 1)]);
    const r = await cli(dir, 'collect', '--config', 'spark-optimizer.yaml', '--dry-run');
    expect(r.code).toBe(1);
    expect(r.err).toContain(`${path.join(dir, 'spark-optimizer.yaml')}:4: collector.${key}:`);
  });
});

describe('History Server task summaries from the config', () => {
  it('task_summary_concurrency and max_task_summaries reach the collector as its options', () => {
    const { sources } = parseConfig('collector:\n  type: history_server\n  history_server_url: http://127.0.0.1:9\n  task_summary_concurrency: 2\n  max_task_summaries: 7\n', '/base');
    const [job] = jobsFor(sources[0]!);
    expect(job!.options).toMatchObject({ taskSummaryConcurrency: 2, maxTaskSummaries: 7 });
  });
});

describe('History Server limits', () => {
  async function serve(routes: Record<string, Route>): Promise<FakeServer> {
    const s = await startFakeServer(routes);
    closers.push(() => s.close());
    return s;
  }
  const octets = (bytes: Buffer): Route => (_req: unknown, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    res.end(bytes);
  };
  const listed = (...ids: string[]): unknown[] => syntheticListing(ids.map((id) => ({ id, startMs: T0, endMs: T0 + 60_000, executors: [], stages: [] })));

  it('mode: eventlog reads its downloads with the event-log limits and holds a zip to max_unpacked_mb, from flags or the config', async () => {
    const s = await serve({
      applications: { json: listed('app-long', 'app-dense') },
      'applications/app-long/logs': octets(await zip({ 'app-long': longLog() })),
      'applications/app-dense/logs': octets(await zip({ 'app-dense.gz': denseGz() })),
    });
    const dir = tempDir();
    const collect = (...extra: string[]): Promise<Run> => cli(dir, 'collect', '--source', 'history-server', '--url', s.url, '--mode', 'eventlog', '--dry-run', '--format', 'json', ...extra);
    expect(problemCodes(await collect())).toEqual(BOTH_READ);
    expect(problemCodes(await collect('--max-line-mb', '1'))).toEqual(LINE_SKIPPED);
    expect(problemCodes(await collect('--max-decompression-ratio', '100'))).toEqual(BOMB_STOPPED);
    const unpacked = await collect('--max-unpacked-mb', '1');
    expect(problemCodes(unpacked)).toEqual({ 'app-dense': [] });
    expect(unpacked.err).toMatch(/app-long\/logs: the event log would unpack to [\d.]+ MB, over the 1 MB limit, so it was not unpacked; raise max_unpacked_mb \(config\) or --max-unpacked-mb \(CLI\)/);

    const config = (...keys: string[]): Promise<Run> => {
      const file = writeConfig(dir, ['collector:', '  type: history_server', `  history_server_url: ${s.url}`, '  mode: eventlog', ...keys.map((k) => `  ${k}`)]);
      return cli(dir, 'collect', '--config', file, '--dry-run', '--format', 'json');
    };
    expect(problemCodes(await config('max_line_mb: 1', 'max_decompression_ratio: 100'))).toEqual({ 'app-long': ['line-too-long'], 'app-dense': ['decompression-limit'] });
    const fromFile = await config('max_unpacked_mb: 1');
    expect(problemCodes(fromFile)).toEqual({ 'app-dense': [] });
    expect(fromFile.err).toContain('over the 1 MB limit, so it was not unpacked');
  });

  it('max_unpack_ratio: a zip unpacking 1000 to 1 past 64 MiB is refused by default and read with --max-unpack-ratio or max_unpack_ratio raised', async () => {
    // 65 MiB of zeros beside the log: a file the folder scan passes over, but the zip's ratio counts it.
    const s = await serve({ applications: { json: listed('app-zip') }, 'applications/app-zip/logs': octets(await zip({ 'app-zip': smallLog('app-zip'), 'padding.bin': Buffer.alloc(65 * MiB) })) });
    const dir = tempDir();
    const collect = (...extra: string[]): Promise<Run> => cli(dir, 'collect', '--source', 'history-server', '--url', s.url, '--mode', 'eventlog', '--dry-run', '--format', 'json', ...extra);
    const refused = await collect();
    expect(problemCodes(refused)).toEqual({});
    expect(refused.err).toMatch(/over the limit of 200 to 1, so it was not unpacked; raise max_unpack_ratio \(config\) or --max-unpack-ratio \(CLI\)/);
    expect(Object.keys(problemCodes(await collect('--max-unpack-ratio', '5000')))).toEqual(['app-zip']);
    const file = writeConfig(dir, ['collector:', '  type: history_server', `  history_server_url: ${s.url}`, '  mode: eventlog', '  max_unpack_ratio: 5000']);
    expect(Object.keys(problemCodes(await cli(dir, 'collect', '--config', file, '--dry-run', '--format', 'json')))).toEqual(['app-zip']);
  });

  it('max_response_mb: a listing read entry by entry keeps at most a quarter of it: 0.3 MiB kept is read by default, refused with --max-response-mb 1 or max_response_mb: 1', async () => {
    // The listing is read entry by entry, each cut to the fields appSchema reads (JsonClient.getList):
    // its size is not what is limited, what it keeps is. A name of 0.3 MiB is kept (over 256 KiB, a
    // quarter of 1 MiB); 0.6 MiB of a field nobody reads is not.
    const listing = listed('app-a') as Record<string, unknown>[];
    listing[0]!.name = 'n'.repeat(0.3 * MiB);
    const s = await serve({ applications: { json: listing }, 'applications/app-a/logs': octets(await zip({ 'app-a': smallLog('app-a') })) });
    const unkept = listed('app-a') as Record<string, unknown>[];
    unkept[0]!.padding = 'p'.repeat(0.6 * MiB);
    const u = await serve({ applications: { json: unkept }, 'applications/app-a/logs': octets(await zip({ 'app-a': smallLog('app-a') })) });
    const dir = tempDir();
    const collect = (url: string, ...extra: string[]): Promise<Run> => cli(dir, 'collect', '--source', 'history-server', '--url', url, '--mode', 'eventlog', '--dry-run', '--format', 'json', ...extra);
    const kept = /listing applications failed: .*the answer holds more than 256 KB of values we keep \(a quarter of the 1 MB limit\) in its first entry, .*raise max_response_mb \(config\) or --max-response-mb \(CLI\)/;
    expect(problemCodes(await collect(s.url))).toEqual({ 'app-a': [] });
    const refused = await collect(s.url, '--max-response-mb', '1');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(kept);
    expect(problemCodes(await collect(u.url, '--max-response-mb', '1'))).toEqual({ 'app-a': [] });
    const file = writeConfig(dir, ['collector:', '  type: history_server', `  history_server_url: ${s.url}`, '  mode: eventlog', '  max_response_mb: 1']);
    const fromFile = await cli(dir, 'collect', '--config', file, '--dry-run');
    expect(fromFile.code).toBe(1);
    expect(fromFile.err).toMatch(kept);
  });
});

describe('max_response_mb on Databricks and Dataproc sources', () => {
  /** A server whose every answer is an empty list padded to 1.5 MiB. */
  async function padded(): Promise<string> {
    const body = JSON.stringify({ runs: [], has_more: false, jobs: [], padding: 'p'.repeat(1.5 * MiB) });
    const s = await listenLocal((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    closers.push(() => s.close());
    return s.url;
  }

  it.each([
    ['databricks', 'DATABRICKS_TOKEN', (url: string) => ['--endpoint-url', url], (url: string) => [`  endpoint_url: ${url}`]],
    ['dataproc', 'GOOGLE_OAUTH_ACCESS_TOKEN', (url: string) => ['--project', 'p', '--region', 'r', '--endpoint-url', url], (url: string) => ['  project_id: p', '  region: r', `  endpoint_url: ${url}`]],
  ])('%s: read by default, refused with --max-response-mb 1 or max_response_mb: 1', async (source, tokenVariable, flags, keys) => {
    const dir = tempDir();
    vi.stubEnv('HOME', dir);
    vi.stubEnv(tokenVariable, 'test-token');
    const url = await padded();
    const byDefault = await cli(dir, 'collect', '--source', source, ...flags(url), '--dry-run');
    expect([byDefault.code, byDefault.err]).toEqual([0, '']);
    const refused = await cli(dir, 'collect', '--source', source, ...flags(url), '--dry-run', '--max-response-mb', '1');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/the answer is larger than the 1 MB limit.*raise max_response_mb \(config\) or --max-response-mb \(CLI\)/);
    const file = writeConfig(dir, ['collector:', `  type: ${source}`, ...keys(url), '  max_response_mb: 1']);
    expect((await cli(dir, 'collect', '--config', file, '--dry-run')).err).toContain('larger than the 1 MB limit');
  });
});

describe('event-log limits from the editor settings', () => {
  const eventLogSource = (extra: Record<string, unknown> = {}): SourceConfig => ({ type: 'event_log', name: 'logs', path: 'logs', recursive: true, batch_size: 100, ...extra });
  const defaultsOf = (raw: Record<string, unknown>): JobOverrides => settingsJobDefaults(parseSettings(raw).settings);

  it('settings become the worker job options where a source says nothing; a source key wins; History Server jobs get them too', () => {
    expect(parseSettings({ maxLineMb: 1024, maxDecompressionRatio: 1 }).warnings).toEqual([
      'Setting sparkOptimizer.maxLineMb = 1024 is not valid; using 32.',
      'Setting sparkOptimizer.maxDecompressionRatio = 1 is not valid; using 1000.',
    ]);
    expect(defaultsOf({})).toEqual({ concurrency: undefined, maxZstdWindowMb: 128, maxLineBytes: 32 * MiB, maxDecompressionRatio: 1000 });
    const defaults = defaultsOf({ maxLineMb: 1, maxDecompressionRatio: 100 });
    const planned = (source: SourceConfig): SourceJob => planSources([source], { defaults }).jobs[0]!.job;
    const job = planned(eventLogSource());
    expect(job).toMatchObject({ kind: 'event_log', options: { maxLineBytes: MiB, maxDecompressionRatio: 100, maxZstdWindowMb: 128 } });
    expect(isHostMessage({ type: 'start', job: { job, known: [] } })).toBe(true);
    expect(isHostMessage({ type: 'start', job: { job: { ...job, options: { ...job.options, maxLineBytes: '1' } }, known: [] } })).toBe(false);
    expect(planned(eventLogSource({ max_line_mb: 64, max_decompression_ratio: 5000 }))).toMatchObject({ options: { maxLineBytes: 64 * MiB, maxDecompressionRatio: 5000 } });
    const hs = { type: 'history_server', name: 'hs', history_server_url: 'http://127.0.0.1:9', mode: 'eventlog', concurrency: 4, insecure_skip_verify: false, timeout: 30, status: 'completed', batch_size: 100 } as SourceConfig;
    expect(planned(hs)).toMatchObject({ kind: 'history_server', options: { maxLineBytes: MiB, maxDecompressionRatio: 100 } });
    expect(planned({ ...hs, max_line_mb: 2 } as SourceConfig)).toMatchObject({ options: { maxLineBytes: 2 * MiB } });
  });

  it('the collection worker reads with them (dist/collectWorker.js)', async () => {
    const dir = logsFolder();
    const codes = async (raw: Record<string, unknown>): Promise<Record<string, string[]>> => {
      const job = planSources([eventLogSource({ path: path.join(dir, 'logs') })], { defaults: defaultsOf(raw) }).jobs[0]!.job;
      const run = collectInWorker(path.join(ROOT, 'dist', 'collectWorker.js'), { job, known: [] }, () => undefined);
      const batches: Batch[] = [];
      for await (const b of run.batches) batches.push(b);
      return Object.fromEntries(batches.flatMap((b) => b.apps).map((a) => [a.record.app_id, a.problems.map((p) => p.code)]));
    };
    expect(await codes({})).toEqual(BOTH_READ);
    expect(await codes({ maxLineMb: 1, maxDecompressionRatio: 100 })).toEqual({ 'app-long': ['line-too-long'], 'app-dense': ['decompression-limit'] });
  });

  it('the check of logs on disk reads with them too (dist/analyzeWorker.js)', async () => {
    const dir = logsFolder();
    const worker = new AnalysisWorker(ROOT);
    closers.push(() => Promise.resolve(worker.dispose()));
    const codes = async (file: string, raw: Record<string, unknown>): Promise<string[]> =>
      (await worker.analyze({ file: path.join(dir, 'logs', file), siblings: [], limits: settingsReadLimits(parseSettings(raw).settings) })).map((f) => f.code).filter((c) => c === 'line-too-long' || c === 'decompression-limit');
    expect(await codes('app-long', {})).toEqual([]);
    expect(await codes('app-long', { maxLineMb: 1 })).toEqual(['line-too-long']);
    expect(await codes('app-dense.gz', {})).toEqual([]);
    expect(await codes('app-dense.gz', { maxDecompressionRatio: 100 })).toEqual(['decompression-limit']);
  });
});

describe('documentation of the limits', () => {
  const FLAGS = ['--zstd-max-window-mb', '--max-line-mb', '--max-decompression-ratio', '--max-response-mb', '--max-unpacked-mb', '--max-unpack-ratio'];

  it('the usage text names every limit flag', async () => {
    const help = await cli(tempDir(), '--help');
    for (const flag of FLAGS) expect(help.out, flag).toContain(`${flag} N`);
  });

  it('the editor settings and the JSON Schema give the config keys\' ranges; the HTTP client\'s default is the documented one', () => {
    interface Property {
      default: number;
      minimum: number;
      maximum: number;
    }
    const settings = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, Property> } } }).contributes.configuration.properties;
    expect(settings['sparkOptimizer.maxLineMb']).toMatchObject({ default: 32, minimum: 1, maximum: 512 });
    expect(settings['sparkOptimizer.maxDecompressionRatio']).toMatchObject({ default: 1000, minimum: 2, maximum: 1_000_000 });
    // dist/config.schema.json, written by the build from the zod schema.
    type Properties = Record<string, (Partial<Property> & { const?: string; description?: string }) | undefined>;
    const schema = JSON.parse(readFileSync(path.join(ROOT, 'dist', 'config.schema.json'), 'utf8')) as { anyOf: { properties: { collector?: { oneOf: { properties: Properties }[] } } }[] };
    const byType: Record<string, Properties> = Object.fromEntries(schema.anyOf[0]!.properties.collector!.oneOf.map((o) => [o.properties.type!.const!, o.properties]));
    expect(byType.event_log!.max_line_mb).toMatchObject({ minimum: 1, maximum: 512 });
    expect(byType.event_log!.max_decompression_ratio).toMatchObject({ minimum: 2, maximum: 1_000_000 });
    for (const key of ['max_line_mb', 'max_decompression_ratio', 'zstd_max_window_mb', 'max_response_mb', 'max_unpacked_mb', 'max_unpack_ratio']) expect(byType.history_server![key]?.description, key).toMatch(/default/);
    for (const type of ['databricks', 'dataproc']) expect(byType[type]!.max_response_mb).toMatchObject({ minimum: 1, maximum: 4096 });
    expect(byType.emr!.max_response_mb).toBeUndefined();
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(MAX_RESPONSE_MB.default * MiB);
  });
});

describe('validate', () => {
  it('shows invisible characters in finding messages on stdout as escapes, text and JSON', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app-1');
    writeFileSync(file, smallLog('app-1', [JSON.stringify({ Event: 'SparkListener\u200BJobStart', 'Job ID': 1 })]));
    // An unknown event is information, below validate's default --min-severity (warning).
    const text = await cli(dir, 'validate', file, '--min-severity', 'information');
    expect(text.out).toContain('Unknown event type SparkListener\\u200BJobStart');
    expect(text.out).not.toContain('\u200B');
    const json = await cli(dir, 'validate', file, '--format', 'json', '--min-severity', 'information');
    const messages = json.out.split('\n').map((l) => (JSON.parse(l) as { message: string }).message);
    expect(messages.some((m) => m.includes('SparkListener\\u200BJobStart'))).toBe(true);
    expect(messages.some((m) => m.includes('\u200B'))).toBe(false);
  });
});
