/**
 * History Server `mode: eventlog`: the attempt a record is stored under (a review). The record of a
 * downloaded log took the log's own `App Attempt ID`; a log without one (or with another) under a
 * listed attempt gave a record of no attempt, so the two attempts of a retried application were
 * stored as one (the second replacing the first), under a key the listing never gave. The record
 * now keeps the server's attempt id, as it keeps the server's application id, with a warning.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { eventLogText } from './support/eventLogGenerator';
import { serve, syntheticListing, type SyntheticApp } from './support/historyServerFake';
import { zip } from './support/zip';

describe('History Server mode eventlog: the attempt id', () => {
  it('two listed attempts whose logs name no attempt are two records, under the server’s attempt ids, each with a warning', async () => {
    const logs = ['1', '2'].map((a, i) => eventLogText({ appId: 'app-r', startMs: Date.UTC(2024, 5, 1, i), seed: i + 1 }));
    for (const l of logs) expect(l.text).not.toContain('App Attempt ID');
    const attempts: SyntheticApp[] = logs.map((l, i) => ({ id: 'app-r', attemptId: String(2 - i), startMs: logs[1 - i]!.totals.start_ms, endMs: logs[1 - i]!.totals.end_ms, executors: [], stages: [] }));
    const zips = await Promise.all(logs.map((l, i) => zip({ [`app-r_${i + 1}`]: l.text })));
    const s = await serve({
      applications: { json: syntheticListing(attempts) },
      ...Object.fromEntries(
        zips.map((bytes, i) => [
          `applications/app-r/${i + 1}/logs`,
          (_req: unknown, res: ServerResponse) => {
            res.writeHead(200);
            res.end(bytes);
          },
        ]),
      ),
    });
    const r = await collectHistoryServerAll({ url: s.url, mode: 'eventlog' });
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => [a.record.app_id, a.record.attempt_id, a.record.total_tasks]).sort()).toEqual([
      ['app-r', '1', logs[0]!.totals.total_tasks],
      ['app-r', '2', logs[1]!.totals.total_tasks],
    ]);
    for (const a of r.apps) {
      expect(a.problems).toContainEqual({
        severity: 'warning',
        code: 'attempt-id-differs',
        message: `app-r attempt ${a.record.attempt_id!}: the downloaded log says no attempt; the record keeps the History Server's attempt id`,
        file: `${s.url}/api/v1/applications/app-r/${a.record.attempt_id!}/logs`,
      });
    }
  });
});
