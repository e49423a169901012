/**
 * Worker-thread entry for analysis that must not run on the extension host's thread:
 * - `{ id, file, siblings?, limits? }`: an event log from disk (compressed, or too big for the editor),
 *   read with collection's limits (the editor's settings);
 * - `{ id, text, fileName, siblings? }`: a large open document's text.
 * `siblings`: what the log reads of its folder's names (EventLogContext); none when it could not be listed.
 * Replies `{ id, findings }` or `{ id, error }`.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeEventLogFile, analyzeEventLogText } from '../analysis/eventLogAnalyzer';
import type { ReadLimits } from '../collectors/eventlog/readLog';
import { isReadLimits } from './collectProtocol';

const port = parentPort;
if (!port) throw new Error('analyzeWorker must run in a worker thread');

interface Request {
  id: number;
  siblings?: readonly string[];
  file?: string;
  limits?: ReadLimits;
  text?: string;
  fileName?: string;
}

function isRequest(m: unknown): m is Request {
  const r = m as Partial<Request> | null;
  return typeof r === 'object' && r !== null && typeof r.id === 'number' && (r.siblings === undefined || Array.isArray(r.siblings)) && (r.limits === undefined || isReadLimits(r.limits)) && (typeof r.file === 'string' || (typeof r.text === 'string' && typeof r.fileName === 'string'));
}

port.on('message', (msg: unknown) => {
  if (!isRequest(msg)) return;
  const { id } = msg;
  const work = msg.file !== undefined ? analyzeEventLogFile(msg.file, { siblings: msg.siblings, ...msg.limits }) : Promise.resolve(analyzeEventLogText(msg.text!, { fileName: msg.fileName!, siblings: msg.siblings }));
  work.then(
    (findings) => port.postMessage({ id, findings }),
    (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) }),
  );
});
