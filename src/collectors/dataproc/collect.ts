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
 * not work (a 401, or a 403 on the listing) stop the run once, naming the credential source tried; so
 * does a listing that cannot be read.
 */
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { Batcher, pooled, type ApiCollectorOptions } from '../batching';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered } from '../contract';
import { HistoryServerClient } from '../historyServer/client';
import { fetchApplication } from '../historyServer/collect';
import { AuthError, HttpError, JsonClient } from '../http/jsonClient';
import { matchesFilter, type Problem } from '../record';
import { SPARK_KINDS, clusterSchema, jobSchema, jobTags, jobTimes, platformRecord, yarnAppId, type Cluster, type Job } from './record';
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

const listSchema = z.object({ jobs: z.array(z.unknown()).optional(), nextPageToken: z.string().optional() });

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

export async function* collectDataproc(options: DataprocOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'dataproc';
  const batcher = new Batcher(options.batchSize ?? 100);
  const progress = batcher.progress;
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const region = options.region ?? (process.env.CLOUDSDK_DATAPROC_REGION || 'global');
  const apiBase = (options.endpointUrl ?? regionBase(region)).replace(/\/+$/, '');
  // Made once the credentials are known; progress reads their byte counts.
  const clients: { api?: JsonClient; hs?: HistoryServerClient } = {};
  const report = (): void => ctx.onProgress?.({ ...progress, bytesRead: (clients.api?.bytesRead ?? 0) + (clients.hs?.bytesRead ?? 0) });
  const secrets = [options.accessToken, process.env.GOOGLE_OAUTH_ACCESS_TOKEN, process.env.CLOUDSDK_AUTH_ACCESS_TOKEN];
  const clean = (text: string): string => scrubSecrets(text, ...secrets);

  for (const [k, v] of Object.entries(options.labels ?? {})) {
    if (!LABEL_PART.test(k) || !LABEL_PART.test(v)) {
      batcher.problem({ severity: 'error', code: 'list-failed', message: `label ${JSON.stringify(k)}=${JSON.stringify(v)} cannot be used in a Dataproc filter (lowercase letters, digits, _ and - only)`, file: apiBase });
      yield batcher.take();
      return;
    }
  }

  let creds;
  try {
    creds = await abortable(resolveGcpCredentials({ accessToken: options.accessToken, accessTokenSource: options.accessTokenSource, timeoutMs: options.authTimeoutMs }), ctx.signal);
  } catch (err) {
    ctx.signal?.throwIfAborted();
    const message = err instanceof CredentialError ? err.message : `finding Google Cloud credentials failed: ${err instanceof Error ? err.message : String(err)}`;
    batcher.problem({ severity: 'error', code: 'auth-failed', message: `${clean(message)}; stopping the run`, file: apiBase });
    yield batcher.take();
    return;
  }
  const projectId = options.projectId ?? creds.projectId;
  if (projectId === null || projectId === '') {
    batcher.problem({ severity: 'error', code: 'list-failed', message: `no Google Cloud project: set project_id in the source (--project), or GOOGLE_CLOUD_PROJECT / CLOUDSDK_CORE_PROJECT (credentials: ${creds.description} name none)`, file: apiBase });
    yield batcher.take();
    return;
  }

  const http = { timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs, maxDelayMs: options.maxDelayMs, maxResponseBytes: options.maxResponseBytes };
  const api = new JsonClient({ baseUrl: apiBase, auth: creds.auth, ...http });
  const hs = options.historyServerUrl !== undefined ? new HistoryServerClient({ url: options.historyServerUrl, ...http }) : undefined;
  clients.api = api;
  clients.hs = hs;
  const jobsPath = `v1/projects/${encodeURIComponent(projectId)}/regions/${encodeURIComponent(region)}/jobs`;
  const authProblem = (err: AuthError | CredentialError): Problem => {
    const detail = err instanceof AuthError ? `${err.message} (credentials: ${creds.description})` : err.message;
    return { severity: 'error', code: 'auth-failed', message: `${clean(detail)}; stopping the run`, file: err instanceof AuthError ? api.urlOf(err.path) : apiBase };
  };

  // A private controller: an auth failure cancels the other requests in flight.
  const controller = new AbortController();
  setMaxListeners(concurrency * 6 + 10, controller.signal);
  const onAbort = (): void => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let stopped = false;
  const stop = (p: Problem): void => {
    if (stopped) return;
    stopped = true;
    batcher.problem(p);
    controller.abort(new Error(p.message));
  };
  const isAuth = (err: unknown): err is AuthError | CredentialError => err instanceof AuthError || err instanceof CredentialError;

  const client = api;
  async function* pages(): AsyncGenerator<Listed[]> {
    let token: string | undefined;
    let remaining = options.maxApps ?? Infinity;
    const seenTokens = new Set<string>();
    for (;;) {
      const path = `${jobsPath}?${listQuery(options, token)}`;
      let page: z.infer<typeof listSchema>;
      try {
        page = await client.getJson(path, listSchema, controller.signal);
      } catch (err) {
        if (ctx.signal?.aborted || stopped) return;
        if (isAuth(err)) stop(authProblem(err));
        else stop({ severity: 'error', code: 'list-failed', message: `listing Dataproc jobs failed: ${clean(err instanceof Error ? err.message : String(err))}`, file: client.urlOf(jobsPath) });
        return;
      }
      const out: Listed[] = [];
      for (const [i, entry] of (page.jobs ?? []).entries()) {
        const parsed = jobSchema.safeParse(entry);
        if (!parsed.success) {
          const ref = (entry as { reference?: { jobId?: unknown } } | null)?.reference?.jobId;
          const id = typeof ref === 'string' ? `job ${ref}` : `entry ${i}`;
          const issue = parsed.error.issues[0];
          batcher.problem({ severity: 'error', code: 'job-invalid', message: `jobs list: ${id}: unexpected shape at ${issue?.path.join('.') || '(top)'}: ${issue?.message ?? 'invalid'}`, file: client.urlOf(path) });
          continue;
        }
        const job = parsed.data;
        const kind = SPARK_KINDS.find(([k]) => job[k] !== undefined);
        if (kind === undefined) {
          // Hadoop, Hive, Pig, Presto/Trino, Flink jobs: not Spark.
          batcher.filtered();
          continue;
        }
        // `since` needs no cluster or History Server answer: drop old jobs before fetching anything.
        if (options.since !== undefined) {
          const t = jobTimes(job);
          const when = t.end ?? t.start;
          if (when === null || when < options.since.getTime()) {
            batcher.filtered();
            continue;
          }
        }
        if (remaining <= 0) break;
        remaining--;
        out.push({ job, kind: kind[0], kindName: kind[1] });
      }
      progress.logsFound += out.length;
      report();
      yield out;
      token = page.nextPageToken === '' ? undefined : page.nextPageToken;
      if (token === undefined || remaining <= 0 || stopped) return;
      if (seenTokens.has(token)) {
        stop({ severity: 'error', code: 'list-failed', message: `listing stopped: the server gave page token ${JSON.stringify(token.slice(0, 40))} twice`, file: client.urlOf(jobsPath) });
        return;
      }
      seenTokens.add(token);
    }
  }

  // Each cluster is read once; a failure other than credentials is a warning, said once. A 403 here is
  // a permission on that one cluster (IAM conditions can differ per cluster), not bad credentials: only
  // a 401, or a credential source that stops giving tokens, stops the run.
  const clusters = new Map<string, Promise<Cluster | null>>();
  const cluster = (name: string): Promise<Cluster | null> => {
    let p = clusters.get(name);
    if (p === undefined) {
      const path = `v1/projects/${encodeURIComponent(projectId)}/regions/${encodeURIComponent(region)}/clusters/${encodeURIComponent(name)}`;
      p = client.getJson(path, clusterSchema, controller.signal).catch((err: unknown) => {
        if (err instanceof CredentialError || (err instanceof AuthError && err.status !== 403) || ctx.signal?.aborted) throw err;
        const deleted = err instanceof HttpError && err.status === 404;
        const forbidden = err instanceof AuthError;
        const detail = clean(err instanceof Error ? err.message : String(err));
        batcher.problem({
          severity: 'warning',
          code: deleted ? 'cluster-missing' : forbidden ? 'cluster-forbidden' : 'cluster-failed',
          message: deleted ? `cluster ${name} no longer exists (HTTP 404): its jobs are stored without cluster facts` : `cluster ${name}: ${detail}${forbidden ? ` (credentials: ${creds.description})` : ''}; its jobs are stored without cluster facts`,
          file: client.urlOf(path),
        });
        return null;
      });
      clusters.set(name, p);
    }
    return p;
  };

  const fetchJob = async ({ job, kind, kindName }: Listed): Promise<CollectedApp[]> => {
    const where = client.urlOf(`${jobsPath}/${encodeURIComponent(job.reference.jobId)}`);
    const name = job.placement?.clusterName;
    const problems: Problem[] = [];
    let info = name !== undefined && name !== '' ? await cluster(name) : null;
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
    const tags = jobTags(job, kindName, info, projectId, region, appIds);
    if (hs !== undefined && appIds.length > 0) {
      const out: CollectedApp[] = [];
      for (const appId of appIds) {
        try {
          for (const app of await fetchApplication(hs, appId, source, controller.signal)) {
            out.push({ ...app, record: { ...app.record, tags: { ...app.record.tags, ...tags, origin: 'dataproc+history_server' } } });
          }
        } catch (err) {
          if (ctx.signal?.aborted) throw err;
          // The History Server has its own access control (Component Gateway, a proxy): its 401/403 says
          // nothing about the GCP credentials, so it is this job's problem and the job keeps its platform record.
          if (err instanceof AuthError) {
            problems.push({
              severity: 'warning',
              code: 'history-forbidden',
              message: `job ${job.reference.jobId}: the History Server refused application ${appId} (HTTP ${err.status}); the job is stored as its platform-level record`,
              file: hs.urlOf(`applications/${appId}`),
            });
            continue;
          }
          const missing = err instanceof HttpError && err.status === 404;
          problems.push({
            severity: 'warning',
            code: missing ? 'history-missing' : 'history-failed',
            message: `job ${job.reference.jobId}: application ${appId} ${missing ? 'is not on the History Server (HTTP 404)' : `could not be read from the History Server: ${clean(err instanceof Error ? err.message : String(err))}`}`,
            file: hs.urlOf(`applications/${appId}`),
          });
        }
      }
      if (out.length > 0) {
        if (problems.length > 0) out[0]!.problems.push(...problems);
        return out;
      }
    }
    const record = platformRecord(job, kind, info, tags, source, problems, where);
    return [{ record, problems, files: [], provenance: apiProvenance(where) }];
  };

  try {
    for await (const done of pooled(pages(), fetchJob, concurrency, () => stopped)) {
      progress.logsDone++;
      if ('error' in done) {
        if (ctx.signal?.aborted) throw done.error;
        if (isAuth(done.error)) stop(authProblem(done.error));
        else if (!stopped) batcher.problem({ severity: 'error', code: 'job-failed', message: `job ${done.item.job.reference.jobId}: ${clean(done.error.message)}`, file: client.urlOf(`${jobsPath}/${encodeURIComponent(done.item.job.reference.jobId)}`) });
      } else {
        for (const app of done.result) {
          if (matchesFilter(app.record, options)) batcher.app(app);
          else batcher.filtered();
        }
      }
      report();
      if (batcher.full) yield batcher.take();
    }
    ctx.signal?.throwIfAborted();
    if (!batcher.empty) yield batcher.take();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    await api.close();
    await hs?.close();
  }
}

/** Everything one Dataproc collection found; for tests and small runs. */
export function collectDataprocAll(options: DataprocOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectDataproc(options, ctx));
}
