/** Commands on sources: collect, dry run, cancel, create/open config, set a secret, reveal jobs. */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as vscode from 'vscode';
import type { CollectionController } from './collection';
import { COMMANDS } from './commands';
import type { JobsTree } from './jobs';
import { DESCRIPTORS, descriptorOf } from '../collectors/registry';
import { isInvalidSource, secretKey, type InvalidSource, type Source, type SourceNode, type SourcesModel } from './sources';

/** A new config file: every source type's starter entry (registry.ts), the first ready to run, the others commented out. */
export const STARTER = `# Spark Optimizer collector config: the sources to collect Spark job metrics from.
# Each source has a name and a type (${DESCRIPTORS.map((d) => d.type).join(', ')}).
sources:
${DESCRIPTORS.map((d) => d.starter).join('')}`;

function isSource(v: unknown): v is Source {
  return typeof v === 'object' && v !== null && 'config' in v && 'name' in v;
}

/** What a command that needs a source says when none applies, and the button that helps. */
export interface NoSource {
  text: string;
  action?: { title: 'Create' | 'Open Config'; arg?: InvalidSource };
}

/**
 * Why no source applies, in words that fit: sources that cannot run (their config has errors: the
 * first is named, with Open Config), sources none of which the command applies to (`none`), or no
 * source at all. A config whose only source was invalid was told "no sources yet. Create a
 * spark-optimizer.yaml", and Set Source Secret over event-log sources the same (a review).
 */
export function noSourceMessage(entries: readonly SourceNode[], none?: string): NoSource {
  const runnable = entries.filter((e) => !isInvalidSource(e));
  if (runnable.length > 0 && none !== undefined) return { text: `${none}.` };
  const invalid = entries.filter(isInvalidSource);
  if (invalid.length > 0) {
    const first = invalid[0]!;
    const file = vscode.workspace.asRelativePath(first.configUri, false);
    const what = first.index < 0 ? `the config ${file} cannot be read` : `the source ${first.name} in ${file} has errors`;
    const others = invalid.length > 1 ? ` (and ${invalid.length - 1} more source${invalid.length > 2 ? 's' : ''} with errors)` : '';
    return { text: `no source can run: ${what}${others}: ${first.errors[0] ?? 'see the Problems panel'}. Fix the config (see the Problems panel).`, action: { title: 'Open Config', arg: first } };
  }
  return { text: 'no sources yet. Create a spark-optimizer.yaml first, or add event-log folders in the setting sparkOptimizer.eventLogFolders.', action: { title: 'Create' } };
}

/** Shows noSourceMessage; its button runs Create Config or Open Config. */
function noSources(model: SourcesModel, none?: string): void {
  const { text, action } = noSourceMessage(model.entries, none);
  const show = (t: string, ...items: string[]): Thenable<string | undefined> => (action?.title === 'Open Config' ? vscode.window.showWarningMessage(t, ...items) : vscode.window.showInformationMessage(t, ...items));
  void show(`Spark Optimizer: ${text}`, ...(action ? [action.title] : [])).then((a) => {
    if (a === 'Create') void vscode.commands.executeCommand(COMMANDS.createConfig);
    else if (a === 'Open Config') void vscode.commands.executeCommand(COMMANDS.openConfig, action?.arg);
  });
}

async function pickSource(model: SourcesModel, arg: unknown, title: string, among: (s: Source) => boolean = () => true, none?: string): Promise<Source | undefined> {
  if (isSource(arg)) return arg;
  // Several sources: always ask, listing those the command applies to (one left is still confirmed).
  const sources = model.all.filter(among);
  if (sources.length === 0) {
    noSources(model, none);
    return undefined;
  }
  if (model.all.length === 1) return model.all[0];
  const pick = await vscode.window.showQuickPick(
    sources.map((s) => ({ label: s.name, description: descriptorOf(s.config.type).title, source: s })),
    { title },
  );
  return pick?.source;
}

