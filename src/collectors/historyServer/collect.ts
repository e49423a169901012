/**
 * The History Server collector: list applications through `/api/v1/applications`, then for each
 * attempt read `/environment`, `/allexecutors`, `/stages` and `/jobs` (a few attempts at a time) and
 * map them onto a record (record.ts) and its stage and executor summaries (summaries.ts), whose task
 * durations take one `/stages/{id}/{attempt}/taskSummary` per stage attempt that had a successful task.
 *
 * One bad application (404, malformed JSON, unexpected shape, retries exhausted) becomes a problem
 * for that application and the others still arrive. Wrong credentials (401/403) are reported once
 * and stop the run. A listing that cannot be read is `list-failed` and ends the listing; the
 * attempts being read still arrive. Abort, paging, concurrency, filters and batches are the
 * runner's (api/runner.ts).
 */
import * as z from 'zod';
import { fetchAttemptLog, TempSpace, type AttemptLogLimits } from './eventLogMode';
import { runApiCollector } from '../api/runner';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered, type Provenance } from '../contract';
import { textProperties, timeFault, type Problem } from '../record';
import { appSchema, epochOrText, executorSchema, stageSchema, toRecord, type RestApp, type RestAttempt } from './record';
import { HistoryServerClient, type ClientOptions } from './client';
import { fillTaskDurations, toSummaries, type TaskSummaryLimits } from './summaries';
import { withStageCpu } from '../record/summaries';
import { AuthError, HttpError, ResponseError } from '../http/jsonClient';
import { inShard, type Shard } from '../shard';

/** With the limits `mode: eventlog` downloads and reads each attempt's log with (eventLogMode.ts). */
export interface HistoryServerOptions extends ClientOptions, AttemptLogLimits, TaskSummaryLimits {
  /** Which applications to list (default completed). */
  status?: 'completed' | 'running' | 'all';
  /**
   * Incremental runs (source.ts `incremental`): the cursor `since` was taken from (cursor.ts), ISO;
   * `since` is then the cursor minus the overlap. Absent: `since`, if any, is the user's own.
   */
  cursor?: string;
  /** Completed apps that ended at/after this time (`minEndDate`), running ones that started at/after it (`minDate`); status `all` asks for each. */
  since?: Date;
  user?: string;
  /** Applications (by id) of other users and other shards are not counted: `maxApps` of this user's and shard's are listed. */
  maxApps?: number;
  /** `--shard K/N`: the runner fetches only this shard's applications (by id). */
  shard?: Shard;
  /** Attempts fetched at once (default 4). */
  concurrency?: number;
  /** `api` (default): the REST answers; `eventlog`: download each attempt's event log and parse it. */
  mode?: 'api' | 'eventlog';
  batchSize?: number;
  /** Name of the configured source, stored in each record's `source`. */
  source?: string;
  /**
   * Completed applications are listed this many new ones at a time, in end-time windows (`maxEndDate` set to
   * the oldest end time of the previous page), so a server with many thousands of applications is
   * never held in memory at once. 0 = one request for the whole list. Default 500.
   */
  pageSize?: number;
}

// ---------------------------------------------------------------------------------------------
// The answers the listing and fetching read besides those the record maps (record.ts), loosely.

const environmentSchema = z.object({ sparkProperties: z.array(z.array(z.unknown())) });
const jobSchema = z.object({ jobId: z.number(), stageIds: z.array(z.number()).optional() });

/** Spark's own date parameter format: `yyyy-MM-dd'T'HH:mm:ss.SSS` + `GMT`. */
export function restDateParam(d: Date): string {
  return d.toISOString().replace(/Z$/, 'GMT');
}

// ---------------------------------------------------------------------------------------------

interface Listed {
  app: RestApp;
  attempt: RestAttempt;
}

const enc = encodeURIComponent;

function listPath(options: HistoryServerOptions, status: 'completed' | 'running', limit: number | undefined, maxEndMs: number | undefined): string {
  const q = new URLSearchParams();
  q.set('status', status);
  // The documented rule: ended at/after `since`; a running application has no end: started.
  if (options.since) q.set(status === 'completed' ? 'minEndDate' : 'minDate', restDateParam(options.since));
  if (maxEndMs !== undefined) q.set('maxEndDate', restDateParam(new Date(maxEndMs)));
  if (limit !== undefined) q.set('limit', String(limit));
  return `applications?${q.toString()}`;
}

/** Every valid end time of an application's attempts. */
function attemptEnds(app: RestApp): number[] {
  return app.attempts.flatMap((a) => {
    const ms = epochOrText(a.endTimeEpoch, a.endTime);
    return ms !== null && timeFault(ms) === null ? [ms] : [];
  });
}

