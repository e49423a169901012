/**
 * The EMR source type: EMR clusters' steps, joined with their Spark event logs and History Server.
 * Credentials are never in the config: the AWS chain finds them.
 */
import * as z from 'zod';
import { camelKeys, cloudKeys, commonApiOptions, httpUrl } from '../configKeys';
import { apiRunStopped, sourceFlags, type SourceDescriptor } from '../descriptor';
import type { EmrOptions } from './collect';

const schema = z
  .object({
    type: z.literal('emr'),
    ...cloudKeys,
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional().describe('The AWS shared-config profile (default: AWS_PROFILE, then "default").'),
    cluster_ids: z.array(z.string().min(1)).optional().describe('Only these clusters.'),
    cluster_states: z
      .array(z.enum(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS']))
      .optional()
      .describe('Only clusters in these states.'),
    cloudwatch: z.boolean().default(true).describe("Also read each cluster's CloudWatch metrics (AWS/ElasticMapReduce) over its lifetime."),
    event_log_dir: z.string().min(1).optional(),
    history_server_url: httpUrl.optional(),
    cloudwatch_endpoint_url: httpUrl
      .optional()
      .describe('EMR: the CloudWatch endpoint, overriding endpoint_url for CloudWatch only. Needed for a CloudWatch VPC interface endpoint or proxy (these are per service).'),
    s3_endpoint_url: httpUrl.optional().describe('EMR: the S3 endpoint (path-style), overriding endpoint_url for S3 only. Needed for an S3 VPC interface endpoint or proxy (these are per service).'),
  })
  .strict();
export type EmrSourceConfig = z.infer<typeof schema> & { name: string };

export function emrOptions(s: EmrSourceConfig): EmrOptions {
  const keys = ['region', 'profile', 'endpoint_url', 'cloudwatch_endpoint_url', 's3_endpoint_url', 'cluster_ids', 'cluster_states', 'cloudwatch', 'event_log_dir', 'history_server_url'] as const;
  return { ...commonApiOptions(s), ...camelKeys(s, keys) };
}

export const emrSource = {
  type: 'emr',
  title: 'Amazon EMR',
  cliNames: ['emr'],
  schema,
  flags: sourceFlags('region', 'profile', { flag: 'cluster-id', key: 'cluster_ids', kind: 'list' }, { flag: 'no-cloudwatch', key: 'cloudwatch', kind: 'negate' }, 'endpoint_url', 'event_log_dir', 'history_server_url'),
  usage: '[--region R] [--profile P] [--cluster-id ID]... [--no-cloudwatch] [--event-log-dir s3://B/P] [--history-server-url URL]',
  narrows: 'clusters created after since (ListClusters CreatedAfter), plus the active ones and the ones that terminated after since; event-log objects last written before since are not downloaded; user is judged on the record',
  credentials: 'the AWS default chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN, AWS_PROFILE or --profile (shared config and credentials files, SSO), instance metadata',
  icon: 'cloud',
  starter: `  # - name: emr
  #   type: emr
  #   region: us-east-1        # credentials: the AWS default chain (AWS_PROFILE, SSO, env, instance role)
`,
  location: (s) => `EMR ${s.region ?? '(default region)'}${s.endpoint_url ? ` at ${s.endpoint_url}` : ''}`,
  takes: ['maxApps'],
  jobs: (s) => [emrOptions(s)],
  skipsUnchangedFiles: true,
  stopped: apiRunStopped,
  collector: async () => (await import('./collect.js')).collectEmr,
} satisfies SourceDescriptor<'emr', EmrSourceConfig, EmrOptions>;
