import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectDataproc, collectDataprocAll, historyServerAuth, type DataprocOptions } from '../src/collectors/dataproc/collect';
import { dataprocOptions } from '../src/collectors/dataproc/source';
import { resolveGcpCredentials } from '../src/collectors/dataproc/auth';
import { parseConfig } from '../src/collectors/config';
import type { CollectProgress } from '../src/collectors/contract';
import { Quality } from '../src/collectors/record';
import { fakeCluster, fakeJob, startDataprocFake, type DataprocFake, type FakeJob } from './support/dataprocFake';
import { DATAPROC_ENV, isolatedEnv, noGcloud } from './support/isolatedEnv';
import { startFakeServer, syntheticListing, syntheticRoutes, type FakeServer, type SyntheticApp } from './support/historyServerFake';

const PROJECT = 'proj-1';
const REGION = 'europe-west1';
const TOKEN = 'ya29.FAKE-SECRET-access-token-0123456789';
const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);
const servers: { close: () => Promise<void> }[] = [];
// No real gcloud credentials or metadata server can leak into a test.
const env = isolatedEnv(DATAPROC_ENV, 'dataproc-test-', noGcloud);
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const fast = { maxAttempts: 4, backoffMs: 5, maxDelayMs: 20, timeoutMs: 3000, authTimeoutMs: 3000 };

async function fake(o: Partial<Parameters<typeof startDataprocFake>[0]> & { jobs: unknown[] }): Promise<DataprocFake> {
  const f = await startDataprocFake({ project: PROJECT, region: REGION, tokens: [TOKEN], ...o });
  servers.push(f);
  return f;
}

const opts = (f: DataprocFake, extra: Partial<DataprocOptions> = {}): DataprocOptions => ({ source: 'dp', projectId: PROJECT, region: REGION, endpointUrl: f.url, ...fast, ...extra });

const jobsRequests = (f: DataprocFake) => f.requests.filter((r) => r.path.endsWith('/jobs'));
const clusterRequests = (f: DataprocFake, name: string) => f.requests.filter((r) => r.path.endsWith(`/clusters/${name}`));

/** Everything the collector produced, as text: secrets must not be in it. */
const allText = (out: unknown, progress: unknown[] = []): string => JSON.stringify({ out, progress });

const cluster1 = fakeCluster('c1', { image: '2.2.40-debian12', master: ['n2-standard-4', 1], worker: ['n2-highmem-8', 5], properties: { 'spark:spark.executor.memory': '6g', 'spark:spark.executor.cores': '4', 'spark:spark.dynamicAllocation.enabled': 'false', 'spark:spark.executor.instances': '5', 'core:fs.gs.block.size': '1' } });

function jobsFixture(n: number): FakeJob[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `job-${i}`,
    state: i % 3 === 2 ? 'ERROR' : 'DONE',
    details: i % 3 === 2 ? 'Job failed with message [boom]' : undefined,
    submitMs: T0 + i * 60_000,
    startMs: T0 + i * 60_000 + 5_000,
    endMs: T0 + i * 60_000 + 50_000 + i,
    properties: { 'spark.driver.memory': '2g', 'spark.hadoop.fs.s3a.secret.key': 'S3-SECRET-VALUE' },
    yarnApps: [`application_1700000000000_${String(i).padStart(4, '0')}`],
  }));
}

