/**
 * `spark-optimizer collect`: from flags (`--source event-logs --path P`, `--source emr --region R`, …)
 * or from a config file (`--config FILE [--name SOURCE]`), into the workspace database (or nowhere
 * with `--dry-run`). Flags become the config entry they stand for and go through the same schema and
 * the same `jobsFor` as a config file's sources.
 */
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, sourceSchema, type ConfigError, type SourceConfig } from '../collectors/config';
import type { Batch, CollectProgress, CollectedApp } from '../collectors/contract';
import { SKIPPED_FILE, passedOverSummary } from '../collectors/eventlog/discovery';
import { incremental } from '../collectors/historyServer/plan';
import { formatProblem, type Problem } from '../collectors/record';
import { collectSource, jobsFor, recordedOptions, stoppedRun, type SourceJob } from '../collectors/sources';
import { ProblemLogs, SaveSchedule, applyBatch, dryRunRepository, emptyCounts, ingest } from '../storage/ingest';
import { JobStore } from '../storage/jobStore';
import type { RunCounts } from '../storage/repository';
import { formatBytes, formatDuration, table } from '../common/format';
import { DEFAULT_DB, UsageError, decompressionRatioFlag, maxLineFlag, maxResponseFlag, maxUnpackedFlag, oneOf, parseDate, positiveInt, unpackRatioFlag, zstdWindowFlag, type Io } from './io';

/** A long run saves this often, and once at its end (not after each source: issue #13). */
const SAVE_EVERY_MS = 10_000;

/** `--source` spellings (the seed's and the config's) to config types. */
const SOURCE_TYPES: Record<string, SourceConfig['type']> = {
  'event-logs': 'event_log',
  event_log: 'event_log',
  'history-server': 'history_server',
  history_server: 'history_server',
  emr: 'emr',
  databricks: 'databricks',
  dataproc: 'dataproc',
};

function progressLine(p: CollectProgress, startedMs: number): string {
  if (p.phase === 'discovering') return `finding logs: ${p.logsFound} so far`;
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  return `${p.logsDone} of ${p.logsFound} logs, ${formatBytes(p.bytesRead)} read (${formatBytes(p.bytesRead / secs)}/s), ${p.apps} apps, ${p.problems} problems`;
}

function appRow({ record: r }: CollectedApp): string[] {
  return [
    r.app_id,
    r.attempt_id ?? '-',
    (r.app_name ?? '-').slice(0, 40),
    r.user ?? '-',
    r.status,
    formatDuration(r.duration_ms),
    String(r.total_tasks),
    String(r.failed_tasks),
    String(r.num_executors ?? '-'),
    formatDuration(r.cpu_time_ms),
    formatBytes(r.input_bytes),
    `${formatBytes(r.shuffle_read_bytes)} / ${formatBytes(r.shuffle_write_bytes)}`,
  ];
}
const APP_HEADER = ['app_id', 'attempt', 'name', 'user', 'status', 'duration', 'tasks', 'failed', 'execs', 'cpu', 'input', 'shuffle r/w'];

/** The jobs of a config file's sources (all, or the one named). A source that cannot start is reported and skipped. */
async function jobsFromConfig(file: string, only: string | undefined, io: Io): Promise<{ jobs: SourceJob[]; failed: number }> {
  const abs = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { sources, errors, invalid } = parseConfig(text, path.dirname(abs));
  const at = (e: ConfigError): string => `${abs}${e.line ? `:${e.line}` : ''}: ${e.message}`;
  // The file itself cannot be read, or none of its sources can run: there is nothing to collect.
  if (invalid === undefined || sources.length === 0) throw new Error(`invalid config:\n${errors.map(at).join('\n')}`);
  const named = invalid.find((s) => s.name === only);
  if (named !== undefined) throw new Error(`invalid config: source ${JSON.stringify(only)}:\n${named.errors.map(at).join('\n')}`);
  const picked = only === undefined ? sources : sources.filter((s) => s.name === only);
  if (picked.length === 0) throw new UsageError(`no source named ${JSON.stringify(only)} in ${abs}; it has: ${sources.map((s) => s.name).join(', ')}`);
  // One source that is wrong does not stop the others (issue 14): it is named, file:line, and the
  // run exits 1 after collecting the rest, so a cron job notices a source it no longer collects.
  // With --name, only the source asked for matters: the others' errors are warnings.
  for (const bad of invalid) {
    const lines = bad.errors.map(at).join('\n');
    if (only === undefined) io.err(`spark-optimizer: source ${bad.name} is not collected, its config is invalid:\n${lines}`);
    else io.err(`warning: source ${bad.name} in this config is invalid:\n${lines}`);
  }
  const collected = jobsOf(picked, io);
  return { jobs: collected.jobs, failed: collected.failed + (only === undefined ? invalid.length : 0) };
}

