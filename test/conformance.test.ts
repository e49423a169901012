/**
 * Conformance of the event-log engine with ground truth it did not compute itself.
 *
 * 1. Apache Spark's own History Server answers (`spark-events/HistoryServerExpectations`, the REST
 *    responses Spark's HistoryServerSuite expects for the logs in `spark-events/spark-events`). Every
 *    expected value is derived here, at test time, from those JSON files; no number is written down.
 * 2. Sanity of every log in `real-logs/` and `spark-events/spark-events/`.
 * 3. A naive reference reducer (full JSON.parse of every line) as an independent oracle for the fast
 *    engine, over the same logs.
 *
 * Mapping decisions (DESIGN.md §2 leaves them to us), checked against the expectations:
 * - total_tasks = number of TaskEnd events (task attempts, retries included)
 *   = Σ stages (numCompleteTasks + numFailedTasks + numKilledTasks) = Σ executors totalTasks.
 *   It is NOT Σ numTasks (partitions): app-20161116163331-0000 has numTasks 16 but 24 task attempts.
 * - Task metrics are summed over ALL task ends, failed ones included (REST stage executorRunTime
 *   includes the failed task's time in local-1422981780767 stage 2).
 * - Stages are counted per (stageId, attemptId) — one REST /stages entry each — and only stages that
 *   ran: REST also lists never-submitted stages as SKIPPED, which we leave out.
 * - executorCpuTime is nanoseconds in REST and in the log; cpu_time_ms = floor(Σ ns / 1e6).
 * - num_executors = executors other than the driver; the driver alone (local mode) counts as 1.
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { type CollectedApp } from '../src/collectors/contract';
import type { Problem, SparkAppRecord } from '../src/collectors/record';
import { describeShared, sharedPath } from './support/shared';

const SPARK_EVENTS_DIR = sharedPath('spark-events', 'spark-events');
const EXPECTATIONS_DIR = sharedPath('spark-events', 'HistoryServerExpectations');
const REAL_LOGS_DIR = sharedPath('real-logs');

type Field = keyof SparkAppRecord;
type Json = Record<string, unknown>;
type Expected = Partial<Record<Field, unknown>>;

// ---------------------------------------------------------------------------------------------
// Small JSON helpers (the expectation files span Spark 1.x–4.x formats: every field is optional)

function asObject(v: unknown): Json | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
}
function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}
function at(v: unknown, ...keys: string[]): unknown {
  let cur = v;
  for (const k of keys) {
    const o = asObject(cur);
    if (o === undefined) return undefined;
    cur = o[k];
  }
  return cur;
}
function numAt(v: unknown, ...keys: string[]): number | undefined {
  const x = at(v, ...keys);
  return typeof x === 'number' ? x : undefined;
}
function strAt(v: unknown, ...keys: string[]): string | undefined {
  const x = at(v, ...keys);
  return typeof x === 'string' ? x : undefined;
}
/** Σ of one numeric field over entries; undefined when any entry lacks it (field from another Spark version). */
function sumOf(entries: unknown[], key: string): number | undefined {
  let total = 0;
  for (const e of entries) {
    const n = numAt(e, key);
    if (n === undefined) return undefined;
    total += n;
  }
  return total;
}
function readJson(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8')) as unknown;
}
const isoOf = (epochMs: number): string => new Date(epochMs).toISOString();

/** REST times look like `2015-02-03T16:42:59.720GMT`. */
function restTimeToIso(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text.replace(/GMT$/, 'Z'));
  return Number.isNaN(ms) ? undefined : isoOf(ms);
}

const isDriverId = (id: string): boolean => id === 'driver' || id === '<driver>';

/**
 * A JVM memory string as Spark reads it (JavaUtils.byteStringAs: case-insensitive k/kb, m/mb, g/gb,
 * t/tb, p/pb) in whole MiB. A bare number is ambiguous in Spark itself (Utils.memoryStringToMb reads
 * bytes, ConfigBuilder.bytesConf(MiB) reads MiB), so it gives undefined: nothing to compare.
 */
function memoryMb(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = /^\s*(\d+)\s*([kmgtp])b?\s*$/i.exec(value);
  if (!m?.[1] || !m[2]) return undefined;
  const power = { k: 1, m: 2, g: 3, t: 4, p: 5 }[m[2].toLowerCase() as 'k' | 'm' | 'g' | 't' | 'p'];
  return Math.floor((Number(m[1]) * 1024 ** power) / 1024 ** 2);
}

