/**
 * The Databricks collector against a real HTTP server on 127.0.0.1 (test/support/databricksFake.ts)
 * that speaks the Jobs 2.1, Clusters 2.1 (`clusters/get`, `clusters/events`) and DBFS 2.0 JSON shapes
 * and checks the bearer token. Expected values are computed from the generated workspace each test builds.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import { collectDatabricks, collectDatabricksAll, type DatabricksOptions } from '../src/collectors/databricks/collect';
import { runStatus } from '../src/collectors/databricks/record';
import { oauthTokenProvider } from '../src/collectors/databricks/credentials';
import { parseIni } from '../src/collectors/databricks/profile';
import { databricksOptions } from '../src/collectors/databricks/source';
import { recordedOptions } from '../src/collectors/registry';
import type { CollectProgress } from '../src/collectors/contract';
import { Quality, type SparkAppRecord } from '../src/collectors/record';
import { startDatabricksFake, workersIn, workspace, type ClusterEvent, type DatabricksFake, type DatabricksFakeOptions, type GeneratedRun, type Workspace } from './support/databricksFake';
import { eventLogText } from './support/eventLogGenerator';
import { DATABRICKS_ENV, isolatedEnv } from './support/isolatedEnv';
import { tempDir } from './support/tmp';

const TOKEN = 'dapi-test-0123456789abcdef';
/** A recognisable secret that must never show up in any output. */
const SECRET = 'dapiSECRETfeedface0000000000000042';

const fakes: DatabricksFake[] = [];
/** A temporary HOME for each test: no real ~/.databrickscfg can leak in. */
const env = isolatedEnv(DATABRICKS_ENV, 'dbx-home-');
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function serve(opts: Partial<DatabricksFakeOptions> & { runs: unknown[] }): Promise<DatabricksFake> {
  const f = await startDatabricksFake({ token: TOKEN, ...opts });
  fakes.push(f);
  return f;
}
/** Fast retries for tests: the backoff shape is JsonClient's (tested there), not waited for here. */
const fast = (url: string, extra: Partial<DatabricksOptions> = {}): DatabricksOptions => ({ endpointUrl: url, token: TOKEN, tokenSource: 'test token', source: 'dbx', backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000, ...extra });

const listRequests = (f: DatabricksFake): URLSearchParams[] => f.requests.filter((r) => r.path === '/api/2.1/jobs/runs/list').map((r) => r.query);
const clusterRequests = (f: DatabricksFake, id?: string): number => f.requests.filter((r) => r.path === '/api/2.1/clusters/get' && (id === undefined || r.query.get('cluster_id') === id)).length;
const byId = (records: SparkAppRecord[]): Map<string, SparkAppRecord> => new Map(records.map((r) => [r.app_id, r]));
const runKey = (run: { run_id: number }): string => `databricks-run-${run.run_id}`;

const eventRequests = (f: DatabricksFake): FakeEventsBody[] => f.requests.filter((r) => r.path === '/api/2.1/clusters/events').map((r) => r.body as FakeEventsBody);
interface FakeEventsBody {
  cluster_id: string;
  start_time?: number;
  end_time?: number;
  order?: string;
  event_types?: string[];
  page_token?: string;
}

/** JVM memory string -> MB, for the few units the fixture writes (independent of jvmUnits.ts). */
const mb = (s: string): number => {
  const m = /^(\d+)([mg])$/.exec(s)!;
  return Number(m[1]) * (m[2] === 'g' ? 1024 : 1);
};

function configFor(extra: Record<string, unknown>): Extract<SourceConfig, { type: 'databricks' }> {
  return { ...SOURCE_SCHEMAS.databricks.parse({ type: 'databricks', ...extra }), name: 'prod' };
}

