/**
 * The editor's jobs store (issue 17): which store the settings name (a file, or a PostgreSQL server),
 * the status-bar item saying so, the Set Database Password command, and that a password never reaches
 * the Output channel, a message or the settings. DatabaseService runs in plain Node with a recording
 * `window` and a real PostgreSQL (test/support/postgres.ts; dist/pgWorker.js, so `npm run build` first).
 */
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { parseSettings } from '../src/views/settingsSchema';
import { DatabaseSettingError, editorLocation, hasLiteralPassword, passwordKey, safeUrl, scrubPassword, storeStatus } from '../src/views/databaseSetting';
import { DatabaseService } from '../src/views/database';
import { register as registerDatabaseCommands } from '../src/views/databaseCommands';
import { register as registerJobCommands, type SourceConfigs } from '../src/views/jobCommands';
import type { OpenOptions } from '../src/storage/jobStore';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import type { PostgresLocation } from '../src/storage/location';
import { describePostgres, newDatabase } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';
import { EventEmitter, Uri, setConfiguration } from './support/vscodeFake';

/** What the editor showed and did, for assertions. */
const ui = vi.hoisted(() => ({
  messages: [] as { level: 'info' | 'warning' | 'error'; text: string; items: string[] }[],
  executed: [] as unknown[][],
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  statusItems: [] as { id: string; alignment: number; priority: number; text: string; tooltip: unknown; visible: boolean; command: unknown; backgroundColor: unknown }[],
  /** What the next input box answers (undefined: dismissed). */
  input: undefined as string | undefined,
  inputOptions: [] as Record<string, unknown>[],
  trusted: true,
  /** The button the next warning message answers with. */
  answer: undefined as string | undefined,
  clipboard: [] as string[],
  focus: undefined as unknown as { fire(e: { focused: boolean }): void },
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  const focus = new fake.EventEmitter<{ focused: boolean }>();
  ui.focus = focus;
  const message =
    (level: 'info' | 'warning' | 'error') =>
    (text: string, ...items: unknown[]): Promise<string | undefined> => {
      const buttons = items.filter((i): i is string => typeof i === 'string');
      ui.messages.push({ level, text, items: buttons });
      const answer = level === 'warning' && ui.answer !== undefined && buttons.includes(ui.answer) ? ui.answer : undefined;
      return Promise.resolve(answer);
    };
  return {
    ...fake,
    StatusBarAlignment: { Left: 1, Right: 2 },
    RelativePattern: class {
      constructor(
        readonly base: unknown,
        readonly pattern: string,
      ) {}
    },
    commands: {
      executeCommand: (...args: unknown[]): Promise<unknown> => {
        ui.executed.push(args);
        return fake.commands.executeCommand(...(args as [string, string?, unknown?]));
      },
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown): { dispose(): void } => {
        ui.commands.set(id, handler);
        return { dispose: () => ui.commands.delete(id) };
      },
    },
    env: { clipboard: { writeText: (text: string) => Promise.resolve(void ui.clipboard.push(text)) } },
    workspace: {
      ...fake.workspace,
      registerTextDocumentContentProvider: () => ({ dispose: () => undefined }),
      get isTrusted(): boolean {
        return ui.trusted;
      },
    },
    window: {
      onDidChangeWindowState: focus.event,
      showInformationMessage: message('info'),
      showWarningMessage: message('warning'),
      showErrorMessage: message('error'),
      showInputBox: (options: Record<string, unknown>): Promise<string | undefined> => {
        ui.inputOptions.push(options);
        return Promise.resolve(ui.input);
      },
      createStatusBarItem: (id: string, alignment: number, priority: number) => {
        // The item itself is what the test reads: show/hide/dispose flip `visible`.
        const item = { id, alignment, priority, name: '', text: '', tooltip: undefined as unknown, command: undefined as unknown, backgroundColor: undefined as unknown, visible: false };
        ui.statusItems.push(item);
        return Object.assign(item, { show: () => void (item.visible = true), hide: () => void (item.visible = false), dispose: () => void (item.visible = false) });
      },
    },
  };
});

