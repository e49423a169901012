/** Worker-thread entry for one collection run: the pipeline's `runJob` off the editor's thread; see collectProtocol.ts. */
import { parentPort } from 'node:worker_threads';
import type { CollectProgress } from '../collectors/contract';
import { runJob } from '../pipeline';
import { unchangedCheck } from '../storage/unchanged';
import { wireBuffers } from '../collectors/record/summariesWire';
import { isHostMessage, wireBatch, type WorkerMessage } from './collectProtocol';

const port = parentPort;
if (!port) throw new Error('collectWorker must run in a worker thread');
const send = (m: WorkerMessage): void => port.postMessage(m);
const controller = new AbortController();

port.on('message', (msg: unknown) => {
  if (!isHostMessage(msg)) {
    send({ type: 'error', message: 'the collection worker was sent a message it does not understand' });
    return;
  }
  if (msg.type === 'cancel') {
    controller.abort();
    return;
  }
  const { job, known, poolScript } = msg.job;
  let lastProgress = 0;
  let lastPhase: CollectProgress['phase'];
  const onProgress = (progress: CollectProgress): void => {
    const now = Date.now();
    // At most five a second, but always the first of a phase (reading's gives the total) and the last.
    const last = progress.phase === 'reading' && progress.logsDone === progress.logsFound;
    if (now - lastProgress < 200 && progress.phase === lastPhase && !last) return;
    lastProgress = now;
    lastPhase = progress.phase;
    send({ type: 'progress', progress });
  };
  const batches = runJob(job, { signal: controller.signal, onProgress, workerScript: poolScript, isUnchanged: unchangedCheck(known) });
  void (async () => {
    try {
      for await (const batch of batches) {
        const wire = wireBatch(batch);
        port.postMessage({ type: 'batch', batch: wire } satisfies WorkerMessage, [...new Set(wire.apps.flatMap((a) => wireBuffers(a.summaries)))]);
      }
      send({ type: 'done', cancelled: controller.signal.aborted });
    } catch (err) {
      if (controller.signal.aborted) send({ type: 'done', cancelled: true });
      else send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});
