/**
 * A Databricks source collected through the real collection worker (dist/collectWorker.js, from
 * `npm run build`): the job is made by `jobsFor` from a config entry, posted to the worker thread as
 * `{ job, known: [] }`, and read back as batches, against the Databricks fake on 127.0.0.1.
 */
import * as path from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { Batch, CollectProgress } from '../src/collectors/contract';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { descriptorOf, jobsFor, type SourceJob } from '../src/collectors/registry';
import { ingest } from '../src/storage/ingest';
import { memoryRepository } from './support/memoryRepository';
import { CancelledError, collectInWorker } from '../src/worker/collectClient';
import { startDatabricksFake, workspace, type DatabricksFake, type DatabricksFakeOptions } from './support/databricksFake';

const WORKER = path.resolve(__dirname, '..', 'dist', 'collectWorker.js');
const TOKEN = 'dapiWORKERsecret0000000000000000c0de';
const TOKEN_VAR = 'SPARK_OPT_TEST_WORKER_DBX_TOKEN';

const fakes: DatabricksFake[] = [];
let saved: string | undefined;
beforeEach(() => {
  saved = process.env[TOKEN_VAR];
  process.env[TOKEN_VAR] = TOKEN;
});
afterEach(async () => {
  if (saved === undefined) delete process.env[TOKEN_VAR];
  else process.env[TOKEN_VAR] = saved;
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function serve(opts: Omit<DatabricksFakeOptions, 'token'>): Promise<DatabricksFake> {
  const f = await startDatabricksFake({ token: TOKEN, ...opts });
  fakes.push(f);
  return f;
}

/** The job the extension would post: from a config entry, through jobsFor. */
function apiJob(extra: Record<string, unknown>): Extract<SourceJob, { kind: 'databricks' }> {
  const config: SourceConfig = { ...SOURCE_SCHEMAS.databricks.parse({ type: 'databricks', token: `\${env:${TOKEN_VAR}}`, ...extra }), name: 'dbx-worker' };
  const jobs = jobsFor(config);
  expect(jobs).toHaveLength(1);
  const job = jobs[0]!;
  if (job.kind !== 'databricks') throw new Error(`expected a databricks job, got ${job.kind}`);
  return job;
}

const listQueries = (f: DatabricksFake): URLSearchParams[] => f.requests.filter((r) => r.path === '/api/2.1/jobs/runs/list').map((r) => r.query);

describe('Databricks through the collection worker', () => {
  it('every run since `since` arrives as a record across the batches; the Date survives postMessage; progress is reported', async () => {
    const ws = workspace(60);
    const f = await serve(ws);
    const since = new Date(ws.runs[11]!.start_time);
    const job = apiJob({ endpoint_url: f.url, since: since.toISOString(), batch_size: 7 });
    expect(job.options.since).toEqual(since);
    expect(job.options.token).toBe(TOKEN);

    const progress: CollectProgress[] = [];
    const run = collectInWorker(WORKER, { job, known: [] }, (p) => progress.push(p));
    const batches: Batch[] = [];
    for await (const b of run.batches) batches.push(b);

    const expected = ws.runs.filter((r) => r.start_time >= since.getTime());
    expect(expected.length).toBe(49);
    const records = batches.flatMap((b) => b.apps.map((a) => a.record));
    expect(records.map((r) => r.app_id).sort()).toEqual(expected.map((r) => `databricks-run-${r.run_id}`).sort());
    expect(batches.flatMap((b) => b.problems)).toEqual([]);
    // Streamed in batches of at most batch_size attempts.
    expect(batches.length).toBeGreaterThanOrEqual(Math.ceil(expected.length / 7));
    for (const b of batches) expect(b.apps.length).toBeLessThanOrEqual(7);
    for (const r of records) {
      // Records cross the thread boundary as plain data and still validate.
      expect(sparkAppRecordSchema.parse(r)).toEqual(r);
      expect(r.source).toBe('dbx-worker');
      const run = ws.runs.find((x) => `databricks-run-${x.run_id}` === r.app_id)!;
      expect(r.user).toBe(run.creator_user_name);
      expect(r.duration_ms).toBe(run.end_time - run.start_time);
    }

    // `since` reached the worker as a Date: the runs that ended before it were left out as listed
    // (runs/list filters by start time only, so no start_time_from is sent: issue 14).
    expect(batches.reduce((n, b) => n + b.filtered, 0)).toBe(ws.runs.length - expected.length);
    const lists = listQueries(f);
    expect(lists).toHaveLength(Math.ceil(ws.runs.length / 25));
    for (const q of lists) expect(q.has('start_time_from')).toBe(false);
    expect(f.requests.every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(true);

    expect(progress.length).toBeGreaterThan(0);
    for (const p of progress) {
      expect(p.apps).toBeLessThanOrEqual(expected.length);
      expect(p.logsFound).toBeLessThanOrEqual(expected.length);
    }
    expect(JSON.stringify({ batches, progress })).not.toContain(TOKEN);
  });

  it('cancel() mid-run ends the iteration with CancelledError promptly, while a request is held', async () => {
    const ws = workspace(60);
    const held: ServerResponse[] = [];
    let heldClosed = false;
    let onHeld: () => void = () => undefined;
    const heldNow = new Promise<void>((resolve) => (onHeld = resolve));
    const f = await serve({
      ...ws,
      // The second page never answers: only the cancel can end the run.
      fault: (req, hit, res) => {
        if (req.path !== '/api/2.1/jobs/runs/list' || hit !== 2) return undefined;
        held.push(res);
        res.on('close', () => (heldClosed = true));
        onHeld();
        return true;
      },
    });
    const job = apiJob({ endpoint_url: f.url, batch_size: 1, timeout: 60 });
    const run = collectInWorker(WORKER, { job, known: [] }, () => undefined);
    const seen: string[] = [];
    let cancelled = false;
    let batchesAfterCancel = 0;
    const consume = (async (): Promise<void> => {
      for await (const b of run.batches) {
        if (cancelled) batchesAfterCancel++;
        seen.push(...b.apps.map((a) => a.record.app_id));
      }
    })();
    // Cancel once the worker is stuck on the held page.
    await heldNow;
    const cancelledAt = Date.now();
    cancelled = true;
    run.cancel();
    const error: unknown = await consume.then(
      () => undefined,
      (err: unknown) => err,
    );
    const endedAfter = Date.now() - cancelledAt;
    expect(error).toBeInstanceOf(CancelledError);
    // The worker's own abort ended it, well before the host would terminate it (after a 2 s grace).
    expect(endedAfter).toBeLessThan(1900);
    // After cancel(), only what had been fetched to the end: runs of page 1 whose fetch had ended
    // while the listing waited for page 2 (the runner's default 4 at once: at most 3 besides the one
    // handed over), kept by the cancel; one a batch (batch_size 1). Nothing was asked for after it.
    expect(batchesAfterCancel).toBeLessThanOrEqual(3);
    expect(new Set(seen).size).toBe(seen.length);
    expect(held).toHaveLength(1);
    // Page 1 was read, page 2 never answered: at most page 1's runs arrived.
    expect(seen.length).toBeLessThanOrEqual(25);
    expect(listQueries(f)).toHaveLength(2);
    // The held request was given up (aborted by the worker, or its thread ended).
    await expect.poll(() => heldClosed, { timeout: 3000, interval: 20 }).toBe(true);
  });

  it("a second run through the worker, sent the store's known files as the editor sends them, reads no finished run again", async () => {
    const ws = workspace(12);
    const f = await serve(ws);
    const job = apiJob({ endpoint_url: f.url, batch_size: 5 });
    const { repo } = await memoryRepository();
    // As views/collection.ts does: a type whose collector skips what the store holds gets its known files.
    expect(descriptorOf(job.kind).skipsUnchangedFiles).toBe(true);
    const collect = async (): Promise<{ new: number; unchanged: number }> => {
      const run = collectInWorker(WORKER, { job, known: descriptorOf(job.kind).skipsUnchangedFiles ? repo.knownFiles() : [] }, () => undefined);
      return ingest(repo, run.batches, { source: 'dbx-worker', options: {} });
    };
    const first = await collect();
    const finished = ws.runs.length;
    expect(first).toMatchObject({ new: finished, unchanged: 0 });
    const detailCalls = (): number => f.requests.filter((r) => /clusters\/|runs\/get/.test(r.path)).length;
    const before = detailCalls();
    expect(before).toBeGreaterThan(0);
    const second = await collect();
    expect(second).toMatchObject({ new: 0, unchanged: finished });
    // Only the listing was asked again: no cluster or run detail for a run the store holds finished.
    expect(detailCalls()).toBe(before);
  });
});

