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
 * where the token came from, and stops the run. A listing that cannot be read is `list-failed` and
 * ends the listing; the runs being read still arrive. A 403 on one cluster, run or DBFS path
 * (cluster ACLs) is only a problem of the runs it concerns. The token is never part of any output.
 * Abort, paging, concurrency, filters and batches are the runner's (api/runner.ts).
 */
import { mkdir, open, readdir } from 'node:fs/promises';
import * as path from 'node:path';
import * as z from 'zod';
import { onceEach } from '../api/onceEach';
import { ListingGuard } from '../api/listingGuard';
import { listedMark, notStarted, runApiCollector, type ApiCollectorOptions, type Page } from '../api/runner';
import { collectAll } from '../eventlog/collect';
import { REPLACES_TAG, apiProvenance, appAt, gather, problemAt, remotePath, type Batch, type CollectContext, type CollectedApp, type Gathered, type Provenance } from '../contract';
import { AuthError, HttpError, ResponseError, errorInAnswer, type JsonClient } from '../http/jsonClient';
import { DownloadFolders, type DownloadFolder } from '../downloadFolders';
import { connectWorkspace, type WorkspaceAccess } from './credentials';
import { timeFault, type Problem, type SparkAppRecord } from '../record';
import { clusterSchema, epoch, platformRecord, runAppId, runClusters, runSchema, runStatus, runTags, type Cluster, type ClusterSpec, type Run, type RunClusters, type WorkersSeen } from './record';

