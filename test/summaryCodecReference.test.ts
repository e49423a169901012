/**
 * The encoder's text (summaryCodec.ts writes it as bytes, value by value for a small application)
 * against a reference written the plain way, as 69260dd's encoder was: JSON.stringify of the whole
 * column arrays, times parsed and checked by a Date. Random summaries with every odd value the
 * stores may be given; any byte that differs fails, and the stored text must never change (issue #12).
 */
import { describe, expect, it } from 'vitest';
import { tableSummaries, type StageTable } from '../src/collectors/record/stageTable';
import { fromWire, toWire, wireBuffers } from '../src/collectors/record/summariesWire';
import { QUANTILES, STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageStatus, type StageSummary } from '../src/collectors/record/summaries';
import { compareExecutorIds, encodeSummaries, encodeSummaryBytes } from '../src/storage/summaryCodec';
import { makeExecutor, makeStage, tableOfRows } from './support/summaries';

type Json = null | number | string | Json[] | { raw: Json[] };

const STAGE_PLAIN = ['duration_ms', ...STAGE_COUNTERS, 'peak_execution_memory_bytes'] as const;
const EXECUTOR_PLAIN = ['total_cores', 'total_tasks', 'failed_tasks', 'gc_time_ms', 'shuffle_read_bytes', 'shuffle_write_bytes'] as const;

/** The milliseconds of a text that toISOString gives back exactly; null for any other. */
function referenceMs(text: string | null): number | null {
  if (text === null) return null;
  const ms = Date.parse(text);
  return Number.isFinite(ms) && new Date(ms).toISOString() === text ? ms : null;
}

function lastByKey<T>(items: readonly T[], order: (a: T, b: T) => number): T[] {
  const sorted = [...items].sort(order);
  return sorted.filter((item, i) => i + 1 === sorted.length || order(item, sorted[i + 1]!) !== 0);
}

function textColumn(values: readonly (string | null)[]): Json {
  const distinct = [...new Set(values)];
  return [distinct, values.map((v) => distinct.indexOf(v))];
}

