/**
 * One EMR cluster's facts: DescribeCluster (release, Spark version, AWS tags, lifetime), its Spark
 * steps (ListSteps, all pages), its instance groups or fleets (executor hosts), CloudWatch summaries.
 */
import {
  DescribeClusterCommand,
  ListInstanceFleetsCommand,
  ListInstanceGroupsCommand,
  ListStepsCommand,
  type Cluster,
  type EMRClient,
  type InstanceFleet,
  type InstanceGroup,
  type StepSummary,
} from '@aws-sdk/client-emr';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { clusterMetrics } from './cloudwatch';
import { PageTokenGuard } from '../api/listingGuard';
import { isSparkStep, iso, stepCommand } from './steps';
import type { Problem } from '../record';

export interface ClusterFacts {
  id: string;
  /** The cluster's ARN when EMR gives one, else its id: where problems point. */
  where: string;
  startMs: number | null;
  /** null while the cluster runs. */
  endMs: number | null;
  sparkVersion: string | null;
  tags: Record<string, string>;
}

export interface FetchedCluster {
  facts: ClusterFacts;
  /** Spark steps only, in the order EMR lists them (newest first). */
  steps: StepSummary[];
  /** Steps that run no Spark launcher (setup, Hive, Pig, copies …): what each runs (stepCommand). Not records, and not "skipped", which is what since/user leave out. */
  otherSteps: string[];
  problems: Problem[];
}

export interface Clients {
  emr: EMRClient;
  cloudwatch?: CloudWatchClient;
}

/** Instance group/fleet roles that run executors (YARN NodeManagers); MASTER runs only the driver in client mode. */
function roleKey(role: string | undefined): string {
  return (role ?? 'unknown').toLowerCase();
}

function groupTags(groups: InstanceGroup[]): Record<string, string> {
  const tags: Record<string, string> = {};
  const byRole = new Map<string, { types: Set<string>; count: number }>();
  for (const g of groups) {
    const role = roleKey(g.InstanceGroupType);
    const entry = byRole.get(role) ?? { types: new Set<string>(), count: 0 };
    if (g.InstanceType) entry.types.add(g.InstanceType);
    // Running is what the cluster had; a terminated cluster reports 0 running, so fall back to requested.
    entry.count += g.RunningInstanceCount || g.RequestedInstanceCount || 0;
    byRole.set(role, entry);
  }
  for (const [role, e] of byRole) {
    tags[`emr.${role}.instance_type`] = [...e.types].sort().join(',');
    tags[`emr.${role}.instance_count`] = String(e.count);
  }
  return tags;
}

function fleetTags(fleets: InstanceFleet[]): Record<string, string> {
  const tags: Record<string, string> = {};
  for (const f of fleets) {
    const role = roleKey(f.InstanceFleetType);
    const types = (f.InstanceTypeSpecifications ?? []).map((s) => s.InstanceType).filter((t): t is string => t !== undefined);
    tags[`emr.${role}.instance_type`] = [...new Set(types)].sort().join(',');
    // Fleets are sized in capacity units (weights), not instances: say so in the tag name.
    const provisioned = (f.ProvisionedOnDemandCapacity ?? 0) + (f.ProvisionedSpotCapacity ?? 0);
    const target = (f.TargetOnDemandCapacity ?? 0) + (f.TargetSpotCapacity ?? 0);
    tags[`emr.${role}.capacity_units`] = String(provisioned || target);
  }
  return tags;
}

export function clusterTags(c: Cluster): Record<string, string> {
  const tags: Record<string, string> = { cluster_id: c.Id ?? '', cluster_name: c.Name ?? '' };
  if (c.ReleaseLabel) tags.release_label = c.ReleaseLabel;
  if (c.Status?.State) tags.cluster_state = c.Status.State;
  if (c.InstanceCollectionType) tags['emr.instance_collection'] = c.InstanceCollectionType;
  if (c.Ec2InstanceAttributes?.Ec2AvailabilityZone) tags['emr.availability_zone'] = c.Ec2InstanceAttributes.Ec2AvailabilityZone;
  // The cluster's own tags, Key/Value as EMR gives them, under a prefix so they cannot shadow ours.
  for (const t of c.Tags ?? []) if (t.Key !== undefined) tags[`aws:tag:${t.Key}`] = t.Value ?? '';
  return tags;
}