/** Every line written to the Output channel, whatever the level. */
function recordingLog(): { lines: string[]; channel: never } {
  const lines: string[] = [];
  const write = (m: string): void => void lines.push(m);
  return { lines, channel: { info: write, warn: write, error: write, debug: write, trace: write, appendLine: write, append: write, show: () => undefined } as never };
}

/** The editor's secret storage, in memory. */
function memorySecrets(initial: Record<string, string> = {}): { values: Map<string, string>; storage: never } {
  const values = new Map(Object.entries(initial));
  const changed = new EventEmitter<{ key: string }>();
  const storage = {
    get: (key: string) => Promise.resolve(values.get(key)),
    store: (key: string, value: string) => Promise.resolve(void values.set(key, value)),
    delete: (key: string) => Promise.resolve(void values.delete(key)),
    keys: () => Promise.resolve([...values.keys()]),
    onDidChange: changed.event,
  };
  return { values, storage: storage as never };
}

interface Editor {
  db: DatabaseService;
  log: string[];
  secrets: Map<string, string>;
  subscriptions: { dispose(): void }[];
}

const editors: Editor[] = [];

function editor(root: string | undefined, database: string, secrets: Record<string, string> = {}, sources: SourceConfigs = () => undefined): Editor {
  setConfiguration('sparkOptimizer', { database });
  const log = recordingLog();
  const s = memorySecrets(secrets);
  const db = new DatabaseService(root === undefined ? undefined : (Uri.file(root) as never), log.channel, s.storage, sources);
  const subscriptions: { dispose(): void }[] = [];
  registerDatabaseCommands({ db }, { subscriptions, secrets: s.storage } as never);
  registerJobCommands({ db, tree: {} as never, view: {} as never, log: log.channel, root: root === undefined ? undefined : (Uri.file(root) as never), sources: { find: () => undefined } }, { subscriptions } as never);
  const e = { db, log: log.lines, secrets: s.values, subscriptions };
  editors.push(e);
  return e;
}

const status = (): (typeof ui.statusItems)[number] => ui.statusItems.at(-1)!;
/** The messages shown, the Output channel's lines and the status bar, as one text to search for a password. */
const everythingShown = (e: Editor): string => JSON.stringify([ui.messages, e.log, ui.statusItems]);

beforeEach(() => {
  ui.messages = [];
  ui.executed = [];
  ui.commands.clear();
  ui.statusItems = [];
  ui.input = undefined;
  ui.inputOptions = [];
  ui.trusted = true;
  ui.answer = undefined;
  ui.clipboard = [];
});

afterEach(async () => {
  for (const e of editors.splice(0)) {
    for (const s of e.subscriptions) s.dispose();
    e.db.dispose();
  }
  await Promise.resolve();
});

