/**
 * The History Server collector: list applications through `/api/v1/applications`, then for each
 * attempt read `/environment`, `/allexecutors`, `/stages` and `/jobs` (a few attempts at a time) and
 * map them onto the same record fields as the event-log engine (replay.ts), decision for decision.
 *
 * One bad application (404, malformed JSON, unexpected shape, retries exhausted) becomes a problem
 * for that application and the others still arrive. Wrong credentials (401/403) are reported once
 * and stop the run; so does a listing that cannot be read.
 */
import { setMaxListeners } from 'node:events';
import { z } from 'zod';
import { memoryStringToMb } from '../eventlog/jvmUnits';
import { fetchAttemptLog, type AttemptLogLimits } from './eventLogMode';
import { Batcher, pooled } from '../batching';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered } from '../contract';
import { Quality, checkedCount, checkedTime, isoTime, matchesFilter, redactSecrets, sparkVersionBefore, textProperties, timeFault, validateRecord, type Problem, type SparkAppRecord } from '../record';
import { HistoryServerClient, type ClientOptions } from './client';
import { AuthError, HttpError, ResponseError } from '../http/jsonClient';

/** With the limits `mode: eventlog` downloads and reads each attempt's log with (eventLogMode.ts). */
export interface HistoryServerOptions extends ClientOptions, AttemptLogLimits {
  /** Which applications to list (default completed). */
  status?: 'completed' | 'running' | 'all';
  /** Completed apps that ended at/after this time (`minEndDate`); otherwise apps started at/after (`minDate`). */
  since?: Date;
  user?: string;
  maxApps?: number;
  /** Attempts fetched at once (default 4). */
  concurrency?: number;
  /** `api` (default): the REST answers; `eventlog`: download each attempt's event log and parse it. */
  mode?: 'api' | 'eventlog';
  batchSize?: number;
  /** Name of the configured source, stored in each record's `source`. */
  source?: string;
  /**
   * Completed applications are listed this many at a time, in end-time windows (`maxEndDate` set to
   * the oldest end time of the previous page), so a server with many thousands of applications is
   * never held in memory at once. 0 = one request for the whole list. Default 500.
   */
  pageSize?: number;
}

// ---------------------------------------------------------------------------------------------
// The answers, loosely: only the fields we read; everything else may change between Spark versions.

const n = z.number().optional();
const attemptSchema = z.object({
  attemptId: z.string().optional(),
  startTime: z.string().optional(),
  endTime: z.string().optional(),
  startTimeEpoch: n,
  endTimeEpoch: n,
  sparkUser: z.string().optional(),
  completed: z.boolean().optional(),
  appSparkVersion: z.string().optional(),
});
const appSchema = z.object({ id: z.string().min(1), name: z.string().optional(), attempts: z.array(attemptSchema).min(1) });
export type RestApp = z.infer<typeof appSchema>;
export type RestAttempt = z.infer<typeof attemptSchema>;

const listSchema = z.array(z.unknown());
const environmentSchema = z.object({ sparkProperties: z.array(z.array(z.unknown())) });
const executorSchema = z.object({ id: z.string(), totalCores: n });
const stageSchema = z.object({
  status: z.string(),
  stageId: z.number(),
  attemptId: n,
  numCompleteTasks: n,
  numFailedTasks: n,
  numKilledTasks: n,
  executorCpuTime: n,
  executorRunTime: n,
  inputBytes: n,
  outputBytes: n,
  shuffleReadBytes: n,
  shuffleRemoteBytesRead: n,
  shuffleLocalBytesRead: n,
  shuffleWriteBytes: n,
  memoryBytesSpilled: n,
  diskBytesSpilled: n,
});
const jobSchema = z.object({ jobId: z.number(), stageIds: z.array(z.number()).optional() });

export type RestStage = z.infer<typeof stageSchema>;
export type RestExecutor = z.infer<typeof executorSchema>;

/** `2015-02-03T16:42:59.720GMT` (the REST API's date format) as epoch ms. */
export function restTimeMs(text: string | undefined): number | null {
  if (text === undefined) return null;
  const ms = Date.parse(text.replace(/GMT$/, 'Z'));
  return Number.isNaN(ms) ? null : ms;
}