/**
 * An application's end time as the listing orders it (its latest attempt's); null while running.
 * An end that is not a time (timeFault) orders nothing: as the next page's maxEndDate it would throw.
 */
function appEndMs(app: RestApp): number | null {
  const ends = attemptEnds(app);
  return ends.length === 0 ? null : Math.max(...ends);
}

/** Spark lists an application as running while its latest attempt (the first) is not completed. */
function isRunning(app: RestApp): boolean {
  const latest = app.attempts[0]!;
  return latest.completed !== undefined ? !latest.completed : appEndMs(app) === null;
}

/**
 * Whether a listed application counts against `maxApps`: the runner leaves out, before fetching,
 * the attempts of other users and the applications of other shards, so those count for nothing
 * (as the cloud sources count after filtering); an application with an attempt of the user counts.
 */
function countsAgainstMax(app: RestApp, options: HistoryServerOptions): boolean {
  if (!inShard(app.id, options.shard)) return false;
  return options.user === undefined || app.attempts.some((a) => a.sparkUser === options.user);
}

type ListPage = { apps: RestApp[]; problems: Problem[] };

/**
 * One run's listing: what its requests share. A status-all run lists twice (running, then completed)
 * under one `maxApps`; entries of the wrong shape are problems, each entry once per run.
 */
class Listing {
  /** What the listing has left to give before `maxApps` is reached. */
  private remaining: number;
  private readonly said = new Set<string>();
  /** Other users' or shards' applications do not count against maxApps: a page of them is no nearer the cap. */
  readonly filtering: boolean;

  constructor(
    readonly client: HistoryServerClient,
    readonly options: HistoryServerOptions,
    readonly signal: AbortSignal,
  ) {
    this.remaining = options.maxApps ?? Infinity;
    this.filtering = options.user !== undefined || (options.shard?.count ?? 1) > 1;
  }

  get done(): boolean {
    return this.remaining <= 0;
  }

  /** The most a request may ask for when it asks for the applications it keeps (undefined: no limit). */
  get capped(): number | undefined {
    return this.filtering || !Number.isFinite(this.remaining) ? undefined : this.remaining;
  }

  /** How many new applications a page wants: a page's worth, or what the cap leaves. */
  wanted(pageSize: number): number {
    return this.filtering ? pageSize : Math.min(pageSize, this.remaining);
  }

  /** One listing request's entries: those of the right shape, in order; the others as problems (read entry by entry, each cut to the fields appSchema reads: JsonClient.getList). */
  async read(status: 'running' | 'completed', limit: number | undefined, maxEnd: number | undefined): Promise<{ raw: number; apps: RestApp[]; problems: Problem[] }> {
    const problems: Problem[] = [];
    let bad = 0;
    const apps = await this.client.getList(listPath(this.options, status, limit, maxEnd), appSchema, this.signal, {
      onBad: (entry, i, error) => {
        bad++;
        problems.push(...this.shapeProblem(entry, i, error));
      },
    });
    return { raw: apps.length + bad, apps, problems };
  }

  /** Adds `app` to `page` if `keep` says so and the cap allows (`limit` counts applications; a server that ignores it is cut here). */
  take(app: RestApp, keep: (app: RestApp) => boolean, page: ListPage): void {
    if (!keep(app) || this.remaining <= 0) return;
    page.apps.push(app);
    if (countsAgainstMax(app, this.options)) this.remaining--;
  }

  private shapeProblem(entry: unknown, i: number, error: z.ZodError): Problem[] {
    const id = typeof (entry as { id?: unknown } | null)?.id === 'string' ? (entry as { id: string }).id : `entry ${i}`;
    const message = `application list: ${id}: unexpected shape (${error.issues[0]?.message ?? 'invalid'})`;
    if (this.said.has(message)) return [];
    this.said.add(message);
    return [{ severity: 'error', code: 'rest-shape', message, file: this.client.urlOf('applications') }];
  }
}

/**
 * The application list: for status `all`, the running applications (minDate) and then the
 * completed ones (minEndDate), so that `since` keeps an application that started before it and ended
 * after it; otherwise the one status asked for.
 */
async function* listPages(client: HistoryServerClient, options: HistoryServerOptions, signal: AbortSignal): AsyncGenerator<ListPage> {
  const listing = new Listing(client, options, signal);
  const status = options.status ?? 'completed';
  if (status !== 'completed') {
    // A server that ignores ?status gives completed applications here too: in a status-all run the completed listing gives them.
    yield await listRunning(listing, status === 'all' ? isRunning : () => true);
    if (status === 'running' || listing.done) return;
  }
  yield* listCompleted(listing, status === 'all' ? (app) => !isRunning(app) : () => true);
}