describe('Databricks: runs, pages and clusters', () => {
  it('reads every run once across 3 pages, leaves out those that ended before since as listed, and fetches each cluster once', async () => {
    const ws = workspace(70);
    const f = await serve(ws);
    const since = new Date(ws.runs[5]!.start_time);
    const progress: CollectProgress[] = [];
    const batches: number[] = [];
    const records: SparkAppRecord[] = [];
    for await (const b of collectDatabricks(fast(f.url, { since, batchSize: 10 }), { onProgress: (p) => progress.push(p) })) {
      batches.push(b.apps.length + b.problems.length + b.filtered);
      records.push(...b.apps.map((a) => a.record));
      expect(b.problems).toEqual([]);
      for (const a of b.apps) expect(a.problems).toEqual([]);
    }
    const expected = ws.runs.filter((r) => r.start_time >= since.getTime());
    expect(expected.length).toBeGreaterThan(50);
    // Every run exactly once.
    expect(records.map((r) => r.app_id).sort()).toEqual(expected.map(runKey).sort());
    // Yielded as it went, never one big array.
    expect(Math.max(...batches)).toBeLessThanOrEqual(10);
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 10));

    const lists = listRequests(f);
    expect(lists).toHaveLength(Math.ceil(ws.runs.length / 25));
    expect(lists.length).toBeGreaterThanOrEqual(3);
    for (const q of lists) {
      // runs/list filters by start time only: a start_time_from would drop runs that ended after since.
      expect(q.has('start_time_from')).toBe(false);
      expect(q.get('expand_tasks')).toBe('true');
      expect(Number(q.get('limit'))).toBeLessThanOrEqual(25);
    }
    expect(lists[0]!.has('page_token')).toBe(false);
    for (const q of lists.slice(1)) expect(q.get('page_token')).toBeTruthy();
    // Many runs share a cluster: each is read once.
    expect(clusterRequests(f)).toBe(Object.keys(ws.clusters).length);

    const last = progress.at(-1)!;
    expect(last.logsFound).toBe(expected.length);
    expect(last.logsDone).toBe(expected.length);
    expect(last.apps).toBe(expected.length);
    expect(last.bytesRead).toBeGreaterThan(0);
  });

  it('maps each run and its cluster onto the record, platform-level', async () => {
    const ws = workspace(12);
    const f = await serve(ws);
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    const got = byId(r.apps.map((a) => a.record));
    expect(got.size).toBe(ws.runs.length);
    // Both kinds of cluster are covered: fixed-size and autoscaling.
    expect(ws.runs.some((run) => ws.clusters[run.tasks[0]!.cluster_instance.cluster_id]!.autoscale !== undefined)).toBe(true);
    expect(ws.runs.some((run) => ws.clusters[run.tasks[0]!.cluster_instance.cluster_id]!.autoscale === undefined)).toBe(true);
    for (const run of ws.runs) {
      const rec = got.get(runKey(run))!;
      const clusterId = run.tasks[0]!.cluster_instance.cluster_id;
      const c = ws.clusters[clusterId]!;
      expect(rec.attempt_id).toBeNull();
      expect(rec.app_name).toBe(run.run_name);
      expect(rec.user).toBe(run.creator_user_name);
      expect(rec.start_time).toBe(new Date(run.start_time).toISOString());
      expect(rec.end_time).toBe(new Date(run.end_time).toISOString());
      expect(rec.duration_ms).toBe(run.end_time - run.start_time);
      expect(rec.status).toBe(run.state.result_state === 'SUCCESS' ? 'completed' : 'failed');
      expect(rec.source).toBe('dbx');
      expect(rec.spark_version).toBeNull();
      // A fixed-size cluster's workers are its executors; an autoscaling one's are the most its events
      // show over the run's window.
      const seen = c.autoscale ? workersIn(ws.events?.[clusterId], run.start_time, run.end_time) : undefined;
      if (c.autoscale) expect(seen).toBeDefined();
      expect(rec.num_executors).toBe(c.autoscale ? seen!.max : c.num_workers);
      expect(rec.quality).not.toContain('missing:num_executors');
      expect(rec.tags.workers_min_seen).toBe(seen === undefined ? undefined : String(seen.min));
      expect(rec.tags.workers_max_seen).toBe(seen === undefined ? undefined : String(seen.max));
      expect(rec.executor_cores).toBe(Number(c.spark_conf['spark.executor.cores']));
      expect(rec.executor_memory_mb).toBe(mb(c.spark_conf['spark.executor.memory']!));
      expect(rec.driver_memory_mb).toBe(mb(c.spark_conf['spark.driver.memory']!));
      expect(rec.total_tasks).toBe(0);
      expect(rec.quality).toEqual(expect.arrayContaining([Quality.platformLevel, 'missing:total_tasks', 'missing:cpu_time_ms', 'missing:shuffle_read_bytes', 'missing:spark_version']));
      expect(rec.quality).not.toContain('missing:executor_memory_mb');
      expect(rec.tags).toMatchObject({ run_id: String(run.run_id), job_id: String(run.job_id), cluster_id: clusterId, runtime: c.spark_version, node_type: c.node_type_id, driver_node_type: c.driver_node_type_id, result_state: run.state.result_state, spark_context_id: run.tasks[0]!.cluster_instance.spark_context_id });
      if (c.autoscale) {
        expect(rec.tags.autoscale).toBe(`${c.autoscale.min_workers}-${c.autoscale.max_workers}`);
        expect(rec.tags.autoscale_min_workers).toBe(String(c.autoscale.min_workers));
        expect(rec.tags.autoscale_max_workers).toBe(String(c.autoscale.max_workers));
        expect(rec.tags.num_workers).toBeUndefined();
      } else expect(rec.tags.num_workers).toBe(String(c.num_workers));
      if (run.state.state_message !== '') expect(rec.tags.state_message).toBe(run.state.state_message);
      // spark_conf goes to environment, with the secret-looking key redacted.
      expect(rec.environment['spark.executor.memory']).toBe(c.spark_conf['spark.executor.memory']);
      const secretKey = 'spark.hadoop.fs.azure.account.key';
      expect(rec.environment[secretKey]).toBeDefined();
      expect(rec.environment[secretKey]).not.toBe(c.spark_conf[secretKey]);
    }
  });

  it("a multi-task run's setup/execution durations, 0 by the API's definition, are left out and flagged; run_duration is kept (issue 14)", async () => {
    const ws = workspace(3, { sharedClusters: 1 });
    const [a, b, c] = ws.runs as [GeneratedRun, GeneratedRun, GeneratedRun];
    const cluster = a.tasks[0]!.cluster_instance;
    const task = (key: string, setup: number, execution: number): Record<string, unknown> => ({ task_key: key, existing_cluster_id: cluster.cluster_id, cluster_instance: cluster, setup_duration: setup, execution_duration: execution, cleanup_duration: 0 });
    // Jobs API 2.1 runs/get: "The setup_duration field is set to 0 for multitask job runs. The total
    // duration of a multitask job run is the value of the run_duration field."
    const zeros = { setup_duration: 0, execution_duration: 0, cleanup_duration: 0 };
    const runs = [
      { ...a, format: 'MULTI_TASK', ...zeros, run_duration: 420_000, tasks: [task('extract', 60_000, 200_000), task('load', 5_000, 150_000)] },
      { ...b, format: 'MULTI_TASK', ...zeros, run_duration: 170_000, tasks: [task('only', 45_000, 120_000)] },
      { ...c, format: 'SINGLE_TASK', setup_duration: 30_000, execution_duration: 90_000, cleanup_duration: 1_000 },
    ];
    const f = await serve({ runs, clusters: ws.clusters });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    const got = byId(r.apps.map((x) => x.record));
    const multi = got.get(runKey(a))!;
    expect(multi.tags.setup_duration_ms).toBeUndefined();
    expect(multi.tags.execution_duration_ms).toBeUndefined();
    expect(multi.tags.run_duration_ms).toBe('420000');
    expect(multi.quality).toEqual(expect.arrayContaining(['missing:tags.setup_duration_ms', 'missing:tags.execution_duration_ms']));
    expect(multi.duration_ms).toBe(a.end_time - a.start_time);
    // One task: its own durations are the run's.
    const single = got.get(runKey(b))!;
    expect([single.tags.setup_duration_ms, single.tags.execution_duration_ms, single.tags.run_duration_ms]).toEqual(['45000', '120000', '170000']);
    expect(single.quality.filter((q) => q.startsWith('missing:tags.'))).toEqual([]);
    // A single-task-format run reports them itself.
    const old = got.get(runKey(c))!;
    expect([old.tags.setup_duration_ms, old.tags.execution_duration_ms, old.tags.run_duration_ms]).toEqual(['30000', '90000', undefined]);
    expect(old.quality.filter((q) => q.startsWith('missing:tags.'))).toEqual([]);
  });

  it('maps life-cycle and result states to completed / failed / running / unknown', async () => {
    const base = workspace(1).runs[0]!;
    const cases: [GeneratedRun['state'], SparkAppRecord['status']][] = [
      [{ life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '' }, 'completed'],
      [{ life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'boom' }, 'failed'],
      [{ life_cycle_state: 'TERMINATED', result_state: 'TIMEDOUT', state_message: '' }, 'failed'],
      [{ life_cycle_state: 'TERMINATED', result_state: 'CANCELED', state_message: '' }, 'failed'],
      [{ life_cycle_state: 'INTERNAL_ERROR', result_state: 'FAILED', state_message: 'driver lost' }, 'failed'],
      [{ life_cycle_state: 'RUNNING', state_message: '' }, 'running'],
      [{ life_cycle_state: 'PENDING', state_message: 'waiting for cluster' }, 'running'],
      [{ life_cycle_state: 'QUEUED', state_message: '' }, 'running'],
      [{ life_cycle_state: 'BLOCKED', state_message: '' }, 'running'],
      [{ life_cycle_state: 'TERMINATING', state_message: '' }, 'running'],
      [{ life_cycle_state: 'SKIPPED', state_message: 'skipped' }, 'unknown'],
    ];
    // Newer answers may carry only `status` (state + termination code).
    expect(runStatus({ status: { state: 'TERMINATED', termination_details: { code: 'SUCCESS' } } })).toBe('completed');
    expect(runStatus({ status: { state: 'TERMINATED', termination_details: { code: 'RUN_EXECUTION_ERROR' } } })).toBe('failed');
    expect(runStatus({ status: { state: 'QUEUED' } })).toBe('running');
    const ws: Workspace = { clusters: workspace(1).clusters, runs: cases.map(([state], i) => ({ ...base, run_id: base.run_id + i, start_time: base.start_time + i, end_time: state.life_cycle_state === 'TERMINATED' || state.life_cycle_state === 'INTERNAL_ERROR' || state.life_cycle_state === 'SKIPPED' ? base.end_time : 0, state })) };
    const f = await serve(ws);
    const r = await collectDatabricksAll(fast(f.url));
    const got = byId(r.apps.map((a) => a.record));
    for (const [i, [state, status]] of cases.entries()) {
      const rec = got.get(runKey(ws.runs[i]!))!;
      expect(rec.status, state.life_cycle_state).toBe(status);
      expect(runStatus({ state })).toBe(status);
      if (status === 'running') {
        expect(rec.end_time).toBeNull();
        expect(rec.quality).toContain(Quality.inProgress);
      }
    }
  });

  it('reads runs/get when the listing leaves tasks out', async () => {
    const ws = workspace(4);
    const f = await serve({ ...ws, ignoreExpandTasks: true });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    expect(f.requests.filter((q) => q.path === '/api/2.1/jobs/runs/get').map((q) => Number(q.query.get('run_id'))).sort()).toEqual(ws.runs.map((x) => x.run_id).sort());
    for (const run of ws.runs) expect(byId(r.apps.map((a) => a.record)).get(runKey(run))!.tags.cluster_id).toBe(run.tasks[0]!.cluster_instance.cluster_id);
  });

  it('maxApps caps the runs read, and the user filter keeps one creator', async () => {
    const ws = workspace(60);
    const f = await serve(ws);
    const capped = await collectDatabricksAll(fast(f.url, { maxApps: 30 }));
    expect(capped.apps).toHaveLength(30);
    // Newest first, as the API lists them.
    const newest = [...ws.runs].sort((a, b) => b.start_time - a.start_time).slice(0, 30);
    expect(capped.apps.map((a) => a.record.app_id).sort()).toEqual(newest.map(runKey).sort());
    expect(listRequests(f)).toHaveLength(2);

    const user = ws.runs[1]!.creator_user_name;
    const mine = await collectDatabricksAll(fast(f.url, { user }));
    const expected = ws.runs.filter((r) => r.creator_user_name === user);
    expect(mine.apps.map((a) => a.record.app_id).sort()).toEqual(expected.map(runKey).sort());
    expect(mine.filtered).toBe(ws.runs.length - expected.length);
  });

  it('since keeps the runs that ended at or after it, also those that started before it; one that ended before is left out unread (issue 14)', async () => {
    const { clusters } = workspace(1, { sharedClusters: 1 });
    const shared = Object.keys(clusters)[0]!;
    // The run that ended before since has a cluster of its own: reading it would show it was not left out as listed.
    const own = '0601-old-cluster';
    const allClusters = { ...clusters, [own]: { ...clusters[shared]!, cluster_id: own } };
    const since = Date.UTC(2026, 5, 2, 0, 0, 0);
    const MIN = 60_000;
    const mk = (run_id: number, start: number, end: number, cluster = shared): GeneratedRun => ({
      run_id,
      job_id: 1,
      run_name: `run-${run_id}`,
      creator_user_name: 'ana@example.com',
      start_time: start,
      end_time: end,
      state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '' },
      tasks: [{ task_key: 't', existing_cluster_id: cluster, cluster_instance: { cluster_id: cluster, spark_context_id: String(run_id) } }],
    });
    const long = mk(1, since - 26 * 60 * MIN, since + 90 * MIN); // a day-long run, ended after since
    const atSince = mk(2, since - 30 * MIN, since); // ended exactly at since
    const fresh = mk(3, since + 5 * MIN, since + 20 * MIN);
    const old = mk(4, since - 3 * 60 * MIN, since - MIN, own); // ended a minute before since
    const f = await serve({ runs: [long, atSince, fresh, old], clusters: allClusters });
    const r = await collectDatabricksAll(fast(f.url, { since: new Date(since) }));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual([long, atSince, fresh].map(runKey).sort());
    const kept = byId(r.apps.map((a) => a.record)).get(runKey(long))!;
    expect([kept.start_time, kept.end_time]).toEqual([new Date(long.start_time).toISOString(), new Date(long.end_time).toISOString()]);
    expect(r.filtered).toBe(1);
    expect(clusterRequests(f, own)).toBe(0);
    expect(f.requests.some((q) => q.query.get('run_id') === String(old.run_id))).toBe(false);
  });

  it('maxApps counts only the runs that pass the user filter', async () => {
    const ws = workspace(60, { users: ['ana@example.com', 'bo@example.com', 'cy@example.com'] });
    const f = await serve(ws);
    const user = 'bo@example.com';
    const newestMine = [...ws.runs].sort((a, b) => b.start_time - a.start_time).filter((r) => r.creator_user_name === user);
    expect(newestMine.length).toBeGreaterThan(12);
    const r = await collectDatabricksAll(fast(f.url, { user, maxApps: 12 }));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(newestMine.slice(0, 12).map(runKey).sort());
  });
});

