/**
 * The Databricks collector: list job runs through the Jobs API 2.1 (`jobs/runs/list`, all pages via
 * `page_token`), read each run's clusters (`clusters/get`, once per cluster id: many runs share an
 * all-purpose cluster), and store one record per run, flagged `platform_level` because the Jobs API
 * knows times and sizing but no Spark metrics. A run on an autoscaling cluster reads the cluster's
 * events (`clusters/events`) over the run's window: the most workers seen is its num_executors.
 * When the clusters' event logs are reachable (cluster
 * log delivery synced to a local folder, or a `dbfs:/` folder read through the DBFS API), the Spark
 * applications of the run's Spark context are stored instead, with the run's facts in their tags.
 *
 * One bad run (malformed entry, cluster that cannot be read) becomes a problem and the others still
 * arrive. A refused token (401 anywhere, or 401/403 on the runs listing) is reported once, naming
 * where the token came from, and stops the run; so does a listing that cannot be read. A 403 on one
 * cluster, run or DBFS path (cluster ACLs) is only a problem of the runs it concerns. The token is
 * never part of any output.
 */
import { setMaxListeners } from 'node:events';
import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { Batcher, pooled, type ApiCollectorOptions } from '../batching';
import { collectAll } from '../eventlog/collect';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered } from '../contract';
import { AuthError, HttpError, JsonClient, ResponseError, type HttpAuth } from '../http/jsonClient';
import { oauthTokenProvider } from './credentials';
import { matchesFilter, timeFault, type Problem, type SparkAppRecord } from '../record';
import { clusterSchema, epoch, platformRecord, runClusters, runSchema, runStatus, runTags, type Cluster, type ClusterSpec, type Run, type WorkersSeen } from './record';

export interface DatabricksOptions extends ApiCollectorOptions {
  /** Overrides the workspace URL (proxies, tests); wins over `host`. */
  endpointUrl?: string;
  /** The workspace URL; without it (and without endpointUrl) DATABRICKS_HOST is read. */
  host?: string;
  /** Where `host` came from, for messages ("DATABRICKS_HOST", "the source's host"). */
  hostSource?: string;
  /** A personal access token or OAuth access token; without it DATABRICKS_TOKEN is read. */
  token?: string;
  /** Where the token came from, named when it is refused ("token from DATABRICKS_TOKEN"). */
  tokenSource?: string;
  /**
   * A service principal's OAuth client id, for machine-to-machine OAuth when there is no token;
   * without it DATABRICKS_CLIENT_ID is read. Not a secret: named in messages.
   */
  clientId?: string;
  /** The client's secret (plain data: the token source is built in the collector); without it DATABRICKS_CLIENT_SECRET. */
  clientSecret?: string;
  /** Where the client came from, named when it is refused ("OAuth client <id> (DATABRICKS_CLIENT_ID)"). */
  clientSource?: string;
  /** The token could not be resolved (a `${env:VAR}` that is not set): reported, no request sent. */
  credentialError?: string;
  /** Runs per list page, 1..25 (the API's maximum and default here: 25). */
  pageSize?: number;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff delay (default 500 ms). */
  backoffMs?: number;
  /** Longest single wait, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  /** Largest answer read, in bytes (jsonClient.ts; default 256 MiB): `max_response_mb`. */
  maxResponseBytes?: number;
  /**
   * Where cluster log delivery puts the clusters' logs: a local folder (synced down) or `dbfs:/…`.
   * Spark event logs are read from `<dir>/<cluster_id>/eventlog/`.
   */
  eventLogDir?: string;
  /**
   * Clusters whose parsed event logs are kept in memory at once (default 8, least recently used
   * first out); a cluster evicted and named again by a later run is read again.
   */
  logCacheClusters?: number;
}

// ---------------------------------------------------------------------------------------------
// The answers the listing, the events and DBFS read, loosely (the run and its clusters: record.ts).

const num = z.number().optional();
const str = z.string().optional();
const listSchema = z.object({ runs: z.array(z.unknown()).optional(), has_more: z.boolean().optional(), next_page_token: str });
const dbfsListSchema = z.object({ files: z.array(z.object({ path: z.string(), is_dir: z.boolean().optional(), file_size: num })).optional() });
const dbfsReadSchema = z.object({ bytes_read: z.number().int().nonnegative(), data: z.string() });
// Clusters API `clusters/events`: `next_page_token` (page_token paging), or the deprecated
// `next_page` (the whole request body of the next page, offset/limit paging) on older workspaces.
const eventsSchema = z.object({ events: z.array(z.unknown()).optional(), next_page_token: str, next_page: z.record(z.string(), z.unknown()).optional() });
const clusterEventSchema = z.object({ timestamp: num, type: str, details: z.object({ current_num_workers: num, target_num_workers: num }).optional() });

