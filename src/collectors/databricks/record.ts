/**
 * Databricks answers as records: the fields of a job run and its clusters the mapping reads (Jobs
 * API 2.1, Clusters API 2.1), and the platform-level record of one run, with its facts as tags.
 */
import * as z from 'zod';
import { Quality, checkedTime, noSparkMetrics, platformLevelQuality, redactSecrets, type AppStatus, type Problem, type RecordFindings, type SparkAppRecord } from '../record';
import { completeRecord } from '../record/finish';
import { recordSizing, recordTimes } from '../record/rules';

// The answers, loosely: only the fields we read.

const num = z.number().optional();
const str = z.string().optional();
const confValue = z.union([z.string(), z.number(), z.boolean()]);
export const clusterSpecSchema = z.object({
  spark_version: str,
  node_type_id: str,
  driver_node_type_id: str,
  num_workers: num,
  autoscale: z.object({ min_workers: num, max_workers: num }).optional(),
  spark_conf: z.record(z.string(), confValue).optional(),
  cluster_log_conf: z.object({ dbfs: z.object({ destination: z.string() }).optional() }).optional(),
});
export const clusterSchema = clusterSpecSchema.extend({ cluster_id: z.string(), cluster_name: str, state: str });
export const clusterInstanceSchema = z.object({ cluster_id: str, spark_context_id: str });
const stateSchema = z.object({ life_cycle_state: str, result_state: str, state_message: str });
const taskSchema = z.object({
  task_key: str,
  existing_cluster_id: str,
  new_cluster: clusterSpecSchema.optional(),
  job_cluster_key: str,
  cluster_instance: clusterInstanceSchema.optional(),
  setup_duration: num,
  execution_duration: num,
});
export const runSchema = z.object({
  run_id: z.number().int().nonnegative(),
  job_id: num,
  run_name: str,
  creator_user_name: str,
  run_as_user_name: str,
  start_time: num,
  end_time: num,
  setup_duration: num,
  execution_duration: num,
  run_duration: num,
  run_type: str,
  // SINGLE_TASK or MULTI_TASK (deprecated, still sent): a multi-task run's setup/execution durations are 0.
  format: str,
  run_page_url: str,
  attempt_number: num,
  state: stateSchema.optional(),
  // Newer answers carry `status` beside (or instead of) the deprecated `state`.
  status: z.object({ state: str, termination_details: z.object({ code: str, message: str }).optional() }).optional(),
  existing_cluster_id: str,
  new_cluster: clusterSpecSchema.optional(),
  cluster_spec: z.object({ existing_cluster_id: str, new_cluster: clusterSpecSchema.optional(), job_cluster_key: str }).optional(),
  cluster_instance: clusterInstanceSchema.optional(),
  job_clusters: z.array(z.object({ job_cluster_key: z.string(), new_cluster: clusterSpecSchema.optional() })).optional(),
  tasks: z.array(taskSchema).optional(),
});

export type Run = z.infer<typeof runSchema>;
export type ClusterSpec = z.infer<typeof clusterSpecSchema>;
export type Cluster = z.infer<typeof clusterSchema>;

export const epoch = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) && v > 0 ? v : null);

/**
 * What says a run never executed, in either shape of the answer (Jobs API 2.1): the deprecated
 * `state` (life cycle SKIPPED: a run of the job already active; result EXCLUDED, UPSTREAM_FAILED,
 * UPSTREAM_CANCELED) and `status` (termination codes SKIPPED, MAX_CONCURRENT_RUNS_EXCEEDED,
 * MAX_JOB_QUEUE_SIZE_EXCEEDED, DISABLED). Such a run has no outcome: `unknown`, not `failed`, which
 * says it ran and failed (a review: the same skipped run was one or the other by the answer's shape).
 */
const NEVER_EXECUTED = new Set(['SKIPPED', 'EXCLUDED', 'UPSTREAM_FAILED', 'UPSTREAM_CANCELED', 'MAX_CONCURRENT_RUNS_EXCEEDED', 'MAX_JOB_QUEUE_SIZE_EXCEEDED', 'DISABLED']);

