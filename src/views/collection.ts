/**
 * Collection from the editor: each run parses in a worker thread (the host thread only upserts
 * batches into the database), shows a cancellable notification with files / apps / rate, and ends
 * with one summary line and a link to the log. One run at a time; it owns its worker and progress.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { stat } from 'node:fs/promises';
import type { Batch, CollectProgress } from '../collectors/contract';
import { formatProblem } from '../collectors/record';
import { formatBytes } from '../common/format';
import { ProblemLogs, SaveSchedule, applyBatch, dryRunRepository, emptyCounts, ingest, type ProblemLog } from '../storage/ingest';
import type { RunCounts } from '../storage/repository';
import { incremental } from '../collectors/historyServer/plan';
import { jobsFor, recordedOptions } from '../collectors/sources';
import type { JobStore } from '../storage/jobStore';
import { CancelledError, collectInWorker } from '../worker/collectClient';
import { collectJob, type CollectJob, type JobDefaults } from '../worker/collectProtocol';
import { CONTEXT } from './commands';
import type { DatabaseService } from './database';
import { readSettings } from './settings';
import { settingsReadLimits } from './settingsSchema';
import type { Source } from './sources';

export interface RunOptions {
  dryRun?: boolean;
  /** Background runs (auto-collect) show progress in the status bar area, not a notification. */
  quiet?: boolean;
}

const SHOW_PROBLEMS = 'Show Problems';

