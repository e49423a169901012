/**
 * What only the PostgreSQL store has (issue 17), on a real server (test/support/postgres.ts): several
 * collectors migrating a new database at once, a newer schema refused untouched, the password kept
 * out of messages and tables, sslmode against a server without TLS; and what the sql.js-only tests
 * of repository.test.ts, regressionStore.test.ts and storage.test.ts read from SQLite, read here from
 * the server's tables.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { expect, it } from 'vitest';
import { checkRegressions } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { sparkAppRecordSchema, type SparkAppRecord } from '../src/collectors/record';
import { openStore } from '../src/storage/store';
import { parseDatabaseLocation, type PostgresLocation } from '../src/storage/location';
import { PG_SCHEMA_VERSION } from '../src/storage/postgres/migrations';
import { SyncPgClient, connectConfig } from '../src/storage/postgres/syncClient';
import { eventLogText } from './support/eventLogGenerator';
import { describePostgres, newDatabase, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

/** migrations.ts's MIGRATION_LOCK: the advisory lock every Spark Optimizer takes to migrate. */
const MIGRATION_LOCK = 5_417_001;
const TABLES = ['applications', 'collection_runs', 'ingested_files', 'regressions', 'spark_optimizer_schema'];
const CLI = path.resolve(__dirname, '../dist/cli.js');

/** Stores and clients of the test's own, closed after each test. */
const { open, connect } = pgHandles();

/** The URL with another sslmode. */
const withSslmode = (url: string, mode: string): string => url.replace(/sslmode=[a-z-]+/, `sslmode=${mode}`);
/** The URL with the password in it (the discouraged spelling). */
const withPassword = (url: string, password: string): string => url.replace(/^postgres:\/\/([^@/]+)@/, (_, user: string) => `postgres://${user}:${encodeURIComponent(password)}@`);

/** Everything the database holds of its own, as text: each table's rows, and their names and columns. */
async function everything(client: Client): Promise<string> {
  const tables = (await client.query<{ t: string }>("SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")).rows.map((r) => r.t);
  const parts: string[] = [];
  for (const t of tables) {
    const rows = await client.query<{ row: string }>(`SELECT r::text AS row FROM "${t.replace(/"/g, '""')}" r`);
    parts.push(`${t}: ${rows.rows.map((r) => r.row).join('\n')}`);
  }
  const columns = await client.query<{ c: string }>("SELECT table_name || '.' || column_name || ' ' || data_type AS c FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1");
  const indexes = await client.query<{ i: string }>("SELECT indexdef AS i FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1");
  return [...parts, ...columns.rows.map((r) => r.c), ...indexes.rows.map((r) => r.i)].join('\n');
}

