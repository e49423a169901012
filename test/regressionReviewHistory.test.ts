/**
 * A Spark engineer's review of the regression check (issue 18): a stored verdict is of the run's
 * history as stored. When a collection stores an older run after newer ones (a backfill of an
 * archive, a second folder collected later), the newer runs whose baselines it joins are checked again.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SparkAppRecord } from '../src/collectors/record';
import { JobStore } from '../src/storage/jobStore';
import { laterRunsSql, type AppKey } from '../src/storage/repository';
import { memoryRepository } from './support/memoryRepository';
import { MIN, collectNightly, nightlyRun as run } from './support/nightly';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';


const keyOf = (r: SparkAppRecord): AppKey => ({ app_id: r.app_id, attempt_id: r.attempt_id });


const collect = collectNightly;

describe('an older run collected after newer ones', () => {
  it('a 2x slower run collected first (too few runs before it) is flagged once its history is collected, and reported then', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const slow = run(5, { duration_ms: 20 * MIN });
      const first = await collect(store, [slow]);
      expect(first.regressed).toEqual([]);
      expect(store.regressions([keyOf(slow)])[0]).toMatchObject({ status: 'unchecked' });

      // The archive: five steady runs before it.
      const second = await collect(store, [0, 1, 2, 3, 4].map((i) => run(i)));
      expect(store.regressions([keyOf(slow)])[0]).toMatchObject({ status: 'regressed', summary: 'Duration 2.0x' });
      expect(store.list({ regressed: true }).map((r) => r.app_id)).toEqual([slow.app_id]);
      expect(second.regressed.map((r) => r.key)).toEqual([keyOf(slow)]);
      expect(store.regressions([keyOf(slow)])[0]!.check!.baseline_runs.map((k) => k.app_id)).toEqual(['nightly-004', 'nightly-003', 'nightly-002', 'nightly-001', 'nightly-000']);

      // Collected again, nothing changes and nothing is reported twice.
      const again = await collect(store, [0, 1, 2, 3, 4, 5].map((i) => (i === 5 ? slow : run(i))));
      expect(again.counts.unchanged).toBe(6);
      expect(again.regressed).toEqual([]);
      expect(store.count({ regressed: true })).toBe(1);
    } finally {
      store.close();
    }
  });

  it('a verdict that an older run changes is made again; one it cannot change (N completed runs between) is left', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      // Runs 10..25 stored; run 10..12 slow, so the median of 13's first baselines is slow too.
      const newer = Array.from({ length: 16 }, (_, k) => run(10 + k, { duration_ms: 10 + k <= 21 ? 20 * MIN : 10 * MIN }));
      await collect(store, newer);
      const before = store.regressions(newer.map(keyOf)).map((s) => s?.checked_at);
      // Older fast runs arrive: 13..22 (baselines of 10 take 10 runs) had only slow runs or too few; now
      // the first slow runs are regressions against the fast ones.
      const older = Array.from({ length: 10 }, (_, k) => run(k));
      const result = await collect(store, older);
      const after = store.regressions(newer.map(keyOf));
      expect(after.map((s) => s?.status).slice(0, 3)).toEqual(['regressed', 'regressed', 'regressed']);
      expect(result.regressed.map((r) => r.key.app_id)).toEqual(expect.arrayContaining(['nightly-010', 'nightly-011', 'nightly-012']));
      // Runs 20 and later have ten completed runs between them and run 9: not checked again.
      expect(after.slice(10).map((s) => s?.checked_at)).toEqual(before.slice(10));
    } finally {
      store.close();
    }
  });
});

describeEachStore('laterRuns', (open) => {
  it('per name, source and time: the finished runs of that name and source after the time, with their run time and status', async () => {
    const repo = await open();
    repo.upsert([
      run(1),
      run(2),
      run(3, { status: 'running', end_time: null }),
      run(4, { source: 'other', app_id: 'other-004' }),
      run(5, { app_name: 'Other', app_id: 'named-005' }),
      run(6, { start_time: null, submit_time: '2024-06-07T00:00:00.000Z', app_id: 'nightly-006' }),
      run(7, { status: 'failed' }),
      run(8, { status: 'unknown' }),
    ]);
    const byTime = (a: { time: string }, b: { time: string }): number => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0);
    expect(repo.laterRuns([{ app_name: 'Nightly', source: 'prod', time: run(1).start_time! }]).sort(byTime)).toEqual([
      { app_id: 'nightly-002', attempt_id: null, app_name: 'Nightly', source: 'prod', time: run(2).start_time, status: 'completed' },
      { app_id: 'nightly-006', attempt_id: null, app_name: 'Nightly', source: 'prod', time: '2024-06-07T00:00:00.000Z', status: 'completed' },
      { app_id: 'nightly-007', attempt_id: null, app_name: 'Nightly', source: 'prod', time: run(7).start_time, status: 'failed' },
    ]);
    expect(repo.laterRuns([{ app_name: 'Nightly', source: 'prod', time: run(7).start_time! }])).toEqual([]);
    // Many groups in one call; more than a statement's 500.
    const groups = [{ app_name: 'Other', source: 'prod', time: '2024-01-01' }, { app_name: 'Nightly', source: 'other', time: '2024-01-01' }, ...Array.from({ length: 600 }, (_, i) => ({ app_name: `None ${i}`, source: 'prod', time: '2024-01-01' }))];
    expect(repo.laterRuns(groups).map((r) => r.app_id).sort()).toEqual(['named-005', 'other-004']);
    expect(repo.laterRuns([])).toEqual([]);
  });
});

describe('laterRuns (sql.js)', () => {
  it('seeks index apps_baseline for each group, not a scan of every run', async () => {
    const { db } = await memoryRepository();
    const plan = db.exec(`EXPLAIN QUERY PLAN ${laterRunsSql(500)}`, Array.from({ length: 1500 }, (_, i) => String(i)))[0]!.values.map((r) => String(r[3]));
    expect(plan).toContainEqual(expect.stringMatching(/^SEARCH a USING INDEX apps_baseline \(app_name=\? AND source=\? AND <expr>>\?\)$/));
    expect(plan.filter((p) => /^SCAN a\b/.test(p))).toEqual([]);
  });
});
