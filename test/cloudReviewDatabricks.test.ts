/** Databricks defects of a review of the cloud collectors, each against the fake workspace on 127.0.0.1. */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { collectDatabricks, collectDatabricksAll, type DatabricksOptions } from '../src/collectors/databricks/collect';
import { startDatabricksFake, type DatabricksFake, type DatabricksFakeOptions } from './support/databricksFake';
import { DATABRICKS_ENV, isolatedEnv } from './support/isolatedEnv';
import { storedRuns } from './support/storedRuns';

const TOKEN = 'dapiSECRETfeedface0000000000000042';
const fakes: DatabricksFake[] = [];
isolatedEnv(DATABRICKS_ENV, 'dbx-home-');
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});

async function serve(opts: Partial<DatabricksFakeOptions> & { runs: unknown[] }): Promise<DatabricksFake> {
  const f = await startDatabricksFake({ token: TOKEN, clusters: { c1: { cluster_id: 'c1', cluster_name: 'c', num_workers: 2, spark_version: '13.3.x-scala2.12', node_type_id: 'i3.xlarge' } }, ...opts });
  fakes.push(f);
  return f;
}
const fast = (url: string, extra: Partial<DatabricksOptions> = {}): DatabricksOptions => ({ endpointUrl: url, token: TOKEN, tokenSource: 'test token', source: 'dbx', backoffMs: 5, maxDelayMs: 50, timeoutMs: 2000, ...extra });
const json = (res: ServerResponse, status: number, body: unknown): true => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
  return true;
};
const BASE = Date.UTC(2026, 5, 1, 8, 0, 0);
const run = (id: number, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  run_id: id,
  job_id: 1,
  run_name: `r${id}`,
  creator_user_name: 'u@x',
  start_time: BASE + id * 1000,
  end_time: BASE + id * 1000 + 500,
  state: { life_cycle_state: 'TERMINATED', result_state: 'SUCCESS' },
  tasks: [{ task_key: 't', existing_cluster_id: 'c1' }],
  ...extra,
});
const LIST = '/api/2.1/jobs/runs/list';
const lists = (f: DatabricksFake): URLSearchParams[] => f.requests.filter((r) => r.path === LIST).map((r) => r.query);
const ids = (r: Awaited<ReturnType<typeof collectDatabricksAll>>): string[] => r.apps.map((a) => a.record.app_id);

