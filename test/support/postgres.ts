/**
 * PostgreSQL suites (issue 17): `describePostgres` runs one throw-away server (pgServer.ts) per suite.
 * Without PostgreSQL the suite is a loud skip on a developer machine and a failure in CI (`CI` set),
 * where the setup always installs it.
 */
import { Client } from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, it } from 'vitest';
import { parseDatabaseLocation, type PostgresLocation } from '../../src/storage/location';
import { migratePostgres } from '../../src/storage/postgres/migrations';
import { SyncPgClient, connectConfig } from '../../src/storage/postgres/syncClient';
import { openStore, type Store } from '../../src/storage/store';
import { DEBIAN_ROOT, INSTALL_HINT, clientConfig, findPostgresBin, newDatabase, startPostgres, type PgServer, type StartOptions } from './pgServer';
import { isCi } from './shared';
import { describeSkipped } from './skip';

export { clientConfig, findPostgresBin, newDatabase, startPostgres, type PgServer, type StartOptions } from './pgServer';

/**
 * `describe(name, ...)` with one PostgreSQL started for the suite (beforeAll) and stopped after it;
 * `fn` gets a getter for it. Without PostgreSQL, or when it cannot start: a loud skip, or a failure
 * in CI (`CI` set), where `npm test` has installed it. `options`: how to start it (TLS, say).
 */
export function describePostgres(name: string, fn: (server: () => PgServer) => void, options: StartOptions = {}): void {
  const ci = isCi();
  if (findPostgresBin() === null) {
    const why = `PostgreSQL is not installed: ${INSTALL_HINT} (looked in ${DEBIAN_ROOT}/*/bin and PATH)`;
    if (ci) {
      describe(name, () => {
        it(`FAILED: ${why}`, () => {
          throw new Error(`${why}. CI=${process.env.CI ?? ''}: a CI run must have PostgreSQL.`);
        });
      });
      return;
    }
    describeSkipped(name, `SKIPPED ${name}: ${why}`);
    return;
  }
  describe(name, () => {
    let server: PgServer | undefined;
    let startError: string | undefined;
    beforeAll(async () => {
      try {
        server = await startPostgres(options);
      } catch (err) {
        if (ci) throw err;
        startError = `SKIPPED ${name}: PostgreSQL is installed but did not start: ${(err as Error).message}`;
        console.warn(`\n!!! ${startError}\n`);
      }
    }, 60_000);
    beforeEach((ctx) => {
      if (startError !== undefined) ctx.skip(startError);
    });
    afterAll(async () => {
      await server?.stop();
    });
    fn(() => {
      if (server === undefined) throw new Error(`${name}: the PostgreSQL server is not running (read from outside a test?)`);
      return server;
    });
  });
}

/**
 * Stores and `pg` clients a test file opens, each closed after every test (registers its own afterEach):
 * `open` a store at a URL (the server's password given), `connect` a client of the test's own.
 */
export function pgHandles(): { open: (target: string, password?: string) => Promise<Store>; connect: (server: PgServer, url: string) => Promise<Client> } {
  const stores: Store[] = [];
  const clients: Client[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) s.close();
    for (const c of clients.splice(0)) await c.end();
  });
  return {
    open: async (target, password) => {
      const store = await openStore(target, process.cwd(), { password });
      stores.push(store);
      return store;
    },
    connect: async (server, url) => {
      const client = new Client(clientConfig(server, url));
      await client.connect();
      clients.push(client);
      return client;
    },
  };
}

/** A new database on `server` at schema `version` (an older one than a store opens it at): its URL. */
export async function databaseAtVersion(server: PgServer, version: number): Promise<string> {
  const url = await newDatabase(server);
  const loc = parseDatabaseLocation(url, process.cwd()) as PostgresLocation;
  const pg = new SyncPgClient(connectConfig(loc, server.password), loc.display);
  try {
    migratePostgres(pg, version);
  } finally {
    pg.close();
  }
  return url;
}
