/**
 * A stage's CPU time where Spark never measured it (before 2.1; issue 12 item 6): unknown (null), not a
 * measured-looking 0, by one rule for every source (record/summaries.ts stageCpuKnown: the record says
 * `missing:cpu_time_ms`), end to end: the event-log engine, the History Server's answers, both stores,
 * and every reader (show, compare, the job page and compare view models), including summaries stored
 * with 0 before the rule (read as null); the History Server collector applies the rule as it collects.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { compareRuns } from '../src/analysis/compare';
import { main } from '../src/cli/main';
import { collectAll } from '../src/collectors/eventlog/collect';
import { SummaryTracker } from '../src/collectors/eventlog/summaries';
import { toRecord, type RestStage } from '../src/collectors/historyServer/record';
import { toSummaries } from '../src/collectors/historyServer/summaries';
import { Quality, type Problem, type SparkAppRecord } from '../src/collectors/record';
import { stageTableOf } from '../src/collectors/record/stageTable';
import { CPU_NEVER_MEASURED, stageCpuKnown, withStageCpu, type AppSummaries, type StageSummary } from '../src/collectors/record/summaries';
import { JobStore } from '../src/storage/jobStore';
import { compareModel } from '../src/views/compare/model';
import { jobPageModel } from '../src/views/jobPage/model';
import { makeRecord } from './support/records';
import { describeShared, sharedPath } from './support/shared';
import { describeEachStore } from './support/stores';
import { makeStage } from './support/summaries';
import { tempDir } from './support/tmp';

const LOGS = sharedPath('spark-events', 'spark-events');
/** Spark 1.2: no task end carries Executor CPU Time. */
const OLD = 'local-1422981780767';
/** Spark 2.1: every task end does. */
const NEW = 'app-20161116163331-0000';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: '/' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const cpus = (stages: readonly Pick<StageSummary, 'cpu_time_ms'>[]): (number | null)[] => stages.map((s) => s.cpu_time_ms);

