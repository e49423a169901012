/**
 * A cloud run's platform-level record and its Spark application's record are one run
 * (contract.ts REPLACES_TAG): whichever a collection sees first, the store ends with the Spark
 * application's record alone. Databricks (a local event_log_dir), EMR (a local event-log dir with
 * <ClusterId>/ folders) and Dataproc (a Persistent History Server up or down), each on both stores,
 * collected through ingest() as the CLI does; and two writers of one file merging (JobStore.replay).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Batch } from '../src/collectors/contract';
import { collectDatabricks } from '../src/collectors/databricks/collect';
import { collectDataproc } from '../src/collectors/dataproc/collect';
import { collectEmr } from '../src/collectors/emr/collect';
import { Quality } from '../src/collectors/record';
import { ingest } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import type { JobRepository } from '../src/storage/repository';
import { startDatabricksFake, workspace, type DatabricksFake } from './support/databricksFake';
import { fakeCluster as dpCluster, fakeJob, startDataprocFake } from './support/dataprocFake';
import { EmrFake, T0 as EMR_T0, fakeCluster as emrCluster } from './support/emrFake';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, syntheticRoutes, type SyntheticApp } from './support/historyServerFake';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

const closers: (() => Promise<void>)[] = [];
const savedEnv = { ...process.env };
beforeEach(() => {
  const home = path.join(tempDir(), 'home');
  mkdirSync(home, { recursive: true });
  // No developer's credentials or config: each fake is given its own.
  for (const k of Object.keys(process.env)) if (/^(AWS_|DATABRICKS_|GOOGLE_|GCLOUD_|CLOUDSDK_|GCE_)/.test(k)) delete process.env[k];
  Object.assign(process.env, {
    HOME: home,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONFIG_FILE: path.join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws-credentials'),
    AWS_ACCESS_KEY_ID: 'AKIAFAKEEXAMPLE00001',
    AWS_SECRET_ACCESS_KEY: 'fake-secret',
    CLOUDSDK_CONFIG: path.join(home, 'gcloud'),
    METADATA_SERVER_DETECTION: 'none',
    GOOGLE_OAUTH_ACCESS_TOKEN: 'ya29.fake-token',
  });
});
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  for (const k of Object.keys(process.env)) if (!(k in savedEnv)) delete process.env[k];
  Object.assign(process.env, savedEnv);
});

/**
 * One cloud run, collected with its Spark application's log there or not: `platformId` is its
 * platform-level record's app_id, `sparkId` its Spark application's.
 */
interface Scenario {
  name: string;
  platformId: string;
  sparkId: string;
  collect: (logThere: boolean) => AsyncIterable<Batch>;
}

async function databricks(): Promise<Scenario> {
  const ws = workspace(1, { sharedClusters: 1 });
  const run = ws.runs[0]!;
  const { cluster_id, spark_context_id } = run.tasks[0]!.cluster_instance;
  const f: DatabricksFake = await startDatabricksFake({ token: 'dapi-test', ...ws });
  closers.push(() => f.close());
  const root = tempDir();
  const dir = path.join(root, cluster_id, 'eventlog', `${cluster_id}_10_0_0_1`, spark_context_id);
  const log = eventLogText({ appId: 'app-20260601080000-0000', user: 'root', stages: 2, tasksPerStage: 3 });
  return {
    name: 'Databricks',
    platformId: `databricks-run-${run.run_id}`,
    sparkId: log.totals.app_id,
    collect: (there) => {
      rmSync(path.join(root, cluster_id), { recursive: true, force: true });
      if (there) {
        mkdirSync(dir, { recursive: true });
        writeFileSync(path.join(dir, 'eventlog'), log.text);
      }
      return collectDatabricks({ endpointUrl: f.url, token: 'dapi-test', tokenSource: 'test', source: 'dbx', backoffMs: 5, timeoutMs: 3000, eventLogDir: root });
    },
  };
}

async function emr(): Promise<Scenario> {
  const fake = new EmrFake();
  const endpoint = await fake.start();
  closers.push(() => fake.stop());
  const start = EMR_T0 + 10 * 60_000;
  const c0 = emrCluster(0, [
    {
      Id: 's-A0',
      Name: 'job s-A0',
      ActionOnFailure: 'CONTINUE',
      Config: { Jar: 'command-runner.jar', Args: ['spark-submit', '--deploy-mode', 'cluster', 's3://code/a.py'] },
      Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(start - 60_000), StartDateTime: new Date(start), EndDateTime: new Date(start + 15 * 60_000) } },
    },
  ]);
  fake.clusters = [c0];
  const root = tempDir();
  const log = eventLogText({ appId: 'application_1750000000000_0001', startMs: start + 60_000, stages: 2, tasksPerStage: 3 });
  return {
    name: 'EMR',
    platformId: 'emr-step-s-A0',
    sparkId: log.totals.app_id,
    collect: (there) => {
      rmSync(path.join(root, c0.Id), { recursive: true, force: true });
      if (there) {
        mkdirSync(path.join(root, c0.Id), { recursive: true });
        writeFileSync(path.join(root, c0.Id, log.totals.app_id), log.text);
      }
      return collectEmr({ endpointUrl: endpoint, region: 'us-east-1', source: 'emr', maxAttempts: 2, timeoutMs: 5000, cloudwatch: false, eventLogDir: root });
    },
  };
}

