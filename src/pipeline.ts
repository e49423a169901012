/**
 * One collection pipeline for the CLI and the editor: plan -> run -> sink.
 * - plan: configured sources become jobs (registry.ts), with command-line flags winning over the
 *   config, the editor's settings filling in what it leaves out, the editor's stored secrets, and
 *   incremental `since` from the store. A source that cannot start is reported, the others planned.
 * - run: a job's batches. `runJob` is the one place a job meets its collector: the CLI calls it in
 *   its own thread, the editor's collection worker (worker/collectWorker.ts) in a worker thread.
 * - sink: the store (ingest.ts: upserts, file bookkeeping, the run record, scheduled saves) or a
 *   dry run that only counts. Once the run's signal aborts, nothing more is stored or counted.
 */
import type { Batch, CollectContext } from './collectors/contract';
import type { JobOverrides, StoredSecret } from './collectors/descriptor';
import { adjustedJob, collectSource, incrementalJob, jobsFor, recordedOptions, stoppedRun, type SourceConfig, type SourceJob } from './collectors/registry';
import type { Problem } from './collectors/record';
import { applyBatch, dryRunRepository, emptyCounts, ingest, type SaveSchedule } from './storage/ingest';
import type { JobRepository, RunCounts } from './storage/repository';

export interface PlannedJob {
  job: SourceJob;
  /** What the run record keeps of its options (no secrets). */
  recorded: Record<string, unknown>;
}

export interface PlanOptions {
  /** Command-line flags: they win over each source's config. */
  overrides?: JobOverrides;
  /** The editor's settings: they fill in what a source's config leaves out. */
  defaults?: JobOverrides;
  /** The secret the editor keeps for a source, if any. */
  stored?: (source: SourceConfig) => StoredSecret | undefined;
  /** Incremental runs: the newest end time already stored for a source (no store: a full run). */
  newestEndTime?: (source: string) => string | null;
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
      out.jobs.push({ job, recorded: recordedOptions(job) });
    }
  }
  return out;
}

/** A job's batches, read in this thread (the CLI, and the editor's collection worker). */
export function runJob(job: SourceJob, ctx: CollectContext): AsyncGenerator<Batch> {
  return collectSource(job, ctx);
}

/** Where a job's batches go. */
export interface Sink {
  /** Stores (or counts) `batches`; once `signal` aborts nothing more is taken, and the counts are what was taken. */
  take(job: PlannedJob, batches: AsyncIterable<Batch>, signal: AbortSignal, onBatch: (batch: Batch) => void): Promise<RunCounts>;
}

/** The store: each job is a recorded run (ingest.ts). */
export function storeSink(repo: JobRepository, options: { saves?: SaveSchedule; sliceSize?: number } = {}): Sink {
  return {
    take: async (planned, batches, signal, onBatch) =>
      ingest(repo, batches, { source: planned.job.name, options: planned.recorded, saves: options.saves, sliceSize: options.sliceSize, signal, onBatch: (batch) => onBatch(batch) }),
  };
}

/** A dry run: every attempt counts as new, nothing is stored. */
export const dryRunSink: Sink = {
  take: async (_planned, batches, signal, onBatch) => {
    const counts = emptyCounts();
    try {
      for await (const batch of batches) {
        if (signal.aborted) break;
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
}

/**
 * Runs each job into the sink, in order, until `signal` aborts. `onBatch` sees each batch that was
 * stored (or counted): never one after a cancel. A failure ends the run with it; what was stored stays.
 */
export async function collectRun(jobs: readonly PlannedJob[], runner: Runner, sink: Sink, signal: AbortSignal, onBatch: (batch: Batch, job: PlannedJob) => void = () => undefined): Promise<RunResult> {
  const result: RunResult = { counts: emptyCounts(), stopped: false };
  for (const planned of jobs) {
    if (signal.aborted) break;
    const problems: Problem[] = [];
    const run = runner(planned, signal);
    try {
      const counts = await sink.take(planned, run.batches, signal, (batch) => {
        problems.push(...batch.problems);
        onBatch(batch, planned);
      });
      for (const k of Object.keys(result.counts) as (keyof RunCounts)[]) result.counts[k] += counts[k];
    } finally {
      run.close?.();
    }
    if (stoppedRun(planned.job, problems)) result.stopped = true;
  }
  return result;
}
