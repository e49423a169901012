/** From a configured EMR source to collector options. Credentials are never in the config: the AWS chain finds them. */
import type { SourceConfig } from '../config';
import type { EmrOptions } from './collect';

export function emrOptions(s: Extract<SourceConfig, { type: 'emr' }>): EmrOptions {
  return {
    source: s.name,
    region: s.region,
    profile: s.profile,
    endpointUrl: s.endpoint_url,
    clusterIds: s.cluster_ids,
    clusterStates: s.cluster_states,
    since: s.since ? new Date(s.since) : undefined,
    user: s.user,
    maxApps: s.max_apps,
    concurrency: s.concurrency,
    batchSize: s.batch_size,
    timeoutMs: s.timeout * 1000,
    cloudwatch: s.cloudwatch,
    eventLogDir: s.event_log_dir,
    historyServerUrl: s.history_server_url,
  };
}
