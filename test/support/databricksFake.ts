/**
 * A real HTTP server on 127.0.0.1 (random port) that plays a Databricks workspace for tests: Jobs API
 * 2.1 `jobs/runs/list` (newest first, `start_time_from`, `limit` <= 25, opaque `page_token`,
 * `has_more`/`next_page_token`) and `jobs/runs/get`, Clusters API 2.1 `clusters/get`, and the DBFS
 * API 2.0 `dbfs/list` + `dbfs/read` (base64 chunks of at most 1 MB), and the OAuth token endpoint
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
  /** Leave `tasks` out of runs/list answers (a server that ignores expand_tasks). */
  ignoreExpandTasks?: boolean;
  /** A service principal the token endpoint knows; tokens it issues live `expiresIn` seconds (default 3600). */
  oauth?: { clientId: string; clientSecret: string; expiresIn?: number };
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

const dbfsPath = (p: string): string => p.replace(/^dbfs:/, '').replace(/\/+$/, '');

export async function startDatabricksFake(opts: DatabricksFakeOptions): Promise<DatabricksFake> {
  const requests: FakeRequest[] = [];
  const exchanges: TokenExchange[] = [];
  const issued = new Set<string>();
  const hits = new Map<string, number>();
  const dbfs = new Map(Object.entries(opts.dbfs ?? {}).map(([k, v]) => [dbfsPath(k), v]));
  const startOf = (r: unknown): number => ((r as { start_time?: unknown } | null)?.start_time as number | undefined) ?? 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const fr: FakeRequest = { url: `${u.pathname}${u.search}`, path: u.pathname, query: u.searchParams, authorization: req.headers.authorization, at: Date.now() };
    requests.push(fr);
    const hit = (hits.get(u.pathname) ?? 0) + 1;
    hits.set(u.pathname, hit);
    if (opts.fault?.(fr, hit, res) === true) return;
    if (u.pathname === '/oidc/v1/token') {
      tokenEndpoint(req, res);
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
      case '/api/2.0/dbfs/list': {
        const dir = dbfsPath(q.get('path') ?? '');
        const children = new Map<string, { path: string; is_dir: boolean; file_size: number }>();
        for (const [p, content] of dbfs) {
          if (!p.startsWith(`${dir}/`)) continue;
          const rest = p.slice(dir.length + 1).split('/');
          const child = `${dir}/${rest[0]!}`;
          children.set(child, rest.length > 1 ? { path: `dbfs:${child}`, is_dir: true, file_size: 0 } : { path: `dbfs:${child}`, is_dir: false, file_size: content.length });
        }
        if (children.size === 0) return json(res, 404, { error_code: 'RESOURCE_DOES_NOT_EXIST', message: `No file or directory exists on path ${dir}.` });
        return json(res, 200, { files: [...children.values()] });
      }
      case '/api/2.0/dbfs/read': {
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

  /** The client-credentials grant (RFC 6749 4.4): basic auth, form body grant_type + scope. */
  const tokenEndpoint = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
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
    });
  };

  const local = await listenLocal(handle);
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
}

/**
 * `n` finished runs, one a minute from `startMs`, by `users` in turn, each on one of `sharedClusters`
 * all-purpose clusters (cluster i has i+2 workers, or autoscale for the last one).
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
  return { runs, clusters };
}
