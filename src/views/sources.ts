/**
 * Sources: every source from the workspace's collector configs (`spark-optimizer.yaml`,
 * `.spark-optimizer.yml`, either form) and from the `eventLogFolders` setting. The model owns the
 * list and fires changes; the tree adapts it.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analyzeConfig } from '../analysis/configAnalyzer';
import { formatFinding } from '../analysis/findings';
import { parseConfig, type ConfigError, type SourceConfig } from '../collectors/config';
import { descriptorOf, sourceLocation } from '../collectors/registry';
import type { RunRow } from '../storage/repository';
import { UNENDED_RUN } from '../storage/runState';
import { COMMANDS, CONTEXT, ITEM } from './commands';
import type { DatabaseService } from './database';
import { readSettings } from './settings';
import { plural } from '../common/format';
import { maskUrls } from '../common/safeUrl';

export interface Source {
  name: string;
  config: SourceConfig;
  /** The config file it came from; undefined for sources from settings. */
  configUri?: vscode.Uri;
  errors: string[];
}

/**
 * A source its config lists but that cannot run (its own errors; the file's other sources still
 * run), or a config file that cannot be read at all. Shown in the view with its errors, never run.
 */
export interface InvalidSource {
  invalid: true;
  /** The source's name (as written, or the one it would have had); the file's path for a file that cannot be read. */
  name: string;
  type?: string;
  configUri: vscode.Uri;
  /** 1-based line where the source starts, for "Open Config". */
  line?: number;
  /** Its place in the file (`sources:` index), or -1 for the whole file: with the file, a stable id. */
  index: number;
  /** "line N: message", in the file's order. */
  errors: string[];
}

/** What the Sources view lists. */
export type SourceNode = Source | InvalidSource;

export function isInvalidSource(node: unknown): node is InvalidSource {
  return typeof node === 'object' && node !== null && (node as { invalid?: unknown }).invalid === true;
}

/** The key of a source's secret in the editor's secret storage: by the name its records are stored under. */
export function secretKey(source: Pick<Source, 'config'>): string {
  return `sparkOptimizer.secret.${source.config.name}`;
}

/** `name`, or when a source found before has it, `name (folder)` (then `name (folder 2)`, …). */
function uniqueName(name: string, folder: string, found: readonly Source[]): string {
  const taken = (n: string): boolean => found.some((f) => f.name === n);
  if (!taken(name)) return name;
  for (let i = 1; ; i++) {
    const candidate = `${name} (${folder}${i > 1 ? ` ${i}` : ''})`;
    if (!taken(candidate)) return candidate;
  }
}

const CONFIG_GLOB = '**/{spark-optimizer.yaml,spark-optimizer.yml,.spark-optimizer.yml,.spark-optimizer.yaml}';

export class SourcesModel implements vscode.Disposable {
  private sources: Source[] = [];
  private nodes: SourceNode[] = [];
  /** Each config's text as its problems were last logged (logOnce). */
  private readonly logged = new Map<string, string>();
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

  /** The sources that can run. */
  get all(): readonly Source[] {
    return this.sources;
  }

  /** Every source and every invalid one, in config order (the view's list). */
  get entries(): readonly SourceNode[] {
    return this.nodes;
  }

  find(name: string): Source | undefined {
    return this.sources.find((s) => s.name === name);
  }

