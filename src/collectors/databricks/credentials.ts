/**
 * Databricks credentials: which workspace and token a source uses (the options, then the
 * environment), and OAuth machine-to-machine (a service principal's client id and secret): an
 * access token from the workspace's `/oidc/v1/token` with the client-credentials grant, refreshed
 * before it expires. Config profiles are read in profile.ts.
 *
 * Secrets never go into a message: descriptions name where a credential came from, and an error
 * answer of the token endpoint is cut short with the client secret masked.
 */
import { request } from 'undici';
import { AuthError, HttpError, JsonClient, proxyFromEnv, type HttpAuth } from '../http/jsonClient';
import { maskSecrets } from '../maskSecrets';
import type { Problem } from '../record';

/** The token endpoint refused the client (400/401): the client id or secret is wrong, or not allowed. */
export class OAuthRefusedError extends AuthError {
  constructor(status: number, tokenPath: string, detail: string) {
    // 401 for the collector: nothing else will work either, the run stops.
    super(401, tokenPath, detail);
    this.name = 'OAuthRefusedError';
    this.message = `the OAuth token exchange at ${tokenPath} was refused (HTTP ${status})${detail}`;
  }
}

export interface OAuthClientOptions {
  /** The workspace URL (https://…), without a trailing path. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Per-exchange timeout (default 30 s). */
  timeoutMs?: number;
  /** Attempts per exchange for network errors, 429 and 5xx (default 4). */
  maxAttempts?: number;
  /** First backoff delay (default 500 ms). */
  backoffMs?: number;
  /** Refresh this long before expiry (default 60 s). */
  refreshMarginMs?: number;
  /** The clock (tests). */
  now?: () => number;
}

const TOKEN_PATH = 'oidc/v1/token';

/** `error: error_description` of an OAuth error answer, short, with `secrets` masked; '' when none. */
function oauthDetail(text: string, secrets: string[]): string {
  let detail: string;
  try {
    const body = JSON.parse(text) as { error?: unknown; error_description?: unknown } | null;
    detail = [body?.error, body?.error_description].filter((x): x is string => typeof x === 'string' && x !== '').join(': ');
  } catch {
    return '';
  }
  detail = maskSecrets(detail, secrets);
  return detail === '' ? '' : ` (${detail.length > 200 ? `${detail.slice(0, 200)}…` : detail})`;
}

/**
 * A bearer-token source for a service principal: the client-credentials grant at
 * `{baseUrl}/oidc/v1/token` (scope `all-apis`, client id and secret as HTTP basic auth). The token is
 * kept and exchanged again when it is within `refreshMarginMs` of expiry; callers at the same time
 * share one exchange. A refusal throws OAuthRefusedError; a server that keeps failing, HttpError.
 */
