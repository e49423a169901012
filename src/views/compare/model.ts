/**
 * The Compare view's model (issue 15): `compareRuns` (analysis/compare.ts, the one place that
 * computes deltas, aligns stages and diffs the config, and that `spark-optimizer compare` prints)
 * put in words for the page: values in their units, as the CLI's text shows them, each change
 * marked better or worse. Pure (no vscode, no DOM): tested in Node (test/compareView.test.ts); the
 * webview bundle imports its sort and filter functions.
 *
 * Worse and better: more time, more bytes or more failures cost more, so B above A is worse there.
 * Counts of tasks and stages and the cluster's sizing have no better direction: they only changed.
 * A change under MINOR_PERCENT, or under a second or a MiB, is minor (noise between two runs).
 */
import type { Comparison, ConfigRow, Delta, RunHeader, StageMetric, StageRow } from '../../analysis/compare';
import { amount, signed } from '../../analysis/compareText';
import type { StageStatus } from '../../collectors/record/summaries';
import type { FieldKind, RecordColumn } from '../../storage/fields';

/** Below this share of A, a change of time or bytes is minor… */
export const MINOR_PERCENT = 5;
/** …and so is one of less than a second, or a MiB, whatever its share (a 20 ms stage taking 60 ms). */
export const MINOR_MS = 1_000;
export const MINOR_BYTES = 1_048_576;

/**
 * How a change reads: `worse`/`better` (a cost went up/down), `minor` (a cost moved within the
 * noise), `changed` (no better direction), `same`, `unknown` (either run lacks the value).
 */
export type Tone = 'worse' | 'better' | 'minor' | 'changed' | 'same' | 'unknown';

/** A value in A and B and how it changed, as text. */
export interface DeltaView {
  a: string;
  b: string;
  delta: string;
  percent: string;
  tone: Tone;
}

export interface MetricView extends DeltaView {
  field: RecordColumn;
  label: string;
}

/** The stage figures the page shows, of those compareRuns adds up per stage. */
export const STAGE_COLUMNS = [
  { key: 'duration_ms', label: 'Duration' },
  { key: 'executor_run_time_ms', label: 'Executor run time' },
  // Unknown ('-', no change) where Spark never measured it (before 2.1): stageCpuKnown.
  { key: 'cpu_time_ms', label: 'CPU time' },
  { key: 'input_bytes', label: 'Input' },
  { key: 'shuffle_read_bytes', label: 'Shuffle read' },
  { key: 'shuffle_write_bytes', label: 'Shuffle write' },
  { key: 'disk_spilled_bytes', label: 'Disk spill' },
  { key: 'failed_tasks', label: 'Failed tasks' },
] as const satisfies readonly { key: StageMetric; label: string }[];
export type StageColumn = (typeof STAGE_COLUMNS)[number]['key'];

export interface StageSideView {
  /** `3`, or `3 (2 attempts)`. */
  id: string;
  status: StageStatus;
}

export interface StageView {
  /** Position in compareRuns' order (A's stages, then those only B has): the default sort. */
  order: number;
  name: string | null;
  matched_by: StageRow['matched_by'];
  a: StageSideView | null;
  b: StageSideView | null;
  cells: Record<StageColumn, DeltaView>;
  /**
   * What sorting by a column's change orders on: B − A; for a stage only one run has, what it
   * added (+B) or saved (−A), so a new stage ranks with the regressions. Null: not known.
   */
  change: Record<StageColumn, number | null>;
}

export interface RunView extends RunHeader {
  /** The name, or the id when the run has none. */
  title: string;
}

export interface CompareModel {
  /** The panel's title. */
  title: string;
  a: RunView;
  b: RunView;
  metrics: MetricView[];
  stages: StageView[];
  /** "12 aligned by name, 1 by stage id, 2 only in A, none only in B". */
  stageSummary: string;
  /** Why a run has no stage rows, when one has none: "Stages were not collected for A (its source reports the application only)." */
  stagesNote: string | null;
  /** Only the properties that differ, by key; `per_run` ones (the app id, the driver's port) always do. */
  config: ConfigRow[];
  /** Why there is no config diff, when a run's Spark properties were not collected: "Spark properties were not collected for A: …". */
  configNote: string | null;
}

