/**
 * The History Server source type. Its config becomes collector options here, with secrets resolved
 * from `${env:VAR}`, SPARK_OPTIMIZER_<SOURCE>_{TOKEN,USERNAME,PASSWORD} or the editor's secret storage.
 */
import * as z from 'zod';
import { apiKeys, between, camelKeys, commonApiOptions, headerMap, httpUrl, maxResponseMb, mebibytes, readLimitKeys, readLimitsOf, resolveHeaders, resolveSecret, secret } from '../configKeys';
import { READ_LIMIT_OVERRIDES, apiRunStopped, sourceFlags, type SourceDescriptor } from '../descriptor';
import { withoutUserInfo } from '../../common/secretText';
import { MAX_UNPACKED_MB, MAX_UNPACK_RATIO } from '../http/limits';
import { MAX_TASK_SUMMARIES, TASK_SUMMARY_CONCURRENCY } from './taskSummaryLimits';
import type { HistoryServerAuth } from './client';
import { OVERLAP_MS, RunListing, listedThrough } from './cursor';
import type { HistoryServerOptions } from './collect';

const schema = z
  .object({
    type: z.literal('history_server'),
    ...apiKeys,
    history_server_url: httpUrl,
    mode: z.enum(['api', 'eventlog']).default('api').describe("`api`: read the REST API; `eventlog`: download each application's event log and parse it (the most exact)."),
    username: z.string().min(1).optional().describe('User for HTTP basic authentication.'),
    password: secret.optional().describe('Password for basic authentication: write ${env:VAR} or use the "Set Source Secret" command, never the password itself.'),
    token: secret.optional(),
    headers: headerMap.optional().describe('Extra HTTP headers sent with every request; a value may hold ${env:VAR} references (`Authorization: Bearer ${env:SPARK_HISTORY_TOKEN}`), never a secret itself.'),
    ca_file: z.string().min(1).optional().describe('A PEM file of certificate authorities to trust for HTTPS.'),
    insecure_skip_verify: z.boolean().default(false).describe('Skip TLS certificate checks (only for testing).'),
    status: z.enum(['completed', 'running', 'all']).default('completed').describe('Which applications to collect: completed, running or all.'),
    max_response_mb: maxResponseMb,
    // mode: eventlog: the /logs zip, and the log in it, read by the event-log engine.
    max_unpacked_mb: between(MAX_UNPACKED_MB).describe(
      `mode: eventlog: most bytes one attempt's /logs zip may unpack to, in MiB (default ${MAX_UNPACKED_MB.default}, 64 GiB; ${MAX_UNPACKED_MB.min} to ${MAX_UNPACKED_MB.max}). The download is held to it too.`,
    ),
    max_unpack_ratio: between(MAX_UNPACK_RATIO).describe(`mode: eventlog: most bytes unpacked per byte of a /logs zip that unpacks to over 64 MiB (default ${MAX_UNPACK_RATIO.default}; ${MAX_UNPACK_RATIO.min} to ${MAX_UNPACK_RATIO.max}).`),
    // mode: api: the task-duration quantiles of each stage attempt, one taskSummary request each.
    task_summary_concurrency: between(TASK_SUMMARY_CONCURRENCY).describe(
      `mode: api: task summaries (a stage attempt's task-duration quantiles) asked for at once per application attempt (default ${TASK_SUMMARY_CONCURRENCY.default}; ${TASK_SUMMARY_CONCURRENCY.min} to ${TASK_SUMMARY_CONCURRENCY.max}).`,
    ),
    max_task_summaries: between(MAX_TASK_SUMMARIES).describe(
      `mode: api: most task summaries asked for per application attempt (default ${MAX_TASK_SUMMARIES.default}); past it, stage attempts keep no task-duration quantiles, with one warning. 0 asks for none.`,
    ),
    ...readLimitKeys,
  })
  .strict();
export type HistoryServerSourceConfig = z.infer<typeof schema> & { name: string };

