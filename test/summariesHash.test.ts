/**
 * What identifies stored summaries (storage/summaries.ts): the SHA-1 of the text a store writes,
 * marked so; and a row that still holds the older hash (of the summaries' JSON, written before)
 * judged by it, so that the first re-read after an upgrade is not counted as an update, on both
 * stores.
 */
import { createHash } from 'node:crypto';
import { Client } from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../src/storage/store';
import { openStore } from '../src/storage/store';
import { jsonSummariesHash, summariesToStore } from '../src/storage/summaries';
import { decodeSummaries, encodeSummaries } from '../src/storage/summaryCodec';
import { memoryRepository } from './support/memoryRepository';
import { clientConfig, describePostgres, newDatabase } from './support/postgres';
import { makeRecord } from './support/records';
import { makeSummaries, tableOfRows } from './support/summaries';
import { AT, tableSummaries } from '../src/collectors/record/stageTable';

const record = makeRecord({ app_id: 'app-hash', attempt_id: '1' });
const summaries = makeSummaries(30, 4);

describe('the summaries a store writes', () => {
  it('are hashed by their stored text, marked as such, and that text reads back as the summaries', () => {
    const s = summariesToStore(summaries);
    expect(s.hash).toBe(`t:${createHash('sha1').update(encodeSummaries(summaries), 'utf8').digest('base64')}`);
    expect(decodeSummaries(s.bytes.toString('utf8'))).toEqual(summaries);
    // The same summaries built again give the same text and hash; other summaries another.
    expect(summariesToStore(makeSummaries(30, 4)).hash).toBe(s.hash);
    expect(summariesToStore(makeSummaries(30, 5)).hash).not.toBe(s.hash);
    // The older hash is another value (never holding ':'), so the two kinds never meet by chance.
    expect(jsonSummariesHash(summaries)).not.toContain(':');
  });
});

describe('a row with the older JSON hash (sql.js)', () => {
  it('is unchanged by the same summaries, keeps that hash, and is updated by others', async () => {
    const { repo, db } = await memoryRepository();
    repo.upsert([{ record, summaries }]);
    const hashOf = (): unknown => db.exec("SELECT summaries_hash FROM applications WHERE app_id = 'app-hash'")[0]!.values[0]![0];
    expect(hashOf()).toBe(summariesToStore(summaries).hash);
    db.run("UPDATE applications SET summaries_hash = ? WHERE app_id = 'app-hash'", [jsonSummariesHash(summaries)]);
    expect(repo.upsert([{ record, summaries }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(hashOf()).toBe(jsonSummariesHash(summaries));
    const other = makeSummaries(3, 1);
    expect(repo.upsert([{ record, summaries: other }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(hashOf()).toBe(summariesToStore(other).hash);
    expect(repo.summariesOf(record)).toEqual(other);
  });
});

describe('a row with the older JSON hash, read again by the event-log engine (a stage table)', () => {
  it('is unchanged, and its rows were made for the hash alone (not kept on the summaries)', async () => {
    const { repo, db } = await memoryRepository();
    repo.upsert([{ record, summaries }]);
    db.run("UPDATE applications SET summaries_hash = ? WHERE app_id = 'app-hash'", [jsonSummariesHash(summaries)]);
    const table = tableOfRows(summaries.stages);
    const fromEngine = tableSummaries(table, summaries.executors);
    expect(repo.upsert([{ record, summaries: fromEngine }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    // Rows read through `stages` would be kept: a change to the table would then not show in them.
    table.chunks[0]![AT.num_tasks] = 12_345;
    expect(fromEngine.stages.some((st) => st.num_tasks === 12_345)).toBe(true);
  });
});

describePostgres('a row with the older JSON hash (PostgreSQL)', (server) => {
  const opened: Store[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const s of opened.splice(0)) s.close();
    for (const c of clients.splice(0)) await c.end();
  });

  it('is unchanged by the same summaries, keeps that hash, and is updated by others', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await openStore(url, process.cwd(), { password: s.password });
    opened.push(store);
    const client = new Client(clientConfig(s, url));
    await client.connect();
    clients.push(client);
    const hashOf = async (): Promise<unknown> => (await client.query<{ summaries_hash: string }>("SELECT summaries_hash FROM applications WHERE app_id = 'app-hash'")).rows[0]?.summaries_hash;
    store.upsert([{ record, summaries }]);
    expect(await hashOf()).toBe(summariesToStore(summaries).hash);
    await client.query("UPDATE applications SET summaries_hash = $1 WHERE app_id = 'app-hash'", [jsonSummariesHash(summaries)]);
    expect(store.upsert([{ record, summaries }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(await hashOf()).toBe(jsonSummariesHash(summaries));
    const other = makeSummaries(3, 1);
    expect(store.upsert([{ record, summaries: other }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(await hashOf()).toBe(summariesToStore(other).hash);
    expect(store.summariesOf(record)).toEqual(other);
  });
});
