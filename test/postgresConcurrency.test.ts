/**
 * Team scale (issue 17): several collector processes (the built CLI) on overlapping sets of logs into
 * one PostgreSQL. Without a lock they must converge: the union of what they read, exactly, each
 * application once and as one collection of every log would store it. And a collector killed with
 * SIGKILL at a random moment leaves no partial batch (a record without its files, files without
 * their record) and loses nothing stored before.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import { expect, it } from 'vitest';
import { openStore } from '../src/storage/store';
import { eventLogText } from './support/eventLogGenerator';
import { makeRecord } from './support/records';
import { clientConfig, describePostgres, newDatabase, type PgServer } from './support/postgres';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');

/** Writes app `n` (a small log) into each folder given. */
function writeApp(n: number, dirs: readonly string[]): string {
  const appId = `app-20240601000000-${String(n).padStart(4, '0')}`;
  const { text } = eventLogText({ appId, appName: `job-${n % 7}`, seed: n + 1, stages: 2, tasksPerStage: 4, executors: 2, startMs: Date.UTC(2024, 5, 1) + n * 60_000 });
  for (const d of dirs) writeFileSync(path.join(d, appId), text);
  return appId;
}

function collector(dir: string, url: string, password: string, extra: string[] = []): ChildProcess {
  // The password reaches the child through its environment only, as a cron job's would.
  return spawn(process.execPath, [CLI, 'collect', '--path', dir, '--db', url, '--batch-size', '2', '--concurrency', '1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PGPASSWORD: password },
  });
}

function finished(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout!.resume();
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stderr })));
}

async function query<T = Record<string, unknown>>(server: PgServer, url: string, sql: string): Promise<T[]> {
  const c = new Client(clientConfig(server, url));
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end();
  }
}

/** Every stored record (as `jobs --format json` prints them), sorted. */
function jobs(db: string, password?: string): string[] {
  const r = spawnSync(process.execPath, [CLI, 'jobs', '--db', db, '--format', 'json', '--limit', '100000'], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...(password === undefined ? {} : { PGPASSWORD: password }) },
  });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split('\n').filter(Boolean).sort();
}

/** No partial batch: every application has its files, every file of an application its record. */
async function expectWholeBatches(server: PgServer, url: string): Promise<void> {
  const orphanApps = await query(server, url, 'SELECT a.app_id FROM applications a WHERE NOT EXISTS (SELECT 1 FROM ingested_files f WHERE f.app_id = a.app_id AND f.attempt_key = a.attempt_key)');
  const orphanFiles = await query(server, url, 'SELECT f.path FROM ingested_files f WHERE f.app_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.app_id = f.app_id AND a.attempt_key = f.attempt_key)');
  expect(orphanApps).toEqual([]);
  expect(orphanFiles).toEqual([]);
}

