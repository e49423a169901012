/**
 * Dataproc answers as records: the fields of a job and its cluster the mapping reads, the job's
 * status and times, its facts as tags, and the platform-level record of one job.
 */
import * as z from 'zod';
import { Quality, checkedTime, noSparkMetrics, platformLevelQuality, redactSecrets, type AppStatus, type Problem, type RecordFindings, type SparkAppRecord } from '../record';
import { completeRecord } from '../record/finish';
import { executorInstances, recordSizing, recordTimes } from '../record/rules';

// The answers, loosely: only the fields we read.

const stateSchema = z.object({ state: z.string(), stateStartTime: z.string().optional(), details: z.string().optional(), substate: z.string().optional() });
const kindSchema = z.object({ properties: z.record(z.string(), z.string()).optional() });
export const jobSchema = z.object({
  reference: z.object({ jobId: z.string().min(1), projectId: z.string().optional() }),
  placement: z.object({ clusterName: z.string().optional(), clusterUuid: z.string().optional() }).optional(),
  status: stateSchema,
  statusHistory: z.array(stateSchema).optional(),
  yarnApplications: z.array(z.object({ name: z.string().optional(), state: z.string().optional(), progress: z.number().optional(), trackingUrl: z.string().optional() })).optional(),
  sparkJob: kindSchema.optional(),
  pysparkJob: kindSchema.optional(),
  sparkSqlJob: kindSchema.optional(),
  sparkRJob: kindSchema.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  jobUuid: z.string().optional(),
});
export type Job = z.infer<typeof jobSchema>;

const groupSchema = z.object({ numInstances: z.number().optional(), machineTypeUri: z.string().optional() }).optional();
export const clusterSchema = z.object({
  clusterName: z.string().optional(),
  clusterUuid: z.string().optional(),
  config: z
    .object({
      softwareConfig: z.object({ imageVersion: z.string().optional(), properties: z.record(z.string(), z.string()).optional() }).optional(),
      masterConfig: groupSchema,
      workerConfig: groupSchema,
      secondaryWorkerConfig: groupSchema,
    })
    .optional(),
});
export type Cluster = z.infer<typeof clusterSchema>;

export const SPARK_KINDS = [
  ['sparkJob', 'spark'],
  ['pysparkJob', 'pyspark'],
  ['sparkSqlJob', 'spark_sql'],
  ['sparkRJob', 'spark_r'],
] as const;

const TERMINAL = new Set(['DONE', 'ERROR', 'CANCELLED']);

export function dataprocStatus(state: string): AppStatus {
  if (state === 'DONE') return 'completed';
  if (state === 'ERROR' || state === 'CANCELLED') return 'failed';
  // ATTEMPT_FAILURE: a restartable job's driver failed and is being restarted.
  if (['PENDING', 'SETUP_DONE', 'RUNNING', 'CANCEL_PENDING', 'CANCEL_STARTED', 'ATTEMPT_FAILURE'].includes(state)) return 'running';
  return 'unknown';
}

const ms = (t: string | undefined): number | null => {
  if (t === undefined) return null;
  const v = Date.parse(t);
  return Number.isNaN(v) ? null : v;
};

/**
 * Submit (first state), start (first RUNNING; first SETUP_DONE only when there is no RUNNING) and end
 * (DONE/ERROR/CANCELLED) in epoch ms. SETUP_DONE means "will soon be submitted", not started.
 */
export function jobTimes(job: Pick<Job, 'status' | 'statusHistory'>): { submit: number | null; start: number | null; end: number | null } {
  const states = [...(job.statusHistory ?? []), job.status];
  const at = (s: (typeof states)[number] | undefined): number | null => ms(s?.stateStartTime);
  const submit = at(states.find((s) => s.state === 'PENDING')) ?? at(states[0]);
  const start = at(states.find((s) => s.state === 'RUNNING')) ?? at(states.find((s) => s.state === 'SETUP_DONE'));
  const end = TERMINAL.has(job.status.state) ? at(job.status) : null;
  return { submit, start, end };
}

/** `application_1700000000000_0001` from a YARN tracking URL (…/proxy/application_…/). */
export function yarnAppId(trackingUrl: string | undefined): string | null {
  const m = /\b(application_\d+_\d+)\b/.exec(trackingUrl ?? '');
  return m ? m[1]! : null;
}

