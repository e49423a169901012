/** The Jobs table's view model (issue 15): queries, pages, rows and the protocol, over a real store. */
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobStore } from '../src/storage/jobStore';
import { fieldOf, fieldText } from '../src/storage/fields';
import { DEFAULT_COLUMNS, DEFAULT_QUERY, columnWidth, gridColumns, tableChoices, tablePage, tableRow, toJobQuery, type TablePage, type TableQuery } from '../src/views/jobsTable/model';
import { isHostMessage, isPageMessage, isPageState } from '../src/views/jobsTable/protocol';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const GB = 1024 ** 3;
const at = (d: number, h = 12): string => new Date(Date.UTC(2024, 5, d, h)).toISOString();

const run = (r: Parameters<typeof makeRecord>[0]): ReturnType<typeof makeRecord> => makeRecord({ failed_tasks: 0, ...r });
const records = [
  run({ app_id: 'app-1', app_name: 'Nightly ETL', user: 'etl', source: 'prod', start_time: at(1), end_time: at(1, 13), duration_ms: 3_600_000, failed_tasks: 0, disk_spilled_bytes: 0 }),
  run({ app_id: 'app-2', app_name: 'Nightly ETL', user: 'etl', source: 'prod', start_time: at(2), end_time: at(2, 15), duration_ms: 3 * 3_600_000, failed_tasks: 4, total_tasks: 40, disk_spilled_bytes: 3 * GB }),
  run({ app_id: 'app-3', app_name: 'Ad hoc', user: 'ana', source: 'dev', start_time: at(3), end_time: at(3, 12), duration_ms: 90_000, failed_tasks: 0, disk_spilled_bytes: 2 * GB }),
  run({ app_id: 'app-4', app_name: 'Report 100%_done', user: 'bob', source: 'dev', status: 'failed', start_time: at(4), end_time: at(4, 12), duration_ms: 5_000 }),
  run({ app_id: 'etl-special', app_name: 'Other', user: 'zed', source: 'prod', start_time: at(5), end_time: at(5, 12), duration_ms: 60_000 }),
];

let store: JobStore;
beforeAll(async () => {
  store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
  store.upsert(records);
});
afterAll(() => store.close());

const q = (change: Partial<TableQuery>): TableQuery => ({ ...DEFAULT_QUERY, ...change });
function page(change: Partial<TableQuery>, offset = 0, limit = 100): TablePage {
  const p = tablePage(store, q(change), offset, limit, { timeZone: 'UTC' });
  if ('errors' in p) throw new Error(p.errors.join('; '));
  return p;
}
const ids = (p: TablePage): string[] => p.rows.map((r) => r.key.app_id);

