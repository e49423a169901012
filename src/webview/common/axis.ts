/**
 * Chart axis steps that read as the units they are in, and tick labels that say exactly the tick's
 * value. uPlot's default steps are 1, 2, 2.5 and 5 times a power of ten: on a duration in ms that
 * gives ticks at 1.25 s (labelled "1.3 s" by formatDuration, a tenth off) or every 100 s ("1m 40s,
 * 3m 20s"), and on bytes every 25,000 B ("24.4 KB, 48.8 KB"), as seen on the Trend of Spark's own
 * test applications. Pure (no DOM): tested in Node (test/chartAxis.test.ts).
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Steps of a duration axis in ms: 1-2-5 below a second, then the clock's own (15 s, 30 s, 1 min, 5 min, 15 min, 1 h, 6 h, 1 day). */
export const DURATION_MS_INCRS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 500,
  SECOND, 2 * SECOND, 5 * SECOND, 10 * SECOND, 15 * SECOND, 30 * SECOND,
  MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY,
];

/** The same steps in seconds (the Job page's timeline), from a tenth: its labels show tenths (offsetText). */
export const DURATION_S_INCRS: readonly number[] = DURATION_MS_INCRS.filter((ms) => ms >= 100).map((ms) => ms / SECOND);

const BYTE_UNITS = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'] as const;

/** Steps of a bytes axis: 1-2-5 times each unit of 1024 (so 20 KB, not 24.4 KB). */
export const BYTES_INCRS: readonly number[] = BYTE_UNITS.flatMap((_, k) => [1, 2, 5, 10, 20, 50, 100, 200, 500].map((m) => m * 1024 ** k));

/** Steps of a count axis (tasks, executors): whole numbers only, never 2.5 failed tasks. */
export const COUNT_INCRS: readonly number[] = Array.from({ length: 10 }, (_, k) => [1, 2, 5].map((m) => m * 10 ** k)).flat();

/** A duration tick's label, exact for the steps above: "0", "200 ms", "1.5 s", "30 s", "2m", "2m 30s", "1h", "1h 30m". */
export function durationTick(ms: number): string {
  const v = Math.round(ms);
  if (v === 0) return '0';
  if (v < SECOND) return `${v} ms`;
  if (v < MINUTE) return `${Number((v / SECOND).toFixed(3))} s`;
  if (v < HOUR) {
    const s = Math.round((v % MINUTE) / SECOND);
    return `${Math.floor(v / MINUTE)}m${s ? ` ${s}s` : ''}`;
  }
  const m = Math.round((v % HOUR) / MINUTE);
  return `${Math.floor(v / HOUR)}h${m ? ` ${m}m` : ''}`;
}

/**
 * A bytes tick's label in the unit of the axis' step (`incr`): every tick of an axis in one unit, and
 * exact ("500 KB, 1000 KB, 1500 KB" rather than "1.5 MB" for 1,500 KB).
 */
export function bytesTick(v: number, incr: number): string {
  if (v === 0) return '0';
  let k = 0;
  while (k < BYTE_UNITS.length - 1 && incr >= 1024 ** (k + 1)) k++;
  return `${Number((v / 1024 ** k).toFixed(2))} ${BYTE_UNITS[k]}`;
}

/** A count tick's label: whole ticks only (a step below 1 is never offered, see COUNT_INCRS). */
export function countTick(v: number): string {
  return Number.isInteger(v) ? v.toLocaleString('en-US') : '';
}