// ---------------------------------------------------------------------------------------------
// Logs on disk: one unit = one file, or one rolling `eventlog_v2_*` folder

interface LogUnit {
  /** File or folder name, as listed. */
  name: string;
  path: string;
  /** The name without `eventlog_v2_`, `.inprogress` and codec suffixes: `<appId>` or `<appId>_<attempt>`. */
  base: string;
  /** Event files in order. */
  eventFiles: string[];
}

const CODEC_SUFFIX = /\.(lz4|lzf|snappy|zstd|zst|gz)$/;

function listLogUnits(dir: string): LogUnit[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => !d.name.startsWith('.') && !/\.(md|tsv|txt)$/i.test(d.name))
    .map((d): LogUnit => {
      const full = path.join(dir, d.name);
      const base = d.name.replace(/^eventlog_v2_/, '').replace(/\.inprogress$/, '').replace(CODEC_SUFFIX, '');
      let files: string[];
      if (d.isDirectory()) {
        // Rolling layout: events_<n>_<appId>[.codec]; appstatus_* only marks completion.
        files = readdirSync(full)
          .map((f) => ({ f, n: /^events_(\d+)_/.exec(f)?.[1] }))
          .filter((x): x is { f: string; n: string } => x.n !== undefined)
          .sort((a, b) => Number(a.n) - Number(b.n))
          .map((x) => path.join(full, x.f));
      } else {
        files = [full];
      }
      return { name: d.name, path: full, base, eventFiles: files };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Every event of a unit, parsed naively. `.gz` is inflated with zlib; Spark's own codecs would need
 * the engine's decoders, which this oracle must not share, so such a log fails loudly here (none is
 * in ../shared today) instead of leaving its fields unchecked.
 */
function readEvents(unit: LogUnit): Json[] {
  const events: Json[] = [];
  for (const file of unit.eventFiles) {
    const name = file.replace(/\.inprogress$/, '');
    const codec = CODEC_SUFFIX.exec(name)?.[1];
    if (codec !== undefined && codec !== 'gz') throw new Error(`${file}: the reference reader reads plain and .gz logs only; decode ${codec} independently of the engine to check this log`);
    const bytes = readFileSync(file);
    for (const line of (codec === 'gz' ? gunzipSync(bytes) : bytes).toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const e = asObject(JSON.parse(line));
      if (e) events.push(e);
    }
  }
  return events;
}

// Collect each log once per run, whatever number of tests look at it.
interface Collected {
  apps: CollectedApp[];
  problems: Problem[];
}
const collectedByPath = new Map<string, Promise<Collected>>();
function collect(logPath: string): Promise<Collected> {
  let p = collectedByPath.get(logPath);
  if (p === undefined) {
    p = collectAll({ path: logPath }).then((r) => ({ apps: r.apps, problems: r.problems }));
    collectedByPath.set(logPath, p);
  }
  return p;
}

const describeRecord = (r: SparkAppRecord): string => `${r.app_id}${r.attempt_id === null ? '' : ` attempt ${r.attempt_id}`}`;

// ---------------------------------------------------------------------------------------------
// 1. History Server expectations -> expected record fields

interface AttemptKey {
  appId: string;
  attemptId: string | null;
}
interface FieldExpectation extends AttemptKey {
  field: Field;
  expected: unknown;
  /** Which expectation file(s) and how the value was derived. */
  sources: string[];
}

/** URL_MAP.tsv: expectation file -> REST path after /api/v1/. */
function readUrlMap(): { file: string; restPath: string }[] {
  const lines = readFileSync(path.join(EXPECTATIONS_DIR, 'URL_MAP.tsv'), 'utf8').split('\n').slice(1);
  return lines
    .map((l) => l.split('\t'))
    .filter((cols): cols is [string, string] => cols.length >= 2 && cols[0] !== '' && cols[1] !== '')
    .map(([file, restPath]) => ({ file, restPath: restPath.trim() }));
}

class ExpectationTable {
  private readonly byKey = new Map<string, FieldExpectation>();
  /** REST attempt ids per app (null = the app's only attempt has no id). */
  readonly attempts = new Map<string, Set<string | null>>();
  /** Disagreements between expectation files: reported as failing tests, not hidden. */
  readonly conflicts: string[] = [];

  addAttempt(appId: string, attemptId: string | null): void {
    let set = this.attempts.get(appId);
    if (set === undefined) this.attempts.set(appId, (set = new Set()));
    set.add(attemptId);
  }

  add(key: AttemptKey, field: Field, expected: unknown, source: string): void {
    if (expected === undefined) return;
    const id = `${key.appId}\u0000${key.attemptId ?? ''}\u0000${field}`;
    const existing = this.byKey.get(id);
    if (existing === undefined) {
      this.byKey.set(id, { ...key, field, expected, sources: [source] });
    } else if (JSON.stringify(existing.expected) === JSON.stringify(expected)) {
      existing.sources.push(source);
    } else {
      this.conflicts.push(
        `${key.appId} ${field}: ${JSON.stringify(existing.expected)} (${existing.sources.join(', ')}) vs ${JSON.stringify(expected)} (${source})`,
      );
    }
  }

  /** Fields about the whole app (not one attempt) apply to every attempt of it. */
  addForAllAttempts(appId: string, field: Field, expected: unknown, source: string): void {
    for (const attemptId of this.attempts.get(appId) ?? [null]) this.add({ appId, attemptId }, field, expected, source);
  }

  all(): FieldExpectation[] {
    return [...this.byKey.values()];
  }
}

function addApplication(table: ExpectationTable, app: unknown, file: string): void {
  const appId = strAt(app, 'id');
  if (appId === undefined) return;
  for (const attempt of asArray(at(app, 'attempts'))) {
    const attemptId = strAt(attempt, 'attemptId') ?? null;
    table.addAttempt(appId, attemptId);
    const key = { appId, attemptId };
    const src = (what: string): string => `${file}: ${what}`;
    table.add(key, 'app_name', strAt(app, 'name'), src('name'));
    table.add(key, 'user', strAt(attempt, 'sparkUser'), src('attempts[].sparkUser'));
    const start = numAt(attempt, 'startTimeEpoch');
    const end = numAt(attempt, 'endTimeEpoch');
    table.add(key, 'start_time', start !== undefined ? isoOf(start) : restTimeToIso(strAt(attempt, 'startTime')), src('attempts[].startTime(Epoch)'));
    // A running attempt's endTime is a placeholder (epoch -1), not a time.
    if (at(attempt, 'completed') === true) {
      table.add(key, 'end_time', end !== undefined ? isoOf(end) : restTimeToIso(strAt(attempt, 'endTime')), src('attempts[].endTime(Epoch)'));
      table.add(key, 'duration_ms', numAt(attempt, 'duration'), src('attempts[].duration'));
      table.add(key, 'status', 'completed', src('attempts[].completed = true'));
    }
    // '' = the log has no SparkListenerLogStart (Spark < 1.5): we say null, not ''.
    const version = strAt(attempt, 'appSparkVersion');
    if (version !== undefined) table.add(key, 'spark_version', version === '' ? null : version, src('attempts[].appSparkVersion'));
  }
}

function addEnvironment(table: ExpectationTable, appId: string, env: unknown, file: string): void {
  const props = new Map<string, string>();
  for (const pair of asArray(at(env, 'sparkProperties'))) {
    if (Array.isArray(pair) && typeof pair[0] === 'string' && typeof pair[1] === 'string') props.set(pair[0], pair[1]);
  }
  const src = (key: string): string => `${file}: sparkProperties ${key}`;
  table.addForAllAttempts(appId, 'executor_memory_mb', memoryMb(props.get('spark.executor.memory')), src('spark.executor.memory'));
  table.addForAllAttempts(appId, 'driver_memory_mb', memoryMb(props.get('spark.driver.memory')), src('spark.driver.memory'));
  const cores = props.get('spark.executor.cores');
  if (cores !== undefined && /^\d+$/.test(cores)) table.addForAllAttempts(appId, 'executor_cores', Number(cores), src('spark.executor.cores'));
}

function addExecutors(table: ExpectationTable, appId: string, executors: unknown[], file: string, logHasExecutorRemoved: boolean): void {
  const ids = executors.map((e) => strAt(e, 'id') ?? '');
  const workers = executors.filter((_, i) => !isDriverId(ids[i] ?? ''));
  const src = (what: string): string => `${file}: ${what}`;
  // Local mode: the driver is the only executor and counts as one.
  table.addForAllAttempts(appId, 'num_executors', workers.length > 0 ? workers.length : executors.length, src('count of ids other than "driver" (driver alone = 1)'));
  const cores = new Set(workers.map((e) => numAt(e, 'totalCores')));
  const [onlyCores] = [...cores];
  if (cores.size === 1 && onlyCores !== undefined && onlyCores > 0) {
    table.addForAllAttempts(appId, 'executor_cores', onlyCores, src('totalCores of the non-driver executors'));
  }
  // /executors lists active executors only: its sums are the app's totals only if none was removed.
  if (logHasExecutorRemoved) return;
  table.addForAllAttempts(appId, 'total_tasks', sumOf(executors, 'totalTasks'), src('Σ totalTasks'));
  table.addForAllAttempts(appId, 'failed_tasks', sumOf(executors, 'failedTasks'), src('Σ failedTasks'));
  table.addForAllAttempts(appId, 'input_bytes', sumOf(executors, 'totalInputBytes'), src('Σ totalInputBytes'));
  table.addForAllAttempts(appId, 'shuffle_read_bytes', sumOf(executors, 'totalShuffleRead'), src('Σ totalShuffleRead'));
  table.addForAllAttempts(appId, 'shuffle_write_bytes', sumOf(executors, 'totalShuffleWrite'), src('Σ totalShuffleWrite'));
}

const RAN = (s: unknown): boolean => !['SKIPPED', 'PENDING'].includes(strAt(s, 'status') ?? '');

function addAllStages(table: ExpectationTable, appId: string, stages: unknown[], file: string, logHasCpuTime: boolean): void {
  const src = (what: string): string => `${file}: ${what}`;
  const ran = stages.filter(RAN);
  const attempts = new Set(ran.map((s) => `${numAt(s, 'stageId')}.${numAt(s, 'attemptId') ?? 0}`));
  table.addForAllAttempts(appId, 'total_stages', attempts.size, src('distinct (stageId, attemptId) not SKIPPED/PENDING'));
  table.addForAllAttempts(appId, 'failed_stages', ran.filter((s) => strAt(s, 'status') === 'FAILED').length, src('entries with status FAILED'));
  const complete = sumOf(ran, 'numCompleteTasks');
  const failed = sumOf(ran, 'numFailedTasks');
  // numKilledTasks exists since Spark 2.2; before, killed tasks were counted as failed.
  const killed = sumOf(ran, 'numKilledTasks') ?? 0;
  if (complete !== undefined && failed !== undefined) {
    table.addForAllAttempts(appId, 'total_tasks', complete + failed + killed, src('Σ (numCompleteTasks + numFailedTasks + numKilledTasks)'));
  }
  table.addForAllAttempts(appId, 'failed_tasks', failed, src('Σ numFailedTasks'));
  table.addForAllAttempts(appId, 'input_bytes', sumOf(ran, 'inputBytes'), src('Σ inputBytes'));
  table.addForAllAttempts(appId, 'output_bytes', sumOf(ran, 'outputBytes'), src('Σ outputBytes'));
  table.addForAllAttempts(appId, 'shuffle_read_bytes', sumOf(ran, 'shuffleReadBytes'), src('Σ shuffleReadBytes'));
  table.addForAllAttempts(appId, 'shuffle_write_bytes', sumOf(ran, 'shuffleWriteBytes'), src('Σ shuffleWriteBytes'));
  table.addForAllAttempts(appId, 'memory_spilled_bytes', sumOf(ran, 'memoryBytesSpilled'), src('Σ memoryBytesSpilled'));
  table.addForAllAttempts(appId, 'disk_spilled_bytes', sumOf(ran, 'diskBytesSpilled'), src('Σ diskBytesSpilled'));
  const cpuNs = sumOf(ran, 'executorCpuTime');
  // The REST answer says 0 where Spark never measured CPU time (before 2.1); the record says unknown.
  if (!logHasCpuTime) table.addForAllAttempts(appId, 'cpu_time_ms', null, src('null: the log has no "Executor CPU Time" (Spark < 2.1), where REST says 0'));
  else if (cpuNs !== undefined) table.addForAllAttempts(appId, 'cpu_time_ms', Math.floor(cpuNs / 1e6), src('floor(Σ executorCpuTime ns / 1e6)'));
}

/** Cross-check only: a stage shared by two running jobs would count in both; not the case in this data. */
function addJobs(table: ExpectationTable, appId: string, jobs: unknown[], file: string): void {
  const src = (what: string): string => `${file}: ${what}`;
  const complete = sumOf(jobs, 'numCompletedTasks');
  const failed = sumOf(jobs, 'numFailedTasks');
  const killed = sumOf(jobs, 'numKilledTasks') ?? 0;
  if (complete !== undefined && failed !== undefined) {
    table.addForAllAttempts(appId, 'total_tasks', complete + failed + killed, src('Σ (numCompletedTasks + numFailedTasks + numKilledTasks)'));
  }
  table.addForAllAttempts(appId, 'failed_tasks', failed, src('Σ numFailedTasks'));
  const completeStages = sumOf(jobs, 'numCompletedStages');
  const failedStages = sumOf(jobs, 'numFailedStages');
  if (completeStages !== undefined && failedStages !== undefined) {
    table.addForAllAttempts(appId, 'total_stages', completeStages + failedStages, src('Σ (numCompletedStages + numFailedStages)'));
  }
  table.addForAllAttempts(appId, 'failed_stages', failedStages, src('Σ numFailedStages'));
}

function logUnitsFor(units: LogUnit[], appId: string, attemptId: string | null): LogUnit[] {
  return units.filter((u) => u.base === appId || (attemptId !== null && u.base === `${appId}_${attemptId}`));
}

function buildExpectations(units: LogUnit[]): ExpectationTable {
  const table = new ExpectationTable();
  const urlMap = readUrlMap();
  const hasExecutorRemoved = (appId: string): boolean =>
    units
      .filter((u) => u.base === appId || u.base.startsWith(`${appId}_`))
      .some((u) => readEvents(u).some((e) => e.Event === 'SparkListenerExecutorRemoved'));
  const hasCpuTime = (appId: string): boolean =>
    units
      .filter((u) => u.base === appId || u.base.startsWith(`${appId}_`))
      .some((u) => readEvents(u).some((e) => e.Event === 'SparkListenerTaskEnd' && at(e, 'Task Metrics', 'Executor CPU Time') !== undefined));

  // Applications first: they tell which attempts each app has.
  const perApp: { file: string; appId: string; endpoint: string; status: string | undefined }[] = [];
  for (const { file, restPath } of urlMap) {
    const [pathPart = '', query = ''] = restPath.split('?');
    const status = /(?:^|&)status=([^&]+)/.exec(query)?.[1];
    const parts = pathPart.split('/');
    const data = readJson(path.join(EXPECTATIONS_DIR, file));
    if (parts.length === 1 && parts[0] === 'applications') {
      for (const app of asArray(data)) addApplication(table, app, file);
    } else if (parts.length === 2 && parts[0] === 'applications' && parts[1]) {
      addApplication(table, data, file);
    } else if (parts.length >= 3 && parts[0] === 'applications' && parts[1]) {
      perApp.push({ file, appId: parts[1], endpoint: parts.slice(2).join('/'), status });
    }
  }
  for (const { file, appId, endpoint, status } of perApp) {
    const data = readJson(path.join(EXPECTATIONS_DIR, file));
    if (endpoint === 'environment') addEnvironment(table, appId, data, file);
    else if (endpoint === 'executors' || endpoint === 'allexecutors') {
      addExecutors(table, appId, asArray(data), file, endpoint === 'executors' && hasExecutorRemoved(appId));
    } else if (endpoint === 'stages' && status === undefined) addAllStages(table, appId, asArray(data), file, hasCpuTime(appId));
    else if (endpoint === 'stages' && status === 'failed') {
      table.addForAllAttempts(appId, 'failed_stages', asArray(data).length, `${file}: count of entries`);
    } else if (endpoint === 'jobs' && status === undefined) addJobs(table, appId, asArray(data), file);
    // stages?status=complete, jobs/<n>: a subset of the above, nothing more to derive.
  }
  return table;
}

describeShared('History Server conformance (spark-events)', () => {
  const units = listLogUnits(SPARK_EVENTS_DIR);
  const table = buildExpectations(units);
  const expectations = table.all();
  // Only apps whose logs were copied into ../shared (the lists name more apps than that).
  const appIds = [...table.attempts.entries()]
    .filter(([appId, attempts]) => [...attempts].some((a) => logUnitsFor(units, appId, a).length > 0))
    .map(([appId]) => appId)
    .sort();

  it('the expectation files agree with each other', () => {
    expect(table.conflicts).toEqual([]);
  });

  it('finds History Server expectations for the copied logs', () => {
    expect(appIds.length, `apps with both a log and expectations in ${EXPECTATIONS_DIR}`).toBeGreaterThan(0);
  });

  /** The records produced for one app: every log unit of it, collected on its own. */
  async function recordsOf(appId: string): Promise<SparkAppRecord[]> {
    const attempts = [...(table.attempts.get(appId) ?? [])];
    const unitPaths = new Set(attempts.flatMap((a) => logUnitsFor(units, appId, a).map((u) => u.path)));
    const records: SparkAppRecord[] = [];
    for (const p of unitPaths) records.push(...(await collect(p)).apps.map((a) => a.record).filter((r) => r.app_id === appId));
    return records;
  }

  for (const appId of appIds) {
    describe(appId, () => {
      const attempts = [...(table.attempts.get(appId) ?? [])];

      it(`gives one record per History Server attempt (${attempts.map((a) => a ?? 'no attempt id').join(', ')})`, async () => {
        const got = (await recordsOf(appId)).map((r) => r.attempt_id).sort();
        const want = [...attempts].sort();
        expect(got, `${appId}: attempt ids of the records (expected ${JSON.stringify(want)}, got ${JSON.stringify(got)})`).toEqual(want);
      });

      for (const { attemptId, field, expected, sources } of expectations.filter((e) => e.appId === appId)) {
        const who = `${appId}${attemptId === null ? '' : ` attempt ${attemptId}`}`;
        const files = [...new Set(sources.map((src) => src.split(':')[0]))].join(', ');
        const title = `${attemptId === null ? '' : `attempt ${attemptId}: `}${field} = ${JSON.stringify(expected)}  [${files}]`;
        it(title, async () => {
          const record = (await recordsOf(appId)).find((r) => r.attempt_id === attemptId);
          expect(record, `${who}: no record with attempt_id ${JSON.stringify(attemptId)}`).toBeDefined();
          if (record === undefined) return;
          const actual = record[field];
          expect(actual, `${who}: ${field} expected ${JSON.stringify(expected)} (${sources.join('; ')}), got ${JSON.stringify(actual)}`).toEqual(expected);
        });
      }
    });
  }
});

// ---------------------------------------------------------------------------------------------
// 3. The naive reference reducer: one full JSON.parse per line, straight from DESIGN.md §2

interface Reference {
  /** Fields it can state for certain; a field left out has no unambiguous value in the log. */
  expected: Expected;
  hasLogStart: boolean;
}

function reduceLog(events: Json[]): Reference {
  let logStart: string | undefined;
  let appStart: Json | undefined;
  let appEnd: Json | undefined;
  const props = new Map<string, string>();
  const executorCores = new Map<string, number | undefined>();
  const blockManagers = new Set<string>();
  const stages = new Set<string>();
  const failedStages = new Set<string>();
  let tasks = 0;
  let failedTasks = 0;
  let cpuSeen = false;
  const sums = { cpuNs: 0, input: 0, output: 0, shuffleRead: 0, shuffleWrite: 0, memory: 0, disk: 0 };

  for (const e of events) {
    switch (e.Event) {
      case 'SparkListenerLogStart':
        logStart = strAt(e, 'Spark Version');
        break;
      case 'SparkListenerApplicationStart':
        appStart = e;
        break;
      case 'SparkListenerApplicationEnd':
        appEnd = e;
        break;
      case 'SparkListenerEnvironmentUpdate': {
        const p = at(e, 'Spark Properties');
        const entries = Array.isArray(p) ? p : Object.entries(asObject(p) ?? {});
        for (const kv of entries) if (Array.isArray(kv) && typeof kv[0] === 'string' && typeof kv[1] === 'string') props.set(kv[0], kv[1]);
        break;
      }
      case 'SparkListenerExecutorAdded': {
        const id = strAt(e, 'Executor ID');
        if (id !== undefined) executorCores.set(id, numAt(e, 'Executor Info', 'Total Cores'));
        break;
      }
      case 'SparkListenerBlockManagerAdded': {
        const id = strAt(e, 'Block Manager ID', 'Executor ID');
        if (id !== undefined) blockManagers.add(id);
        break;
      }
      case 'SparkListenerStageSubmitted':
      case 'SparkListenerStageCompleted': {
        const key = `${numAt(e, 'Stage Info', 'Stage ID')}.${numAt(e, 'Stage Info', 'Stage Attempt ID') ?? 0}`;
        stages.add(key);
        if (e.Event === 'SparkListenerStageCompleted' && at(e, 'Stage Info', 'Failure Reason') != null) failedStages.add(key);
        break;
      }
      case 'SparkListenerTaskEnd': {
        tasks += 1;
        // As the History Server counts (AppStatusListener.onTaskEnd): killed and commit-denied
        // tasks are neither completed nor failed.
        const reason = strAt(e, 'Task End Reason', 'Reason');
        if (reason !== 'Success' && reason !== 'TaskKilled' && reason !== 'TaskCommitDenied') failedTasks += 1;
        const m = at(e, 'Task Metrics');
        const cpu = numAt(m, 'Executor CPU Time');
        if (cpu !== undefined) cpuSeen = true;
        sums.cpuNs += cpu ?? 0;
        sums.input += numAt(m, 'Input Metrics', 'Bytes Read') ?? 0;
        sums.output += numAt(m, 'Output Metrics', 'Bytes Written') ?? 0;
        sums.shuffleRead += (numAt(m, 'Shuffle Read Metrics', 'Remote Bytes Read') ?? 0) + (numAt(m, 'Shuffle Read Metrics', 'Local Bytes Read') ?? 0);
        sums.shuffleWrite += numAt(m, 'Shuffle Write Metrics', 'Shuffle Bytes Written') ?? 0;
        sums.memory += numAt(m, 'Memory Bytes Spilled') ?? 0;
        sums.disk += numAt(m, 'Disk Bytes Spilled') ?? 0;
        break;
      }
      default:
        break;
    }
  }

  const expected: Expected = {
    app_id: strAt(appStart, 'App ID'),
    attempt_id: strAt(appStart, 'App Attempt ID') ?? null,
    app_name: strAt(appStart, 'App Name'),
    user: strAt(appStart, 'User'),
    spark_version: logStart ?? null,
    total_tasks: tasks,
    failed_tasks: failedTasks,
    total_stages: stages.size,
    failed_stages: failedStages.size,
    // Executor CPU Time exists from Spark 2.1 (DESIGN.md §2): no task carrying it means unknown.
    cpu_time_ms: cpuSeen || tasks === 0 ? Math.floor(sums.cpuNs / 1e6) : null,
    input_bytes: sums.input,
    output_bytes: sums.output,
    shuffle_read_bytes: sums.shuffleRead,
    shuffle_write_bytes: sums.shuffleWrite,
    memory_spilled_bytes: sums.memory,
    disk_spilled_bytes: sums.disk,
  };
  const start = numAt(appStart, 'Timestamp');
  const end = numAt(appEnd, 'Timestamp');
  if (start !== undefined) expected.start_time = isoOf(start);
  if (appEnd !== undefined && end !== undefined) {
    expected.end_time = isoOf(end);
    if (start !== undefined) expected.duration_ms = end - start;
    // Spark 4 writes the driver's ExitCode; a non-zero one may fairly be called 'failed'.
    const exitCode = numAt(appEnd, 'ExitCode');
    if (exitCode === undefined || exitCode === 0) expected.status = 'completed';
  }
  const executorMb = memoryMb(props.get('spark.executor.memory'));
  if (executorMb !== undefined) expected.executor_memory_mb = executorMb;
  const driverMb = memoryMb(props.get('spark.driver.memory'));
  if (driverMb !== undefined) expected.driver_memory_mb = driverMb;

  const workers = [...executorCores.keys()].filter((id) => !isDriverId(id));
  const coresProp = props.get('spark.executor.cores');
  const workerCores = new Set(workers.map((id) => executorCores.get(id)));
  const [onlyCores] = [...workerCores];
  if (coresProp !== undefined && /^\d+$/.test(coresProp)) expected.executor_cores = Number(coresProp);
  else if (workerCores.size === 1 && onlyCores !== undefined && onlyCores > 0) expected.executor_cores = onlyCores;

  // Executors: ExecutorAdded ids other than the driver; logs before Spark 1.3 have no ExecutorAdded,
  // so their BlockManagerAdded ids stand in; the driver alone (local mode) is one executor.
  const bmWorkers = [...blockManagers].filter((id) => !isDriverId(id));
  if (workers.length > 0) expected.num_executors = workers.length;
  else if (executorCores.size === 0 && bmWorkers.length > 0) expected.num_executors = bmWorkers.length;
  else if (executorCores.size > 0 || blockManagers.size > 0) expected.num_executors = 1;

  return { expected, hasLogStart: logStart !== undefined };
}

// ---------------------------------------------------------------------------------------------
// 2 + 3. Every log: sanity, and agreement with the reference reducer

/** Sanity of one log's records, and agreement with the naive reducer. */
function describeLog(unit: LogUnit): void {
  const reference = reduceLog(readEvents(unit));

  it('gives at least one app and no error problem', async () => {
    const { apps, problems } = await collect(unit.path);
    expect(apps.length, `${unit.name}: apps collected`).toBeGreaterThanOrEqual(1);
    const errors = [...problems, ...apps.flatMap((a) => a.problems)].filter((p) => p.severity === 'error');
    expect(errors, `${unit.name}: problems of severity error`).toEqual([]);
  });

  it('has sensible values', async () => {
    const { apps } = await collect(unit.path);
    for (const { record: r } of apps) {
      const who = `${unit.name} (${describeRecord(r)})`;
      expect.soft(r.app_id, `${who}: app_id`).not.toBe('');
      const matchesName = r.app_id === unit.base || (r.attempt_id !== null && `${r.app_id}_${r.attempt_id}` === unit.base);
      expect.soft(matchesName, `${who}: app_id/attempt_id ${r.app_id}/${r.attempt_id} vs file name ${unit.base}`).toBe(true);
      if (r.start_time !== null && r.end_time !== null) {
        expect.soft(Date.parse(r.start_time) <= Date.parse(r.end_time), `${who}: start_time ${r.start_time} <= end_time ${r.end_time}`).toBe(true);
      }
      if (r.duration_ms !== null) expect.soft(r.duration_ms, `${who}: duration_ms`).toBeGreaterThanOrEqual(0);
      expect.soft(r.total_tasks, `${who}: total_tasks >= failed_tasks`).toBeGreaterThanOrEqual(r.failed_tasks);
      expect.soft(r.total_stages, `${who}: total_stages >= failed_stages`).toBeGreaterThanOrEqual(r.failed_stages);
      expect.soft(r.num_executors, `${who}: num_executors`).toBeGreaterThanOrEqual(1);
      if (reference.hasLogStart) {
        expect.soft(r.spark_version, `${who}: spark_version (the log has SparkListenerLogStart)`).toBeTruthy();
      }
    }
  });

  const fields = (Object.entries(reference.expected) as [Field, unknown][]).filter(([, expected]) => expected !== undefined);
  for (const [field, expected] of fields) {
    it(`reference reducer: ${field} = ${JSON.stringify(expected)}`, async () => {
      const { apps } = await collect(unit.path);
      expect(apps.length, `${unit.name}: exactly one app attempt per log`).toBe(1);
      const record = apps[0]?.record;
      if (record === undefined) return;
      const actual = record[field];
      expect(actual, `${unit.name}: ${field} expected ${JSON.stringify(expected)} (naive JSON.parse reducer), got ${JSON.stringify(actual)}`).toEqual(expected);
    });
  }
}

const LOG_DIRS = [
  { label: 'real-logs', dir: REAL_LOGS_DIR },
  { label: 'spark-events', dir: SPARK_EVENTS_DIR },
];

describeShared('every shared event log', () => {
  for (const { label, dir } of LOG_DIRS) {
    const units = listLogUnits(dir);
    describe(label, () => {
      it('has logs to read', () => {
        expect(units.length, `log files/folders in ${dir}`).toBeGreaterThan(0);
      });
      for (const unit of units) describe(unit.name, () => describeLog(unit));
    });
  }
});