/** Spark's own date parameter format: `yyyy-MM-dd'T'HH:mm:ss.SSS` + `GMT`. */
export function restDateParam(d: Date): string {
  return d.toISOString().replace(/Z$/, 'GMT');
}

function epochOrText(epoch: number | undefined, text: string | undefined): number | null {
  // Running apps report endTimeEpoch -1 (endTime 1969-12-31T23:59:59.999GMT).
  const ms = epoch ?? restTimeMs(text);
  return ms === null || ms <= 0 ? null : ms;
}

const pos = (v: number | undefined): number => (v !== undefined && Number.isFinite(v) && v > 0 ? v : 0);
const isDriver = (id: string): boolean => id === 'driver' || id === '<driver>';

export interface AttemptAnswers {
  app: RestApp;
  attempt: RestAttempt;
  /** null when the server has no /environment for the attempt. */
  properties: Record<string, string> | null;
  executors: RestExecutor[];
  /** null when the server has no /stages for the attempt: task and stage totals are then unknown. */
  stages: RestStage[] | null;
  /** Stage ids the jobs reference; null when /jobs was not available. */
  jobStageIds: number[] | null;
}

/** Maps one attempt's REST answers onto the record, with replay.ts's decisions. */
export function toRecord(a: AttemptAnswers, source: string, problems: Problem[], where: string): SparkAppRecord {
  const quality = new Set<string>();
  const found = { quality, problems, where };
  const props = a.properties ?? {};
  if (a.properties === null) quality.add(Quality.missing('environment'));

  const memory = (field: 'executor_memory_mb' | 'driver_memory_mb', key: string): number => {
    const raw = props[key];
    const mb = raw === undefined ? null : memoryStringToMb(raw);
    if (raw !== undefined && mb === null) problems.push({ severity: 'warning', code: 'bad-property', message: `${key}=${JSON.stringify(raw)} is not a JVM memory size; using Spark's default 1g`, file: where });
    if (mb !== null) return mb;
    quality.add(Quality.defaulted(field));
    return 1024;
  };

  const ids = a.executors.map((e) => e.id);
  const nonDriver = ids.filter((id) => !isDriver(id));
  const numExecutors = ids.length === 0 ? null : nonDriver.length > 0 ? nonDriver.length : 1;
  if (numExecutors === null) quality.add(Quality.missing('num_executors'));

  let executorCores: number | null;
  const coresProp = props['spark.executor.cores'];
  if (coresProp !== undefined && /^\d+$/.test(coresProp.trim())) executorCores = Number(coresProp);
  else {
    // REST reports totalCores 0 for executors known only from a block manager (logs before Spark
    // 1.3 have no ExecutorAdded); replay.ts has no cores for those either, so 0 means "unknown".
    const withCores = a.executors.filter((e) => pos(e.totalCores) > 0);
    const nonDriverCores = withCores.filter((e) => !isDriver(e.id));
    const observed = (nonDriverCores.length > 0 ? nonDriverCores : withCores).map((e) => pos(e.totalCores));
    if (observed.length > 0) executorCores = Math.max(...observed);
    else {
      executorCores = 1;
      quality.add(Quality.defaulted('executor_cores'));
    }
  }

  const startMs = checkedTime(epochOrText(a.attempt.startTimeEpoch, a.attempt.startTime), 'start_time', 'startTimeEpoch/startTime', found);
  const completed = a.attempt.completed === true;
  const endMs = completed ? checkedTime(epochOrText(a.attempt.endTimeEpoch, a.attempt.endTime), 'end_time', 'endTimeEpoch/endTime', found) : null;
  if (startMs === null && !quality.has(Quality.invalid('start_time'))) quality.add(Quality.missing('start_time'));
  const sparkVersion = a.attempt.appSparkVersion !== undefined && a.attempt.appSparkVersion !== '' ? a.attempt.appSparkVersion : null;
  if (sparkVersion === null) quality.add(Quality.missing('spark_version'));

  const submitProp = props['spark.app.submitTime'];
  let submitMs = submitProp !== undefined && /^\d+$/.test(submitProp) ? checkedTime(Number(submitProp), 'submit_time', 'spark.app.submitTime', found) : null;
  if (submitMs === null && startMs !== null && !quality.has(Quality.invalid('submit_time'))) {
    submitMs = startMs;
    quality.add(Quality.defaulted('submit_time'));
  }

  const status = completed ? 'completed' : 'running';
  if (!completed) quality.add(Quality.inProgress);

  let duration: number | null = null;
  if (startMs !== null && endMs !== null) {
    duration = endMs - startMs;
    if (duration < 0) {
      problems.push({ severity: 'error', code: 'time-order', message: `application ends (${isoTime(endMs)}) before it starts (${isoTime(startMs)})`, file: where });
      duration = null;
    }
  }

  if (a.stages === null) for (const f of ['total_tasks', 'total_stages', 'cpu_time_ms'] as const) quality.add(Quality.missing(f));
  const stages = a.stages ?? [];
  // Stage attempts that ran: never-submitted (SKIPPED) and waiting (PENDING) ones did no task.
  const ran = stages.filter((s) => s.status !== 'SKIPPED' && s.status !== 'PENDING');
  const sum = (f: (s: RestStage) => number): number => ran.reduce((t, s) => t + f(s), 0);
  // As pos(), but a stage value that cannot be true (a fraction, past 2^53) is left out of its total, reported and flagged.
  const value =
    (field: keyof SparkAppRecord, key: 'executorCpuTime' | 'inputBytes' | 'outputBytes' | 'shuffleReadBytes' | 'shuffleRemoteBytesRead' | 'shuffleLocalBytesRead' | 'shuffleWriteBytes' | 'memoryBytesSpilled' | 'diskBytesSpilled') =>
    (s: RestStage): number => {
      const v = s[key];
      return v === undefined || v <= 0 ? 0 : (checkedCount(v, field, `stage ${s.stageId}.${s.attemptId ?? 0} ${key}`, found) ?? 0);
    };
  const finished = ran.filter((s) => s.status === 'COMPLETE' || s.status === 'FAILED');
  const stageKeys = new Set(finished.map((s) => `${s.stageId}.${s.attemptId ?? 0}`));
  const failedKeys = new Set(finished.filter((s) => s.status === 'FAILED').map((s) => `${s.stageId}.${s.attemptId ?? 0}`));

  if (a.jobStageIds !== null) {
    const listed = new Set(stages.map((s) => s.stageId));
    const missing = [...new Set(a.jobStageIds)].filter((id) => !listed.has(id));
    if (missing.length > 0) {
      quality.add(Quality.restCapped);
      problems.push({ severity: 'warning', code: 'rest-capped', message: `the server no longer lists ${missing.length} stage(s) its jobs reference (spark.ui.retainedStages): task and stage totals are partial`, file: where });
    }
  }

  // REST reports executorCpuTime 0 where Spark never measured it (before 2.1; a newer server
  // replaying an old log), and older servers leave it out: tasks that ran without a nanosecond of
  // CPU mean CPU time is unknown, not 0.
  const cpuNs = sum(value('cpu_time_ms', 'executorCpuTime'));
  const cpuInvalid = quality.has(Quality.invalid('cpu_time_ms'));
  const cpuKnown = a.stages !== null && !sparkVersionBefore(sparkVersion, 2, 1) && (cpuNs > 0 || sum((s) => pos(s.executorRunTime)) === 0) && !cpuInvalid;
  if (!cpuKnown && !cpuInvalid) quality.add(Quality.missing('cpu_time_ms'));

  const environment = redactSecrets(props);

  const record: SparkAppRecord = {
    app_id: a.app.id,
    attempt_id: a.attempt.attemptId ?? null,
    app_name: a.app.name ?? null,
    user: a.attempt.sparkUser ?? null,
    submit_time: isoTime(submitMs),
    start_time: isoTime(startMs),
    end_time: isoTime(endMs),
    duration_ms: duration,
    spark_version: sparkVersion,
    executor_cores: executorCores,
    executor_memory_mb: memory('executor_memory_mb', 'spark.executor.memory'),
    num_executors: numExecutors,
    driver_memory_mb: memory('driver_memory_mb', 'spark.driver.memory'),
    total_tasks: sum((s) => pos(s.numCompleteTasks) + pos(s.numFailedTasks) + pos(s.numKilledTasks)),
    failed_tasks: sum((s) => pos(s.numFailedTasks)),
    total_stages: stageKeys.size,
    failed_stages: failedKeys.size,
    cpu_time_ms: cpuKnown ? Math.floor(cpuNs / 1e6) : null,
    input_bytes: sum(value('input_bytes', 'inputBytes')),
    output_bytes: sum(value('output_bytes', 'outputBytes')),
    shuffle_read_bytes: sum((s) => (s.shuffleReadBytes !== undefined ? value('shuffle_read_bytes', 'shuffleReadBytes')(s) : value('shuffle_read_bytes', 'shuffleRemoteBytesRead')(s) + value('shuffle_read_bytes', 'shuffleLocalBytesRead')(s))),
    shuffle_write_bytes: sum(value('shuffle_write_bytes', 'shuffleWriteBytes')),
    memory_spilled_bytes: sum(value('memory_spilled_bytes', 'memoryBytesSpilled')),
    disk_spilled_bytes: sum(value('disk_spilled_bytes', 'diskBytesSpilled')),
    tags: { origin: 'history_server' },
    environment,
    source,
    status,
    quality: [...quality].sort(),
  };
  problems.push(...validateRecord(record, where));
  return record;
}