export interface DatabricksOptions extends ApiCollectorOptions, WorkspaceAccess {
  /** Runs per list page, 1..25 (the API's maximum and default here: 25). */
  pageSize?: number;
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
// `error_code` and `message`: an error answered with status 200 (errorInAnswer).
const listSchema = z.object({ runs: z.array(z.unknown()).optional(), has_more: z.boolean().optional(), next_page_token: str, error_code: z.unknown().optional(), message: z.unknown().optional() });
const dbfsListSchema = z.object({ files: z.array(z.object({ path: z.string(), is_dir: z.boolean().optional(), file_size: num })).optional() });
const dbfsReadSchema = z.object({ bytes_read: z.number().int().nonnegative(), data: z.string() });
// Clusters API `clusters/events`: `next_page_token` (page_token paging), or the deprecated
// `next_page` (the whole request body of the next page, offset/limit paging) on older workspaces.
const eventsSchema = z.object({ events: z.array(z.unknown()).optional(), next_page_token: str, next_page: z.record(z.string(), z.unknown()).optional() });
const clusterEventSchema = z.object({ timestamp: num, type: str, details: z.object({ current_num_workers: num, target_num_workers: num }).optional() });

const RUNS_LIST = 'api/2.1/jobs/runs/list';
/** Empty runs/list pages in a row that announce more (each with a new token) before the listing gives up. */
const MAX_EMPTY_PAGES = 20;
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

/** What the store keeps of a finished run (runner.ts listedMark): its runs/get URL, end time and state as listed; null while it runs. */
function runMark(api: JsonClient, run: Run): Provenance | null {
  const end = epoch(run.end_time);
  if (runStatus(run) === 'running' || end === null || timeFault(end) !== null) return null;
  const state = [run.state?.life_cycle_state ?? run.status?.state, run.state?.result_state ?? run.status?.termination_details?.code].join('/');
  return listedMark(api.urlOf(`api/2.1/jobs/runs/get?run_id=${run.run_id}`), end, state);
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

interface RunResult {
  /** What is stored for the run: its Spark applications, or the platform-level record. */
  apps: CollectedApp[];
  /** The platform-level record, which `since` and `user` judge (the run's times, its creator). */
  run: SparkAppRecord;
}

/**
 * All runs, a page at a time; entries of the wrong shape are problems of their page. Runs already
 * listed are not listed again, and a page of nothing new ends the listing as failed (ListingGuard).
 */
async function* listRuns(api: JsonClient, pageSize: number, signal: AbortSignal, scrub: (text: string) => string): AsyncGenerator<Page<Run>> {
  let pageToken: string | undefined;
  let offset = 0;
  let empty = 0;
  const guard = new ListingGuard<number>('page_token');
  for (;;) {
    const q = new URLSearchParams({ limit: String(pageSize), expand_tasks: 'true' });
    if (pageToken !== undefined) q.set('page_token', pageToken);
    else if (offset > 0) q.set('offset', String(offset));
    const page = await api.getJson(`${RUNS_LIST}?${q.toString()}`, listSchema, signal);
    const error = errorInAnswer(page, scrub);
    if (error !== undefined) throw new Error(`the answer (HTTP 200) is an error: ${error}`);
    const raw = page.runs ?? [];
    const runs: Run[] = [];
    const problems: Problem[] = [];
    for (const [i, entry] of raw.entries()) {
      const parsed = runSchema.safeParse(entry);
      if (parsed.success) {
        runs.push(parsed.data);
        continue;
      }
      const id = (entry as { run_id?: unknown } | null)?.run_id;
      const issue = parsed.error.issues[0];
      const at = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      problems.push({ severity: 'error', code: 'rest-shape', message: `runs list: ${typeof id === 'number' || typeof id === 'string' ? `run ${id}` : `entry ${offset + i}`}: unexpected shape (${at}${issue?.message ?? 'invalid'})`, file: api.urlOf(RUNS_LIST) });
    }
    offset += raw.length;
    const more = page.has_more === true;
    // A next token seen before stops the listing before this page's runs are fetched: the server is
    // not paging (a review: the repeated page's runs were fetched, then the listing stopped).
    // Old workspaces page with `offset` only (deprecated since June 2023): no token.
    pageToken = more ? guard.token(page.next_page_token) : undefined;
    yield { items: guard.fresh(runs, (r) => r.run_id, more), problems };
    if (!more) return;
    // An empty page that announces more is followed (a review: it ended the listing silently), but
    // only by a token: an offset it did not move would ask for the same page again.
    empty = raw.length === 0 ? empty + 1 : 0;
    if (empty > 0 && pageToken === undefined) throw new Error('an empty page announced more runs (has_more) without a next_page_token; listing stopped');
    if (empty > MAX_EMPTY_PAGES) throw new Error(`${empty} empty pages in a row announced more runs (has_more); listing stopped to avoid a loop`);
  }
}

/**
 * What one collection reads from the workspace besides the runs, each once whatever number of runs
 * need it (many runs share an all-purpose cluster): clusters, their size events and their event
 * logs; and which Spark applications and problems an earlier run already gave.
 */
class WorkspaceReads {
  /** Cleared when the folder itself cannot be read (checked once, before the runs): platform-level only. */
  logDir: string | undefined;
  // A promise, so runs reading logs at the same time share one temp folder (removed at the end;
  // making it removes what killed collections left: downloadFolders.ts).
  private tempRoot: Promise<DownloadFolder> | undefined;
  private readonly folders = new DownloadFolders('databricks');
  readonly cluster = onceEach((id) => this.api.getJson(`api/2.1/clusters/get?${new URLSearchParams({ cluster_id: id }).toString()}`, clusterSchema, this.signal));
  // Parsed apps are big: only the most recently used clusters' are kept.
  readonly clusterLogs: (id: string) => Promise<ClusterLogs>;
  private readonly events = onceEach((key) => {
    const [id, startMs, endMs] = key.split('\u0000') as [string, string, string];
    return this.readWorkersSeen(id, Number(startMs), Number(endMs));
  });
  // Events problems are told once per cluster, with the first run that meets them.
  private readonly reportedEvents = new Set<string>();
  // A Spark application shared by several runs (an all-purpose cluster's context) is stored once.
  private readonly claimed = new Set<string>();
  // Problems reading a cluster's logs (a broken file) are told once, with the first run that reads them.
  private readonly reportedLogs = new Set<string>();

  constructor(
    private readonly api: JsonClient,
    private readonly signal: AbortSignal,
    private readonly source: string,
    options: DatabricksOptions,
  ) {
    this.logDir = options.eventLogDir;
    this.clusterLogs = onceEach((id) => this.readClusterLogs(id), Math.max(1, options.logCacheClusters ?? 8));
  }

  /** A 401 is the token itself: nothing else will work either; and nothing goes on once the run is aborted. */
  fatal(err: unknown): boolean {
    return (err instanceof AuthError && err.status === 401) || this.signal.aborted;
  }

  /**
   * The event_log_dir itself, once: a wrong one (a typo, an unsynced folder, a dbfs:/ path that does
   * not exist) must not look like "no cluster delivered logs". The reason when unusable; a 401 throws.
   */
  async logDirUnusable(dir: string): Promise<string | undefined> {
    try {
      if (dir.startsWith('dbfs:')) await this.api.getJson(`api/2.0/dbfs/list?${new URLSearchParams({ path: dbfsApiPath(dir) }).toString()}`, dbfsListSchema, this.signal);
      else await readdir(dir);
      return undefined;
    } catch (err) {
      if (this.fatal(err) || !(err instanceof Error)) throw err;
      return err.message;
    }
  }

  async removeTemp(): Promise<void> {
    const temp = await this.tempRoot?.catch(() => undefined);
    if (temp !== undefined) await temp.remove();
  }

  /** One run's records: its Spark applications when their logs are reachable, else its platform-level record. */
  async read(listed: Run): Promise<RunResult> {
    let run = listed;
    const where = this.api.urlOf(`api/2.1/jobs/runs/get?run_id=${run.run_id}`);
    const problems: Problem[] = [];
    // A listing without tasks (a server that ignores expand_tasks) does not say which clusters ran
    // the run: runs/get does. A run deleted since it was listed keeps what the listing said.
    if (run.tasks === undefined) {
      try {
        run = await this.api.getJson(`api/2.1/jobs/runs/get?run_id=${run.run_id}`, runSchema, this.signal);
      } catch (err) {
        if (forbidden(err) && !this.signal.aborted) problems.push({ severity: 'error', code: 'forbidden', message: `run ${run.run_id}: ${err.message}: stored from the listing`, file: where });
        else if (!(err instanceof HttpError && err.status === 404)) throw err;
        else problems.push({ severity: 'warning', code: 'run-missing', message: `run ${run.run_id}: runs/get answers 404 (deleted since it was listed?): stored from the listing`, file: where });
      }
    }
    const clusters = runClusters(run);
    const infos = new Map<string, Cluster>();
    await Promise.all(
      clusters.ids.map(async (id) => {
        try {
          infos.set(id, await this.cluster(id));
        } catch (err) {
          if (this.fatal(err)) throw err;
          const why = err instanceof Error ? err.message : String(err);
          const fallback = clusters.specs.has(id) ? "; sizing from the run's cluster spec" : '';
          problems.push({ severity: 'error', code: forbidden(err) ? 'cluster-forbidden' : err instanceof ResponseError ? 'cluster-invalid' : 'cluster-failed', message: `run ${run.run_id}: cluster ${id} could not be read: ${why}${fallback}`, file: this.api.urlOf(`api/2.1/clusters/get?cluster_id=${encodeURIComponent(id)}`) });
        }
      }),
    );
    const primaryId = clusters.ids[0];
    const cluster = primaryId !== undefined ? infos.get(primaryId) : undefined;
    const primary: ClusterSpec | undefined = cluster ?? (primaryId !== undefined ? clusters.specs.get(primaryId) : undefined) ?? run.cluster_spec?.new_cluster ?? run.new_cluster;
    const tags = runTags(run, clusters, primary, cluster);
    // An autoscaling cluster: how many workers it had while the run ran, from its events. A fixed-size
    // one needs none.
    const seen = primary?.autoscale !== undefined && primaryId !== undefined ? await this.workersSeen(run, primaryId, problems) : undefined;
    if (seen !== undefined) {
      tags.workers_min_seen = String(seen.min);
      tags.workers_max_seen = String(seen.max);
    }
    const record = platformRecord(run, clusters, primary, tags, this.source, problems, where, seen);
    const platform: CollectedApp = { record, problems, files: [], provenance: apiProvenance(where) };
    if (this.logDir === undefined || clusters.ids.length === 0) return { apps: [platform], run: record };

    const { apps, linked } = await this.sparkApps(run, clusters, tags, problems);
    if (apps.length > 0) {
      // The run's problems are told once, with its first Spark application (taken after all its
      // clusters' logs were read, so none pushed meanwhile is lost).
      apps[0] = { ...apps[0]!, problems: [...problems, ...apps[0]!.problems] };
      return { apps, run: record };
    }
    if (linked.length > 0) record.tags.spark_app_id = [...new Set(linked)].join(',');
    else problems.push({ severity: 'info', code: 'eventlog-missing', message: `run ${run.run_id}: no Spark event log of its Spark context under ${this.logDir} (cluster ${clusters.ids.join(', ')}): platform-level record only`, file: where });
    return { apps: [platform], run: record };
  }

  /** The workers the run's autoscaling cluster `id` had over the run's window; problems are told once per cluster. */
  private async workersSeen(run: Run, id: string, problems: Problem[]): Promise<WorkersSeen | undefined> {
    const windowStart = epoch(run.start_time);
    const windowEnd = runStatus(run) === 'running' ? Date.now() : epoch(run.end_time);
    if (windowStart === null || windowEnd === null || windowEnd < windowStart) return undefined;
    const once = (p: Omit<Problem, 'file'>): void => {
      if (this.reportedEvents.has(id)) return;
      this.reportedEvents.add(id);
      problems.push({ ...p, file: this.api.urlOf(`${CLUSTER_EVENTS}?cluster_id=${encodeURIComponent(id)}`) });
    };
    try {
      const got = await this.events(`${id}\u0000${windowStart}\u0000${windowEnd}`);
      if (got.truncated) once({ severity: 'warning', code: 'cluster-events-truncated', message: `run ${run.run_id}: cluster ${id} has more than ${EVENTS_MAX_PAGES} pages of size events in the run's window: only those were read, num_executors may be low` });
      if (got.seen === undefined) once({ severity: 'info', code: 'cluster-events-empty', message: `run ${run.run_id}: no event of autoscaling cluster ${id} tells its worker count in the run's window: num_executors unknown` });
      return got.seen;
    } catch (err) {
      if (this.fatal(err)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      once({ severity: 'warning', code: forbidden(err) ? 'cluster-events-forbidden' : 'cluster-events-failed', message: `run ${run.run_id}: events of autoscaling cluster ${id} could not be read (${why}): num_executors unknown for its runs` });
      return undefined;
    }
  }

  /**
   * The workers an autoscaling cluster had over a window, from its events: the count at the window's
   * start (its latest size event before it) and every count inside; undefined when no event tells a
   * count. HTTP errors reject.
   */
  private async readWorkersSeen(id: string, startMs: number, endMs: number): Promise<{ seen: WorkersSeen | undefined; truncated: boolean }> {
    const before = await workersAt(this.api, id, startMs, this.signal);
    const inside = await listClusterEvents(this.api, id, startMs, endMs, this.signal);
    const counts = inside.events.flatMap((e) => {
      const n = e.details?.current_num_workers;
      return n !== undefined && Number.isInteger(n) && n >= 0 ? [n] : [];
    });
    if (before !== undefined) counts.push(before);
    return { seen: counts.length === 0 ? undefined : { min: Math.min(...counts), max: Math.max(...counts) }, truncated: inside.truncated };
  }

  /** One cluster's Spark applications from its event logs; a dbfs:/ folder is copied to a temp folder first. */
  private async readClusterLogs(id: string): Promise<ClusterLogs> {
    const logDir = this.logDir!;
    let dir: string;
    let shown = (p: string): string => p;
    if (logDir.startsWith('dbfs:')) {
      this.tempRoot ??= this.folders.make();
      dir = path.join((await this.tempRoot).path, id.replace(/[^A-Za-z0-9_.-]/g, '_'));
      const remote = `${logDir.replace(/\/+$/, '')}/${id}/eventlog`;
      if ((await copyDbfs(this.api, remote, dir, this.signal)) === 0) return { apps: [], problems: [] };
      // Records, problems and known files name the dbfs:/ paths, not this run's temp copy.
      shown = remotePath(dir, remote);
    } else {
      dir = path.join(logDir, id, 'eventlog');
    }
    // No `since`/`user` here: those apply to the run (its creator), not to Spark's own user.
    const all = await collectAll({ path: dir, source: this.source, recursive: true }, { signal: this.signal });
    // A cluster without delivered logs is normal (log delivery off, or not yet synced).
    const problems = all.problems.filter((p) => p.code !== 'path-unreadable' || p.file !== dir);
    return { apps: all.apps.map((a) => appAt(a, shown)), problems: problems.map((p) => problemAt(p, shown)) };
  }

  /**
   * Spark metrics: the applications of the run's Spark contexts (Databricks writes
   * <cluster>/eventlog/<cluster>_<driver-ip>/<spark_context_id>/eventlog*), or all applications of a
   * cluster the run created for itself, with the run's tags. `linked`: the ids of the run's
   * applications, also those an earlier run already gave.
   */
  private async sparkApps(run: Run, clusters: RunClusters, tags: Record<string, string>, problems: Problem[]): Promise<{ apps: CollectedApp[]; linked: string[] }> {
    const apps: CollectedApp[] = [];
    const linked: string[] = [];
    for (const id of clusters.ids) {
      let logs: ClusterLogs;
      try {
        logs = await this.clusterLogs(id);
      } catch (err) {
        if (this.fatal(err)) throw err;
        problems.push({ severity: 'warning', code: forbidden(err) ? 'forbidden' : 'eventlog-failed', message: `run ${run.run_id}: event logs of cluster ${id} could not be read: ${(err as Error).message}`, file: `${this.logDir}/${id}/eventlog` });
        continue;
      }
      if (!this.reportedLogs.has(id)) {
        this.reportedLogs.add(id);
        problems.push(...logs.problems);
      }
      const contexts = clusters.contexts.get(id);
      for (const app of logs.apps) {
        const ctxId = path.basename(app.provenance.path);
        if (contexts !== undefined ? !contexts.has(ctxId) : !clusters.own.has(id)) continue;
        const key = `${app.record.app_id}\u0000${app.record.attempt_id ?? ''}`;
        linked.push(app.record.app_id);
        if (this.claimed.has(key)) continue;
        this.claimed.add(key);
        // It replaces the run's platform-level record, stored while its log was not there (or later, once it is gone).
        apps.push({ ...app, record: { ...app.record, tags: { ...app.record.tags, ...tags, [REPLACES_TAG]: runAppId(run) } } });
      }
    }
    return { apps, linked };
  }
}

/** A 403 on one cluster, run or DBFS path is that object's ACL (the token may not view it): only the runs it concerns are hurt. */
const forbidden = (err: unknown): err is AuthError => err instanceof AuthError && err.status === 403;

export async function* collectDatabricks(options: DatabricksOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'databricks';
  const workspace = await connectWorkspace(options, source);
  if ('problems' in workspace) {
    yield* notStarted(workspace.problems, ctx);
    return;
  }
  const { api, tried, scrub } = workspace;
  const pageSize = Math.min(25, Math.max(1, options.pageSize ?? 25));
  yield* runApiCollector<Run, RunResult>(options, ctx, (run) => {
    const reads = new WorkspaceReads(api, run.signal, source, options);
    return {
      maxApps: 'items',
      // A run stands for its Spark applications (judgedBy): they go with it, by its run id.
      shard: { unit: 'run', key: (r) => String(r.run_id) },
      // Error answers the server words itself (errorInAnswer) may quote the token.
      scrub,
      bytesRead: () => api.bytesRead,
      prepare: async () => {
        const dir = reads.logDir;
        const why = dir !== undefined ? await reads.logDirUnusable(dir) : undefined;
        if (why === undefined) return;
        run.problem({ severity: 'error', code: 'event-log-dir-unreadable', message: `event_log_dir ${dir} cannot be read (${why}): no Spark metrics, platform-level records only`, file: dir });
        reads.logDir = undefined;
      },
      list: () => listRuns(api, pageSize, run.signal, scrub),
      // The API has no user filter, and `since` is judged as runs are listed too (sinceTime): before any cluster is read.
      listed: (r) => ({ user: r.creator_user_name ?? null, time: sinceTime(r) ?? undefined }),
      // A finished run the store holds with the same state and end time is not read again (no
      // clusters/get, no clusters/events); not with an event_log_dir, whose logs may arrive later.
      held: (r) => (options.eventLogDir === undefined ? runMark(api, r) : null),
      fetch: (r) => reads.read(r),
      // `since` and `user` judge the run (its times, its creator), also when Spark apps stand for it.
      found: (result) => [{ apps: result.apps, judgedBy: result.run }],
      refused: (err) => (err instanceof AuthError ? { severity: 'error', code: 'auth-failed', message: `${err.message}; ${tried}; stopping the run (check or renew the token)`, file: api.urlOf(err.path) } : undefined),
      // A listing that fails ends the listing, not the runs already being read: they still arrive.
      listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: `listing runs failed: ${err.message}`, file: api.urlOf(RUNS_LIST) }),
      failed: (r, err) => ({ severity: 'error', code: 'run-failed', message: `run ${r.run_id}: ${err.message}`, file: api.urlOf(`api/2.1/jobs/runs/get?run_id=${r.run_id}`) }),
      close: async () => {
        await api.close();
        await reads.removeTemp();
      },
    };
  });
}

/** Everything one Databricks collection found; for tests and small runs. */
export function collectDatabricksAll(options: DatabricksOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectDatabricks(options, ctx));
}