export function oauthTokenProvider(o: OAuthClientOptions): () => Promise<string> {
  const now = o.now ?? Date.now;
  const margin = o.refreshMarginMs ?? 60_000;
  const maxAttempts = Math.max(1, o.maxAttempts ?? 4);
  const backoffMs = o.backoffMs ?? 500;
  const timeoutMs = o.timeoutMs ?? 30_000;
  const url = `${o.baseUrl.replace(/\/+$/, '')}/${TOKEN_PATH}`;
  const basic = Buffer.from(`${encodeURIComponent(o.clientId)}:${encodeURIComponent(o.clientSecret)}`).toString('base64');
  const secrets = [o.clientSecret, basic];
  let current: { token: string; expiresAt: number } | undefined;
  let inFlight: Promise<string> | undefined;
  // Through the environment's proxy, as the API requests go (a review: behind one, the exchange failed with ENOTFOUND).
  const dispatcher = proxyFromEnv();

  const exchange = async (): Promise<string> => {
    let last = '';
    let lastStatus: number | null = null;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      let text: string;
      let status: number;
      try {
        const res = await request(url, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'all-apis' }).toString(),
          signal: AbortSignal.timeout(timeoutMs),
          ...(dispatcher === undefined ? {} : { dispatcher }),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        last = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : `${e.code ?? e.name}: ${e.message}`;
        lastStatus = null;
        if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, Math.random() * backoffMs * 2 ** (attempt - 1)));
        continue;
      }
      if (status === 200) {
        const body = ((): { access_token?: unknown; expires_in?: unknown } | null => {
          try {
            return JSON.parse(text) as { access_token?: unknown; expires_in?: unknown } | null;
          } catch {
            return null;
          }
        })();
        if (typeof body?.access_token !== 'string' || body.access_token === '') throw new HttpError(`${TOKEN_PATH}: the answer has no access_token`, TOKEN_PATH, 200, attempt);
        const expiresIn = typeof body.expires_in === 'number' && Number.isFinite(body.expires_in) ? body.expires_in : 3600;
        current = { token: body.access_token, expiresAt: now() + expiresIn * 1000 };
        return body.access_token;
      }
      const detail = status >= 400 && status < 500 ? oauthDetail(text, secrets) : '';
      if (status === 400 || status === 401 || status === 403) throw new OAuthRefusedError(status, TOKEN_PATH, detail);
      last = `HTTP ${status}${detail}`;
      lastStatus = status;
      if (!(status === 408 || status === 429 || status >= 500)) throw new HttpError(`${TOKEN_PATH}: ${last}`, TOKEN_PATH, status, attempt);
      if (attempt < maxAttempts) await new Promise((r) => setTimeout(r, Math.random() * backoffMs * 2 ** (attempt - 1)));
    }
    throw new HttpError(`${TOKEN_PATH}: ${last} (gave up after ${maxAttempts} attempts)`, TOKEN_PATH, lastStatus, maxAttempts);
  };

  return (): Promise<string> => {
    if (current !== undefined && now() < current.expiresAt - margin) return Promise.resolve(current.token);
    inFlight ??= exchange().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** Where a Databricks source's workspace and credentials come from, and how its requests are sent. */
export interface WorkspaceAccess {
  /** Overrides the workspace URL (proxies, tests); wins over `host`. */
  endpointUrl?: string;
  /** The workspace URL; without it (and without endpointUrl) DATABRICKS_HOST is read. */
  host?: string;
  /** Where `host` came from, for messages ("DATABRICKS_HOST", "the source's host"). */
  hostSource?: string;
  /** A personal access token or OAuth access token; without it DATABRICKS_TOKEN is read. */
  token?: string;
  /** Where the token came from, named when it is refused ("token from DATABRICKS_TOKEN"). */
  tokenSource?: string;
  /**
   * A service principal's OAuth client id, for machine-to-machine OAuth when there is no token;
   * without it DATABRICKS_CLIENT_ID is read. Not a secret: named in messages.
   */
  clientId?: string;
  /** The client's secret (plain data: the token source is built in the collector); without it DATABRICKS_CLIENT_SECRET. */
  clientSecret?: string;
  /** Where the client came from, named when it is refused ("OAuth client <id> (DATABRICKS_CLIENT_ID)"). */
  clientSource?: string;
  /** The token could not be resolved (a `${env:VAR}` that is not set): reported, no request sent. */
  credentialError?: string;
  /** Per-request timeout in ms (default 30 s). */
  timeoutMs?: number;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** First backoff delay (default 500 ms). */
  backoffMs?: number;
  /** Longest single wait, Retry-After included (default 30 s). */
  maxDelayMs?: number;
  /** Largest answer read, in bytes (jsonClient.ts; default 256 MiB): `max_response_mb`. */
  maxResponseBytes?: number;
}

/** A workspace client, and the words that name its credentials when they are refused. */
export interface Workspace {
  api: JsonClient;
  /** "credential tried: <where the token came from>, workspace URL from <where the host came from>". */
  tried: string;
  /** Masks the token, the OAuth client's secret and every token issued to it in a message. */
  scrub: (text: string) => string;
}

function hostUrl(options: WorkspaceAccess): { url: string | undefined; from: string } {
  const envHost = process.env.DATABRICKS_HOST === '' ? undefined : process.env.DATABRICKS_HOST;
  const raw = options.endpointUrl ?? options.host ?? envHost;
  const from = options.endpointUrl !== undefined ? "the source's endpoint_url" : options.host !== undefined ? (options.hostSource ?? "the source's host") : 'DATABRICKS_HOST';
  if (raw === undefined) return { url: undefined, from };
  // Databricks' own tools accept a bare workspace name ("dbc-1234.cloud.databricks.com").
  return { url: /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`, from };
}

/**
 * The workspace client of source `source`, credentials first: without a host or a token nothing is
 * sent, and an OAuth client is exchanged for its first token before any request. What stops it is
 * returned as problems.
 */
export async function connectWorkspace(options: WorkspaceAccess, source: string): Promise<Workspace | { problems: Problem[] }> {
  const { url, from: hostFrom } = hostUrl(options);
  const env = (name: string): string | undefined => (process.env[name] === '' ? undefined : process.env[name]);
  const envToken = env('DATABRICKS_TOKEN');
  const token = options.credentialError === undefined ? (options.token ?? envToken) : undefined;
  // Without a token: OAuth machine-to-machine, the client from the options or the environment.
  const fromOptions = options.clientId !== undefined && options.clientSecret !== undefined;
  const clientId = token === undefined && options.credentialError === undefined ? (fromOptions ? options.clientId : env('DATABRICKS_CLIENT_SECRET') !== undefined ? env('DATABRICKS_CLIENT_ID') : undefined) : undefined;
  const clientSecret = clientId === undefined ? undefined : fromOptions ? options.clientSecret : env('DATABRICKS_CLIENT_SECRET');
  const tokenSource =
    clientId !== undefined
      ? fromOptions
        ? (options.clientSource ?? `OAuth client ${clientId} (given in the options)`)
        : `OAuth client ${clientId} (DATABRICKS_CLIENT_ID)`
      : options.token !== undefined
        ? (options.tokenSource ?? 'the token given in the options')
        : 'token from DATABRICKS_TOKEN';
  const problems: Problem[] = [];
  if (url === undefined) problems.push({ severity: 'error', code: 'config', message: `source ${source}: no Databricks workspace URL: set DATABRICKS_HOST, the source's host (e.g. https://dbc-1234.cloud.databricks.com), or host in ~/.databrickscfg` });
  if (options.credentialError !== undefined) problems.push({ severity: 'error', code: 'auth-failed', message: `source ${source}: ${options.credentialError}; set it, or DATABRICKS_TOKEN, or store a token with "Set Source Secret"` });
  else if (token === undefined && clientId === undefined)
    problems.push({ severity: 'error', code: 'auth-failed', message: `source ${source}: no Databricks token: set DATABRICKS_TOKEN, the source's token as \${env:VAR}, a token or client_id/client_secret in ~/.databrickscfg, DATABRICKS_CLIENT_ID + DATABRICKS_CLIENT_SECRET, or store one with "Set Source Secret"` });
  if (url === undefined || problems.length > 0) return { problems };

  const secrets = new Set<string>([token, clientSecret].filter((s): s is string => s !== undefined && s.length >= 4));
  const oauth = clientId !== undefined ? oauthTokenProvider({ baseUrl: url, clientId, clientSecret: clientSecret!, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs }) : undefined;
  const provider =
    oauth === undefined
      ? undefined
      : async (): Promise<string> => {
          const issued = await oauth();
          if (issued.length >= 4) secrets.add(issued);
          return issued;
        };
  const scrub = (text: string): string => maskSecrets(text, secrets);
  const auth: HttpAuth = provider !== undefined ? { type: 'bearerProvider', token: provider } : { type: 'bearer', token: token! };
  let api: JsonClient;
  try {
    api = new JsonClient({ baseUrl: url, auth, timeoutMs: options.timeoutMs, maxAttempts: options.maxAttempts, backoffMs: options.backoffMs, maxDelayMs: options.maxDelayMs, maxResponseBytes: options.maxResponseBytes });
  } catch (err) {
    return { problems: [{ severity: 'error', code: 'config', message: `source ${source}: the workspace URL from ${hostFrom} is not usable: ${(err as Error).message}` }] };
  }
  // The first OAuth exchange before any request: a refused client is one problem, nothing listed.
  if (provider !== undefined) {
    try {
      await provider();
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      await api.close();
      return { problems: [{ severity: 'error', code: 'auth-failed', message: `source ${source}: ${why}; credential tried: ${tokenSource}, workspace URL from ${hostFrom} (check the client id and secret, or the service principal's access)`, file: api.urlOf('oidc/v1/token') }] };
    }
  }
  return { api, tried: `credential tried: ${tokenSource}, workspace URL from ${hostFrom}`, scrub };
}
