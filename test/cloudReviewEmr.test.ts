/** EMR defects of a review of the cloud collectors, each against the fake on 127.0.0.1. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectEmr, collectEmrAll, type EmrOptions } from '../src/collectors/emr/collect';
import { AWS_ENV, isolatedEnv, noAws } from './support/isolatedEnv';
import { EmrFake, T0, fakeCluster, type FakeStep } from './support/emrFake';
import { storedRuns } from './support/storedRuns';

const SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY42';
let fake: EmrFake;
let endpoint: string;

// Never the real instance-metadata service, never the developer's own ~/.aws files.
isolatedEnv(AWS_ENV, 'emr-review-', noAws);
beforeEach(async () => {
  fake = new EmrFake();
  endpoint = await fake.start();
});
afterEach(async () => {
  await fake.stop();
});

const base = (over: Partial<EmrOptions> = {}): EmrOptions => ({
  endpointUrl: endpoint,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET },
  source: 'emr',
  cloudwatch: false,
  maxAttempts: 1,
  timeoutMs: 5000,
  ...over,
});

function sparkStep(id: string, startMs: number, state = 'COMPLETED', endMs: number | undefined = startMs + 10 * 60_000): FakeStep {
  return {
    Id: id,
    Name: `job ${id}`,
    Config: { Jar: 'command-runner.jar', Args: ['spark-submit', `s3://code/${id}.py`] },
    Status: { State: state, Timeline: { CreationDateTime: new Date(startMs - 60_000), StartDateTime: new Date(startMs), ...(endMs !== undefined ? { EndDateTime: new Date(endMs) } : {}) } },
  };
}

describe('EMR review fixes', () => {
  it('a CloudWatch NextToken given twice stops paging: the cluster is stored, with an emr-partial warning', { timeout: 10_000 }, async () => {
    fake.clusters = [fakeCluster(0, [sparkStep('s-CW', T0 + 10 * 60_000)], { metrics: { AppsCompleted: [1, 2] } })];
    fake.metricsPageSize = 1;
    fake.metricsStuckToken = 'same';
    const out = await collectEmrAll(base({ cloudwatch: true }));
    expect(out.apps.map((a) => a.record.app_id)).toEqual(['emr-step-s-CW']);
    expect(out.problems.map((p) => [p.code, p.severity])).toEqual([['emr-partial', 'warning']]);
    expect(out.problems[0]!.message).toContain('NextToken "same" twice');
    expect(Object.keys(out.apps[0]!.record.tags).some((k) => k.startsWith('cloudwatch.'))).toBe(false);
    // The first page, then the one that repeats its token: no more billed calls.
    expect(fake.calls('GraniteServiceVersion20100801.GetMetricData').length).toBe(2);
  });
});

describe('EMR --since and clusters that terminated since', () => {
  it('a cluster created before since that terminated after it is read (its step stored running by an earlier run completes); one that ended before since is not described', { timeout: 10_000 }, async () => {
    const now = Date.now();
    const since = new Date(now - 24 * 3_600_000);
    const created = new Date(now - 3 * 24 * 3_600_000);
    const step = sparkStep('s-LONG', now - 2 * 3_600_000, 'RUNNING', undefined);
    const longLived = fakeCluster(0, [step], { Id: 'j-OLDLONGLIVED', State: 'WAITING', Created: created, Ready: new Date(created.getTime() + 600_000), Ended: undefined });
    const endedLongAgo = fakeCluster(1, [sparkStep('s-ANCIENT', created.getTime() + 600_000)], { Id: 'j-ENDEDLONGAGO', Created: created, Ended: new Date(created.getTime() + 3_600_000) });
    fake.clusters = [longLived, endedLongAgo];
    const first = await collectEmrAll(base({ since }));
    expect(first.apps.map((a) => [a.record.app_id, a.record.status])).toEqual([['emr-step-s-LONG', 'running']]);

    // The step completes and its cluster terminates: the next run with the same since updates the step.
    step.Status = { State: 'COMPLETED', Timeline: { ...step.Status.Timeline, EndDateTime: new Date(now - 60_000) } };
    longLived.State = 'TERMINATED';
    longLived.Ended = new Date(now - 30_000);
    fake.requests = [];
    const second = await collectEmrAll(base({ since }));
    expect(second.problems).toEqual([]);
    expect(second.apps.map((a) => [a.record.app_id, a.record.status])).toEqual([['emr-step-s-LONG', 'completed']]);
    expect(fake.calls('ElasticMapReduce.DescribeCluster').map((r) => r.body.ClusterId)).toEqual(['j-OLDLONGLIVED']);
    expect(fake.calls('ElasticMapReduce.ListClusters').map((r) => r.body.ClusterStates)).toEqual([undefined, ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'], ['TERMINATED', 'TERMINATED_WITH_ERRORS']]);
  });
});

describe('EMR incremental runs', () => {
  it('a second collect reads no terminated cluster again that the store holds with the same state and end time (no DescribeCluster, ListSteps, instance groups, GetMetricData)', { timeout: 15_000 }, async () => {
    const running = fakeCluster(2, [sparkStep('s-R', T0 + 2 * 3_600_000 + 600_000, 'RUNNING', undefined)], { State: 'RUNNING', Ended: undefined });
    fake.clusters = [fakeCluster(0, [sparkStep('s-A', T0 + 600_000), sparkStep('s-B', T0 + 900_000)], { metrics: { AppsCompleted: [1] } }), fakeCluster(1, [sparkStep('s-C', T0 + 3_600_000 + 600_000)]), running];
    const store = await storedRuns('emr');
    const first = await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx));
    expect(first).toMatchObject({ new: 4, unchanged: 0 });
    fake.requests = [];
    const second = await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx));
    // Clusters 0 and 1 (3 steps) are held; the running cluster is read again.
    expect(second).toMatchObject({ new: 0, updated: 0, unchanged: 3 });
    const described = (): unknown[] => fake.calls('ElasticMapReduce.DescribeCluster').map((r) => r.body.ClusterId);
    expect(described()).toEqual([running.Id]);
    expect(fake.calls('GraniteServiceVersion20100801.GetMetricData').every((r) => JSON.stringify(r.body).includes(running.Id))).toBe(true);

    // The running cluster ends: read once more, then held too.
    running.State = 'TERMINATED';
    running.Ended = new Date(T0 + 3 * 3_600_000);
    running.steps[0]!.Status = { State: 'COMPLETED', Timeline: { ...running.steps[0]!.Status.Timeline, EndDateTime: new Date(T0 + 2 * 3_600_000 + 900_000) } };
    fake.requests = [];
    // unchanged counts what was not read: a held cluster is one, however many steps it ran.
    expect(await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx))).toMatchObject({ new: 0, updated: 1, unchanged: 2 });
    fake.requests = [];
    expect(await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx))).toMatchObject({ new: 0, updated: 0, unchanged: 3 });
    expect(described()).toEqual([]);
    expect(fake.calls('ElasticMapReduce.ListSteps')).toEqual([]);
  });

  it('a cluster whose CloudWatch read failed is read again next run', { timeout: 15_000 }, async () => {
    fake.clusters = [fakeCluster(0, [sparkStep('s-A', T0 + 600_000)], { metrics: { AppsCompleted: [1] } })];
    fake.faults.push({ target: 'GraniteServiceVersion20100801.GetMetricData', status: 400, type: 'AccessDenied', message: 'not authorized', times: 1 });
    const store = await storedRuns('emr');
    const first = await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx));
    expect(first).toMatchObject({ new: 1 });
    fake.requests = [];
    const second = await store.run((ctx) => collectEmr(base({ cloudwatch: true }), ctx));
    expect(second).toMatchObject({ new: 0, updated: 1 });
    expect(fake.calls('ElasticMapReduce.DescribeCluster')).toHaveLength(1);
  });
});
