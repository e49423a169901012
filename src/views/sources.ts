/**
 * Sources: every source from the workspace's collector configs (`spark-optimizer.yaml`,
 * `.spark-optimizer.yml`, either form) and from the `eventLogFolders` setting. The model owns the
 * list and fires changes; the tree adapts it.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { parseConfig, type SourceConfig } from '../collectors/config';
import { sourceLocation } from '../collectors/sources';
import type { RunRow } from '../storage/repository';
import { COMMANDS, CONTEXT, ITEM } from './commands';
import type { DatabaseService } from './database';
import { readSettings } from './settings';

export interface Source {
  name: string;
  config: SourceConfig;
  /** The config file it came from; undefined for sources from settings. */
  configUri?: vscode.Uri;
  /** 1-based line of the source in its config, for "Open Config". */
  errors: string[];
}

const CONFIG_GLOB = '**/{spark-optimizer.yaml,spark-optimizer.yml,.spark-optimizer.yml,.spark-optimizer.yaml}';

export class SourcesModel implements vscode.Disposable {
  private sources: Source[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly root: vscode.Uri | undefined,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const watcher = vscode.workspace.createFileSystemWatcher(CONFIG_GLOB);
    const reload = (): void => void this.reload();
    this.disposables.push(watcher, watcher.onDidChange(reload), watcher.onDidCreate(reload), watcher.onDidDelete(reload), this.changed);
    this.disposables.push(vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('sparkOptimizer.eventLogFolders') && reload()));
  }

  get all(): readonly Source[] {
    return this.sources;
  }

  find(name: string): Source | undefined {
    return this.sources.find((s) => s.name === name);
  }

  async reload(): Promise<void> {
    const found: Source[] = [];
    const files = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 50);
    for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
      let text: string;
      try {
        text = await readFile(uri.fsPath, 'utf8');
      } catch (err) {
        this.log.warn(`Cannot read ${uri.fsPath}: ${String(err)}`);
        continue;
      }
      const { sources, errors } = parseConfig(text, path.dirname(uri.fsPath));
      if (errors.length > 0) this.log.warn(`${uri.fsPath}: ${errors.map((e) => `${e.line ?? '?'}: ${e.message}`).join('; ')} (see the Problems panel)`);
      for (const s of sources) found.push({ name: found.some((f) => f.name === s.name) ? `${s.name} (${path.basename(path.dirname(uri.fsPath))})` : s.name, config: s, configUri: uri, errors: [] });
    }
    if (this.root) {
      for (const folder of readSettings(this.log, this.root).eventLogFolders) {
        const abs = path.resolve(this.root.fsPath, folder);
        found.push({ name: `folder: ${folder}`, config: { type: 'event_log', name: `folder: ${folder}`, path: abs, recursive: true, batch_size: 100 }, errors: [] });
      }
    }
    this.sources = found;
    void vscode.commands.executeCommand('setContext', CONTEXT.hasSources, found.length > 0);
    this.changed.fire();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

const TYPE_ICONS: Record<SourceConfig['type'], string> = { event_log: 'file-text', history_server: 'server', emr: 'cloud', databricks: 'cloud', dataproc: 'cloud' };

function ago(iso: string): string {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export class SourceItem extends vscode.TreeItem {
  constructor(
    readonly source: Source,
    lastRun: RunRow | undefined,
  ) {
    super(source.name, vscode.TreeItemCollapsibleState.None);
    this.id = `source:${source.name}`;
    this.contextValue = ITEM.source;
    this.iconPath = new vscode.ThemeIcon(TYPE_ICONS[source.config.type]);
    const run = lastRun ? `${ago(lastRun.started)} · ${lastRun.new} new, ${lastRun.updated} updated${lastRun.errors.length > 0 ? `, ${lastRun.errors.length} errors` : ''}` : 'never collected';
    this.description = `${source.config.type} · ${run}`;
    const where = sourceLocation(source.config);
    this.tooltip = new vscode.MarkdownString(
      [`**${source.name}** (${source.config.type})`, where && `\`${where}\``, lastRun ? `Last run ${lastRun.started}: ${lastRun.new} new, ${lastRun.updated} updated, ${lastRun.unchanged} unchanged, ${lastRun.skipped} skipped, ${lastRun.failed} failed` : 'Not collected yet', lastRun?.errors.length ? `Errors: ${lastRun.errors.slice(0, 3).join('; ')}` : '']
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}

export class SourcesTree implements vscode.TreeDataProvider<Source>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private runs = new Map<string, RunRow>();
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly model: SourcesModel,
    private readonly db: DatabaseService,
  ) {
    this.subs = [model.onDidChange(() => void this.refresh()), db.onDidChange(() => void this.refresh()), this.changed];
  }

  /** Reads the last runs (I/O) before the tree asks, so getChildren stays cheap. */
  async refresh(): Promise<void> {
    try {
      const store = await this.db.open();
      this.runs = new Map();
      for (const r of store.listRuns(500)) if (!this.runs.has(r.source)) this.runs.set(r.source, r);
    } catch {
      this.runs = new Map();
    }
    this.changed.fire();
  }

  getTreeItem(source: Source): vscode.TreeItem {
    const item = new SourceItem(source, this.runs.get(source.name));
    if (source.configUri) item.command = { command: COMMANDS.openConfig, title: 'Open Config', arguments: [source] };
    return item;
  }

  getChildren(element?: Source): Source[] {
    return element ? [] : [...this.model.all];
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