describe('Databricks listing review fixes', () => {
  it('offset paging against a server that ignores offset stops with list-failed after one repeated page', { timeout: 10_000 }, async () => {
    const f = await serve({ runs: [], fault: (req, _hit, res) => req.path === LIST && json(res, 200, { runs: [run(1), run(2)], has_more: true }) });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1', 'databricks-run-2']);
    expect(r.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(r.problems[0]!.message).toContain('all listed before');
    expect(lists(f).map((q) => q.get('offset'))).toEqual([null, '2']);
  });

  it('fresh page tokens over the same runs stop with list-failed; a page of some new runs is kept, without the repeats', { timeout: 10_000 }, async () => {
    const f = await serve({
      runs: [],
      fault: (req, hit, res) => req.path === LIST && json(res, 200, { runs: hit === 1 ? [run(1), run(2)] : [run(2), run(3)], has_more: true, next_page_token: `t${hit}` }),
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1', 'databricks-run-2', 'databricks-run-3']);
    expect(r.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(lists(f)).toHaveLength(3);
  });
});

describe('Databricks error answers with status 200', () => {
  it('a runs/list answer whose body is an error is list-failed quoting it, the token masked, not an empty last page', { timeout: 10_000 }, async () => {
    const f = await serve({
      runs: [],
      fault: (req, hit, res) =>
        req.path === LIST && (hit === 1 ? json(res, 200, { runs: [run(1)], has_more: true, next_page_token: 'p2' }) : json(res, 200, { error_code: 'TEMPORARILY_UNAVAILABLE', message: `try later (token ${TOKEN})` })),
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1']);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['list-failed', 'listing runs failed: the answer (HTTP 200) is an error: TEMPORARILY_UNAVAILABLE: try later (token ***)']]);
    expect(JSON.stringify(r)).not.toContain(TOKEN);
  });

  it('a long error message is masked before it is cut, so no part of a token it quotes shows (a mask finds whole tokens only)', { timeout: 10_000 }, async () => {
    const answer = (message: string): Promise<string> =>
      serve({ runs: [], fault: (req, _hit, res) => req.path === LIST && json(res, 200, { error_code: 'TEMPORARILY_UNAVAILABLE', message }) }).then(async (f) => {
        const r = await collectDatabricksAll(fast(f.url));
        expect(r.problems.map((p) => p.code)).toEqual(['list-failed']);
        expect(JSON.stringify(r)).not.toContain(TOKEN.slice(0, 8));
        return r.problems[0]!.message;
      });
    // Quoted as "TEMPORARILY_UNAVAILABLE: " + the message: the token at its 290th character, then at its 190th.
    expect(await answer(`${'x'.repeat(258)} token ${TOKEN} more`)).toMatch(/: x{175}…$/);
    expect(await answer(`${'x'.repeat(158)} token ${TOKEN} ${'y'.repeat(50)}`)).toMatch(/x token \*\*\* y{6}…$/);
  });
});

describe('Databricks empty pages that announce more', () => {
  it('an empty page with has_more and a token is followed, not the end of the listing', { timeout: 10_000 }, async () => {
    const f = await serve({
      runs: [],
      fault: (req, hit, res) =>
        req.path === LIST &&
        json(res, 200, hit === 1 ? { runs: [run(1)], has_more: true, next_page_token: 'p2' } : hit === 2 ? { runs: [], has_more: true, next_page_token: 'p3' } : { runs: [run(3)], has_more: false }),
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1', 'databricks-run-3']);
    expect(r.problems).toEqual([]);
    expect(lists(f).map((q) => q.get('page_token'))).toEqual([null, 'p2', 'p3']);
  });

  it('an empty page with has_more and no token (offset paging) is list-failed: the offset cannot move', { timeout: 10_000 }, async () => {
    const f = await serve({ runs: [], fault: (req, hit, res) => req.path === LIST && json(res, 200, hit === 1 ? { runs: [run(1)], has_more: true } : { runs: [], has_more: true }) });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1']);
    expect(r.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(lists(f)).toHaveLength(2);
  });

  it('empty pages with fresh tokens forever stop with list-failed', { timeout: 10_000 }, async () => {
    const f = await serve({ runs: [], fault: (req, hit, res) => req.path === LIST && json(res, 200, { runs: [], has_more: true, next_page_token: `t${hit}` }) });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => p.code)).toEqual(['list-failed']);
    expect(lists(f).length).toBeLessThanOrEqual(25);
  });
});

describe('Databricks runs that never executed', () => {
  it('have one status whichever shape the answer has (state or status): unknown, not failed', { timeout: 10_000 }, async () => {
    const f = await serve({
      runs: [
        run(1, { state: { life_cycle_state: 'SKIPPED', state_message: 'a run of this job is already active' } }),
        run(2, { state: undefined, status: { state: 'TERMINATED', termination_details: { code: 'SKIPPED', message: 'upstream task failed' } } }),
        run(3, { state: undefined, status: { state: 'TERMINATED', termination_details: { code: 'MAX_CONCURRENT_RUNS_EXCEEDED' } } }),
        run(4, { state: { life_cycle_state: 'TERMINATED', result_state: 'UPSTREAM_FAILED' } }),
        run(5, { state: undefined, status: { state: 'TERMINATED', termination_details: { code: 'RUN_EXECUTION_ERROR' } } }),
      ],
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(r.apps.map((a) => [a.record.app_id, a.record.status]).sort()).toEqual([
      ['databricks-run-1', 'unknown'],
      ['databricks-run-2', 'unknown'],
      ['databricks-run-3', 'unknown'],
      ['databricks-run-4', 'unknown'],
      ['databricks-run-5', 'failed'],
    ]);
  });
});

describe('Databricks repeated page token', () => {
  it('stops before the page that repeats a token is fetched: its new-looking runs are not read', { timeout: 10_000 }, async () => {
    const f = await serve({
      runs: [],
      fault: (req, hit, res) => req.path === LIST && json(res, 200, hit === 1 ? { runs: [run(1)], has_more: true, next_page_token: 'A' } : { runs: [run(hit)], has_more: true, next_page_token: 'A' }),
    });
    const r = await collectDatabricksAll(fast(f.url));
    expect(ids(r)).toEqual(['databricks-run-1']);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['list-failed', 'listing runs failed: the server returned page_token "A" twice; listing stopped to avoid a loop']]);
    expect(lists(f)).toHaveLength(2);
  });
});

describe('Databricks incremental runs', () => {
  it('a second collect reads no finished run again that the store holds with the same state and end time', { timeout: 15_000 }, async () => {
    const runs = [run(1), run(2), run(3, { state: { life_cycle_state: 'RUNNING' }, end_time: 0 })];
    const f = await serve({ runs });
    const store = await storedRuns('dbx');
    const first = await store.run((ctx) => collectDatabricks(fast(f.url), ctx));
    expect(first).toMatchObject({ new: 3, unchanged: 0 });
    const clusterGets = (): number => f.requests.filter((r) => r.path === '/api/2.1/clusters/get').length;
    f.requests.length = 0;

    // Run 2 was repaired: same run, a new end time and state; run 3 still runs.
    runs[1] = run(2, { end_time: BASE + 9000, state: { life_cycle_state: 'TERMINATED', result_state: 'FAILED' } });
    const second = await store.run((ctx) => collectDatabricks(fast(f.url), ctx));
    expect(second).toMatchObject({ new: 0, updated: 1, unchanged: 2 });
    // Runs 2 and 3 are read again (each reads its cluster), run 1 is not.
    expect(clusterGets()).toBe(1);

    f.requests.length = 0;
    runs[2] = run(3);
    const third = await store.run((ctx) => collectDatabricks(fast(f.url), ctx));
    expect(third).toMatchObject({ new: 0, updated: 1, unchanged: 2 });
    f.requests.length = 0;
    const fourth = await store.run((ctx) => collectDatabricks(fast(f.url), ctx));
    expect(fourth).toMatchObject({ new: 0, updated: 0, unchanged: 3 });
    expect(clusterGets()).toBe(0);
  });
});
