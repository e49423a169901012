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
