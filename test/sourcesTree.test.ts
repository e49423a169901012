import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { JobStore } from '../src/storage/jobStore';
import type { DatabaseService } from '../src/views/database';
import { SourcesModel, SourcesTree, isInvalidSource, type Source, type SourceNode } from '../src/views/sources';
import { sourceLocation } from '../src/collectors/registry';
import { tempDir } from './support/tmp';
import {
  EventEmitter,
  Uri,
  contextKeys,
  fileSystemWatchers,
  fireConfigurationChange,
  setConfiguration,
  setWorkspaceRoot,
  type FakeFileSystemWatcher,
  type MarkdownString,
  type ThemeIcon,
} from './support/vscodeFake';

type ModelRoot = ConstructorParameters<typeof SourcesModel>[0];
type ModelLog = ConstructorParameters<typeof SourcesModel>[1];

/** A log that keeps its warnings for assertions. */
function fakeLog(): { log: ModelLog; warnings: string[] } {
  const warnings: string[] = [];
  const log = { warn: (m: string) => warnings.push(m), info: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined };
  return { log: log as unknown as ModelLog, warnings };
}

function write(root: string, rel: string, text: string): string {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** Resolves on the event's next firing. */
function next(event: (listener: () => void) => { dispose(): void }): Promise<void> {
  return new Promise((resolve) => {
    const sub = event(() => {
      sub.dispose();
      resolve();
    });
  });
}

interface Setup {
  root: string;
  model: SourcesModel;
  tree: SourcesTree;
  store: JobStore;
  dbChanged: EventEmitter<void>;
  watcher: FakeFileSystemWatcher;
  warnings: string[];
}

/** A model and tree over the workspace folder `root` (config files already written), with a real JobStore. */
async function setup(root: string, withRoot = true): Promise<Setup> {
  setWorkspaceRoot(root);
  const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
  const dbChanged = new EventEmitter<void>();
  const db = { open: () => Promise.resolve(store), onDidChange: dbChanged.event } as unknown as DatabaseService;
  const { log, warnings } = fakeLog();
  const watchersBefore = fileSystemWatchers.length;
  const model = new SourcesModel(withRoot ? (Uri.file(root) as unknown as ModelRoot) : undefined, log);
  expect(fileSystemWatchers.length).toBe(watchersBefore + 1);
  const watcher = fileSystemWatchers.at(-1)!;
  const tree = new SourcesTree(model, db);
  await model.reload();
  await tree.refresh();
  return { root, model, tree, store, dbChanged, watcher, warnings };
}

const nameOf = (s: Source): string => s.name;
const tooltipOf = (tree: SourcesTree, s: SourceNode): string => (tree.getTreeItem(s).tooltip as unknown as MarkdownString).value;

const COLLECTOR_FORM = `collector:
  type: event_log
  path: ./logs
`;

const LIST_FORM = `sources:
  - type: event_log
    name: local
    path: [spark-events, ../shared/events]
  - type: history_server
    name: hs
    history_server_url: http://history:18080
  - type: emr
    name: emr-prod
    region: us-east-1
  - type: databricks
    host: https://dbc-1234.cloud.databricks.com
  - type: dataproc
    name: dp
    project_id: my-proj
    region: europe-west1
`;

beforeEach(() => {
  contextKeys.clear();
  setConfiguration('sparkOptimizer', {});
});

describe('Sources model and tree', () => {
  it('lists the sources of every config file, in file order, with type and location', async () => {
    const root = tempDir();
    write(root, 'a/spark-optimizer.yaml', COLLECTOR_FORM);
    write(root, 'b/.spark-optimizer.yml', LIST_FORM);
    write(root, 'node_modules/pkg/spark-optimizer.yaml', 'collector:\n  type: event_log\n  name: vendored\n  path: x\n');
    write(root, 'b/other.yaml', 'collector:\n  type: event_log\n  name: not-a-config\n  path: x\n');
    const { model, tree, warnings } = await setup(root);

    const children = tree.getChildren();
    expect(children.filter(isInvalidSource)).toEqual([]);
    const sources = children as Source[];
    expect(sources.map(nameOf)).toEqual(['event_log', 'local', 'hs', 'emr-prod', 'databricks-4', 'dp']);
    expect(sources.map((s) => s.config.type)).toEqual(['event_log', 'event_log', 'history_server', 'emr', 'databricks', 'dataproc']);
    expect(sources[0]!.configUri!.fsPath).toBe(path.join(root, 'a', 'spark-optimizer.yaml'));
    expect(sources[2]!.configUri!.fsPath).toBe(path.join(root, 'b', '.spark-optimizer.yml'));
    expect(tree.getChildren(sources[0])).toEqual([]);
    expect(model.find('hs')?.config).toMatchObject({ type: 'history_server', history_server_url: 'http://history:18080' });
    expect(model.find('vendored')).toBeUndefined();

    const locations: Record<string, string> = {
      event_log: path.join(root, 'a', 'logs'),
      local: `${path.join(root, 'b', 'spark-events')}, ${path.join(root, 'shared', 'events')}`,
      hs: 'http://history:18080',
      'emr-prod': 'EMR us-east-1',
      'databricks-4': 'https://dbc-1234.cloud.databricks.com',
      dp: 'Dataproc my-proj / europe-west1',
    };
    for (const s of sources) {
      const item = tree.getTreeItem(s);
      expect(item.label).toBe(s.name);
      expect(item.id).toBe(`source:${s.name}`);
      // Set Source Secret's menu only on the types that take one (a review).
      expect(item.contextValue).toBe(['history_server', 'databricks', 'dataproc'].includes(s.config.type) ? 'sparkOptimizer.sourceWithSecret' : 'sparkOptimizer.source');
      expect(item.description).toBe(`${s.config.type} · never collected`);
      const tooltip = tooltipOf(tree, s);
      expect(tooltip).toContain(`**${s.name}** (${s.config.type})`);
      expect(tooltip).toContain(`\`${locations[s.name]}\``);
      expect(tooltip).toContain('Not collected yet');
      expect(item.command).toEqual({ command: 'sparkOptimizer.openConfig', title: 'Open Config', arguments: [s] });
    }
    expect(sources.map((s) => (tree.getTreeItem(s).iconPath as unknown as ThemeIcon).id)).toEqual(['file-text', 'file-text', 'server', 'cloud', 'cloud', 'cloud']);
    expect(contextKeys.get('sparkOptimizer.hasSources')).toBe(true);
    expect(warnings).toEqual([]);
  });

  it('disambiguates a name used in two config files with the second file’s folder', async () => {
    const root = tempDir();
    write(root, 'team-a/spark-optimizer.yaml', 'collector:\n  type: event_log\n  name: nightly\n  path: logs\n');
    write(root, 'team-b/spark-optimizer.yml', 'collector:\n  type: history_server\n  name: nightly\n  history_server_url: http://hs:18080\n');
    const { model, tree } = await setup(root);
    expect(model.all.map(nameOf)).toEqual(['nightly', 'nightly (team-b)']);
    expect(model.find('nightly (team-b)')?.config.type).toBe('history_server');
    // The config's name too: its records, runs and secret go by the name shown (editorReview.test.ts).
    expect(model.find('nightly (team-b)')?.config.name).toBe('nightly (team-b)');
    expect(tree.getTreeItem(model.all[1]!).id).toBe('source:nightly (team-b)');
  });

  it('keeps the good sources of a config with a bad one, shows the bad one and an unreadable file with their errors, and logs them (issue 14)', async () => {
    const root = tempDir();
    write(root, 'a/spark-optimizer.yaml', 'sources:\n  - type: history_server\n    name: broken\n    history_server_url: ftp://nope\n  - type: event_log\n    name: fine-but-same-file\n    path: x\n');
    write(root, 'b/spark-optimizer.yaml', 'collector: [unclosed\n');
    write(root, 'c/spark-optimizer.yaml', 'collector:\n  type: event_log\n  name: good\n  path: logs\n');
    const { model, tree, warnings } = await setup(root);
    // Only the sources that can run are collected ("Collect from All Sources" runs model.all).
    expect(model.all.map(nameOf)).toEqual(['fine-but-same-file', 'good']);
    const shown = tree.getChildren();
    expect(shown.map((n) => n.name)).toEqual(['broken', 'fine-but-same-file', path.join('b', 'spark-optimizer.yaml'), 'good']);
    const [broken, , unreadable] = shown;
    expect(isInvalidSource(broken) && isInvalidSource(unreadable)).toBe(true);
    const item = tree.getTreeItem(broken!);
    expect((item.iconPath as unknown as ThemeIcon).id).toBe('error');
    expect(item.contextValue).toBeUndefined(); // no collect / dry run / secret menu on it
    expect(item.description).toBe('history_server · not collected: line 4: sources.0.history_server_url: must be an http:// or https:// URL');
    expect(tooltipOf(tree, broken!)).toContain(`${path.join(root, 'a', 'spark-optimizer.yaml')}:2`);
    expect(tooltipOf(tree, broken!)).toContain('history\\_server\\_url: must be an http:// or https:// URL');
    expect(item.command).toMatchObject({ command: 'sparkOptimizer.openConfig', arguments: [broken] });
    expect(tree.getTreeItem(unreadable!).description).toMatch(/^config cannot be read: line 2: Flow/);
    expect(new Set(shown.map((n) => tree.getTreeItem(n).id)).size).toBe(4);
    expect(contextKeys.get('sparkOptimizer.hasSources')).toBe(true);
    // Logged as the Problems panel shows them (issue 16): the editor's analyzer, 1-based line and column.
    const [a, b] = [path.join(root, 'a', 'spark-optimizer.yaml'), path.join(root, 'b', 'spark-optimizer.yaml')];
    expect(warnings).toEqual([
      `${a}:4:25: error invalid-value "history_server_url": must be an http:// or https:// URL. (see the Problems panel)`,
      `${a}:7:11: error path-not-found ${path.join(root, 'a', 'x')} does not exist: collection names it, reads nothing from it and ends with exit status 1. (see the Problems panel)`,
      `${b}:2:1: error yaml-syntax Flow sequence in block collection must be sufficiently indented and end with a ] (see the Problems panel)`,
    ]);
    // Once: a reload of unchanged configs logs nothing again; a changed one is logged anew.
    await model.reload();
    expect(warnings).toHaveLength(3);
    write(root, 'b/spark-optimizer.yaml', 'collector: [still unclosed\n');
    await model.reload();
    expect(warnings).toHaveLength(4);

    rmSync(path.join(root, 'a'), { recursive: true });
    rmSync(path.join(root, 'c'), { recursive: true });
    await model.reload();
    expect(model.all).toEqual([]);
    expect(contextKeys.get('sparkOptimizer.hasSources')).toBe(false);
  });

  it('reloads when the watcher reports a changed, created or deleted config', async () => {
    const root = tempDir();
    const file = write(root, 'spark-optimizer.yaml', COLLECTOR_FORM);
    const { model, tree, watcher } = await setup(root);
    expect(watcher.glob).toContain('spark-optimizer.yaml');
    expect(model.all.map(nameOf)).toEqual(['event_log']);
    let modelFired = 0;
    model.onDidChange(() => modelFired++);

    writeFileSync(file, 'collector:\n  type: history_server\n  name: renamed\n  history_server_url: http://h:18080\n');
    const treeChanged = next(tree.onDidChangeTreeData);
    const changed = next(model.onDidChange);
    watcher.changed.fire(Uri.file(file));
    await changed;
    expect(modelFired).toBe(1);
    expect(model.all.map(nameOf)).toEqual(['renamed']);
    await treeChanged;
    expect(tree.getTreeItem(tree.getChildren()[0]!).description).toBe('history_server · never collected');

    const second = write(root, 'sub/.spark-optimizer.yaml', 'collector:\n  type: emr\n  name: added\n');
    const created = next(model.onDidChange);
    watcher.created.fire(Uri.file(second));
    await created;
    expect(model.all.map(nameOf)).toEqual(['renamed', 'added']);

    rmSync(file);
    rmSync(second);
    const deleted = next(model.onDidChange);
    watcher.deleted.fire(Uri.file(file));
    await deleted;
    expect(model.all).toEqual([]);
    expect(contextKeys.get('sparkOptimizer.hasSources')).toBe(false);
    expect(modelFired).toBe(3);

    model.dispose();
    expect(watcher.disposed).toBe(true);
  });

  it('adds a "folder: X" source per eventLogFolders setting and reloads when that setting changes', async () => {
    const root = tempDir();
    write(root, 'spark-optimizer.yaml', COLLECTOR_FORM);
    setConfiguration('sparkOptimizer', { eventLogFolders: ['logs/prod', '/abs/events'] });
    const { model, tree } = await setup(root);
    expect(model.all.map(nameOf)).toEqual(['event_log', 'folder: logs/prod', 'folder: /abs/events']);
    const folder = model.find('folder: logs/prod')!;
    expect(folder.configUri).toBeUndefined();
    expect(folder.config).toMatchObject({ type: 'event_log', name: 'folder: logs/prod', path: path.join(root, 'logs', 'prod'), recursive: true });
    expect(model.find('folder: /abs/events')!.config).toMatchObject({ path: path.resolve('/abs/events') });
    const item = tree.getTreeItem(folder);
    expect(item.description).toBe('event_log · never collected');
    expect(tooltipOf(tree, folder)).toContain(`\`${path.join(root, 'logs', 'prod')}\``);
    expect(item.command).toBeUndefined();

    let fired = 0;
    model.onDidChange(() => fired++);
    setConfiguration('sparkOptimizer', { eventLogFolders: ['other'] });
    fireConfigurationChange(['sparkOptimizer.retentionDays']);
    await model.reload(); // an unrelated change must not have started a reload of its own
    expect(fired).toBe(1);
    expect(model.all.map(nameOf)).toEqual(['event_log', 'folder: other']);

    setConfiguration('sparkOptimizer', { eventLogFolders: [] });
    const changed = next(model.onDidChange);
    fireConfigurationChange(['sparkOptimizer.eventLogFolders']);
    await changed;
    expect(fired).toBe(2);
    expect(model.all.map(nameOf)).toEqual(['event_log']);
  });

  it('has no folder sources without a workspace folder', async () => {
    const root = tempDir();
    setConfiguration('sparkOptimizer', { eventLogFolders: ['logs'] });
    const { model } = await setup(root, false);
    expect(model.all).toEqual([]);
    expect(contextKeys.get('sparkOptimizer.hasSources')).toBe(false);
  });

  it('shows each source’s last run from the database', async () => {
    const root = tempDir();
    write(root, 'spark-optimizer.yaml', LIST_FORM);
    const { model, tree, store, dbChanged } = await setup(root);
    const minutesAgo = (m: number): Date => new Date(Date.now() - m * 60_000);
    const counts = { seen: 0, new: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    store.startRun('old', 'hs', {}, minutesAgo(120));
    store.finishRun('old', { ...counts, seen: 9, new: 9 }, [], minutesAgo(119));
    store.startRun('latest', 'hs', {}, minutesAgo(5));
    store.finishRun('latest', { ...counts, seen: 6, new: 3, updated: 1, unchanged: 2 }, [], minutesAgo(4));
    store.startRun('bad', 'emr-prod', {}, minutesAgo(60 * 50));
    store.finishRun('bad', { ...counts, seen: 2, failed: 2 }, ['cluster j-1 gone', 'throttled'], minutesAgo(60 * 50));

    const refreshed = next(tree.onDidChangeTreeData);
    dbChanged.fire();
    await refreshed;

    const hs = model.find('hs')!;
    expect(tree.getTreeItem(hs).description).toBe('history_server · 5 min ago · 3 new, 1 updated');
    expect(tooltipOf(tree, hs)).toContain('3 new, 1 updated, 2 unchanged, 0 skipped, 0 failed');
    expect(tooltipOf(tree, hs)).toContain('`http://history:18080`');
    const emr = model.find('emr-prod')!;
    expect(tree.getTreeItem(emr).description).toBe('emr · 2 d ago · 0 new, 0 updated, 2 errors');
    expect(tooltipOf(tree, emr)).toContain('Errors: cluster j-1 gone; throttled');
    expect(tree.getTreeItem(model.find('dp')!).description).toBe('dataproc · never collected');
  });

  it('says when a source’s last run has no end: running, interrupted (its process killed), or unfinished (an older version’s)', async () => {
    const root = tempDir();
    write(root, 'spark-optimizer.yaml', LIST_FORM);
    const { model, tree, store } = await setup(root);
    const minutesAgo = (m: number): Date => new Date(Date.now() - m * 60_000);
    // This editor's own collection, going.
    store.startRun('going', 'hs', {}, minutesAgo(1));
    // A CLI's collection killed on another host two hours ago: its sign of life stopped then.
    store.startRun('killed', 'emr-prod', {}, minutesAgo(120), { host: 'cron-host.example', pid: 4242, heartbeat: minutesAgo(120).toISOString() });
    store.startRun('old', 'dp', {}, minutesAgo(60), null);
    await tree.refresh();
    expect(tree.getTreeItem(model.find('hs')!).description).toBe('history_server · 1 min ago (running) · 0 new, 0 updated');
    expect(tree.getTreeItem(model.find('emr-prod')!).description).toBe('emr · 2 h ago (interrupted) · 0 new, 0 updated');
    expect(tooltipOf(tree, model.find('emr-prod')!)).toContain('interrupted: its process ended before the run did');
    expect(tree.getTreeItem(model.find('dp')!).description).toBe('dataproc · 1 h ago (unfinished) · 0 new, 0 updated');
    store.finishRun('going', { seen: 1, new: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0 }, []);
    await tree.refresh();
    expect(tree.getTreeItem(model.find('hs')!).description).toBe('history_server · 1 min ago · 1 new, 0 updated');
  });

  it('shows a source’s last run however many runs of other sources came after it (a review: 500 newer ones made it "never collected")', async () => {
    const root = tempDir();
    write(root, 'spark-optimizer.yaml', LIST_FORM);
    const { model, tree, store } = await setup(root);
    const counts = { seen: 1, new: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0 };
    const minutesAgo = (m: number): Date => new Date(Date.now() - m * 60_000);
    store.startRun('hs-1', 'hs', {}, minutesAgo(700));
    store.finishRun('hs-1', counts, [], minutesAgo(700));
    for (let i = 0; i < 600; i++) {
      store.startRun(`emr-${i}`, 'emr-prod', {}, minutesAgo(600 - i));
      store.finishRun(`emr-${i}`, counts, [], minutesAgo(600 - i));
    }
    await tree.refresh();
    expect(tree.getTreeItem(model.find('hs')!).description).toBe('history_server · 11 h ago · 1 new, 0 updated');
  });

  it('never shows credentials written into any source location, nor in its last errors (a review)', async () => {
    const root = tempDir();
    write(
      root,
      'spark-optimizer.yaml',
      `sources:
  - type: databricks
    name: dbx
    host: https://tok:dapiSECRET1@dbc-1.cloud.databricks.com
  - type: databricks
    name: dbx2
    host: https://dbc-2.cloud.databricks.com
    endpoint_url: https://u:SECRET2@proxy.example.com/?token=SECRET3
  - type: history_server
    name: hsq
    history_server_url: https://history.example.com:18080/?access_token=SECRET4&view=all
  - type: emr
    name: emr
    region: us-east-1
    endpoint_url: https://a:SECRET5@emr.example.com?X-Amz-Signature=SECRET6
  - type: dataproc
    name: dp
    project_id: p
    region: r
    endpoint_url: https://b:SECRET7@dataproc.example.com/?key=SECRET8
`,
    );
    const { model, tree, store } = await setup(root);
    store.startRun('r1', 'hsq', {});
    store.finishRun('r1', { seen: 1, new: 0, updated: 0, unchanged: 0, skipped: 0, failed: 1 }, ['GET https://history.example.com:18080/api/v1/applications?access_token=SECRET9: 401']);
    await tree.refresh();
    expect(model.all).toHaveLength(5);
    const shown = model.all.map((s) => tooltipOf(tree, s)).join('\n');
    expect(shown).not.toMatch(/SECRET|dapi|tok:|u:|a:|b:/);
    expect(tooltipOf(tree, model.find('hsq')!)).toContain('`https://history.example.com:18080/?access_token=***&view=all`');
    expect(tooltipOf(tree, model.find('emr')!)).toContain('`EMR us-east-1 at https://emr.example.com/?X-Amz-Signature=***`');
  });

  it('never shows a password written into a source URL', () => {
    const hs = { type: 'history_server', name: 'h', history_server_url: 'https://ops:s3cret@history.example.com:18080/x' } as Parameters<typeof sourceLocation>[0];
    expect(sourceLocation(hs)).toBe('https://history.example.com:18080/x');
  });
});
