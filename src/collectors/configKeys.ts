/**
 * The pieces of a source's config schema that several source types share (names, dates, secrets,
 * URLs, limits, the common API keys), and how a config entry's shared keys become collector
 * options. Each source type's own schema is in its descriptor (`<type>/source.ts`); config.ts
 * assembles the file's schema from the registry.
 */
import * as z from 'zod';
import { DEFAULT_BATCH_SIZE } from './contract';
import { DEFAULT_MAX_DECOMPRESSION_RATIO, MAX_DECOMPRESSION_RATIO_LIMIT, MAX_ZSTD_WINDOW_MB_LIMIT, MIN_DECOMPRESSION_RATIO, RATIO_FREE_BYTES } from './eventlog/codecs/index';
import { DEFAULT_MAX_LINE_MB, MAX_LINE_MB_LIMIT } from './eventlog/lines';
import { MAX_RESPONSE_MB } from './http/limits';
import { ENV_REFERENCE, ENV_REFERENCES } from '../common/envReference';
import { parseTime } from '../common/parseTime';

export const sourceName = z.string().min(1).max(100);
export const sinceDate = z.string().refine((s) => parseTime(s) !== undefined, 'must be a date or time such as 2024-05-01, 2024-05-01 12:00 (local) or 2024-05-01T12:00:00Z');
export const batchSize = z.number().int().min(1).max(10_000).default(DEFAULT_BATCH_SIZE);
export const between = (range: { min: number; max: number }): z.ZodOptional<z.ZodNumber> => z.number().int().min(range.min).max(range.max).optional();
export const userName = z.string().min(1).optional();

/**
 * The limits the event-log engine reads a log with (readLog.ts ReadLimits), on every source whose
 * logs it reads itself. Left out, the editor's setting (sparkOptimizer.*) or the engine's default holds.
 */
export const readLimitKeys = {
  zstd_max_window_mb: between({ min: 1, max: MAX_ZSTD_WINDOW_MB_LIMIT }),
  max_line_mb: between({ min: 1, max: MAX_LINE_MB_LIMIT }),
  max_decompression_ratio: between({ min: MIN_DECOMPRESSION_RATIO, max: MAX_DECOMPRESSION_RATIO_LIMIT }),
};
/** The most of one REST answer read (jsonClient.ts), in MiB. */
export const maxResponseMb = between(MAX_RESPONSE_MB);

/** MiB as a config key or flag gives them, in bytes as the collectors take them; left out stays left out. */
export function mebibytes(mb: number | undefined): number | undefined {
  return mb === undefined ? undefined : mb * 2 ** 20;
}

/** The read limits (readLog.ts ReadLimits) a source's keys give. */
export function readLimitsOf(s: { zstd_max_window_mb?: number; max_line_mb?: number; max_decompression_ratio?: number }): { maxZstdWindowMb?: number; maxLineBytes?: number; maxDecompressionRatio?: number } {
  return { maxZstdWindowMb: s.zstd_max_window_mb, maxLineBytes: mebibytes(s.max_line_mb), maxDecompressionRatio: s.max_decompression_ratio };
}

export const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
export { ENV_REFERENCE };
/**
 * Secrets are written as `${env:VAR}` (or set with the editor's secret command), never inline. A
 * value that starts like a reference but is not one (`${env:}`, `${ENV:X}`, `${env:MY-VAR}`) is
 * refused: it would be sent as the secret itself (issue #13).
 */
