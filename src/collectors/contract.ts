/**
 * What every collector yields, whatever it reads: batches of application records with their
 * problems and where each came from, and progress while it runs. The pipeline (pipeline.ts) runs a
 * collector and hands its batches to a sink; nothing here knows event logs or any API.
 */
import type { Problem, SparkAppRecord } from './record';
import type { AppSummaries } from './record/summaries';
import type { ShardTally } from './shard';
import { sep } from 'node:path';
import { pushAll } from '../common/arrays';

/** Records per batch when a source does not say (`batch_size`, `--batch-size`). */
export const DEFAULT_BATCH_SIZE = 100;

/** One file a record was read from, as found on disk (for incremental runs). */
export interface SourceFile {
  path: string;
  size: number;
  mtimeMs: number;
  codec: string;
}

/**
 * Where a record came from: the event-log attempt (its folder or file, and the files read, which
 * incremental runs remember), or the API object it was fetched as (`path` names it; no files).
 */
export interface Provenance {
  path: string;
  files: readonly SourceFile[];
}

/** The provenance of a record fetched from an API: the object it came from, no files. */
export function apiProvenance(where: string): Provenance {
  return { path: where, files: [] };
}

/**
 * The tag by which a Spark application's record replaces the platform-level record of the cloud
 * run, step or job it ran in (Databricks `databricks-run-<run_id>`, EMR `emr-step-<step id>`,
 * Dataproc `dataproc-job-<job id>`): its value is that record's app_id (platform records have no
 * attempt). A collector stores the platform-level record while the run's event log (or History
 * Server) is out of reach, and the Spark application's once it is there; the store keeps one of
 * them (repository.ts `supersede`, applied by upsert in both stores, so that `db copy` and a merge
 * of two writers keep it too):
 * - a record with this tag removes the stored platform-level record it names (as `delete` does:
 *   its summaries and regression check go with it);
 * - a platform-level record is not stored while a record of its source naming it is stored (its
 *   log seen first, then gone: the Spark record wins), nor beside one in the same call.
 * A tag, not a field of the batch: it is part of the stored record, so a later run, another
 * writer or a copy of the database still knows which run the Spark record stands for.
 */
export const REPLACES_TAG = 'replaces_app_id';

export interface CollectedApp {
  record: SparkAppRecord;
  /** Its stages and executors, when the source could see them (issue 15). */
  summaries?: AppSummaries;
  problems: Problem[];
  /** The event-log files the record was read from (none for a record from an API alone). */
  files: string[];
  provenance: Provenance;
}

/**
 * Paths under a temporary copy (`temp`: logs downloaded from S3 or DBFS) as the remote paths they
 * were copied from (`remote` + the rest of the path, `/`-separated): what records, problems and the
 * known files keep, not a folder about to vanish (each run's temp folder would add its own rows to
 * the known files; a review). Other paths are left as they are.
 */
export function remotePath(temp: string, remote: string): (p: string) => string {
  const base = remote.replace(/\/+$/, '');
  return (p) => (p === temp || p.startsWith(`${temp}${sep}`) ? `${base}/${p.slice(temp.length + 1).split(sep).join('/')}`.replace(/\/+$/, '') : p);
}

/** A problem with its file shown by `shown` (remotePath). */
export function problemAt(p: Problem, shown: (p: string) => string): Problem {
  return p.file === undefined ? p : { ...p, file: shown(p.file) };
}

/** An application with every path shown by `shown` (remotePath). */
export function appAt(a: CollectedApp, shown: (p: string) => string): CollectedApp {
  return {
    ...a,
    files: a.files.map(shown),
    problems: a.problems.map((p) => problemAt(p, shown)),
    provenance: { ...a.provenance, path: shown(a.provenance.path), files: a.provenance.files.map((f) => ({ ...f, path: shown(f.path) })) },
  };
}

export interface Batch {
  apps: CollectedApp[];
  /** Problems not tied to one application (unreadable paths, files with no Spark event, refused listings). */
  problems: Problem[];
  /** Applications read but left out by `since` / `user`. */
  filtered: number;
  /** Attempts not read because their files did not change (`isUnchanged`). */
  unchanged: number;
  /** A sharded job (`--shard K/N`, shard.ts): how many of the units it found since the last batch are its shard's; units of other shards are in no other count. */
  shard?: ShardTally;
}

export function emptyBatch(): Batch {
  return { apps: [], problems: [], filtered: 0, unchanged: 0 };
}

export interface CollectProgress {
  /**
   * Event logs are all found before any is read, so that reading has a real total: while
   * `discovering`, `logsFound` grows and nothing is done; after it, `logsFound` is the total.
   */
  phase?: 'discovering' | 'reading';
  logsFound: number;
  logsDone: number;
  bytesRead: number;
  /** What the event logs found hold, in bytes on disk (compressed as stored); API sources leave it out. */
  bytesFound?: number;
  apps: number;
  problems: number;
}

export interface CollectContext {
  signal?: AbortSignal;
  onProgress?: (p: CollectProgress) => void;
  /** Bundled event-log worker entry (dist/worker.js); without it every attempt is read on this thread. */
  workerScript?: string;
  /** Incremental runs: an attempt whose files did not change since the last run is not read again. */
  isUnchanged?: (unit: Provenance) => boolean;
}

/** A collector: one job's options in, batches out. */
export type Collector<O> = (options: O, ctx: CollectContext) => AsyncGenerator<Batch>;

export interface Gathered {
  apps: CollectedApp[];
  problems: Problem[];
  filtered: number;
  unchanged: number;
}

/** Every batch of a collection in one result (tests and small runs; a real run streams the batches). */
export async function gather(batches: AsyncIterable<Batch>): Promise<Gathered> {
  const out: Gathered = { apps: [], problems: [], filtered: 0, unchanged: 0 };
  for await (const b of batches) {
    pushAll(out.apps, b.apps);
    pushAll(out.problems, b.problems);
    out.filtered += b.filtered;
    out.unchanged += b.unchanged;
  }
  return out;
}