describe('Databricks: faults', () => {
  it('429 with Retry-After waits what the server asks, then goes on', async () => {
    const ws = workspace(30);
    const f = await serve({
      ...ws,
      fault: (req, hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/list' || hit !== 2) return undefined;
        res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end(JSON.stringify({ error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'rate limit' }));
        return true;
      },
    });
    // With a 1 ms backoff, a retry a second later can only come from Retry-After.
    const r = await collectDatabricksAll(fast(f.url, { backoffMs: 1, maxDelayMs: 5000 }));
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    const lists = f.requests.filter((q) => q.path === '/api/2.1/jobs/runs/list');
    expect(lists).toHaveLength(3);
    expect(lists[2]!.at - lists[1]!.at).toBeGreaterThanOrEqual(950);
    expect(lists[2]!.query.get('page_token')).toBe(lists[1]!.query.get('page_token'));
  });

  it('429 without Retry-After backs off and retries; endless 429 is one list-failed problem', async () => {
    const ws = workspace(30);
    let throttled = 0;
    const f = await serve({
      ...ws,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/clusters/get' || throttled >= 2) return undefined;
        throttled++;
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'REQUEST_LIMIT_EXCEEDED', message: 'rate limit' }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(throttled).toBe(2);
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    for (const a of r.apps) expect(a.problems).toEqual([]);

    const g = await serve({
      ...ws,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/list') return undefined;
        res.writeHead(429, { 'content-type': 'application/json' });
        res.end('{}');
        return true;
      },
    });
    const stuck = await collectDatabricksAll(fast(g.url, { maxAttempts: 3 }));
    expect(stuck.apps).toEqual([]);
    expect(stuck.problems).toHaveLength(1);
    expect(stuck.problems[0]!.code).toBe('list-failed');
    expect(stuck.problems[0]!.message).toMatch(/429.*gave up after 3 attempts/);
    expect(listRequests(g)).toHaveLength(3);
  });

  it('401: one auth-failed problem naming the token source, the run stops, the token appears nowhere', async () => {
    const ws = workspace(60);
    const f = await serve(ws);
    process.env.DATABRICKS_TOKEN = SECRET;
    const options = databricksOptions(configFor({ endpoint_url: f.url }));
    expect(options.tokenSource).toBe('token from DATABRICKS_TOKEN');
    const progress: CollectProgress[] = [];
    const r = await collectDatabricksAll(options, { onProgress: (p) => progress.push(p) });
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('auth-failed');
    expect(r.problems[0]!.message).toContain('DATABRICKS_TOKEN');
    expect(r.problems[0]!.message).toMatch(/401/);
    expect(f.requests).toHaveLength(1);
    // The server echoed the token it was sent; none of it may come out.
    expect(f.requests[0]!.authorization).toBe(`Bearer ${SECRET}`);
    expect(JSON.stringify({ r, progress })).not.toContain(SECRET);
  });

  it('a 403 on one cluster (cluster ACLs) is a problem of its runs only: they are stored, the run goes on', async () => {
    const ws = workspace(60);
    const denied = Object.keys(ws.clusters)[0]!;
    const f = await serve({
      ...ws,
      token: SECRET,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/clusters/get' || req.query.get('cluster_id') !== denied) return undefined;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: `token ${req.authorization ?? ''} may not read clusters` }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url, { token: SECRET, tokenSource: "token from the editor's secret storage" }));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(ws.runs.map(runKey).sort());
    const onDenied = new Set(ws.runs.filter((x) => x.tasks[0]!.cluster_instance.cluster_id === denied).map(runKey));
    expect(onDenied.size).toBeGreaterThan(0);
    for (const a of r.apps) {
      if (onDenied.has(a.record.app_id)) {
        expect(a.problems.map((p) => p.code)).toEqual(['cluster-forbidden']);
        expect(a.problems[0]!.message).toContain(denied);
        expect(a.problems[0]!.message).toMatch(/403/);
        // What is known is kept: the run's own facts and the cluster id.
        expect(a.record.tags.cluster_id).toBe(denied);
        expect(a.record.num_executors).toBeNull();
      } else expect(a.problems).toEqual([]);
    }
    expect(listRequests(f)).toHaveLength(Math.ceil(ws.runs.length / 25));
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('a 403 on runs/get is a problem of that run, stored from the listing', async () => {
    const ws = workspace(6);
    const denied = ws.runs[2]!;
    const f = await serve({
      ...ws,
      ignoreExpandTasks: true,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/get' || req.query.get('run_id') !== String(denied.run_id)) return undefined;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'may not view this run' }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(ws.runs.map(runKey).sort());
    for (const a of r.apps) {
      if (a.record.app_id === runKey(denied)) {
        expect(a.problems.map((p) => p.code)).toEqual(['forbidden', 'no-cluster']);
        expect(a.record.app_name).toBe(denied.run_name);
        expect(a.record.duration_ms).toBe(denied.end_time - denied.start_time);
      } else expect(a.problems).toEqual([]);
    }
  });

  it('a 403 on the runs listing stops the run once, naming the token source', async () => {
    const ws = workspace(10);
    const f = await serve({
      ...ws,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/list') return undefined;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: 'no' }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(r.problems[0]!.message).toContain('test token');
  });

  it('a 401 in the middle of the run (a cluster) stops it once, naming the token source', async () => {
    const ws = workspace(60);
    const f = await serve({
      ...ws,
      token: SECRET,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/clusters/get') return undefined;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'UNAUTHORIZED', message: `token ${req.authorization ?? ''} expired` }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url, { token: SECRET, tokenSource: "token from the editor's secret storage" }));
    // The listing was accepted: the 401 came mid-run.
    expect(f.requests[0]!.path).toBe('/api/2.1/jobs/runs/list');
    expect(clusterRequests(f)).toBeGreaterThan(0);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('auth-failed');
    expect(r.problems[0]!.message).toMatch(/401/);
    expect(r.problems[0]!.message).toContain("the editor's secret storage");
    expect(r.apps).toEqual([]);
    expect(listRequests(f)).toHaveLength(1);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('missing host or token is reported before any request, naming the variables to set', async () => {
    const ws = workspace(3);
    const f = await serve(ws);
    const noToken = await collectDatabricksAll({ endpointUrl: f.url, source: 'dbx' });
    expect(noToken.problems).toHaveLength(1);
    expect(noToken.problems[0]!.code).toBe('auth-failed');
    expect(noToken.problems[0]!.message).toContain('DATABRICKS_TOKEN');

    const noHost = await collectDatabricksAll({ token: SECRET, source: 'dbx' });
    expect(noHost.problems.map((p) => p.code)).toEqual(['config']);
    expect(noHost.problems[0]!.message).toContain('DATABRICKS_HOST');

    // A ${env:VAR} token whose variable is not set.
    delete process.env.SPARK_OPT_TEST_UNSET_DBX;
    const unset = await collectDatabricksAll(databricksOptions(configFor({ host: f.url, token: '${env:SPARK_OPT_TEST_UNSET_DBX}' })));
    expect(unset.problems).toHaveLength(1);
    expect(unset.problems[0]!.code).toBe('auth-failed');
    expect(unset.problems[0]!.message).toContain('SPARK_OPT_TEST_UNSET_DBX');
    expect(f.requests).toHaveLength(0);
    expect(JSON.stringify([noToken, noHost, unset])).not.toContain(SECRET);
  });

  it('a cluster answering 500: its runs are stored with a problem, the others are fine', async () => {
    const ws = workspace(24);
    const bad = Object.keys(ws.clusters)[1]!;
    const f = await serve({
      ...ws,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/clusters/get' || req.query.get('cluster_id') !== bad) return undefined;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error_code":"INTERNAL_ERROR"}');
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url, { maxAttempts: 3 }));
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    const onBad = new Set(ws.runs.filter((x) => x.tasks[0]!.cluster_instance.cluster_id === bad).map(runKey));
    expect(onBad.size).toBeGreaterThan(0);
    for (const a of r.apps) {
      if (onBad.has(a.record.app_id)) {
        expect(a.problems.map((p) => p.code)).toEqual(['cluster-failed']);
        expect(a.problems[0]!.message).toContain(bad);
        expect(a.problems[0]!.message).toMatch(/HTTP 500.*gave up after 3 attempts/);
        expect(a.problems[0]!.file).toContain(`/api/2.1/clusters/get?cluster_id=${bad}`);
        expect(a.record.num_executors).toBeNull();
        expect(a.record.quality).toContain('missing:num_executors');
        expect(a.record.tags.cluster_id).toBe(bad);
      } else {
        expect(a.problems).toEqual([]);
        const c = ws.clusters[a.record.tags.cluster_id!]!;
        const run = ws.runs.find((x) => runKey(x) === a.record.app_id)!;
        expect(a.record.num_executors).toBe(c.autoscale ? workersIn(ws.events?.[c.cluster_id], run.start_time, run.end_time)!.max : c.num_workers);
      }
    }
    // Cached: the failing cluster was tried maxAttempts times in all, not once per run.
    expect(clusterRequests(f, bad)).toBe(3);
  });

  it('a listing that fails on page 2 is one list-failed problem; the runs of page 1 still arrive', async () => {
    const ws = workspace(40);
    const f = await serve({
      ...ws,
      fault: (req, hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/list' || hit < 2) return undefined;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error_code":"TEMPORARILY_UNAVAILABLE"}');
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url, { maxAttempts: 2 }));
    const firstPage = [...ws.runs].sort((a, b) => b.start_time - a.start_time).slice(0, 25);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(firstPage.map(runKey).sort());
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('list-failed');
    expect(r.problems[0]!.message).toMatch(/HTTP 503.*gave up after 2 attempts/);
  });

  it('a malformed run entry is one problem; the rest arrive', async () => {
    const ws = workspace(10);
    const broken = { ...ws.runs[3]!, run_id: 999001, state: 'TERMINATED' };
    const f = await serve({ runs: [...ws.runs, broken], clusters: ws.clusters });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(ws.runs.map(runKey).sort());
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('rest-shape');
    expect(r.problems[0]!.message).toContain('run 999001');
    expect(r.problems[0]!.message).toContain('state');
    expect(r.problems[0]!.file).toBe(`${f.url}/api/2.1/jobs/runs/list`);
  });

  it('cancelling mid-run stops promptly', async () => {
    const ws = workspace(60);
    const f = await serve({
      ...ws,
      // The second page never answers: only the abort can end the run.
      fault: (req, hit) => (req.path === '/api/2.1/jobs/runs/list' && hit === 2 ? true : undefined),
    });
    const controller = new AbortController();
    const seen: string[] = [];
    const started = Date.now();
    const run = (async (): Promise<void> => {
      for await (const b of collectDatabricks(fast(f.url, { batchSize: 1, timeoutMs: 20_000 }), { signal: controller.signal })) {
        seen.push(...b.apps.map((a) => a.record.app_id));
        controller.abort(new Error('cancelled by test'));
      }
    })();
    await expect(run).rejects.toThrow(/cancelled by test/);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(seen.length).toBeGreaterThanOrEqual(1);
    expect(seen.length).toBeLessThan(ws.runs.length);
  });
});

describe('Databricks: Spark metrics from cluster log delivery', () => {
  /** Writes one Spark app in Databricks' layout: <root>/<cluster>/eventlog/<cluster>_<ip>/<context>/eventlog. */
  function deliver(root: string, cluster: string, context: string, appId: string): ReturnType<typeof eventLogText> {
    const log = eventLogText({ appId, appName: `spark-${context}`, user: 'root', stages: 3, tasksPerStage: 4, failEvery: 5 });
    const dir = path.join(root, cluster, 'eventlog', `${cluster}_10_0_0_1`, context);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'eventlog'), log.text);
    return log;
  }

  function checkSparkRecord(rec: SparkAppRecord, totals: ReturnType<typeof eventLogText>['totals'], run: GeneratedRun): void {
    expect(rec.app_id).toBe(totals.app_id);
    expect(rec.total_tasks).toBe(totals.total_tasks);
    expect(rec.failed_tasks).toBe(totals.failed_tasks);
    expect(rec.total_stages).toBe(totals.total_stages);
    expect(rec.cpu_time_ms).toBe(Math.floor(totals.cpu_time_ns / 1e6));
    expect(rec.shuffle_read_bytes).toBe(totals.shuffle_read_bytes);
    expect(rec.spark_version).toBe(totals.spark_version);
    expect(rec.quality).not.toContain(Quality.platformLevel);
    expect(rec.source).toBe('dbx');
    expect(rec.tags).toMatchObject({ run_id: String(run.run_id), job_id: String(run.job_id), cluster_id: run.tasks[0]!.cluster_instance.cluster_id });
  }

  it('a local event_log_dir: the run\'s Spark application replaces the platform-level record', async () => {
    const ws = workspace(6);
    const root = tempDir();
    const withLog = ws.runs[0]!;
    const { cluster_id, spark_context_id } = withLog.tasks[0]!.cluster_instance;
    const { totals } = deliver(root, cluster_id, spark_context_id, 'app-20260601080000-0000');
    // Another context of the same cluster, used by no run here: never stored.
    deliver(root, cluster_id, '123456', 'app-20260601070000-0009');
    const f = await serve(ws);
    const r = await collectDatabricksAll(fast(f.url, { eventLogDir: root }));
    expect(r.problems).toEqual([]);
    // Every run in that Spark context (an all-purpose cluster's, shared) leads to the same Spark
    // application: it is stored once, with the tags of one of them; the others link to it.
    const sameContext = ws.runs.filter((x) => x.tasks[0]!.cluster_instance.spark_context_id === spark_context_id && x.tasks[0]!.cluster_instance.cluster_id === cluster_id);
    expect(sameContext.length).toBeGreaterThan(1);
    const sparkApps = r.apps.filter((a) => !a.record.quality.includes(Quality.platformLevel));
    expect(sparkApps).toHaveLength(1);
    const claimer = sameContext.find((x) => String(x.run_id) === sparkApps[0]!.record.tags.run_id)!;
    expect(claimer).toBeDefined();
    checkSparkRecord(sparkApps[0]!.record, totals, claimer);
    const platform = byId(r.apps.filter((a) => a.record.quality.includes(Quality.platformLevel)).map((a) => a.record));
    expect(platform.size + 1).toBe(ws.runs.length);
    for (const x of sameContext.filter((x) => x !== claimer)) expect(platform.get(runKey(x))!.tags.spark_app_id).toBe(totals.app_id);
    // Runs on clusters without delivered logs say so.
    const other = ws.runs.find((x) => x.tasks[0]!.cluster_instance.cluster_id !== cluster_id)!;
    expect(r.apps.find((a) => a.record.app_id === runKey(other))!.problems.map((p) => p.code)).toEqual(['eventlog-missing']);
  });

  it('a dbfs:/ event_log_dir is read through the DBFS API at absolute paths (/cluster-logs/…), in 1 MB chunks, then removed (issue 14)', async () => {
    const ws = workspace(3, { sharedClusters: 3 });
    const run = ws.runs[2]!;
    const { cluster_id, spark_context_id } = run.tasks[0]!.cluster_instance;
    // Big enough for several DBFS reads.
    const log = eventLogText({ appId: 'app-20260601080000-0042', user: 'root', stages: 30, tasksPerStage: 60 });
    expect(log.text.length).toBeGreaterThan(1024 * 1024);
    const dbfsFile = `dbfs:/cluster-logs/${cluster_id}/eventlog/${cluster_id}_10_0_0_1/${spark_context_id}/eventlog`;
    const f = await serve({ ...ws, dbfs: { [dbfsFile]: Buffer.from(log.text) } });
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('spark-opt-dbfs-')).length;
    const r = await collectDatabricksAll(fast(f.url, { eventLogDir: 'dbfs:/cluster-logs/' }));
    expect(r.problems).toEqual([]);
    const spark = r.apps.find((a) => a.record.app_id === log.totals.app_id)!;
    checkSparkRecord(spark.record, log.totals, run);
    // The DBFS API takes "the absolute DBFS path" (/mnt/foo), not the dbfs:/ URI the config names.
    const lists = f.requests.filter((q) => q.path === '/api/2.0/dbfs/list').map((q) => q.query.get('path'));
    const logs = `/cluster-logs/${cluster_id}/eventlog`;
    expect(lists).toEqual(expect.arrayContaining(['/cluster-logs', logs, `${logs}/${cluster_id}_10_0_0_1`, `${logs}/${cluster_id}_10_0_0_1/${spark_context_id}`]));
    for (const p of lists) expect(p).toMatch(/^\/cluster-logs(\/|$)/);
    const reads = f.requests.filter((q) => q.path === '/api/2.0/dbfs/read');
    for (const q of reads) expect(q.query.get('path')).toBe(`${logs}/${cluster_id}_10_0_0_1/${spark_context_id}/eventlog`);
    expect(reads.length).toBe(Math.ceil(log.text.length / (1024 * 1024)));
    for (const q of reads) expect(Number(q.query.get('length'))).toBeLessThanOrEqual(1024 * 1024);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('spark-opt-dbfs-')).length).toBe(before);
  });
});

describe('Databricks: event_log_dir that cannot be read, problems once, cache eviction', () => {
  function deliver(root: string, cluster: string, context: string, appId: string): ReturnType<typeof eventLogText> {
    const log = eventLogText({ appId, appName: `spark-${context}`, user: 'root', stages: 2, tasksPerStage: 3 });
    const dir = path.join(root, cluster, 'eventlog', `${cluster}_10_0_0_1`, context);
    mkdirSync(dir, { recursive: true });
    writeFileSync(path.join(dir, 'eventlog'), log.text);
    return log;
  }

  it('a local event_log_dir that does not exist, or is a file: one error problem naming it, platform-level records', async () => {
    const ws = workspace(6);
    const f = await serve(ws);
    const root = tempDir();
    const file = path.join(root, 'not-a-dir');
    writeFileSync(file, 'x');
    for (const dir of [path.join(root, 'typo'), file]) {
      const r = await collectDatabricksAll(fast(f.url, { eventLogDir: dir }));
      expect(r.problems).toHaveLength(1);
      expect(r.problems[0]).toMatchObject({ severity: 'error', code: 'event-log-dir-unreadable' });
      expect(r.problems[0]!.message).toContain(dir);
      expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(ws.runs.map(runKey).sort());
      for (const a of r.apps) {
        expect(a.record.quality).toContain(Quality.platformLevel);
        // Not "this cluster delivered no logs" once per run.
        expect(a.problems).toEqual([]);
      }
    }
  });

  it('a dbfs:/ event_log_dir that does not exist: one error problem naming it, no per-cluster reads', async () => {
    const ws = workspace(6);
    const f = await serve({ ...ws, dbfs: { 'dbfs:/cluster-logs/x/eventlog/y': Buffer.from('{}') } });
    const r = await collectDatabricksAll(fast(f.url, { eventLogDir: 'dbfs:/cluster-logz' }));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ severity: 'error', code: 'event-log-dir-unreadable' });
    expect(r.problems[0]!.message).toContain('dbfs:/cluster-logz');
    expect(r.apps).toHaveLength(ws.runs.length);
    for (const a of r.apps) expect(a.problems).toEqual([]);
    expect(f.requests.filter((q) => q.path === '/api/2.0/dbfs/list').map((q) => q.query.get('path'))).toEqual(['/cluster-logz']);
  });

  it("a run's problems are attached once, to the first of its Spark applications", async () => {
    const base = workspace(1, { sharedClusters: 2 });
    const [a, b] = Object.keys(base.clusters) as [string, string];
    // A run on two clusters, one Spark application on each; cluster a's conf has a bad memory size.
    base.clusters[a]!.spark_conf['spark.executor.memory'] = 'lots';
    const run = { ...base.runs[0]!, tasks: [{ task_key: 't1', existing_cluster_id: a, cluster_instance: { cluster_id: a, spark_context_id: '111' } }, { task_key: 't2', existing_cluster_id: b, cluster_instance: { cluster_id: b, spark_context_id: '222' } }] };
    const root = tempDir();
    const logA = deliver(root, a, '111', 'app-20260601080000-0001');
    const logB = deliver(root, b, '222', 'app-20260601080000-0002');
    const f = await serve({ runs: [run], clusters: base.clusters });
    const r = await collectDatabricksAll(fast(f.url, { eventLogDir: root }));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((x) => x.record.app_id).sort()).toEqual([logA.totals.app_id, logB.totals.app_id].sort());
    const withProblem = r.apps.filter((x) => x.problems.length > 0);
    expect(withProblem).toHaveLength(1);
    expect(withProblem[0]!.problems.map((p) => p.code)).toEqual(['bad-property']);
    expect(withProblem[0]!.problems[0]!.message).toContain('lots');
  });

  it('a cluster evicted from the log cache is read again and still gives the right records', async () => {
    const ws = workspace(9, { sharedClusters: 3 });
    const files: Record<string, Buffer> = {};
    const totals = new Map<string, ReturnType<typeof eventLogText>['totals']>();
    for (const [i, id] of Object.keys(ws.clusters).entries()) {
      const context = ws.runs.find((x) => x.tasks[0]!.cluster_instance.cluster_id === id)!.tasks[0]!.cluster_instance.spark_context_id;
      const log = eventLogText({ appId: `app-20260601080000-000${i}`, user: 'root', stages: 2, tasksPerStage: 3 });
      files[`dbfs:/logs/${id}/eventlog/${id}_10_0_0_1/${context}/eventlog`] = Buffer.from(log.text);
      totals.set(id, log.totals);
    }
    const f = await serve({ ...ws, dbfs: files });
    // One run at a time, one cluster kept: runs alternate clusters, so every run misses the cache.
    const r = await collectDatabricksAll(fast(f.url, { eventLogDir: 'dbfs:/logs', concurrency: 1, logCacheClusters: 1 }));
    expect(r.problems).toEqual([]);
    for (const id of Object.keys(ws.clusters)) {
      const reads = f.requests.filter((q) => q.path === '/api/2.0/dbfs/list' && q.query.get('path') === `/logs/${id}/eventlog`).length;
      expect(reads).toBe(ws.runs.filter((x) => x.tasks[0]!.cluster_instance.cluster_id === id).length);
    }
    // Each cluster's Spark application is stored once, by the first (newest) run of its context; the others link to it.
    const spark = r.apps.filter((x) => !x.record.quality.includes(Quality.platformLevel));
    expect(spark.map((x) => x.record.app_id).sort()).toEqual([...totals.values()].map((t) => t.app_id).sort());
    for (const x of spark) {
      const t = totals.get(x.record.tags.cluster_id!)!;
      expect(x.record.app_id).toBe(t.app_id);
      expect(x.record.total_tasks).toBe(t.total_tasks);
    }
    const platform = r.apps.filter((x) => x.record.quality.includes(Quality.platformLevel));
    expect(platform).toHaveLength(ws.runs.length - spark.length);
    for (const x of platform) {
      expect(x.record.tags.spark_app_id).toBe(totals.get(x.record.tags.cluster_id!)!.app_id);
      expect(x.problems).toEqual([]);
    }
  });
});

describe('Databricks: autoscaling clusters (clusters/events)', () => {
  const autoscaled = (ws: Workspace): string => Object.values(ws.clusters).find((c) => c.autoscale !== undefined)!.cluster_id;

  it("an autoscaling run's num_executors is the most workers its cluster had in the run's window, the count before it included; pages followed", async () => {
    const ws = workspace(24);
    const id = autoscaled(ws);
    const f = await serve(ws);
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    const got = byId(r.apps.map((a) => a.record));
    const onAuto = ws.runs.filter((x) => x.tasks[0]!.cluster_instance.cluster_id === id);
    expect(onAuto.length).toBeGreaterThanOrEqual(6);
    let quiet = 0;
    let upInside = 0;
    for (const run of onAuto) {
      const rec = got.get(runKey(run))!;
      const want = workersIn(ws.events![id], run.start_time, run.end_time)!;
      expect(rec.num_executors).toBe(want.max);
      expect(rec.quality).not.toContain('missing:num_executors');
      expect(rec.tags).toMatchObject({ workers_min_seen: String(want.min), workers_max_seen: String(want.max), autoscale_min_workers: '1' });
      // A window with no size event inside: only the event before it tells the count.
      if (want.inside.length === 0) {
        quiet++;
        expect(want.before).toBeGreaterThan(ws.clusters[id]!.autoscale!.min_workers);
        expect(rec.num_executors).toBe(want.before);
      } else if (Math.max(...want.inside) > want.before!) upInside++;
    }
    expect(quiet).toBeGreaterThan(0);
    expect(upInside).toBeGreaterThan(0);
    for (const a of r.apps) expect(a.problems).toEqual([]);

    const bodies = eventRequests(f);
    // Fixed-size clusters are never asked for events.
    expect(new Set(bodies.map((b) => b.cluster_id))).toEqual(new Set([id]));
    for (const run of onAuto) {
      // One listing of the run's window (ASC, size events only), and one small query ending at its start.
      const listing = bodies.filter((b) => b.start_time === run.start_time);
      expect(listing.filter((b) => b.page_token === undefined)).toHaveLength(1);
      for (const b of listing) expect(b).toMatchObject({ end_time: run.end_time, order: 'ASC' });
      expect(listing[0]!.event_types).toEqual(expect.arrayContaining(['RESIZING', 'UPSIZE_COMPLETED', 'NODES_LOST', 'RUNNING']));
      expect(listing[0]!.event_types).not.toContain('DRIVER_HEALTHY');
      // The fake holds at most 4 events a page: every page of the window was read.
      const inWindow = ws.events![id]!.filter((e) => e.type !== 'DRIVER_HEALTHY' && e.timestamp >= run.start_time && e.timestamp <= run.end_time).length;
      expect(listing).toHaveLength(Math.max(1, Math.ceil(inWindow / 4)));
      expect(bodies.filter((b) => b.start_time === undefined && b.end_time === run.start_time && b.order === 'DESC')).toHaveLength(1);
    }
    expect(Math.max(...onAuto.map((run) => bodies.filter((b) => b.start_time === run.start_time).length))).toBeGreaterThanOrEqual(2);
  });

  it('a 403 on clusters/events keeps num_executors null and missing, with one problem for the cluster', async () => {
    const ws = workspace(24);
    const id = autoscaled(ws);
    const f = await serve({
      ...ws,
      token: SECRET,
      fault: (req, _hit, res) => {
        if (req.path !== '/api/2.1/clusters/events') return undefined;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error_code: 'PERMISSION_DENIED', message: `token ${req.authorization ?? ''} may not read cluster events` }));
        return true;
      },
    });
    const r = await collectDatabricksAll(fast(f.url, { token: SECRET }));
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    const problems = r.apps.flatMap((a) => a.problems);
    expect(problems.map((p) => p.code)).toEqual(['cluster-events-forbidden']);
    expect(problems[0]!.severity).toBe('warning');
    expect(problems[0]!.message).toContain(id);
    expect(problems[0]!.message).toMatch(/403/);
    for (const a of r.apps) {
      const c = ws.clusters[a.record.tags.cluster_id!]!;
      if (c.autoscale) {
        expect(a.record.num_executors).toBeNull();
        expect(a.record.quality).toContain('missing:num_executors');
        expect(a.record.tags.workers_max_seen).toBeUndefined();
        expect(a.record.tags.autoscale).toBe(`${c.autoscale.min_workers}-${c.autoscale.max_workers}`);
      } else expect(a.record.num_executors).toBe(c.num_workers);
    }
    expect(eventRequests(f).every((b) => b.cluster_id === id)).toBe(true);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('events that never tell a count: null and missing, one info problem; more than 10 pages: the first 10, one warning', async () => {
    const ws = workspace(6, { sharedClusters: 2 });
    const id = autoscaled(ws);
    const onAuto = ws.runs.filter((x) => x.tasks[0]!.cluster_instance.cluster_id === id);
    // Only stats reports without a count.
    const silent = ws.runs.flatMap((run) => [0, 5000].map((dt): ClusterEvent => ({ cluster_id: id, timestamp: run.start_time + dt, type: 'AUTOSCALING_STATS_REPORT', details: {} })));
    const f = await serve({ ...ws, events: { [id]: silent } });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.problems).toEqual([]);
    expect(r.apps.flatMap((a) => a.problems).map((p) => p.code)).toEqual(['cluster-events-empty']);
    for (const run of onAuto) {
      const rec = byId(r.apps.map((a) => a.record)).get(runKey(run))!;
      expect(rec.num_executors).toBeNull();
      expect(rec.quality).toContain('missing:num_executors');
    }

    // 15 upsizes in the first run's window, one event a page: 10 pages read, then a warning.
    const first = onAuto[0]!;
    const many = Array.from({ length: 15 }, (_, i): ClusterEvent => ({ cluster_id: id, timestamp: first.start_time + 1000 + i * 1000, type: 'UPSIZE_COMPLETED', details: { current_num_workers: 2 + i } }));
    const g = await serve({ ...ws, runs: [first], events: { [id]: many }, eventsPageMax: 1 });
    const capped = await collectDatabricksAll(fast(g.url));
    expect(capped.problems).toEqual([]);
    expect(capped.apps).toHaveLength(1);
    expect(capped.apps[0]!.problems.map((p) => [p.code, p.severity])).toEqual([['cluster-events-truncated', 'warning']]);
    expect(capped.apps[0]!.record.num_executors).toBe(2 + 9);
    expect(eventRequests(g).filter((b) => b.start_time === first.start_time)).toHaveLength(10);
  });
});

describe('Databricks: plan', () => {
  it('maps the config keys and picks the token in order: config ${env:VAR}, DATABRICKS_TOKEN, stored', () => {
    process.env.SPARK_OPT_TEST_DBX = SECRET;
    process.env.DATABRICKS_TOKEN = 'env-token';
    process.env.DATABRICKS_HOST = 'https://from-env.cloud.databricks.com';
    const s = configFor({ token: '${env:SPARK_OPT_TEST_DBX}', since: '2026-05-01T00:00:00Z', user: 'ana@example.com', max_apps: 7, event_log_dir: 'dbfs:/logs', timeout: 12 });
    const o = databricksOptions(s);
    expect(o).toMatchObject({ source: 'prod', token: SECRET, host: 'https://from-env.cloud.databricks.com', hostSource: 'DATABRICKS_HOST', user: 'ana@example.com', maxApps: 7, eventLogDir: 'dbfs:/logs', timeoutMs: 12_000, batchSize: s.batch_size, concurrency: s.concurrency });
    expect(o.since).toEqual(new Date('2026-05-01T00:00:00Z'));
    expect(o.tokenSource).toContain('SPARK_OPT_TEST_DBX');
    expect(o.tokenSource).not.toContain(SECRET);
    // Options travel to a worker thread: plain data only.
    expect(structuredClone(o)).toEqual(o);

    const fromEnv = databricksOptions(configFor({ host: 'https://x.cloud.databricks.com' }), { token: 'stored', from: 'stored token' });
    expect(fromEnv).toMatchObject({ token: 'env-token', tokenSource: 'token from DATABRICKS_TOKEN', host: 'https://x.cloud.databricks.com' });
    delete process.env.DATABRICKS_TOKEN;
    const stored = databricksOptions(configFor({}), { token: 'stored', from: "token from the editor's secret storage" });
    expect(stored).toMatchObject({ token: 'stored', tokenSource: "token from the editor's secret storage" });
    delete process.env.SPARK_OPT_TEST_DBX;
  });
});

describe('Databricks: config profiles (~/.databrickscfg)', () => {
  const PROFILE_TOKEN = 'dapiPROFILEsecret000000000000000077';

  it('parseIni: sections, key = value, # and ; comments, keys lower-cased, values keep = and :', () => {
    const ini = parseIni(['; a comment', 'stray = before any section', '[DEFAULT]', 'host = https://a.cloud.databricks.com', '  # indented comment', 'TOKEN=abc==', '', '[prod]', 'host: https://p.cloud.databricks.com/', 'client_id = id-1', 'not a pair', '[DEFAULT]', 'extra = x'].join('\r\n'));
    expect([...ini.keys()]).toEqual(['DEFAULT', 'prod']);
    expect(ini.get('DEFAULT')).toEqual({ host: 'https://a.cloud.databricks.com', token: 'abc==', extra: 'x' });
    expect(ini.get('prod')).toEqual({ host: 'https://p.cloud.databricks.com/', client_id: 'id-1' });
  });

  it('the DEFAULT profile of ~/.databrickscfg gives host and token, named in messages; the token appears nowhere', async () => {
    const ws = workspace(4);
    const f = await serve({ ...ws, token: PROFILE_TOKEN });
    writeFileSync(path.join(env.home, '.databrickscfg'), `# Databricks CLI\n[other]\nhost = https://other.example\ntoken = nope\n\n[DEFAULT]\nhost = ${f.url}\ntoken = ${PROFILE_TOKEN}\n`);
    const file = path.join(env.home, '.databrickscfg');
    const o = databricksOptions(configFor({}));
    expect(o).toMatchObject({ host: f.url, hostSource: `host from profile DEFAULT in ${file}`, token: PROFILE_TOKEN, tokenSource: `token from profile DEFAULT in ${file}` });
    const r = await collectDatabricksAll({ ...o, backoffMs: 5 });
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    expect(JSON.stringify(recordedOptions({ kind: 'databricks', name: 'prod', options: o }))).not.toContain(PROFILE_TOKEN);
    expect(JSON.stringify(r)).not.toContain(PROFILE_TOKEN);

    // Refused: the problem names the profile and file, never the token.
    const g = await serve({ ...ws, token: 'another-token', });
    writeFileSync(file, `[DEFAULT]\nhost = ${g.url}\ntoken = ${PROFILE_TOKEN}\n`);
    const refused = await collectDatabricksAll(databricksOptions(configFor({})));
    expect(refused.problems).toHaveLength(1);
    expect(refused.problems[0]!.code).toBe('auth-failed');
    expect(refused.problems[0]!.message).toContain(`token from profile DEFAULT in ${file}`);
    expect(refused.problems[0]!.message).toContain(`workspace URL from host from profile DEFAULT in ${file}`);
    expect(JSON.stringify(refused)).not.toContain(PROFILE_TOKEN);
  });

  it('DATABRICKS_CONFIG_FILE and DATABRICKS_CONFIG_PROFILE pick the file and section; the profile comes last in the order', () => {
    const file = path.join(env.home, 'elsewhere.cfg');
    writeFileSync(file, `[DEFAULT]\nhost = https://default.example\ntoken = default-token\n[staging]\nhost = staging.cloud.databricks.com\ntoken = staging-token\n`);
    process.env.DATABRICKS_CONFIG_FILE = file;
    process.env.DATABRICKS_CONFIG_PROFILE = 'staging';
    expect(databricksOptions(configFor({}))).toMatchObject({ host: 'staging.cloud.databricks.com', hostSource: `host from profile staging in ${file}`, token: 'staging-token', tokenSource: `token from profile staging in ${file}` });
    // The editor's stored token, DATABRICKS_TOKEN and DATABRICKS_HOST, the config's own: each wins over the profile.
    const stored = { token: 'stored-token', from: "token from the editor's secret storage" };
    expect(databricksOptions(configFor({}), stored)).toMatchObject({ token: 'stored-token', tokenSource: stored.from });
    process.env.DATABRICKS_TOKEN = 'env-token';
    process.env.DATABRICKS_HOST = 'https://env.example';
    expect(databricksOptions(configFor({}), stored)).toMatchObject({ token: 'env-token', host: 'https://env.example', hostSource: 'DATABRICKS_HOST' });
    expect(databricksOptions(configFor({ host: 'https://cfg.example' }))).toMatchObject({ host: 'https://cfg.example', hostSource: "the source's host" });
    // ~ in DATABRICKS_CONFIG_FILE is the home folder.
    delete process.env.DATABRICKS_TOKEN;
    delete process.env.DATABRICKS_HOST;
    process.env.DATABRICKS_CONFIG_FILE = '~/elsewhere.cfg';
    expect(databricksOptions(configFor({})).tokenSource).toBe(`token from profile staging in ${path.join(env.home, 'elsewhere.cfg')}`);
  });

  it('a profile named by DATABRICKS_CONFIG_PROFILE that is not there is one auth-failed naming it, before any request', async () => {
    const f = await serve(workspace(2));
    const file = path.join(env.home, '.databrickscfg');
    writeFileSync(file, `[DEFAULT]\nhost = ${f.url}\n`);
    process.env.DATABRICKS_CONFIG_PROFILE = 'missing';
    const r = await collectDatabricksAll(databricksOptions(configFor({ host: f.url })));
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('auth-failed');
    expect(r.problems[0]!.message).toContain(`profile missing (DATABRICKS_CONFIG_PROFILE) is not in ${file}`);
    expect(f.requests).toHaveLength(0);
    // Without DATABRICKS_CONFIG_PROFILE, a DEFAULT with no token is just "no token".
    delete process.env.DATABRICKS_CONFIG_PROFILE;
    const plain = await collectDatabricksAll(databricksOptions(configFor({})));
    expect(plain.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(plain.problems[0]!.message).toContain('no Databricks token');
    expect(f.requests).toHaveLength(0);
  });
});

describe('Databricks: OAuth machine-to-machine (client credentials)', () => {
  const CLIENT_ID = 'sp-0d1e2f3a-client';
  const CLIENT_SECRET = 'doseCLIENTSECRETfeedface00000099';
  const apiRequests = (f: DatabricksFake): DatabricksFake['requests'] => f.requests.filter((r) => r.path.startsWith('/api/'));

  it('DATABRICKS_CLIENT_ID/SECRET: one exchange at oidc/v1/token (basic auth, client_credentials, all-apis), its token on every request', async () => {
    const ws = workspace(60);
    const f = await serve({ ...ws, token: 'no-pat-here', oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
    process.env.DATABRICKS_CLIENT_ID = CLIENT_ID;
    process.env.DATABRICKS_CLIENT_SECRET = CLIENT_SECRET;
    const o = databricksOptions(configFor({ endpoint_url: f.url }));
    expect(o).toMatchObject({ token: undefined, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientSource: `OAuth client ${CLIENT_ID} (DATABRICKS_CLIENT_ID)` });
    // Plain data for the worker thread; the secret is not recorded.
    expect(structuredClone(o)).toEqual(o);
    expect(JSON.stringify(recordedOptions({ kind: 'databricks', name: 'prod', options: o }))).not.toContain(CLIENT_SECRET);
    const progress: CollectProgress[] = [];
    const r = await collectDatabricksAll({ ...o, backoffMs: 5 }, { onProgress: (p) => progress.push(p) });
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    expect(f.exchanges).toHaveLength(1);
    const ex = f.exchanges[0]!;
    expect(ex).toMatchObject({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, contentType: 'application/x-www-form-urlencoded' });
    expect(Object.fromEntries(ex.form)).toEqual({ grant_type: 'client_credentials', scope: 'all-apis' });
    expect(apiRequests(f).length).toBeGreaterThan(3);
    expect(apiRequests(f).every((q) => q.authorization === `Bearer ${ex.issued!}`)).toBe(true);
    expect(JSON.stringify({ r, progress })).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify({ r, progress })).not.toContain(ex.issued!);
  });

  it('a token within 60 s of expiry is exchanged again before the request', async () => {
    // The clock is the test's: 1 h tokens, reused until 60 s before they expire.
    const f = await serve({ runs: [], oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 3600 } });
    let now = 1_000_000;
    const provider = oauthTokenProvider({ baseUrl: f.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, now: () => now });
    const [a, b] = await Promise.all([provider(), provider()]);
    expect(a).toBe(b);
    expect(f.exchanges).toHaveLength(1);
    now += 3600_000 - 61_000;
    expect(await provider()).toBe(a);
    expect(f.exchanges).toHaveLength(1);
    now += 2_000;
    const c = await provider();
    expect(c).not.toBe(a);
    expect(f.exchanges).toHaveLength(2);

    // End to end, tokens that live 30 s are renewed for every request, and each is accepted.
    const ws = workspace(30);
    const g = await serve({ ...ws, token: 'no-pat-here', oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 30 } });
    const r = await collectDatabricksAll({ endpointUrl: g.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, concurrency: 1, backoffMs: 5 });
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    const issued = new Set(g.exchanges.map((e) => e.issued));
    expect(g.exchanges.length).toBe(apiRequests(g).length + 1);
    expect(apiRequests(g).every((q) => issued.has(q.authorization!.replace(/^Bearer /, '')))).toBe(true);
  });

  it('a refused exchange (401 or 400) is one auth-failed naming the client, no API request; the secret appears nowhere', async () => {
    const ws = workspace(5);
    const f = await serve({ ...ws, oauth: { clientId: CLIENT_ID, clientSecret: 'the-right-secret' } });
    process.env.DATABRICKS_CLIENT_ID = CLIENT_ID;
    process.env.DATABRICKS_CLIENT_SECRET = CLIENT_SECRET;
    const r = await collectDatabricksAll(databricksOptions(configFor({ endpoint_url: f.url })));
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('auth-failed');
    expect(r.problems[0]!.message).toContain(`OAuth client ${CLIENT_ID} (DATABRICKS_CLIENT_ID)`);
    expect(r.problems[0]!.message).toContain('HTTP 401');
    expect(r.problems[0]!.message).toContain('invalid_client');
    expect(f.exchanges).toHaveLength(1);
    // The fake echoed id:secret and the basic header; none of it comes out.
    expect(f.exchanges[0]!.clientSecret).toBe(CLIENT_SECRET);
    expect(apiRequests(f)).toHaveLength(0);
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64');
    expect(JSON.stringify(r)).not.toContain(CLIENT_SECRET);
    expect(JSON.stringify(r)).not.toContain(basic);

    const g = await serve({
      ...ws,
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      fault: (req, _hit, res) => {
        if (req.path !== '/oidc/v1/token') return undefined;
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'unauthorized_client', error_description: `client ${CLIENT_SECRET} may not use this grant` }));
        return true;
      },
    });
    const bad = await collectDatabricksAll(databricksOptions(configFor({ endpoint_url: g.url })));
    expect(bad.problems).toHaveLength(1);
    expect(bad.problems[0]!.code).toBe('auth-failed');
    expect(bad.problems[0]!.message).toContain(`OAuth client ${CLIENT_ID} (DATABRICKS_CLIENT_ID)`);
    expect(bad.problems[0]!.message).toContain('HTTP 400');
    expect(apiRequests(g)).toHaveLength(0);
    expect(JSON.stringify(bad)).not.toContain(CLIENT_SECRET);
  });

  it('a refresh refused mid-run stops the run once, naming the client', async () => {
    const ws = workspace(60);
    const f = await serve({
      ...ws,
      oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, expiresIn: 30 },
      fault: (req, hit, res) => {
        if (req.path !== '/oidc/v1/token' || hit < 3) return undefined;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'invalid_client', error_description: 'secret revoked' }));
        return true;
      },
    });
    const r = await collectDatabricksAll({ endpointUrl: f.url, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, clientSource: `OAuth client ${CLIENT_ID} (DATABRICKS_CLIENT_ID)`, concurrency: 1, backoffMs: 5 });
    const auth = r.problems.filter((p) => p.code === 'auth-failed');
    expect(auth).toHaveLength(1);
    expect(auth[0]!.message).toContain(`OAuth client ${CLIENT_ID} (DATABRICKS_CLIENT_ID)`);
    expect(auth[0]!.message).toContain('secret revoked');
    expect(r.apps.length).toBeLessThan(ws.runs.length);
    expect(JSON.stringify(r)).not.toContain(CLIENT_SECRET);
  });

  it("the profile's client_id/client_secret are used when there is no token, named with the profile", async () => {
    const ws = workspace(3);
    const f = await serve({ ...ws, token: 'no-pat-here', oauth: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET } });
    const file = path.join(env.home, '.databrickscfg');
    writeFileSync(file, `[DEFAULT]\nhost = ${f.url}\nclient_id = ${CLIENT_ID}\nclient_secret = ${CLIENT_SECRET}\n`);
    const o = databricksOptions(configFor({}));
    expect(o).toMatchObject({ token: undefined, clientId: CLIENT_ID, clientSource: `OAuth client ${CLIENT_ID} (profile DEFAULT in ${file})` });
    const r = await collectDatabricksAll({ ...o, backoffMs: 5 });
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(ws.runs.length);
    expect(f.exchanges).toHaveLength(1);
    // A token anywhere wins over the client (here DATABRICKS_TOKEN).
    process.env.DATABRICKS_TOKEN = 'env-token';
    expect(databricksOptions(configFor({}))).toMatchObject({ token: 'env-token', clientId: undefined, clientSecret: undefined });
  });
});
