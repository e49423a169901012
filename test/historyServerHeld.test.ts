/**
 * The History Server's incremental skip is the API runner's `held` (api/runner.ts): an attempt the
 * store holds completed with the same end time is counted unchanged and not fetched; a fetched one
 * is learnt only when its record is completed or failed and read without an error. The History
 * Server had its own copy of that loop; 1 and 2 are what the copy did and the runner alone did not
 * (each fails without its part of the fold), 3 and 4 what the copy did worse (each fails on it):
 *
 * 1. A log the listing calls completed but that has no ApplicationEnd (status unknown, truncated)
 *    is downloaded again next run, as a running one is (the runner alone learns any record that is
 *    not running).
 * 2. An attempt read with an error is read again next run even when the store held a clean read of
 *    it under the same mark (a read without isUnchanged, as EMR reads its History Server into the
 *    same store): the errored read makes the store forget the mark.
 * 3. A sharded run's tally counts the attempts it held, as the event-log collector counts its
 *    unchanged logs; the copy left them out of both counts (a run that held all its shard's attempts
 *    said "0 of" the other shards' count).
 * 4. A cancelled run keeps the count of the attempts it held: the copy added them to the next batch,
 *    and a cancel with nothing fetched yet yielded none ("Cancelled: 0 unchanged").
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { Batch, CollectContext, Provenance } from '../src/collectors/contract';
import { collectHistoryServer, type HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import type { JobRepository } from '../src/storage/repository';
import { unchangedCheck } from '../src/storage/unchanged';
import { eventLogText } from './support/eventLogGenerator';
import { APPS, FINISHED, heldServer } from './support/heldServer';
import { serve, syntheticListing, syntheticRoutes, type Route, type SyntheticApp } from './support/historyServerFake';
import { memoryRepository } from './support/memoryRepository';
import { zip } from './support/zip';

const T0 = Date.UTC(2024, 5, 1);

function source(url: string, mode: 'api' | 'eventlog' = 'api'): SourceConfig {
  return { ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: url, mode }), name: 'history_server' };
}

/** One collection into `repo` as `collect` runs it; `holds: false` runs it without isUnchanged (EMR's History Server read). */
async function collect(repo: JobRepository, url: string, mode: 'api' | 'eventlog' = 'api', holds = true): Promise<{ new: number; updated: number; unchanged: number }> {
  const planned = plan([source(url, mode)], { overrides: {}, newestEndTime: (of) => repo.newestEndTime(of) });
  const ctx: CollectContext = holds ? { isUnchanged: unchangedCheck(repo.knownFiles()) } : {};
  const result = await collectRun(planned.jobs, ({ job }, signal) => ({ batches: runJob(job, { ...ctx, signal }) }), storeSink(repo), new AbortController().signal);
  return result.counts;
}

/** Every batch of one collection, and the error it ended with (a cancel), if any. */
async function batchesOf(options: HistoryServerOptions, ctx: CollectContext): Promise<{ batches: Batch[]; error: unknown }> {
  const batches: Batch[] = [];
  try {
    for await (const b of collectHistoryServer(options, ctx)) batches.push(b);
    return { batches, error: undefined };
  } catch (error) {
    return { batches, error };
  }
}

const sum = (batches: Batch[], f: (b: Batch) => number): number => batches.reduce((n, b) => n + f(b), 0);
/** An isUnchanged that holds the attempts of these applications (their mode-api marks), whatever their end time. */
const holding = (ids: readonly string[]) => (unit: Provenance): boolean => ids.some((id) => unit.path.endsWith(`/applications/${id}`));

