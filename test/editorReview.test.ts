/**
 * Defects a review of the extension in a real code-server found, over the views' pure parts and the
 * editor's services in plain Node (a recording `window`; the collection runs in the real worker,
 * dist/collectWorker.js, so `npm run build` first).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConfig } from '../src/collectors/config';
import { errorText } from '../src/common/errors';
import { JobStore } from '../src/storage/jobStore';
import { CollectionController, countsText, problemItem, progressText } from '../src/views/collection';
import { ProblemLogs } from '../src/storage/ingest';
import type { Batch } from '../src/collectors/contract';
import { makeRecord } from './support/records';
import { DatabaseService } from '../src/views/database';
import { COMMANDS, ITEM } from '../src/views/commands';
import { register as registerDiskCheck } from '../src/views/diskCheck';
import { noSourceMessage } from '../src/views/sourceCommands';
import { SourcesModel, secretKey, type Source } from '../src/views/sources';
import { serve } from './support/historyServerFake';
import { eventLogSource, tinyLogs } from './support/editorSources';
import { tempDir } from './support/tmp';
import { EventEmitter, Uri, setConfiguration, setWorkspaceRoot } from './support/vscodeFake';

/** What the editor showed, for assertions. */
const ui = vi.hoisted(() => ({
  infos: [] as string[],
  errors: [] as string[],
  warnings: [] as string[],
  progress: [] as { title: string; messages: string[] }[],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  /** Every diagnostic collection created, by name: uri string -> diagnostics. */
  diagnostics: new Map<string, Map<string, unknown[]>>(),
}));

vi.mock('vscode', async (importOriginal) => {
  const path = await import('node:path');
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  const never = new fake.EventEmitter<unknown>();
  class DiagnosticCollection {
    readonly entries = new Map<string, { uri: unknown; diagnostics: unknown[] }>();
    set(uri: { toString(): string }, diagnostics: unknown[]): void {
      this.entries.set(uri.toString(), { uri, diagnostics });
      this.publish();
    }
    delete(uri: { toString(): string }): void {
      this.entries.delete(uri.toString());
      this.publish();
    }
    clear(): void {
      this.entries.clear();
      this.publish();
    }
    forEach(f: (uri: unknown, diagnostics: unknown[]) => void): void {
      for (const e of this.entries.values()) f(e.uri, e.diagnostics);
    }
    constructor(private readonly name: string) {}
    private publish(): void {
      ui.diagnostics.set(this.name, new Map([...this.entries].map(([k, e]) => [k, e.diagnostics])));
    }
    dispose(): void {}
  }
  return {
    ...fake,
    languages: { createDiagnosticCollection: (name: string) => new DiagnosticCollection(name) },
    commands: {
      ...fake.commands,
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
        ui.commands.set(id, handler);
        return { dispose: () => ui.commands.delete(id) };
      },
    },
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    RelativePattern: class {
      constructor(
        readonly base: unknown,
        readonly pattern: string,
      ) {}
    },
    workspace: { ...fake.workspace, isTrusted: true, asRelativePath: (uri: { fsPath: string }) => path.basename(uri.fsPath) },
    window: {
      onDidChangeWindowState: never.event,
      withProgress: async <T>(options: { title: string }, task: (progress: { report(p: { message?: string }): void }, token: unknown) => Promise<T>): Promise<T> => {
        const entry = { title: options.title, messages: [] as string[] };
        ui.progress.push(entry);
        const token = { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) };
        return task({ report: (p) => p.message !== undefined && entry.messages.push(p.message) }, token);
      },
      showInformationMessage: (message: string): Promise<undefined> => Promise.resolve(void ui.infos.push(message)),
      showErrorMessage: (message: string): Promise<undefined> => Promise.resolve(void ui.errors.push(message)),
      showWarningMessage: (message: string): Promise<undefined> => Promise.resolve(void ui.warnings.push(message)),
    },
  };
});

const REPO = path.resolve(__dirname, '..');

beforeEach(() => {
  ui.infos = [];
  ui.errors = [];
  ui.warnings = [];
  ui.progress = [];
  setConfiguration('sparkOptimizer', {});
});

