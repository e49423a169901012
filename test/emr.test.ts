import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectEmr, collectEmrAll, type EmrOptions } from '../src/collectors/emr/collect';
import { emrOptions } from '../src/collectors/emr/source';
import { isSparkStep, submitProperties } from '../src/collectors/emr/steps';
import { parseConfig } from '../src/collectors/config';
import { validateRecord, type SparkAppRecord } from '../src/collectors/record';
import { AWS_ENV, isolatedEnv, noAws } from './support/isolatedEnv';
import { EmrFake, HOUR, T0, fakeCluster as cluster, type FakeCluster, type FakeStep } from './support/emrFake';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, syntheticRoutes, type SyntheticApp } from './support/historyServerFake';
import { tempDir } from './support/tmp';
import { ProblemLogs } from '../src/storage/ingest';

// Recognisable fakes: none of them may appear in any output.
const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY42';
const SESSION = 'FwoGZXIvYXdzSESSIONTOKENSECRET0123456789abcdef';
const KEY_ID = 'AKIAFAKEEXAMPLE00001';

let fake: EmrFake;
let endpoint: string;

// Never the real instance-metadata service, never the developer's own ~/.aws files.
isolatedEnv(AWS_ENV, 'emr-home-', noAws);
beforeEach(async () => {
  process.env.AWS_ACCESS_KEY_ID = KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SECRET;
  process.env.AWS_SESSION_TOKEN = SESSION;
  fake = new EmrFake();
  endpoint = await fake.start();
});
afterEach(async () => {
  await fake.stop();
});


function sparkStep(id: string, startMs: number, minutes: number, state = 'COMPLETED', extra: string[] = []): FakeStep {
  return {
    Id: id,
    Name: `job ${id}`,
    ActionOnFailure: 'CONTINUE',
    Config: { Jar: 'command-runner.jar', Args: ['spark-submit', '--deploy-mode', 'cluster', ...extra, `s3://code/${id}.py`, '--date', '2026-06-01'] },
    Status: {
      State: state,
      Timeline: {
        CreationDateTime: new Date(startMs - 60_000),
        StartDateTime: new Date(startMs),
        ...(state === 'RUNNING' || state === 'PENDING' ? {} : { EndDateTime: new Date(startMs + minutes * 60_000) }),
      },
    },
  };
}

function otherStep(id: string, startMs: number): FakeStep {
  return {
    Id: id,
    Name: 'Setup hadoop debugging',
    Config: { Jar: 'command-runner.jar', Args: ['state-pusher-script'] },
    Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(startMs), StartDateTime: new Date(startMs), EndDateTime: new Date(startMs + 30_000) } },
  };
}


const base = (over: Partial<EmrOptions> = {}): EmrOptions => ({ endpointUrl: endpoint, region: 'us-east-1', source: 'emr-prod', maxAttempts: 3, timeoutMs: 5000, cloudwatch: false, ...over });

/** Everything a run produced, as one text, to look for secrets in. */
const allText = (r: unknown): string => JSON.stringify(r);

const byId = (apps: { record: SparkAppRecord }[]): Map<string, SparkAppRecord> => new Map(apps.map((a) => [a.record.app_id, a.record]));

