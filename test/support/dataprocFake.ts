/**
 * A real HTTP server on 127.0.0.1 (random port) that plays the Dataproc REST v1 API for tests:
 * `GET /v1/projects/{p}/regions/{r}/jobs` (pageSize / pageToken paging over the given jobs, narrowed by
 * `clusterName`, and by `filter` when given, else `jobStateMatcher`, as the API does),
 * `GET /v1/projects/{p}/regions/{r}/clusters/{name}`, and an OAuth token endpoint `POST /token` that
 * performs the JWT-bearer exchange (RS256 signature checked against the service account's public key).
 * Every API request must carry one of the accepted bearer tokens, else 401 as Google answers it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocal } from './localServer';
import { verify, type KeyObject } from 'node:crypto';


export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

export interface DataprocFakeOptions {
  project: string;
  region: string;
  jobs: unknown[];
  clusters?: Record<string, unknown>;
  /** Bearer tokens the API accepts. */
  tokens: string[];
  /** The service account's public key: enables POST /token, which issues `issueToken`. */
  serviceAccount?: { publicKey: KeyObject; email: string; issueToken: string };
  /** Answer a request yourself (faults); `hit` counts requests to the same path, from 1. Return true when handled. */
  fault?: (req: FakeRequest, res: ServerResponse, hit: number) => boolean;
}

export interface DataprocFake {
  url: string;
  requests: FakeRequest[];
  /** JWT claims of each accepted token exchange. */
  exchanges: Record<string, unknown>[];
  close: () => Promise<void>;
}

const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const googleError = (res: ServerResponse, status: number, statusText: string, message: string): void => json(res, status, { error: { code: status, message, status: statusText } });

const ACTIVE = new Set(['PENDING', 'SETUP_DONE', 'RUNNING', 'CANCEL_PENDING', 'CANCEL_STARTED', 'ATTEMPT_FAILURE', 'STATE_UNSPECIFIED']);
const stateMatches = (state: string, matcher: string): boolean => matcher === 'ALL' || (matcher === 'ACTIVE') === ACTIVE.has(state);

interface ListedJob {
  status?: { state?: string };
  labels?: Record<string, string>;
  placement?: { clusterName?: string };
}

/**
 * The jobs.list filter: clauses `status.state = ACTIVE|NON_ACTIVE`, `labels.K = V`,
 * `placement.clusterName = N`, joined by AND. Anything else (OR, parentheses, other fields) is null:
 * the fake answers 400 INVALID_ARGUMENT.
 */
