/** A run's counts (ingest.ts applyBatch): what failed is counted once per log, not once per error. */
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/collectors/contract';
import type { Problem } from '../src/collectors/record';
import { applyBatch, emptyCounts } from '../src/storage/ingest';

const error = (file: string | undefined, line: number): Problem => ({ severity: 'error', code: 'malformed-line', message: 'Malformed JSON', ...(file === undefined ? {} : { file }), line });

describe('a run counts', () => {
  it('one failed log for a log of three bad lines, and each log or file-less error once', () => {
    const batch: Batch = {
      apps: [],
      problems: [error('/l/app-3x', 1), error('/l/app-3x', 2), error('/l/app-3x', 3), error('/l/app-other', 1), error(undefined, 0), { severity: 'warning', code: 'w', message: 'w', file: '/l/app-4' }],
      filtered: 0,
      unchanged: 0,
    };
    const counts = emptyCounts();
    applyBatch({ storeBatch: () => ({ new: 0, updated: 0, unchanged: 0 }) }, batch, counts);
    expect(counts).toMatchObject({ failed: 3, seen: 3 });
  });

  it("each of an API page's unreadable runs, which share the endpoint's name as their file (a review)", () => {
    const shape = (run: number): Problem => ({ severity: 'error', code: 'rest-shape', message: `run ${run}: unexpected shape`, file: 'runs/list' });
    const counts = emptyCounts();
    applyBatch({ storeBatch: () => ({ new: 0, updated: 0, unchanged: 0 }) }, { apps: [], problems: [shape(1), shape(2), shape(3)], filtered: 0, unchanged: 0 }, counts);
    expect(counts).toMatchObject({ failed: 3, seen: 3 });
  });
});