describePostgres('collectors on several hosts into one PostgreSQL', (server) => {
  it('four collectors over overlapping log sets: the union, exactly, each application once, as one collection of all stores it', { timeout: 120_000 }, async () => {
    const root = tempDir();
    const dirs = [0, 1, 2, 3].map((k) => path.join(root, `host${k}`));
    for (const d of dirs) mkdirSync(d);
    // App n goes to hosts n%4 and (n+1)%4, and every fifth to all of them: each log read 2-4 times.
    const ids: string[] = [];
    for (let n = 0; n < 48; n++) ids.push(writeApp(n, n % 5 === 0 ? dirs : [dirs[n % 4]!, dirs[(n + 1) % 4]!]));
    const all = path.join(root, 'all');
    mkdirSync(all);
    for (let n = 0; n < 48; n++) writeApp(n, [all]);

    const url = await newDatabase(server());
    const runs = await Promise.all(dirs.map((d) => finished(collector(d, url, server().password))));
    for (const r of runs) expect(r.code, r.stderr).toBe(0);

    const rows = await query<{ app_id: string; n: number }>(server(), url, 'SELECT app_id, COUNT(*)::int AS n FROM applications GROUP BY app_id');
    expect(rows.map((r) => r.app_id).sort()).toEqual([...ids].sort());
    expect(rows.every((r) => r.n === 1)).toBe(true);
    // Record for record what one collection of every log into the embedded file stores.
    const file = path.join(root, 'one.db');
    expect(spawnSync(process.execPath, [CLI, 'collect', '--path', all, '--db', file], { encoding: 'utf8' }).status).toBe(0);
    expect(jobs(url, server().password)).toEqual(jobs(file));
    await expectWholeBatches(server(), url);
  });

  it('a collector killed with SIGKILL at a random moment, 24 rounds: no partial batch, nothing stored before lost, the union once all finish', { timeout: 300_000 }, async () => {
    const root = tempDir();
    const url = await newDatabase(server());
    // Made (migrated) by a first collection, of nothing (a command that only reads migrates nothing).
    const made = spawnSync(process.execPath, [CLI, 'collect', '--source', 'event-logs', '--path', tempDir(), '--db', url], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, PGPASSWORD: server().password } });
    expect(made.status, made.stderr).toBe(0);
    expect(jobs(url, server().password)).toEqual([]);
    const dirs = [0, 1, 2, 3].map((k) => path.join(root, `host${k}`));
    for (const d of dirs) mkdirSync(d);
    const expected = new Set<string>();
    let seed = 1;
    const random = (): number => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
    let kills = 0;
    for (let round = 0; round < 24; round++) {
      // New logs this round, each on two hosts; the earlier ones stay.
      for (let i = 0; i < 12; i++) {
        const n = round * 12 + i;
        expected.add(writeApp(n, [dirs[n % 4]!, dirs[(n + 1 + round) % 4]!]));
      }
      const before = await query<{ app_id: string; record_hash: string }>(server(), url, 'SELECT app_id, record_hash FROM applications ORDER BY app_id');
      const victim = Math.floor(random() * 4);
      const children = dirs.map((d) => collector(d, url, server().password));
      const ends = children.map(finished);
      await new Promise((resolve) => setTimeout(resolve, 50 + random() * 400));
      children[victim]!.kill('SIGKILL');
      const results = await Promise.all(ends);
      // Killed before it finished (not after): it was reading or writing.
      if (results[victim]!.signal === 'SIGKILL') kills++;
      results.forEach((r, k) => {
        if (k !== victim) expect(r.code, r.stderr).toBe(0);
      });
      await expectWholeBatches(server(), url);
      // Nothing stored before this round is lost or changed.
      const after = new Map((await query<{ app_id: string; record_hash: string }>(server(), url, 'SELECT app_id, record_hash FROM applications')).map((r) => [r.app_id, r.record_hash]));
      for (const b of before) expect(after.get(b.app_id)).toBe(b.record_hash);
    }
    expect(kills).toBeGreaterThanOrEqual(20);
    // The killed collectors' share, run again: the union of everything, each once.
    const again = await Promise.all(dirs.map((d) => finished(collector(d, url, server().password))));
    for (const r of again) expect(r.code, r.stderr).toBe(0);
    const rows = await query<{ app_id: string }>(server(), url, 'SELECT app_id FROM applications ORDER BY app_id');
    expect(rows.map((r) => r.app_id)).toEqual([...expected].sort());
    await expectWholeBatches(server(), url);
  });

  it('a batch whose files cannot be stored stores none of its records either (one transaction)', async () => {
    const url = await newDatabase(server());
    const store = await openStore(url, process.cwd(), { password: server().password });
    try {
      const file = { path: '/logs/a', unit_path: '/logs/a', size: 1, mtime_ms: 1, codec: null as unknown as string, app_id: 'app-1', attempt_id: null, status: 'ok' as const };
      expect(() => store.storeBatch([makeRecord()], [file])).toThrow(/codec/);
      expect(store.count()).toBe(0);
      expect(store.storeBatch([makeRecord()], [{ ...file, codec: 'none' }])).toEqual({ new: 1, updated: 0, unchanged: 0 });
      expect(store.count()).toBe(1);
      expect(store.ingestedFiles().map((f) => f.path)).toEqual(['/logs/a']);
    } finally {
      store.close();
    }
  });
});