/** A run's state as the record's status (Jobs API RunLifeCycleState / RunResultState, or `status` and its termination code). */
export function runStatus(run: Pick<Run, 'state' | 'status'>): AppStatus {
  const lc = run.state?.life_cycle_state ?? run.status?.state;
  const rs = run.state?.result_state ?? (run.state === undefined ? run.status?.termination_details?.code : undefined);
  if ((lc !== undefined && NEVER_EXECUTED.has(lc)) || (rs !== undefined && NEVER_EXECUTED.has(rs))) return 'unknown';
  if (lc === 'INTERNAL_ERROR') return 'failed';
  if (lc === 'TERMINATED') {
    if (rs === 'SUCCESS' || rs === 'SUCCESS_WITH_FAILURES') return 'completed';
    if (rs === undefined) return 'unknown';
    // FAILED, TIMEDOUT, CANCELED, … and the termination codes of `status`.
    return 'failed';
  }
  if (lc === 'PENDING' || lc === 'RUNNING' || lc === 'TERMINATING' || lc === 'QUEUED' || lc === 'BLOCKED' || lc === 'WAITING_FOR_RETRY' || lc === 'WAITING') return 'running';
  return 'unknown';
}

export interface RunClusters {
  /** Cluster ids in the order the run names them; the first one sizes the record. */
  ids: string[];
  /** Spark context ids the run ran in, per cluster. */
  contexts: Map<string, Set<string>>;
  /** The spec the run asked for, per cluster id, when it created the cluster (job clusters). */
  specs: Map<string, ClusterSpec>;
  /** Clusters the run created for itself: all their Spark applications are the run's. */
  own: Set<string>;
}

export function runClusters(run: Run): RunClusters {
  const out: RunClusters = { ids: [], contexts: new Map(), specs: new Map(), own: new Set() };
  const jobClusters = new Map((run.job_clusters ?? []).flatMap((c) => (c.new_cluster ? [[c.job_cluster_key, c.new_cluster] as const] : [])));
  const add = (instance: z.infer<typeof clusterInstanceSchema> | undefined, existing: string | undefined, spec: ClusterSpec | undefined): void => {
    const id = instance?.cluster_id ?? existing;
    if (id === undefined || id === '') return;
    if (!out.ids.includes(id)) out.ids.push(id);
    if (instance?.spark_context_id !== undefined) out.contexts.set(id, (out.contexts.get(id) ?? new Set()).add(instance.spark_context_id));
    if (existing === undefined && spec !== undefined) {
      out.specs.set(id, spec);
      out.own.add(id);
    }
  };
  const runSpec = run.cluster_spec?.new_cluster ?? run.new_cluster ?? (run.cluster_spec?.job_cluster_key !== undefined ? jobClusters.get(run.cluster_spec.job_cluster_key) : undefined);
  add(run.cluster_instance, run.cluster_spec?.existing_cluster_id ?? run.existing_cluster_id, runSpec);
  for (const t of run.tasks ?? []) add(t.cluster_instance, t.existing_cluster_id, t.new_cluster ?? (t.job_cluster_key !== undefined ? jobClusters.get(t.job_cluster_key) : undefined));
  return out;
}

/**
 * The durations the Jobs API gives for a run. `setup_duration` and `execution_duration` are "set to
 * 0 for multitask job runs" (Jobs API 2.1 runs/get), whose total is `run_duration`; a multi-task run
 * with one task has them on that task. Otherwise they are unknown (undefined), not 0.
 */
export function runDurations(run: Run): { setup?: number; execution?: number; run?: number; multiTask: boolean } {
  const tasks = run.tasks ?? [];
  const multiTask = run.format === 'MULTI_TASK' || tasks.length > 1;
  const total = run.run_duration !== undefined && run.run_duration > 0 ? run.run_duration : undefined;
  if (!multiTask) return { setup: run.setup_duration, execution: run.execution_duration, run: total, multiTask };
  const only = tasks.length === 1 ? tasks[0] : undefined;
  return { setup: only?.setup_duration, execution: only?.execution_duration, run: total, multiTask };
}

/** The run's platform facts, as tags (string -> string); also merged into its Spark applications. */
export function runTags(run: Run, clusters: RunClusters, primary: ClusterSpec | undefined, cluster: Cluster | undefined): Record<string, string> {
  const tags: Record<string, string> = { origin: 'databricks', run_id: String(run.run_id) };
  const set = (k: string, v: string | number | undefined): void => {
    if (v !== undefined && v !== '') tags[k] = String(v);
  };
  set('job_id', run.job_id);
  set('run_type', run.run_type);
  set('run_page_url', run.run_page_url);
  set('run_as', run.run_as_user_name);
  set('attempt_number', run.attempt_number);
  set('life_cycle_state', run.state?.life_cycle_state ?? run.status?.state);
  set('result_state', run.state?.result_state ?? run.status?.termination_details?.code);
  set('state_message', run.state?.state_message ?? run.status?.termination_details?.message);
  const durations = runDurations(run);
  set('setup_duration_ms', durations.setup);
  set('execution_duration_ms', durations.execution);
  set('run_duration_ms', durations.run);
  set('cluster_id', clusters.ids[0]);
  if (clusters.ids.length > 1) set('cluster_ids', clusters.ids.join(','));
  const contexts = clusters.ids.flatMap((id) => [...(clusters.contexts.get(id) ?? [])]);
  if (contexts.length > 0) set('spark_context_id', contexts.join(','));
  set('cluster_name', cluster?.cluster_name);
  if (primary) {
    set('runtime', primary.spark_version);
    set('node_type', primary.node_type_id);
    set('driver_node_type', primary.driver_node_type_id ?? primary.node_type_id);
    set('num_workers', primary.autoscale ? undefined : primary.num_workers);
    if (primary.autoscale) {
      set('autoscale', `${primary.autoscale.min_workers ?? '?'}-${primary.autoscale.max_workers ?? '?'}`);
      set('autoscale_min_workers', primary.autoscale.min_workers);
      set('autoscale_max_workers', primary.autoscale.max_workers);
    }
    set('cluster_log_destination', primary.cluster_log_conf?.dbfs?.destination);
  }
  return tags;
}

