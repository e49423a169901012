/**
 * From a configured Databricks source to collector options. Credentials are resolved here, the way
 * Databricks' own tools read them (DATABRICKS_HOST, DATABRICKS_TOKEN), so the options that travel to
 * the worker thread are plain data; each credential carries a description of where it came from, so
 * a refused token can be named ("token from DATABRICKS_TOKEN") without ever showing the token.
 */
import { commonApiOptions, type SourceConfig } from '../config';
import { resolveSecret } from '../historyServer/plan';
import type { DatabricksOptions } from './collect';

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
 * editor's secret storage. A `${env:VAR}` that is not set is not thrown here: it becomes
 * `credentialError`, reported by the collector as one 'auth-failed' problem before any request.
 */
export function databricksOptions(s: Extract<SourceConfig, { type: 'databricks' }>, stored?: StoredToken): DatabricksOptions {
  let token: string | undefined;
  let tokenSource: string | undefined;
  let credentialError: string | undefined;
  if (s.token !== undefined) {
    const ref = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(s.token);
    try {
      token = resolveSecret(s.token, `source ${s.name}: token`);
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
  const host = s.host ?? envValue('DATABRICKS_HOST');
  return {
    ...commonApiOptions(s),
    endpointUrl: s.endpoint_url,
    host,
    hostSource: s.endpoint_url !== undefined ? "the source's endpoint_url" : s.host !== undefined ? "the source's host" : host !== undefined ? 'DATABRICKS_HOST' : undefined,
    token,
    tokenSource,
    credentialError,
    eventLogDir: s.event_log_dir,
  };
}