// ---------------------------------------------------------------------------------------------

interface Listed {
  app: RestApp;
  attempt: RestAttempt;
}

const enc = encodeURIComponent;

function listPath(options: HistoryServerOptions, limit: number | undefined, maxEndMs: number | undefined): string {
  const q = new URLSearchParams();
  const status = options.status ?? 'completed';
  if (status !== 'all') q.set('status', status);
  if (options.since) q.set(status === 'completed' ? 'minEndDate' : 'minDate', restDateParam(options.since));
  if (maxEndMs !== undefined) q.set('maxEndDate', restDateParam(new Date(maxEndMs)));
  if (limit !== undefined) q.set('limit', String(limit));
  const qs = q.toString();
  return qs === '' ? 'applications' : `applications?${qs}`;
}

/**
 * An application's end time as the listing orders it (its latest attempt's); null while running.
 * An end that is not a time (timeFault) orders nothing: as the next page's maxEndDate it would throw.
 */
function appEndMs(app: RestApp): number | null {
  let end: number | null = null;
  for (const a of app.attempts) {
    const ms = epochOrText(a.endTimeEpoch, a.endTime);
    if (ms !== null && timeFault(ms) === null && (end === null || ms > end)) end = ms;
  }
  return end;
}

/**
 * The application list, a page at a time. Completed applications come newest end time first
 * (Spark's FsHistoryProvider order); each next page asks for `maxEndDate` = the oldest end time seen,
 * inclusive, and skips the applications of the previous page's last millisecond it already gave.
 * Entries of the wrong shape come back as problems; they do not stop the listing.
 */
