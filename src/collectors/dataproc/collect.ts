/**
 * The GCP Dataproc collector: list the region's jobs (`projects.regions.jobs.list`, every page via
 * `pageToken`), keep the Spark kinds (spark, pyspark, spark-sql, sparkR), read each job's cluster once
 * (`clusters.get`: image version, `spark:` properties, machine types) and emit:
 * - with a Persistent History Server (`historyServerUrl`): one record per Spark application the job
 *   ran (on YARN the Spark app id is the YARN app id), read from the History Server and tagged with
 *   the job's and cluster's facts;
 * - otherwise one platform-level record per job (`dataproc-job-<jobId>`): times, status and sizing
 *   only, every Spark metric flagged `missing:`.
 *
 * One bad job (wrong shape, a History Server answer that fails or is refused) is a problem for that
 * job; a deleted or forbidden (403) cluster is a warning and its jobs still arrive. Credentials that do
 * not work (a 401, or a 403 on the listing) stop the run once, naming the credential source tried. A
 * listing that cannot be read is `list-failed` and ends the listing; the jobs being read still arrive.
 * Abort, paging, concurrency, filters and batches are the runner's (api/runner.ts).
 */
import * as z from 'zod';
import { onceEach } from '../api/onceEach';
import { ListingGuard } from '../api/listingGuard';
import { listedMark, notStarted, runApiCollector, type ApiCollectorOptions, type ApiRun, type Page } from '../api/runner';
import { REPLACES_TAG, apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered } from '../contract';
import { HistoryServerClient } from '../historyServer/client';
import { fetchApplication } from '../historyServer/collect';
import { AuthError, HttpError, JsonClient, errorInAnswer, type HttpAuth } from '../http/jsonClient';
import type { Problem } from '../record';
import { inShard } from '../shard';
import { SPARK_KINDS, clusterSchema, dataprocStatus, jobAppId, jobSchema, jobTags, jobTimes, platformRecord, yarnAppId, type Cluster, type Job } from './record';
import { CredentialError, resolveGcpCredentials, scrubSecrets } from './auth';

export interface DataprocOptions extends ApiCollectorOptions {
  /** Default: GOOGLE_CLOUD_PROJECT, GCLOUD_PROJECT or CLOUDSDK_CORE_PROJECT, then the credentials' project. */
  projectId?: string;
  /** Default: CLOUDSDK_DATAPROC_REGION, then `global`. */
  region?: string;
  /** Default: https://{region}-dataproc.googleapis.com (https://dataproc.googleapis.com for `global`). */
  endpointUrl?: string;
  /** An explicit OAuth access token (resolved); otherwise the environment's, then ADC. */
  accessToken?: string;
  /** Where `accessToken` came from, for messages (default: the source's access_token setting); never the token. */
  accessTokenSource?: string;
  /** The Persistent History Server, e.g. https://…-dot-…dataproc.googleusercontent.com/sparkhistory. */
  historyServerUrl?: string;
  /** Jobs per listing page (default 100). */
  pageSize?: number;
  /** `jobStateMatcher` (default all). */
  jobState?: 'all' | 'active' | 'non_active';
  /** Only jobs with these labels (the API's filter: `labels.k = v AND …`). */
  labels?: Record<string, string>;
  /** Only jobs on this cluster (`clusterName`). */
  clusterName?: string;
  maxAttempts?: number;
  backoffMs?: number;
  maxDelayMs?: number;
  /** Largest answer read from the Dataproc API and the History Server, in bytes (jsonClient.ts; default 256 MiB): `max_response_mb`. */
  maxResponseBytes?: number;
  /** Bound on finding credentials and the first token, metadata-server probe included (default 15 s). */
  authTimeoutMs?: number;
}

// ---------------------------------------------------------------------------------------------
// The listing, loosely (the job and its cluster: record.ts).

// `error`: an error answered with status 200 (errorInAnswer).
const listSchema = z.object({ jobs: z.array(z.unknown()).optional(), nextPageToken: z.string().optional(), error: z.unknown().optional() });

const LABEL_PART = /^[\p{Ll}\p{Lo}\p{N}_-]{1,63}$/u;