describe('dataproc collector', () => {
  it('pages through jobs with pageToken and maps each Spark job to a platform-level record', async () => {
    const fixture = jobsFixture(7);
    const jobs = [...fixture.map(fakeJob), fakeJob({ id: 'hive-1', kind: 'hiveJob', state: 'DONE', submitMs: T0, startMs: T0 + 1, endMs: T0 + 2 })];
    const f = await fake({ jobs, clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const progress: CollectProgress[] = [];
    const batches = [];
    for await (const b of collectDataproc(opts(f, { pageSize: 3, batchSize: 2 }), { onProgress: (p) => progress.push(p) })) batches.push(b);
    const apps = batches.flatMap((b) => b.apps);
    const problems = batches.flatMap((b) => b.problems);

    expect(batches.length).toBeGreaterThan(1);
    // The Hive job is not Spark: one info line, not "skipped".
    expect(problems.map((p) => [p.severity, p.code, p.message])).toEqual([['info', 'dataproc-not-spark-jobs', 'not Spark jobs: 1 (hive 1); they are none of sparkJob, pysparkJob, sparkSqlJob, sparkRJob: no Spark application to store']]);
    // 8 listed over 3 pages; tokens chained from each answer's nextPageToken.
    expect(jobsRequests(f).map((r) => r.query.get('pageToken'))).toEqual([null, '3', '6']);
    expect(f.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(clusterRequests(f, 'c1')).toHaveLength(1);
    expect(batches.reduce((n, b) => n + b.filtered, 0)).toBe(0);
    expect(apps.map((a) => a.record.app_id).sort()).toEqual(fixture.map((j) => `dataproc-job-${j.id}`).sort());

    for (const j of fixture) {
      const r = apps.find((a) => a.record.app_id === `dataproc-job-${j.id}`)!.record;
      expect(r.source).toBe('dp');
      expect(r.status).toBe(j.state === 'DONE' ? 'completed' : 'failed');
      expect(r.submit_time).toBe(new Date(j.submitMs).toISOString());
      expect(r.start_time).toBe(new Date(j.startMs!).toISOString());
      expect(r.end_time).toBe(new Date(j.endMs!).toISOString());
      expect(r.duration_ms).toBe(j.endMs! - j.startMs!);
      expect(r.executor_memory_mb).toBe(6 * 1024);
      expect(r.executor_cores).toBe(4);
      expect(r.num_executors).toBe(5);
      expect(r.driver_memory_mb).toBe(2048);
      expect(r.quality).toContain(Quality.platformLevel);
      for (const m of ['total_tasks', 'cpu_time_ms', 'shuffle_read_bytes'] as const) expect(r.quality).toContain(Quality.missing(m));
      expect(r.total_tasks).toBe(0);
      expect(r.tags).toMatchObject({ job_id: j.id, cluster_name: 'c1', cluster_uuid: 'uuid-c1', image_version: '2.2.40-debian12', master_machine_type: 'n2-standard-4', master_count: '1', worker_machine_type: 'n2-highmem-8', worker_count: '5', job_type: 'spark', yarn_application_ids: j.yarnApps![0] });
      if (j.details !== undefined) expect(r.tags.state_details).toBe(j.details);
      // The cluster's spark: properties without the prefix, the job's own on top; secrets redacted.
      expect(r.environment['spark.executor.memory']).toBe('6g');
      expect(r.environment['spark.driver.memory']).toBe('2g');
      expect(r.environment['fs.gs.block.size']).toBeUndefined();
      expect(r.environment['spark.hadoop.fs.s3a.secret.key']).not.toBe('S3-SECRET-VALUE');
    }
    const last = progress.at(-1)!;
    expect(last).toMatchObject({ logsFound: 7, logsDone: 7, apps: 7, problems: 1 });
    expect(last.bytesRead).toBeGreaterThan(0);
    const text = allText(batches, progress);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain('S3-SECRET-VALUE');
  });

  it('sends only AND filters with jobStateMatcher and the cluster name; the server narrows the jobs by them', async () => {
    const base = { submitMs: T0, startMs: T0 + 1000, endMs: T0 + 5000 };
    const prod = { env: 'prod', team: 'data-eng' };
    const fixture: FakeJob[] = [
      { ...base, id: 'keep-1', state: 'DONE', labels: prod },
      { ...base, id: 'keep-2', state: 'ERROR', labels: { ...prod, extra: 'x' } },
      { ...base, id: 'running', state: 'RUNNING', labels: prod },
      { ...base, id: 'other-team', state: 'DONE', labels: { env: 'prod', team: 'web' } },
      { ...base, id: 'no-labels', state: 'DONE' },
      { ...base, id: 'other-cluster', state: 'DONE', cluster: 'c2', labels: prod },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1, c2: fakeCluster('c2', { image: '2.2', master: ['n2-standard-4', 1], worker: ['n2-standard-4', 2] }) } });
    process.env.CLOUDSDK_AUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f, { jobState: 'non_active', labels: prod, clusterName: 'c1' }));
    expect(out.problems).toEqual([]);
    const q = jobsRequests(f)[0]!.query;
    expect(q.get('filter')).toBe('status.state = NON_ACTIVE AND labels.env = prod AND labels.team = data-eng');
    expect(out.apps.map((a) => a.record.tags.job_id).sort()).toEqual(['keep-1', 'keep-2']);
    expect(q.get('jobStateMatcher')).toBe('NON_ACTIVE');
    expect(q.get('clusterName')).toBe('c1');
    // A label value the filter language cannot carry is refused before any request.
    const before = f.requests.length;
    const bad = await collectDataprocAll(opts(f, { labels: { env: 'prod OR x' } }));
    expect(bad.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(f.requests.length).toBe(before);
  });

  it('uses a service-account key (GOOGLE_APPLICATION_CREDENTIALS) through a real JWT-bearer exchange at its token_uri', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const issued = 'ya29.ISSUED-BY-FAKE-token-abcdef';
    const email = 'collector@proj-1.iam.gserviceaccount.com';
    const fixture = jobsFixture(2);
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 }, tokens: [issued], serviceAccount: { publicKey, email, issueToken: issued } });
    const keyFile = path.join(env.home, 'key.json');
    writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: PROJECT, private_key_id: 'k1', private_key: pem, client_email: email, client_id: '1', token_uri: `${f.url}/token` }));
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;

    // No projectId option: it comes from the key file.
    const out = await collectDataprocAll({ ...opts(f), projectId: undefined });
    expect(out.problems).toEqual([]);
    expect(out.apps).toHaveLength(fixture.length);
    expect(f.exchanges.length).toBeGreaterThanOrEqual(1);
    expect(f.exchanges[0]).toMatchObject({ iss: email, scope: 'https://www.googleapis.com/auth/cloud-platform' });
    const api = f.requests.filter((r) => r.path.startsWith('/v1/'));
    expect(api.length).toBeGreaterThan(0);
    expect(api.every((r) => r.authorization === `Bearer ${issued}`)).toBe(true);
    const text = allText(out);
    expect(text).not.toContain(issued);
    expect(text).not.toContain(pem.split('\n')[1]!);
  });

  it('the project comes from CLOUDSDK_CORE_PROJECT after GOOGLE_CLOUD_PROJECT and before the key file project', async () => {
    const fixture = jobsFixture(2);
    // An access token and CLOUDSDK_CORE_PROJECT only: no project option, none in any credential.
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    process.env.CLOUDSDK_CORE_PROJECT = PROJECT;
    const out = await collectDataprocAll({ ...opts(f), projectId: undefined });
    expect(out.problems).toEqual([]);
    expect(out.apps).toHaveLength(fixture.length);
    expect(jobsRequests(f)[0]!.path).toBe(`/v1/projects/${PROJECT}/regions/${REGION}/jobs`);
    // GOOGLE_CLOUD_PROJECT wins over it.
    process.env.GOOGLE_CLOUD_PROJECT = 'gcp-env-project';
    expect((await resolveGcpCredentials()).projectId).toBe('gcp-env-project');
    delete process.env.GOOGLE_CLOUD_PROJECT;
    delete process.env.GOOGLE_OAUTH_ACCESS_TOKEN;

    // It wins over the project a service-account key names (ADC).
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const email = 'collector@key-proj.iam.gserviceaccount.com';
    const g = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 }, tokens: ['ya29.KEY-issued'], serviceAccount: { publicKey, email, issueToken: 'ya29.KEY-issued' } });
    const keyFile = path.join(env.home, 'key.json');
    writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: 'key-proj', private_key: pem, client_email: email, token_uri: `${g.url}/token` }));
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
    const viaKey = await collectDataprocAll({ ...opts(g), projectId: undefined });
    expect(viaKey.problems).toEqual([]);
    expect(viaKey.apps).toHaveLength(fixture.length);
    expect(jobsRequests(g).every((r) => r.path === `/v1/projects/${PROJECT}/regions/${REGION}/jobs`)).toBe(true);
    expect(allText([out, viaKey])).not.toContain(TOKEN);
  });

  it('a service-account key the token endpoint rejects is one auth-failed naming the key file', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const { publicKey: otherPublic } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const f = await fake({ jobs: [], serviceAccount: { publicKey: otherPublic, email: 'sa@p.iam.gserviceaccount.com', issueToken: 'never' } });
    const keyFile = path.join(env.home, 'key.json');
    writeFileSync(keyFile, JSON.stringify({ type: 'service_account', project_id: PROJECT, private_key: pem, client_email: 'sa@p.iam.gserviceaccount.com', token_uri: `${f.url}/token` }));
    process.env.GOOGLE_APPLICATION_CREDENTIALS = keyFile;
    const out = await collectDataprocAll(opts(f));
    expect(out.apps).toEqual([]);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]!.code).toBe('auth-failed');
    expect(out.problems[0]!.message).toContain(`service account key ${keyFile} (GOOGLE_APPLICATION_CREDENTIALS)`);
    expect(jobsRequests(f)).toHaveLength(0);
    expect(allText(out)).not.toContain(pem.split('\n')[1]!);
  });

  it('an expired access token (401) is one auth-failed naming GOOGLE_OAUTH_ACCESS_TOKEN, and the run stops', async () => {
    const expired = 'ya29.EXPIRED-SECRET-token-987654321';
    const f = await fake({ jobs: jobsFixture(5).map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = expired;
    const out = await collectDataprocAll(opts(f, { pageSize: 2 }));
    expect(out.apps).toEqual([]);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]!.code).toBe('auth-failed');
    expect(out.problems[0]!.message).toContain('access token from GOOGLE_OAUTH_ACCESS_TOKEN');
    expect(out.problems[0]!.message).toContain('401');
    // Not retried, no further page.
    expect(f.requests).toHaveLength(1);
    expect(allText(out)).not.toContain(expired);
  });

  it('the source access_token wins over the environment; a 403 on one cluster is one warning, its jobs stored without cluster facts', async () => {
    const fixture = [...jobsFixture(3).map((j) => ({ ...j, cluster: 'locked' })), { ...jobsFixture(4)[3]!, cluster: 'c1' }];
    const f = await fake({
      jobs: fixture.map(fakeJob),
      clusters: { c1: cluster1 },
      fault: (r, res) => {
        if (!r.path.endsWith('/clusters/locked')) return false;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 403, status: 'PERMISSION_DENIED', message: "Permission 'dataproc.clusters.get' denied" } }));
        return true;
      },
    });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = 'ya29.some-other-token';
    const out = await collectDataprocAll(opts(f, { accessToken: TOKEN, concurrency: 1 }));
    expect(out.apps).toHaveLength(fixture.length);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({ severity: 'warning', code: 'cluster-forbidden' });
    expect(out.problems[0]!.message).toContain('locked');
    expect(out.problems[0]!.message).toContain("access token from the source's access_token setting");
    expect(out.problems[0]!.file).toContain('/clusters/locked');
    expect(clusterRequests(f, 'locked')).toHaveLength(1);
    const locked = out.apps.find((a) => a.record.tags.cluster_name === 'locked')!.record;
    expect(locked.tags.image_version).toBeUndefined();
    expect(locked.quality).toContain(Quality.missing('executor_memory_mb'));
    expect(out.apps.find((a) => a.record.tags.cluster_name === 'c1')!.record.tags.image_version).toBe('2.2.40-debian12');
    expect(f.requests[0]!.authorization).toBe(`Bearer ${TOKEN}`);
    expect(allText(out)).not.toContain(TOKEN);
  });

  it('a 401 on a cluster stops the run, naming the accessTokenSource the editor gave', async () => {
    const f = await fake({
      jobs: jobsFixture(4).map(fakeJob),
      fault: (r, res) => {
        if (!r.path.includes('/clusters/')) return false;
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 401, status: 'UNAUTHENTICATED', message: 'Request had invalid authentication credentials.' } }));
        return true;
      },
    });
    const from = "token from the editor's secret storage (source 'dp')";
    const out = await collectDataprocAll(opts(f, { accessToken: TOKEN, accessTokenSource: from }));
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(out.problems[0]!.message).toContain(from);
    expect(out.problems[0]!.message).not.toContain('access_token setting');
    expect(out.problems[0]!.message).toContain('401');
    expect(allText(out)).not.toContain(TOKEN);
  });

  it('a 403 on the jobs listing stops the run once', async () => {
    const f = await fake({
      jobs: jobsFixture(2).map(fakeJob),
      clusters: { c1: cluster1 },
      fault: (r, res) => {
        if (!r.path.endsWith('/jobs')) return false;
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 403, status: 'PERMISSION_DENIED', message: "Permission 'dataproc.jobs.list' denied" } }));
        return true;
      },
    });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f));
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(out.problems[0]!.message).toContain('access token from GOOGLE_OAUTH_ACCESS_TOKEN');
    expect(out.problems[0]!.message).toContain('dataproc.jobs.list');
    expect(jobsRequests(f)).toHaveLength(1);
  });

  it('no credentials at all: a clear auth-failed within seconds, no request sent', async () => {
    const f = await fake({ jobs: [] });
    const started = Date.now();
    const out = await collectDataprocAll(opts(f));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.problems).toHaveLength(1);
    const p = out.problems[0]!;
    expect(p.code).toBe('auth-failed');
    for (const hint of ['GOOGLE_APPLICATION_CREDENTIALS', 'gcloud auth application-default login', 'GOOGLE_OAUTH_ACCESS_TOKEN', 'metadata server']) expect(p.message).toContain(hint);
    expect(f.requests).toHaveLength(0);
  });

  it('no credentials with the metadata server probed at a closed local port still ends fast', async () => {
    delete process.env.METADATA_SERVER_DETECTION;
    const closed = await fake({ jobs: [] });
    const host = new URL(closed.url).host;
    await closed.close();
    servers.splice(servers.indexOf(closed), 1);
    process.env.GCE_METADATA_HOST = host;
    const f = await fake({ jobs: [] });
    const started = Date.now();
    const out = await collectDataprocAll(opts(f));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
  });

  it('a deleted cluster (404) is one warning and its jobs are still stored, the cluster asked once', async () => {
    const fixture = [...jobsFixture(3).map((j) => ({ ...j, cluster: 'gone' })), { ...jobsFixture(4)[3]!, cluster: 'c1' }];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f, { concurrency: 1 }));
    expect(out.apps).toHaveLength(fixture.length);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({ severity: 'warning', code: 'cluster-missing' });
    expect(out.problems[0]!.message).toContain('gone');
    expect(clusterRequests(f, 'gone')).toHaveLength(1);
    const orphan = out.apps.find((a) => a.record.tags.cluster_name === 'gone')!.record;
    expect(orphan.tags.image_version).toBeUndefined();
    expect(orphan.quality).toContain(Quality.missing('executor_memory_mb'));
  });

  it('429 and 503 answers are retried (Retry-After honoured) and everything arrives', async () => {
    const fixture = jobsFixture(6);
    // When page 2 was throttled and when it was asked again: the gap is the Retry-After, not the backoff.
    const pageTwoAt: number[] = [];
    const f = await fake({
      jobs: fixture.map(fakeJob),
      clusters: { c1: cluster1 },
      fault: (r, res, hit) => {
        if (r.path.endsWith('/jobs') && r.query.get('pageToken') === '3') pageTwoAt.push(performance.now());
        // Hit 2 of the jobs path is page 2's first try: throttled for one second.
        if (r.path.endsWith('/jobs') && r.query.get('pageToken') === '3' && hit === 2) {
          res.writeHead(429, { 'retry-after': '1', 'content-type': 'application/json' });
          res.end('{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","message":"Quota exceeded"}}');
          return true;
        }
        if (r.path.endsWith('/clusters/c1') && hit <= 2) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end('{"error":{"code":503,"status":"UNAVAILABLE"}}');
          return true;
        }
        return false;
      },
    });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    // Backoff alone would wait at most a few milliseconds here; the cap leaves room for the 1 s asked.
    const out = await collectDataprocAll(opts(f, { pageSize: 3, backoffMs: 1, maxDelayMs: 5000 }));
    expect(out.problems).toEqual([]);
    expect(out.apps).toHaveLength(fixture.length);
    expect(jobsRequests(f).map((r) => r.query.get('pageToken'))).toEqual([null, '3', '3']);
    expect(clusterRequests(f, 'c1')).toHaveLength(3);
    expect(pageTwoAt).toHaveLength(2);
    expect(pageTwoAt[1]! - pageTwoAt[0]!).toBeGreaterThanOrEqual(950);
  });

  it('a listing that keeps failing is list-failed and stops the run', async () => {
    const f = await fake({
      jobs: jobsFixture(2).map(fakeJob),
      fault: (r, res) => {
        if (!r.path.endsWith('/jobs')) return false;
        res.writeHead(500);
        res.end();
        return true;
      },
    });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f, { maxAttempts: 2 }));
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(out.problems[0]!.file).toContain(`/projects/${PROJECT}/regions/${REGION}/jobs`);
    expect(out.problems[0]!.message).toContain(`v1/projects/${PROJECT}/regions/${REGION}/jobs`);
    expect(out.problems[0]!.message).toContain('HTTP 500');
    expect(jobsRequests(f)).toHaveLength(2);
  });

  it('a malformed job entry is one problem naming the job; the others arrive', async () => {
    const fixture = jobsFixture(3);
    const jobs = fixture.map(fakeJob);
    const broken = { ...fakeJob({ id: 'broken-1', state: 'DONE', submitMs: T0 }), status: { stateStartTime: 'x' } };
    const f = await fake({ jobs: [jobs[0], broken, jobs[1], jobs[2]], clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f));
    expect(out.apps.map((a) => a.record.tags.job_id).sort()).toEqual(fixture.map((j) => j.id).sort());
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]!.code).toBe('job-invalid');
    expect(out.problems[0]!.message).toContain('broken-1');
    expect(out.problems[0]!.file).toContain(f.url);
  });

  it('since drops older jobs before any cluster request; maxApps caps the jobs; running jobs are in progress', async () => {
    const fixture: FakeJob[] = [
      { id: 'old', cluster: 'old-cluster', state: 'DONE', submitMs: T0 - 86_400_000, startMs: T0 - 86_000_000, endMs: T0 - 85_000_000 },
      { id: 'new', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 9000 },
      { id: 'run', state: 'RUNNING', submitMs: T0 + 100, startMs: T0 + 2000 },
      { id: 'new2', state: 'CANCELLED', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 3000 },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const since = new Date(T0);
    const out = await collectDataprocAll(opts(f, { since }));
    expect(out.apps.map((a) => a.record.tags.job_id).sort()).toEqual(['new', 'new2', 'run']);
    expect(out.filtered).toBe(1);
    expect(clusterRequests(f, 'old-cluster')).toHaveLength(0);
    const run = out.apps.find((a) => a.record.tags.job_id === 'run')!.record;
    expect(run.status).toBe('running');
    expect(run.end_time).toBeNull();
    expect(run.quality).toContain(Quality.inProgress);
    expect(out.apps.find((a) => a.record.tags.job_id === 'new2')!.record.status).toBe('failed');

    const capped = await collectDataprocAll(opts(f, { maxApps: 2, pageSize: 1 }));
    expect(capped.apps).toHaveLength(2);
    // The user filter: Dataproc names no Spark user, so platform-level records never match one.
    const byUser = await collectDataprocAll(opts(f, { user: 'alice' }));
    expect(byUser.apps).toEqual([]);
    expect(byUser.filtered).toBe(fixture.length);
  });

  it('abort stops the run promptly while requests hang', async () => {
    const f = await fake({
      jobs: jobsFixture(3).map(fakeJob),
      fault: (r) => r.path.includes('/clusters/'), // never answered
    });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const controller = new AbortController();
    const started = Date.now();
    const run = collectDataprocAll(opts(f, { timeoutMs: 60_000 }), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.logsFound > 0) setImmediate(() => controller.abort(new Error('user cancelled')));
      },
    });
    await expect(run).rejects.toThrow('user cancelled');
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('joins Persistent History Server applications: the HS record with the job and cluster tags', async () => {
    const appA = 'application_1700000000000_0001';
    const appB = 'application_1700000000000_0002';
    const hsApps: SyntheticApp[] = [
      { id: appA, name: 'etl', user: 'alice', startMs: T0 + 5000, endMs: T0 + 65_000, properties: { 'spark.executor.memory': '8g', 'spark.executor.cores': '2', 'spark.driver.memory': '3g' }, executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 2 }, { id: '2', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 10, cpuNs: 4e9, input: 1000 }, { id: 1, status: 'COMPLETE', complete: 5, failed: 1, shuffleRead: 300 }] },
      { id: appB, name: 'report', user: 'bob', startMs: T0 + 70_000, endMs: T0 + 90_000, properties: {}, executors: [{ id: '1', cores: 4 }], stages: [{ id: 0, status: 'COMPLETE', complete: 3 }] },
    ];
    const routes = syntheticRoutes(hsApps);
    const listing = syntheticListing(hsApps);
    for (const app of listing) routes[`applications/${(app as { id: string }).id}`] = { json: app };
    const hs: FakeServer = await startFakeServer(routes);
    servers.push(hs);
    const fixture: FakeJob[] = [
      { id: 'j-a', state: 'DONE', submitMs: T0, startMs: T0 + 4000, endMs: T0 + 66_000, yarnApps: [appA] },
      { id: 'j-b', state: 'DONE', submitMs: T0 + 69_000, startMs: T0 + 69_500, endMs: T0 + 91_000, yarnApps: [appB] },
      { id: 'j-gone', state: 'DONE', submitMs: T0, startMs: T0 + 1000, endMs: T0 + 2000, yarnApps: ['application_1700000000000_0099'] },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f, { historyServerUrl: hs.url }));
    expect(out.problems).toEqual([]);
    const a = out.apps.find((x) => x.record.app_id === appA)!.record;
    const spec = hsApps[0]!;
    expect(a.user).toBe(spec.user);
    expect(a.total_tasks).toBe(spec.stages.reduce((n, s) => n + s.complete + (s.failed ?? 0), 0));
    expect(a.failed_tasks).toBe(1);
    expect(a.cpu_time_ms).toBe(4000);
    expect(a.input_bytes).toBe(1000);
    expect(a.num_executors).toBe(2);
    expect(a.executor_memory_mb).toBe(8192);
    expect(a.quality).not.toContain(Quality.platformLevel);
    expect(a.source).toBe('dp');
    expect(a.tags).toMatchObject({ job_id: 'j-a', cluster_name: 'c1', image_version: '2.2.40-debian12', worker_machine_type: 'n2-highmem-8' });
    expect(out.apps.find((x) => x.record.app_id === appB)!.record.tags.job_id).toBe('j-b');
    // Not on the History Server: the platform-level record, with a warning on it.
    const gone = out.apps.find((x) => x.record.tags.job_id === 'j-gone')!;
    expect(gone.record.app_id).toBe('dataproc-job-j-gone');
    expect(gone.record.quality).toContain(Quality.platformLevel);
    expect(gone.problems.map((p) => p.code)).toContain('history-missing');
    expect(out.apps).toHaveLength(3);
    // A History Server on the network (not the Component Gateway) is sent no Google token.
    expect(hs.authorizations.length).toBeGreaterThan(0);
    expect(hs.authorizations.every((a) => a === undefined)).toBe(true);

    // The user filter applies to the Spark user the History Server reports.
    const bob = await collectDataprocAll(opts(f, { historyServerUrl: hs.url, user: 'bob' }));
    expect(bob.apps.map((x) => x.record.app_id)).toEqual([appB]);
  });

  it('plan maps the config keys and resolves ${env:VAR} for access_token', () => {
    process.env.MY_DP_TOKEN = TOKEN;
    try {
      const o = dataprocOptions({ type: 'dataproc', name: 'prod-dp', project_id: 'p1', region: 'us-east1', access_token: '${env:MY_DP_TOKEN}', batch_size: 50, concurrency: 3, timeout: 12, since: '2026-01-01', max_apps: 9, endpoint_url: 'http://127.0.0.1:1', history_server_url: 'http://phs:18080' });
      expect(o).toMatchObject({ source: 'prod-dp', projectId: 'p1', region: 'us-east1', accessToken: TOKEN, batchSize: 50, concurrency: 3, timeoutMs: 12_000, maxApps: 9, endpointUrl: 'http://127.0.0.1:1', historyServerUrl: 'http://phs:18080' });
      expect(o.since?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
      // Plain data only: it crosses to the worker thread.
      expect(structuredClone(o)).toEqual(o);
      const filtered = dataprocOptions({ type: 'dataproc', name: 'f', job_state: 'active', labels: { env: 'prod' }, cluster_name: 'etl-cluster', batch_size: 1, concurrency: 1, timeout: 1 });
      expect(filtered).toMatchObject({ jobState: 'active', labels: { env: 'prod' }, clusterName: 'etl-cluster' });
      expect(() => dataprocOptions({ type: 'dataproc', name: 'x', access_token: '${env:NOT_SET_ANYWHERE_42}', batch_size: 1, concurrency: 1, timeout: 1 })).toThrow('NOT_SET_ANYWHERE_42');
    } finally {
      delete process.env.MY_DP_TOKEN;
    }
  });

  it('job_state, labels and cluster_name in a config file reach the jobs.list request', async () => {
    const base = { submitMs: T0, startMs: T0 + 1000, endMs: T0 + 5000 };
    const fixture: FakeJob[] = [
      { ...base, id: 'running-prod', state: 'RUNNING', labels: { env: 'prod' } },
      { ...base, id: 'done-prod', state: 'DONE', labels: { env: 'prod' } },
      { ...base, id: 'running-dev', state: 'RUNNING', labels: { env: 'dev' } },
      { ...base, id: 'running-elsewhere', state: 'RUNNING', cluster: 'c2', labels: { env: 'prod' } },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    const parsed = parseConfig(`collector:\n  type: dataproc\n  project_id: ${PROJECT}\n  region: ${REGION}\n  endpoint_url: ${f.url}\n  job_state: active\n  labels:\n    env: prod\n  cluster_name: c1\n`, env.home);
    expect(parsed.errors).toEqual([]);
    const s = parsed.sources[0]!;
    if (s.type !== 'dataproc') throw new Error('expected a dataproc source');
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll({ ...dataprocOptions(s), ...fast });
    expect(out.problems).toEqual([]);
    const q = jobsRequests(f)[0]!.query;
    expect(q.get('jobStateMatcher')).toBe('ACTIVE');
    expect(q.get('clusterName')).toBe('c1');
    expect(q.get('filter')).toBe('status.state = ACTIVE AND labels.env = prod');
    expect(out.apps.map((a) => a.record.tags.job_id)).toEqual(['running-prod']);
    // A key with a wrong value is a config error.
    expect(parseConfig('collector:\n  type: dataproc\n  job_state: finished\n', env.home).errors.map((e) => e.path.join('.'))).toEqual(['collector.job_state']);
  });

  it('the fake refuses a filter it does not understand (OR) with 400 INVALID_ARGUMENT', async () => {
    const f = await fake({ jobs: jobsFixture(2).map(fakeJob) });
    const q = new URLSearchParams({ filter: 'labels.env = prod OR labels.env = dev' });
    const res = await fetch(`${f.url}/v1/projects/${PROJECT}/regions/${REGION}/jobs?${q.toString()}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { status: string } }).error.status).toBe('INVALID_ARGUMENT');
  });

  it('start_time is the first RUNNING, not SETUP_DONE; SETUP_DONE only when the job never ran', async () => {
    const ran: FakeJob = { id: 'ran', state: 'DONE', submitMs: T0, setupMs: T0 + 2000, startMs: T0 + 30_000, endMs: T0 + 90_000 };
    const never: FakeJob = { id: 'never-ran', state: 'CANCELLED', submitMs: T0, setupMs: T0 + 3000, endMs: T0 + 4000 };
    const neverJob = fakeJob(never);
    // Cancelled after setup, before it ran: PENDING, SETUP_DONE, then CANCELLED.
    (neverJob.statusHistory as unknown[]).push({ state: 'SETUP_DONE', stateStartTime: new Date(never.setupMs!).toISOString() });
    const f = await fake({ jobs: [fakeJob(ran), neverJob], clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f));
    expect(out.problems).toEqual([]);
    const r = out.apps.find((a) => a.record.tags.job_id === 'ran')!.record;
    expect(r.submit_time).toBe(new Date(ran.submitMs).toISOString());
    expect(r.start_time).toBe(new Date(ran.startMs!).toISOString());
    expect(r.duration_ms).toBe(ran.endMs! - ran.startMs!);
    const n = out.apps.find((a) => a.record.tags.job_id === 'never-ran')!.record;
    expect(n.start_time).toBe(new Date(never.setupMs!).toISOString());
    expect(n.duration_ms).toBe(never.endMs! - never.setupMs!);
  });

  it('a cluster deleted and recreated under the same name: old jobs get no cluster facts and a cluster-replaced warning', async () => {
    const recreated = { ...cluster1, clusterUuid: 'uuid-c1-new' };
    const fixture = jobsFixture(3);
    const jobs = [fakeJob({ ...fixture[0]!, clusterUuid: 'uuid-c1-old' }), fakeJob({ ...fixture[1]!, clusterUuid: 'uuid-c1-new' }), fakeJob({ ...fixture[2]!, clusterUuid: 'uuid-c1-old' })];
    const f = await fake({ jobs, clusters: { c1: recreated } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f));
    expect(out.apps).toHaveLength(3);
    expect(clusterRequests(f, 'c1')).toHaveLength(1);
    const byId = (id: string) => out.apps.find((a) => a.record.tags.job_id === id)!;
    for (const id of [fixture[0]!.id, fixture[2]!.id]) {
      const old = byId(id);
      expect(old.record.tags.cluster_uuid).toBe('uuid-c1-old');
      expect(old.record.tags.image_version).toBeUndefined();
      expect(old.record.tags.worker_machine_type).toBeUndefined();
      expect(old.record.executor_memory_mb).toBeNull();
      expect(old.problems.filter((p) => p.code === 'cluster-replaced')).toHaveLength(1);
      expect(old.problems.find((p) => p.code === 'cluster-replaced')!.message).toContain(id);
    }
    const current = byId(fixture[1]!.id);
    expect(current.record.tags.image_version).toBe('2.2.40-debian12');
    expect(current.record.executor_memory_mb).toBe(6 * 1024);
    expect(current.problems.map((p) => p.code)).not.toContain('cluster-replaced');
  });

  it('dynamic allocation is on unless explicitly "false": then spark.executor.instances is not the count', async () => {
    const dynamicCluster = fakeCluster('dyn', { image: '2.2.40-debian12', master: ['n2-standard-4', 1], worker: ['n2-standard-4', 2], properties: { 'spark:spark.executor.instances': '2' } });
    const base = { state: 'DONE' as const, submitMs: T0, startMs: T0 + 1000, endMs: T0 + 5000 };
    const fixture: FakeJob[] = [
      { ...base, id: 'default', cluster: 'dyn' },
      { ...base, id: 'explicit-true', cluster: 'dyn', properties: { 'spark.dynamicAllocation.enabled': 'true', 'spark.executor.instances': '7' } },
      { ...base, id: 'explicit-false', cluster: 'dyn', properties: { 'spark.dynamicAllocation.enabled': 'false', 'spark.executor.instances': '7' } },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { dyn: dynamicCluster } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f));
    const rec = (id: string) => out.apps.find((a) => a.record.tags.job_id === id)!.record;
    for (const id of ['default', 'explicit-true']) {
      expect(rec(id).num_executors).toBeNull();
      expect(rec(id).quality).toContain(Quality.missing('num_executors'));
    }
    expect(rec('explicit-false').num_executors).toBe(7);
    expect(rec('explicit-false').quality).not.toContain(Quality.missing('num_executors'));
  });

  it('a History Server that refuses (401/403) is a history-forbidden problem per job; the jobs keep their platform records', async () => {
    const appA = 'application_1700000000000_0001';
    const appB = 'application_1700000000000_0002';
    const hs: FakeServer = await startFakeServer({
      [`applications/${appA}`]: { text: '{"error":"Forbidden"}', status: 403 },
      [`applications/${appB}`]: { text: '{"error":"Unauthorized"}', status: 401 },
    });
    servers.push(hs);
    const fixture: FakeJob[] = [
      { id: 'j-a', state: 'DONE', submitMs: T0, startMs: T0 + 4000, endMs: T0 + 66_000, yarnApps: [appA] },
      { id: 'j-b', state: 'DONE', submitMs: T0, startMs: T0 + 4000, endMs: T0 + 66_000, yarnApps: [appB] },
    ];
    const f = await fake({ jobs: fixture.map(fakeJob), clusters: { c1: cluster1 } });
    process.env.GOOGLE_OAUTH_ACCESS_TOKEN = TOKEN;
    const out = await collectDataprocAll(opts(f, { historyServerUrl: hs.url }));
    expect(out.problems.map((p) => p.code)).not.toContain('auth-failed');
    expect(out.apps.map((a) => a.record.app_id).sort()).toEqual(['dataproc-job-j-a', 'dataproc-job-j-b']);
    for (const [job, appId] of [['j-a', appA], ['j-b', appB]] as const) {
      const app = out.apps.find((a) => a.record.tags.job_id === job)!;
      expect(app.record.quality).toContain(Quality.platformLevel);
      expect(app.record.tags.image_version).toBe('2.2.40-debian12');
      const p = app.problems.find((x) => x.code === 'history-forbidden')!;
      expect(p).toBeDefined();
      expect(p.file!.startsWith(hs.url)).toBe(true);
      expect(p.message).toContain('History Server refused');
      expect(p.message).toContain(appId);
      expect(p.message).not.toMatch(/credentials|access token|GOOGLE_/);
    }
    expect(allText(out)).not.toContain(TOKEN);
  });
});

describe('the Persistent History Server and Google credentials', () => {
  it('are sent to it through the Component Gateway (https, *.dataproc.googleusercontent.com) only: a Google token goes to no other host', () => {
    const google = { type: 'bearer', token: TOKEN } as const;
    expect(historyServerAuth('https://abc123-dot-us-central1.dataproc.googleusercontent.com/sparkhistory/', google)).toBe(google);
    expect(historyServerAuth('https://ABC-dot-europe-west1.Dataproc.GoogleUserContent.com/sparkhistory', google)).toBe(google);
    for (const url of ['http://abc-dot-us-central1.dataproc.googleusercontent.com/sparkhistory', 'https://dataproc.googleusercontent.com.evil.example/', 'https://evil.example/?h=.dataproc.googleusercontent.com', 'http://10.0.0.5:18080', 'not a url']) {
      expect(historyServerAuth(url, google), url).toBeUndefined();
    }
  });
});
