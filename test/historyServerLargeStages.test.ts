/**
 * A `/stages` answer larger than max_response_mb no longer loses its application: the list is read
 * entry by entry (JsonClient.getList), each entry cut to the fields the record and the summaries
 * read, and what is kept, not the answer's size, is capped (a quarter of the limit). The limit is
 * lowered to 2 MiB here so that a few MB stand for the hundreds of MB of an application with
 * 100,000 stage attempts (measured in BENCHMARKS.md and the commit). Servers on 127.0.0.1.
 */
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { stageSchema } from '../src/collectors/historyServer/record';
import { toSummaries } from '../src/collectors/historyServer/summaries';
import { serve, syntheticListing, syntheticRoutes, taskSummaryAnswer, type Route, type SyntheticApp } from './support/historyServerFake';
import { stageEntry, writeStageList } from './support/stageListAnswer';

const MiB = 1024 * 1024;
const T0 = Date.UTC(2025, 4, 1, 12);

/** app-big's /stages is `stages` generated entries (~3 KB each), streamed without a length; app-small is an ordinary application. */
async function twoApps(stages: number, sent: { bytes: number }): Promise<{ url: string; routes: Map<string, Route> }> {
  const apps: SyntheticApp[] = [
    { id: 'app-big', startMs: T0, endMs: T0 + 3_600_000, executors: [{ id: '1', cores: 4 }], stages: [] },
    { id: 'app-small', startMs: T0 + 1000, endMs: T0 + 2000, executors: [{ id: '1', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4, input: 10 }] },
  ];
  const routes: Record<string, Route> = {
    applications: { json: syntheticListing(apps) },
    ...syntheticRoutes(apps),
    'applications/app-big/stages': (_req, res: ServerResponse) => {
      const write = res.write.bind(res) as (chunk: string) => boolean;
      res.write = ((chunk: string) => {
        sent.bytes += Buffer.byteLength(chunk);
        return write(chunk);
      }) as typeof res.write;
      writeStageList(res, stages);
    },
  };
  for (let i = 0; i < stages; i++) routes[`applications/app-big/stages/${i}/0/taskSummary`] = { json: taskSummaryAnswer([10 + i, 20 + i, 30 + i, 40 + i, 50 + i]) };
  const server = await serve(routes);
  return { url: server.url, routes: server.routes };
}

