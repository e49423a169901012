/**
 * The Compare view (issue 15) in plain Node: its model (compareRuns put in words, tones, sort and
 * filter), its protocol guards, and how Compare Two Runs reads what it is called with.
 */
import { describe, expect, it } from 'vitest';
import { compareRuns } from '../src/analysis/compare';
import { compareModel, compareTitle, filterConfigRows, filterStageViews, sortStageViews, toneOf, type CompareModel, type StageView } from '../src/views/compare/model';
import { isHostMessage, isPageMessage, isPageState } from '../src/views/compare/protocol';
import { compareArgs } from '../src/views/compare/register';
import { makeRecord } from './support/records';
import { makeStage } from './support/summaries';

const GiB = 1024 ** 3;

const a = makeRecord({
  app_id: 'app-a',
  app_name: 'Nightly',
  start_time: '2024-06-01T02:00:00.000Z',
  duration_ms: 600_000,
  cpu_time_ms: 100_000,
  shuffle_read_bytes: GiB,
  failed_tasks: 0,
  total_tasks: 100,
  executor_memory_mb: 4096,
  disk_spilled_bytes: 0,
  input_bytes: 10 * GiB,
  environment: { 'spark.app.id': 'app-a', 'spark.executor.memory': '4g', 'spark.sql.shuffle.partitions': '200', 'spark.only.a': 'alpha' },
});
const b = makeRecord({
  app_id: 'app-b',
  app_name: 'Nightly',
  start_time: '2024-06-02T02:00:00.000Z',
  duration_ms: 900_000,
  cpu_time_ms: 98_000,
  shuffle_read_bytes: GiB / 2,
  failed_tasks: 4,
  total_tasks: 120,
  executor_memory_mb: 8192,
  disk_spilled_bytes: 0,
  input_bytes: 10 * GiB + 1_000,
  environment: { 'spark.app.id': 'app-b', 'spark.executor.memory': '8g', 'spark.sql.shuffle.partitions': '200', 'spark.only.b': 'beta' },
});
const stagesA = [
  makeStage({ stage_id: 0, name: 'load', duration_ms: 10_000 }),
  makeStage({ stage_id: 1, name: 'join', attempt_id: 0, status: 'failed', duration_ms: 5_000, failed_tasks: 3 }),
  makeStage({ stage_id: 1, name: 'join', attempt_id: 1, duration_ms: 7_000 }),
  makeStage({ stage_id: 2, name: 'tiny', duration_ms: 40 }),
  makeStage({ stage_id: 3, name: 'dropped', duration_ms: 3_000 }),
];
const stagesB = [
  makeStage({ stage_id: 0, name: 'load', duration_ms: 20_000 }),
  makeStage({ stage_id: 1, name: 'join', duration_ms: 6_000 }),
  makeStage({ stage_id: 2, name: 'tiny', duration_ms: 60 }),
  makeStage({ stage_id: 3, name: 'renamed', duration_ms: 2_500 }),
  makeStage({ stage_id: 7, name: 'extra', duration_ms: 30_000 }),
];
const model = compareModel(compareRuns({ record: a, summaries: { stages: stagesA, executors: [] } }, { record: b, summaries: { stages: stagesB, executors: [] } }));
const metric = (field: string): unknown => model.metrics.find((m) => m.field === field);
const stage = (name: string): StageView => model.stages.find((s) => s.name === name)!;