describe('the jobs table model', () => {
  it('sorts by any column, both ways, newest first by default', () => {
    expect(ids(page({}))).toEqual(['etl-special', 'app-4', 'app-3', 'app-2', 'app-1']);
    expect(ids(page({ sort: 'duration_ms', descending: true }))).toEqual(['app-2', 'app-1', 'app-3', 'etl-special', 'app-4']);
    // etl's two runs, tied on the user: the newest first (by app id before).
    expect(ids(page({ sort: 'user', descending: false }))).toEqual(['app-3', 'app-4', 'app-2', 'app-1', 'etl-special']);
  });

  it('searches names, ids and users, with LIKE wildcards taken literally', () => {
    expect(ids(page({ text: 'etl' })).sort()).toEqual(['app-1', 'app-2', 'etl-special']);
    expect(ids(page({ text: '100%_' }))).toEqual(['app-4']);
    expect(page({ text: '%' }).total).toBe(1);
  });

  it('filters by thresholds written as on the command line, and by user, source, status and days', () => {
    expect(ids(page({ conditions: 'failed>0' }))).toEqual(['app-2']);
    expect(ids(page({ conditions: 'spill > 1g, duration>1m' }))).toEqual(['app-3', 'app-2']);
    expect(ids(page({ conditions: 'duration_ms>1h and spill>1g' }))).toEqual(['app-2']);
    expect(ids(page({ user: 'etl', source: 'prod' }))).toEqual(['app-2', 'app-1']);
    expect(ids(page({ status: 'failed' }))).toEqual(['app-4']);
    // Days are local; in UTC June 2nd to 3rd holds the runs that ended those days.
    process.env.TZ = 'UTC';
    expect(ids(page({ from: '2024-06-02', to: '2024-06-03' }))).toEqual(['app-3', 'app-2']);
  });

  it('names what is wrong with a query instead of running it', () => {
    const bad = toJobQuery(q({ conditions: 'failed>0, spil>1g, duration>fast', from: '2024-13', to: null }));
    expect('errors' in bad && bad.errors).toEqual([expect.stringContaining('unknown field "spil"'), expect.stringContaining('duration_ms takes a duration'), expect.stringContaining('first day must be a date')]);
    const backwards = toJobQuery(q({ from: '2024-06-05', to: '2024-06-01' }));
    expect('errors' in backwards && backwards.errors[0]).toBe('the first day (2024-06-05) is after the last (2024-06-01)');
  });

  it('pages: offsets and totals match one unpaged read', () => {
    const all = ids(page({ sort: 'app_id', descending: false }));
    const pieces = [0, 2, 4].flatMap((o) => ids(page({ sort: 'app_id', descending: false }, o, 2)));
    expect(pieces).toEqual(all);
    expect(page({}, 4, 2)).toMatchObject({ total: 5, offset: 4 });
    const scrolled = tablePage(store, q({}), 2, 2, { count: false });
    expect('rows' in scrolled && scrolled.total).toBeNull();
  });

  it('rows carry the tree icon and every field as a person reads it', () => {
    const row = page({ text: 'app-2' }).rows[0]!;
    expect(row.icon).toBe('warning');
    expect(row.iconText).toBe('completed, but 4 of 40 tasks failed');
    expect(row.cells.duration_ms).toBe('3h 0m');
    expect(row.cells.disk_spilled_bytes).toBe('3 GB');
    expect(row.cells.start_time).toBe('2024-06-02 12:00 UTC');
    expect(page({ status: 'failed' }).rows[0]!.icon).toBe('error');
    expect(fieldText(fieldOf('executor_memory_mb'), 4096)).toBe('4 GB');
    expect(fieldText(fieldOf('cpu_time_ms'), null)).toBe('-');
  });

  it('a figure its source did not measure (flagged missing: or invalid:, stored as 0) shows as unknown, not as a measured 0, as the CLI shows it', () => {
    const cloud = makeRecord({ app_id: 'run-1', total_tasks: 0, shuffle_read_bytes: 0, input_bytes: 5, quality: ['missing:total_tasks', 'missing:shuffle_read_bytes', 'invalid:input_bytes'] });
    const row = tableRow(cloud, 'UTC');
    expect([row.cells.total_tasks, row.cells.shuffle_read_bytes, row.cells.input_bytes]).toEqual(['-', '-', '-']);
    expect(tableRow({ ...cloud, quality: [] }, 'UTC').cells.total_tasks).toBe('0');
  });

  it('shows only the regressed runs when asked, each with its check summary (issue 18)', () => {
    store.saveRegressions([
      { app_id: 'app-2', attempt_id: null, status: 'regressed', summary: 'Duration 3.0x', explanation: 'Regressed against 3 earlier runs.', check: null },
      { app_id: 'app-1', attempt_id: null, status: 'steady', summary: '', explanation: '', check: null },
    ]);
    const p = page({ regressed: true });
    expect(ids(p)).toEqual(['app-2']);
    expect(p.rows[0]).toMatchObject({ regressed: 'Duration 3.0x', icon: 'warning', iconText: 'regressed against its earlier runs: Duration 3.0x' });
    expect(page({}).rows.find((r) => r.key.app_id === 'app-1')!.regressed).toBeNull();
  });

  it('offers the users and sources in the store', () => {
    expect(tableChoices(store)).toMatchObject({ users: ['ana', 'bob', 'etl', 'zed'], sources: ['dev', 'prod'] });
  });
});

describe('the jobs table columns', () => {
  it('fit a 1,000 px editor by default (13 px text: 78em), with the check and icon columns', () => {
    const em = (w: string): number => Number(/^([\d.]+)em$/.exec(w)![1]);
    const total = 2.2 + 1.8 + DEFAULT_COLUMNS.reduce((a, c) => a + em(columnWidth(c)), 0);
    expect(total).toBeLessThanOrEqual(78);
    // Each kind has its width: a time is wider than a count, a name wider than a status.
    expect(em(columnWidth('start_time'))).toBeGreaterThan(em(columnWidth('total_tasks')));
    expect(em(columnWidth('app_name'))).toBeGreaterThan(em(columnWidth('status')));
  });
});

