/**
 * The CLI's entry (src/cli/launcher.ts, dist/cli.js) runs the bundle with a V8 code cache, one file
 * per kind of run (issue #12, start-up). Needs `npm run build`. What it saves is measured by
 * scripts/benchStartup.ts, not here: these check that a cache is made, used, remade and never needed.
 */
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';
import { skippedHere } from './support/skip';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  return runWith(CLI, args, cwd, env);
}

function runWith(cli: string, args: string[], cwd: string, env: Record<string, string>): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [cli, ...args], { cwd, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      // A run stopped by a signal (V8 reading a damaged cache: SIGTRAP) counts as 128 + its number, as a shell says.
      const signal = err?.signal ? constants.signals[err.signal] : undefined;
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : signal !== undefined ? 128 + signal : NaN;
      if (Number.isNaN(code)) return reject(err ?? new Error('no exit code'));
      resolve({ code, stdout, stderr });
    });
  });
}

/** The cache files in `folder`, by kind (the name's second part). */
function caches(folder: string): Record<string, string> {
  if (!existsSync(folder)) return {};
  return Object.fromEntries(readdirSync(folder).map((name) => [/^cli-([a-z]+)-[0-9a-f]{16}-\d+-v[\d.]+-\w+?(-o[0-9a-f]{8})?\.v8cache$/.exec(name)?.[1] ?? name, path.join(folder, name)]));
}

function logs(dir: string): string {
  const folder = path.join(dir, 'logs');
  mkdirSync(folder);
  for (const appId of ['app-20240101000000-0001', 'app-20240101000000-0002']) writeFileSync(path.join(folder, appId), eventLogText({ appId, stages: 2, tasksPerStage: 4 }).text);
  return folder;
}

/** A new folder with a cache folder in it, and the `--version` run that made its cache (`file`). */
async function versionCache(): Promise<{ dir: string; cache: string; env: Record<string, string>; first: Ran; file: string }> {
  const dir = tempDir();
  const cache = path.join(dir, 'cache');
  const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
  const first = await run(['--version'], dir, env);
  return { dir, cache, env, first, file: caches(cache).other! };
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

  it('a damaged cache: a broken header is refused, a broken body crashes V8 once and is dropped by the next run; the cache is made again', async () => {
    const { dir, env, first, file } = await versionCache();
    const good = readFileSync(file);
    // A header destroyed: refused, the run goes on without the cache and makes it again.
    writeFileSync(file, Buffer.alloc(good.length, 0x5a));
    expect(await run(['--version'], dir, env)).toEqual(first);
    expect(readFileSync(file).subarray(0, 8).toString('latin1')).toBe('SOCC0002');
    // Bytes flipped past the header: V8 checks only its own header, and its deserializer stops the
    // process (SIGTRAP) before it can exit 0. Before the LOADING mark, every later run did the same.
    const body = Buffer.from(readFileSync(file));
    for (let i = 1000; i < body.length; i += 97) body[i] = body[i]! ^ 0xff;
    writeFileSync(file, body);
    const crashed = await run(['--version'], dir, env);
    if (crashed.code !== 0) expect(existsSync(`${file}.loading`)).toBe(true);
    expect(await run(['--version'], dir, env)).toEqual(first);
    expect(existsSync(`${file}.loading`)).toBe(false);
    // The cache made again is used as it is.
    const made = statSync(file);
    expect(readFileSync(file).equals(body)).toBe(false);
    expect(await run(['--version'], dir, env)).toEqual(first);
    expect(statSync(file).ino).toBe(made.ino);
  });

  it('a cache is only read from and written to a folder of this user that no one else can write, given as an absolute path', async () => {
    const { dir, cache, env, first, file } = await versionCache();
    const made = statSync(file);
    // Writable by others: neither used nor remade.
    chmodSync(cache, 0o777);
    expect(await run(['--version'], dir, env)).toEqual(first);
    chmodSync(cache, 0o700);
    expect(statSync(file).ino).toBe(made.ino);
    rmSync(file);
    chmodSync(cache, 0o770);
    expect(await run(['--version'], dir, env)).toEqual(first);
    expect(caches(cache)).toEqual({});
    // A relative folder (one a checked-out repository could hold): none.
    expect(await run(['--version'], dir, { SPARK_OPTIMIZER_COMPILE_CACHE: 'relative-cache' })).toEqual(first);
    expect(existsSync(path.join(dir, 'relative-cache'))).toBe(false);
  });

  it('a bundle changed after its entry was built makes no cache, and one made for another bundle is not used', async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
    // A copy of dist/ whose bundle prints another version, in as many bytes.
    const copy = path.join(dir, 'dist');
    cpSync(path.dirname(CLI), copy, { recursive: true });
    const bundle = path.join(copy, 'cliMain.js');
    const text = readFileSync(bundle, 'latin1');
    const changed = text.replace('spark-optimizer ${', 'SPARK-OPTIMIZER ${');
    expect(changed).not.toBe(text);
    writeFileSync(bundle, changed, 'latin1');
    const ranCopy = await runWith(path.join(copy, 'cli.js'), ['--version'], dir, env);
    expect(ranCopy.stdout).toMatch(/^SPARK-OPTIMIZER /);
    expect(caches(cache)).toEqual({});
    // A file in the cache's place made for that bundle (another hash in its header) is refused.
    const genuine = await run(['--version'], dir, env);
    const file = caches(cache).other!;
    const planted = readFileSync(file);
    planted.write('0123456789abcdef', 8, 'latin1');
    writeFileSync(file, planted);
    expect(await run(['--version'], dir, env)).toEqual(genuine);
    expect(readFileSync(file).equals(planted)).toBe(false);
  });

  it("old caches of other builds are removed when a cache is written, never this build's", async () => {
    const dir = tempDir();
    const cache = path.join(dir, 'cache');
    const env = { SPARK_OPTIMIZER_COMPILE_CACHE: cache };
    await run(['--version'], dir, env);
    const mine = caches(cache).other!;
    const old = new Date(Date.now() - 40 * 24 * 3600 * 1000);
    utimesSync(mine, old, old);
    const foreign = path.join(cache, 'cli-jobs-0000000000000000-1-v0.0.0-x64.v8cache');
    writeFileSync(foreign, 'x', { mode: 0o600 });
    utimesSync(foreign, old, old);
    // Writing the help cache sweeps: the other build's old file goes, this build's old one stays.
    await run(['--help'], dir, env);
    expect(existsSync(foreign)).toBe(false);
    expect(existsSync(mine)).toBe(true);
  });

  // XDG_CACHE_HOME is the Linux (and BSD) rule; macOS and Windows have folders of their own.
  it.skipIf(skippedHere(process.platform === 'darwin' || process.platform === 'win32', `NOT RUN on ${process.platform}: XDG_CACHE_HOME is the Linux and BSD rule`))('goes in the user cache folder (XDG_CACHE_HOME), and nowhere with SPARK_OPTIMIZER_COMPILE_CACHE=0', async () => {
    const dir = tempDir();
    const xdg = path.join(dir, 'xdg');
    const env = { XDG_CACHE_HOME: xdg, SPARK_OPTIMIZER_COMPILE_CACHE: '' };
    expect((await run(['--version'], dir, { ...env, SPARK_OPTIMIZER_COMPILE_CACHE: '0' })).code).toBe(0);
    expect(existsSync(xdg)).toBe(false);
    expect((await run(['--version'], dir, env)).code).toBe(0);
    expect(Object.keys(caches(path.join(xdg, 'spark-optimizer')))).toEqual(['other']);
  });
});
