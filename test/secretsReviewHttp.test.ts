/**
 * Credentials a History Server's 4xx answer echoed back into the problem (a security review): a
 * Cookie header's session value taken from `${env:…}` (L5: only whole header values were masked),
 * and a Basic password written percent-encoded in the URL (L6: only its decoded form was masked).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../src/collectors/config';
import { resolveHeaders } from '../src/collectors/configKeys';
import { JsonClient } from '../src/collectors/http/jsonClient';
import { jobsFor, recordedOptions } from '../src/collectors/registry';
import { listenLocal, type LocalServer } from './support/localServer';
import { failure } from './support/failure';

const servers: LocalServer[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A server that says what it got in a 400 answer: each cookie's value, the API key after its `-`, the password percent-encoded. */
async function echoing(): Promise<string> {
  const s = await listenLocal((req: IncomingMessage, res: ServerResponse) => {
    const cookies = (req.headers.cookie ?? '').split(';').map((c) => c.trim().split('=')[1]).join(',');
    const basic = Buffer.from((req.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
    res.writeHead(400, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ message: `invalid session ${cookies}; key ${String(req.headers['x-api-key'] ?? '').split('-')[1] ?? ''}; password ${encodeURIComponent(basic.slice(basic.indexOf(':') + 1))}` }));
  });
  servers.push(s);
  return s.url;
}


describe('L5: a header value taken from the environment is a secret, in part as much as whole', () => {
  it('masks the session value of a Cookie header and a key written inside a longer value', async () => {
    vi.stubEnv('HS_COOKIE_T', 'COOKIE_SESSION_SECRET_1');
    vi.stubEnv('HS_KEY_T', 'KEY_SECRET_2');
    const resolved = resolveHeaders({ Cookie: 'JSESSIONID=${env:HS_COOKIE_T}; theme=dark', 'X-Api-Key': 'k-${env:HS_KEY_T}' });
    expect(resolved).toEqual({ headers: { Cookie: 'JSESSIONID=COOKIE_SESSION_SECRET_1; theme=dark', 'X-Api-Key': 'k-KEY_SECRET_2' }, headerSecrets: ['COOKIE_SESSION_SECRET_1', 'KEY_SECRET_2'] });
    const url = await echoing();
    const message = (await failure(new JsonClient({ baseUrl: url, ...resolved, maxAttempts: 1 }).getText('p'))).message;
    expect(message).toMatch(/^p: HTTP 400 \(invalid session \*\*\*,\*\*\*; key \*\*\*; password/);
    expect(message).not.toMatch(/SECRET/);
  });

  it('splits a Cookie header written inline into its values', async () => {
    const url = await echoing();
    const message = (await failure(new JsonClient({ baseUrl: url, headers: { Cookie: 'SESSION=inline-SECRET-3; lang=en-GB' }, maxAttempts: 1 }).getText('p'))).message;
    expect(message).not.toMatch(/SECRET/);
  });

  it('the History Server source carries the values to its client, and its run record keeps none of them', () => {
    vi.stubEnv('HS_COOKIE_T', 'COOKIE_SESSION_SECRET_1');
    const parsed = parseConfig('sources:\n  - name: hs\n    type: history_server\n    history_server_url: http://127.0.0.1:1\n    headers:\n      Cookie: "JSESSIONID=${env:HS_COOKIE_T}; theme=dark"\n', '/work');
    expect(parsed.errors).toEqual([]);
    const [job] = jobsFor(parsed.sources[0]!);
    expect((job!.options as { headerSecrets?: string[] }).headerSecrets).toEqual(['COOKIE_SESSION_SECRET_1']);
    expect(JSON.stringify(recordedOptions(job!))).not.toContain('COOKIE_SESSION_SECRET_1');
  });
});

describe('L6: a Basic password written percent-encoded in the URL', () => {
  it('is masked as written and as sent', async () => {
    const url = await echoing();
    const message = (await failure(new JsonClient({ baseUrl: url.replace('http://', 'http://u:p%40ss%2Bword_SECRET@'), maxAttempts: 1 }).getText('p'))).message;
    expect(message).toMatch(/password \*\*\*\)$/);
    expect(message).not.toMatch(/SECRET/);
  });
});
