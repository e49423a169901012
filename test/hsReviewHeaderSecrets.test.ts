/**
 * History Server `headers:` (source.ts: "a value may hold ${env:VAR} references (`Authorization:
 * Bearer ${env:SPARK_HISTORY_TOKEN}`)") and a server that echoes what it was sent in a 4xx answer
 * (a review): the error detail was masked only for a header spelled `authorization` in lower case,
 * which the client sets itself from `token:` or a username and password, so the documented
 * `Authorization: Bearer ${env:…}` and any other credential header (`X-Api-Key`) came out in the
 * problem, on the terminal and in the runs table. Now every credential the request carries is masked.
 */
import { describe, expect, it } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { serve } from './support/historyServerFake';

describe('History Server: secrets in configured headers, echoed by the server', () => {
  it('neither the Authorization header nor another credential header appears in the problem', async () => {
    const s = await serve({
      applications: (req, res) => {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `bad credentials: ${String(req.headers.authorization)} (token ${String(req.headers.authorization).split(' ')[1]}), key ${String(req.headers['x-api-key'])}` }));
      },
    });
    const r = await collectHistoryServerAll({ url: s.url, headers: { Authorization: 'Bearer tok-SECRET-123', 'X-Api-Key': 'key-SECRET-456' }, maxAttempts: 1 });
    expect(s.authorizations).toEqual(['Bearer tok-SECRET-123']);
    expect(r.problems).toHaveLength(1);
    const message = r.problems[0]!.message;
    expect(message).toMatch(/HTTP 400 \(bad credentials: Bearer \*\*\* \(token \*\*\*\), key \*\*\*\)/);
    expect(message).not.toContain('SECRET');
  });
});