function recordingLog(): { lines: string[]; channel: never } {
  const lines: string[] = [];
  const write = (m: string): void => void lines.push(m);
  return { lines, channel: { info: write, warn: write, error: write, debug: write, trace: write, show: () => undefined } as never };
}

const noSecrets = { get: () => Promise.resolve(undefined), onDidChange: new EventEmitter<unknown>().event } as never;

/** The editor's store and collection controller over a workspace at `root`, with their log recorded. */
function editorAt(root: string): { log: ReturnType<typeof recordingLog>; db: DatabaseService; controller: CollectionController } {
  const log = recordingLog();
  const db = new DatabaseService(Uri.file(root) as never, log.channel, noSecrets, () => undefined);
  return { log, db, controller: new CollectionController(REPO, db, log.channel, Uri.file(root) as never, noSecrets) };
}


describe('a reset during a collection waits for it (defect 1)', () => {
  it('Refresh half-way through a collection keeps every job it collected, and the run ends without an error', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, '.spark-optimizer'), { recursive: true });
    const { db, controller } = editorAt(root);
    // Refresh (and a settings change, a new password) reset the store when the first batch is stored.
    let resets: Promise<void>[] = [];
    const notify = db.notify.bind(db);
    db.notify = () => {
      if (resets.length === 0) resets = [db.reset(), db.reset()];
      notify();
    };
    const total = await controller.run([eventLogSource('many', tinyLogs(200), 20)]);
    await Promise.all(resets);
    expect(resets).toHaveLength(2);
    expect(ui.errors).toEqual([]);
    expect(total?.new).toBe(200);
    expect(ui.infos.at(-1)).toMatch(/^Spark Optimizer: 200 new, /);
    // The reset happened once the run had saved: the store opened now is a new one, holding all 200.
    expect((await db.open()).count()).toBe(200);
    const file = await JobStore.open(path.join(root, '.spark-optimizer', 'jobs.db'));
    expect(file.count()).toBe(200);
    file.close();
    db.dispose();
  });

  it("a user's change (delete, retention) is saved before a reset asked for meanwhile closes the store", async () => {
    const root = tempDir();
    mkdirSync(path.join(root, '.spark-optimizer'), { recursive: true });
    const { db, controller } = editorAt(root);
    await controller.run([eventLogSource('few', tinyLogs(5), 20)]);
    const [victim] = (await db.open()).list({ limit: 1 });
    // Delete Job, with Refresh pressed while its save is under way.
    const deleting = db.write((store) => store.delete([victim!]));
    const reset = db.reset();
    expect(await deleting).toBe(1);
    await reset;
    expect((await db.open()).count()).toBe(4);
    const file = await JobStore.open(path.join(root, '.spark-optimizer', 'jobs.db'));
    expect(file.count()).toBe(4);
    file.close();
    expect(ui.errors).toEqual([]);
    db.dispose();
  });

  it('a reset with no collection running closes the store at once', async () => {
    const root = tempDir();
    const log = recordingLog();
    const db = new DatabaseService(Uri.file(root) as never, log.channel, noSecrets, () => undefined);
    const first = await db.open();
    await db.reset();
    expect(await db.open()).not.toBe(first);
    db.dispose();
  });

  it('a thrown value that is not an Error is shown as its text', () => {
    expect(errorText('Database closed')).toBe('Database closed');
    expect(errorText(new Error('boom'))).toBe('boom');
    expect(errorText({ message: 'from a worker' })).toBe('from a worker');
    expect(errorText(42)).toBe('42');
    expect(errorText(undefined)).toBe('undefined');
  });
});

