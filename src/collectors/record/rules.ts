/**
 * The record's rules for sizing and times (DESIGN.md §2), each written once for every source (issue
 * 14): event logs and the History Server (an application Spark ran, so Spark's own default applied
 * where its properties say nothing) and the platform records of Databricks, Dataproc and EMR (the
 * platform sizes executors from its machines, which no property tells, so what the properties do
 * not say stays unknown). Every default and every unknown is flagged (`defaulted:`, `missing:`), and
 * every value that cannot be true is an error and flagged `invalid:`.
 */
import { Quality, countFault, invalidValue, isoTime, timeFault, type Problem, type RecordFindings, type SparkAppRecord } from '../record';

/**
 * What a sizing field holds when the properties do not say: Spark's documented default, flagged
 * `defaulted:<field>`, or unknown (null), flagged `missing:<field>`.
 */
export type SizingFallback = 'spark-default' | 'unknown';

const UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  p: 1024 ** 5,
  pb: 1024 ** 5,
};

/**
 * A JVM memory string (`512m`, `4g`, `4G`, `1t`, `2048k`) in whole MiB (rounded down), read as Spark's
 * `JavaUtils.byteStringAs` reads it: trimmed, in any case, a whole number and an optional unit with
 * nothing between them. Spark refuses a fraction (`1.5g`: "Fractional values are not supported") and
 * `4 g`, and so does this (null), as it does a size past 2^53 MiB. A bare number is MiB, as Spark's
 * `spark.{executor,driver}.memory` read it (`bytesConf(ByteUnit.MiB)`); `bareUnit` 'b' reads it as bytes.
 */
export function memoryStringToMb(value: string, bareUnit: 'b' | 'm' = 'm'): number | null {
  const match = /^(\d+)([a-z]*)$/.exec(value.trim().toLowerCase());
  if (!match) return null;
  const factor = UNIT_BYTES[match[2] || bareUnit];
  if (factor === undefined) return null;
  const mb = Math.floor((Number(match[1]) * factor) / 1024 ** 2);
  return Number.isSafeInteger(mb) ? mb : null;
}

const MEMORY_FIELDS = { 'spark.executor.memory': 'executor_memory_mb', 'spark.driver.memory': 'driver_memory_mb' } as const;
/** Spark's default for spark.executor.memory and spark.driver.memory: 1g. */
const SPARK_DEFAULT_MEMORY_MB = 1024;
/** Spark's default for spark.executor.cores on YARN and Kubernetes (standalone takes a worker's cores). */
const SPARK_DEFAULT_EXECUTOR_CORES = 1;

/**
 * executor_memory_mb or driver_memory_mb from its Spark property (`key`). A value that is not a JVM
 * memory size is a warning, and the field then holds what `fallback` says, as it does without one.
 */
export function memoryMb(props: Readonly<Record<string, string>>, key: keyof typeof MEMORY_FIELDS, fallback: SizingFallback, found: RecordFindings): number | null {
  const raw = props[key];
  const mb = raw === undefined ? null : memoryStringToMb(raw);
  if (mb !== null) return mb;
  if (raw !== undefined) {
    const then = fallback === 'spark-default' ? "; using Spark's default 1g" : '';
    found.problems.push({ severity: 'warning', code: 'bad-property', message: `${found.subject === undefined ? '' : `${found.subject}: `}${key}=${JSON.stringify(raw)} is not a JVM memory size${then}`, file: found.where });
  }
  return fellBack(MEMORY_FIELDS[key], SPARK_DEFAULT_MEMORY_MB, fallback, found);
}

export type RecordSizing = Pick<SparkAppRecord, 'executor_cores' | 'executor_memory_mb' | 'num_executors' | 'driver_memory_mb'>;

/**
 * The record's four sizing fields from the Spark properties, by the rules below: executor cores
 * (from the properties, else the most of `observedCores`), both memories, and `numExecutors`, which
 * each source counts its own way (executorCount, executorInstances, a cluster's size).
 */