async function dataproc(): Promise<Scenario> {
  const T0 = Date.UTC(2026, 0, 10, 8, 0, 0);
  const appId = 'application_1700000000000_0001';
  const spec: SyntheticApp = { id: appId, name: 'etl', user: 'alice', startMs: T0 + 5000, endMs: T0 + 65_000, properties: {}, executors: [{ id: '1', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4 }] };
  const routes = syntheticRoutes([spec]);
  for (const app of syntheticListing([spec])) routes[`applications/${(app as { id: string }).id}`] = { json: app };
  // The History Server is up (its routes) or down (an empty one: every application 404).
  const up = await startFakeServer(routes);
  const down = await startFakeServer({});
  const f = await startDataprocFake({
    project: 'proj-1',
    region: 'europe-west1',
    tokens: ['ya29.fake-token'],
    jobs: [fakeJob({ id: 'j-a', state: 'DONE', submitMs: T0, startMs: T0 + 4000, endMs: T0 + 66_000, yarnApps: [appId] })],
    clusters: { c1: dpCluster('c1', { image: '2.2.40-debian12', master: ['n2-standard-4', 1], worker: ['n2-standard-4', 2], properties: {} }) },
  });
  closers.push(() => up.close(), () => down.close(), () => f.close());
  return {
    name: 'Dataproc',
    platformId: 'dataproc-job-j-a',
    sparkId: appId,
    collect: (there) =>
      collectDataproc({ source: 'dp', projectId: 'proj-1', region: 'europe-west1', endpointUrl: f.url, maxAttempts: 2, backoffMs: 5, timeoutMs: 3000, authTimeoutMs: 3000, historyServerUrl: there ? up.url : down.url }),
  };
}

const SCENARIOS = [databricks, emr, dataproc];

async function collectInto(repo: JobRepository, s: Scenario, logThere: boolean): Promise<void> {
  await ingest(repo, s.collect(logThere), { source: s.name, options: {} });
}

const ids = (repo: JobRepository): string[] =>
  repo
    .list()
    .map((r) => r.app_id)
    .sort();

describeEachStore('a platform-level record and its Spark application are one run', (open) => {
  for (const make of SCENARIOS) {
    it(`${make.name}: the log arrives late: the Spark application's record replaces the platform-level one, with its check`, async () => {
      const s = await make();
      const repo = await open();
      await collectInto(repo, s, false);
      expect(ids(repo)).toEqual([s.platformId]);
      expect(repo.get({ app_id: s.platformId, attempt_id: null })!.quality).toContain(Quality.platformLevel);
      repo.saveRegressions([{ app_id: s.platformId, attempt_id: null, status: 'unchecked', summary: 'x', explanation: 'y', check: null }]);
      await collectInto(repo, s, true);
      expect(ids(repo)).toEqual([s.sparkId]);
      expect(repo.regressions([{ app_id: s.platformId, attempt_id: null }])).toEqual([null]);
      // Collected again, nothing comes back.
      await collectInto(repo, s, true);
      expect(ids(repo)).toEqual([s.sparkId]);
    });

    it(`${make.name}: the log seen first, then gone: the platform-level record is not stored beside the Spark application's`, async () => {
      const s = await make();
      const repo = await open();
      await collectInto(repo, s, true);
      expect(ids(repo)).toEqual([s.sparkId]);
      await collectInto(repo, s, false);
      expect(ids(repo)).toEqual([s.sparkId]);
      // Once the Spark record is deleted, the run has its platform-level record again.
      repo.delete([{ app_id: s.sparkId, attempt_id: null }]);
      await collectInto(repo, s, false);
      expect(ids(repo)).toEqual([s.platformId]);
    });
  }
});

describe('two writers of one file', () => {
  it('a merge replays the replacement: the other writer\'s platform-level record goes', async () => {
    const s = await databricks();
    const file = path.join(tempDir(), 'jobs.db');
    const a = await JobStore.open(file);
    const b = await JobStore.open(file);
    try {
      await collectInto(a, s, false);
      await a.save();
      // b loaded the file before a saved: its save merges a's platform record and replays its own batch.
      await collectInto(b, s, true);
      expect((await b.save()).merged).toBe(true);
      const c = await JobStore.open(file);
      try {
        expect(ids(c)).toEqual([s.sparkId]);
      } finally {
        c.close();
      }
    } finally {
      a.close();
      b.close();
    }
  });
});
