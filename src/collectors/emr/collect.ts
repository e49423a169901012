/**
 * The AWS EMR collector (issue 7): list clusters (ListClusters, all pages, or the configured ids),
 * then per cluster, a few at a time, DescribeCluster + ListSteps + instance groups/fleets +
 * CloudWatch, and one record per Spark step. Where the Spark applications themselves are reachable
 * (an event-log dir on S3 or disk, a History Server) each is joined to its cluster and step and
 * stored instead of that step's platform-level record.
 *
 * One cluster failing is a problem naming it; the others are stored. Credentials that are missing,
 * expired or refused are one `auth-failed` problem naming the credential source tried, and the run
 * stops. A listing that fails is `list-failed` and ends the listing; the clusters being read still
 * arrive. Abort, paging, concurrency, filters and batches are the runner's (api/runner.ts).
 */
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { EMRClient, ListClustersCommand, type ClusterState, type ClusterSummary } from '@aws-sdk/client-emr';
import { S3Client } from '@aws-sdk/client-s3';
import { listedMark, notStarted, runApiCollector, type ApiCollectorOptions, type ApiRun, type Found, type Page } from '../api/runner';
import { REPLACES_TAG, apiProvenance, gather, type Batch, type CollectContext, type Gathered, type Provenance } from '../contract';
import type { Problem } from '../record';
import { withoutUserInfo } from '../../common/secretText';
import { fetchCluster, type Clients, type ClusterFacts, type FetchedCluster } from './cluster';
import { PageTokenGuard } from '../api/listingGuard';
import { credentialSource, isAuthError, isCredentialError, scrubber, type CredentialSource, type StaticCredentials } from './credentials';
import { sparkApps, type SparkApp, type SparkAppsSource } from './sparkApps';
import { SPARK_LAUNCHERS, stepAppId, stepRecord, stepTags } from './steps';

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
   * CreatedAfter), every active one, and every terminated one that ended at/after it, whenever it was created.
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

/**
 * Joins the Spark applications that no `<ClusterId>/` folder names to clusters and steps as the
 * clusters arrive. A cluster looks only at the applications that started within its steps' windows
 * (the only ones stepFor can give a step), found by start time: each cluster looked through every
 * application left, twice, so an account of 1,000 clusters and 10,000 loose applications made 20
 * million checks of every step.
 */
class Joiner {
  /** The loose applications with a start time, by start time (then as found); `app` is let go once a cluster takes it. */
  private readonly byStart: { app: SparkApp | null; start: number; index: number }[];
  /** The applications without a start time (no step can claim them), with their place among the loose ones. */
  private readonly timeless: { app: SparkApp; index: number }[];
  private claimed = 0;

  constructor(loose: SparkApp[]) {
    this.byStart = [];
    this.timeless = [];
    loose.forEach((app, index) => {
      const start = startOf(app);
      if (Number.isNaN(start)) this.timeless.push({ app, index });
      else this.byStart.push({ app, start, index });
    });
    this.byStart.sort((a, b) => a.start - b.start || a.index - b.index);
  }

  /**
   * The loose applications that ran on one cluster, in the order found: one of its Spark steps
   * contains the application's start, and a YARN id's ResourceManager start (`application_<ms>_<n>`)
   * falls in the cluster's lifetime. Lifetime alone is not enough: with overlapping clusters the
   * first one fetched (which one is, depends on timing) would claim the other's applications.
   */
  take(c: ClusterFacts, steps: FetchedCluster['steps'], nowMs: number): SparkApp[] {
    if (c.startMs === null) return [];
    const end = c.endMs ?? nowMs;
    // The span of the steps' windows (a step without a valid time has none, as stepFor skips it).
    let from = Infinity;
    let to = -Infinity;
    for (const step of steps) {
      const stepFrom = step.Status?.Timeline?.StartDateTime?.getTime();
      const stepTo = step.Status?.Timeline?.EndDateTime?.getTime() ?? nowMs;
      if (stepFrom === undefined || !Number.isFinite(stepFrom) || !Number.isFinite(stepTo)) continue;
      from = Math.min(from, stepFrom);
      to = Math.max(to, stepTo);
    }
    const mine: { app: SparkApp; index: number }[] = [];
    for (let i = firstAtOrAfter(this.byStart, from); i < this.byStart.length && this.byStart[i]!.start <= to; i++) {
      const e = this.byStart[i]!;
      if (e.app === null) continue;
      const rm = YARN_ID.exec(e.app.app.record.app_id);
      if (rm !== null && (Number(rm[1]) < c.startMs || Number(rm[1]) > end)) continue;
      if (stepFor(e.app, steps, nowMs) === undefined) continue;
      mine.push({ app: e.app, index: e.index });
      // Held no longer here: the cluster stores it, and it can be freed once stored.
      e.app = null;
      this.claimed++;
    }
    return mine.sort((a, b) => a.index - b.index).map((e) => e.app);
  }

