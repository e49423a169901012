/**
 * A real HTTP server on 127.0.0.1 (random port) that plays a Databricks workspace for tests: Jobs API
 * 2.1 `jobs/runs/list` (newest first, `start_time_from`, `limit` <= 25, opaque `page_token`,
 * `has_more`/`next_page_token`) and `jobs/runs/get`, Clusters API 2.1 `clusters/get`, and the DBFS
 * API 2.0 `dbfs/list` + `dbfs/read` (absolute paths only, base64 chunks of at most 1 MB), Clusters API `clusters/events`
 * (POST, 2.1 and 2.0: time window, ASC/DESC, `event_types`, `page_size` + opaque `page_token` /
 * `next_page_token`, or the older `limit`/`offset` + `next_page`), and the OAuth token endpoint
 * `oidc/v1/token` (client-credentials grant, client id and secret as HTTP basic auth) when `oauth`
 * is given. Every API request must carry `Authorization: Bearer <token>`: the fixed `token`, or one
 * the token endpoint issued. Faults are injected per request with `fault`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './localServer';

export interface FakeRequest {
  /** Path and query, e.g. `/api/2.1/jobs/runs/list?limit=25`. */
  url: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
  /** The request body, parsed as JSON when it is JSON (POST endpoints); undefined when empty. */
  body: unknown;
  /** When it arrived (Date.now()), to check waits such as Retry-After. */
  at: number;
}

/** Answers a request itself (status, headers, body) or returns undefined to let the API answer. */
export type Fault = (req: FakeRequest, hit: number, res: ServerResponse) => boolean | undefined;

export interface DatabricksFakeOptions {
  token: string;
  /** Run objects as the API gives them (anything, to test malformed entries). */
  runs: unknown[];
  clusters?: Record<string, unknown>;
  /** DBFS files: `dbfs:/path` (or `/path`) -> content. */
  dbfs?: Record<string, Buffer>;
  /** Called first for every request; returning true means it answered. `hit` counts requests with this path. */
  fault?: Fault;
  /** Cluster events by cluster id (any order); a cluster without any answers an empty list. */
  events?: Record<string, ClusterEvent[]>;
  /** The most events one clusters/events page holds, whatever page_size asks (default 4: pages in tests). */
  eventsPageMax?: number;
  /** Leave `tasks` out of runs/list answers (a server that ignores expand_tasks). */
  ignoreExpandTasks?: boolean;
  /** A service principal the token endpoint knows; tokens it issues live `expiresIn` seconds (default 3600). */
  oauth?: { clientId: string; clientSecret: string; expiresIn?: number };
}

/** A Clusters API ClusterEvent, the fields the fake filters and sorts on plus `details`. */
export interface ClusterEvent {
  cluster_id: string;
  timestamp: number;
  type: string;
  details?: { current_num_workers?: number; target_num_workers?: number; [k: string]: unknown };
}

/** One call of the token endpoint, as the fake understood it. */
export interface TokenExchange {
  /** Client id and secret from the basic auth header (decoded), undefined when absent. */
  clientId: string | undefined;
  clientSecret: string | undefined;
  contentType: string | undefined;
  form: URLSearchParams;
  /** The token issued, or undefined when refused. */
  issued: string | undefined;
}

export interface DatabricksFake {
  url: string;
  requests: FakeRequest[];
  /** Calls of oidc/v1/token, in order. */
  exchanges: TokenExchange[];
  close: () => Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
};

/** A fixture's DBFS key (`dbfs:/path` or `/path`) as the absolute path the DBFS API uses. */
const dbfsPath = (p: string): string => p.replace(/^dbfs:/, '').replace(/\/+$/, '');

/**
 * The DBFS API's `path` must be "the absolute DBFS path" (`/mnt/foo`, DBFS API 2.0 list/read): the
 * fake refuses anything else, a `dbfs:/` URI included, so a client that sends one is caught.
 */
const badDbfsPath = (res: ServerResponse, p: string | null): boolean => {
  if (p !== null && p.startsWith('/')) return false;
  json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: `Path must be absolute: ${p ?? '(none)'}` });
  return true;
};