async function* listPages(client: HistoryServerClient, options: HistoryServerOptions, signal: AbortSignal): AsyncGenerator<{ apps: RestApp[]; problems: Problem[] }> {
  const paged = (options.status ?? 'completed') === 'completed' && (options.pageSize ?? 500) > 0;
  const pageSize = options.pageSize ?? 500;
  let remaining = options.maxApps ?? Infinity;
  let maxEnd: number | undefined;
  let boundary = new Set<string>();
  for (;;) {
    // Apps of the boundary millisecond come again: ask for that many more.
    const limit = paged ? Math.min(pageSize, remaining) + boundary.size : options.maxApps;
    // Entries are checked one by one below; a large listing keeps only the fields appSchema reads.
    const raw = await client.getJson(listPath(options, limit, maxEnd), listSchema, signal, { shape: z.array(appSchema) });
    const apps: RestApp[] = [];
    const problems: Problem[] = [];
    let oldest: number | null = null;
    let fresh = 0;
    for (const [i, entry] of raw.entries()) {
      const app = appSchema.safeParse(entry);
      if (!app.success) {
        const id = typeof (entry as { id?: unknown } | null)?.id === 'string' ? (entry as { id: string }).id : `entry ${i}`;
        problems.push({ severity: 'error', code: 'rest-shape', message: `application list: ${id}: unexpected shape (${app.error.issues[0]?.message ?? 'invalid'})`, file: client.urlOf('applications') });
        continue;
      }
      const end = appEndMs(app.data);
      if (end !== null && (oldest === null || end < oldest)) oldest = end;
      // Already given: the previous page's last millisecond, or (a server ignoring maxEndDate) newer ones.
      if (boundary.has(app.data.id) || (maxEnd !== undefined && end !== null && end > maxEnd)) continue;
      fresh++;
      // `limit` counts applications; a server that ignores it is cut here.
      if (apps.length < remaining) apps.push(app.data);
    }
    remaining -= apps.length;
    yield { apps, problems };
    if (!paged || limit === undefined || raw.length < limit || remaining <= 0 || oldest === null) return;
    const next = raw
      .map((e) => appSchema.safeParse(e))
      .flatMap((r) => (r.success && appEndMs(r.data) === oldest ? [r.data.id] : []));
    if (fresh === 0) {
      // Asking again would give the same page.
      yield { apps: [], problems: [{ severity: 'error', code: 'list-failed', message: `listing stopped early: a full page of ${raw.length} held no new application (does the server ignore maxEndDate or limit?)`, file: client.urlOf('applications') }] };
      return;
    }
    // The same millisecond may hold applications on both sides of the page break: remember them all.
    boundary = maxEnd === oldest ? new Set([...boundary, ...next]) : new Set(next);
    maxEnd = oldest;
  }
}