const KIND_BY_SUFFIX: [string, FieldKind][] = [
  ['_ms', 'duration'],
  ['_bytes', 'bytes'],
];

/** A stage figure's kind, from its name as the record's fields are named (`*_ms`, `*_bytes`, else a count). */
export function stageKind(metric: StageMetric): FieldKind {
  return KIND_BY_SUFFIX.find(([suffix]) => metric.endsWith(suffix))?.[1] ?? 'count';
}

/** Whether more of it costs more: time, bytes, failed (or killed) tasks and stages. */
export function higherIsWorse(field: string, kind: FieldKind): boolean {
  return kind === 'duration' || kind === 'bytes' || field.startsWith('failed_') || field === 'killed_tasks';
}

export function toneOf(field: string, kind: FieldKind, d: Delta): Tone {
  if (d.delta === null) return 'unknown';
  if (d.delta === 0) return 'same';
  if (!higherIsWorse(field, kind)) return 'changed';
  const floor = kind === 'duration' ? MINOR_MS : kind === 'bytes' ? MINOR_BYTES : 0;
  // Failures are never minor: one failed task where there were none is news.
  if (floor > 0 && (Math.abs(d.delta) < floor || (d.percent !== null && Math.abs(d.percent) < MINOR_PERCENT))) return 'minor';
  return d.delta > 0 ? 'worse' : 'better';
}

function deltaView(field: string, kind: FieldKind, d: Delta): DeltaView {
  const [delta, percent] = signed(kind, d);
  return { a: amount(kind, d.a), b: amount(kind, d.b), delta, percent, tone: toneOf(field, kind, d) };
}

const sideView = (s: StageRow['a']): StageSideView | null => (s === null ? null : { id: s.attempts > 1 ? `${s.stage_id} (${s.attempts} attempts)` : String(s.stage_id), status: s.status });

const NOT_RUN: DeltaView = { a: '-', b: '-', delta: '-', percent: '-', tone: 'unknown' };

function stageView(r: StageRow, order: number): StageView {
  const cells = {} as Record<StageColumn, DeltaView>;
  const change = {} as Record<StageColumn, number | null>;
  // A stage neither run ran (skipped in both: its shuffle output came from an earlier job, as stages 3
  // and 6 of Spark's NewYorkTaxiData runs) has no figures to compare, not "0 ms" and "0 B" changes.
  const aRan = r.a?.ran === true;
  const bRan = r.b?.ran === true;
  if (!aRan && !bRan) {
    for (const { key } of STAGE_COLUMNS) {
      cells[key] = NOT_RUN;
      change[key] = null;
    }
    return { order, name: r.name, matched_by: r.matched_by, a: sideView(r.a), b: sideView(r.b), cells, change };
  }
  for (const { key } of STAGE_COLUMNS) {
    const d = r.metrics[key];
    cells[key] = deltaView(key, stageKind(key), d);
    change[key] = !aRan ? d.b : !bRan ? (d.a === null ? null : -d.a) : d.delta;
  }
  return { order, name: r.name, matched_by: r.matched_by, a: sideView(r.a), b: sideView(r.b), cells, change };
}

function stageSummary(n: Comparison['stage_counts']): string {
  const part = (count: number, what: string): string => `${count === 0 ? 'none' : count.toLocaleString('en-US')} ${what}`;
  return [part(n.by_name, 'aligned by name'), part(n.by_stage_id, 'by stage id'), part(n.only_a, 'only in A'), part(n.only_b, 'only in B')].join(', ');
}

function stagesNote(c: Comparison): string | null {
  // Both collected and none ran (Spark's local-1430917381535, both attempts: an application that ran no job): "Stages (0)" and nothing under it said nothing.
  if (c.a.has_stages && c.b.has_stages) return c.stages.length === 0 ? 'Neither run ran a stage (no Spark job ran in either): there are no stages to align.' : null;
  if (!c.a.has_stages && !c.b.has_stages) return 'Stages were not collected for either run (their sources report the application only): there are no stages to align.';
  const [without, withStages] = c.a.has_stages ? ['B', "A's"] : ['A', "B's"];
  return `Stages were not collected for ${without} (its source reports the application only): the stages below are ${withStages} alone.`;
}