const RUNS_LIST = 'api/2.1/jobs/runs/list';
const CLUSTER_EVENTS = 'api/2.1/clusters/events';
/**
 * The events that carry `details.current_num_workers`, the number of worker nodes the cluster had
 * when the event happened: RUNNING (the cluster came up), RESIZING (a resize started: current is the
 * count before it, target_num_workers only the goal, so not used), UPSIZE_COMPLETED (nodes added),
 * NODES_LOST (nodes gone), AUTOSCALING_STATS_REPORT. Other events never tell the size.
 */
const SIZE_EVENTS = ['RUNNING', 'RESIZING', 'UPSIZE_COMPLETED', 'NODES_LOST', 'AUTOSCALING_STATS_REPORT'];
/** Events per page asked for (the server may send fewer); at most this many pages per run window. */
const EVENTS_PAGE_SIZE = 100;
const EVENTS_MAX_PAGES = 10;
const DBFS_CHUNK = 1024 * 1024; // the DBFS read API's largest `length`

/**
 * The time `since` judges a listed run by, as its record will hold it (matchesFilter): its end, or
 * its start while it runs; null when neither is a time a record holds.
 *
 * `since` keeps runs that ended at or after it, as every source does. The Jobs API's runs/list
 * filters by start time only (`start_time_from`), and a run has no longest duration to subtract
 * from `since` (`timeout_seconds` is unset by default; streaming and continuous jobs run for weeks),
 * so no start_time_from is sent: the listing covers the runs the workspace keeps (60 days) and the
 * ones that ended before `since` are dropped as they are listed, which costs their list entry only.
 */
function sinceTime(run: Run): number | null {
  const valid = (v: number | undefined): number | null => {
    const ms = epoch(v);
    return ms !== null && timeFault(ms) === null ? ms : null;
  };
  return (runStatus(run) === 'running' ? null : valid(run.end_time)) ?? valid(run.start_time);
}

// ---------------------------------------------------------------------------------------------

/**
 * A DBFS location as the DBFS API takes it: "the absolute DBFS path", e.g. `/mnt/foo` (DBFS API 2.0
 * list and read). The config names folders as `dbfs:/…` URIs, the form Spark and dbutils use.
 */
