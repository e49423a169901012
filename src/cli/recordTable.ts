/**
 * The one table of records `collect` and `jobs` print (issue 16: they showed different columns), the
 * one JSON form of a run's stored check that `jobs` and `show` print, and how the CLI writes a time:
 * with its zone, local unless `--utc`.
 */
import type { SparkAppRecord } from '../collectors/record';
import type { RegressionCheck } from '../analysis/regression';
import type { StoredRegression } from '../storage/repository';
import { clip, count, formatBytes, formatDuration, formatLocalTime, measured, type RecordFigure } from '../common/format';

/** Rows of its table `collect` prints unless `--format table` asks for all (a 2,000-log run printed 2,000). */
export const TABLE_ROWS = 20;

/** Record fields that hold JSON: printed by `--format json`/`csv`, never sorted or compared. */
export const JSON_FIELDS = ['tags', 'environment', 'quality'] as const;

/** A time as the CLI prints it: "2024-06-11 14:03 GMT+2" in the local zone, or "… UTC" with `--utc`. */
export type TimeText = (iso: string | null) => string;

export function timeText(utc: boolean): TimeText {
  return (iso) => formatLocalTime(iso, utc ? 'UTC' : undefined);
}

export const RECORD_HEADER = ['app_id', 'attempt', 'name', 'user', 'status', 'end', 'duration', 'tasks', 'failed', 'execs', 'cpu', 'input', 'shuffle r/w', 'source'];

export function recordRow(r: SparkAppRecord, time: TimeText): string[] {
  const m = (field: RecordFigure): number | null => measured(r, field);
  return [
    r.app_id,
    r.attempt_id ?? '-',
    clip(r.app_name ?? '-', 40),
    r.user ?? '-',
    r.status,
    time(r.end_time),
    formatDuration(m('duration_ms')),
    count(m('total_tasks')),
    count(m('failed_tasks')),
    count(m('num_executors')),
    formatDuration(m('cpu_time_ms')),
    formatBytes(m('input_bytes')),
    `${formatBytes(m('shuffle_read_bytes'))} / ${formatBytes(m('shuffle_write_bytes'))}`,
    r.source,
  ];
}

/** A run's stored check (issue 18) as `jobs --regressed --format json` and `show --format json` print it, as their `regression` key. */
export interface RegressionJson {
  status: StoredRegression['status'];
  summary: string;
  explanation: string;
  metrics: RegressionCheck['metrics'];
  changes: RegressionCheck['changes'];
  likely_cause: RegressionCheck['likely_cause'];
  baseline_runs: RegressionCheck['baseline_runs'];
  checked_at: string;
}

export function regressionJson(s: StoredRegression | null): RegressionJson | null {
  if (s === null) return null;
  const c = s.check;
  return {
    status: s.status,
    summary: s.summary,
    explanation: s.explanation,
    metrics: c?.metrics ?? [],
    changes: c?.changes ?? null,
    likely_cause: c?.likely_cause ?? null,
    baseline_runs: c?.baseline_runs ?? [],
    checked_at: s.checked_at,
  };
}
