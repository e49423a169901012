/**
 * The Databricks source type: Jobs API runs, joined with their clusters' event logs. Its config
 * becomes collector options here. Credentials are resolved here, the way
 * Databricks' own tools read them (DATABRICKS_HOST, DATABRICKS_TOKEN, the config profile in
 * ~/.databrickscfg, a service principal's DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET), so the
 * options that travel to the worker thread are plain data; each credential carries a description of
 * where it came from, so a refused token can be named ("token from DATABRICKS_TOKEN") without ever
 * showing the token. The OAuth exchange itself happens in the collector.
 */
import * as z from 'zod';
import { ENV_REFERENCE, cloudKeys, commonApiOptions, httpUrl, maxResponseMb, mebibytes, resolveSecret, secret } from '../configKeys';
import { apiRunStopped, sourceFlags, type SourceDescriptor } from '../descriptor';
import type { DatabricksOptions } from './collect';
import { profileValue, readDatabricksProfile } from './profile';

const schema = z
  .object({
    type: z.literal('databricks'),
    ...cloudKeys,
    host: httpUrl.optional().describe('The workspace URL, e.g. https://dbc-1234.cloud.databricks.com.'),
    token: secret.optional(),
    event_log_dir: z.string().min(1).optional(),
    max_response_mb: maxResponseMb,
  })
  .strict();
export type DatabricksSourceConfig = z.infer<typeof schema> & { name: string };

/** A token the editor keeps in its secret storage for this source, with a description of it. */
export interface StoredToken {
  token: string;
  /** e.g. "token from the editor's secret storage (source 'prod')". */
  from: string;
}

const envValue = (name: string): string | undefined => {
  const v = process.env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
};

/**
 * Token order: the config's `token` (`${env:VAR}`), then DATABRICKS_TOKEN, then the token from the
 * editor's secret storage, then the profile's `token`; without any, a service principal's client id
 * and secret (DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET, else the profile's client_id +
 * client_secret) for OAuth machine-to-machine. Host order: the config's endpoint_url/host, then
 * DATABRICKS_HOST, then the profile's `host`. A `${env:VAR}` that is not set is not thrown here: it
 * becomes `credentialError`, reported by the collector as one 'auth-failed' problem before any
 * request; so does a profile named by DATABRICKS_CONFIG_PROFILE that is not there, when nothing else
 * gives a credential.
 */
export function databricksOptions(s: DatabricksSourceConfig, stored?: StoredToken): DatabricksOptions {
  let token: string | undefined;
  let tokenSource: string | undefined;
  let credentialError: string | undefined;
  if (s.token !== undefined) {
    const ref = ENV_REFERENCE.exec(s.token);
    try {
      token = resolveSecret(s.token, 'token');
      tokenSource = ref ? `token from ${ref[1]!} (the source's token: \${env:${ref[1]!}})` : `the token written in the source's config`;
    } catch (err) {
      credentialError = (err as Error).message;
    }
  }
  if (token === undefined && credentialError === undefined && envValue('DATABRICKS_TOKEN') !== undefined) {
    token = envValue('DATABRICKS_TOKEN');
    tokenSource = 'token from DATABRICKS_TOKEN';
  }
  if (token === undefined && credentialError === undefined && stored !== undefined) {
    token = stored.token;
    tokenSource = stored.from;
  }
  const profile = readDatabricksProfile();
  const inProfile = `profile ${profile.name} in ${profile.file}`;
  if (token === undefined && credentialError === undefined && profileValue(profile, 'token') !== undefined) {
    token = profileValue(profile, 'token');
    tokenSource = `token from ${inProfile}`;
  }
  let clientId: string | undefined;
  let clientSecret: string | undefined;
  let clientSource: string | undefined;
  if (token === undefined && credentialError === undefined) {
    if (envValue('DATABRICKS_CLIENT_ID') !== undefined && envValue('DATABRICKS_CLIENT_SECRET') !== undefined) {
      clientId = envValue('DATABRICKS_CLIENT_ID')!;
      clientSecret = envValue('DATABRICKS_CLIENT_SECRET');
      clientSource = `OAuth client ${clientId} (DATABRICKS_CLIENT_ID)`;
    } else if (profileValue(profile, 'client_id') !== undefined && profileValue(profile, 'client_secret') !== undefined) {
      clientId = profileValue(profile, 'client_id')!;
      clientSecret = profileValue(profile, 'client_secret');
      clientSource = `OAuth client ${clientId} (${inProfile})`;
    } else if (profile.explicit && profile.error !== undefined) {
      credentialError = profile.error;
    }
  }
  let host = s.host ?? envValue('DATABRICKS_HOST');
  let hostSource = s.endpoint_url !== undefined ? "the source's endpoint_url" : s.host !== undefined ? "the source's host" : host !== undefined ? 'DATABRICKS_HOST' : undefined;
  if (host === undefined && profileValue(profile, 'host') !== undefined) {
    host = profileValue(profile, 'host');
    hostSource = s.endpoint_url !== undefined ? hostSource : `host from ${inProfile}`;
  }
  return {
    ...commonApiOptions(s),
    endpointUrl: s.endpoint_url,
    host,
    hostSource,
    token,
    tokenSource,
    clientId,
    clientSecret,
    clientSource,
    credentialError,
    eventLogDir: s.event_log_dir,
    maxResponseBytes: mebibytes(s.max_response_mb),
  };
}

export const databricksSource = {
  type: 'databricks',
  title: 'Databricks',
  cliNames: ['databricks'],
  schema,
  flags: sourceFlags('host', 'endpoint_url', 'event_log_dir'),
  usage: '[--host URL] [--event-log-dir dbfs:/P]',
  narrows: "runs that ended before since (running ones: started) and runs of other creators are dropped as they are listed; the Jobs API's own time filter is by start, so it is not used",
  credentials: 'DATABRICKS_HOST and DATABRICKS_TOKEN, a ~/.databrickscfg profile (DATABRICKS_CONFIG_PROFILE), or OAuth M2M: DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET',
  icon: 'cloud',
  starter: `  # - name: databricks
  #   type: databricks
  #   host: https://dbc-1234.cloud.databricks.com   # token: DATABRICKS_TOKEN or "Set Source Secret…"
`,
  location: (s) => s.endpoint_url ?? s.host ?? 'the workspace in DATABRICKS_HOST',
  takes: ['maxApps', 'maxResponseBytes'],
  secret: 'token',
  jobs: (s, stored) => [databricksOptions(s, stored && { token: stored.secret, from: `token from ${stored.from}` })],
  skipsUnchangedFiles: true,
  stopped: apiRunStopped,
  collector: async () => (await import('./collect.js')).collectDatabricks,
} satisfies SourceDescriptor<'databricks', DatabricksSourceConfig, DatabricksOptions>;
