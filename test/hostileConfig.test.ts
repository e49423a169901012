/**
 * Issue #13, items 9 and 10: configs of many sources cost one save and one read of the known files
 * per run, not per source; and the messages of a hostile config, a stopped run or a failing disk say
 * which file, line or field, and what was (not) stored.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { analyzeConfig } from '../src/analysis/configAnalyzer';
import { main } from '../src/cli/main';
import type { Io } from '../src/cli/io';
import { TOO_DEEP, parseConfig, type SourceConfig } from '../src/collectors/config';
import { formatBytes, visible } from '../src/common/format';
import { SaveSchedule } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import { SqlJsRepository } from '../src/storage/repository';
import { CollectionController } from '../src/views/collection';
import type { DatabaseService } from '../src/views/database';
import { eventLogText } from './support/eventLogGenerator';
import { listenLocal } from './support/localServer';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

/** fs/promises as the storage code sees it, with `open` replaceable per test (tests run as root: EACCES and a full disk cannot be made for real). */
const fsHook = vi.hoisted(() => ({ open: undefined as undefined | ((real: typeof fsPromises.open, file: string, flags?: string | number) => Promise<fsPromises.FileHandle>) }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsPromises>();
  const open = ((file: string, flags?: string | number, mode?: number) => (fsHook.open ? fsHook.open(real.open, file, flags) : real.open(file, flags, mode))) as typeof real.open;
  return { ...real, default: { ...real, open }, open };
});
// The editor's collection runs under a progress notification; the shared fake has no `window`.
vi.mock('vscode', async (importOriginal) => ({
  ...(await importOriginal<object>()),
  ProgressLocation: { Window: 10, Notification: 15 },
  window: {
    withProgress: <T>(_options: unknown, task: (progress: { report(): void }, token: { isCancellationRequested: boolean; onCancellationRequested(): { dispose(): void } }) => Promise<T>): Promise<T> =>
      task({ report: () => undefined }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) }),
    showInformationMessage: () => Promise.resolve(undefined),
    showWarningMessage: () => Promise.resolve(undefined),
    showErrorMessage: () => Promise.resolve(undefined),
  },
}));
afterEach(() => {
  fsHook.open = undefined;
  vi.restoreAllMocks();
});

function captureIo(cwd: string): Io & { outText: () => string; errText: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd, outText: () => out.join('\n'), errText: () => err.join('\n') };
}

/** `n` event_log sources, each a folder with one small log; returns the config file. */
function manySources(dir: string, n: number): string {
  const lines = ['sources:'];
  for (let i = 0; i < n; i++) {
    mkdirSync(path.join(dir, `s${i}`));
    writeFileSync(path.join(dir, `s${i}`, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 1, tasksPerStage: 1 }).text);
    lines.push('  - type: event_log', `    name: s${i}`, `    path: s${i}`);
  }
  const file = path.join(dir, 'spark-optimizer.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function storedRecords(db: string): Promise<number> {
  const store = await JobStore.open(db);
  try {
    return store.count();
  } finally {
    store.close();
  }
}

