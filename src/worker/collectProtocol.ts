/**
 * Messages between the extension host and the collection worker (`collectWorker.ts`). The worker
 * discovers, parses and normalizes; the host owns the database and upserts the batches it is sent.
 * Every message is checked on receipt.
 */
import type { Batch, CollectProgress } from '../collectors/eventlog/collect';
import type { ApiJob } from '../collectors/sources';

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
  maxZstdWindowMb?: number;
}

/**
 * What one run collects: event logs (with the files the database already has, so unchanged ones are
 * skipped), or an API source (History Server, EMR, Databricks, Dataproc) as `jobsFor` made it.
 */
export type CollectJob = { kind: 'event_log'; options: StartOptions; known: KnownFile[]; poolScript?: string } | { kind: 'api'; job: ApiJob };

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

export function isHostMessage(m: unknown): m is HostMessage {
  const r = m as { type?: unknown; job?: { kind?: unknown; options?: unknown; job?: { kind?: unknown; options?: unknown } } } | null;
  if (typeof r !== 'object' || r === null) return false;
  if (r.type === 'cancel') return true;
  if (r.type !== 'start') return false;
  if (r.job?.kind === 'event_log') return typeof r.job.options === 'object';
  return r.job?.kind === 'api' && API_KINDS.includes(r.job.job?.kind) && typeof r.job.job?.options === 'object';
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  const r = m as { type?: unknown } | null;
  return typeof r === 'object' && r !== null && (r.type === 'batch' || r.type === 'progress' || r.type === 'done' || r.type === 'error');
}
