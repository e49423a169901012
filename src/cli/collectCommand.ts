/**
 * `spark-optimizer collect`: from flags (`--source event-logs --path P`) or from a config file
 * (`--config FILE [--name SOURCE]`), into the workspace database (or nowhere with `--dry-run`).
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, type SourceConfig } from '../collectors/config';
import { collectEventLogs, type Batch, type CollectProgress, type CollectedApp, type EventLogOptions } from '../collectors/eventlog/collect';
import { collectHistoryServer, type HistoryServerOptions } from '../collectors/historyServer/collect';
import { historyAuth, historyPlan, incremental } from '../collectors/historyServer/plan';
import { formatProblem, type Problem } from '../collectors/record';
import { applyBatch, emptyCounts, ingest } from '../storage/ingest';
import { JobStore } from '../storage/jobStore';
import type { JobRepository, RunCounts } from '../storage/repository';
import { formatBytes, formatDuration, table } from '../common/format';
import { DEFAULT_DB, UsageError, oneOf, parseDate, positiveInt, type Io } from './io';

const SAVE_EVERY_MS = 10_000;
const NOT_YET = new Set(['emr', 'databricks', 'dataproc']);

type Plan = { kind: 'event_log'; name: string; options: EventLogOptions } | { kind: 'history_server'; name: string; options: HistoryServerOptions };

function progressLine(p: CollectProgress, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  return `${p.logsDone}/${p.logsFound} logs, ${formatBytes(p.bytesRead)} read (${formatBytes(p.bytesRead / secs)}/s), ${p.apps} apps, ${p.problems} problems`;
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

async function plansFromConfig(file: string, only: string | undefined, io: Io): Promise<Plan[]> {
  const abs = path.resolve(io.cwd, file);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    throw new Error(`cannot read config ${abs}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const { sources, errors } = parseConfig(text, path.dirname(abs));
  if (errors.length > 0) throw new Error(`invalid config:\n${errors.map((e) => `${abs}${e.line ? `:${e.line}` : ''}: ${e.message}`).join('\n')}`);
  const picked = only === undefined ? sources : sources.filter((s) => s.name === only);
  if (picked.length === 0) throw new UsageError(`no source named ${JSON.stringify(only)} in ${abs}; it has: ${sources.map((s) => s.name).join(', ')}`);
  const plans: Plan[] = [];
  for (const s of picked) {
    if (s.type === 'history_server') {
      plans.push(historyPlan(s));
      continue;
    }
    if (s.type !== 'event_log') {
      io.err(`spark-optimizer: source ${s.name} (${s.type}) is not available yet; skipped.`);
      continue;
    }
    for (const p of Array.isArray(s.path) ? s.path : [s.path]) plans.push({ kind: 'event_log', name: s.name, options: sourceOptions(s, p) });
  }
  return plans;
}

function sourceOptions(s: Extract<SourceConfig, { type: 'event_log' }>, p: string): EventLogOptions {
  return { path: p, recursive: s.recursive, batchSize: s.batch_size, concurrency: s.concurrency, since: s.since ? new Date(s.since) : undefined, user: s.user, source: s.name };
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
      mode: { type: 'string' },
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

  let plans: Plan[];
  if (values.config !== undefined) {
    if (values.source !== undefined || values.path !== undefined) throw new UsageError('--config and --source/--path are alternatives; give one');
    plans = (await plansFromConfig(values.config, values.name, io)).map((p): Plan => {
      const common = { since: since ?? p.options.since, user: values.user ?? p.options.user, concurrency: concurrency ?? p.options.concurrency };
      return p.kind === 'event_log'
        ? { ...p, options: { ...p.options, ...common } }
        : { ...p, options: { ...p.options, ...common, status: status ?? p.options.status, maxApps: maxApps ?? p.options.maxApps } };
    });
  } else {
    if (values.source !== undefined && NOT_YET.has(values.source)) {
      io.err(`spark-optimizer: --source ${values.source} is not available yet; only --source event-logs and --source history-server are.`);
      return 1;
    }
    if (values.source === 'history-server' || values.source === 'history_server') {
      if (!values.url) throw new UsageError('--url is required with --source history-server');
      if (!/^https?:\/\/[^/]/.test(values.url)) throw new UsageError(`--url must be an http:// or https:// URL, got ${JSON.stringify(values.url)}`);
      plans = [
        {
          kind: 'history_server',
          name: 'history_server',
          options: {
            url: values.url,
            source: 'history_server',
            mode: oneOf('mode', values.mode, ['api', 'eventlog'] as const, 'api'),
            status,
            since,
            user: values.user,
            maxApps,
            batchSize,
            concurrency,
            auth: historyAuth('history_server', {}),
          },
        },
      ];
    } else {
      if (values.source !== 'event-logs' && values.source !== 'event_log') {
        throw new UsageError(values.source === undefined ? '--source (event-logs, history-server) or --config is required' : `unknown --source ${JSON.stringify(values.source)}`);
      }
      if (!values.path) throw new UsageError('--path is required with --source event-logs');
      const p = path.resolve(io.cwd, values.path);
      plans = [{ kind: 'event_log', name: 'event_log', options: { path: p, recursive: !values['no-recursive'], since, user: values.user, batchSize, concurrency, source: 'event_log' } }];
    }
  }

  const store = dryRun ? null : await JobStore.open(path.resolve(io.cwd, values.db ?? DEFAULT_DB));
  for (const w of store?.warnings ?? []) io.err(`warning: ${w}`);

  const started = Date.now();
  let lastProgress = 0;
  const onProgress = (p: CollectProgress): void => {
    const now = Date.now();
    // Only long runs talk: at most twice a second on a terminal, every 5 s when logged.
    if (now - started < 2000 || now - lastProgress < (io.isTTY ? 500 : 5000)) return;
    lastProgress = now;
    io.err(progressLine(p, started));
  };

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  const shown: CollectedApp[] = [];
  const loose: Problem[] = [];
  const total: RunCounts = emptyCounts();
  const onBatch = (batch: Batch): void => {
    loose.push(...batch.problems);
    for (const app of batch.apps) {
      if (format === 'json') io.out(JSON.stringify({ ...app.record, problems: app.problems }));
      else shown.push(app);
    }
  };
  let fatal = false;
  try {
    for (const plan of plans) {
      const batches =
        plan.kind === 'event_log'
          ? collectEventLogs(plan.options, {
              signal: controller.signal,
              onProgress,
              workerScript: path.join(__dirname, 'worker.js'),
              isUnchanged: store ? (unit) => store.isUnitUnchanged(unit.path, unit.files) : undefined,
            })
          : collectHistoryServer(store ? incremental(plan.options, store.newestEndTime(plan.name)) : plan.options, { signal: controller.signal, onProgress });
      let counts: RunCounts;
      if (store) {
        const summary = await ingest(store, batches, {
          source: plan.name,
          options: runOptions(plan),
          saveEveryMs: SAVE_EVERY_MS,
          save: () => store.save(),
          onBatch,
        });
        counts = summary;
      } else {
        counts = emptyCounts();
        for await (const batch of batches) {
          applyBatch(dryRunRepository, batch, counts);
          onBatch(batch);
        }
      }
      for (const k of Object.keys(total) as (keyof RunCounts)[]) total[k] += counts[k];
      if (plan.kind === 'event_log' && loose.some((p) => p.code === 'path-unreadable' && p.file === plan.options.path)) fatal = true;
      // Wrong credentials or an unreadable application list stop a History Server run.
      if (plan.kind === 'history_server' && loose.some((p) => p.code === 'auth-failed' || p.code === 'list-failed')) fatal = true;
    }
  } finally {
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    store?.close();
  }

  if (format === 'table' && shown.length > 0) io.out(table(APP_HEADER, shown.map(appRow)));
  for (const app of shown) for (const p of app.problems) io.err(formatProblem(p));
  for (const p of loose) io.err(formatProblem(p));
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const where = dryRun ? 'dry run, nothing stored' : `stored in ${path.resolve(io.cwd, values.db ?? DEFAULT_DB)}`;
  const summary = `${total.new} new, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped, ${total.failed} failed (${where}); ${secs} s`;
  if (format === 'json') io.err(summary);
  else io.out(summary);

  if (fatal) return 1;
  const collected = total.new + total.updated + total.unchanged + total.skipped;
  return collected === 0 && total.failed > 0 ? 1 : 0;
}

function withoutUserInfo(u: string): string {
  try {
    const url = new URL(u);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return '(invalid URL)';
  }
}

/** What the run record keeps of a plan's options: never credentials or headers (they may hold secrets). */
function runOptions(plan: Plan): Record<string, unknown> {
  if (plan.kind === 'event_log') return { ...plan.options, since: plan.options.since?.toISOString() };
  const o = plan.options;
  return { url: withoutUserInfo(o.url), status: o.status, since: o.since?.toISOString(), user: o.user, maxApps: o.maxApps, concurrency: o.concurrency, auth: o.auth?.type };
}

/** A dry run counts every attempt as new: nothing is compared with a database. */
const dryRunRepository: Pick<JobRepository, 'upsert' | 'recordFiles'> = {
  upsert: (records) => ({ new: records.length, updated: 0, unchanged: 0 }),
  recordFiles: () => undefined,
};
