/**
 * One place that knows every source type: from a configured source to the jobs that collect it, and
 * from a job to its collector. The CLI, the collection worker and the extension all go through here,
 * so adding a source type is one entry in each switch below and nothing elsewhere (an API source's
 * collector also gets a file of its own in scripts/build.mjs; without one it is bundled inline).
 */
import { mebibytes, type SourceConfig } from './config';
import type { DatabricksOptions } from './databricks/collect';
import { databricksOptions } from './databricks/plan';
import type { DataprocOptions } from './dataproc/collect';
import { dataprocOptions } from './dataproc/plan';
import type { EmrOptions } from './emr/collect';
import { emrOptions } from './emr/plan';
import { collectEventLogs, type EventLogOptions } from './eventlog/collect';
import { type Batch, type CollectContext } from './contract';
import type { HistoryServerOptions } from './historyServer/collect';
import { historyPlan } from './historyServer/plan';
import type { Problem } from './record';

/** What one collection run reads; options are plain data (they are posted to a worker thread). */
export type SourceJob =
  | { kind: 'event_log'; name: string; options: EventLogOptions }
  | { kind: 'history_server'; name: string; options: HistoryServerOptions }
  | { kind: 'emr'; name: string; options: EmrOptions }
  | { kind: 'databricks'; name: string; options: DatabricksOptions }
  | { kind: 'dataproc'; name: string; options: DataprocOptions };

export type ApiJob = Exclude<SourceJob, { kind: 'event_log' }>;

/** Credentials the editor keeps in its secret storage for a source (the CLI has none). */
export interface StoredSecret {
  secret: string;
  /** How to name it in messages, e.g. "the editor's secret storage (source 'prod')". */
  from: string;
}

/** The jobs of one configured source: one per event-log path, one for any other source. Throws on a `${env:VAR}` that is not set. */
export function jobsFor(s: SourceConfig, stored?: StoredSecret): SourceJob[] {
  switch (s.type) {
    case 'event_log':
      return [s.path].flat().map((p) => ({
        kind: 'event_log',
        name: s.name,
        options: {
          path: p,
          recursive: s.recursive,
          batchSize: s.batch_size,
          concurrency: s.concurrency,
          since: s.since ? new Date(s.since) : undefined,
          user: s.user,
          source: s.name,
          maxZstdWindowMb: s.zstd_max_window_mb,
          maxLineBytes: mebibytes(s.max_line_mb),
          maxDecompressionRatio: s.max_decompression_ratio,
        },
      }));
    case 'history_server': {
      const plan = historyPlan(s);
      // No credentials in the config or the environment: the editor's secret storage.
      if (!plan.options.auth && stored) plan.options.auth = s.username ? { type: 'basic', username: s.username, password: stored.secret } : { type: 'bearer', token: stored.secret };
      return [{ kind: 'history_server', name: s.name, options: plan.options }];
    }
    case 'emr':
      return [{ kind: 'emr', name: s.name, options: emrOptions(s) }];
    case 'databricks':
      return [{ kind: 'databricks', name: s.name, options: databricksOptions(s, stored && { token: stored.secret, from: `token from ${stored.from}` }) }];
    case 'dataproc': {
      const options = dataprocOptions(s);
      return [{ kind: 'dataproc', name: s.name, options: options.accessToken === undefined && stored ? { ...options, accessToken: stored.secret, accessTokenSource: `token from ${stored.from}` } : options }];
    }
  }
}

/** The collector of a job. */
export function collectSource(job: SourceJob, ctx: CollectContext): AsyncGenerator<Batch> {
  return job.kind === 'event_log' ? collectEventLogs(job.options, ctx) : collectApi(job, ctx);
}

/**
 * The API collectors are imported when a job of theirs runs: together with undici, the AWS SDK and
 * google-auth-library they are ~3.5 MB of code that every CLI command and every activation used to
 * load first (issue #12). scripts/build.mjs bundles each of these imports as a file of its own.
 */
async function* collectApi(job: ApiJob, ctx: CollectContext): AsyncGenerator<Batch> {
  yield* await apiCollector(job, ctx);
}

async function apiCollector(job: ApiJob, ctx: CollectContext): Promise<AsyncGenerator<Batch>> {
  switch (job.kind) {
    case 'history_server':
      return (await import('./historyServer/collect.js')).collectHistoryServer(job.options, ctx);
    case 'emr':
      return (await import('./emr/collect.js')).collectEmr(job.options, ctx);
    case 'databricks':
      return (await import('./databricks/collect.js')).collectDatabricks(job.options, ctx);
    case 'dataproc':
      return (await import('./dataproc/collect.js')).collectDataproc(job.options, ctx);
  }
}

/** Problems after which a source's run stopped early: wrong credentials, an unreadable listing or path, a source that cannot start. */
export function stoppedRun(job: SourceJob, problems: readonly Problem[]): boolean {
  if (job.kind === 'event_log') return problems.some((p) => p.code === 'path-unreadable' && p.file === job.options.path);
  return problems.some((p) => p.code === 'auth-failed' || p.code === 'list-failed' || p.code === 'config');
}

const SECRET_OPTION = /token|secret|password|credential|auth|headers/i;

/** The URL as written, without a `user:password@` part. */
function withoutUserInfo(u: string): string {
  return u.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, '$1');
}

/** What a run record keeps of a job's options: never credentials or headers (they may hold secrets), URLs without user info, times as ISO text. */
export function recordedOptions(job: SourceJob): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(job.options)) {
    if (v === undefined) continue;
    if (SECRET_OPTION.test(k)) {
      // Which kind of credential, never its value.
      if (k === 'auth' && typeof v === 'object' && v !== null && 'type' in v) out.auth = (v as { type: string }).type;
      if (k === 'tokenSource' && typeof v === 'string') out.tokenSource = v;
      continue;
    }
    out[k] = v instanceof Date ? v.toISOString() : typeof v === 'string' && /^https?:\/\//.test(v) ? withoutUserInfo(v) : v;
  }
  return out;
}

/** Where a source reads from, in a few words (the Sources view, logs); never a password written into a URL. */
export function sourceLocation(s: SourceConfig): string {
  switch (s.type) {
    case 'event_log':
      return [s.path].flat().join(', ');
    case 'history_server':
      return withoutUserInfo(s.history_server_url);
    case 'emr':
      return `EMR ${s.region ?? '(default region)'}${s.endpoint_url ? ` at ${s.endpoint_url}` : ''}`;
    case 'databricks':
      return s.endpoint_url ?? s.host ?? 'the workspace in DATABRICKS_HOST';
    case 'dataproc':
      return `Dataproc ${s.project_id ?? '(default project)'} / ${s.region ?? 'global'}${s.endpoint_url ? ` at ${s.endpoint_url}` : ''}`;
  }
}
