/**
 * A collection killed while it downloads (SIGKILL: an out-of-memory kill, a closed editor) runs no
 * `finally`, so its download folder stays in the OS temp folder: History Server mode eventlog's
 * `spark-opt-hs-*`, EMR's `spark-optimizer-emr-*`, Databricks' `spark-opt-dbfs-*`, each possibly
 * gigabytes of logs. The next collection of any of them removes it once its owner is gone
 * (downloadFolders.ts), and never the folder of a collection still going.
 *
 * The built CLI (`node scripts/build.mjs` first) runs as a child process against the fakes served
 * here on 127.0.0.1; the first download request is held (never answered), so the first collection
 * is killed with its folder there. Each child has TMPDIR set to this file's own temp root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDatabricksFake, workspace } from './support/databricksFake';
import { EmrFake, fakeCluster, T0 } from './support/emrFake';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing } from './support/historyServerFake';
import { ownTempRoot, tempDir } from './support/tmp';
import { zip } from './support/zip';
import { childEnv } from './support/isolatedEnv';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
/** The most one child may take (a collection of one log, on a loaded 2-core machine). */
const CHILD_MS = 60_000;

const inRoot = ownTempRoot('spark-opt');

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A source that downloads logs, served by its fake, whose first download request is held. */
interface Downloading {
  prefix: string;
  /** The config file's lines for the source (timeout 600 s: the held request must not time out while the test looks). */
  source: string[];
  env: Record<string, string>;
  /** Whether the held download request has arrived (the folder exists by then). */
  held: () => boolean;
}

/** History Server mode eventlog: one application, its /logs zip; the first answer sends half the zip and stops. */
async function historyServer(): Promise<Downloading> {
  const log = eventLogText({ appId: 'app-killed', stages: 2, tasksPerStage: 10, startMs: Date.UTC(2024, 5, 1) });
  const bytes = await zip({ 'app-killed': log.text });
  let held = false;
  const server = await startFakeServer({
    applications: { json: syntheticListing([{ id: 'app-killed', startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }]) },
    'applications/app-killed/logs': (_req: unknown, res: ServerResponse, hit: number) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
      if (hit > 1) return void res.end(bytes);
      res.write(bytes.subarray(0, bytes.length >> 1));
      held = true;
    },
  });
  closers.push(server.close);
  return { prefix: 'spark-opt-hs-', source: ['type: history_server', `history_server_url: ${server.url}`, 'mode: eventlog'], env: {}, held: () => held };
}

/** EMR with an S3 event-log dir: one cluster, one Spark step, its log; the first GetObject is never answered. */
async function emr(): Promise<Downloading> {
  const fake = new EmrFake();
  const url = await fake.start();
  closers.push(() => fake.stop());
  fake.clusters = [
    fakeCluster(0, [
      {
        Id: 's-KILLED',
        Name: 'job',
        Config: { Jar: 'command-runner.jar', Args: ['spark-submit', 's3://code/job.py'] },
        Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(T0 + 60_000), StartDateTime: new Date(T0 + 120_000), EndDateTime: new Date(T0 + 600_000) } },
      },
    ]),
  ];
  const log = eventLogText({ appId: 'application_1750000000000_0001', startMs: T0 + 180_000, stages: 2, tasksPerStage: 10 });
  fake.putObject('logs', `spark/events/${log.totals.app_id}`, log.text);
  let held = false;
  fake.gate = (r) => {
    if (r.target !== 's3' || r.url.includes('list-type=') || held) return undefined;
    held = true;
    return new Promise<void>(() => undefined);
  };
  return {
    prefix: 'spark-optimizer-emr-',
    source: ['type: emr', 'region: us-east-1', `endpoint_url: ${url}`, 'cloudwatch: false', 'event_log_dir: s3://logs/spark/events'],
    env: { AWS_ACCESS_KEY_ID: 'AKIAKILLEDTEST000042', AWS_SECRET_ACCESS_KEY: 'killedTestSecret/0042' },
    held: () => held,
  };
}

