/**
 * A cancelled History Server collection keeps the applications it had fetched to the end (a review:
 * "Cancelled: 0 new" after minutes of finished downloads): they are stored, the attempts still being
 * fetched are not, the run is recorded cancelled with no cursor, and the next run collects the rest
 * without storing anything twice. Through the pipeline (what the CLI and the editor's worker run) and
 * through `collect` with SIGINT.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectCommand } from '../src/cli/collectCommand';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { CollectProgress } from '../src/collectors/contract';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import { JobStore } from '../src/storage/jobStore';
import { unchangedCheck } from '../src/storage/unchanged';
import { APPS, FINISHED, heldServer, storedIds } from './support/heldServer';
import { tempDir } from './support/tmp';


describe('a cancelled History Server collection keeps what it had fetched', () => {
  it('through the pipeline: the 7 fetched are stored, the 3 in flight are not, the run is cancelled; the next run collects the 3', async () => {
    const HELD = ['app-002', 'app-001', 'app-000'];
    const s = await heldServer(HELD);
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const source: SourceConfig = { ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: s.url, concurrency: 4 }), name: 'hs' };
      const run = async (cancelAfter?: number): Promise<{ counts: { new: number; unchanged: number }; since: Date | undefined; ms: number }> => {
        const planned = plan([source], { newestEndTime: (of) => store.newestEndTime(of) });
        const controller = new AbortController();
        let abortedAt = 0;
        let done = 0;
        // Cancelled once 7 applications are fetched to the end (their records held for a batch of 100) and the 3 others are in flight.
        const maybeCancel = (): void => {
          if (cancelAfter !== undefined && done >= cancelAfter && s.held.length === HELD.length && !controller.signal.aborted) {
            abortedAt = performance.now();
            controller.abort();
          }
        };
        s.onHeld(maybeCancel);
        const onProgress = (p: CollectProgress): void => {
          done = p.logsDone;
          maybeCancel();
        };
        const isUnchanged = unchangedCheck(store.knownFiles());
        const result = await collectRun(planned.jobs, ({ job }, signal) => ({ batches: runJob(job, { signal, onProgress, isUnchanged }) }), storeSink(store), controller.signal);
        return { counts: result.counts, since: (planned.jobs[0]!.job.options as { since?: Date }).since, ms: performance.now() - abortedAt };
      };

      const first = await run(7);
      expect(first.counts.new).toBe(7);
      expect(storedIds(store)).toEqual(FINISHED);
      // The run is recorded cancelled, with the counts of what it stored.
      const [recorded] = store.listRuns(1);
      expect(recorded).toMatchObject({ source: 'hs', new: 7 });
      expect(recorded!.errors).toContain('run stopped: cancelled');
      // No cursor: the next run lists everything again.
      expect(recorded!.options).not.toHaveProperty('cursor');
      // Prompt: storing what was held did not wait for the 3 requests in flight.
      console.log(`History Server (pipeline): ${first.ms.toFixed(1)} ms from the cancel to the run's end`);
      expect(first.ms).toBeLessThan(1000);

      s.hold.on = false;
      const second = await run();
      expect(second.since).toBeUndefined();
      expect(second.counts).toMatchObject({ new: 3, unchanged: 7 });
      expect(storedIds(store)).toEqual(APPS.map((a) => a.id).sort());
      expect(store.count()).toBe(10);
      // The 7 stored by the cancelled run were not fetched again.
      for (const id of FINISHED) expect(s.requests.filter((r) => r === `applications/${id}/environment`)).toHaveLength(1);
    } finally {
      store.close();
    }
  });

  it('through `collect`: SIGINT while one is in flight stores the 7 fetched, says "Cancelled by SIGINT: 7 new", exits 130; the next run stores the 3', async () => {
    // One at a time: app-003 is in the collector's hands before app-002 is asked for (and held).
    const s = await heldServer(['app-002']);
    const db = path.join(tempDir(), 'jobs.db');
    // The command's own handler, called as the signal would: a real signal would reach the test runner's handlers too.
    const before = new Set(process.listeners('SIGINT'));
    let signalledAt = 0;
    s.onHeld(() => {
      signalledAt = performance.now();
      for (const l of process.listeners('SIGINT')) if (!before.has(l)) l('SIGINT');
    });
    const io = (out: string[]): Parameters<typeof collectCommand>[1] => ({ out: (t: string) => out.push(t), err: (t: string) => out.push(t), isTTY: false, cwd: tempDir() });
    const args = ['--source', 'history-server', '--url', s.url, '--db', db, '--concurrency', '1'];
    // Held for a batch of 100: all 7 are in the collector's hands when the signal comes, none stored yet.
    const lines: string[] = [];
    const code = await collectCommand(args, io(lines));
    const ms = performance.now() - signalledAt;
    expect(code).toBe(130);
    expect(lines).toContainEqual(expect.stringMatching(/^Cancelled by SIGINT: 7 new, 0 updated, 0 unchanged, 0 skipped, 0 failed /));
    console.log(`History Server (collect, SIGINT): ${ms.toFixed(1)} ms from the signal to the command's end`);
    expect(ms).toBeLessThan(1000);
    let store = await JobStore.open(db);
    expect(storedIds(store)).toEqual(FINISHED);
    expect(store.listRuns(1)[0]!.errors).toContain('run stopped: cancelled');
    store.close();

    s.hold.on = false;
    const again: string[] = [];
    expect(await collectCommand(args, io(again))).toBe(0);
    expect(again).toContainEqual(expect.stringMatching(/^3 new, 0 updated, 7 unchanged, 0 skipped, 0 failed /));
    store = await JobStore.open(db);
    expect(store.count()).toBe(10);
    expect(storedIds(store)).toEqual(APPS.map((a) => a.id).sort());
    store.close();
  });
});
