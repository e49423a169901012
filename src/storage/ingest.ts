/**
 * One collection run into the repository: batches from a collector are upserted as they arrive,
 * the files they came from are remembered (so the next run skips what did not change), the run is
 * recorded with its counts, and the database is saved on a schedule and at the end — a run killed
 * half-way keeps everything saved before.
 */
import { randomUUID } from 'node:crypto';
import type { Batch } from '../collectors/contract';
import { formatProblem, type Problem } from '../collectors/record';
import { plural } from '../common/format';
import { maskSecretText } from '../common/secretText';
import { maskJsonStrings } from './storedSecrets';
import type { AppKey, IngestedFile, JobRepository, LaterRun, RunCounts } from './repository';

export interface RunSummary extends RunCounts {
  runId: string;
  /** Problems of the run, for the caller to show (the run record keeps the first 100 error lines). */
  problems: Problem[];
  /** The run was cancelled (its signal aborted): the counts are what it stored before. */
  cancelled: boolean;
}

/**
 * When a run saves: every `everyMs` while it runs (0 = never in between), and once when it ends.
 * One schedule spans every source of a run: a save rewrites the whole database file and fsyncs it,
 * and one save per source made 3,000 sources take 13.5 s and 100,000 never finish (issue #13).
 */
export class SaveSchedule {
  private last: number;
  /** Saves made so far. */
  saves = 0;

  constructor(
    private readonly save: () => Promise<unknown>,
    private readonly everyMs: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.last = clock();
  }

  /** Saves if `everyMs` has passed since the last save (or since the run started). */
  async due(): Promise<void> {
    if (this.everyMs > 0 && this.clock() - this.last >= this.everyMs) await this.flush();
  }

  /** Saves now: the end of the run, or a run that stops early. */
  async flush(): Promise<void> {
    await this.save();
    this.saves++;
    this.last = this.clock();
  }
}

export interface IngestOptions {
  source: string;
  options: Record<string, unknown>;
  /** The run's save schedule, shared by all its sources; the caller flushes it when the whole run ends. */
  saves?: SaveSchedule;
  /** A run of this one source: saved every `saveEveryMs` (0 = only at the end) and when it ends. Ignored with `saves`. */
  saveEveryMs?: number;
  save?: () => Promise<unknown>;
  /** After each batch is stored, with the run's counts so far. */
  onBatch?: (batch: Batch, counts: RunCounts) => void;
  /**
   * Cancels the run. A collector that sees it yields the applications it had read to their end (a
   * last batch of them) and stops; what it yields is stored, each batch whole, and ingest resolves
   * with what was stored (`cancelled`) once the collector has stopped. A cancelled run is recorded
   * as such (its error lines end with "run stopped: cancelled").
   */
  signal?: AbortSignal;
  /**
   * Upsert at most this many records at a time, yielding to the event loop in between: on the
   * extension host a whole batch at once would block the editor (BENCHMARKS.md). 0 = whole batches.
   */
  sliceSize?: number;
  /** Receives the key of each record the run stored new or updated (JobRepository.upsert's `changed`). */
  changed?: AppKey[];
  /** Receives the platform-level runs the run removed that were in a history (JobRepository.upsert's `removed`). */
  removed?: LaterRun[];
}

const MAX_STORED_ERRORS = 100;

