/**
 * Worker-thread entry: analyzes event-log files from disk (compressed, or too big for the editor).
 * Host -> worker: `{ file: string, siblings: string[] }`, one at a time.
 * Worker -> host: `{ file, findings }` or `{ file, error }` for each.
 */
import { parentPort } from 'node:worker_threads';
import { analyzeEventLogFile } from '../analysis/eventLogAnalyzer';

const port = parentPort;
if (!port) throw new Error('analyzeWorker must run in a worker thread');

port.on('message', (msg: unknown) => {
  const m = msg as { file?: unknown; siblings?: unknown } | null;
  if (!m || typeof m.file !== 'string' || !Array.isArray(m.siblings)) return;
  const file = m.file;
  analyzeEventLogFile(file, { siblings: m.siblings as string[] }).then(
    (findings) => port.postMessage({ file, findings }),
    (err: unknown) => port.postMessage({ file, error: err instanceof Error ? err.message : String(err) }),
  );
});