  async reload(): Promise<void> {
    const found: Source[] = [];
    const nodes: SourceNode[] = [];
    const files = await vscode.workspace.findFiles(CONFIG_GLOB, '**/node_modules/**', 50);
    for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
      let text: string;
      try {
        text = await readFile(uri.fsPath, 'utf8');
      } catch (err) {
        this.log.warn(`Cannot read ${uri.fsPath}: ${String(err)}`);
        continue;
      }
      const { sources, errors, invalid } = parseConfig(text, path.dirname(uri.fsPath));
      if (errors.length > 0) this.logOnce(uri.fsPath, text);
      const lines = (errs: readonly ConfigError[]): string[] => errs.map((e) => `${e.line !== undefined ? `line ${e.line}: ` : ''}${e.message}`);
      if (invalid === undefined) {
        const name = this.root ? path.relative(this.root.fsPath, uri.fsPath) : uri.fsPath;
        nodes.push({ invalid: true, name, configUri: uri, line: errors[0]?.line, index: -1, errors: lines(errors) });
        continue;
      }
      // Good and invalid sources in the order the file lists them.
      const inFile: { index: number; node: SourceNode }[] = invalid.map((bad) => ({ index: bad.index, node: { invalid: true, name: bad.name, type: bad.type, configUri: uri, line: bad.line, index: bad.index, errors: lines(bad.errors) } }));
      let next = 0;
      for (const s of sources) {
        while (invalid.some((bad) => bad.index === next)) next++;
        // A name another file took already is told apart by this file's folder, in the config as well:
        // records, runs, the stored secret and Show Jobs all go by the one name (a review: the secret
        // set for "hs (sub)" was looked up as "hs", and sent to the other file's server).
        const name = uniqueName(s.name, path.basename(path.dirname(uri.fsPath)), found);
        const source: Source = { name, config: name === s.name ? s : { ...s, name }, configUri: uri, errors: [] };
        found.push(source);
        inFile.push({ index: next++, node: source });
      }
      nodes.push(...inFile.sort((a, b) => a.index - b.index).map((e) => e.node));
    }
    if (this.root) {
      for (const folder of readSettings(this.log, this.root).eventLogFolders) {
        const abs = path.resolve(this.root.fsPath, folder);
        const source: Source = { name: `folder: ${folder}`, config: { type: 'event_log', name: `folder: ${folder}`, path: abs, recursive: true, batch_size: 100 }, errors: [] };
        found.push(source);
        nodes.push(source);
      }
    }
    this.sources = found;
    this.nodes = nodes;
    void vscode.commands.executeCommand('setContext', CONTEXT.hasSources, found.length > 0);
    this.changed.fire();
  }

  /**
   * Logs a config's problems as the Problems panel shows them (the same analyzer, its 1-based line and
   * column), once: a reload of an unchanged config (the view refreshing, another file saved) logs nothing.
   */
  private logOnce(file: string, text: string): void {
    if (this.logged.get(file) === text) return;
    this.logged.set(file, text);
    const findings = analyzeConfig(text, { baseDir: path.dirname(file), exists: existsSync }).filter((f) => f.severity === 'error' || f.severity === 'warning');
    for (const f of findings) this.log.warn(`${formatFinding(file, f)} (see the Problems panel)`);
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}


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
    // Set Source Secret only where it applies (a review: it was on every source).
    this.contextValue = descriptorOf(source.config.type).secret !== undefined ? ITEM.sourceWithSecret : ITEM.source;
    this.iconPath = new vscode.ThemeIcon(descriptorOf(source.config.type).icon);
    // A run without an end says whether it still goes (runState.ts RunState): a killed one's counts are not a result.
    const state = lastRun === undefined || lastRun.state === 'finished' ? undefined : UNENDED_RUN[lastRun.state];
    const run = lastRun
      ? `${ago(lastRun.started)}${state === undefined ? '' : ` (${state.word})`} · ${lastRun.new} new, ${lastRun.updated} updated${lastRun.errors.length > 0 ? `, ${plural(lastRun.errors.length, 'error')}` : ''}`
      : 'never collected';
    this.description = `${source.config.type} · ${run}`;
    // Configs may hold credentials in URLs (user:pw@, ?access_token=): never shown (common/safeUrl.ts).
    const where = maskUrls(sourceLocation(source.config));
    this.tooltip = new vscode.MarkdownString(
      [`**${source.name}** (${source.config.type})`, where && `\`${where}\``, lastRun ? `Last run ${lastRun.started}${state === undefined ? '' : ` (${state.word}: ${state.means})`}: ${lastRun.new} new, ${lastRun.updated} updated, ${lastRun.unchanged} unchanged, ${lastRun.skipped} skipped, ${lastRun.failed} failed` : 'Not collected yet', lastRun?.errors.length ? `Errors: ${maskUrls(lastRun.errors.slice(0, 3).join('; '))}` : '']
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}

/** Markdown's special characters in text quoted from a config, escaped. */
function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, '\\$&');
}

/** A source that cannot run: an error icon, its first error in the description, all of them in the tooltip. */
export class InvalidSourceItem extends vscode.TreeItem {
  constructor(readonly source: InvalidSource) {
    super(source.name, vscode.TreeItemCollapsibleState.None);
    this.id = `invalid:${source.configUri.fsPath}:${source.index}`;
    // No contextValue: none of the source commands (collect, dry run, secret) applies to it.
    this.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('list.errorForeground'));
    const what = source.index < 0 ? 'config cannot be read' : `${source.type ?? 'source'} · not collected`;
    this.description = `${what}: ${source.errors[0] ?? ''}`;
    const where = `${source.configUri.fsPath}${source.line !== undefined ? `:${source.line}` : ''}`;
    this.tooltip = new vscode.MarkdownString(
      [
        `**${escapeMarkdown(source.name)}**: ${source.index < 0 ? 'this config cannot be read, so none of its sources is collected' : 'this source is not collected until its config is fixed; the file\'s other sources are'}`,
        `\`${where}\``,
        ...source.errors.slice(0, 10).map((e) => `- ${escapeMarkdown(e)}`),
        source.errors.length > 10 ? `… and ${source.errors.length - 10} more (see the Problems panel)` : '',
      ]
        .filter(Boolean)
        .join('\n\n'),
    );
  }
}

export class SourcesTree implements vscode.TreeDataProvider<SourceNode>, vscode.Disposable {
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
      for (const r of store.latestRuns()) this.runs.set(r.source, r);
    } catch {
      this.runs = new Map();
    }
    this.changed.fire();
  }

  getTreeItem(source: SourceNode): vscode.TreeItem {
    const item = isInvalidSource(source) ? new InvalidSourceItem(source) : new SourceItem(source, this.runs.get(source.name));
    if (source.configUri) item.command = { command: COMMANDS.openConfig, title: 'Open Config', arguments: [source] };
    return item;
  }

  getChildren(element?: SourceNode): SourceNode[] {
    return element ? [] : [...this.model.entries];
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
