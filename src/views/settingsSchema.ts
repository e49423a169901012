/** The settings' schema, apart from the vscode glue so it is unit-tested in plain Node. Bad values fall back to the defaults. */
import * as z from 'zod';
import { DEFAULT_MAX_DECOMPRESSION_RATIO, MAX_DECOMPRESSION_RATIO_LIMIT, MIN_DECOMPRESSION_RATIO } from '../collectors/eventlog/codecs/index';
import { DEFAULT_MAX_LINE_MB, MAX_LINE_MB_LIMIT } from '../collectors/eventlog/lines';
import type { ReadLimits } from '../collectors/eventlog/readLog';
import type { JobOverrides } from '../collectors/descriptor';

export const settingsSchema = z.object({
  /** A path, sqlite:/// or postgres:// URL (issue 17); empty: the databasePath file. Checked by databaseSetting.ts. */
  database: z.string().catch(''),
  databasePath: z.string().min(1).catch('.spark-optimizer/jobs.db'),
  eventLogFolders: z.array(z.string().min(1)).catch([]),
  autoCollectIntervalMinutes: z.number().min(0).max(1440).catch(0),
  retentionDays: z.number().min(0).max(36500).catch(0),
  concurrency: z.number().int().min(0).max(64).catch(0),
  zstdMaxWindowMb: z.number().int().min(1).max(1024).catch(128),
  maxLineMb: z.number().int().min(1).max(MAX_LINE_MB_LIMIT).catch(DEFAULT_MAX_LINE_MB),
  maxDecompressionRatio: z.number().int().min(MIN_DECOMPRESSION_RATIO).max(MAX_DECOMPRESSION_RATIO_LIMIT).catch(DEFAULT_MAX_DECOMPRESSION_RATIO),
});
export type Settings = z.infer<typeof settingsSchema>;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** Parses raw values; returns the settings and a warning per value that had to be replaced. */
export function parseSettings(raw: Record<string, unknown>): { settings: Settings; warnings: string[] } {
  const settings = settingsSchema.parse(raw);
  const warnings = SETTING_KEYS.filter((k) => raw[k] !== undefined && JSON.stringify(raw[k]) !== JSON.stringify(settings[k])).map((k) =>
    // The database setting's value may hold a password (a URL in an object, say): not echoed.
    k === 'database'
      ? `Setting sparkOptimizer.database is not a string; using ${JSON.stringify(settings[k])}.`
      : `Setting sparkOptimizer.${k} = ${JSON.stringify(raw[k])} is not valid; using ${JSON.stringify(settings[k])}.`,
  );
  return { settings, warnings };
}

/**
 * The event-log read limits the settings give (readLog.ts ReadLimits), for what a source's own keys
 * (zstd_max_window_mb, max_line_mb, max_decompression_ratio) leave out: collection and the checks
 * of logs on disk read with the same ones.
 */
export function settingsReadLimits(s: Pick<Settings, 'zstdMaxWindowMb' | 'maxLineMb' | 'maxDecompressionRatio'>): Required<ReadLimits> {
  return { maxZstdWindowMb: s.zstdMaxWindowMb, maxLineBytes: s.maxLineMb * 2 ** 20, maxDecompressionRatio: s.maxDecompressionRatio };
}

/** What the settings give a collection job where its source says nothing (pipeline.ts `plan`'s defaults): event logs read at once (0: one per core) and the read limits. */
export function settingsJobDefaults(s: Pick<Settings, 'concurrency' | 'zstdMaxWindowMb' | 'maxLineMb' | 'maxDecompressionRatio'>): JobOverrides {
  return { concurrency: s.concurrency || undefined, ...settingsReadLimits(s) };
}