/** Running applications: one request (a running application has no end time to page by). */
async function listRunning(listing: Listing, keep: (app: RestApp) => boolean): Promise<ListPage> {
  const { apps, problems } = await listing.read('running', listing.capped, undefined);
  const page: ListPage = { apps: [], problems };
  for (const app of apps) listing.take(app, keep, page);
  return page;
}

/**
 * Completed applications, a page at a time, newest end time first (Spark's FsHistoryProvider order);
 * each next page asks for `maxEndDate` = the oldest end time seen, inclusive, and skips what it
 * already gave: the applications of the previous page's last millisecond, and those with an older
 * attempt in the window (Spark lists an application when any attempt ended in it, under its latest
 * end, so a YARN-retried application comes again at the top of every page down to its first
 * attempt's end). The page asks for that many more than it wants new, so that it always holds new
 * ones while there are any (r1: a last page of 1 + 1 filled up with a retried application and the
 * listing stopped, failed). Entries of the wrong shape come back as problems; they do not stop it.
 */
async function* listCompleted(listing: Listing, keep: (app: RestApp) => boolean): AsyncGenerator<ListPage> {
  const pageSize = listing.options.pageSize ?? 500;
  const paged = pageSize > 0;
  const minEnd = listing.options.since?.getTime() ?? -Infinity;
  let maxEnd: number | undefined;
  let boundary = new Set<string>();
  // Applications given with an attempt older than their end: id -> every attempt's end.
  const spread = new Map<string, number[]>();
  for (;;) {
    let again = 0;
    if (maxEnd !== undefined) {
      for (const [id, ends] of spread) {
        if (ends.every((e) => e > maxEnd!)) spread.delete(id); // never in a window again: they only move down
        else if (!boundary.has(id) && ends.some((e) => e >= minEnd && e <= maxEnd!)) again++;
      }
    }
    const limit = paged ? listing.wanted(pageSize) + boundary.size + again : listing.capped;
    const { raw, apps, problems } = await listing.read('completed', limit, maxEnd);
    const page: ListPage = { apps: [], problems };
    let oldest: number | null = null;
    let atOldest: string[] = [];
    let fresh = 0;
    for (const app of apps) {
      const ends = attemptEnds(app);
      const end = ends.length === 0 ? null : Math.max(...ends);
      if (end !== null && (oldest === null || end <= oldest)) {
        // The applications of the page's oldest millisecond: the next page's boundary.
        if (end !== oldest) atOldest = [];
        oldest = end;
        atOldest.push(app.id);
      }
      // Already given: the previous page's last millisecond, a retried application again, or (a server ignoring maxEndDate) newer ones.
      if (boundary.has(app.id) || (maxEnd !== undefined && end !== null && end > maxEnd)) continue;
      fresh++;
      if (end !== null && ends.some((e) => e < end)) spread.set(app.id, ends);
      listing.take(app, keep, page);
    }
    yield page;
    if (!paged || limit === undefined || raw < limit || listing.done || oldest === null) return;
    if (fresh === 0) {
      // Asking again would give the same page.
      yield { apps: [], problems: [{ severity: 'error', code: 'list-failed', message: `listing stopped early: a full page of ${raw} held no new application (does the server ignore maxEndDate or limit?)`, file: listing.client.urlOf('applications') }] };
      return;
    }
    // The same millisecond may hold applications on both sides of the page break: remember them all.
    boundary = maxEnd === oldest ? new Set([...boundary, ...atOldest]) : new Set(atOldest);
    maxEnd = oldest;
  }
}

