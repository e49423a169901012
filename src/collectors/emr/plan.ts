/** From a configured EMR source to collector options. Credentials are never in the config: the AWS chain finds them. */
import { commonApiOptions, type SourceConfig } from '../config';
import type { EmrOptions } from './collect';

export function emrOptions(s: Extract<SourceConfig, { type: 'emr' }>): EmrOptions {
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