  /** Whether a cluster fetched later may still claim some application (one with a start time not yet claimed). */
  get left(): boolean {
    return this.claimed < this.byStart.length;
  }

  /** Applications no listed cluster claimed, in the order found. */
  rest(): SparkApp[] {
    const left: { app: SparkApp; index: number }[] = [...this.timeless];
    for (const e of this.byStart) if (e.app !== null) left.push({ app: e.app, index: e.index });
    return left.sort((a, b) => a.index - b.index).map((e) => e.app);
  }
}

/** The first entry of `sorted` (by start) that starts at or after `at`. */
function firstAtOrAfter(sorted: readonly { start: number }[], at: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]!.start < at) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/** The AWS clients of one collection; S3 only when logs are read from it. */
function awsClients(options: EmrOptions, cred: CredentialSource): Clients & { s3: () => S3Client; destroy: () => void } {
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
  const emr = new EMRClient({ ...common, ...endpointOf(options.endpointUrl) });
  const cloudwatch = options.cloudwatch !== false ? new CloudWatchClient({ ...common, ...endpointOf(cloudwatchEndpoint) }) : undefined;
  let s3: S3Client | undefined;
  return {
    emr,
    cloudwatch,
    // Emulators, proxies and tests have no virtual-host buckets: path-style whenever S3's endpoint is overridden.
    s3: () => (s3 ??= new S3Client({ ...common, ...endpointOf(s3Endpoint), forcePathStyle: s3Endpoint !== undefined })),
    destroy: () => {
      emr.destroy();
      cloudwatch?.destroy();
      s3?.destroy();
    },
  };
}

/**
 * The clusters to read: the configured ids, or ListClusters (all pages); with `since`, also the
 * active ones created before it, and the terminated ones created before it that ended at or after
 * it (ListClusters cannot filter by end time: their summaries are listed and judged by
 * Status.Timeline.EndDateTime before any DescribeCluster).
 */
async function* clusterPages(emr: EMRClient, options: EmrOptions, signal: AbortSignal): AsyncGenerator<Page<ListedCluster>> {
  if (options.clusterIds !== undefined) {
    yield { items: options.clusterIds.map((id) => ({ id })) };
    return;
  }
  const seen = new Set<string>();
  async function* listClusters(input: { ClusterStates?: ClusterState[]; CreatedAfter?: Date }, keep: (c: ClusterSummary) => boolean = () => true): AsyncGenerator<Page<ListedCluster>> {
    const markers = new PageTokenGuard('Marker');
    let marker: string | undefined;
    do {
      const out = await emr.send(new ListClustersCommand({ ...input, Marker: marker }), { abortSignal: signal });
      const page: ListedCluster[] = [];
      for (const c of out.Clusters ?? []) {
        if (c.Id === undefined || seen.has(c.Id) || !keep(c)) continue;
        seen.add(c.Id);
        page.push({ id: c.Id, summary: c });
      }
      yield { items: page };
      marker = markers.next(out.Marker);
    } while (marker !== undefined);
  }
  const { since, clusterStates } = options;
  yield* listClusters({ ClusterStates: clusterStates, CreatedAfter: since });
  if (since === undefined) return;
  const allowed = (states: ClusterState[]): ClusterState[] => states.filter((st) => clusterStates === undefined || clusterStates.includes(st));
  // A long-lived cluster created before `since` still runs new steps: list the active ones too.
  const active = allowed(ACTIVE_STATES);
  if (active.length > 0) yield* listClusters({ ClusterStates: active });
  // And one that terminated since: the steps it ran after `since` (and the ones stored running by
  // an earlier run, which would otherwise stay running) are in it (a review).
  const ended = allowed(['TERMINATED', 'TERMINATED_WITH_ERRORS']);
  const endedSince = (c: ClusterSummary): boolean => (c.Status?.Timeline?.EndDateTime?.getTime() ?? -Infinity) >= since.getTime();
  if (ended.length > 0) yield* listClusters({ ClusterStates: ended }, endedSince);
}