describe('item 9: a config of many sources', () => {
  it('is saved once per run, not once per source, and every source is stored', async () => {
    const dir = tempDir();
    const config = manySources(dir, 25);
    const db = path.join(dir, 'jobs.db');
    const save = vi.spyOn(JobStore.prototype, 'save');
    const io = captureIo(dir);
    expect(await main(['collect', '--config', config, '--db', db], io)).toBe(0);
    expect(io.outText()).toMatch(/25 new, 0 updated/);
    expect(save).toHaveBeenCalledTimes(1);
    expect(await storedRecords(db)).toBe(25);
  });

  it('the editor saves a run of many sources once, not once per source', async () => {
    const dir = tempDir();
    const sources = Array.from({ length: 6 }, (_, i): { name: string; config: SourceConfig; errors: string[] } => {
      mkdirSync(path.join(dir, `s${i}`));
      writeFileSync(path.join(dir, `s${i}`, `app-${i}`), eventLogText({ appId: `app-${i}` }).text);
      return { name: `s${i}`, config: { type: 'event_log', name: `s${i}`, path: path.join(dir, `s${i}`), recursive: true, batch_size: 100 }, errors: [] };
    });
    const store = await JobStore.open(path.join(dir, 'jobs.db'));
    let saves = 0;
    const db = { open: () => Promise.resolve(store), openForWriting: () => Promise.resolve({ store, release: () => Promise.resolve() }), save: async () => void (saves++, await store.save()), notify: () => undefined } as unknown as DatabaseService;
    const log = { info: () => undefined, warn: () => undefined, error: (m: string) => expect.fail(m), show: () => undefined } as unknown as vscode.LogOutputChannel;
    const secrets = { get: () => Promise.resolve(undefined) } as unknown as vscode.SecretStorage;
    const controller = new CollectionController(path.resolve(__dirname, '..'), db, log, undefined, secrets);
    expect(await controller.run(sources)).toMatchObject({ new: 6, failed: 0 });
    expect(saves).toBe(1);
    store.close();
    expect(await storedRecords(path.join(dir, 'jobs.db'))).toBe(6);
  });

  it('reads the known files once per run, and a second run finds every source unchanged', async () => {
    const dir = tempDir();
    const config = manySources(dir, 25);
    const db = path.join(dir, 'jobs.db');
    expect(await main(['collect', '--config', config, '--db', db], captureIo(dir))).toBe(0);
    const known = vi.spyOn(SqlJsRepository.prototype, 'knownFiles');
    const io = captureIo(dir);
    expect(await main(['collect', '--config', config, '--db', db], io)).toBe(0);
    expect(io.outText()).toMatch(/0 new, 0 updated, 25 unchanged/);
    expect(known).toHaveBeenCalledTimes(1);
  });

  it('two sources over the same folder: the second finds the files the first stored in this run unchanged', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'logs'));
    writeFileSync(path.join(dir, 'logs', 'app-1'), eventLogText({ appId: 'app-1' }).text);
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, 'sources:\n  - type: event_log\n    name: a\n    path: logs\n  - type: event_log\n    name: b\n    path: logs\n');
    const io = captureIo(dir);
    expect(await main(['collect', '--config', config, '--db', path.join(dir, 'jobs.db')], io)).toBe(0);
    expect(io.outText()).toMatch(/1 new, 0 updated, 1 unchanged/);
  });

  it('a save schedule saves when its interval has passed and when flushed, never per call', async () => {
    let now = 0;
    let saved = 0;
    const schedule = new SaveSchedule(() => Promise.resolve(void saved++), 1000, () => now);
    await schedule.due();
    now = 999;
    await schedule.due();
    expect(saved).toBe(0);
    now = 1000;
    await schedule.due();
    await schedule.due();
    expect(saved).toBe(1);
    await schedule.flush();
    expect([saved, schedule.saves]).toEqual([2, 2]);
    const never = new SaveSchedule(() => Promise.resolve(void saved++), 0, () => now);
    now = 1e9;
    await never.due();
    expect(saved).toBe(2);
  });
});

