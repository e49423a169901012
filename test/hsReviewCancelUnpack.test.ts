/**
 * History Server `mode: eventlog`, cancelled while a downloaded zip is being unpacked (a review):
 * the unpacking did not look at the run's signal, so a cancelled run (Ctrl+C, the editor's Cancel)
 * went on writing every entry of the zip to the temp folder (a log of many GB: minutes) before it
 * ended. Now the unpacking stops at once: the run ends with the reason and the temp folder is gone.
 */
import type { ServerResponse } from 'node:http';
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { startFakeServer, syntheticListing, type FakeServer } from './support/historyServerFake';
import { ownTempRoot } from './support/tmp';
import { zip } from './support/zip';

const hsTempFolders = ownTempRoot('spark-opt-hs-');

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('History Server mode eventlog: cancelled while unpacking', () => {
  it('stops unpacking at once: the run ends with the reason, well before the zip could have been unpacked, and no temp folder is left', { timeout: 60_000 }, async () => {
    // A rolling log of many parts (the zip's entries are unpacked one by one).
    const parts = 8000;
    const line = `${JSON.stringify({ Event: 'SparkListenerUnknownPadding', text: 'x'.repeat(2000) })}\n`;
    const entries: Record<string, string> = {};
    for (let i = 1; i <= parts; i++) entries[`eventlog_v2_app-big/events_${i}_app-big`] = line;
    const bytes = await zip(entries, false);
    server = await startFakeServer({
      applications: { json: syntheticListing([{ id: 'app-big', startMs: Date.UTC(2024, 5, 1), endMs: Date.UTC(2024, 5, 1, 1), executors: [], stages: [] }]) },
      'applications/app-big/logs': (_req: unknown, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': bytes.length });
        res.end(bytes);
      },
    });
    const before = new Set(hsTempFolders());
    const controller = new AbortController();
    const run = collectHistoryServerAll({ url: server.url, mode: 'eventlog' }, { signal: controller.signal });
    run.catch(() => undefined);
    // Wait until the unpacking has begun: the first part is in the temp folder.
    const unpacked = (): number => {
      const mine = hsTempFolders().filter((n) => !before.has(n));
      if (mine.length === 0) return 0;
      const dir = path.join(process.env.TMPDIR!, mine[0]!, 'logs', 'eventlog_v2_app-big');
      return existsSync(dir) ? readdirSync(dir).length : 0;
    };
    const t = performance.now();
    while (unpacked() === 0) {
      expect(performance.now() - t).toBeLessThan(30_000);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const t0 = performance.now();
    controller.abort(new Error('cancelled by the test'));
    await expect(run).rejects.toThrow('cancelled by the test');
    // The old code went on unpacking the 8,000 parts: 5 s here; now about 10 ms.
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(hsTempFolders().filter((n) => !before.has(n))).toEqual([]);
  });
});