/** A cluster to read: its id, and its ListClusters summary when it was listed (not for configured ids). */
interface ListedCluster {
  id: string;
  summary?: ClusterSummary;
}

const ENDED: readonly string[] = ['TERMINATED', 'TERMINATED_WITH_ERRORS'];

/**
 * What the store keeps of a terminated cluster (runner.ts listedMark): its ARN, end time and state as
 * listed, and whether CloudWatch was read (a run with it reads a cluster a run without it stored).
 * Null while it runs, and for a configured id (no listing says).
 */
function clusterMark({ id, summary }: ListedCluster, cloudwatch: boolean): Provenance | null {
  const state = summary?.Status?.State;
  const end = summary?.Status?.Timeline?.EndDateTime?.getTime();
  if (state === undefined || !ENDED.includes(state) || end === undefined || !Number.isFinite(end)) return null;
  return listedMark(summary?.ClusterArn ?? id, end, `${state}${cloudwatch ? ' cloudwatch' : ''}`);
}

const describeError = (err: unknown): string => (err instanceof Error ? `${err.name}: ${err.message}` : String(err));

/**
 * Turns the clusters of one collection into records as they arrive: the Spark applications read
 * from the event-log dir or History Server, each joined to its cluster and step, and the
 * platform-level records of the Spark steps no application covers.
 */
class ClusterRecords {
  private joiner = new Joiner([]);
  private perCluster: SparkAppsSource['forCluster'] | undefined;
  // Steps that are not Spark are neither records nor "skipped" (what since/user leave out): they are
  // told once, at the end, by what they run.
  private readonly notSpark = { clusters: 0, commands: new Map<string, number>() };

  constructor(
    private readonly options: EmrOptions & { source: string },
    private readonly run: ApiRun,
    private readonly nowMs: number,
    /** Where the run's problems point when no cluster or folder is theirs. */
    private readonly where: string,
    private readonly refusedAt: (err: unknown, where: string | undefined) => Problem,
  ) {}

  /** The Spark applications outside any `<ClusterId>/` folder (and the History Server's), read before the clusters. */
  async readSparkApps(s3: () => S3Client, ctx: CollectContext): Promise<void> {
    const o = this.options;
    try {
      const found = await sparkApps(
        { source: o.source, eventLogDir: o.eventLogDir, historyServerUrl: o.historyServerUrl, since: o.since, user: o.user, concurrency: Math.max(1, o.concurrency ?? 4), timeoutMs: o.timeoutMs },
        s3,
        ctx,
        this.run.signal,
        (n) => {
          this.run.progress.bytesRead += n;
        },
      );
      this.joiner = new Joiner(found.apps);
      this.perCluster = found.forCluster;
      this.run.filtered(found.filtered);
      this.run.problem(...found.problems);
      this.run.progress.logsFound += found.apps.length;
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      if (isAuthError(err)) {
        this.run.stop(this.refusedAt(err, o.eventLogDir));
        return;
      }
      // Without the Spark side the steps are still worth storing, platform-level.
      this.run.problem({ severity: 'error', code: 'spark-logs-failed', message: `reading Spark applications from ${o.eventLogDir ?? o.historyServerUrl ?? ''} failed: ${describeError(err)}; steps are stored platform-level`, file: o.eventLogDir ?? o.historyServerUrl });
    }
  }

