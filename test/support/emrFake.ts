/**
 * A local stand-in for AWS EMR, CloudWatch and S3 on one node:http server, speaking the wire
 * protocols the SDK v3 clients use: EMR awsJson1_1 (POST /, X-Amz-Target ElasticMapReduce.*),
 * CloudWatch awsJson1_0 with query compatibility (X-Amz-Target GraniteServiceVersion20100801.*),
 * S3 REST-XML path-style (GET /bucket?list-type=2, GET /bucket/key). Timestamps in JSON are epoch
 * seconds; errors are `{"__type": …, "message": …}` with a 4xx/5xx status, as AWS sends them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';

export interface FakeStep {
  Id: string;
  Name: string;
  Config: { Jar: string; Args: string[] };
  ActionOnFailure?: string;
  Status: { State: string; Timeline: { CreationDateTime: Date; StartDateTime?: Date; EndDateTime?: Date }; FailureDetails?: { Reason?: string } };
}

export interface FakeGroup {
  InstanceGroupType: 'MASTER' | 'CORE' | 'TASK';
  InstanceType: string;
  RequestedInstanceCount: number;
  RunningInstanceCount: number;
}

export interface FakeFleet {
  InstanceFleetType: 'MASTER' | 'CORE' | 'TASK';
  InstanceTypeSpecifications: { InstanceType: string; WeightedCapacity?: number }[];
  ProvisionedOnDemandCapacity: number;
  ProvisionedSpotCapacity: number;
  TargetOnDemandCapacity: number;
  TargetSpotCapacity: number;
}

export interface FakeCluster {
  Id: string;
  Name: string;
  State: string;
  Created: Date;
  Ready?: Date;
  Ended?: Date;
  ReleaseLabel: string;
  Applications: { Name: string; Version: string }[];
  Tags: { Key: string; Value: string }[];
  groups?: FakeGroup[];
  fleets?: FakeFleet[];
  steps: FakeStep[];
  /** CloudWatch datapoints per metric name (one value per period). */
  metrics?: Record<string, number[]>;
}

export interface Fault {
  /** e.g. `ElasticMapReduce.DescribeCluster`, `GraniteServiceVersion20100801.GetMetricData`, `s3` */
  target: string;
  /** Only requests for this cluster (ClusterId in the body). */
  clusterId?: string;
  status: number;
  type: string;
  message: string;
  /** How many requests it answers (default: all). */
  times?: number;
}

export interface LoggedRequest {
  target: string;
  body: Record<string, unknown>;
  authorization: string;
  url: string;
}