describe('two config files naming a source alike (defect 2)', () => {
  it("keys the second source's records, runs and secret by one name, and sends each secret only to its own server", async () => {
    const [a, b] = [await serve({ applications: { json: [] } }), await serve({ applications: { json: [] } })];
    const root = tempDir();
    for (const [dir, server] of [['.', a], ['sub', b]] as const) {
      mkdirSync(path.join(root, dir), { recursive: true });
      writeFileSync(path.join(root, dir, 'spark-optimizer.yaml'), `collector:\n  type: history_server\n  name: hs\n  history_server_url: ${server.url}\n`);
    }
    setWorkspaceRoot(root);
    const log = recordingLog();
    const model = new SourcesModel(Uri.file(root) as never, log.channel);
    await model.reload();
    expect(model.all.map((s) => [s.name, s.config.name])).toEqual([
      ['hs', 'hs'],
      ['hs (sub)', 'hs (sub)'],
    ]);
    // Set Source Secret on "hs (sub)" only.
    const stored = new Map([[secretKey(model.all[1]!), 'token-for-b']]);
    const secrets = { get: (k: string) => Promise.resolve(stored.get(k)), onDidChange: new EventEmitter<unknown>().event } as never;
    const db = new DatabaseService(Uri.file(root) as never, log.channel, secrets, () => undefined);
    const controller = new CollectionController(REPO, db, log.channel, Uri.file(root) as never, secrets);
    await controller.run(model.all);
    expect(a.authorizations.length).toBeGreaterThan(0);
    expect(a.authorizations.every((h) => h === undefined)).toBe(true);
    expect(b.authorizations.length).toBeGreaterThan(0);
    expect(b.authorizations.every((h) => h === 'Bearer token-for-b')).toBe(true);
    // Each source's run is recorded under the name the Sources view shows.
    const runs = (await db.open()).listRuns();
    expect(runs.map((r) => r.source).sort()).toEqual(['hs', 'hs (sub)']);
    model.dispose();
    db.dispose();
    setWorkspaceRoot(undefined);
  });
});

describe('Check Compressed and Large Event Logs (defect 4)', () => {
  const CHECK = 'sparkOptimizer.checkLogFiles';
  /** Registers the command over a worker that answers one finding per file it is given, and records them. */
  const asked: { file: string; discovered?: unknown }[] = [];
  function register(): { checked: string[]; failOn: Set<string> } {
    const checked: string[] = [];
    asked.length = 0;
    const failOn = new Set<string>();
    const worker = {
      stop: () => undefined,
      analyze: ({ file, discovered }: { file: string; discovered?: unknown }) => {
        checked.push(file);
        asked.push({ file: path.basename(file), discovered });
        if (failOn.has(file)) return Promise.reject(new Error('unreadable'));
        const range = { start: { line: 0, character: 0 }, end: { line: 0, character: 1 } };
        return Promise.resolve([{ range, code: 'x', severity: 'warning', message: `finding of ${path.basename(file)}` }]);
      },
    };
    registerDiskCheck({ worker: worker as never, log: recordingLog().channel }, { subscriptions: [] } as never);
    return { checked, failOn };
  }
  const published = (): string[] => [...(ui.diagnostics.get('spark-optimizer-disk')?.keys() ?? [])].map((u) => path.basename(u)).sort();

  it('checks compressed logs once (not a plain .inprogress, which the editor checks itself), and drops the findings of a log deleted since', async () => {
    const root = tempDir();
    for (const f of ['app-1.lz4', 'app-2.zstd.inprogress', 'local-3.inprogress', 'notes.txt']) writeFileSync(path.join(root, f), 'x');
    setWorkspaceRoot(root);
    const { checked } = register();
    await ui.commands.get(CHECK)!();
    expect(checked.map((f) => path.basename(f))).toEqual(['app-1.lz4', 'app-2.zstd.inprogress']);
    expect(published()).toEqual(['app-1.lz4', 'app-2.zstd.inprogress']);
    rmSync(path.join(root, 'app-1.lz4'));
    await ui.commands.get(CHECK)!();
    expect(published()).toEqual(['app-2.zstd.inprogress']);
    setWorkspaceRoot(undefined);
  });

  it('a log that cannot be checked any more keeps no findings of an earlier check', async () => {
    const root = tempDir();
    const file = path.join(root, 'app-1.gz');
    writeFileSync(file, 'x');
    const { failOn } = register();
    await ui.commands.get(CHECK)!(Uri.file(file));
    expect(published()).toEqual(['app-1.gz']);
    failOn.add(file);
    await ui.commands.get(CHECK)!(Uri.file(file));
    expect(published()).toEqual([]);
  });

  it("on a rolling log's folder (the Explorer's menu) checks the logs in it, not the folder as a file", async () => {
    const root = tempDir();
    const folder = path.join(root, 'eventlog_v2_app-1');
    mkdirSync(folder);
    for (const f of ['events_1_app-1.zstd', 'events_2_app-1', 'appstatus_app-1.inprogress']) writeFileSync(path.join(folder, f), 'x');
    const { checked } = register();
    await ui.commands.get(CHECK)!(Uri.file(folder));
    expect(checked.map((f) => path.basename(f))).toEqual(['events_1_app-1.zstd', 'events_2_app-1']);
    expect(ui.infos.at(-1)).toMatch(/checked 2 event logs on disk, 2 findings/);
    // Each log is checked with what discovery tells of it, as validate checks it: the last part of a log still being written.
    expect(asked).toEqual([
      { file: 'events_1_app-1.zstd', discovered: { inProgress: false, codec: 'zstd' } },
      { file: 'events_2_app-1', discovered: { inProgress: true, codec: 'none' } },
    ]);
  });
});