async function fetchAttempt(
  client: HistoryServerClient,
  { app, attempt }: Listed,
  signal: AbortSignal | undefined,
  source: string,
  mode: 'api' | 'eventlog',
  limits: AttemptLogLimits & TaskSummaryLimits = {},
  space?: TempSpace,
): Promise<CollectedApp> {
  const base = `applications/${enc(app.id)}${attempt.attemptId !== undefined ? `/${enc(attempt.attemptId)}` : ''}`;
  if (mode === 'eventlog') {
    const got = await fetchAttemptLog(client, base, source, signal, limits, space);
    // The server's ids are the ones asked for, listed and kept for the next run (heldMark): the record
    // takes them. Else two attempts whose logs name none were stored as one, the second replacing the first.
    const attemptId = attempt.attemptId ?? null;
    const differs: Problem[] = [];
    if (got.record.app_id !== app.id) {
      differs.push({
        severity: 'warning',
        code: 'app-id-differs',
        message: `${app.id}: the downloaded log says App ID ${JSON.stringify(got.record.app_id.slice(0, 80))}; the record keeps the History Server's id`,
        file: client.urlOf(`${base}/logs`),
      });
    }
    if (got.record.attempt_id !== attemptId) {
      const says = got.record.attempt_id === null ? 'no attempt' : `attempt ${JSON.stringify(got.record.attempt_id.slice(0, 80))}`;
      differs.push({
        severity: 'warning',
        code: 'attempt-id-differs',
        message: `${app.id}${attemptId !== null ? ` attempt ${attemptId}` : ''}: the downloaded log says ${says}; the record keeps the History Server's attempt id`,
        file: client.urlOf(`${base}/logs`),
      });
    }
    if (differs.length === 0) return got;
    return { ...got, record: { ...got.record, app_id: app.id, attempt_id: attemptId }, problems: [...got.problems, ...differs] };
  }
  const where = client.urlOf(base);
  const problems: Problem[] = [];
  const optional = async <T>(p: Promise<T>, what: string): Promise<T | null> => {
    try {
      return await p;
    } catch (err) {
      if (err instanceof HttpError && err.status === 404) {
        problems.push({ severity: 'warning', code: 'rest-missing', message: `the server has no ${what} for this attempt (HTTP 404)`, file: where });
        return null;
      }
      throw err;
    }
  };
  // Whatever the server lacks (404) is left out and said: the record keeps what the listing and the
  // other answers give, flagged `missing:<field>`, instead of losing the whole application.
  // The lists are read entry by entry, each cut to its schema's fields as it arrives (getList): an
  // application with 100,000 stage attempts answers /stages with ~300 MB, of which ~40 MB is kept.
  const [env, executors, stages, jobs] = await Promise.all([
    optional(client.getJson(`${base}/environment`, environmentSchema, signal), '/environment'),
    optional(
      client.getList(`${base}/allexecutors`, executorSchema, signal).catch(async (err: unknown) => {
        // Servers before Spark 2.0 have only /executors.
        if (err instanceof HttpError && err.status === 404) return client.getList(`${base}/executors`, executorSchema, signal);
        throw err;
      }),
      '/allexecutors or /executors',
    ),
    optional(client.getList(`${base}/stages`, stageSchema, signal), '/stages'),
    optional(client.getList(`${base}/jobs`, jobSchema, signal), '/jobs'),
  ]);
  let properties: Record<string, string> | null = null;
  if (env !== null) {
    const read = textProperties(env.sparkProperties.flatMap((p) => (p.length === 2 ? [p as [unknown, unknown]] : [])));
    properties = read.properties;
    if (read.leftOut !== null) problems.push({ severity: 'warning', code: 'bad-property', message: `${app.id}: ${read.leftOut}`, file: client.urlOf(`${base}/environment`) });
  }
  const jobStageIds = jobs === null ? null : jobs.flatMap((j) => j.stageIds ?? []);
  const record = toRecord({ app, attempt, properties, executors: executors ?? [], stages, jobStageIds }, source, problems, where);
  // A stage's CPU time by its record's rule (REST says 0 where Spark never measured it): record/summaries.ts stageCpuKnown.
  const summaries = withStageCpu(record, toSummaries(stages, executors, problems, where));
  if (summaries !== undefined && stages !== null) await fillTaskDurations(client, base, stages, summaries, problems, signal, limits);
  return { record, ...(summaries !== undefined ? { summaries } : {}), problems, files: [], provenance: apiProvenance(where) };
}

/**
 * Every attempt of one application known by id (collectors that learn Spark app ids elsewhere, e.g.
 * Dataproc's YARN applications on a Persistent History Server), mapped as a listed one would be.
 */
export async function fetchApplication(client: HistoryServerClient, appId: string, source: string, signal?: AbortSignal, limits: TaskSummaryLimits = {}): Promise<CollectedApp[]> {
  const app = await client.getJson(`applications/${enc(appId)}`, appSchema, signal);
  return Promise.all(app.attempts.map((attempt) => fetchAttempt(client, { app, attempt }, signal, source, 'api', limits)));
}

/**
 * The mark (ApiCollector.held) the store keeps of a completed attempt, so that a later run can tell
 * it holds it (CollectContext.isUnchanged): one "file", the attempt's URL (mode eventlog: its `/logs`
 * URL, so that a record read through the REST answers does not keep the log from being read when a
 * source changes mode), whose mtime is its end time. A completed attempt's answers and log do not
 * change while its end time does not; an attempt read with an error, or whose record is not
 * completed or failed, is not held (the runner) and is read again. Null while running.
 */
