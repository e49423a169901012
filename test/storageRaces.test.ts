/**
 * Storage bugs a review reproduced with several processes, a damaged file or a concurrent delete:
 * each test here failed on the code before its fix.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRegressions } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import type { Batch } from '../src/collectors/contract';
import type { SourceConfig } from '../src/collectors/registry';
import type { SparkAppRecord } from '../src/collectors/record';
import { collectRun, plan, storeSink, type Runner } from '../src/pipeline';
import { JobStore } from '../src/storage/jobStore';
import type { AppKey, IngestedFile, JobRepository, RegressionRow } from '../src/storage/repository';
import { loadSqlJs } from '../src/storage/sqlJs';
import { makeRecord, manyRecords } from './support/records';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

/** A pid no process has: pid_max is at most 2^22. */
const DEAD_PID = 2 ** 22 + 17;

describe('the save lock', () => {
  it('a stale lock broken by several writers at once still lets only one save at a time: nobody\'s record is lost', async () => {
    // The reviewer's race.sh in one process: N stores of one file, a dead process's lock, all saving
    // at the same moment. Before, two of them could judge the stale lock stale, the second removing
    // the fresh lock the first had taken since; both saved at once and one record was lost.
    const N = 6;
    for (let trial = 0; trial < 12; trial++) {
      const file = path.join(tempDir(), 'r.db');
      const base = await JobStore.open(file);
      base.upsert([makeRecord({ app_id: 'base' })]);
      await base.save();
      base.close();
      writeFileSync(`${file}.lock`, JSON.stringify({ pid: DEAD_PID, host: hostname(), at: Date.now() }));
      const stores = await Promise.all(Array.from({ length: N }, () => JobStore.open(file, { lockTimeoutMs: 20_000 })));
      stores.forEach((s, i) => s.upsert([makeRecord({ app_id: `race-${i}` })]));
      await Promise.all(stores.map((s) => s.save()));
      for (const s of stores) s.close();
      const after = await JobStore.open(file);
      expect(after.count(), `trial ${trial}`).toBe(N + 1);
      after.close();
    }
  });

  it('a live process on this host is waited for while it touches its lock (a long save started ten minutes ago)', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    // Taken ten minutes ago, touched just now (the holder's heartbeat).
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() - 600_000 }));
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    await expect(store.save()).rejects.toThrow(new RegExp(`locked by process ${process.pid} on `));
    store.close();
  });

  it("a lock untouched for ten minutes is broken though its pid is alive: a reused pid (a container's PID 1) held it for ever (a review)", async () => {
    const file = path.join(tempDir(), 'jobs.db');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() - 600_000 }));
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(`${file}.lock`, tenMinutesAgo, tenMinutesAgo);
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    expect((await store.save()).written).toBe(true);
    store.close();
  });

  it('a lock from another host is broken once nobody touched it for two minutes, not before', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example', at: Date.now() }));
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    await expect(store.save()).rejects.toThrow(/locked by process 1 on elsewhere\.example/);
    const threeMinutesAgo = new Date(Date.now() - 180_000);
    utimesSync(`${file}.lock`, threeMinutesAgo, threeMinutesAgo);
    expect((await store.save()).written).toBe(true);
    store.close();
  });
});

describe('a database file cut short', () => {
  /** A saved database of a few pages, and its bytes. */
  async function saved(): Promise<{ dir: string; file: string; bytes: Buffer }> {
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    const store = await JobStore.open(file);
    store.upsert(manyRecords(40));
    await store.save();
    store.close();
    return { dir, file, bytes: readFileSync(file) };
  }

  it('inside its last page (quick_check passes, the lost bytes read as zeros) is damaged: a writer moves it aside, a reader refuses it', async () => {
    const { dir, file, bytes } = await saved();
    expect(bytes.length % 4096).toBe(0);
    // As the review's `head -c 150000` of a 151552-byte file: the end of the last page gone, which
    // SQLite itself does not notice (this database's last 200 bytes are a record's).
    const cut = bytes.subarray(0, bytes.length - 200);
    const SQL = await loadSqlJs();
    const db = new SQL.Database(cut);
    expect(db.exec('PRAGMA quick_check')[0]?.values[0]?.[0]).toBe('ok');
    db.close();
    writeFileSync(file, cut);
    await expect(JobStore.open(file, { readOnly: true })).rejects.toThrow(/is not a readable Spark Optimizer database \(its \d+ bytes are not whole pages of 4096 bytes: it was cut short\); it was left as it is/);
    expect(readFileSync(file).length).toBe(bytes.length - 200);
    const store = await JobStore.open(file);
    expect(store.warnings).toEqual([expect.stringMatching(/cut short\); moved it to .*jobs\.db\.corrupt-/)]);
    expect(store.count()).toBe(0);
    store.close();
    expect(readdirSync(dir).filter((n) => n.startsWith('jobs.db.corrupt-'))).toHaveLength(1);
  });

  it('by whole pages, shorter than the page count its header gives, is said so', async () => {
    const { file, bytes } = await saved();
    writeFileSync(file, bytes.subarray(0, bytes.length - 4096));
    await expect(JobStore.open(file, { readOnly: true })).rejects.toThrow(/it holds \d+ of the \d+ pages its header counts: it was cut short/);
  });
});

