/**
 * Two runs side by side (issue 15): the record's metrics with absolute and % deltas, the stages
 * aligned, and the Spark properties that differ. A pure view model: `spark-optimizer compare`
 * prints it and the editor's compare view renders it.
 *
 * Stages are compared as stages, not attempts: a stage's attempts add up (what the stage cost in
 * all, retries included) and its status is its last attempt's. They are aligned by name where
 * names match: the k-th stage of a name in A (by stage id) with the k-th of that name in B, so a
 * loop's repeated stages pair in order. Stages left over (no name, or a name only one run has) are
 * aligned by stage id with the other run's left-over stage of the same id; the rest are one-sided.
 *
 * Environments are compared as stored, so secrets stay redacted (two redacted values look equal).
 */
import type { SparkAppRecord } from '../collectors/record';
import { STAGE_COUNTERS, stageRan, withStageCpu, type AppSummaries, type StageStatus, type StageSummary } from '../collectors/record/summaries';
import { measured, type RecordFigure } from '../common/format';
import { FIELDS, type FieldKind, type RecordColumn } from '../storage/fields';

export interface Run {
  record: SparkAppRecord;
  /** Undefined when the run's stages and executors were not collected. */
  summaries?: AppSummaries;
}

export interface Delta {
  a: number | null;
  b: number | null;
  /** b − a; null when either is unknown. */
  delta: number | null;
  /** (b − a) / a × 100, rounded to 0.1; null when either is unknown or a is 0 and b is not. */
  percent: number | null;
}

export interface MetricRow extends Delta {
  field: RecordColumn;
  label: string;
  kind: FieldKind;
}

/** What an aligned stage compares: its duration and every number that adds up over its attempts. */
export const STAGE_METRICS = ['duration_ms', ...STAGE_COUNTERS] as const satisfies readonly (keyof StageSummary)[];
export type StageMetric = (typeof STAGE_METRICS)[number];

/** One run's side of an aligned stage: its attempts added up. */
export interface StageSide {
  stage_id: number;
  attempts: number;
  /** The last attempt's. */
  status: StageStatus;
  /** Whether any attempt ran (stageRan); the sums are those of the attempts that did, none when none did. */
  ran: boolean;
}

export interface StageRow {
  name: string | null;
  /** How the two sides were paired; null when only one run has the stage. */
  matched_by: 'name' | 'stage_id' | null;
  a: StageSide | null;
  b: StageSide | null;
  metrics: Record<StageMetric, Delta>;
}

export interface ConfigRow {
  key: string;
  /** Null: not set in that run. */
  a: string | null;
  b: string | null;
  /** A property Spark sets anew for every run (its id, times, driver address): it always differs. */
  per_run: boolean;
}

export interface RunHeader {
  app_id: string;
  attempt_id: string | null;
  app_name: string | null;
  status: SparkAppRecord['status'];
  start_time: string | null;
  spark_version: string | null;
  source: string;
  /** Whether the run's stages and executors were collected (without them there are no stage rows of it). */
  has_stages: boolean;
  /** Whether its Spark properties were collected (not flagged missing:environment); without them there is no config diff. */
  has_config: boolean;
}

export interface Comparison {
  a: RunHeader;
  b: RunHeader;
  metrics: MetricRow[];
  /** In A's stage order, then the stages only B has in B's order. */
  stages: StageRow[];
  stage_counts: { by_name: number; by_stage_id: number; only_a: number; only_b: number };
  /** Only the properties whose values differ, by key; none when either run's properties were not collected (has_config). */
  config: ConfigRow[];
}

/**
 * Properties Spark (or its cluster manager) sets for each run on its own: they differ between any two
 * runs, so they say nothing about what changed. Besides the ids, times and the driver's address: the
 * driver's servers (Spark 1.x's file server, the REPL's class server and output folder), random
 * block-store folders (1.x), URLs naming the driver or the YARN application, and the pod address and
 * submission id a Kubernetes operator gives each run. Two runs of one Spark 1.2 shell in ../shared
 * differed in four of these and nothing else, and were blamed on "3 properties changed".
 */
