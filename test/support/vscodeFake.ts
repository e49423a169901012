/**
 * The few `vscode` API pieces the tree models use, for unit tests in plain Node (vitest aliases
 * `vscode` to this file). It records, it does not pretend: the e2e tests run the real VS Code.
 */
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