async function fetchAttempt(client: HistoryServerClient, { app, attempt }: Listed, signal: AbortSignal | undefined, source: string, mode: 'api' | 'eventlog', limits: AttemptLogLimits = {}): Promise<CollectedApp> {
  const base = `applications/${enc(app.id)}${attempt.attemptId !== undefined ? `/${enc(attempt.attemptId)}` : ''}`;
  if (mode === 'eventlog') {
    const got = await fetchAttemptLog(client, base, source, signal, limits);
    if (got.record.app_id === app.id) return got;
    // The server's id is the one asked for, listed and kept for the next run: the record takes it.
    const differs: Problem = {
      severity: 'warning',
      code: 'app-id-differs',
      message: `${app.id}: the downloaded log says App ID ${JSON.stringify(got.record.app_id.slice(0, 80))}; the record keeps the History Server's id`,
      file: client.urlOf(`${base}/logs`),
    };
    return { ...got, record: { ...got.record, app_id: app.id }, problems: [...got.problems, differs] };
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
  const [env, executors, stages, jobs] = await Promise.all([
    optional(client.getJson(`${base}/environment`, environmentSchema, signal), '/environment'),
    optional(
      client.getJson(`${base}/allexecutors`, z.array(executorSchema), signal).catch(async (err: unknown) => {
        // Servers before Spark 2.0 have only /executors.
        if (err instanceof HttpError && err.status === 404) return client.getJson(`${base}/executors`, z.array(executorSchema), signal);
        throw err;
      }),
      '/allexecutors or /executors',
    ),
    optional(client.getJson(`${base}/stages`, z.array(stageSchema), signal), '/stages'),
    optional(client.getJson(`${base}/jobs`, z.array(jobSchema), signal), '/jobs'),
  ]);
  let properties: Record<string, string> | null = null;
  if (env !== null) {
    const read = textProperties(env.sparkProperties.flatMap((p) => (p.length === 2 ? [p as [unknown, unknown]] : [])));
    properties = read.properties;
    if (read.leftOut !== null) problems.push({ severity: 'warning', code: 'bad-property', message: `${app.id}: ${read.leftOut}`, file: client.urlOf(`${base}/environment`) });
  }
  const jobStageIds = jobs === null ? null : jobs.flatMap((j) => j.stageIds ?? []);
  const record = toRecord({ app, attempt, properties, executors: executors ?? [], stages, jobStageIds }, source, problems, where);
  return { record, problems, files: [], provenance: apiProvenance(where) };
}

/**
 * Every attempt of one application known by id (collectors that learn Spark app ids elsewhere, e.g.
 * Dataproc's YARN applications on a Persistent History Server), mapped as a listed one would be.
 */
export async function fetchApplication(client: HistoryServerClient, appId: string, source: string, signal?: AbortSignal): Promise<CollectedApp[]> {
  const app = await client.getJson(`applications/${enc(appId)}`, appSchema, signal);
  return Promise.all(app.attempts.map((attempt) => fetchAttempt(client, { app, attempt }, signal, source, 'api')));
}

// Servers that ignore minEndDate/minDate still give the right answer: the filter is applied here too.
export async function* collectHistoryServer(options: HistoryServerOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'history_server';
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const client = new HistoryServerClient(options);
  const report = (): void => ctx.onProgress?.({ ...progress, bytesRead: client.bytesRead });
  const batcher = new Batcher(Math.max(1, options.batchSize ?? 100));
  const progress = batcher.progress;
  const stopProblem = (err: unknown, what: string): Problem => {
    if (err instanceof AuthError) return { severity: 'error', code: 'auth-failed', message: `${err.message}; stopping the run (check the username/password or token)`, file: client.urlOf(err.path) };
    const message = err instanceof Error ? err.message : String(err);
    return { severity: 'error', code: 'list-failed', message: `${what}: ${message}`, file: client.apiBase };
  };

  // A private controller: an auth failure cancels the other requests in flight.
  const controller = new AbortController();
  // Every request in flight (up to 4 per attempt) listens on this signal, one listener each, removed when it ends.
  setMaxListeners((options.concurrency ?? 4) * 5 + 5, controller.signal);
  const onAbort = (): void => controller.abort(ctx.signal?.reason);
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  let stopped = false;

  /** The attempts to fetch, a listing page at a time; a listing that fails is one problem and ends the list. */
  async function* wanted(): AsyncGenerator<Listed[]> {
    const pages = listPages(client, options, controller.signal);
    for (;;) {
      let page: IteratorResult<{ apps: RestApp[]; problems: Problem[] }>;
      try {
        page = await pages.next();
      } catch (err) {
        if (ctx.signal?.aborted) throw err;
        if (!stopped) batcher.problem(stopProblem(err, 'listing applications failed'));
        return;
      }
      if (page.done || stopped) return;
      for (const p of page.value.problems) batcher.problem(p);
      const listed = page.value.apps.flatMap((app) => app.attempts.map((attempt): Listed => ({ app, attempt })));
      // The user filter is ours (the API has none): drop before fetching anything.
      const kept = listed.filter((l) => options.user === undefined || l.attempt.sparkUser === options.user);
      batcher.filtered(listed.length - kept.length);
      progress.logsFound += kept.length;
      report();
      ctx.signal?.throwIfAborted();
      yield kept;
    }
  }

  // Fetches still running when the run ends early (cancelled, or the consumer stopped): they are
  // aborted and waited for, so that each one's temporary folder is gone when the run is.
  const running = new Set<Promise<unknown>>();
  try {
    const fetch = (item: Listed): Promise<CollectedApp> => {
      const p = fetchAttempt(client, item, controller.signal, source, options.mode ?? 'api', options);
      const settled: Promise<unknown> = p.then(
        () => running.delete(settled),
        () => running.delete(settled),
      );
      running.add(settled);
      return p;
    };
    for await (const done of pooled(wanted(), fetch, concurrency, () => stopped)) {
      progress.logsDone++;
      const label = `${done.item.app.id}${done.item.attempt.attemptId !== undefined ? ` attempt ${done.item.attempt.attemptId}` : ''}`;
      if ('error' in done) {
        if (ctx.signal?.aborted) throw done.error;
        if (done.error instanceof AuthError) {
          if (!stopped) {
            stopped = true;
            batcher.problem(stopProblem(done.error, label));
            controller.abort(done.error);
          }
        } else if (!stopped) {
          const code = done.error instanceof ResponseError ? 'rest-invalid' : 'rest-failed';
          batcher.problem({ severity: 'error', code, message: `${label}: ${done.error.message}`, file: client.urlOf(`applications/${enc(done.item.app.id)}`) });
        }
      } else if (matchesFilter(done.result.record, options)) {
        batcher.app(done.result);
      } else {
        batcher.filtered();
      }
      report();
      if (batcher.full) yield batcher.take();
    }
    ctx.signal?.throwIfAborted();
    if (!batcher.empty) yield batcher.take();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    if (running.size > 0) {
      controller.abort(ctx.signal?.reason ?? new Error('the collection stopped'));
      await Promise.allSettled([...running]);
    }
    await client.close();
  }
}

/** Everything one History Server collection found; for tests and small runs. */
export function collectHistoryServerAll(options: HistoryServerOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectHistoryServer(options, ctx));
}
