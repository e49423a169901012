/**
 * The workspace's jobs store for the extension (issue 17): the sql.js file, or a PostgreSQL server
 * when `sparkOptimizer.database` names one. Opened lazily from the settings, reopened when they
 * change. Fires `onDidChange` so the views refresh, and `onDidChangeStatus` when which store is open
 * (or why it could not be) changes, for the status bar.
 *
 * The file is reloaded when another process (the CLI) saves it, and saved after changes. A server
 * commits each call and has no file to watch: another client's writes are shown when the window
 * regains focus and on Refresh, not on a timer (each redraw queries the server from this thread).
 *
 * A server's password comes from the editor's secret storage (`setPassword`), else PGPASSWORD or
 * ~/.pgpass (the `pg` client reads both). It never reaches a message, the log or the settings.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { DatabaseLocation, PostgresLocation } from '../storage/location';
import { openStore, type Store } from '../storage/store';
import { COMMANDS } from './commands';
import { editorLocation, passwordKey } from './databaseSetting';
import { readSettings, regressionThresholds } from './settings';
import type { SourceConfigs } from './jobCommands';

/** How often a running collection's stored batches redraw the views, at most. */
const NOTIFY_MS = 250;
/** Focus comes back on every switch of windows: a server's views are redrawn for it at most this often. */
const FOCUS_REFRESH_MS = 5000;
const NO_FOLDER = 'Open a folder first: the jobs database lives in the workspace.';
/** A password this short could be any word of a message; scrubbing it would garble, not protect. */
const MIN_SCRUBBED_PASSWORD = 4;

const SET_PASSWORD_ACTION = 'Set Database Password…';
export const OPEN_SETTINGS_ACTION = 'Open Settings';

const OPEN_SETTINGS = 'workbench.action.openSettings';
const DATABASE_SETTING = 'sparkOptimizer.database';
/** The command that opens the Settings editor at the database setting (the status bar item runs it). */
export const OPEN_DATABASE_SETTING: vscode.Command = { command: OPEN_SETTINGS, title: 'Change the Jobs Database', arguments: [DATABASE_SETTING] };

/** Opens the Settings editor at the database setting. */
export function openDatabaseSetting(): Thenable<unknown> {
  return vscode.commands.executeCommand(OPEN_SETTINGS, DATABASE_SETTING);
}

export interface DatabaseStatus {
  /** What the settings name; undefined when the setting cannot be used. */
  location: DatabaseLocation | undefined;
  /** Why the store is not open (the last attempt failed, or the setting is unusable); safe to show. */
  problem: string | undefined;
}

export class DatabaseService implements vscode.Disposable {
  private store: Promise<Store> | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly statusChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeStatus = this.statusChanged.event;
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private savingUntil = 0;
  private problem: string | undefined;
  private lastFocusRefresh = 0;
  private readonly focus: vscode.Disposable;
  /** Collections writing to the open store (openForWriting): a reset waits for them. */
  private writers = 0;
  /** A reset asked for while a collection writes; done when the last one releases the store. */
  private deferredReset: { done: Promise<void>; resolve: () => void } | undefined;

  constructor(
    private readonly root: vscode.Uri | undefined,
    private readonly log: vscode.LogOutputChannel,
    private readonly secrets: vscode.SecretStorage,
    /** The configured sources' configs by name (SourcesModel): the thresholds a save's merge re-checks with. */
    private readonly sources: SourceConfigs,
  ) {
    this.focus = vscode.window.onDidChangeWindowState((state) => {
      if (state.focused) this.refreshShared();
    });
  }

  /** The store the settings name. Throws without a folder, or (DatabaseSettingError, safe to show) for an unusable setting. */
  location(): DatabaseLocation {
    if (!this.root) throw new Error(NO_FOLDER);
    return editorLocation(readSettings(this.log, this.root), this.root.fsPath);
  }

  /** For the status bar; undefined without a folder. */
  get status(): DatabaseStatus | undefined {
    if (!this.root) return undefined;
    try {
      return { location: this.location(), problem: this.problem };
    } catch (err) {
      return { location: undefined, problem: (err as Error).message };
    }
  }