describe('what a source command says when no source applies (defect 8)', () => {
  async function entriesOf(config: string): Promise<SourcesModel['entries']> {
    const root = tempDir();
    writeFileSync(path.join(root, 'spark-optimizer.yaml'), config);
    setWorkspaceRoot(root);
    const model = new SourcesModel(Uri.file(root) as never, recordingLog().channel);
    await model.reload();
    model.dispose();
    setWorkspaceRoot(undefined);
    return model.entries;
  }

  it('a config whose only source is invalid: names it and its error, with Open Config, not "no sources yet"', async () => {
    const entries = await entriesOf('sources:\n  - type: history_server\n    name: hs\n');
    const m = noSourceMessage(entries);
    expect(m.text).toMatch(/^no source can run: the source hs in spark-optimizer\.yaml has errors: line \d+: .*history_server_url/);
    expect(m.text).not.toMatch(/no sources yet/);
    expect(m.action?.title).toBe('Open Config');
  });

  it('Set Source Secret over event-log sources only: says none takes a secret, not "no sources yet"', async () => {
    const entries = await entriesOf('sources:\n  - type: event_log\n    name: logs\n    path: logs\n');
    const m = noSourceMessage(entries, 'no source takes a secret from the editor (History Server sources do)');
    expect(m).toEqual({ text: 'no source takes a secret from the editor (History Server sources do).' });
  });

  it('no config and no folder: "no sources yet", with Create', () => {
    const m = noSourceMessage([]);
    expect(m.text).toMatch(/^no sources yet\. Create a spark-optimizer\.yaml/);
    expect(m.action).toEqual({ title: 'Create' });
  });
});

describe('Show Problems after a collection (defect 9)', () => {
  const HS = 'https://ops:pw@history.example.com:18080/api/v1?access_token=T0KEN';
  const batch = (problems: Batch['problems'], apps: Batch['apps'] = []): Batch => ({ apps, problems, filtered: 0, unchanged: 0 });

  it('labels API problems by source and location, keeps two sources at one URL apart, keeps run failures, and counts them as sources', () => {
    const logs = new ProblemLogs();
    logs.add(batch([{ severity: 'error', code: 'http', message: `GET ${HS}/applications: 401`, file: HS }]), 'hs');
    logs.add(batch([{ severity: 'error', code: 'http', message: 'GET applications: 401', file: HS }]), 'hs (sub)');
    logs.add(batch([{ severity: 'error', code: 'no-token', message: 'no token: set DATABRICKS_TOKEN or use Set Source Secret' }]), 'dbx');
    const app = { record: makeRecord({ app_id: 'app-9' }), problems: [{ severity: 'warning' as const, code: 'partial', message: 'stages missing', file: HS }], files: [], provenance: { path: HS, files: [] } };
    logs.add(batch([], [app]), 'hs');
    logs.add(batch([{ severity: 'error', code: 'malformed', message: 'Malformed JSON', file: '/logs/app-1', line: 3, column: 1 }]), 'local');
    const items = logs.all.map(problemItem);
    expect(items.map((i) => [i.label, i.description])).toEqual([
      ['hs', 'https://history.example.com:18080/api/v1?access_token=***'],
      ['hs (sub)', 'https://history.example.com:18080/api/v1?access_token=***'],
      ['dbx', 'the source run'],
      ['app-9', 'application · hs · https://history.example.com:18080/api/v1?access_token=***'],
      ['app-1', '/logs · local'],
    ]);
    expect(JSON.stringify(items)).not.toMatch(/T0KEN|ops:pw/);
    expect(items[2]!.detail).toBe('error: no token: set DATABRICKS_TOKEN or use Set Source Secret');
    expect(logs.summary()).toBe(', 1 log with problems, 1 application with problems, 3 sources with problems');
  });
});

