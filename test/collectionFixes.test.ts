/**
 * Issue 14's behaviour fixes of collection, in the CLI and in the editor: a cancelled run counts
 * exactly what it stored and stores only what was read before the cancel; one bad source of a config keeps the
 * others; the end message counts the logs read with problems; progress has a real total.
 * The editor's CollectionController runs here in plain Node with the real collection worker
 * (dist/collectWorker.js, so `npm run build` first) and a recording `window`.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectEventLogs } from '../src/collectors/eventlog/collect';
import { type CollectProgress } from '../src/collectors/contract';
import { collectCommand } from '../src/cli/collectCommand';
import { parseConfig } from '../src/collectors/config';
import { JobStore } from '../src/storage/jobStore';
import { CollectionController } from '../src/views/collection';
import type { DatabaseService } from '../src/views/database';
import { eventLogSource, tinyLogs } from './support/editorSources';
import { tempDir } from './support/tmp';
import { setConfiguration } from './support/vscodeFake';

/** What the editor showed, for assertions; each test sets the answers of its message buttons and quick picks. */
const ui = vi.hoisted(() => ({
  infos: [] as { message: string; items: string[] }[],
  errors: [] as string[],
  progress: [] as string[],
  quickPicks: [] as { label: string; description?: string; detail?: string }[][],
  opened: [] as string[],
  /** The button the next information message answers with. */
  answer: undefined as string | undefined,
  /** Cancels the running notification, as its Cancel button does. */
  cancel: undefined as (() => void) | undefined,
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  return {
    ...fake,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window: {
      withProgress: fake.cancellableProgress(
        (cancel) => (ui.cancel = cancel),
        (p) => void (p.message !== undefined && ui.progress.push(p.message)),
      ),
      showInformationMessage: (message: string, ...items: string[]): Promise<string | undefined> => {
        ui.infos.push({ message, items });
        const answer = ui.answer;
        ui.answer = undefined;
        return Promise.resolve(answer !== undefined && items.includes(answer) ? answer : undefined);
      },
      showErrorMessage: (message: string): Promise<undefined> => {
        ui.errors.push(message);
        return Promise.resolve(undefined);
      },
      showWarningMessage: (message: string): Promise<undefined> => {
        ui.errors.push(message);
        return Promise.resolve(undefined);
      },
      showQuickPick: <T extends { label: string }>(items: T[]): Promise<T | undefined> => {
        ui.quickPicks.push(items);
        return Promise.resolve(items[0]);
      },
      showTextDocument: (uri: { fsPath: string }): Promise<void> => {
        ui.opened.push(uri.fsPath);
        return Promise.resolve();
      },
    },
  };
});

const REPO = path.resolve(__dirname, '..');
const CLI = path.join(REPO, 'dist', 'cli.js');
const SAMPLES = path.join(REPO, 'samples', 'event-logs');

beforeEach(() => {
  ui.infos = [];
  ui.errors = [];
  ui.progress = [];
  ui.quickPicks = [];
  ui.opened = [];
  ui.answer = undefined;
  ui.cancel = undefined;
  setConfiguration('sparkOptimizer', {});
});


interface Editor {
  controller: CollectionController;
  store: JobStore;
  log: { lines: string[]; shown: number };
}

/** A CollectionController over a fresh database, with the real collection worker. */
async function editor(): Promise<Editor> {
  const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
  const db = { open: () => Promise.resolve(store), openForWriting: () => Promise.resolve({ store, release: () => Promise.resolve() }), save: () => store.save().then(() => undefined), notify: () => undefined } as unknown as DatabaseService;
  const lines: string[] = [];
  const log = { lines, shown: 0 };
  const channel = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m), error: (m: string) => lines.push(m), debug: () => undefined, trace: () => undefined, show: () => log.shown++ };
  type Ctor = ConstructorParameters<typeof CollectionController>;
  const controller = new CollectionController(REPO, db, channel as unknown as Ctor[2], undefined, { get: () => Promise.resolve(undefined) } as unknown as Ctor[4]);
  return { controller, store, log };
}

/** The counts of a summary line: "[Cancelled…: ]N new, N updated, N unchanged, N skipped, N failed". */
function countsOf(summary: string): { new: number; updated: number; unchanged: number; skipped: number; failed: number } {
  const m = /(\d+) new, (\d+) updated, (\d+) unchanged, (\d+) skipped, (\d+) failed/.exec(summary);
  expect(m, summary).not.toBeNull();
  return { new: Number(m![1]), updated: Number(m![2]), unchanged: Number(m![3]), skipped: Number(m![4]), failed: Number(m![5]) };
}