describe('a /stages answer larger than max_response_mb', () => {
  it('is read entry by entry: the application is stored with every stage attempt, as the whole answer would give it', async () => {
    const sent = { bytes: 0 };
    const { url } = await twoApps(1000, sent);
    const r = await collectHistoryServerAll({ url, maxResponseBytes: 2 * MiB, maxTaskSummaries: 20 });
    // The answer was half again the limit (1,000 entries of ~3 KB), and was read once.
    expect(sent.bytes).toBeGreaterThan(1.4 * 2 * MiB);
    expect(r.problems).toEqual([]);
    const big = r.apps.find((a) => a.record.app_id === 'app-big')!;
    expect(big.problems.map((p) => [p.code, p.message])).toEqual([
      ['task-summaries-capped', '1000 stage attempts have tasks; task durations were asked for 20 of them (the most per application attempt), the other 980 have none'],
    ]);
    const entries = Array.from({ length: 1000 }, (_, i) => stageEntry(i));
    const sum = (f: (i: number) => number): number => entries.reduce((t: number, _e, i) => t + f(i), 0);
    expect(big.record).toMatchObject({
      total_stages: 1000,
      failed_stages: 0,
      total_tasks: sum((i) => 8 + (i % 5)),
      failed_tasks: 0,
      cpu_time_ms: sum((i) => 120 * (8 + (i % 5))),
      input_bytes: 250 * 1_000_000,
      shuffle_read_bytes: 334 * 3000,
      shuffle_write_bytes: 333 * 4000,
    });
    expect(big.record.quality).not.toContain('missing:total_tasks');
    // The summaries are those of the whole answer parsed at once, the first 20 with their task durations.
    const want = toSummaries(z.array(stageSchema).parse(JSON.parse(JSON.stringify(entries))), null, [], 'x')!.stages;
    for (const s of want.slice(0, 20)) s.task_duration_ms = { min: 10 + s.stage_id, p25: 20 + s.stage_id, p50: 30 + s.stage_id, p75: 40 + s.stage_id, max: 50 + s.stage_id };
    expect(big.summaries!.stages).toEqual(want);
    expect(r.apps.find((a) => a.record.app_id === 'app-small')!.record).toMatchObject({ total_stages: 1, input_bytes: 10 });
  });

  it('/allexecutors is read the same way: 1,500 executors in 4 MB under a 2 MiB limit are all counted', async () => {
    const apps: SyntheticApp[] = [{ id: 'app-wide', startMs: T0, endMs: T0 + 1000, executors: [], stages: [{ id: 0, status: 'COMPLETE', complete: 4 }] }];
    // Spark 3.5's executor entries carry peak metrics, logs and attributes we never read: ~2.7 KB each here.
    const executors = Array.from({ length: 1500 }, (_, i) => ({
      id: String(i + 1),
      hostPort: `node-${i}.cluster.internal:40${String(i % 100).padStart(3, '0')}`,
      isActive: false,
      totalCores: 4,
      totalTasks: 10,
      executorLogs: { stdout: `http://node-${i}.cluster.internal:8042/node/containerlogs/container_${i}/spark/stdout?start=-4096`, stderr: `http://node-${i}.cluster.internal:8042/node/containerlogs/container_${i}/spark/stderr?start=-4096` },
      peakMemoryMetrics: Object.fromEntries(Array.from({ length: 21 }, (_x, j) => [`Metric${j}WithALongName`, 1_000_000 + j])),
      attributes: { CONTAINER_ID: `container_${i}`, LOG_FILES: 'stderr,stdout', NM_HOST: `node-${i}.cluster.internal`, USER: 'spark' },
      padding: 'x'.repeat(1500),
    }));
    const text = JSON.stringify(executors);
    expect(text.length).toBeGreaterThan(1.5 * 2 * MiB);
    const server = await serve({ applications: { json: syntheticListing(apps) }, ...syntheticRoutes(apps), 'applications/app-wide/allexecutors': { text } });
    const r = await collectHistoryServerAll({ url: server.url, maxResponseBytes: 2 * MiB });
    expect(r.problems).toEqual([]);
    expect(r.apps[0]!.record.num_executors).toBe(1500);
    expect(r.apps[0]!.summaries!.executors).toHaveLength(1500);
    expect(r.apps[0]!.summaries!.executors[1499]).toMatchObject({ executor_id: '1500', host: 'node-1499.cluster.internal', total_cores: 4, total_tasks: 10 });
  });

  it('keeping more than a quarter of the limit is refused once, naming the URL (no credentials), the entries read and the setting; the other application is stored', async () => {
    const sent = { bytes: 0 };
    const { url } = await twoApps(20_000, sent);
    const withPassword = url.replace('http://', 'http://ana:s3cret-Pa55@');
    const t0 = performance.now();
    const r = await collectHistoryServerAll({ url: withPassword, maxResponseBytes: 2 * MiB, maxTaskSummaries: 0 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-small']);
    const failed = r.problems.filter((p) => p.code === 'rest-invalid');
    expect(failed).toHaveLength(1);
    // ~400 bytes kept a stage row: 512 KiB hold ~1,300 of them.
    expect(failed[0]!.message).toMatch(
      new RegExp(
        `^app-big: applications/app-big/stages: the answer holds more than 512 KB of values we keep \\(a quarter of the 2 MB limit\\) in its first 1,[0-9]{3} entries, so it was not read \\(${url.replace(/\./g, '\\.')}/api/v1/applications/app-big/stages\\); raise max_response_mb \\(config\\) or --max-response-mb \\(CLI\\) to read it$`,
      ),
    );
    expect(JSON.stringify(r.problems)).not.toContain('s3cret');
    // Dropped where the cap was passed: far short of the 60 MB the server would have sent.
    expect(sent.bytes).toBeLessThan(16 * MiB);
  });
});
