/**
 * The History Server collector against a real HTTP server on 127.0.0.1 (test/support/historyServerFake.ts).
 *
 * 1. Spark's own expected REST answers (`../shared/spark-events/HistoryServerExpectations`, served at
 *    the paths of its URL_MAP.tsv): the records must agree, field by field, with what the event-log
 *    engine makes of the same application's event log.
 * 2. A self-written set of REST answers built from a handful of values (no ../shared needed).
 * 3. Faults: timeouts, 500 then success, 429 + Retry-After, connection resets, truncated JSON,
 *    unexpected shapes, wrong credentials.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { HistoryServerClient } from '../src/collectors/historyServer/client';
import { retryAfterMs } from '../src/collectors/http/jsonClient';
import { collectHistoryServer, collectHistoryServerAll, type HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { restTimeMs } from '../src/collectors/historyServer/record';
import { SPARK_METRIC_FIELDS, sparkAppRecordSchema, type SparkAppRecord } from '../src/collectors/record';
import * as z from 'zod';
import { describeShared, sharedPath } from './support/shared';
import { serve, syntheticListing, syntheticRoutes, type FakeServer, type Route, type SyntheticApp } from './support/historyServerFake';

/** Fast retries for tests: the backoff shape is tested, not waited for. */
const fast = (url: string, extra: Partial<HistoryServerOptions> = {}): HistoryServerOptions => ({ url, backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000, ...extra });

type Field = keyof SparkAppRecord;
const ALL_FIELDS = Object.keys(sparkAppRecordSchema.shape) as Field[];

// ---------------------------------------------------------------------------------------------
// 1. Spark's expected REST answers vs the event-log engine

const EXPECTATIONS = sharedPath('spark-events', 'HistoryServerExpectations');
const EVENT_LOGS = sharedPath('spark-events', 'spark-events');

function sharedRoutes(): Record<string, Route> {
  const routes: Record<string, Route> = {};
  for (const line of readFileSync(path.join(EXPECTATIONS, 'URL_MAP.tsv'), 'utf8').split('\n').slice(1)) {
    const [file, restPath] = line.split('\t');
    if (!file || !restPath) continue;
    routes[restPath.trim()] = { text: readFileSync(path.join(EXPECTATIONS, file), 'utf8') };
  }
  // HistoryServerSuite has no /allexecutors case. For a finished local-mode app the only executor is
  // the driver and it is never removed, so /allexecutors (active + dead) answers what /executors does.
  const executors = routes['applications/local-1422981780767/executors'];
  if (executors) routes['applications/local-1422981780767/allexecutors'] = executors;
  return routes;
}

async function eventLogRecord(appId: string): Promise<SparkAppRecord> {
  const r = await collectAll({ path: path.join(EVENT_LOGS, appId) });
  expect(r.apps).toHaveLength(1);
  return r.apps[0]!.record;
}

/** Fields that differ by construction between the sources (README, "History Server collector"). */
const BY_CONSTRUCTION: Field[] = ['tags', 'source'];

