/**
 * App ids that differ only by a lone surrogate (a review of the PostgreSQL store, item 3): pg sends a
 * lone surrogate as U+FFFD (it has no UTF-8 form), so `dup-\ud800` and `dup-\udc00` are one key on
 * the server. One batch holding both failed whole ("ON CONFLICT DO UPDATE command cannot affect row a
 * second time": the collect exited 1, storing nothing); two batches overwrote one with the other and
 * counted it unchanged. Keys and counts are now made from the text as stored (repository.ts storable).
 */
import { expect, it } from 'vitest';
import type { AppKey } from '../src/storage/repository';
import { describePostgres, newDatabase, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';

describePostgres('PostgreSQL store: ids with lone surrogates', (server) => {
  const { open, connect } = pgHandles();
  const high = makeRecord({ app_id: 'dup-\ud800', duration_ms: 1000 });
  const low = makeRecord({ app_id: 'dup-\udc00', duration_ms: 2000 });

  it('one batch holding two ids the server stores alike: stored as one key (the last), counted new then updated', async () => {
    const url = await newDatabase(server());
    const store = await open(url, server().password);
    const changed: AppKey[] = [];
    expect(store.storeBatch([high, low], [], new Date(), changed)).toMatchObject({ new: 1, updated: 1, unchanged: 0 });
    expect(store.count()).toBe(1);
    expect(store.get(high)?.duration_ms).toBe(2000);
    expect(store.get(low)?.duration_ms).toBe(2000);
    expect(changed.map((k) => k.app_id)).toEqual(['dup-\uFFFD']);
    const c = await connect(server(), url);
    expect((await c.query<{ app_id: string }>('SELECT app_id FROM applications')).rows).toEqual([{ app_id: 'dup-\uFFFD' }]);
  });

  it('the two in two batches: the second is counted updated (it replaced the first), a re-read of it unchanged', async () => {
    const store = await open(await newDatabase(server()), server().password);
    expect(store.storeBatch([high], [])).toMatchObject({ new: 1 });
    expect(store.storeBatch([low], [])).toMatchObject({ new: 0, updated: 1, unchanged: 0 });
    expect(store.storeBatch([low], [])).toMatchObject({ new: 0, updated: 0, unchanged: 1 });
    expect(store.count()).toBe(1);
    expect(store.get(low)?.duration_ms).toBe(2000);
  });

  it('a surrogate pair (an emoji) is kept as it is: a key of its own', async () => {
    const store = await open(await newDatabase(server()), server().password);
    const emoji = makeRecord({ app_id: 'dup-\ud83d\ude00' });
    expect(store.storeBatch([emoji, high], [])).toMatchObject({ new: 2 });
    expect(store.get(emoji)?.app_id).toBe('dup-\ud83d\ude00');
    expect(store.count()).toBe(2);
  });
});