function heldMark(client: HistoryServerClient, { app, attempt }: Listed, mode: 'api' | 'eventlog'): Provenance | null {
  // record.ts: completed only when the listing says so.
  if (attempt.completed !== true) return null;
  const end = epochOrText(attempt.endTimeEpoch, attempt.endTime);
  if (end === null || timeFault(end) !== null) return null;
  const base = `applications/${enc(app.id)}${attempt.attemptId !== undefined ? `/${enc(attempt.attemptId)}` : ''}`;
  const where = client.urlOf(mode === 'eventlog' ? `${base}/logs` : base);
  return { path: where, files: [{ path: where, size: 0, mtimeMs: end, codec: mode === 'eventlog' ? 'zip' : 'rest' }] };
}

/** The time `since` judges an attempt's record by (record.ts: its end once completed, else its start), when the listing gives it cleanly. */
function listedTime(attempt: RestAttempt): { time?: number } {
  const ms = attempt.completed === true ? epochOrText(attempt.endTimeEpoch, attempt.endTime) : epochOrText(attempt.startTimeEpoch, attempt.startTime);
  return ms !== null && timeFault(ms) === null ? { time: ms } : {};
}

// Servers that ignore minEndDate/minDate still give the right answer: the runner filters the records too.
export async function* collectHistoryServer(options: HistoryServerOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'history_server';
  const client = new HistoryServerClient(options);
  const mode = options.mode ?? 'api';
  // What `since` judges attempt by attempt (in the runner, before and after fetching): the user's
  // own since; an incremental run's (cursor.ts) only narrows the listing. Its cursor claims that
  // every application that had ended by then is stored, so an application still running then (a
  // YARN retry) comes with every attempt once it ends, an attempt that ended long before the cursor
  // too: judged by the cursor's since, that attempt was never stored (a review).
  const judged: HistoryServerOptions = options.cursor === undefined ? options : { ...options, since: undefined };
  // Mode eventlog: the temp disk the run's attempts in flight share (eventLogMode.ts).
  const space = new TempSpace();
  yield* runApiCollector<Listed, CollectedApp>(judged, ctx, (run) => ({
    // listPages asks for `limit` applications; the items here are their attempts.
    maxApps: 'listing',
    // Every attempt of an application goes with it: the application id splits a sharded run.
    shard: { unit: 'application attempt', key: ({ app }) => app.id },
    bytesRead: () => client.bytesRead,
    list: async function* () {
      for await (const page of listPages(client, options, run.signal)) {
        yield { items: page.apps.flatMap((app) => app.attempts.map((attempt): Listed => ({ app, attempt }))), problems: page.problems };
      }
    },
    // The user filter is ours (the API has none), and `since` is judged by the attempt's own time (the
    // server lists an application when any attempt is in the window): both before fetching anything.
    listed: ({ attempt }) => ({ user: attempt.sparkUser ?? null, ...listedTime(attempt) }),
    // Incremental runs ask again for the hour before their cursor (cursor.ts): an attempt the store
    // holds completed with the same end time is not fetched again (in mode eventlog its log is not
    // downloaded again).
    held: (item) => heldMark(client, item, mode),
    fetch: (item) => fetchAttempt(client, item, run.signal, source, mode, options, space),
    // Held once its record is completed or failed: a log the listing calls completed that has no end
    // (status unknown, truncated) is read again next run, as a running one is.
    found: (app) => [{ apps: [app], ...(app.record.status === 'completed' || app.record.status === 'failed' ? {} : { incomplete: true as const }) }],
    refused: (err) => (err instanceof AuthError ? { severity: 'error', code: 'auth-failed', message: `${err.message}; stopping the run (check the username/password or token)`, file: client.urlOf(err.path) } : undefined),
    listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: `listing applications failed: ${err.message}`, file: client.apiBase }),
    failed: ({ app, attempt }, err) => ({
      severity: 'error',
      code: err instanceof ResponseError ? 'rest-invalid' : 'rest-failed',
      message: `${app.id}${attempt.attemptId !== undefined ? ` attempt ${attempt.attemptId}` : ''}: ${err.message}`,
      file: client.urlOf(`applications/${enc(app.id)}`),
    }),
    close: () => client.close(),
  }));
}

/** Everything one History Server collection found; for tests and small runs. */
export function collectHistoryServerAll(options: HistoryServerOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectHistoryServer(options, ctx));
}
