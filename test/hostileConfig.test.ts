/**
 * Issue #13, item 9: configs of many sources cost one save and one read of the known files per run,
 * not per source.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as vscode from 'vscode';
import { main } from '../src/cli/main';
import type { Io } from '../src/cli/io';
import type { SourceConfig } from '../src/collectors/config';
import { SaveSchedule } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import { SqlJsRepository } from '../src/storage/repository';
import { CollectionController } from '../src/views/collection';
import type { DatabaseService } from '../src/views/database';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

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
    const db = { open: () => Promise.resolve(store), save: async () => void (saves++, await store.save()), notify: () => undefined } as unknown as DatabaseService;
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