/** `p`, or the signal's reason as soon as it aborts (finding credentials takes no signal of its own). */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** `auth`, telling `secret` each token it sends, so that no message can quote one. */
function remembered(auth: HttpAuth, secret: (token: string) => void): HttpAuth {
  if (auth.type === 'bearer') secret(auth.token);
  if (auth.type !== 'bearerProvider') return auth;
  return {
    type: 'bearerProvider',
    token: async () => {
      const token = await auth.token();
      secret(token);
      return token;
    },
  };
}

function regionBase(region: string): string {
  return region === 'global' ? 'https://dataproc.googleapis.com' : `https://${region}-dataproc.googleapis.com`;
}

/** The jobs.list query: the API's filter takes only AND (no OR, no parentheses). */
export function listQuery(options: Pick<DataprocOptions, 'jobState' | 'labels' | 'clusterName' | 'pageSize'>, pageToken: string | undefined): string {
  const q = new URLSearchParams();
  q.set('pageSize', String(Math.min(1000, Math.max(1, options.pageSize ?? 100))));
  const state = options.jobState ?? 'all';
  q.set('jobStateMatcher', state.toUpperCase());
  if (options.clusterName !== undefined) q.set('clusterName', options.clusterName);
  const clauses: string[] = [];
  // With a filter the API ignores jobStateMatcher, so the state goes into the filter too.
  if (state !== 'all' && options.labels !== undefined && Object.keys(options.labels).length > 0) clauses.push(`status.state = ${state.toUpperCase()}`);
  for (const [k, v] of Object.entries(options.labels ?? {})) clauses.push(`labels.${k} = ${v}`);
  if (clauses.length > 0) q.set('filter', clauses.join(' AND '));
  if (pageToken !== undefined) q.set('pageToken', pageToken);
  return q.toString();
}

interface Listed {
  job: Job;
  kind: (typeof SPARK_KINDS)[number][0];
  kindName: string;
}

/** A region's Dataproc API (and the History Server, when there is one), with the credentials found for it. */
interface Region {
  apiBase: string;
  api: JsonClient;
  hs: HistoryServerClient | undefined;
  projectId: string;
  region: string;
  /** `v1/projects/<project>/regions/<region>` */
  path: string;
  /** Where the credentials came from, for messages (never the token). */
  credentials: string;
}

/**
 * The credentials a Persistent History Server is sent: the collection's Google credentials when it is
 * reached through the cluster's Component Gateway (https, a `*.dataproc.googleusercontent.com` host),
 * which lets in only those with `dataproc.clusters.use`; none otherwise (a server reached through an
 * SSH tunnel or on the network needs none, and a Google token must not go to any other host).
 */
export function historyServerAuth(url: string, google: HttpAuth): HttpAuth | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.hostname.toLowerCase().endsWith('.dataproc.googleusercontent.com') ? google : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The clients of one collection, credentials first; what stops it (a label the API's filter cannot
 * take, no credentials, no project) is returned as problems, nothing sent.
 */
async function connect(options: DataprocOptions, ctx: CollectContext, clean: (text: string) => string, secret: (token: string) => void): Promise<Region | { problems: Problem[] }> {
  const region = options.region ?? (process.env.CLOUDSDK_DATAPROC_REGION || 'global');
  const apiBase = (options.endpointUrl ?? regionBase(region)).replace(/\/+$/, '');
  for (const [k, v] of Object.entries(options.labels ?? {})) {
    if (!LABEL_PART.test(k) || !LABEL_PART.test(v)) {
      return { problems: [{ severity: 'error', code: 'list-failed', message: `label ${JSON.stringify(k)}=${JSON.stringify(v)} cannot be used in a Dataproc filter (lowercase letters, digits, _ and - only)`, file: apiBase }] };
    }
  }
  let creds;
  try {
    creds = await abortable(resolveGcpCredentials({ accessToken: options.accessToken, accessTokenSource: options.accessTokenSource, timeoutMs: options.authTimeoutMs }), ctx.signal);
  } catch (err) {
    ctx.signal?.throwIfAborted();
    const message = err instanceof CredentialError ? err.message : `finding Google Cloud credentials failed: ${err instanceof Error ? err.message : String(err)}`;
    return { problems: [{ severity: 'error', code: 'auth-failed', message: `${clean(message)}; stopping the run`, file: apiBase }] };
  }
  const projectId = options.projectId ?? creds.projectId;
  if (projectId === null || projectId === '') {
    return { problems: [{ severity: 'error', code: 'list-failed', message: `no Google Cloud project: set project_id in the source (--project), or GOOGLE_CLOUD_PROJECT / CLOUDSDK_CORE_PROJECT (credentials: ${creds.description} name none)`, file: apiBase }] };
  }
  const http = { timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs, maxDelayMs: options.maxDelayMs, maxResponseBytes: options.maxResponseBytes };
  return {
    apiBase,
    api: new JsonClient({ baseUrl: apiBase, auth: remembered(creds.auth, secret), ...http }),
    hs: options.historyServerUrl !== undefined ? new HistoryServerClient({ url: options.historyServerUrl, ...http, auth: historyServerAuth(options.historyServerUrl, remembered(creds.auth, secret)) }) : undefined,
    projectId,
    region,
    path: `v1/projects/${encodeURIComponent(projectId)}/regions/${encodeURIComponent(region)}`,
    credentials: creds.description,
  };
}

