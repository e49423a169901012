/** What every CLI command shares: output streams, usage errors, flag parsing helpers. */
import * as path from 'node:path';

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  cwd: string;
}

/** Wrong flags or arguments: exit code 2 with the usage text. */
export class UsageError extends Error {}

/** Where the workspace database lives unless `--db` says otherwise. */
export const DEFAULT_DB = path.join('.spark-optimizer', 'jobs.db');

export function positiveInt(flag: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new UsageError(`--${flag} must be a positive integer, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

/** `--zstd-max-window-mb`: MiB from 1 to 1024 (codecs/zstd.ts), or undefined for the default. */
export function zstdWindowFlag(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const mb = positiveInt('zstd-max-window-mb', raw, 128);
  if (mb > 1024) throw new UsageError(`--zstd-max-window-mb must be at most 1024, got ${raw}`);
  return mb;
}

export function parseDate(flag: string, raw: string | undefined): Date | undefined {
  if (raw === undefined) return undefined;
  const d = new Date(raw);
  if (Number.isNaN(d.getTime())) throw new UsageError(`--${flag} must be a date like 2024-05-01 or 2024-05-01T12:00:00Z, got ${JSON.stringify(raw)}`);
  return d;
}

export function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[], fallback: T): T {
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  return raw as T;
}
