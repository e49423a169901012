/**
 * `spark-optimizer db copy` (issue 17) through the built CLI: file to PostgreSQL and back gives the
 * same records, stages, executors, regression checks, known files and runs; a second copy changes
 * nothing; and the password of a PostgreSQL store appears nowhere: not in stdout or stderr of any
 * command, not in the runs table, not in any table of the database.
 */
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { describe, expect, it } from 'vitest';
import { clientConfig, describePostgres, newDatabase, type PgServer } from './support/postgres';
import { JobStore } from '../src/storage/jobStore';
import { manyRecords } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');
const SAMPLES = path.resolve(__dirname, '../samples/event-logs');

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Everything a store holds, as the CLI shows it: records, each with its stages and executors, and the runs. */
function contents(db: string, env: Record<string, string> = {}): { jobs: string[]; shown: string[]; runs: string[] } {
  const jobs = cli(['jobs', '--db', db, '--format', 'json', '--limit', '10000'], env);
  expect(jobs.status, jobs.stderr).toBe(0);
  const lines = jobs.stdout.trim().split('\n').sort();
  const shown = lines.map((l) => {
    const { app_id, attempt_id } = JSON.parse(l) as { app_id: string; attempt_id: string | null };
    const r = cli(['show', app_id, ...(attempt_id === null ? [] : ['--attempt', attempt_id]), '--db', db, '--format', 'json'], env);
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  });
  const runs = cli(['runs', '--db', db, '--format', 'json', '--limit', '100'], env);
  expect(runs.status, runs.stderr).toBe(0);
  return { jobs: lines, shown, runs: runs.stdout.trim().split('\n').sort() };
}

