/**
 * A backend whose connection is lost in the middle of a statement (a review of the PostgreSQL store,
 * item 5): terminated by an administrator (pg_terminate_backend, 57P01), its socket ended under it
 * (pg's "Connection terminated unexpectedly", no SQLSTATE) or reset (ECONNRESET). The server rolled
 * back what it had begun, yet the whole collect failed. Now the transaction (or the statement alone,
 * outside one) runs again on a new connection (postgres/repository.ts RETRY_CODES, pgWorker.ts).
 *
 * The statement is held mid-way by a lock: a helper thread (its own `pg` connection) holds the
 * applications table ACCESS EXCLUSIVE, so the store's statement waits on it; the helper sees it
 * waiting (pg_stat_activity), breaks its connection, then lets the lock go. The store's calls block
 * this thread (the repository is synchronous), hence the helper's own thread.
 */
import { Worker } from 'node:worker_threads';
import { expect, it } from 'vitest';
import type { PostgresStore } from '../src/storage/postgresStore';
import type { SyncPgClient } from '../src/storage/postgres/syncClient';
import { describePostgres, newDatabase, pgHandles, type PgServer } from './support/postgres';
import { makeRecord } from './support/records';

/** How the helper breaks the store's connection. */
type Break = 'terminate' | 'end' | 'reset';

const HELPER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const { Client } = require('pg');
const { conn, how } = workerData;
const pairs = [];
// The store connects through this proxy, so that its socket can be ended or reset under a statement.
const proxy = net.createServer((down) => {
  const up = net.connect(conn.port, conn.host);
  down.on('error', () => {});
  up.on('error', () => {});
  down.pipe(up);
  up.pipe(down);
  pairs.push({ down, up });
});
proxy.listen(0, '127.0.0.1', () => parentPort.postMessage({ proxyPort: proxy.address().port }));
parentPort.on('message', async ({ pid }) => {
  const admin = new Client(conn);
  await admin.connect();
  await admin.query('BEGIN');
  await admin.query('LOCK TABLE applications IN ACCESS EXCLUSIVE MODE');
  parentPort.postMessage({ locked: true });
  let broke = false;
  const until = Date.now() + 20000;
  while (!broke && Date.now() < until) {
    const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'", [pid]);
    if (r.rows[0].n === 1) {
      if (how === 'terminate') await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      else {
        for (const { down } of pairs.splice(0)) how === 'reset' ? down.resetAndDestroy() : down.destroy();
        // The server's side waits on the lock still: ended too, so that nothing of it is left.
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      }
      broke = true;
    } else await new Promise((r) => setTimeout(r, 20));
  }
  await admin.query('COMMIT');
  await admin.end();
  // The proxy stays: the store connects through it again (stop() ends this thread).
  parentPort.postMessage({ broke });
});
`;

/** The helper thread: its proxy's port, then (`hold`) a lock held until the store's backend `pid` waits on it and is broken. */
async function helper(server: PgServer, database: string, how: Break): Promise<{ proxyPort: number; hold(pid: number): Promise<{ broke: Promise<boolean> }>; stop(): Promise<number> }> {
  const conn = { host: '127.0.0.1', port: server.port, user: server.user, password: server.password, database };
  const worker = new Worker(HELPER, { eval: true, workerData: { conn, how } });
  const next = (): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
  const { proxyPort } = (await next()) as { proxyPort: number };
  return {
    proxyPort,
    hold: async (pid) => {
      const locked = next();
      worker.postMessage({ pid });
      await locked;
      // What the helper did, once the store's call has returned.
      return { broke: next().then((m) => m.broke === true) };
    },
    stop: () => worker.terminate(),
  };
}

describePostgres('PostgreSQL store: a connection lost under a statement', (server) => {
  const { open } = pgHandles();
  const backendPid = (store: PostgresStore): number => Number((store as unknown as { client: SyncPgClient }).client.query('SELECT pg_backend_pid() AS pid').rows[0]!.pid);

  const cases: [Break, 'storeBatch' | 'count'][] = [
    ['terminate', 'storeBatch'],
    ['terminate', 'count'],
    ['end', 'storeBatch'],
    ['end', 'count'],
    ['reset', 'storeBatch'],
    ['reset', 'count'],
  ];
  for (const [how, call] of cases) {
    const words = { terminate: 'terminated (pg_terminate_backend: 57P01)', end: 'ended ("Connection terminated unexpectedly")', reset: 'reset (ECONNRESET)' }[how];
    it(`${call === 'storeBatch' ? 'a batch (a transaction)' : 'a read (a statement alone)'} whose connection is ${words} mid-statement is run again on a new connection`, async () => {
      const s = server();
      const url = await newDatabase(s);
      const database = new URL(url).pathname.slice(1);
      const h = await helper(s, database, how);
      try {
        // Through the helper's proxy (the database made, its schema migrated by the first open).
        const store = (await open(url.replace(`:${s.port}/`, `:${h.proxyPort}/`), s.password)) as PostgresStore;
        store.storeBatch([makeRecord({ app_id: 'before' })], []);
        const pid = backendPid(store);
        const { broke } = await h.hold(pid);
        if (call === 'storeBatch') {
          const file = { path: '/logs/after', unit_path: '/logs/after', size: 1, mtime_ms: 1, codec: 'none', app_id: 'after', attempt_id: null, status: 'ok' as const };
          expect(store.storeBatch([makeRecord({ app_id: 'after' })], [file])).toMatchObject({ new: 1, updated: 0, unchanged: 0 });
        } else {
          expect(store.count()).toBe(1);
        }
        expect(await broke).toBe(true);
        // Another connection now: the old backend is gone.
        expect(backendPid(store)).not.toBe(pid);
        expect(store.list().map((r) => r.app_id).sort()).toEqual(call === 'storeBatch' ? ['after', 'before'] : ['before']);
        if (call === 'storeBatch') expect(store.ingestedFiles().map((f) => f.path)).toEqual(['/logs/after']);
      } finally {
        await h.stop();
      }
    });
  }
});
