/**
 * A nightly job's runs for the regression tests (issue 18): run i of "Nightly" (source prod) started on
 * day i of June 2024, 10 min, 10 GB in, 4 GB shuffled each way, 8 executors, CPU 60 min, Spark 3.5.3.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Batch } from '../../src/collectors/contract';
import type { SparkAppRecord } from '../../src/collectors/record';
import type { SourceConfig } from '../../src/collectors/registry';
import { collectRun, plan, storeSink, type Runner } from '../../src/pipeline';
import type { JobRepository } from '../../src/storage/repository';
import { eventLogText } from './eventLogGenerator';
import { makeRecord } from './records';

export const GB = 1024 ** 3;
export const MIN = 60_000;

/** Spark properties as a real run has them, with the ones Spark sets anew for each run. */
export function nightlyEnvironment(i: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'spark.app.id': `spark-${i}`,
    'spark.app.startTime': String(1_717_200_000_000 + i),
    'spark.driver.host': `driver-${i}`,
    'spark.executor.memory': '8g',
    'spark.sql.shuffle.partitions': '200',
    'spark.hadoop.fs.s3a.secret.key': '*********(redacted)',
    ...extra,
  };
}

/**
 * Run i; `over` changes it. With `noise`, each metric is off by up to ±5%, deterministically, as
 * real runs are; without, every run is alike.
 */
export function nightlyRun(i: number, over: Partial<SparkAppRecord> = {}, noise = false): SparkAppRecord {
  const off = (k: number): number => (noise ? 1 + (((i * 7 + k * 13) % 11) - 5) / 100 : 1);
  const start = Date.UTC(2024, 5, 1) + i * 86_400_000;
  const duration = over.duration_ms ?? Math.round(10 * MIN * off(1));
  return makeRecord({
    app_id: `nightly-${String(i).padStart(3, '0')}`,
    app_name: 'Nightly',
    source: 'prod',
    start_time: new Date(start).toISOString(),
    end_time: new Date(start + duration).toISOString(),
    duration_ms: duration,
    cpu_time_ms: Math.round(60 * MIN * off(2)),
    input_bytes: Math.round(10 * GB * off(3)),
    shuffle_read_bytes: Math.round(4 * GB * off(4)),
    shuffle_write_bytes: Math.round(4 * GB * off(5)),
    memory_spilled_bytes: 0,
    disk_spilled_bytes: 0,
    failed_tasks: 0,
    failed_stages: 0,
    num_executors: 8,
    spark_version: '3.5.3',
    environment: nightlyEnvironment(i),
    ...over,
  });
}

/** Runs 0..n-1, newest first (a baseline as the store gives it); `over(i)` changes run i. */
export function nightlyHistory(n: number, over: (i: number) => Partial<SparkAppRecord> = () => ({}), noise = false): SparkAppRecord[] {
  return Array.from({ length: n }, (_, k) => nightlyRun(n - 1 - k, over(n - 1 - k), noise));
}

/**
 * Run i's event log, written to `dir` as `app-nightly-<i>`, a day after run i-1: 20 stages of 6 s each
 * (the generator's stage time), so 123.5 s; `slow` gives it 40 stages, 243.5 s: 2.0x, two minutes over
 * a one-minute floor (the check puts it down to another plan: 40 stages against 20). One task a stage
 * keeps CPU time, shuffle and spill well under their floors of 1 minute and 1 GiB. Returns its app id.
 */
export function writeNightlyLog(dir: string, i: number, slow = false): string {
  const appId = `app-nightly-${i}`;
  const { text } = eventLogText({ appId, appName: 'Nightly', seed: 100 + i, stages: slow ? 40 : 20, tasksPerStage: 1, executors: 2, startMs: Date.UTC(2026, 0, 1) + i * 86_400_000 });
  writeFileSync(path.join(dir, appId), text);
  return appId;
}

/**
 * A collection runner that yields `records` in one batch for every job (an array), or each job's own
 * by its source name (a record of arrays); `abortAfter` is aborted once a job's batch is taken.
 */
export function runnerOf(records: SparkAppRecord[] | Record<string, SparkAppRecord[]>, abortAfter?: AbortController): Runner {
  return ({ job }) => ({
    batches: (async function* (): AsyncGenerator<Batch> {
      await new Promise((resolve) => setImmediate(resolve));
      const apps = Array.isArray(records) ? records : (records[job.name] ?? []);
      yield { apps: apps.map((record) => ({ record, problems: [], files: [], provenance: { path: record.app_id, files: [] } })), problems: [], filtered: 0, unchanged: 0 };
      abortAfter?.abort();
    })(),
  });
}

/** The nightly runs' source: an event-log folder named prod. */
export const PROD = { type: 'event_log', name: 'prod', path: '/logs/prod' } as SourceConfig;

/** A collection of `records` from source prod into `repo`, as the CLI runs one (its check after the last job included). */
export function collectNightly(repo: JobRepository, records: SparkAppRecord[]): ReturnType<typeof collectRun> {
  return collectRun(plan([PROD]).jobs, runnerOf(records), storeSink(repo), new AbortController().signal);
}
