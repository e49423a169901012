import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import * as path from 'node:path';
import { Client, type ClientConfig } from 'pg';
import { expect, it } from 'vitest';
import { clientConfig, describePostgres, newDatabase, startPostgres, type PgServer } from './support/postgres';

/** A connected client for `url` with `password` passed explicitly (PGPASSWORD is not used). */
async function connectTo(server: PgServer, url: string, password: ClientConfig['password']): Promise<Client> {
  const client = new Client({ ...clientConfig(server, url), password });
  await client.connect();
  return client;
}

async function query<T>(server: PgServer, url: string, sql: string): Promise<T[]> {
  const client = await connectTo(server, url, server.password);
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Resolves with the error code of a TCP connect to the port ('ECONNREFUSED' once nothing listens), or 'connected'. */
function tcpConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}

const USER_TABLES = "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')";

describePostgres('PostgreSQL test harness', (server) => {
  it('serves a real PostgreSQL at its URL, as its superuser, to a client given the password', async () => {
    const s = server();
    expect(s.url).toBe(`postgres://${s.user}@127.0.0.1:${s.port}/${s.database}?sslmode=disable`);
    expect(s.url).not.toContain(s.password);
    const [row] = await query<{ version: string; db: string; usr: string }>(s, s.url, 'SELECT version(), current_database() AS db, current_user AS usr');
    expect(row?.version).toMatch(/^PostgreSQL \d+/);
    expect(row?.db).toBe(s.database);
    expect(row?.usr).toBe(s.user);
    expect(s.psql('SELECT 40 + 2')).toBe('42');
  });

  it('refuses a connection without the password or with a wrong one (SCRAM authentication is on)', async () => {
    const s = server();
    // No password: the server asks for SCRAM, which pg cannot answer without one (or, with a stray
    // PGPASSWORD or ~/.pgpass entry, answers wrongly).
    await expect(connectTo(s, s.url, undefined)).rejects.toThrow(/SASL|password authentication failed/);
    await expect(connectTo(s, s.url, `${s.password}x`)).rejects.toMatchObject({ code: '28P01' });
    const rules = await query<{ auth_method: string }>(s, s.url, 'SELECT DISTINCT auth_method FROM pg_hba_file_rules');
    expect(rules.map((r) => r.auth_method)).toEqual(['scram-sha-256']);
  });

  it('gives each newDatabase a fresh, empty database of its own', async () => {
    const s = server();
    const a = await newDatabase(s);
    const b = await newDatabase(s);
    expect(a).not.toBe(b);
    expect(a).not.toContain(s.password);
    expect(await query(s, a, USER_TABLES)).toEqual([{ n: 0 }]);
    await query(s, a, 'CREATE TABLE only_in_a (id int)');
    expect(await query(s, a, USER_TABLES)).toEqual([{ n: 1 }]);
    expect(await query(s, b, USER_TABLES)).toEqual([{ n: 0 }]);
    const named = await newDatabase(s, 'harness_named');
    expect(named).toBe(`postgres://${s.user}@127.0.0.1:${s.port}/harness_named?sslmode=disable`);
  });

  it('stop() closes the port and removes the data folder', async () => {
    const other = await startPostgres();
    try {
      expect(other.port).not.toBe(server().port);
      expect(other.password).not.toBe(server().password);
      expect(await query(other, other.url, 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
      expect(existsSync(other.dataDir)).toBe(true);
    } finally {
      await other.stop();
    }
    expect(await tcpConnect(other.port)).toBe('ECONNREFUSED');
    expect(existsSync(other.dataDir)).toBe(false);
    expect(existsSync(path.dirname(other.dataDir))).toBe(false);
    await other.stop(); // idempotent
  });
});