describe('compare view model', () => {
  it('names both runs, and titles the page by their name', () => {
    expect(model.title).toBe('Compare: Nightly');
    expect(model.a).toMatchObject({ app_id: 'app-a', title: 'Nightly', start_time: '2024-06-01T02:00:00.000Z', has_stages: true });
    expect(model.b.app_id).toBe('app-b');
    expect(compareTitle({ app_id: 'x', app_name: 'Etl' }, { app_id: 'y', app_name: null })).toBe('Compare: Etl ↔ y');
  });

  it('shows the metrics in their units, as the CLI prints them, each change marked by whether it costs more', () => {
    expect(metric('duration_ms')).toEqual({ field: 'duration_ms', label: 'Duration', a: '10m 0s', b: '15m 0s', delta: '+5m 0s', percent: '+50.0%', tone: 'worse' });
    expect(metric('shuffle_read_bytes')).toEqual({ field: 'shuffle_read_bytes', label: 'Shuffle read', a: '1 GB', b: '512 MB', delta: '-512 MB', percent: '-50.0%', tone: 'better' });
    // 0 → 4 failed tasks: no percent, and never minor.
    expect(metric('failed_tasks')).toMatchObject({ a: '0', b: '4', delta: '+4', percent: 'new', tone: 'worse' });
    // -2% CPU time, +1,000 bytes of 10 GiB input: within the noise.
    expect(metric('cpu_time_ms')).toMatchObject({ delta: '-2.0 s', percent: '-2.0%', tone: 'minor' });
    expect(metric('input_bytes')).toMatchObject({ tone: 'minor' });
    // Counts and sizing have no better direction.
    expect(metric('total_tasks')).toMatchObject({ a: '100', b: '120', delta: '+20', percent: '+20.0%', tone: 'changed' });
    expect(metric('executor_memory_mb')).toMatchObject({ a: '4,096 MB', b: '8,192 MB', tone: 'changed' });
    expect(metric('disk_spilled_bytes')).toMatchObject({ a: '0 B', b: '0 B', delta: '0 B', tone: 'same' });
    expect(model.metrics.map((m) => m.field)).toEqual(compareRuns({ record: a }, { record: b }).metrics.map((m) => m.field));
  });

  it('tones: unknown without both values, failures worse at any rise, time and bytes minor under the floors', () => {
    expect(toneOf('cpu_time_ms', 'duration', { a: null, b: 5, delta: null, percent: null })).toBe('unknown');
    expect(toneOf('failed_stages', 'count', { a: 10, b: 11, delta: 1, percent: 10 })).toBe('worse');
    expect(toneOf('killed_tasks', 'count', { a: 2, b: 0, delta: -2, percent: -100 })).toBe('better');
    expect(toneOf('duration_ms', 'duration', { a: 100, b: 900, delta: 800, percent: 800 })).toBe('minor');
    expect(toneOf('duration_ms', 'duration', { a: 100_000, b: 104_000, delta: 4_000, percent: 4 })).toBe('minor');
    expect(toneOf('duration_ms', 'duration', { a: 0, b: 5_000, delta: 5_000, percent: null })).toBe('worse');
    expect(toneOf('output_bytes', 'bytes', { a: 10 * GiB, b: 12 * GiB, delta: 2 * GiB, percent: 20 })).toBe('worse');
    expect(toneOf('num_executors', 'count', { a: 4, b: 2, delta: -2, percent: -50 })).toBe('changed');
  });

  it('shows the aligned stages: their ids and attempts, how they were matched, their changes', () => {
    expect(model.stages.map((s) => [s.name, s.a?.id ?? null, s.b?.id ?? null, s.matched_by])).toEqual([
      ['load', '0', '0', 'name'],
      ['join', '1 (2 attempts)', '1', 'name'],
      ['tiny', '2', '2', 'name'],
      ['dropped', '3', '3', 'stage_id'],
      ['extra', null, '7', null],
    ]);
    expect(model.stageSummary).toBe('3 aligned by name, 1 by stage id, none only in A, 1 only in B');
    expect(model.stagesNote).toBeNull();
    expect(stage('load').cells.duration_ms).toEqual({ a: '10.0 s', b: '20.0 s', delta: '+10.0 s', percent: '+100.0%', tone: 'worse' });
    expect(stage('join').a?.status).toBe('complete');
    expect(stage('join').cells.duration_ms).toMatchObject({ a: '12.0 s', b: '6.0 s', tone: 'better' });
    expect(stage('join').cells.failed_tasks).toMatchObject({ a: '3', b: '0', tone: 'better' });
    expect(stage('tiny').cells.duration_ms.tone).toBe('minor');
    // A stage only B has: no delta, but it sorts by all it added.
    expect(stage('extra').cells.duration_ms).toMatchObject({ a: '-', b: '30.0 s', delta: '-', tone: 'unknown' });
    expect(stage('extra').change.duration_ms).toBe(30_000);
    expect(stage('load').change.duration_ms).toBe(10_000);
  });

  it('says when a run has no stages', () => {
    const m = compareModel(compareRuns({ record: a }, { record: b, summaries: { stages: stagesB, executors: [] } }));
    expect(m.stagesNote).toBe("Stages were not collected for A (its source reports the application only): the stages below are B's alone.");
    expect(m.stages).toHaveLength(5);
    expect(compareModel(compareRuns({ record: a }, { record: b })).stagesNote).toMatch(/either run .*no stages to align/);
    // Both collected, neither ran a job (the two attempts of Spark's test app local-1430917381535): said, not an empty "Stages (0)".
    const none = compareModel(compareRuns({ record: a, summaries: { stages: [], executors: [] } }, { record: b, summaries: { stages: [], executors: [] } }));
    expect(none.stages).toEqual([]);
    expect(none.stagesNote).toBe('Neither run ran a stage (no Spark job ran in either): there are no stages to align.');
  });

  it('gives a stage skipped in both runs no figures (NewYorkTaxiData: stages 3 and 6), and keeps one skipped in one run only', () => {
    const skipped = (id: number) => makeStage({ stage_id: id, name: null, status: 'skipped', submission_time: null, completion_time: null, duration_ms: null, num_tasks: 0, executor_run_time_ms: 0, cpu_time_ms: 0, gc_time_ms: 0, task_duration_ms: null });
    const ran = (id: number) => makeStage({ stage_id: id, name: null, duration_ms: 4_000, executor_run_time_ms: 9_000 });
    const m = compareModel(compareRuns({ record: a, summaries: { stages: [ran(2), skipped(3), ran(4)], executors: [] } }, { record: b, summaries: { stages: [ran(2), skipped(3), skipped(4)], executors: [] } }));
    const row = (id: number): StageView => m.stages.find((s) => s.a?.id.startsWith(String(id)))!;
    // Before: "0 ms", "0 B" and "0 → 0" for a stage that never ran in either.
    expect(Object.values(row(3).cells).every((c) => c.a === '-' && c.b === '-' && c.delta === '-' && c.tone === 'unknown')).toBe(true);
    expect(Object.values(row(3).change).every((c) => c === null)).toBe(true);
    // Ran in A, skipped in B: B has no figures (not "0 ms", a "-100%" change), as a stage only in A has
    // none; sorted by change it still ranks by what A spent, as that one-sided stage does.
    expect(row(4).cells.executor_run_time_ms).toMatchObject({ a: '9.0 s', b: '-', delta: '-', tone: 'unknown' });
    expect(row(4).cells.shuffle_read_bytes).toMatchObject({ b: '-', delta: '-' });
    expect(row(4).change.executor_run_time_ms).toBe(-9_000);
    expect(row(4).b?.status).toBe('skipped');
  });

  it('says when a run has no Spark properties, instead of "no property differs" (a cloud run: flagged missing:environment)', () => {
    expect(model.configNote).toBeNull();
    const bare = { ...a, environment: {}, quality: [...a.quality, 'missing:environment'] };
    const m = compareModel(compareRuns({ record: bare }, { record: b }));
    expect(m.configNote).toBe('Spark properties were not collected for A (its source reports no environment): there is no configuration to compare.');
    expect(m.config).toEqual([]);
    expect(compareModel(compareRuns({ record: b }, { record: bare })).configNote).toMatch(/not collected for B /);
    expect(compareModel(compareRuns({ record: bare }, { record: bare })).configNote).toMatch(/not collected for either run /);
  });

  it('sorts stages by a change, largest rise first, unknown last; by name; back to the aligned order', () => {
    const names = (rows: StageView[]): (string | null)[] => rows.map((r) => r.name);
    expect(names(sortStageViews(model.stages, 'duration_ms', true))).toEqual(['extra', 'load', 'tiny', 'dropped', 'join']);
    expect(names(sortStageViews(model.stages, 'duration_ms', false))).toEqual(['join', 'dropped', 'tiny', 'load', 'extra']);
    // Failed tasks: join fell by 3, the rest are level (kept in order); extra added its 0.
    expect(names(sortStageViews(model.stages, 'failed_tasks', false))).toEqual(['join', 'load', 'tiny', 'dropped', 'extra']);
    expect(names(sortStageViews(model.stages, 'name', false))).toEqual(['dropped', 'extra', 'join', 'load', 'tiny']);
    expect(names(sortStageViews(sortStageViews(model.stages, 'name', true), 'order', false))).toEqual(names(model.stages));
    expect(names(model.stages)).toEqual(['load', 'join', 'tiny', 'dropped', 'extra']);
  });

  it('keeps unknown changes last whichever the direction', () => {
    const onlyA = compareModel(compareRuns({ record: a, summaries: { stages: [makeStage({ stage_id: 0, name: 'x', duration_ms: null })], executors: [] } }, { record: b, summaries: { stages: [makeStage({ stage_id: 0, name: 'x', duration_ms: 5 }), makeStage({ stage_id: 1, name: 'y', duration_ms: 9 })], executors: [] } }));
    for (const desc of [true, false]) expect(sortStageViews(onlyA.stages, 'duration_ms', desc).map((r) => r.name)).toEqual(['y', 'x']);
  });

  it('filters stages by name or stage id, and the config diff by key or value, per-run properties on request', () => {
    expect(filterStageViews(model.stages, 'JOI').map((r) => r.name)).toEqual(['join']);
    expect(filterStageViews(model.stages, '7').map((r) => r.name)).toEqual(['extra']);
    expect(filterStageViews(model.stages, '  ')).toHaveLength(5);
    expect(model.config.map((r) => r.key)).toEqual(['spark.app.id', 'spark.executor.memory', 'spark.only.a', 'spark.only.b']);
    expect(filterConfigRows(model.config, '', false).map((r) => r.key)).toEqual(['spark.executor.memory', 'spark.only.a', 'spark.only.b']);
    expect(filterConfigRows(model.config, '', true)).toHaveLength(4);
    expect(filterConfigRows(model.config, '8G', false).map((r) => r.key)).toEqual(['spark.executor.memory']);
    expect(filterConfigRows(model.config, 'BETA', false).map((r) => r.key)).toEqual(['spark.only.b']);
    expect(filterConfigRows(model.config, 'app-b', false)).toEqual([]);
    expect(filterConfigRows(model.config, 'app-b', true).map((r) => r.key)).toEqual(['spark.app.id']);
  });
});