export function register(
  deps: { model: SourcesModel; collection: CollectionController; jobs: JobsTree; root: vscode.Uri | undefined; trusted: () => boolean; showFilter: () => void },
  context: vscode.ExtensionContext,
): void {
  const { model, collection, root } = deps;
  const needTrust = (): boolean => {
    if (deps.trusted()) return true;
    void vscode.window.showWarningMessage('Spark Optimizer: collection is off in untrusted workspaces. Trust this workspace to collect.');
    return false;
  };
  context.subscriptions.push(
    vscode.commands.registerCommand(COMMANDS.collectSource, async (arg: unknown) => {
      if (!needTrust()) return;
      const s = await pickSource(model, arg, 'Collect from which source?');
      if (s) await collection.run([s]);
    }),
    vscode.commands.registerCommand(COMMANDS.collectAll, async () => {
      if (!needTrust()) return;
      if (model.all.length === 0) {
        noSources(model);
        return;
      }
      await collection.run(model.all);
    }),
    vscode.commands.registerCommand(COMMANDS.dryRun, async (arg: unknown) => {
      if (!needTrust()) return;
      const s = await pickSource(model, arg, 'Dry run which source? (nothing is stored)');
      if (s) await collection.run([s], { dryRun: true });
    }),
    vscode.commands.registerCommand(COMMANDS.cancelCollection, () => collection.cancel()),
    vscode.commands.registerCommand(COMMANDS.createConfig, async () => {
      if (!root) {
        void vscode.window.showWarningMessage('Spark Optimizer: open a folder first.');
        return;
      }
      const uri = vscode.Uri.joinPath(root, 'spark-optimizer.yaml');
      if (!existsSync(uri.fsPath)) await writeFile(uri.fsPath, STARTER);
      await vscode.window.showTextDocument(uri);
      await model.reload();
    }),
    vscode.commands.registerCommand(COMMANDS.openConfig, async (arg: unknown) => {
      // A source that cannot run: its config, at the source's line.
      if (isInvalidSource(arg)) {
        const at = new vscode.Position(Math.max(0, (arg.line ?? 1) - 1), 0);
        await vscode.window.showTextDocument(arg.configUri, { selection: new vscode.Range(at, at) });
        return;
      }
      const s = isSource(arg) ? arg : undefined;
      if (s?.configUri) await vscode.window.showTextDocument(s.configUri);
      else if (s) await vscode.commands.executeCommand('workbench.action.openSettings', 'sparkOptimizer.eventLogFolders');
    }),
    vscode.commands.registerCommand(COMMANDS.revealSourceJobs, async (arg: unknown) => {
      const s = await pickSource(model, arg, 'Show the jobs of which source?');
      if (!s) return;
      deps.jobs.setState({ grouping: 'source', filter: { source: s.name } });
      deps.showFilter();
      await vscode.commands.executeCommand('sparkOptimizer.jobs.focus');
    }),
    vscode.commands.registerCommand(COMMANDS.setSourceSecret, async (arg: unknown) => {
      // Only the source types that take a secret from the editor (their descriptor says which).
      const s = await pickSource(model, arg, 'Set the secret (token or password) of which source?', (src) => descriptorOf(src.config.type).secret !== undefined, `no source takes a secret from the editor (${DESCRIPTORS.filter((d) => d.secret !== undefined).map((d) => d.title).join(', ')} sources do)`);
      if (!s) return;
      const what = descriptorOf(s.config.type).secret;
      if (what === undefined) {
        void vscode.window.showInformationMessage(`Spark Optimizer: ${s.name} (${descriptorOf(s.config.type).title}) takes no secret from the editor; its credentials are read the platform's way.`);
        return;
      }
      const value = await vscode.window.showInputBox({ title: `Secret for ${s.name} (${what})`, prompt: 'Stored in the editor’s secret storage, never in settings or logs.', password: true, ignoreFocusOut: true });
      if (value === undefined) return;
      await context.secrets.store(secretKey(s), value);
      void vscode.window.showInformationMessage(`Spark Optimizer: secret for ${s.name} saved.`);
    }),
  );
}