describe('item 10: messages a person can act on', () => {
  it('SIGTERM during collect ends with a cancelled summary and exit 143, keeping the run in the database', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    let requested!: () => void;
    const request = new Promise<void>((resolve) => (requested = resolve));
    const server = await listenLocal(() => requested()); // never answers
    try {
      const child = spawn(process.execPath, [CLI, 'collect', '--source', 'history-server', '--url', server.url, '--db', db], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      await request;
      child.kill('SIGTERM');
      expect(await exited).toBe(143);
      expect(err).not.toMatch(/TypeError|startsWith/);
      expect(out).toMatch(/^Cancelled by SIGTERM: 0 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(stored in .*jobs\.db\)/);
      const store = await JobStore.open(db);
      expect(store.listRuns()[0]!.errors.join('\n')).toMatch(/run stopped/);
      store.close();
    } finally {
      await server.close();
    }
  }, 20_000);

  it('an undefined YAML alias names its line (parser, analyzer and the CLI)', async () => {
    const text = 'sources:\n  - type: event_log\n    path: *logs\n';
    expect(parseConfig(text, '/configs')).toEqual({ sources: [], errors: [{ message: '*logs refers to no anchor: define &logs on the value it stands for, above this line', line: 3, path: [] }] });
    expect(analyzeConfig(text, { baseDir: '/configs' })).toEqual([
      {
        range: { start: { line: 2, character: 10 }, end: { line: 2, character: 15 } },
        severity: 'error',
        code: 'undefined-alias',
        message: '*logs refers to no anchor: define &logs on the value it stands for, above this line.',
      },
    ]);
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, text);
    const io = captureIo(dir);
    expect(await main(['collect', '--config', config, '--dry-run'], io)).toBe(1);
    expect(io.errText()).toContain(`${config}:3: *logs refers to no anchor`);
  });

  it('an alias defined before it is used works, in the editor as in the CLI', () => {
    const { sources, errors } = parseConfig('x: &logs /data/logs\nsources:\n  - type: event_log\n    path: *logs\n', '/configs');
    expect(errors).toEqual([{ message: 'Unrecognized key: "x"', line: 1, path: [] }]);
    expect(sources).toEqual([]);
    const text = 'sources:\n  - type: event_log\n    path: &logs /data/logs\n  - type: event_log\n    path: *logs\n';
    expect(parseConfig(text, '/configs').sources.map((s) => s.type === 'event_log' && s.path)).toEqual(['/data/logs', '/data/logs']);
    expect(analyzeConfig(text, { baseDir: '/configs' })).toEqual([]);
  });

  it('aliases that expand too far (billion laughs) are an error in the editor as in the CLI', () => {
    let text = 'x0: &a0 [x, x, x, x, x, x, x, x, x, x]\n';
    for (let i = 1; i < 5; i++) text += `x${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]\n`;
    text += 'collector:\n  type: event_log\n  path: *a4\n';
    expect(parseConfig(text, '/configs').errors).toEqual([{ message: 'Excessive alias count indicates a resource exhaustion attack; the config was not read', line: 1, path: [] }]);
    expect(analyzeConfig(text, { baseDir: '/configs' }).map((f) => [f.code, f.message])).toEqual([['yaml-aliases', 'Excessive alias count indicates a resource exhaustion attack; the config is not read.']]);
  });

  it('a value nested thousands of levels deep is one error saying so, not a stack overflow', () => {
    const text = `collector:\n  type: event_log\n  path: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`;
    const message = 'a value is nested too deeply to read (the YAML parser ran out of stack): look for a long run of [, { or - here; a config is a few levels deep';
    expect(parseConfig(text, '/configs').errors).toEqual([{ message, line: 3, path: [] }]);
    expect(analyzeConfig(text, { baseDir: '/configs' }).map((f) => [f.code, f.range.start.line, f.message])).toEqual([['yaml-syntax', 2, message]]);
  });

  it('a save that meets a full disk says so, keeps the old database and removes its partial temp file', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    const store = await JobStore.open(db);
    store.upsert([makeRecord({ app_id: 'app-old' })]);
    await store.save();
    const before = readFileSync(db);
    store.upsert(Array.from({ length: 50 }, (_, i) => makeRecord({ app_id: `app-new-${i}` })));
    // Half of the bytes reach the temp file, then the disk is full.
    fsHook.open = async (real, file, flags) => {
      const fh = await real(file, flags);
      if (!file.includes('.tmp-')) return fh;
      return Object.assign(Object.create(fh) as fsPromises.FileHandle, {
        writeFile: async (bytes: Uint8Array) => {
          await fh.write(bytes.subarray(0, bytes.length >> 1));
          throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
        },
        close: () => fh.close(),
        sync: () => fh.sync(),
      });
    };
    const failed = await store.save().then(
      () => null,
      (err: unknown) => err as Error,
    );
    fsHook.open = undefined;
    store.close();
    expect(failed?.message).toMatch(new RegExp(`^saving ${db} \\(writing ${db}\\.tmp-\\d+-\\w+, removed again\\) failed: the disk is full \\(ENOSPC\\)\\. Nothing new was stored: ${db} is intact, as it was before this save\\. Free some space`));
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    expect(readFileSync(db).equals(before)).toBe(true);
    expect(await storedRecords(db)).toBe(1);
  });

  it('a save without permission to write the folder says so and names the folder to fix', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    const store = await JobStore.open(db);
    store.upsert([makeRecord()]);
    fsHook.open = async (real, file, flags) => {
      if (file.includes('.tmp-')) throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES', errno: -13, syscall: 'open' });
      return real(file, flags);
    };
    await expect(store.save()).rejects.toThrow(/failed: permission denied \(EACCES\)\. Nothing new was stored: .*jobs\.db is intact, as it was before this save\. Make the folder writable/);
    store.close();
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('a progress rate is whole bytes per second', () => {
    expect(formatBytes(990.4239104022621)).toBe('990 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
  });

  it('a BOM or another invisible character in a message is shown as an escape', () => {
    expect(visible('\uFEFFuser a\tb\nc\u200B')).toBe('\\uFEFFuser a\tb\nc\\u200B');
    const text = '\uFEFFsources:\n  - type: event_log\n    path: /logs\n    \uFEFFuser: x\n';
    expect(parseConfig(text, '/configs').errors.map((e) => e.message)).toEqual(['sources.0: Unrecognized key: "\\uFEFFuser"']);
    expect(analyzeConfig(text, { baseDir: '/configs' }).map((f) => f.message)).toEqual(['Unknown key "\\uFEFFuser" at source 1 (event_log). Did you mean "user"?']);
    // The CLI's messages, whoever made them: a path with a zero-width space in its name.
    const dir = tempDir();
    const r = spawnSync(process.execPath, [CLI, 'collect', '--source', 'event-logs', '--path', path.join(dir, '\u200Blogs'), '--dry-run'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).toContain(`${path.join(dir, '\\u200Blogs')}`);
    expect(r.stderr).not.toContain('\u200B');
  });

  it('a secret written as ${env:} (no name) is a config error naming the line and field, not a password', async () => {
    const text = 'sources:\n  - type: history_server\n    history_server_url: http://127.0.0.1:9\n    username: spark\n    password: ${env:}\n';
    expect(parseConfig(text, '/configs').errors).toEqual([
      {
        message: 'sources.0.password: is not a valid ${env:NAME} reference: NAME must be an environment variable name (letters, digits and _, not starting with a digit), e.g. ${env:SPARK_HISTORY_PASSWORD}',
        line: 5,
        path: ['sources', 0, 'password'],
      },
    ]);
    for (const bad of ['${ENV:HS_PASSWORD}', '${env:HS-PASSWORD}', '${env: HS}']) expect(parseConfig(text.replace('${env:}', bad), '/configs').errors).toHaveLength(1);
    expect(parseConfig(text.replace('${env:}', '${env:HS_PASSWORD}'), '/configs').errors).toEqual([]);
    expect(analyzeConfig(text, { baseDir: '/configs' }).map((f) => [f.code, f.severity, f.range.start.line])).toEqual([['invalid-value', 'error', 4]]);
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, text);
    const io = captureIo(dir);
    expect(await main(['collect', '--config', config, '--dry-run'], io)).toBe(1);
    expect(io.errText()).toContain(`${config}:5: sources.0.password: is not a valid \${env:NAME} reference`);
  });

  it('a read-only (0444) database file is refused, not replaced: by a save, and by collect before it collects', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    const first = await JobStore.open(db);
    first.upsert([makeRecord({ app_id: 'app-old' })]);
    await first.save();
    first.close();
    chmodSync(db, 0o444);
    const before = { bytes: readFileSync(db), ino: statSync(db).ino };
    const store = await JobStore.open(db);
    expect(store.count()).toBe(1); // reading it is fine
    store.upsert([makeRecord({ app_id: 'app-new' })]);
    await expect(store.save()).rejects.toThrow(`${db} is read-only (mode 0444): it was left as it is and nothing was stored in it. Make it writable (chmod u+w ${db}) to collect into it, or collect into another database (--db).`);
    store.close();
    expect(statSync(db).ino).toBe(before.ino);
    expect(readFileSync(db).equals(before.bytes)).toBe(true);

    mkdirSync(path.join(dir, 'logs'));
    writeFileSync(path.join(dir, 'logs', 'app-1'), eventLogText({ appId: 'app-1' }).text);
    const io = captureIo(dir);
    expect(await main(['collect', '--source', 'event-logs', '--path', path.join(dir, 'logs'), '--db', db], io)).toBe(1);
    expect(io.errText()).toContain(`${db} is read-only (mode 0444)`);
    expect(io.outText()).toBe('');
    expect(statSync(db).ino).toBe(before.ino);
  });
});