/** "finding logs… 1,234" while event logs are discovered, then "12 of 8,000 logs, 12 apps, 40 MB/s". */
function progressText(p: CollectProgress, eventLogs: boolean, started: number): string {
  if (p.phase === 'discovering') return `finding logs… ${p.logsFound}`;
  const secs = Math.max(0.001, (Date.now() - started) / 1000);
  const rate = eventLogs ? `, ${formatBytes(p.bytesRead / secs)}/s` : '';
  return `${p.logsDone} of ${p.logsFound} ${eventLogs ? 'logs' : 'applications'}, ${p.apps} apps${rate}`;
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

  async run(sources: readonly Source[], options: RunOptions = {}): Promise<RunCounts | undefined> {
    if (this.current) {
      void vscode.window.showInformationMessage('Spark Optimizer: a collection is already running.');
      return undefined;
    }
    const runnable = sources;
    if (runnable.length === 0) return undefined;
    const settings = readSettings(this.log, this.root);
    const total = emptyCounts();
    const withProblems = new ProblemLogs();
    // The run's one cancel, from the notification or the Cancel command: the worker is told to stop,
    // and nothing more is stored from the moment it fires (ingest's `signal`).
    const abort = new AbortController();
    this.current = { cancel: () => abort.abort() };
    const started = Date.now();
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
          const store = options.dryRun ? undefined : await this.db.open();
          await store?.checkWritable();
          // One schedule for the whole run: saved every 15 s and once at its end, not after each source (issue #13).
          const saves = store ? new SaveSchedule(() => this.db.save(), 15_000) : undefined;
          try {
            for (const source of runnable) {
              if (abort.signal.aborted) break;
              let jobs: { recorded: Record<string, unknown>; job: CollectJob }[];
              try {
                jobs = await this.jobsFor(source, store, { concurrency: settings.concurrency, limits: settingsReadLimits(settings) });
              } catch (err) {
                this.log.error(`Source ${source.name}: ${(err as Error).message}`);
                void vscode.window.showErrorMessage(`Spark Optimizer: source ${source.name}: ${(err as Error).message}`);
                continue;
              }
              for (const { recorded, job } of jobs) {
                if (abort.signal.aborted) break;
                const run = collectInWorker(path.join(this.extensionPath, 'dist', 'collectWorker.js'), job, (pr) => progress.report({ message: `${source.name}: ${progressText(pr, job.kind === 'event_log', started)}` }));
                const stop = (): void => run.cancel();
                abort.signal.addEventListener('abort', stop, { once: true });
                try {
                  const counts = await this.consume(source.name, recorded, run.batches, store, saves, abort.signal, withProblems);
                  for (const k of Object.keys(total) as (keyof RunCounts)[]) total[k] += counts[k];
                } finally {
                  abort.signal.removeEventListener('abort', stop);
                  // A run that ended on its own has nothing left to cancel; one that failed is stopped.
                  run.cancel();
                }
              }
            }
          } catch (err) {
            // What the run collected before the failure is kept.
            await saves?.flush().catch((saveErr: unknown) => this.log.error(`Saving what was collected failed too: ${(saveErr as Error).message}`));
            throw err;
          } finally {
            onCancel.dispose();
          }
          if (store && !options.dryRun && settings.retentionDays > 0 && !abort.signal.aborted) {
            const dropped = store.applyRetention(settings.retentionDays);
            if (dropped > 0) this.log.info(`Retention: dropped ${dropped} jobs older than ${settings.retentionDays} days.`);
          }
          await saves?.flush();
        },
      );
    } catch (err) {
      this.log.error(`Collection failed: ${(err as Error).stack ?? String(err)}`);
      void vscode.window.showErrorMessage(`Spark Optimizer: collection failed: ${(err as Error).message}`, 'Show Log').then((a) => a && this.log.show());
      return undefined;
    } finally {
      this.current = undefined;
      void vscode.commands.executeCommand('setContext', CONTEXT.collecting, false);
    }
    const cancelled = abort.signal.aborted;
    const summary = `${cancelled ? 'Cancelled: ' : ''}${total.new} new, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped, ${total.failed} failed${withProblems.summary()}${options.dryRun ? ' (dry run, nothing stored)' : ''}`;
    this.log.info(`Collection ${summary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!options.quiet) {
      const problems = withProblems.all;
      const buttons = problems.length > 0 ? [SHOW_PROBLEMS, 'Show Log'] : ['Show Log'];
      void vscode.window.showInformationMessage(`Spark Optimizer: ${summary}`, ...buttons).then((a) => {
        if (a === 'Show Log') this.log.show();
        else if (a === SHOW_PROBLEMS) void this.showProblems(problems);
      });
    }
    return total;
  }

  /** The logs read with problems, to pick one and open it: the editor's diagnostics then show each problem in place. */
  private async showProblems(logs: readonly ProblemLog[]): Promise<void> {
    const items = logs.map((log) => {
      const first = log.problems[0]!;
      const more = log.problems.length > 1 ? ` (+${log.problems.length - 1} more)` : '';
      return {
        label: log.file !== undefined ? path.basename(log.file) : (log.app ?? 'application'),
        description: log.file !== undefined ? path.dirname(log.file) : 'application',
        detail: `${first.severity}: ${first.line !== undefined ? `line ${first.line}: ` : ''}${first.message}${more}`,
        log,
      };
    });
    const pick = await vscode.window.showQuickPick(items, { title: `Spark Optimizer: ${logs.length} read with problems`, matchOnDescription: true, matchOnDetail: true });
    if (!pick) return;
    if (pick.log.file !== undefined && (await isFile(pick.log.file))) await vscode.window.showTextDocument(vscode.Uri.file(pick.log.file));
    else this.log.show();
  }

  /**
   * The worker jobs of one source (sources.ts `jobsFor`): one per event-log path, with the files the
   * database already has; or the API source, with the secret the editor keeps for it when the config
   * and the environment have none. History Server runs are incremental.
   */
  private async jobsFor(source: Source, store: JobStore | undefined, defaults: JobDefaults): Promise<{ recorded: Record<string, unknown>; job: CollectJob }[]> {
    const stored = await this.secrets.get(`sparkOptimizer.secret.${source.name}`);
    const jobs = jobsFor(source.config, stored ? { secret: stored, from: `the editor's secret storage (source '${source.name}')` } : undefined);
    const known = store?.knownFiles() ?? [];
    const poolScript = path.join(this.extensionPath, 'dist', 'worker.js');
    return jobs.map((j) => {
      const job = j.kind === 'history_server' && store ? { ...j, options: incremental(j.options, store.newestEndTime(j.name)) } : j;
      return { recorded: recordedOptions(job), job: collectJob(job, defaults, known, poolScript) };
    });
  }

  /**
   * Upserts each batch as it arrives (a dry run only counts), logging every problem. Once `signal`
   * aborts nothing more is stored or counted; the counts are what was stored before.
   */
  private async consume(sourceName: string, recorded: Record<string, unknown>, batches: AsyncIterable<Batch>, store: JobStore | undefined, saves: SaveSchedule | undefined, signal: AbortSignal, withProblems: ProblemLogs): Promise<RunCounts> {
    const onBatch = (batch: Batch): void => {
      withProblems.add(batch);
      for (const problem of [...batch.problems, ...batch.apps.flatMap((a) => a.problems)]) {
        const line = formatProblem(problem);
        if (problem.severity === 'error') this.log.error(line);
        else if (problem.severity === 'warning') this.log.warn(line);
        else this.log.info(line);
      }
    };
    if (!store) {
      const counts = emptyCounts();
      try {
        for await (const batch of batches) {
          if (signal.aborted) break;
          applyBatch(dryRunRepository, batch, counts);
          onBatch(batch);
        }
      } catch (err) {
        if (!(err instanceof CancelledError && signal.aborted)) throw err;
      }
      return counts;
    }
    return ingest(store, batches, {
      source: sourceName,
      options: recorded,
      saves,
      sliceSize: 10,
      signal,
      onBatch: (batch) => {
        onBatch(batch);
        this.db.notify();
      },
    });
  }

  dispose(): void {
    this.cancel();
  }
}
