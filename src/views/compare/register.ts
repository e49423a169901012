/**
 * Compare two runs (issue 15): one panel per pair of runs, A (the baseline) against B, refreshed when
 * the database changes, restored after a reload by a WebviewPanelSerializer from the keys the page
 * saved. The comparison is computed here, in the host, by compareRuns (the CLI's `compare` prints the
 * same one) and put in words by compareModel.
 *
 * Ways in:
 * - Compare with Previous Run on a job: A is the run of its name that started last before it.
 * - `COMMANDS.compareJobs` with two job keys (the jobs table's "compare the two selected"): A, B as given.
 * - The same command on a Jobs tree node (its context menu) asks for the other run; from the palette,
 *   for both. Picked runs are ordered by start time: the earlier one is A.
 * - With `canSelectMany` on the tree, a context menu gets (node, selectedNodes): two selected compare.
 */
import * as vscode from 'vscode';
import { compareRuns } from '../../analysis/compare';
import type { SparkAppRecord } from '../../collectors/record';
import { shownRecord } from '../../storage/storedSecrets';
import { formatDuration, formatLocalTime, plural } from '../../common/format';
import { COMMANDS } from '../commands';
import type { DatabaseService } from '../database';
import { isJobKey, jobKeyText, type JobKey } from '../jobPage/protocol';
import { webviewOptions } from '../webviewHtml';
import { compareModel, compareTitle } from './model';
import { ComparePanel, VIEW_TYPE } from './panel';
import { isPageState } from './protocol';

export interface CompareDeps {
  db: DatabaseService;
  log: vscode.LogOutputChannel;
}

/** The newest runs a pick offers (the quick pick filters them as one types). */
export const PICK_LIMIT = 2_000;

const sameKey = (x: JobKey, y: JobKey): boolean => jobKeyText(x) === jobKeyText(y);
const runText = (k: JobKey): string => `${k.app_id}${k.attempt_id ? ` (attempt ${k.attempt_id})` : ''}`;

/** A Jobs tree node (its record), a record or a bare key, as a key; anything else is undefined. */
function keyOf(arg: unknown): JobKey | undefined {
  if (typeof arg !== 'object' || arg === null) return undefined;
  const rec = (arg as { record?: unknown }).record ?? arg;
  return isJobKey(rec) ? { app_id: rec.app_id, attempt_id: rec.attempt_id } : undefined;
}

/**
 * What Compare Two Runs was called with: two runs (two keys, A then B as given; or a tree's
 * selection of two, to be put in start order), one run (a tree node: ask for the other), or
 * none (the palette: ask for both).
 */
export type CompareArgs = { kind: 'two'; a: JobKey; b: JobKey; byStart: boolean } | { kind: 'one'; a: JobKey } | { kind: 'none' };

export function compareArgs(first: unknown, second: unknown): CompareArgs {
  // A tree with canSelectMany calls a context command with the clicked node and all the selected ones.
  if (Array.isArray(second)) {
    const selected = second.map(keyOf);
    if (selected.length === 2 && selected[0] && selected[1]) return { kind: 'two', a: selected[0], b: selected[1], byStart: true };
    second = undefined;
  }
  const [a, b] = [keyOf(first), keyOf(second)];
  if (a && b) return { kind: 'two', a, b, byStart: false };
  return a ? { kind: 'one', a } : { kind: 'none' };
}

/** The two runs by start time, the earlier first (a run without one keeps its place). */
function byStart(x: SparkAppRecord, y: SparkAppRecord): [SparkAppRecord, SparkAppRecord] {
  return x.start_time !== null && y.start_time !== null && y.start_time < x.start_time ? [y, x] : [x, y];
}

interface RunItem extends vscode.QuickPickItem {
  record?: SparkAppRecord;
}

function runItem(r: SparkAppRecord): RunItem {
  const failed = r.failed_tasks > 0 ? `, ${r.failed_tasks.toLocaleString('en-US')} failed` : '';
  return {
    label: r.app_name ?? r.app_id,
    description: `${formatLocalTime(r.start_time)} · ${runText(r)}`,
    detail: `${r.status} · ${formatDuration(r.duration_ms)} · ${plural(r.total_tasks, 'task')}${failed} · ${r.source}`,
    record: r,
  };
}

