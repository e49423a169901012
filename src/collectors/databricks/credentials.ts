/**
 * Databricks OAuth machine-to-machine (a service principal's client id and secret): an access token
 * from the workspace's `/oidc/v1/token` with the client-credentials grant, refreshed before it
 * expires. Config profiles are read in profile.ts.
 *
 * Secrets never go into a message: descriptions name where a credential came from, and an error
 * answer of the token endpoint is cut short with the client secret masked.
 */
import { request } from 'undici';
import { AuthError, HttpError } from '../http/jsonClient';

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
  for (const s of secrets) if (s !== '') detail = detail.split(s).join('***');
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
