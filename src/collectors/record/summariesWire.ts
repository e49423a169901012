/**
 * Stage and executor summaries as they cross a worker boundary (the event-log pool's threads, the
 * editor's collection thread): as the text the store keeps (storage/summaryCodec.ts), encoded by the
 * thread that read them. The receiver stores that text as it is and decodes it only if something
 * reads the stages (textSummaries): issue #12 measured encoding on the main thread at 0.6 s of a
 * 10,000-log collection, while the pool's threads waited for it. One transferred buffer per attempt
 * also costs less to post than a stage table and its executors, cloned object by object.
 */
import { encodeSummaryBytes, textSummaries } from '../../storage/summaryCodec';
import type { AppSummaries } from './summaries';

export interface WireSummaries {
  /** summaryCodec's text, UTF-8. */
  text: Uint8Array;
}

export function toWire(s: AppSummaries): WireSummaries {
  const bytes = encodeSummaryBytes(s);
  // A buffer of its own to transfer. encodeSummaryBytes writes the text into one, so that it is not
  // copied again here (issue #12: 10,000 small logs); a text read back (textSummaries) may be a view.
  return { text: bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : new Uint8Array(bytes) };
}

/** The wire form's buffer, to transfer with the message rather than copy: the sender is done with it. */
export function wireBuffers(w: WireSummaries | undefined): ArrayBuffer[] {
  return w === undefined ? [] : [w.text.buffer as ArrayBuffer];
}

export function fromWire(w: WireSummaries): AppSummaries {
  return textSummaries(Buffer.from(w.text.buffer, w.text.byteOffset, w.text.byteLength));
}

/** Whether `v` is summaries in their wire form (a message checked on receipt; the text is checked when decoded). */
export function isWireSummaries(v: unknown): v is WireSummaries {
  const w = v as Partial<WireSummaries> | null;
  return typeof w === 'object' && w !== null && w.text instanceof Uint8Array && w.text.byteLength > 0;
}
