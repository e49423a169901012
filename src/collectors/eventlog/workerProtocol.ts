/**
 * Messages between the event-log worker pool (main thread) and `src/worker/eventLogWorker.ts`.
 * One file so both sides agree; every message is checked on receipt.
 */
import type { LogUnit } from './discovery';
import { fromWire, isWireSummaries, toWire, type WireSummaries } from '../record/summariesWire';
import type { ReadLimits, UnitResult } from './readLog';

/** Main -> worker: read one application attempt. */
export interface ReadRequest {
  type: 'read';
  id: number;
  unit: LogUnit;
  source: string;
  limits?: ReadLimits;
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

export function isReadRequest(m: unknown): m is ReadRequest {
  const r = m as Partial<ReadRequest> | null;
  return typeof r === 'object' && r !== null && r.type === 'read' && typeof r.id === 'number' && typeof r.source === 'string' && typeof r.unit === 'object';
}

export function isWorkerReply(m: unknown): m is WorkerReply {
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