  open(): Promise<Store> {
    if (!this.root) return Promise.reject(new Error(NO_FOLDER));
    this.store ??= this.openNow(this.root.fsPath);
    return this.store;
  }

  /** Opens the store; a failure is logged and shown once (the rejected promise stays until reset). */
  private async openNow(root: string): Promise<Store> {
    let loc: DatabaseLocation | undefined;
    let password: string | undefined;
    try {
      loc = this.location();
      if (loc.kind === 'postgres') {
        if (!vscode.workspace.isTrusted) throw new Error(`${loc.display} is a PostgreSQL server, and an untrusted workspace opens no network connections: trust the workspace to use it.`);
        password = await this.secrets.get(passwordKey(loc));
      }
      // A save merged with another writer's file re-checks the later runs of what the merge removed, with the settings and each source's `regression:` keys as read then.
      const store = await openStore(loc, root, { password, recheckThresholds: (source) => regressionThresholds(this.log, this.sources(source)) });
      for (const w of store.warnings) {
        this.log.warn(w);
        void vscode.window.showWarningMessage(`Spark Optimizer: ${w}`);
      }
      if (store.kind === 'sqlite') this.watch(store.where);
      this.log.info(`Opened the jobs database ${store.where}.`);
      this.setProblem(undefined);
      return store;
    } catch (err) {
      let message = (err as Error).message;
      for (const p of [password, loc?.kind === 'postgres' ? loc.password : undefined]) {
        if (p !== undefined && p.length >= MIN_SCRUBBED_PASSWORD) message = message.split(p).join('***');
      }
      this.log.error(`Cannot open the jobs database: ${message}`);
      this.setProblem(message);
      this.showFailure(message, loc);
      throw new Error(message);
    }
  }

  private setProblem(problem: string | undefined): void {
    this.problem = problem;
    this.statusChanged.fire();
  }

  private showFailure(message: string, loc: DatabaseLocation | undefined): void {
    if (loc?.kind === 'postgres' && !vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(`Spark Optimizer: ${message}`, 'Manage Workspace Trust').then((a) => a && vscode.commands.executeCommand('workbench.trust.manage'));
      return;
    }
    const actions = loc?.kind === 'postgres' ? [SET_PASSWORD_ACTION, OPEN_SETTINGS_ACTION] : [OPEN_SETTINGS_ACTION];
    void vscode.window.showErrorMessage(`Spark Optimizer: cannot open the jobs database: ${message}`, ...actions).then((a) => {
      if (a === SET_PASSWORD_ACTION) void vscode.commands.executeCommand(COMMANDS.setDatabasePassword);
      else if (a === OPEN_SETTINGS_ACTION) void openDatabaseSetting();
    });
  }

  /**
   * Keeps (or, given '', forgets) the server's password in the editor's secret storage, under its
   * URL without the password, and opens the store again.
   */
  async setPassword(loc: PostgresLocation, password: string): Promise<void> {
    const key = passwordKey(loc);
    if (password === '') await this.secrets.delete(key);
    else await this.secrets.store(key, password);
    await this.reset();
  }

  /** Saves pending changes and tells the views (a server has none: each call committed). */
  async save(): Promise<void> {
    const store = await this.open();
    // Our own write must not look like the CLI's: while saving, and for 2 s after (watcher events lag).
    this.savingUntil = Infinity;
    let result: Awaited<ReturnType<Store['save']>>;
    try {
      result = await store.save();
    } finally {
      this.savingUntil = Date.now() + 2000;
    }
    if (result.merged) this.log.info(`Merged changes another process saved to ${store.where}.`);
    this.changed.fire();
  }

  /**
   * Tells the views that a collection stored a batch. Coalesced to one change per NOTIFY_MS: a
   * collection stores a batch every few milliseconds, and each change redraws the Jobs tree, every
   * open Job page (its model and regression check), trend and the jobs table (its choices, page and
   * count).
   */
  notify(): void {
    if (this.notifyTimer !== undefined) return;
    this.notifyTimer = setTimeout(() => {
      this.notifyTimer = undefined;
      this.changed.fire();
    }, NOTIFY_MS);
  }

