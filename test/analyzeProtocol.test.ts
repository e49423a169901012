/** The analysis worker's messages are checked on receipt (worker/analyzeProtocol.ts): what the extension sends passes, the rest is dropped. */
import { describe, expect, it } from 'vitest';
import { isAnalysisMessage } from '../src/worker/analyzeProtocol';

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
});