describeShared('History Server collector on Spark’s expected REST answers', () => {
  it('local-1422981780767 (application, stages, executors served): same record as the event-log engine, field by field', async () => {
    const s = await serve(sharedRoutes());
    const rest = await collectHistoryServerAll(fast(s.url, { status: 'all' }));
    const got = rest.apps.find((a) => a.record.app_id === 'local-1422981780767');
    expect(got, 'local-1422981780767 must arrive').toBeDefined();
    const fromRest = got!.record;
    const fromLog = await eventLogRecord('local-1422981780767');
    // Spark's suite serves no /environment for this app: the REST record has no properties.
    // Every property-derived field here is Spark's default in both records (the log sets none of
    // spark.executor.memory / .cores / spark.driver.memory / spark.app.submitTime), so they still agree.
    const envOnly: Field[] = ['environment', 'quality'];
    for (const field of ALL_FIELDS.filter((f) => !BY_CONSTRUCTION.includes(f) && !envOnly.includes(f))) {
      expect(fromRest[field], `local-1422981780767 ${field}`).toEqual(fromLog[field]);
    }
    expect(fromRest.environment).toEqual({});
    expect(fromRest.quality).toEqual([...fromLog.quality, 'missing:environment'].sort());
    expect(got!.problems.map((p) => p.code)).toEqual(['rest-missing']);
    expect(fromRest.tags).toEqual({ origin: 'history_server' });
    expect(fromRest.source).toBe('history_server');
    // The numbers themselves, for the report: 32 task attempts (1 failed), 4 stage attempts (1 failed).
    expect([fromRest.total_tasks, fromRest.failed_tasks, fromRest.total_stages, fromRest.failed_stages, fromRest.input_bytes, fromRest.shuffle_write_bytes]).toEqual([32, 1, 4, 1, 28000288, 13180]);
  });

  it('app-20161116163331-0000 (environment, executors served): property and executor fields agree with the event log', async () => {
    // The suite has no /stages case for this app; an empty list stands in, so only the fields
    // that come from the listing, /environment and /executors are compared.
    const routes = sharedRoutes();
    routes['applications/app-20161116163331-0000/allexecutors'] = routes['applications/app-20161116163331-0000/executors']!;
    routes['applications/app-20161116163331-0000/stages'] = { json: [] };
    const s = await serve(routes);
    const rest = await collectHistoryServerAll(fast(s.url, { status: 'all' }));
    const fromRest = rest.apps.find((a) => a.record.app_id === 'app-20161116163331-0000')?.record;
    expect(fromRest).toBeDefined();
    const fromLog = await eventLogRecord('app-20161116163331-0000');
    const compared: Field[] = ['app_id', 'attempt_id', 'app_name', 'user', 'submit_time', 'start_time', 'end_time', 'duration_ms', 'spark_version', 'executor_cores', 'executor_memory_mb', 'num_executors', 'driver_memory_mb', 'environment', 'status', 'quality'];
    for (const field of compared) expect(fromRest![field], `app-20161116163331-0000 ${field}`).toEqual(fromLog[field]);
    expect(fromRest!.num_executors).toBe(4);
  });

  it('every listed app arrives; what its answers lack is flagged; listing fields agree with the event log for every app that has one', async () => {
    const s = await serve(sharedRoutes());
    const rest = await collectHistoryServerAll(fast(s.url, { status: 'all' }));
    const listed = (JSON.parse(readFileSync(path.join(EXPECTATIONS, 'application_list_json_expectation.json'), 'utf8')) as { attempts: unknown[] }[]).reduce((t, a) => t + a.attempts.length, 0);
    expect(rest.apps).toHaveLength(listed);
    expect(rest.problems).toEqual([]);
    for (const a of rest.apps) {
      if (a.record.app_id === 'local-1422981780767') continue;
      // No stage list: every Spark metric is unknown, not a measured 0 (a review: input, shuffle, spill and failures were 0).
      for (const f of SPARK_METRIC_FIELDS) expect(a.record.quality, `${a.record.app_id} ${f}`).toContain(`missing:${f}`);
      expect(a.problems.every((p) => p.code === 'rest-missing' && /HTTP 404/.test(p.message)), a.record.app_id).toBe(true);
    }
    // Status all: the running applications, then the completed ones (each with its own `since` parameter when there is one).
    expect(s.requests.slice(0, 2)).toEqual(['applications?status=running', 'applications?status=completed&limit=500']);
    // Cross-source agreement on what the listing gives, for every listed app that has a log in ../shared.
    const logs = new Set(readdirSync(sharedPath('spark-events', 'spark-events')));
    let compared = 0;
    for (const a of rest.apps) {
      const r = a.record;
      const name = logs.has(r.app_id) ? r.app_id : logs.has(`${r.app_id}_${r.attempt_id}`) ? `${r.app_id}_${r.attempt_id}` : logs.has(`eventlog_v2_${r.app_id}`) ? `eventlog_v2_${r.app_id}` : null;
      if (name === null) continue;
      const fromLog = (await collectAll({ path: sharedPath('spark-events', 'spark-events', name) })).apps.find((x) => x.record.attempt_id === r.attempt_id)!.record;
      for (const field of ['app_id', 'attempt_id', 'app_name', 'user', 'start_time', 'end_time', 'duration_ms'] as Field[]) expect(r[field], `${name} ${field}`).toEqual(fromLog[field]);
      if (r.spark_version !== null) expect(r.spark_version, `${name} spark_version`).toBe(fromLog.spark_version);
      compared++;
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('status completed asks for ?status=completed and reads Spark’s completed list', async () => {
    const s = await serve(sharedRoutes());
    const rest = await collectHistoryServerAll(fast(s.url));
    expect(s.requests[0]).toBe('applications?status=completed&limit=500');
    expect(rest.apps.map((a) => a.record.app_id)).toContain('local-1422981780767');
    for (const a of rest.apps) expect(a.record.status).toBe('completed');
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Self-written REST answers

const T0 = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const SYNTHETIC: SyntheticApp[] = [
  {
    id: 'application_1700000000000_0001',
    name: 'NightlyJoin',
    user: 'etl',
    startMs: T0,
    endMs: T0 + 60_000,
    sparkVersion: '3.5.3',
    properties: { 'spark.executor.cores': '4', 'spark.executor.memory': '8g', 'spark.driver.memory': '2048m', 'spark.app.submitTime': String(T0 - 1500), 'spark.hadoop.fs.s3a.secret.key': 'hunter2', 'spark.master': 'yarn' },
    executors: [
      { id: 'driver', cores: 0 },
      { id: '1', cores: 4 },
      { id: '2', cores: 4 },
      { id: '3', cores: 4 },
    ],
    stages: [
      { id: 0, status: 'COMPLETE', complete: 10, cpuNs: 2_500_000_000, input: 1000, shuffleWrite: 300 },
      { id: 1, status: 'FAILED', complete: 3, failed: 2, killed: 1, cpuNs: 600_000_001, shuffleRead: 100, memSpill: 7, diskSpill: 5 },
      { id: 1, attempt: 1, status: 'COMPLETE', complete: 6, cpuNs: 1, shuffleRead: 200, output: 42 },
      { id: 2, status: 'SKIPPED', complete: 0 },
    ],
  },
  { id: 'app-multi', attemptId: '1', user: 'bob', startMs: T0, endMs: T0 + 1000, executors: [{ id: 'driver', cores: 2 }], stages: [{ id: 0, status: 'FAILED', complete: 0, failed: 4 }] },
  { id: 'app-multi', attemptId: '2', user: 'bob', startMs: T0 + 2000, endMs: T0 + 5000, executors: [{ id: 'driver', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4 }] },
  { id: 'app-running', user: 'etl', startMs: T0, endMs: null, executors: [{ id: 'driver', cores: 1 }, { id: '1', cores: 2 }], stages: [{ id: 0, status: 'ACTIVE', complete: 3 }, { id: 1, status: 'PENDING', complete: 0 }] },
  { id: 'app-capped', user: 'etl', startMs: T0, endMs: T0 + 10, executors: [{ id: 'driver', cores: 8 }], stages: [{ id: 7, status: 'COMPLETE', complete: 1 }], jobStageIds: [5, 6, 7] },
];

function syntheticServer(apps = SYNTHETIC, extra: Record<string, Route> = {}): Promise<FakeServer> {
  return serve({ applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps), ...extra });
}

/** The application list as Spark serves it: newest end first, minEndDate/maxEndDate inclusive, then `limit`. */
function sparkListing(all: { id: string; end: number; user: string }[], pageSizes: number[]): Route {
  const param = (v: string | null): number | undefined => (v === null ? undefined : Date.parse(v.replace(/GMT$/, 'Z')));
  const sorted = [...all].sort((a, b) => b.end - a.end || a.id.localeCompare(b.id));
  return (req, res) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    const maxEnd = param(q.get('maxEndDate')) ?? Infinity;
    const minEnd = param(q.get('minEndDate')) ?? -Infinity;
    const limit = Number(q.get('limit') ?? Infinity);
    const page = sorted.filter((a) => a.end <= maxEnd && a.end >= minEnd).slice(0, limit);
    pageSizes.push(page.length);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(page.map((a) => ({ id: a.id, name: a.id, attempts: [{ startTimeEpoch: a.end - 100, endTimeEpoch: a.end, sparkUser: a.user, completed: true, appSparkVersion: '3.5.3' }] }))));
  };
}

const byKey = (apps: { record: SparkAppRecord }[]): Map<string, SparkAppRecord> => new Map(apps.map((a) => [`${a.record.app_id}/${a.record.attempt_id ?? '-'}`, a.record]));

describe('History Server collector on self-written REST answers', () => {
  it('maps listing, environment, executors and stages onto the record as the event-log engine would', async () => {
    const s = await syntheticServer();
    const r = await collectHistoryServerAll(fast(s.url, { status: 'all', source: 'prod-hs' }));
    expect(r.problems).toEqual([]);
    const got = byKey(r.apps);
    expect([...got.keys()].sort()).toEqual(['app-capped/-', 'app-multi/1', 'app-multi/2', 'app-running/-', 'application_1700000000000_0001/-']);
    for (const rec of got.values()) expect(sparkAppRecordSchema.strict().parse(rec)).toEqual(rec);

    const a = got.get('application_1700000000000_0001/-')!;
    expect(a).toMatchObject({
      app_name: 'NightlyJoin',
      user: 'etl',
      submit_time: new Date(T0 - 1500).toISOString(),
      start_time: new Date(T0).toISOString(),
      end_time: new Date(T0 + 60_000).toISOString(),
      duration_ms: 60_000,
      spark_version: '3.5.3',
      executor_cores: 4,
      executor_memory_mb: 8192,
      num_executors: 3,
      driver_memory_mb: 2048,
      total_tasks: 10 + 6 + 6, // complete + failed + killed over stage attempts that ran; SKIPPED left out
      failed_tasks: 2,
      total_stages: 3, // (0,0) (1,0) (1,1)
      failed_stages: 1,
      cpu_time_ms: Math.floor((2_500_000_000 + 600_000_001 + 1) / 1e6),
      input_bytes: 1000,
      output_bytes: 42,
      shuffle_read_bytes: 300,
      shuffle_write_bytes: 300,
      memory_spilled_bytes: 7,
      disk_spilled_bytes: 5,
      source: 'prod-hs',
      status: 'completed',
      quality: [],
    });
    expect(a.environment['spark.hadoop.fs.s3a.secret.key']).toBe('*********(redacted)');
    expect(a.environment['spark.master']).toBe('yarn');
    expect(JSON.stringify(r)).not.toContain('hunter2');

    // Two attempts of one app, read at /applications/{id}/{attempt}/…; local mode counts the driver as 1 executor.
    expect(got.get('app-multi/1')).toMatchObject({ total_tasks: 4, failed_tasks: 4, failed_stages: 1, num_executors: 1, executor_cores: 2, duration_ms: 1000 });
    expect(got.get('app-multi/2')).toMatchObject({ total_tasks: 4, failed_tasks: 0, total_stages: 1, start_time: new Date(T0 + 2000).toISOString() });
    expect(s.requests).toContain('applications/app-multi/2/stages');
    expect(got.get('app-multi/1')!.quality).toEqual(['defaulted:driver_memory_mb', 'defaulted:executor_memory_mb', 'defaulted:submit_time']);

    // Running: no end time, tasks of the active stage count, stages only once finished.
    expect(got.get('app-running/-')).toMatchObject({ status: 'running', end_time: null, duration_ms: null, total_tasks: 3, total_stages: 0, num_executors: 1, executor_cores: 2 });
    expect(got.get('app-running/-')!.quality).toContain('in_progress');

    // Jobs reference stages 5 and 6 that /stages no longer lists: rest_capped.
    expect(got.get('app-capped/-')!.quality).toContain('rest_capped');
    expect(r.apps.find((x) => x.record.app_id === 'app-capped')!.problems.map((p) => p.code)).toEqual(['rest-capped']);
    expect(got.get('application_1700000000000_0001/-')!.quality).not.toContain('rest_capped');
  });

  it('passes status, since and max-apps to the API, filters users itself, and yields batches', async () => {
    const s = await syntheticServer();
    const since = new Date(T0 - 1);
    const batches = [];
    for await (const b of collectHistoryServer(fast(s.url, { status: 'completed', since, maxApps: 50, user: 'bob', batchSize: 1 }))) batches.push(b);
    // Other users' applications do not count against max-apps (the runner leaves them out): a page of 500 is asked for, not 50.
    expect(s.requests[0]).toBe(`applications?status=completed&minEndDate=${encodeURIComponent(since.toISOString().replace('Z', 'GMT'))}&limit=500`);
    const apps = batches.flatMap((b) => b.apps);
    expect(apps.map((a) => `${a.record.app_id}/${a.record.attempt_id}`).sort()).toEqual(['app-multi/1', 'app-multi/2']);
    expect(batches.reduce((t, b) => t + b.filtered, 0)).toBe(3); // the fake ignores ?status: 5 attempts listed, 2 are bob's
    expect(batches.length).toBeGreaterThan(1);
    // Only bob's attempts were fetched.
    expect(s.requests.filter((p) => p.includes('app-running') || p.includes('application_'))).toEqual([]);

    const s2 = await syntheticServer();
    await collectHistoryServerAll(fast(s2.url, { status: 'running', since }));
    expect(s2.requests[0]).toBe(`applications?status=running&minDate=${encodeURIComponent(since.toISOString().replace('Z', 'GMT'))}`);
  });

  it('keeps at most `concurrency` attempts in flight', async () => {
    const apps: SyntheticApp[] = Array.from({ length: 12 }, (_, i) => ({ id: `app-${i}`, startMs: T0, endMs: T0 + 1, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
    const base = syntheticRoutes(apps);
    let active = 0;
    let peak = 0;
    const slowStages: Record<string, Route> = {};
    for (const a of apps) {
      const json = JSON.stringify([]);
      slowStages[`applications/${a.id}/stages`] = (_req, res) => {
        active++;
        peak = Math.max(peak, active);
        setTimeout(() => {
          active--;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(json);
        }, 30);
      };
    }
    const s = await serve({ applications: { json: syntheticListing(apps) }, ...base, ...slowStages });
    const r = await collectHistoryServerAll(fast(s.url, { concurrency: 3 }));
    expect(r.apps).toHaveLength(12);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(3);
  });

  it('a listing entry of the wrong shape is a problem; the other entries still arrive', async () => {
    const listing = [...syntheticListing(SYNTHETIC.slice(3)), { id: 'broken', attempts: 'nope' }];
    const s = await serve({ applications: { json: listing }, ...syntheticRoutes(SYNTHETIC) });
    const r = await collectHistoryServerAll(fast(s.url, { status: 'all' }));
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(['app-capped', 'app-running']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'rest-shape' });
    expect(r.problems[0]!.message).toMatch(/broken: unexpected shape/);
  });

  it('a 10,000-application listing is read in end-time windows of at most 500, each application once', async () => {
    // Spark's semantics: newest end time first, minEndDate/maxEndDate inclusive, then `limit`.
    // Three applications share each end millisecond, so page breaks fall inside a millisecond.
    const all = Array.from({ length: 10_000 }, (_, i) => ({
      id: `app-${String(i).padStart(5, '0')}`,
      end: T0 + Math.floor(i / 3) * 1000,
      user: i % 1000 === 7 ? 'bob' : 'etl',
    }));
    const pageSizes: number[] = [];
    const bob = all.filter((a) => a.user === 'bob').map((a): SyntheticApp => ({ id: a.id, user: 'bob', startMs: a.end - 100, endMs: a.end, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
    const s = await serve({ ...syntheticRoutes(bob), applications: sparkListing(all, pageSizes) });
    const r = await collectHistoryServerAll(fast(s.url, { user: 'bob' }));
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(bob.map((a) => a.id).sort());
    expect(r.filtered + r.apps.length).toBe(10_000); // every application exactly once
    const listings = s.requests.filter((p) => p.startsWith('applications?'));
    // 500 new ones per page, plus the ones of the previous page's last millisecond (at most 3 here).
    expect(listings.every((p) => /[?&]limit=50[0-3](&|$)/.test(p))).toBe(true);
    expect(Math.max(...pageSizes)).toBeLessThanOrEqual(503);
    expect(listings.length).toBeGreaterThanOrEqual(20);
    expect(listings.length).toBeLessThanOrEqual(22);

    // max-apps counts the user's applications only: 3 of bob's, however many others' pages that takes;
    // and stops the paging early once it has them (bob's third newest, app-07007, is on the sixth page of 500).
    const capped = await collectHistoryServerAll(fast(s.url, { user: 'bob', maxApps: 3 }));
    expect(capped.apps).toHaveLength(3);
    expect(capped.filtered + capped.apps.length).toBeLessThanOrEqual(3003);
    const nobody = await collectHistoryServerAll(fast(s.url, { user: 'nobody', maxApps: 1200 }));
    expect(nobody.filtered).toBe(10_000);
  });

  it('more applications in one millisecond than a page holds: the window grows instead of sticking', async () => {
    const all = Array.from({ length: 9 }, (_, i) => ({ id: `app-${i}`, end: i < 7 ? T0 + 5000 : T0 + i, user: 'etl' }));
    const s = await serve({ applications: sparkListing(all, []) });
    const r = await collectHistoryServerAll(fast(s.url, { user: 'nobody', pageSize: 2 }));
    expect(r.problems).toEqual([]);
    expect(r.filtered).toBe(9);
  });

  it('a server that ignores maxEndDate and limit stops the listing with a problem instead of looping', async () => {
    const apps: SyntheticApp[] = Array.from({ length: 5 }, (_, i) => ({ id: `app-${i}`, startMs: T0, endMs: T0 + i, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
    const s = await serve({ applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps) });
    const r = await collectHistoryServerAll(fast(s.url, { pageSize: 3 }));
    expect(r.apps).toHaveLength(5);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/listing stopped early: a full page of 5 held no new application/);
    expect(s.requests.filter((p) => p.startsWith('applications?'))).toHaveLength(2);
  });

  it('an error answer keeps its message but never the credentials it echoes (password, token, header), and a huge one is not read', async () => {
    const echo: Route = (req, res) => {
      const auth = req.headers.authorization ?? '';
      const decoded = /^Basic /.test(auth) ? Buffer.from(auth.slice(6), 'base64').toString() : auth;
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error_code: 'BAD_REQUEST', message: `refused ${auth} (${decoded}) pw=${decoded.split(':')[1] ?? ''}` }));
    };
    const big: Route = (_req, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'x'.repeat(200_000) }));
    };
    const s = await serve({ applications: echo, 'applications/big': big });
    const basic = new HistoryServerClient({ url: s.url, auth: { type: 'basic', username: 'ops', password: 'hunter2-secret' }, maxAttempts: 1 });
    const err = (await basic.getJson('applications', z.unknown()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/HTTP 400 \(BAD_REQUEST: refused/);
    expect(err.message).not.toContain('hunter2-secret');
    expect(err.message).not.toContain(Buffer.from('ops:hunter2-secret').toString('base64'));
    const bearer = new HistoryServerClient({ url: s.url, auth: { type: 'bearer', token: 'tok-0123456789' }, maxAttempts: 1 });
    const err2 = (await bearer.getJson('applications', z.unknown()).catch((e: unknown) => e)) as Error;
    expect(err2.message).not.toContain('tok-0123456789');
    const err3 = (await bearer.getJson('applications/big', z.unknown()).catch((e: unknown) => e)) as Error;
    expect(err3.message).toBe('applications/big: HTTP 400');
    await Promise.all([basic.close(), bearer.close()]);
  });

  it('helpers: REST dates, Retry-After', () => {
    expect(restTimeMs('2015-02-03T16:42:59.720GMT')).toBe(Date.UTC(2015, 1, 3, 16, 42, 59, 720));
    expect(restTimeMs('nonsense')).toBeNull();
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1))).toBe(10_000);
    expect(retryAfterMs(undefined)).toBeNull();
    expect(retryAfterMs('soon')).toBeNull();
    // Fractional seconds are seconds, not a date in 2001 (which would mean: retry at once).
    expect(retryAfterMs('1.5')).toBe(1500);
    expect(retryAfterMs('0.25')).toBe(250);
    expect(retryAfterMs('12/31')).toBeNull();
  });
});

// ---------------------------------------------------------------------------------------------
// 3. Faults

const ONE: SyntheticApp[] = [SYNTHETIC[0]!, SYNTHETIC[4]!];
const STAGES_0 = 'applications/application_1700000000000_0001/stages';

describe('History Server collector faults', () => {
  it('a response slower than the timeout is retried a bounded number of times, then is a problem for that app only', async () => {
    const timers: NodeJS.Timeout[] = [];
    const s = await syntheticServer(ONE, {
      [STAGES_0]: (_req, res) => {
        timers.push(setTimeout(() => res.end('[]'), 5000));
      },
    });
    const started = Date.now();
    const r = await collectHistoryServerAll(fast(s.url, { timeoutMs: 200, maxAttempts: 2 }));
    timers.forEach(clearTimeout);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-capped']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('rest-failed');
    expect(r.problems[0]!.message).toMatch(/application_1700000000000_0001: .*stages: timed out after 200 ms \(gave up after 2 attempts\)/);
    expect(s.requests.filter((p) => p === STAGES_0)).toHaveLength(2);
  });

  it('500 then success: retried, the record arrives, no problem', async () => {
    const s = await syntheticServer(ONE, {
      [STAGES_0]: (_req, res, hit) => {
        if (hit === 1) {
          res.writeHead(500);
          res.end('boom');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify([{ status: 'COMPLETE', stageId: 0, attemptId: 0, numCompleteTasks: 5, numFailedTasks: 0, numKilledTasks: 0 }]));
      },
    });
    const r = await collectHistoryServerAll(fast(s.url));
    expect(r.problems).toEqual([]);
    expect(r.apps.find((a) => a.record.app_id === 'application_1700000000000_0001')!.record.total_tasks).toBe(5);
    expect(s.requests.filter((p) => p === STAGES_0)).toHaveLength(2);
  });

  it('500 every time: gives up after the bounded number of attempts, naming the status', async () => {
    const s = await syntheticServer(ONE, { [STAGES_0]: { text: 'no', status: 503 } });
    const r = await collectHistoryServerAll(fast(s.url, { maxAttempts: 3 }));
    expect(r.apps).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/stages: HTTP 503 \(gave up after 3 attempts\)/);
    expect(s.requests.filter((p) => p === STAGES_0)).toHaveLength(3);
  });

  it('429 with Retry-After: waits that long, then succeeds', async () => {
    const s = await syntheticServer(ONE, {
      applications: (_req, res, hit) => {
        if (hit === 1) {
          res.writeHead(429, { 'retry-after': '1' });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(syntheticListing(ONE)));
      },
    });
    const started = Date.now();
    const r = await collectHistoryServerAll({ url: s.url, backoffMs: 5, maxDelayMs: 5000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(2);
    expect(s.requests.filter((p) => p === 'applications?status=completed&limit=500')).toHaveLength(2);
  });

  it('connection reset: retried; when it keeps happening, a problem naming the network error', async () => {
    const s = await syntheticServer(ONE, {
      [STAGES_0]: (req, res, hit) => {
        if (hit === 1) {
          req.socket.destroy();
          return;
        }
        res.end('[]');
      },
    });
    const r = await collectHistoryServerAll(fast(s.url));
    expect(r.problems).toEqual([]);
    expect(r.apps).toHaveLength(2);

    const s2 = await syntheticServer(ONE, { [STAGES_0]: (req) => req.socket.destroy() });
    const r2 = await collectHistoryServerAll(fast(s2.url, { maxAttempts: 3 }));
    expect(r2.apps.map((a) => a.record.app_id)).toEqual(['app-capped']);
    expect(r2.problems[0]!.message).toMatch(/stages: .*(socket|ECONNRESET|closed).*\(gave up after 3 attempts\)/i);
  });

  it('reset in the middle of a body is retried too', async () => {
    const s = await syntheticServer(ONE, {
      [STAGES_0]: (req, res, hit) => {
        if (hit === 1) {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
          res.write('[{"status":"COMPLETE",');
          setTimeout(() => req.socket.destroy(), 10);
          return;
        }
        res.end('[]');
      },
    });
    const r = await collectHistoryServerAll(fast(s.url));
    expect(r.problems).toEqual([]);
    expect(s.requests.filter((p) => p === STAGES_0)).toHaveLength(2);
  });

  it('truncated JSON is a problem for that app, not retried; the others still arrive', async () => {
    const s = await syntheticServer(ONE, { [STAGES_0]: { text: '[{"status":"COMPLETE","stageId":1' } });
    const r = await collectHistoryServerAll(fast(s.url));
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-capped']);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'rest-invalid' });
    expect(r.problems[0]!.message).toMatch(/application_1700000000000_0001: .*stages: malformed JSON/);
    expect(s.requests.filter((p) => p === STAGES_0)).toHaveLength(1);
  });

  it('an answer of the wrong shape is a problem naming where', async () => {
    const s = await syntheticServer(ONE, { [STAGES_0]: { json: [{ status: 'COMPLETE', stageId: 'one' }] } });
    const r = await collectHistoryServerAll(fast(s.url));
    expect(r.apps).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/stages: unexpected answer shape at 0\.stageId/);
  });

  it('wrong credentials (401) on the listing: one clear problem, the run stops, the password appears nowhere', async () => {
    const s = await syntheticServer(ONE, {
      applications: (req, res) => {
        res.writeHead(req.headers.authorization === `Basic ${Buffer.from('ann:right').toString('base64')}` ? 200 : 401, { 'www-authenticate': 'Basic' });
        res.end(req.headers.authorization === `Basic ${Buffer.from('ann:right').toString('base64')}` ? JSON.stringify(syntheticListing(ONE)) : 'go away');
      },
    });
    const r = await collectHistoryServerAll(fast(s.url, { auth: { type: 'basic', username: 'ann', password: 'wrong-s3cret' } }));
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]).toMatchObject({ code: 'auth-failed', severity: 'error' });
    expect(r.problems[0]!.message).toMatch(/401 Unauthorized: wrong or missing credentials/);
    expect(JSON.stringify(r)).not.toContain('wrong-s3cret');
    expect(s.requests).toHaveLength(1);

    const ok = await collectHistoryServerAll(fast(s.url, { auth: { type: 'basic', username: 'ann', password: 'right' } }));
    expect(ok.apps).toHaveLength(2);
  });

  it('403 on per-app answers: reported once, the remaining apps are not fetched', async () => {
    const apps: SyntheticApp[] = Array.from({ length: 20 }, (_, i) => ({ id: `app-${i}`, startMs: T0, endMs: T0 + 1, executors: [{ id: 'driver', cores: 1 }], stages: [] }));
    const forbidden: Record<string, Route> = {};
    for (const a of apps) forbidden[`applications/${a.id}/stages`] = { text: 'forbidden', status: 403 };
    const s = await serve({ applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps), ...forbidden });
    const r = await collectHistoryServerAll(fast(s.url, { concurrency: 2, auth: { type: 'bearer', token: 'tok-XYZ' } }));
    expect(r.problems.filter((p) => p.code === 'auth-failed')).toHaveLength(1);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.message).toMatch(/403 Forbidden/);
    expect(JSON.stringify(r)).not.toContain('tok-XYZ');
    expect(s.authorizations.every((a) => a === 'Bearer tok-XYZ')).toBe(true);
    expect(s.requests.filter((p) => p.endsWith('/stages')).length).toBeLessThanOrEqual(4);
  });

  it('credentials in the URL go into the Authorization header, not into messages', async () => {
    const s = await serve({ applications: { text: '{', status: 200 } });
    const withUser = s.url.replace('http://', 'http://ann:pa55word@');
    const client = new HistoryServerClient({ url: withUser });
    expect(client.apiBase).toBe(`${s.url}/api/v1`);
    await expect(client.getJson('applications', z.array(z.unknown()))).rejects.toThrow(/malformed JSON/);
    expect(s.authorizations[0]).toBe(`Basic ${Buffer.from('ann:pa55word').toString('base64')}`);
    const r = await collectHistoryServerAll(fast(withUser));
    expect(r.problems[0]!.code).toBe('list-failed');
    expect(JSON.stringify(r)).not.toContain('pa55word');
    await client.close();
  });

  it('an unreachable server is one list-failed problem after the bounded retries', async () => {
    const s = await serve({});
    const url = s.url;
    await s.close();
    const r = await collectHistoryServerAll(fast(url, { maxAttempts: 2 }));
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.code).toBe('list-failed');
    expect(r.problems[0]!.message).toMatch(/ECONNREFUSED.*gave up after 2 attempts/);
  });

  it('cancelling stops the run', async () => {
    const s = await syntheticServer(ONE, { [STAGES_0]: () => undefined });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('cancelled by test')), 100);
    await expect(collectHistoryServerAll(fast(s.url, { timeoutMs: 10_000 }), { signal: controller.signal })).rejects.toThrow(/cancelled by test/);
  });
});