export const lastSegment = (uri: string | undefined): string | undefined => (uri === undefined ? undefined : uri.split('/').filter(Boolean).pop());

/** The job's own facts and its cluster's, as record tags. */
export function jobTags(job: Job, kind: string, cluster: Cluster | null, projectId: string, region: string, appIds: string[]): Record<string, string> {
  const tags: Record<string, string> = { origin: 'dataproc', project_id: projectId, region, job_id: job.reference.jobId, job_type: kind, state: job.status.state };
  const put = (k: string, v: string | number | undefined): void => {
    if (v !== undefined && v !== '') tags[k] = String(v);
  };
  put('job_uuid', job.jobUuid);
  put('state_details', job.status.details);
  put('cluster_name', job.placement?.clusterName ?? cluster?.clusterName);
  put('cluster_uuid', job.placement?.clusterUuid ?? cluster?.clusterUuid);
  if (appIds.length > 0) tags.yarn_application_ids = appIds.join(',');
  const cfg = cluster?.config;
  put('image_version', cfg?.softwareConfig?.imageVersion);
  for (const [name, group] of [
    ['master', cfg?.masterConfig],
    ['worker', cfg?.workerConfig],
    ['secondary_worker', cfg?.secondaryWorkerConfig],
  ] as const) {
    put(`${name}_machine_type`, lastSegment(group?.machineTypeUri));
    put(`${name}_count`, group?.numInstances);
  }
  for (const [k, v] of Object.entries(job.labels ?? {})) put(`label:${k}`, v);
  return tags;
}

/** Spark properties in effect for the job: the cluster's `spark:` ones, then the job's own. */
export function sparkProperties(job: Job, kind: (typeof SPARK_KINDS)[number][0], cluster: Cluster | null): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(cluster?.config?.softwareConfig?.properties ?? {})) if (k.startsWith('spark:')) props[k.slice('spark:'.length)] = v;
  Object.assign(props, job[kind]?.properties ?? {});
  return props;
}

/** The app_id of a job's platform-level record, which its Spark applications replace (contract.ts REPLACES_TAG). */
export const jobAppId = (job: Pick<Job, 'reference'>): string => `dataproc-job-${job.reference.jobId}`;

/** The platform-level record of one job: times, status, sizing from properties; no Spark metrics. */
export function platformRecord(job: Job, kind: (typeof SPARK_KINDS)[number][0], cluster: Cluster | null, tags: Record<string, string>, source: string, problems: Problem[], where: string): SparkAppRecord {
  const quality = platformLevelQuality();
  const props = sparkProperties(job, kind, cluster);
  const read = jobTimes(job);
  const id = job.reference.jobId;
  const found: RecordFindings = { quality, problems, where, subject: `job ${id}` };
  const start = checkedTime(read.start, 'start_time', `job ${id} start (stateStartTime)`, found);
  const submit = checkedTime(read.submit, 'submit_time', `job ${id} submit (stateStartTime)`, found);
  const end = checkedTime(read.end, 'end_time', `job ${id} end (stateStartTime)`, found);
  const status = dataprocStatus(job.status.state);
  if (status === 'running') quality.add(Quality.inProgress);
  const times = recordTimes({ submit, submitFrom: 'PENDING stateStartTime', start, end }, found);
  // With dynamic allocation spark.executor.instances is only the starting count. It is on by default on
  // Dataproc, so only an explicit "false" makes spark.executor.instances the count.
  const sizing = recordSizing(props, executorInstances(props, true, found), [], 'unknown', found);
  // Dataproc does not report the Spark user or version of a job (the image version is in tags).
  quality.add(Quality.missing('user'));
  quality.add(Quality.missing('spark_version'));
  const yarnName = job.yarnApplications?.[0]?.name;
  const fields: Omit<SparkAppRecord, 'quality'> = {
    app_id: jobAppId(job),
    attempt_id: null,
    app_name: yarnName ?? props['spark.app.name'] ?? id,
    user: null,
    ...times,
    spark_version: null,
    ...sizing,
    ...noSparkMetrics(),
    tags,
    environment: redactSecrets(props, found),
    source,
    status,
  };
  return completeRecord(fields, found);
}
