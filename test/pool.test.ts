import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it, vi } from 'vitest';
import { collectAll, collectEventLogs } from '../src/collectors/eventlog/collect';
import { UnitPool } from '../src/collectors/eventlog/pool';
import { discover, type LogUnit } from '../src/collectors/eventlog/discovery';
import type { CollectProgress } from '../src/collectors/contract';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';
import { skippedHere } from './support/skip';

const WORKER = path.resolve(__dirname, '..', 'dist', 'worker.js');

describe('parallel reading on the worker pool', () => {
  it('gives the same records as reading on this thread, with progress', async () => {
    const dir = tempDir();
    // More logs than collectEventLogs reads before it starts the pool (POOL_AFTER_LOGS).
    const count = 40;
    let bytes = 0;
    for (let i = 0; i < count; i++) {
      const file = path.join(dir, `app-${i}`);
      writeFileSync(file, eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 3, tasksPerStage: 20 }).text);
      bytes += statSync(file).size;
    }
    const progress: { logsDone: number; bytesRead: number }[] = [];
    const pooledReads = vi.spyOn(UnitPool.prototype, 'read');
    let pooled: Awaited<ReturnType<typeof collectAll>>;
    try {
      pooled = await collectAll({ path: dir, concurrency: 3 }, { workerScript: WORKER, onProgress: (p) => progress.push({ logsDone: p.logsDone, bytesRead: p.bytesRead }) });
      expect(pooledReads.mock.calls.length).toBeGreaterThan(0);
    } finally {
      pooledReads.mockRestore();
    }
    const inline = await collectAll({ path: dir, concurrency: 1 });
    const byId = (r: typeof pooled): unknown[] => r.apps.map((a) => a.record).sort((a, b) => a.app_id.localeCompare(b.app_id));
    expect(pooled.apps).toHaveLength(count);
    expect(byId(pooled)).toEqual(byId(inline));
    // Every byte read is reported, those read by the workers too (with their answers).
    expect(progress.at(-1)).toEqual({ logsDone: count, bytesRead: bytes });
  });

  it.skipIf(skippedHere(process.platform !== 'linux', `NOT RUN on ${process.platform}: readers' nice value is per thread on Linux only`))('readers run at a lower priority than the thread that stores what they read (Linux: nice per thread)', async () => {
    const dir = tempDir();
    for (let i = 0; i < 40; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 3, tasksPerStage: 20 }).text);
    // Field 19 of /proc/<pid>/task/<tid>/stat (after the parenthesised name) is the thread's nice value.
    const niceValues = (): number[] =>
      readdirSync('/proc/self/task').flatMap((tid) => {
        try {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
        } catch {
          return []; // a thread that ended meanwhile
        }
      });
    // The readers start 10 below this thread (which may itself run under `nice`), each as its worker starts: wait for both.
    const ownStat = readFileSync('/proc/self/stat', 'utf8');
    const own = Number(ownStat.slice(ownStat.lastIndexOf(')') + 2).split(' ')[16]);
    const target = Math.min(19, own + 10);
    let seen: number[] = [];
    await collectAll({ path: dir, concurrency: 2 }, { workerScript: WORKER, onProgress: () => void (seen.filter((n) => n === target).length < 2 && (seen = niceValues())) });
    expect(seen.filter((n) => n === target)).toHaveLength(2);
    expect(niceValues().every((n) => n === own)).toBe(true);
  });

  it('starts reading on the pool while discovery goes on, once it has found enough; progress still counts from the final total', async () => {
    const dir = tempDir();
    for (let i = 0; i < 80; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(2, '0')}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 2, tasksPerStage: 5 }).text);
    const reports: CollectProgress[] = [];
    // With each report, how many reads the pool had been asked for by then.
    const asked: number[] = [];
    const reads = vi.spyOn(UnitPool.prototype, 'read');
    let got: Awaited<ReturnType<typeof collectAll>>;
    try {
      got = await collectAll({ path: dir, concurrency: 2 }, { workerScript: WORKER, onProgress: (p) => void (reports.push(p), asked.push(reads.mock.calls.length)) });
      expect(reads.mock.calls).toHaveLength(80);
    } finally {
      reads.mockRestore();
    }
    expect(got.apps).toHaveLength(80);
    // Every log went to the pool; the first reads were asked for while logs were still being found (after 32: POOL_AFTER_LOGS).
    const firstAsked = asked.findIndex((n) => n > 0);
    expect(reports[firstAsked]).toMatchObject({ phase: 'discovering', logsFound: 34 });
    // What they read is reported after discovery, one log at a time, against the final total.
    const reading = reports.filter((p) => p.phase !== 'discovering');
    expect(reading.map((p) => [p.logsDone, p.logsFound])).toEqual(Array.from({ length: 80 }, (_, i) => [i + 1, 80]));
    expect(reports.filter((p) => p.phase === 'discovering').every((p) => p.logsDone === 0)).toBe(true);
  });

  it('a worker that dies loses only the attempt that killed it: the others it held are read again, each alone', async () => {
    const dir = tempDir();
    for (let i = 0; i < 17; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(2, '0')}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 2, tasksPerStage: 5 }).text);
    writeFileSync(path.join(dir, 'app-08-deadly'), eventLogText({ appId: 'app-deadly', seed: 99, stages: 2, tasksPerStage: 5 }).text);
    const units: LogUnit[] = [];
    for await (const found of discover(dir)) if (!('severity' in found)) units.push(found);
    expect(units.map((u) => path.basename(u.path)).indexOf('app-08-deadly')).toBe(9);
    // The worker, but one that dies (as out of memory would) when it opens app-deadly.
    const wrapper = path.join(dir, 'dying-worker.js');
    writeFileSync(
      wrapper,
      `const fs = require('node:fs'); const open = fs.openSync;\nfs.openSync = function (p, ...rest) { if (String(p).endsWith('deadly')) process.exit(3); return open.call(this, p, ...rest); };\nrequire(${JSON.stringify(WORKER)});\n`,
    );
    const pool = new UnitPool(wrapper, 1);
    try {
      const results = await Promise.allSettled(units.map((u) => pool.read(u, 'test')));
      const outcome = results.map((r, i) => [path.basename(units[i]!.path), r.status === 'fulfilled' ? r.value.record?.app_id : (r.reason as Error).message]);
      // Every other log read, those the dead worker had read and not yet sent and those it had not started among them.
      expect(outcome).toEqual(units.map((u) => path.basename(u.path)).map((name) => [name, name === 'app-08-deadly' ? 'worker exited with code 3' : `app-${Number(name.slice(4))}`]));
    } finally {
      await pool.close();
    }
  });

  it('an attempt read again after its worker died counts its bytes once in the progress', async () => {
    const dir = tempDir();
    for (let i = 0; i < 3; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 2, tasksPerStage: 5 }).text);
    const units: LogUnit[] = [];
    for await (const found of discover(dir)) if (!('severity' in found)) units.push(found);
    // The worker, but the first one to be asked for app-1 reports 5,000 bytes of it read (as a big
    // log's worker does every 64 MB) and dies before reading on (its own reader never sees the
    // request: listeners share the message); the next worker reads it whole.
    const marker = path.join(dir, 'died-once');
    const wrapper = path.join(dir, 'dying-midway-worker.js');
    writeFileSync(
      wrapper,
      `const fs = require('node:fs'); const port = require('node:worker_threads').parentPort;\nport.on('message', (msg) => { const i = msg.requests.findIndex((r) => r.unit.path.endsWith('app-1')); if (i !== -1 && !fs.existsSync(${JSON.stringify(marker)})) { fs.writeFileSync(${JSON.stringify(marker)}, ''); port.postMessage({ type: 'replies', replies: [{ type: 'bytes', id: msg.requests[i].id, bytes: 5000 }] }); msg.requests.splice(i, 1); setTimeout(() => process.exit(3), 50); } });\nrequire(${JSON.stringify(WORKER)});\n`,
    );
    const pool = new UnitPool(wrapper, 1);
    try {
      const counted = new Map<string, number[]>();
      const results = await Promise.all(units.map((u) => pool.read(u, 'test', (n) => counted.set(path.basename(u.path), [...(counted.get(path.basename(u.path)) ?? []), n]))));
      expect(results.map((r) => r.record?.app_id)).toEqual(['app-0', 'app-1', 'app-2']);
      expect(readFileSync(marker, 'utf8')).toBe('');
      // Each log's bytes once: app-1's 5,000 reported before the crash, then only the rest of it.
      const size = (name: string): number => statSync(path.join(dir, name)).size;
      expect([...counted].sort()).toEqual([
        ['app-0', [size('app-0')]],
        ['app-1', [5000, size('app-1') - 5000]],
        ['app-2', [size('app-2')]],
      ]);
    } finally {
      await pool.close();
    }
  });

  it('takes no answer from a worker it has given up for dead', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'app-0'), eventLogText({ appId: 'app-0', seed: 1, stages: 2, tasksPerStage: 5 }).text);
    const units: LogUnit[] = [];
    for await (const found of discover(dir)) if (!('severity' in found)) units.push(found);
    // Its 'error' can come before the last messages it posted (Node sends them on different ports);
    // here such a message is handed to the pool as its worker would, after the pool let the worker go.
    const pool = new UnitPool(WORKER, 1);
    const internals = pool as unknown as { workers: Worker[]; receive(worker: Worker, reply: unknown): void };
    const gone = internals.workers[0]!;
    gone.emit('error', new Error('out of memory'));
    try {
      const bytes: number[] = [];
      const read = pool.read(units[0]!, 'test', (n) => bytes.push(n));
      internals.receive(gone, { type: 'bytes', id: 1, bytes: 99 });
      internals.receive(gone, { type: 'failed', id: 1, message: 'answered by the dead worker' });
      // The attempt is read by the worker that replaced it, and only its bytes are counted.
      expect((await read).record?.app_id).toBe('app-0');
      expect(bytes).toEqual([statSync(units[0]!.path).size]);
      expect(internals.workers).toHaveLength(1);
      expect(internals.workers[0]).not.toBe(gone);
    } finally {
      await pool.close();
      await gone.terminate();
    }
  });

  it('answers that cannot be sent together are sent one by one: no attempt is left unanswered', async () => {
    const dir = tempDir();
    for (let i = 0; i < 12; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(2, '0')}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 2, tasksPerStage: 5 }).text);
    const units: LogUnit[] = [];
    for await (const found of discover(dir)) if (!('severity' in found)) units.push(found);
    // The worker, but its first message to the pool fails (as one holding a value that does not clone would).
    const wrapper = path.join(dir, 'refusing-worker.js');
    writeFileSync(
      wrapper,
      `const port = require('node:worker_threads').parentPort; const post = port.postMessage.bind(port); let first = true;\nport.postMessage = (...args) => { if (first) { first = false; throw new Error('could not be cloned'); } return post(...args); };\nrequire(${JSON.stringify(WORKER)});\n`,
    );
    const pool = new UnitPool(wrapper, 1);
    try {
      const results = await Promise.all(units.map((u) => pool.read(u, 'test')));
      expect(results.map((r) => r.record?.app_id)).toEqual(units.map((_, i) => `app-${i}`));
    } finally {
      await pool.close();
    }
  }, 20_000);

  it('sends requests and answers a few to a message, summaries and problems included', async () => {
    const dir = tempDir();
    for (let i = 0; i < 60; i++) writeFileSync(path.join(dir, `app-${String(i).padStart(2, '0')}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 2, tasksPerStage: 5 }).text);
    // A broken log: its answer carries a problem and no record.
    writeFileSync(path.join(dir, 'app-broken'), '{"Event":"SparkListenerLogStart"\n');
    const posted = vi.spyOn(Worker.prototype, 'postMessage');
    // What the workers send arrives as the pool's 'message' events.
    const emitted = vi.spyOn(Worker.prototype, 'emit');
    let pooled: Awaited<ReturnType<typeof collectAll>>;
    let requests: number[];
    let answers: number[];
    try {
      pooled = await collectAll({ path: dir, concurrency: 2 }, { workerScript: WORKER });
      requests = posted.mock.calls.map(([m]) => (m as { requests: unknown[] }).requests.length);
      answers = emitted.mock.calls.flatMap(([event, m]) => {
        const replies = event === 'message' ? (m as { type?: string; replies?: { type: string }[] }).replies : undefined;
        return replies === undefined ? [] : [replies.filter((r) => r.type !== 'bytes').length];
      });
    } finally {
      posted.mockRestore();
      emitted.mockRestore();
    }
    const inline = await collectAll({ path: dir, concurrency: 1 });
    const byId = (r: typeof pooled): unknown[] =>
      r.apps.map((a) => [a.record, a.summaries?.stages, a.summaries?.executors, a.problems]).sort((a, b) => String((a[0] as { app_id: string }).app_id).localeCompare(String((b[0] as { app_id: string }).app_id)));
    expect(pooled.apps).toHaveLength(60);
    expect(byId(pooled)).toEqual(byId(inline));
    expect(pooled.problems).toEqual(inline.problems);
    // Every log was read by the pool (more than POOL_AFTER_LOGS, collect.ts), in far fewer messages than logs.
    expect(requests.reduce((a, b) => a + b, 0)).toBe(61);
    expect(requests.length).toBeLessThan(30);
    // And their answers come back a few to a message too.
    expect(answers.reduce((a, b) => a + b, 0)).toBe(61);
    expect(answers.filter((n) => n > 0).length).toBeLessThan(30);
  });

  it('stops promptly when cancelled and terminates its workers', async () => {
    const dir = tempDir();
    for (let i = 0; i < 6; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 40, tasksPerStage: 200 }).text);
    const controller = new AbortController();
    const started = Date.now();
    let batches = 0;
    const run = (async () => {
      for await (const b of collectEventLogs({ path: dir, concurrency: 2, batchSize: 1 }, { workerScript: WORKER, signal: controller.signal })) {
        batches += b.apps.length;
        controller.abort();
      }
    })();
    await expect(run).rejects.toThrow(/abort/i);
    expect(batches).toBeLessThan(6);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