function dbfsApiPath(location: string): string {
  const p = location.replace(/^dbfs:/i, '').replace(/^\/*/, '/');
  return p.length > 1 ? p.replace(/\/+$/, '') : p;
}

/** Copies DBFS folder `from` (`dbfs:/…` or absolute, recursively) into local `to`, a 1 MB base64 chunk at a time. */
async function copyDbfs(client: JsonClient, from: string, to: string, signal: AbortSignal): Promise<number> {
  let list: z.infer<typeof dbfsListSchema>;
  try {
    list = await client.getJson(`api/2.0/dbfs/list?${new URLSearchParams({ path: dbfsApiPath(from) }).toString()}`, dbfsListSchema, signal);
  } catch (err) {
    // RESOURCE_DOES_NOT_EXIST: this cluster delivered no logs (yet).
    if (err instanceof HttpError && err.status === 404) return 0;
    throw err;
  }
  await mkdir(to, { recursive: true });
  let copied = 0;
  for (const f of list.files ?? []) {
    const name = path.posix.basename(f.path);
    // Names come from the server: never let one climb out of the temp folder.
    if (name === '' || name === '.' || name === '..' || name.includes('\\')) continue;
    const target = path.join(to, name);
    if (f.is_dir === true) {
      copied += await copyDbfs(client, f.path, target, signal);
      continue;
    }
    const out = await open(target, 'w');
    try {
      for (let offset = 0; ; ) {
        const q = new URLSearchParams({ path: dbfsApiPath(f.path), offset: String(offset), length: String(DBFS_CHUNK) });
        const chunk = await client.getJson(`api/2.0/dbfs/read?${q.toString()}`, dbfsReadSchema, signal);
        if (chunk.bytes_read === 0) break;
        await out.write(Buffer.from(chunk.data, 'base64'));
        offset += chunk.bytes_read;
        if (f.file_size !== undefined && offset >= f.file_size) break;
      }
    } finally {
      await out.close();
    }
    copied++;
  }
  return copied;
}

/**
 * The size events of cluster `clusterId` between `startMs` and `endMs` (oldest first), following
 * `next_page_token` (or the older `next_page`) for at most `maxPages` pages; `truncated` when more
 * were left. HTTP errors throw.
 */
async function listClusterEvents(client: JsonClient, clusterId: string, startMs: number, endMs: number, signal: AbortSignal, maxPages = EVENTS_MAX_PAGES): Promise<{ events: z.infer<typeof clusterEventSchema>[]; truncated: boolean }> {
  const first: Record<string, unknown> = { cluster_id: clusterId, start_time: startMs, end_time: endMs, order: 'ASC', event_types: SIZE_EVENTS, page_size: EVENTS_PAGE_SIZE };
  const events: z.infer<typeof clusterEventSchema>[] = [];
  const tokens = new Set<string>();
  let body = first;
  for (let page = 1; ; page++) {
    const res = await client.getJson(CLUSTER_EVENTS, eventsSchema, signal, { method: 'POST', body });
    for (const e of res.events ?? []) {
      const parsed = clusterEventSchema.safeParse(e);
      if (parsed.success) events.push(parsed.data);
    }
    let next: Record<string, unknown> | undefined;
    if (res.next_page_token !== undefined && res.next_page_token !== '') {
      // A token seen before would loop: what was read is kept, flagged as cut short.
      if (tokens.has(res.next_page_token)) return { events, truncated: true };
      tokens.add(res.next_page_token);
      next = { ...first, page_token: res.next_page_token };
    } else if (res.next_page !== undefined && Object.keys(res.next_page).length > 0) next = res.next_page;
    if (next === undefined || (res.events ?? []).length === 0) return { events, truncated: false };
    if (page >= maxPages) return { events, truncated: true };
    body = next;
  }
}

/** The worker count the cluster had at `atMs`: its latest size event at or before then (one small page). */
async function workersAt(client: JsonClient, clusterId: string, atMs: number, signal: AbortSignal): Promise<number | undefined> {
  const res = await client.getJson(CLUSTER_EVENTS, eventsSchema, signal, { method: 'POST', body: { cluster_id: clusterId, end_time: atMs, order: 'DESC', event_types: SIZE_EVENTS, page_size: 25 } });
  for (const e of res.events ?? []) {
    const parsed = clusterEventSchema.safeParse(e);
    if (!parsed.success || (parsed.data.timestamp ?? 0) > atMs) continue;
    const n = parsed.data.details?.current_num_workers;
    if (n !== undefined && Number.isInteger(n) && n >= 0) return n;
  }
  return undefined;
}

interface ClusterLogs {
  apps: CollectedApp[];
  problems: Problem[];
}

interface Listed {
  run: Run;
}

interface RunResult {
  /** What is stored for the run: its Spark applications, or the platform-level record. */
  apps: CollectedApp[];
  /** The platform-level record, which `since` and `user` judge (the run's times, its creator). */
  run: SparkAppRecord;
}

function hostUrl(options: DatabricksOptions): { url: string | undefined; from: string } {
  const envHost = process.env.DATABRICKS_HOST === '' ? undefined : process.env.DATABRICKS_HOST;
  const raw = options.endpointUrl ?? options.host ?? envHost;
  const from = options.endpointUrl !== undefined ? "the source's endpoint_url" : options.host !== undefined ? (options.hostSource ?? "the source's host") : 'DATABRICKS_HOST';
  if (raw === undefined) return { url: undefined, from };
  // Databricks' own tools accept a bare workspace name ("dbc-1234.cloud.databricks.com").
  return { url: /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`, from };
}

export async function* collectDatabricks(options: DatabricksOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'databricks';
  const batcher = new Batcher(options.batchSize ?? 100);
  const progress = batcher.progress;

  // Credentials first: without a host or a token nothing is sent.
  const { url, from: hostFrom } = hostUrl(options);
  const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);
  const envToken = env('DATABRICKS_TOKEN');
  const token = options.credentialError === undefined ? (options.token ?? envToken) : undefined;
  // Without a token: OAuth machine-to-machine, the client from the options or the environment.
  const fromOptions = options.clientId !== undefined && options.clientSecret !== undefined;
  const clientId = token === undefined && options.credentialError === undefined ? (fromOptions ? options.clientId : env('DATABRICKS_CLIENT_SECRET') !== undefined ? env('DATABRICKS_CLIENT_ID') : undefined) : undefined;
  const clientSecret = clientId === undefined ? undefined : fromOptions ? options.clientSecret : env('DATABRICKS_CLIENT_SECRET');
  const tokenSource =
    clientId !== undefined
      ? fromOptions
        ? (options.clientSource ?? `OAuth client ${clientId} (given in the options)`)
        : `OAuth client ${clientId} (DATABRICKS_CLIENT_ID)`
      : options.token !== undefined
        ? (options.tokenSource ?? 'the token given in the options')
        : 'token from DATABRICKS_TOKEN';
  const early: Problem[] = [];
  if (url === undefined) early.push({ severity: 'error', code: 'config', message: `source ${source}: no Databricks workspace URL: set DATABRICKS_HOST, the source's host (e.g. https://dbc-1234.cloud.databricks.com), or host in ~/.databrickscfg` });
  if (options.credentialError !== undefined) early.push({ severity: 'error', code: 'auth-failed', message: `source ${source}: ${options.credentialError}; set it, or DATABRICKS_TOKEN, or store a token with "Set Source Secret"` });
  else if (token === undefined && clientId === undefined)
    early.push({ severity: 'error', code: 'auth-failed', message: `source ${source}: no Databricks token: set DATABRICKS_TOKEN, the source's token as \${env:VAR}, a token or client_id/client_secret in ~/.databrickscfg, DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET, or store one with "Set Source Secret"` });
  let client: JsonClient | undefined;
  if (url !== undefined && early.length === 0) {
    const provider = clientId !== undefined ? oauthTokenProvider({ baseUrl: url, clientId, clientSecret: clientSecret!, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs }) : undefined;
    const auth: HttpAuth = provider !== undefined ? { type: 'bearerProvider', token: provider } : { type: 'bearer', token: token! };
    try {
      client = new JsonClient({ baseUrl: url, auth, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs, maxDelayMs: options.maxDelayMs, maxResponseBytes: options.maxResponseBytes });
    } catch (err) {
      early.push({ severity: 'error', code: 'config', message: `source ${source}: the workspace URL from ${hostFrom} is not usable: ${(err as Error).message}` });
    }
    // The first OAuth exchange before any request: a refused client is one problem, nothing listed.
    if (client !== undefined && provider !== undefined) {
      try {
        await provider();
      } catch (err) {
        const why = err instanceof Error ? err.message : String(err);
        early.push({ severity: 'error', code: 'auth-failed', message: `source ${source}: ${why}; credential tried: ${tokenSource}, workspace URL from ${hostFrom} (check the client id and secret, or the service principal's access)`, file: client.urlOf('oidc/v1/token') });
        await client.close();
        client = undefined;
      }
    }
  }
  if (client === undefined) {
    progress.problems += early.length;
    ctx.onProgress?.({ ...progress });
    yield { apps: [], problems: early, filtered: 0, unchanged: 0 };
    return;
  }
  const api = client;
  const report = (): void => ctx.onProgress?.({ ...progress, bytesRead: api.bytesRead });
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const pageSize = Math.min(25, Math.max(1, options.pageSize ?? 25));

  // A private controller: an auth failure cancels the other requests in flight.
  const controller = new AbortController();
  setMaxListeners(concurrency * 4 + 10, controller.signal);
  const onAbort = (): void => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  if (ctx.signal?.aborted) onAbort();
  let stopped = false;
  const stop = (p: Problem): void => {
    if (stopped) return;
    stopped = true;
    batcher.problem(p);
    controller.abort(new Error('stopped'));
  };
  const authProblem = (err: AuthError): Problem => ({
    severity: 'error',
    code: 'auth-failed',
    message: `${err.message}; credential tried: ${tokenSource}, workspace URL from ${hostFrom}; stopping the run (check or renew the token)`,
    file: api.urlOf(err.path),
  });
  // A 401 is the token itself: nothing else will work either. A 403 on one cluster, run or DBFS path
  // is that object's ACL (the token may not view that cluster): only the runs it concerns are hurt.
  const fatal = (err: unknown): boolean => (err instanceof AuthError && err.status === 401) || controller.signal.aborted;
  const forbidden = (err: unknown): err is AuthError => err instanceof AuthError && err.status === 403;

  // Each cluster is read once, whatever number of runs share it.
  const clusterCache = new Map<string, Promise<Cluster>>();
  const getCluster = (id: string): Promise<Cluster> => {
    let p = clusterCache.get(id);
    if (p === undefined) {
      p = api.getJson(`api/2.1/clusters/get?${new URLSearchParams({ cluster_id: id }).toString()}`, clusterSchema, controller.signal);
      // Marked handled here: a failure is reported per run that awaits it.
      p.catch(() => undefined);
      clusterCache.set(id, p);
    }
    return p;
  };

  // Each cluster's event logs are read once too; a dbfs:/ folder is copied to a temp folder first.
  // Cleared when the folder itself cannot be read (checked once, before the runs): platform-level only.
  let logDir = options.eventLogDir;
  // A promise, so runs reading logs at the same time share one temp folder (removed at the end).
  let tempRoot: Promise<string> | undefined;
  // Parsed apps are big: only the most recently used clusters are kept (a Map iterates oldest first).
  const logCacheMax = Math.max(1, options.logCacheClusters ?? 8);
  const logCache = new Map<string, Promise<ClusterLogs>>();
  const clusterLogs = (id: string): Promise<ClusterLogs> => {
    let p = logCache.get(id);
    if (p !== undefined) {
      logCache.delete(id);
      logCache.set(id, p);
    } else {
      p = (async (): Promise<ClusterLogs> => {
        let dir: string;
        if (logDir!.startsWith('dbfs:')) {
          tempRoot ??= mkdtemp(path.join(tmpdir(), 'spark-opt-dbfs-'));
          dir = path.join(await tempRoot, id.replace(/[^A-Za-z0-9_.-]/g, '_'));
          const remote = `${logDir!.replace(/\/+$/, '')}/${id}/eventlog`;
          if ((await copyDbfs(api, remote, dir, controller.signal)) === 0) return { apps: [], problems: [] };
        } else {
          dir = path.join(logDir!, id, 'eventlog');
        }
        // No `since`/`user` here: those apply to the run (its creator), not to Spark's own user.
        const all = await collectAll({ path: dir, source, recursive: true }, { signal: controller.signal });
        // A cluster without delivered logs is normal (log delivery off, or not yet synced).
        return { apps: all.apps, problems: all.problems.filter((p) => p.code !== 'path-unreadable' || p.file !== dir) };
      })();
      p.catch(() => undefined);
      logCache.set(id, p);
      for (const old of logCache.keys()) {
        if (logCache.size <= logCacheMax) break;
        logCache.delete(old);
      }
    }
    return p;
  };
  /**
   * The event_log_dir itself, once: a wrong one (a typo, an unsynced folder, a dbfs:/ path that does
   * not exist) must not look like "no cluster delivered logs". The reason when unusable; a 401 throws.
   */
  const logDirUnusable = async (dir: string): Promise<string | undefined> => {
    try {
      if (dir.startsWith('dbfs:')) await api.getJson(`api/2.0/dbfs/list?${new URLSearchParams({ path: dbfsApiPath(dir) }).toString()}`, dbfsListSchema, controller.signal);
      else await readdir(dir);
      return undefined;
    } catch (err) {
      if (fatal(err) || !(err instanceof Error)) throw err;
      return err.message;
    }
  };
  /**
   * The workers an autoscaling cluster had over a run's window, from its events: the count at the
   * window's start (its latest size event before it) and every count inside. Read once per
   * (cluster, window); undefined when no event tells a count. HTTP errors reject.
   */
  const eventsCache = new Map<string, Promise<{ seen: WorkersSeen | undefined; truncated: boolean }>>();
  const workersSeen = (id: string, startMs: number, endMs: number): Promise<{ seen: WorkersSeen | undefined; truncated: boolean }> => {
    const key = `${id}\u0000${startMs}\u0000${endMs}`;
    let p = eventsCache.get(key);
    if (p === undefined) {
      p = (async () => {
        const before = await workersAt(api, id, startMs, controller.signal);
        const inside = await listClusterEvents(api, id, startMs, endMs, controller.signal);
        const counts = inside.events.flatMap((e) => {
          const n = e.details?.current_num_workers;
          return n !== undefined && Number.isInteger(n) && n >= 0 ? [n] : [];
        });
        if (before !== undefined) counts.push(before);
        return { seen: counts.length === 0 ? undefined : { min: Math.min(...counts), max: Math.max(...counts) }, truncated: inside.truncated };
      })();
      p.catch(() => undefined);
      eventsCache.set(key, p);
    }
    return p;
  };
  // Events problems are told once per cluster, with the first run that meets them.
  const reportedEvents = new Set<string>();
  const eventsProblem = (id: string, p: Omit<Problem, 'file'>, problems: Problem[]): void => {
    if (reportedEvents.has(id)) return;
    reportedEvents.add(id);
    problems.push({ ...p, file: api.urlOf(`${CLUSTER_EVENTS}?cluster_id=${encodeURIComponent(id)}`) });
  };

  // A Spark application shared by several runs (an all-purpose cluster's context) is stored once.
  const claimed = new Set<string>();
  const reportedLogs = new Set<string>();

  const fetchRun = async (listed: Listed): Promise<RunResult> => {
    let run = listed.run;
    const where = api.urlOf(`api/2.1/jobs/runs/get?run_id=${run.run_id}`);
    const problems: Problem[] = [];
    // A listing without tasks (a server that ignores expand_tasks) does not say which clusters ran
    // the run: runs/get does. A run deleted since it was listed keeps what the listing said.
    if (run.tasks === undefined) {
      try {
        run = await api.getJson(`api/2.1/jobs/runs/get?run_id=${run.run_id}`, runSchema, controller.signal);
      } catch (err) {
        if (forbidden(err) && !controller.signal.aborted) problems.push({ severity: 'error', code: 'forbidden', message: `run ${run.run_id}: ${err.message}: stored from the listing`, file: where });
        else if (!(err instanceof HttpError && err.status === 404)) throw err;
        else problems.push({ severity: 'warning', code: 'run-missing', message: `run ${run.run_id}: runs/get answers 404 (deleted since it was listed?): stored from the listing`, file: where });
      }
    }
    const clusters = runClusters(run);
    const infos = new Map<string, Cluster>();
    await Promise.all(
      clusters.ids.map(async (id) => {
        try {
          infos.set(id, await getCluster(id));
        } catch (err) {
          if (fatal(err)) throw err;
          const why = err instanceof Error ? err.message : String(err);
          const fallback = clusters.specs.has(id) ? "; sizing from the run's cluster spec" : '';
          problems.push({ severity: 'error', code: forbidden(err) ? 'cluster-forbidden' : err instanceof ResponseError ? 'cluster-invalid' : 'cluster-failed', message: `run ${run.run_id}: cluster ${id} could not be read: ${why}${fallback}`, file: api.urlOf(`api/2.1/clusters/get?cluster_id=${encodeURIComponent(id)}`) });
        }
      }),
    );
    const primaryId = clusters.ids[0];
    const cluster = primaryId !== undefined ? infos.get(primaryId) : undefined;
    const primary: ClusterSpec | undefined = cluster ?? (primaryId !== undefined ? clusters.specs.get(primaryId) : undefined) ?? run.cluster_spec?.new_cluster ?? run.new_cluster;
    const tags = runTags(run, clusters, primary, cluster);
    // An autoscaling cluster: how many workers it had while the run ran, from its events. A fixed-size
    // one needs none.
    let seen: WorkersSeen | undefined;
    const windowStart = epoch(run.start_time);
    const windowEnd = runStatus(run) === 'running' ? Date.now() : epoch(run.end_time);
    if (primary?.autoscale !== undefined && primaryId !== undefined && windowStart !== null && windowEnd !== null && windowEnd >= windowStart) {
      try {
        const got = await workersSeen(primaryId, windowStart, windowEnd);
        seen = got.seen;
        if (got.truncated) eventsProblem(primaryId, { severity: 'warning', code: 'cluster-events-truncated', message: `run ${run.run_id}: cluster ${primaryId} has more than ${EVENTS_MAX_PAGES} pages of size events in the run's window: only those were read, num_executors may be low` }, problems);
        if (seen === undefined) eventsProblem(primaryId, { severity: 'info', code: 'cluster-events-empty', message: `run ${run.run_id}: no event of autoscaling cluster ${primaryId} tells its worker count in the run's window: num_executors unknown` }, problems);
      } catch (err) {
        if (fatal(err)) throw err;
        const why = err instanceof Error ? err.message : String(err);
        eventsProblem(primaryId, { severity: 'warning', code: forbidden(err) ? 'cluster-events-forbidden' : 'cluster-events-failed', message: `run ${run.run_id}: events of autoscaling cluster ${primaryId} could not be read (${why}): num_executors unknown for its runs` }, problems);
      }
    }
    if (seen !== undefined) {
      tags.workers_min_seen = String(seen.min);
      tags.workers_max_seen = String(seen.max);
    }
    const record = platformRecord(run, clusters, primary, tags, source, problems, where, seen);
    const platform: CollectedApp = { record, problems, files: [], provenance: apiProvenance(where) };
    if (logDir === undefined || clusters.ids.length === 0) return { apps: [platform], run: record };

    // Spark metrics: the applications of the run's Spark contexts (Databricks writes
    // <cluster>/eventlog/<cluster>_<driver-ip>/<spark_context_id>/eventlog*), or all applications of
    // a cluster the run created for itself.
    const sparkApps: CollectedApp[] = [];
    const linked: string[] = [];
    for (const id of clusters.ids) {
      let logs: ClusterLogs;
      try {
        logs = await clusterLogs(id);
      } catch (err) {
        if (fatal(err)) throw err;
        problems.push({ severity: 'warning', code: forbidden(err) ? 'forbidden' : 'eventlog-failed', message: `run ${run.run_id}: event logs of cluster ${id} could not be read: ${(err as Error).message}`, file: `${logDir}/${id}/eventlog` });
        continue;
      }
      // Problems reading a cluster's logs (a broken file) are told once, with the first run that reads them.
      if (!reportedLogs.has(id)) {
        reportedLogs.add(id);
        problems.push(...logs.problems);
      }
      const contexts = clusters.contexts.get(id);
      for (const app of logs.apps) {
        const ctxId = path.basename(app.provenance.path);
        if (contexts !== undefined ? !contexts.has(ctxId) : !clusters.own.has(id)) continue;
        const key = `${app.record.app_id}\u0000${app.record.attempt_id ?? ''}`;
        linked.push(app.record.app_id);
        if (claimed.has(key)) continue;
        claimed.add(key);
        sparkApps.push({ ...app, record: { ...app.record, tags: { ...app.record.tags, ...tags } } });
      }
    }
    if (sparkApps.length > 0) {
      // The run's problems are told once, with its first Spark application (taken after all its
      // clusters' logs were read, so none pushed meanwhile is lost).
      sparkApps[0] = { ...sparkApps[0]!, problems: [...problems, ...sparkApps[0]!.problems] };
      return { apps: sparkApps, run: record };
    }
    if (linked.length > 0) record.tags.spark_app_id = [...new Set(linked)].join(',');
    else problems.push({ severity: 'info', code: 'eventlog-missing', message: `run ${run.run_id}: no Spark event log of its Spark context under ${logDir} (cluster ${clusters.ids.join(', ')}): platform-level record only`, file: where });
    return { apps: [platform], run: record };
  };

  /**
   * A listing that fails ends the listing, not the runs already being read: they still arrive. A
   * refused token stops everything.
   */
  const listFailed = (err: Error): void => {
    if (err instanceof AuthError) stop(authProblem(err));
    else if (!stopped) {
      batcher.problem({ severity: 'error', code: 'list-failed', message: `listing runs failed: ${err.message}`, file: api.urlOf(RUNS_LIST) });
    }
  };

  /**
   * Runs left out as they were listed (user, since), not yet counted in a batch: a page can leave
   * out all 25, and they go into the batches a few at a time so none is over its size.
   */
  let listedOut = 0;
  function* countListedOut(): Generator<Batch> {
    for (; listedOut > 0; listedOut--) {
      batcher.filtered();
      if (batcher.full) yield batcher.take();
    }
  }

  /** All runs, a page at a time; entries of the wrong shape are problems, the user and since filters apply here. */
  async function* pages(): AsyncGenerator<Listed[]> {
    let remaining = options.maxApps ?? Infinity;
    let pageToken: string | undefined;
    let offset = 0;
    const seenTokens = new Set<string>();
    for (;;) {
      const q = new URLSearchParams({ limit: String(pageSize), expand_tasks: 'true' });
      if (pageToken !== undefined) q.set('page_token', pageToken);
      else if (offset > 0) q.set('offset', String(offset));
      let page: z.infer<typeof listSchema>;
      try {
        page = await api.getJson(`${RUNS_LIST}?${q.toString()}`, listSchema, controller.signal);
      } catch (err) {
        if (ctx.signal?.aborted || !(err instanceof Error)) throw err;
        listFailed(err);
        return;
      }
      const raw = page.runs ?? [];
      const wanted: Listed[] = [];
      for (const [i, entry] of raw.entries()) {
        const parsed = runSchema.safeParse(entry);
        if (!parsed.success) {
          const id = (entry as { run_id?: unknown } | null)?.run_id;
          const issue = parsed.error.issues[0];
          const at = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
          batcher.problem({ severity: 'error', code: 'rest-shape', message: `runs list: ${typeof id === 'number' || typeof id === 'string' ? `run ${id}` : `entry ${offset + i}`}: unexpected shape (${at}${issue?.message ?? 'invalid'})`, file: api.urlOf(RUNS_LIST) });
          continue;
        }
        if (remaining <= 0) break;
        // The API has no user filter: drop before reading any cluster. maxApps counts kept runs only.
        if (options.user !== undefined && parsed.data.creator_user_name !== options.user) {
          listedOut++;
          continue;
        }
        // `since` is judged here too, before any cluster, event or log of the run is read.
        const t = sinceTime(parsed.data);
        if (options.since !== undefined && t !== null && t < options.since.getTime()) {
          listedOut++;
          continue;
        }
        remaining--;
        wanted.push({ run: parsed.data });
      }
      offset += raw.length;
      progress.logsFound += wanted.length;
      report();
      yield wanted;
      if (remaining <= 0 || page.has_more !== true || raw.length === 0) return;
      // Old workspaces page with `offset` only (deprecated since June 2023).
      pageToken = page.next_page_token;
      if (pageToken !== undefined) {
        if (seenTokens.has(pageToken)) {
          listFailed(new Error(`the server returned page_token ${JSON.stringify(pageToken.slice(0, 40))} twice; listing stopped to avoid a loop`));
          return;
        }
        seenTokens.add(pageToken);
      }
    }
  }

  try {
    if (logDir !== undefined) {
      let why: string | undefined;
      try {
        why = await logDirUnusable(logDir);
      } catch (err) {
        if (ctx.signal?.aborted || !(err instanceof AuthError)) throw err;
        stop(authProblem(err));
      }
      if (why !== undefined) {
        batcher.problem({ severity: 'error', code: 'event-log-dir-unreadable', message: `event_log_dir ${logDir} cannot be read (${why}): no Spark metrics, platform-level records only`, file: logDir });
        logDir = undefined;
      }
    }
    const outcomes = stopped ? [] : pooled(pages(), fetchRun, concurrency, () => stopped);
    // Listing failures are handled in pages(); what comes out of here is cancellation.
    for await (const done of outcomes) {
      progress.logsDone++;
      if ('error' in done) {
        if (ctx.signal?.aborted) throw ctx.signal.reason ?? done.error;
        if (done.error instanceof AuthError) stop(authProblem(done.error));
        else if (!stopped) {
          batcher.problem({ severity: 'error', code: 'run-failed', message: `run ${done.item.run.run_id}: ${done.error.message}`, file: api.urlOf(`api/2.1/jobs/runs/get?run_id=${done.item.run.run_id}`) });
        }
      } else if (!stopped) {
        // `since` and `user` judge the run (its times, its creator), also when Spark apps stand for it.
        if (!matchesFilter(done.result.run, options)) batcher.filtered();
        else for (const app of done.result.apps) batcher.app(app);
      }
      report();
      if (batcher.full) yield batcher.take();
      yield* countListedOut();
    }
    ctx.signal?.throwIfAborted();
    yield* countListedOut();
    if (!batcher.empty) yield batcher.take();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    if (!controller.signal.aborted) controller.abort(new Error('collection ended'));
    await api.close();
    const temp = await tempRoot?.catch(() => undefined);
    if (temp !== undefined) await rm(temp, { recursive: true, force: true });
  }
}

/** Everything one Databricks collection found; for tests and small runs. */
export function collectDatabricksAll(options: DatabricksOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectDatabricks(options, ctx));
}
