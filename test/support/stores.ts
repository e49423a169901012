/**
 * The same behaviour tests on both stores (issue 17): `describeEachStore` defines its tests twice,
 * once over an in-memory sql.js repository and once over a PostgresStore on a real server
 * (describePostgres: a loud skip without PostgreSQL, a failure in CI). Each `open()` is a new empty
 * store at the newest schema; every store a test opened is closed after it.
 */
import { afterEach, describe } from 'vitest';
import type { JobRepository } from '../../src/storage/repository';
import { openStore, type Store } from '../../src/storage/store';
import { memoryRepository } from './memoryRepository';
import { describePostgres, newDatabase } from './postgres';

export type OpenRepository = () => Promise<JobRepository>;
/** Which store the tests run on, for what the two say in their own words (a server's error text). */
export type StoreKind = Store['kind'];

export function describeEachStore(name: string, body: (open: OpenRepository, kind: StoreKind) => void): void {
  describe(`${name} (sql.js)`, () => {
    // memoryRepository closes its databases after each test.
    body(async () => (await memoryRepository()).repo, 'sqlite');
  });
  describePostgres(`${name} (PostgreSQL)`, (server) => {
    const opened: Store[] = [];
    afterEach(() => {
      for (const store of opened.splice(0)) store.close();
    });
    body(async () => {
      const s = server();
      // The URL has no password: it is given as the editor's secret storage would give it.
      const store = await openStore(await newDatabase(s), process.cwd(), { password: s.password });
      opened.push(store);
      return store;
    }, 'postgres');
  });
}
