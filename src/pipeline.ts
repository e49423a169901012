/**
 * One collection pipeline for the CLI and the editor: plan -> run -> sink.
 * - plan: configured sources become jobs (registry.ts), with command-line flags winning over the
 *   config, the editor's settings filling in what it leaves out, the editor's stored secrets, and
 *   incremental `since` from the store. A source that cannot start is reported, the others planned.
 * - run: a job's batches. `runJob` is the one place a job meets its collector: the CLI calls it in
 *   its own thread, the editor's collection worker (worker/collectWorker.ts) in a worker thread.
 * - sink: the store (ingest.ts: upserts, file bookkeeping, the run record, scheduled saves) or a
 *   dry run that only counts. Once the run's signal aborts, its collector yields what it had read to
 *   the end and stops: that is stored (or counted), nothing else, and no later job starts.
 * - check (issue 18): once every job is stored, the runs the run stored new or updated are checked
 *   against their own history (analysis/regression.ts) with their source's thresholds, the checks
 *   stored, and the regressed ones returned in the run's result for the caller to report. So are its
 *   sources' runs that an earlier, cancelled or killed, run stored but never checked, and the runs
 *   stored before whose baselines a run it stored joins (an older run collected after newer ones) or
 *   a run it removed leaves (a platform-level run its Spark application's record replaces).
 */
import { checkRegressions, laterChecks } from './analysis/regression';
import { DEFAULT_THRESHOLDS, sourceThresholds, type RegressionConfig, type RegressionThresholds } from './analysis/regressionThresholds';
import type { Batch, CollectContext } from './collectors/contract';
import type { JobOverrides, StoredSecret } from './collectors/descriptor';
import { adjustedJob, collectSource, cursorKey, cursorTracker, incrementalJob, jobsFor, recordedOptions, stoppedRun, type CursorKey, type SourceConfig, type SourceJob } from './collectors/registry';
import type { Problem } from './collectors/record';
import { applyBatch, dryRunRepository, emptyCounts, ingest, type SaveSchedule } from './storage/ingest';
import { LISTED_THROUGH, appKeyId, runTimeOf } from './storage/keys';
import type { AppKey, JobRepository, LaterRun, RunCounts, RunGroup } from './storage/repository';
import { pushAll } from './common/arrays';

export interface PlannedJob {
  job: SourceJob;
  /** What the run record keeps of its options (no secrets). */
  recorded: Record<string, unknown>;
  /** The source's `regression:` mapping (issue 18): its keys win over the thresholds the sink is given. */
  regression?: RegressionConfig;
}

export interface PlanOptions {
  /** Command-line flags: they win over each source's config. */
  overrides?: JobOverrides;
  /** The editor's settings: they fill in what a source's config leaves out. */
  defaults?: JobOverrides;
  /** The secret the editor keeps for a source, if any. */
  stored?: (source: SourceConfig) => StoredSecret | undefined;
  /**
   * Incremental runs: a job's cursor, where complete listings of its source and scope reached
   * (JobRepository.newestEndTime with the key; historyServer/cursor.ts); no store: a full run.
   */
  newestEndTime?: (of: CursorKey) => string | null;
}

export interface Plan {
  jobs: PlannedJob[];
  /** Sources that cannot start (a `${env:VAR}` that is not set): named, with why; the others run. */
  failed: { source: string; message: string }[];
}

export function plan(sources: readonly SourceConfig[], options: PlanOptions = {}): Plan {
  const out: Plan = { jobs: [], failed: [] };
  for (const source of sources) {
    let jobs: SourceJob[];
    try {
      jobs = jobsFor(source, options.stored?.(source));
    } catch (err) {
      out.failed.push({ source: source.name, message: (err as Error).message });
      continue;
    }
    for (const raw of jobs) {
      const adjusted = adjustedJob(raw, options.overrides, options.defaults);
      const job = options.newestEndTime ? incrementalJob(adjusted, options.newestEndTime) : adjusted;
      out.jobs.push({ job, recorded: recordedOptions(job), ...(source.regression ? { regression: source.regression } : {}) });
    }
  }
  return out;
}

/** A job's batches, read in this thread (the CLI, and the editor's collection worker). */
export function runJob(job: SourceJob, ctx: CollectContext): AsyncGenerator<Batch> {
  return collectSource(job, ctx);
}

/** A run that a collection found regressed against its own history (issue 18). */
export interface RegressedRun {
  key: AppKey;
  app_name: string | null;
  source: string;
  /** The check's one line: "Duration 2.0x, CPU time 2.1x; input 2.0x". */
  summary: string;
}

/** Where a job's batches go. */
export interface Sink {
  /** Stores (or counts) `batches`, until they end: after `signal` aborts, what the collector yields is what it had read to the end (ingest.ts). The counts are what was taken. */
  take(job: PlannedJob, batches: AsyncIterable<Batch>, signal: AbortSignal, onBatch: (batch: Batch) => void): Promise<RunCounts>;
  /**
   * After the run's last job (or its failure), unless it was cancelled: checks what the jobs stored,
   * stores the checks and returns the regressed runs. Stops between chunks once `signal` aborts.
   */
  afterRun?(signal: AbortSignal): Promise<RegressedRun[]>;
}