function configNote(c: Comparison): string | null {
  if (c.a.has_config && c.b.has_config) return null;
  const [which, source] = !c.a.has_config && !c.b.has_config ? ['either run', 'their sources report'] : [c.a.has_config ? 'B' : 'A', 'its source reports'];
  return `Spark properties were not collected for ${which} (${source} no environment): there is no configuration to compare.`;
}

const runView = (h: RunHeader): RunView => ({ ...h, title: h.app_name ?? h.app_id });

/** The page's title: the name when both runs share it (the usual case: a run and its previous one). */
export function compareTitle(a: Pick<RunHeader, 'app_id' | 'app_name'>, b: Pick<RunHeader, 'app_id' | 'app_name'>): string {
  const [x, y] = [a.app_name ?? a.app_id, b.app_name ?? b.app_id];
  return x === y ? `Compare: ${x}` : `Compare: ${x} ↔ ${y}`;
}

/** The page for a comparison of two runs (compareRuns(a, b)). */
export function compareModel(c: Comparison): CompareModel {
  return {
    title: compareTitle(c.a, c.b),
    a: runView(c.a),
    b: runView(c.b),
    metrics: c.metrics.map((m) => ({ field: m.field, label: m.label, ...deltaView(m.field, m.kind, m) })),
    stages: c.stages.map(stageView),
    stageSummary: stageSummary(c.stage_counts),
    stagesNote: stagesNote(c),
    config: c.config,
    configNote: configNote(c),
  };
}

// ---- what the page does with it: sort and filter ---------------------------------------------

export const STAGE_SORTS = ['order', 'name', ...STAGE_COLUMNS.map((c) => c.key)] as const satisfies readonly ('order' | 'name' | StageColumn)[];
export type StageSort = (typeof STAGE_SORTS)[number];

const NATURAL = new Intl.Collator('en', { numeric: true });

/**
 * Stage rows in the order a column asks (a copy). By a figure: by its change, largest rise first
 * when descending (the regressions), largest fall first when ascending; unknown changes go last.
 * Ties keep the aligned order.
 */
export function sortStageViews(rows: readonly StageView[], by: StageSort, descending: boolean): StageView[] {
  const sign = descending ? -1 : 1;
  return [...rows].sort((x, y) => {
    if (by === 'order') return sign * (x.order - y.order);
    if (by === 'name') return sign * NATURAL.compare(x.name ?? '', y.name ?? '') || x.order - y.order;
    const [p, q] = [x.change[by], y.change[by]];
    if ((p === null) !== (q === null)) return p === null ? 1 : -1;
    return sign * ((p ?? 0) - (q ?? 0)) || x.order - y.order;
  });
}

/** Stages whose name holds the text (case-insensitive), or whose stage id in A or B is it; all for an empty query. */
export function filterStageViews(rows: readonly StageView[], query: string): StageView[] {
  const q = query.trim().toLowerCase();
  if (!q) return [...rows];
  const id = /^\d+$/.test(q) ? Number(q) : null;
  const hasId = (s: StageSideView | null): boolean => s !== null && id !== null && parseInt(s.id, 10) === id;
  return rows.filter((r) => (r.name ?? '').toLowerCase().includes(q) || hasId(r.a) || hasId(r.b));
}

/** Config rows whose key or either value holds the text (case-insensitive); per-run properties only when asked for. */
export function filterConfigRows(rows: readonly ConfigRow[], query: string, showPerRun: boolean): ConfigRow[] {
  const q = query.trim().toLowerCase();
  return rows.filter((r) => (showPerRun || !r.per_run) && (!q || [r.key, r.a ?? '', r.b ?? ''].some((s) => s.toLowerCase().includes(q))));
}
