/**
 * Collection from the editor: each run parses in a worker thread (the host thread only upserts
 * batches into the database), shows a cancellable notification with files / apps / rate, and ends
 * with one summary line and a link to the log. One run at a time; it owns its worker and progress.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import type { Batch, CollectProgress } from '../collectors/contract';
import type { StoredSecret } from '../collectors/descriptor';
import { formatProblem } from '../collectors/record';
import { errorDetail, errorText } from '../common/errors';
import { formatBytes, groupDigits, plural } from '../common/format';
import { maskUrls } from '../common/safeUrl';
import { maskSecretText } from '../common/secretText';
import { descriptorOf } from '../collectors/registry';
import { collectRun, dryRunSink, plan, storeSink, type RegressedRun, type Runner } from '../pipeline';
import { ProblemLogs, SaveSchedule, emptyCounts, type ProblemLog } from '../storage/ingest';
import type { RunCounts } from '../storage/repository';
import { collectInWorker } from '../worker/collectClient';
import { WORKER_BUNDLES } from '../worker/bundles';
import { COMMANDS, CONTEXT } from './commands';
import { regressedText } from './format';
import type { DatabaseService } from './database';
import { removeAndRecheck } from './jobCommands';
import { readSettings, regressionThresholds } from './settings';
import { settingsJobDefaults } from './settingsSchema';
import { secretKey, type Source } from './sources';

export interface RunOptions {
  dryRun?: boolean;
  /** Background runs (auto-collect) show progress in the status bar area, not a notification. */
  quiet?: boolean;
}

/** What a collection returns: its counts, and the runs it stored that regressed against their history (issue 18). */
export type CollectionTotals = RunCounts & { regressed: RegressedRun[] };

const SHOW_PROBLEMS = 'Show Problems';
const SHOW_REGRESSED = 'Show Regressed';


/** "finding logs… 1,234" while event logs are discovered, then "12 of 8,000 logs, 12 apps, 40 MB/s". */
export function progressText(p: CollectProgress, eventLogs: boolean, started: number): string {
  if (p.phase === 'discovering') return `finding logs… ${groupDigits(p.logsFound)}`;
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  const rate = eventLogs ? `, ${formatBytes(p.bytesRead / secs)}/s` : '';
  return `${groupDigits(p.logsDone)} of ${plural(p.logsFound, eventLogs ? 'log' : 'application')}, ${plural(p.apps, 'app')}${rate}`;
}

/**
 * A Show Problems entry: a log by its file name and folder; an application or a source's run by its
 * source and where it read, credentials masked (a review: History Server problems were labelled
 * `v1`, path.basename of their URL, and a run's own failures were left out).
 */
export function problemItem(log: ProblemLog): { label: string; description: string; detail: string } {
  const first = log.problems[0]!;
  const more = log.problems.length > 1 ? ` (+${groupDigits(log.problems.length - 1)} more)` : '';
  // Line and column as the Problems panel shows them (Ln, Col), 1-based like every problem.
  const detail = `${first.severity}: ${first.line !== undefined ? `Ln ${first.line}${first.column !== undefined ? `, Col ${first.column}` : ''}: ` : ''}${maskUrls(first.message)}${more}`;
  const where = log.location !== undefined ? maskUrls(log.location) : undefined;
  if (log.file !== undefined) return { label: path.basename(log.file), description: [path.dirname(log.file), ...(log.source !== undefined ? [log.source] : [])].join(' · '), detail };
  if (log.app !== undefined) return { label: log.app, description: ['application', log.source, where].filter((x) => x !== undefined).join(' · '), detail };
  return { label: log.source ?? where ?? 'collection', description: where !== undefined && log.source !== undefined ? where : 'the source run', detail };
}

