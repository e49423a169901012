/**
 * Messages between the extension host and the collection worker (`collectWorker.ts`), the one
 * protocol file. The worker runs a planned job (pipeline.ts `runJob`); the host owns the database
 * and stores the batches it is sent. Every message is checked on receipt, in both directions.
 * Options cross as they are: structured cloning keeps dates, so `since` is a Date on both sides.
 */
import type { Batch, CollectedApp, CollectProgress } from '../collectors/contract';
import { fromWire, isWireSummaries, toWire, type WireSummaries } from '../collectors/record/summariesWire';
import type { ReadLimits } from '../collectors/eventlog/readLog';
import { isSourceType, type SourceJob } from '../collectors/registry';
import type { KnownFile } from '../storage/unchanged';
import { isObject } from '../common/guards';

/** A file the database already holds, so the worker can skip attempts whose files did not change. */
export type { KnownFile } from '../storage/unchanged';

/** What one worker run collects: a planned job, the files the database already has (event logs skip the unchanged), and the event-log pool's script. */
export interface CollectJob {
  job: SourceJob;
  known: KnownFile[];
  poolScript?: string;
}

export type HostMessage =
  /** Host -> worker, once, right after the worker starts: what to collect. */
  | { type: 'start'; job: CollectJob }
  /**
   * Host -> worker, when the user cancels: stop reading, send what was read to the end (a last
   * `batch`), then `done`; the host terminates the worker soon after.
   */
  | { type: 'cancel' };

export type WorkerMessage =
  /** Worker -> host, as attempts are read: records to store; after a cancel, the last ones read to the end. */
  | { type: 'batch'; batch: WireBatch }
  /** Worker -> host, at most a few times a second. */
  | { type: 'progress'; progress: CollectProgress }
  /** Worker -> host, once, at the end (also after a cancel). */
  | { type: 'done'; cancelled: boolean }
  /** Worker -> host, once, instead of done: an unexpected failure. */
  | { type: 'error'; message: string };

const LIMIT_KEYS = ['maxZstdWindowMb', 'maxLineBytes', 'maxDecompressionRatio'] as const satisfies (keyof ReadLimits)[];

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Whether `v` holds read limits (any of them absent), as a message to a worker must: positive numbers. The analysis worker checks its requests' with it too. */
export function isReadLimits(v: unknown): v is ReadLimits {
  if (!isObject(v)) return false;
  return LIMIT_KEYS.every((k) => v[k] === undefined || (typeof v[k] === 'number' && Number.isFinite(v[k]) && v[k] > 0));
}

function isCollectJob(v: unknown): v is CollectJob {
  if (!isObject(v) || !isObject(v.job) || !Array.isArray(v.known) || (v.poolScript !== undefined && typeof v.poolScript !== 'string')) return false;
  const { kind, name, options } = v.job;
  return isSourceType(kind) && typeof name === 'string' && isReadLimits(options);
}

export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObject(m)) return false;
  return m.type === 'cancel' || (m.type === 'start' && isCollectJob(m.job));
}

/** A Batch as it crosses to the host: each app's summaries in their wire form (summariesWire.ts: the store's text). */
export type WireBatch = Omit<Batch, 'apps'> & { apps: (Omit<CollectedApp, 'summaries'> & { summaries?: WireSummaries })[] };

export function wireBatch(b: Batch): WireBatch {
  return {
    ...b,
    apps: b.apps.map(({ summaries, ...a }) => (summaries === undefined ? a : { ...a, summaries: toWire(summaries) })),
  };
}

export function unwireBatch(b: WireBatch): Batch {
  return { ...b, apps: b.apps.map((a) => (a.summaries === undefined ? (a as CollectedApp) : { ...a, summaries: fromWire(a.summaries) })) };
}

function isBatch(v: unknown): v is WireBatch {
  return (
    isObject(v) &&
    Array.isArray(v.apps) &&
    v.apps.every(
      (a: unknown) =>
        isObject(a) && isObject(a.record) && Array.isArray(a.problems) && Array.isArray(a.files) && isObject(a.provenance) && (a.summaries === undefined || isWireSummaries(a.summaries)),
    ) &&
    Array.isArray(v.problems) &&
    isCount(v.filtered) &&
    isCount(v.unchanged)
  );
}

function isProgress(v: unknown): v is CollectProgress {
  return isObject(v) && (['logsFound', 'logsDone', 'bytesRead', 'apps', 'problems'] as const).every((k) => isCount(v[k]));
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  if (!isObject(m)) return false;
  switch (m.type) {
    case 'batch':
      return isBatch(m.batch);
    case 'progress':
      return isProgress(m.progress);
    case 'done':
      return typeof m.cancelled === 'boolean';
    case 'error':
      return typeof m.message === 'string';
    default:
      return false;
  }
}