/**
 * The region's jobs, a page at a time: entries of the wrong shape are problems; jobs that are not
 * Spark (Hadoop, Hive, Pig, Presto/Trino, Flink) are counted in `notSpark` by kind, the run's shard's
 * only: they are not "skipped", which is what since and user leave out.
 */
async function* listJobs(r: Region, options: DataprocOptions, signal: AbortSignal, notSpark: Map<string, number>, scrub: (text: string) => string): AsyncGenerator<Page<Listed>> {
  const jobsPath = `${r.path}/jobs`;
  let token: string | undefined;
  const guard = new ListingGuard<string>('pageToken');
  for (;;) {
    const path = `${jobsPath}?${listQuery(options, token)}`;
    const page = await r.api.getJson(path, listSchema, signal);
    const error = errorInAnswer(page, scrub);
    if (error !== undefined) throw new Error(`the answer (HTTP 200) is an error: ${error}`);
    const jobs: { job: Job; entry: unknown }[] = [];
    const problems: Problem[] = [];
    for (const [i, entry] of (page.jobs ?? []).entries()) {
      const parsed = jobSchema.safeParse(entry);
      if (parsed.success) {
        jobs.push({ job: parsed.data, entry });
        continue;
      }
      const ref = (entry as { reference?: { jobId?: unknown } } | null)?.reference?.jobId;
      const id = typeof ref === 'string' ? `job ${ref}` : `entry ${i}`;
      const issue = parsed.error.issues[0];
      problems.push({ severity: 'error', code: 'job-invalid', message: `jobs list: ${id}: unexpected shape at ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`, file: r.api.urlOf(path) });
    }
    // A next token seen before, or a page of jobs all listed before, stops the listing (list-failed)
    // before this page's jobs are fetched or counted: the server is not paging (a review: the
    // repeated page's jobs were fetched, then the listing stopped).
    token = guard.token(page.nextPageToken);
    const items: Listed[] = [];
    for (const { job, entry } of guard.fresh(jobs, (j) => j.job.reference.jobId, token !== undefined)) {
      const kind = SPARK_KINDS.find(([k]) => job[k] !== undefined);
      if (kind !== undefined) items.push({ job, kind: kind[0], kindName: kind[1] });
      else if (inShard(job.reference.jobId, options.shard)) {
        const other = jobKind(entry);
        notSpark.set(other, (notSpark.get(other) ?? 0) + 1);
      }
    }
    yield { items, problems };
    if (token === undefined) return;
  }
}

/** What a job that is not Spark runs, from its `<kind>Job` field (`hiveJob`: hive). */
function jobKind(entry: unknown): string {
  const key = Object.keys(entry as object).find((k) => k.endsWith('Job') && k.length > 3);
  return key === undefined ? 'unknown kind' : key.slice(0, -3);
}

/** The one info line that tells the jobs that are not Spark, by kind, as EMR tells its steps that are not. */
function notSparkNote(notSpark: Map<string, number>, where: string): Problem | undefined {
  const total = [...notSpark.values()].reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const kinds = [...notSpark].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const named = kinds.slice(0, 5).map(([k, n]) => `${k} ${n}`).join(', ') + (kinds.length > 5 ? `, ${kinds.length - 5} other kinds` : '');
  return { severity: 'info', code: 'dataproc-not-spark-jobs', message: `not Spark jobs: ${total} (${named}); they are none of ${SPARK_KINDS.map(([k]) => k).join(', ')}: no Spark application to store`, file: where };
}

