/**
 * Diagnostics for event logs and collector configs: one adapter (Finding -> vscode.Diagnostic),
 * one controller (debounced per document, re-run on change, cleared on close), quick fixes from the
 * findings' fixes, and hovers. Documents over 1 MB are analyzed on the analysis worker; files the
 * editor cannot hand us at all (over 50 MB, compressed) are checked from disk by diskCheck.ts.
 */
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analyzeConfig, looksLikeConfig } from '../analysis/configAnalyzer';
import { analyzeEventLogText, discoveredContext, folderIndex, readsFolderNames, siblingsFor } from '../analysis/eventLogAnalyzer';
import type { Finding, FindingSeverity } from '../analysis/findings';
import { existsSync } from 'node:fs';
import { describeConfigKey, describeEvent } from '../analysis/hover';
import type { AnalysisWorker } from './analysisWorker';
import { readSettings } from './settings';
import { settingsReadLimits } from './settingsSchema';

const SOURCE = 'spark-optimizer';
const DEBOUNCE_MS = 300;
const CONFIG_NAME = /(^|[\\/])\.?spark-optimizer\.ya?ml$/;
export const EVENT_LOG_LANGUAGE = 'spark-eventlog';

const SEVERITY: Record<FindingSeverity, vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  information: vscode.DiagnosticSeverity.Information,
  hint: vscode.DiagnosticSeverity.Hint,
};

function toRange(r: Finding['range']): vscode.Range {
  return new vscode.Range(r.start.line, r.start.character, r.end.line, r.end.character);
}

export function toDiagnostic(f: Finding): vscode.Diagnostic {
  const d = new vscode.Diagnostic(toRange(f.range), f.message, SEVERITY[f.severity]);
  d.source = SOURCE;
  d.code = f.code;
  return d;
}

type Kind = 'eventlog' | 'config';

function kindOf(doc: vscode.TextDocument): Kind | undefined {
  if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled') return undefined;
  if (doc.languageId === EVENT_LOG_LANGUAGE) return 'eventlog';
  if (CONFIG_NAME.test(doc.fileName)) return 'config';
  if (doc.languageId === 'yaml' && looksLikeConfig(doc.getText())) return 'config';
  return undefined;
}

/** Documents bigger than this are analyzed on the analysis worker, so typing never waits for it. */
const ON_THREAD_LIMIT = 1024 * 1024;

/**
 * What a document reads of its folder's names (eventLogAnalyzer.ts siblingsFor): listed, on this
 * thread, only for a rolling or Databricks part, not at each analysis of every log.
 */
function siblingsOf(file: string): readonly string[] {
  const name = path.basename(file);
  if (!readsFolderNames(name)) return [];
  try {
    return siblingsFor(name, folderIndex(readdirSync(path.dirname(file))));
  } catch {
    return []; // an untitled or remote document: no folder to look at
  }
}

/**
 * A document's findings. An event log gets the context `validate` gives the same file (a review: the
 * editor passed only its name and folder's names, so it missed an in-progress rolling log, a Spark
 * 1.x folder's version and the line limit): what discovery tells of it, and collection's line limit
 * from the settings.
 */
async function analyze(doc: vscode.TextDocument, kind: Kind, worker: AnalysisWorker, log: vscode.LogOutputChannel): Promise<Finding[]> {
  const dir = path.dirname(doc.fileName);
  if (kind === 'config') return analyzeConfig(doc.getText(), { baseDir: dir, exists: existsSync });
  const discovered = doc.uri.scheme === 'file' ? await discoveredContext(doc.fileName) : {};
  const text = doc.getText();
  const { maxLineBytes } = settingsReadLimits(readSettings(log, doc.uri));
  const ctx = { fileName: path.basename(doc.fileName), siblings: siblingsOf(doc.fileName), maxLineBytes };
  return text.length > ON_THREAD_LIMIT
    ? worker.analyze({ text, ...ctx, discovered })
    : analyzeEventLogText(text, { ...ctx, ...discovered });
}

export class DiagnosticsController implements vscode.Disposable, vscode.CodeActionProvider, vscode.HoverProvider {
  private readonly collection = vscode.languages.createDiagnosticCollection(SOURCE);
  private readonly findings = new Map<string, Finding[]>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly worker: AnalysisWorker,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subs.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.clear(d.uri)),
      vscode.languages.registerCodeActionsProvider([{ language: EVENT_LOG_LANGUAGE }, { language: 'yaml' }], this, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix] }),
      vscode.languages.registerHoverProvider([{ language: EVENT_LOG_LANGUAGE }, { language: 'yaml' }], this),
    );
    // A config's findings depend on the disk too (path-not-found): a folder created or deleted in the
    // workspace checks the open configs again (a review: 'does not exist (yet)' stayed after mkdir).
    const paths = vscode.workspace.createFileSystemWatcher('**/*', false, true, false);
    const recheckConfigs = (): void => {
      for (const d of vscode.workspace.textDocuments) if (kindOf(d) === 'config') this.schedule(d, DEBOUNCE_MS);
    };
    this.subs.push(paths, paths.onDidCreate(recheckConfigs), paths.onDidDelete(recheckConfigs));
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    const kind = kindOf(doc);
    if (!kind) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (doc.isClosed) return;
        const version = doc.version;
        const publish = (found: Finding[]): void => {
          if (doc.isClosed || doc.version !== version) return; // a newer analysis is on its way
          this.findings.set(key, found);
          this.collection.set(doc.uri, found.map(toDiagnostic));
        };
        analyze(doc, kind, this.worker, this.log).then(publish, () => undefined);
      }, delay),
    );
  }

  private clear(uri: vscode.Uri): void {
    const key = uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.findings.delete(key);
    this.collection.delete(uri);
  }

  provideCodeActions(doc: vscode.TextDocument, range: vscode.Range | vscode.Selection): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    for (const f of this.findings.get(doc.uri.toString()) ?? []) {
      if (!f.fixes || !toRange(f.range).intersection(range)) continue;
      for (const fix of f.fixes) {
        const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
        action.edit = new vscode.WorkspaceEdit();
        action.edit.replace(doc.uri, toRange(fix.range), fix.newText);
        action.diagnostics = [toDiagnostic(f)];
        action.isPreferred = f.fixes.length === 1;
        actions.push(action);
      }
    }
    return actions;
  }

  provideHover(doc: vscode.TextDocument, position: vscode.Position): vscode.Hover | undefined {
    const text = doc.lineAt(position.line).text;
    const kind = kindOf(doc);
    const words = kind === 'eventlog' ? describeEvent(text) : kind === 'config' ? describeConfigKey(text, position.character) : undefined;
    return words ? new vscode.Hover(new vscode.MarkdownString(words)) : undefined;
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const s of this.subs) s.dispose();
  }
}