export class EmrFake extends EventEmitter {
  clusters: FakeCluster[] = [];
  clusterPageSize = 50;
  stepPageSize = 50;
  s3PageSize = 1000;
  metricsPageSize = 100;
  /** A server that ignores NextToken: every GetMetricData page is the first, and names this token as the next. */
  metricsStuckToken: string | undefined;
  /** bucket -> key -> object */
  objects = new Map<string, Map<string, { body: Buffer; lastModified: Date }>>();
  faults: Fault[] = [];
  /** Targets whose requests are never answered (abort tests); each arrival emits `held`. */
  held = new Set<string>();
  requests: LoggedRequest[] = [];
  /** Called before a request is answered; the answer waits for what it returns (ordering tests). */
  gate: ((r: LoggedRequest) => Promise<void> | undefined) | undefined;
  /** Requests whose connection closed before an answer (aborted by the client). */
  closedEarly = 0;
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();

  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const r of this.open) r.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  putObject(bucket: string, key: string, body: string | Buffer, lastModified = new Date()): void {
    const b = this.objects.get(bucket) ?? new Map<string, { body: Buffer; lastModified: Date }>();
    b.set(key, { body: Buffer.isBuffer(body) ? body : Buffer.from(body), lastModified });
    this.objects.set(bucket, b);
  }

  calls(target: string): LoggedRequest[] {
    return this.requests.filter((r) => r.target === target);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const target = String(req.headers['x-amz-target'] ?? (req.method === 'GET' ? 's3' : ''));
    let body: Record<string, unknown> = {};
    if (target !== 's3' && text !== '') body = JSON.parse(text) as Record<string, unknown>;
    const logged: LoggedRequest = { target, body, authorization: String(req.headers.authorization ?? ''), url: req.url ?? '' };
    this.requests.push(logged);
    await this.gate?.(logged);

    if (!String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) return this.error(res, target, 400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const fault = this.faults.find((f) => f.target === target && (f.clusterId === undefined || f.clusterId === body.ClusterId) && (f.times === undefined || f.times > 0));
    if (fault) {
      if (fault.times !== undefined) fault.times--;
      return this.error(res, target, fault.status, fault.type, fault.message);
    }
    if (this.held.has(target)) {
      this.open.add(res);
      res.on('close', () => {
        this.open.delete(res);
        if (!res.writableEnded) this.closedEarly++;
      });
      this.emit('held', target);
      return;
    }
    if (target === 's3') return this.s3(req, res);
    const [service, op] = target.split('.');
    if (service === 'ElasticMapReduce') return this.emr(res, op ?? '', body);
    if (service === 'GraniteServiceVersion20100801' && op === 'GetMetricData') return this.metricData(res, body);
    return this.error(res, target, 400, 'UnknownOperationException', `unknown operation ${target}`);
  }

  private json(res: ServerResponse, contentType: string, value: unknown): void {
    // awsJson timestamps are epoch seconds.
    const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'string' && /^\d{4}-\d\d-\d\dT.*Z$/.test(v) ? Date.parse(v) / 1000 : v));
    res.writeHead(200, { 'content-type': contentType, 'x-amzn-requestid': 'fake-request' });
    res.end(text);
  }

  private error(res: ServerResponse, target: string, status: number, type: string, message: string): void {
    if (target === 's3') {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${type}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`);
      return;
    }
    const json10 = target.startsWith('Granite');
    res.writeHead(status, { 'content-type': json10 ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1', 'x-amzn-requestid': 'fake-request', ...(json10 ? { 'x-amzn-query-error': `${type};Sender` } : {}) });
    res.end(JSON.stringify({ __type: type, message }));
  }

  private page<T>(items: T[], marker: unknown, size: number): { items: T[]; next: string | undefined } {
    const from = typeof marker === 'string' ? Number(marker) : 0;
    const next = from + size < items.length ? String(from + size) : undefined;
    return { items: items.slice(from, from + size), next };
  }

  private cluster(res: ServerResponse, id: unknown): FakeCluster | undefined {
    const c = this.clusters.find((x) => x.Id === id);
    if (!c) this.error(res, 'ElasticMapReduce', 400, 'InvalidRequestException', `Cluster id '${String(id)}' is not valid.`);
    return c;
  }

  private status(c: FakeCluster): unknown {
    return { State: c.State, Timeline: { CreationDateTime: c.Created.toISOString(), ReadyDateTime: c.Ready?.toISOString(), EndDateTime: c.Ended?.toISOString() } };
  }

  private emr(res: ServerResponse, op: string, body: Record<string, unknown>): void {
    const ct = 'application/x-amz-json-1.1';
    switch (op) {
      case 'ListClusters': {
        const states = body.ClusterStates as string[] | undefined;
        const after = typeof body.CreatedAfter === 'number' ? body.CreatedAfter * 1000 : undefined;
        const all = this.clusters.filter((c) => (states === undefined || states.includes(c.State)) && (after === undefined || c.Created.getTime() >= after));
        const p = this.page(all, body.Marker, this.clusterPageSize);
        return this.json(res, ct, { Clusters: p.items.map((c) => ({ Id: c.Id, Name: c.Name, Status: this.status(c), ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${c.Id}` })), Marker: p.next });
      }
      case 'DescribeCluster': {
        const c = this.cluster(res, body.ClusterId);
        if (!c) return;
        return this.json(res, ct, {
          Cluster: {
            Id: c.Id,
            Name: c.Name,
            Status: this.status(c),
            ReleaseLabel: c.ReleaseLabel,
            Applications: c.Applications,
            Tags: c.Tags,
            InstanceCollectionType: c.fleets ? 'INSTANCE_FLEET' : 'INSTANCE_GROUP',
            ClusterArn: `arn:aws:elasticmapreduce:us-east-1:123456789012:cluster/${c.Id}`,
          },
        });
      }
      case 'ListSteps': {
        const c = this.cluster(res, body.ClusterId);
        if (!c) return;
        const p = this.page(c.steps, body.Marker, this.stepPageSize);
        const steps = p.items.map((s) => ({
          ...s,
          Status: { ...s.Status, Timeline: { CreationDateTime: s.Status.Timeline.CreationDateTime.toISOString(), StartDateTime: s.Status.Timeline.StartDateTime?.toISOString(), EndDateTime: s.Status.Timeline.EndDateTime?.toISOString() } },
        }));
        return this.json(res, ct, { Steps: steps, Marker: p.next });
      }
      case 'ListInstanceGroups': {
        const c = this.cluster(res, body.ClusterId);
        if (!c) return;
        if (c.fleets) return this.error(res, 'ElasticMapReduce', 400, 'InvalidRequestException', 'Instance fleets cluster');
        return this.json(res, ct, { InstanceGroups: (c.groups ?? []).map((g, i) => ({ Id: `ig-${i}`, ...g })) });
      }
      case 'ListInstanceFleets': {
        const c = this.cluster(res, body.ClusterId);
        if (!c) return;
        if (!c.fleets) return this.error(res, 'ElasticMapReduce', 400, 'InvalidRequestException', 'Instance groups cluster');
        return this.json(res, ct, { InstanceFleets: c.fleets.map((f, i) => ({ Id: `if-${i}`, ...f })) });
      }
      default:
        return this.error(res, 'ElasticMapReduce', 400, 'UnknownOperationException', op);
    }
  }

  private metricData(res: ServerResponse, body: Record<string, unknown>): void {
    type Query = { Id: string; MetricStat: { Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] }; Period: number; Stat: string } };
    const queries = body.MetricDataQueries as Query[];
    const start = Number(body.StartTime);
    // CloudWatch keeps 1-minute data for 15 days, 5-minute data for 63 days, then hourly: an older
    // start needs a Period that is a multiple of 300 / 3600 (and any Period over 60 a multiple of 60).
    const ageDays = (Date.now() / 1000 - start) / 86_400;
    const unit = ageDays > 63 ? 3600 : ageDays > 15 ? 300 : 60;
    for (const q of queries) {
      const period = q.MetricStat.Period;
      if (!Number.isInteger(period) || period < 1 || (period % unit !== 0 && (period >= 60 || ageDays > 15))) {
        return this.error(res, 'GraniteServiceVersion20100801.GetMetricData', 400, 'InvalidParameterValue', `The parameter MetricDataQueries.member.1.MetricStat.Period must be a multiple of ${unit} for data older than ${ageDays > 63 ? 63 : 15} days.`);
      }
    }
    const results = queries.map((q) => {
      const id = q.MetricStat.Metric.Dimensions.find((d) => d.Name === 'JobFlowId')?.Value;
      const values = this.clusters.find((c) => c.Id === id)?.metrics?.[q.MetricStat.Metric.MetricName] ?? [];
      // Average and Maximum of one datapoint per period are the datapoint itself.
      return { Id: q.Id, Label: q.MetricStat.Metric.MetricName, StatusCode: 'Complete', Timestamps: values.map((_v, i) => start + i * q.MetricStat.Period), Values: values };
    });
    const points = queries.reduce((n, q) => n + Math.ceil((Number(body.EndTime) - start) / q.MetricStat.Period), 0);
    if (points > 100_800) return this.error(res, 'GraniteServiceVersion20100801.GetMetricData', 400, 'InvalidParameterCombination', `You have requested up to ${points} datapoints, which exceeds the limit of 100800.`);
    // Pages split the result list, as GetMetricData does when there are more series than fit.
    const p = this.page(results, this.metricsStuckToken !== undefined ? undefined : body.NextToken, this.metricsPageSize);
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fake-request' });
    res.end(JSON.stringify({ MetricDataResults: p.items, NextToken: this.metricsStuckToken ?? p.next, Messages: [] }));
  }

  private s3(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const [, bucket, ...rest] = url.pathname.split('/');
    const objects = this.objects.get(decodeURIComponent(bucket ?? ''));
    if (!objects) return this.error(res, 's3', 404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (rest.length === 0 || (rest.length === 1 && rest[0] === '')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const delimiter = url.searchParams.get('delimiter') ?? '';
      // With a delimiter, keys that go on past it after the prefix roll up into one CommonPrefix each.
      const entries = [
        ...new Set(
          [...objects.keys()]
            .filter((k) => k.startsWith(prefix))
            .map((k) => {
              const cut = delimiter === '' ? -1 : k.indexOf(delimiter, prefix.length);
              return cut < 0 ? k : k.slice(0, cut + delimiter.length);
            }),
        ),
      ].sort();
      const p = this.page(entries, url.searchParams.get('continuation-token') ?? undefined, this.s3PageSize);
      const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      const common = p.items.filter((k) => !objects.has(k)).map((k) => `<CommonPrefixes><Prefix>${esc(k)}</Prefix></CommonPrefixes>`).join('');
      const contents = p.items
        .filter((k) => objects.has(k))
        .map((k) => `<Contents><Key>${esc(k)}</Key><LastModified>${objects.get(k)!.lastModified.toISOString()}</LastModified><ETag>"e"</ETag><Size>${objects.get(k)!.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`)
        .join('');
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${esc(bucket ?? '')}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${p.items.length}</KeyCount><MaxKeys>${this.s3PageSize}</MaxKeys><IsTruncated>${p.next !== undefined}</IsTruncated>${contents}${common}${p.next !== undefined ? `<NextContinuationToken>${p.next}</NextContinuationToken>` : ''}</ListBucketResult>`,
      );
      return;
    }
    const key = rest.map(decodeURIComponent).join('/');
    const o = objects.get(key);
    if (!o) return this.error(res, 's3', 404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': o.body.length, etag: '"e"', 'last-modified': o.lastModified.toUTCString() });
    res.end(o.body);
  }
}

/** When the fake's first cluster of the tests was created, and their spacing. */
export const T0 = Date.UTC(2026, 5, 1, 8, 0, 0);
export const HOUR = 3_600_000;

/** Cluster `i` of a day of hourly clusters from T0 (created at the hour, ended 50 minutes later), running `steps`. */
export function fakeCluster(i: number, steps: FakeStep[], over: Partial<FakeCluster> = {}): FakeCluster {
  const created = T0 + i * HOUR;
  return {
    Id: `j-CLUSTER${String(i).padStart(4, '0')}`,
    Name: `etl-${i}`,
    State: 'TERMINATED',
    Created: new Date(created),
    Ready: new Date(created + 5 * 60_000),
    Ended: new Date(created + 50 * 60_000),
    ReleaseLabel: 'emr-7.1.0',
    Applications: [
      { Name: 'Hadoop', Version: '3.3.6' },
      { Name: 'Spark', Version: '3.5.0' },
    ],
    Tags: [
      { Key: 'team', Value: `team-${i}` },
      { Key: 'cost-center', Value: 'cc-42' },
    ],
    groups: [
      { InstanceGroupType: 'MASTER', InstanceType: 'm5.xlarge', RequestedInstanceCount: 1, RunningInstanceCount: 0 },
      { InstanceGroupType: 'CORE', InstanceType: 'r5.2xlarge', RequestedInstanceCount: 2 + i, RunningInstanceCount: 0 },
    ],
    steps,
    ...over,
  };
}
