/**
 * Start-up (issue #12): the built CLI, collection worker and extension do not carry the API
 * collectors' HTTP stacks (undici, the AWS SDK, google-auth-library); those are files of their own,
 * loaded when a source of theirs runs (test/cloudCli.test.ts runs them end to end). Needs
 * `npm run build` (as `npm test` does). Speed is measured by scripts/benchStartup.ts, not here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const DIST = path.resolve(__dirname, '..', 'dist');

// esbuild writes each bundled file's path as a comment (the build does not minify).
const HTTP_STACKS = ['node_modules/undici/', 'node_modules/@aws-sdk/', 'node_modules/@smithy/', 'node_modules/google-auth-library/', 'node_modules/gaxios/'];

function bundledStacks(file: string): string[] {
  const text = readFileSync(path.join(DIST, file), 'utf8');
  return HTTP_STACKS.filter((s) => text.includes(s));
}

interface Loaded {
  /** Files `require`d, as paths relative to dist/ when they are in it. */
  files: string[];
  /** Node's built-in modules that were loaded. */
  builtins: string[];
}

/** Runs the built CLI and reports what its process loaded by the time it exited. */
function runCli(args: string[], cwd: string): Promise<Loaded> {
  const out = path.join(cwd, 'loaded.json');
  const preload = path.join(cwd, 'preload.js');
  writeFileSync(
    preload,
    `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ files: Object.keys(require.cache), builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)) })));`,
  );
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--require', preload, path.join(DIST, 'cli.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000 }, (err, _stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const loaded = JSON.parse(readFileSync(out, 'utf8')) as Loaded;
      resolve({ files: loaded.files.filter((f) => f !== preload).map((f) => path.relative(DIST, f)), builtins: loaded.builtins });
    });
  });
}

// Not `net`: a piped stdout is a net.Socket.
const NETWORK = ['http', 'https', 'http2', 'tls'];

describe('start-up', () => {
  it('the CLI (its entry and its bundle), the collection worker and the extension bundles leave the HTTP stacks to the API collector files', () => {
    expect(bundledStacks('cli.js')).toEqual([]);
    expect(bundledStacks('cliMain.js')).toEqual([]);
    expect(bundledStacks('collectWorker.js')).toEqual([]);
    expect(bundledStacks('extension.js')).toEqual([]);
    expect(bundledStacks('historyServerCollector.js')).toContain('node_modules/undici/');
    expect(bundledStacks('emrCollector.js')).toContain('node_modules/@aws-sdk/');
    expect(bundledStacks('databricksCollector.js')).toContain('node_modules/undici/');
    expect(bundledStacks('dataprocCollector.js')).toContain('node_modules/google-auth-library/');
  });

  it('--help, validate, collect --source event-logs and jobs load no API collector, no network module and no worker thread', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    for (const appId of ['app-20240101000000-0001', 'app-20240101000000-0002']) writeFileSync(path.join(logs, appId), eventLogText({ appId, stages: 2, tasksPerStage: 4 }).text);
    const runs = [
      ['--help'],
      ['validate', path.join(logs, 'app-20240101000000-0001')],
      ['collect', '--source', 'event-logs', '--path', logs, '--db', 'jobs.db'],
      ['jobs', '--db', 'jobs.db'],
    ];
    for (const args of runs) {
      const loaded = await runCli(args, dir);
      expect(loaded.files, args.join(' ')).toEqual(['cli.js']);
      expect(loaded.builtins.filter((m) => NETWORK.includes(m)), args.join(' ')).toEqual([]);
      // A file database: no PostgreSQL connection thread (pgWorker.js, which holds pg) and, for a few logs, no pool.
      expect(loaded.builtins, args.join(' ')).not.toContain('worker_threads');
    }
  });
});
