/** What every CLI command shares: output streams, usage errors, flag parsing helpers. */
import * as path from 'node:path';
import { MAX_DECOMPRESSION_RATIO_LIMIT, MIN_DECOMPRESSION_RATIO } from '../collectors/eventlog/codecs/index';
import { DEFAULT_MAX_LINE_MB, MAX_LINE_MB_LIMIT } from '../collectors/eventlog/lines';
import { MAX_RESPONSE_MB, MAX_UNPACKED_MB, MAX_UNPACK_RATIO } from '../collectors/http/limits';
import { parseTime } from '../common/parseTime';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  cwd: string;
}

/** Wrong flags or arguments: exit code 2, the message on one line and where the help is. */
export class UsageError extends Error {}

/** `--name VALUE` flags for node:util parseArgs, one entry each. */
export function stringFlags<K extends string>(...names: K[]): Record<K, { type: 'string' }> {
  return Object.fromEntries(names.map((n) => [n, { type: 'string' }])) as Record<K, { type: 'string' }>;
}

/** Where the workspace database lives unless `--db` says otherwise. */
export const DEFAULT_DB = path.join('.spark-optimizer', 'jobs.db');

/** The most a count flag takes: beyond it SQLite (and the user) get a number that means nothing ("datatype mismatch" at 10^20). */
const MAX_COUNT_FLAG = 1_000_000_000;

export function positiveInt(flag: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) throw new UsageError(`--${flag} must be ${min === 0 ? 'a whole number' : 'a positive integer'}, got ${JSON.stringify(raw)}`);
  if (Number(raw) > MAX_COUNT_FLAG) throw new UsageError(`--${flag} must be at most ${MAX_COUNT_FLAG.toLocaleString('en-US')}, got ${raw}`);
  return Number(raw);
}

/** `--zstd-max-window-mb`: MiB from 1 to 1024 (codecs/zstd.ts), or undefined for the default. */
export function zstdWindowFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const mb = positiveInt('zstd-max-window-mb', raw, 128);
  if (mb > 1024) throw new UsageError(`--zstd-max-window-mb must be at most 1024, got ${raw}`);
  return mb;
}

/** `--max-line-mb`: MiB from 1 to MAX_LINE_MB_LIMIT (lines.ts), as bytes, or undefined for the default. */
export function maxLineFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const mb = positiveInt('max-line-mb', raw, DEFAULT_MAX_LINE_MB);
  if (mb > MAX_LINE_MB_LIMIT) throw new UsageError(`--max-line-mb must be at most ${MAX_LINE_MB_LIMIT} (the longest text JavaScript can hold), got ${JSON.stringify(raw)}`);
  return mb * 2 ** 20;
}

/** An integer flag from `range.min` to `range.max`, or undefined when not given. */
function intIn(flag: string, raw: string | undefined, range: { min: number; max: number }): number | undefined {
  if (raw === undefined) return undefined;
  const n = positiveInt(flag, raw, range.min);
  if (n < range.min || n > range.max) throw new UsageError(`--${flag} must be from ${range.min} to ${range.max}, got ${JSON.stringify(raw)}`);
  return n;
}

/** `--max-decompression-ratio`: MIN_DECOMPRESSION_RATIO to MAX_DECOMPRESSION_RATIO_LIMIT (codecs/index.ts), or undefined for the default. */
export function decompressionRatioFlag(raw: string | undefined): number | undefined {
  return intIn('max-decompression-ratio', raw, { min: MIN_DECOMPRESSION_RATIO, max: MAX_DECOMPRESSION_RATIO_LIMIT });
}

/** `--max-response-mb`: MiB (http/limits.ts), as bytes, or undefined for the default. */
export function maxResponseFlag(raw: string | undefined): number | undefined {
  const mb = intIn('max-response-mb', raw, MAX_RESPONSE_MB);
  return mb === undefined ? undefined : mb * 2 ** 20;
}

/** `--max-unpacked-mb`: MiB (http/limits.ts), as bytes, or undefined for the default. */
export function maxUnpackedFlag(raw: string | undefined): number | undefined {
  const mb = intIn('max-unpacked-mb', raw, MAX_UNPACKED_MB);
  return mb === undefined ? undefined : mb * 2 ** 20;
}

/** `--max-unpack-ratio` (http/limits.ts), or undefined for the default. */
export function unpackRatioFlag(raw: string | undefined): number | undefined {
  return intIn('max-unpack-ratio', raw, MAX_UNPACK_RATIO);
}

export function parseDate(flag: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = parseTime(raw);
  if (d === undefined) throw new UsageError(`--${flag} must be a date or time like 2024-05-01, 2024-05-01 12:00 (local) or 2024-05-01T12:00:00Z, got ${JSON.stringify(raw)}`);
  return d;
}

export function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}

/** The signals that stop a run, which then saves what it collected (collect, db copy). */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** After a hang-up the terminal is gone: what is still printed fails (EIO), and must not end the process before it saves. */
export function ignoreClosedTerminal(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
}
