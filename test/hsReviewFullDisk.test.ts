/**
 * History Server `mode: eventlog`: the temp folder's disk fills up while a zip is unpacked (a review).
 * That is this machine's fault, not the server's answer: the problem says the write failed, with
 * its reason, under code rest-failed, not "could not be unpacked" under rest-invalid as a damaged zip
 * is. Tests run as root, so a full disk is made by failing the write (fs.createWriteStream).
 */
import type * as fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { eventLogText } from './support/eventLogGenerator';
import { serve, syntheticListing } from './support/historyServerFake';
import { zip } from './support/zip';

/** Paths whose writes fail with ENOSPC. */
const full = vi.hoisted(() => ({ match: undefined as RegExp | undefined }));
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  const createWriteStream = ((file: string, options?: unknown) => {
    if (full.match === undefined || !full.match.test(String(file))) return real.createWriteStream(file, options as never);
    return new Writable({
      write(_chunk, _enc, done) {
        done(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
      },
    });
  }) as typeof real.createWriteStream;
  return { ...real, default: { ...real, createWriteStream }, createWriteStream };
});
afterEach(() => {
  full.match = undefined;
});

describe('History Server mode eventlog: a full disk while unpacking', () => {
  it('is said as a failed write to the temp folder, not as a damaged zip', async () => {
    const log = eventLogText({ appId: 'app-full', startMs: Date.UTC(2024, 5, 1) });
    const bytes = await zip({ 'app-full': log.text });
    const s = await serve({
      applications: { json: syntheticListing([{ id: 'app-full', startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }]) },
      'applications/app-full/logs': (_req: unknown, res: ServerResponse) => {
        res.writeHead(200);
        res.end(bytes);
      },
    });
    full.match = /spark-opt-hs-.*[/\\]logs[/\\]app-full$/;
    const r = await collectHistoryServerAll({ url: s.url, mode: 'eventlog' });
    expect(r.apps).toEqual([]);
    expect(r.problems).toHaveLength(1);
    const p = r.problems[0]!;
    expect(p.code).toBe('rest-failed');
    expect(p.message).toMatch(new RegExp(`^app-full: ${s.url.replace(/\./g, '\\.')}/api/v1/applications/app-full/logs: writing "app-full" to the temp folder .+ failed: ENOSPC: no space left on device, write$`));
  });
});