describe('the database setting', () => {
  it('is the databasePath file when empty, else a path, sqlite:/// or postgres:// URL resolved against the folder', () => {
    expect(editorLocation({ database: '', databasePath: '.spark-optimizer/jobs.db' }, '/ws')).toMatchObject({ kind: 'sqlite', file: '/ws/.spark-optimizer/jobs.db' });
    expect(editorLocation({ database: 'shared/jobs.db', databasePath: 'x.db' }, '/ws')).toMatchObject({ kind: 'sqlite', file: '/ws/shared/jobs.db' });
    expect(editorLocation({ database: 'sqlite:////data/jobs.db', databasePath: 'x.db' }, '/ws')).toMatchObject({ kind: 'sqlite', file: '/data/jobs.db' });
    expect(editorLocation({ database: 'postgres://etl@db.example:6432/spark?sslmode=require', databasePath: 'x.db' }, '/ws')).toMatchObject({
      kind: 'postgres',
      host: 'db.example',
      port: 6432,
      database: 'spark',
      user: 'etl',
      display: 'postgres://etl@db.example:6432/spark?sslmode=require',
    });
  });

  it('refuses a postgres URL with a literal password, saying what to do and never echoing it', () => {
    for (const url of ['postgres://etl:hunter2pw@db/spark', 'postgresql://:hunter2pw@db/spark', 'postgres://etl:hunter2pw@x@db/spark', 'postgres://${env:PGUSER}:hunter2pw@db/spark', 'postgres://etl@db/spark?password=hunter2pw', 'postgres://etl@db/spark?sslmode=require&password=hunter2pw&x']) {
      expect(hasLiteralPassword(url), url).toBe(true);
      let error: unknown;
      try {
        editorLocation({ database: url, databasePath: 'x.db' }, '/ws');
      } catch (err) {
        error = err;
      }
      expect(error, url).toBeInstanceOf(DatabaseSettingError);
      expect((error as Error).message, url).toContain('Set Database Password');
      expect((error as Error).message, url).not.toContain('hunter2pw');
    }
    // An environment variable is not a password in the settings.
    for (const url of ['postgres://etl:${env:SPARK_PW}@db/spark', 'postgres://etl@db/spark', 'postgres://db/spark', 'postgres://etl@db:5432/spark?application_name=a@b', 'postgres://etl@db/spark?password=${env:SPARK_PW}']) {
      expect(hasLiteralPassword(url), url).toBe(false);
    }
    expect(editorLocation({ database: 'postgres://etl:${env:SPARK_PW}@db/spark', databasePath: 'x.db' }, '/ws', { SPARK_PW: 'from-env-pw' })).toMatchObject({
      kind: 'postgres',
      password: 'from-env-pw',
      display: 'postgres://etl@db/spark',
    });
  });

  it('scrubs even a malformed password (an unencoded / or ?) from what it says', () => {
    const url = 'postgres://etl:pa/ss?word@db/spark';
    expect(safeUrl(url)).not.toMatch(/pa\/ss|ss\?word/);
    expect(() => editorLocation({ database: url, databasePath: 'x.db' }, '/ws')).toThrow(DatabaseSettingError);
    try {
      editorLocation({ database: url, databasePath: 'x.db' }, '/ws');
    } catch (err) {
      expect((err as Error).message).toMatch(/^the setting sparkOptimizer\.database: /);
      expect((err as Error).message).not.toContain('pa/ss');
    }
    expect(scrubPassword('failed at postgres://etl:s3cret-pw@db/spark', 'postgres://etl:s3cret-pw@db/spark')).toBe('failed at postgres://etl:***@db/spark');
    // A settings value that is not a string (an object with a URL in it, say) is not echoed either.
    const { warnings } = parseSettings({ database: { url: 'postgres://etl:hunter2pw@db/spark' } });
    expect(warnings).toEqual(['Setting sparkOptimizer.database is not a string; using "".']);
  });

  it('names the store in the status bar: the file, or PostgreSQL host/database', () => {
    expect(storeStatus({ kind: 'sqlite', file: '/ws/.spark-optimizer/jobs.db', display: '/ws/.spark-optimizer/jobs.db' }, undefined)).toEqual({
      text: '$(database) jobs.db',
      tooltip: 'Spark Optimizer jobs database: /ws/.spark-optimizer/jobs.db',
      error: false,
    });
    const pg = editorLocation({ database: 'postgres://etl@db.example/spark', databasePath: 'x.db' }, '/ws') as PostgresLocation;
    expect(storeStatus(pg, undefined)).toEqual({ text: '$(database) PostgreSQL db.example/spark', tooltip: 'Spark Optimizer jobs database: postgres://etl@db.example/spark', error: false });
    expect(storeStatus(pg, 'no route to host').error).toBe(true);
    expect(passwordKey(pg)).toBe('sparkOptimizer.dbPassword.postgres://etl@db.example/spark');
  });
});

