import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../src/collectors/contract';
import { CancelledError, collectInWorker } from '../src/worker/collectClient';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const DIST = path.resolve(__dirname, '..', 'dist');

describe('collection in a worker thread', () => {
  it('streams batches to the host, skips files the host already knows, reports progress', async () => {
    const dir = tempDir();
    for (let i = 0; i < 5; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 2, tasksPerStage: 10 }).text);
    const known = [{ unit_path: path.join(dir, 'app-0'), path: path.join(dir, 'app-0'), size: 0, mtime_ms: 0 }];
    const progress: number[] = [];
    const run = collectInWorker(
      path.join(DIST, 'collectWorker.js'),
      { job: { kind: 'event_log', name: 'test', options: { path: dir, recursive: true, source: 'test', batchSize: 2 } }, known, poolScript: path.join(DIST, 'worker.js') },
      (p) => progress.push(p.logsDone),
    );
    const batches: Batch[] = [];
    for await (const b of run.batches) batches.push(b);
    expect(batches.length).toBeGreaterThan(1);
    expect(batches.flatMap((b) => b.apps.map((a) => a.record.app_id)).sort()).toEqual(['app-0', 'app-1', 'app-2', 'app-3', 'app-4']); // app-0's size differs: read again
    const { statSync } = await import('node:fs');
    const st = statSync(path.join(dir, 'app-1'));
    const known1 = [{ unit_path: path.join(dir, 'app-1'), path: path.join(dir, 'app-1'), size: st.size, mtime_ms: st.mtimeMs }];
    const again = collectInWorker(path.join(DIST, 'collectWorker.js'), { job: { kind: 'event_log', name: 'test', options: { path: dir, recursive: true, source: 'test', batchSize: 10 } }, known: known1 }, () => undefined);
    let unchanged = 0;
    let apps = 0;
    for await (const b of again.batches) {
      unchanged += b.unchanged;
      apps += b.apps.length;
    }
    expect([apps, unchanged]).toEqual([4, 1]);
  });

  it('cancel stops the worker promptly and ends the batches with CancelledError', async () => {
    const dir = tempDir();
    const text = eventLogText({ stages: 20, tasksPerStage: 200 }).text;
    for (let i = 0; i < 12; i++) writeFileSync(path.join(dir, `app-${i}`), text);
    const run = collectInWorker(path.join(DIST, 'collectWorker.js'), { job: { kind: 'event_log', name: 'test', options: { path: dir, recursive: true, source: 'test', batchSize: 1, concurrency: 1 } }, known: [] }, () => undefined);
    let cancelledAt = 0;
    let got = 0;
    const consume = (async () => {
      for await (const b of run.batches) {
        got += b.apps.length;
        if (!cancelledAt) {
          cancelledAt = Date.now();
          run.cancel();
        }
      }
    })();
    await expect(consume).rejects.toBeInstanceOf(CancelledError);
    expect(got).toBeLessThan(12);
    // Stopped within the grace period (a cancel message, then terminate), not after reading everything.
    expect(Date.now() - cancelledAt).toBeLessThan(2500);
  });

  it('a worker that dies ends the run with an error, not a hang', async () => {
    const dir = tempDir();
    const bogus = path.join(dir, 'crash.js');
    writeFileSync(bogus, 'process.exit(3)');
    const run = collectInWorker(bogus, { job: { kind: 'event_log', name: 'test', options: { path: dir, recursive: true, source: 'test', batchSize: 1 } }, known: [] }, () => undefined);
    const consume = (async () => {
      for await (const _ of run.batches) void _;
    })();
    await expect(consume).rejects.toThrow(/exited unexpectedly \(code 3\)/);
  });
});
