/**
 * `spark-optimizer collect`: from flags (`--source event-logs --path P`, `--source emr --region R`, …)
 * or from a config file (`--config FILE [--name SOURCE]`), into the workspace database (or nowhere
 * with `--dry-run`). Flags become the config entry they stand for and go through the same schema and
 * the same `jobsFor` as a config file's sources.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { parseConfig, sourceSchema, type ConfigError, type InvalidSource, type SourceConfig } from '../collectors/config';
import type { Batch, CollectProgress, CollectedApp } from '../collectors/contract';
import { COMMON_OVERRIDES, type JobOverrides, type SourceFlag } from '../collectors/descriptor';
import { SKIPPED_FILE, passedOverSummary } from '../collectors/eventlog/discovery';
import { formatProblem, type Problem } from '../collectors/record';
import { DESCRIPTORS, descriptorOf, typeOfCliName } from '../collectors/registry';
import { addTally, parseShard, shardSummary, type Shard, type ShardTally } from '../collectors/shard';
import { DEFAULT_THRESHOLDS, sourceThresholds } from '../analysis/regressionThresholds';
import { collectRun, dryRunSink, plan, runJob, storeSink, type PlannedJob, type RegressedRun, type Runner } from '../pipeline';
import { ProblemLogs, SaveSchedule } from '../storage/ingest';
import { WORKER_BUNDLES } from '../worker/bundles';
import { formatBytes, groupDigits, plural, table } from '../common/format';
import { STOP_SIGNALS, UsageError, decompressionRatioFlag, ignoreClosedTerminal, maxLineFlag, maxResponseFlag, maxUnpackedFlag, oneOf, parseDate, positiveInt, stringFlags, unpackRatioFlag, zstdWindowFlag, type Io } from './io';
import { databaseLocation, openDatabase, printNewWarnings } from './database';
import { RECORD_HEADER, TABLE_ROWS, recordRow, timeText } from './recordTable';
import { tierUpAsUsual, tuneV8ForLongRun } from './v8Flags';

/** A long run saves this often, and once at its end (not after each source: issue #13). */
const SAVE_EVERY_MS = 10_000;

/**
 * A run past this many logs found or bytes read is no longer start-up-sized: V8 gets a long run's
 * flags (v8Flags.ts tuneV8ForLongRun). About where the event-log pool starts (eventlog/collect.ts).
 */
const BIG_RUN_LOGS = 32;
const BIG_RUN_BYTES = 16 * 1024 * 1024;
/**
 * Once the logs found hold this many bytes, or a run has read them (an API source), or it has found
 * more than BIG_RUN_LOGS logs, V8 optimises as it would anyway (v8Flags.ts tierUpAsUsual): the start
 * holds TurboFan back for a run the size of issue #12's four 287 KB logs. By the logs found, not read,
 * so that one large log (or a compressed one, which decodes to several times its size) is read with
 * it from its start.
 */
const TIER_UP_BYTES = 2 * 1024 * 1024;

/** `--fail-on-regression`'s exit status when a run the collection stored regressed (issue 18); main.ts lists them all. */
export const EXIT_REGRESSED = 3;
/** Regressed runs collect names in its last line; more are only counted. */
const NAMED_REGRESSIONS = 5;

/**
 * collect's last line when runs it stored regressed against their history (issue 18):
 * "2 runs regressed: Nightly app-0005 (Duration 2.0x); …", or only how many when there are many.
 */
export function regressedLine(runs: readonly RegressedRun[]): string {
  const lists = '`spark-optimizer jobs --regressed` lists them';
  if (runs.length > NAMED_REGRESSIONS) return `${plural(runs.length, 'run')} regressed against their earlier runs; ${lists}.`;
  const named = runs.map((r) => `${r.app_name ?? '(no name)'} ${r.key.app_id}${r.key.attempt_id === null ? '' : ` attempt ${r.key.attempt_id}`} (${r.summary})`);
  return `${plural(runs.length, 'run')} regressed: ${named.join('; ')}`;
}

/** Every source type's flags, once each (several types share `--region`, `--endpoint-url`…). */
const SOURCE_FLAGS: Map<string, SourceFlag> = new Map(DESCRIPTORS.flatMap((d) => d.flags.map((f) => [f.flag, f] as const)));

