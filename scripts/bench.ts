/**
 * `npm run bench`: throughput and peak memory of the event-log engine against a naive baseline
 * (readline + JSON.parse of every line), each measured in its own child process of this script so
 * peak RSS is per measurement. Prints ratios; BENCHMARKS.md records the figures.
 *
 *   BENCH_MB=600 BENCH_BIG_MB=2048 npm run bench
 *   BENCH_ONLY=shapes,small BENCH_SHAPE_MB=128 npm run bench     (issue #12: every Spark version, many small logs)
 */
import { fork, spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, readdirSync, existsSync, mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { createGunzip, gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { collectAll } from '../src/collectors/eventlog/collect';
import { type Batch } from '../src/collectors/contract';
import { JobStore, MAX_DATABASE_BYTES } from '../src/storage/jobStore';
import { loadSqlJs } from '../src/storage/sqlJs';
import { asSchema5, writeV5Summaries } from '../test/support/summaryRowsV5';
import { unchangedCheck } from '../src/storage/unchanged';
import type { SparkAppRecord } from '../src/collectors/record';
import { realisticSummaries } from '../test/support/summaries';
import { viewsFigures } from './benchViews';
import { regressionFigures } from './benchRegression';
import { postgresSection } from './benchPostgres';
import { analyzeEventLogFile } from '../src/analysis/eventLogAnalyzer';
import { collectInWorker } from '../src/worker/collectClient';
import { ingest } from '../src/storage/ingest';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { eventLogText } from '../test/support/eventLogGenerator';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { startFakeServer, syntheticListing, syntheticRoutes, type Route, type SyntheticApp } from '../test/support/historyServerFake';
import { manyRecords, sparkLikeEnvironment } from '../test/support/records';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { codecFromName, decode } from '../src/collectors/eventlog/codecs/index';
import { generateEventLog, emptyTotals } from '../test/support/eventLogGenerator';
import { REAL_SHAPES, SMALL_SHAPES, cutShape, readShape, scaleShape, sharedDir } from '../test/support/sparkShapes';
import { collectEventLogs } from '../src/collectors/eventlog/collect';

const DATA = path.resolve(process.env.BENCH_DIR ?? 'bench-data');
const MB = 1024 * 1024;

interface Measurement {
  name: string;
  seconds: number;
  inputBytes: number;
  outputBytes: number;
  maxRssMb: number;
  detail: string;
  /** CPU time of the child's work (user + system, every thread: the JIT's and GC's too), for A/B runs on a shared machine. */
  cpuSeconds: number;
}

/** Writes a generated log of about `mb` MB: many applications' worth of stages in one attempt. */
async function ensureLog(file: string, mb: number): Promise<void> {
  if (existsSync(file) && statSync(file).size >= mb * MB * 0.95) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  let written = 0;
  // ~3.3 KB per task end + start pair (measured); size the stage count to reach the target.
  const stages = Math.max(1, Math.ceil((mb * MB) / (200 * 3300)));
  const totals = emptyTotals();
  for (const line of generateEventLog({ stages, tasksPerStage: 200, executors: 50, failEvery: 97 }, totals)) {
    written += line.length + 1;
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  process.stderr.write(`generated ${file}: ${(written / MB).toFixed(0)} MB, ${totals.total_tasks} tasks\n`);
}

function unitFor(file: string): LogUnit {
  const st = statSync(file);
  return { layout: 'single', path: file, files: [{ path: file, codec: codecFromName(file), size: st.size, mtimeMs: st.mtimeMs }], appIdHint: 'bench', inProgress: false, compacted: false };
}

function timed<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = process.hrtime.bigint();
  const r = await fn();
  return [r, Number(process.hrtime.bigint() - t) / 1e6];
}

/** Milliseconds spent upserting `rows` records into a new database at `file`, in calls of 1,000 made by `make(count, from)` as they come. */
async function upsertInBatches(file: string, rows: number, make: (count: number, from: number) => SparkAppRecord[]): Promise<{ ms: number; store: JobStore }> {
  const store = await JobStore.open(file);
  let ms = 0;
  for (let i = 0; i < rows; i += 1000) {
    const batch = make(Math.min(1000, rows - i), i);
    ms += timed(() => store.upsert(batch))[1];
  }
  return { ms, store };
}

/** Upsert, save, re-open and query figures for a database of `rows` records (issue #3 targets). */
async function databaseFigures(rows: number): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-db-'));
  try {
    const file = path.join(dir, 'jobs.db');
    const records = manyRecords(rows);
    const store = await JobStore.open(file);
    const [, upsertMs] = timed(() => store.upsert(records));
    const [, saveMs] = await timedAsync(() => store.save());
    const [again, reupsertMs] = timed(() => store.upsert(records));
    store.close();
    // As a collection delivers them: batches of 1,000 generated as they come (not all held at once),
    // upserted directly, and through ingest() (what the CLI and the editor do).
    const batched = await upsertInBatches(path.join(dir, 'batched.db'), rows, manyRecords);
    batched.store.close();
    const toBatch = (records: ReturnType<typeof manyRecords>): Batch => ({
      apps: records.map((record) => ({ record, problems: [], files: [], provenance: { path: record.app_id, files: [] } })),
      problems: [],
      filtered: 0,
      unchanged: 0,
    });
    const makeMs = timed(() => {
      for (let i = 0; i < rows; i += 1000) toBatch(manyRecords(Math.min(1000, rows - i), i));
    })[1];
    const ingested = await JobStore.open(path.join(dir, 'ingested.db'));
    async function* stream(): AsyncGenerator<Batch> {
      for (let i = 0; i < rows; i += 1000) {
        await new Promise((resolve) => setImmediate(resolve)); // batches arrive as a collector sends them
        yield toBatch(manyRecords(Math.min(1000, rows - i), i));
      }
    }
    const ingestMs = (await timedAsync(() => ingest(ingested, stream(), { source: 'bench', options: {} })))[1] - makeMs;
    ingested.close();
    // The same with environments shaped like real Spark apps' (~6 KB, mostly shared by the apps).
    const sparkLike = await upsertInBatches(path.join(dir, 'spark-like.db'), rows, (count, from) =>
      manyRecords(count, from).map((r, k) => ({ ...r, environment: sparkLikeEnvironment(from + k) })),
    );
    const sparkLikeMs = sparkLike.ms;
    const [, sparkLikeSaveMs] = await timedAsync(() => sparkLike.store.save());
    sparkLike.store.close();
    const sparkLikeMb = statSync(path.join(dir, 'spark-like.db')).size / MB;
    const [reopened, openMs] = await timedAsync(() => JobStore.open(file));
    const pages: number[] = [];
    for (let i = 0; i < 20; i++) pages.push(timed(() => reopened.list({ sort: 'end_time', limit: 200, offset: i * 1000 }))[1]);
    const filtered = timed(() => reopened.list({ user: 'maria', sort: 'end_time', limit: 200 }))[1];
    const groups = timed(() => reopened.groupCounts('day'))[1];
    reopened.close();
    const size = statSync(file).size / MB;
    pages.sort((a, b) => a - b);
    return [
      `${rows} rows: upsert ${(upsertMs / 1000).toFixed(2)} s (${Math.round(rows / (upsertMs / 1000))}/s)`,
      `in batches of 1,000 ${(batched.ms / 1000).toFixed(2)} s, through ingest() ${(ingestMs / 1000).toFixed(2)} s`,
      `save ${(saveMs / 1000).toFixed(2)} s (${size.toFixed(0)} MB file)`,
      `with ~6 KB Spark-like environments, in batches of 1,000 ${(sparkLikeMs / 1000).toFixed(2)} s + save ${(sparkLikeSaveMs / 1000).toFixed(2)} s (${sparkLikeMb.toFixed(0)} MB file)`,
      `same upsert again ${(reupsertMs / 1000).toFixed(2)} s (${again.unchanged} unchanged)`,
      `open ${(openMs / 1000).toFixed(2)} s`,
      `page of 200 by end time: median ${pages[10]!.toFixed(1)} ms, max ${pages.at(-1)!.toFixed(1)} ms`,
      `by user ${filtered.toFixed(1)} ms`,
      `group by day ${groups.toFixed(1)} ms`,
    ].join('; ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What stage and executor summaries add (issue 15): the same records upserted with and without
 * them, per shape; the database's bytes per application (a fresh file: no free pages) and how many
 * such applications the store's limit (MAX_DATABASE_BYTES, 1 GB) holds; upsert time per app, the same
 * upsert again (unchanged); reading an app's summaries (the first read, then the median over 50 apps).
 * For the 50-stage shape, also the same summaries as rows in a database of schema 5, opened by this
 * version: migration 6 (rows into blocks, then VACUUM), its time, the file before and after.
 */
async function summariesFigures(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-sum-'));
  const shapes = [
    { label: '50 stages / 20 executors', apps: 2_000, stages: 50, executors: 20 },
    { label: '2,000 stages / 200 executors', apps: 100, stages: 2_000, executors: 200 },
  ];
  const appId = (i: number): string => `app-${String(i).padStart(6, '0')}`;
  try {
    const lines: string[] = [];
    for (const shape of shapes) {
      const figures: { file: string; bytes: number; ms: number; againMs: number; store: JobStore }[] = [];
      for (const withSummaries of [false, true]) {
        const file = path.join(dir, `${shape.stages}-${withSummaries}.db`);
        const store = await JobStore.open(file);
        let ms = 0;
        let againMs = 0;
        for (let i = 0; i < shape.apps; i += 100) {
          const batch = manyRecords(Math.min(100, shape.apps - i), i).map((record, k) => ({
            record: { ...record, environment: sparkLikeEnvironment(i + k) },
            summaries: withSummaries ? realisticSummaries(i + k, shape.stages, shape.executors) : undefined,
          }));
          ms += timed(() => store.upsert(batch))[1];
          againMs += timed(() => store.upsert(batch))[1];
        }
        await store.save();
        figures.push({ file, bytes: statSync(file).size, ms, againMs, store });
      }
      const [plain, full] = figures;
      const first = timed(() => full!.store.summariesOf({ app_id: appId(42), attempt_id: null }))[1];
      const reads = Array.from({ length: 50 }, (_, k) => timed(() => full!.store.summariesOf({ app_id: appId(Math.floor((k * shape.apps) / 50)), attempt_id: null }))[1]).sort((a, b) => a - b);
      for (const f of figures) f.store.close();
      const perApp = (full!.bytes - plain!.bytes) / shape.apps;
      const perGb = (bytes: number): string => `${Math.round(MAX_DATABASE_BYTES / (bytes / shape.apps)).toLocaleString('en-US')}`;
      lines.push(
        `${shape.label}: +${(perApp / 1024).toFixed(1)} KB per app (${shape.apps} apps: ${(plain!.bytes / MB).toFixed(1)} -> ${(full!.bytes / MB).toFixed(1)} MB file; ` +
          `${(full!.bytes / shape.apps / 1024).toFixed(1)} KB per app in all: ${perGb(full!.bytes)} apps per GB, ${perGb(plain!.bytes)} without summaries), ` +
          `upsert ${(plain!.ms / shape.apps).toFixed(2)} -> ${(full!.ms / shape.apps).toFixed(2)} ms per app, same again ${(plain!.againMs / shape.apps).toFixed(2)} -> ${(full!.againMs / shape.apps).toFixed(2)} ms, ` +
          `summariesOf first ${first.toFixed(1)} ms, median ${reads[25]!.toFixed(2)} ms`,
      );
      if (shape.stages === 50) lines.push(await schema5Figures(plain!.file, path.join(dir, 'v5.db'), shape));
    }
    return lines.join('\n                       ');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The records of `plainFile` with the shape's summaries as schema 5 stored them (rows), and what opening that database with this version does. */
async function schema5Figures(plainFile: string, file: string, shape: { apps: number; stages: number; executors: number }): Promise<string> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(readFileSync(plainFile));
  asSchema5(db);
  for (let i = 0; i < shape.apps; i++) writeV5Summaries(db, `app-${String(i).padStart(6, '0')}`, '', realisticSummaries(i, shape.stages, shape.executors));
  writeFileSync(file, db.export());
  db.close();
  const before = statSync(file).size;
  const [store, openMs] = await timedAsync(() => JobStore.open(file));
  store.startRun('bench', 'bench', {}); // something to save
  const [, saveMs] = await timedAsync(() => store.save());
  store.close();
  return `  the same as rows of schema 5: ${(before / MB).toFixed(1)} MB file; opened (migration 6 and VACUUM) in ${(openMs / 1000).toFixed(2)} s, saved in ${(saveMs / 1000).toFixed(2)} s: ${(statSync(file).size / MB).toFixed(1)} MB`;
}

/**
 * The extension host's side of a collection of many logs: the worker parses, this thread only
 * upserts batches and saves (what src/views/collection.ts does). Reports the longest event-loop
 * stall, i.e. how long the editor could have been unresponsive.
 */
async function hostStall(folder: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-host-'));
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  try {
    const store = await JobStore.open(path.join(dir, 'jobs.db'));
    const started = Date.now();
    histogram.enable();
    const run = collectInWorker(
      path.resolve('dist/collectWorker.js'),
      { job: { kind: 'event_log', name: 'bench', options: { path: folder, recursive: true, source: 'bench', batchSize: 100 } }, known: store.knownFiles(), poolScript: path.resolve('dist/worker.js') },
      () => undefined,
    );
    // As the extension does (src/views/collection.ts): slices of 10 records, yielding in between.
    const summary = await ingest(store, run.batches, { source: 'bench', options: {}, saveEveryMs: 15_000, sliceSize: 10, save: () => store.save() });
    histogram.disable();
    const secs = (Date.now() - started) / 1000;
    store.close();
    return `${summary.new} apps in ${secs.toFixed(1)} s; host event-loop delay: max ${(histogram.max / 1e6).toFixed(0)} ms, p99 ${(histogram.percentile(99) / 1e6).toFixed(0)} ms, mean ${(histogram.mean / 1e6).toFixed(1)} ms`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}


/**
 * The naive baseline of issue #12, as a naive tool would do it: readline + JSON.parse of every line
 * and the sums of the task metrics the engine reports. One CommonJS file so the same code runs in a
 * measured child of this script and as a whole process beside the CLI (`node naive.cjs <file|dir>`).
 */
const NAIVE_SCRIPT = `'use strict';
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
function empty() {
  return { files: 0, bytes: 0, lines: 0, tasks: 0, failed: 0, cpuNs: 0, input: 0, output: 0, shuffleRead: 0, shuffleWrite: 0, memSpill: 0, diskSpill: 0 };
}
async function parseFile(file, t) {
  t.files++;
  await parseStream(fs.createReadStream(file), t);
}
async function parseStream(input, t) {
  const rl = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) {
    t.bytes += Buffer.byteLength(line) + 1;
    t.lines++;
    if (line.length === 0) continue;
    const e = JSON.parse(line);
    if (e.Event !== 'SparkListenerTaskEnd') continue;
    t.tasks++;
    const reason = e['Task End Reason'] && e['Task End Reason'].Reason;
    if (reason !== 'Success' && reason !== 'TaskKilled' && reason !== 'TaskCommitDenied') t.failed++;
    const m = e['Task Metrics'];
    if (!m) continue;
    t.cpuNs += m['Executor CPU Time'] || 0;
    t.input += (m['Input Metrics'] && m['Input Metrics']['Bytes Read']) || 0;
    t.output += (m['Output Metrics'] && m['Output Metrics']['Bytes Written']) || 0;
    const sr = m['Shuffle Read Metrics'];
    if (sr) t.shuffleRead += (sr['Remote Bytes Read'] || 0) + (sr['Local Bytes Read'] || 0);
    t.shuffleWrite += (m['Shuffle Write Metrics'] && m['Shuffle Write Metrics']['Shuffle Bytes Written']) || 0;
    t.memSpill += m['Memory Bytes Spilled'] || 0;
    t.diskSpill += m['Disk Bytes Spilled'] || 0;
  }
}
async function parse(p) {
  const t = empty();
  if (fs.statSync(p).isDirectory()) {
    for (const name of fs.readdirSync(p).sort()) await parseFile(path.join(p, name), t);
  } else {
    await parseFile(p, t);
  }
  return t;
}
module.exports = { parse, parseStream, empty };
if (require.main === module) parse(process.argv[2]).then((t) => console.log(JSON.stringify(t)));
`;

interface NaiveTotals {
  files: number;
  bytes: number;
  lines: number;
  tasks: number;
  failed: number;
  cpuNs: number;
  input: number;
  output: number;
  shuffleRead: number;
  shuffleWrite: number;
  memSpill: number;
  diskSpill: number;
}

function writeNaiveScript(): string {
  const file = path.join(DATA, 'naive.cjs');
  mkdirSync(DATA, { recursive: true });
  if (!existsSync(file) || readFileSync(file, 'utf8') !== NAIVE_SCRIPT) writeFileSync(file, NAIVE_SCRIPT);
  return file;
}

function naiveDetail(t: NaiveTotals): string {
  return `${t.files > 1 ? `${t.files} files, ` : ''}${t.tasks} tasks, ${t.failed} failed, cpu ${Math.floor(t.cpuNs / 1e6)} ms, input ${t.input}, shuffle r/w ${t.shuffleRead}/${t.shuffleWrite}`;
}

interface ProcessRun {
  seconds: number;
  maxRssMb: number;
  code: number | null;
  stderr: string;
  /** The last line the process printed (the CLI's summary). */
  last: string;
}

/** One whole process (start-up included), timed from here; peak RSS from GNU time's %M. */
function runProcess(args: string[]): ProcessRun {
  const started = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH-RSS-KB %M', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 512 * MB, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const kb = /BENCH-RSS-KB (\d+)/.exec(r.stderr ?? '');
  const last = (r.stdout ?? '').trimEnd().split('\n').at(-1) ?? '';
  return { seconds, maxRssMb: kb ? Number(kb[1]) / 1024 : NaN, code: r.status, stderr: (r.stderr ?? '').replace(/BENCH-RSS-KB \d+\s*$/, '').trim(), last };
}

/** `spark-optimizer collect` of `p` into the database `db`, as a user runs it. */
function cliCollect(p: string, db: string): ProcessRun {
  const r = runProcess([path.resolve('dist/cli.js'), 'collect', '--source', 'event-logs', '--path', p, '--db', db]);
  if (r.code !== 0 && r.code !== 1) throw new Error(`cli collect ${p} exited ${r.code}: ${r.stderr.slice(0, 2000)}`);
  return r;
}

/** The best of BENCH_REPEAT collects of `p`, each into a fresh database under `dir`. */
function cliCollectBest(p: string, dir: string): ProcessRun {
  const runs: ProcessRun[] = [];
  for (let i = 0; i < Math.max(1, Number(process.env.BENCH_REPEAT ?? 3)); i++) runs.push(cliCollect(p, path.join(dir, `jobs-${i}.db`)));
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...best, maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

/** A log of `mb` MB in the shape of one real Spark version's log (test/support/sparkShapes.ts). */
async function ensureShape(file: string, real: string, mb: number): Promise<void> {
  if (existsSync(file) && statSync(file).size >= mb * MB * 0.9) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const out = createWriteStream(file);
  let written = 0;
  for (const line of scaleShape(readShape(real), mb * MB)) {
    written += line.length + 1;
    if (!out.write(`${line}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
  process.stderr.write(`generated ${file}: ${(written / MB).toFixed(0)} MB from ${real}\n`);
}

/** 10,000 logs of about 66 KB cut from Spark 1.2-3.0 logs, each with its own app id (the file's name). */
function ensureSmallLogs(dir: string, count: number, kb: number): number {
  const last = path.join(dir, smallName(count - 1));
  if (!existsSync(last)) {
    mkdirSync(dir, { recursive: true });
    const shapes = SMALL_SHAPES.map(readShape);
    for (let i = 0; i < count; i++) {
      const appId = smallName(i);
      writeFileSync(path.join(dir, appId), `${[...cutShape(shapes[i % shapes.length]!, kb * 1024, { appId })].join('\n')}\n`);
    }
  }
  return readdirSync(dir).reduce((n, f) => n + statSync(path.join(dir, f)).size, 0);
}

function smallName(i: number): string {
  return `local-${1700000000000 + i}`;
}

/** Collect of a folder through ingest() into a fresh database, then again over the unchanged files (the CLI's path, in one process). */
async function smallIngest(folder: string): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-small-'));
  try {
    const store = await JobStore.open(path.join(dir, 'jobs.db'));
    const run = (): Promise<{ new: number; unchanged: number }> =>
      ingest(store, collectEventLogs({ path: folder, source: 'bench' }, { workerScript: path.resolve('dist/worker.js'), isUnchanged: unchangedCheck(store.knownFiles()) }), {
        source: 'bench',
        options: {},
        save: () => store.save(),
      });
    const [first, firstMs] = await timedAsync(run);
    const [second, secondMs] = await timedAsync(run);
    store.close();
    return `fresh ${(firstMs / 1000).toFixed(2)} s (${first.new} new); unchanged ${(secondMs / 1000).toFixed(2)} s (${second.unchanged} unchanged)`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Child side: run one measurement and send the result to the parent. */
async function child(kind: string, file: string): Promise<void> {
  // Sampled, not getrusage's maxRSS: on Linux that survives fork+exec and would include the parent's peak.
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 5);
  const started = process.hrtime.bigint();
  const cpuAtStart = process.cpuUsage();
  let outputBytes = 0;
  let detail = '';
  if (kind === 'naive') {
    // The same code as the naive process of the CLI pairs (bench-data/naive.cjs), loaded here.
    const naive = createRequire(__filename)(writeNaiveScript()) as { parse(p: string): Promise<NaiveTotals> };
    const t = await naive.parse(file);
    outputBytes = t.bytes;
    detail = naiveDetail(t);
  } else if (kind.startsWith('naive-')) {
    // A naive tool on a compressed log: zlib's gunzip stream for gzip, the engine's own decoders
    // (as a library) for Spark's codecs, then the same readline + JSON.parse.
    const naive = createRequire(__filename)(writeNaiveScript()) as { parseStream(s: NodeJS.ReadableStream, t: NaiveTotals): Promise<void>; empty(): NaiveTotals };
    const codec = codecFromName(file);
    const input = codec === 'gzip' ? createReadStream(file).pipe(createGunzip()) : Readable.from(decode(codec, createReadStream(file, { highWaterMark: 512 * 1024 }) as AsyncIterable<Buffer>, file));
    const t = naive.empty();
    await naive.parseStream(input, t);
    outputBytes = t.bytes;
    detail = naiveDetail(t);
  } else if (kind === 'analyze') {
    const cpu = process.cpuUsage();
    const findings = await analyzeEventLogFile(file);
    const used = process.cpuUsage(cpu);
    outputBytes = statSync(file).size;
    detail = `${findings.length} findings, CPU ${((used.user + used.system) / 1e6).toFixed(2)} s`;
  } else if (kind.startsWith('hs-')) {
    const concurrency = Number(kind.slice(3));
    const r = await collectHistoryServerAll({ url: file, concurrency });
    const secs = Number(process.hrtime.bigint() - started) / 1e9;
    detail = `${r.apps.length} apps at concurrency ${concurrency}: ${(r.apps.length / secs).toFixed(0)} apps/s, ${r.problems.length} problems`;
  } else if (kind === 'small-ingest') {
    detail = await smallIngest(file);
  } else if (kind === 'host') {
    detail = await hostStall(file);
  } else if (kind === 'database') {
    detail = await databaseFigures(Number(process.env.BENCH_ROWS ?? 100_000));
  } else if (kind === 'summaries') {
    detail = await summariesFigures();
  } else if (kind === 'views') {
    detail = await viewsFigures();
  } else if (kind === 'regression') {
    detail = await regressionFigures();
  } else if (kind.startsWith('folder')) {
    // A folder of logs: concurrency 1 on this thread vs the worker pool on every core.
    const pooled = kind === 'folder-pool';
    const r = await collectAll({ path: file, concurrency: pooled ? undefined : 1 }, pooled ? { workerScript: path.resolve('dist/worker.js') } : {});
    outputBytes = Number(process.env.BENCH_DECODED ?? 0);
    detail = `${r.apps.length} apps, ${r.apps.reduce((n, a) => n + a.record.total_tasks, 0)} tasks`;
  } else {
    let decoded = 0;
    // engine-nosummaries: the same engine without the stage and executor summaries (their cost, issue 15).
    const result = await readUnit(unitFor(file), { source: 'bench', summaries: kind !== 'engine-nosummaries' });
    decoded = statSync(file).size;
    const r = result.record;
    detail = r ? `${r.total_tasks} tasks, ${r.failed_tasks} failed, cpu ${r.cpu_time_ms} ms, input ${r.input_bytes}, shuffle r/w ${r.shuffle_read_bytes}/${r.shuffle_write_bytes}, ${result.problems.length} problems` : 'no record';
    outputBytes = kind === 'engine' || kind === 'engine-nosummaries' ? decoded : Number(process.env.BENCH_DECODED ?? 0);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuAtStart);
  clearInterval(sampler);
  const maxRssMb = Math.max(peakRss, process.memoryUsage.rss()) / MB;
  const m: Measurement = { name: kind, seconds, inputBytes: existsSync(file) ? statSync(file).size : 0, outputBytes, maxRssMb, detail, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
  // Run by hand (`node --cpu-prof out/bench.js --child small-ingest DIR`), a child prints its figures.
  if (process.send) process.send(m);
  else console.log(JSON.stringify(m));
}

function measure(kind: string, file: string, env: Record<string, string> = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--child', kind, file], { env: { ...process.env, ...env }, execArgv: [] });
    p.once('message', (m) => resolve(m as Measurement));
    p.once('error', reject);
    p.once('exit', (code) => code !== 0 && reject(new Error(`${kind} exited ${code}`)));
  });
}

/**
 * Best of BENCH_REPEAT runs (default 3): others share this machine, and one slow run must not decide
 * a ratio. Peak RSS is the highest of the runs.
 */
async function measureBest(kind: string, file: string, env: Record<string, string> = {}): Promise<Measurement> {
  const runs: Measurement[] = [];
  for (let i = 0; i < Math.max(1, Number(process.env.BENCH_REPEAT ?? 3)); i++) runs.push(await measure(kind, file, env));
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...best, maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

function runProcessBest(args: string[]): ProcessRun {
  const runs: ProcessRun[] = [];
  for (let i = 0; i < Math.max(1, Number(process.env.BENCH_REPEAT ?? 3)); i++) runs.push(runProcess(args));
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...best, maxRssMb: Math.max(...runs.map((r) => r.maxRssMb)) };
}

/** Writes the log in every codec. The compressors are loaded here only, so children measure the engine alone. */
async function compressAll(plain: string): Promise<Record<string, string>> {
  const { lz4BlockStream, lzfStream, snappyStream, zstdFrames } = await import('../test/support/sparkCompress.js');
  const data = readFileSync(plain);
  const out: Record<string, string> = {};
  const write = (suffix: string, compress: () => Uint8Array): void => {
    const f = `${plain}.${suffix}`;
    if (!existsSync(f)) writeFileSync(f, compress());
    out[suffix] = f;
  };
  write('gz', () => gzipSync(data, { level: 1 }));
  write('lz4', () => lz4BlockStream(data));
  write('snappy', () => snappyStream(data));
  write('lzf', () => lzfStream(data));
  write('zstd', () => zstdFrames(data));
  return out;
}

function row(m: Measurement, baseline?: Measurement): string {
  const mbps = m.outputBytes / MB / m.seconds;
  const ratio = baseline ? `  ${(baseline.seconds / m.seconds).toFixed(2)}x baseline` : '';
  return `${m.name.padEnd(22)} ${(m.outputBytes / MB).toFixed(0).padStart(6)} MB  ${m.seconds.toFixed(2).padStart(7)} s  ${mbps.toFixed(0).padStart(5)} MB/s  peak RSS ${m.maxRssMb.toFixed(0).padStart(4)} MB${ratio}  (${m.detail})`;
}

const CODECS = ['gz', 'lz4', 'snappy', 'lzf', 'zstd'];

function ratioOf(baseline: { seconds: number }, m: { seconds: number }): string {
  return `${(baseline.seconds / m.seconds).toFixed(2)}x`;
}

/** The engine's CPU seconds on a log with and without the stage and executor summaries, and the throughput they cost. */
interface SummariesCost {
  shape: string;
  on: number;
  off: number;
  /** 1 - off / on: the share of the engine's event-log throughput the summaries take. */
  cost: number;
}

/** Issue 15's budget for reading stage and executor data: this share of the engine's event-log throughput. */
const SUMMARIES_COST_TARGET = 0.15;

/**
 * What reading stage and executor summaries costs the engine on `file` (issue 15: < 15% of its
 * throughput): the same build with and without them (readUnit's `summaries: false`), one child
 * process each, alternating, best of BENCH_COST_REPEAT (default 7) by CPU time (user + system, every
 * thread), since others share the machine and wall-clock best-of-N swung by +-30% (BENCHMARKS.md).
 */
async function summariesCost(shape: string, file: string): Promise<SummariesCost> {
  let on = Infinity;
  let off = Infinity;
  for (let i = 0; i < Math.max(1, Number(process.env.BENCH_COST_REPEAT ?? 7)); i++) {
    off = Math.min(off, (await measure('engine-nosummaries', file)).cpuSeconds);
    on = Math.min(on, (await measure('engine', file)).cpuSeconds);
  }
  return { shape, on, off, cost: 1 - off / on };
}

function costRow(c: SummariesCost): string {
  return `| ${c.shape} | ${c.off.toFixed(3)} | ${c.on.toFixed(3)} | ${(c.cost * 100).toFixed(0)}% | ${c.cost < SUMMARIES_COST_TARGET ? 'met' : 'NOT MET'} |`;
}

function printCosts(costs: SummariesCost[]): void {
  console.log(`
What the stage and executor summaries cost the engine (issue 15: < ${SUMMARIES_COST_TARGET * 100}% of its throughput; CPU s, best of ${process.env.BENCH_COST_REPEAT ?? 7}, same build without them):`);
  console.log('| shape | without | with | cost | < 15% |');
  console.log('|---|---|---|---|---|');
  for (const c of costs) console.log(costRow(c));
}

/** The path and source of each shape's log of `mb` MB (bench-data/shapes), made on first use. */
async function shapeLogs(mb: number): Promise<{ name: string; file: string }[]> {
  const picked = process.env.BENCH_SHAPES?.split(',');
  const logs: { name: string; file: string }[] = [];
  for (const shape of [...REAL_SHAPES.map((s) => ({ name: s.name, from: s.file })), { name: 'gen3.5', from: '' }]) {
    if (picked && !picked.includes(shape.name)) continue;
    const file = path.join(DATA, 'shapes', `${shape.name.replace('.', '_')}-${mb}mb`);
    if (shape.from === '') await ensureLog(file, mb);
    else await ensureShape(file, shape.from, mb);
    logs.push({ name: shape.name, file });
  }
  return logs;
}

/** `BENCH_ONLY=summaries-cost`: the summaries' cost on every shape alone (the shapes section reports it too). */
async function summariesCostSection(): Promise<void> {
  const costs: SummariesCost[] = [];
  for (const { name, file } of await shapeLogs(Number(process.env.BENCH_SHAPE_MB ?? 128))) costs.push(await summariesCost(name, file));
  printCosts(costs);
}

/**
 * Issue #12: every Spark version's log shape, plain and in each codec, against the naive baseline
 * on the plain log (so a codec's ratio also pays its decompression, the naive side pays none),
 * and the whole `spark-optimizer collect` process against a whole naive process.
 * BENCH_SHAPE_MB sizes each log; BENCH_SHAPES=spark1.4,spark2.1 picks shapes; each figure is the best of BENCH_REPEAT runs.
 */
async function shapesSection(): Promise<void> {
  const mb = Number(process.env.BENCH_SHAPE_MB ?? 128);
  console.log(`\nEvery Spark version (logs of ${mb} MB scaled from ${sharedDir()}; ratio = naive on the plain log / engine):`);
  const results: string[][] = [];
  const against: string[][] = [];
  const costs: SummariesCost[] = [];
  for (const shape of await shapeLogs(mb)) {
    const file = shape.file;
    const named = (m: Measurement): Measurement => ({ ...m, name: `${shape.name} ${m.name}` });
    const naive = named(await measureBest('naive', file));
    console.log(row(naive));
    const engine = named(await measureBest('engine', file));
    console.log(row(engine, naive));
    const ratios = [ratioOf(naive, engine)];
    const cost = await summariesCost(shape.name, file);
    console.log(`${`${shape.name} summaries`.padEnd(22)} cost ${(cost.cost * 100).toFixed(0)}% of the engine's CPU time (${cost.off.toFixed(3)} s without, ${cost.on.toFixed(3)} s with)`);
    costs.push(cost);
    let peak = engine.maxRssMb;
    const decoded = String(statSync(file).size);
    const decodedRatios: string[] = [];
    for (const [codec, f] of Object.entries(await compressAll(file))) {
      const naiveCodec = named(await measureBest(`naive-${codec}`, f));
      const m = named(await measureBest(`engine-${codec}`, f, { BENCH_DECODED: decoded }));
      console.log(row(naiveCodec));
      console.log(`${row(m, naive)}, ${ratioOf(naiveCodec, m)} naive-${codec}`);
      ratios.push(ratioOf(naive, m));
      decodedRatios.push(ratioOf(naiveCodec, m));
      peak = Math.max(peak, m.maxRssMb);
    }
    const tmp = mkdtempSync(path.join(tmpdir(), 'bench-cli-'));
    try {
      const naiveProcess = runProcessBest([writeNaiveScript(), file]);
      const cli = cliCollectBest(file, tmp);
      console.log(`${`${shape.name} processes`.padEnd(22)} naive ${naiveProcess.seconds.toFixed(2)} s (${naiveProcess.maxRssMb.toFixed(0)} MB), spark-optimizer collect ${cli.seconds.toFixed(2)} s (${cli.maxRssMb.toFixed(0)} MB): ${ratioOf(naiveProcess, cli)}  (${cli.last})`);
      ratios.push(ratioOf(naiveProcess, cli));
      peak = Math.max(peak, cli.maxRssMb);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    results.push([shape.name, `${naive.seconds.toFixed(2)} s`, ...ratios, `${peak.toFixed(0)} MB`]);
    against.push([shape.name, ...decodedRatios]);
  }
  console.log(`\nEngine against naive readline + JSON.parse of the plain log (codecs: the engine also decompresses, the naive side does not):`);
  console.log(`| shape | naive (plain) | plain | ${CODECS.join(' | ')} | CLI process | peak RSS |`);
  console.log(`|---|---|---|${CODECS.map(() => '---|').join('')}---|---|`);
  for (const r of results) console.log(`| ${r.join(' | ')} |`);
  console.log(`\nEngine against a naive tool reading the same compressed file (gunzip stream, the engine's decoders for Spark's codecs, then readline + JSON.parse):`);
  console.log(`| shape | ${CODECS.join(' | ')} |`);
  console.log(`|---|${CODECS.map(() => '---|').join('')}`);
  for (const r of against) console.log(`| ${r.join(' | ')} |`);
  printCosts(costs);
}

/**
 * Issue #12: 10,000 small logs (about 66 KB, Spark 1.2-3.0 shapes) through `spark-optimizer collect`
 * into a fresh database, then again over the unchanged files, against one naive process parsing
 * the same files (each the best of BENCH_REPEAT interleaved runs). BENCH_SMALL_COUNT changes the count.
 */
async function smallSection(): Promise<void> {
  const count = Number(process.env.BENCH_SMALL_COUNT ?? 10_000);
  const dir = path.join(DATA, `small-logs-${count}`);
  const bytes = ensureSmallLogs(dir, count, 66);
  console.log(`\nMany small logs (${count} logs, ${(bytes / count / 1024).toFixed(0)} KB on average, cut from Spark 1.2-3.0 logs):`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'bench-small-cli-'));
  try {
    // Interleaved, best of BENCH_REPEAT: naive process, collect into a fresh database, collect again (unchanged).
    const best = (runs: ProcessRun[]): ProcessRun => runs.reduce((x, y) => (y.seconds < x.seconds ? y : x));
    const naiveRuns: ProcessRun[] = [];
    const freshRuns: ProcessRun[] = [];
    const againRuns: ProcessRun[] = [];
    for (let i = 0; i < Math.max(1, Number(process.env.BENCH_REPEAT ?? 3)); i++) {
      const db = path.join(tmp, `jobs-${i}.db`);
      naiveRuns.push(runProcess([writeNaiveScript(), dir]));
      freshRuns.push(cliCollect(dir, db));
      againRuns.push(cliCollect(dir, db));
      console.log(`  run ${i + 1}: naive ${naiveRuns[i]!.seconds.toFixed(2)} s, fresh ${freshRuns[i]!.seconds.toFixed(2)} s, unchanged ${againRuns[i]!.seconds.toFixed(2)} s`);
    }
    const [naiveProcess, fresh, again] = [best(naiveRuns), best(freshRuns), best(againRuns)];
    console.log(`naive process          ${naiveProcess.seconds.toFixed(2)} s, peak RSS ${naiveProcess.maxRssMb.toFixed(0)} MB`);
    console.log(`collect, fresh db      ${fresh.seconds.toFixed(2)} s, peak RSS ${fresh.maxRssMb.toFixed(0)} MB  ${ratioOf(naiveProcess, fresh)} naive process  (${fresh.last})`);
    console.log(`collect, unchanged     ${again.seconds.toFixed(2)} s, peak RSS ${again.maxRssMb.toFixed(0)} MB  (${again.last})`);
    // validate parses every line as the naive parse does: about as long, once. It listed the folder
    // once per log until stop 29 (74 s here), a cliff this row would show again.
    const validate = runProcess([path.resolve('dist/cli.js'), 'validate', dir]);
    if (validate.code !== 0) throw new Error(`validate ${dir} exited ${validate.code}: ${validate.stderr.slice(0, 2000)}`);
    console.log(`validate               ${validate.seconds.toFixed(2)} s, peak RSS ${validate.maxRssMb.toFixed(0)} MB  ${(validate.seconds / naiveProcess.seconds).toFixed(2)}x the naive process's time  (${validate.stderr.split('\n').at(-1)})`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  if (process.env.BENCH_SMALL_INPROCESS !== '0') {
    const inProcess = await measure('small-ingest', dir);
    console.log(`collectEventLogs + ingest in one process: ${inProcess.detail}; peak RSS ${inProcess.maxRssMb.toFixed(0)} MB`);
  }
}

/** `BENCH_ONLY=hs,database npm run bench` runs just those sections. */
function want(section: string): boolean {
  const only = process.env.BENCH_ONLY;
  return !only || only.split(',').includes(section);
}

async function main(): Promise<void> {
  const mb = Number(process.env.BENCH_MB ?? 500);
  const bigMb = Number(process.env.BENCH_BIG_MB ?? 0);
  const plain = path.join(DATA, `bench-${mb}mb`);
  console.log(`node ${process.version}; ${availableParallelism()} cores`);

  if (want('shapes')) await shapesSection();
  // Within the shapes section too; alone with BENCH_ONLY=summaries-cost.
  if (process.env.BENCH_ONLY?.split(',').includes('summaries-cost')) await summariesCostSection();
  if (want('small')) await smallSection();

  if (want('engine')) {
    await ensureLog(plain, mb);
    console.log(`\nlog ${plain} (${(statSync(plain).size / MB).toFixed(0)} MB)`);
    console.log('Uncompressed (engine vs naive readline + JSON.parse):');
    const naive = await measure('naive', plain);
    console.log(row(naive));
    const engine = await measure('engine', plain);
    console.log(row(engine, naive));
  }

  if (want('compressed')) {
    console.log('\nCompressed (MB/s of decompressed output through the whole engine):');
    const compressedMb = Math.min(mb, 200);
    const small = path.join(DATA, `bench-${compressedMb}mb`);
    await ensureLog(small, compressedMb);
    const decoded = String(statSync(small).size);
    for (const [codec, file] of Object.entries(await compressAll(small))) {
      const m = await measure(`engine-${codec}`, file, { BENCH_DECODED: decoded });
      console.log(row(m));
    }
  }

  if (want('folder')) {
    console.log(`\nA folder of logs (one thread vs the worker pool, ${availableParallelism()} cores):`);
    const folder = path.join(DATA, 'folder');
    const logs = 8;
    for (let i = 0; i < logs; i++) await ensureLog(path.join(folder, `app-${i}`), 40);
    const folderBytes = String(Array.from({ length: logs }, (_, i) => statSync(path.join(folder, `app-${i}`)).size).reduce((a, b) => a + b, 0));
    const serial = await measure('folder-serial', folder, { BENCH_DECODED: folderBytes });
    console.log(row(serial));
    console.log(row(await measure('folder-pool', folder, { BENCH_DECODED: folderBytes }), serial).replace('baseline', 'one thread'));
  }

  if (want('analyze')) {
    console.log('\nAnalysis (the editor\'s event-log analyzer, every line parsed):');
    const hundred = path.join(DATA, 'bench-100mb');
    await ensureLog(hundred, 100);
    console.log(row(await measure('analyze', hundred)));
  }

  if (want('host')) {
    console.log('\nEditor responsiveness (10,000 logs collected in a worker; this thread only upserts and saves):');
    const many = path.join(DATA, 'many-logs');
    if (!existsSync(path.join(many, 'app-09999'))) {
      mkdirSync(many, { recursive: true });
      const text = eventLogText({ stages: 2, tasksPerStage: 10 }).text;
      for (let i = 0; i < 10_000; i++) writeFileSync(path.join(many, `app-${String(i).padStart(5, '0')}`), text.replaceAll('spark-0123456789abcdef0123456789abcdef', `app-${i}`));
    }
    const host = await measure('host', many);
    console.log(`host                   ${host.detail}; peak RSS ${host.maxRssMb.toFixed(0)} MB`);
  }

  if (want('hs')) {
    console.log('\nHistory Server collector (400 applications from a local server, 10 ms per request):');
    const hsApps: SyntheticApp[] = Array.from({ length: 400 }, (_, i) => ({
      id: `app-${i}`,
      startMs: Date.UTC(2024, 0, 1) + i * 60_000,
      endMs: Date.UTC(2024, 0, 1) + i * 60_000 + 30_000,
      properties: { 'spark.executor.cores': '2', 'spark.executor.memory': '4g' },
      executors: [{ id: '1', cores: 2 }, { id: '2', cores: 2 }],
      stages: [{ id: 0, status: 'COMPLETE', complete: 100, cpuNs: 5e9, input: 1e9 }],
    }));
    const slow = (route: Route): Route => (_req, res) =>
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify((route as { json: unknown }).json));
      }, 10);
    const server = await startFakeServer(Object.fromEntries(Object.entries({ applications: { json: syntheticListing(hsApps) }, ...syntheticRoutes(hsApps) }).map(([k, r]) => [k, slow(r)])));
    try {
      for (const c of [1, 4, 16]) console.log(`hs                     ${(await measure(`hs-${c}`, server.url)).detail}`);
    } finally {
      await server.close();
    }
  }

  if (want('database')) {
    console.log('\nDatabase (sql.js):');
    const db = await measure('database', DATA);
    console.log(`database               ${db.detail}; peak RSS ${db.maxRssMb.toFixed(0)} MB`);
  }

  if (want('postgres')) await postgresSection();

  if (want('summaries')) {
    console.log('\nStage and executor summaries in the database (issue 15; without -> with, Spark-like environments):');
    const sums = await measure('summaries', DATA);
    console.log(`summaries              ${sums.detail}; peak RSS ${sums.maxRssMb.toFixed(0)} MB`);
  }

  if (want('views')) {
    console.log('\nViews (issue 15; the host reads the store and builds the model, the page draws it in headless Chromium):');
    const views = await measure('views', DATA);
    console.log(`views                  ${views.detail}; peak RSS ${views.maxRssMb.toFixed(0)} MB`);
  }

  if (want('regression')) {
    console.log('\nRegression check (issue 18; checkRegressions over a store of 100,000 runs, target < 200 ms per 1,000 new runs):');
    const regression = await measure('regression', DATA);
    console.log(`regression             ${regression.detail}; peak RSS ${regression.maxRssMb.toFixed(0)} MB`);
  }

  if (want('big')) {
    if (bigMb > 0) {
      console.log(`\nPeak memory vs file size (issue 12: < 150 MB for a 2 GB log):`);
      const big = path.join(DATA, `bench-${bigMb}mb`);
      await ensureLog(big, bigMb);
      console.log(row(await measure('engine', big), undefined));
      // The generated log has few stages; the Spark 3.0 shape has a stage per two tasks (~150,000 at 2 GB),
      // whose summaries grow with them: the engine and the whole collect, as a user runs it.
      const stagey = REAL_SHAPES.find((s) => s.name === 'spark3.0')!;
      const file = path.join(DATA, 'shapes', `spark3_0-${bigMb}mb`);
      await ensureShape(file, stagey.file, bigMb);
      console.log(row({ ...(await measure('engine', file)), name: 'spark3.0 engine' }, undefined));
      const tmp = mkdtempSync(path.join(tmpdir(), 'bench-big-'));
      try {
        const cli = cliCollect(file, path.join(tmp, 'jobs.db'));
        console.log(`${'spark3.0 collect'.padEnd(22)} ${(statSync(file).size / MB).toFixed(0).padStart(6)} MB  ${cli.seconds.toFixed(2).padStart(7)} s  peak RSS ${cli.maxRssMb.toFixed(0).padStart(4)} MB (whole process)  (${cli.last})`);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    }
  }
}

if (process.argv[2] === '--child') {
  child(process.argv[3]!, process.argv[4]!).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