export interface StoreSinkOptions {
  saves?: SaveSchedule;
  sliceSize?: number;
  /**
   * How stored runs are judged against their history (issue 18): the CLI's defaults
   * (DEFAULT_THRESHOLDS, when left out), or the editor's settings; each source's `regression:` keys win over them.
   */
  regression?: { thresholds: Readonly<RegressionThresholds> };
  /**
   * Progress of the check after the run's last job (issue 18): runs checked so far of those stored,
   * once before the first chunk and after each. A first collection of 100,000 logs checks for ~10 s.
   */
  onCheck?: (checked: number, total: number) => void;
}

/**
 * Runs checked at a time: what a check holds (each run's and its baseline's figures) stays bounded
 * when a first collection stores 100,000 runs; ~100 ms of work each (BENCHMARKS.md, Issue 18).
 */
const CHECK_CHUNK = 1000;
/**
 * Runs of a run's sources stored without a check (a collection cancelled or killed before its
 * check) that a collection checks besides its own: about a second of checking. Their logs are
 * unchanged, so nothing else would ever check them; a larger backlog goes over the next collections.
 */
const LEFT_UNCHECKED = 10_000;

/**
 * Where a run sits in its history: name, source and time (baselines' order). Checks go through the
 * runs in this order, so that a chunk holds runs of one name close in time, whose baselines the store
 * reads together (SqlJsRepository.baselines); a first collection of 10,000 runs read each baseline
 * row ten times over in the order the logs were read (issue #12).
 */
const historyPlace = (appName: string | null, source: string, time: string | null): string => `${appName ?? ''}\u0000${source}\u0000${time ?? ''}`;

/** The store: each job is a recorded run (ingest.ts); the runs they store new or updated are checked at the end. */
export function storeSink(repo: JobRepository, options: StoreSinkOptions = {}): Sink {
  const changed: AppKey[] = [];
  const places = new Map<string, string>();
  // The completed runs read, by key: a stored one may be in the baselines of runs stored before it (laterChecks).
  const completed = new Map<string, AppKey & RunGroup>();
  // The runs the jobs removed that were in a history (superseded platform-level runs): the runs after them are checked again too.
  const removed: LaterRun[] = [];
  const base = options.regression?.thresholds ?? DEFAULT_THRESHOLDS;
  // Jobs by source name: every job of a source has its config (one per event-log path).
  const thresholds = new Map<string, Readonly<RegressionThresholds>>();
  return {
    take: async (planned, batches, signal, onBatch) => {
      if (!thresholds.has(planned.job.name)) thresholds.set(planned.job.name, planned.regression ? sourceThresholds(base, planned.regression) : base);
      const first = changed.length;
      // What the run's cursor needs (a History Server run's: historyServer/cursor.ts); none for the other types.
      const cursor = cursorTracker(planned.job);
      const summary = await ingest(repo, batches, {
        source: planned.job.name,
        options: planned.recorded,
        saves: options.saves,
        sliceSize: options.sliceSize,
        signal,
        changed,
        removed,
        onBatch: (batch) => {
          cursor?.take(batch);
          if (changed.length > first) {
            for (const { record: r } of batch.apps) {
              const id = appKeyId(r);
              const time = runTimeOf(r);
              places.set(id, historyPlace(r.app_name, r.source, time));
              if (r.status === 'completed' && r.app_name !== null && time !== null) completed.set(id, { app_id: r.app_id, attempt_id: r.attempt_id, app_name: r.app_name, source: r.source, time });
            }
          }
          onBatch(batch);
        },
      });
      // Once its records are stored, a run that listed its server completely records where it reached:
      // the next run's cursor. Only if every record it read was stored: one the store refused (a value
      // the server cannot hold: PostgresStore.storeBatch) or that failed is read again next time, as
      // its warning says, so no cursor may pass it (a review: app-b refused, the cursor went on to
      // app-c's end, and app-b was never listed again). Every type's cursor goes through here.
      const through = cursor !== undefined && !summary.cancelled && !signal.aborted && summary.failed === 0 ? cursor.reached() : null;
      if (through !== null) {
        const key = cursorKey(planned.job.name, planned.recorded);
        repo.startRun(summary.runId, planned.job.name, { ...planned.recorded, [LISTED_THROUGH]: { end_time: through, scope: key.scope } });
      }
      return summary;
    },
    afterRun: async (signal) => {
      // Once for the whole run, not per job: a run's baseline may come from another job (another path of its source).
      const keys = new Map<string, AppKey>();
      for (const k of changed) keys.set(appKeyId(k), k);
      changed.length = 0;
      for (const source of thresholds.keys()) {
        for (const k of repo.uncheckedRuns(source, LEFT_UNCHECKED)) {
          const id = appKeyId(k);
          if (!keys.has(id)) keys.set(id, k);
        }
      }
      // Runs stored before whose baselines a completed run stored now is in, or a run removed now was:
      // checked again, and reported only when that makes them regressed (a verdict already reported is not news).
      const moved = [...completed].flatMap(([id, r]) => (keys.has(id) ? [r] : [])).concat(removed);
      const again = laterChecks(repo, moved, keys, (source) => (thresholds.get(source) ?? base).baselineRuns);
      completed.clear();
      removed.length = 0;
      const wasRegressed = new Set<string>();
      if (again.length > 0) {
        repo.regressions(again).forEach((s, i) => {
          if (s?.status === 'regressed') wasRegressed.add(appKeyId(again[i]!));
        });
        for (const k of again) {
          const id = appKeyId(k);
          keys.set(id, k);
          places.set(id, historyPlace(k.app_name, k.source, k.time));
        }
      }
      const regressed: RegressedRun[] = [];
      const order = new Map([...keys.keys()].map((id, i) => [id, i]));
      const placeOf = (id: string): string => places.get(id) ?? '';
      const all = [...keys].sort(([a], [b]) => (placeOf(a) < placeOf(b) ? -1 : placeOf(a) > placeOf(b) ? 1 : order.get(a)! - order.get(b)!)).map(([, k]) => k);
      places.clear();
      // One set of thresholds for every source (none has `regression:` keys) is given as it is: as a
      // function of the run, the baselines are read in two passes (runs, then baselines by size).
      const distinct = new Set(thresholds.values());
      const uniform = distinct.size === 1 ? [...distinct][0] : distinct.size === 0 ? base : undefined;
      if (all.length > 0) options.onCheck?.(0, all.length);
      for (let i = 0; i < all.length; i += CHECK_CHUNK) {
        // Between chunks the editor's host thread gets its turn, and a cancel is heard.
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        if (signal.aborted) break;
        const checks = checkRegressions(repo, all.slice(i, i + CHECK_CHUNK), uniform ?? ((run) => thresholds.get(run.source) ?? base));
        repo.saveRegressions(checks);
        options.onCheck?.(Math.min(all.length, i + CHECK_CHUNK), all.length);
        for (const c of checks) {
          if (c.status === 'regressed' && !wasRegressed.has(appKeyId(c))) regressed.push({ key: { app_id: c.app_id, attempt_id: c.attempt_id }, app_name: c.app_name, source: c.source, summary: c.summary });
        }
      }
      // In the order the runs were stored.
      const at = (r: RegressedRun): number => order.get(appKeyId(r.key))!;
      return regressed.sort((a, b) => at(a) - at(b));
    },
  };
}