  /**
   * A sharded run (`--shard K/N`) splits by cluster id; the loose applications each cluster claims
   * go with it, so while any are left every cluster is fetched (without CloudWatch) to claim its own.
   */
  get looseLeft(): boolean {
    return this.joiner.left;
  }

  /**
   * One cluster's records: Spark applications first, so the steps they ran are not stored
   * platform-level. The cluster's own folder is read now, one cluster at a time, and its
   * applications let go once stored (memory). Another shard's cluster (`ours` false) only takes
   * back the loose applications that ran on it: that shard stores them, and it.
   */
  async *found({ facts, steps, problems, otherSteps }: FetchedCluster, ours = true): AsyncGenerator<Found> {
    if (!ours) {
      this.joiner.take(facts, steps, this.nowMs);
      return;
    }
    this.run.problem(...problems);
    if (otherSteps.length > 0) this.notSpark.clusters++;
    for (const command of otherSteps) this.notSpark.commands.set(command, (this.notSpark.commands.get(command) ?? 0) + 1);
    this.run.progress.logsFound += steps.length;
    let mine = this.joiner.take(facts, steps, this.nowMs);
    if (this.perCluster !== undefined) {
      try {
        const own = await this.perCluster(facts.id);
        this.run.filtered(own.filtered);
        this.run.problem(...own.problems);
        this.run.progress.logsFound += own.apps.length;
        mine = [...own.apps, ...mine];
      } catch (err) {
        if (this.run.signal.aborted) throw err;
        if (isAuthError(err)) {
          this.run.stop(this.refusedAt(err, this.options.eventLogDir));
          return;
        }
        this.run.problem({ severity: 'error', code: 'spark-logs-failed', message: `reading the Spark applications of cluster ${facts.id} from ${this.options.eventLogDir ?? ''} failed: ${describeError(err)}; its steps are stored platform-level`, file: facts.where });
      }
    }
    const covered = new Set<string>();
    for (const a of mine) {
      const step = stepFor(a, steps, this.nowMs);
      if (step?.Id !== undefined) covered.add(step.Id);
      // The engine validated the record already; the merged tags cannot make it invalid.
      // It replaces its step's platform-level record, stored while its log was not there (or later, once it is gone).
      const replaces: Record<string, string> = step?.Id !== undefined ? { [REPLACES_TAG]: stepAppId(step) } : {};
      const record = { ...a.app.record, source: this.options.source, tags: { ...a.app.record.tags, ...facts.tags, ...(step !== undefined ? stepTags(step) : {}), ...replaces } };
      this.run.progress.logsDone++;
      yield { apps: [{ ...a.app, record }] };
    }
    for (const step of steps) {
      if (this.run.stopped) break;
      this.run.progress.logsDone++;
      if (step.Id !== undefined && covered.has(step.Id)) continue;
      const stepProblems: Problem[] = [];
      const record = stepRecord(step, { source: this.options.source, sparkVersion: facts.sparkVersion, clusterTags: facts.tags, where: facts.where }, stepProblems);
      // Without the tags of what failed (emr-partial: CloudWatch, instance groups), read again next run.
      yield { apps: [{ record, problems: stepProblems, files: [], provenance: apiProvenance(`${facts.where}/steps/${step.Id ?? ''}`) }], ...(problems.length > 0 ? { incomplete: true as const } : {}) };
    }
  }

  /** The applications no listed cluster claimed, then what the steps that are not Spark run. */
  *finish(): Generator<Found> {
    // Logs under another cluster's folder belong to a cluster this run did not list (states, ids,
    // since): they were never read.
    for (const a of this.run.stopped ? [] : this.joiner.rest()) {
      this.run.progress.logsDone++;
      const problem: Problem = { severity: 'info', code: 'emr-unjoined', message: `${a.app.record.app_id}: no listed EMR cluster ran at its start time; stored without cluster tags`, file: a.app.provenance.path };
      // No cluster stands for it: a sharded run splits it by its own id.
      yield { apps: [{ ...a.app, problems: [...a.app.problems, problem] }], shardKey: a.app.record.app_id };
    }
    const { clusters, commands } = this.notSpark;
    const others = [...commands.values()].reduce((a, b) => a + b, 0);
    if (others === 0) return;
    const kinds = [...commands].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const named = kinds.slice(0, 5).map(([c, n]) => `${c} ${n}`).join(', ') + (kinds.length > 5 ? `, ${kinds.length - 5} other commands` : '');
    this.run.problem({
      severity: 'info',
      code: 'emr-not-spark-steps',
      message: `not Spark steps: ${others} on ${clusters} cluster${clusters === 1 ? '' : 's'} (${named}); they run none of ${SPARK_LAUNCHERS.join(', ')}: no Spark application to store`,
      file: this.where,
    });
  }
}