/** Worker counts an autoscaling cluster was seen with over a run's window (its events). */
export interface WorkersSeen {
  min: number;
  max: number;
}

/** The app_id of a run's platform-level record, which its Spark applications replace (contract.ts REPLACES_TAG). */
export const runAppId = (run: Pick<Run, 'run_id'>): string => `databricks-run-${run.run_id}`;

/** One record for the run, from the Jobs and Clusters APIs only: `platform_level`. */
export function platformRecord(run: Run, clusters: RunClusters, primary: ClusterSpec | undefined, tags: Record<string, string>, source: string, problems: Problem[], where: string, seen?: WorkersSeen): SparkAppRecord {
  const quality = platformLevelQuality();
  const found: RecordFindings = { quality, problems, where, subject: `run ${run.run_id}` };
  // A multi-task run's own setup/execution durations are 0 by definition: the tags are left out,
  // and flagged, rather than showing a 0 that looks measured.
  const durations = runDurations(run);
  if (durations.multiTask) {
    if (durations.setup === undefined) quality.add('missing:tags.setup_duration_ms');
    if (durations.execution === undefined) quality.add('missing:tags.execution_duration_ms');
  }
  const conf: Record<string, string> = Object.fromEntries(Object.entries(primary?.spark_conf ?? {}).map(([k, v]) => [k, String(v)]));


  // A fixed-size cluster's num_workers is its number of worker nodes, one executor each on
  // Databricks; a single-node cluster (0 workers) runs its tasks in the driver, as Spark's local mode
  // does. An autoscaling cluster's size over the run is not known from its spec (min/max go to tags:
  // autoscale_min_workers, autoscale_max_workers): its events over the run's window tell the most
  // workers it had then (`seen`); without them num_executors stays unknown.
  let numExecutors: number | null = null;
  if (primary !== undefined && primary.autoscale === undefined && primary.num_workers !== undefined) numExecutors = Math.max(1, primary.num_workers);
  else if (primary?.autoscale !== undefined && seen !== undefined) numExecutors = Math.max(1, seen.max);
  if (numExecutors === null) quality.add(Quality.missing('num_executors'));
  // Databricks sizes executors from the node type when the conf says nothing; we do not guess it.
  const sizing = recordSizing(conf, numExecutors, [], 'unknown', found);

  const startMs = checkedTime(epoch(run.start_time), 'start_time', `run ${run.run_id} start_time`, found);
  const status = runStatus(run);
  const endMs = status === 'running' ? null : checkedTime(epoch(run.end_time), 'end_time', `run ${run.run_id} end_time`, found);
  if (status === 'running') quality.add(Quality.inProgress);
  // The Jobs API's start_time is when the run was submitted (cluster creation included).
  const times = recordTimes({ submit: startMs, submitFrom: 'start_time', start: startMs, end: endMs }, found);
  // A runtime ("13.3.x-scala2.12") is not a Spark version, and no table of them is kept here: the
  // runtime goes to tags and spark_version stays unknown.
  quality.add(Quality.missing('spark_version'));
  if (clusters.ids.length === 0 && primary === undefined) problems.push({ severity: 'info', code: 'no-cluster', message: `run ${run.run_id} names no cluster (serverless?): no executor sizing`, file: where });

  const fields: Omit<SparkAppRecord, 'quality'> = {
    app_id: runAppId(run),
    attempt_id: null,
    app_name: run.run_name ?? null,
    user: run.creator_user_name ?? null,
    ...times,
    spark_version: null,
    ...sizing,
    ...noSparkMetrics(),
    tags,
    environment: redactSecrets(conf, found),
    source,
    status,
  };
  return completeRecord(fields, found);
}
