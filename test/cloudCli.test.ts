/**
 * `spark-optimizer collect --source emr|databricks|dataproc` end to end: the built CLI (dist/cli.js,
 * from `npm run build`) runs as a child process against the fakes of each platform's wire protocol
 * (test/support/emrFake.ts, databricksFake.ts, dataprocFake.ts), served by this process on 127.0.0.1.
 * Expected values are computed from the fixtures built here.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { startDatabricksFake, workersIn, workspace, type DatabricksFake, type Workspace } from './support/databricksFake';
import { fakeCluster, fakeJob, startDataprocFake, type DataprocFake, type FakeJob } from './support/dataprocFake';
import { EmrFake, type FakeCluster, type FakeStep } from './support/emrFake';
import { databaseText } from './support/databaseText';
import { tempDir } from './support/tmp';
import { childEnv } from './support/isolatedEnv';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
const TIMEOUT = 90_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: Record<string, string>, cwd: string): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env, cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** What one fixture implies for the records of one source. */
interface Expected {
  app_id: string;
  app_name: string;
  status: string;
  start_time: string;
  extra: Record<string, unknown>;
}

interface Platform {
  /** The --source spelling, and the `source` the records get from the flags form. */
  source: 'emr' | 'databricks' | 'dataproc';
  /** Flags naming the fake (and everything but credentials). */
  flags: string[];
  /** Good credentials, as the platform's own environment variables. */
  env: Record<string, string>;
  /** Strings that must never appear in any output or in the database. */
  secrets: string[];
  expected: Expected[];
  /** Attempts the collector reads but filters out (by since/user; Dataproc: its non-Spark job). */
  filtered: number;
  /** What a clean run writes to stderr besides the summary (EMR: its line about steps that are not Spark). */
  notes: RegExp;
  /** A second run's unchanged count: what it does not read again (an EMR cluster is one, however many steps); default every record. */
  unchangedAgain?: number;
  /** Break the credentials: the env to run with, and what the auth-failed line must name. */
  badAuth: () => { env: Record<string, string>; names: string };
}

// ---------------------------------------------------------------------------------------------
// EMR: two clusters, Spark steps and one non-Spark step each.

const AWS_KEY_ID = 'AKIACLITESTKEY000042';
const AWS_SECRET = 'cliSecretKEY/wJalrXUtnFEMI/K7MDENGbPxRfiCY0042';
const AWS_SESSION = 'cliSessionTOKEN-FwoGZXIvYXdz-0123456789abcdef';
const EMR_T0 = Date.UTC(2026, 2, 3, 6, 0, 0);

function emrStep(id: string, name: string, startMs: number, minutes: number, state: string): FakeStep {
  return {
    Id: id,
    Name: name,
    ActionOnFailure: 'CONTINUE',
    Config: { Jar: 'command-runner.jar', Args: ['spark-submit', '--deploy-mode', 'cluster', '--executor-memory', '3g', `s3://jobs/${id}.py`] },
    Status: { State: state, Timeline: { CreationDateTime: new Date(startMs - 30_000), StartDateTime: new Date(startMs), EndDateTime: new Date(startMs + minutes * 60_000) } },
  };
}

function emrFixture(): FakeCluster[] {
  return [0, 1].map((i) => {
    const created = EMR_T0 + i * 7_200_000;
    return {
      Id: `j-CLI${i}ABCDEF`,
      Name: `nightly-${i}`,
      State: 'TERMINATED',
      Created: new Date(created),
      Ready: new Date(created + 240_000),
      Ended: new Date(created + 3_600_000),
      ReleaseLabel: 'emr-7.2.0',
      Applications: [{ Name: 'Spark', Version: '3.5.1' }],
      Tags: [{ Key: 'owner', Value: `team-${i}` }],
      groups: [
        { InstanceGroupType: 'MASTER', InstanceType: 'm5.xlarge', RequestedInstanceCount: 1, RunningInstanceCount: 0 },
        { InstanceGroupType: 'CORE', InstanceType: 'r5.xlarge', RequestedInstanceCount: 3 + i, RunningInstanceCount: 0 },
      ],
      steps: [
        emrStep(`s-CLIA${i}`, `load ${i}`, created + 600_000, 7 + i, 'COMPLETED'),
        {
          Id: `s-CLIX${i}`,
          Name: 'Setup hadoop debugging',
          Config: { Jar: 'command-runner.jar', Args: ['state-pusher-script'] },
          Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(created + 300_000), StartDateTime: new Date(created + 300_000), EndDateTime: new Date(created + 330_000) } },
        },
        emrStep(`s-CLIB${i}`, `aggregate ${i}`, created + 1_800_000, 4, i === 1 ? 'FAILED' : 'COMPLETED'),
      ],
    };
  });
}