function parseFilter(filter: string): ((job: ListedJob) => boolean) | null {
  const tests: ((job: ListedJob) => boolean)[] = [];
  for (const clause of filter.trim().split(/\s+AND\s+/)) {
    const m = /^(status\.state|labels\.[a-z0-9_-]+|placement\.clusterName)\s*=\s*([A-Za-z0-9_-]+)$/.exec(clause.trim());
    if (!m) return null;
    const [, field, value] = m as unknown as [string, string, string];
    if (field === 'status.state') {
      if (value !== 'ACTIVE' && value !== 'NON_ACTIVE') return null;
      tests.push((j) => stateMatches(j.status?.state ?? '', value));
    } else if (field === 'placement.clusterName') tests.push((j) => j.placement?.clusterName === value);
    else tests.push((j) => j.labels?.[field.slice('labels.'.length)] === value);
  }
  return (job) => tests.every((t) => t(job));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startDataprocFake(o: DataprocFakeOptions): Promise<DataprocFake> {
  const requests: FakeRequest[] = [];
  const exchanges: Record<string, unknown>[] = [];
  const hits = new Map<string, number>();
  const prefix = `/v1/projects/${o.project}/regions/${o.region}/`;
  const local = await listenLocal((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const r: FakeRequest = { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, authorization: req.headers.authorization };
      requests.push(r);
      const hit = (hits.get(url.pathname) ?? 0) + 1;
      hits.set(url.pathname, hit);
      if (o.fault?.(r, res, hit)) return;

      if (url.pathname === '/token' && req.method === 'POST' && o.serviceAccount) {
        const form = new URLSearchParams(await readBody(req));
        const [h, p, s] = (form.get('assertion') ?? '').split('.');
        const ok = form.get('grant_type') === 'urn:ietf:params:oauth:grant-type:jwt-bearer' && h && p && s && verify('sha256', Buffer.from(`${h}.${p}`), o.serviceAccount.publicKey, Buffer.from(s, 'base64url'));
        const claims = ok ? (JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>) : {};
        if (!ok || claims.iss !== o.serviceAccount.email) return json(res, 400, { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' });
        exchanges.push(claims);
        return json(res, 200, { access_token: o.serviceAccount.issueToken, expires_in: 3600, token_type: 'Bearer' });
      }

      const token = req.headers.authorization?.replace(/^Bearer /, '');
      if (token === undefined || !o.tokens.includes(token)) return googleError(res, 401, 'UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token.');
      if (req.method !== 'GET' || !url.pathname.startsWith(prefix)) return googleError(res, 404, 'NOT_FOUND', `no route ${url.pathname}`);
      const rest = url.pathname.slice(prefix.length);
      if (rest === 'jobs') {
        const size = Number(url.searchParams.get('pageSize') ?? '10');
        const from = Number(url.searchParams.get('pageToken') ?? '0');
        const filter = url.searchParams.get('filter');
        const matcher = url.searchParams.get('jobStateMatcher') ?? 'ALL';
        const clusterName = url.searchParams.get('clusterName');
        // With a filter the API ignores jobStateMatcher.
        const keep = filter !== null ? parseFilter(filter) : (j: ListedJob) => stateMatches(j.status?.state ?? '', matcher);
        if (keep === null || !['ALL', 'ACTIVE', 'NON_ACTIVE'].includes(matcher)) return googleError(res, 400, 'INVALID_ARGUMENT', `Invalid filter or jobStateMatcher`);
        const matching = (o.jobs as ListedJob[]).filter((j) => keep(j) && (clusterName === null || j.placement?.clusterName === clusterName));
        const page = matching.slice(from, from + size);
        const next = from + size < matching.length ? String(from + size) : undefined;
        return json(res, 200, { jobs: page, ...(next !== undefined ? { nextPageToken: next } : {}) });
      }
      const m = /^clusters\/([^/]+)$/.exec(rest);
      const cluster = m ? o.clusters?.[decodeURIComponent(m[1]!)] : undefined;
      if (cluster !== undefined) return json(res, 200, cluster);
      return googleError(res, 404, 'NOT_FOUND', `Not found: ${rest}`);
    })();
  });
  return {
    url: local.url,
    requests,
    exchanges,
    close: local.close,
  };
}

/** A Dataproc job resource (v1 field names) built from a few values. */
export interface FakeJob {
  id: string;
  kind?: 'sparkJob' | 'pysparkJob' | 'sparkSqlJob' | 'sparkRJob' | 'hiveJob';
  cluster?: string;
  clusterUuid?: string;
  state: 'DONE' | 'ERROR' | 'CANCELLED' | 'RUNNING' | 'PENDING';
  details?: string;
  /** Epoch ms of PENDING, RUNNING (SETUP_DONE at `setupMs`, default halfway between) and the final state. */
  submitMs: number;
  setupMs?: number;
  startMs?: number;
  endMs?: number;
  properties?: Record<string, string>;
  yarnApps?: string[];
  labels?: Record<string, string>;
}

const t = (ms: number): string => new Date(ms).toISOString();

export function fakeJob(j: FakeJob): Record<string, unknown> {
  const history: { state: string; stateStartTime: string }[] = [{ state: 'PENDING', stateStartTime: t(j.submitMs) }];
  if (j.startMs !== undefined) history.push({ state: 'SETUP_DONE', stateStartTime: t(j.setupMs ?? Math.round((j.submitMs + j.startMs) / 2)) }, { state: 'RUNNING', stateStartTime: t(j.startMs) });
  const current = j.state === 'RUNNING' ? history.pop()! : j.state === 'PENDING' ? history.pop()! : { state: j.state, stateStartTime: t(j.endMs ?? j.submitMs) };
  return {
    reference: { projectId: 'p', jobId: j.id },
    placement: { clusterName: j.cluster ?? 'c1', clusterUuid: j.clusterUuid ?? `uuid-${j.cluster ?? 'c1'}` },
    [j.kind ?? 'sparkJob']: { mainClass: 'org.example.Main', ...(j.properties ? { properties: j.properties } : {}) },
    status: { ...current, ...(j.details !== undefined ? { details: j.details } : {}) },
    statusHistory: history,
    yarnApplications: (j.yarnApps ?? []).map((id) => ({ name: `app ${id}`, state: 'FINISHED', progress: 1, trackingUrl: `http://c1-m:8088/proxy/${id}/` })),
    ...(j.labels ? { labels: j.labels } : {}),
    jobUuid: `juuid-${j.id}`,
    done: j.state === 'DONE' || j.state === 'ERROR' || j.state === 'CANCELLED',
  };
}

/** A cluster resource with `spark:` properties and instance groups. */
export function fakeCluster(name: string, o: { image: string; master: [string, number]; worker: [string, number]; properties?: Record<string, string> }): Record<string, unknown> {
  const mt = (type: string): string => `https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a/machineTypes/${type}`;
  return {
    projectId: 'p',
    clusterName: name,
    clusterUuid: `uuid-${name}`,
    config: {
      softwareConfig: { imageVersion: o.image, properties: o.properties ?? {} },
      masterConfig: { numInstances: o.master[1], machineTypeUri: mt(o.master[0]) },
      workerConfig: { numInstances: o.worker[1], machineTypeUri: mt(o.worker[0]) },
    },
    status: { state: 'RUNNING' },
  };
}
