/** Commands on the Jobs view and the database: open, filter, group, sort, export, delete, retention. */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { recheckAfterRemoval, type RecheckStore } from '../analysis/regression';
import type { RegressionConfig } from '../analysis/regressionThresholds';
import { STATUSES, sparkAppRecordSchema, type SparkAppRecord } from '../collectors/record';
import { SORT_FIELDS, type LaterRun } from '../storage/repository';
import { shownRecord, shownRecords } from '../storage/storedSecrets';
import { COMMANDS } from './commands';
import type { DatabaseService } from './database';
import { jobDocument } from './format';
import { isJobKey } from './jobPage/protocol';
import type { JobNode, JobsTree } from './jobs';
import { readSettings, regressionThresholds } from './settings';
import { plural } from '../common/format';
import { parseTime } from '../common/parseTime';

const SCHEME = 'spark-optimizer-job';
/** Clear All deletes this many records per statement list. */
const CLEAR_PAGE = 1000;

function isJobNode(v: unknown): v is Extract<JobNode, { kind: 'job' }> {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'job';
}

/** A source's config by its name, where its `regression:` keys are (SourcesModel.find). */
export type SourceConfigs = (source: string) => { regression?: RegressionConfig } | undefined;

/**
 * Removes runs with `remove` (a delete, a retention), then checks again the runs whose stored
 * verdicts had them in their baselines (regression.ts recheckAfterRemoval), with their sources'
 * thresholds: a verdict must not go on quoting a run that is gone. Resolves with what `remove` returns.
 */
export async function removeAndRecheck(
  store: RecheckStore,
  remove: (removed: LaterRun[]) => number,
  log: vscode.LogOutputChannel,
  configs: SourceConfigs | undefined,
  onCheck?: (checked: number, total: number) => void,
): Promise<number> {
  const removed: LaterRun[] = [];
  const n = remove(removed);
  // Each source's `regression:` keys over the settings, as a collection of it checks with; a source no longer configured, the settings (as the job page says).
  const again = await recheckAfterRemoval(store, removed, (source) => regressionThresholds(log, configs?.(source)), onCheck);
  if (again > 0) log.info(`Checked ${plural(again, 'run')} against ${again === 1 ? 'its' : 'their'} history again: deleted runs were in ${again === 1 ? 'its baseline' : 'their baselines'}.`);
  return n;
}

