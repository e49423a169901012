/**
 * The AWS EMR collector (issue 7): list clusters (ListClusters, all pages, or the configured ids),
 * then per cluster, a few at a time, DescribeCluster + ListSteps + instance groups/fleets +
 * CloudWatch, and one record per Spark step. Where the Spark applications themselves are reachable
 * (an event-log dir on S3 or disk, a History Server) each is joined to its cluster and step and
 * stored instead of that step's platform-level record.
 *
 * One cluster failing is a problem naming it; the others are stored. Credentials that are missing,
 * expired or refused are one `auth-failed` problem naming the credential source tried, and the run
 * stops. A listing that fails is `list-failed`, and the run stops.
 */
import { setMaxListeners } from 'node:events';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EMRClient, ListClustersCommand, type ClusterState } from '@aws-sdk/client-emr';
import { S3Client } from '@aws-sdk/client-s3';
import { Batcher, pooled, type ApiCollectorOptions } from '../batching';
import { apiProvenance, gather, type Batch, type CollectContext, type CollectedApp, type Gathered } from '../contract';
import { matchesFilter, type Problem } from '../record';
import { fetchCluster, type ClusterFacts, type FetchedCluster } from './cluster';
import { credentialSource, isAuthError, isCredentialError, scrubber, type StaticCredentials } from './credentials';
import { sparkApps, type SparkApp, type SparkAppsSource } from './sparkApps';
import { SPARK_LAUNCHERS, stepRecord, stepTags } from './steps';

export interface EmrOptions extends ApiCollectorOptions {
  /** AWS region; otherwise AWS_REGION or the profile's region, as the AWS CLI does. */
  region?: string;
  /** A named profile of the shared config/credentials files (SSO included). */
  profile?: string;
  /** Explicit keys (CI, tests); otherwise the SDK's default credential chain. */
  credentials?: StaticCredentials;
  /**
   * Endpoint override for EMR, and the default for CloudWatch and S3 too (one emulator URL, tests).
   * Real VPC interface endpoints are per service: set the two below for those.
   */
  endpointUrl?: string;
  /** CloudWatch endpoint override (its own VPC endpoint or proxy); default `endpointUrl`. */
  cloudwatchEndpointUrl?: string;
  /** S3 endpoint override (its own VPC endpoint or proxy); default `endpointUrl`. */
  s3EndpointUrl?: string;
  /** Only these clusters (no ListClusters). */
  clusterIds?: string[];
  /** ListClusters' ClusterStates (default: all states). */
  clusterStates?: ClusterState[];
  /**
   * Records that ended at/after this time. Clusters listed: those created at/after it (ListClusters
   * CreatedAfter) and every active one, whenever it was created.
   */
  since?: Date;
  /** SDK attempts per call, the first included (default 4); throttling is retried with backoff. */
  maxAttempts?: number;
  /** Summaries of the cluster's CloudWatch metrics as tags (default true). */
  cloudwatch?: boolean;
  /** Spark event logs: `s3://bucket/prefix` or a local folder, optionally with `<ClusterId>/` sub-folders. */
  eventLogDir?: string;
  /** A Spark History Server that holds the clusters' applications. */
  historyServerUrl?: string;
}

interface Listed {
  id: string;
}

/** Joins the Spark applications that no `<ClusterId>/` folder names to clusters and steps as the clusters arrive. */
class Joiner {
  constructor(private loose: SparkApp[]) {}

  /**
   * The loose applications that ran on one cluster: one of its Spark steps contains the
   * application's start, and a YARN id's ResourceManager start (`application_<ms>_<n>`) falls in
   * the cluster's lifetime. Lifetime alone is not enough: with overlapping clusters the first one
   * fetched (which one is, depends on timing) would claim the other's applications.
   */
  take(c: ClusterFacts, steps: FetchedCluster['steps'], nowMs: number): SparkApp[] {
    if (c.startMs === null) return [];
    const end = c.endMs ?? nowMs;
    const ours = (a: SparkApp): boolean => {
      const rm = YARN_ID.exec(a.app.record.app_id);
      if (rm !== null && (Number(rm[1]) < c.startMs! || Number(rm[1]) > end)) return false;
      return stepFor(a, steps, nowMs) !== undefined;
    };
    const mine = this.loose.filter(ours);
    this.loose = this.loose.filter((a) => !ours(a));
    return mine;
  }