describe('the jobs table grid', () => {
  /** A track's width in px for a viewport `vw` px wide and 13 px text: 'Xem' or the name's max(…, min(…, calc(100vw - Xem - Ypx))). */
  function px(track: string, vw: number, em = 13): number {
    const fixed = /^([\d.]+)em$/.exec(track);
    if (fixed) return Number(fixed[1]) * em;
    const m = /^max\(([\d.]+)em, min\(([\d.]+)em, calc\(100vw - ([\d.]+)em - (\d+)px\)\)\)$/.exec(track);
    if (!m) throw new Error(`unexpected track ${track}`);
    return Math.max(Number(m[1]) * em, Math.min(Number(m[2]) * em, vw - Number(m[3]) * em - Number(m[4])));
  }
  const tracks = (cols: Parameters<typeof gridColumns>[0]): string[] => gridColumns(cols).match(/max\(.*?\)\)\)|[\d.]+em/g)!;

  it("gives the name the editor's free width, so that long names that differ at the end are told apart", () => {
    // Spark's NewYorkTaxiData_2025_06_27_00_24_44 and _03_56_52 (35 characters, about 19em) both read "NewYorkTaxiData_2…" at 12em.
    const t = tracks(DEFAULT_COLUMNS);
    expect(t).toHaveLength(2 + DEFAULT_COLUMNS.length);
    const name = t[2 + DEFAULT_COLUMNS.indexOf('app_name')]!;
    expect(px(name, 1400)).toBeGreaterThan(20 * 13);
    // The rows never outgrow the editor's width when there is room: every track but the name is its fixed width.
    for (const vw of [1000, 1100, 1400, 2400]) {
      const total = t.reduce((a, x) => a + px(x, vw), 0);
      expect(total).toBeLessThanOrEqual(Math.max(vw - 48, 78 * 13));
    }
    // Narrow: the name keeps its 12em (the grid scrolls); wide: it stops at 36em.
    expect(px(name, 600)).toBe(12 * 13);
    expect(px(name, 3000)).toBe(36 * 13);
  });

  it('widens the app id instead when the name is not shown', () => {
    const t = tracks(['app_id', 'duration_ms']);
    expect(t[2]).toMatch(/^max\(15em, /);
    expect(t[3]).toBe(columnWidth('duration_ms'));
  });
});

describe('the jobs table protocol', () => {
  it('accepts what the host and the page send, and nothing else', () => {
    const p = page({});
    expect(isHostMessage({ type: 'rows', id: 3, ...p, ms: 4 })).toBe(true);
    expect(isHostMessage({ type: 'rows', id: 3, ...p, rows: [{ ...p.rows[0], cells: {} }], ms: 4 })).toBe(false);
    expect(isHostMessage({ type: 'invalid', id: 1, errors: ['x'] })).toBe(true);
    expect(isPageMessage({ type: 'rows', id: 1, query: q({}), offset: 0, limit: 100, count: true })).toBe(true);
    expect(isPageMessage({ type: 'rows', id: 1, query: q({}), offset: 0, limit: 100 })).toBe(false);
    expect(isPageMessage({ type: 'rows', id: 1, query: q({ sort: 'environment' as never }), offset: 0, limit: 100, count: true })).toBe(false);
    expect(isPageMessage({ type: 'rows', id: 1, query: q({}), offset: 0, limit: 5000, count: true })).toBe(false);
    expect(isPageMessage({ type: 'compare', a: { app_id: 'a', attempt_id: null }, b: { app_id: 'b', attempt_id: '1' } })).toBe(true);
    expect(isPageState({ query: q({}), columns: ['app_name', 'duration_ms'] })).toBe(true);
    expect(isPageState({ query: q({}), columns: ['DROP TABLE'] })).toBe(false);
    // The jobs picked to compare are kept in the state (the page is rebuilt each time its tab shows).
    expect(isPageState({ query: q({}), columns: [], selected: [{ app_id: 'a', attempt_id: null }, { app_id: 'b', attempt_id: '2' }] })).toBe(true);
    expect(isPageState({ query: q({}), columns: [], selected: [{ app_id: 7 }] })).toBe(false);
  });
});
