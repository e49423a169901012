/**
 * The analysis worker's messages (worker/analyzeWorker.ts, started by views/analysisWorker.ts), in
 * one place: what the extension asks, what the worker answers.
 */
import type { DiscoveredContext } from '../analysis/eventLogAnalyzer';
import type { Finding } from '../analysis/findings';
import type { Codec } from '../collectors/eventlog/codecs/index';
import type { ReadLimits } from '../collectors/eventlog/readLog';
import { isReadLimits } from './collectProtocol';

/**
 * What the extension asks (AnalysisWorker.analyze), one at a time or several, answered by id:
 * - `{ file, siblings, limits? }`: an event log from disk (compressed, or too big for the editor),
 *   read with the limits collection reads it with (settingsSchema.ts `settingsReadLimits`);
 * - `{ text, fileName, siblings, maxLineBytes? }`: a large open document's text, with collection's line limit;
 * either with `discovered`, what discovery tells of the log (still being written, a Spark 1.x folder's version and codec).
 * `siblings`: what the log reads of its folder's names (EventLogContext); none when it could not be listed.
 */
export type AnalysisRequest = ({ file: string; limits?: ReadLimits } | { text: string; fileName: string; maxLineBytes?: number }) & {
  siblings: readonly string[] | undefined;
  /** What discovery tells of the log (eventLogAnalyzer.ts discoveredContext), so that the editor finds what `validate` finds. */
  discovered?: DiscoveredContext;
};

/** A request as it crosses to the worker: with its id. */
export type AnalysisMessage = AnalysisRequest & { id: number };

/** What the worker answers to the request `id`: its findings, or why it could not analyze it. */
export interface AnalysisReply {
  id: number;
  findings?: Finding[];
  error?: string;
}

/** A file request (else a text request); the same test the check below makes. */
export function isFileRequest(m: AnalysisMessage): m is Extract<AnalysisMessage, { file: string }> {
  return typeof (m as { file?: unknown }).file === 'string';
}

/** Checked by the extension on receipt. */
export function isAnalysisReply(m: unknown): m is AnalysisReply {
  const r = m as Partial<Record<keyof AnalysisReply, unknown>> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'number' && (r.error === undefined ? Array.isArray(r.findings) : typeof r.error === 'string');
}

/** Checked by the worker on receipt; a message that fails it but has an id is answered with an error (never left waiting). */
export function isAnalysisMessage(m: unknown): m is AnalysisMessage {
  const r = m as Partial<{ id: unknown; siblings: unknown; file: unknown; limits: unknown; text: unknown; fileName: unknown; maxLineBytes: unknown; discovered: unknown }> | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.id === 'number' &&
    (r.siblings === undefined || (Array.isArray(r.siblings) && r.siblings.every((s) => typeof s === 'string'))) &&
    (r.discovered === undefined || isDiscovered(r.discovered)) &&
    (typeof r.file === 'string'
      ? r.limits === undefined || isReadLimits(r.limits)
      : typeof r.text === 'string' && typeof r.fileName === 'string' && (r.maxLineBytes === undefined || isReadLimits({ maxLineBytes: r.maxLineBytes })))
  );
}

/** Every codec, so that a new one cannot be left out of the check below. */
const CODECS: Readonly<Record<Codec, true>> = { none: true, gzip: true, lz4: true, lzf: true, snappy: true, zstd: true };

function isDiscovered(v: unknown): v is DiscoveredContext {
  const d = v as Partial<Record<keyof DiscoveredContext, unknown>> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    (d.inProgress === undefined || typeof d.inProgress === 'boolean') &&
    (d.sparkVersion === undefined || typeof d.sparkVersion === 'string') &&
    (d.codec === undefined || (typeof d.codec === 'string' && Object.hasOwn(CODECS, d.codec)))
  );
}
