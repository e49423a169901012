/** Human units for the views (tooltips, descriptions, the job document). */
import type { SparkAppRecord } from '../collectors/record';
import { recordSummary } from '../common/format';

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