describe('EMR collector against a local EMR/CloudWatch/S3', () => {
  it('lists clusters over several pages and steps over several pages, keeps only Spark steps, maps them platform-level', async () => {
    fake.clusterPageSize = 3;
    fake.stepPageSize = 2;
    const clusters = Array.from({ length: 7 }, (_v, i) =>
      cluster(i, [sparkStep(`s-A${i}`, T0 + i * HOUR + 10 * 60_000, 12), otherStep(`s-O${i}`, T0 + i * HOUR + 6 * 60_000), sparkStep(`s-B${i}`, T0 + i * HOUR + 30 * 60_000, 5, i === 2 ? 'FAILED' : 'COMPLETED', ['--executor-memory', '6g', '--conf', 'spark.executor.cores=3', '--num-executors', '5', '--conf', 'spark.hadoop.fs.s3a.secret.key=inline-secret-xyz'])]),
    );
    // One cluster with many steps: ListSteps pages with Marker.
    clusters[0]!.steps.push(sparkStep('s-C0', T0 + 40 * 60_000, 3, 'CANCELLED'), sparkStep('s-D0', T0 + 42 * 60_000, 3, 'RUNNING'));
    fake.clusters = clusters;
    const progress: number[] = [];
    const batches: number[] = [];
    let apps: { record: SparkAppRecord; problems: unknown[] }[] = [];
    const problems: unknown[] = [];
    for await (const b of collectEmr(base({ batchSize: 4 }), { onProgress: (p) => progress.push(p.apps) })) {
      batches.push(b.apps.length + b.problems.length + b.filtered);
      apps = [...apps, ...b.apps];
      problems.push(...b.problems);
    }
    // The setup steps are told once, as what they are (the test below).
    expect(problems).toEqual([expect.objectContaining({ severity: 'info', code: 'emr-not-spark-steps' })]);
    const sparkSteps = clusters.flatMap((c) => c.steps.filter((s) => s.Config.Args[0] === 'spark-submit').map((s) => ({ c, s })));
    expect(apps.map((a) => a.record.app_id).sort()).toEqual(sparkSteps.map(({ s }) => `emr-step-${s.Id}`).sort());
    // Pages: 7 clusters by 3 = 3 ListClusters calls, each after the first with the previous Marker.
    const lc = fake.calls('ElasticMapReduce.ListClusters');
    expect(lc.map((r) => r.body.Marker)).toEqual([undefined, '3', '6']);
    const ls0 = fake.calls('ElasticMapReduce.ListSteps').filter((r) => r.body.ClusterId === clusters[0]!.Id);
    expect(ls0.length).toBe(Math.ceil(clusters[0]!.steps.length / 2));
    // Streamed: several batches, none over the size.
    expect(batches.length).toBeGreaterThan(2);
    expect(Math.max(...batches)).toBeLessThanOrEqual(4);
    expect(progress.at(-1)).toBe(sparkSteps.length);

    const records = byId(apps);
    for (const { c, s } of sparkSteps) {
      const r = records.get(`emr-step-${s.Id}`)!;
      expect(validateRecord(r)).toEqual([]);
      expect(r.app_name).toBe(s.Name);
      expect(r.source).toBe('emr-prod');
      expect(r.start_time).toBe(s.Status.Timeline.StartDateTime!.toISOString());
      expect(r.end_time).toBe(s.Status.Timeline.EndDateTime?.toISOString() ?? null);
      expect(r.submit_time).toBe(s.Status.Timeline.CreationDateTime.toISOString());
      expect(r.spark_version).toBe(c.Applications.find((a) => a.Name === 'Spark')!.Version);
      expect(r.quality).toContain('platform_level');
      for (const f of ['total_tasks', 'cpu_time_ms', 'input_bytes', 'shuffle_read_bytes']) expect(r.quality).toContain(`missing:${f}`);
      expect(r.total_tasks).toBe(0);
      const expectedStatus = { COMPLETED: 'completed', FAILED: 'failed', CANCELLED: 'failed', RUNNING: 'running' }[s.Status.State];
      expect(r.status).toBe(expectedStatus);
      expect(r.tags.cluster_id).toBe(c.Id);
      expect(r.tags.cluster_name).toBe(c.Name);
      expect(r.tags.release_label).toBe(c.ReleaseLabel);
      expect(r.tags.step_id).toBe(s.Id);
      for (const t of c.Tags) expect(r.tags[`aws:tag:${t.Key}`]).toBe(t.Value);
      const core = c.groups!.find((g) => g.InstanceGroupType === 'CORE')!;
      expect(r.tags['emr.core.instance_type']).toBe(core.InstanceType);
      expect(r.tags['emr.core.instance_count']).toBe(String(core.RequestedInstanceCount));
    }
    // Sizing from the step's own spark-submit flags; otherwise unknown and flagged, not guessed.
    const sized = records.get('emr-step-s-B1')!;
    expect([sized.executor_memory_mb, sized.executor_cores, sized.num_executors]).toEqual([6 * 1024, 3, 5]);
    expect(sized.environment['spark.hadoop.fs.s3a.secret.key']).not.toContain('inline-secret-xyz');
    const unsized = records.get('emr-step-s-A1')!;
    expect(unsized.executor_cores).toBeNull();
    expect(unsized.quality).toEqual(expect.arrayContaining(['missing:executor_cores', 'missing:num_executors', 'missing:executor_memory_mb']));
    expect(allText(apps)).not.toContain('inline-secret-xyz');
    // Non-Spark steps never become records.
    expect([...records.keys()].some((k) => k.includes('s-O'))).toBe(false);
  });

  it('setup and Hive steps are not "skipped" (what since/user leave out): one info line counts them as not Spark steps, by what they run (issue 14)', async () => {
    const hive = (id: string, startMs: number): FakeStep => ({
      Id: id,
      Name: 'Hive program',
      ActionOnFailure: 'CONTINUE',
      Config: { Jar: 'command-runner.jar', Args: ['hive-script', '--run-hive-script', '--args', '-f', 's3://queries/daily.q'] },
      Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(startMs), StartDateTime: new Date(startMs), EndDateTime: new Date(startMs + 120_000) } },
    });
    const copy: FakeStep = { ...hive('s-CP2', T0 + 2 * HOUR + 20 * 60_000), Name: 'copy out', Config: { Jar: 's3://tools/lib/s3-dist-cp.jar', Args: ['--src', 's3://a/', '--dest', 's3://b/'] } };
    fake.clusters = [
      cluster(0, [otherStep('s-O0', T0 + 6 * 60_000), sparkStep('s-A0', T0 + 10 * 60_000, 5), hive('s-H0', T0 + 20 * 60_000)]),
      cluster(1, [sparkStep('s-A1', T0 + HOUR + 10 * 60_000, 5), sparkStep('s-B1', T0 + HOUR + 40 * 60_000, 5)], { State: 'WAITING', Ended: undefined }),
      cluster(2, [otherStep('s-O2', T0 + 2 * HOUR + 6 * 60_000), hive('s-H2', T0 + 2 * HOUR + 10 * 60_000), copy]),
    ];
    const out = await collectEmrAll(base());
    expect(out.apps.map((a) => a.record.app_id).sort()).toEqual(['emr-step-s-A0', 'emr-step-s-A1', 'emr-step-s-B1']);
    // Nothing was left out by since or user.
    expect(out.filtered).toBe(0);
    expect(out.problems).toHaveLength(1);
    expect(out.problems[0]).toMatchObject({ severity: 'info', code: 'emr-not-spark-steps' });
    expect(out.problems[0]!.message).toMatch(/^not Spark steps: 5 on 2 clusters \(hive-script 2, state-pusher-script 2, s3-dist-cp\.jar 1\); they run none of spark-submit, /);

    // With since, "skipped" counts only the Spark step that ended before it; the other steps are still told as such.
    const since = await collectEmrAll(base({ since: new Date(T0 + HOUR + 30 * 60_000) }));
    expect(since.apps.map((a) => a.record.app_id)).toEqual(['emr-step-s-B1']);
    expect(since.filtered).toBe(1);
    expect(since.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^not Spark steps: 3 on 1 cluster \(/)]);
  });

  it('sizes fleets by instance types and capacity, and summarises CloudWatch metrics over the cluster lifetime', async () => {
    const metrics = { YARNMemoryAvailablePercentage: [80, 40, 10, 55], ContainerAllocated: [2, 9, 14, 3], AppsFailed: [0, 1, 0, 0] };
    const fleets = cluster(1, [sparkStep('s-F1', T0 + HOUR + 10 * 60_000, 5)], {
      groups: undefined,
      fleets: [
        { InstanceFleetType: 'MASTER', InstanceTypeSpecifications: [{ InstanceType: 'm5.xlarge' }], ProvisionedOnDemandCapacity: 1, ProvisionedSpotCapacity: 0, TargetOnDemandCapacity: 1, TargetSpotCapacity: 0 },
        { InstanceFleetType: 'CORE', InstanceTypeSpecifications: [{ InstanceType: 'r5.4xlarge' }, { InstanceType: 'r5.2xlarge' }], ProvisionedOnDemandCapacity: 4, ProvisionedSpotCapacity: 8, TargetOnDemandCapacity: 4, TargetSpotCapacity: 8 },
      ],
      metrics,
    });
    const groups = cluster(2, [sparkStep('s-G2', T0 + 2 * HOUR + 10 * 60_000, 5)], { State: 'WAITING', Ended: undefined });
    fake.clusters = [fleets, groups];
    fake.metricsPageSize = 3; // several GetMetricData pages (NextToken)
    const out = await collectEmrAll(base({ cloudwatch: true }));
    expect(out.problems).toEqual([]);
    const records = byId(out.apps);
    const f = records.get('emr-step-s-F1')!;
    expect(f.tags['emr.instance_collection']).toBe('INSTANCE_FLEET');
    expect(f.tags['emr.core.instance_type']).toBe('r5.2xlarge,r5.4xlarge');
    expect(f.tags['emr.core.capacity_units']).toBe('12');
    expect(fake.calls('ElasticMapReduce.ListInstanceFleets').length).toBe(1);
    const g = records.get('emr-step-s-G2')!;
    expect(g.tags['emr.instance_collection']).toBe('INSTANCE_GROUP');
    expect(g.tags['emr.master.instance_type']).toBe('m5.xlarge');
    for (const [m, vs] of Object.entries(metrics)) {
      expect(Number(f.tags[`cloudwatch.${m}.avg`])).toBeCloseTo(vs.reduce((a, b) => a + b, 0) / vs.length, 3);
      expect(Number(f.tags[`cloudwatch.${m}.max`])).toBe(Math.max(...vs));
    }
    expect(Object.keys(g.tags).some((k) => k.startsWith('cloudwatch.'))).toBe(false);
    // The window is the cluster's real lifetime: creation to end, or to now while it runs.
    const q = fake.calls('GraniteServiceVersion20100801.GetMetricData');
    const fq = q.find((r) => JSON.stringify(r.body).includes(fleets.Id))!;
    expect(fq.body.StartTime).toBe(fleets.Created.getTime() / 1000);
    expect(fq.body.EndTime).toBe(fleets.Ended!.getTime() / 1000);
    const gq = q.find((r) => JSON.stringify(r.body).includes(groups.Id))!;
    expect(Number(gq.body.EndTime) * 1000).toBeGreaterThan(Date.now() - 60_000);
    expect(q.filter((r) => JSON.stringify(r.body).includes(fleets.Id)).length).toBeGreaterThan(1);
  });

  it('CloudWatch refused (no IAM permission) is a warning on the cluster; its steps are still stored', async () => {
    fake.clusters = [cluster(0, [sparkStep('s-W', T0 + 10 * 60_000, 2)], { metrics: { AppsFailed: [1] } })];
    fake.faults.push({ target: 'GraniteServiceVersion20100801.GetMetricData', status: 400, type: 'AccessDenied', message: 'User is not authorized to perform: cloudwatch:GetMetricData' });
    const out = await collectEmrAll(base({ cloudwatch: true }));
    expect(out.apps.map((a) => a.record.app_id)).toEqual(['emr-step-s-W']);
    expect(out.problems.map((p) => [p.code, p.severity])).toEqual([['emr-partial', 'warning']]);
    expect(out.problems[0]!.message).toContain(fake.clusters[0]!.Id);
    expect(Object.keys(out.apps[0]!.record.tags).some((k) => k.startsWith('cloudwatch.'))).toBe(false);
  });

  // The SDK's own backoff for throttling (base 500 ms, full jitter) sets the pace here.
  it('retries ThrottlingException with backoff and then succeeds', { timeout: 15_000 }, async () => {
    fake.clusters = [cluster(0, [sparkStep('s-T', T0 + 10 * 60_000, 2)])];
    fake.faults.push({ target: 'ElasticMapReduce.ListClusters', status: 400, type: 'ThrottlingException', message: 'Rate exceeded', times: 1 });
    fake.faults.push({ target: 'ElasticMapReduce.ListSteps', status: 400, type: 'ThrottlingException', message: 'Rate exceeded', times: 1 });
    const out = await collectEmrAll(base());
    expect(out.problems).toEqual([]);
    expect(out.apps.map((a) => a.record.app_id)).toEqual(['emr-step-s-T']);
    expect(fake.calls('ElasticMapReduce.ListClusters').length).toBe(2);
    expect(fake.calls('ElasticMapReduce.ListSteps').length).toBe(2);
  });

  it('gives up on throttling after maxAttempts with a list-failed problem', { timeout: 15_000 }, async () => {
    fake.clusters = [cluster(0, [sparkStep('s-T', T0 + 10 * 60_000, 2)])];
    fake.faults.push({ target: 'ElasticMapReduce.ListClusters', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' });
    const out = await collectEmrAll(base({ maxAttempts: 2 }));
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(out.problems[0]!.message).toContain('ThrottlingException');
    expect(fake.calls('ElasticMapReduce.ListClusters').length).toBe(2);
  });

  it('ExpiredTokenException stops the run once with auth-failed naming the environment variables, and no secret anywhere', async () => {
    fake.clusters = Array.from({ length: 6 }, (_v, i) => cluster(i, [sparkStep(`s-${i}`, T0 + i * HOUR + 10 * 60_000, 2)]));
    fake.faults.push({ target: 'ElasticMapReduce.DescribeCluster', status: 400, type: 'ExpiredTokenException', message: `The security token included in the request is expired (${SESSION})` });
    const progress: unknown[] = [];
    const out = await collectEmrAll(base({ concurrency: 2 }), { onProgress: (p) => progress.push(p) });
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(out.problems[0]!.message).toContain('AWS_ACCESS_KEY_ID');
    expect(out.problems[0]!.message).toContain('ExpiredTokenException');
    // Stopped: not every cluster was asked about.
    expect(fake.calls('ElasticMapReduce.DescribeCluster').length).toBeLessThan(fake.clusters.length);
    for (const text of [allText(out), allText(progress)]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SESSION);
    }
    // The requests were signed with the env keys (the key id is public, the secret never sent).
    expect(fake.requests[0]!.authorization).toContain(`Credential=${KEY_ID}/`);
    expect(allText(fake.requests)).not.toContain(SECRET);
  });

  it('a profile whose token is refused is named with its files; missing credentials name the default chain', async () => {
    const dir = tempDir();
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    writeFileSync(process.env.AWS_CONFIG_FILE, '[profile dev]\nregion = us-east-1\n');
    writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE, `[dev]\naws_access_key_id = AKIADEVPROFILE000001\naws_secret_access_key = ${SECRET}\n`);
    fake.clusters = [cluster(0, [])];
    fake.faults.push({ target: 'ElasticMapReduce.ListClusters', status: 400, type: 'UnrecognizedClientException', message: 'The security token included in the request is invalid.' });
    const out = await collectEmrAll(base({ profile: 'dev' }));
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(out.problems[0]!.message).toContain("profile 'dev'");
    expect(out.problems[0]!.message).toContain(process.env.AWS_CONFIG_FILE);
    expect(fake.requests[0]!.authorization).toContain('Credential=AKIADEVPROFILE000001/');
    expect(allText(out)).not.toContain(SECRET);

    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    const before = fake.requests.length;
    const none = await collectEmrAll(base({ profile: undefined }));
    expect(none.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(none.problems[0]!.message).toContain('default AWS credential chain');
    // No request went out without credentials.
    expect(fake.requests.length).toBe(before);
  });

  it('one cluster failing to describe is a problem naming it; the other clusters are stored', async () => {
    fake.clusters = Array.from({ length: 4 }, (_v, i) => cluster(i, [sparkStep(`s-${i}`, T0 + i * HOUR + 10 * 60_000, 2)]));
    const bad = fake.clusters[2]!;
    fake.faults.push({ target: 'ElasticMapReduce.DescribeCluster', clusterId: bad.Id, status: 400, type: 'InvalidRequestException', message: `Cluster id '${bad.Id}' is not valid.` });
    fake.faults.push({ target: 'ElasticMapReduce.ListSteps', clusterId: fake.clusters[3]!.Id, status: 500, type: 'InternalServerError', message: 'boom' });
    const out = await collectEmrAll(base({ maxAttempts: 2 }));
    expect(out.apps.map((a) => a.record.tags.cluster_id).sort()).toEqual([fake.clusters[0]!.Id, fake.clusters[1]!.Id]);
    // Each names its cluster's id, and points at its ARN: an address, so the run's summary counts it as the source's problem, not a log's.
    const arn = (id: string): string => `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${id}`;
    expect(out.problems.map((p) => [p.code, p.file]).sort()).toEqual([
      ['cluster-failed', arn(bad.Id)],
      ['cluster-failed', arn(fake.clusters[3]!.Id)],
    ]);
    for (const p of out.problems) expect(p.message).toContain(p.file!.split('/').at(-1)!);
    const counted = new ProblemLogs();
    counted.add({ apps: [], problems: out.problems, filtered: 0, unchanged: 0 }, 'emr-prod');
    expect(counted.summary()).toBe(', 1 source with problems');
  });

  it('since is sent as CreatedAfter and filters records; clusterIds skip the listing; maxApps caps', async () => {
    fake.clusters = Array.from({ length: 5 }, (_v, i) => cluster(i, [sparkStep(`s-${i}`, T0 + i * HOUR + 10 * 60_000, 2)]));
    const since = new Date(T0 + 2 * HOUR);
    const out = await collectEmrAll(base({ since }));
    expect(fake.calls('ElasticMapReduce.ListClusters')[0]!.body.CreatedAfter).toBe(since.getTime() / 1000);
    const expected = fake.clusters.filter((c) => c.Created >= since).map((c) => c.Id);
    expect(out.apps.map((a) => a.record.tags.cluster_id).sort()).toEqual(expected);

    const states = await collectEmrAll(base({ clusterStates: ['WAITING', 'RUNNING'] }));
    expect(fake.calls('ElasticMapReduce.ListClusters').at(-1)!.body.ClusterStates).toEqual(['WAITING', 'RUNNING']);
    expect(states.apps).toEqual([]);

    const listed = fake.calls('ElasticMapReduce.ListClusters').length;
    const ids = await collectEmrAll(base({ clusterIds: [fake.clusters[4]!.Id, fake.clusters[1]!.Id] }));
    expect(fake.calls('ElasticMapReduce.ListClusters').length).toBe(listed);
    expect(ids.apps.map((a) => a.record.tags.cluster_id).sort()).toEqual([fake.clusters[1]!.Id, fake.clusters[4]!.Id]);

    const capped = await collectEmrAll(base({ maxApps: 2, concurrency: 1 }));
    expect(capped.apps.length).toBe(2);

    const user = await collectEmrAll(base({ user: 'alice' }));
    // Platform-level steps have no user: a user filter cannot keep them.
    expect(user.apps).toEqual([]);
    expect(user.filtered).toBeGreaterThanOrEqual(fake.clusters.length);
  });

  it('abort stops the requests in flight promptly', async () => {
    fake.clusters = Array.from({ length: 3 }, (_v, i) => cluster(i, [sparkStep(`s-${i}`, T0 + i * HOUR + 10 * 60_000, 2)]));
    fake.held.add('ElasticMapReduce.DescribeCluster');
    const controller = new AbortController();
    fake.once('held', () => controller.abort(new Error('user cancelled')));
    const started = Date.now();
    await expect(collectEmrAll(base({ timeoutMs: 20_000 }), { signal: controller.signal })).rejects.toThrow('user cancelled');
    expect(Date.now() - started).toBeLessThan(5000);
    // The held requests were closed by the client, not answered.
    await expect.poll(() => fake.closedEarly, { timeout: 2000 }).toBeGreaterThan(0);
  });

  it('joins Spark applications from an S3 event-log dir to their cluster and step, replacing the step record', async () => {
    const c0 = cluster(0, [sparkStep('s-J1', T0 + 10 * 60_000, 15), sparkStep('s-J2', T0 + 30 * 60_000, 10)]);
    const c1 = cluster(1, [sparkStep('s-K1', T0 + HOUR + 10 * 60_000, 15)]);
    fake.clusters = [c0, c1];
    // App 1 lives under the cluster's own folder; app 2 has no cluster folder and is joined by time.
    const a1 = eventLogText({ appId: 'application_1750000000000_0001', startMs: T0 + 11 * 60_000, seed: 7, stages: 3, tasksPerStage: 4 });
    // Loose logs join by step window and by the ResourceManager start in the id (c1's lifetime).
    const a2 = eventLogText({ appId: `application_${T0 + HOUR + 2 * 60_000}_0002`, startMs: T0 + HOUR + 12 * 60_000, seed: 9, stages: 2, tasksPerStage: 3 });
    const old = eventLogText({ appId: 'application_1700000000000_0009', startMs: T0 - 100 * HOUR, seed: 3 });
    fake.putObject('logs', `spark/events/${c0.Id}/${a1.totals.app_id}`, a1.text);
    fake.putObject('logs', `spark/events/${a2.totals.app_id}`, a2.text);
    fake.putObject('logs', 'spark/events/j-NOTLISTED0001/application_1750000000000_0003', eventLogText({ appId: 'application_1750000000000_0003', startMs: T0 + 11 * 60_000 }).text);
    // Written long before `since`: not even downloaded.
    fake.putObject('logs', `spark/events/${old.totals.app_id}`, old.text, new Date(T0 - 90 * HOUR));
    fake.putObject('other', 'spark/events/x', 'not ours');
    fake.s3PageSize = 2;
    const tempsBefore = readdirSync(tmpdir()).filter((n) => n.startsWith('spark-optimizer-emr-'));
    const progress: { bytesRead: number }[] = [];
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/spark/events', since: new Date(T0 - HOUR) }), { onProgress: (p) => progress.push(p) });
    expect(out.problems).toEqual([]);
    const records = byId(out.apps);
    expect([...records.keys()].sort()).toEqual([a1.totals.app_id, a2.totals.app_id, 'emr-step-s-J2'].sort());

    for (const [a, c, step] of [
      [a1, c0, 's-J1'],
      [a2, c1, 's-K1'],
    ] as const) {
      const r = records.get(a.totals.app_id)!;
      expect(r.total_tasks).toBe(a.totals.total_tasks);
      expect(r.cpu_time_ms).toBe(Math.floor(a.totals.cpu_time_ns / 1e6));
      expect(r.shuffle_read_bytes).toBe(a.totals.shuffle_read_bytes);
      expect(r.start_time).toBe(new Date(a.totals.start_ms).toISOString());
      expect(r.quality).not.toContain('platform_level');
      expect(r.source).toBe('emr-prod');
      expect(r.tags.cluster_id).toBe(c.Id);
      expect(r.tags.step_id).toBe(step);
      expect(r.tags.release_label).toBe(c.ReleaseLabel);
      expect(r.tags['aws:tag:team']).toBe(c.Tags[0]!.Value);
      const app = out.apps.find((x) => x.record === r)!;
      expect(app.provenance.path.startsWith('s3://logs/spark/events/')).toBe(true);
    }
    expect(records.get('emr-step-s-J2')!.quality).toContain('platform_level');
    // The not-listed cluster's folder and the old log were never fetched.
    expect(fake.requests.some((r) => r.url.includes('j-NOTLISTED0001'))).toBe(false);
    expect(fake.requests.some((r) => r.url.includes(old.totals.app_id))).toBe(false);
    expect(fake.calls('s3').filter((r) => r.url.includes('list-type=2')).length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)!.bytesRead).toBeGreaterThanOrEqual(a1.text.length + a2.text.length);
    // The download folder is gone.
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('spark-optimizer-emr-'))).toEqual(tempsBefore);
  });

  it('joins Spark applications from a History Server by the cluster lifetime and step window', async () => {
    const c0 = cluster(0, [sparkStep('s-H1', T0 + 10 * 60_000, 15), sparkStep('s-H2', T0 + 30 * 60_000, 10)]);
    fake.clusters = [c0];
    const app: SyntheticApp = {
      id: `application_${T0 + 60_000}_0042`,
      startMs: T0 + 31 * 60_000,
      endMs: T0 + 38 * 60_000,
      user: 'alice',
      executors: [
        { id: 'driver', cores: 1 },
        { id: '1', cores: 4 },
        { id: '2', cores: 4 },
      ],
      stages: [
        { id: 0, status: 'COMPLETE', complete: 10, cpuNs: 3e9, input: 1000 },
        { id: 1, status: 'COMPLETE', complete: 5, shuffleRead: 77 },
      ],
    };
    const hs = await startFakeServer({ applications: { json: syntheticListing([app]) }, ...syntheticRoutes([app]) });
    try {
      const out = await collectEmrAll(base({ historyServerUrl: hs.url }));
      expect(out.problems).toEqual([]);
      const records = byId(out.apps);
      expect([...records.keys()].sort()).toEqual([app.id, 'emr-step-s-H1']);
      const r = records.get(app.id)!;
      expect(r.total_tasks).toBe(app.stages.reduce((t, s) => t + s.complete, 0));
      expect(r.num_executors).toBe(app.executors.filter((e) => e.id !== 'driver').length);
      expect(r.user).toBe('alice');
      expect(r.tags).toMatchObject({ cluster_id: c0.Id, step_id: 's-H2', origin: 'history_server' });
      expect(r.source).toBe('emr-prod');
    } finally {
      await hs.close();
    }
  });

  it('a named profile gives the region too: no region option, requests signed for the profile region', async () => {
    const dir = tempDir();
    process.env.AWS_CONFIG_FILE = path.join(dir, 'config');
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(dir, 'credentials');
    writeFileSync(process.env.AWS_CONFIG_FILE, '[profile dev]\nregion = eu-west-3\n');
    writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE, `[dev]\naws_access_key_id = AKIADEVPROFILE000002\naws_secret_access_key = ${SECRET}\n`);
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    delete process.env.AWS_SESSION_TOKEN;
    fake.clusters = [cluster(0, [sparkStep('s-P', T0 + 10 * 60_000, 2)])];
    const out = await collectEmrAll(base({ profile: 'dev', region: undefined }));
    expect(out.problems).toEqual([]);
    expect(out.apps.map((a) => a.record.app_id)).toEqual(['emr-step-s-P']);
    expect(fake.requests.length).toBeGreaterThan(0);
    // SigV4: Credential=<key id>/<date>/<region>/<service>/aws4_request
    for (const r of fake.requests) expect(r.authorization).toMatch(/Credential=AKIADEVPROFILE000002\/\d{8}\/eu-west-3\/elasticmapreduce\/aws4_request/);
  });

  it.each([0, 1])('joins a loose application to the overlapping cluster whose step ran it, whichever cluster answers first (first: %i)', async (first) => {
    const c0 = cluster(0, [sparkStep('s-X1', T0 + 10 * 60_000, 5)], { Ended: new Date(T0 + 60 * 60_000) });
    const c1 = cluster(1, [sparkStep('s-Y1', T0 + 20 * 60_000, 15)], { Created: new Date(T0 + 5 * 60_000), Ready: new Date(T0 + 8 * 60_000), Ended: new Date(T0 + 55 * 60_000) });
    fake.clusters = [c0, c1];
    // Ran by c1's step s-Y1; c0 was alive then too (and its ResourceManager too), but ran no step.
    const app = eventLogText({ appId: `application_${T0 + 6 * 60_000}_0001`, startMs: T0 + 21 * 60_000, seed: 4, stages: 2, tasksPerStage: 2 });
    // Started inside c0's step, but its ResourceManager started before c0 existed: another cluster's.
    const foreign = eventLogText({ appId: `application_${T0 - 3 * HOUR}_0002`, startMs: T0 + 11 * 60_000, seed: 5, stages: 1, tasksPerStage: 2 });
    fake.putObject('logs', `spark/events/${app.totals.app_id}`, app.text);
    fake.putObject('logs', `spark/events/${foreign.totals.app_id}`, foreign.text);
    // The other cluster's DescribeCluster is answered only once the first cluster's records are in.
    const late = first === 0 ? c1 : c0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    fake.gate = (r) => (r.target === 'ElasticMapReduce.DescribeCluster' && r.body.ClusterId === late.Id ? released : undefined);
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/spark/events' }), {
      onProgress: (p) => {
        if (p.logsDone > 0) release();
      },
    });
    const records = byId(out.apps);
    expect([...records.keys()].sort()).toEqual([app.totals.app_id, foreign.totals.app_id, 'emr-step-s-X1'].sort());
    const r = records.get(app.totals.app_id)!;
    expect(r.tags).toMatchObject({ cluster_id: c1.Id, cluster_name: c1.Name, step_id: 's-Y1', 'aws:tag:team': c1.Tags[0]!.Value });
    expect(records.get('emr-step-s-X1')!.tags.cluster_id).toBe(c0.Id);
    expect(records.get('emr-step-s-X1')!.quality).toContain('platform_level');
    expect(records.get(foreign.totals.app_id)!.tags.cluster_id).toBeUndefined();
    expect(out.problems).toEqual([]);
    expect(out.apps.find((a) => a.record.app_id === foreign.totals.app_id)!.problems.map((p) => p.code)).toEqual(['emr-unjoined']);
  });

  it("joins loose applications by their steps' windows, ends included, a running step's to now", async () => {
    const c0 = cluster(0, [sparkStep('s-A', T0 + 10 * 60_000, 5), sparkStep('s-B', T0 + 30 * 60_000, 5, 'RUNNING')]);
    fake.clusters = [c0];
    // An application starting at startMs (the generator's application starts 2 s into its log).
    const at = (n: number, startMs: number): ReturnType<typeof eventLogText> => {
      const log = eventLogText({ appId: `application_${T0 + 60_000}_000${n}`, startMs: startMs - 2000, seed: 20 + n, stages: 1, tasksPerStage: 2 });
      expect(log.totals.start_ms).toBe(startMs);
      return log;
    };
    const logs = {
      atStart: at(1, T0 + 10 * 60_000),
      atEnd: at(2, T0 + 15 * 60_000),
      justAfter: at(3, T0 + 15 * 60_000 + 1),
      duringRunning: at(4, T0 + 40 * 60_000),
    };
    for (const log of Object.values(logs)) fake.putObject('logs', `spark/events/${log.totals.app_id}`, log.text);
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/spark/events' }));
    const records = byId(out.apps);
    const stepOf = (log: ReturnType<typeof eventLogText>): unknown => records.get(log.totals.app_id)!.tags.step_id;
    expect(Object.fromEntries(Object.entries(logs).map(([name, log]) => [name, stepOf(log) ?? null]))).toEqual({ atStart: 's-A', atEnd: 's-A', justAfter: null, duringRunning: 's-B' });
  });

  it('since keeps a rolling event log whose first part is older than since but whose last part is newer', async () => {
    const c0 = cluster(0, [sparkStep('s-R1', T0 + 10 * 60_000, 40)]);
    fake.clusters = [c0];
    const a = eventLogText({ appId: `application_${T0 + 60_000}_0007`, startMs: T0 + 11 * 60_000, seed: 11, stages: 4, tasksPerStage: 6 });
    expect(a.totals.end_ms! - a.totals.start_ms).toBeGreaterThan(2000);
    const lines = a.text.trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    const folder = `spark/events/${c0.Id}/eventlog_v2_${a.totals.app_id}`;
    const since = new Date(a.totals.end_ms! - 1000);
    fake.putObject('logs', `${folder}/events_1_${a.totals.app_id}`, `${lines.slice(0, half).join('\n')}\n`, new Date(a.totals.start_ms + 1000));
    fake.putObject('logs', `${folder}/events_2_${a.totals.app_id}`, `${lines.slice(half).join('\n')}\n`, new Date(a.totals.end_ms! + 1000));
    fake.putObject('logs', `${folder}/appstatus_${a.totals.app_id}`, '', new Date(a.totals.end_ms! + 1000));
    // The cluster was created (and ended) before since: named, not listed.
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/spark/events/', since, clusterIds: [c0.Id] }));
    expect(out.problems).toEqual([]);
    const r = byId(out.apps).get(a.totals.app_id)!;
    expect(r).toBeDefined();
    expect(r.start_time).toBe(new Date(a.totals.start_ms).toISOString());
    expect(r.app_name).toBe(a.totals.app_name);
    expect(r.environment['spark.executor.memory']).toBe(a.totals.executor_memory);
    expect(r.tags).toMatchObject({ cluster_id: c0.Id, step_id: 's-R1' });
  });

  it('CloudWatch periods suit the data age (hourly beyond 63 days, 5-minute beyond 15 days)', async () => {
    const DAY = 86_400_000;
    const now = Date.now();
    const metrics = { YARNMemoryAvailablePercentage: [70, 30], AppsCompleted: [1, 4] };
    const old = cluster(0, [sparkStep('s-OLD', now - 70 * DAY + 10 * 60_000, 5)], { Created: new Date(now - 70 * DAY), Ready: new Date(now - 70 * DAY + 5 * 60_000), Ended: new Date(now - 70 * DAY + 50 * 60_000), metrics });
    const mid = cluster(1, [sparkStep('s-MID', now - 20 * DAY + 10 * 60_000, 5)], { Created: new Date(now - 20 * DAY), Ready: new Date(now - 20 * DAY + 5 * 60_000), Ended: new Date(now - 14 * DAY), metrics });
    fake.clusters = [old, mid];
    const out = await collectEmrAll(base({ cloudwatch: true }));
    expect(out.problems).toEqual([]);
    const records = byId(out.apps);
    for (const id of ['emr-step-s-OLD', 'emr-step-s-MID']) {
      const tags = records.get(id)!.tags;
      for (const [m, vs] of Object.entries(metrics)) {
        expect(Number(tags[`cloudwatch.${m}.avg`])).toBeCloseTo(vs.reduce((x, y) => x + y, 0) / vs.length, 3);
        expect(Number(tags[`cloudwatch.${m}.max`])).toBe(Math.max(...vs));
      }
    }
    const periods = (c: FakeCluster): number[] =>
      fake
        .calls('GraniteServiceVersion20100801.GetMetricData')
        .filter((r) => JSON.stringify(r.body).includes(c.Id))
        .flatMap((r) => (r.body.MetricDataQueries as { MetricStat: { Period: number } }[]).map((q) => q.MetricStat.Period));
    expect(periods(old).length).toBeGreaterThan(0);
    for (const p of periods(old)) expect(p % 3600).toBe(0);
    expect(periods(mid).length).toBeGreaterThan(0);
    for (const p of periods(mid)) expect(p % 300).toBe(0);
  });

  it('since also lists active clusters created before it (once each); their steps that ended before since are filtered', async () => {
    const since = new Date(T0 + 10 * HOUR);
    const longLived = cluster(0, [sparkStep('s-NEW', T0 + 11 * HOUR, 5), sparkStep('s-OLD', T0 + 10 * 60_000, 5)], { State: 'WAITING', Ended: undefined });
    const gone = cluster(1, [sparkStep('s-GONE', T0 + HOUR + 10 * 60_000, 5)]);
    const fresh = cluster(12, [sparkStep('s-FRESH', T0 + 12 * HOUR + 10 * 60_000, 5, 'RUNNING')], { State: 'RUNNING', Ended: undefined });
    fake.clusters = [longLived, gone, fresh];
    const out = await collectEmrAll(base({ since }));
    expect(out.problems).toEqual([]);
    expect(out.apps.map((a) => a.record.app_id).sort()).toEqual(['emr-step-s-FRESH', 'emr-step-s-NEW']);
    expect(out.filtered).toBe(1);
    // Listed by both listings, described once.
    expect(fake.calls('ElasticMapReduce.DescribeCluster').map((r) => r.body.ClusterId).sort()).toEqual([longLived.Id, fresh.Id]);

    // Only terminated clusters asked for: no active listing; the terminated ones that ended since, of those states only.
    const before = fake.calls('ElasticMapReduce.ListClusters').length;
    const terminated = await collectEmrAll(base({ since, clusterStates: ['TERMINATED'] }));
    expect(terminated.apps).toEqual([]);
    expect(fake.calls('ElasticMapReduce.ListClusters').slice(before).map((r) => [r.body.ClusterStates, r.body.CreatedAfter])).toEqual([
      [['TERMINATED'], since.getTime() / 1000],
      [['TERMINATED'], undefined],
    ]);
  });

  it('with clusterIds, another cluster folder of the event-log dir is never requested', async () => {
    const c0 = cluster(0, [sparkStep('s-I0', T0 + 10 * 60_000, 15)]);
    const c1 = cluster(1, [sparkStep('s-I1', T0 + HOUR + 10 * 60_000, 15)]);
    fake.clusters = [c0, c1];
    const a0 = eventLogText({ appId: `application_${T0 + 60_000}_0001`, startMs: T0 + 11 * 60_000, seed: 2, stages: 1, tasksPerStage: 2 });
    const a1 = eventLogText({ appId: `application_${T0 + HOUR + 60_000}_0001`, startMs: T0 + HOUR + 11 * 60_000, seed: 3, stages: 1, tasksPerStage: 2 });
    fake.putObject('logs', `spark/events/${c0.Id}/${a0.totals.app_id}`, a0.text);
    fake.putObject('logs', `spark/events/${c1.Id}/${a1.totals.app_id}`, a1.text);
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/spark/events', clusterIds: [c0.Id] }));
    expect(out.problems).toEqual([]);
    expect(out.apps.map((a) => [a.record.app_id, a.record.tags.cluster_id, a.record.tags.step_id])).toEqual([[a0.totals.app_id, c0.Id, 's-I0']]);
    expect(fake.calls('s3').some((r) => r.url.includes(c0.Id))).toBe(true);
    expect(fake.calls('s3').some((r) => r.url.includes(c1.Id) || r.url.includes(a1.totals.app_id))).toBe(false);
  });

  it('a local event-log dir with cluster folders: each listed cluster reads its own folder, loose logs join by step', async () => {
    const c0 = cluster(0, [sparkStep('s-L1', T0 + 10 * 60_000, 15), sparkStep('s-L2', T0 + 30 * 60_000, 10)]);
    fake.clusters = [c0];
    const own = eventLogText({ appId: `application_${T0 + 60_000}_0001`, startMs: T0 + 11 * 60_000, seed: 2, stages: 1, tasksPerStage: 2 });
    const loose = eventLogText({ appId: `application_${T0 + 60_000}_0002`, startMs: T0 + 31 * 60_000, seed: 3, stages: 1, tasksPerStage: 2 });
    const other = eventLogText({ appId: `application_${T0 + HOUR}_0003`, startMs: T0 + HOUR + 11 * 60_000, seed: 4, stages: 1, tasksPerStage: 2 });
    const dir = tempDir();
    mkdirSync(path.join(dir, c0.Id));
    mkdirSync(path.join(dir, 'j-CLUSTER0009'));
    writeFileSync(path.join(dir, c0.Id, own.totals.app_id), own.text);
    writeFileSync(path.join(dir, loose.totals.app_id), loose.text);
    writeFileSync(path.join(dir, 'j-CLUSTER0009', other.totals.app_id), other.text);
    const out = await collectEmrAll(base({ eventLogDir: dir, clusterIds: [c0.Id] }));
    expect(out.problems).toEqual([]);
    expect(out.apps.map((a) => [a.record.app_id, a.record.tags.cluster_id, a.record.tags.step_id]).sort()).toEqual(
      [
        [own.totals.app_id, c0.Id, 's-L1'],
        [loose.totals.app_id, c0.Id, 's-L2'],
      ].sort(),
    );
  });

  it('per-service endpoints: EMR calls go to endpoint_url, GetMetricData to the CloudWatch one, S3 to the S3 one', async () => {
    // Three fakes on three ports: each one only answers what its service is asked.
    const cw = new EmrFake();
    const s3 = new EmrFake();
    const [cwUrl, s3Url] = await Promise.all([cw.start(), s3.start()]);
    try {
      const c0 = cluster(0, [sparkStep('s-V1', T0 + 10 * 60_000, 15), sparkStep('s-V2', T0 + 30 * 60_000, 10)], { metrics: { AppsFailed: [0, 2, 1] } });
      fake.clusters = [c0];
      cw.clusters = [c0];
      const a1 = eventLogText({ appId: 'application_1750000000000_0001', startMs: T0 + 11 * 60_000, seed: 7, stages: 2, tasksPerStage: 3 });
      s3.putObject('logs', `spark/events/${c0.Id}/${a1.totals.app_id}`, a1.text);
      const out = await collectEmrAll(base({ cloudwatch: true, cloudwatchEndpointUrl: cwUrl, s3EndpointUrl: s3Url, eventLogDir: 's3://logs/spark/events' }));
      expect(out.problems).toEqual([]);
      const records = byId(out.apps);
      expect([...records.keys()].sort()).toEqual([a1.totals.app_id, 'emr-step-s-V2'].sort());
      expect(records.get(a1.totals.app_id)!.tags.cluster_id).toBe(c0.Id);
      expect(records.get('emr-step-s-V2')!.tags['cloudwatch.AppsFailed.max']).toBe('2');

      const targets = (f: EmrFake): string[] => [...new Set(f.requests.map((r) => r.target))].sort();
      expect(targets(fake)).toEqual(['ElasticMapReduce.DescribeCluster', 'ElasticMapReduce.ListClusters', 'ElasticMapReduce.ListInstanceGroups', 'ElasticMapReduce.ListSteps']);
      expect(targets(cw)).toEqual(['GraniteServiceVersion20100801.GetMetricData']);
      expect(targets(s3)).toEqual(['s3']);
      // Path-style on the S3 override: ListObjectsV2 and GetObject both under /logs/.
      expect(s3.requests.some((r) => /^\/logs\/?\?/.test(r.url) && r.url.includes('list-type=2'))).toBe(true);
      expect(s3.requests.some((r) => r.url.startsWith(`/logs/spark/events/${c0.Id}/${a1.totals.app_id}`))).toBe(true);
      // Each request is signed for its own service.
      for (const r of fake.requests) expect(r.authorization).toMatch(/\/us-east-1\/elasticmapreduce\/aws4_request/);
      for (const r of cw.requests) expect(r.authorization).toMatch(/\/us-east-1\/monitoring\/aws4_request/);
      for (const r of s3.requests) expect(r.authorization).toMatch(/\/us-east-1\/s3\/aws4_request/);
    } finally {
      await Promise.all([cw.stop(), s3.stop()]);
    }
  });

  it('an S3 event-log dir that refuses access stops the run with auth-failed', async () => {
    fake.clusters = [cluster(0, [sparkStep('s-1', T0 + 10 * 60_000, 2)])];
    fake.putObject('logs', 'x/y', 'z');
    fake.faults.push({ target: 's3', status: 403, type: 'AccessDenied', message: 'Access Denied' });
    const out = await collectEmrAll(base({ eventLogDir: 's3://logs/x/' }));
    expect(out.apps).toEqual([]);
    expect(out.problems.map((p) => p.code)).toEqual(['auth-failed']);
    expect(out.problems[0]!.message).toContain('AWS_ACCESS_KEY_ID');
    expect(allText(out)).not.toContain(SECRET);
  });
});