export async function startDatabricksFake(opts: DatabricksFakeOptions): Promise<DatabricksFake> {
  const requests: FakeRequest[] = [];
  const exchanges: TokenExchange[] = [];
  const issued = new Set<string>();
  const hits = new Map<string, number>();
  const dbfs = new Map(Object.entries(opts.dbfs ?? {}).map(([k, v]) => [dbfsPath(k), v]));
  const startOf = (r: unknown): number => ((r as { start_time?: unknown } | null)?.start_time as number | undefined) ?? 0;

  // Bodies are read first, so faults can look at them.
  const receive = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const u = new URL(req.url ?? '/', 'http://fake');
    let body: unknown = raw === '' ? undefined : raw;
    if (/^application\/json/.test(req.headers['content-type'] ?? '')) {
      try {
        body = JSON.parse(raw);
      } catch {
        // Kept as text: the endpoint answers 400.
      }
    }
    const fr: FakeRequest = { url: `${u.pathname}${u.search}`, path: u.pathname, query: u.searchParams, authorization: req.headers.authorization, body, at: Date.now() };
    requests.push(fr);
    const hit = (hits.get(u.pathname) ?? 0) + 1;
    hits.set(u.pathname, hit);
    if (opts.fault?.(fr, hit, res) === true) return;
    if (u.pathname === '/oidc/v1/token') {
      tokenEndpoint(req, res, raw);
      return;
    }
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (bearer !== opts.token && (bearer === undefined || !issued.has(bearer))) {
      // Like some proxies, the answer repeats what it was sent: the collector must not.
      json(res, 401, { error_code: 'UNAUTHORIZED', message: `Invalid access token: ${req.headers.authorization ?? '(none)'}` });
      return;
    }
    const q = u.searchParams;
    switch (u.pathname) {
      case '/api/2.1/jobs/runs/list': {
        const limit = Number(q.get('limit') ?? '20');
        if (!(limit >= 1 && limit <= 25)) return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: `limit must be 1..25, got ${limit}` });
        const from = q.has('start_time_from') ? Number(q.get('start_time_from')) : 0;
        const all = opts.runs.filter((r) => startOf(r) >= from).sort((a, b) => startOf(b) - startOf(a));
        const token = q.get('page_token');
        const offset = token !== null ? Number(Buffer.from(token, 'base64url').toString().replace(/^offset:/, '')) : 0;
        if (!Number.isInteger(offset)) return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'page_token is invalid' });
        const page = all.slice(offset, offset + limit).map((r) => {
          if (!opts.ignoreExpandTasks || q.get('expand_tasks') !== 'true' || typeof r !== 'object' || r === null) return r;
          const rest = { ...(r as Record<string, unknown>) };
          delete rest.tasks;
          return rest;
        });
        const more = offset + limit < all.length;
        return json(res, 200, { runs: page, has_more: more, ...(more ? { next_page_token: Buffer.from(`offset:${offset + limit}`).toString('base64url') } : {}) });
      }
      case '/api/2.1/jobs/runs/get': {
        const run = opts.runs.find((r) => String((r as { run_id?: unknown } | null)?.run_id) === q.get('run_id'));
        return run === undefined ? json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run does not exist.' }) : json(res, 200, run);
      }
      case '/api/2.1/clusters/get': {
        const c = opts.clusters?.[q.get('cluster_id') ?? ''];
        return c === undefined ? json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: `Cluster ${q.get('cluster_id')} does not exist` }) : json(res, 200, c);
      }
      case '/api/2.1/clusters/events':
      case '/api/2.0/clusters/events':
        return clusterEvents(req, res, body);
      case '/api/2.0/dbfs/list': {
        if (badDbfsPath(res, q.get('path'))) return;
        const dir = dbfsPath(q.get('path') ?? '');
        const children = new Map<string, { path: string; is_dir: boolean; file_size: number }>();
        for (const [p, content] of dbfs) {
          if (!p.startsWith(`${dir}/`)) continue;
          const rest = p.slice(dir.length + 1).split('/');
          const child = `${dir}/${rest[0]!}`;
          // The API lists absolute paths, like the ones it takes.
          children.set(child, rest.length > 1 ? { path: child, is_dir: true, file_size: 0 } : { path: child, is_dir: false, file_size: content.length });
        }
        if (children.size === 0) return json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No file or directory exists on path ${dir}.` });
        return json(res, 200, { files: [...children.values()] });
      }
      case '/api/2.0/dbfs/read': {
        if (badDbfsPath(res, q.get('path'))) return;
        const content = dbfs.get(dbfsPath(q.get('path') ?? ''));
        if (content === undefined) return json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'No such file' });
        const offset = Number(q.get('offset') ?? '0');
        const length = Number(q.get('length') ?? String(512 * 1024));
        if (length > 1024 * 1024) return json(res, 400, { error_code: 'MAX_READ_SIZE_EXCEEDED', message: 'length > 1 MB' });
        const part = content.subarray(offset, offset + length);
        return json(res, 200, { bytes_read: part.length, data: part.toString('base64') });
      }
      default:
        return json(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: `no API at ${u.pathname}` });
    }
  };

  /**
   * clusters/events: POST, events of `cluster_id` with start_time <= timestamp <= end_time, of
   * `event_types` when given, in `order` (default DESC). Token paging (`page_size`, `page_token`,
   * `next_page_token`) unless the request uses `limit`/`offset`, answered with `next_page` and
   * `total_count` as older workspaces do. Pages hold at most `eventsPageMax` events.
   */
  const clusterEvents = (req: IncomingMessage, res: ServerResponse, body: unknown): void => {
    if (req.method !== 'POST') return json(res, 405, { error_code: 'BAD_REQUEST', message: 'POST expected' });
    if (typeof body !== 'object' || body === null) return json(res, 400, { error_code: 'MALFORMED_REQUEST', message: 'JSON body expected' });
    const b = body as { cluster_id?: unknown; start_time?: unknown; end_time?: unknown; order?: unknown; event_types?: unknown; page_size?: unknown; page_token?: unknown; limit?: unknown; offset?: unknown };
    if (typeof b.cluster_id !== 'string') return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'cluster_id is required' });
    const order = b.order ?? 'DESC';
    if (order !== 'ASC' && order !== 'DESC') return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: `order ${JSON.stringify(order)}` });
    const from = typeof b.start_time === 'number' ? b.start_time : -Infinity;
    const to = typeof b.end_time === 'number' ? b.end_time : Infinity;
    const types = Array.isArray(b.event_types) && b.event_types.length > 0 ? new Set(b.event_types as unknown[]) : undefined;
    const all = (opts.events?.[b.cluster_id] ?? [])
      .filter((e) => e.timestamp >= from && e.timestamp <= to && (types === undefined || types.has(e.type)))
      .sort((x, y) => (order === 'ASC' ? x.timestamp - y.timestamp : y.timestamp - x.timestamp));
    const max = opts.eventsPageMax ?? 4;
    const legacy = b.limit !== undefined || b.offset !== undefined;
    if (legacy) {
      const limit = typeof b.limit === 'number' ? b.limit : 50;
      const offset = typeof b.offset === 'number' ? b.offset : 0;
      if (!(limit >= 1 && limit <= 500)) return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: `limit must be 1..500, got ${limit}` });
      const size = Math.min(limit, max);
      const page = all.slice(offset, offset + size);
      const more = offset + size < all.length;
      return json(res, 200, { events: page, total_count: all.length, ...(more ? { next_page: { ...b, offset: offset + size, limit } } : {}) });
    }
    const size = Math.min(typeof b.page_size === 'number' && b.page_size > 0 ? b.page_size : 50, max);
    let offset = 0;
    if (b.page_token !== undefined) {
      offset = typeof b.page_token === 'string' ? Number(Buffer.from(b.page_token, 'base64url').toString().replace(/^events:/, '')) : NaN;
      if (!Number.isInteger(offset)) return json(res, 400, { error_code: 'INVALID_PARAMETER_VALUE', message: 'page_token is invalid' });
    }
    const page = all.slice(offset, offset + size);
    const more = offset + size < all.length;
    return json(res, 200, { events: page, next_page_token: more ? Buffer.from(`events:${offset + size}`).toString('base64url') : '' });
  };

  /** The client-credentials grant (RFC 6749 4.4): basic auth, form body grant_type + scope. */
  const tokenEndpoint = (req: IncomingMessage, res: ServerResponse, raw: string): void => {
    const form = new URLSearchParams(raw);
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const pair = basic === undefined ? undefined : Buffer.from(basic, 'base64').toString('utf8');
    const colon = pair?.indexOf(':') ?? -1;
    const clientId = pair !== undefined && colon >= 0 ? decodeURIComponent(pair.slice(0, colon)) : undefined;
    const clientSecret = pair !== undefined && colon >= 0 ? decodeURIComponent(pair.slice(colon + 1)) : undefined;
    const ex: TokenExchange = { clientId, clientSecret, contentType: req.headers['content-type'], form, issued: undefined };
    exchanges.push(ex);
    if (req.method !== 'POST' || opts.oauth === undefined) return json(res, 404, { error_code: 'ENDPOINT_NOT_FOUND', message: 'no OAuth here' });
    if (!/^application\/x-www-form-urlencoded/.test(req.headers['content-type'] ?? '')) return json(res, 400, { error: 'invalid_request', error_description: 'form body expected' });
    if (clientId !== opts.oauth.clientId || clientSecret !== opts.oauth.clientSecret) {
      // Like some servers, the refusal repeats what it was sent: the collector must not.
      return json(res, 401, { error: 'invalid_client', error_description: `Client authentication failed for ${clientId ?? '(none)'}:${clientSecret ?? ''} (${req.headers.authorization ?? ''})` });
    }
    if (form.get('grant_type') !== 'client_credentials') return json(res, 400, { error: 'unsupported_grant_type', error_description: `grant ${form.get('grant_type') ?? '(none)'}` });
    if (form.get('scope') !== 'all-apis') return json(res, 400, { error: 'invalid_scope', error_description: `scope ${form.get('scope') ?? '(none)'}` });
    ex.issued = `oauth-${exchanges.length}-${Math.random().toString(36).slice(2)}`;
    issued.add(ex.issued);
    return json(res, 200, { access_token: ex.issued, token_type: 'Bearer', expires_in: opts.oauth.expiresIn ?? 3600 });
  };

  const local = await listenLocal(receive);
  return {
    url: local.url,
    requests,
    exchanges,
    close: local.close,
  };
}

// ---------------------------------------------------------------------------------------------
// Generated workspaces: runs on a few shared all-purpose clusters, plus job clusters of their own.

export interface GeneratedRun {
  run_id: number;
  job_id: number;
  run_name: string;
  creator_user_name: string;
  start_time: number;
  end_time: number;
  state: { life_cycle_state: string; result_state?: string; state_message: string };
  tasks: { task_key: string; existing_cluster_id?: string; new_cluster?: unknown; cluster_instance: { cluster_id: string; spark_context_id: string } }[];
}

export interface Workspace {
  runs: GeneratedRun[];
  clusters: Record<string, { cluster_id: string; cluster_name: string; spark_version: string; node_type_id: string; driver_node_type_id: string; num_workers?: number; autoscale?: { min_workers: number; max_workers: number }; spark_conf: Record<string, string>; state: string }>;
  /** Cluster events of the autoscaling cluster (clusters/events). */
  events?: Record<string, ClusterEvent[]>;
}

/**
 * Events of an autoscaling cluster from `start` (minute 0) to minute `minutes`, the worker count
 * walking between min and max. It came up 5 minutes before (RUNNING with min workers); then minute m
 * is, by m % 4: busy (4 resizes up by one, each RESIZING then UPSIZE_COMPLETED, 4 s apart from +2 s,
 * a stats report and a driver event between), quiet (no event at all: only the count from before
 * tells the size), shrinking (RESIZING down by 3 at +5 s, NODES_LOST at +15 s), or late (a stats
 * report at +10 s, one resize up at +40 s / +50 s). RESIZING's current_num_workers is the count
 * before it; the count becomes the target only with the next event's current (downsizes) or at
 * UPSIZE_COMPLETED.
 */
export function autoscaleEvents(clusterId: string, start: number, minutes: number, min: number, max: number): ClusterEvent[] {
  const events: ClusterEvent[] = [];
  let c = min;
  const ev = (t: number, type: string, details?: ClusterEvent['details']): void => {
    events.push({ cluster_id: clusterId, timestamp: t, type, ...(details !== undefined ? { details } : {}) });
  };
  ev(start - 5 * 60_000, 'RUNNING', { current_num_workers: c });
  for (let m = 0; m <= minutes; m++) {
    const at = start + m * 60_000;
    ev(at + 1000, 'DRIVER_HEALTHY');
    switch (m % 4) {
      case 0:
        for (let i = 0; i < 4; i++) {
          const target = Math.min(max, c + 1);
          ev(at + 2000 + i * 8000, 'RESIZING', { current_num_workers: c, target_num_workers: target });
          ev(at + 6000 + i * 8000, 'UPSIZE_COMPLETED', { current_num_workers: target, target_num_workers: target });
          c = target;
        }
        ev(at + 3000, 'AUTOSCALING_STATS_REPORT', {});
        break;
      case 1:
        break;
      case 2: {
        const target = Math.max(min, c - 3);
        ev(at + 5000, 'RESIZING', { current_num_workers: c, target_num_workers: target });
        c = target;
        if (c > min) {
          c -= 1;
          ev(at + 15_000, 'NODES_LOST', { current_num_workers: c, target_num_workers: target });
        }
        break;
      }
      default:
        ev(at + 10_000, 'AUTOSCALING_STATS_REPORT', {});
        ev(at + 40_000, 'RESIZING', { current_num_workers: c, target_num_workers: Math.min(max, c + 1) });
        c = Math.min(max, c + 1);
        ev(at + 50_000, 'UPSIZE_COMPLETED', { current_num_workers: c, target_num_workers: c });
    }
  }
  return events;
}

/**
 * `n` finished runs, one a minute from `startMs`, by `users` in turn, each on one of `sharedClusters`
 * all-purpose clusters (cluster i has i+2 workers, or autoscale for the last one, with its events).
 */
export function workspace(n: number, opts: { startMs?: number; users?: string[]; sharedClusters?: number } = {}): Workspace {
  const start = opts.startMs ?? Date.UTC(2026, 5, 1, 8, 0, 0);
  const users = opts.users ?? ['ana@example.com', 'bo@example.com'];
  const shared = opts.sharedClusters ?? 3;
  const clusters: Workspace['clusters'] = {};
  for (let i = 0; i < shared; i++) {
    const id = `0601-0800${i}0-abc${i}`;
    clusters[id] = {
      cluster_id: id,
      cluster_name: `shared-${i}`,
      spark_version: i % 2 === 0 ? '13.3.x-scala2.12' : '14.3.x-scala2.12',
      node_type_id: `i3.${i + 1}xlarge`,
      driver_node_type_id: 'i3.xlarge',
      ...(i === shared - 1 && shared > 1 ? { autoscale: { min_workers: 1, max_workers: 8 + i } } : { num_workers: i + 2 }),
      spark_conf: { 'spark.executor.memory': `${(i + 1) * 2}g`, 'spark.driver.memory': '3g', 'spark.executor.cores': String(i + 2), 'spark.hadoop.fs.azure.account.key': `{{secrets/kv/key${i}}}` },
      state: 'RUNNING',
    };
  }
  const ids = Object.keys(clusters);
  const runs: GeneratedRun[] = [];
  for (let r = 0; r < n; r++) {
    const cluster = ids[r % ids.length]!;
    const begin = start + r * 60_000;
    runs.push({
      run_id: 700000 + r,
      job_id: 100 + (r % 5),
      run_name: `nightly-${r % 5}`,
      creator_user_name: users[r % users.length]!,
      start_time: begin,
      end_time: begin + 30_000 + r * 1000,
      state: r % 7 === 6 ? { life_cycle_state: 'TERMINATED', result_state: 'FAILED', state_message: 'Task t failed' } : { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS', state_message: '' },
      tasks: [{ task_key: 't', existing_cluster_id: cluster, cluster_instance: { cluster_id: cluster, spark_context_id: `${9000 + (r % ids.length)}` } }],
    });
  }
  const events: Record<string, ClusterEvent[]> = {};
  for (const c of Object.values(clusters)) if (c.autoscale) events[c.cluster_id] = autoscaleEvents(c.cluster_id, start, n + 2, c.autoscale.min_workers, c.autoscale.max_workers);
  return { runs, clusters, events };
}

/**
 * The workers cluster `id` had over [start, end] by the fixture's events (independent of the
 * collector): the count of the latest event carrying one at or before `start`, and every count inside.
 */
export function workersIn(events: ClusterEvent[] | undefined, start: number, end: number): { min: number; max: number; before: number | undefined; inside: number[] } | undefined {
  const counted = (events ?? []).filter((e) => typeof e.details?.current_num_workers === 'number').sort((a, b) => a.timestamp - b.timestamp);
  const before = counted.filter((e) => e.timestamp <= start).at(-1)?.details!.current_num_workers;
  const inside = counted.filter((e) => e.timestamp >= start && e.timestamp <= end).map((e) => e.details!.current_num_workers!);
  const all = [...(before !== undefined ? [before] : []), ...inside];
  return all.length === 0 ? undefined : { min: Math.min(...all), max: Math.max(...all), before, inside };
}