function jobsOf(sources: SourceConfig[], io: Io): { jobs: SourceJob[]; failed: number } {
  const jobs: SourceJob[] = [];
  let failed = 0;
  for (const s of sources) {
    try {
      jobs.push(...jobsFor(s));
    } catch (err) {
      io.err(`spark-optimizer: source ${s.name}: ${(err as Error).message}; skipped.`);
      failed++;
    }
  }
  return { jobs, failed };
}

/**
 * `--source T` and its flags, as the config entry they stand for, checked by the same schema as a
 * config file (so a flag has exactly the meaning of its config key).
 */
function sourceFromFlags(values: Record<string, string | string[] | boolean | undefined>, io: Io): SourceConfig {
  const raw = values.source as string | undefined;
  const type = raw === undefined ? undefined : SOURCE_TYPES[raw];
  if (type === undefined) throw new UsageError(raw === undefined ? '--source (event-logs, history-server, emr, databricks, dataproc) or --config is required' : `unknown --source ${JSON.stringify(raw)}; use event-logs, history-server, emr, databricks or dataproc`);
  const str = (k: string): string | undefined => values[k] as string | undefined;
  const entry: Record<string, unknown> = { type, name: type };
  const set = (key: string, v: unknown): void => {
    if (v !== undefined) entry[key] = v;
  };
  if (type === 'event_log') {
    if (!str('path')) throw new UsageError('--path is required with --source event-logs');
    set('path', path.resolve(io.cwd, str('path')!));
    set('recursive', !values['no-recursive']);
  } else if (type === 'history_server') {
    if (!str('url')) throw new UsageError('--url is required with --source history-server');
    if (!/^https?:\/\/[^/]/.test(str('url')!)) throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(str('url'))}`);
    set('history_server_url', str('url'));
    set('mode', str('mode'));
    set('status', str('status'));
  } else {
    set('endpoint_url', str('endpoint-url'));
    set('region', str('region'));
    set('event_log_dir', str('event-log-dir'));
    set('history_server_url', str('history-server-url'));
    if (type === 'emr') {
      set('profile', str('profile'));
      set('cluster_ids', values['cluster-id']);
      set('cloudwatch', values['no-cloudwatch'] ? false : undefined);
    }
    if (type === 'databricks') set('host', str('host'));
    if (type === 'dataproc') set('project_id', str('project'));
  }
  const parsed = sourceSchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path.join('.');
    const flag = key === 'history_server_url' && type === 'history_server' ? 'url' : key.replace(/_/g, '-').replace(/^project-id$/, 'project').replace(/^cluster-ids(\..*)?$/, 'cluster-id');
    throw new UsageError(`--source ${raw}: ${key === '' ? '' : `--${flag}: `}${issue.message}`);
  }
  return { ...parsed.data, name: type };
}

export async function collectCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      path: { type: 'string' },
      url: { type: 'string' },
      config: { type: 'string' },
      name: { type: 'string' },
      db: { type: 'string' },
      since: { type: 'string' },
      user: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'no-recursive': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      format: { type: 'string' },
      status: { type: 'string' },
      'max-apps': { type: 'string' },
      'zstd-max-window-mb': { type: 'string' },
      'max-line-mb': { type: 'string' },
      'max-decompression-ratio': { type: 'string' },
      'max-response-mb': { type: 'string' },
      'max-unpacked-mb': { type: 'string' },
      'max-unpack-ratio': { type: 'string' },
      mode: { type: 'string' },
      region: { type: 'string' },
      profile: { type: 'string' },
      host: { type: 'string' },
      project: { type: 'string' },
      'endpoint-url': { type: 'string' },
      'cluster-id': { type: 'string', multiple: true },
      'event-log-dir': { type: 'string' },
      'history-server-url': { type: 'string' },
      'no-cloudwatch': { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  const format = oneOf('format', values.format, ['table', 'json'] as const, 'table');
  const batchSize = positiveInt('batch-size', values['batch-size'], 100);
  const concurrency = values.concurrency === undefined ? undefined : positiveInt('concurrency', values.concurrency, 1);
  const since = parseDate('since', values.since);
  const dryRun = values['dry-run'];
  const status = values.status === undefined ? undefined : oneOf('status', values.status, ['completed', 'running', 'all'] as const, 'completed');
  const maxApps = values['max-apps'] === undefined ? undefined : positiveInt('max-apps', values['max-apps'], 1);
  // Limits, each with the meaning of its config key (config.ts); event-log ones for every source whose logs the engine reads.
  const readLimits = { maxZstdWindowMb: zstdWindowFlag(values['zstd-max-window-mb']), maxLineBytes: maxLineFlag(values['max-line-mb']), maxDecompressionRatio: decompressionRatioFlag(values['max-decompression-ratio']) };
  const maxResponseBytes = maxResponseFlag(values['max-response-mb']);
  const unpackLimits = { maxUnpackedBytes: maxUnpackedFlag(values['max-unpacked-mb']), maxUnpackRatio: unpackRatioFlag(values['max-unpack-ratio']) };

  let jobs: SourceJob[];
  let failedSources = 0;
  if (values.config !== undefined) {
    if (values.source !== undefined || values.path !== undefined) throw new UsageError('--config and --source/--path are alternatives; give one');
    ({ jobs, failed: failedSources } = await jobsFromConfig(values.config, values.name, io));
  } else {
    ({ jobs, failed: failedSources } = jobsOf([sourceFromFlags(values, io)], io));
  }
  // Flags given beside a config (or a --source) override what it says.
  const given = <T>(o: T): Partial<T> => Object.fromEntries(Object.entries(o as object).filter(([, v]) => v !== undefined)) as Partial<T>;
  jobs = jobs.map((job): SourceJob => {
    const common = given({ since, user: values.user, concurrency, batchSize: values['batch-size'] === undefined ? undefined : batchSize });
    const byKind: Record<SourceJob['kind'], object> = {
      event_log: readLimits,
      history_server: { maxApps, status, maxResponseBytes, ...unpackLimits, ...readLimits },
      emr: { maxApps },
      databricks: { maxApps, maxResponseBytes },
      dataproc: { maxApps, maxResponseBytes },
    };
    return { ...job, options: { ...job.options, ...common, ...given(byKind[job.kind]) } } as SourceJob;
  });

  const store = dryRun ? null : await JobStore.open(path.resolve(io.cwd, values.db ?? DEFAULT_DB));
  for (const w of store?.warnings ?? []) io.err(`warning: ${w}`);
  // A database that cannot be saved is said before the run, not after collecting into it.
  await store?.checkWritable().catch((err: unknown) => {
    store.close();
    throw err;
  });
  const saves = store ? new SaveSchedule(() => store.save(), SAVE_EVERY_MS) : undefined;

  const started = Date.now();
  let lastProgress = 0;
  const onProgress = (p: CollectProgress): void => {
    const now = Date.now();
    // Only long runs talk: at most twice a second on a terminal, every 5 s when logged.
    if (now - started < 2000 || now - lastProgress < (io.isTTY ? 500 : 5000)) return;
    lastProgress = now;
    io.err(progressLine(p, started));
  };

  // The first SIGINT/SIGTERM stops the run, which then saves what it collected and says so; a second one ends the process.
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    controller.abort();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const shown: CollectedApp[] = [];
  const loose: Problem[] = [];
  const total: RunCounts = emptyCounts();
  const withProblems = new ProblemLogs();
  // Called for what was stored (or counted by a dry run) only: never for a batch after a cancel.
  const onBatch = (batch: Batch): void => {
    withProblems.add(batch);
    loose.push(...batch.problems);
    for (const app of batch.apps) {
      if (format === 'json') io.out(JSON.stringify({ ...app.record, problems: app.problems }));
      else shown.push(app);
    }
  };
  let fatal = false;
  let failure: Error | undefined;
  const add = (counts: RunCounts): void => {
    for (const k of Object.keys(total) as (keyof RunCounts)[]) total[k] += counts[k];
  };
  try {
    for (const job of jobs) {
      if (controller.signal.aborted) break;
      const before = loose.length;
      const batches =
        job.kind === 'event_log'
          ? collectSource(job, {
              signal: controller.signal,
              onProgress,
              workerScript: path.join(__dirname, 'worker.js'),
              isUnchanged: store ? (unit) => store.isUnchanged(unit) : undefined,
            })
          : collectSource(job.kind === 'history_server' && store ? { ...job, options: incremental(job.options, store.newestEndTime(job.name)) } : job, { signal: controller.signal, onProgress });
      // A cancel stores nothing more, and the counts are what was stored (ingest's `signal`).
      let counts = emptyCounts();
      if (store) {
        counts = await ingest(store, batches, { source: job.name, options: recordedOptions(job), saves, onBatch, signal: controller.signal });
      } else {
        try {
          for await (const batch of batches) {
            if (controller.signal.aborted) break;
            applyBatch(dryRunRepository, batch, counts);
            onBatch(batch);
          }
        } catch (err) {
          if (!controller.signal.aborted) throw err;
        }
      }
      add(counts);
      // An unreadable path, wrong credentials or an unreadable listing stopped this source early.
      if (stoppedRun(job, loose.slice(before))) fatal = true;
    }
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
  }
  // The run's one save (besides the timed ones of a long run); a failed run keeps what it collected too.
  try {
    await saves?.flush();
  } catch (err) {
    if (failure === undefined) throw err;
    io.err(`spark-optimizer: ${(err as Error).message}`);
  } finally {
    store?.close();
  }
  if (failure !== undefined) throw failure;

  if (format === 'table' && shown.length > 0) io.out(table(APP_HEADER, shown.map(appRow)));
  for (const app of shown) for (const p of app.problems) io.err(formatProblem(p));
  // Files a folder scan passed over are counted by reason; --verbose names them.
  for (const p of loose) if (p.code !== SKIPPED_FILE || values.verbose) io.err(formatProblem(p));
  const passedOver = passedOverSummary(loose);
  if (passedOver !== null) io.err(`${passedOver}${values.verbose ? '' : '; --verbose lists them'}`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const where = dryRun ? 'dry run, nothing stored' : `stored in ${path.resolve(io.cwd, values.db ?? DEFAULT_DB)}`;
  const stopped = stoppedBy === undefined ? '' : `Cancelled by ${stoppedBy}: `;
  const summary = `${stopped}${total.new} new, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped, ${total.failed} failed${withProblems.summary()} (${where}); ${secs} s`;
  if (format === 'json') io.err(summary);
  else io.out(summary);

  // The shell's convention for a process ended by a signal: 128 + its number.
  if (stoppedBy !== undefined) return 128 + osConstants.signals[stoppedBy];
  if (fatal || failedSources > 0) return 1;
  const collected = total.new + total.updated + total.unchanged + total.skipped;
  return collected === 0 && total.failed > 0 ? 1 : 0;
}