async function emrPlatform(): Promise<Platform & { fake: EmrFake }> {
  const fake = new EmrFake();
  const url = await fake.start();
  closers.push(() => fake.stop());
  fake.clusters = emrFixture();
  const expected: Expected[] = fake.clusters.flatMap((c) =>
    c.steps
      .filter((s) => s.Config.Args[0] === 'spark-submit')
      .map((s) => ({
        app_id: `emr-step-${s.Id}`,
        app_name: s.Name,
        status: s.Status.State === 'COMPLETED' ? 'completed' : 'failed',
        start_time: s.Status.Timeline.StartDateTime!.toISOString(),
        extra: { spark_version: '3.5.1', executor_memory_mb: 3 * 1024, end_time: s.Status.Timeline.EndDateTime!.toISOString(), tags: expect.objectContaining({ cluster_id: c.Id, step_id: s.Id }) as unknown },
      })),
  );
  return {
    fake,
    source: 'emr',
    flags: ['--region', 'us-east-1', '--endpoint-url', url, '--no-cloudwatch'],
    env: { AWS_ACCESS_KEY_ID: AWS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_SESSION_TOKEN: AWS_SESSION },
    secrets: [AWS_SECRET, AWS_SESSION],
    expected,
    // The setup step of each cluster is not Spark: not a record, and not "skipped" (issue 14), but one info line.
    filtered: 0,
    unchangedAgain: fake.clusters.length,
    notes: /^\S+: information emr-not-spark-steps not Spark steps: 2 on 2 clusters \(state-pusher-script 2\); [^\n]*\n$/,
    badAuth: () => {
      fake.faults.push({ target: 'ElasticMapReduce.ListClusters', status: 400, type: 'ExpiredTokenException', message: `The security token included in the request is expired (${AWS_SESSION})` });
      return { env: { AWS_ACCESS_KEY_ID: AWS_KEY_ID, AWS_SECRET_ACCESS_KEY: AWS_SECRET, AWS_SESSION_TOKEN: AWS_SESSION }, names: 'AWS_ACCESS_KEY_ID' };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Databricks: a generated workspace (two pages of runs/list at 25 a page).

const DBX_TOKEN = 'dapiCLIsecretTOKEN00000000000000beef';

async function databricksPlatform(n = 30): Promise<Platform & { fake: DatabricksFake; ws: Workspace }> {
  const ws = workspace(n);
  const fake = await startDatabricksFake({ token: DBX_TOKEN, runs: ws.runs, clusters: ws.clusters, events: ws.events });
  closers.push(() => fake.close());
  const expected: Expected[] = ws.runs.map((r) => {
    const c = ws.clusters[r.tasks[0]!.cluster_instance.cluster_id]!;
    return {
      app_id: `databricks-run-${r.run_id}`,
      app_name: r.run_name,
      status: r.state.result_state === 'SUCCESS' ? 'completed' : 'failed',
      start_time: new Date(r.start_time).toISOString(),
      extra: { user: r.creator_user_name, duration_ms: r.end_time - r.start_time, num_executors: c.autoscale ? (workersIn(ws.events?.[c.cluster_id], r.start_time, r.end_time)?.max ?? null) : c.num_workers, executor_cores: Number(c.spark_conf['spark.executor.cores']) },
    };
  });
  return {
    fake,
    ws,
    source: 'databricks',
    flags: ['--endpoint-url', fake.url],
    env: { DATABRICKS_TOKEN: DBX_TOKEN },
    secrets: [DBX_TOKEN],
    expected,
    filtered: 0,
    notes: /^$/,
    // The fake answers 401 and echoes the token it was sent: the CLI must not repeat it.
    badAuth: () => ({ env: { DATABRICKS_TOKEN: `${DBX_TOKEN}-expired` }, names: 'DATABRICKS_TOKEN' }),
  };
}

// ---------------------------------------------------------------------------------------------
// Dataproc: Spark jobs on one cluster, plus a Hive job that is not a Spark application.

const GCP_PROJECT = 'cli-proj';
const GCP_REGION = 'us-east4';
const GCP_TOKEN = 'ya29.CLI-secret-access-token-feedface0042';
const GCP_T0 = Date.UTC(2026, 1, 14, 9, 0, 0);

function dataprocFixture(): FakeJob[] {
  return Array.from({ length: 5 }, (_, i) => ({
    id: `cli-job-${i}`,
    state: i === 3 ? 'ERROR' : 'DONE',
    details: i === 3 ? 'Job failed' : undefined,
    submitMs: GCP_T0 + i * 120_000,
    startMs: GCP_T0 + i * 120_000 + 4_000,
    endMs: GCP_T0 + i * 120_000 + 60_000 + i * 1000,
    properties: { 'spark.driver.memory': `${i + 1}g` },
  }));
}

async function dataprocPlatform(): Promise<Platform & { fake: DataprocFake }> {
  const fixture = dataprocFixture();
  const jobs = [...fixture.map(fakeJob), fakeJob({ id: 'cli-hive', kind: 'hiveJob', state: 'DONE', submitMs: GCP_T0, startMs: GCP_T0 + 1, endMs: GCP_T0 + 2 })];
  const cluster = fakeCluster('c1', { image: '2.2.10-debian12', master: ['n2-standard-4', 1], worker: ['n2-standard-8', 4], properties: { 'spark:spark.executor.memory': '5g', 'spark:spark.executor.cores': '3' } });
  const fake = await startDataprocFake({ project: GCP_PROJECT, region: GCP_REGION, jobs, clusters: { c1: cluster }, tokens: [GCP_TOKEN] });
  closers.push(() => fake.close());
  const expected: Expected[] = fixture.map((j, i) => ({
    app_id: `dataproc-job-${j.id}`,
    // No YARN application name or spark.app.name: the job id.
    app_name: j.id,
    status: j.state === 'DONE' ? 'completed' : 'failed',
    start_time: new Date(j.startMs!).toISOString(),
    extra: { duration_ms: j.endMs! - j.startMs!, driver_memory_mb: (i + 1) * 1024, executor_memory_mb: 5 * 1024, executor_cores: 3, tags: expect.objectContaining({ job_id: j.id, cluster_name: 'c1', worker_count: '4' }) as unknown },
  }));
  return {
    fake,
    source: 'dataproc',
    flags: ['--project', GCP_PROJECT, '--region', GCP_REGION, '--endpoint-url', fake.url],
    env: { GOOGLE_OAUTH_ACCESS_TOKEN: GCP_TOKEN },
    secrets: [GCP_TOKEN],
    expected,
    // The Hive job is not Spark: not a record, and not "skipped", but one info line (as EMR's steps).
    filtered: 0,
    notes: /^\S+: information dataproc-not-spark-jobs not Spark jobs: 1 \(hive 1\); [^\n]*\n$/,
    badAuth: () => ({ env: { GOOGLE_OAUTH_ACCESS_TOKEN: `${GCP_TOKEN}-expired` }, names: 'GOOGLE_OAUTH_ACCESS_TOKEN' }),
  };
}

const PLATFORMS: Record<Platform['source'], () => Promise<Platform>> = { emr: emrPlatform, databricks: databricksPlatform, dataproc: dataprocPlatform };

function expectNoSecret(p: Platform, ...texts: string[]): void {
  for (const t of texts) for (const s of p.secrets) expect(t).not.toContain(s);
}

function checkRows(p: Platform, rows: Record<string, unknown>[], source: string): void {
  expect(rows.map((r) => r.app_id).sort()).toEqual(p.expected.map((e) => e.app_id).sort());
  for (const e of p.expected) {
    const row = rows.find((r) => r.app_id === e.app_id)!;
    expect(row, e.app_id).toMatchObject({ source, app_name: e.app_name, status: e.status, start_time: e.start_time, ...e.extra });
  }
}

describe.each(['emr', 'databricks', 'dataproc'] as const)('spark-optimizer collect --source %s', (source) => {
  it(
    'flags form: stores every attempt, lists them, is idempotent, and keeps the secret out of the runs, the database and the output',
    async () => {
      const p = await PLATFORMS[source]();
      const dir = tempDir();
      const db = path.join(dir, 'jobs.db');
      const env = childEnv(dir, p.env);
      const n = p.expected.length;
      expect(n).toBeGreaterThan(3);

      // --format table: every application's row, however many (by default a big run shows the first 20).
      const first = await run(['collect', '--source', source, ...p.flags, '--db', db, '--format', 'table'], env, dir);
      expect(first.stderr).toMatch(p.notes);
      expect(first.code).toBe(0);
      expect(first.stdout).toContain(`${n} new, 0 updated, 0 unchanged, ${p.filtered} skipped, 0 failed (stored in ${db})`);
      for (const e of p.expected) expect(first.stdout).toContain(e.app_id);

      const jobs = await run(['jobs', '--db', db, '--format', 'json', '--limit', '1000'], env, dir);
      expect(jobs.code).toBe(0);
      checkRows(p, jsonLines(jobs.stdout), source);

      const second = await run(['collect', '--source', source, ...p.flags, '--db', db], env, dir);
      expect(second.code).toBe(0);
      // A finished item the store holds as listed is not read again (runner.ts held).
      const again = p.unchangedAgain ?? n;
      expect(second.stdout).toContain(`0 new, 0 updated, ${again} unchanged, ${p.filtered} skipped, 0 failed (stored in ${db})`);

      const runs = await run(['runs', '--db', db, '--format', 'json'], env, dir);
      expect(runs.code).toBe(0);
      const rows = jsonLines(runs.stdout);
      expect(rows).toHaveLength(2);
      for (const r of rows) {
        expect(r.source).toBe(source);
        expect(r.errors).toEqual([]);
        expect(r.finished).toEqual(expect.any(String));
        expect(r.options).toMatchObject({ source });
        expect(r.options).not.toHaveProperty('token');
        expect(r.options).not.toHaveProperty('accessToken');
        expect(r.options).not.toHaveProperty('credentials');
      }
      expect(rows.map((r) => [r.new, r.unchanged]).sort()).toEqual(
        [
          [0, again],
          [n, 0],
        ].sort(),
      );
      const endpoint = p.flags[p.flags.indexOf('--endpoint-url') + 1]!;
      expect(JSON.stringify(rows[0]!.options)).toContain(endpoint.replace(/\/$/, ''));

      // Every cell of the database, deflated environments inflated: a byte search of the file cannot see into those.
      const stored = await databaseText(db);
      // The search finds the app ids and an environment's properties (a check that it can find anything) …
      expect(stored).toContain(p.expected[0]!.app_id);
      const property = jsonLines(jobs.stdout)
        .flatMap((r) => Object.entries((r.environment ?? {}) as Record<string, string>))
        .find(([k, v]) => k.startsWith('spark.') && v.length >= 2);
      expect(property, 'an environment property to look for').toBeDefined();
      expect(stored).toContain(JSON.stringify({ [property![0]]: property![1] }).slice(1, -1));
      // … and never a secret.
      for (const s of p.secrets) expect(stored.includes(s), `secret in ${db}`).toBe(false);
      expectNoSecret(p, first.stdout, first.stderr, second.stdout, second.stderr, jobs.stdout, jobs.stderr, runs.stdout, runs.stderr);
    },
    TIMEOUT,
  );

  it(
    '--dry-run --format json: one valid record per line with its problems, nothing stored',
    async () => {
      const p = await PLATFORMS[source]();
      const dir = tempDir();
      const db = path.join(dir, 'jobs.db');
      const r = await run(['collect', '--source', source, ...p.flags, '--dry-run', '--format', 'json', '--db', db], childEnv(dir, p.env), dir);
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      expect(lines.map((l) => l.app_id).sort()).toEqual(p.expected.map((e) => e.app_id).sort());
      for (const line of lines) {
        const { problems, ...record } = line;
        expect(Array.isArray(problems)).toBe(true);
        expect(problems).toEqual([]);
        expect(sparkAppRecordSchema.strict().parse(record)).toEqual(record);
      }
      checkRows(p, lines, source);
      expect(r.stderr).toContain(`${p.expected.length} new, 0 updated, 0 unchanged, ${p.filtered} skipped, 0 failed (dry run, nothing stored)`);
      expect(existsSync(db)).toBe(false);
      expect(existsSync(path.join(dir, '.spark-optimizer'))).toBe(false);
      expectNoSecret(p, r.stdout, r.stderr);
    },
    TIMEOUT,
  );

  it(
    'wrong or expired credentials: exit 1, one auth-failed line naming where they came from, the secret nowhere',
    async () => {
      const p = await PLATFORMS[source]();
      const dir = tempDir();
      const db = path.join(dir, 'jobs.db');
      const bad = p.badAuth();
      const r = await run(['collect', '--source', source, ...p.flags, '--db', db], childEnv(dir, bad.env), dir);
      expect(r.code).toBe(1);
      const authLines = r.stderr.split('\n').filter((l) => l.includes('auth-failed'));
      expect(authLines).toHaveLength(1);
      expect(authLines[0]).toMatch(/(^|: )error auth-failed /);
      expect(authLines[0]).toContain(bad.names);
      // Nothing read; the refused credentials are the one failure.
      expect(r.stdout).toMatch(/0 new, 0 updated, 0 unchanged, 0 skipped, 1 failed/);
      expectNoSecret(p, r.stdout, r.stderr);
      for (const v of Object.values(bad.env)) if (v !== AWS_KEY_ID) expect(r.stdout + r.stderr).not.toContain(v);
      if (existsSync(db)) {
        const stored = await databaseText(db);
        for (const v of [...p.secrets, ...Object.values(bad.env)]) if (v !== AWS_KEY_ID) expect(stored.includes(v)).toBe(false);
      }
    },
    TIMEOUT,
  );
});

describe('spark-optimizer collect --source databricks --since --user --max-apps', () => {
  it(
    'the flags reach the filter (no start_time_from: runs/list filters by start only); the counts say what was left out',
    async () => {
      const p = await databricksPlatform(30);
      const dir = tempDir();
      const runs = [...p.ws.runs].sort((a, b) => a.start_time - b.start_time);
      const since = new Date(runs[10]!.start_time);
      const user = runs[0]!.creator_user_name;
      const r = await run(['collect', '--source', 'databricks', ...p.flags, '--since', since.toISOString(), '--user', user, '--dry-run', '--format', 'json'], childEnv(dir, p.env), dir);
      expect(r.code).toBe(0);
      const want = runs.filter((x) => x.start_time >= since.getTime() && x.creator_user_name === user).map((x) => `databricks-run-${x.run_id}`);
      expect(want.length).toBeGreaterThan(0);
      expect(jsonLines(r.stdout).map((l) => l.app_id).sort()).toEqual(want.sort());
      const lists = p.fake.requests.filter((q) => q.path === '/api/2.1/jobs/runs/list');
      expect(lists.length).toBeGreaterThan(0);
      for (const q of lists) expect(q.query.has('start_time_from')).toBe(false);

      const capped = await run(['collect', '--source', 'databricks', ...p.flags, '--user', user, '--max-apps', '3', '--dry-run', '--format', 'json'], childEnv(dir, p.env), dir);
      expect(capped.code).toBe(0);
      expect(jsonLines(capped.stdout)).toHaveLength(3);
      expect(jsonLines(capped.stdout).every((l) => l.user === user)).toBe(true);
    },
    TIMEOUT,
  );
});

describe('spark-optimizer collect: cloud sources from a config file', () => {
  it(
    'a databricks source with endpoint_url and the token as ${env:VAR}, picked with --name',
    async () => {
      const p = await databricksPlatform(8);
      const dir = tempDir();
      const db = path.join(dir, 'jobs.db');
      writeFileSync(
        path.join(dir, 'spark-optimizer.yaml'),
        ['sources:', '  - name: dbx-prod', '    type: databricks', `    endpoint_url: ${p.fake.url}`, '    token: ${env:CLI_TEST_DBX_TOKEN}', '    batch_size: 3', '  - name: other', '    type: event_log', '    path: ./no-such-logs', ''].join('\n'),
      );
      // DATABRICKS_TOKEN is wrong: the config's ${env:VAR} must win.
      const env = childEnv(dir, { CLI_TEST_DBX_TOKEN: DBX_TOKEN, DATABRICKS_TOKEN: 'wrong-token-from-env' });
      const r = await run(['collect', '--config', 'spark-optimizer.yaml', '--name', 'dbx-prod', '--db', db], env, dir);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`${p.expected.length} new, 0 updated, 0 unchanged, 0 skipped, 0 failed`);
      expect(p.fake.requests.length).toBeGreaterThan(0);
      expect(p.fake.requests.every((q) => q.authorization === `Bearer ${DBX_TOKEN}`)).toBe(true);

      const jobs = await run(['jobs', '--db', db, '--format', 'json', '--source', 'dbx-prod'], env, dir);
      checkRows(p, jsonLines(jobs.stdout), 'dbx-prod');
      const runs = jsonLines((await run(['runs', '--db', db, '--format', 'json'], env, dir)).stdout);
      expect(runs).toHaveLength(1);
      expect(runs[0]!.source).toBe('dbx-prod');
      expect(runs[0]!.options).toMatchObject({ source: 'dbx-prod', batchSize: 3 });
      // Which credential was used is recorded by name, never by value.
      expect(String((runs[0]!.options as Record<string, unknown>).tokenSource)).toContain('CLI_TEST_DBX_TOKEN');
      expect((await databaseText(db)).includes(DBX_TOKEN)).toBe(false);
      expectNoSecret(p, r.stdout, r.stderr, jobs.stdout, JSON.stringify(runs));
    },
    TIMEOUT,
  );

  it(
    'a dataproc source with access_token as ${env:VAR}, --dry-run --format json',
    async () => {
      const p = await dataprocPlatform();
      const dir = tempDir();
      mkdirSync(path.join(dir, 'conf'));
      writeFileSync(
        path.join(dir, 'conf', 'spark-optimizer.yaml'),
        ['sources:', '  - name: gcp', '    type: dataproc', `    project_id: ${GCP_PROJECT}`, `    region: ${GCP_REGION}`, `    endpoint_url: ${p.fake.url}`, '    access_token: ${env:CLI_TEST_GCP_TOKEN}', ''].join('\n'),
      );
      const r = await run(['collect', '--config', 'conf/spark-optimizer.yaml', '--name', 'gcp', '--dry-run', '--format', 'json'], childEnv(dir, { CLI_TEST_GCP_TOKEN: GCP_TOKEN }), dir);
      expect(r.code).toBe(0);
      const lines = jsonLines(r.stdout);
      checkRows(p, lines, 'gcp');
      expect(p.fake.requests.filter((q) => q.path.endsWith('/jobs')).every((q) => q.authorization === `Bearer ${GCP_TOKEN}`)).toBe(true);
      expect(existsSync(path.join(dir, '.spark-optimizer'))).toBe(false);
      expectNoSecret(p, r.stdout, r.stderr);
    },
    TIMEOUT,
  );

  it('an unknown --name is a usage error listing the sources', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), ['sources:', '  - name: a', '    type: databricks', '    endpoint_url: http://127.0.0.1:9', ''].join('\n'));
    const r = await run(['collect', '--config', 'spark-optimizer.yaml', '--name', 'b', '--dry-run'], childEnv(dir, {}), dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no source named "b" in .*spark-optimizer\.yaml; it has: a/);
  });
});

describe('spark-optimizer collect: cloud usage errors', () => {
  it.each([
    ['emr', ['--endpoint-url', 'notaurl'], /--source emr: --endpoint-url: /],
    ['databricks', ['--host', 'ftp://x'], /--source databricks: --host: /],
    ['dataproc', ['--history-server-url', 'nope'], /--source dataproc: --history-server-url: /],
  ] as const)('--source %s with a bad URL flag exits 2 naming the flag', async (source, flags, message) => {
    const dir = tempDir();
    const r = await run(['collect', '--source', source, ...flags, '--dry-run'], childEnv(dir, {}), dir);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\nRun 'spark-optimizer collect --help' for its usage\.\n$/);
    expect(r.stdout).toBe('');
  });
});
