/** Dataproc defects of a review of the cloud collectors, each against the fake API on 127.0.0.1. */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { collectDataproc, collectDataprocAll, type DataprocOptions } from '../src/collectors/dataproc/collect';
import { scrubSecrets } from '../src/collectors/dataproc/auth';
import { fakeCluster, fakeJob, startDataprocFake, type DataprocFake, type DataprocFakeOptions } from './support/dataprocFake';
import { DATAPROC_ENV, isolatedEnv, noGcloud } from './support/isolatedEnv';
import { storedRuns } from './support/storedRuns';

const PROJECT = 'proj-1';
const REGION = 'europe-west1';
const TOKEN = 'ya29.FAKE-SECRET-access-token-0123456789';
const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);
const servers: DataprocFake[] = [];
isolatedEnv(DATAPROC_ENV, 'dataproc-review-', noGcloud);
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fake(o: Partial<DataprocFakeOptions> & { jobs: unknown[] }): Promise<DataprocFake> {
  const f = await startDataprocFake({ project: PROJECT, region: REGION, tokens: [TOKEN], clusters: { c1: cluster1 }, ...o });
  servers.push(f);
  return f;
}
const opts = (f: DataprocFake, extra: Partial<DataprocOptions> = {}): DataprocOptions => ({ source: 'dp', projectId: PROJECT, region: REGION, endpointUrl: f.url, accessToken: TOKEN, maxAttempts: 2, backoffMs: 5, maxDelayMs: 20, timeoutMs: 3000, authTimeoutMs: 3000, ...extra });
const cluster1 = fakeCluster('c1', { image: '2.2.40-debian12', master: ['n2-standard-4', 1], worker: ['n2-highmem-8', 5] });
const json = (res: ServerResponse, status: number, body: unknown): true => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
};
const isList = (p: string): boolean => p.endsWith('/jobs');
const ids = (r: Awaited<ReturnType<typeof collectDataprocAll>>): string[] => r.apps.map((a) => a.record.app_id);

describe('Dataproc error answers with status 200', () => {
  it('a jobs.list answer whose body is a Google error is list-failed quoting it, the token masked, not an empty last page', { timeout: 10_000 }, async () => {
    const done = fakeJob({ id: 'j1', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 });
    const f = await fake({
      jobs: [],
      fault: (req, res, hit) =>
        isList(req.path) && (hit === 1 ? json(res, 200, { jobs: [done], nextPageToken: 'p2' }) : json(res, 200, { error: { code: 503, message: `backend unavailable (${TOKEN})`, status: 'UNAVAILABLE' } })),
    });
    const r = await collectDataprocAll(opts(f));
    expect(ids(r)).toEqual(['dataproc-job-j1']);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['list-failed', 'listing Dataproc jobs failed: the answer (HTTP 200) is an error: UNAVAILABLE: backend unavailable (***)']]);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });
});

describe('Dataproc --since and queued jobs', () => {
  it('a PENDING job with no RUNNING or SETUP_DONE time is kept under --since, as running, not skipped', { timeout: 10_000 }, async () => {
    const now = Date.now();
    const queued = fakeJob({ id: 'queued1', state: 'PENDING', submitMs: now - 60_000 });
    const old = fakeJob({ id: 'old1', state: 'DONE', submitMs: now - 3 * 3600_000, startMs: now - 3 * 3600_000 + 1000, endMs: now - 2 * 3600_000 });
    const f = await fake({ jobs: [queued, old] });
    const r = await collectDataprocAll(opts(f, { since: new Date(now - 3600_000) }));
    expect(r.apps.map((a) => [a.record.app_id, a.record.status])).toEqual([['dataproc-job-queued1', 'running']]);
    expect(r.filtered).toBe(1);
  });
});

describe('Dataproc scrub', () => {
  const longCluster = 'analytics-nightly-aggregation-cluster-europe-west1-prod-0001';
  const longJob = 'job_nightly_aggregation_2026_12_07_0000000000000000000001';

  it('masks credential shapes and values in use, not our own long cluster names and job ids', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJzYUBwLmlhbSJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
    const text = `cluster ${longCluster} job ${longJob}: token ya29.a0AfB_byC-secret.value, assertion ${jwt}, refresh 1//0gAbCdEfGhIjKlMnOpQrStUv, client GOCSPX-abcdEFGH1234, key -----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY----- and opaque-known-secret`;
    expect(scrubSecrets(text, 'opaque-known-secret')).toBe(`cluster ${longCluster} job ${longJob}: token ***, assertion ***, refresh ***, client ***, key *** and ***`);
  });

  it("a problem about a cluster with a long name names it", { timeout: 10_000 }, async () => {
    const job = fakeJob({ id: longJob, cluster: longCluster, state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 });
    const f = await fake({ jobs: [job], clusters: {} });
    const r = await collectDataprocAll(opts(f));
    expect(ids(r)).toEqual([`dataproc-job-${longJob}`]);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['cluster-missing', `cluster ${longCluster} no longer exists (HTTP 404): its jobs are stored without cluster facts`]]);
  });
});

