/**
 * The CLI's entry (src/cli/launcher.ts, dist/cli.js) runs the bundle with a V8 code cache, one file
 * per kind of run (issue #12, start-up). Needs `npm run build`. What it saves is measured by
 * scripts/benchStartup.ts, not here: these check that a cache is made, used, remade and never needed.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : NaN;
      if (Number.isNaN(code)) return reject(err ?? new Error('no exit code'));
      resolve({ code, stdout, stderr });
    });
  });
}

/** The cache files in `folder`, by kind (the name's second part). */
function caches(folder: string): Record<string, string> {
  if (!existsSync(folder)) return {};
  return Object.fromEntries(readdirSync(folder).map((name) => [/^cli-([a-z]+)-[0-9a-f]{16}-\d+-v[\d.]+-\w+\.v8cache$/.exec(name)?.[1] ?? name, path.join(folder, name)]));
}

function logs(dir: string): string {
  const folder = path.join(dir, 'logs');
  mkdirSync(folder);
  for (const appId of ['app-20240101000000-0001', 'app-20240101000000-0002']) writeFileSync(path.join(folder, appId), eventLogText({ appId, stages: 2, tasksPerStage: 4 }).text);
  return folder;
}

describe('the CLI compile cache', () => {
  it('a run that succeeded leaves its kind a cache, which the next run uses as it is, with the same output', async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
    const log = path.join(logs(dir), 'app-20240101000000-0001');
    const first = await run(['validate', log], dir, env);
    expect(first.code).toBe(0);
    const file = caches(cache).validate!;
    const made = statSync(file);
    const again = await run(['validate', log], dir, env);
    expect(again).toEqual(first);
    const after = statSync(file);
    expect([after.ino, after.mtimeMs]).toEqual([made.ino, made.mtimeMs]);
    expect(made.mode & 0o777).toBe(0o600);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
  });

  it('each command has a cache of its own, help one and the rest (--version) one; a failed run makes none', async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
    const folder = logs(dir);
    expect((await run(['bogus'], dir, env)).code).toBe(2);
    expect((await run(['collect', '--no-such-flag'], dir, env)).code).toBe(2);
    expect((await run(['jobs', '--db', path.join(dir, 'none.db')], dir, env)).code).toBe(1);
    expect(caches(cache)).toEqual({});
    for (const args of [['--version'], ['collect', '--help'], ['collect', '--source', 'event-logs', '--path', folder, '--db', path.join(dir, 'jobs.db')], ['jobs', '--db', path.join(dir, 'jobs.db')]]) {
      expect((await run(args, dir, env)).code, args.join(' ')).toBe(0);
    }
    expect(Object.keys(caches(cache)).sort()).toEqual(['collect', 'help', 'jobs', 'other']);
  });

  it('output is the same with a cache as without one', async () => {
    const dir = tempDir();
    const folder = logs(dir);
    const args = ['collect', '--source', 'event-logs', '--path', folder, '--dry-run', '--format', 'json'];
    const without = await run(args, dir, { SPARK_OPTIMIZER_COMPILE_CACHE: '0' });
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: path.join(dir, 'cache') };
    const making = await run(args, dir, env);
    const using = await run(args, dir, env);
    expect(without.code).toBe(0);
    expect(without.stdout.split('\n').length).toBeGreaterThan(2);
    expect(making.stdout).toBe(without.stdout);
    expect(using.stdout).toBe(without.stdout);
  });

  it('a damaged cache is refused by V8, the run goes on without it, and the cache is made again', async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
    const first = await run(['--version'], dir, env);
    const file = caches(cache).other!;
    const size = statSync(file).size;
    writeFileSync(file, Buffer.alloc(size, 0x5a));
    const again = await run(['--version'], dir, env);
    expect(again).toEqual(first);
    expect(readFileSync(file).subarray(0, 64).equals(Buffer.alloc(64, 0x5a))).toBe(false);
  });

  // XDG_CACHE_HOME is the Linux (and BSD) rule; macOS and Windows have folders of their own.
  it.skipIf(process.platform === 'darwin' || process.platform === 'win32')('goes in the user cache folder (XDG_CACHE_HOME), and nowhere with SPARK_OPTIMIZER_COMPILE_CACHE=0', async () => {
    const dir = tempDir();
    const xdg = path.join(dir, 'xdg');
    const env = { XDG_CACHE_HOME: xdg, SPARK_OPTIMIZER_COMPILE_CACHE: '' };
    expect((await run(['--version'], dir, { ...env, SPARK_OPTIMIZER_COMPILE_CACHE: '0' })).code).toBe(0);
    expect(existsSync(xdg)).toBe(false);
    expect((await run(['--version'], dir, env)).code).toBe(0);
    expect(Object.keys(caches(path.join(xdg, 'spark-optimizer')))).toEqual(['other']);
  });
});
