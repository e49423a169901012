/**
 * `spark-optimizer db copy` killed with SIGKILL part way (a review): no Ctrl+C handler runs, so
 * what is left is what the destination had committed. A PostgreSQL destination holds whole pages
 * (each page is one transaction), the records each as in the source; a file destination holds what
 * its last save wrote and stays readable. Copying again finishes: no record lost, none twice.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../src/storage/jobStore';
import { openStore } from '../src/storage/store';
import { describePostgres, newDatabase } from './support/postgres';
import { manyRecords } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');
const N = 20_000;

async function source(): Promise<string> {
  const file = path.join(tempDir(), 'from.db');
  const s = await JobStore.open(file);
  for (let i = 0; i < N; i += 1000) s.upsert(manyRecords(1000, i));
  await s.save();
  s.close();
  return file;
}

/** `db copy` in pages of `page`, SIGKILLed once it has said how far it got; its output. */
function copyKilled(from: string, to: string, page: number, env: Record<string, string>): Promise<string> {
  const child = spawn(process.execPath, [CLI, 'db', 'copy', '--from', from, '--to', to, '--batch-size', String(page)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let killed = false;
  const take = (d: string): void => {
    out += d;
    if (!killed && out.includes('copied ')) killed = child.kill('SIGKILL');
  };
  child.stdout.setEncoding('utf8').on('data', take);
  child.stderr.setEncoding('utf8').on('data', take);
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve(`${String(signal)}\n${out}`)));
}

function copy(from: string, to: string, env: Record<string, string>): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [CLI, 'db', 'copy', '--from', from, '--to', to], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describePostgres('db copy into PostgreSQL, killed with SIGKILL', (server) => {
  it('leaves whole pages, each record as in the source; copying again finishes with none lost or doubled', { timeout: 180_000 }, async () => {
    const from = await source();
    const url = await newDatabase(server());
    const env = { PGPASSWORD: server().password };
    // Pages of 3: the copy is still going when its first progress line comes (after 2 s).
    const said = await copyKilled(from, url, 3, env);
    expect(said.startsWith('SIGKILL\n'), said).toBe(true);
    const store = await openStore(url, process.cwd(), { password: server().password });
    const original = await JobStore.open(from);
    try {
      const kept = store.count();
      expect(kept).toBeGreaterThan(0);
      expect(kept).toBeLessThan(N);
      expect(kept % 3).toBe(0);
      expect(store.list({ sort: 'app_id', descending: false, limit: N })).toEqual(original.list({ sort: 'app_id', descending: false, limit: kept }));
      const again = await copy(from, url, env);
      expect(again.code, again.err).toBe(0);
      expect(again.out).toMatch(new RegExp(`^${N - kept} new, 0 updated, ${kept} unchanged`));
      expect(store.count()).toBe(N);
      expect(again.out + again.err + said).not.toContain(server().password);
    } finally {
      store.close();
      original.close();
    }
  });
});

describe('db copy into a file, killed with SIGKILL', () => {
  it('leaves a readable file holding a prefix of the records; copying again finishes with none lost or doubled', { timeout: 180_000 }, async () => {
    const from = await source();
    const to = path.join(tempDir(), 'to.db');
    const said = await copyKilled(from, to, 1, {});
    expect(said.startsWith('SIGKILL\n'), said).toBe(true);
    const original = await JobStore.open(from);
    try {
      const copy1 = await JobStore.open(to).catch(() => null);
      // Killed before its first save: no file yet, or an empty one.
      const kept = copy1?.count() ?? 0;
      expect(copy1?.warnings ?? []).toEqual([]);
      if (copy1) expect(copy1.list({ sort: 'app_id', descending: false, limit: N })).toEqual(original.list({ sort: 'app_id', descending: false, limit: kept }));
      copy1?.close();
      const again = await copy(from, to, {});
      expect(again.code, again.err).toBe(0);
      expect(again.out).toMatch(new RegExp(`^${N - kept} new, 0 updated, ${kept} unchanged`));
    } finally {
      original.close();
    }
  });
});