describe('cancel: the summary counts exactly what was stored, and nothing read after the cancel is stored', () => {
  let restore: (() => void) | undefined;
  afterEach(() => restore?.());

  it('in the editor: cancelled from the notification half-way through a batch of 600 small logs', async () => {
    const logs = tinyLogs(600);
    const { controller, store } = await editor();
    // The cancel arrives between two slices of a batch (the host stores a batch 10 records at a time):
    // right after 150 records are stored, as a click would between two turns of the event loop. The
    // batch being stored is stored whole (its logs were read to the end), and so is what the worker
    // had read and sent before it stopped; the run ends cancelled.
    const upsert = store.upsert.bind(store);
    let storedAtCancel: number | undefined;
    let upserted = 0;
    restore = () => (store.upsert = upsert);
    store.upsert = (records, now) => {
      const counts = upsert(records, now);
      upserted += records.length;
      if (storedAtCancel === undefined && upserted >= 150) {
        ui.cancel!();
        storedAtCancel = store.count();
      }
      return counts;
    };
    const total = await controller.run([eventLogSource('many', logs)]);
    expect(storedAtCancel).toBe(150);
    expect(store.count()).toBeGreaterThanOrEqual(200);
    expect(store.listRuns(1)[0]!.errors).toContain('run stopped: cancelled');
    const summary = ui.infos.at(-1)!.message;
    expect(summary).toMatch(/^Spark Optimizer: Cancelled: /);
    expect(countsOf(summary).new).toBe(store.count());
    expect(total?.new).toBe(store.count());
    store.close();
  });

  it.each([
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('in the CLI: %s half-way through, summary and database agree, and no batch is stored after it', async (name, exit) => {
    const logs = tinyLogs(400);
    const db = path.join(tempDir(), 'jobs.db');
    let printed = 0;
    let printedAtSignal = 0;
    // The command's own handler, called as the signal would: emitting a real signal here would
    // reach the test runner's handlers too. (SIGHUP: the terminal closed; it was not handled, and a
    // save interval's records were lost.)
    const before = new Set(process.listeners(name));
    const signal = (): void => {
      for (const l of process.listeners(name)) if (!before.has(l)) l(name);
    };
    const errLines: string[] = [];
    const io = {
      out: () => {
        // --format json prints each record as it is stored: the signal comes with the 55th.
        printed++;
        if (printed === 55) {
          printedAtSignal = printed;
          signal();
        }
      },
      err: (s: string) => errLines.push(s),
      isTTY: false,
      cwd: REPO,
    };
    const code = await collectCommand(['--source', 'event-logs', '--path', logs, '--db', db, '--format', 'json', '--batch-size', '10', '--concurrency', '1'], io);
    expect(code).toBe(exit);
    const summary = errLines.find((l) => l.startsWith(`Cancelled by ${name}: `))!;
    const store = await JobStore.open(db);
    expect(printedAtSignal).toBe(55);
    // The batch being printed was stored before the signal; the next one never is.
    expect(store.count()).toBe(60);
    expect(countsOf(summary).new).toBe(60);
    expect(printed).toBe(60);
    store.close();
  });
});

describe('one bad source in a config keeps the others', () => {
  const CONFIG = (logs: string): string => `sources:\n  - name: good\n    type: event_log\n    path: ${logs}\n  - name: broken\n    type: history_server\n    history_server_url: ftp://nope\n  - name: also-good\n    type: event_log\n    path: ${logs}\n    since: 2000-01-01\n`;

  it('parseConfig keeps the good sources and names the bad one with its line', () => {
    const { sources, errors, invalid } = parseConfig(CONFIG('/logs'), '/configs');
    expect(sources.map((s) => s.name)).toEqual(['good', 'also-good']);
    expect(errors).toEqual([{ message: 'sources.1.history_server_url: must be an http:// or https:// URL', line: 7, path: ['sources', 1, 'history_server_url'] }]);
    expect(invalid).toEqual([{ index: 1, name: 'broken', type: 'history_server', line: 5, errors }]);
  });

  it("collect names a bad source's errors at the places and in the words validate uses (a review: line 5 for both)", () => {
    const dir = tempDir();
    const config = path.join(dir, 'c1.yaml');
    writeFileSync(config, `sources:\n  - name: local\n    type: event_log\n    path: ${tinyLogs(1)}\n  - name: typo\n    type: event_log\n    pathh: ../samples\n`);
    const validate = spawnSync(process.execPath, [CLI, 'validate', config], { encoding: 'utf8', timeout: 30_000 });
    const placed = validate.stdout.split('\n').filter((l) => l.startsWith(`${config}:`));
    expect(placed.map((l) => l.slice(config.length).split(' ')[0])).toEqual([':6:11:', ':7:5:']);
    const collect = spawnSync(process.execPath, [CLI, 'collect', '--config', config, '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect(collect.stderr).toContain(`source typo is not collected, its config is invalid:\n${placed.join('\n')}\n`);
  });

  it('collect --config collects the good sources, names the bad one by file and line, and exits 1', async () => {
    const logs = tinyLogs(3);
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, CONFIG(logs));
    const db = path.join(dir, 'jobs.db');
    const r = spawnSync(process.execPath, [CLI, 'collect', '--config', config, '--db', db], { encoding: 'utf8', timeout: 30_000 });
    // Placed and worded as `validate` and the editor place and word it (line and column of the value).
    expect(r.stderr).toContain(`source broken is not collected, its config is invalid:\n${config}:7:25: error invalid-value "history_server_url": must be an http:// or https:// URL.`);
    expect(r.stdout).toMatch(/3 new, 0 updated, 3 unchanged, 0 skipped, 0 failed/);
    expect(r.status).toBe(1);
    const store = await JobStore.open(db);
    expect(store.count()).toBe(3);
    expect(store.listRuns().map((run) => run.source).sort()).toEqual(['also-good', 'good']);
    store.close();
    // Asked for by name, a good source runs cleanly; the bad one asked for by name is the error.
    const named = spawnSync(process.execPath, [CLI, 'collect', '--config', config, '--name', 'good', '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect([named.status, named.stderr]).toEqual([0, expect.stringContaining(`warning: source broken in this config is invalid:\n${config}:7:`)]);
    const bad = spawnSync(process.execPath, [CLI, 'collect', '--config', config, '--name', 'broken', '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${config}:7: sources.1.history_server_url`);
  });
});

describe('the end message counts the logs read with problems; progress has a real total', () => {
  /** The samples: a malformed line in app-20240611120000-0002, a cut-off .snappy.inprogress. */
  function samples(): string {
    const dir = path.join(tempDir(), 'logs');
    mkdirSync(dir);
    cpSync(SAMPLES, dir, { recursive: true });
    return dir;
  }
  const WITH_PROBLEMS = ['app-20240611120000-0002', 'local-1718100000000.snappy.inprogress'];

  it('collect says "2 logs with problems" over a malformed log and a truncated one', () => {
    const r = spawnSync(process.execPath, [CLI, 'collect', '--source', 'event-logs', '--path', samples(), '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toMatch(/^8 new, 0 updated, 0 unchanged, 0 skipped, 0 failed, 2 logs with problems \(dry run, nothing stored\)/m);
  });

  it('the editor says it too, with a button that lists those logs and opens the one picked', async () => {
    const logs = samples();
    const { controller, store } = await editor();
    ui.answer = 'Show Problems';
    await controller.run([eventLogSource('samples', logs)]);
    const end = ui.infos.at(-1)!;
    expect(end.message).toBe('Spark Optimizer: 8 new, 0 updated, 0 unchanged, 0 skipped, 0 failed, 2 logs with problems');
    expect(end.items).toEqual(['Show Problems', 'Show Log']);
    await vi.waitFor(() => expect(ui.opened).toHaveLength(1));
    expect(ui.quickPicks[0]!.map((p) => p.label).sort()).toEqual(WITH_PROBLEMS);
    expect(ui.quickPicks[0]!.find((p) => p.label === WITH_PROBLEMS[0])!.detail).toMatch(/^error: Ln \d+, Col \d+: Malformed JSON at column \d+/);
    expect(WITH_PROBLEMS.map((f) => path.join(logs, f))).toContain(ui.opened[0]);
    store.close();
  });

  it('discovery comes first: every report after it has the final total, and the editor shows "N of TOTAL"', async () => {
    const logs = tinyLogs(50);
    const reports: CollectProgress[] = [];
    for await (const batch of collectEventLogs({ path: logs, batchSize: 7, concurrency: 2 }, { onProgress: (p) => reports.push(p) })) void batch;
    const reading = reports.filter((p) => p.phase !== 'discovering');
    expect(reading.length).toBe(50);
    expect(reading.every((p) => p.logsFound === 50)).toBe(true);
    expect(reading.map((p) => p.logsDone)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(reports.slice(0, reports.length - reading.length).every((p) => p.phase === 'discovering' && p.logsDone === 0)).toBe(true);

    const { controller, store } = await editor();
    await controller.run([eventLogSource('fifty', logs, 5)]);
    const totals = ui.progress.flatMap((m) => [...m.matchAll(/(\d+) of (\d+) logs/g)].map((x) => Number(x[2])));
    expect(totals.length).toBeGreaterThan(0);
    expect(new Set(totals)).toEqual(new Set([50]));
    store.close();
  });
});