describe('background collection (defect 10)', () => {
  it('logs every failure, and shows each distinct one once, again only after a run without it', async () => {
    const root = tempDir();
    const { log, db, controller } = editorAt(root);
    // A source whose token names an unset variable fails when it is planned; an event-log source runs.
    const dbx: Source = { name: 'hs-env', config: { type: 'history_server', name: 'hs-env', history_server_url: 'http://127.0.0.1:9', token: '${env:SPARK_OPTIMIZER_REVIEW_UNSET}' } as SourceConfig, errors: [] };
    const logs = eventLogSource('logs', tinyLogs(1), 20);
    try {
      for (let i = 0; i < 3; i++) await controller.run([dbx, logs], { quiet: true });
      expect(ui.errors).toHaveLength(1);
      expect(ui.errors[0]).toMatch(/^Spark Optimizer: source hs-env: /);
      expect(log.lines.filter((l) => l.startsWith('Source hs-env: '))).toHaveLength(3);
      // A run without the failure forgets it: the next time it is shown again.
      await controller.run([logs], { quiet: true });
      await controller.run([dbx, logs], { quiet: true });
      expect(ui.errors).toHaveLength(2);
      // A run the user started shows it every time.
      await controller.run([dbx, logs]);
      await controller.run([dbx, logs]);
      expect(ui.errors).toHaveLength(4);
    } finally {
      db.dispose();
    }
  });
});

describe("Set Source Secret's menu (defect 12)", () => {
  it('is on the sources that take a secret only; every other source command is on both kinds', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { contributes: { menus: Record<string, { command: string; when?: string }[]> } };
    const onItems = manifest.contributes.menus['view/item/context']!.filter((m) => m.when?.includes('sparkOptimizer.source'));
    const secret = onItems.filter((m) => m.command === COMMANDS.setSourceSecret);
    expect(secret.map((m) => m.when)).toEqual([`viewItem == ${ITEM.sourceWithSecret}`]);
    for (const m of onItems.filter((x) => x.command !== COMMANDS.setSourceSecret)) {
      expect(m.when, m.command).toContain(`viewItem == ${ITEM.source} `);
      expect(m.when, m.command).toContain(`viewItem == ${ITEM.sourceWithSecret}`);
    }
  });
});

describe('collection progress and summary text (cosmetic)', () => {
  it("a lone source's progress does not repeat its name after the title's; several sources' do", async () => {
    const root = tempDir();
    const { db, controller } = editorAt(root);
    await controller.run([eventLogSource('bigger', tinyLogs(3), 20)], { dryRun: true });
    expect(ui.progress[0]!.title).toBe('Spark Optimizer: dry run of bigger');
    expect(ui.progress[0]!.messages.length).toBeGreaterThan(0);
    expect(ui.progress[0]!.messages.every((m) => !m.startsWith('bigger'))).toBe(true);
    await controller.run([eventLogSource('one', tinyLogs(1), 20), eventLogSource('two', tinyLogs(1), 20)], { dryRun: true });
    expect(ui.progress[1]!.messages.some((m) => m.startsWith('one: '))).toBe(true);
    db.dispose();
  });

  it('groups digits in the summary as in the progress', () => {
    expect(countsText({ seen: 5500, new: 4000, updated: 1500, unchanged: 12345, skipped: 0, failed: 1 })).toBe('4,000 new, 1,500 updated, 12,345 unchanged, 0 skipped, 1 failed');
    expect(progressText({ phase: 'discovering', logsFound: 4000, logsDone: 0, bytesRead: 0, apps: 0, problems: 0 }, true, Date.now())).toBe('finding logs… 4,000');
  });
});
