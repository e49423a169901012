/**
 * History Server `mode: eventlog` downloads (a review): the `/logs` zip of a large event log.
 *
 * The download's timeout covered the whole transfer (ten times the request timeout, 300 s by
 * default), so a zip that takes longer to arrive, however steadily (a 4 GB zip at 10 MB/s), was cut
 * off, asked for again from its first byte (four times) and never read. A download now fails when
 * no data comes for that long, not when it is long.
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

const log = eventLogText({ appId: 'app-slow', startMs: Date.UTC(2024, 5, 1), stages: 3, tasksPerStage: 100 });
const listing = syntheticListing([{ id: 'app-slow', startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }]);

/** Serves `bytes` in `pieces` parts, one every `everyMs`; after `stopAfter` parts (if given) it sends nothing more. */
function trickle(bytes: Buffer, pieces: number, everyMs: number, stopAfter = pieces): (req: unknown, res: ServerResponse) => void {
  return (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
    const size = Math.ceil(bytes.length / pieces);
    let i = 0;
    const next = (): void => {
      if (i >= stopAfter || res.destroyed) return;
      res.write(bytes.subarray(i * size, (i + 1) * size));
      i++;
      if (i === pieces) res.end();
      else setTimeout(next, everyMs);
    };
    next();
  };
}

describe('History Server mode eventlog: a long download', () => {
  it('a zip that arrives steadily for longer than ten request timeouts is read, in one request', { timeout: 20_000 }, async () => {
    const bytes = await zip({ 'app-slow': log.text });
    // 30 pieces 60 ms apart: about 1.8 s in all, never more than 60 ms without data; the request timeout is 100 ms.
    server = await startFakeServer({ applications: { json: listing }, 'applications/app-slow/logs': trickle(bytes, 30, 60) });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', timeoutMs: 100, maxAttempts: 2, backoffMs: 1, maxDelayMs: 2 });
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-slow']);
    expect(r.apps[0]!.record.total_tasks).toBe(log.totals.total_tasks);
    expect(server.requests.filter((p) => p.endsWith('/logs'))).toHaveLength(1);
  });

  it('a download that stops sending fails after ten request timeouts without data, naming the app and its /logs', { timeout: 20_000 }, async () => {
    const bytes = await zip({ 'app-slow': log.text });
    server = await startFakeServer({ applications: { json: listing }, 'applications/app-slow/logs': trickle(bytes, 30, 10, 5) });
    const t0 = performance.now();
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', timeoutMs: 100, maxAttempts: 1 });
    const took = performance.now() - t0;
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^app-slow: applications\/app-slow\/logs: no data for 1000 ms \(gave up after 1 attempts\)$/)]);
    expect(took).toBeGreaterThan(1000);
    expect(took).toBeLessThan(5000);
  });
});