export function recordSizing(props: Readonly<Record<string, string>>, numExecutors: number | null, observedCores: Iterable<readonly [string, number]>, fallback: SizingFallback, found: RecordFindings): RecordSizing {
  return {
    executor_cores: executorCores(props, observedCores, fallback, found),
    executor_memory_mb: memoryMb(props, 'spark.executor.memory', fallback, found),
    num_executors: numExecutors,
    driver_memory_mb: memoryMb(props, 'spark.driver.memory', fallback, found),
  };
}

/** Why `cores` cannot be a number of cores an executor had; null when it can. */
export function coresFault(cores: number): string | null {
  return cores === 0 ? 'no cores at all' : countFault(cores);
}

/** Whether an executor id is the driver's (`<driver>` in logs before Spark 1.3). */
function isDriver(id: string): boolean {
  return id === 'driver' || id === '<driver>';
}

/**
 * executor_cores: `spark.executor.cores` when it is a whole number (what Spark gives each executor;
 * 0 or past 2^53 cannot be, and is an error); else the most cores an executor was seen with
 * (`observed`: executor id and cores, NaN for a value already reported as impossible), leaving out
 * the driver unless it is the only one (local mode: the driver is the executor); else `fallback`.
 */
export function executorCores(props: Readonly<Record<string, string>>, observed: Iterable<readonly [string, number]>, fallback: SizingFallback, found: RecordFindings): number | null {
  const raw = props['spark.executor.cores'];
  if (raw !== undefined && /^\d+$/.test(raw.trim())) {
    const cores = Number(raw);
    const fault = coresFault(cores);
    if (fault === null) return cores;
    return invalidProperty('executor_cores', 'spark.executor.cores', raw, fault, found);
  }
  // The most of the non-driver executors' cores, else of all (the driver alone); NaN when one is NaN.
  let all = 0;
  let mostOfAll = -Infinity;
  let nonDriver = 0;
  let mostOfNonDriver = -Infinity;
  for (const [id, cores] of observed) {
    all++;
    mostOfAll = Math.max(mostOfAll, cores);
    if (isDriver(id)) continue;
    nonDriver++;
    mostOfNonDriver = Math.max(mostOfNonDriver, cores);
  }
  if (all === 0) return fellBack('executor_cores', SPARK_DEFAULT_EXECUTOR_CORES, fallback, found);
  const most = nonDriver > 0 ? mostOfNonDriver : mostOfAll;
  if (!Number.isNaN(most)) return most;
  // One executor's cores could not be true (reported where it was read): the most is unknown.
  found.quality.add(Quality.invalid('executor_cores'));
  return null;
}

/**
 * num_executors from the executor ids a source saw: those other than the driver, or 1 when the
 * driver was the only one (local mode); unknown, flagged `missing:`, when it saw none.
 */
export function executorCount(ids: Iterable<string>, found: RecordFindings): number | null {
  let all = 0;
  let nonDriver = 0;
  for (const id of ids) {
    all++;
    if (!isDriver(id)) nonDriver++;
  }
  return all === 0 ? unknown('num_executors', found) : nonDriver > 0 ? nonDriver : 1;
}

/**
 * num_executors from `spark.executor.instances` (spark-submit's `--num-executors`), for a platform
 * record. With dynamic allocation on, that is only the count Spark starts with
 * (`Utils.getDynamicAllocationInitialExecutors`), so the number stays unknown; `dynamicByDefault` is
 * what the platform's own spark-defaults set when the properties do not say. 0 executors cannot run
 * an application, and is an error.
 */
export function executorInstances(props: Readonly<Record<string, string>>, dynamicByDefault: boolean, found: RecordFindings): number | null {
  const setting = props['spark.dynamicAllocation.enabled']?.trim().toLowerCase();
  const dynamic = setting === 'false' ? false : setting === 'true' ? true : dynamicByDefault;
  const raw = props['spark.executor.instances'];
  if (dynamic || raw === undefined || !/^\d+$/.test(raw.trim())) return unknown('num_executors', found);
  const instances = Number(raw);
  const fault = instances === 0 ? 'no executors at all' : countFault(instances);
  return fault === null ? instances : invalidProperty('num_executors', 'spark.executor.instances', raw, fault, found);
}