/** Credentials for a History Server: from the config (`${env:VAR}`) or SPARK_OPTIMIZER_<SOURCE>_{TOKEN,USERNAME,PASSWORD}. */
export function historyAuth(source: string, cfg: { username?: string; password?: string; token?: string }): HistoryServerAuth | undefined {
  const prefix = `SPARK_OPTIMIZER_${source}_`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  const env = (k: string): string | undefined => (process.env[prefix + k] === '' ? undefined : process.env[prefix + k]);
  const token = resolveSecret(cfg.token, 'token') ?? env('TOKEN');
  if (token !== undefined) return { type: 'bearer', token };
  const username = cfg.username ?? env('USERNAME');
  const password = resolveSecret(cfg.password, 'password') ?? env('PASSWORD');
  return username !== undefined ? { type: 'basic', username, password: password ?? '' } : undefined;
}

/**
 * Incremental runs: with no `since` of its own, a completed-apps run asks only for applications that
 * ended at or after its cursor (cursor.ts: where the newest complete listing of this server and shard
 * reached) minus an hour's overlap, for applications the server listed late. An application that was
 * still running last time ends after the cursor, so it is fetched again once it finishes.
 */
export function incremental(options: HistoryServerOptions, cursor: string | null): HistoryServerOptions {
  if (options.since !== undefined || cursor === null || (options.status ?? 'completed') !== 'completed') return options;
  const at = Date.parse(cursor);
  if (Number.isNaN(at)) return options;
  return { ...options, since: new Date(at - OVERLAP_MS), cursor };
}

export const historyServerSource = {
  type: 'history_server',
  title: 'Spark History Server',
  cliNames: ['history-server', 'history_server'],
  schema,
  flags: sourceFlags({ flag: 'url', key: 'history_server_url', required: true }, 'mode'),
  usage: '--url URL [--mode api|eventlog] [--status S] [--max-apps N]',
  narrows: "since is asked of the server (minEndDate for completed applications, minDate otherwise); user by the listing's sparkUser, before any attempt is fetched",
  credentials: 'SPARK_OPTIMIZER_HISTORY_SERVER_TOKEN, or _USERNAME and _PASSWORD',
  icon: 'server',
  starter: `  # - name: history
  #   type: history_server
  #   history_server_url: http://localhost:18080
  #   token: \${env:SPARK_HISTORY_TOKEN}   # never write a secret inline
`,
  location: (s) => withoutUserInfo(s.history_server_url),
  takes: ['maxApps', 'status', 'maxResponseBytes', 'maxUnpackedBytes', 'maxUnpackRatio', ...READ_LIMIT_OVERRIDES],
  secret: 'token or password',
  jobs: (s, stored) => {
    // No credentials in the config or the environment: the editor's secret storage.
    const auth = historyAuth(s.name, s) ?? (stored && (s.username ? { type: 'basic' as const, username: s.username, password: stored.secret } : { type: 'bearer' as const, token: stored.secret }));
    return [
      {
        url: s.history_server_url,
        ...commonApiOptions(s),
        ...camelKeys(s, ['mode', 'status', 'ca_file', 'insecure_skip_verify']),
        ...resolveHeaders(s.headers),
        auth,
        maxResponseBytes: mebibytes(s.max_response_mb),
        maxUnpackedBytes: mebibytes(s.max_unpacked_mb),
        maxUnpackRatio: s.max_unpack_ratio,
        taskSummaryConcurrency: s.task_summary_concurrency,
        maxTaskSummaries: s.max_task_summaries,
        ...readLimitsOf(s),
      },
    ];
  },
  incremental,
  cursor(options) {
    const run = new RunListing(options.maxApps !== undefined);
    return { take: (batch) => run.take(batch), reached: () => listedThrough(options, run) };
  },
  skipsUnchangedFiles: true,
  stopped: apiRunStopped,
  collector: async () => (await import('./collect.js')).collectHistoryServer,
} satisfies SourceDescriptor<'history_server', HistoryServerSourceConfig, HistoryServerOptions>;
