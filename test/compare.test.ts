/** compareRuns (analysis/compare.ts): a pure view model of two runs, tested in plain Node. */
import { describe, expect, it } from 'vitest';
import { compareRuns, delta } from '../src/analysis/compare';
import { REDACTED } from '../src/common/secretText';
import { makeRecord } from './support/records';
import { makeStage } from './support/summaries';

describe('compareRuns', () => {
  it('deltas: absolute and percent, unknown and zero bases', () => {
    expect(delta(100, 150)).toEqual({ a: 100, b: 150, delta: 50, percent: 50 });
    expect(delta(300, 200)).toEqual({ a: 300, b: 200, delta: -100, percent: -33.3 });
    expect(delta(0, 0)).toEqual({ a: 0, b: 0, delta: 0, percent: 0 });
    expect(delta(0, 5)).toEqual({ a: 0, b: 5, delta: 5, percent: null });
    expect(delta(null, 5)).toEqual({ a: null, b: 5, delta: null, percent: null });
  });

  it('compares the record\'s numeric fields, B against A', () => {
    const a = makeRecord({ app_id: 'a', duration_ms: 600_000, failed_tasks: 0, cpu_time_ms: null, shuffle_read_bytes: 1000 });
    const b = makeRecord({ app_id: 'b', duration_ms: 900_000, failed_tasks: 4, cpu_time_ms: 5, shuffle_read_bytes: 500 });
    const c = compareRuns({ record: a }, { record: b });
    const row = (f: string): unknown => c.metrics.find((m) => m.field === f);
    expect(row('duration_ms')).toMatchObject({ label: 'Duration', kind: 'duration', a: 600_000, b: 900_000, delta: 300_000, percent: 50 });
    expect(row('failed_tasks')).toMatchObject({ a: 0, b: 4, delta: 4, percent: null });
    expect(row('cpu_time_ms')).toMatchObject({ a: null, b: 5, delta: null });
    expect(row('shuffle_read_bytes')).toMatchObject({ delta: -500, percent: -50 });
    expect(c.metrics.map((m) => m.field)).not.toContain('app_name');
    expect(c.a).toMatchObject({ app_id: 'a', has_stages: false });
    expect(c.stages).toEqual([]);
  });

  it('aligns stages by name (repeated names in order), then by stage id, and adds up attempts', () => {
    const a = [
      makeStage({ stage_id: 0, name: 'load', duration_ms: 1000 }),
      makeStage({ stage_id: 1, name: 'loop', duration_ms: 100 }),
      makeStage({ stage_id: 2, name: 'loop', duration_ms: 200 }),
      makeStage({ stage_id: 3, name: 'join', attempt_id: 0, status: 'failed', duration_ms: 500, failed_tasks: 3 }),
      makeStage({ stage_id: 3, name: 'join', attempt_id: 1, status: 'complete', duration_ms: 700, failed_tasks: 0 }),
      makeStage({ stage_id: 4, name: 'old name', duration_ms: 50 }),
      makeStage({ stage_id: 5, name: 'only in a', duration_ms: 10 }),
    ];
    // B: different stage ids (one more stage before), the loop's stages in order, a renamed stage 4.
    const b = [
      makeStage({ stage_id: 0, name: 'extra', duration_ms: 5 }),
      makeStage({ stage_id: 1, name: 'load', duration_ms: 1500 }),
      makeStage({ stage_id: 2, name: 'loop', duration_ms: 110 }),
      makeStage({ stage_id: 3, name: 'loop', duration_ms: 220 }),
      makeStage({ stage_id: 4, name: 'join', duration_ms: 600 }),
      makeStage({ stage_id: 5, name: 'new name', duration_ms: 70 }),
    ];
    const c = compareRuns({ record: makeRecord(), summaries: { stages: a, executors: [] } }, { record: makeRecord(), summaries: { stages: b, executors: [] } });
    const pairs = c.stages.map((r) => [r.name, r.a?.stage_id ?? null, r.b?.stage_id ?? null, r.matched_by]);
    expect(pairs).toEqual([
      ['load', 0, 1, 'name'],
      ['loop', 1, 2, 'name'],
      ['loop', 2, 3, 'name'],
      ['join', 3, 4, 'name'],
      ['old name', 4, null, null],
      ['only in a', 5, 5, 'stage_id'],
      ['extra', null, 0, null],
    ]);
    expect(c.stage_counts).toEqual({ by_name: 4, by_stage_id: 1, only_a: 1, only_b: 1 });
    const join = c.stages[3]!;
    expect(join.a).toEqual({ stage_id: 3, attempts: 2, status: 'complete', ran: true });
    expect(join.metrics.duration_ms).toEqual({ a: 1200, b: 600, delta: -600, percent: -50 });
    expect(join.metrics.failed_tasks).toMatchObject({ a: 3, b: 0, delta: -3 });
    expect(c.stages[0]!.metrics.duration_ms.percent).toBe(50);
    expect(c.stages[4]!.metrics.duration_ms).toEqual({ a: 50, b: null, delta: null, percent: null });
  });

  it('adds up only the attempts that ran: a skipped stage has no figures, not 0 B and 0 ms (stageRan, as the job page)', () => {
    const skipped = { status: 'skipped', submission_time: null, completion_time: null, duration_ms: null, num_tasks: 0, shuffle_read_bytes: 0, executor_run_time_ms: 0 } as const;
    const a = [makeStage({ stage_id: 0, name: 'map', shuffle_read_bytes: 0, shuffle_write_bytes: 4096, executor_run_time_ms: 9000 }), makeStage({ stage_id: 1, name: 'reduce', shuffle_read_bytes: 4096 })];
    // B reused stage 0's shuffle output (skipped), and stage 1 ran twice: a failed attempt, then its retry.
    const b = [
      makeStage({ stage_id: 0, name: 'map', ...skipped }),
      makeStage({ stage_id: 1, name: 'reduce', attempt_id: 0, status: 'failed', shuffle_read_bytes: 1024 }),
      makeStage({ stage_id: 1, name: 'reduce', attempt_id: 1, shuffle_read_bytes: 4096 }),
    ];
    const c = compareRuns({ record: makeRecord(), summaries: { stages: a, executors: [] } }, { record: makeRecord(), summaries: { stages: b, executors: [] } });
    const [map, reduce] = c.stages;
    expect(map!.b).toEqual({ stage_id: 0, attempts: 1, status: 'skipped', ran: false });
    // Before: B's skipped map stage compared as 0 ms of run time and 0 B written, a -100% change.
    expect(map!.metrics.executor_run_time_ms).toEqual({ a: 9000, b: null, delta: null, percent: null });
    expect(map!.metrics.shuffle_write_bytes).toEqual({ a: 4096, b: null, delta: null, percent: null });
    expect(reduce!.b).toMatchObject({ attempts: 2, status: 'complete', ran: true });
    expect(reduce!.metrics.shuffle_read_bytes).toEqual({ a: 4096, b: 5120, delta: 1024, percent: 25 });
    // A skipped attempt beside one that ran adds nothing (a task-less skipped attempt, as Spark lists a resubmitted stage's).
    const again = compareRuns({ record: makeRecord(), summaries: { stages: a, executors: [] } }, { record: makeRecord(), summaries: { stages: [a[0]!, { ...a[1]!, shuffle_read_bytes: 100 }, { ...a[1]!, attempt_id: 1, ...skipped }], executors: [] } });
    expect(again.stages[1]!.b).toEqual({ stage_id: 1, attempts: 2, status: 'skipped', ran: true });
    expect(again.stages[1]!.metrics.shuffle_read_bytes).toMatchObject({ b: 100 });
    expect(again.stages[1]!.metrics.duration_ms.b).toBe(a[1]!.duration_ms);
  });

  it('lists only the properties that differ, keeps secrets redacted, and marks the per-run ones', () => {
    const a = makeRecord({ environment: { 'spark.executor.memory': '4g', 'spark.sql.shuffle.partitions': '200', 'spark.app.id': 'app-a', 'spark.password': REDACTED, 'spark.only.a': 'x' } });
    const b = makeRecord({ environment: { 'spark.executor.memory': '8g', 'spark.sql.shuffle.partitions': '200', 'spark.app.id': 'app-b', 'spark.password': REDACTED, 'spark.only.b': 'y' } });
    expect(compareRuns({ record: a }, { record: b }).config).toEqual([
      { key: 'spark.app.id', a: 'app-a', b: 'app-b', per_run: true },
      { key: 'spark.executor.memory', a: '4g', b: '8g', per_run: false },
      { key: 'spark.only.a', a: 'x', b: null, per_run: false },
      { key: 'spark.only.b', a: null, b: 'y', per_run: false },
    ]);
    expect(compareRuns({ record: a }, { record: a }).config).toEqual([]);
  });
});
