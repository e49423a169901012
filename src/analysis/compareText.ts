/**
 * A comparison of two runs as text (analysis/compare.ts's view model): the two runs, the metrics
 * that moved, the stages whose duration moved most, the config diff. `spark-optimizer compare`
 * prints it; the editor's Compare view (views/compare/model.ts) shows its values in the same words.
 */
import { clip, formatBytes, formatDuration, formatLocalTime, groupDigits, oneLine, table } from '../common/format';
import type { FieldKind } from '../storage/fields';
import type { Comparison, Delta, RunHeader, StageRow } from './compare';

/** A value in its field's unit (`12.3 s`, `1.5 GB`, `4,096 MB`, `1,234`), signed; '-' when unknown. The compare view shows the same text. */
export function amount(kind: FieldKind, v: number | null): string {
  if (v === null) return '-';
  const sign = v < 0 ? '-' : '';
  const n = Math.abs(v);
  if (kind === 'duration') return sign + formatDuration(n);
  if (kind === 'bytes') return sign + formatBytes(n);
  if (kind === 'mb') return `${sign}${groupDigits(n)} MB`;
  return sign + groupDigits(n);
}

/** B − A and its percent as text (`+2m 5s`, `+12.5%`; `new` from a zero A); '-' when either is unknown. */
export function signed(kind: FieldKind, d: Delta): [string, string] {
  if (d.delta === null) return ['-', '-'];
  const abs = `${d.delta > 0 ? '+' : ''}${amount(kind, d.delta)}`;
  const pct = d.percent === null ? (d.delta === 0 ? '0%' : 'new') : `${d.percent > 0 ? '+' : ''}${d.percent.toFixed(1)}%`;
  return [abs, pct];
}

function runLine(tag: string, h: Comparison['a'], timeZone: string | undefined): string {
  const attempt = h.attempt_id ? `, attempt ${h.attempt_id}` : '';
  return `${tag}  ${oneLine(h.app_name ?? '-')} (${oneLine(h.app_id)}${attempt})  ${h.status}  started ${formatLocalTime(h.start_time, timeZone)}  Spark ${h.spark_version ?? '-'}  source ${h.source}`;
}

/** 'A', 'B' or 'A and B': the runs `lacks` holds for. */
function whichRuns(c: Comparison, lacks: (h: RunHeader) => boolean): string {
  return [lacks(c.a) ? 'A' : '', lacks(c.b) ? 'B' : ''].filter(Boolean).join(' and ');
}

function stageId(r: StageRow, side: 'a' | 'b'): string {
  const s = r[side];
  return s === null ? '-' : `${s.stage_id}${s.attempts > 1 ? ` (${s.attempts} attempts)` : ''}`;
}

/**
 * What `compare` prints: the two runs (start times with their zone: local, or `timeZone`), the
 * metrics that moved, the stages whose duration moved most, the config diff.
 */
export function compareText(c: Comparison, top: number, timeZone?: string): string {
  const out = [runLine('A', c.a, timeZone), runLine('B', c.b, timeZone), ''];
  out.push(
    table(
      ['metric', 'A', 'B', 'change', '%'],
      c.metrics.map((m) => [m.label, amount(m.kind, m.a), amount(m.kind, m.b), ...signed(m.kind, m)]),
    ),
  );
  out.push('');
  const n = c.stage_counts;
  if (!c.a.has_stages || !c.b.has_stages) {
    out.push(`Stages: not collected for ${whichRuns(c, (h) => !h.has_stages)}.`);
  } else if (c.stages.length === 0) out.push('Stages: none in either run');
  if (c.stages.length > 0) {
    // All stages in order when they fit; else those whose duration moved most (a one-sided stage by its whole duration).
    const change = (r: StageRow): number => Math.abs(r.metrics.duration_ms.delta ?? r.metrics.duration_ms.a ?? r.metrics.duration_ms.b ?? 0);
    const moved = c.stages.length <= top ? c.stages : [...c.stages].sort((x, y) => change(y) - change(x)).slice(0, top);
    out.push(`Stages: ${groupDigits(n.by_name)} aligned by name, ${groupDigits(n.by_stage_id)} by stage id, ${groupDigits(n.only_a)} only in A, ${groupDigits(n.only_b)} only in B${moved.length < c.stages.length ? `; the ${moved.length} whose duration changed most:` : ''}`);
    out.push(
      table(
        ['stage A', 'stage B', 'duration A', 'duration B', 'change', '%', 'cpu A', 'cpu B', 'shuffle read change', 'failed tasks A', 'failed tasks B', 'name'],
        moved.map((r) => {
          const d = r.metrics.duration_ms;
          const f = r.metrics.failed_tasks;
          // CPU time '-' where Spark never measured it (before 2.1), as in show.
          const cpu = r.metrics.cpu_time_ms;
          return [stageId(r, 'a'), stageId(r, 'b'), amount('duration', d.a), amount('duration', d.b), ...signed('duration', d), amount('duration', cpu.a), amount('duration', cpu.b), signed('bytes', r.metrics.shuffle_read_bytes)[0], amount('count', f.a), amount('count', f.b), clip(r.name ?? '-', 60)];
        }),
      ),
    );
  }
  out.push('');
  if (!c.a.has_config || !c.b.has_config) {
    out.push(`Config: not collected for ${whichRuns(c, (h) => !h.has_config)}.`);
    return out.join('\n');
  }
  const config = c.config.filter((r) => !r.per_run);
  const perRun = c.config.filter((r) => r.per_run);
  out.push(config.length === 0 ? 'Config: no property differs' : `Config: ${config.length} ${config.length === 1 ? 'property differs' : 'properties differ'}`);
  if (config.length > 0) out.push(table(['property', 'A', 'B'], config.map((r) => [r.key, r.a ?? '(not set)', r.b ?? '(not set)'])));
  if (perRun.length > 0) out.push(`(and ${perRun.map((r) => r.key).join(', ')}, set anew for every run)`);
  return out.join('\n');
}
