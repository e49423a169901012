/**
 * What a security review found stored by the collectors themselves: platform error texts kept as
 * tags unmasked (L7: Databricks `state_message`, Dataproc `status.details`), an EMR endpoint's user
 * information in problems (L3), and a History Server URL's query token in the run record and the
 * cursor scope (L4), where masking must not make a source's next run start over.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/collectors/config';
import type { Batch } from '../src/collectors/contract';
import { collectEmrAll } from '../src/collectors/emr/collect';
import { collectSource, cursorKey, incrementalJob, jobsFor, recordedOptions, type SourceJob } from '../src/collectors/registry';
import { maskSecretText } from '../src/common/secretText';
import { newestListedThrough } from '../src/storage/repository';
import { AWS_ENV, isolatedEnv, noAws } from './support/isolatedEnv';
import { listenLocal, type LocalServer } from './support/localServer';

const servers: LocalServer[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serveJson(route: (path: string) => unknown): Promise<string> {
  const s = await listenLocal((req: IncomingMessage, res: ServerResponse) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(route(req.url ?? '/') ?? {}));
  });
  servers.push(s);
  return s.url;
}

function jobOf(yaml: string): SourceJob {
  const parsed = parseConfig(`sources:\n${yaml}`, '/work');
  expect(parsed.errors).toEqual([]);
  return jobsFor(parsed.sources[0]!)[0]!;
}

async function collected(job: SourceJob): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of collectSource(job, {})) out.push(b);
  return out;
}

describe('L7: every tag value is masked, whichever collector made it', () => {
  it('a Databricks run’s state_message quoting a JDBC URL with its password', async () => {
    const run = {
      run_id: 42, job_id: 7, run_name: 'nightly', creator_user_name: 'u@x', start_time: 1700000000000, end_time: 1700000600000, run_type: 'JOB_RUN',
      state: { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'java.sql.SQLException: cannot connect to jdbc:postgresql://etl:STATE_MSG_PW_SECRET@db:5432/dw' },
      cluster_instance: { cluster_id: 'c1' },
      cluster_spec: { new_cluster: { spark_version: '13.3.x', num_workers: 2, spark_conf: { 'spark.es.net.http.auth.pass': 'DBX_CONF_ES_SECRET' } } },
    };
    const url = await serveJson((p) =>
      p.startsWith('/api/2.1/jobs/runs/list') ? { runs: [run], has_more: false } : p.startsWith('/api/2.1/jobs/runs/get') ? run : p.startsWith('/api/2.1/clusters/get') ? { cluster_id: 'c1', ...run.cluster_spec.new_cluster } : p.startsWith('/api/2.1/clusters/events') ? { events: [] } : {},
    );
    vi.stubEnv('DBX_T', 'dapi-test-token');
    const batches = await collected(jobOf(`  - name: dbx\n    type: databricks\n    host: ${url}\n    token: \${env:DBX_T}\n`));
    const records = batches.flatMap((b) => b.apps.map((a) => a.record));
    expect(records).toHaveLength(1);
    expect(records[0]!.tags.state_message).toBe('java.sql.SQLException: cannot connect to jdbc:postgresql://etl:*********(redacted)@db:5432/dw');
    expect(JSON.stringify(batches)).not.toMatch(/SECRET/);
  });

  it('a Dataproc job’s status.details', async () => {
    const job = {
      reference: { jobId: 'job-1', projectId: 'p' }, placement: { clusterName: 'c1' },
      status: { state: 'ERROR', details: 'Job failed: jdbc:mysql://etl:DP_DETAILS_PW_LEAK@db:3306/dw refused; -Ddb.pwd=DP_PWD_LEAK', stateStartTime: '2024-01-01T00:10:00Z' },
      statusHistory: [{ state: 'PENDING', stateStartTime: '2024-01-01T00:00:00Z' }, { state: 'RUNNING', stateStartTime: '2024-01-01T00:00:10Z' }],
      sparkJob: { mainClass: 'x', properties: { 'spark.redis.auth': 'DP_REDIS_LEAK' } },
    };
    const url = await serveJson((p) => {
      const path = p.split('?')[0]!;
      return /\/jobs$/.test(path) ? { jobs: [job] } : /\/jobs\/job-1$/.test(path) ? job : /\/clusters\//.test(path) ? { clusterName: 'c1', config: { softwareConfig: { imageVersion: '2.1' } } } : {};
    });
    vi.stubEnv('GOOGLE_OAUTH_ACCESS_TOKEN', 'ya29.faketoken');
    const batches = await collected(jobOf(`  - name: dp\n    type: dataproc\n    project_id: p\n    region: r\n    endpoint_url: ${url}\n`));
    const records = batches.flatMap((b) => b.apps.map((a) => a.record));
    expect(records).toHaveLength(1);
    expect(records[0]!.tags.state_details).toMatch(/^Job failed: jdbc:mysql:\/\/etl:\*+\(redacted\)@db:3306\/dw refused; -Ddb\.pwd=\*+\(redacted\)$/);
    expect(JSON.stringify(batches)).not.toMatch(/LEAK/);
  });
});

describe('L3: an EMR endpoint_url with user:password', () => {
  isolatedEnv(AWS_ENV, 'emr-secrets-home-', noAws);
  it('is named in problems without its user information', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEEXAMPLE00001';
    process.env.AWS_SECRET_ACCESS_KEY = 'fakesecretfakesecret';
    const r = await collectEmrAll({ endpointUrl: 'http://user:EPSECRET_EMR@127.0.0.1:1/', region: 'us-east-1', maxAttempts: 1, timeoutMs: 2000, cloudwatch: false });
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems.map((p) => p.file)).toContain('http://127.0.0.1:1/');
    expect(JSON.stringify(r.problems)).not.toContain('EPSECRET_EMR');
  });
});

describe('L4: a History Server URL’s query token', () => {
  const hs = (url: string): SourceJob => jobOf(`  - name: hs\n    type: history_server\n    history_server_url: ${url}\n`);
  const TOKEN_URL = 'http://127.0.0.1:18184/?access_token=QS_SECRET_TOKEN_2';

  it('is masked in the run record and the cursor scope', () => {
    const job = hs(TOKEN_URL);
    expect(JSON.stringify(recordedOptions(job))).not.toContain('QS_SECRET_TOKEN_2');
    expect(cursorKey('hs', recordedOptions(job)).scope).toBe(JSON.stringify({ url: 'http://127.0.0.1:18184/?access_token=*********(redacted)', shard: null }));
  });

  it('leaves the scope of a URL with no secret as it always was', () => {
    expect(cursorKey('hs', recordedOptions(hs('http://History.example.com:18080/api/v1/'))).scope).toBe(JSON.stringify({ url: 'http://History.example.com:18080', shard: null }));
    expect(cursorKey('hs', recordedOptions(hs('http://u:pw@hs:18080/?view=all'))).scope).toBe(JSON.stringify({ url: 'http://hs:18080/?view=all', shard: null }));
  });

  it('an old cursor, recorded with the token in its scope, still matches: as stored, and once a migration masks what is stored', () => {
    const job = hs(TOKEN_URL);
    const old = { url: TOKEN_URL, listed_through: { end_time: '2024-01-01T00:10:00.000Z', scope: JSON.stringify({ url: TOKEN_URL, shard: null }) } };
    const cursorFrom = (rows: Record<string, unknown>[]): unknown => (incrementalJob(job, (k) => newestListedThrough(rows, k.scope)).options as { cursor?: string }).cursor;
    expect(cursorFrom([{ options: JSON.stringify(old) }])).toBe('2024-01-01T00:10:00.000Z');
    const migrated = maskSecretText(JSON.stringify(old));
    expect(migrated).not.toContain('QS_SECRET_TOKEN_2');
    expect(newestListedThrough([{ options: migrated }], cursorKey('hs', recordedOptions(job)).scope)).toBe('2024-01-01T00:10:00.000Z');
    // The newer of an old and a new cursor wins.
    const newer = { listed_through: { end_time: '2024-02-01T00:00:00.000Z', scope: cursorKey('hs', recordedOptions(job)).scope } };
    expect(cursorFrom([{ options: JSON.stringify(old) }, { options: JSON.stringify(newer) }])).toBe('2024-02-01T00:00:00.000Z');
  });
});