async function tablesOf(client: Client): Promise<string[]> {
  return (await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t);
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * The built CLI in a process of its own, with this one's environment less any libpq variable and a
 * HOME of its own (no ~/.pgpass), and `env` added (the password, say).
 */
function cli(args: string[], env: NodeJS.ProcessEnv = {}): { exited: Promise<Exit>; done: () => boolean } {
  const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...own, HOME: tempDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let finished = false;
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const exited = new Promise<Exit>((resolve) =>
    child.on('close', (code) => {
      finished = true;
      resolve({ code, stdout, stderr });
    }),
  );
  return { exited, done: () => finished };
}

describePostgres('PostgresStore', (server) => {
  it('collectors opening a new database at the same time migrate it once: the newest schema version, every table', async () => {
    const s = server();
    const url = await newDatabase(s);
    // Holding the migration lock makes the collectors meet at it: each has found no schema and waits.
    const holder = await connect(s, url);
    await holder.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    // Collections (a command that only reads migrates nothing): of an empty folder, so that only the migration differs.
    const empty = tempDir();
    const collectors = Array.from({ length: 3 }, () => cli(['collect', '--source', 'event-logs', '--path', empty, '--db', url], { PGPASSWORD: s.password }));
    const waiting = async (): Promise<number> =>
      (
        await holder.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database WHERE l.locktype = 'advisory' AND l.objid = $1 AND NOT l.granted AND d.datname = current_database()",
          [MIGRATION_LOCK],
        )
      ).rows[0]!.n;
    const deadline = Date.now() + 30_000;
    while ((await waiting()) < collectors.length && Date.now() < deadline && !collectors.some((c) => c.done())) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await waiting(), `collectors waiting at the lock (${collectors.filter((c) => c.done()).length} ended early)`).toBe(collectors.length);
    expect(await tablesOf(holder)).toEqual([]);
    await holder.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);

    const exits = await Promise.all(collectors.map((c) => c.exited));
    for (const e of exits) expect(e, e.stderr).toMatchObject({ code: 0, stderr: '' });
    expect((await holder.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    expect(await tablesOf(holder)).toEqual(TABLES);
    // A store opened now finds the schema current and works.
    const store = await open(url, s.password);
    store.upsert([makeRecord()]);
    expect(store.count()).toBe(1);
    expect((await holder.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
  });

  it('collectors collecting the same logs at once store each application once, without errors', async () => {
    const s = server();
    const url = await newDatabase(s);
    const logs = path.join(tempDir(), 'logs');
    mkdirSync(logs);
    for (let i = 0; i < 120; i++) writeFileSync(path.join(logs, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 1, tasksPerStage: 2 }).text);
    const collect = (): Promise<Exit> => cli(['collect', '--source', 'event-logs', '--path', logs, '--db', url, '--batch-size', '7'], { PGPASSWORD: s.password }).exited;
    const exits = await Promise.all([collect(), collect(), collect()]);
    for (const e of exits) expect(e.code, e.stderr).toBe(0);
    const store = await open(url, s.password);
    expect(store.count()).toBe(120);
    const runs = store.listRuns();
    expect(runs).toHaveLength(3);
    // Each application is new to exactly one of them.
    expect(runs.reduce((n, r) => n + r.new, 0)).toBe(120);
    for (const r of runs) expect(r).toMatchObject({ seen: 120, new: 120 - r.unchanged, updated: 0, failed: 0, errors: [] });
  });

  it('a database of a newer schema is refused, naming it, and left as it was', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    store.upsert([makeRecord()]);
    store.close();
    const client = await connect(s, url);
    await client.query('UPDATE spark_optimizer_schema SET version = $1', [PG_SCHEMA_VERSION + 1]);
    const before = await everything(client);

    const refused = openStore(url, process.cwd(), { password: s.password });
    await expect(refused).rejects.toThrow(`${url} has schema version ${PG_SCHEMA_VERSION + 1}, written by a newer Spark Optimizer (this one knows up to ${PG_SCHEMA_VERSION})`);
    await expect(refused).rejects.toThrow('the database was left unchanged');
    expect(await everything(client)).toBe(before);
    expect(before).toContain('applications: ');
  });

  it('a database holding only a newer schema\'s version gets none of this one\'s tables', async () => {
    const s = server();
    const url = await newDatabase(s);
    const client = await connect(s, url);
    await client.query('CREATE TABLE spark_optimizer_schema (version INTEGER NOT NULL); INSERT INTO spark_optimizer_schema VALUES (99)');
    await expect(openStore(url, process.cwd(), { password: s.password })).rejects.toThrow(`${url} has schema version 99`);
    expect(await tablesOf(client)).toEqual(['spark_optimizer_schema']);
    expect((await client.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: 99 }]);
  });

  it('a wrong password fails with the URL, never the password, whether given apart or in the URL', async () => {
    const s = server();
    const url = await newDatabase(s);
    const wrong = `${s.password}-not-it`;
    for (const [target, password] of [
      [url, wrong],
      [withPassword(url, wrong), undefined],
    ] as const) {
      const error = await openStore(target, process.cwd(), { password }).then(
        () => undefined,
        (err: unknown) => err as Error,
      );
      expect(error?.message).toBe(`${url}: password authentication failed for user "${s.user}"`);
      for (const text of [error!.message, String(error), error!.stack ?? '', JSON.stringify(error)]) {
        expect(text).not.toContain(wrong);
        expect(text).not.toContain(s.password);
      }
    }
    // The right one in the URL opens it, and the store names the URL without it.
    const store = await open(withPassword(url, s.password));
    expect(store.where).toBe(url);
  });

  it('no password anywhere is said as that, with the URL', async () => {
    const s = server();
    const url = await newDatabase(s);
    const exit = await cli(['runs', '--db', url]).exited;
    expect(exit.code).not.toBe(0);
    expect(exit.stderr).toContain(`${url}: the server asks for a password and none was found (not in the URL, PGPASSWORD or ~/.pgpass`);
  });

  it('a collection by the CLI with the password in --db: it is in no output and no table', async () => {
    const s = server();
    const url = await newDatabase(s);
    const logs = path.join(tempDir(), 'logs');
    mkdirSync(logs);
    for (const id of ['app-1', 'app-2']) writeFileSync(path.join(logs, id), eventLogText({ appId: id, stages: 2, tasksPerStage: 3 }).text);
    // A log with errors: the run keeps them, with where it was stored.
    writeFileSync(path.join(logs, 'app-garbage'), Buffer.from([0, 1, 2, 255, 254, 10, 200, 201]));
    const db = withPassword(url, s.password);
    const collected = await cli(['collect', '--source', 'event-logs', '--path', logs, '--db', db]).exited;
    expect(collected.code, collected.stderr).toBe(0);
    expect(collected.stdout + collected.stderr).toContain(url);
    const runs = await cli(['runs', '--db', db, '--format', 'json']).exited;
    expect(runs.code, runs.stderr).toBe(0);
    expect(JSON.parse(runs.stdout)).toMatchObject({ new: 2, failed: 1 });
    for (const text of [collected.stdout, collected.stderr, runs.stdout, runs.stderr]) expect(text).not.toContain(s.password);

    const client = await connect(s, url);
    const text = await everything(client);
    expect(text).toContain('app-garbage');
    expect(text).not.toContain(s.password);
    expect(text).not.toContain(encodeURIComponent(s.password));
  });

  it('the password is in no table after a collection: its runs hold the URL without it', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(withPassword(url, s.password));
    const runs = Array.from({ length: 6 }, (_, i) =>
      makeRecord({ app_id: `nightly-${i}`, app_name: 'Nightly', start_time: new Date(Date.UTC(2024, 5, 1 + i)).toISOString(), end_time: new Date(Date.UTC(2024, 5, 1 + i, 1)).toISOString(), duration_ms: i === 5 ? 7_200_000 : 3_600_000 }),
    );
    const at = new Date('2024-07-01T00:00:00.000Z');
    store.startRun('run-1', 'event_log', { db: store.where, source: 'nightly', path: '/logs' }, at);
    expect(store.upsert(runs, at)).toEqual({ new: 6, updated: 0, unchanged: 0 });
    store.recordFiles(runs.map((r) => ({ path: `/logs/${r.app_id}`, unit_path: `/logs/${r.app_id}`, size: 10, mtime_ms: 5, codec: 'none', app_id: r.app_id, attempt_id: null, status: 'ok' })), at);
    expect(store.saveRegressions(checkRegressions(store, runs.map((r) => ({ app_id: r.app_id, attempt_id: null })), DEFAULT_THRESHOLDS), at)).toBe(6);
    store.finishRun('run-1', { seen: 6, new: 6, updated: 0, unchanged: 0, skipped: 0, failed: 0 }, [`${store.where}: a warning that names the database`], at);
    expect(store.listRuns()).toEqual([expect.objectContaining({ run_id: 'run-1', options: { db: url, source: 'nightly', path: '/logs' }, new: 6 })]);

    const client = await connect(s, url);
    const text = await everything(client);
    expect(text).toContain(url);
    expect(text).toContain('nightly-5');
    expect(text).not.toContain(s.password);
    expect(text).not.toContain(encodeURIComponent(s.password));
  });

  it('sslmode=require against a server without TLS fails, saying so with the URL; nothing is created', async () => {
    const s = server();
    const url = withSslmode(await newDatabase(s), 'require');
    await expect(openStore(url, process.cwd(), { password: s.password })).rejects.toThrow(`${url}: The server does not support SSL connections`);
    expect(await tablesOf(await connect(s, url))).toEqual([]);
  });

  it('sslmode=prefer against a server without TLS falls back to a plain connection', async () => {
    const s = server();
    const url = withSslmode(await newDatabase(s), 'prefer');
    const store = await open(url, s.password);
    expect(store.upsert([makeRecord()])).toEqual({ new: 1, updated: 0, unchanged: 0 });
    const client = await connect(s, url);
    const ssl = await client.query<{ ssl: boolean }>(
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.datname = current_database() AND a.application_name = 'spark-optimizer'",
    );
    expect(ssl.rows).toEqual([{ ssl: false }]);
  });

  it('a name or user holding NUL (which PostgreSQL text cannot hold) is stored with U+FFFD, not a failed batch; a re-read is unchanged', async () => {
    const s = server();
    const store = await open(await newDatabase(s), s.password);
    const odd = makeRecord({ app_name: 'job\u0000x', user: '\u0000' });
    expect(store.upsert([odd, makeRecord({ app_id: 'app-2' })])).toEqual({ new: 2, updated: 0, unchanged: 0 });
    expect(store.get(odd)).toMatchObject({ app_name: 'job\uFFFDx', user: '\uFFFD' });
    expect(store.upsert([odd])).toEqual({ new: 0, updated: 0, unchanged: 1 });
  });

  it('a run whose app id holds NUL keeps its regression check (stored under the same key as its record)', async () => {
    const s = server();
    const store = await open(await newDatabase(s), s.password);
    const odd = makeRecord({ app_id: 'app\u0000nul' });
    store.upsert([odd]);
    const row = { app_id: odd.app_id, attempt_id: null, status: 'steady' as const, summary: 'steady', explanation: 'within thresholds', check: null };
    expect(store.saveRegressions([row])).toBe(1);
    expect(store.regressions([odd])).toEqual([expect.objectContaining({ app_id: 'app\uFFFDnul', status: 'steady', summary: 'steady' })]);
  });

  it('an open store does not take the files of a batch that failed for known', async () => {
    const s = server();
    const store = await open(await newDatabase(s), s.password);
    const unit = { path: '/logs/a', files: [{ path: '/logs/a', size: 1, mtimeMs: 1 }] };
    expect(store.isUnchanged(unit)).toBe(false);
    const file = { path: '/logs/a', unit_path: '/logs/a', size: 1, mtime_ms: 1, codec: null as unknown as string, app_id: 'app-1', attempt_id: null, status: 'ok' as const };
    expect(() => store.storeBatch([makeRecord()], [file])).toThrow();
    expect(store.isUnchanged(unit)).toBe(false);
    store.storeBatch([makeRecord()], [{ ...file, codec: 'none' }]);
    expect(store.isUnchanged(unit)).toBe(true);
  });

  it('a connection lost inside a batch (the backend killed between its records and its files) leaves all of the batch or none, never a part', async () => {
    const s = server();
    const url = await newDatabase(s);
    for (const killBefore of ['INSERT INTO ingested_files', 'WITH input AS', 'COMMIT']) {
      const store = await open(url, s.password);
      const pg = (store as unknown as { client: SyncPgClient }).client;
      const pid = Number(pg.query('SELECT pg_backend_pid() AS pid').rows[0]!.pid);
      // The killer talks as the store does, synchronously: the store's calls block this thread.
      const admin = new SyncPgClient(connectConfig(parseDatabaseLocation(url, '/') as PostgresLocation, s.password), url);
      const query = pg.query.bind(pg);
      let killed = false;
      // Once: before the statement, the store's backend is terminated and gone.
      pg.query = (sql, params, name) => {
        if (!killed && sql.trimStart().startsWith(killBefore)) {
          killed = true;
          admin.query('SELECT pg_terminate_backend($1)', [pid]);
          const until = Date.now() + 5000;
          while (Date.now() < until && admin.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1', [pid]).rows[0]!.n !== 0);
        }
        return query(sql, params, name);
      };
      const id = `app-${killBefore.split(' ')[0]}`;
      const file = { path: `/logs/${id}`, unit_path: `/logs/${id}`, size: 1, mtime_ms: 1, codec: 'none', app_id: id, attempt_id: null, status: 'ok' as const };
      try {
        store.storeBatch([makeRecord({ app_id: id })], [file]);
      } catch {
        // failed whole: checked below
      }
      admin.close();
      expect(killed).toBe(true);
      const c = await connect(s, url);
      const apps = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM applications WHERE app_id = $1', [id])).rows[0]!.n;
      const files = (await c.query<{ n: number }>('SELECT count(*)::int AS n FROM ingested_files WHERE app_id = $1', [id])).rows[0]!.n;
      expect([apps, files], killBefore).toSatisfy(([a, f]: number[]) => a === f);
    }
  });

  it('files: a file is keyed by its attempt, and one that held no application has no attempt key', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    const file = (p: string, status: 'ok' | 'problems' = 'ok') => ({ path: p, unit_path: '/u', size: 10, mtime_ms: 5, codec: 'none', app_id: 'app-1', attempt_id: null, status });
    store.recordFiles([file('/u/1'), file('/u/2'), file('/v/1', 'problems')]);
    store.recordFiles([{ ...file('/w/1', 'problems'), app_id: null }]);
    const client = await connect(s, url);
    expect((await client.query("SELECT app_id, attempt_key FROM ingested_files WHERE path IN ('/u/1', '/w/1') ORDER BY path")).rows).toEqual([
      { app_id: 'app-1', attempt_key: '' },
      { app_id: null, attempt_key: null },
    ]);
  });

  it('delete and retention leave no check of a run behind in the table', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    const runs: SparkAppRecord[] = Array.from({ length: 6 }, (_, i) =>
      makeRecord({ app_id: `nightly-${i}`, app_name: 'Nightly', start_time: new Date(Date.UTC(2024, 5, 1 + i)).toISOString(), end_time: new Date(Date.UTC(2024, 5, 1 + i, 1)).toISOString() }),
    );
    store.upsert(runs);
    const keys = runs.map((r) => ({ app_id: r.app_id, attempt_id: null }));
    expect(store.saveRegressions(checkRegressions(store, keys, DEFAULT_THRESHOLDS))).toBe(6);
    const client = await connect(s, url);
    const stored = async (): Promise<number> => (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM regressions')).rows[0]!.n;
    expect(await stored()).toBe(6);
    expect(store.delete([keys[5]!])).toBe(1);
    expect(await stored()).toBe(5);
    // Runs 0 and 1 ended before 2024-06-03.
    expect(store.applyRetention(1, new Date('2024-06-04T00:00:00Z'))).toBe(2);
    expect(await stored()).toBe(3);
  });

  it('record_hash is the sha1 of the JSON of the fields in schema order, as in the sql.js file', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    const record = makeRecord({ tags: { note: '\u0000environment\u0000' }, environment: { 'spark.a': 'x"y\\z', 'spark.\u2028': '\u0000' } });
    store.upsert([record]);
    expect(store.get(record)).toEqual(record);
    const client = await connect(s, url);
    const fields = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];
    expect((await client.query('SELECT record_hash FROM applications')).rows).toEqual([{ record_hash: createHash('sha1').update(JSON.stringify(fields.map((f) => record[f]))).digest('hex') }]);
  });
});
