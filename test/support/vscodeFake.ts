/**
 * The few `vscode` API pieces the tree models use, for unit tests in plain Node (vitest aliases
 * `vscode` to this file). It records, it does not pretend: the e2e tests run the real VS Code.
 */
import { readdirSync } from 'node:fs';
import * as nodePath from 'node:path';

/** vscode.DiagnosticSeverity's values. */
export const DiagnosticSeverity = { Error: 0, Warning: 1, Information: 2, Hint: 3 } as const;
export const CodeActionKind = { QuickFix: 'quickfix' } as const;

export class Position {
  constructor(
    readonly line: number,
    readonly character: number,
  ) {}
}

/** vscode.Range from four numbers (the form the extension uses). */
export class Range {
  readonly start: Position;
  readonly end: Position;
  constructor(startLine: number, startCharacter: number, endLine: number, endCharacter: number) {
    this.start = new Position(startLine, startCharacter);
    this.end = new Position(endLine, endCharacter);
  }
}

export class Diagnostic {
  source?: string;
  code?: unknown;
  constructor(
    readonly range: Range,
    readonly message: string,
    readonly severity: number,
  ) {}
}

export class EventEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (listener: (e: T) => void): { dispose(): void } => {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

/** VS Code's CancellationTokenSource: `cancel()` sets its token's flag and tells its listeners (a progress notification's Cancel button). */
export class CancellationTokenSource {
  private readonly cancelled = new EventEmitter<void>();
  readonly token = {
    isCancellationRequested: false,
    onCancellationRequested: this.cancelled.event,
  };
  cancel(): void {
    this.token.isCancellationRequested = true;
    this.cancelled.fire();
  }
}

/**
 * window.withProgress for a test that cancels a notification: each task gets a token of its own,
 * whose Cancel button is given to `onCancel` (call it to cancel); reports go to `report`.
 */
export function cancellableProgress(onCancel: (cancel: () => void) => void, report: (p: { message?: string }) => void = () => undefined) {
  return async <T>(_options: unknown, task: (progress: { report(p: { message?: string }): void }, token: CancellationTokenSource['token']) => Promise<T>): Promise<T> => {
    const source = new CancellationTokenSource();
    onCancel(() => source.cancel());
    return task({ report }, source.token);
  };
}

export enum TreeItemCollapsibleState {
  None = 0,
  Collapsed = 1,
  Expanded = 2,
}

export class TreeItem {
  id?: string;
  description?: string;
  tooltip?: unknown;
  contextValue?: string;
  iconPath?: unknown;
  command?: { command: string; title: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: TreeItemCollapsibleState = TreeItemCollapsibleState.None,
  ) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class MarkdownString {
  constructor(readonly value: string) {}
}

/** Context keys set through `setContext`, for assertions. */
export const contextKeys = new Map<string, unknown>();

export const commands = {
  executeCommand: (command: string, key?: string, value?: unknown): Promise<void> => {
    if (command === 'setContext' && key !== undefined) contextKeys.set(key, value);
    return Promise.resolve();
  },
};

export class Uri {
  private constructor(readonly fsPath: string) {}
  static file(fsPath: string): Uri {
    return new Uri(fsPath);
  }
  get path(): string {
    return this.fsPath.split(nodePath.sep).join('/');
  }
  toString(): string {
    return `file://${this.path}`;
  }
}

/** Turns the glob subset the extension uses (`**`, `*`, `?`, `{a,b}`) into a regex over `/`-separated relative paths. */
function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (glob.startsWith('**/', i)) {
      re += '(?:.*/)?';
      i += 2;
    } else if (glob.startsWith('**', i)) {
      re += '.*';
      i += 1;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') re += '(?:';
    else if (c === '}') re += ')';
    else if (c === ',') re += '|';
    else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

function walk(dir: string, root: string, out: string[]): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = nodePath.join(dir, e.name);
    if (e.isDirectory()) walk(full, root, out);
    else if (e.isFile()) out.push(nodePath.relative(root, full).split(nodePath.sep).join('/'));
  }
}

/** A file-system watcher whose events the test fires by hand. */
export class FakeFileSystemWatcher {
  readonly changed = new EventEmitter<Uri>();
  readonly created = new EventEmitter<Uri>();
  readonly deleted = new EventEmitter<Uri>();
  readonly onDidChange = this.changed.event;
  readonly onDidCreate = this.created.event;
  readonly onDidDelete = this.deleted.event;
  disposed = false;
  constructor(readonly glob: string) {}
  dispose(): void {
    this.disposed = true;
  }
}

let workspaceRoot: string | undefined;
/** Every watcher created through `workspace.createFileSystemWatcher`, in order. */
export const fileSystemWatchers: FakeFileSystemWatcher[] = [];
/** Settings by section, then key, read through `workspace.getConfiguration`. */
const settings = new Map<string, Record<string, unknown>>();
const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();

/** Points the fake workspace (`findFiles`) at a real folder; undefined = no folder open. */
export function setWorkspaceRoot(dir: string | undefined): void {
  workspaceRoot = dir;
}

/** Replaces a settings section's values (e.g. `setConfiguration('sparkOptimizer', { eventLogFolders: ['logs'] })`). */
export function setConfiguration(section: string, values: Record<string, unknown>): void {
  settings.set(section, { ...values });
}

/** Fires `onDidChangeConfiguration` as VS Code does after the given full keys (`section.key`) changed. */
export function fireConfigurationChange(keys: string[]): void {
  configurationChanged.fire({ affectsConfiguration: (s) => keys.some((k) => k === s || k.startsWith(`${s}.`)) });
}

/** Open documents (`workspace.textDocuments`) and their open events, fired by a test with `documentOpened.fire(doc)`. */
export const textDocuments: unknown[] = [];
export const documentOpened = new EventEmitter<unknown>();
const noDocumentEvent = new EventEmitter<unknown>().event;

/** What diagnostic collections were last given, by file (`languages.createDiagnosticCollection`). */
export const diagnosticsPublished = new Map<string, { range: Range; severity: number; code?: unknown; message: string }[]>();

export const languages = {
  createDiagnosticCollection: () => ({
    set: (uri: { fsPath: string }, ds: { range: Range; severity: number; code?: unknown; message: string }[]) => void diagnosticsPublished.set(uri.fsPath, ds),
    delete: () => undefined,
    dispose: () => undefined,
  }),
  registerCodeActionsProvider: () => ({ dispose: () => undefined }),
  registerHoverProvider: () => ({ dispose: () => undefined }),
};

export const workspace = {
  textDocuments,
  onDidOpenTextDocument: documentOpened.event,
  onDidChangeTextDocument: noDocumentEvent,
  onDidCloseTextDocument: noDocumentEvent,
  findFiles(include: string, exclude?: string | null, maxResults?: number): Promise<Uri[]> {
    if (workspaceRoot === undefined) return Promise.resolve([]);
    const inc = globToRegExp(include);
    const exc = exclude ? globToRegExp(exclude) : undefined;
    const all: string[] = [];
    walk(workspaceRoot, workspaceRoot, all);
    const hits = all.filter((rel) => inc.test(rel) && !exc?.test(rel)).map((rel) => Uri.file(nodePath.join(workspaceRoot!, rel)));
    return Promise.resolve(maxResults === undefined ? hits : hits.slice(0, maxResults));
  },
  createFileSystemWatcher(glob: string): FakeFileSystemWatcher {
    const w = new FakeFileSystemWatcher(glob);
    fileSystemWatchers.push(w);
    return w;
  },
  onDidChangeConfiguration: configurationChanged.event,
  getConfiguration(section: string, _scope?: unknown): { get<T>(key: string): T | undefined } {
    return { get: <T>(key: string): T | undefined => settings.get(section)?.[key] as T | undefined };
  },
};