describe('compare protocol', () => {
  it('accepts the host messages the host sends, after a JSON round trip as postMessage makes', () => {
    expect(isHostMessage(JSON.parse(JSON.stringify({ type: 'model', model })) as unknown)).toBe(true);
    expect(isHostMessage({ type: 'missing', message: 'Run A, app-a, is no longer in the database.' })).toBe(true);
  });

  it('rejects host messages that are not in the protocol or carry a malformed model', () => {
    const withStage = (patch: Partial<StageView>): CompareModel => ({ ...model, stages: [{ ...model.stages[0]!, ...patch }] });
    for (const bad of [
      null,
      { type: 'model' },
      { type: 'model', model: { ...model, a: { ...model.a, app_id: '' } } },
      { type: 'model', model: { ...model, metrics: [{ ...model.metrics[0], tone: 'awful' }] } },
      { type: 'model', model: { ...model, metrics: [{ ...model.metrics[0], a: 600000 }] } },
      { type: 'model', model: withStage({ matched_by: 'guess' as never }) },
      { type: 'model', model: withStage({ cells: { ...model.stages[0]!.cells, disk_spilled_bytes: undefined as never } }) },
      { type: 'model', model: withStage({ change: { ...model.stages[0]!.change, duration_ms: '10 s' as never } }) },
      { type: 'model', model: { ...model, config: [{ key: 'k', a: 1, b: null, per_run: false }] } },
      { type: 'model', model: { ...model, stagesNote: undefined } },
      { type: 'missing' },
      { type: 'openRun', side: 'a' },
    ]) {
      expect(isHostMessage(bad), JSON.stringify(bad)?.slice(0, 120)).toBe(false);
    }
  });

  it('accepts the page messages: ready, swap, and openRun of side a or b', () => {
    expect(isPageMessage({ type: 'ready' })).toBe(true);
    expect(isPageMessage({ type: 'swap' })).toBe(true);
    expect(isPageMessage({ type: 'openRun', side: 'a' })).toBe(true);
    expect(isPageMessage({ type: 'openRun', side: 'b' })).toBe(true);
    for (const bad of [undefined, {}, { type: 'openRun' }, { type: 'openRun', side: 'c' }, { type: 'openRun', key: { app_id: 'app-a', attempt_id: null } }, { type: 'model', model }]) {
      expect(isPageMessage(bad), JSON.stringify(bad)?.slice(0, 120)).toBe(false);
    }
  });

  it('accepts a saved state with both runs and a known sort, and nothing else', () => {
    const state = { a: { app_id: 'app-a', attempt_id: null }, b: { app_id: 'app-b', attempt_id: '2' }, sort: 'duration_ms', descending: true, stageQuery: '', configQuery: 'memory', showPerRun: false };
    expect(isPageState(state)).toBe(true);
    expect(isPageState({ ...state, sort: 'order' })).toBe(true);
    for (const bad of [undefined, { ...state, b: undefined }, { ...state, a: { app_id: '' } }, { ...state, sort: 'gc_time_ms' }, { ...state, showPerRun: 'no' }, { ...state, configQuery: null }]) {
      expect(isPageState(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('Compare Two Runs arguments', () => {
  const ka = { app_id: 'app-a', attempt_id: null };
  const kb = { app_id: 'app-b', attempt_id: '1' };
  const node = (r: typeof a): { kind: 'job'; record: typeof a } => ({ kind: 'job', record: r });

  it('two keys (the jobs table): A and B as given', () => {
    expect(compareArgs(ka, kb)).toEqual({ kind: 'two', a: ka, b: kb, byStart: false });
    expect(compareArgs(node(b), node(a))).toEqual({ kind: 'two', a: { app_id: 'app-b', attempt_id: null }, b: { app_id: 'app-a', attempt_id: null }, byStart: false });
  });

  it('a tree selection of two: both, to be put in start order; of one or three: the clicked node alone', () => {
    expect(compareArgs(node(a), [node(b), node(a)])).toEqual({ kind: 'two', a: { app_id: 'app-b', attempt_id: null }, b: { app_id: 'app-a', attempt_id: null }, byStart: true });
    expect(compareArgs(node(a), [node(a)])).toEqual({ kind: 'one', a: { app_id: 'app-a', attempt_id: null } });
    expect(compareArgs(node(a), [node(a), node(b), ka])).toEqual({ kind: 'one', a: { app_id: 'app-a', attempt_id: null } });
  });

  it('one run asks for the other; nothing (the palette) or something else asks for both', () => {
    expect(compareArgs(ka, undefined)).toEqual({ kind: 'one', a: ka });
    expect(compareArgs(undefined, undefined)).toEqual({ kind: 'none' });
    expect(compareArgs({ kind: 'group' }, 'x')).toEqual({ kind: 'none' });
    expect(compareArgs({ app_id: '', attempt_id: null }, kb)).toEqual({ kind: 'none' });
  });
});
