/**
 * Stage attempts as a table (record/stageTable.ts): read as rows they are the summaries they hold;
 * the store encodes a table to the very text it gives for those rows; summaries cross worker
 * boundaries as that text (summariesWire.ts) and come out as the same summaries.
 */
import { describe, expect, it } from 'vitest';
import { stageRows, stageTableOf, tableSummaries } from '../src/collectors/record/stageTable';
import { fromWire, isWireSummaries, toWire, wireBuffers } from '../src/collectors/record/summariesWire';
import type { AppSummaries, StageSummary } from '../src/collectors/record/summaries';
import { decodeSummaries, encodeSummaries, encodeSummaryBytes } from '../src/storage/summaryCodec';
import { makeExecutor, makeStage, realisticSummaries, tableOfRows } from './support/summaries';

/** Rows with what a table must keep: nulls in every nullable field, no quantiles, a retry, big and fractional numbers. */
const ODD: StageSummary[] = [
  makeStage({ stage_id: 0 }),
  makeStage({ stage_id: 1, name: null, status: 'skipped', submission_time: null, completion_time: null, duration_ms: null, peak_execution_memory_bytes: null, task_duration_ms: null }),
  makeStage({ stage_id: 1, attempt_id: 1, status: 'active', completion_time: null, duration_ms: null, input_bytes: 2 ** 52 + 2, cpu_time_ms: 0.5 }),
  makeStage({ stage_id: 2 ** 31 + 5, status: 'failed', failed_tasks: 3, submission_time: '1999-12-31T23:59:59.999Z', completion_time: '2000-01-01T00:00:00.001Z', duration_ms: 2 }),
];

describe('a stage table', () => {
  it('reads back as the rows it holds, field order included', () => {
    for (const rows of [ODD, realisticSummaries(3, 500, 1).stages]) {
      const back = stageRows(tableOfRows(rows, 7));
      expect(back).toEqual(rows);
      expect(JSON.stringify(back)).toBe(JSON.stringify(rows));
    }
  });

  it('summaries made from one are the plain summaries to equality and JSON, and keep the table until their stages are replaced', () => {
    const plain: AppSummaries = { stages: ODD, executors: [makeExecutor(), makeExecutor({ executor_id: '2' })] };
    const table = tableOfRows(ODD);
    const s = tableSummaries(table, plain.executors);
    expect(stageTableOf(s)).toBe(table);
    expect(s).toEqual(plain);
    expect(JSON.stringify(s)).toBe(JSON.stringify(plain));
    expect({ ...s }).toEqual(plain);
    expect(stageTableOf(plain)).toBeUndefined();
    s.stages = [makeStage({ stage_id: 9 })];
    expect(stageTableOf(s)).toBeUndefined();
    expect(s.stages.map((x) => x.stage_id)).toEqual([9]);
  });

  it('is encoded by the store to the same text as its rows, in key order with the last row of a key kept', () => {
    const realistic = realisticSummaries(1, 2_000, 30);
    // In order; out of order with a key given twice (the later row wins in both paths).
    const shuffled = [ODD[3]!, ODD[1]!, makeStage({ stage_id: 0, num_tasks: 1 }), ODD[0]!, ODD[2]!];
    for (const { stages, executors } of [realistic, { stages: ODD, executors: [] }, { stages: shuffled, executors: [makeExecutor()] }]) {
      const text = encodeSummaries(tableSummaries(tableOfRows(stages, 3), executors));
      expect(text).toBe(encodeSummaries({ stages, executors }));
      expect(decodeSummaries(text)).toEqual(decodeSummaries(encodeSummaries({ stages, executors })));
    }
    const decoded = decodeSummaries(encodeSummaries(tableSummaries(tableOfRows(shuffled), [])));
    expect(decoded.stages.map((x) => [x.stage_id, x.attempt_id, x.num_tasks])).toEqual([
      [0, 0, ODD[0]!.num_tasks],
      [1, 0, ODD[1]!.num_tasks],
      [1, 1, ODD[2]!.num_tasks],
      [2 ** 31 + 5, 0, ODD[3]!.num_tasks],
    ]);
  });

  it('crosses a worker boundary as the store\'s text, transferred, and is stored without being encoded again; a broken wire form is refused', () => {
    const plain = realisticSummaries(2, 300, 5);
    const sent = tableSummaries(tableOfRows(plain.stages), plain.executors);
    const text = encodeSummaryBytes(sent);
    const wire = toWire(sent);
    expect(Object.keys(wire)).toEqual(['text']);
    expect(Buffer.from(wire.text).equals(text)).toBe(true);
    const buffers = wireBuffers(wire);
    const received = structuredClone(wire, { transfer: buffers });
    // Transferred, not copied: the sender's buffer is gone.
    expect(wire.text.byteLength).toBe(0);
    expect(isWireSummaries(received)).toBe(true);
    const back = fromWire(received);
    // The store gets the very bytes that crossed (no second encoding), and a reader the same summaries.
    expect(encodeSummaryBytes(back)).toBe(encodeSummaryBytes(back));
    expect(encodeSummaryBytes(back).equals(text)).toBe(true);
    expect(back).toEqual(plain);
    expect(Object.keys(back)).toEqual(['stages', 'executors']);
    expect(JSON.parse(JSON.stringify(back))).toEqual(JSON.parse(JSON.stringify(plain)));
    // A small text sits in Node's shared buffer pool: it is copied into a buffer of its own, so the transfer takes nothing else.
    const small: AppSummaries = { stages: [], executors: [makeExecutor()] };
    const pooled = encodeSummaryBytes(small);
    const smallWire = toWire(small);
    expect(smallWire.text.byteLength).toBe(smallWire.text.buffer.byteLength);
    const smallBack = fromWire(structuredClone(smallWire, { transfer: wireBuffers(smallWire) }));
    expect(smallBack).toEqual(decodeSummaries(pooled.toString('utf8')));
    // Replaced stages are encoded anew, with the executors the text held.
    smallBack.stages = [ODD[0]!];
    expect(encodeSummaries(smallBack)).toBe(encodeSummaries({ stages: [ODD[0]!], executors: small.executors }));
    // A text that is not summaries throws when read, naming what is wrong.
    expect(() => fromWire({ text: Buffer.from('[1,2') }).stages).toThrow(/not stage and executor summaries/);
    for (const broken of [null, 'text', { text: new Uint8Array(0) }, { text: 'a text' }, { text: [1, 2] }, { stages: [], executors: [] }, { table: {}, executors: [] }]) {
      expect(isWireSummaries(broken)).toBe(false);
    }
  });
});