export function register(deps: CompareDeps, context: vscode.ExtensionContext): void {
  const { db, log } = deps;
  const pages = new Map<string, ComparePanel>();
  const pairText = (a: JobKey, b: JobKey): string => `${jobKeyText(a)}\u0001${jobKeyText(b)}`;

  const load = async (page: ComparePanel): Promise<void> => {
    const store = await db.open();
    // Masked as shown (storedSecrets.ts): an older client sharing the database may have stored secrets.
    const [a, b] = [store.get(page.a), store.get(page.b)].map((r) => r && shownRecord(r));
    if (!a || !b) {
      const gone = [a ? null : `A, ${runText(page.a)},`, b ? null : `B, ${runText(page.b)},`].filter(Boolean).join(' and ');
      page.post({ type: 'missing', message: `Run ${gone} ${a || b ? 'is' : 'are'} no longer in the database.` });
      return;
    }
    const started = Date.now();
    const model = compareModel(compareRuns({ record: a, summaries: store.summariesOf(a) }, { record: b, summaries: store.summariesOf(b) }));
    page.panel.title = model.title;
    page.post({ type: 'model', model });
    log.debug(`Compare ${a.app_id} with ${b.app_id}: ${model.stages.length} stages, ${model.config.length} properties differ, model in ${Date.now() - started} ms`);
  };

  const attach = (panel: vscode.WebviewPanel, a: JobKey, b: JobKey, title: string): ComparePanel => {
    const page = new ComparePanel(panel, a, b, context.extensionUri, title, {
      log,
      load,
      handle: async (p, m) => {
        if (m.type === 'openRun') {
          await vscode.commands.executeCommand(COMMANDS.openJob, m.side === 'a' ? p.a : p.b);
          return;
        }
        const other = pages.get(pairText(p.b, p.a));
        if (other) {
          other.panel.reveal();
          return;
        }
        pages.delete(pairText(p.a, p.b));
        [p.a, p.b] = [p.b, p.a];
        pages.set(pairText(p.a, p.b), p);
        await load(p);
      },
    });
    pages.set(pairText(a, b), page);
    page.onDidDispose(() => pages.delete(pairText(page.a, page.b)));
    return page;
  };

  /** Opens (or reveals) the comparison of A with B. */
  const show = (a: SparkAppRecord, b: SparkAppRecord): void => {
    const [ka, kb] = [keyOf(a)!, keyOf(b)!];
    if (sameKey(ka, kb)) {
      void vscode.window.showInformationMessage(`Spark Optimizer: pick two different runs to compare (both are ${runText(ka)}).`);
      return;
    }
    const open = pages.get(pairText(ka, kb));
    if (open) {
      open.panel.reveal();
      return;
    }
    const title = compareTitle(a, b);
    attach(vscode.window.createWebviewPanel(VIEW_TYPE, title, vscode.ViewColumn.Active, webviewOptions(context.extensionUri)), ka, kb, title);
  };

  /** Asks for the other run of a comparison with `first` (its name's runs listed first), or for two runs when there is no first. */
  const pick = async (first: SparkAppRecord | undefined): Promise<[SparkAppRecord, SparkAppRecord] | undefined> => {
    const store = await db.open();
    const runs = store.list({ sort: 'start_time', descending: true, limit: PICK_LIMIT }).filter((r) => !first || !sameKey(r, first));
    if (runs.length < (first ? 1 : 2)) {
      void vscode.window.showInformationMessage(`Spark Optimizer: there ${first ? 'is no other run' : 'are not two runs'} in the database to compare.`);
      return undefined;
    }
    if (!first) {
      const picked = await vscode.window.showQuickPick(runs.map(runItem), { title: 'Compare two runs: pick two (the earlier is A, the baseline)', canPickMany: true, matchOnDescription: true, matchOnDetail: true });
      if (!picked) return undefined;
      if (picked.length !== 2) {
        void vscode.window.showInformationMessage(`Spark Optimizer: pick exactly two runs to compare (${picked.length} picked).`);
        return undefined;
      }
      return byStart(picked[0]!.record!, picked[1]!.record!);
    }
    const same = runs.filter((r) => r.app_name === first.app_name);
    const others = runs.filter((r) => r.app_name !== first.app_name);
    const items: RunItem[] = [
      ...(same.length > 0 ? [{ label: `Runs of ${first.app_name ?? first.app_id}`, kind: vscode.QuickPickItemKind.Separator }, ...same.map(runItem)] : []),
      ...(others.length > 0 ? [{ label: 'Other runs', kind: vscode.QuickPickItemKind.Separator }, ...others.map(runItem)] : []),
    ];
    const other = await vscode.window.showQuickPick(items, { title: `Compare ${first.app_name ?? first.app_id} (${formatLocalTime(first.start_time)}) with…`, matchOnDescription: true, matchOnDetail: true });
    return other?.record ? byStart(first, other.record) : undefined;
  };

  context.subscriptions.push(
    { dispose: () => [...pages.values()].forEach((p) => p.dispose()) },
    vscode.commands.registerCommand(COMMANDS.compareJobs, async (first: unknown, second: unknown) => {
      const args = compareArgs(first, second);
      const store = await db.open();
      const keys = args.kind === 'two' ? [args.a, args.b] : args.kind === 'one' ? [args.a] : [];
      const runs = keys.map((k) => store.get(k));
      const gone = keys.filter((_k, i) => !runs[i]);
      if (gone.length > 0) {
        void vscode.window.showInformationMessage(`Spark Optimizer: ${gone.map(runText).join(' and ')} ${gone.length === 1 ? 'is' : 'are'} not in the database.`);
        return;
      }
      const [a, b] = runs as SparkAppRecord[];
      if (args.kind === 'two') {
        const [x, y] = args.byStart ? byStart(a!, b!) : [a!, b!];
        show(x, y);
        return;
      }
      const pair = await pick(a);
      if (pair) show(...pair);
    }),
    // This run (B) against the run of its name that started last before it (A), as `spark-optimizer compare A --previous` picks it.
    vscode.commands.registerCommand(COMMANDS.compareWithPrevious, async (arg: unknown) => {
      const key = keyOf(arg);
      if (!key) return;
      const store = await db.open();
      const r = store.get(key);
      if (!r) return;
      const previous = store.previousRun(r);
      if (!previous) {
        void vscode.window.showInformationMessage(`Spark Optimizer: ${r.app_name ?? r.app_id} has no earlier run of the same name in the database.`);
        return;
      }
      show(previous, r);
    }),
    vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, {
      deserializeWebviewPanel: (panel, state: unknown) => {
        if (!isPageState(state)) {
          panel.dispose(); // a page from before it saved its runs: nothing to show
          return Promise.resolve();
        }
        attach(panel, state.a, state.b, 'Compare');
        return Promise.resolve();
      },
    }),
    db.onDidChange(() => {
      for (const page of pages.values()) void load(page).catch((err: unknown) => log.warn(`Compare refresh: ${String(err)}`));
    }),
  );
}