/** A run finished, and the copy of it read while it ran (an .inprogress log). */
const finished = makeRecord({ app_id: 'app-r' });
const running = makeRecord({ app_id: 'app-r', status: 'running', end_time: null, duration_ms: null, quality: ['in_progress'] });
const keyR: AppKey = { app_id: 'app-r', attempt_id: null };
const steady: RegressionRow = { ...keyR, status: 'steady', summary: 'Steady against 3 earlier runs', explanation: 'Steady.', check: null };

/** What `db copy` does with a page: the records (upsert's rules), then their checks. */
function copy(from: JobRepository, to: JobRepository): number {
  const records = from.list({ sort: 'app_id', descending: false });
  to.upsert(records.map((record, k) => ({ record, summaries: from.summariesOfMany(records)[k] })));
  return to.saveRegressions(from.regressions(records).flatMap((r) => (r === null ? [] : [r])));
}

describeEachStore('a regression check goes with the copy of the run it was made for', (open) => {
  it('db copy from a store holding the unfinished copy leaves the finished run its own check', async () => {
    const from = await open();
    from.upsert([running]);
    const [unfinished] = checkRegressions(from, [keyR], DEFAULT_THRESHOLDS);
    expect(unfinished).toMatchObject({ status: 'unchecked', unchecked: 'unfinished' });
    from.saveRegressions([unfinished!]);
    const to = await open();
    to.upsert([finished]);
    to.saveRegressions([steady]);
    expect(copy(from, to)).toBe(0);
    expect(to.get(keyR)?.status).toBe('completed');
    expect(to.regressions([keyR])[0]).toMatchObject({ status: 'steady', summary: 'Steady against 3 earlier runs' });
    // The other way the finished run replaces the unfinished one, and its check comes with it.
    expect(copy(to, from)).toBe(1);
    expect(from.regressions([keyR])[0]).toMatchObject({ status: 'steady', of: { status: 'completed', end_time: finished.end_time } });
  });

  it('uncheckedRuns gives a source\'s runs that have no stored check (what a cancelled collection left)', async () => {
    const repo = await open();
    repo.upsert([finished, makeRecord({ app_id: 'app-s', attempt_id: '2' }), makeRecord({ app_id: 'app-t' }), makeRecord({ app_id: 'app-o', source: 'other' })]);
    repo.saveRegressions([{ ...steady, app_id: 'app-t' }]);
    expect(repo.uncheckedRuns('event_log', 10).sort((a, b) => a.app_id.localeCompare(b.app_id))).toEqual([keyR, { app_id: 'app-s', attempt_id: '2' }]);
    expect(repo.uncheckedRuns('event_log', 1)).toHaveLength(1);
  });
});

describe('a regression check merged from another writer', () => {
  it('a check of the unfinished copy, replayed onto the finished run another writer saved, is left out', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const a = await JobStore.open(file);
    a.upsert([running]);
    a.saveRegressions(checkRegressions(a, [keyR], DEFAULT_THRESHOLDS));
    const b = await JobStore.open(file);
    b.upsert([finished]);
    b.saveRegressions([steady]);
    await b.save();
    b.close();
    expect(await a.save()).toEqual({ written: true, merged: true });
    a.close();
    const after = await JobStore.open(file);
    expect(after.get(keyR)?.status).toBe('completed');
    expect(after.regressions([keyR])[0]).toMatchObject({ status: 'steady', summary: 'Steady against 3 earlier runs' });
    after.close();
  });
});

describe('a delete while another writer collects', () => {
  it('the file of a deleted record is not known again after the merge, so the next collection reads it and the record returns', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const record = makeRecord({ app_id: 'app-d' });
    const log: IngestedFile = { path: '/logs/app-d', unit_path: '/logs/app-d', size: 100, mtime_ms: 1, codec: 'none', app_id: 'app-d', attempt_id: null, status: 'ok' };
    const first = await JobStore.open(file);
    first.storeBatch([record], [log]);
    await first.save();
    first.close();
    // A collection reads the log again (its file changed, the record did not) while the record is deleted and saved.
    const collect = await JobStore.open(file);
    const user = await JobStore.open(file);
    expect(user.delete([{ app_id: 'app-d', attempt_id: null }])).toBe(1);
    await user.save();
    user.close();
    const touched = { ...log, mtime_ms: 2 };
    expect(collect.storeBatch([record], [touched])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(await collect.save()).toEqual({ written: true, merged: true });
    collect.close();
    const after = await JobStore.open(file);
    expect(after.get({ app_id: 'app-d', attempt_id: null })).toBeUndefined();
    expect(after.knownFiles().map((f) => f.path)).toEqual([]);
    expect(after.isUnchanged({ path: '/logs/app-d', files: [{ path: '/logs/app-d', size: 100, mtimeMs: 2 }] })).toBe(false);
    after.close();
  });
});

