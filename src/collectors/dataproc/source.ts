/**
 * The Dataproc source type: Dataproc jobs, joined with the cluster's History Server. Its config
 * becomes collector options here (plain data: they are posted to the worker).
 * An `access_token` written as `${env:VAR}` is resolved here; without one the collector finds
 * GOOGLE_OAUTH_ACCESS_TOKEN / CLOUDSDK_AUTH_ACCESS_TOKEN or Application Default Credentials itself.
 */
import * as z from 'zod';
import { camelKeys, cloudKeys, commonApiOptions, httpUrl, maxResponseMb, mebibytes, resolveSecret, secret } from '../configKeys';
import { apiRunStopped, sourceFlags, type SourceDescriptor } from '../descriptor';
import type { DataprocOptions } from './collect';

const schema = z
  .object({
    type: z.literal('dataproc'),
    ...cloudKeys,
    project_id: z.string().min(1).optional().describe("The Google Cloud project (default: GOOGLE_CLOUD_PROJECT or the credentials' project)."),
    region: z.string().min(1).optional(),
    access_token: secret.optional().describe('OAuth access token: write ${env:VAR}, never the token itself.'),
    history_server_url: httpUrl.optional(),
    job_state: z.enum(['all', 'active', 'non_active']).optional().describe('Dataproc: only jobs in this state: all (default), active (pending or running) or non_active (done, failed, cancelled).'),
    labels: z.record(z.string(), z.string()).optional().describe('Dataproc: only jobs carrying all of these labels (key: value).'),
    cluster_name: z.string().min(1).optional().describe('Dataproc: only jobs that ran on the cluster with this name.'),
    max_response_mb: maxResponseMb,
  })
  .strict();
export type DataprocSourceConfig = z.infer<typeof schema> & { name: string };

export function dataprocOptions(s: DataprocSourceConfig): DataprocOptions {
  return {
    ...commonApiOptions(s),
    ...camelKeys(s, ['project_id', 'region', 'endpoint_url', 'history_server_url', 'job_state', 'labels', 'cluster_name']),
    accessToken: resolveSecret(s.access_token, 'access_token'),
    maxResponseBytes: mebibytes(s.max_response_mb),
  };
}

export const dataprocSource = {
  type: 'dataproc',
  title: 'Google Cloud Dataproc',
  cliNames: ['dataproc'],
  schema,
  flags: sourceFlags({ flag: 'project', key: 'project_id' }, 'region', 'endpoint_url', 'history_server_url'),
  usage: '[--project P] [--region R] [--history-server-url URL]',
  narrows: 'jobs that ended before since (running ones: started), by their status history, are dropped as they are listed; user is judged on the record',
  credentials: 'GOOGLE_OAUTH_ACCESS_TOKEN, or Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS, gcloud auth application-default login, metadata server)',
  icon: 'cloud',
  starter: `  # - name: dataproc
  #   type: dataproc
  #   project_id: my-project   # credentials: Application Default Credentials
  #   region: us-central1
`,
  location: (s) => `Dataproc ${s.project_id ?? '(default project)'} / ${s.region ?? 'global'}${s.endpoint_url ? ` at ${s.endpoint_url}` : ''}`,
  takes: ['maxApps', 'maxResponseBytes'],
  secret: 'access token',
  jobs: (s, stored) => {
    const options = dataprocOptions(s);
    return [options.accessToken === undefined && stored ? { ...options, accessToken: stored.secret, accessTokenSource: `token from ${stored.from}` } : options];
  },
  skipsUnchangedFiles: true,
  stopped: apiRunStopped,
  collector: async () => (await import('./collect.js')).collectDataproc,
} satisfies SourceDescriptor<'dataproc', DataprocSourceConfig, DataprocOptions>;