/** summaryCodec.ts's format 1, from its description, with arrays and JSON.stringify. */
function referenceText(s: AppSummaries): string {
  const stages = lastByKey(s.stages, (a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id);
  const executors = lastByKey(s.executors, (a, b) => compareExecutorIds(a.executor_id, b.executor_id));
  const submitted = stages.map((x) => referenceMs(x.submission_time));
  const completed = stages.map((x) => referenceMs(x.completion_time));
  const added = executors.map((e) => referenceMs(e.add_time));
  const removed = executors.map((e) => referenceMs(e.remove_time));
  const known = [...submitted, ...completed, ...added, ...removed].filter((ms): ms is number => ms !== null);
  const t0 = known.length === 0 ? 0 : Math.min(...known);
  const ids = stages.map((x) => x.stage_id);
  let previous = 0;
  const idColumn: Json = ids.every((id) => Number.isSafeInteger(id)) ? ids.map((id) => id - previous + 0 * (previous = id)) : { raw: ids };
  const ref = (i: number): number => {
    const ms = submitted[i]!;
    if (ms === null) return t0;
    const d = stages[i]!.duration_ms;
    return ms + (d !== null && Number.isSafeInteger(d) ? d : 0);
  };
  /** A time column: each known time as its step from the one before (the first from t0), an unknown one as it was given. */
  const steps = (times: readonly (number | null)[], given: readonly (string | null)[]): Json => {
    let before = t0;
    return times.map((ms, i) => (ms === null ? given[i]! : ms - before + 0 * (before = ms)));
  };
  const stageColumns: Json[] = [
    idColumn,
    stages.map((x) => x.attempt_id),
    textColumn(stages.map((x) => x.name)),
    textColumn(stages.map((x) => x.status)),
    steps(submitted, stages.map((x) => x.submission_time)),
    stages.map((x, i) => (completed[i] === null ? x.completion_time : completed[i]! - ref(i))),
    ...STAGE_PLAIN.map((f) => stages.map((x) => x[f])),
    ...QUANTILES.map((q) => stages.map((x) => x.task_duration_ms?.[q] ?? null)),
  ];
  const executorColumns: Json[] = [
    textColumn(executors.map((e) => e.executor_id)),
    textColumn(executors.map((e) => e.host)),
    steps(added, executors.map((e) => e.add_time)),
    executors.map((e, i) => (removed[i] === null ? e.remove_time : removed[i]! - (added[i] ?? t0))),
    textColumn(executors.map((e) => e.remove_reason)),
    ...EXECUTOR_PLAIN.map((f) => executors.map((e) => e[f])),
  ];
  return JSON.stringify([1, t0, stages.length, stageColumns, executors.length, executorColumns]);
}

/** A seeded generator (Park-Miller), so that a failure repeats. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 16807) % 2147483647) / 2147483647;
}

const ODD_NUMBERS = [0, -0, 1, 7, 9, 10, 99, 100, 999_999_999, 1e9, 1e9 + 1, 1e10, 1e15 + 7, -(1e12) - 5, 2_000_000_000_050, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1, 2 ** 53, 2 ** 60, 1e21, 1.5, -1, -(2 ** 31) - 3, -(2 ** 53) + 1, 0.1 + 0.2, 5e-324, Number.NaN, Infinity, -Infinity];
const ODD_TEXTS = ['', 'plain', 'collect at Q.scala:9', 'quote " and \\ backslash', 'tab\tnewline\n', '\u0000\u001f\u007f', 'naïve 名前', 'emoji 😀', 'lone \ud800 surrogate', 'lone \udc00 low', '\u2028\u2029', '</script>'];
const ODD_TIMES = [
  null,
  '2024-06-01T00:00:02.000Z',
  '2024-02-29T23:59:59.999Z',
  '2023-02-29T00:00:00.000Z',
  '2024-02-30T00:00:00.000Z',
  '2100-02-29T00:00:00.000Z',
  '2000-02-29T12:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '0000-02-29T00:00:00.000Z',
  '1969-12-31T23:59:59.999Z',
  '9999-12-31T23:59:59.999Z',
  '2024-13-01T00:00:00.000Z',
  '2024-06-00T00:00:00.000Z',
  '2024-06-01T24:00:00.000Z',
  '2024-06-01T00:60:00.000Z',
  '2024-06-01T00:00:02Z',
  '2024-06-01 00:00:02.000Z',
  '2024-06-01T00:00:02.000+00:00',
  '+275760-09-13T00:00:00.000Z',
  '2O24-06-01T00:00:02.000Z',
  'not a time',
];

function pick<T>(next: () => number, from: readonly T[]): T {
  return from[Math.floor(next() * from.length)]!;
}

/** A number a field may hold: mostly ordinary, sometimes odd. */
function someNumber(next: () => number): number {
  const r = next();
  if (r < 0.2) return pick(next, ODD_NUMBERS);
  if (r < 0.6) return Math.floor(next() * 100);
  return Math.floor(next() * 2 ** (10 + next() * 43));
}

/** A time near `base` (the same day mostly, as a log's), or an odd one. */
function someTime(next: () => number, base: number): string | null {
  const r = next();
  if (r < 0.25) return pick(next, ODD_TIMES);
  return new Date(base + Math.floor(next() * 3 * 86_400_000)).toISOString();
}

function someSummaries(next: () => number, stages: number, executors: number): AppSummaries {
  const base = Math.floor(next() * 253_402_300_799_999 * 0.9);
  const statuses: StageStatus[] = ['complete', 'failed', 'active', 'skipped'];
  return {
    stages: Array.from({ length: stages }, (): StageSummary => {
      const stage = makeStage({
        stage_id: next() < 0.02 ? pick(next, ODD_NUMBERS) : Math.floor(next() * stages * 1.2),
        attempt_id: next() < 0.1 ? someNumber(next) : Math.floor(next() * 2),
        name: next() < 0.1 ? null : next() < 0.3 ? pick(next, ODD_TEXTS) : `stage ${Math.floor(next() * 5)} at Job.scala:${Math.floor(next() * 100)}`,
        status: pick(next, statuses),
        submission_time: someTime(next, base),
        completion_time: someTime(next, base),
        duration_ms: next() < 0.1 ? null : someNumber(next),
        peak_execution_memory_bytes: next() < 0.2 ? null : someNumber(next),
        task_duration_ms: next() < 0.2 ? null : { min: someNumber(next), p25: someNumber(next), p50: someNumber(next), p75: someNumber(next), max: someNumber(next) },
      });
      for (const c of STAGE_COUNTERS) stage[c] = someNumber(next);
      return stage;
    }),
    executors: Array.from({ length: executors }, (): ExecutorSummary =>
      makeExecutor({
        executor_id: next() < 0.1 ? pick(next, ['driver', 'b', '02', '', '10', ...ODD_TEXTS]) : String(Math.floor(next() * executors * 1.5)),
        host: next() < 0.1 ? null : next() < 0.2 ? pick(next, ODD_TEXTS) : `host-${Math.floor(next() * 4)}`,
        total_cores: next() < 0.1 ? null : someNumber(next),
        add_time: someTime(next, base),
        remove_time: next() < 0.5 ? null : someTime(next, base),
        remove_reason: next() < 0.5 ? null : pick(next, ['lost', 'Container killed by YARN', ...ODD_TEXTS]),
        total_tasks: someNumber(next),
        failed_tasks: someNumber(next),
        gc_time_ms: someNumber(next),
        shuffle_read_bytes: someNumber(next),
        shuffle_write_bytes: someNumber(next),
      }),
    ),
  };
}

describe('the summaries encoder', () => {
  it('writes the reference text for 3,000 random small applications (columns of up to 16 values, written value by value)', () => {
    const next = random(12);
    for (let k = 0; k < 3_000; k++) {
      const s = someSummaries(next, Math.floor(next() * 17), Math.floor(next() * 17));
      const expected = referenceText(s);
      expect(encodeSummaries(s), expected).toBe(expected);
    }
  });

  it('writes the reference text for larger applications (columns through JSON.stringify, slices of 2,048 values, past the first 64 KB buffer)', () => {
    const next = random(99);
    for (const [stages, executors] of [
      [17, 17],
      [40, 3],
      [3, 40],
      [2_100, 30],
      [5_000, 600],
    ] as const) {
      const s = someSummaries(next, stages, executors);
      const expected = referenceText(s);
      const text = encodeSummaries(s);
      expect(text.length).toBe(expected.length);
      expect(text === expected, `${stages} stages, ${executors} executors`).toBe(true);
    }
  });

  it('writes a stage table as the same text as its rows', () => {
    const next = random(7);
    for (let k = 0; k < 300; k++) {
      const given = someSummaries(next, Math.floor(next() * 30), 2);
      // A table holds times as milliseconds (toISOString's texts only) and the keys as the engine does: safe integers.
      const rows = lastByKey(
        given.stages.map((s) => ({
          ...s,
          stage_id: Math.abs(Math.floor(s.stage_id)) % 1_000,
          attempt_id: Math.abs(Math.floor(s.attempt_id)) % 3,
          submission_time: referenceMs(s.submission_time) === null ? null : s.submission_time,
          completion_time: referenceMs(s.completion_time) === null ? null : s.completion_time,
        })),
        (a, b) => a.stage_id - b.stage_id || a.attempt_id - b.attempt_id,
      );
      const table: StageTable = tableOfRows(rows);
      const fromTable = encodeSummaries(tableSummaries(table, given.executors));
      expect(fromTable).toBe(referenceText({ stages: rows, executors: given.executors }));
    }
  });

  it('gives each text a buffer of its own of exactly its size, which crosses to another thread without a copy and is not written over by the next encoding', () => {
    const first = someSummaries(random(3), 5, 3);
    const second = someSummaries(random(4), 5, 3);
    const bytes = encodeSummaryBytes(first);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength);
    const copy = Buffer.from(bytes);
    encodeSummaryBytes(second);
    expect(bytes.equals(copy)).toBe(true);
    const wire = toWire(first);
    expect(Buffer.from(wire.text).toString('utf8')).toBe(referenceText(first));
    const received = structuredClone(wire, { transfer: wireBuffers(wire) });
    expect(wire.text.byteLength).toBe(0);
    expect(encodeSummaries(fromWire(received))).toBe(referenceText(first));
  });
});
