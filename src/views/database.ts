/**
 * The workspace's jobs database for the extension: opened lazily from the setting, reopened when
 * the setting changes, reloaded when another process (the CLI) saves it, and saved after changes.
 * Fires `onDidChange` so the views refresh.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { JobStore } from '../storage/jobStore';
import { readSettings } from './settings';

/** How often a running collection's stored batches redraw the views, at most. */
const NOTIFY_MS = 250;

export class DatabaseService implements vscode.Disposable {
  private store: Promise<JobStore> | undefined;
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private notifyTimer: ReturnType<typeof setTimeout> | undefined;
  private savingUntil = 0;

  constructor(
    private readonly root: vscode.Uri | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  get file(): string | undefined {
    if (!this.root) return undefined;
    const configured = readSettings(this.log, this.root).databasePath;
    return path.resolve(this.root.fsPath, configured);
  }

  open(): Promise<JobStore> {
    const file = this.file;
    if (!file) return Promise.reject(new Error('Open a folder first: the jobs database lives in the workspace.'));
    this.store ??= JobStore.open(file).then((s) => {
      for (const w of s.warnings) {
        this.log.warn(w);
        void vscode.window.showWarningMessage(`Spark Optimizer: ${w}`);
      }
      this.watch(file);
      return s;
    });
    return this.store;
  }

  /** Saves pending changes and tells the views. */
  async save(): Promise<void> {
    const store = await this.open();
    // Our own write must not look like the CLI's: while saving, and for 2 s after (watcher events lag).
    this.savingUntil = Infinity;
    let result: Awaited<ReturnType<JobStore['save']>>;
    try {
      result = await store.save();
    } finally {
      this.savingUntil = Date.now() + 2000;
    }
    if (result.merged) this.log.info(`Merged changes another process saved to ${store.file}.`);
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

  /** Closes and forgets the database (setting changed, or the file changed on disk). */
  async reset(): Promise<void> {
    const old = this.store;
    this.store = undefined;
    this.watcher?.dispose();
    this.watcher = undefined;
    if (old) (await old.catch(() => undefined))?.close();
    this.changed.fire();
  }

  private watch(file: string): void {
    this.watcher?.dispose();
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(path.dirname(file)), path.basename(file)));
    const reload = async (): Promise<void> => {
      if (Date.now() < this.savingUntil) return;
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
    this.watcher?.dispose();
    this.changed.dispose();
    void this.store?.then((s) => s.close(), () => undefined);
  }
}