function progressLine(p: CollectProgress, startedMs: number): string {
  if (p.phase === 'discovering') return `finding logs: ${p.logsFound} so far`;
  const secs = Math.max(0.001, (Date.now() - startedMs) / 1000);
  return `${groupDigits(p.logsDone)} of ${plural(p.logsFound, 'log')}, ${formatBytes(p.bytesRead)} read (${formatBytes(p.bytesRead / secs)}/s), ${plural(p.apps, 'app')}, ${plural(p.problems, 'problem')}`;
}

/**
 * The order of collect's table: applications with problems first (what to look at), then the
 * newest; a big run shows only the first TABLE_ROWS of them. End times are the record's ISO UTC
 * strings (isoTime), so code-unit order is time order; localeCompare would load ICU (issue #12).
 */
function byInterest(a: CollectedApp, b: CollectedApp): number {
  const x = a.record.end_time ?? '';
  const y = b.record.end_time ?? '';
  return Number(b.problems.length > 0) - Number(a.problems.length > 0) || (y < x ? -1 : y > x ? 1 : 0);
}

/**
 * The invalid sources' errors as `validate` and the editor place and word them (configAnalyzer: the
 * key's own line and column, "Did you mean"), by source: each error finding goes to the invalid
 * source whose entry starts last at or before its line (a valid source has none). A source the
 * analyzer finds nothing wrong with keeps the schema's errors.
 */
async function analyzerErrors(text: string, file: string, invalid: readonly InvalidSource[]): Promise<Map<number, string[]>> {
  const { analyzeConfig } = await import('../analysis/configAnalyzer.js');
  const { formatFinding } = await import('../analysis/findings.js');
  const starts = invalid.filter((s) => s.line !== undefined).sort((a, b) => a.line! - b.line!);
  const out = new Map<number, string[]>();
  for (const f of analyzeConfig(text, { baseDir: path.dirname(file), exists: existsSync })) {
    if (f.severity !== 'error') continue;
    const line = f.range.start.line + 1;
    const owner = starts.filter((s) => s.line! <= line).at(-1);
    if (owner === undefined) continue;
    out.set(owner.index, [...(out.get(owner.index) ?? []), formatFinding(file, f)]);
  }
  return out;
}

/** A config file's sources (all, or the one named), and how many of them are invalid and will not be collected. */
async function sourcesFromConfig(file: string, only: string | undefined, io: Io): Promise<{ sources: SourceConfig[]; failed: number }> {
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
  const placed = invalid.length > 0 ? await analyzerErrors(text, abs, invalid) : new Map<number, string[]>();
  for (const bad of invalid) {
    const lines = (placed.get(bad.index) ?? bad.errors.map(at)).join('\n');
    if (only === undefined) io.err(`spark-optimizer: source ${bad.name} is not collected, its config is invalid:\n${lines}`);
    else io.err(`warning: source ${bad.name} in this config is invalid:\n${lines}`);
  }
  return { sources: picked, failed: only === undefined ? invalid.length : 0 };
}

/**
 * `--source T` and its flags, as the config entry they stand for, checked by the same schema as a
 * config file (so a flag has exactly the meaning of its config key).
 */
function sourceFromFlags(values: Record<string, string | string[] | boolean | undefined>, io: Io): SourceConfig {
  const raw = values.source as string | undefined;
  const type = raw === undefined ? undefined : typeOfCliName(raw);
  const names = DESCRIPTORS.map((d) => d.cliNames[0]!);
  if (type === undefined) throw new UsageError(raw === undefined ? `--source (${names.join(', ')}) or --config is required` : `unknown --source ${JSON.stringify(raw)}; use ${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`);
  const d = descriptorOf(type);
  const entry: Record<string, unknown> = { type, name: type };
  for (const f of d.flags) {
    const v = values[f.flag];
    if (v === undefined || v === false) {
      if (f.required) throw new UsageError(`--${f.flag} is required with --source ${raw}`);
      continue;
    }
    entry[f.key] = f.kind === 'negate' ? false : f.kind === 'path' ? path.resolve(io.cwd, v as string) : v;
  }
  // A flag of another source type is a mistake, not something to ignore.
  for (const flag of SOURCE_FLAGS.keys()) {
    const v = values[flag];
    if (v !== undefined && v !== false && !d.flags.some((f) => f.flag === flag)) throw new UsageError(`--${flag} does not apply to --source ${raw}`);
  }
  const parsed = sourceSchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const key = issue.path[0];
    const flag = d.flags.find((f) => f.key === key)?.flag;
    throw new UsageError(`--source ${raw}: ${flag !== undefined ? `--${flag}: ` : key !== undefined ? `${String(key)}: ` : ''}${issue.message}`);
  }
  return { ...(parsed.data as SourceConfig), name: type };
}