describe('DatabaseService over the workspace file', () => {
  it('opens the databasePath file, watches it, and the status bar names it', async () => {
    const root = tempDir();
    const e = editor(root, '');
    expect(status()).toMatchObject({ id: 'sparkOptimizer.database', alignment: 1, text: '$(database) jobs.db', visible: true });
    expect(status().tooltip).toBe(`Spark Optimizer jobs database: ${path.join(root, '.spark-optimizer', 'jobs.db')}`);
    expect(status().command).toMatchObject({ command: 'workbench.action.openSettings', arguments: ['sparkOptimizer.database'] });
    const store = await e.db.open();
    expect(store.kind).toBe('sqlite');
    expect(store.where).toBe(path.join(root, '.spark-optimizer', 'jobs.db'));
    store.upsert([makeRecord()]);
    await e.db.save();
    expect(store.count()).toBe(1);
  });

  it("gives the store the thresholds a save's merge re-checks with: each source's regression: keys over the settings, read when the merge asks", async () => {
    const regression: Record<string, { regression?: { baseline_runs: number } }> = { prod: { regression: { baseline_runs: 3 } } };
    const e = editor(tempDir(), '', {}, (source) => regression[source]);
    const store = await e.db.open();
    const thresholds = (store as unknown as { options: OpenOptions }).options.recheckThresholds;
    expect(thresholds?.('prod').baselineRuns).toBe(3);
    // A source without regression: keys, or no longer configured: the settings' (here their default).
    expect(thresholds?.('gone').baselineRuns).toBe(DEFAULT_THRESHOLDS.baselineRuns);
    // Read when asked, not when the store opened: the source's keys changed since.
    regression.prod = { regression: { baseline_runs: 7 } };
    expect(thresholds?.('prod').baselineRuns).toBe(7);
  });

  it('says the password command is for a server when the store is a file', async () => {
    const root = tempDir();
    editor(root, 'sqlite:///jobs.db');
    expect(status().text).toBe('$(database) jobs.db');
    await ui.commands.get('sparkOptimizer.setDatabasePassword')!();
    expect(ui.inputOptions).toEqual([]);
    expect(ui.messages).toEqual([{ level: 'info', text: expect.stringContaining(`the jobs database is the file ${path.join(root, 'jobs.db')}, which takes no password`) as string, items: ['Open Settings'] }]);
  });

  it('hides the status bar item without a folder', async () => {
    const e = editor(undefined, '');
    expect(status().visible).toBe(false);
    await expect(e.db.open()).rejects.toThrow('Open a folder first');
    expect(ui.messages).toEqual([]);
  });

  it('does not use a setting with a literal password: says why once, in the status bar too, and logs no password', async () => {
    const root = tempDir();
    const e = editor(root, 'postgres://etl:hunter2pw@127.0.0.1:1/spark');
    expect(status().text).toBe('$(database) Jobs database');
    expect(status().backgroundColor).toBeDefined();
    await expect(e.db.open()).rejects.toThrow(/has a password in it/);
    await expect(e.db.open()).rejects.toThrow(/has a password in it/);
    expect(ui.messages.map((m) => m.level)).toEqual(['error']);
    expect(ui.messages[0]!.items).toEqual(['Open Settings']);
    expect(everythingShown(e)).not.toContain('hunter2pw');
  });
});

