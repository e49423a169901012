/**
 * A migration's statements may run long (an index over every row of a large shared store): it sets
 * its own statement_timeout (postgres/migrations.ts MIGRATION_STATEMENT_MS), and the client must wait
 * as long (SyncPgClient.withStatementTimeout). Before, the server no longer cancelled such a statement
 * but the client stopped waiting at connect + statement timeout + 5 s and closed the connection under it.
 */
import { expect, it } from 'vitest';
import { parseDatabaseLocation, type PostgresLocation } from '../src/storage/location';
import { SyncPgClient, connectConfig } from '../src/storage/postgres/syncClient';
import { describePostgres, newDatabase } from './support/postgres';

describePostgres('a long statement on the PostgreSQL connection', (server) => {
  it("waits as long as withStatementTimeout allows; outside it, gives up at the connection's timeouts + 5 s, as before", async () => {
    const s = server();
    // Connect and statement timeouts of 1 s: a call waits 1 + 1 + 5 = 7 s.
    const url = `${await newDatabase(s)}&connect_timeout=1&statement_timeout=1`;
    const open = (): SyncPgClient => new SyncPgClient(connectConfig(parseDatabaseLocation(url, '/') as PostgresLocation, s.password), url);
    const sleep = (pg: SyncPgClient): void => {
      pg.query('BEGIN');
      // As a migration does: no server-side cancel in this transaction.
      pg.query('SET LOCAL statement_timeout = 0');
      pg.query('SELECT pg_sleep(8.5)');
      pg.query('COMMIT');
    };
    const pg = open();
    try {
      pg.withStatementTimeout(60_000, () => sleep(pg));
      // The connection's own wait is back afterwards.
      expect(() => sleep(pg)).toThrow(/did not answer within 7 s; the connection was closed/);
    } finally {
      pg.close();
    }
  }, 40_000);
});
