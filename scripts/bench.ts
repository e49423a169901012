/**
 * `npm run bench`: throughput and peak memory of the event-log engine against a naive baseline
 * (readline + JSON.parse of every line), each measured in its own child process of this script so
 * peak RSS is per measurement. Prints ratios; BENCHMARKS.md records the figures.
 *
 *   BENCH_MB=600 BENCH_BIG_MB=2048 npm run bench
 */
import { fork } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdirSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { once } from 'node:events';
import { gzipSync } from 'node:zlib';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { collectAll, type Batch } from '../src/collectors/eventlog/collect';
import { JobStore } from '../src/storage/jobStore';
import type { SparkAppRecord } from '../src/collectors/record';
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
import { codecFromName } from '../src/collectors/eventlog/codecs/index';
import { generateEventLog, emptyTotals } from '../test/support/eventLogGenerator';

const DATA = path.resolve(process.env.BENCH_DIR ?? 'bench-data');
const MB = 1024 * 1024;

interface Measurement {
  name: string;
  seconds: number;
  inputBytes: number;
  outputBytes: number;
  maxRssMb: number;
  detail: string;
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
      apps: records.map((record) => ({ record, problems: [], files: [], unit: { layout: 'single', path: record.app_id, files: [], appIdHint: record.app_id, inProgress: false, compacted: false } })),
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
      { kind: 'event_log', options: { path: folder, recursive: true, source: 'bench', batchSize: 100 }, known: store.knownFiles(), poolScript: path.resolve('dist/worker.js') },
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

/** Child side: run one measurement and send the result to the parent. */
async function child(kind: string, file: string): Promise<void> {
  // Sampled, not getrusage's maxRSS: on Linux that survives fork+exec and would include the parent's peak.
  let peakRss = process.memoryUsage.rss();
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage.rss());
  }, 5);
  const started = process.hrtime.bigint();
  let outputBytes = 0;
  let detail = '';
  if (kind === 'naive') {
    const rl = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    let tasks = 0;
    let cpu = 0;
    for await (const line of rl) {
      outputBytes += line.length + 1;
      const e = JSON.parse(line) as { Event: string; 'Task Metrics'?: { 'Executor CPU Time'?: number } };
      if (e.Event === 'SparkListenerTaskEnd') {
        tasks++;
        cpu += e['Task Metrics']?.['Executor CPU Time'] ?? 0;
      }
    }
    detail = `${tasks} tasks, cpu ${Math.floor(cpu / 1e6)} ms`;
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
  } else if (kind === 'host') {
    detail = await hostStall(file);
  } else if (kind === 'database') {
    detail = await databaseFigures(Number(process.env.BENCH_ROWS ?? 100_000));
  } else if (kind.startsWith('folder')) {
    // A folder of logs: concurrency 1 on this thread vs the worker pool on every core.
    const pooled = kind === 'folder-pool';
    const r = await collectAll({ path: file, concurrency: pooled ? undefined : 1 }, pooled ? { workerScript: path.resolve('dist/worker.js') } : {});
    outputBytes = Number(process.env.BENCH_DECODED ?? 0);
    detail = `${r.apps.length} apps, ${r.apps.reduce((n, a) => n + a.record.total_tasks, 0)} tasks`;
  } else {
    let decoded = 0;
    const result = await readUnit(unitFor(file), { source: 'bench' });
    decoded = statSync(file).size;
    const r = result.record;
    detail = r ? `${r.total_tasks} tasks, cpu ${r.cpu_time_ms} ms, ${result.problems.length} problems` : 'no record';
    outputBytes = kind === 'engine' ? decoded : Number(process.env.BENCH_DECODED ?? 0);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  clearInterval(sampler);
  const maxRssMb = Math.max(peakRss, process.memoryUsage.rss()) / MB;
  process.send!({ name: kind, seconds, inputBytes: existsSync(file) ? statSync(file).size : 0, outputBytes, maxRssMb, detail } satisfies Measurement);
}

function measure(kind: string, file: string, env: Record<string, string> = {}): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const p = fork(__filename, ['--child', kind, file], { env: { ...process.env, ...env }, execArgv: [] });
    p.once('message', (m) => resolve(m as Measurement));
    p.once('error', reject);
    p.once('exit', (code) => code !== 0 && reject(new Error(`${kind} exited ${code}`)));
  });
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

/** `BENCH_ONLY=hs,database npm run bench` runs just those sections. */
function want(section: string): boolean {
  const only = process.env.BENCH_ONLY;
  return !only || only.split(',').includes(section);
}

async function main(): Promise<void> {
  const mb = Number(process.env.BENCH_MB ?? 500);
  const bigMb = Number(process.env.BENCH_BIG_MB ?? 0);
  const plain = path.join(DATA, `bench-${mb}mb`);
  await ensureLog(plain, mb);
  console.log(`node ${process.version}; log ${plain} (${(statSync(plain).size / MB).toFixed(0)} MB)\n`);

  if (want('engine')) {
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

  if (want('big')) {
    if (bigMb > 0) {
      console.log('\nPeak memory vs file size:');
      const big = path.join(DATA, `bench-${bigMb}mb`);
      await ensureLog(big, bigMb);
      console.log(row(await measure('engine', big), undefined));
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
