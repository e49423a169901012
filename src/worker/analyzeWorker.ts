/** Worker-thread entry for analysis that must not run on the extension host's thread (its messages: analyzeProtocol.ts). */
import { parentPort } from 'node:worker_threads';
import { analyzeEventLogFile, analyzeEventLogText } from '../analysis/eventLogAnalyzer';
import { isAnalysisMessage, isFileRequest, type AnalysisReply } from './analyzeProtocol';

const port = parentPort;
if (!port) throw new Error('analyzeWorker must run in a worker thread');

port.on('message', (msg: unknown) => {
  if (!isAnalysisMessage(msg)) {
    // Its sender waits for an answer by id: told why instead of waiting for ever.
    const id = (msg as { id?: unknown } | null)?.id;
    if (typeof id === 'number') port.postMessage({ id, error: 'the analysis worker could not read this request' } satisfies AnalysisReply);
    return;
  }
  const { id } = msg;
  const work = isFileRequest(msg)
    ? analyzeEventLogFile(msg.file, { siblings: msg.siblings, ...msg.discovered, ...msg.limits })
    : Promise.resolve(analyzeEventLogText(msg.text, { fileName: msg.fileName, siblings: msg.siblings, ...msg.discovered, maxLineBytes: msg.maxLineBytes }));
  work.then(
    (findings) => port.postMessage({ id, findings } satisfies AnalysisReply),
    (err: unknown) => port.postMessage({ id, error: err instanceof Error ? err.message : String(err) } satisfies AnalysisReply),
  );
});
