/**
 * Messages between the event-log worker pool (main thread) and `src/worker/eventLogWorker.ts`.
 * One file so both sides agree; every message is checked on receipt.
 *
 * Requests and replies travel PER_MESSAGE to a message (ReadBatch, ReplyBatch): 10,000 small logs
 * were 20,000 messages, ~0.5 CPU-s of a collection whose two cores are both busy (issue #12).
 */
import type { LogUnit } from './discovery';
import { fromWire, isWireSummaries, toWire, type WireSummaries } from '../record/summariesWire';
import type { ReadLimits, UnitResult } from './readLog';

/** One application attempt to read; a worker answers each with one `done` or `failed` reply. */
export interface ReadRequest {
  type: 'read';
  id: number;
  unit: LogUnit;
  source: string;
  limits?: ReadLimits;
}

/**
 * Main -> worker: attempts to read, in order, after those it holds. The pool sends a worker's requests
 * as soon as it is about to run out of work, else a few at a time (pool.ts).
 */
export interface ReadBatch {
  type: 'reads';
  requests: ReadRequest[];
}

/**
 * How many requests, or answers, go in one message while more follow: a worker answers this many
 * at a time, and the requests that follow a message of answers go back as one. A message cost a
 * worker ~24 us and the main thread ~11 us besides its contents: postMessage, the other thread's
 * wake-up, the message event (issue #12).
 */
export const PER_MESSAGE = 8;

/**
 * Worker -> main: replies, in the order they were made. A worker sends its answers a few at a time
 * while it has more attempts to read, and at once when it has none (eventLogWorker.ts); progress
 * (`bytes`) goes at once, after the answers made before it.
 */
export interface ReplyBatch {
  type: 'replies';
  replies: WorkerReply[];
}

export type WorkerReply =
  /** Worker -> main, while reading: compressed bytes read since the last report (at most every 64 MB). */
  | { type: 'bytes'; id: number; bytes: number }
  /**
   * Worker -> main, once per request: the attempt's record, problems, and stage and executor summaries
   * (issue 15), and the bytes read since the last `bytes` report (a small log has no other message:
   * one more per log was 0.2 CPU-s of 10,000 logs' collection, issue #12).
   */
  | { type: 'done'; id: number; result: WireResult; bytes: number }
  /** Worker -> main, once per request, instead of `done`: an unexpected failure (a bug, not bad input). */
  | { type: 'failed'; id: number; message: string };

/** A UnitResult as it crosses to the main thread: its summaries in their wire form (summariesWire.ts). */
export type WireResult = Omit<UnitResult, 'summaries'> & { summaries?: WireSummaries };

export function wireResult(r: UnitResult): WireResult {
  const { summaries, ...rest } = r;
  return summaries === undefined ? rest : { ...rest, summaries: toWire(summaries) };
}

export function unwireResult(r: WireResult): UnitResult {
  return r.summaries === undefined ? (r as UnitResult) : { ...r, summaries: fromWire(r.summaries) };
}

function isReadRequest(m: unknown): m is ReadRequest {
  const r = m as Partial<ReadRequest> | null;
  return typeof r === 'object' && r !== null && r.type === 'read' && typeof r.id === 'number' && typeof r.source === 'string' && typeof r.unit === 'object';
}

/** The requests of a ReadBatch; none when `m` is not one (a request that is not well formed is dropped). */
export function requestsOf(m: unknown): ReadRequest[] {
  const b = m as Partial<ReadBatch> | null;
  return typeof b === 'object' && b !== null && b.type === 'reads' && Array.isArray(b.requests) ? b.requests.filter(isReadRequest) : [];
}

/** The replies of a ReplyBatch; none when `m` is not one (a reply that is not well formed is dropped). */
export function repliesOf(m: unknown): WorkerReply[] {
  const b = m as Partial<ReplyBatch> | null;
  return typeof b === 'object' && b !== null && b.type === 'replies' && Array.isArray(b.replies) ? b.replies.filter(isWorkerReply) : [];
}

function isWorkerReply(m: unknown): m is WorkerReply {
  const r = m as Partial<WorkerReply> | null;
  if (typeof r !== 'object' || r === null || typeof r.id !== 'number') return false;
  if (r.type === 'done') return isUnitResult((r as { result?: unknown }).result) && typeof (r as { bytes?: unknown }).bytes === 'number';
  return r.type === 'bytes' || r.type === 'failed';
}

/** A `done` reply's result: a record (or null), its problems, and summaries when there is a record. */
function isUnitResult(v: unknown): v is WireResult {
  const r = v as Partial<WireResult> | null;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.problems) || (r.record !== null && typeof r.record !== 'object')) return false;
  return r.summaries === undefined || isWireSummaries(r.summaries);
}