/** A dry run: every attempt counts as new, nothing is stored. */
export const dryRunSink: Sink = {
  take: async (_planned, batches, signal, onBatch) => {
    const counts = emptyCounts();
    try {
      // As the store takes them (ingest.ts): a cancelled collector's last batch, what it had read, counts too.
      for await (const batch of batches) {
        applyBatch(dryRunRepository, batch, counts);
        onBatch(batch);
      }
    } catch (err) {
      // A collector stops by throwing once it is cancelled.
      if (!signal.aborted) throw err;
    }
    return counts;
  },
};

/** How a job's batches are produced: in this thread (`runJob`) or in a worker; `close` ends what is left of it. */
export type Runner = (job: PlannedJob, signal: AbortSignal) => { batches: AsyncIterable<Batch>; close?: () => void };

export interface RunResult {
  counts: RunCounts;
  /** A job stopped early: an unreadable path, refused credentials, an unreadable listing. */
  stopped: boolean;
  /**
   * The runs stored new or updated (or left unchecked by an earlier run) that regressed against their
   * history (issue 18), and runs stored before that the history it stored made regressed; none for a
   * dry or cancelled run.
   */
  regressed: RegressedRun[];
}

/**
 * Runs each job into the sink, in order, until `signal` aborts. `onBatch` sees each batch that was
 * stored (or counted), the last ones of a cancelled job too (what it had read to the end). A failure ends the run with it; what was stored stays,
 * and is checked against its history (issue 18) as a run that ends is, unless it was cancelled.
 */
export async function collectRun(jobs: readonly PlannedJob[], runner: Runner, sink: Sink, signal: AbortSignal, onBatch: (batch: Batch, job: PlannedJob) => void = () => undefined): Promise<RunResult> {
  const result: RunResult = { counts: emptyCounts(), stopped: false, regressed: [] };
  try {
    for (const planned of jobs) {
      if (signal.aborted) break;
      const problems: Problem[] = [];
      const run = runner(planned, signal);
      try {
        const counts = await sink.take(planned, run.batches, signal, (batch) => {
          pushAll(problems, batch.problems);
          onBatch(batch, planned);
        });
        for (const k of Object.keys(result.counts) as (keyof RunCounts)[]) result.counts[k] += counts[k];
      } finally {
        run.close?.();
      }
      if (stoppedRun(planned.job, problems)) result.stopped = true;
    }
  } catch (err) {
    if (!signal.aborted) {
      try {
        await sink.afterRun?.(signal);
      } catch {
        // The failure that ended the run is the one to report.
      }
    }
    throw err;
  }
  // A cancelled run stores only what its collector had read, and checks nothing.
  if (!signal.aborted) result.regressed = (await sink.afterRun?.(signal)) ?? [];
  return result;
}
