/**
 * The normalized record: one per application attempt, keyed by (app_id, attempt_id).
 * Field names are DESIGN.md §2's snake_case names, used unchanged in the database, the CLI's JSON
 * output and exports. Times are ISO-8601 UTC strings; bytes and milliseconds are integers.
 */
import { z } from 'zod';

const count = z.number().int().nonnegative();
const isoTime = z.string().datetime({ offset: false });

export const STATUSES = ['completed', 'running', 'failed', 'unknown'] as const;
export type AppStatus = (typeof STATUSES)[number];

export const sparkAppRecordSchema = z.object({
  app_id: z.string().min(1),
  attempt_id: z.string().min(1).nullable(),
  app_name: z.string().nullable(),
  user: z.string().nullable(),
  submit_time: isoTime.nullable(),
  start_time: isoTime.nullable(),
  end_time: isoTime.nullable(),
  duration_ms: count.nullable(),
  spark_version: z.string().nullable(),
  executor_cores: count.nullable(),
  executor_memory_mb: count.nullable(),
  num_executors: count.nullable(),
  driver_memory_mb: count.nullable(),
  total_tasks: count,
  failed_tasks: count,
  total_stages: count,
  failed_stages: count,
  /** Null when Spark never measured it (Executor CPU Time exists from Spark 2.1), flagged `missing:cpu_time_ms`. */
  cpu_time_ms: count.nullable(),
  input_bytes: count,
  output_bytes: count,
  shuffle_read_bytes: count,
  shuffle_write_bytes: count,
  memory_spilled_bytes: count,
  disk_spilled_bytes: count,
  tags: z.record(z.string(), z.string()),
  environment: z.record(z.string(), z.string()),
  source: z.string(),
  status: z.enum(STATUSES),
  quality: z.array(z.string()),
});

export type SparkAppRecord = z.infer<typeof sparkAppRecordSchema>;

/** Quality flags (DESIGN.md §2). `defaulted:<field>` and `missing:<field>` are built with the helpers. */
export const Quality = {
  inProgress: 'in_progress',
  truncated: 'truncated',
  compacted: 'compacted',
  restCapped: 'rest_capped',
  /** submit_time is after start_time: the submitting host's clock and the driver's disagree. */
  submitAfterStart: 'submit_after_start',
  /** A cloud step/run/job with no Spark metrics behind it: times and sizing only. */
  platformLevel: 'platform_level',
  defaulted: (field: keyof SparkAppRecord): string => `defaulted:${field}`,
  missing: (field: keyof SparkAppRecord): string => `missing:${field}`,
} as const;

/** Whether a Spark version (`1.4.0-SNAPSHOT`, `2.0.2`) is older than major.minor; false when unknown or unreadable. */
export function sparkVersionBefore(version: string | null, major: number, minor: number): boolean {
  const m = version === null ? null : /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj < major || (maj === major && min < minor);
}

/** The Spark metrics only Spark itself reports: a platform-level record has them 0 (CPU time unknown, null), each flagged `missing:`. */
export const SPARK_METRIC_FIELDS = ['total_tasks', 'failed_tasks', 'total_stages', 'failed_stages', 'cpu_time_ms', 'input_bytes', 'output_bytes', 'shuffle_read_bytes', 'shuffle_write_bytes', 'memory_spilled_bytes', 'disk_spilled_bytes'] as const;
export type SparkMetricField = (typeof SPARK_METRIC_FIELDS)[number];

/** The metric fields of a record with no Spark metrics behind it (a cloud step/run/job). */
export function noSparkMetrics(): Pick<SparkAppRecord, SparkMetricField> {
  return { ...(Object.fromEntries(SPARK_METRIC_FIELDS.map((f) => [f, 0])) as Record<SparkMetricField, number>), cpu_time_ms: null };
}

/** The quality flags every platform-level record starts with. */
export function platformLevelQuality(): Set<string> {
  return new Set([Quality.platformLevel, ...SPARK_METRIC_FIELDS.map((f) => Quality.missing(f))]);
}

/**
 * Property keys that look secret. Spark redacts some itself (`spark.redaction.regex`); every
 * collector redacts these again, so nothing secret is stored: passwords, tokens, keys, and the cloud
 * storage keys Spark's rule misses (`fs.azure.account.key.<account>`, SAS settings).
 */
const SECRET_KEY = /secret|password|passwd|token|credential|access[._-]?key|private[._-]?key|signature|auth|account\.key|\.sas\./i;
/**
 * Values that carry a secret under an innocent key (`spark.driver.extraJavaOptions=-Dpassword=…`):
 * Spark's own `Utils.redact` tests values against `spark.redaction.regex` too; this is its default
 * (`(?i)secret|password|token|access[.]key`), kept narrow so ordinary values stay readable.
 */
const SECRET_VALUE = /secret|password|token|access[.]key/i;
export const REDACTED = '*********(redacted)';

/** `props` with the value of every secret-looking key, or secret-looking value, replaced by REDACTED. */
export function redactSecrets(props: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(props)) out[k] = SECRET_KEY.test(k) || SECRET_VALUE.test(v) ? REDACTED : v;
  return out;
}

export type Severity = 'error' | 'warning' | 'info';

/** Something wrong with the input, with where (file, 1-based line) and why. Never thrown; collected. */
export interface Problem {
  severity: Severity;
  code: string;
  message: string;
  file?: string;
  line?: number;
  field?: string;
}

/**
 * Checks a record against the schema and the record's own invariants (DESIGN.md §2, issue 2):
 * required fields present, duration >= 0, at least one executor, failed <= total for tasks and
 * stages. Failures come back as problems attached to the record, never thrown.
 */
export function validateRecord(record: SparkAppRecord, file?: string): Problem[] {
  const problems: Problem[] = [];
  const parsed = sparkAppRecordSchema.safeParse(record);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({
        severity: 'error',
        code: 'record-invalid',
        field: issue.path.join('.'),
        message: `field ${issue.path.join('.') || '(record)'}: ${issue.message}`,
        file,
      });
    }
  }
  const rule = (ok: boolean, field: string, message: string): void => {
    if (!ok) problems.push({ severity: 'warning', code: 'record-inconsistent', field, message, file });
  };
  rule(record.num_executors === null || record.num_executors >= 1, 'num_executors', 'no executor was ever added');
  rule(record.failed_tasks <= record.total_tasks, 'failed_tasks', `failed_tasks ${record.failed_tasks} > total_tasks ${record.total_tasks}`);
  rule(record.failed_stages <= record.total_stages, 'failed_stages', `failed_stages ${record.failed_stages} > total_stages ${record.total_stages}`);
  rule(record.duration_ms === null || record.duration_ms >= 0, 'duration_ms', 'application ends before it starts');
  if (record.start_time === null) rule(false, 'start_time', 'no SparkListenerApplicationStart: start time unknown');
  return problems;
}

/** `file:line: severity [code] message`, the one-line form the CLI prints and runs store. */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ` : '';
  return `${where}${p.severity} [${p.code}] ${p.message}`;
}

/** The collectors' `since` / `user` filter: `since` compares the end time, or the start for running apps. */
export function matchesFilter(record: SparkAppRecord, filter: { since?: Date; user?: string }): boolean {
  if (filter.user !== undefined && record.user !== filter.user) return false;
  if (filter.since !== undefined) {
    const t = record.end_time ?? record.start_time;
    if (t === null || Date.parse(t) < filter.since.getTime()) return false;
  }
  return true;
}
