/**
 * History Server `mode: eventlog`, several attempts at once (`concurrency`, default 4) on one temp
 * disk (a review): each unpack checked the free space for itself alone, so attempts downloaded
 * together each saw room for their own log and together wrote past the 512 MB the collector keeps
 * free (a near-full /tmp filled up to ENOSPC, for every process on the machine). Now the attempts of
 * a run share what they were promised: an unpack that does not fit beside the others waits for them
 * (and is refused only when it does not fit alone).
 *
 * The disk is simulated (tests run as root on a large disk): statfs reports a capacity less what is
 * in this file's temp root, and writes are slowed so that two unpacks overlap.
 */
import type * as fs from 'node:fs';
import type * as fsPromises from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { eventLogText } from './support/eventLogGenerator';
import { serve, syntheticListing, type SyntheticApp } from './support/historyServerFake';
import { ownTempRoot } from './support/tmp';
import { zip } from './support/zip';

const RESERVE = 512 * 1024 * 1024;
const disk = vi.hoisted(() => ({ capacity: 0, root: '', minFree: Infinity }));

/** Bytes in the temp root now. */
function used(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    n += e.isDirectory() ? used(p) : statSync(p).size;
  }
  return n;
}

vi.mock('node:fs/promises', async (importOriginal) => {
  const real = await importOriginal<typeof fsPromises>();
  const statfs = (async (p: string) => {
    const s = await real.statfs(p);
    if (disk.capacity === 0 || !path.resolve(p).startsWith(disk.root)) return s;
    return { ...s, bsize: 1, bavail: Math.max(0, disk.capacity - used(disk.root)) };
  }) as typeof real.statfs;
  return { ...real, default: { ...real, statfs }, statfs };
});
vi.mock('node:fs', async (importOriginal) => {
  const real = await importOriginal<typeof fs>();
  // An unpacked entry written slowly (10 ms a chunk), noting the least free space the simulated disk had.
  const createWriteStream = ((file: string, options?: unknown) => {
    const out = real.createWriteStream(file, options as never);
    if (disk.capacity === 0) return out;
    return new Writable({
      write(chunk: Buffer, _enc, done) {
        out.write(chunk, (err) => {
          disk.minFree = Math.min(disk.minFree, disk.capacity - used(disk.root));
          setTimeout(() => done(err), 10);
        });
      },
      final(done) {
        out.end(done);
      },
    });
  }) as typeof real.createWriteStream;
  return { ...real, default: { ...real, createWriteStream }, createWriteStream };
});

const hsTempFolders = ownTempRoot('spark-opt-hs-');

describe('History Server mode eventlog: attempts at once on one temp disk', () => {
  it('two unpacks that fit the disk one at a time, not together, are both read, and the reserve is never touched', { timeout: 60_000 }, async () => {
    const logs = ['app-a', 'app-b'].map((id, i) => eventLogText({ appId: id, startMs: Date.UTC(2024, 5, 1, i), stages: 6, tasksPerStage: 300, seed: i + 1 }));
    const sizes = logs.map((l) => Buffer.byteLength(l.text));
    const zips = await Promise.all(logs.map((l, i) => zip({ [`app-${'ab'[i]!}`]: l.text })));
    const apps: SyntheticApp[] = logs.map((l, i) => ({ id: `app-${'ab'[i]!}`, startMs: l.totals.start_ms, endMs: l.totals.end_ms, executors: [], stages: [] }));
    const s = await serve({
      applications: { json: syntheticListing(apps) },
      ...Object.fromEntries(
        zips.map((bytes, i) => [
          `applications/app-${'ab'[i]!}/logs`,
          (_req: unknown, res: ServerResponse) => {
            res.writeHead(200);
            res.end(bytes);
          },
        ]),
      ),
    });
    hsTempFolders();
    disk.root = path.resolve(process.env.TMPDIR!);
    // Room for both zips and the larger log beside the reserve, not for both logs.
    disk.capacity = RESERVE + zips[0]!.length + zips[1]!.length + Math.max(...sizes) + Math.floor(Math.min(...sizes) / 2);
    disk.minFree = Infinity;
    try {
      const r = await collectHistoryServerAll({ url: s.url, mode: 'eventlog', concurrency: 2 });
      expect(r.problems).toEqual([]);
      expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(['app-a', 'app-b']);
      expect(disk.minFree).toBeGreaterThanOrEqual(RESERVE);
    } finally {
      disk.capacity = 0;
    }
  });
});