describePostgres('DatabaseService over PostgreSQL', (server) => {
  it('opens the server the setting names with the password from the secret storage: jobs counted, status bar, no password shown', async () => {
    const s = server();
    const url = await newDatabase(s);
    const e = editor(tempDir(), url, { [`sparkOptimizer.dbPassword.${url}`]: s.password });
    const database = new URL(url).pathname.slice(1);
    expect(status().text).toBe(`$(database) PostgreSQL 127.0.0.1/${database}`);
    expect(status().tooltip).toBe(`Spark Optimizer jobs database: ${url}`);
    const store = await e.db.open();
    expect(store.kind).toBe('postgres');
    expect(store.where).toBe(url);
    expect(store.count()).toBe(0);
    store.upsert([makeRecord({ app_id: 'app-1' }), makeRecord({ app_id: 'app-2' })]);
    await e.db.save();
    expect(store.count()).toBe(2);
    expect(store.list({ limit: 1, offset: 1 })).toHaveLength(1);
    expect(e.log).toContain(`Opened the jobs database ${url}.`);
    expect(status().backgroundColor).toBeUndefined();
    expect(ui.messages).toEqual([]);
    expect(everythingShown(e)).not.toContain(s.password);
  });

  it('redraws the views when the window regains focus (no file to watch), not before', async () => {
    const s = server();
    const url = await newDatabase(s);
    const e = editor(tempDir(), url, { [`sparkOptimizer.dbPassword.${url}`]: s.password });
    let changes = 0;
    e.db.onDidChange(() => changes++);
    ui.focus.fire({ focused: true }); // not open yet: nothing to redraw
    await e.db.open();
    const changed = new Promise<void>((resolve) => e.db.onDidChange(() => resolve()));
    ui.focus.fire({ focused: false });
    ui.focus.fire({ focused: true });
    await changed;
    expect(changes).toBe(1);
  });

  it('a wrong password: an error naming the URL, never the password, with the action to set it; the command stores a new one and reconnects', async () => {
    const s = server();
    const url = await newDatabase(s);
    const wrong = `${s.password}-wrong`;
    const e = editor(tempDir(), url, { [`sparkOptimizer.dbPassword.${url}`]: wrong });
    await expect(e.db.open()).rejects.toThrow(url);
    expect(ui.messages).toHaveLength(1);
    expect(ui.messages[0]).toMatchObject({ level: 'error', items: ['Set Database Password…', 'Open Settings'] });
    expect(ui.messages[0]!.text).toContain(`cannot open the jobs database: ${url}: password authentication failed`);
    expect(status().backgroundColor).toBeDefined();
    expect(status().tooltip).toContain('Not open: ');
    expect(everythingShown(e)).not.toContain(s.password);

    ui.input = s.password;
    await ui.commands.get('sparkOptimizer.setDatabasePassword')!();
    expect(ui.inputOptions[0]).toMatchObject({ password: true, title: `Password for ${url}` });
    expect(e.secrets.get(`sparkOptimizer.dbPassword.${url}`)).toBe(s.password);
    expect(ui.messages.at(-1)).toEqual({ level: 'info', text: `Spark Optimizer: connected to ${url}.`, items: [] });
    expect((await e.db.open()).count()).toBe(0);
    expect(status().backgroundColor).toBeUndefined();
    expect(everythingShown(e)).not.toContain(s.password);
  });

  it('without a stored secret, uses PGPASSWORD (read by pg) or a ${env:NAME} in the URL', async () => {
    const s = server();
    const url = await newDatabase(s);
    const saved = process.env.PGPASSWORD;
    process.env.PGPASSWORD = s.password;
    try {
      const e = editor(tempDir(), url);
      expect((await e.db.open()).count()).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = saved;
    }
    process.env.SPARK_OPTIMIZER_TEST_PW = s.password;
    try {
      const withEnv = url.replace(`${s.user}@`, `${s.user}:\${env:SPARK_OPTIMIZER_TEST_PW}@`);
      const e = editor(tempDir(), withEnv);
      const store = await e.db.open();
      expect(store.where).toBe(url);
      expect(everythingShown(e)).not.toContain(s.password);
    } finally {
      delete process.env.SPARK_OPTIMIZER_TEST_PW;
    }
  });

  it('Delete All Collected Jobs deletes page by page, and Open Database Location copies the URL without a password', async () => {
    const s = server();
    const url = await newDatabase(s);
    const e = editor(tempDir(), url, { [`sparkOptimizer.dbPassword.${url}`]: s.password });
    const store = await e.db.open();
    store.upsert(Array.from({ length: 2100 }, (_, i) => makeRecord({ app_id: `app-${i}` })));
    ui.answer = 'Delete';
    await ui.commands.get('sparkOptimizer.clearJobs')!();
    expect(ui.messages.find((m) => m.level === 'warning')?.text).toBe(`Delete all 2100 collected jobs from ${url}? Collecting again restores them from their sources.`);
    expect(store.count()).toBe(0);
    expect(e.log).toContain('Deleted 2,100 jobs.');

    await ui.commands.get('sparkOptimizer.openDatabaseLocation')!();
    expect(ui.clipboard).toEqual([url]);
    expect(ui.messages.at(-1)?.text).toBe(`Spark Optimizer: the database is the PostgreSQL server ${url} (URL copied).`);
    expect(everythingShown(e)).not.toContain(s.password);
  });

  it('opens no connection in an untrusted workspace', async () => {
    const s = server();
    const url = await newDatabase(s);
    ui.trusted = false;
    const e = editor(tempDir(), url, { [`sparkOptimizer.dbPassword.${url}`]: s.password });
    await expect(e.db.open()).rejects.toThrow('untrusted workspace');
    expect(ui.messages).toEqual([{ level: 'warning', text: expect.stringContaining(`${url} is a PostgreSQL server, and an untrusted workspace opens no network connections`) as string, items: ['Manage Workspace Trust'] }]);
    expect(s.psql(`SELECT count(*) FROM pg_stat_activity WHERE datname = '${new URL(url).pathname.slice(1)}'`)).toBe('0');
  });
});
