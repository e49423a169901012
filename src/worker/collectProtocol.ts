/**
 * Messages between the extension host and the collection worker (`collectWorker.ts`). The worker
 * discovers, parses and normalizes; the host owns the database and upserts the batches it is sent.
 * Every message is checked on receipt.
 */
import type { EventLogOptions } from '../collectors/eventlog/collect';
import type { Batch, CollectProgress } from '../collectors/contract';
import type { ReadLimits } from '../collectors/eventlog/readLog';
import type { ApiJob, SourceJob } from '../collectors/sources';

/** A file the database already holds, so the worker can skip attempts whose files did not change. */
export type { KnownFile } from '../storage/unchanged';
import type { KnownFile } from '../storage/unchanged';

export interface StartOptions {
  path: string;
  recursive: boolean;
  source: string;
  batchSize: number;
  concurrency?: number;
  /** ISO time. */
  since?: string;
  user?: string;
  /** The read limits (readLog.ts ReadLimits): the source's keys, else the editor's settings. */
  maxZstdWindowMb?: number;
  maxLineBytes?: number;
  maxDecompressionRatio?: number;
}

/**
 * What one run collects: event logs (with the files the database already has, so unchanged ones are
 * skipped), or an API source (History Server, EMR, Databricks, Dataproc) as `jobsFor` made it.
 */
export type CollectJob = { kind: 'event_log'; options: StartOptions; known: KnownFile[]; poolScript?: string } | { kind: 'api'; job: ApiJob };

/** What the editor's settings give a job where its source says nothing. */
export interface JobDefaults {
  /** Event logs read at once (0: one per core). */
  concurrency: number;
  /** settingsSchema.ts `settingsReadLimits`. */
  limits: Required<ReadLimits>;
}

/** The read limits of `options`, each from `defaults` where `options` has none. */
function limitsOr(options: ReadLimits, defaults: Required<ReadLimits>): Required<ReadLimits> {
  return {
    maxZstdWindowMb: options.maxZstdWindowMb ?? defaults.maxZstdWindowMb,
    maxLineBytes: options.maxLineBytes ?? defaults.maxLineBytes,
    maxDecompressionRatio: options.maxDecompressionRatio ?? defaults.maxDecompressionRatio,
  };
}

/**
 * The worker's job for one of `jobsFor`'s jobs (sources.ts): event-log options as plain data (dates as
 * ISO text), with the editor's settings where the source sets nothing; an API job as it is, the
 * History Server's with the same read limits for the logs `mode: eventlog` downloads.
 */
export function collectJob(job: SourceJob, defaults: JobDefaults, known: KnownFile[], poolScript?: string): CollectJob {
  if (job.kind !== 'event_log') return { kind: 'api', job: job.kind === 'history_server' ? { ...job, options: { ...job.options, ...limitsOr(job.options, defaults.limits) } } : job };
  const o = job.options;
  return {
    kind: 'event_log',
    options: {
      path: o.path,
      recursive: o.recursive ?? true,
      source: job.name,
      batchSize: o.batchSize ?? 100,
      concurrency: o.concurrency ?? (defaults.concurrency || undefined),
      since: o.since?.toISOString(),
      user: o.user,
      ...limitsOr(o, defaults.limits),
    },
    known,
    poolScript,
  };
}

/** The collector's options for a `start` message's event-log job (the worker's side of `collectJob`). */
export function eventLogOptions(o: StartOptions): EventLogOptions {
  return {
    path: o.path,
    recursive: o.recursive,
    source: o.source,
    batchSize: o.batchSize,
    concurrency: o.concurrency,
    since: o.since ? new Date(o.since) : undefined,
    user: o.user,
    maxZstdWindowMb: o.maxZstdWindowMb,
    maxLineBytes: o.maxLineBytes,
    maxDecompressionRatio: o.maxDecompressionRatio,
  };
}

const API_KINDS: readonly unknown[] = ['history_server', 'emr', 'databricks', 'dataproc'] satisfies ApiJob['kind'][];

export type HostMessage =
  /** Host -> worker, once, right after the worker starts: what to collect. */
  | { type: 'start'; job: CollectJob }
  /** Host -> worker, when the user cancels: stop reading; the host terminates the worker soon after. */
  | { type: 'cancel' };

export type WorkerMessage =
  /** Worker -> host, as attempts are read: records to upsert. */
  | { type: 'batch'; batch: Batch }
  /** Worker -> host, at most a few times a second. */
  | { type: 'progress'; progress: CollectProgress }
  /** Worker -> host, once, at the end (also after a cancel). */
  | { type: 'done'; cancelled: boolean }
  /** Worker -> host, once, instead of done: an unexpected failure. */
  | { type: 'error'; message: string };

const LIMIT_KEYS = ['maxZstdWindowMb', 'maxLineBytes', 'maxDecompressionRatio'] as const satisfies (keyof ReadLimits)[];

/** Whether `v` holds read limits (any of them absent), as a message to a worker must: positive numbers. The analysis worker checks its requests' with it too. */
export function isReadLimits(v: unknown): v is ReadLimits {
  if (typeof v !== 'object' || v === null) return false;
  return LIMIT_KEYS.every((k) => {
    const n = (v as Record<string, unknown>)[k];
    return n === undefined || (typeof n === 'number' && Number.isFinite(n) && n > 0);
  });
}

export function isHostMessage(m: unknown): m is HostMessage {
  const r = m as { type?: unknown; job?: { kind?: unknown; options?: unknown; job?: { kind?: unknown; options?: unknown } } } | null;
  if (typeof r !== 'object' || r === null) return false;
  if (r.type === 'cancel') return true;
  if (r.type !== 'start') return false;
  if (r.job?.kind === 'event_log') return isReadLimits(r.job.options);
  return r.job?.kind === 'api' && API_KINDS.includes(r.job.job?.kind) && typeof r.job.job?.options === 'object';
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const r = m as { type?: unknown } | null;
  return typeof r === 'object' && r !== null && (r.type === 'batch' || r.type === 'progress' || r.type === 'done' || r.type === 'error');
}
