/**
 * The EMR source type: EMR clusters' steps, joined with their Spark event logs and History Server.
 * Credentials are never in the config: the AWS chain finds them.
 */
import { z } from 'zod';
import { cloudKeys, commonApiOptions, httpUrl } from '../configKeys';
import { apiRunStopped, type SourceDescriptor } from '../descriptor';
import type { EmrOptions } from './collect';

const schema = z
  .object({
    type: z.literal('emr'),
    ...cloudKeys,
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
    cluster_ids: z.array(z.string().min(1)).optional(),
    cluster_states: z.array(z.enum(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'])).optional(),
    cloudwatch: z.boolean().default(true),
    event_log_dir: z.string().min(1).optional(),
    history_server_url: httpUrl.optional(),
    cloudwatch_endpoint_url: httpUrl.optional(),
    s3_endpoint_url: httpUrl.optional(),
  })
  .strict();
export type EmrSourceConfig = z.infer<typeof schema> & { name: string };

export function emrOptions(s: EmrSourceConfig): EmrOptions {
  return {
    ...commonApiOptions(s),
    region: s.region,
    profile: s.profile,
    endpointUrl: s.endpoint_url,
    cloudwatchEndpointUrl: s.cloudwatch_endpoint_url,
    s3EndpointUrl: s.s3_endpoint_url,
    clusterIds: s.cluster_ids,
    clusterStates: s.cluster_states,
    cloudwatch: s.cloudwatch,
    eventLogDir: s.event_log_dir,
    historyServerUrl: s.history_server_url,
  };
}

export const emrSource = {
  type: 'emr',
  title: 'Amazon EMR',
  cliNames: ['emr'],
  schema,
  keyDocs: {
    profile: 'The AWS shared-config profile (default: AWS_PROFILE, then "default").',
    cluster_ids: 'Only these clusters.',
    cluster_states: 'Only clusters in these states.',
    cloudwatch: 'Also read each cluster\'s CloudWatch metrics (AWS/ElasticMapReduce) over its lifetime.',
    cloudwatch_endpoint_url: 'EMR: the CloudWatch endpoint, overriding endpoint_url for CloudWatch only. Needed for a CloudWatch VPC interface endpoint or proxy (these are per service).',
    s3_endpoint_url: 'EMR: the S3 endpoint (path-style), overriding endpoint_url for S3 only. Needed for an S3 VPC interface endpoint or proxy (these are per service).',
  },
  flags: [
    { flag: 'region', key: 'region' },
    { flag: 'profile', key: 'profile' },
    { flag: 'cluster-id', key: 'cluster_ids', kind: 'list' },
    { flag: 'no-cloudwatch', key: 'cloudwatch', kind: 'negate' },
    { flag: 'endpoint-url', key: 'endpoint_url' },
    { flag: 'event-log-dir', key: 'event_log_dir' },
    { flag: 'history-server-url', key: 'history_server_url' },
  ],
  usage: '[--region R] [--profile P] [--cluster-id ID]... [--no-cloudwatch] [--event-log-dir s3://B/P] [--history-server-url URL]',
  credentials: 'the AWS default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile (shared config and credentials files, SSO), instance metadata',
  icon: 'cloud',
  starter: `  # - name: emr
  #   type: emr
  #   region: us-east-1        # credentials: the AWS default chain (AWS_PROFILE, SSO, env, instance role)
`,
  location: (s) => `EMR ${s.region ?? '(default region)'}${s.endpoint_url ? ` at ${s.endpoint_url}` : ''}`,
  takes: ['maxApps'],
  jobs: (s) => [emrOptions(s)],
  stopped: apiRunStopped,
  collector: async () => (await import('./collect.js')).collectEmr,
} satisfies SourceDescriptor<'emr', EmrSourceConfig, EmrOptions>;
