/** The settings' schema, apart from the vscode glue so it is unit-tested in plain Node. Bad values fall back to the defaults. */
import { z } from 'zod';

export const settingsSchema = z.object({
  databasePath: z.string().min(1).catch('.spark-optimizer/jobs.db'),
  eventLogFolders: z.array(z.string().min(1)).catch([]),
  autoCollectIntervalMinutes: z.number().min(0).max(1440).catch(0),
  retentionDays: z.number().min(0).max(36500).catch(0),
  concurrency: z.number().int().min(0).max(64).catch(0),
  zstdMaxWindowMb: z.number().int().min(1).max(1024).catch(128),
});
export type Settings = z.infer<typeof settingsSchema>;
export const SETTING_KEYS = Object.keys(settingsSchema.shape) as (keyof Settings)[];

/** Parses raw values; returns the settings and a warning per value that had to be replaced. */
export function parseSettings(raw: Record<string, unknown>): { settings: Settings; warnings: string[] } {
  const settings = settingsSchema.parse(raw);
  const warnings = SETTING_KEYS.filter((k) => raw[k] !== undefined && JSON.stringify(raw[k]) !== JSON.stringify(settings[k])).map(
    (k) => `Setting sparkOptimizer.${k} = ${JSON.stringify(raw[k])} is not valid; using ${JSON.stringify(settings[k])}.`,
  );
  return { settings, warnings };
}