/** What one collection reads besides the jobs: each cluster once, and the History Server's applications. */
class JobReads {
  /**
   * Each cluster is read once; a failure other than credentials is a warning, said once. A 403 here
   * is a permission on that one cluster (IAM conditions can differ per cluster), not bad
   * credentials: only a 401, or a credential source that stops giving tokens, stops the run.
   */
  private readonly cluster = onceEach(async (name): Promise<Cluster | null> => {
    const path = `${this.r.path}/clusters/${encodeURIComponent(name)}`;
    try {
      return await this.r.api.getJson(path, clusterSchema, this.run.signal);
    } catch (err) {
      if (err instanceof CredentialError || (err instanceof AuthError && err.status !== 403) || this.run.signal.aborted) throw err;
      const deleted = err instanceof HttpError && err.status === 404;
      const forbidden = err instanceof AuthError;
      if (!deleted && !forbidden) this.unread.add(name);
      const detail = err instanceof Error ? err.message : String(err);
      this.run.problem({
        severity: 'warning',
        code: deleted ? 'cluster-missing' : forbidden ? 'cluster-forbidden' : 'cluster-failed',
        message: deleted ? `cluster ${name} no longer exists (HTTP 404): its jobs are stored without cluster facts` : `cluster ${name}: ${detail}${forbidden ? ` (credentials: ${this.r.credentials})` : ''}; its jobs are stored without cluster facts`,
        file: this.r.api.urlOf(path),
      });
      return null;
    }
  });

  /** Clusters that could not be read for a reason that may pass (not deleted, not forbidden): their jobs are read again next run. */
  readonly unread = new Set<string>();

  constructor(
    private readonly r: Region,
    private readonly run: ApiRun,
    private readonly source: string,
  ) {}

  /** One job's records: its Spark applications from the History Server, else its platform-level record. */
  async read({ job, kind, kindName }: Listed): Promise<CollectedApp[]> {
    const where = this.r.api.urlOf(`${this.r.path}/jobs/${encodeURIComponent(job.reference.jobId)}`);
    const name = job.placement?.clusterName;
    const problems: Problem[] = [];
    let info = name !== undefined && name !== '' ? await this.cluster(name) : null;
    // Clusters are read by name: one deleted and recreated under the same name is another cluster,
    // whose image and sizing say nothing about this job.
    const jobUuid = job.placement?.clusterUuid;
    if (info !== null && jobUuid !== undefined && jobUuid !== '' && info.clusterUuid !== undefined && info.clusterUuid !== jobUuid) {
      problems.push({
        severity: 'warning',
        code: 'cluster-replaced',
        message: `job ${job.reference.jobId} ran on cluster ${name} ${jobUuid}, but that name is now cluster ${info.clusterUuid} (deleted and recreated): the job is stored without cluster facts`,
        file: where,
      });
      info = null;
    }
    const appIds = [...new Set((job.yarnApplications ?? []).map((a) => yarnAppId(a.trackingUrl)).filter((id): id is string => id !== null))];
    const tags = jobTags(job, kindName, info, this.r.projectId, this.r.region, appIds);
    const fromHistory = await this.historyApps(job, appIds, tags, problems);
    if (fromHistory.length > 0) {
      if (problems.length > 0) fromHistory[0]!.problems.push(...problems);
      return fromHistory;
    }
    const record = platformRecord(job, kind, info, tags, this.source, problems, where);
    return [{ record, problems, files: [], provenance: apiProvenance(where) }];
  }

  /** The job's applications on the Persistent History Server, with the job's tags; what fails is a problem of the job. */
  private async historyApps(job: Job, appIds: string[], tags: Record<string, string>, problems: Problem[]): Promise<CollectedApp[]> {
    const hs = this.r.hs;
    const out: CollectedApp[] = [];
    if (hs === undefined) return out;
    for (const appId of appIds) {
      try {
        for (const app of await fetchApplication(hs, appId, this.source, this.run.signal)) {
          // It replaces the job's platform-level record, stored while the History Server was out of reach (or later, once it is again).
          out.push({ ...app, record: { ...app.record, tags: { ...app.record.tags, ...tags, origin: 'dataproc+history_server', [REPLACES_TAG]: jobAppId(job) } } });
        }
      } catch (err) {
        if (this.run.signal.aborted) throw err;
        // The History Server has its own access control (Component Gateway, a proxy): its 401/403 says
        // nothing about the GCP credentials, so it is this job's problem and the job keeps its platform record.
        const missing = err instanceof HttpError && err.status === 404;
        problems.push(
          err instanceof AuthError
            ? { severity: 'warning', code: 'history-forbidden', message: `job ${job.reference.jobId}: the History Server refused application ${appId} (HTTP ${err.status}); the job is stored as its platform-level record`, file: hs.urlOf(`applications/${appId}`) }
            : {
                severity: 'warning',
                code: missing ? 'history-missing' : 'history-failed',
                message: `job ${job.reference.jobId}: application ${appId} ${missing ? 'is not on the History Server (HTTP 404)' : `could not be read from the History Server: ${err instanceof Error ? err.message : String(err)}`}`,
                file: hs.urlOf(`applications/${appId}`),
              },
        );
      }
    }
    return out;
  }
}

