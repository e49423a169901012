/**
 * The repository's rules that storage.test.ts leaves to chance, found by `npm run mutate`
 * (issue 19, TESTING.md): query filters and groups, the finished-record rule for both final
 * statuses, a record given twice in one upsert, files and runs, on both stores (issue 17); and,
 * of the sql.js file alone, how it keys files and a lost environment block.
 */
import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { AppKey, GroupField, IngestedFile } from '../src/storage/repository';
import { makeRecord } from './support/records';
import { makeSummaries } from './support/summaries';
import { memoryRepository } from './support/memoryRepository';
import { describeEachStore } from './support/stores';

const file = (p: string, status: 'ok' | 'problems' = 'ok'): IngestedFile => ({ path: p, unit_path: '/u', size: 10, mtime_ms: 5, codec: 'none', app_id: 'app-1', attempt_id: null, status });

describeEachStore('JobRepository', (open, kind) => {
  it.each(['completed', 'failed'] as const)('a %s record is never replaced by an unfinished one', async (status) => {
    const repo = await open();
    const finished = makeRecord({ status });
    repo.upsert([finished]);
    expect(repo.upsert([makeRecord({ status: 'running', end_time: null, duration_ms: null })])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.upsert([makeRecord({ status: 'unknown', end_time: null, duration_ms: null })])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.get(finished)).toEqual(finished);
    // A finished one may replace a finished one.
    const other = makeRecord({ status: status === 'completed' ? 'failed' : 'completed' });
    expect(repo.upsert([other])).toEqual({ new: 0, updated: 1, unchanged: 0 });
  });

  it("summariesOfMany: each attempt's summaries in the keys' order, undefined for none stored or no such attempt", async () => {
    const repo = await open();
    const a = makeRecord({ app_id: 'a' });
    const b = makeRecord({ app_id: 'b', attempt_id: '2' });
    const c = makeRecord({ app_id: 'c' });
    repo.upsert([{ record: a, summaries: makeSummaries(3, 2) }, { record: b, summaries: makeSummaries(1, 1) }, c]);
    const keys = [b, { app_id: 'nope', attempt_id: null }, c, a, ...Array.from({ length: 600 }, () => a)];
    const many = repo.summariesOfMany(keys);
    expect(many.slice(0, 4)).toEqual([makeSummaries(1, 1), undefined, undefined, makeSummaries(3, 2)]);
    expect(many).toEqual(keys.map((k) => repo.summariesOf(k)));
  });

  it('the same attempt twice in one upsert: new, then the later version as an update of it', async () => {
    const repo = await open();
    const first = makeRecord({ status: 'running', end_time: null, duration_ms: null });
    const later = makeRecord({ total_tasks: 200 });
    expect(repo.upsert([first, later])).toEqual({ new: 1, updated: 1, unchanged: 0 });
    expect(repo.count()).toBe(1);
    expect(repo.get(later)).toEqual(later);
  });

  it('a stored attempt changed and changed back in one upsert ends as the last version', async () => {
    const repo = await open();
    const a = makeRecord();
    repo.upsert([a]);
    const b = makeRecord({ total_tasks: 300 });
    expect(repo.upsert([b, a])).toEqual({ new: 0, updated: 2, unchanged: 0 });
    expect(repo.get(a)).toEqual(a);
  });

  it('changed: each key the call stored new or updated, once, in the order the call changed them', async () => {
    const repo = await open();
    repo.upsert([makeRecord({ app_id: 'm' }), makeRecord({ app_id: 'k' })]);
    const changed: AppKey[] = [];
    const counts = repo.upsert(
      [
        makeRecord({ app_id: 'z' }),
        makeRecord({ app_id: 'k' }),
        makeRecord({ app_id: 'm', total_tasks: 7 }),
        makeRecord({ app_id: 'a', attempt_id: '2' }),
        makeRecord({ app_id: 'z', total_tasks: 9 }),
      ],
      new Date(),
      changed,
    );
    expect(counts).toEqual({ new: 2, updated: 2, unchanged: 1 });
    expect(changed).toEqual([
      { app_id: 'z', attempt_id: null },
      { app_id: 'm', attempt_id: null },
      { app_id: 'a', attempt_id: '2' },
    ]);
    // A call that changes nothing gives none.
    const none: AppKey[] = [];
    repo.upsert([makeRecord({ app_id: 'k' })], new Date(), none);
    expect(none).toEqual([]);
  });

  it('create refuses an existing attempt, naming it', async () => {
    const repo = await open();
    repo.create(makeRecord());
    expect(() => repo.create(makeRecord())).toThrow('application app-1 attempt (none) already exists');
    repo.create(makeRecord({ attempt_id: '2' }));
    expect(() => repo.create(makeRecord({ attempt_id: '2' }))).toThrow('application app-1 attempt 2 already exists');
  });

  it('until is exclusive; name matches literally, % and _ included; sort ascending on request', async () => {
    const repo = await open();
    repo.upsert([
      makeRecord({ app_id: 'a', app_name: '50% sample', end_time: '2024-06-01T00:00:00.000Z' }),
      makeRecord({ app_id: 'b', app_name: '500 sample', end_time: '2024-06-02T00:00:00.000Z' }),
      makeRecord({ app_id: 'c', app_name: 'x_y', end_time: '2024-06-03T00:00:00.000Z' }),
      makeRecord({ app_id: 'd', app_name: 'xzy', end_time: '2024-06-04T00:00:00.000Z' }),
    ]);
    expect(repo.list({ until: '2024-06-02T00:00:00.000Z' }).map((r) => r.app_id)).toEqual(['a']);
    expect(repo.count({ until: '2024-06-03T00:00:00.000Z' })).toBe(2);
    expect(repo.list({ name: '50%' }).map((r) => r.app_id)).toEqual(['a']);
    expect(repo.list({ name: 'x_y' }).map((r) => r.app_id)).toEqual(['c']);
    expect(repo.list({ descending: false }).map((r) => r.app_id)).toEqual(['a', 'b', 'c', 'd']);
    expect(repo.list().map((r) => r.app_id)).toEqual(['d', 'c', 'b', 'a']);
    expect(repo.list({ limit: 1, offset: 1 }).map((r) => r.app_id)).toEqual(['c']);
  });

  it('sorts names, users and other text without regard to case; ids in byte order (pages walk them)', async () => {
    const repo = await open();
    repo.upsert(['SessionizeClicks', 'databricks-job-7731', 'AdHoc', 'nightly'].map((name, i) => makeRecord({ app_id: `a-${i}`, app_name: name, user: i % 2 === 0 ? 'Zed' : 'ann' })));
    expect(repo.list({ sort: 'app_name', descending: false }).map((r) => r.app_name)).toEqual(['AdHoc', 'databricks-job-7731', 'nightly', 'SessionizeClicks']);
    expect(repo.list({ sort: 'user', descending: false }).map((r) => r.user)).toEqual(['ann', 'ann', 'Zed', 'Zed']);
    // The tree's groups and the table's choices alike (a review: they stayed in byte order).
    expect(repo.groupCounts('user').map((g) => g.key)).toEqual(['ann', 'Zed']);
  });

  it('rows the sort field ties are the newest run first, not in app id order (the runs of one name; a review on real logs)', async () => {
    const repo = await open();
    const day = (d: number): string => new Date(Date.UTC(2025, 5, d)).toISOString();
    // Ids whose order is not the runs' (random suffixes, as real ids can be); one run with no time at all.
    repo.upsert([
      makeRecord({ app_id: 'run-a', app_name: 'Taxi', start_time: day(3), end_time: day(3) }),
      makeRecord({ app_id: 'run-b', app_name: 'Taxi', start_time: day(5), end_time: day(5) }),
      makeRecord({ app_id: 'run-c', app_name: 'Taxi', start_time: day(1), end_time: day(1) }),
      makeRecord({ app_id: 'run-d', app_name: 'Taxi', submit_time: null, start_time: null, end_time: null }),
      makeRecord({ app_id: 'run-e', app_name: 'Alpha', start_time: day(2), end_time: day(2) }),
    ]);
    expect(repo.list({ sort: 'app_name', descending: false }).map((r) => r.app_id)).toEqual(['run-e', 'run-b', 'run-a', 'run-c', 'run-d']);
    expect(repo.list({ sort: 'app_name', descending: true }).map((r) => r.app_id)).toEqual(['run-b', 'run-a', 'run-c', 'run-d', 'run-e']);
    // Pages of it are that order cut up.
    expect([0, 2, 4].flatMap((offset) => repo.list({ sort: 'app_name', descending: false, limit: 2, offset }).map((r) => r.app_id))).toEqual(['run-e', 'run-b', 'run-a', 'run-c', 'run-d']);
    // A sort by a time has no tie-break of its own: by the key, as before.
    expect(repo.list({ sort: 'end_time', descending: false }).map((r) => r.app_id)[0]).toBe('run-d');
  });

  it('after: pages in key order walk every record once, even when rows come and go between pages', async () => {
    const repo = await open();
    // Attempts of one app (none, '1', '2', '10' as text), ids that differ by case and past ASCII, a prefix of another.
    const keys: AppKey[] = [
      { app_id: 'app-1', attempt_id: null },
      { app_id: 'app-1', attempt_id: '1' },
      { app_id: 'app-1', attempt_id: '10' },
      { app_id: 'app-1', attempt_id: '2' },
      { app_id: 'app-10', attempt_id: null },
      { app_id: 'App-2', attempt_id: null },
      { app_id: 'app-2', attempt_id: '1' },
      { app_id: 'app-é', attempt_id: null },
      { app_id: 'b', attempt_id: null },
    ];
    repo.upsert(keys.map((k, i) => makeRecord({ ...k, end_time: `2024-06-0${(i % 9) + 1}T00:00:00.000Z` })));
    const id = (k: AppKey): string => `${k.app_id}#${k.attempt_id ?? ''}`;
    const inKeyOrder = repo.list({ sort: 'app_id', descending: false }).map(id);
    const seen: string[] = [];
    let after: AppKey | undefined;
    for (let page = 0; ; page++) {
      const rows = repo.list({ sort: 'app_id', descending: false, limit: 2, after });
      if (rows.length === 0) break;
      seen.push(...rows.map(id));
      after = rows[rows.length - 1]!;
      if (page === 1) {
        // Between pages: one behind the walk removed, one behind it added, one ahead added.
        repo.delete([keys[0]!]);
        repo.upsert([makeRecord({ app_id: 'app-0' }), makeRecord({ app_id: 'c' })]);
      }
    }
    expect(seen).toEqual([...inKeyOrder, 'c#']);
    expect(new Set(seen).size).toBe(seen.length);
    expect(repo.list({ sort: 'app_id', descending: false, after: { app_id: 'app-2', attempt_id: null } }).map(id)).toEqual(['app-2#1', 'app-é#', 'b#', 'c#']);
  });

  it('groups: a missing value is the empty key; days newest first', async () => {
    const repo = await open();
    repo.upsert([
      makeRecord({ app_id: 'a', user: null, end_time: '2024-06-01T10:00:00.000Z' }),
      makeRecord({ app_id: 'b', user: 'ann', end_time: '2024-06-03T10:00:00.000Z' }),
      makeRecord({ app_id: 'c', user: 'ann', end_time: '2024-06-02T10:00:00.000Z' }),
    ]);
    expect(repo.groupCounts('user')).toEqual([
      { key: '', count: 1 },
      { key: 'ann', count: 2 },
    ]);
    expect(repo.groupCounts('day').map((g) => g.key)).toEqual(['2024-06-03', '2024-06-02', '2024-06-01']);
    // A field that cannot be grouped by (the views pass user input through) groups by source.
    expect(repo.groupCounts('nonsense' as GroupField)).toEqual([{ key: 'event_log', count: 3 }]);
  });

  it('files: recorded, and listed when read without errors', async () => {
    const repo = await open();
    repo.recordFiles([file('/u/1'), file('/u/2'), file('/v/1', 'problems')]);
    // A file that held no application has no attempt key either.
    repo.recordFiles([{ ...file('/w/1', 'problems'), app_id: null }]);
    expect(repo.knownFiles()).toEqual([
      { unit_path: '/u', path: '/u/1', size: 10, mtime_ms: 5 },
      { unit_path: '/u', path: '/u/2', size: 10, mtime_ms: 5 },
    ]);
  });

  it('ingestedFiles: every recorded file as it was last given, in path order', async () => {
    const repo = await open();
    repo.recordFiles([file('/v/1', 'problems'), file('/u/2'), { ...file('/u/1'), attempt_id: '3', codec: 'zstd' }]);
    repo.recordFiles([{ ...file('/w/1', 'problems'), app_id: null }, { ...file('/u/2'), size: 11, mtime_ms: 1_717_200_000_123.5 }]);
    expect(repo.ingestedFiles()).toEqual([
      { ...file('/u/1'), attempt_id: '3', codec: 'zstd' },
      { ...file('/u/2'), size: 11, mtime_ms: 1_717_200_000_123.5 },
      file('/v/1', 'problems'),
      { ...file('/w/1', 'problems'), app_id: null },
    ]);
  });

  it('storeBatch: a batch\'s records and the files they were read from; one that fails stores neither', async () => {
    const repo = await open();
    const changed: AppKey[] = [];
    expect(repo.storeBatch([makeRecord({ app_id: 'b' }), makeRecord({ app_id: 'a' })], [file('/u/b'), file('/u/a')], new Date(), changed)).toEqual({ new: 2, updated: 0, unchanged: 0 });
    expect(changed).toEqual([
      { app_id: 'b', attempt_id: null },
      { app_id: 'a', attempt_id: null },
    ]);
    expect(repo.knownFiles().map((f) => f.path).sort()).toEqual(['/u/a', '/u/b']);
    const broken = { ...makeRecord({ app_id: 'c' }), total_tasks: null } as unknown as ReturnType<typeof makeRecord>;
    const none: AppKey[] = [];
    const notNull = kind === 'sqlite' ? /NOT NULL constraint failed: applications\.total_tasks/ : /violates not-null constraint/;
    expect(() => repo.storeBatch([makeRecord({ app_id: 'd' }), broken], [file('/u/c'), file('/u/d')], new Date(), none)).toThrow(notNull);
    expect(none).toEqual([]);
    expect(repo.count()).toBe(2);
    expect(repo.knownFiles().map((f) => f.path).sort()).toEqual(['/u/a', '/u/b']);
  });

  it('runs: unfinished ones say finished null and who runs them; finished ones their counts and errors', async () => {
    const repo = await open();
    const at = new Date('2024-06-01T00:00:00.000Z');
    repo.startRun('r1', 'logs', { path: '/x' }, at);
    // The row names the process that runs it (this one). Whether that process still runs it (state) is
    // judged by the store from its sign of life, not from the row: interruptedRuns.test.ts, alive and gone.
    expect(repo.listRuns()).toMatchObject([
      {
        run_id: 'r1',
        source: 'logs',
        options: { path: '/x' },
        started: at.toISOString(),
        finished: null,
        seen: 0,
        new: 0,
        updated: 0,
        unchanged: 0,
        skipped: 0,
        failed: 0,
        errors: [],
        owner: { host: hostname(), pid: process.pid, heartbeat: expect.any(String) as string },
      },
    ]);
    const end = new Date('2024-06-01T00:01:00.000Z');
    repo.finishRun('r1', { seen: 5, new: 1, updated: 2, unchanged: 1, skipped: 1, failed: 0 }, ['one'], end);
    expect(repo.listRuns()[0]).toMatchObject({ finished: end.toISOString(), seen: 5, new: 1, updated: 2, errors: ['one'] });
  });
});

describe('SqlJsRepository', () => {
  it('files: a file is keyed by its attempt, and one that held no application has no attempt key', async () => {
    const { repo, db } = await memoryRepository();
    repo.recordFiles([file('/u/1'), file('/u/2'), file('/v/1', 'problems')]);
    repo.recordFiles([{ ...file('/w/1', 'problems'), app_id: null }]);
    expect(db.exec("SELECT app_id, attempt_key FROM ingested_files WHERE path IN ('/u/1', '/w/1') ORDER BY path")[0]!.values).toEqual([
      ['app-1', ''],
      [null, null],
    ]);
  });

  it('a row whose environment block is gone is an error that says so', async () => {
    const { repo, db } = await memoryRepository();
    repo.upsert([makeRecord()]);
    const block = Number(db.exec('SELECT env_block FROM applications')[0]!.values[0]![0]);
    db.run('DELETE FROM environment_blocks');
    expect(() => repo.get(makeRecord())).toThrow(`the database has lost environment block ${block}`);
  });
});