  /** Applications no listed cluster claimed. */
  rest(): SparkApp[] {
    return this.loose;
  }
}

const ACTIVE_STATES: ClusterState[] = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING'];

const YARN_ID = /^application_(\d+)_\d+$/;

const startOf = (a: SparkApp): number => (a.app.record.start_time === null ? NaN : Date.parse(a.app.record.start_time));

/** The step whose time window contains the application's start: the latest-starting one, if several ran at once. */
function stepFor(app: SparkApp, steps: FetchedCluster['steps'], nowMs: number): FetchedCluster['steps'][number] | undefined {
  const s = startOf(app);
  if (Number.isNaN(s)) return undefined;
  let best: FetchedCluster['steps'][number] | undefined;
  for (const step of steps) {
    const from = step.Status?.Timeline?.StartDateTime?.getTime();
    if (from === undefined) continue;
    const to = step.Status?.Timeline?.EndDateTime?.getTime() ?? nowMs;
    if (s >= from && s <= to && (best === undefined || from > best.Status!.Timeline!.StartDateTime!.getTime())) best = step;
  }
  return best;
}

export async function* collectEmr(options: EmrOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'emr';
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const maxApps = options.maxApps ?? Infinity;
  const batcher = new Batcher(options.batchSize ?? 100);
  const progress = batcher.progress;
  const report = (): void => ctx.onProgress?.({ ...progress });
  const nowMs = Date.now();
  const cred = credentialSource(options);
  let scrub = (t: string): string => t;
  const problem = (p: Problem): void => {
    batcher.problem({ ...p, message: scrub(p.message) });
  };
  const describeError = (err: unknown): string => scrub(err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  const authProblem = (err: unknown, where: string): Problem => ({
    severity: 'error',
    code: 'auth-failed',
    message: `AWS refused or could not find credentials (tried ${cred.describe}): ${describeError(err)}; stopping the run`,
    file: where,
  });

  // A private controller: an auth failure cancels the requests still in flight.
  const controller = new AbortController();
  // Each cluster's requests listen on this signal (several per cluster, one at a time).
  setMaxListeners(concurrency * 4 + 10, controller.signal);
  const onAbort = (): void => controller.abort(ctx.signal?.reason);
  if (ctx.signal?.aborted) onAbort();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = controller.signal;
  const aborted = (): boolean => ctx.signal?.aborted === true;
  // A cancelled run rejects with the caller's reason, not with whichever request noticed it first.
  const cancelled = (err: unknown): unknown => (ctx.signal?.aborted === true && ctx.signal.reason !== undefined ? ctx.signal.reason : err);

  // EMR's endpoint is also the other services' default (an emulator serves all three on one URL).
  const endpointOf = (url: string | undefined): { endpoint?: string } => (url !== undefined ? { endpoint: url } : {});
  const cloudwatchEndpoint = options.cloudwatchEndpointUrl ?? options.endpointUrl;
  const s3Endpoint = options.s3EndpointUrl ?? options.endpointUrl;
  const common = {
    ...(options.region !== undefined ? { region: options.region } : {}),
    // The clients read the profile's region (and other settings) from the shared config too.
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
    credentials: cred.provider,
    // Bounded: a dead endpoint fails the call instead of hanging the run (SDK default is no timeout).
    maxAttempts: Math.max(1, options.maxAttempts ?? 4),
    requestHandler: { requestTimeout: options.timeoutMs ?? 30_000, connectionTimeout: Math.min(options.timeoutMs ?? 30_000, 10_000) },
  };
  // The SDK warns on every Node 20 run that *future* SDK releases will need Node 22. The version we
  // pin supports Node 20 (our target), so the warning only alarms users of the CLI; an explicit
  // setting of the variable is left as it is.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const emr = new EMRClient({ ...common, ...endpointOf(options.endpointUrl) });
  const cloudwatch = options.cloudwatch !== false ? new CloudWatchClient({ ...common, ...endpointOf(cloudwatchEndpoint) }) : undefined;
  let s3: S3Client | undefined;
  // Emulators, proxies and tests have no virtual-host buckets: path-style whenever S3's endpoint is overridden.
  const getS3 = (): S3Client => (s3 ??= new S3Client({ ...common, ...endpointOf(s3Endpoint), forcePathStyle: s3Endpoint !== undefined }));
  const where = options.endpointUrl ?? `emr${options.region !== undefined ? ` (${options.region})` : ''}`;
  let emitted = 0;
  let stopped = false;
  // Steps that are not Spark are neither records nor "skipped" (what since/user leave out): they are
  // told once, at the end, by what they run.
  const notSpark = { clusters: 0, commands: new Map<string, number>() };

  const emit = (app: CollectedApp): void => {
    if (emitted >= maxApps) {
      stopped = true;
      return;
    }
    const problems = app.problems.map((p) => ({ ...p, message: scrub(p.message) }));
    if (!matchesFilter(app.record, options)) {
      batcher.filtered();
      return;
    }
    batcher.app({ ...app, problems });
    emitted++;
    if (emitted >= maxApps) stopped = true;
  };

  try {
    try {
      // Ask for the credentials once, up front: "none found" is then one clear problem, not one per call.
      scrub = scrubber(await cred.provider());
    } catch (err) {
      if (aborted()) throw cancelled(err);
      problem(authProblem(err, where));
      yield batcher.take();
      return;
    }

    let joiner = new Joiner([]);
    let perCluster: SparkAppsSource['forCluster'] | undefined;
    if (options.eventLogDir !== undefined || options.historyServerUrl !== undefined) {
      try {
        const found = await sparkApps(
          { source, eventLogDir: options.eventLogDir, historyServerUrl: options.historyServerUrl, since: options.since, user: options.user, concurrency, timeoutMs: options.timeoutMs },
          getS3,
          ctx,
          signal,
          (n) => {
            progress.bytesRead += n;
          },
        );
        joiner = new Joiner(found.apps);
        perCluster = found.forCluster;
        batcher.filtered(found.filtered);
        for (const p of found.problems) problem(p);
        progress.logsFound += found.apps.length;
      } catch (err) {
        if (aborted()) throw cancelled(err);
        if (isAuthError(err)) {
          problem(authProblem(err, options.eventLogDir ?? where));
          yield batcher.take();
          return;
        }
        // Without the Spark side the steps are still worth storing, platform-level.
        problem({ severity: 'error', code: 'spark-logs-failed', message: `reading Spark applications from ${options.eventLogDir ?? options.historyServerUrl ?? ''} failed: ${describeError(err)}; steps are stored platform-level`, file: options.eventLogDir ?? options.historyServerUrl });
      }
      report();
    }

    async function* listClusters(input: { ClusterStates?: ClusterState[]; CreatedAfter?: Date }, seen: Set<string>): AsyncGenerator<Listed[]> {
      let marker: string | undefined;
      do {
        const out = await emr.send(new ListClustersCommand({ ...input, Marker: marker }), { abortSignal: signal });
        const page: Listed[] = [];
        for (const c of out.Clusters ?? []) {
          if (c.Id === undefined || seen.has(c.Id)) continue;
          seen.add(c.Id);
          page.push({ id: c.Id });
        }
        yield page;
        marker = out.Marker;
      } while (marker !== undefined && marker !== '' && !stopped);
    }

    async function* clusterPages(): AsyncGenerator<Listed[]> {
      if (options.clusterIds !== undefined) {
        yield options.clusterIds.map((id) => ({ id }));
        return;
      }
      const seen = new Set<string>();
      yield* listClusters({ ClusterStates: options.clusterStates, CreatedAfter: options.since }, seen);
      if (options.since === undefined || stopped) return;
      // A long-lived cluster created before `since` still runs new steps: list the active ones too.
      const active = ACTIVE_STATES.filter((st) => options.clusterStates === undefined || options.clusterStates.includes(st));
      if (active.length > 0) yield* listClusters({ ClusterStates: active }, seen);
    }

    const results = pooled(clusterPages(), (c: Listed) => fetchCluster({ emr, cloudwatch }, c.id, signal, nowMs, (e) => aborted() || isCredentialError(e)), concurrency, () => stopped);
    for (;;) {
      let next: Awaited<ReturnType<typeof results.next>>;
      try {
        next = await results.next();
      } catch (err) {
        if (aborted()) throw cancelled(err);
        if (!stopped) problem(isAuthError(err) ? authProblem(err, where) : { severity: 'error', code: 'list-failed', message: `listing EMR clusters failed: ${describeError(err)}`, file: where });
        stopped = true;
        break;
      }
      if (next.done) break;
      const done = next.value;
      if ('error' in done) {
        if (aborted()) throw cancelled(done.error);
        if (isAuthError(done.error)) {
          if (!stopped) {
            problem(authProblem(done.error, where));
            stopped = true;
            controller.abort(done.error);
          }
        } else if (!stopped) {
          problem({ severity: 'error', code: 'cluster-failed', message: `cluster ${done.item.id}: ${describeError(done.error)}; its steps are not stored`, file: done.item.id });
        }
        report();
        if (batcher.full) yield batcher.take();
        continue;
      }
      if (stopped) continue;
      const { facts, steps, problems, otherSteps } = done.result;
      for (const p of problems) problem(p);
      if (otherSteps.length > 0) notSpark.clusters++;
      for (const command of otherSteps) notSpark.commands.set(command, (notSpark.commands.get(command) ?? 0) + 1);
      progress.logsFound += steps.length;
      if (batcher.full) yield batcher.take();

      // Spark applications first: the steps they ran are then not stored platform-level. The
      // cluster's own folder is read now and its applications dropped once stored (memory).
      let mine = joiner.take(facts, steps, nowMs);
      if (perCluster !== undefined) {
        try {
          const own = await perCluster(facts.id);
          batcher.filtered(own.filtered);
          for (const p of own.problems) problem(p);
          progress.logsFound += own.apps.length;
          mine = [...own.apps, ...mine];
        } catch (err) {
          if (aborted()) throw cancelled(err);
          if (isAuthError(err)) {
            problem(authProblem(err, options.eventLogDir ?? where));
            stopped = true;
            controller.abort(err);
            continue;
          }
          problem({ severity: 'error', code: 'spark-logs-failed', message: `reading the Spark applications of cluster ${facts.id} from ${options.eventLogDir ?? ''} failed: ${describeError(err)}; its steps are stored platform-level`, file: facts.where });
        }
      }
      const covered = new Set<string>();
      for (const a of mine) {
        const step = stepFor(a, steps, nowMs);
        if (step?.Id !== undefined) covered.add(step.Id);
        const record = { ...a.app.record, source, tags: { ...a.app.record.tags, ...facts.tags, ...(step !== undefined ? stepTags(step) : {}) } };
        // The engine validated the record already; the merged tags cannot make it invalid.
        emit({ ...a.app, record });
        progress.logsDone++;
        if (batcher.full) yield batcher.take();
      }
      mine = [];
      for (const step of steps) {
        if (stopped) break;
        progress.logsDone++;
        if (step.Id !== undefined && covered.has(step.Id)) continue;
        const stepProblems: Problem[] = [];
        const record = stepRecord(step, { source, sparkVersion: facts.sparkVersion, clusterTags: facts.tags, where: facts.where }, stepProblems);
        emit({ record, problems: stepProblems, files: [], provenance: apiProvenance(`${facts.where}/steps/${step.Id ?? ''}`) });
        report();
        if (batcher.full) yield batcher.take();
      }
      report();
      if (batcher.full) yield batcher.take();
    }
    ctx.signal?.throwIfAborted();

    if (!stopped) {
      // Logs under another cluster's folder belong to a cluster this run did not list (states, ids,
      // since): they were never read.
      for (const a of joiner.rest()) {
        emit({
          ...a.app,
          problems: [...a.app.problems, { severity: 'info', code: 'emr-unjoined', message: `${a.app.record.app_id}: no listed EMR cluster ran at its start time; stored without cluster tags`, file: a.app.provenance.path }],
        });
        progress.logsDone++;
        if (batcher.full) yield batcher.take();
      }
    }
    const others = [...notSpark.commands.values()].reduce((a, b) => a + b, 0);
    if (others > 0) {
      const kinds = [...notSpark.commands].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
      const named = kinds.slice(0, 5).map(([c, n]) => `${c} ${n}`).join(', ') + (kinds.length > 5 ? `, ${kinds.length - 5} other commands` : '');
      problem({
        severity: 'info',
        code: 'emr-not-spark-steps',
        message: `not Spark steps: ${others} on ${notSpark.clusters} cluster${notSpark.clusters === 1 ? '' : 's'} (${named}); they run none of ${SPARK_LAUNCHERS.join(', ')}: no Spark application to store`,
        file: where,
      });
    }
    report();
    if (!batcher.empty) yield batcher.take();
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    emr.destroy();
    cloudwatch?.destroy();
    s3?.destroy();
  }
}

/** Everything one EMR collection found; for tests and small runs. */
export function collectEmrAll(options: EmrOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectEmr(options, ctx));
}