/** Databricks with a dbfs:/ event-log dir: runs on three clusters, one with a log; the first dbfs/read is never answered. */
async function databricks(): Promise<Downloading> {
  const token = 'dapiKILLEDtest0000000000000000beef';
  const ws = workspace(3, { sharedClusters: 3 });
  const { cluster_id, spark_context_id } = ws.runs[2]!.tasks[0]!.cluster_instance;
  const log = eventLogText({ appId: 'app-20260601080000-0042', user: 'root', stages: 2, tasksPerStage: 10 });
  let held = false;
  const fake = await startDatabricksFake({
    token,
    ...ws,
    dbfs: { [`dbfs:/cluster-logs/${cluster_id}/eventlog/${cluster_id}_10_0_0_1/${spark_context_id}/eventlog`]: Buffer.from(log.text) },
    fault: (req, hit) => {
      if (req.path !== '/api/2.0/dbfs/read' || hit > 1) return undefined;
      held = true;
      return true;
    },
  });
  closers.push(fake.close);
  return { prefix: 'spark-opt-dbfs-', source: ['type: databricks', `endpoint_url: ${fake.url}`, 'event_log_dir: dbfs:/cluster-logs'], env: { DATABRICKS_TOKEN: token }, held: () => held };
}

/** A child collection and what it wrote (stdout and stderr). */
type Collection = ChildProcess & { out: string };

/** `collect` of `d`'s source into a database of its own. */
function collect(d: Downloading, work: string, name: string): Collection {
  const dir = path.join(work, name);
  mkdirSync(dir);
  const config = path.join(dir, 'spark-optimizer.yaml');
  writeFileSync(config, ['sources:', `  - name: ${name}`, '    timeout: 600', ...d.source.map((l) => `    ${l}`), ''].join('\n'));
  const child = Object.assign(spawn(process.execPath, [CLI, 'collect', '--config', config, '--db', path.join(dir, 'jobs.db')], { cwd: dir, env: childEnv(dir, d.env), stdio: ['ignore', 'pipe', 'pipe'] }), { out: '' });
  child.stdout.on('data', (c: Buffer) => (child.out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (child.out += c.toString()));
  return child;
}

/** Waits for `child` to end by itself (at most CHILD_MS); its exit code and output. */
async function ended(child: Collection): Promise<{ code: number | null; out: string }> {
  const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_MS);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, out: child.out };
}

/** Polls (every 50 ms, at most CHILD_MS) until `ready`; fails if the child ends first. */
async function until(child: Collection, ready: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + CHILD_MS;
  while (!ready()) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the collection ended (${child.exitCode ?? child.signalCode}) before ${what}: ${child.out}`);
    if (Date.now() > deadline) throw new Error(`no ${what} within ${CHILD_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function killed(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

describe.each([
  ['History Server mode eventlog', historyServer],
  ['EMR with an s3:// event_log_dir', emr],
  ['Databricks with a dbfs:/ event_log_dir', databricks],
])('%s: a collection killed (SIGKILL) while it downloads', (_name, serve) => {
  it("leaves its download folder, which the next collection removes; a collection still going keeps its own", { timeout: 4 * CHILD_MS }, async () => {
    const d = await serve();
    const work = tempDir();
    const folders = (): string[] => inRoot().filter((n) => n.startsWith(d.prefix));
    expect(folders()).toEqual([]);

    const first = collect(d, work, 'first');
    let left: string;
    try {
      await until(first, d.held, 'download request');
      expect(folders()).toHaveLength(1);
      left = path.join(tmpdir(), folders()[0]!);
      // Another collection while the first still goes: its own folder goes, the first one's stays.
      const meanwhile = await ended(collect(d, work, 'meanwhile'));
      expect(meanwhile.code, meanwhile.out).toBe(0);
      expect(existsSync(left)).toBe(true);
    } finally {
      await killed(first);
    }
    expect(first.signalCode).toBe('SIGKILL');
    // Nothing removes it at the kill: it is there with what was downloaded.
    expect(existsSync(left)).toBe(true);

    const next = await ended(collect(d, work, 'next'));
    expect(next.code, next.out).toBe(0);
    expect(folders()).toEqual([]);
  });
});