describe('Dataproc jobs that are not Spark', () => {
  it('are told in one info line by kind, not counted as skipped by --since/--user', { timeout: 10_000 }, async () => {
    const jobs = [
      fakeJob({ id: 'spark1', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 }),
      fakeJob({ id: 'hive1', kind: 'hiveJob', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 }),
      fakeJob({ id: 'hive2', kind: 'hiveJob', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 }),
      { ...fakeJob({ id: 'pig1', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 }), sparkJob: undefined, pigJob: { queryList: { queries: ['x'] } } },
    ];
    const f = await fake({ jobs });
    const r = await collectDataprocAll(opts(f, { since: new Date(T0 - 3600_000) }));
    expect(ids(r)).toEqual(['dataproc-job-spark1']);
    expect(r.filtered).toBe(0);
    expect(r.problems.map((p) => [p.severity, p.code, p.message])).toEqual([['info', 'dataproc-not-spark-jobs', 'not Spark jobs: 3 (hive 2, pig 1); they are none of sparkJob, pysparkJob, sparkSqlJob, sparkRJob: no Spark application to store']]);
  });
});

describe('Dataproc listing that does not page', () => {
  const job = (id: string): Record<string, unknown> => fakeJob({ id, state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 });

  it('a repeated page token stops before that page is fetched (list-failed)', { timeout: 10_000 }, async () => {
    const f = await fake({ jobs: [], fault: (req, res, hit) => isList(req.path) && json(res, 200, { jobs: [job(`j${hit}`)], nextPageToken: 'A' }) });
    const r = await collectDataprocAll(opts(f));
    expect(ids(r)).toEqual(['dataproc-job-j1']);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['list-failed', 'listing Dataproc jobs failed: the server returned pageToken "A" twice; listing stopped to avoid a loop']]);
  });

  it('fresh tokens over the same jobs stop with list-failed instead of listing forever', { timeout: 10_000 }, async () => {
    const f = await fake({ jobs: [], fault: (req, res, hit) => isList(req.path) && json(res, 200, { jobs: [job('j1'), { ...job('h1'), sparkJob: undefined, hiveJob: {} }], nextPageToken: `t${hit}` }) });
    const r = await collectDataprocAll(opts(f));
    expect(ids(r)).toEqual(['dataproc-job-j1']);
    expect(r.problems.map((p) => p.code)).toEqual(['list-failed', 'dataproc-not-spark-jobs']);
    expect(r.problems[1]!.message).toContain('not Spark jobs: 1 (hive 1)');
  });
});

describe('Dataproc incremental runs', () => {
  it('a second collect reads no finished job again that the store holds with the same state and end time (no clusters.get)', { timeout: 15_000 }, async () => {
    const jobs = [fakeJob({ id: 'd1', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 60_000 }), fakeJob({ id: 'r1', state: 'RUNNING', submitMs: T0, startMs: T0 + 1000 })];
    const f = await fake({ jobs });
    const store = await storedRuns('dp');
    expect(await store.run((ctx) => collectDataproc(opts(f), ctx))).toMatchObject({ new: 2 });
    const clusterGets = (): number => f.requests.filter((r) => r.path.includes('/clusters/')).length;
    f.requests.length = 0;
    expect(await store.run((ctx) => collectDataproc(opts(f), ctx))).toMatchObject({ new: 0, updated: 0, unchanged: 2 });
    // Only the running job is read (its cluster with it).
    expect(clusterGets()).toBe(1);
    jobs[1] = fakeJob({ id: 'r1', state: 'ERROR', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 90_000 });
    expect(await store.run((ctx) => collectDataproc(opts(f), ctx))).toMatchObject({ new: 0, updated: 1, unchanged: 1 });
    f.requests.length = 0;
    expect(await store.run((ctx) => collectDataproc(opts(f), ctx))).toMatchObject({ new: 0, updated: 0, unchanged: 2 });
    expect(clusterGets()).toBe(0);
  });
});