const PER_RUN_KEYS = new Set([
  'spark.app.id',
  'spark.app.startTime',
  'spark.app.submitTime',
  'spark.app.attempt.id',
  'spark.app.initial.jar.urls',
  'spark.app.initial.file.urls',
  'spark.app.initial.archive.urls',
  'spark.driver.host',
  'spark.driver.port',
  'spark.driver.bindAddress',
  'spark.driver.appUIAddress',
  'spark.fileserver.uri',
  'spark.repl.class.uri',
  'spark.repl.class.outputDir',
  'spark.tachyonStore.folderName',
  'spark.externalBlockStore.folderName',
  'spark.executorEnv.SPARK_DRIVER_POD_IP',
  'spark.kubernetes.driver.pod.name',
  'spark.kubernetes.driver.label.sparkoperator.k8s.io/submission-id',
  'spark.kubernetes.executor.label.sparkoperator.k8s.io/submission-id',
  'spark.org.apache.hadoop.yarn.server.webproxy.amfilter.AmIpFilter.param.PROXY_URI_BASES',
  'spark.ui.proxyBase',
]);
const NUMERIC: ReadonlySet<FieldKind> = new Set(['duration', 'count', 'bytes', 'mb']);

export function delta(a: number | null | undefined, b: number | null | undefined): Delta {
  const x = a ?? null;
  const y = b ?? null;
  if (x === null || y === null) return { a: x, b: y, delta: null, percent: null };
  const d = y - x;
  const percent = x === 0 ? (d === 0 ? 0 : null) : Math.round((d / x) * 1000) / 10;
  return { a: x, b: y, delta: d, percent };
}

interface StageTotal {
  name: string | null;
  side: StageSide;
  sums: Record<StageMetric, number | null>;
}

/** A run's stages, attempts added up, by stage id. */
function stageTotals(stages: readonly StageSummary[]): StageTotal[] {
  const byId = new Map<number, StageTotal>();
  const sorted = [...stages].sort((x, y) => x.stage_id - y.stage_id || x.attempt_id - y.attempt_id);
  for (const s of sorted) {
    let t = byId.get(s.stage_id);
    if (!t) {
      t = { name: s.name, side: { stage_id: s.stage_id, attempts: 0, status: s.status, ran: false }, sums: Object.fromEntries(STAGE_METRICS.map((m) => [m, null])) as Record<StageMetric, number | null> };
      byId.set(s.stage_id, t);
    }
    t.side.attempts++;
    t.side.status = s.status;
    t.name ??= s.name;
    // A skipped attempt adds no 0 B and 0 ms: a stage skipped in A and run in B compares "-" with B's figures, not 0 with them.
    if (!stageRan(s)) continue;
    const first = !t.side.ran;
    t.side.ran = true;
    for (const m of STAGE_METRICS) {
      const v = s[m];
      const sum = first ? 0 : t.sums[m];
      t.sums[m] = v === null || sum === null ? null : sum + v;
    }
  }
  return [...byId.values()];
}

function stageRow(x: StageTotal | undefined, y: StageTotal | undefined, matched: StageRow['matched_by']): StageRow {
  return {
    name: x?.name ?? y?.name ?? null,
    matched_by: matched,
    a: x?.side ?? null,
    b: y?.side ?? null,
    metrics: Object.fromEntries(STAGE_METRICS.map((m) => [m, delta(x ? x.sums[m] : null, y ? y.sums[m] : null)])) as Record<StageMetric, Delta>,
  };
}