/** A Spark property whose value cannot be true: an error where the properties were read, the field flagged `invalid:` and null. */
function invalidProperty(field: keyof SparkAppRecord, key: string, raw: string, fault: string, found: RecordFindings): null {
  found.problems.push(invalidValue(field, key, raw, fault, found.propsAt ?? { file: found.where }));
  found.quality.add(Quality.invalid(field));
  return null;
}

function fellBack(field: keyof SparkAppRecord, sparkDefault: number, fallback: SizingFallback, found: RecordFindings): number | null {
  if (fallback === 'unknown') return unknown(field, found);
  found.quality.add(Quality.defaulted(field));
  return sparkDefault;
}

function unknown(field: keyof SparkAppRecord, found: RecordFindings): null {
  found.quality.add(Quality.missing(field));
  return null;
}

// ---------------------------------------------------------------------------------------------
// Times

/**
 * `spark.app.submitTime` (epoch ms, as spark-submit writes it) when it is one; null when absent or
 * not a number, and null with an error and `invalid:submit_time` when it cannot be a time.
 */
export function submitTimeProperty(props: Readonly<Record<string, string>>, found: RecordFindings): number | null {
  const raw = props['spark.app.submitTime'];
  if (raw === undefined || !/^\d+$/.test(raw)) return null;
  const ms = Number(raw);
  const fault = timeFault(ms);
  return fault === null ? ms : invalidProperty('submit_time', 'spark.app.submitTime', raw, fault, found);
}

/** The times a source read, as epoch ms, each already checked (checkedTime, submitTimeProperty): null when unknown or invalid. */
export interface TimesRead {
  submit: number | null;
  /** What the submit time was read from, for the clock-skew warning (`spark.app.submitTime`, `CreationDateTime`). */
  submitFrom: string;
  start: number | null;
  end: number | null;
  /** Where the end was read (an event log's ApplicationEnd line): an end before the start is reported there. */
  endAt?: Pick<Problem, 'file' | 'line'>;
}

export type RecordTimes = Pick<SparkAppRecord, 'submit_time' | 'start_time' | 'end_time' | 'duration_ms'>;

/**
 * The record's times. An unknown start is flagged `missing:start_time` (an invalid one is flagged
 * so already); an unknown submit time is the start, flagged `defaulted:submit_time`; a submit time
 * after the start (the submitting host's clock and the driver's disagree) is kept, flagged
 * `submit_after_start`, with a warning; an end before the start is an error and leaves the duration
 * unknown.
 */
export function recordTimes(t: TimesRead, found: RecordFindings): RecordTimes {
  const { start, end } = t;
  let submit = t.submit;
  if (start === null && !found.quality.has(Quality.invalid('start_time'))) found.quality.add(Quality.missing('start_time'));
  if (submit === null && start !== null && !found.quality.has(Quality.invalid('submit_time'))) {
    submit = start;
    found.quality.add(Quality.defaulted('submit_time'));
  } else if (submit !== null && start !== null && submit > start) {
    found.quality.add(Quality.submitAfterStart);
    const message = `submitted (${isoTime(submit)}, ${t.submitFrom}) after it started (${isoTime(start)}): clock skew between the submitting host and the driver`;
    found.problems.push({ severity: 'warning', code: 'time-order', message, file: found.where });
  }
  let duration: number | null = null;
  if (start !== null && end !== null) {
    duration = end - start;
    if (duration < 0) {
      const message = `${found.subject ?? 'application'} ends (${isoTime(end)}) before it starts (${isoTime(start)})`;
      found.problems.push({ severity: 'error', code: 'time-order', message, ...(t.endAt ?? { file: found.where }) });
      duration = null;
    }
  }
  return { submit_time: isoTime(submit), start_time: isoTime(start), end_time: isoTime(end), duration_ms: duration };
}
