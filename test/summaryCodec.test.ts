/**
 * The text an attempt's summaries are stored as (summaryCodec.ts): every value reads back as it was
 * given, in summariesOf's order, whatever the times look like; and it deflates small.
 */
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { AppSummaries } from '../src/collectors/record/summaries';
import { compareExecutorIds, decodeSummaries, encodeSummaries, SummaryTextError } from '../src/storage/summaryCodec';
import { makeExecutor, makeStage, makeSummaries } from './support/summaries';

/** encodeSummaries' text for the golden test's summaries, as 69260dd's encoder (JSON.stringify of the columns) wrote it. */
const GOLDEN =
  '[1,1717200001500,3,[[0,1,1],[0,0,1],[["stage 0 at Job.scala:10",null,"collect at \\"Q\\".scala:9"],[0,1,2]],[["complete","failed"],[0,0,1]],[500,null,0],[0,null,"2024-06-01T00:00:30Z"],[10000,null,10000],[20,20,20],[0,0,0],[0,0,0],[1000,9007199254740994,1000],[0,0,0],[500,500,500],[600,600,600],[0,0,0],[0,0,0],[40000,40000,40000],[30000,30000,30000],[100,100,100],[1048576,null,1048576],[100,null,100],[200,null,200],[300,null,300],[400,null,400],[2000,null,2000]],3,[[["1","10","driver"],[0,1,2]],[["host-1","host-10",null],[0,1,2]],[0,0,null],[null,58500,null],[[null,"lost"],[0,1,0]],[4,4,null],[50,50,50],[0,0,0],[250,250,250],[1000,1000,1000],[1200,1200,1200]]]';

const roundTrip = (s: AppSummaries): AppSummaries => decodeSummaries(encodeSummaries(s));

