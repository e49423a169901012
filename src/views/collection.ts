/**
 * Collection from the editor: each run parses in a worker thread (the host thread only upserts
 * batches into the database), shows a cancellable notification with files / apps / rate, and ends
 * with one summary line and a link to the log. One run at a time; it owns its worker and progress.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Batch } from '../collectors/eventlog/collect';
import { formatProblem } from '../collectors/record';
import { formatBytes } from '../common/format';
import { SaveSchedule, emptyCounts, ingest } from '../storage/ingest';
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
    let cancelled = false;
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
          const store = options.dryRun ? undefined : await this.db.open();
          await store?.checkWritable();
          // One schedule for the whole run: saved every 15 s and once at its end, not after each source (issue #13).
          const saves = store ? new SaveSchedule(() => this.db.save(), 15_000) : undefined;
          try {
            for (const source of runnable) {
              if (token.isCancellationRequested) break;
              let jobs: { recorded: Record<string, unknown>; job: CollectJob }[];
              try {
                jobs = await this.jobsFor(source, store, { concurrency: settings.concurrency, limits: settingsReadLimits(settings) });
              } catch (err) {
                this.log.error(`Source ${source.name}: ${(err as Error).message}`);
                void vscode.window.showErrorMessage(`Spark Optimizer: source ${source.name}: ${(err as Error).message}`);
                continue;
              }
              for (const { recorded, job } of jobs) {
                const run = collectInWorker(path.join(this.extensionPath, 'dist', 'collectWorker.js'), job, (pr) => {
                  const secs = Math.max(0.001, (Date.now() - started) / 1000);
                  const rate = job.kind === 'event_log' ? `, ${formatBytes(pr.bytesRead / secs)}/s` : '';
                  progress.report({ message: `${source.name}: ${pr.logsDone}/${pr.logsFound} ${job.kind === 'event_log' ? 'logs' : 'applications'}, ${pr.apps} apps${rate}` });
                });
                this.current = run;
                const sub = token.onCancellationRequested(() => run.cancel());
                try {
                  const counts = await this.consume(source.name, recorded, run.batches, store, saves);
                  for (const k of Object.keys(total) as (keyof RunCounts)[]) total[k] += counts[k];
                } catch (err) {
                  if (err instanceof CancelledError) {
                    cancelled = true;
                    break;
                  }
                  throw err;
                } finally {
                  sub.dispose();
                  this.current = undefined;
                }
              }
              if (cancelled) break;
            }
          } catch (err) {
            // What the run collected before the failure is kept.
            await saves?.flush().catch((saveErr: unknown) => this.log.error(`Saving what was collected failed too: ${(saveErr as Error).message}`));
            throw err;
          }
          if (store && !options.dryRun && settings.retentionDays > 0) {
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
    const summary = `${cancelled ? 'Cancelled: ' : ''}${total.new} new, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped, ${total.failed} failed${options.dryRun ? ' (dry run, nothing stored)' : ''}`;
    this.log.info(`Collection ${summary} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (!options.quiet) void vscode.window.showInformationMessage(`Spark Optimizer: ${summary}`, 'Show Log').then((a) => a && this.log.show());
    return total;
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

  /** Upserts each batch as it arrives (a dry run only counts), logging every problem. */
  private async consume(sourceName: string, recorded: Record<string, unknown>, batches: AsyncIterable<Batch>, store: JobStore | undefined, saves: SaveSchedule | undefined): Promise<RunCounts> {
    const logProblems = (batch: Batch): void => {
      for (const problem of [...batch.problems, ...batch.apps.flatMap((a) => a.problems)]) {
        const line = formatProblem(problem);
        if (problem.severity === 'error') this.log.error(line);
        else if (problem.severity === 'warning') this.log.warn(line);
        else this.log.info(line);
      }
    };
    if (!store) {
      const counts = emptyCounts();
      for await (const batch of batches) {
        counts.new += batch.apps.length;
        counts.unchanged += batch.unchanged;
        counts.skipped += batch.filtered;
        counts.failed += batch.problems.filter((x) => x.severity === 'error').length;
        logProblems(batch);
      }
      return counts;
    }
    return ingest(store, batches, {
      source: sourceName,
      options: recorded,
      saves,
      sliceSize: 10,
      onBatch: (batch) => {
        logProblems(batch);
        this.db.notify();
      },
    });
  }

  dispose(): void {
    this.cancel();
  }
}
