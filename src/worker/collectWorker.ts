/** Worker-thread entry for one collection run; see collectProtocol.ts. */
import { parentPort } from 'node:worker_threads';
import { collectEventLogs } from '../collectors/eventlog/collect';
import { type CollectProgress } from '../collectors/contract';
import { collectSource } from '../collectors/sources';
import { unchangedCheck } from '../storage/unchanged';
import { eventLogOptions, isHostMessage, type WorkerMessage } from './collectProtocol';

const port = parentPort;
if (!port) throw new Error('collectWorker must run in a worker thread');
const send = (m: WorkerMessage): void => port.postMessage(m);
const controller = new AbortController();

port.on('message', (msg: unknown) => {
  if (!isHostMessage(msg)) return;
  if (msg.type === 'cancel') {
    controller.abort();
    return;
  }
  const job = msg.job;
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
  const batches =
    job.kind === 'api'
      ? collectSource(job.job, { signal: controller.signal, onProgress })
      : collectEventLogs(
          eventLogOptions(job.options),
          { signal: controller.signal, workerScript: job.poolScript, isUnchanged: unchangedCheck(job.known), onProgress },
        );
  void (async () => {
    try {
      for await (const batch of batches) send({ type: 'batch', batch });
      send({ type: 'done', cancelled: controller.signal.aborted });
    } catch (err) {
      if (controller.signal.aborted) send({ type: 'done', cancelled: true });
      else send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    }
  })();
});