export async function* collectEmr(options: EmrOptions, ctx: CollectContext = {}): AsyncGenerator<Batch> {
  const source = options.source ?? 'emr';
  const nowMs = Date.now();
  const cred = credentialSource(options);
  // Problems name the endpoint without its user information (an `endpoint_url` may carry `user:password@`).
  const where = options.endpointUrl !== undefined ? withoutUserInfo(options.endpointUrl) : `emr${options.region !== undefined ? ` (${options.region})` : ''}`;
  const refusedAt = (err: unknown, at: string | undefined): Problem => ({
    severity: 'error',
    code: 'auth-failed',
    message: `AWS refused or could not find credentials (tried ${cred.describe}): ${describeError(err)}; stopping the run`,
    file: at ?? where,
  });
  // The SDK warns on every Node 20 run that *future* SDK releases will need Node 22. The version we
  // pin supports Node 20 (our target), so the warning only alarms users of the CLI; an explicit
  // setting of the variable is left as it is.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let scrub: (text: string) => string;
  try {
    // Ask for the credentials once, up front: "none found" is then one clear problem, not one per call.
    scrub = scrubber(await cred.provider());
  } catch (err) {
    ctx.signal?.throwIfAborted();
    yield* notStarted([refusedAt(err, where)], ctx);
    return;
  }
  const clients = awsClients(options, cred);
  // Only the steps' own records are held (a terminated cluster the store holds as listed is not read
  // again): with an event-log dir or a History Server, logs may arrive later and the loose ones are
  // joined to whichever cluster ran them, so every cluster is read.
  const holds = options.eventLogDir === undefined && options.historyServerUrl === undefined;
  yield* runApiCollector<ListedCluster, FetchedCluster>(options, ctx, (run) => {
    const records = new ClusterRecords({ ...options, source }, run, nowMs, where, refusedAt);
    return {
      maxApps: 'records',
      // A cluster is many steps: progress counts those, and the Spark applications.
      progress: 'collector',
      // A cluster's steps and applications go with it, by its id; so do the loose applications it claims.
      shard: { unit: 'cluster', key: (c) => c.id, fetchOthers: () => records.looseLeft },
      scrub,
      prepare: options.eventLogDir !== undefined || options.historyServerUrl !== undefined ? () => records.readSparkApps(clients.s3, ctx) : undefined,
      list: () => clusterPages(clients.emr, options, run.signal),
      held: (c) => (holds ? clusterMark(c, options.cloudwatch !== false) : null),
      fetch: (c, mine) => fetchCluster(mine ? clients : { emr: clients.emr }, c.id, run.signal, nowMs, (e) => ctx.signal?.aborted === true || isCredentialError(e)),
      found: (cluster, _id, mine) => records.found(cluster, mine),
      finish: () => records.finish(),
      refused: (err) => (isAuthError(err) ? refusedAt(err, where) : undefined),
      listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: `listing EMR clusters failed: ${describeError(err)}`, file: where }),
      // Where: the cluster's ARN, as its other problems say it (cluster.ts), not its bare id, which reads as a file.
      failed: ({ id, summary }, err) => ({ severity: 'error', code: 'cluster-failed', message: `cluster ${id}: ${describeError(err)}; its steps are not stored`, file: summary?.ClusterArn ?? id }),
      close: () => clients.destroy(),
    };
  });
}

/** Everything one EMR collection found; for tests and small runs. */
export function collectEmrAll(options: EmrOptions, ctx: CollectContext = {}): Promise<Gathered> {
  return gather(collectEmr(options, ctx));
}