/**
 * `--path P` or `--event-log-dir DIR` without `--source` mean event logs (the seed's cron line is
 * `spark-optimizer collect --event-log-dir /path/to/logs`); with `--source event-logs`,
 * `--event-log-dir` is `--path`. An `s3://` or `dbfs:/` DIR is another source's: said, not guessed.
 */
function eventLogsImplied(values: Record<string, string | string[] | boolean | undefined>): Record<string, string | string[] | boolean | undefined> {
  const dir = values['event-log-dir'] as string | undefined;
  const source = values.source as string | undefined;
  if (source !== undefined && typeOfCliName(source) !== 'event_log') return values;
  if (dir === undefined) return source === undefined && values.path !== undefined ? { ...values, source: 'event-logs' } : values;
  if (source === undefined && /^[a-z][a-z0-9+.-]+:/i.test(dir)) throw new UsageError(`--event-log-dir ${dir} is not a local folder: add --source emr (s3://) or --source databricks (dbfs:/) to read it`);
  if (values.path !== undefined) throw new UsageError('--event-log-dir and --path both name the event logs to read; give one');
  return { ...values, source: source ?? 'event-logs', path: dir, 'event-log-dir': undefined };
}

/** The local paths of a source that do not exist (event logs; the other types read URLs and APIs). */
function missingPaths(source: SourceConfig): string[] {
  return source.type === 'event_log' ? [source.path].flat().filter((p) => !existsSync(p)) : [];
}

/**
 * A config's sources without their paths that do not exist, each named: a path that does not exist
 * is not collected (issue 16: it made a database and recorded an empty run). A source left with no
 * path is dropped; `partly` counts the sources that lost some of theirs.
 */
function withExistingPaths(sources: readonly SourceConfig[], io: Io): { sources: SourceConfig[]; partly: number } {
  const kept: SourceConfig[] = [];
  let partly = 0;
  for (const s of sources) {
    const missing = missingPaths(s);
    if (missing.length === 0 || s.type !== 'event_log') {
      kept.push(s);
      continue;
    }
    const left = [s.path].flat().filter((p) => !missing.includes(p));
    io.err(`spark-optimizer: source ${s.name}: ${missing.join(', ')} ${missing.length === 1 ? 'does' : 'do'} not exist; ${left.length === 0 ? 'skipped' : 'the rest is collected'}.`);
    if (left.length > 0) {
      kept.push({ ...s, path: left });
      partly++;
    }
  }
  return { sources: kept, partly };
}

