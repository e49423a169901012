/**
 * Stage attempts as a table (record/stageTable.ts): read as rows they are the summaries they hold;
 * the store encodes a table to the very text it gives for those rows; they cross worker boundaries
 * as one typed array and come out as the same summaries.
 */
import { describe, expect, it } from 'vitest';
import { AT, fromWire, isWireSummaries, stageRows, stageTableOf, tableSummaries, toWire, wireBuffers, type StageTable } from '../src/collectors/record/stageTable';
import type { AppSummaries, StageStatus, StageSummary } from '../src/collectors/record/summaries';
import { decodeSummaries, encodeSummaries } from '../src/storage/summaryCodec';
import { makeExecutor, makeStage, realisticSummaries, tableOfRows } from './support/summaries';

/** Rows with what a table must keep: nulls in every nullable field, no quantiles, a retry, big and fractional numbers. */
const ODD: StageSummary[] = [
  makeStage({ stage_id: 0 }),
  makeStage({ stage_id: 1, name: null, status: 'skipped', submission_time: null, completion_time: null, duration_ms: null, peak_execution_memory_bytes: null, task_duration_ms: null }),
  makeStage({ stage_id: 1, attempt_id: 1, status: 'active', completion_time: null, duration_ms: null, input_bytes: 2 ** 52 + 2, cpu_time_ms: 0.5 }),
  makeStage({ stage_id: 2 ** 31 + 5, status: 'failed', failed_tasks: 3, submission_time: '1999-12-31T23:59:59.999Z', completion_time: '2000-01-01T00:00:00.001Z', duration_ms: 2 }),
];

/** `t` with entry i's number at `at` set to v (its chunks copied). */
function withCell(t: StageTable, i: number, at: number, v: number): StageTable {
  const chunks = t.chunks.map((c) => c.slice());
  const r = t.rows === null ? i : t.rows[i]!;
  chunks[r >> t.chunkBits]![(r & ((1 << t.chunkBits) - 1)) * t.stride + at] = v;
  return { ...t, chunks };
}

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

  it('crosses a worker boundary as one typed array and comes out as the same summaries; a broken wire form is refused', () => {
    const plain = realisticSummaries(2, 300, 5);
    const s = tableSummaries(tableOfRows(plain.stages), plain.executors);
    const wire = structuredClone(toWire(s));
    expect(isWireSummaries(wire)).toBe(true);
    expect(Object.keys(wire)).toEqual(['table', 'executors']);
    const back = fromWire(wire);
    expect(stageTableOf(back)).toBeDefined();
    expect(back).toEqual(plain);
    // Sent with its buffers transferred: the receiver has them, the sender's are gone (no copy made).
    const sent = tableSummaries(tableOfRows(plain.stages), plain.executors);
    const wireSent = toWire(sent);
    const buffers = wireBuffers(wireSent);
    expect(buffers.length).toBe(stageTableOf(sent)!.chunks.length + 1);
    const received = fromWire(structuredClone(wireSent, { transfer: buffers }));
    expect(received).toEqual(plain);
    expect(stageTableOf(sent)!.chunks.every((c) => c.length === 0)).toBe(true);
    expect(wireBuffers(toWire(plain))).toEqual([]);
    // Plain summaries cross as they are.
    expect(fromWire(structuredClone(toWire(plain)))).toEqual(plain);
    expect(isWireSummaries(structuredClone(toWire(plain)))).toBe(true);
    const table = tableOfRows(plain.stages);
    for (const broken of [
      { table: { ...table, chunks: [table.chunks[0]!.subarray(0, 10), ...table.chunks.slice(1)] }, executors: [] },
      { table: { ...table, chunks: table.chunks.slice(1) }, executors: [] },
      { table: { ...table, rows: Int32Array.from(table.rows!, (r) => r + 1_000) }, executors: [] },
      { table: { ...table, rows: Array.from(table.rows!) }, executors: [] },
      { table: { ...table, stride: 5 }, executors: [] },
      { table: { ...table, names: [] }, executors: [] },
      { table: { ...table, chunks: table.chunks.map((c) => Array.from(c)) }, executors: [] },
      // What no table may hold: a time isoTime refuses, some quantiles only, a name that is no text, an unknown status.
      { table: withCell(table, 0, AT.submission_ms, -5), executors: [] },
      { table: withCell(table, 1, AT.task_p50_ms, Number.NaN), executors: [] },
      { table: { ...table, names: table.names.map((n, i) => (i === 2 ? ({ evil: 1 } as unknown as string) : n)) }, executors: [] },
      { table: { ...table, statuses: table.statuses.map((x, i) => (i === 2 ? ('done' as StageStatus) : x)) }, executors: [] },
      { table, executors: null },
      { stages: null, executors: [] },
    ]) {
      expect(isWireSummaries(broken)).toBe(false);
    }
  });
});