export async function* collectDataproc(options: DataprocOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'dataproc';
  // The credential values in use, the tokens ADC issues included (each as it is issued).
  const secrets = new Set([options.accessToken, process.env.GOOGLE_OAUTH_ACCESS_TOKEN, process.env.CLOUDSDK_AUTH_ACCESS_TOKEN].filter((s): s is string => s !== undefined && s !== ''));
  const clean = (text: string): string => scrubSecrets(text, ...secrets);
  const r = await connect(options, ctx, clean, (token) => secrets.add(token));
  if ('problems' in r) {
    yield* notStarted(r.problems, ctx);
    return;
  }
  const jobsPath = `${r.path}/jobs`;
  yield* runApiCollector<Listed, CollectedApp[]>(options, ctx, (run) => {
    const reads = new JobReads(r, run, source);
    const notSpark = new Map<string, number>();
    return {
      maxApps: 'items',
      // A job's Spark applications are found through it: they go with it, by its job id.
      shard: { unit: 'job', key: ({ job }) => job.reference.jobId },
      scrub: clean,
      bytesRead: () => r.api.bytesRead + (r.hs?.bytesRead ?? 0),
      list: () => listJobs(r, options, run.signal, notSpark, clean),
      // `since` needs no cluster or History Server answer: old jobs are left out before fetching anything.
      // A job with neither time (queued: PENDING) is not known to be old: the record decides, as
      // Databricks' sinceTime does (a review: every queued job was dropped under --since as skipped).
      listed: ({ job }) => {
        const t = jobTimes(job);
        return { time: t.end ?? t.start ?? undefined };
      },
      // A finished job the store holds with the same state and end time is not read again (no
      // clusters.get); not with a History Server, whose applications may be there later.
      held: ({ job }) => {
        const end = jobTimes(job).end;
        return options.historyServerUrl === undefined && end !== null && dataprocStatus(job.status.state) !== 'running' ? listedMark(r.api.urlOf(`${jobsPath}/${encodeURIComponent(job.reference.jobId)}`), end, job.status.state) : null;
      },
      fetch: (item) => reads.read(item),
      found: (apps, { job }) => {
        const incomplete = reads.unread.has(job.placement?.clusterName ?? '');
        return apps.map((app) => ({ apps: [app], ...(incomplete ? { incomplete: true as const } : {}) }));
      },
      finish: () => {
        const note = notSparkNote(notSpark, r.api.urlOf(jobsPath));
        if (note !== undefined) run.problem(note);
        return [];
      },
      // A 401 (or a 403 that escapes a job: the listing's), or a credential source that stops giving tokens.
      refused: (err) => {
        if (err instanceof AuthError) return { severity: 'error', code: 'auth-failed', message: `${err.message} (credentials: ${r.credentials}); stopping the run`, file: r.api.urlOf(err.path) };
        if (err instanceof CredentialError) return { severity: 'error', code: 'auth-failed', message: `${err.message}; stopping the run`, file: r.apiBase };
        return undefined;
      },
      listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: `listing Dataproc jobs failed: ${err.message}`, file: r.api.urlOf(jobsPath) }),
      failed: ({ job }, err) => ({ severity: 'error', code: 'job-failed', message: `job ${job.reference.jobId}: ${err.message}`, file: r.api.urlOf(`${jobsPath}/${encodeURIComponent(job.reference.jobId)}`) }),
      close: async () => {
        await r.api.close();
        await r.hs?.close();
      },
    };
  });
}

/** Everything one Dataproc collection found; for tests and small runs. */
export function collectDataprocAll(options: DataprocOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectDataproc(options, ctx));
}