function alignStages(a: readonly StageSummary[], b: readonly StageSummary[]): { rows: StageRow[]; counts: Comparison['stage_counts'] } {
  const left = stageTotals(a);
  const right = stageTotals(b);
  const partner = new Map<StageTotal, { other: StageTotal; by: 'name' | 'stage_id' }>();
  const taken = new Set<StageTotal>();
  // By name: the k-th of a name on each side. Each name's list is walked by an index, not shifted:
  // a streaming application repeats a few names over 150,000 stages, and shift() copies what is left
  // each time (8.4 s of a 12.5 s compare).
  const rightByName = new Map<string, { list: StageTotal[]; next: number }>();
  for (const t of right) {
    if (t.name === null) continue;
    const same = rightByName.get(t.name);
    if (same) same.list.push(t);
    else rightByName.set(t.name, { list: [t], next: 0 });
  }
  for (const t of left) {
    const queue = t.name === null ? undefined : rightByName.get(t.name);
    const other = queue?.list[queue.next++];
    if (other) {
      partner.set(t, { other, by: 'name' });
      taken.add(other);
    }
  }
  // By stage id: what is left on both sides.
  const rightById = new Map(right.filter((t) => !taken.has(t)).map((t) => [t.side.stage_id, t]));
  for (const t of left) {
    if (partner.has(t)) continue;
    const other = rightById.get(t.side.stage_id);
    if (other) {
      partner.set(t, { other, by: 'stage_id' });
      taken.add(other);
    }
  }
  const counts = { by_name: 0, by_stage_id: 0, only_a: 0, only_b: 0 };
  const rows: StageRow[] = left.map((t) => {
    const p = partner.get(t);
    if (p?.by === 'name') counts.by_name++;
    else if (p) counts.by_stage_id++;
    else counts.only_a++;
    return stageRow(t, p?.other, p?.by ?? null);
  });
  for (const t of right) {
    if (taken.has(t)) continue;
    counts.only_b++;
    rows.push(stageRow(undefined, t, null));
  }
  return { rows, counts };
}

function header(run: Run): RunHeader {
  const r = run.record;
  return {
    app_id: r.app_id,
    attempt_id: r.attempt_id,
    app_name: r.app_name,
    status: r.status,
    start_time: r.start_time,
    spark_version: r.spark_version,
    source: r.source,
    has_stages: run.summaries !== undefined,
    has_config: hasEnvironment(r),
  };
}

/** The Spark properties whose values differ between two environments (A's, B's), by key; issue 18's regression check diffs a run against its baseline with it. */
/**
 * Whether a run's Spark properties were collected: not flagged missing:environment (an event log
 * without its EnvironmentUpdate, a History Server app whose /environment failed), whose stored {}
 * would read as every property unset. One rule for compare's has_config and the regression check.
 */
export const hasEnvironment = (r: Pick<SparkAppRecord, 'quality'>): boolean => !r.quality.includes('missing:environment');

export function configDiff(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): ConfigRow[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  const rows: ConfigRow[] = [];
  for (const key of keys) {
    const x = Object.hasOwn(a, key) ? a[key]! : null;
    const y = Object.hasOwn(b, key) ? b[key]! : null;
    if (x !== y) rows.push({ key, a: x, b: y, per_run: PER_RUN_KEYS.has(key) });
  }
  return rows;
}

/** A compared with B: B's figures minus A's. */
export function compareRuns(a: Run, b: Run): Comparison {
  const metrics: MetricRow[] = FIELDS.filter((f) => NUMERIC.has(f.kind)).map((f) => ({
    field: f.column,
    label: f.label,
    kind: f.kind,
    // A figure its source did not measure (missing:/invalid:) has no change, whatever the record holds there.
    ...delta(measured(a.record, f.column as RecordFigure), measured(b.record, f.column as RecordFigure)),
  }));
  // Stage CPU by the rule every source goes by (stored summaries may hold 0 where Spark never measured it).
  const { rows, counts } = alignStages(withStageCpu(a.record, a.summaries)?.stages ?? [], withStageCpu(b.record, b.summaries)?.stages ?? []);
  const [ha, hb] = [header(a), header(b)];
  // A run without its properties has an empty environment: diffed, every property of the other would read "(not set)" in it.
  const config = ha.has_config && hb.has_config ? configDiff(a.record.environment, b.record.environment) : [];
  return { a: ha, b: hb, metrics, stages: rows, stage_counts: counts, config };
}