describeShared('stage CPU time Spark never measured, from every source to every view', () => {
  let db: string;
  const collected = new Map<string, { record: SparkAppRecord; summaries: AppSummaries }>();
  /** A Spark 1.2 record whose summaries were stored with 0 ms of CPU: before this rule, or from the History Server. */
  let stored: SparkAppRecord;

  beforeAll(async () => {
    for (const id of [OLD, NEW]) {
      const { apps } = await collectAll({ path: path.join(LOGS, id), source: 'logs' });
      collected.set(id, { record: apps[0]!.record, summaries: apps[0]!.summaries! });
    }
    const old = collected.get(OLD)!;
    stored = { ...old.record, app_id: 'stored-with-zero' };
    db = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(db);
    store.upsert([
      ...[...collected.values()].map(({ record, summaries }) => ({ record, summaries })),
      { record: stored, summaries: { stages: old.summaries.stages.map((s) => ({ ...s, cpu_time_ms: 0 })), executors: old.summaries.executors } },
    ]);
    await store.save();
    store.close();
  });

  it('the event-log engine: null in every stage of a Spark 1.2 log (its record says missing:cpu_time_ms), measured in a Spark 2.1 log', () => {
    expect(CPU_NEVER_MEASURED).toBe(Quality.missing('cpu_time_ms'));
    const old = collected.get(OLD)!;
    expect(old.record.quality).toContain('missing:cpu_time_ms');
    expect(stageCpuKnown(old.record)).toBe(false);
    expect(old.summaries.stages.length).toBeGreaterThan(0);
    expect(cpus(old.summaries.stages).every((c) => c === null)).toBe(true);
    const measured = collected.get(NEW)!;
    expect(stageCpuKnown(measured.record)).toBe(true);
    expect(cpus(measured.summaries.stages).every((c) => c !== null)).toBe(true);
    expect(cpus(measured.summaries.stages).reduce((a, c) => a! + c!, 0)).toBeGreaterThan(0);
  });

  it('the History Server: its answers say executorCpuTime 0 for the Spark 1.2 app; its record says unknown, and so do its stages as read', () => {
    const restStages = JSON.parse(readFileSync(sharedPath('spark-events', 'HistoryServerExpectations', 'stage_list_json_expectation.json'), 'utf8')) as RestStage[];
    expect(restStages.every((s) => s.executorCpuTime === 0)).toBe(true);
    const problems: Problem[] = [];
    const record = toRecord(
      { app: { id: OLD, name: 'Spark shell', attempts: [{}] }, attempt: { startTimeEpoch: 1422981779720, endTimeEpoch: 1422981788731, completed: true, appSparkVersion: '', sparkUser: 'irashid' }, properties: {}, executors: [], stages: restStages, jobStageIds: null },
      'hs',
      problems,
      'http://hs',
    );
    const summaries = toSummaries(restStages, [], problems, 'http://hs')!;
    // toSummaries alone holds Spark's 0; collect.ts applies the record's rule to them, as every reader does.
    expect(cpus(summaries.stages)).toEqual(restStages.map(() => 0));
    expect(record.cpu_time_ms).toBeNull();
    expect(cpus(withStageCpu(record, summaries).stages)).toEqual(restStages.map(() => null));
    // The same rule keeps a measured 0 where the record says CPU time was measured.
    const measured = { ...record, quality: record.quality.filter((q) => q !== 'missing:cpu_time_ms') };
    expect(withStageCpu(measured, summaries)).toBe(summaries);
  });

  it('show --format json: null for each stage, both as collected and as stored with 0 before; numbers for Spark 2.1', async () => {
    for (const [id, want] of [[OLD, 'null'], ['stored-with-zero', 'null'], [NEW, 'number']] as const) {
      const r = await cli('show', id, '--db', db, '--format', 'json');
      expect(r.code).toBe(0);
      const shown = JSON.parse(r.out) as { cpu_time_ms: number | null; stages: StageSummary[] };
      expect(shown.stages.length).toBeGreaterThan(0);
      expect(shown.stages.every((s) => (want === 'null' ? s.cpu_time_ms === null : typeof s.cpu_time_ms === 'number'))).toBe(true);
      expect(shown.cpu_time_ms === null).toBe(want === 'null');
    }
  });

  it('show: the stage table’s cpu column says "-" where unknown, as the record’s CPU time does', async () => {
    const cpuColumn = async (id: string): Promise<string[]> => {
      const lines = (await cli('show', id, '--db', db)).out.split('\n');
      const head = lines.findIndex((l) => /^stage\s+attempt\s+status\s+duration\s+cpu\s/.test(l));
      expect(head).toBeGreaterThan(-1);
      const end = lines.indexOf('', head);
      const rows = lines.slice(head + 2, end === -1 ? undefined : end);
      expect(rows.length).toBeGreaterThan(0);
      // Columns are 2+ spaces apart: stage, attempt, status, duration, cpu.
      return rows.map((l) => l.trim().split(/\s{2,}/)[4]!);
    };
    expect(await cpuColumn(OLD)).toEqual(['-', '-', '-', '-']);
    expect(await cpuColumn('stored-with-zero')).toEqual(['-', '-', '-', '-']);
    expect((await cpuColumn(NEW)).every((c) => /\d/.test(c))).toBe(true);
  });

  it('compare (CLI json and text, and the compare view): no CPU change where one run’s was never measured', async () => {
    const json = await cli('compare', NEW, 'stored-with-zero', '--db', db, '--format', 'json');
    expect(json.code).toBe(0);
    const c = JSON.parse(json.out) as ReturnType<typeof compareRuns>;
    expect(c.stages.length).toBeGreaterThan(0);
    for (const s of c.stages) {
      expect(s.metrics.cpu_time_ms.delta).toBeNull();
      if (s.b !== null) expect(s.metrics.cpu_time_ms.b).toBeNull();
    }
    const text = (await cli('compare', 'stored-with-zero', OLD, '--db', db)).out.split('\n');
    const head = text.findIndex((l) => /^stage A\s+stage B\s+duration A\s+duration B\s+change\s+%\s+cpu A\s+cpu B/.test(l));
    expect(head).toBeGreaterThan(-1);
    const row = text[head + 2]!.trim().split(/\s{2,}/);
    expect(row.slice(6, 8)).toEqual(['-', '-']);
    // The view model, as the editor's compare panel gets it from the store.
    const store = await JobStore.open(db);
    try {
      const [a, b] = [store.get({ app_id: NEW, attempt_id: null })!, store.get({ app_id: 'stored-with-zero', attempt_id: null })!];
      const m = compareModel(compareRuns({ record: a, summaries: store.summariesOf(a) }, { record: b, summaries: store.summariesOf(b) }));
      const ran = m.stages.filter((s) => s.a !== null && s.b !== null && s.cells.duration_ms.a !== '-');
      expect(ran.length).toBeGreaterThan(0);
      for (const s of ran) expect(s.cells.cpu_time_ms).toMatchObject({ b: '-', delta: '-', percent: '-', tone: 'unknown' });
    } finally {
      store.close();
    }
  });

  it('the job page: "-" in each stage’s CPU time where unknown (stored 0 too), the time where measured', async () => {
    const store = await JobStore.open(db);
    try {
      for (const [id, unknown] of [[OLD, true], ['stored-with-zero', true], [NEW, false]] as const) {
        const record = store.get({ app_id: id, attempt_id: null })!;
        const m = jobPageModel(record, store.summariesOf(record));
        const ran = m.stages.filter((s) => s.status !== 'skipped');
        expect(ran.length).toBeGreaterThan(0);
        for (const s of ran) {
          if (unknown) expect(s).toMatchObject({ cpuTimeMs: null, cpuTime: '-' });
          else expect(s.cpuTime).toMatch(/\d/);
        }
      }
    } finally {
      store.close();
    }
  });
});

describeEachStore('a stage CPU time Spark never measured, in the store', (open) => {
  it('null is kept as null, from summary rows and from the event-log engine’s stage table', async () => {
    const repo = await open();
    const rows = makeRecord({ app_id: 'rows' });
    repo.upsert([{ record: rows, summaries: { stages: [makeStage({ stage_id: 1, cpu_time_ms: null }), makeStage({ stage_id: 2, cpu_time_ms: 0 }), makeStage({ stage_id: 3, cpu_time_ms: 1234 })], executors: [] } }]);
    expect(cpus(repo.summariesOf(rows)!.stages)).toEqual([null, 0, 1234]);
    const tracker = new SummaryTracker();
    tracker.stageCompleted(0, 0, 'count at <console>:17', 1_700_000_000_000, 1_700_000_001_000, false);
    tracker.stageCompleted(1, 0, 'map at <console>:14', 1_700_000_000_000, 1_700_000_002_000, false);
    const table = tracker.summaries(false);
    expect(stageTableOf(table)).toBeDefined();
    expect(cpus(table.stages)).toEqual([null, null]);
    const fromTable = makeRecord({ app_id: 'table' });
    repo.upsert([{ record: fromTable, summaries: tracker.summaries() }]);
    expect(cpus(repo.summariesOf(fromTable)!.stages)).toEqual([null, null]);
  });
});
