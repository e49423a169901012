/**
 * From a configured Dataproc source to collector options (plain data: they are posted to the worker).
 * An `access_token` written as `${env:VAR}` is resolved here; without one the collector finds
 * GOOGLE_OAUTH_ACCESS_TOKEN / CLOUDSDK_AUTH_ACCESS_TOKEN or Application Default Credentials itself.
 */
import { commonApiOptions, mebibytes, type SourceConfig } from '../config';
import { resolveSecret } from '../historyServer/plan';
import type { DataprocOptions } from './collect';

export function dataprocOptions(s: Extract<SourceConfig, { type: 'dataproc' }>): DataprocOptions {
  return {
    ...commonApiOptions(s),
    projectId: s.project_id,
    region: s.region,
    endpointUrl: s.endpoint_url,
    accessToken: resolveSecret(s.access_token, `source ${s.name}: access_token`),
    historyServerUrl: s.history_server_url,
    jobState: s.job_state,
    labels: s.labels,
    clusterName: s.cluster_name,
    maxResponseBytes: mebibytes(s.max_response_mb),
  };
}
