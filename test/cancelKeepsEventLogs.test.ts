/**
 * A cancelled event-log collection keeps the logs it had read to the end, held for a batch that was
 * not full yet (a review: "Cancelled: 0 new" after minutes of reading): they are stored, the run is
 * recorded cancelled, and the next run reads the rest, storing nothing twice. And the API runner, on a
 * cancel, hands over what it holds without waiting for a request in flight that is slow to give up.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runApiCollector, type ApiCollector, type ApiRun } from '../src/collectors/api/runner';
import { collectEventLogs } from '../src/collectors/eventlog/collect';
import { apiProvenance, type Batch, type CollectedApp, type CollectProgress } from '../src/collectors/contract';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import { JobStore } from '../src/storage/jobStore';
import { tinyLogs } from './support/editorSources';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

describe('a cancelled event-log collection keeps the logs it had read', () => {
  it('cancelled after 7 of 20 logs (a batch of 100 not full): the 7 are stored, the run is cancelled; the next run reads the 13 others', async () => {
    const logs = tinyLogs(20);
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const { jobs } = plan([{ type: 'event_log', name: 'logs', path: logs, concurrency: 1 } as never]);
      const run = async (cancelAfter?: number): Promise<{ new: number; unchanged: number; ms: number }> => {
        const controller = new AbortController();
        let abortedAt = 0;
        const onProgress = (p: CollectProgress): void => {
          if (cancelAfter !== undefined && p.logsDone === cancelAfter && !controller.signal.aborted) {
            abortedAt = performance.now();
            controller.abort();
          }
        };
        const result = await collectRun(jobs, ({ job }, signal) => ({ batches: runJob(job, { signal, onProgress, isUnchanged: (unit) => store.isUnchanged(unit) }) }), storeSink(store), controller.signal);
        return { ...result.counts, ms: performance.now() - abortedAt };
      };
      const first = await run(7);
      expect(first.new).toBe(7);
      expect(store.count()).toBe(7);
      const [recorded] = store.listRuns(1);
      expect(recorded).toMatchObject({ source: 'logs', new: 7 });
      expect(recorded!.errors).toContain('run stopped: cancelled');
      console.log(`event logs: ${first.ms.toFixed(1)} ms from the cancel to the run's end`);
      expect(first.ms).toBeLessThan(1000);

      const second = await run();
      expect(second).toMatchObject({ new: 13, unchanged: 7 });
      expect(store.count()).toBe(20);
      expect(new Set(store.list({ limit: 100 }).map((r) => r.app_id)).size).toBe(20);
    } finally {
      store.close();
    }
  });

  it('the collector yields the logs read to their end in a last batch, then rejects with the cancel', async () => {
    const logs = tinyLogs(12);
    const controller = new AbortController();
    const batches: Batch[] = [];
    const onProgress = (p: CollectProgress): void => {
      if (p.logsDone === 5) controller.abort(new Error('cancelled by the test'));
    };
    const consume = async (): Promise<void> => {
      for await (const b of collectEventLogs({ path: logs, concurrency: 1, batchSize: 100 }, { signal: controller.signal, onProgress })) batches.push(b);
    };
    await expect(consume()).rejects.toThrow('cancelled by the test');
    expect(batches.flatMap((b) => b.apps)).toHaveLength(5);
  });
});

describe('the API runner on a cancel', () => {
  it("hands over the records it holds at once, not after a fetch in flight that is slow to give up; that fetch's item is not stored", async () => {
    const controller = new AbortController();
    let releaseSlow: () => void = () => undefined;
    const slowEnded = new Promise<void>((resolve) => (releaseSlow = resolve));
    const appOf = (n: number): CollectedApp => ({ record: makeRecord({ app_id: `app-${n}` }), problems: [], files: [], provenance: apiProvenance(`fake/${n}`) });
    let closedAt = 0;
    const build = (_run: ApiRun): ApiCollector<number, CollectedApp> => ({
      maxApps: 'items',
      shard: { unit: 'item', key: (n) => String(n) },
      list: async function* () {
        await Promise.resolve();
        yield { items: [1, 2, 3, 4, 5, 6] };
      },
      // Item 6 ignores the signal: it ends 300 ms after the cancel, however it is asked to stop.
      fetch: (n) => (n === 6 ? slowEnded.then(() => appOf(6)) : Promise.resolve(appOf(n))),
      found: (app) => [{ apps: [app] }],
      refused: () => undefined,
      listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: err.message }),
      failed: (_n, err) => ({ severity: 'error', code: 'failed', message: err.message }),
      close: () => void (closedAt = performance.now()),
    });
    let abortedAt = 0;
    const onProgress = (p: CollectProgress): void => {
      if (p.logsDone === 5 && !controller.signal.aborted) {
        abortedAt = performance.now();
        controller.abort(new Error('cancelled by the test'));
        setTimeout(releaseSlow, 300);
      }
    };
    const got: { ids: string[]; at: number }[] = [];
    const consume = async (): Promise<void> => {
      for await (const b of runApiCollector({ concurrency: 2, batchSize: 100 }, { signal: controller.signal, onProgress }, build)) got.push({ ids: b.apps.map((a) => a.record.app_id), at: performance.now() });
    };
    await expect(consume()).rejects.toThrow('cancelled by the test');
    expect(got.flatMap((g) => g.ids).sort()).toEqual(['app-1', 'app-2', 'app-3', 'app-4', 'app-5']);
    const handedOver = got.at(-1)!.at - abortedAt;
    console.log(`API runner: the held records handed over ${handedOver.toFixed(1)} ms after the cancel; the clients closed after ${(closedAt - abortedAt).toFixed(1)} ms (the slow fetch)`);
    expect(handedOver).toBeLessThan(100);
    // The clients are still closed only once the slow fetch has ended.
    expect(closedAt - abortedAt).toBeGreaterThanOrEqual(290);
  });
});
