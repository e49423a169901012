/**
 * EMR steps as records: which steps run Spark, what their spark-submit arguments say about sizing,
 * and the platform-level record of a step whose Spark metrics are not reachable.
 */
import type { StepSummary } from '@aws-sdk/client-emr';
import { Quality, checkedTime, isoTime, noSparkMetrics, platformLevelQuality, redactSecrets, type AppStatus, type Problem, type RecordFindings, type SparkAppRecord } from '../record';
import { completeRecord } from '../record/finish';
import { executorInstances, recordSizing, recordTimes } from '../record/rules';

// EMR's command-runner.jar runs these; `spark-example` is EMR's wrapper for Spark's bundled examples.
const SPARK_COMMANDS = new Set(['spark-submit', 'spark-sql', 'pyspark', 'spark-shell', 'spark-example']);

/** A step runs Spark when one of its arguments is a Spark launcher (command-runner.jar spark-submit …, or a script-runner wrapping it). */
export function isSparkStep(step: StepSummary): boolean {
  const args = step.Config?.Args ?? [];
  return args.some((a) => SPARK_COMMANDS.has(a.trim().split('/').pop() ?? ''));
}

/** The spark-submit-like commands, for messages about steps that run none of them. */
export const SPARK_LAUNCHERS = [...SPARK_COMMANDS];

/**
 * What a step runs, to name steps that are not Spark: the command that command-runner.jar or
 * script-runner.jar runs (`hive-script`, `state-pusher-script`, `s3-dist-cp`, a script's name), or
 * else the step's own JAR.
 */
export function stepCommand(step: StepSummary): string {
  const base = (s: string | undefined): string => s?.trim().split('/').pop() ?? '';
  const jar = base(step.Config?.Jar);
  const first = base(step.Config?.Args?.[0]);
  if (/^(command|script)-runner\.jar$/.test(jar) && first !== '') return first;
  return jar !== '' ? jar : 'unknown';
}


// spark-submit's own flags that set Spark properties (SparkSubmitArguments.scala).
const FLAG_PROPERTIES: Record<string, string> = {
  '--executor-cores': 'spark.executor.cores',
  '--executor-memory': 'spark.executor.memory',
  '--num-executors': 'spark.executor.instances',
  '--driver-memory': 'spark.driver.memory',
  '--driver-cores': 'spark.driver.cores',
  '--master': 'spark.master',
  '--deploy-mode': 'spark.submit.deployMode',
  '--name': 'spark.app.name',
  '--class': 'spark.app.mainClass',
};

/** The Spark properties a spark-submit command line sets (`--conf k=v`, `--executor-memory 4g`, …), secrets redacted. */
export function submitProperties(args: string[]): Record<string, string> {
  const props: Record<string, string> = {};
  const start = args.findIndex((a) => SPARK_COMMANDS.has(a.trim().split('/').pop() ?? ''));
  if (start < 0) return props;
  for (let i = start + 1; i < args.length; i++) {
    const a = args[i]!;
    // The first positional argument is the application itself; what follows is its own arguments.
    if (!a.startsWith('--')) break;
    const eq = a.indexOf('=');
    const flag = eq > 0 ? a.slice(0, eq) : a;
    const inline = eq > 0 ? a.slice(eq + 1) : undefined;
    const value = inline ?? args[i + 1];
    if (inline === undefined) i++;
    if (value === undefined) break;
    if (flag === '--conf' || flag === '-c') {
      const k = value.indexOf('=');
      if (k > 0) props[value.slice(0, k)] = value.slice(k + 1);
    } else if (FLAG_PROPERTIES[flag] !== undefined) {
      props[FLAG_PROPERTIES[flag]] = value;
    } else if (['--verbose', '--supervise', '--help', '--version'].includes(flag)) {
      // Flags without a value: the next argument was not theirs.
      if (inline === undefined) i--;
    }
  }
  return redactSecrets(props);
}

/** EMR step states (StepState) onto the record's status. */
export function stepStatus(state: string | undefined): AppStatus {
  switch (state) {
    case 'COMPLETED':
      return 'completed';
    case 'FAILED':
    case 'CANCELLED':
    case 'INTERRUPTED':
      return 'failed';
    case 'PENDING':
    case 'RUNNING':
    case 'CANCEL_PENDING':
      return 'running';
    default:
      return 'unknown';
  }
}

/** A time from the SDK as the record's ISO string; null when absent or not a time a record holds (isoTime). */
export const iso = (d: Date | undefined): string | null => (d === undefined ? null : isoTime(d.getTime()));


export interface StepContext {
  source: string;
  sparkVersion: string | null;
  /** Cluster facts (id, name, release, instance types, AWS tags, CloudWatch summaries). */
  clusterTags: Record<string, string>;
  /** Where the step lives, for problems: the cluster's ARN or id. */
  where: string;
}

export function stepTags(step: StepSummary): Record<string, string> {
  const tags: Record<string, string> = { step_id: step.Id ?? '', step_name: step.Name ?? '', step_state: step.Status?.State ?? 'UNKNOWN' };
  const failure = step.Status?.FailureDetails;
  if (failure?.Reason) tags.step_failure_reason = failure.Reason;
  if (step.ActionOnFailure) tags.step_action_on_failure = step.ActionOnFailure;
  return tags;
}

/** The app_id of a step's platform-level record, which its Spark applications replace (contract.ts REPLACES_TAG). */
export const stepAppId = (step: Pick<StepSummary, 'Id'>): string => `emr-step-${step.Id ?? 'unknown'}`;

/** One Spark step with no Spark metrics behind it: times, status and sizing only, honestly flagged. */

export function stepRecord(step: StepSummary, c: StepContext, problems: Problem[]): SparkAppRecord {
  const quality = platformLevelQuality().add(Quality.missing('user'));
  const props = submitProperties(step.Config?.Args ?? []);
  const where = `${c.where} step ${step.Id ?? '?'}`;
  const found: RecordFindings = { quality, problems, where, subject: `step ${step.Id ?? '?'}` };

  // Executors come from the step's own spark-submit flags only: EMR sizes them from the instance
  // types (maximizeResourceAllocation, dynamic allocation), which the tags carry but which do not
  // give a number of executors; unknown stays null and flagged rather than guessed.
  const sizing = recordSizing(props, executorInstances(props, false, found), [], 'unknown', found);

  const t = step.Status?.Timeline;
  const time = (field: 'submit_time' | 'start_time' | 'end_time', d: Date | undefined, what: string): number | null => checkedTime(d === undefined ? null : d.getTime(), field, `step ${step.Id ?? '?'} ${what}`, found);
  const submit = time('submit_time', t?.CreationDateTime, 'CreationDateTime');
  const start = time('start_time', t?.StartDateTime, 'StartDateTime');
  const end = time('end_time', t?.EndDateTime, 'EndDateTime');
  const status = stepStatus(step.Status?.State);
  if (status === 'running') quality.add(Quality.inProgress);
  const times = recordTimes({ submit, submitFrom: 'CreationDateTime', start, end }, found);
  if (c.sparkVersion === null) quality.add(Quality.missing('spark_version'));

  const fields: Omit<SparkAppRecord, 'quality'> = {
    app_id: stepAppId(step),
    attempt_id: null,
    app_name: step.Name ?? null,
    user: null,
    ...times,
    spark_version: c.sparkVersion,
    ...sizing,
    ...noSparkMetrics(),
    tags: { origin: 'emr', ...c.clusterTags, ...stepTags(step) },
    environment: props,
    source: c.source,
    status,
  };
  return completeRecord(fields, found);
}