describe('History Server incremental runs: the runner’s held', () => {
  it('a log the listing calls completed but that has no end (status unknown) is downloaded again next run; a complete one is not', async () => {
    const { repo } = await memoryRepository();
    const whole = eventLogText({ appId: 'app-a', startMs: T0, seed: 1 });
    const cut = eventLogText({ appId: 'app-b', startMs: T0 + 600_000, seed: 2 });
    const truncated = cut.text
      .split('\n')
      .filter((l) => !l.includes('"SparkListenerApplicationEnd"'))
      .join('\n');
    expect(truncated).not.toBe(cut.text);
    const apps: SyntheticApp[] = [whole, cut].map((l, i) => ({ id: i === 0 ? 'app-a' : 'app-b', startMs: l.totals.start_ms, endMs: l.totals.end_ms, executors: [], stages: [] }));
    const routes: Record<string, Route> = { applications: { json: syntheticListing(apps) } };
    for (const [id, text] of [['app-a', whole.text], ['app-b', truncated]] as const) {
      const bytes = await zip({ [id]: text });
      routes[`applications/${id}/logs`] = (_req: unknown, res: ServerResponse) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(bytes);
      };
    }
    const s = await serve(routes);
    expect(await collect(repo, s.url, 'eventlog')).toMatchObject({ new: 2 });
    expect(repo.list({ limit: 10 }).map((r) => [r.app_id, r.status]).sort()).toEqual([
      ['app-a', 'completed'],
      ['app-b', 'unknown'],
    ]);
    // app-a held; app-b downloaded again (and stored unchanged: its log has not grown).
    expect(await collect(repo, s.url, 'eventlog')).toMatchObject({ new: 0, updated: 0, unchanged: 2 });
    expect(s.requests.filter((r) => r === 'applications/app-a/logs')).toHaveLength(1);
    expect(s.requests.filter((r) => r === 'applications/app-b/logs')).toHaveLength(2);
  });

  it('an attempt read with an error is read again next run, though the store held a clean read of it under the same mark', async () => {
    const { repo } = await memoryRepository();
    const apps: SyntheticApp[] = [{ id: 'app-1', startMs: T0, endMs: T0 + 60_000, executors: [{ id: 'driver', cores: 1 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4, input: 100 }] }];
    const routes = syntheticRoutes(apps);
    const clean = (routes['applications/app-1/stages'] as { json: Record<string, unknown>[] }).json;
    let broken = false;
    // While broken, a byte count that cannot be true: an invalid-value error on the record.
    routes['applications/app-1/stages'] = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(broken ? clean.map((st) => ({ ...st, inputBytes: 1.5 })) : clean));
    };
    const s = await serve({ ...routes, applications: { json: syntheticListing(apps) } });
    const environment = (): number => s.requests.filter((r) => r === 'applications/app-1/environment').length;
    expect(await collect(repo, s.url)).toMatchObject({ new: 1 });
    // Held: not fetched again.
    expect(await collect(repo, s.url)).toMatchObject({ unchanged: 1 });
    expect(environment()).toBe(1);
    // Read again, with an error, by a run that does not ask the store (EMR's History Server read).
    broken = true;
    expect(await collect(repo, s.url, 'api', false)).toMatchObject({ updated: 1 });
    expect(repo.list({ limit: 10 })[0]!.input_bytes).toBe(0);
    broken = false;
    // The stored record is the errored read's: the next run reads the attempt again.
    expect(await collect(repo, s.url)).toMatchObject({ updated: 1, unchanged: 0 });
    expect(environment()).toBe(3);
    expect(repo.list({ limit: 10 })[0]!.input_bytes).toBe(100);
    expect(await collect(repo, s.url)).toMatchObject({ unchanged: 1 });
    expect(environment()).toBe(3);
  });

  it('a sharded run counts the attempts it held in its tally, as it counted them when it fetched them', async () => {
    const s = await heldServer([]);
    const shard = { index: 1, count: 2 };
    const first = await batchesOf({ url: s.url, shard }, {});
    const mine = sum(first.batches, (b) => b.apps.length);
    expect(mine).toBeGreaterThan(0);
    expect(mine).toBeLessThan(APPS.length);
    const tally = (batches: Batch[]): { mine: number; total: number } => ({ mine: sum(batches, (b) => b.shard?.mine ?? 0), total: sum(batches, (b) => b.shard?.total ?? 0) });
    expect(tally(first.batches)).toEqual({ mine, total: APPS.length });
    const before = s.requests.length;
    const again = await batchesOf({ url: s.url, shard }, { isUnchanged: holding(APPS.map((a) => a.id)) });
    expect(again.error).toBeUndefined();
    expect(sum(again.batches, (b) => b.apps.length)).toBe(0);
    expect(sum(again.batches, (b) => b.unchanged)).toBe(mine);
    expect(tally(again.batches)).toEqual({ mine, total: APPS.length });
    expect(s.requests.slice(before).filter((r) => !r.startsWith('applications?'))).toEqual([]);
  });

  it('a run cancelled while the attempts it fetches are in flight keeps the count of those it held', async () => {
    const HELD = ['app-002', 'app-001', 'app-000'];
    const s = await heldServer(HELD);
    const controller = new AbortController();
    s.onHeld(() => {
      if (s.held.length === HELD.length) controller.abort();
    });
    const r = await batchesOf({ url: s.url, concurrency: 4 }, { signal: controller.signal, isUnchanged: holding(FINISHED) });
    expect(controller.signal.aborted).toBe(true);
    expect(r.error).toBe(controller.signal.reason);
    expect(sum(r.batches, (b) => b.apps.length)).toBe(0);
    expect(sum(r.batches, (b) => b.unchanged)).toBe(FINISHED.length);
    for (const id of FINISHED) expect(s.requests).not.toContain(`applications/${id}/environment`);
  });
});