describe('a config nested deeper than the stack allows (found by the fuzz suite)', () => {
  it('2,000 block levels in a fresh process: collect and validate name the deepest line, never a bare RangeError', () => {
    // The YAML parser records some overflows as an error with a place and throws others; this shape
    // (a source's `type:` holding the levels) threw in the built CLI: "spark-optimizer: Maximum call stack size exceeded".
    const levels = Array.from({ length: 2000 }, (_, i) => `\n${' '.repeat(6 + i)}k${i}:`).join('');
    const file = path.join(tempDir(), 'spark-optimizer.yaml');
    writeFileSync(file, `sources:\n  - name: a\n    type:${levels} 1\n    path: /tmp\n`);
    const deepest = 3 + 2000;
    const collect = spawnSync(process.execPath, [CLI, 'collect', '--config', file, '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect(collect.stderr.trimEnd().split('\n')).toEqual(['spark-optimizer: invalid config:', `${file}:${deepest}: ${TOO_DEEP}`]);
    expect(collect.status).toBe(1);
    const validate = spawnSync(process.execPath, [CLI, 'validate', file], { encoding: 'utf8', timeout: 30_000 });
    expect(validate.stdout.trimEnd().split('\n')).toEqual([`${file}:${deepest}:1: error yaml-syntax ${TOO_DEEP}`]);
    expect(validate.status).toBe(1);
  });
});