export function register(
  deps: {
    db: DatabaseService;
    tree: JobsTree;
    view: vscode.TreeView<JobNode>;
    log: vscode.LogOutputChannel;
    root: vscode.Uri | undefined;
    /** The configured sources (SourcesModel): the thresholds a deleted run's later runs are checked again with; a source it does not find, the settings'. */
    sources: { find(name: string): { config: { regression?: RegressionConfig } } | undefined };
  },
  context: vscode.ExtensionContext,
): void {
  const { db, tree, view, log } = deps;
  const configs: SourceConfigs = (source) => deps.sources.find(source)?.config;
  const records = new Map<string, SparkAppRecord>();
  const changed = new vscode.EventEmitter<vscode.Uri>();
  const showFilter = (): void => {
    view.message = tree.describeFilter();
  };

  context.subscriptions.push(
    changed,
    vscode.workspace.registerTextDocumentContentProvider(SCHEME, {
      onDidChange: changed.event,
      provideTextDocumentContent: (uri) => {
        const r = records.get(uri.toString());
        return r ? jobDocument(r) : 'This job is no longer in the database.';
      },
    }),
    // The record as Markdown + JSON (the Job page, jobPage/register.ts, is what Open Job shows): from a Jobs tree node or a job key (the page's button).
    vscode.commands.registerCommand(COMMANDS.openJobJson, async (arg: unknown) => {
      const stored = isJobNode(arg) ? arg.record : isJobKey(arg) ? (await db.open()).get(arg) : undefined;
      if (!stored) return;
      // Masked as shown (storedSecrets.ts): an older client sharing the database may have stored secrets.
      const r = shownRecord(stored);
      const uri = vscode.Uri.from({ scheme: SCHEME, path: `/${r.app_id}${r.attempt_id ? `-attempt-${r.attempt_id}` : ''}.md` });
      records.set(uri.toString(), r);
      changed.fire(uri);
      const doc = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(doc, { preview: true });
    }),
    vscode.commands.registerCommand(COMMANDS.loadMoreJobs, (arg: unknown) => {
      if (typeof arg === 'object' && arg !== null && (arg as { kind?: unknown }).kind === 'more') tree.loadMore(arg as Extract<JobNode, { kind: 'more' }>);
    }),
    vscode.commands.registerCommand(COMMANDS.groupJobs, async () => {
      const pick = await vscode.window.showQuickPick(
        [
          { label: 'Source, then day', value: 'source' as const },
          { label: 'User', value: 'user' as const },
        ],
        { title: 'Group jobs by' },
      );
      if (pick) tree.setState({ grouping: pick.value });
    }),
    vscode.commands.registerCommand(COMMANDS.sortJobs, async () => {
      const pick = await vscode.window.showQuickPick(
        SORT_FIELDS.flatMap((f) => [
          { label: `${f} (newest / largest first)`, field: f, descending: true },
          { label: `${f} (oldest / smallest first)`, field: f, descending: false },
        ]),
        { title: 'Sort jobs by' },
      );
      if (pick) tree.setState({ sort: pick.field, descending: pick.descending });
    }),
    vscode.commands.registerCommand(COMMANDS.filterJobs, async () => {
      const current = tree.state.filter;
      const text = await vscode.window.showInputBox({
        title: 'Filter jobs',
        prompt: 'Words such as: name:etl user:maria status:failed since:2024-06-01 source:nightly (empty clears the filter)',
        value: filterText(current),
        validateInput: (v) => {
          const words = filterWords(v);
          if (words === undefined) return 'a quote is not closed: write a value with spaces as name:"Daily Revenue"';
          for (const { key: k, value } of words) {
            if (k === 'status' && !(STATUSES as readonly string[]).includes(value)) return `status must be one of ${STATUSES.join(', ')}`;
            if (k === 'since' && parseTime(value) === undefined) return 'since must be a date or time such as 2024-06-01 or 2024-06-01T12:00 (local time)';
            if (k === undefined) continue;
            if (!['name', 'user', 'status', 'since', 'source'].includes(k)) return `unknown filter "${k}": use name:, user:, status:, since:, source:`;
          }
          return undefined;
        },
      });
      if (text === undefined) return;
      tree.setState({ filter: filterOf(text) });
      showFilter();
    }),
    vscode.commands.registerCommand(COMMANDS.exportJobs, async () => {
      const target = await vscode.window.showSaveDialog({ title: 'Export the jobs in the current view', filters: { CSV: ['csv'], 'JSON lines': ['jsonl', 'json'] }, defaultUri: deps.root && vscode.Uri.joinPath(deps.root, 'spark-jobs.csv') });
      if (!target) return;
      const store = await db.open();
      const rows = shownRecords(store.list(tree.currentQuery()));
      const fields = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];
      const cell = (v: unknown): string => {
        const s = v === null || v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v);
        return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
      };
      const text = target.fsPath.endsWith('.csv') ? [fields.join(','), ...rows.map((r) => fields.map((f) => cell(r[f])).join(','))].join('\n') : rows.map((r) => JSON.stringify(r)).join('\n');
      await writeFile(target.fsPath, `${text}\n`);
      void vscode.window.showInformationMessage(`Spark Optimizer: exported ${plural(rows.length, 'job')} to ${path.basename(target.fsPath)}.`);
    }),
    vscode.commands.registerCommand(COMMANDS.deleteJob, async (arg: unknown) => {
      if (!isJobNode(arg)) return;
      await db.write((store) => removeAndRecheck(store, (removed) => store.delete([arg.record], removed), log, configs));
    }),
    vscode.commands.registerCommand(COMMANDS.clearJobs, async () => {
      const store = await db.open();
      const n = store.count();
      if (n === 0) {
        void vscode.window.showInformationMessage(`Spark Optimizer: no collected jobs to delete in ${store.where}.`);
        return;
      }
      const ok = await vscode.window.showWarningMessage(`Delete all ${n} collected jobs from ${store.where}? Collecting again restores them from their sources.`, { modal: true }, 'Delete');
      if (ok !== 'Delete') return;
      await db.write((held) => {
        // A page of keys at a time: a shared server may hold more records than this process should load at once.
        // Nothing is checked again: every run goes (a run another writer stores meanwhile is checked by its collection).
        for (let page = held.list({ limit: CLEAR_PAGE }); page.length > 0; page = held.list({ limit: CLEAR_PAGE })) {
          if (held.delete(page.map((r) => ({ app_id: r.app_id, attempt_id: r.attempt_id }))) === 0) break;
        }
      });
      log.info(`Deleted ${plural(n, 'job')}.`);
    }),
    vscode.commands.registerCommand(COMMANDS.applyRetention, async () => {
      let days = readSettings(log, deps.root).retentionDays;
      if (days === 0) {
        const answer = await vscode.window.showInputBox({ title: 'Delete jobs older than how many days?', value: '90', validateInput: (v) => (/^\d+$/.test(v) && Number(v) > 0 ? undefined : 'a whole number of days') });
        if (!answer) return;
        days = Number(answer);
      }
      const dropped = await db.write((store) => removeAndRecheck(store, (removed) => store.applyRetention(days, undefined, removed), log, configs));
      void vscode.window.showInformationMessage(`Spark Optimizer: deleted ${plural(dropped, 'job')} older than ${plural(days, 'day')}.`);
    }),
    vscode.commands.registerCommand(COMMANDS.openDatabaseLocation, async () => {
      let loc;
      try {
        loc = db.location();
      } catch (err) {
        void vscode.window.showErrorMessage(`Spark Optimizer: ${(err as Error).message}`);
        return;
      }
      if (loc.kind === 'postgres') {
        // The URL without its password (location.ts `display`): what may be copied and shown.
        await vscode.env.clipboard.writeText(loc.display);
        void vscode.window.showInformationMessage(`Spark Optimizer: the database is the PostgreSQL server ${loc.display} (URL copied).`);
        return;
      }
      const file = loc.file;
      await vscode.env.clipboard.writeText(file);
      const uri = vscode.Uri.file(path.dirname(file));
      await vscode.commands.executeCommand('revealInExplorer', uri).then(undefined, () => undefined);
      void vscode.window.showInformationMessage(`Spark Optimizer: the database is ${file} (path copied).`);
    }),
  );
}

