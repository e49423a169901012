import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../src/storage/jobStore';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

function waitForOutput(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer): void => {
      seen += d.toString();
      if (pattern.test(seen)) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', () => reject(new Error(`child exited before printing ${pattern}: ${seen.slice(-500)}`)));
  });
}

describe('durability', () => {
  it('a writer killed (SIGKILL) at random points never leaves an unreadable database or loses a saved record', async () => {
    const dir = tempDir();
    const script = path.join(dir, 'saveLoop.js');
    await build({ entryPoints: [path.join(__dirname, 'support', 'saveLoop.ts')], bundle: true, platform: 'node', outfile: script, logLevel: 'error' });
    copyFileSync(path.resolve(__dirname, '..', 'dist', 'sql-wasm.wasm'), path.join(dir, 'sql-wasm.wasm'));
    const db = path.join(dir, 'jobs.db');
    let lastSaved = -1;
    for (let round = 0; round < 12; round++) {
      const start = lastSaved + 1;
      const child = spawn(process.execPath, [script, db, String(start)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      await waitForOutput(child, /saved \d+/);
      // Kill somewhere inside a later save: after 0-400 ms of continuous saving.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 400)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const saved = [...out.matchAll(/saved (\d+)/g)].map((m) => Number(m[1]));
      lastSaved = Math.max(lastSaved, ...saved);
      const store = await JobStore.open(db);
      expect(store.warnings).toEqual([]);
      for (let n = 0; n <= lastSaved; n++) expect(store.get({ app_id: `app-${n}-199`, attempt_id: null }), `batch ${n} after round ${round}`).toBeDefined();
      expect(store.count()).toBeGreaterThanOrEqual((lastSaved + 1) * 200);
      store.close();
    }
    expect(lastSaved).toBeGreaterThan(12);
  }, 120_000);

  it('two processes collecting different logs into one database at the same time end with the union', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    for (const side of ['a', 'b']) {
      mkdirSync(path.join(dir, side));
      for (let i = 0; i < 6; i++) writeFileSync(path.join(dir, side, `app-${side}${i}`), eventLogText({ appId: `app-${side}${i}`, stages: 2, tasksPerStage: 50 }).text);
    }
    for (let round = 0; round < 3; round++) {
      const run = (side: string): Promise<number | null> =>
        new Promise((resolve) => {
          const child = spawn(process.execPath, [CLI, 'collect', '--source', 'event-logs', '--path', path.join(dir, side), '--db', db, '--batch-size', '1'], { stdio: 'ignore' });
          child.once('exit', resolve);
        });
      expect(await Promise.all([run('a'), run('b')])).toEqual([0, 0]);
    }
    const store = await JobStore.open(db);
    expect(store.list().map((r) => r.app_id).sort()).toEqual([...['a', 'b'].flatMap((s) => Array.from({ length: 6 }, (_, i) => `app-${s}${i}`))].sort());
    expect(store.listRuns()).toHaveLength(6);
    store.close();
  }, 60_000);
});

describe('collect into the database', () => {
  const collect = (...args: string[]): { code: number | null; stdout: string; stderr: string } => {
    const r = spawnSync(process.execPath, [CLI, 'collect', '--source', 'event-logs', ...args], { encoding: 'utf8', timeout: 60_000 });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };

  it('is idempotent and incremental: the second run is all unchanged, a grown log alone is read again', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    for (let i = 0; i < 3; i++) writeFileSync(path.join(logs, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 2, tasksPerStage: 5 }).text);
    const db = path.join(dir, 'jobs.db');
    expect(collect('--path', logs, '--db', db).stdout).toMatch(/3 new, 0 updated, 0 unchanged, 0 skipped, 0 failed/);
    expect(collect('--path', logs, '--db', db).stdout).toMatch(/0 new, 0 updated, 3 unchanged, 0 skipped, 0 failed/);

    // The running app grows and then finishes: Spark renames app.inprogress to app when done.
    const running = eventLogText({ appId: 'app-live', running: true, stages: 2, tasksPerStage: 5 });
    writeFileSync(path.join(logs, 'app-live.inprogress'), running.text);
    expect(collect('--path', logs, '--db', db).stdout).toMatch(/1 new, 0 updated, 3 unchanged/);
    const finished = eventLogText({ appId: 'app-live', stages: 3, tasksPerStage: 5 });
    writeFileSync(path.join(logs, 'app-live.inprogress'), finished.text);
    expect(collect('--path', logs, '--db', db).stdout).toMatch(/0 new, 1 updated, 3 unchanged/);

    const store = await JobStore.open(db);
    expect(store.getByAppId('app-live')).toEqual([expect.objectContaining({ status: 'completed', total_tasks: finished.totals.total_tasks })]);
    expect(store.count()).toBe(4);
    const runs = store.listRuns();
    expect(runs).toHaveLength(4);
    expect(runs[0]).toMatchObject({ seen: 4, new: 0, updated: 1, unchanged: 3, failed: 0 });
    store.close();

    // jobs lists what is stored, as JSON lines with the record's keys.
    const jobs = spawnSync(process.execPath, [CLI, 'jobs', '--db', db, '--format', 'json'], { encoding: 'utf8' });
    expect(jobs.status).toBe(0);
    expect(jobs.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { app_id: string }).app_id).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-live']);
  });

  it('collects the sources of a config file, all or one by name', async () => {
    const dir = tempDir();
    for (const d of ['nightly', 'adhoc']) {
      mkdirSync(path.join(dir, d));
      writeFileSync(path.join(dir, d, `app-${d}`), eventLogText({ appId: `app-${d}` }).text);
    }
    writeFileSync(
      path.join(dir, 'spark-optimizer.yaml'),
      ['sources:', '  - name: nightly', '    type: event_log', '    path: nightly', '  - name: adhoc', '    type: event_log', '    path: adhoc', '    batch_size: 10', ''].join('\n'),
    );
    const db = path.join(dir, 'jobs.db');
    const cfg = path.join(dir, 'spark-optimizer.yaml');
    const one = spawnSync(process.execPath, [CLI, 'collect', '--config', cfg, '--name', 'adhoc', '--db', db], { encoding: 'utf8' });
    expect(one.status).toBe(0);
    expect(one.stdout).toMatch(/1 new/);
    const all = spawnSync(process.execPath, [CLI, 'collect', '--config', cfg, '--db', db], { encoding: 'utf8' });
    expect(all.stdout).toMatch(/1 new, 0 updated, 1 unchanged/);
    const store = await JobStore.open(db);
    expect(store.list().map((r) => [r.app_id, r.source]).sort()).toEqual([
      ['app-adhoc', 'adhoc'],
      ['app-nightly', 'nightly'],
    ]);
    store.close();

    writeFileSync(cfg, ['collector:', '  type: event_log', '  pathh: nightly', ''].join('\n'));
    const bad = spawnSync(process.execPath, [CLI, 'collect', '--config', cfg, '--db', db], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/spark-optimizer\.yaml:\d+: .*pathh/);
  });
});