/** "4,000 new, 0 updated, …": digits grouped as in the progress and problem counts (a review: "4000 new" beside "4,000 logs"). */
export function countsText(c: RunCounts): string {
  return `${groupDigits(c.new)} new, ${groupDigits(c.updated)} updated, ${groupDigits(c.unchanged)} unchanged, ${groupDigits(c.skipped)} skipped, ${groupDigits(c.failed)} failed`;
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

export class CollectionController implements vscode.Disposable {
  private current: { cancel: () => void } | undefined;
  /**
   * The failures background runs have shown: each is shown once, and again only after a background
   * run without it (a review: auto-collect showed the same error toasts every interval).
   */
  private shownQuietly = new Set<string>();
  /** The failures of the background run under way. */
  private quietFailures = new Set<string>();

  constructor(
    private readonly extensionPath: string,
    private readonly db: DatabaseService,
    private readonly log: vscode.LogOutputChannel,
    private readonly root: vscode.Uri | undefined,
    private readonly secrets: vscode.SecretStorage,
  ) {}

  get running(): boolean {
    return this.current !== undefined;
  }

  cancel(): void {
    this.current?.cancel();
  }

  async run(sources: readonly Source[], options: RunOptions = {}): Promise<CollectionTotals | undefined> {
    if (this.current) {
      void vscode.window.showInformationMessage('Spark Optimizer: a collection is already running.');
      return undefined;
    }
    const runnable = sources;
    if (runnable.length === 0) return undefined;
    const settings = readSettings(this.log, this.root);
    const total: CollectionTotals = { ...emptyCounts(), regressed: [] };
    const withProblems = new ProblemLogs();
    // The run's one cancel, from the notification or the Cancel command: the worker is told to stop;
    // what it had read to the end (and sent) is stored, then the run ends (ingest's `signal`).
    const abort = new AbortController();
    this.current = { cancel: () => abort.abort() };
    const started = Date.now();
    let release: (() => Promise<void>) | undefined;
    void vscode.commands.executeCommand('setContext', CONTEXT.collecting, true);
    try {
      await vscode.window.withProgress(
        {
          location: options.quiet ? vscode.ProgressLocation.Window : vscode.ProgressLocation.Notification,
          title: `Spark Optimizer: ${options.dryRun ? 'dry run of' : 'collecting'} ${runnable.length === 1 ? runnable[0]!.name : `${runnable.length} sources`}`,
          cancellable: !options.quiet,
        },
        async (progress, token) => {
          const onCancel = token.onCancellationRequested(() => abort.abort());
          // Held until the run has saved: a reset meanwhile (Refresh, a settings change) waits for it.
          const lease = options.dryRun ? undefined : await this.db.openForWriting();
          release = lease?.release;
          const store = lease?.store;
          await store?.checkWritable();
          // One schedule for the whole run: saved every 15 s and once at its end, not after each source (issue #13).
          const saves = store ? new SaveSchedule(() => this.db.save(), 15_000) : undefined;
          try {
            // By the name the source's records are stored under, which plan's `stored` looks up (sources.ts secretKey).
            const secrets = new Map<string, StoredSecret>();
            for (const source of runnable) {
              const secret = await this.secrets.get(secretKey(source));
              if (secret) secrets.set(source.config.name, { secret, from: `the editor's secret storage (source '${source.config.name}')` });
            }
            const planned = plan(
              runnable.map((s) => s.config),
              { defaults: settingsJobDefaults(settings), stored: (s) => secrets.get(s.name), newestEndTime: store && ((name) => store.newestEndTime(name)) },
            );
            for (const { source, message } of planned.failed) {
              this.log.error(`Source ${source}: ${message}`);
              if (this.shouldShow(`source ${source}: ${message}`, options)) void vscode.window.showErrorMessage(`Spark Optimizer: source ${source}: ${message}`);
            }
            const bundle = (name: string): string => path.join(this.extensionPath, 'dist', name);
            const inWorker: Runner = ({ job }, signal) => {
              // Only a job that skips unchanged files is sent the store's known files (a full table read and copy).
              const known = store && descriptorOf(job.kind).skipsUnchangedFiles ? store.knownFiles() : [];
              const run = collectInWorker(bundle(WORKER_BUNDLES.collect), { job, known, poolScript: bundle(WORKER_BUNDLES.eventLog) }, (pr) =>
                // The title names a lone source: its progress is not prefixed with the name again (a review: "collecting bigger: bigger: …").
                progress.report({ message: `${runnable.length === 1 ? '' : `${job.name}: `}${progressText(pr, job.kind === 'event_log', started)}` }),
              );
              const stop = (): void => run.cancel();
              signal.addEventListener('abort', stop, { once: true });
              // A run that ended on its own has nothing left to cancel; one that failed is stopped.
              return { batches: run.batches, close: () => (signal.removeEventListener('abort', stop), run.cancel()) };
            };
            // The settings' thresholds; a source's `regression:` keys win over them (pipeline.ts).
            const sink = store
              ? storeSink(store, {
                  saves,
                  sliceSize: 10,
                  regression: { thresholds: regressionThresholds(this.log, undefined) },
                  onCheck: (checked, total) => progress.report({ message: `checking runs against their history: ${groupDigits(checked)} of ${plural(total, 'run')}` }),
                })
              : dryRunSink;
            const result = await collectRun(planned.jobs, inWorker, sink, abort.signal, (batch, { job }) => {
              withProblems.add(batch, job.name);
              this.logProblems(batch);
              if (store) this.db.notify();
            });
            for (const k of Object.keys(result.counts) as (keyof RunCounts)[]) total[k] += result.counts[k];
            total.regressed.push(...result.regressed);
          } catch (err) {
            // What the run collected before the failure is kept.
            await saves?.flush().catch((saveErr: unknown) => this.log.error(`Saving what was collected failed too: ${errorText(saveErr)}`));
            throw err;
          } finally {
            onCancel.dispose();
          }
          if (store && !options.dryRun && settings.retentionDays > 0 && !abort.signal.aborted) {
            // The runs whose verdicts had a dropped run in their baselines are checked again, with their
            // sources' thresholds as the collection checks (this run's sources; another's, the settings').
            const configs = (name: string): Source['config'] | undefined => runnable.find((s) => s.config.name === name)?.config;
            const dropped = await removeAndRecheck(store, (removed) => store.applyRetention(settings.retentionDays, undefined, removed), this.log, configs, (checked, total) =>
              progress.report({ message: `checking runs against their history again after retention: ${groupDigits(checked)} of ${plural(total, 'run')}` }),
            );
            if (dropped > 0) this.log.info(`Retention: dropped ${plural(dropped, 'job')} older than ${plural(settings.retentionDays, 'day')}.`);
          }
          await saves?.flush();
        },
      );
    } catch (err) {
      this.log.error(`Collection failed: ${errorDetail(err)}`);
      if (this.shouldShow(`collection failed: ${errorText(err)}`, options)) void vscode.window.showErrorMessage(`Spark Optimizer: collection failed: ${errorText(err)}`, 'Show Log').then((a) => a && this.log.show());
      return undefined;
    } finally {
      if (options.quiet) {
        this.shownQuietly = this.quietFailures;
        this.quietFailures = new Set();
      }
      // After the last save: a reset that waited for the run happens now.
      await release?.().catch((err: unknown) => this.log.error(`Reopening the jobs database failed: ${errorText(err)}`));
      this.current = undefined;
      void vscode.commands.executeCommand('setContext', CONTEXT.collecting, false);
    }
    const cancelled = abort.signal.aborted;
    const summary = `${cancelled ? 'Cancelled: ' : ''}${countsText(total)}${withProblems.summary()}${options.dryRun ? ' (dry run, nothing stored)' : ''}`;
    this.log.info(`Collection ${summary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!options.quiet) {
      const problems = withProblems.all;
      const buttons = problems.length > 0 ? [SHOW_PROBLEMS, 'Show Log'] : ['Show Log'];
      void vscode.window.showInformationMessage(`Spark Optimizer: ${summary}`, ...buttons).then((a) => {
        if (a === 'Show Log') this.log.show();
        else if (a === SHOW_PROBLEMS) void this.showProblems(problems);
      });
    }
    // Runs worse than their own history (issue 18): one notification, even for a background run; its
    // button opens the jobs table on them.
    if (total.regressed.length > 0) {
      const text = regressedText(total.regressed);
      this.log.warn(`Collection: ${text}`);
      void vscode.window.showWarningMessage(`Spark Optimizer: ${text}`, SHOW_REGRESSED).then((a) => a && vscode.commands.executeCommand(COMMANDS.openJobsTable, { regressed: true }));
    }
    return total;
  }

  /** Whether a failure is shown: always for a run the user started; once per distinct failure for background runs (they log it every time). */
  private shouldShow(failure: string, options: RunOptions): boolean {
    if (!options.quiet) return true;
    this.quietFailures.add(failure);
    return !this.shownQuietly.has(failure);
  }

  /** The logs read with problems, to pick one and open it: the editor's diagnostics then show each problem in place. */
  private async showProblems(logs: readonly ProblemLog[]): Promise<void> {
    const items = logs.map((log) => ({ ...problemItem(log), log }));
    const pick = await vscode.window.showQuickPick(items, { title: `Spark Optimizer: ${plural(logs.length, 'entry', 'entries')} with problems`, matchOnDescription: true, matchOnDetail: true });
    if (!pick) return;
    if (pick.log.file !== undefined && (await isFile(pick.log.file))) await vscode.window.showTextDocument(vscode.Uri.file(pick.log.file));
    else this.log.show();
  }

  /** Every problem of a stored batch, in the Output channel at its severity. */
  private logProblems(batch: Batch): void {
    for (const problem of [...batch.problems, ...batch.apps.flatMap((a) => a.problems)]) {
      // Every collector's problems are masked where they pass (registry.ts collectSource), but the
      // Output channel is a log that outlives the run: what is written there is masked again here.
      const line = maskSecretText(formatProblem(problem));
      if (problem.severity === 'error') this.log.error(line);
      else if (problem.severity === 'warning') this.log.warn(line);
      else this.log.info(line);
    }
  }

  dispose(): void {
    this.cancel();
  }
}
