/**
 * The Jobs tree's "(none)" user group on both stores (a review: the group of jobs without a user
 * queried user = '', which never matches NULL, so it could never be opened). The query is
 * repository.ts `where`, shared by sql.js and PostgreSQL.
 */
import { expect, it } from 'vitest';
import { describeEachStore } from './support/stores';
import { makeRecord } from './support/records';

describeEachStore('user "" matches the jobs without a user', (open) => {
  it('counts, lists and groups them as one "(none)" group', async () => {
    const repo = await open();
    repo.upsert([makeRecord({ app_id: 'u-1', user: 'maria' }), makeRecord({ app_id: 'n-1', user: null }), makeRecord({ app_id: 'n-2', user: null })]);
    expect(repo.groupCounts('user')).toEqual([
      { key: '', count: 2 },
      { key: 'maria', count: 1 },
    ]);
    expect(repo.count({ user: '' })).toBe(2);
    expect(repo.list({ user: '' }).map((r) => r.app_id).sort()).toEqual(['n-1', 'n-2']);
    expect(repo.list({ user: 'maria' }).map((r) => r.app_id)).toEqual(['u-1']);
  });
});

describeEachStore('latestRuns: the latest run of each source (the Sources view)', (open) => {
  it('finds a source whose last run has 600 newer runs of other sources after it', async () => {
    const repo = await open();
    const counts = { seen: 1, new: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    const at = (minute: number): Date => new Date(Date.UTC(2024, 5, 1, 0, minute));
    repo.startRun('quiet-1', 'quiet', {}, at(0));
    repo.finishRun('quiet-1', counts, [], at(0));
    repo.startRun('quiet-2', 'quiet', {}, at(1));
    repo.finishRun('quiet-2', { ...counts, new: 2 }, [], at(1));
    for (let i = 0; i < 600; i++) {
      repo.startRun(`busy-${i}`, 'busy', {}, at(2 + i));
      repo.finishRun(`busy-${i}`, counts, [], at(2 + i));
    }
    expect(repo.listRuns(500).some((r) => r.source === 'quiet')).toBe(false);
    expect(repo.latestRuns().map((r) => [r.source, r.run_id, r.new])).toEqual([
      ['busy', 'busy-599', 1],
      ['quiet', 'quiet-2', 2],
    ]);
  });
});
