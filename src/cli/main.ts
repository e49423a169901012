/**
 * `spark-optimizer` command line, on the same core as the extension.
 * Exit codes: 0 = ran (problems are reported, not fatal), 1 = fatal (bad path, nothing readable),
 * 2 = usage error.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { collectEventLogs, type CollectProgress, type CollectedApp } from '../collectors/eventlog/collect';
import type { Problem } from '../collectors/record';
import { formatBytes, formatDuration, table } from './format';

class UsageError extends Error {}

const USAGE = `Usage:
  spark-optimizer collect --source event-logs --path PATH [--since DATE] [--user USER]
                          [--batch-size N] [--concurrency N] [--no-recursive] [--dry-run]
                          [--format table|json]

  --source event-logs   read Spark event-log files and folders (plain, .gz, .lz4, .lzf,
                        .snappy, .zstd; single files, rolling eventlog_v2_* and Databricks folders)
  --path PATH           a log file or a folder (walked recursively unless --no-recursive)
  --since DATE          only applications that ended (running ones: started) at/after DATE (ISO-8601)
  --user USER           only applications run by USER
  --format json         JSON lines on stdout, one record per application attempt, plus "problems"
  --dry-run             collect and print; store nothing (storage arrives with the database)
`;

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
}

function positiveInt(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

function parseSince(raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--since must be a date like 2024-05-01 or 2024-05-01T12:00:00Z, got ${JSON.stringify(raw)}`);
  return d;
}

function problemLine(p: Problem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.severity} [${p.code}] ${p.message}`;
}

function progressLine(p: CollectProgress, startedMs: number): string {
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  return `${p.logsDone}/${p.logsFound} logs, ${formatBytes(p.bytesRead)} read (${formatBytes(p.bytesRead / secs)}/s), ${p.apps} apps, ${p.problems} problems`;
}

async function collect(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      path: { type: 'string' },
      since: { type: 'string' },
      user: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'no-recursive': { type: 'boolean', default: false },
      'dry-run': { type: 'boolean', default: false },
      format: { type: 'string', default: 'table' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.source !== 'event-logs' && values.source !== 'event_log') {
    if (values.source === 'history-server' || values.source === 'emr' || values.source === 'databricks' || values.source === 'dataproc') {
      io.err(`spark-optimizer: --source ${values.source} is not available yet; only --source event-logs is.`);
      return 1;
    }
    throw new UsageError(values.source === undefined ? '--source is required (event-logs)' : `unknown --source ${JSON.stringify(values.source)}`);
  }
  if (!values.path) throw new UsageError('--path is required');
  const format = values.format;
  if (format !== 'table' && format !== 'json') throw new UsageError(`--format must be table or json, got ${JSON.stringify(format)}`);
  const batchSize = positiveInt('batch-size', values['batch-size'], 100);
  const concurrency = values.concurrency === undefined ? undefined : positiveInt('concurrency', values.concurrency, 1);
  const since = parseSince(values.since);
  if (!values['dry-run']) io.err('note: no database yet — this run is a dry run; nothing is stored.');

  const started = Date.now();
  let lastProgress = 0;
  const onProgress = (p: CollectProgress): void => {
    const now = Date.now();
    // Only long runs talk: at most twice a second on a terminal, every 5 s when logged.
    if (now - started < 2000 || now - lastProgress < (io.isTTY ? 500 : 5000)) return;
    lastProgress = now;
    io.err(progressLine(p, started));
  };

  const apps: CollectedApp[] = [];
  const loose: Problem[] = [];
  let filtered = 0;
  let collected = 0;
  let withProblems = 0;
  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.once('SIGINT', stop);
  try {
    for await (const batch of collectEventLogs(
      { path: path.resolve(values.path), recursive: !values['no-recursive'], since, user: values.user, batchSize, concurrency },
      { signal: controller.signal, onProgress, workerScript: path.join(__dirname, 'worker.js') },
    )) {
      filtered += batch.filtered;
      loose.push(...batch.problems);
      for (const app of batch.apps) {
        collected++;
        if (app.problems.length > 0) withProblems++;
        if (format === 'json') io.out(JSON.stringify({ ...app.record, problems: app.problems }));
        else apps.push(app);
      }
    }
  } finally {
    process.removeListener('SIGINT', stop);
  }

  if (format === 'table') {
    if (apps.length > 0) {
      io.out(
        table(
          ['app_id', 'attempt', 'name', 'user', 'status', 'duration', 'tasks', 'failed', 'execs', 'cpu', 'input', 'shuffle r/w'],
          apps.map(({ record: r }) => [
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
          ]),
        ),
      );
    }
    for (const app of apps) for (const p of app.problems) io.err(problemLine(p));
  } else {
    for (const app of apps) for (const p of app.problems) io.err(problemLine(p));
  }
  for (const p of loose) io.err(problemLine(p));

  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const summary = `${collected} application attempts collected (dry run), ${filtered} filtered out, ${withProblems} with problems, ${loose.length} unreadable; ${secs} s`;
  if (format === 'json') io.err(summary);
  else io.out(summary);

  const fatal = loose.some((p) => p.code === 'path-unreadable' && p.file === path.resolve(values.path!));
  if (fatal) return 1;
  return collected === 0 && loose.some((p) => p.severity === 'error') ? 1 : 0;
}

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'collect':
        return await collect(rest, io);
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`spark-optimizer: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    io.err(`spark-optimizer: ${(err as Error).message}`);
    return 1;
  }
}

if (require.main === module) {
  main(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`${s}\n`),
    isTTY: process.stderr.isTTY === true,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`spark-optimizer: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