export const secret = z
  .string()
  .min(1)
  .refine((v) => !/^\$\{\s*env\s*:/i.test(v) || ENV_REFERENCE.test(v), 'is not a valid ${env:NAME} reference: NAME must be an environment variable name (letters, digits and _, not starting with a digit), e.g. ${env:SPARK_HISTORY_PASSWORD}');

/** `${env:VAR}` is read from the environment; anything else is taken as written. */
export function resolveSecret(value: string | undefined, what: string): string | undefined {
  if (value === undefined) return undefined;
  const m = ENV_REFERENCE.exec(value);
  return m ? fromEnv(m[1]!, what) : value;
}

/** The value of environment variable `name` that `what` refers to; one not set, or set empty, is an error naming both. */
function fromEnv(name: string, what: string): string {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${what} refers to environment variable ${name}, which is not set`);
  return v;
}

/** A reference that is not one (`${env:}`, `${ENV:X}`, `${env:MY-VAR}`) anywhere in a text, once the valid ones are taken out. */
const BROKEN_REFERENCE = /\$\{\s*env\s*:/i;

/**
 * Extra HTTP headers. A value often holds a credential (`Authorization: Bearer …`), so it may name
 * environment variables as a secret does, whole or in part: `Bearer ${env:SPARK_HISTORY_TOKEN}`
 * (a review: a reference here was sent to the server as written). A reference that is not a valid
 * one is refused, as for a secret.
 */
export const headerMap = z.record(
  z.string(),
  z.string().refine((v) => !BROKEN_REFERENCE.test(v.replace(ENV_REFERENCES, '')), 'holds a ${env:…} reference that is not a valid one: NAME must be an environment variable name (letters, digits and _, not starting with a digit), e.g. Bearer ${env:SPARK_HISTORY_TOKEN}'),
);

/**
 * Headers with every `${env:VAR}` in their values read from the environment (a variable not set is
 * an error naming the header), and each value so read (`headerSecrets`): a reference is how a
 * secret is written, so what it stands for is masked wherever it appears (http/jsonClient.ts), a
 * part of a header (`Cookie: JSESSIONID=${env:HS_COOKIE}; theme=dark`) as much as a whole one.
 */
export function resolveHeaders(headers: Readonly<Record<string, string>> | undefined): { headers?: Record<string, string>; headerSecrets?: string[] } {
  if (headers === undefined) return {};
  const secrets: string[] = [];
  const resolved = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name,
      value.replace(ENV_REFERENCES, (_ref, env: string) => {
        const v = fromEnv(env, `header ${name}`);
        secrets.push(v);
        return v;
      }),
    ]),
  );
  return { headers: resolved, ...(secrets.length > 0 ? { headerSecrets: secrets } : {}) };
}

/** The keys every API source (History Server and the cloud sources) has. */
export const apiKeys = {
  name: sourceName.optional(),
  batch_size: batchSize,
  since: sinceDate.optional(),
  user: userName,
  concurrency: z.number().int().min(1).max(32).default(4),
  timeout: z.number().min(1).max(600).default(30),
  max_apps: z.number().int().min(1).max(1_000_000).optional(),
};
/** The keys every cloud source (EMR, Databricks, Dataproc) has besides the API ones. */
export const cloudKeys = { ...apiKeys, endpoint_url: httpUrl.optional() };

/** The options every API source takes from its config the same way. */
export function commonApiOptions(s: { name: string; since?: string; user?: string; max_apps?: number; concurrency: number; batch_size: number; timeout: number }): {
  source: string;
  since: Date | undefined;
  user: string | undefined;
  maxApps: number | undefined;
  concurrency: number;
  batchSize: number;
  timeoutMs: number;
} {
  return { source: s.name, since: s.since ? parseTime(s.since) : undefined, user: s.user, maxApps: s.max_apps, concurrency: s.concurrency, batchSize: s.batch_size, timeoutMs: s.timeout * 1000 };
}

/** `snake_case` to `camelCase`, as a config key becomes its collector option. */
type Camel<S extends string> = S extends `${infer H}_${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/** The config keys `keys` of `s` as collector options of the same meaning: `cluster_ids` becomes `clusterIds`. */
export function camelKeys<C extends object, K extends keyof C & string>(s: C, keys: readonly K[]): { [P in K as Camel<P>]: C[P] } {
  return Object.fromEntries(keys.map((k) => [k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()), s[k]])) as { [P in K as Camel<P>]: C[P] };
}

/**
 * What the keys more than one source type has do (hovers, the JSON Schema). A key only one type
 * has is documented where its descriptor's schema declares it (`.describe()`).
 */
export const SHARED_KEY_DOCS: Readonly<Record<string, string>> = {
  collector: 'One source (the single-source form). Use `sources:` for several.',
  sources: 'A list of named sources to collect from.',
  name: 'A unique name: it appears in the Sources view, in each record\'s `source`, and selects the source for `collect --name`.',
  batch_size: 'Records written to the database per batch.',
  concurrency: 'How many logs (or requests) are read at once.',
  since: 'Only applications that ended (running ones: started) at or after this date.',
  user: 'Only applications run by this user.',
  zstd_max_window_mb: 'Largest zstd window a .zstd log may need, in MiB (default 128, what zstd itself decodes by default; up to 1024). Memory use grows with it.',
  max_line_mb: `Longest event-log line read, in MiB (default ${DEFAULT_MAX_LINE_MB}; 1 to ${MAX_LINE_MB_LIMIT}). A longer line is skipped with a problem naming it; memory use grows with the limit.`,
  max_decompression_ratio: `Most decompressed bytes per compressed byte of a log, past its first ${RATIO_FREE_BYTES / 2 ** 20} MiB (default ${DEFAULT_MAX_DECOMPRESSION_RATIO}; ${MIN_DECOMPRESSION_RATIO} to ${MAX_DECOMPRESSION_RATIO_LIMIT}). A log over it is stopped as a decompression bomb; real logs compress 5-20x.`,
  max_response_mb: `Largest REST answer read, in MiB (default ${MAX_RESPONSE_MB.default}; ${MAX_RESPONSE_MB.min} to ${MAX_RESPONSE_MB.max}). A larger one is refused, and not asked for again; a History Server list (applications, stages, executors, jobs) is read entry by entry instead: an entry may be as large, and what the list keeps counts, up to a quarter of this.`,
  history_server_url: 'The Spark History Server, e.g. http://history:18080 (the REST API is under /api/v1).',
  token: 'Bearer token: write ${env:VAR} or use the "Set Source Secret" command, never the token itself.',
  timeout: 'Seconds before a request is given up and retried.',
  max_apps: 'At most this many applications per run.',
  endpoint_url: 'Override the service endpoint (VPC endpoints, proxies, emulators).',
  region: 'The cloud region.',
  regression: 'When a run of this source counts as regressed against its earlier runs (baseline_runs, factor, min_increase_seconds, min_increase_mb, min_increase_failed_tasks, min_increase_failed_stages, min_increase_executors); keys left out take the editor\'s sparkOptimizer.regression.* settings, else their defaults.',
  event_log_dir: 'Where the clusters\' Spark event logs are: s3://bucket/prefix (EMR), dbfs:/path (Databricks cluster log delivery) or a local folder. Read with the event-log engine and joined to the platform record.',
};