/** Every item of a Marker-paged EMR listing (ListSteps, ListInstanceGroups, ListInstanceFleets). */
async function allMarkerPages<T>(page: (marker: string | undefined) => Promise<{ items: T[] | undefined; marker: string | undefined }>): Promise<T[]> {
  const all: T[] = [];
  const markers = new PageTokenGuard('Marker');
  let marker: string | undefined;
  do {
    const out = await page(marker);
    all.push(...(out.items ?? []));
    marker = markers.next(out.marker);
  } while (marker !== undefined);
  return all;
}

function allSteps(emr: EMRClient, id: string, signal: AbortSignal): Promise<StepSummary[]> {
  return allMarkerPages(async (marker) => {
    const out = await emr.send(new ListStepsCommand({ ClusterId: id, Marker: marker }), { abortSignal: signal });
    return { items: out.Steps, marker: out.Marker };
  });
}

async function instances(emr: EMRClient, c: Cluster, signal: AbortSignal): Promise<Record<string, string>> {
  if (c.InstanceCollectionType === 'INSTANCE_FLEET') {
    const fleets = await allMarkerPages<InstanceFleet>(async (marker) => {
      const out = await emr.send(new ListInstanceFleetsCommand({ ClusterId: c.Id, Marker: marker }), { abortSignal: signal });
      return { items: out.InstanceFleets, marker: out.Marker };
    });
    return fleetTags(fleets);
  }
  const groups = await allMarkerPages<InstanceGroup>(async (marker) => {
    const out = await emr.send(new ListInstanceGroupsCommand({ ClusterId: c.Id, Marker: marker }), { abortSignal: signal });
    return { items: out.InstanceGroups, marker: out.Marker };
  });
  return groupTags(groups);
}

/**
 * Everything about one cluster. DescribeCluster and ListSteps failing fail the cluster (thrown);
 * instance sizing and CloudWatch are extras: their failure is a warning and the steps still count.
 */
export async function fetchCluster(clients: Clients, id: string, signal: AbortSignal, nowMs: number, rethrow: (err: unknown) => boolean): Promise<FetchedCluster> {
  const described = await clients.emr.send(new DescribeClusterCommand({ ClusterId: id }), { abortSignal: signal });
  const c = described.Cluster;
  if (c === undefined) throw new Error('DescribeCluster returned no cluster');
  const where = c.ClusterArn ?? id;
  const problems: Problem[] = [];
  const timeline = c.Status?.Timeline;
  const startMs = timeline?.CreationDateTime?.getTime() ?? null;
  const endMs = timeline?.EndDateTime?.getTime() ?? null;
  const spark = (c.Applications ?? []).find((a) => a.Name?.toLowerCase() === 'spark');
  const tags = clusterTags(c);
  const created = iso(timeline?.CreationDateTime);
  if (created !== null) tags.cluster_created = created;
  const ready = iso(timeline?.ReadyDateTime);
  if (ready !== null) tags.cluster_ready = ready;
  const ended = iso(timeline?.EndDateTime);
  if (ended !== null) tags.cluster_ended = ended;

  const all = await allSteps(clients.emr, id, signal);
  const steps = all.filter(isSparkStep);

  const extra = async (what: string, f: () => Promise<Record<string, string>>): Promise<void> => {
    try {
      Object.assign(tags, await f());
    } catch (err) {
      if (rethrow(err)) throw err;
      problems.push({ severity: 'warning', code: 'emr-partial', message: `cluster ${id}: ${what} failed (${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}); its records lack those tags`, file: where });
    }
  };
  await extra('listing instance groups/fleets', () => instances(clients.emr, c, signal));
  const cw = clients.cloudwatch;
  if (cw !== undefined && startMs !== null) await extra('reading CloudWatch metrics', () => clusterMetrics(cw, id, startMs, endMs ?? nowMs, signal));

  return {
    facts: { id, where, startMs, endMs, sparkVersion: spark?.Version ?? null, tags },
    steps,
    otherSteps: all.filter((s) => !isSparkStep(s)).map(stepCommand),
    problems,
  };
}
