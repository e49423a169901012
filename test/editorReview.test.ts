/**
 * Defects a review of the extension in a real code-server found, over the views' pure parts and the
 * editor's services in plain Node (a recording `window`; the collection runs in the real worker,
 * dist/collectWorker.js, so `npm run build` first).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConfig } from '../src/collectors/config';
import { errorText } from '../src/common/errors';
import { JobStore } from '../src/storage/jobStore';
import { CollectionController } from '../src/views/collection';
import { DatabaseService } from '../src/views/database';
import { SourcesModel, secretKey, type Source } from '../src/views/sources';
import { serve } from './support/historyServerFake';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';
import { EventEmitter, Uri, setConfiguration, setWorkspaceRoot } from './support/vscodeFake';

/** What the editor showed, for assertions. */
const ui = vi.hoisted(() => ({
  infos: [] as string[],
  errors: [] as string[],
  warnings: [] as string[],
  progress: [] as { title: string; messages: string[] }[],
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  const never = new fake.EventEmitter<unknown>();
  return {
    ...fake,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    RelativePattern: class {
      constructor(
        readonly base: unknown,
        readonly pattern: string,
      ) {}
    },
    workspace: { ...fake.workspace, isTrusted: true },
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

/** `n` tiny event logs, each its own application. */
function tinyLogs(n: number): string {
  const dir = tempDir();
  const { text } = eventLogText({ stages: 1, tasksPerStage: 2 });
  for (let i = 0; i < n; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(5, '0')}`), text.replaceAll('spark-0123456789abcdef0123456789abcdef', `app-${i}`));
  return dir;
}

function eventLogSource(name: string, dir: string, batchSize = 20): Source {
  const config: SourceConfig = { type: 'event_log', name, path: dir, recursive: true, batch_size: batchSize };
  return { name, config, errors: [] };
}

describe('a reset during a collection waits for it (defect 1)', () => {
  it('Refresh half-way through a collection keeps every job it collected, and the run ends without an error', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, '.spark-optimizer'), { recursive: true });
    const log = recordingLog();
    const db = new DatabaseService(Uri.file(root) as never, log.channel, noSecrets);
    const controller = new CollectionController(REPO, db, log.channel, Uri.file(root) as never, noSecrets);
    // Refresh (and a settings change, a new password) reset the store when the first batch is stored.
    let resets: Promise<void>[] = [];
    const notify = db.notify.bind(db);
    db.notify = () => {
      if (resets.length === 0) resets = [db.reset(), db.reset()];
      notify();
    };
    const total = await controller.run([eventLogSource('many', tinyLogs(200))]);
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

  it('a reset with no collection running closes the store at once', async () => {
    const root = tempDir();
    const log = recordingLog();
    const db = new DatabaseService(Uri.file(root) as never, log.channel, noSecrets);
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
    const db = new DatabaseService(Uri.file(root) as never, log.channel, secrets);
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
