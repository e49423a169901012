/** One analysis worker thread for the extension, started on first use; requests are answered in order by id. */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type * as vscode from 'vscode';
import type { Finding } from '../analysis/findings';
import { isAnalysisReply, type AnalysisMessage, type AnalysisRequest } from '../worker/analyzeProtocol';
import { WORKER_BUNDLES } from '../worker/bundles';

export class AnalysisWorker implements vscode.Disposable {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (f: Finding[]) => void; reject: (e: Error) => void }>();

  constructor(private readonly extensionPath: string) {}

  private start(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(path.join(this.extensionPath, 'dist', WORKER_BUNDLES.analyze));
    worker.on('message', (m: unknown) => {
      if (!isAnalysisReply(m)) return;
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (m.error !== undefined) p?.reject(new Error(m.error));
      else p?.resolve(m.findings ?? []);
    });
    const fail = (err: Error): void => {
      if (this.worker !== worker) return; // already replaced by stop()
      this.rejectAll(err);
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`analysis worker stopped (code ${code})`)));
    this.worker = worker;
    return worker;
  }

  analyze(request: AnalysisRequest): Promise<Finding[]> {
    const worker = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ id, ...request } satisfies AnalysisMessage);
    });
  }

  private rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
  }

  /** Stops the current work (cancel); the next request starts a fresh worker. */
  stop(): void {
    const worker = this.worker;
    this.worker = undefined;
    this.rejectAll(new Error('cancelled'));
    void worker?.terminate();
  }

  dispose(): void {
    this.stop();
  }
}
