/**
 * The re-check of later runs (issue 18, regression.ts laterChecks): a run stored into or deleted
 * from a history changes the baselines of the runs after it, whose stored verdicts are made again.
 */
import { describe, expect, it } from 'vitest';
import { laterChecks } from '../src/analysis/regression';
import type { LaterRun, RunGroup } from '../src/storage/repository';

/** Run i of Nightly (source prod) on day i. */
const later = (i: number, over: Partial<LaterRun> = {}): LaterRun => ({
  app_id: `nightly-${String(i).padStart(3, '0')}`,
  attempt_id: null,
  app_name: 'Nightly',
  source: 'prod',
  time: new Date(Date.UTC(2024, 5, 1) + i * 86_400_000).toISOString(),
  ...over,
});

/** A store of these runs: laterRuns as the stores answer it (runs of the group's name and source after its time). */
function storeOf(runs: readonly LaterRun[]): { laterRuns(groups: readonly RunGroup[]): LaterRun[]; asked: RunGroup[][] } {
  const asked: RunGroup[][] = [];
  return {
    asked,
    laterRuns: (groups) => {
      asked.push([...groups]);
      return runs.filter((r) => groups.some((g) => g.app_name === r.app_name && g.source === r.source && r.time > g.time));
    },
  };
}

describe('laterChecks', () => {
  it('per history, the runs after a moved run with fewer than baselineRuns completed runs between, one read for all histories', () => {
    const runs = [...Array.from({ length: 12 }, (_, i) => later(i)), later(3, { source: 'other', app_id: 'other-003' }), later(5, { source: 'other', app_id: 'other-005' })];
    const store = storeOf(runs);
    const ids = (xs: readonly LaterRun[]): string[] => xs.map((r) => r.app_id).sort();
    const got = laterChecks(store, [later(2), later(4, { source: 'other', app_id: 'other-004' })], new Set<string>(), (source) => (source === 'prod' ? 3 : 10));
    expect(ids(got)).toEqual(['nightly-003', 'nightly-004', 'nightly-005', 'other-005']);
    expect(store.asked).toHaveLength(1);
    // A run checked anyway is not returned, and still counts as a run between.
    expect(ids(laterChecks(store, [later(2)], new Set(['nightly-004\u0000']), () => 3))).toEqual(['nightly-003', 'nightly-005']);
    // Runs moved in one history: the walk starts again after each.
    expect(ids(laterChecks(store, [later(2), later(8)], new Set<string>(), () => 2))).toEqual(['nightly-003', 'nightly-004', 'nightly-009', 'nightly-010']);
    expect(laterChecks(store, [], new Set<string>(), () => 3)).toEqual([]);
  });
});
