/**
 * From a configured History Server source to collector options: secrets resolved from `${env:VAR}`
 * or SPARK_OPTIMIZER_<SOURCE>_{TOKEN,USERNAME,PASSWORD}. Shared by the CLI and the extension.
 */
import { ENV_REFERENCE, commonApiOptions, mebibytes, type SourceConfig } from '../config';
import type { HistoryServerAuth } from './client';
import type { HistoryServerOptions } from './collect';

/** `${env:VAR}` is read from the environment; anything else is taken as written. */
export function resolveSecret(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const m = ENV_REFERENCE.exec(value);
  if (!m) return value;
  const v = process.env[m[1]!];
  if (v === undefined || v === '') throw new Error(`${what} refers to environment variable ${m[1]!}, which is not set`);
  return v;
}

/** Credentials for a History Server: from the config (`${env:VAR}`) or SPARK_OPTIMIZER_<SOURCE>_{TOKEN,USERNAME,PASSWORD}. */
export function historyAuth(source: string, cfg: { username?: string; password?: string; token?: string }): HistoryServerAuth | undefined {
  const prefix = `SPARK_OPTIMIZER_${source}_`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const env = (k: string): string | undefined => (process.env[prefix + k] === '' ? undefined : process.env[prefix + k]);
  const token = resolveSecret(cfg.token, `source ${source}: token`) ?? env('TOKEN');
  if (token !== undefined) return { type: 'bearer', token };
  const username = cfg.username ?? env('USERNAME');
  const password = resolveSecret(cfg.password, `source ${source}: password`) ?? env('PASSWORD');
  return username !== undefined ? { type: 'basic', username, password: password ?? '' } : undefined;
}

export function historyPlan(s: Extract<SourceConfig, { type: 'history_server' }>): { kind: 'history_server'; name: string; options: HistoryServerOptions } {
  return {
    kind: 'history_server',
    name: s.name,
    options: {
      url: s.history_server_url,
      ...commonApiOptions(s),
      mode: s.mode,
      status: s.status,
      headers: s.headers,
      caFile: s.ca_file,
      insecureSkipVerify: s.insecure_skip_verify,
      auth: historyAuth(s.name, s),
      maxResponseBytes: mebibytes(s.max_response_mb),
      maxUnpackedBytes: mebibytes(s.max_unpacked_mb),
      maxUnpackRatio: s.max_unpack_ratio,
      maxZstdWindowMb: s.zstd_max_window_mb,
      maxLineBytes: mebibytes(s.max_line_mb),
      maxDecompressionRatio: s.max_decompression_ratio,
    },
  };
}

/**
 * Incremental runs: with no `since` of its own, a completed-apps run asks only for applications that
 * ended at or after the newest end time already stored for this source. An application that was
 * still running last time ends after that, so it is fetched again once it finishes.
 */
export function incremental(options: HistoryServerOptions, newestEndTime: string | null): HistoryServerOptions {
  if (options.since !== undefined || newestEndTime === null || (options.status ?? 'completed') !== 'completed') return options;
  return { ...options, since: new Date(newestEndTime) };
}