describe('saving a database reached through a symlink, or with its own mode', () => {
  it('a symlinked database stays a link: the save writes the file it points to', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'real'));
    const real = path.join(dir, 'real', 'jobs.db');
    const link = path.join(dir, 'jobs.db');
    const first = await JobStore.open(real);
    first.upsert([makeRecord({ app_id: 'one' })]);
    await first.save();
    first.close();
    symlinkSync(path.relative(dir, real), link);
    const store = await JobStore.open(link);
    store.upsert([makeRecord({ app_id: 'two' })]);
    expect((await store.save()).written).toBe(true);
    store.close();
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readdirSync(path.join(dir, 'real')).sort()).toEqual(['jobs.db']);
    const again = await JobStore.open(real);
    expect(again.count()).toBe(2);
    again.close();
  });

  it('a database chmod 600 stays 600 after a save (and 640 stays 640)', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    for (const mode of [0o600, 0o640]) {
      store.upsert([makeRecord({ app_id: `app-${mode}` })]);
      await store.save();
      chmodSync(file, mode);
      store.upsert([makeRecord({ app_id: `app-${mode}-2` })]);
      await store.save();
      expect(statSync(file).mode & 0o777).toBe(mode);
    }
    store.close();
  });
});

describe('a read-only folder or damaged read-only file', () => {
  it('a database in a read-only folder is refused before a collection (checkWritable), not at the lock after it', async () => {
    const dir = path.join(tempDir(), 'ro');
    mkdirSync(dir);
    const file = path.join(dir, 'jobs.db');
    const first = await JobStore.open(file);
    first.upsert([makeRecord()]);
    await first.save();
    first.close();
    chmodSync(dir, 0o555);
    try {
      const store = await JobStore.open(file);
      await expect(store.checkWritable()).rejects.toThrow(`${dir}, the folder of ${file}, is read-only (mode 0555): nothing was stored in ${file}`);
      store.upsert([makeRecord({ app_id: 'app-2' })]);
      await expect(store.save()).rejects.toThrow(/the folder of .* is read-only \(mode 0555\)/);
      store.close();
    } finally {
      chmodSync(dir, 0o755);
    }
  });

  it('a damaged database file without write permission is refused, not moved aside and replaced', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    writeFileSync(file, 'not a database at all, but somebody\'s notes');
    chmodSync(file, 0o444);
    await expect(JobStore.open(file)).rejects.toThrow(`${file} is not a readable database (it does not start with the SQLite header); ${file} is read-only (mode 0444): it was left as it is`);
    expect(readdirSync(dir)).toEqual(['jobs.db']);
    expect(readFileSync(file, 'utf8')).toBe('not a database at all, but somebody\'s notes');
  });
});

describe('runs a cancelled collection stored but never checked', () => {
  /** Run i of Nightly: 10 minutes a day in June 2024; the sixth 2x slower. */
  const nightly = Array.from({ length: 6 }, (_, i) => {
    const start = Date.UTC(2024, 5, 1) + i * 86_400_000;
    const duration = (i === 5 ? 20 : 10) * 60_000;
    return makeRecord({ app_id: `nightly-${i}`, app_name: 'Nightly', source: 'prod', start_time: new Date(start).toISOString(), end_time: new Date(start + duration).toISOString(), duration_ms: duration });
  });
  /** A runner yielding `records` as one batch, aborting `cancel` after it (a Ctrl+C once they are stored). */
  const runnerOf = (records: SparkAppRecord[], cancel?: AbortController): Runner => () => ({
    batches: (async function* (): AsyncGenerator<Batch> {
      await new Promise((resolve) => setImmediate(resolve));
      yield { apps: records.map((record) => ({ record, problems: [], files: [], provenance: { path: record.app_id, files: [] } })), problems: [], filtered: 0, unchanged: 0 };
      cancel?.abort();
    })(),
  });

  it('are checked by the next collection of their source, though their logs are unchanged', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    try {
      const { jobs } = plan([{ type: 'event_log', name: 'prod', path: '/logs/prod' } as SourceConfig]);
      const cancel = new AbortController();
      await collectRun(jobs, runnerOf(nightly, cancel), storeSink(store), cancel.signal);
      expect(store.count()).toBe(6);
      expect(store.regressions(nightly)).toEqual(nightly.map(() => null));
      const next = await collectRun(jobs, runnerOf(nightly), storeSink(store), new AbortController().signal);
      expect(next.counts.unchanged).toBe(6);
      expect(next.regressed.map((r) => r.key.app_id)).toEqual(['nightly-5']);
      expect(store.regressions(nightly).map((c) => c?.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady', 'steady', 'regressed']);
      // Checked once: a collection after that checks nothing again.
      expect((await collectRun(jobs, runnerOf(nightly), storeSink(store), new AbortController().signal)).regressed).toEqual([]);
    } finally {
      store.close();
    }
  });
});