/** The flags of every run, whatever its source; each source type's own come from its descriptor. */
const RUN_FLAGS = {
  ...stringFlags('source', 'config', 'name', 'db', 'since', 'user', 'batch-size', 'concurrency', 'format', 'status', 'max-apps', 'shard'),
  ...stringFlags('zstd-max-window-mb', 'max-line-mb', 'max-decompression-ratio', 'max-response-mb', 'max-unpacked-mb', 'max-unpack-ratio'),
  'dry-run': { type: 'boolean', default: false },
  'fail-on-regression': { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  utc: { type: 'boolean', default: false },
} as const;

type FlagSpec = { type: 'string'; multiple?: boolean } | { type: 'boolean'; default: boolean };
const FLAG_SPECS: Record<string, FlagSpec> = {
  ...RUN_FLAGS,
  ...Object.fromEntries([...SOURCE_FLAGS].map(([flag, f]): [string, FlagSpec] => [flag, f.kind === 'negate' ? { type: 'boolean', default: false } : f.kind === 'list' ? { type: 'string', multiple: true } : { type: 'string' }])),
};

/**
 * A run flag that none of the run's sources takes is a mistake, not something to ignore (`--status
 * running` with event logs collected every application): refused, naming the types that take it.
 */
function refuseUntakenFlags(overrides: JobOverrides, sources: readonly SourceConfig[], fromConfig: boolean): void {
  for (const [key, { flag }] of Object.entries(OVERRIDE_FLAGS) as [keyof JobOverrides, { flag: string }][]) {
    if (overrides[key] === undefined || COMMON_OVERRIDES.includes(key)) continue;
    if (sources.some((s) => descriptorOf(s.type).takes.includes(key))) continue;
    const takers = DESCRIPTORS.filter((d) => d.takes.includes(key)).map((d) => d.cliNames[0]!);
    const to = fromConfig ? 'any source of this config' : `--source ${DESCRIPTORS.find((d) => d.type === sources[0]?.type)?.cliNames[0] ?? sources[0]?.type}`;
    throw new UsageError(`--${flag} does not apply to ${to}; it is for ${takers.join(', ')}`);
  }
}

/** `--shard K/N` (shard.ts), or undefined when not given. */
function shardFlag(raw: string | undefined): Shard | undefined {
  if (raw === undefined) return undefined;
  try {
    return parseShard(raw);
  } catch (err) {
    throw new UsageError(`--shard ${(err as Error).message}`);
  }
}

/** Each job override's flag, and how the flag's text reads: the one table of the run flags' meaning. */
const OVERRIDE_FLAGS: { [K in keyof JobOverrides]-?: { flag: keyof typeof RUN_FLAGS; read: (raw: string) => JobOverrides[K] } } = {
  since: { flag: 'since', read: (raw) => parseDate('since', raw) },
  user: { flag: 'user', read: (raw) => raw },
  concurrency: { flag: 'concurrency', read: (raw) => positiveInt('concurrency', raw, 1) },
  batchSize: { flag: 'batch-size', read: (raw) => positiveInt('batch-size', raw, 1) },
  maxApps: { flag: 'max-apps', read: (raw) => positiveInt('max-apps', raw, 1) },
  status: { flag: 'status', read: (raw) => oneOf('status', raw, ['completed', 'running', 'all'] as const, 'completed') },
  maxZstdWindowMb: { flag: 'zstd-max-window-mb', read: zstdWindowFlag },
  maxLineBytes: { flag: 'max-line-mb', read: maxLineFlag },
  maxDecompressionRatio: { flag: 'max-decompression-ratio', read: decompressionRatioFlag },
  maxResponseBytes: { flag: 'max-response-mb', read: maxResponseFlag },
  maxUnpackedBytes: { flag: 'max-unpacked-mb', read: maxUnpackedFlag },
  maxUnpackRatio: { flag: 'max-unpack-ratio', read: unpackRatioFlag },
  shard: { flag: 'shard', read: shardFlag },
};

/** The run flags as job overrides (pipeline.ts): each has the meaning of its config key and wins over the config. */
function overridesFromFlags(values: Record<string, string | string[] | boolean | undefined>): JobOverrides {
  const overrides: JobOverrides = {};
  // OVERRIDE_FLAGS' type pairs each key with its reader; the loop cannot see the pairing (hence `never`).
  for (const [key, { flag, read }] of Object.entries(OVERRIDE_FLAGS) as [keyof JobOverrides, { flag: string; read: (raw: string) => never }][]) {
    const raw = values[flag] as string | undefined;
    if (raw !== undefined) overrides[key] = read(raw);
  }
  return overrides;
}

export async function collectCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({ args, options: FLAG_SPECS, strict: true, allowPositionals: false });
  const format = oneOf('format', values.format as string | undefined, ['table', 'json'] as const, 'table');
  const overrides = overridesFromFlags(values);
  const dryRun = values['dry-run'] === true;
  const failOnRegression = values['fail-on-regression'] === true;
  if (dryRun && failOnRegression) throw new UsageError('--fail-on-regression needs runs stored: a --dry-run checks nothing against their history');

  let sources: SourceConfig[];
  let failedSources = 0;
  if (values.config !== undefined) {
    if (values.source !== undefined || values.path !== undefined) throw new UsageError('--config and --source/--path are alternatives; give one');
    ({ sources, failed: failedSources } = await sourcesFromConfig(values.config as string, values.name as string | undefined, io));
    const present = withExistingPaths(sources, io);
    failedSources += sources.length - present.sources.length + present.partly;
    sources = present.sources;
    // Nothing left to collect: no database is made and no run is recorded.
    if (sources.length === 0) return 1;
  } else {
    sources = [sourceFromFlags(eventLogsImplied(values), io)];
    const missing = missingPaths(sources[0]!);
    if (missing.length > 0) throw new Error(`${missing.join(', ')} does not exist`);
  }
  refuseUntakenFlags(overrides, sources, values.config !== undefined);

  const database = databaseLocation(values.db as string | undefined, io);
  // A save merged with another writer's file re-checks the later runs of what the merge removed, with
  // the thresholds this collection checks its sources with (jobStore.ts OpenOptions.recheckThresholds).
  const recheckThresholds = (name: string): Readonly<typeof DEFAULT_THRESHOLDS> => sourceThresholds(DEFAULT_THRESHOLDS, sources.find((s) => s.name === name)?.regression);
  const store = dryRun ? null : await openDatabase(database, io, { recheckThresholds });
  // A database that cannot be saved is said before the run, not after collecting into it.
  await store?.checkWritable().catch((err: unknown) => {
    store.close();
    throw err;
  });
  const openWarnings = store?.warnings.length ?? 0;
  const saves = store ? new SaveSchedule(() => store.save(), SAVE_EVERY_MS) : undefined;
  const planned = plan(sources, { overrides, newestEndTime: store ? (key) => store.newestEndTime(key) : undefined });
  // A source that cannot start (a ${env:VAR} that is not set) is named; the others run, and the run exits 1.
  for (const f of planned.failed) io.err(`spark-optimizer: source ${f.source}: ${f.message}; skipped.`);
  failedSources += planned.failed.length;

  const started = Date.now();
  let lastProgress = 0;
  let tieredUp = false;
  let grown = false;
  const onProgress = (p: CollectProgress): void => {
    if (!tieredUp && (p.logsFound > BIG_RUN_LOGS || Math.max(p.bytesRead, p.bytesFound ?? 0) > TIER_UP_BYTES)) {
      tieredUp = true;
      tierUpAsUsual();
    }
    if (!grown && (p.logsFound > BIG_RUN_LOGS || p.bytesRead > BIG_RUN_BYTES)) {
      grown = true;
      tuneV8ForLongRun();
    }
    tell(() => progressLine(p, started));
  };
  /** Only long runs talk: at most twice a second on a terminal, every 5 s when logged; `last` always (a phase's end). */
  function tell(line: () => string, last = false): void {
    const now = Date.now();
    if (now - started < 2000 || (!last && now - lastProgress < (io.isTTY ? 500 : 5000))) return;
    lastProgress = now;
    io.err(line());
  }
  const onCheck = (checked: number, total: number): void => tell(() => `checking runs against their history: ${groupDigits(checked)} of ${plural(total, 'run')}`, checked === total);

  // The first SIGINT/SIGTERM/SIGHUP stops the run, which then saves what it collected and says so; a
  // second one ends the process. SIGHUP: the terminal closed (an ssh session dropped), where up to a
  // save interval's records were lost.
  const controller = new AbortController();
  let stoppedBy: NodeJS.Signals | undefined;
  const stop = (signal: NodeJS.Signals): void => {
    stoppedBy ??= signal;
    if (signal === 'SIGHUP') ignoreClosedTerminal();
    controller.abort();
  };
  for (const s of STOP_SIGNALS) process.once(s, stop);
  const shown: CollectedApp[] = [];
  const loose: Problem[] = [];
  const withProblems = new ProblemLogs();
  const shardTallies = new Map<string, ShardTally>();
  // Called for what was stored (or counted by a dry run) only: after a cancel, for what the collector had read to the end.
  const onBatch = (batch: Batch, { job }: PlannedJob): void => {
    // By source, as the editor counts them: two sources at one URL are two sources with problems.
    withProblems.add(batch, job.name);
    if (batch.shard !== undefined) addTally(shardTallies, batch.shard);
    loose.push(...batch.problems);
    for (const app of batch.apps) {
      if (format === 'json') io.out(JSON.stringify({ ...app.record, problems: app.problems }));
      else shown.push(app);
    }
  };
  // In this thread; event logs on a pool of worker threads once a run has enough of them.
  const here: Runner = ({ job }, signal) => ({
    batches: runJob(job, { signal, onProgress, workerScript: path.join(__dirname, WORKER_BUNDLES.eventLog), isUnchanged: store ? (unit) => store.isUnchanged(unit) : undefined }),
  });
  let result: Awaited<ReturnType<typeof collectRun>> | undefined;
  let failure: Error | undefined;
  try {
    result = await collectRun(planned.jobs, here, store ? storeSink(store, { saves, onCheck }) : dryRunSink, controller.signal, onBatch);
  } catch (err) {
    failure = err instanceof Error ? err : new Error(String(err));
  } finally {
    for (const s of STOP_SIGNALS) process.removeListener(s, stop);
  }
  // The run's one save (besides the timed ones of a long run); a failed run keeps what it collected too.
  try {
    await saves?.flush();
  } catch (err) {
    if (failure === undefined) throw err;
    io.err(`spark-optimizer: ${(err as Error).message}`);
  } finally {
    if (store) printNewWarnings(store, openWarnings, io);
    store?.close();
  }
  if (failure !== undefined) throw failure;
  if (result === undefined) throw new Error('collection ended without a result');
  const total = result.counts;

  if (format === 'table' && shown.length > 0) {
    // Every row only when asked for (--format table): a run over 2,000 logs printed 2,000 (issue 16).
    const rows = [...shown].sort(byInterest).slice(0, values.format === 'table' ? undefined : TABLE_ROWS);
    const time = timeText(values.utc === true);
    io.out(table(RECORD_HEADER, rows.map((app) => recordRow(app.record, time))));
    const more = shown.length - rows.length;
    if (more > 0) io.out(`… and ${plural(more, 'more application')} (--format table shows them all${dryRun ? '' : '; `spark-optimizer jobs` lists what is stored'})`);
  }
  for (const app of shown) for (const p of app.problems) io.err(formatProblem(p));
  // Files a folder scan passed over are counted by reason; --verbose names them.
  for (const p of loose) if (p.code !== SKIPPED_FILE || values.verbose) io.err(formatProblem(p));
  const passedOver = passedOverSummary(loose);
  if (passedOver !== null) io.err(`${passedOver}${values.verbose ? '' : '; --verbose lists them'}`);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const where = dryRun ? 'dry run, nothing stored' : `stored in ${database.display}`;
  const stopped = stoppedBy === undefined ? '' : `Cancelled by ${stoppedBy}: `;
  // How the run split its sources' units: "shard 2/4: 1,234 of 4,901 logs".
  if (overrides.shard !== undefined) {
    const line = shardSummary(overrides.shard, shardTallies.values());
    if (format === 'json') io.err(line);
    else io.out(line);
  }
  const summary = `${stopped}${total.new} new, ${total.updated} updated, ${total.unchanged} unchanged, ${total.skipped} skipped, ${total.failed} failed${withProblems.summary()} (${where}); ${secs} s`;
  if (format === 'json') io.err(summary);
  else io.out(summary);
  // Runs stored new or updated that regressed against their own history (issue 18), checked with the defaults and each source's `regression:` keys.
  if (result.regressed.length > 0) {
    const line = regressedLine(result.regressed);
    if (format === 'json') io.err(line);
    else io.out(line);
  }

  // The shell's convention for a process ended by a signal: 128 + its number.
  if (stoppedBy !== undefined) return 128 + osConstants.signals[stoppedBy];
  if (result.stopped || failedSources > 0) return 1;
  const collected = total.new + total.updated + total.unchanged + total.skipped;
  if (collected === 0 && total.failed > 0) return 1;
  return failOnRegression && result.regressed.length > 0 ? EXIT_REGRESSED : 0;
}

