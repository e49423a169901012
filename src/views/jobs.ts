/**
 * Jobs view: the database's applications, grouped (source → day, or user), filtered and sorted,
 * loaded a page at a time. Group counts and pages are read when a node expands (the database is in
 * memory, so a page of 200 costs milliseconds); nothing is loaded for collapsed groups.
 */
import * as vscode from 'vscode';
import type { SparkAppRecord } from '../collectors/record';
import type { JobQuery, SortField } from '../storage/repository';
import { shownRegression } from '../storage/storedSecrets';
import { COMMANDS, CONTEXT, ITEM } from './commands';
import type { DatabaseService } from './database';
import { jobDescription, jobIcon, jobTooltip } from './format';

export const PAGE = 200;
export type Grouping = 'source' | 'user';

export type JobNode =
  | { kind: 'group'; level: 'source' | 'day' | 'user'; key: string; count: number; query: JobQuery }
  /** `regressed`: the summary of its stored regression check when that says regressed (issue 18). */
  | { kind: 'job'; record: SparkAppRecord; regressed?: string }
  | { kind: 'more'; query: JobQuery; offset: number; parentId: string };

export interface JobsState {
  grouping: Grouping;
  filter: Pick<JobQuery, 'name' | 'user' | 'status' | 'since' | 'source'>;
  sort: SortField;
  descending: boolean;
}

function nodeId(n: JobNode): string {
  if (n.kind === 'job') return `job:${n.record.app_id}:${n.record.attempt_id ?? ''}`;
  if (n.kind === 'more') return `more:${n.parentId}:${n.offset}`;
  return `group:${JSON.stringify(n.query)}`;
}

export class JobsTree implements vscode.TreeDataProvider<JobNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<JobNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  /** Extra pages loaded under a parent (by its id), appended after its first page. */
  private readonly extraPages = new Map<string, number>();
  state: JobsState = { grouping: 'source', filter: {}, sort: 'start_time', descending: true };
  private readonly subs: vscode.Disposable[];

  constructor(private readonly db: DatabaseService) {
    this.subs = [db.onDidChange(() => this.refresh()), this.changed];
  }

  refresh(): void {
    this.extraPages.clear();
    this.changed.fire(undefined);
  }

  setState(change: Partial<JobsState>): void {
    this.state = { ...this.state, ...change };
    this.refresh();
  }

  describeFilter(): string | undefined {
    const f = this.state.filter;
    const parts = [f.source && `source ${f.source}`, f.name && `name contains "${f.name}"`, f.user && `user ${f.user}`, f.status && `status ${f.status}`, f.since && `since ${f.since.slice(0, 10)}`].filter(Boolean);
    return parts.length > 0 ? `Filtered: ${parts.join(', ')}` : undefined;
  }

  /** The current view's query (filters only), for export. */
  currentQuery(): JobQuery {
    return { ...this.state.filter, sort: this.state.sort, descending: this.state.descending };
  }

  loadMore(node: Extract<JobNode, { kind: 'more' }>): void {
    this.extraPages.set(node.parentId, (this.extraPages.get(node.parentId) ?? 0) + 1);
    this.changed.fire(undefined);
  }

  getTreeItem(n: JobNode): vscode.TreeItem {
    if (n.kind === 'group') {
      const item = new vscode.TreeItem(n.key || '(none)', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = nodeId(n);
      item.description = `${n.count}`;
      item.contextValue = ITEM.group;
      item.iconPath = new vscode.ThemeIcon(n.level === 'day' ? 'calendar' : n.level === 'user' ? 'account' : 'database');
      return item;
    }
    if (n.kind === 'more') {
      const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);
      item.id = nodeId(n);
      item.contextValue = ITEM.more;
      item.command = { command: COMMANDS.loadMoreJobs, title: 'Load More Jobs', arguments: [n] };
      return item;
    }
    const r = n.record;
    const item = new vscode.TreeItem(r.app_name ?? r.app_id, vscode.TreeItemCollapsibleState.None);
    item.id = nodeId(n);
    item.description = n.regressed !== undefined ? `regressed: ${n.regressed} · ${jobDescription(r)}` : jobDescription(r);
    const [icon, color, why] = jobIcon(r, n.regressed);
    item.iconPath = new vscode.ThemeIcon(icon, new vscode.ThemeColor(color));
    item.tooltip = new vscode.MarkdownString(`$(${icon}) ${why}\n\n${jobTooltip(r)}`, true);
    item.contextValue = ITEM.job;
    item.command = { command: COMMANDS.openJob, title: 'Open Job', arguments: [n] };
    return item;
  }

  async getChildren(parent?: JobNode): Promise<JobNode[]> {
    let store;
    try {
      store = await this.db.open();
    } catch {
      // The view's welcome says the database cannot be opened (a review: it said "No jobs collected yet").
      void vscode.commands.executeCommand('setContext', CONTEXT.databaseError, true);
      return [];
    }
    void vscode.commands.executeCommand('setContext', CONTEXT.databaseError, false);
    const base: JobQuery = { ...this.state.filter };
    if (!parent) {
      const level = this.state.grouping === 'user' ? 'user' : 'source';
      const groups = store.groupCounts(level, base);
      // Counted only when the filter hides every group: on a shared server a count is another pass over the table.
      void vscode.commands.executeCommand('setContext', CONTEXT.hasJobs, groups.length > 0 || store.count() > 0);
      return groups.map((g) => ({ kind: 'group', level, key: g.key, count: g.count, query: { ...base, [level]: g.key } }));
    }
    if (parent.kind !== 'group') return [];
    if (parent.level === 'source') {
      return store.groupCounts('day', parent.query).map((g) => ({ kind: 'group', level: 'day', key: g.key, count: g.count, query: { ...parent.query, day: g.key } }));
    }
    const id = nodeId(parent);
    const pages = 1 + (this.extraPages.get(id) ?? 0);
    const records = store.list({ ...parent.query, sort: this.state.sort, descending: this.state.descending, limit: PAGE * pages });
    // The page's stored regression checks, in one read (issue 18).
    const checks = store.regressions(records);
    const nodes: JobNode[] = records.map((record, i) => {
      const c = checks[i];
      return c?.status === 'regressed' ? { kind: 'job', record, regressed: shownRegression(c).summary } : { kind: 'job', record };
    });
    // Only after a full page: a count the page cannot reach (rows deleted since) makes no dead "Load more".
    if (records.length === PAGE * pages && records.length < parent.count) nodes.push({ kind: 'more', query: parent.query, offset: records.length, parentId: id });
    return nodes;
  }

  dispose(): void {
    for (const d of this.subs) d.dispose();
  }
}
