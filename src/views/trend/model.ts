/**
 * The trend of one application name (issue 15): its runs over time, one series per metric, as plain
 * data for a chart. Pure; the webview only draws it. A point keeps its run's key so that clicking it
 * opens that run's page.
 */
import type { SparkAppRecord } from '../../collectors/record';
import { median } from '../../common/stats';
import { MINOR_BYTES, MINOR_MS } from '../compare/model';
import type { Tone } from '../jobPage/model';

export const TREND_METRICS = [
  { key: 'duration_ms', label: 'Duration', unit: 'ms' },
  { key: 'cpu_time_ms', label: 'CPU time', unit: 'ms' },
  { key: 'shuffle_read_bytes', label: 'Shuffle read', unit: 'bytes' },
  { key: 'shuffle_write_bytes', label: 'Shuffle write', unit: 'bytes' },
  { key: 'memory_spilled_bytes', label: 'Spill (memory)', unit: 'bytes' },
  { key: 'disk_spilled_bytes', label: 'Spill (disk)', unit: 'bytes' },
  { key: 'failed_tasks', label: 'Failed tasks', unit: 'count' },
] as const satisfies readonly { key: keyof SparkAppRecord; label: string; unit: 'ms' | 'bytes' | 'count' }[];

export type TrendMetric = (typeof TREND_METRICS)[number]['key'];
type TrendUnit = (typeof TREND_METRICS)[number]['unit'];

export interface TrendPoint {
  app_id: string;
  attempt_id: string | null;
  /** Epoch ms of the run's start (its end, or submit time, when it has no start). */
  at: number;
  status: SparkAppRecord['status'];
  /** Null where the run did not measure it (CPU time before Spark 2.1, a running run's duration). */
  values: Record<TrendMetric, number | null>;
  /** The colour of the run's point on the chart: `error` for a failed run, else `neutral` (the line's). */
  tone: Tone;
  /** The colour of its failed-tasks count in the runs table: `error` when any task failed, else `neutral`. */
  failedTasksTone: Tone;
}

export interface MetricSummary {
  median: number | null;
  earlier: number;
  newestRatio: number | null;
  /** The Job page's card tones (one set of `.card.tone-*` colours for both pages). */
  tone: Tone;
}

export interface TrendModel {
  appName: string;
  points: TrendPoint[];
  /**
   * Per metric: the median over the runs before the newest that have it (`earlier` of them), how
   * the newest run compares (newest / median, or null), and the colour of its card (`tone`, by
   * trendTone below). The newest is left out of its own baseline, as the Job page's check against
   * its history leaves it out.
   */
  summary: Record<TrendMetric, MetricSummary>;
  /** Runs left out because they carry no time at all. */
  untimed: number;
}


function timeOf(r: SparkAppRecord): number | null {
  for (const t of [r.start_time, r.submit_time, r.end_time]) {
    if (t === null) continue;
    const ms = Date.parse(t);
    if (!Number.isNaN(ms)) return ms;
  }
  return null;
}

/** The trend of `runs` (records of one application name, any order). */
export function trendModel(appName: string, runs: readonly SparkAppRecord[]): TrendModel {
  const points: TrendPoint[] = [];
  let untimed = 0;
  for (const r of runs) {
    const at = timeOf(r);
    if (at === null) {
      untimed++;
      continue;
    }
    const values = Object.fromEntries(TREND_METRICS.map((m) => [m.key, r[m.key]])) as Record<TrendMetric, number | null>;
    points.push({
      app_id: r.app_id,
      attempt_id: r.attempt_id,
      at,
      status: r.status,
      values,
      tone: r.status === 'failed' ? 'error' : 'neutral',
      failedTasksTone: r.failed_tasks > 0 ? 'error' : 'neutral',
    });
  }
  points.sort((a, b) => a.at - b.at || a.app_id.localeCompare(b.app_id));
  const newest = points.at(-1);
  const summary = Object.fromEntries(
    TREND_METRICS.map((m) => {
      const before = points
        .slice(0, -1)
        .map((p) => p.values[m.key])
        .filter((v): v is number => v !== null);
      const med = median(before);
      const last = newest?.values[m.key] ?? null;
      const newestRatio = med !== null && med > 0 && last !== null ? last / med : null;
      return [m.key, { median: med, earlier: before.length, newestRatio, tone: trendTone(m.unit, med, last) }];
    }),
  ) as TrendModel['summary'];
  return { appName, points, summary, untimed };
}

/**
 * The colour of a metric's card: how the newest run compares with the median before it (×1.5 or
 * more red, ×1.15 yellow, ×0.87 or less green). A change under a second or a MiB is noise, as in
 * Compare (Spark's test app "Spark shell": 1.4 KB of shuffle write against 460 B was red, ×3.18).
 * Against a median of 0 there is no ratio, and any rise over the floor is news, for every metric:
 * 4 failed tasks where the runs before had none were blue until 39fbbc5, and 2 GiB of disk spill
 * where the runs before spilled nothing stayed blue after it (that commit made failed tasks alone red).
 */
function trendTone(unit: TrendUnit, med: number | null, newest: number | null): Tone {
  if (newest === null || med === null || newest === med) return 'neutral';
  const floor = unit === 'ms' ? MINOR_MS : unit === 'bytes' ? MINOR_BYTES : 0;
  if (Math.abs(newest - med) < floor) return 'neutral';
  const ratio = med > 0 ? newest / med : Number.POSITIVE_INFINITY;
  return ratio >= 1.5 ? 'error' : ratio >= 1.15 ? 'warn' : ratio <= 0.87 ? 'ok' : 'neutral';
}
