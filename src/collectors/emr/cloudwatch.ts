/**
 * CloudWatch's EMR metrics (namespace AWS/ElasticMapReduce, dimension JobFlowId) over a cluster's
 * real lifetime, summarised as `cloudwatch.<metric>.avg` / `.max` tags.
 */
import { GetMetricDataCommand, type CloudWatchClient, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { PageTokenGuard } from '../api/listingGuard';

/** Metrics EMR publishes every 5 minutes that say how busy and how healthy the cluster was. */
export const EMR_METRICS = ['YARNMemoryAvailablePercentage', 'ContainerAllocated', 'ContainerPendingRatio', 'AppsCompleted', 'AppsFailed'] as const;

/**
 * Points per series: GetMetricData returns at most 100,800 per call, so 10 series of 1,440 fit in
 * one request's budget and keep answers small.
 */
const MAX_POINTS = 1440;

const DAY = 86_400_000;

/**
 * The Period for a window starting at `startMs`. CloudWatch keeps 1-minute data for 15 days,
 * 5-minute data for 63 days and hourly data after that: a Period that is not a multiple of what is
 * kept for the start's age is refused. EMR publishes every 300 s, so no Period is shorter.
 */
export function periodFor(startMs: number, endMs: number, nowMs = Date.now()): number {
  const age = nowMs - startMs;
  const unit = age > 63 * DAY ? 3600 : age > 15 * DAY ? 300 : 60;
  const seconds = Math.max(1, (endMs - startMs) / 1000);
  return Math.max(300, Math.ceil(seconds / MAX_POINTS / unit) * unit);
}

export async function clusterMetrics(cw: CloudWatchClient, clusterId: string, startMs: number, endMs: number, signal: AbortSignal): Promise<Record<string, string>> {
  const period = periodFor(startMs, endMs);
  const queries: MetricDataQuery[] = EMR_METRICS.flatMap((metric, i) =>
    (['Average', 'Maximum'] as const).map((stat) => ({
      Id: `m${i}${stat === 'Average' ? 'avg' : 'max'}`,
      Label: `${metric}.${stat === 'Average' ? 'avg' : 'max'}`,
      MetricStat: { Metric: { Namespace: 'AWS/ElasticMapReduce', MetricName: metric, Dimensions: [{ Name: 'JobFlowId', Value: clusterId }] }, Period: period, Stat: stat },
      ReturnData: true,
    })),
  );
  const byId = new Map(queries.map((q) => [q.Id!, q.Label!]));
  const values = new Map<string, number[]>();
  // A repeated NextToken throws (each call is billed): the caller records the cluster without these tags.
  const tokens = new PageTokenGuard('NextToken');
  let next: string | undefined;
  do {
    const out = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: new Date(startMs), EndTime: new Date(endMs), NextToken: next }), { abortSignal: signal });
    for (const r of out.MetricDataResults ?? []) {
      const label = r.Id !== undefined ? byId.get(r.Id) : undefined;
      if (label === undefined) continue;
      const list = values.get(label) ?? [];
      list.push(...(r.Values ?? []).filter((v) => Number.isFinite(v)));
      values.set(label, list);
    }
    next = tokens.next(out.NextToken);
  } while (next !== undefined);

  const tags: Record<string, string> = {};
  for (const [label, vs] of values) {
    if (vs.length === 0) continue;
    const [metric, kind] = label.split('.') as [string, 'avg' | 'max'];
    // The average of per-period averages (periods are equal length), the maximum of per-period maxima.
    const v = kind === 'avg' ? vs.reduce((a, b) => a + b, 0) / vs.length : Math.max(...vs);
    tags[`cloudwatch.${metric}.${kind}`] = String(Math.round(v * 1000) / 1000);
  }
  return tags;
}
