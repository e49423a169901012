/** The analysis worker's messages are checked on receipt (worker/analyzeProtocol.ts): what the extension sends passes, the rest is dropped. */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { isAnalysisMessage, isAnalysisReply, isFileRequest, type AnalysisMessage } from '../src/worker/analyzeProtocol';

describe('analysis worker messages', () => {
  it('takes the two requests the extension sends, with or without folder names and limits', () => {
    expect(isAnalysisMessage({ id: 1, file: '/logs/app-1.lz4', siblings: ['app-1.lz4'], limits: { maxLineBytes: 1024 } })).toBe(true);
    expect(isAnalysisMessage({ id: 2, file: '/locked/app-1', siblings: undefined })).toBe(true);
    expect(isAnalysisMessage({ id: 3, text: '{"Event":"SparkListenerLogStart"}\n', fileName: 'app-1', siblings: [] })).toBe(true);
  });

  it('drops anything else', () => {
    for (const m of [
      null,
      'analyze',
      { file: '/logs/app-1', siblings: [] },
      { id: '1', file: '/logs/app-1', siblings: [] },
      { id: 1, siblings: [] },
      { id: 1, text: 'x', siblings: [] },
      { id: 1, file: '/logs/app-1', siblings: 'app-1' },
      { id: 1, file: '/logs/app-1', siblings: [1] },
      { id: 1, file: '/logs/app-1', siblings: [], limits: { maxLineBytes: 'big' } },
    ]) {
      expect(isAnalysisMessage(m), JSON.stringify(m)).toBe(false);
    }
  });

  it('tells a file request from a text request by the same test that checks it', () => {
    const requests: AnalysisMessage[] = [
      { id: 1, file: '/logs/app-1', siblings: undefined },
      { id: 2, text: 'x', fileName: 'app-1', siblings: [] },
    ];
    expect(requests.map(isFileRequest)).toEqual([true, false]);
    // A text request with a file key that is not text is a text request, here as on receipt.
    const odd = { id: 3, file: undefined, text: 'x', fileName: 'app-1', siblings: [] };
    expect([isAnalysisMessage(odd), isFileRequest(odd as unknown as AnalysisMessage)]).toEqual([true, false]);
  });

  it("takes the worker's answers and drops anything else", () => {
    expect([{ id: 1, findings: [] }, { id: 2, error: 'cannot read it' }].map(isAnalysisReply)).toEqual([true, true]);
    expect([null, { findings: [] }, { id: 1 }, { id: 1, error: 5 }, { id: '1', findings: [] }].map(isAnalysisReply)).toEqual([false, false, false, false, false]);
  });

  it('the worker answers a request it cannot read, by its id, instead of leaving its sender waiting', async () => {
    const worker = new Worker(path.resolve(__dirname, '..', 'dist', 'analyzeWorker.js'));
    try {
      const reply = new Promise<unknown>((resolve) => worker.once('message', resolve));
      worker.postMessage({ id: 7, file: '/logs/app-1', siblings: [1, 2] });
      const answer = await reply;
      expect(isAnalysisReply(answer)).toBe(true);
      expect(answer).toEqual({ id: 7, error: 'the analysis worker could not read this request' });
    } finally {
      await worker.terminate();
    }
  });
});