  /** The window has focus again: an open server may hold what other clients wrote meanwhile. */
  private refreshShared(): void {
    const store = this.store;
    if (!store || Date.now() - this.lastFocusRefresh < FOCUS_REFRESH_MS) return;
    void store.then(
      (s) => {
        if (s.kind !== 'postgres' || this.store !== store) return;
        this.lastFocusRefresh = Date.now();
        this.notify();
      },
      () => undefined, // a store that failed to open is tried again on Refresh, not on every focus
    );
  }

  /**
   * The store for a collection, held until `release`: a reset meanwhile (Refresh, a settings change,
   * a new password, the file changed on disk) waits for it, so that what the run stores is saved into
   * the store it opened. A reset that closed the store under a running collection lost the run (a
   * review: "collection failed", 0 jobs). `release` may be called more than once.
   */
  async openForWriting(): Promise<{ store: Store; release: () => Promise<void> }> {
    // Counted before the store is awaited: a reset asked for while it opens waits too.
    this.writers++;
    let released = false;
    const release = async (): Promise<void> => {
      if (released) return;
      released = true;
      this.writers--;
      const deferred = this.deferredReset;
      if (this.writers > 0 || !deferred) return;
      this.deferredReset = undefined;
      try {
        await this.resetNow();
      } finally {
        deferred.resolve();
      }
    };
    try {
      return { store: await this.open(), release };
    } catch (err) {
      await release();
      throw err;
    }
  }

  /**
   * A change the user asked for (delete a job, delete all, retention): made on the store and saved
   * while it is held, so a reset meanwhile (Refresh, a settings change) waits for the save instead of
   * closing the store under it or reopening the file without the change. A change that awaits (a
   * re-check yielding between its chunks) is awaited before the save.
   */
  async write<T>(change: (store: Store) => T | Promise<T>): Promise<T> {
    const { store, release } = await this.openForWriting();
    try {
      const result = await change(store);
      await this.save();
      return result;
    } finally {
      await release();
    }
  }

  /** True while a collection holds the store (openForWriting): a reset now waits for it. */
  get busy(): boolean {
    return this.writers > 0;
  }

  /**
   * Closes and forgets the store (setting or password changed, the file changed on disk, Refresh),
   * at once, or, while a collection writes to it, once that collection has saved and released it;
   * resolves when it is done. The views are redrawn either way.
   */
  async reset(): Promise<void> {
    if (this.writers > 0) {
      if (!this.deferredReset) {
        let resolve = (): void => undefined;
        const done = new Promise<void>((r) => (resolve = r));
        this.deferredReset = { done, resolve };
        this.log.info('The jobs database is reopened once the running collection has saved what it collected.');
      }
      this.changed.fire();
      return this.deferredReset.done;
    }
    await this.resetNow();
  }

  private async resetNow(): Promise<void> {
    const old = this.store;
    this.store = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
    if (old) (await old.catch(() => undefined))?.close();
    this.setProblem(undefined);
    this.changed.fire();
  }

  private watch(file: string): void {
    this.watcher?.dispose();
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    const reload = async (): Promise<void> => {
      if (Date.now() < this.savingUntil) return;
      if (this.writers > 0) return; // the collection's next save merges the other writer's work
      const store = await this.store;
      if (store && store.unsavedChanges > 0) return; // our next save merges the other writer's work
      this.log.info(`${file} changed on disk; reloading.`);
      await this.reset();
    };
    this.watcher.onDidChange(() => void reload());
    this.watcher.onDidCreate(() => void reload());
  }

  dispose(): void {
    clearTimeout(this.notifyTimer);
    this.focus.dispose();
    this.watcher?.dispose();
    this.changed.dispose();
    this.statusChanged.dispose();
    void this.store?.then((s) => s.close(), () => undefined);
  }
}