export function emptyCounts(): RunCounts {
  return { seen: 0, new: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
}

/** Applies one batch to the repository and the run's counts; `changed` and `removed` as JobRepository.upsert's. */
export function applyBatch(repo: Pick<JobRepository, 'storeBatch'>, batch: Batch, counts: RunCounts, now = new Date(), changed?: AppKey[], removed?: LaterRun[]): void {
  const files: IngestedFile[] = batch.apps.flatMap((a) =>
    a.provenance.files.map((f) => ({
      path: f.path,
      unit_path: a.provenance.path,
      size: f.size,
      mtime_ms: f.mtimeMs,
      codec: f.codec,
      app_id: a.record.app_id,
      attempt_id: a.record.attempt_id,
      // Attempts read with errors are read again next time, in case the file was fixed.
      status: a.problems.some((p) => p.severity === 'error') ? ('problems' as const) : ('ok' as const),
    })),
  );
  // Record and summaries only: the store's journal keeps what it is given until the next save.
  const upserted = repo.storeBatch(
    batch.apps.map((a) => (a.summaries ? { record: a.record, summaries: a.summaries } : a.record)),
    files,
    now,
    changed,
    removed,
  );
  counts.new += upserted.new;
  counts.updated += upserted.updated;
  counts.unchanged += upserted.unchanged + batch.unchanged;
  counts.skipped += batch.filtered;
  // A record the store refused (its warning names it) failed as a log that could not be read does.
  const failed = failedSources(batch.problems) + (upserted.refused ?? 0);
  counts.failed += failed;
  counts.seen += batch.apps.length + batch.unchanged + batch.filtered + failed;
}

/**
 * What failed, counted once each: an event log whose lines failed is one (a log of three malformed
 * lines is one failed log, not three), and every other error is one: an API's errors name the
 * endpoint they came from, shared by the runs they are about (three unreadable runs of one
 * `runs/list` page are three failures; a review).
 */
function failedSources(problems: readonly Problem[]): number {
  const onLine = (p: Problem): p is Problem & { file: string } => p.line !== undefined && p.file !== undefined;
  const lineFiles = new Set<string>();
  for (const p of problems) if (p.severity === 'error' && onLine(p)) lineFiles.add(p.file);
  let others = 0;
  for (const p of problems) if (p.severity === 'error' && !onLine(p) && (p.file === undefined || !lineFiles.has(p.file))) others++;
  return lineFiles.size + others;
}

export async function ingest(repo: JobRepository, batches: AsyncIterable<Batch>, opts: IngestOptions): Promise<RunSummary> {
  const runId = randomUUID();
  const counts = emptyCounts();
  const problems: Problem[] = [];
  repo.startRun(runId, opts.source, maskJsonStrings(opts.options));
  const saves = opts.saves ?? (opts.save ? new SaveSchedule(opts.save, opts.saveEveryMs ?? 0) : undefined);
  const finish = async (extra: string[] = []): Promise<void> => {
    // Masked here, where a run's errors are stored, whatever each collector did: a problem or a thrown
    // error may quote a URL with its password or a token (a security review, L3).
    const errors = [...problems.filter((p) => p.severity === 'error').map(formatProblem), ...extra].slice(0, MAX_STORED_ERRORS).map((e) => maskSecretText(e));
    repo.finishRun(runId, counts, errors);
    if (!opts.saves) await saves?.flush();
  };
  const aborted = (): boolean => opts.signal?.aborted === true;
  const cancelled = async (): Promise<RunSummary> => {
    await finish(['run stopped: cancelled']);
    return { runId, ...counts, problems, cancelled: true };
  };
  try {
    for await (const batch of batches) {
      // Every batch is stored whole, also once the run is cancelled: it holds applications read to
      // their end (a review saw "Cancelled: 0 new" after minutes of finished downloads).
      const slice = opts.sliceSize && opts.sliceSize > 0 ? opts.sliceSize : Math.max(1, batch.apps.length);
      for (let i = 0; i === 0 || i < batch.apps.length; i += slice) {
        if (i > 0) await new Promise((resolve) => setImmediate(resolve));
        // The batch's counts and loose problems go with its first slice.
        const part: Batch = i === 0 ? { ...batch, apps: batch.apps.slice(0, slice) } : { apps: batch.apps.slice(i, i + slice), problems: [], filtered: 0, unchanged: 0 };
        applyBatch(repo, part, counts, new Date(), opts.changed, opts.removed);
      }
      problems.push(...batch.problems, ...batch.apps.flatMap((a) => a.problems));
      opts.onBatch?.(batch, { ...counts });
      // A cancelled run saves once, when the collector has stopped.
      if (!aborted()) await saves?.due();
    }
    // A collector that stops without a word once cancelled (one that does not reject) is cancelled all the same.
    if (aborted()) return await cancelled();
  } catch (err) {
    // A collector stops by throwing once it is cancelled (AbortError, the worker's CancelledError).
    if (aborted()) return await cancelled();
    // Failed: what was collected so far is kept, and the run says why it stopped.
    await finish([`run stopped: ${(err as Error).message}`]);
    throw err;
  }
  await finish();
  return { runId, ...counts, problems, cancelled: false };
}

/** A dry run counts every attempt as new: nothing is compared with a database. */
export const dryRunRepository: Pick<JobRepository, 'storeBatch'> = {
  storeBatch: (records) => ({ new: records.length, updated: 0, unchanged: 0 }),
};

/** What to show of a log, an application or a source run that had problems. */
export interface ProblemLog {
  /** The log's path (a file read from disk). */
  file?: string;
  /** The application the problems are about, when no log file holds them (API sources). */
  app?: string;
  /** The source whose run had them, when the caller named it (ProblemLogs.add). */
  source?: string;
  /** An API source's address the problems name (a URL); with neither `file` nor `app`, a problem of the run itself. */
  location?: string;
  problems: Problem[];
}

/** A problem's `file` that is an API's address, not a file: a URL (History Server, Databricks, …) or an AWS ARN (an EMR cluster). */
const isUrl = (file: string): boolean => /^(https?:\/\/|arn:)/i.test(file);

/**
 * The logs, applications and source runs a run read with problems, as the end of a run counts them:
 * any problem of an attempt, even one that was stored (a malformed line, a cut-off log), any error
 * or warning about a file not tied to one (a log with no event), and any error or warning of a run
 * not tied to a file (a refused listing, a missing token). Info notes are not counted. Entries are
 * kept apart by source: two sources at one URL are two entries (a review).
 */
export class ProblemLogs {
  private readonly byKey = new Map<string, ProblemLog>();

  /** Adds a batch that was stored (or counted by a dry run); `source`: the name of the source it came from. */
  add(batch: Batch, source?: string): void {
    const of = source === undefined ? {} : { source };
    const at = `${source ?? ''}\0`;
    for (const app of batch.apps) {
      for (const p of app.problems) {
        const named = p.file ?? (app.provenance.files.length > 0 ? app.provenance.path : undefined);
        const file = named !== undefined && !isUrl(named) ? named : undefined;
        const key = file !== undefined ? `${at}file:${file}` : `${at}app:${app.record.app_id}/${app.record.attempt_id ?? ''}`;
        this.entry(key, file === undefined ? { app: app.record.app_id, ...of, ...(named !== undefined ? { location: named } : {}), problems: [] } : { file, ...of, problems: [] }).problems.push(p);
      }
    }
    for (const p of batch.problems) {
      // Notes not about an attempt (files a folder scan passed over, steps that are not Spark) are info.
      if (p.severity === 'info') continue;
      if (p.file === undefined) this.entry(`${at}run`, { ...of, problems: [] }).problems.push(p);
      else if (isUrl(p.file)) this.entry(`${at}url:${p.file}`, { ...of, location: p.file, problems: [] }).problems.push(p);
      else this.entry(`${at}file:${p.file}`, { file: p.file, ...of, problems: [] }).problems.push(p);
    }
  }

  private entry(key: string, fresh: ProblemLog): ProblemLog {
    let e = this.byKey.get(key);
    if (!e) this.byKey.set(key, (e = fresh));
    return e;
  }

  get all(): ProblemLog[] {
    return [...this.byKey.values()];
  }

  /** ", 2 logs with problems" (and applications, and sources whose run had problems of its own); '' when there are none. */
  summary(): string {
    const all = this.all;
    const logs = all.filter((e) => e.file !== undefined).length;
    const apps = all.filter((e) => e.app !== undefined).length;
    const runs = all.filter((e) => e.file === undefined && e.app === undefined);
    const sources = new Set(runs.map((e) => e.source ?? e.location ?? '')).size;
    const parts = [logs > 0 && `${plural(logs, 'log')} with problems`, apps > 0 && `${plural(apps, 'application')} with problems`, sources > 0 && `${plural(sources, 'source')} with problems`];
    return parts.map((t) => (t ? `, ${t}` : '')).join('');
  }
}