describe('summary texts', () => {
  it('are the very text format 1 has always been (stored hashes are SHA-1s of it): a golden copy, written by the encoder of 69260dd', () => {
    const summaries: AppSummaries = {
      stages: [
        makeStage({ stage_id: 2, attempt_id: 1, status: 'failed', name: 'collect at "Q".scala:9', completion_time: '2024-06-01T00:00:30Z' }),
        makeStage({ stage_id: 0 }),
        makeStage({ stage_id: 1, name: null, submission_time: null, completion_time: null, duration_ms: null, task_duration_ms: null, peak_execution_memory_bytes: null, input_bytes: 2 ** 53 + 2 }),
      ],
      executors: [
        makeExecutor({ executor_id: '10', remove_time: '2024-06-01T00:01:00.000Z', remove_reason: 'lost' }),
        makeExecutor(),
        makeExecutor({ executor_id: 'driver', host: null, total_cores: null, add_time: null }),
      ],
    };
    expect(encodeSummaries(summaries)).toBe(GOLDEN);
  });

  it('give back what they were given, with the fields in the order summaries.ts declares them', () => {
    const given = makeSummaries(30, 12);
    const read = roundTrip(given);
    expect(read).toEqual(given);
    expect(JSON.stringify(read)).toBe(JSON.stringify(given));
    expect(roundTrip({ stages: [], executors: [] })).toEqual({ stages: [], executors: [] });
  });

  it('keep nulls, times that are not toISOString text, odd numbers and any text as they are', () => {
    const given: AppSummaries = {
      stages: [
        makeStage({ stage_id: 0, submission_time: null, completion_time: '2024-06-01T00:00:12.000Z', duration_ms: null }),
        makeStage({ stage_id: 1, submission_time: '2024-06-01T00:00:02Z', completion_time: 'not a time', name: 'naïve 名前 \u0000 "quoted"' }),
        makeStage({ stage_id: 2, submission_time: '1969-12-31T23:59:59.999Z', completion_time: '1970-01-01T00:00:00.000Z', duration_ms: 1.5 }),
        makeStage({ stage_id: 3, status: 'skipped', name: null, num_tasks: 0, submission_time: null, completion_time: null, duration_ms: null, task_duration_ms: null, peak_execution_memory_bytes: null }),
        makeStage({ stage_id: 4, attempt_id: 2, status: 'failed', input_bytes: 2 ** 53 - 1, shuffle_read_bytes: 2 ** 60, gc_time_ms: 0.25, cpu_time_ms: -1 }),
        makeStage({ stage_id: 5, submission_time: '+275760-09-13T00:00:00.000Z', completion_time: '2024-06-01T00:00:00.000+00:00' }),
        makeStage({ stage_id: 6, task_duration_ms: { min: 0, p25: 0, p50: 0, p75: 0, max: 0 } }),
        makeStage({ stage_id: 7.5 }),
      ],
      executors: [
        makeExecutor({ executor_id: 'driver', host: null, total_cores: null, add_time: null }),
        makeExecutor({ executor_id: '1', remove_time: '2024-06-01T00:05:00.000Z', remove_reason: 'Container killed by YARN for exceeding memory limits' }),
        makeExecutor({ executor_id: '2', add_time: 'yesterday', remove_time: '2024-06-01T00:06:00.000Z', remove_reason: '' }),
        makeExecutor({ executor_id: '3', add_time: null, remove_time: '2024-06-01T00:07:00.000Z' }),
      ],
    };
    const read = roundTrip(given);
    expect(read.stages).toEqual(given.stages);
    expect(read.executors).toEqual([given.executors[1], given.executors[2], given.executors[3], given.executors[0]]);
  });

  it('sort stages by (stage_id, attempt_id) and executors by numeric id, and keep the last copy of a key (as rows replaced each other)', () => {
    const read = roundTrip({
      stages: [makeStage({ stage_id: 10 }), makeStage({ stage_id: 2, attempt_id: 1 }), makeStage({ stage_id: 2, attempt_id: 0, num_tasks: 1 }), makeStage({ stage_id: 2, attempt_id: 0, num_tasks: 2 })],
      executors: [makeExecutor({ executor_id: '10' }), makeExecutor({ executor_id: 'driver' }), makeExecutor({ executor_id: '2', total_tasks: 1 }), makeExecutor({ executor_id: '2', total_tasks: 7 })],
    });
    expect(read.stages.map((s) => [s.stage_id, s.attempt_id, s.num_tasks])).toEqual([
      [2, 0, 2],
      [2, 1, 20],
      [10, 0, 20],
    ]);
    expect(read.executors.map((e) => [e.executor_id, e.total_tasks])).toEqual([
      ['2', 7],
      ['10', 50],
      ['driver', 50],
    ]);
    expect(['b', '10', 'driver', '2', '02'].sort(compareExecutorIds)).toEqual(['02', '2', '10', 'b', 'driver']);
  });

  it('deflate small: a 50-stage, 20-executor attempt to under 1 KB (the test\'s summaries repeat more than real ones)', () => {
    expect(deflateRawSync(encodeSummaries(makeSummaries(50, 20))).length).toBeLessThan(1_024);
  });

  it('read columns a text does not have as null (a later format may append fields), and refuse a newer format or other JSON', () => {
    const block = (value: unknown): string => JSON.stringify(value);
    const full = JSON.parse(encodeSummaries(makeSummaries(1, 1))) as unknown[];
    const [format, t0, ns, stages, ne, executors] = full as [number, number, number, unknown[], number, unknown[]];
    const short = decodeSummaries(block([format, t0, ns, stages.slice(0, 6), ne, executors.slice(0, 5)]));
    expect(short.stages[0]).toMatchObject({ stage_id: 0, duration_ms: null, num_tasks: null, task_duration_ms: null });
    expect(short.executors[0]).toMatchObject({ executor_id: '1', total_cores: null, shuffle_write_bytes: null });
    expect(decodeSummaries(block([format, t0, ns, [...stages, [1]], ne, [...executors, [2]]]))).toEqual(makeSummaries(1, 1));
    expect(() => decodeSummaries(block([format + 1, 0, 0, [], 0, []]))).toThrow(/format 2, written by a newer Spark Optimizer/);
    expect(() => decodeSummaries('not JSON at all')).toThrow(SummaryTextError);
    expect(() => decodeSummaries(block({ stages: [] }))).toThrow(SummaryTextError);
  });
});
