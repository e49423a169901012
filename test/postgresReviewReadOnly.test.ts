/**
 * A review of the PostgreSQL store's opening:
 * - the commands that only read (`jobs`, `show`, `compare`, `runs`, `db copy --from`) migrated what
 *   --db named, making five tables in any database. They write nothing now: a database without the
 *   jobs schema is said as the file's "no database at … yet" is, and one whose `applications` is
 *   another application's is refused (by `collect` too, instead of a bare relation error);
 * - a password from ~/.pgpass printed pg's "DeprecationWarning: pgpass support is deprecated" on
 *   every command: the worker reads it through the supported password function.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { afterEach, expect, it } from 'vitest';
import { PG_SCHEMA_VERSION } from '../src/storage/postgres/migrations';
import { eventLogText } from './support/eventLogGenerator';
import { clientConfig, databaseAtVersion, describePostgres, newDatabase, type PgServer } from './support/postgres';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');

const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.end();
});

async function connect(server: PgServer, url: string): Promise<Client> {
  const client = new Client(clientConfig(server, url));
  await client.connect();
  clients.push(client);
  return client;
}

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The built CLI with no libpq variable but `env`'s, and a HOME of its own (`home`, or a new one). */
function cli(args: string[], env: NodeJS.ProcessEnv, home = tempDir()): Promise<Exit> {
  const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...own, HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const READERS = (url: string, file: string): string[][] => [
  ['jobs', '--db', url],
  ['show', 'app-1', '--db', url],
  ['compare', 'app-1', '--previous', '--db', url],
  ['runs', '--db', url],
  ['db', 'copy', '--from', url, '--to', file],
];

async function tables(client: Client): Promise<string[]> {
  return (await client.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t);
}

function logsFolder(): string {
  const logs = path.join(tempDir(), 'logs');
  mkdirSync(logs);
  writeFileSync(path.join(logs, 'app-1'), eventLogText({ appId: 'app-1', stages: 1, tasksPerStage: 2 }).text);
  return logs;
}

describePostgres('PostgreSQL: commands that only read write nothing (review)', (server) => {
  it('on a database without the jobs schema each says there is none yet, as for a file, and creates nothing', async () => {
    const s = server();
    const url = await newDatabase(s);
    const client = await connect(s, url);
    for (const args of READERS(url, path.join(tempDir(), 'copy.db'))) {
      const exit = await cli(args, { PGPASSWORD: s.password });
      expect(exit.code, args.join(' ')).toBe(1);
      expect(exit.stderr, args.join(' ')).toBe(
        `spark-optimizer: no jobs database at ${url} yet (it has no Spark Optimizer tables, and nothing was created); run \`spark-optimizer collect\` first (or pass --db).\n`,
      );
      expect(await tables(client), args.join(' ')).toEqual([]);
    }
    // A collection makes it; then they read it.
    const collected = await cli(['collect', '--source', 'event-logs', '--path', logsFolder(), '--db', url], { PGPASSWORD: s.password });
    expect(collected.code, collected.stderr).toBe(0);
    for (const args of READERS(url, path.join(tempDir(), 'copy.db'))) {
      const exit = await cli(args, { PGPASSWORD: s.password });
      // compare --previous: app-1 has no earlier run, which it says (exit 1) having read the database.
      if (args[0] === 'compare') expect(exit.stderr).toContain('has no earlier run of the same name');
      else expect(exit.code, `${args.join(' ')}: ${exit.stderr}`).toBe(0);
    }
  });

  it("a database whose applications table is another application's is refused by readers and collect alike, unchanged", async () => {
    const s = server();
    const url = await newDatabase(s);
    const client = await connect(s, url);
    await client.query("CREATE TABLE applications (id serial PRIMARY KEY, applicant text); INSERT INTO applications (applicant) VALUES ('ann')");
    const refusal = `${url} has a table named applications that Spark Optimizer did not make (it has no spark_optimizer_schema): it is not Spark Optimizer's jobs database, and was neither read nor changed.`;
    for (const args of [...READERS(url, path.join(tempDir(), 'copy.db')), ['collect', '--source', 'event-logs', '--path', logsFolder(), '--db', url]]) {
      const exit = await cli(args, { PGPASSWORD: s.password });
      expect(exit.code, args.join(' ')).not.toBe(0);
      expect(exit.stderr, args.join(' ')).toContain(refusal);
      expect(exit.stderr).not.toContain('already exists');
      expect(await tables(client)).toEqual(['applications']);
    }
    expect((await client.query('SELECT applicant FROM applications')).rows).toEqual([{ applicant: 'ann' }]);
  });

  it('a reader reads the schema it knows as it is (and 11, before 12 added an index), and refuses an older one (10: before stored passwords were hidden), neither changed', async () => {
    const s = server();
    const at = (version: number): Promise<string> => databaseAtVersion(s, version);
    const current = await at(PG_SCHEMA_VERSION);
    const read = await cli(['jobs', '--db', current], { PGPASSWORD: s.password });
    expect(read, read.stderr).toMatchObject({ code: 0, stdout: '0 of 0 applications\n' });

    // 12 added an index only (failed runs by history, for re-checks): a database at 11 is read as it is, and left at 11.
    const indexOlder = await at(11);
    for (const args of READERS(indexOlder, path.join(tempDir(), 'copy.db'))) {
      const exit = await cli(args, { PGPASSWORD: s.password });
      expect(exit.stderr, args.join(' ')).not.toContain('schema version');
      if (args[0] === 'jobs') expect(exit, exit.stderr).toMatchObject({ code: 0, stdout: '0 of 0 applications\n' });
    }
    expect((await (await connect(s, indexOlder)).query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: 11 }]);

    const older = await at(10);
    const refused = await cli(['runs', '--db', older], { PGPASSWORD: s.password });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${older} has schema version 10, older than this Spark Optimizer reads as it is (11 to ${PG_SCHEMA_VERSION}); a command that only reads does not upgrade it.`);
    expect((await (await connect(s, older)).query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: 10 }]);
    // A collection upgrades it.
    const collected = await cli(['collect', '--source', 'event-logs', '--path', logsFolder(), '--db', older], { PGPASSWORD: s.password });
    expect(collected.code, collected.stderr).toBe(0);
    expect((await (await connect(s, older)).query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
  });

  it('a password from ~/.pgpass is used without a deprecation warning', async () => {
    const s = server();
    const url = await newDatabase(s);
    const home = tempDir();
    writeFileSync(path.join(home, '.pgpass'), `127.0.0.1:${s.port}:*:${s.user}:${s.password.replace(/[\\:]/g, '\\$&')}\n`);
    chmodSync(path.join(home, '.pgpass'), 0o600);
    const collected = await cli(['collect', '--source', 'event-logs', '--path', logsFolder(), '--db', url], {}, home);
    expect(collected.code, collected.stderr).toBe(0);
    const runs = await cli(['runs', '--db', url, '--format', 'json'], {}, home);
    expect(runs, runs.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(runs.stdout)).toMatchObject({ new: 1 });
    for (const text of [collected.stderr, runs.stderr]) expect(text).not.toMatch(/DeprecationWarning|pgpass support is deprecated/);
    // PGPASSWORD still comes first, and no password at all is still said as that.
    expect((await cli(['runs', '--db', url], { PGPASSWORD: `${s.password}-wrong` }, home)).stderr).toContain('password authentication failed');
    expect((await cli(['runs', '--db', url], {})).stderr).toContain('the server asks for a password and none was found');
  });
});