describe('db copy between two files', () => {
  it('copies everything, a second copy changes nothing, and --from/--to must differ', () => {
    const dir = tempDir();
    const a = path.join(dir, 'a.db');
    expect(cli(['collect', '--path', SAMPLES, '--db', a]).status).toBe(0);
    const first = cli(['db', 'copy', '--from', a, '--to', `sqlite:///${path.relative(process.cwd(), path.join(dir, 'b.db'))}`]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^8 new, 0 updated, 0 unchanged, .* copied from .*a\.db to .*b\.db/);
    expect(contents(path.join(dir, 'b.db'))).toEqual(contents(a));
    const again = cli(['db', 'copy', '--from', a, '--to', path.join(dir, 'b.db')]);
    expect(again.stdout).toMatch(/^0 new, 0 updated, 8 unchanged/);
    // Collecting into the copy reads nothing again: its known files came with it.
    expect(cli(['collect', '--path', SAMPLES, '--db', path.join(dir, 'b.db')]).stdout).toMatch(/0 new, 0 updated, 8 unchanged/);
    expect(cli(['db', 'copy', '--from', a, '--to', a])).toMatchObject({ status: 2 });
    const none = cli(['db', 'copy', '--from', path.join(dir, 'none.db'), '--to', a]);
    expect(none).toMatchObject({ status: 1 });
    // Named as the flag it came from: it said "run collect first (or pass --db)".
    expect(none.stderr).toBe(`spark-optimizer: no database at ${path.join(dir, 'none.db')} to copy from (--from); nothing was copied.\n`);
  });

  it('Ctrl+C keeps the records copied so far (saved though not every page is), and a second copy finishes the rest', { timeout: 120_000 }, async () => {
    const dir = tempDir();
    const from = path.join(dir, 'from.db');
    const to = path.join(dir, 'to.db');
    const source = await JobStore.open(from);
    const n = 20_000;
    for (let i = 0; i < n; i += 1000) source.upsert(manyRecords(1000, i));
    await source.save();
    // Pages of 1: 20,000 pages, so that the copy is still going when its first progress line comes (after 2 s).
    const child = spawn(process.execPath, [CLI, 'db', 'copy', '--from', from, '--to', to, '--batch-size', '1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let interrupted = false;
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!interrupted && stderr.includes('copied ')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(130);
    const kept = Number(/Stopped: (\d+) new, 0 updated, 0 unchanged/.exec(stderr)?.[1]);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(n);
    const copy = await JobStore.open(to);
    expect(copy.count()).toBe(kept);
    // The first `kept` keys in key order, each exactly as in the source.
    const copied = copy.list({ sort: 'app_id', descending: false });
    expect(copied).toEqual(source.list({ sort: 'app_id', descending: false, limit: kept }));
    copy.close();
    const rest = cli(['db', 'copy', '--from', from, '--to', to]);
    expect(rest.status, rest.stderr).toBe(0);
    expect(rest.stdout).toMatch(new RegExp(`^${n - kept} new, 0 updated, ${kept} unchanged`));
    source.close();
  });
});

async function everyTableText(server: PgServer, url: string): Promise<string> {
  const c = new Client(clientConfig(server, url));
  await c.connect();
  try {
    const tables = (await c.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.t);
    // One query at a time: a pg Client queues concurrent ones, and pg 9 will refuse them.
    const texts: string[] = [];
    for (const t of tables) texts.push(JSON.stringify((await c.query(`SELECT * FROM "${t}"`)).rows));
    expect(tables).toEqual(expect.arrayContaining(['applications', 'ingested_files', 'collection_runs', 'regressions']));
    return texts.join('\n');
  } finally {
    await c.end();
  }
}

describePostgres('db copy to and from PostgreSQL, and the password nowhere', (server) => {
  it('file -> PostgreSQL -> file gives the same records, stages, executors and runs; again, nothing changes', { timeout: 180_000 }, async () => {
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    expect(cli(['collect', '--path', SAMPLES, '--db', file]).status).toBe(0);
    const url = await newDatabase(server());
    const env = { PGPASSWORD: server().password };
    const up = cli(['db', 'copy', '--from', file, '--to', url], env);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stdout).toMatch(/^8 new, 0 updated, 0 unchanged, 8 regression checks, \d+ known files, 1 collection run copied/);
    const back = path.join(dir, 'back.db');
    expect(cli(['db', 'copy', '--from', url, '--to', back], env).status).toBe(0);
    const original = contents(file);
    expect(contents(url, env)).toEqual(original);
    expect(contents(back)).toEqual(original);
    expect(cli(['db', 'copy', '--from', file, '--to', url], env).stdout).toMatch(/^0 new, 0 updated, 8 unchanged/);
    expect(contents(url, env)).toEqual(original);
  });

  it('the password is in no output of collect, jobs, runs, show or db copy, in no table, and a wrong one is said without it', { timeout: 180_000 }, async () => {
    const url = await newDatabase(server());
    const password = server().password;
    const outputs: string[] = [];
    const run = (args: string[], env: Record<string, string>): ReturnType<typeof cli> => {
      const r = cli(args, env);
      outputs.push(r.stdout, r.stderr);
      return r;
    };
    // Given three ways: PGPASSWORD, ${env:…} in the URL, and (discouraged) the URL itself.
    const inUrl = url.replace('spark_test@', `spark_test:${encodeURIComponent(password)}@`);
    const withEnvRef = url.replace('spark_test@', 'spark_test:${env:TEAM_DB_PW}@');
    expect(run(['collect', '--path', SAMPLES, '--db', url], { PGPASSWORD: password }).status).toBe(0);
    expect(run(['collect', '--path', SAMPLES, '--db', withEnvRef, '--format', 'json'], { TEAM_DB_PW: password }).status).toBe(0);
    expect(run(['collect', '--path', SAMPLES, '--db', inUrl, '--verbose'], {}).status).toBe(0);
    expect(run(['jobs', '--db', inUrl], {}).status).toBe(0);
    expect(run(['runs', '--db', inUrl, '--format', 'json'], {}).status).toBe(0);
    expect(run(['show', 'app-1', '--db', inUrl], {}).status).not.toBeNull();
    expect(run(['db', 'copy', '--from', inUrl, '--to', path.join(tempDir(), 'x.db')], {}).status).toBe(0);
    const wrong = run(['jobs', '--db', url.replace('spark_test@', 'spark_test:not-it@')], {});
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toMatch(/password authentication failed/);
    const none = run(['jobs', '--db', url], { PGPASSWORD: '', HOME: tempDir() });
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/asks for a password and none was found/);
    expect(outputs.join('\n')).toContain('postgres://spark_test@127.0.0.1');
    expect(outputs.join('\n')).not.toContain(password);
    expect(outputs.join('\n')).not.toContain('not-it');
    const tables = await everyTableText(server(), url);
    expect(tables).toContain('"run_id"');
    expect(tables).not.toContain(password);
  });

  it('the password from ~/.pgpass (mode 0600), with nothing in the URL or the environment', async () => {
    const url = await newDatabase(server());
    const home = tempDir();
    const port = new URL(url).port;
    writeFileSync(path.join(home, '.pgpass'), `127.0.0.1:${port}:*:spark_test:${server().password.replace(/[:\\]/g, (c) => `\\${c}`)}\n`, { mode: 0o600 });
    const r = cli(['collect', '--path', SAMPLES, '--db', url], { HOME: home, PGPASSWORD: '' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/8 new/);
    expect(`${r.stdout}${r.stderr}`).not.toContain(server().password);
  });
});