describe('EMR steps and plan', () => {
  it('recognises Spark steps by their launcher', () => {
    const step = (args: string[]) => ({ Config: { Jar: 'command-runner.jar', Args: args } });
    expect(isSparkStep(step(['spark-submit', 'x.py']))).toBe(true);
    expect(isSparkStep(step(['/usr/bin/spark-submit', '--class', 'A', 'a.jar']))).toBe(true);
    expect(isSparkStep(step(['spark-example', 'SparkPi', '10']))).toBe(true);
    expect(isSparkStep(step(['hive-script', '--run-hive-script', 's3://x.q']))).toBe(false);
    expect(isSparkStep(step(['state-pusher-script']))).toBe(false);
    expect(isSparkStep({ Config: { Jar: 's3://bucket/app.jar', Args: ['--input', 's3://spark-submit-data/'] } })).toBe(false);
  });

  it('reads spark-submit flags up to the application and redacts secret-looking keys', () => {
    const props = submitProperties(['spark-submit', '--verbose', '--executor-memory=2g', '--conf', 'spark.sql.shuffle.partitions=64', '--conf', 'spark.hadoop.fs.s3a.access.key=AKIA', 'app.py', '--executor-memory', '9g']);
    expect(props['spark.executor.memory']).toBe('2g');
    expect(props['spark.sql.shuffle.partitions']).toBe('64');
    expect(props['spark.hadoop.fs.s3a.access.key']).not.toBe('AKIA');
  });

  it('maps a configured emr source onto the options', () => {
    const { sources, errors } = parseConfig(
      'sources:\n  - type: emr\n    name: prod\n    region: eu-west-1\n    profile: dev\n    since: "2026-01-01T00:00:00Z"\n    cluster_states: [TERMINATED]\n    event_log_dir: s3://b/p\n    cloudwatch: false\n    timeout: 12\n',
      '/tmp',
    );
    expect(errors).toEqual([]);
    const s = sources[0]!;
    if (s.type !== 'emr') throw new Error('expected emr');
    const o = emrOptions(s);
    expect(o).toMatchObject({ source: 'prod', region: 'eu-west-1', profile: 'dev', clusterStates: ['TERMINATED'], eventLogDir: 's3://b/p', cloudwatch: false, timeoutMs: 12_000 });
    expect(o.since?.toISOString()).toBe('2026-01-01T00:00:00.000Z');
    // Plain data: it crosses to the worker thread.
    expect(structuredClone(o)).toEqual(o);
  });

  it('maps endpoint_url, cloudwatch_endpoint_url and s3_endpoint_url onto the per-service endpoint options', () => {
    const { sources, errors } = parseConfig(
      'sources:\n  - type: emr\n    name: vpc\n    endpoint_url: https://vpce-emr.example.com\n    cloudwatch_endpoint_url: https://vpce-monitoring.example.com\n    s3_endpoint_url: http://vpce-s3.example.com:8080\n',
      '/tmp',
    );
    expect(errors).toEqual([]);
    const s = sources[0]!;
    if (s.type !== 'emr') throw new Error('expected emr');
    expect(emrOptions(s)).toMatchObject({ endpointUrl: 'https://vpce-emr.example.com', cloudwatchEndpointUrl: 'https://vpce-monitoring.example.com', s3EndpointUrl: 'http://vpce-s3.example.com:8080' });
  });

  it.each([
    ['s3_endpoint_url', 'not a url'],
    ['s3_endpoint_url', 'ftp://s3.example.com'],
    ['cloudwatch_endpoint_url', 'monitoring.example.com'],
  ])('an invalid %s (%s) is a config error on its line', (key, value) => {
    const { sources, errors } = parseConfig(`sources:\n  - type: emr\n    name: bad\n    endpoint_url: http://localhost:4566\n    ${key}: "${value}"\n`, '/tmp');
    expect(sources).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
    for (const e of errors) {
      expect(e.path).toEqual(['sources', 0, key]);
      expect(e.line).toBe(5);
    }
  });
});
