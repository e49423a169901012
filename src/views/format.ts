/** Human units for the views (tooltips, descriptions, the job document). */
import type { SparkAppRecord } from '../collectors/record';
import type { RegressedRun } from '../pipeline';
import { formatBytes, formatDuration, formatLocalTime, plural, recordSummary } from '../common/format';

/** Markdown with the key metrics; record text is escaped (app names can hold anything). */
export function jobTooltip(r: SparkAppRecord): string {
  const esc = (s: string): string => s.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
  return recordSummary(r)
    .map(([k, v]) => `**${k}:** ${esc(v)}`)
    .join('  \n');
}

/** The job document: the summary, then the whole record as JSON. */
export function jobDocument(r: SparkAppRecord): string {
  const rows = recordSummary(r);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `# ${r.app_name ?? r.app_id}`,
    '',
    ...rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`),
    '',
    '## Record',
    '',
    JSON.stringify(r, null, 2),
    '',
  ].join('\n');
}

/**
 * How a job looks in the tree: a failed application is an error, a completed one with failed tasks
 * or stages a warning (not a green check: 10 of 26 tasks failed is not a pass), a running one spins.
 * Pure, for tests: [codicon, theme colour, why in words].
 */
export function jobIcon(r: Pick<SparkAppRecord, 'status' | 'failed_tasks' | 'total_tasks' | 'failed_stages'>, regressed?: string): [string, string, string] {
  if (r.status === 'failed') return ['error', 'testing.iconFailed', 'the application failed'];
  if (r.status === 'running') return ['sync', 'charts.blue', 'running'];
  if (r.status === 'unknown') return ['question', 'charts.yellow', 'status unknown'];
  // Worse than its own history (issue 18): `regressed` is the stored check's summary.
  if (regressed !== undefined) return ['warning', 'list.warningForeground', `regressed against its earlier runs: ${regressed}`];
  if (r.failed_tasks > 0 || r.failed_stages > 0) {
    const parts = [r.failed_tasks > 0 && `${r.failed_tasks} of ${r.total_tasks} tasks failed`, r.failed_stages > 0 && `${r.failed_stages} stage${r.failed_stages === 1 ? '' : 's'} failed`].filter(Boolean);
    return ['warning', 'list.warningForeground', `completed, but ${parts.join(' and ')}`];
  }
  return ['pass', 'testing.iconPassed', 'completed'];
}

/** The job row's description: when it started (local, with its zone, so same-name runs are told apart), then how it went. */
export function jobDescription(r: SparkAppRecord, timeZone?: string): string {
  const failed = r.failed_tasks > 0 ? ` · ${r.failed_tasks} failed` : '';
  return `${formatLocalTime(r.start_time, timeZone)} · ${formatDuration(r.duration_ms)} · ${r.status}${r.attempt_id ? ` · attempt ${r.attempt_id}` : ''} · ${plural(r.total_tasks, 'task')}${failed} · ${formatBytes(r.shuffle_read_bytes)} shuffle`;
}

/** "2 runs regressed against their history: Nightly ETL (Duration 2.0x), …": the first few named. */
export function regressedText(runs: readonly Pick<RegressedRun, 'key' | 'app_name' | 'summary'>[], named = 3): string {
  const names = runs.slice(0, named).map((r) => `${r.app_name ?? r.key.app_id} (${r.summary})`);
  const more = runs.length > named ? `, and ${runs.length - named} more` : '';
  return `${plural(runs.length, 'run')} regressed against ${runs.length === 1 ? 'its' : 'their'} history: ${names.join(', ')}${more}.`;
}