/** A since filter's instant as it is typed back in: the local date, with the time when it is not midnight. */
export function localSince(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number): string => String(n).padStart(2, '0');
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return d.getHours() === 0 && d.getMinutes() === 0 ? day : `${day}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** One word of a filter: `key:value`, or a bare value (key undefined), quotes taken off. */
interface FilterWord {
  key: string | undefined;
  value: string;
}

/**
 * The words of a filter: separated by spaces, except inside double quotes, so that a value with
 * spaces is written `name:"Daily Revenue"` or `source:"folder: logs"` (a review: they were split at
 * the space); `\"` and `\\` inside quotes are a quote and a backslash. Undefined for an open quote.
 */
export function filterWords(text: string): FilterWord[] | undefined {
  const words: FilterWord[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    let word = '';
    let key: string | undefined;
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i]!)) {
      const c = text[i]!;
      if (c === ':' && key === undefined && !quoted) {
        key = word;
        word = '';
        i++;
      } else if (c === '"') {
        quoted = true;
        i++;
        let closed = false;
        while (i < text.length) {
          const q = text[i]!;
          if (q === '\\' && i + 1 < text.length) {
            word += text[i + 1];
            i += 2;
          } else if (q === '"') {
            closed = true;
            i++;
            break;
          } else {
            word += q;
            i++;
          }
        }
        if (!closed) return undefined;
      } else {
        word += c;
        i++;
      }
    }
    // A word that ends at its colon ("etl:") is a name, as before.
    words.push(key !== undefined && word === '' && !quoted ? { key: undefined, value: `${key}:` } : { key, value: word });
  }
  return words;
}

/** A value as the filter box shows it: quoted when it has a space or a quote (filterWords reads it back). */
function quoted(value: string): string {
  return /[\s"\\]/.test(value) || value === '' ? `"${value.replace(/["\\]/g, '\\$&')}"` : value;
}

/** The filter as it is typed, to edit it: each value quoted when it needs it. */
export function filterText(f: JobsTree['state']['filter']): string {
  return [f.source && `source:${quoted(f.source)}`, f.name && `name:${quoted(f.name)}`, f.user && `user:${quoted(f.user)}`, f.status && `status:${f.status}`, f.since && `since:${localSince(f.since)}`].filter(Boolean).join(' ');
}

/** The Jobs tree's filter from what was typed (validated first): `name:etl since:2024-06-01 …`, a bare word a name. */
export function filterOf(text: string): JobsTree['state']['filter'] {
  const filter: JobsTree['state']['filter'] = {};
  for (const { key: k, value } of filterWords(text) ?? []) {
    if (k === undefined) filter.name = value;
    else if (k === 'name') filter.name = value;
    else if (k === 'user') filter.user = value;
    else if (k === 'status') filter.status = value as SparkAppRecord['status'];
    // Read as the CLI and the jobs table read it (local time), not as new Date() reads a date alone (UTC).
    else if (k === 'since') filter.since = parseTime(value)!.toISOString();
    else if (k === 'source') filter.source = value;
  }
  return filter;
}
