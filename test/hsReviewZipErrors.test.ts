/**
 * History Server `mode: eventlog`: what a user is told when the `/logs` answer is not a readable zip
 * (a review). It was yauzl's own words, "End of central directory record signature not found. Either
 * not a zip file, or file is truncated.", naming neither the URL it came from nor what came instead:
 * a sign-in page (a proxy in front of the server answering 200 with HTML) read the same as a cut-off
 * zip, and a damaged entry gave zlib's words alone. Now the problem names the `/logs` URL, and says a
 * web page, an empty answer, a damaged or cut-off zip of N bytes, or which entry could not be
 * unpacked; credentials in the URL appear nowhere.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, type FakeServer } from './support/historyServerFake';
import { zip } from './support/zip';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const answer =
  (body: Buffer | string, type = 'application/octet-stream') =>
  (_req: unknown, res: ServerResponse): void => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };

describe('History Server mode eventlog: a /logs answer that is not a readable zip', () => {
  it('a sign-in page, a cut-off zip and an empty answer are each a problem naming the app, its /logs URL and what came', async () => {
    const log = eventLogText({ appId: 'app-good', startMs: Date.UTC(2024, 5, 1), stages: 2, tasksPerStage: 50 });
    const good = await zip({ 'app-good': log.text });
    const ids = ['app-good', 'app-login', 'app-cut', 'app-empty', 'app-bad'];
    // Garbage over part of the deflated data (after the local header and the name).
    const bad = Buffer.from(good).fill(0xff, 40, 48);
    server = await startFakeServer({
      applications: { json: syntheticListing(ids.map((id) => ({ id, startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }))) },
      'applications/app-good/logs': answer(good),
      'applications/app-login/logs': answer('\n<!DOCTYPE html><html><body>Sign in</body></html>', 'text/html; charset=utf-8'),
      'applications/app-cut/logs': answer(good.subarray(0, good.length >> 1)),
      'applications/app-empty/logs': answer(''),
      'applications/app-bad/logs': answer(bad),
    });
    const url = server.url.replace('http://', 'http://alice:pa55word@');
    const r = await collectHistoryServerAll({ url, mode: 'eventlog', maxAttempts: 1 });
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    const logs = (id: string): string => `${server!.url}/api/v1/applications/${id}/logs`;
    const byApp = new Map(r.problems.map((p) => [p.message.split(':')[0]!, p] as const));
    expect([...byApp.keys()].sort()).toEqual(['app-bad', 'app-cut', 'app-empty', 'app-login']);
    expect(byApp.get('app-login')!.message).toBe(
      `app-login: ${logs('app-login')}: the server answered with a web page, not a zip of the event log: a sign-in page or a proxy in front of the History Server? Check the URL and the credentials`,
    );
    expect(byApp.get('app-cut')!.message).toMatch(new RegExp(`^app-cut: ${logs('app-cut').replace(/[.?]/g, '\\$&')}: the downloaded zip \\(${good.length >> 1} bytes\\) is damaged or cut off \\(.+\\)$`));
    expect(byApp.get('app-bad')!.message).toMatch(new RegExp(`^app-bad: ${logs('app-bad').replace(/[.?]/g, '\\$&')}: "app-good" in the downloaded zip could not be unpacked \\(.+\\)$`));
    expect(byApp.get('app-empty')!.message).toBe(`app-empty: ${logs('app-empty')}: the server answered with 0 bytes, not a zip of the event log`);
    for (const p of r.problems) {
      expect(p.code).toBe('rest-invalid');
      expect(JSON.stringify(p)).not.toContain('pa55word');
    }
  });
});
