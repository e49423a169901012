/**
 * Stage and executor summaries in the store (issue 15): migration 5 from a database of schema 4,
 * migration 6 from its rows into one block per attempt, upserts that replace them with their record
 * (idempotent, finished never replaced by unfinished), delete, retention, and the ingest path on
 * both stores (issue 17); of the sql.js file alone, its blocks and a merge of two writers.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Database } from 'sql.js';
import { sparkAppRecordSchema, type SparkAppRecord } from '../src/collectors/record';
import type { Batch } from '../src/collectors/contract';
import type { AppSummaries } from '../src/collectors/record/summaries';
import { ingest } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import { migrate, schemaVersion, SCHEMA_VERSION } from '../src/storage/migrations';
import { SqlJsRepository, type JobRepository } from '../src/storage/repository';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { makeRecord } from './support/records';
import { makeExecutor, makeStage, makeSummaries } from './support/summaries';
import { writeV5Summaries } from './support/summaryRowsV5';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

/** Lets a test make the encoder fail after some blocks, as a process killed mid-migration would stop. */
const codec = vi.hoisted(() => ({ blocksBeforeFailure: Infinity }));
vi.mock('../src/storage/summaryCodec', async (importOriginal) => {
  const real = await importOriginal<typeof import('../src/storage/summaryCodec')>();
  return {
    ...real,
    encodeSummaryBytes: (summaries: AppSummaries): Buffer => {
      if (codec.blocksBeforeFailure-- <= 0) throw new Error('stopped mid-migration');
      return real.encodeSummaryBytes(summaries);
    },
  };
});

/** A record's row as a database of schema 2 to 5 may hold it (its environment JSON in its row), with the hash repository.ts gives it. */
function insertRecordRow(db: Database, record: SparkAppRecord): void {
  const columns = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];
  const hash = createHash('sha1').update(JSON.stringify(columns.map((c) => record[c]))).digest('hex');
  db.run(`INSERT INTO applications (${columns.join(', ')}, attempt_key, record_hash, first_seen, last_updated) VALUES (${columns.map(() => '?').join(', ')}, ?, ?, 'x', 'x')`, [
    ...columns.map((c) => {
      const v = record[c];
      return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
    }),
    record.attempt_id ?? '',
    hash,
  ]);
}

function tables(db: Database): string[] {
  return (db.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")[0]?.values ?? []).map((r) => String(r[0]));
}

/** Summaries with what rows and blocks must both keep: nulls, times that are not toISOString's text, a driver, rows out of order. */
const TRICKY: AppSummaries = {
  stages: [
    makeStage({ stage_id: 7, attempt_id: 1, status: 'failed', failed_tasks: 4, completion_time: '2024-06-01T00:00:30Z' }),
    makeStage({ stage_id: 2, name: null, status: 'skipped', num_tasks: 0, submission_time: null, completion_time: null, duration_ms: null, task_duration_ms: null, peak_execution_memory_bytes: null }),
    makeStage({ stage_id: 7, attempt_id: 0, input_bytes: 2 ** 40 }),
  ],
  executors: [makeExecutor({ executor_id: '12', remove_time: '2024-06-01T00:09:00.000Z', remove_reason: 'Container killed' }), makeExecutor({ executor_id: 'driver', host: null, total_cores: null }), makeExecutor({ executor_id: '3' })],
};

async function memoryRepo(): Promise<{ db: Database; repo: SqlJsRepository }> {
  const db = memoryDatabase(await loadSqlJs());
  migrate(db, 'memory');
  return { db, repo: new SqlJsRepository(db) };
}

/** Attempts with summaries stored (all of them, or of one app id). */
function withSummaries(db: Database, appId?: string): number {
  const where = appId === undefined ? '' : ` AND app_id = '${appId}'`;
  return Number(db.exec(`SELECT COUNT(*) FROM applications WHERE summaries_block IS NOT NULL${where}`)[0]!.values[0]![0]);
}

/** Blocks of summaries stored: none is left that no attempt points to. */
function blocks(db: Database): number {
  return Number(db.exec('SELECT COUNT(*) FROM summary_blocks')[0]!.values[0]![0]);
}

/**
 * Four attempts with summaries, stored in one upsert: `old` ended long before `now`, `recent` just
 * before, and two attempts of `gone` (the second ended on June 1st, past 20 days of retention).
 */
function storeForRetention(repo: Pick<JobRepository, 'upsert'>): { now: Date; old: SparkAppRecord; recent: SparkAppRecord; gone: SparkAppRecord; kept: SparkAppRecord } {
  const old = makeRecord({ app_id: 'old', end_time: '2024-01-01T00:00:00.000Z' });
  const recent = makeRecord({ app_id: 'recent', end_time: '2024-06-30T00:00:00.000Z' });
  const gone = makeRecord({ app_id: 'gone', attempt_id: '1' });
  const kept = makeRecord({ app_id: 'gone', attempt_id: '2' });
  repo.upsert([old, recent, gone, kept].map((record) => ({ record, summaries: makeSummaries(3, 2) })));
  return { now: new Date('2024-07-01T00:00:00Z'), old, recent, gone, kept };
}

describe('summaries in the store', () => {
  it('migration 5: a schema-4 database keeps its records, has no summaries for them, and forgets the files of stored records only', async () => {
    const SQL = await loadSqlJs();
    const v4 = new SQL.Database();
    migrate(v4, 'v4.db', 4);
    const columns = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];
    const stored = makeRecord({ app_id: 'stored' });
    v4.run(`INSERT INTO applications (${columns.join(', ')}, attempt_key, record_hash, first_seen, last_updated) VALUES (${columns.map(() => '?').join(', ')}, '', 'h', 'x', 'x')`, [
      ...columns.map((c) => {
        const v = stored[c];
        return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
      }),
    ]);
    // A file of the stored record, and one of a record retention dropped (its record is gone).
    v4.run(`INSERT INTO ingested_files VALUES ('/logs/stored', '/logs/stored', 1, 1, 'none', 'stored', '', 'ok', 'x')`);
    v4.run(`INSERT INTO ingested_files VALUES ('/logs/dropped', '/logs/dropped', 1, 1, 'none', 'dropped', '', 'ok', 'x')`);
    const file = path.join(tempDir(), 'v4.db');
    writeFileSync(file, v4.export());
    v4.close();

    const store = await JobStore.open(file);
    expect(store.get(stored)).toEqual(stored);
    expect(store.summariesOf(stored)).toBeUndefined();
    // The stored record's log is read again (to get its stages); the dropped one's is not imported again.
    expect(store.knownFiles().map((f) => f.path)).toEqual(['/logs/dropped']);
    // Read again with its summaries: the same record, now with stages and executors.
    const summaries = makeSummaries(3, 2);
    expect(store.upsert([{ record: stored, summaries }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(store.summariesOf(stored)).toEqual(summaries);
    expect(store.upsert([{ record: stored, summaries }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    await store.save();
    store.close();
    const again = await JobStore.open(file);
    expect(again.summariesOf(stored)).toEqual(summaries);
    again.close();
    const check = new SQL.Database(await import('node:fs').then((fs) => fs.readFileSync(file)));
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    check.close();
  });

  it('migration 6: a schema-5 database keeps every attempt\'s summaries, now as blocks; its files stay known; the file shrinks', async () => {
    const SQL = await loadSqlJs();
    const v5 = new SQL.Database();
    migrate(v5, 'v5.db', 5);
    const tricky = makeRecord({ app_id: 'tricky', attempt_id: '2' });
    const empty = makeRecord({ app_id: 'empty' });
    const none = makeRecord({ app_id: 'none' });
    const many = Array.from({ length: 40 }, (_, i) => makeRecord({ app_id: `many-${i}` }));
    for (const r of [tricky, empty, none, ...many]) insertRecordRow(v5, r);
    writeV5Summaries(v5, 'tricky', '2', TRICKY);
    writeV5Summaries(v5, 'empty', '', { stages: [], executors: [] });
    for (const r of many) writeV5Summaries(v5, r.app_id, '', makeSummaries(50, 20));
    // Rows no application points to (summariesOf never read them): they go with the tables.
    writeV5Summaries(v5, 'gone', '', makeSummaries(2, 2));
    v5.run(`INSERT INTO ingested_files VALUES ('/logs/tricky', '/logs/tricky', 1, 1, 'none', 'tricky', '2', 'ok', 'x')`);
    const file = path.join(tempDir(), 'v5.db');
    writeFileSync(file, v5.export());
    v5.close();
    const before = readFileSync(file);

    const store = await JobStore.open(file);
    // Stages by (stage_id, attempt_id), executors by numeric id, as summariesOf read the rows.
    expect(store.summariesOf(tricky)).toEqual({ stages: [TRICKY.stages[1], TRICKY.stages[2], TRICKY.stages[0]], executors: [TRICKY.executors[2], TRICKY.executors[0], TRICKY.executors[1]] });
    expect(store.summariesOf(empty)).toEqual({ stages: [], executors: [] });
    expect(store.summariesOf(none)).toBeUndefined();
    for (const r of many) expect(store.summariesOf(r)).toEqual(makeSummaries(50, 20));
    // Their hashes stay valid: the same summaries read again change nothing. Nothing is read again.
    expect(store.upsert([{ record: tricky, summaries: TRICKY }, ...many.map((record) => ({ record, summaries: makeSummaries(50, 20) }))])).toEqual({ new: 0, updated: 0, unchanged: 41 });
    expect(store.knownFiles().map((f) => f.path)).toEqual(['/logs/tricky']);
    store.close();
    // Not saved: the file is as it was (a process killed now loses nothing).
    expect(readFileSync(file).equals(before)).toBe(true);

    const again = await JobStore.open(file);
    again.startRun('r', 'test', {});
    await again.save();
    again.close();
    const check = new SQL.Database(readFileSync(file));
    expect(schemaVersion(check)).toBe(SCHEMA_VERSION);
    expect(tables(check)).not.toContain('stages');
    expect(tables(check)).not.toContain('executors');
    expect(check.exec('SELECT COUNT(*) FROM applications WHERE summaries_block IS NOT NULL')[0]!.values[0]![0]).toBe(42);
    expect(check.exec('SELECT COUNT(*) FROM summary_blocks')[0]!.values[0]![0]).toBe(3); // 16 attempts a block
    expect(Number(check.exec('PRAGMA freelist_count')[0]!.values[0]![0])).toBe(0);
    check.close();
    expect(statSync(file).size).toBeLessThan(before.length / 3);
  });

  it('migration 6 is all or nothing: stopped part-way, the database is schema 5 with every row', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db, 'v5.db', 5);
    const records = Array.from({ length: 3 }, (_, i) => makeRecord({ app_id: `app-${i}` }));
    for (const r of records) {
      insertRecordRow(db, r);
      writeV5Summaries(db, r.app_id, '', makeSummaries(4, 2));
    }
    codec.blocksBeforeFailure = 2;
    try {
      expect(() => migrate(db, 'v5.db')).toThrow('stopped mid-migration');
    } finally {
      codec.blocksBeforeFailure = Infinity;
    }
    expect(schemaVersion(db)).toBe(5);
    expect(tables(db)).toEqual(['applications', 'collection_runs', 'environment_blocks', 'executors', 'ingested_files', 'stages']);
    expect(db.exec('SELECT * FROM applications')[0]!.columns).not.toContain('summaries_block');
    expect(db.exec('SELECT COUNT(*) FROM stages')[0]!.values[0]![0]).toBe(12);
    migrate(db, 'v5.db');
    const repo = new SqlJsRepository(db);
    for (const r of records) expect(repo.summariesOf(r)).toEqual(makeSummaries(4, 2));
    db.close();
  });

  it('upserts that replace summaries leave no block behind', async () => {
    const { db, repo } = await memoryRepo();
    const record = makeRecord({ attempt_id: '1' });
    repo.upsert([{ record, summaries: makeSummaries(5, 3) }]);
    expect(repo.upsert([record])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect([withSummaries(db), blocks(db)]).toEqual([1, 1]);
    // The same record read with other summaries: they replace the old ones, no row of those is left.
    expect(repo.upsert([{ record, summaries: makeSummaries(2, 1) }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect([withSummaries(db), blocks(db)]).toEqual([1, 1]);
    const changed = { ...record, total_tasks: record.total_tasks + 1 };
    expect(repo.upsert([{ record: changed, summaries: makeSummaries(4, 4) }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    // A changed record without summaries: its block goes.
    expect(repo.upsert([{ ...changed, total_tasks: changed.total_tasks + 1 }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect([withSummaries(db), blocks(db)]).toEqual([0, 0]);
  });

  it('a record given twice in one call keeps one block, of the later summaries', async () => {
    const { db, repo } = await memoryRepo();
    const record = makeRecord();
    expect(repo.upsert([{ record, summaries: makeSummaries(6, 6) }, { record, summaries: makeSummaries(2, 2) }])).toEqual({ new: 1, updated: 1, unchanged: 0 });
    expect([withSummaries(db), blocks(db)]).toEqual([1, 1]);
  });

  it('delete and retention remove the summaries\' blocks with their records', async () => {
    const { db, repo } = await memoryRepo();
    const { now, recent, gone } = storeForRetention(repo);
    expect([withSummaries(db), blocks(db)]).toEqual([4, 1]); // written together: one block
    expect(repo.delete([gone])).toBe(1);
    expect(withSummaries(db, 'gone')).toBe(1);
    expect(repo.applyRetention(20, now)).toBe(2);
    expect([withSummaries(db, 'old'), withSummaries(db, 'gone')]).toEqual([0, 0]);
    expect([withSummaries(db), blocks(db)]).toEqual([1, 1]);
    expect(repo.delete([recent])).toBe(1);
    expect(blocks(db)).toBe(0);
  });

  it('attempts written together share blocks (16 at most, an attempt of much text alone); one replaced leaves the others readable', async () => {
    const { db, repo } = await memoryRepo();
    const records = Array.from({ length: 40 }, (_, i) => makeRecord({ app_id: `app-${i}` }));
    const big = makeRecord({ app_id: 'big' });
    repo.upsert([...records.map((record, i) => ({ record, summaries: makeSummaries(i % 5, 2) })), { record: big, summaries: makeSummaries(2_000, 200) }]);
    expect(blocks(db)).toBe(4);
    expect(repo.summariesOf(big)).toEqual(makeSummaries(2_000, 200));
    records.forEach((r, i) => expect(repo.summariesOf(r)).toEqual(makeSummaries(i % 5, 2)));
    // app-3 read again with other summaries: a new block; the one it shared stays for the other 15.
    expect(repo.upsert([{ record: records[3]!, summaries: makeSummaries(7, 7) }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(blocks(db)).toBe(5);
    expect(repo.summariesOf(records[3]!)).toEqual(makeSummaries(7, 7));
    records.forEach((r, i) => i !== 3 && expect(repo.summariesOf(r)).toEqual(makeSummaries(i % 5, 2)));
    // The big one replaced by a copy without summaries: its block goes.
    expect(repo.upsert([{ ...big, total_tasks: 1 }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(blocks(db)).toBe(4);
  });

  it('a merge of two writers keeps both writers\' summaries', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const a = await JobStore.open(file);
    const b = await JobStore.open(file);
    const ra = makeRecord({ app_id: 'from-a' });
    const rb = makeRecord({ app_id: 'from-b' });
    a.upsert([{ record: ra, summaries: makeSummaries(3, 1) }]);
    b.upsert([{ record: rb, summaries: makeSummaries(2, 2) }]);
    await a.save();
    expect((await b.save()).merged).toBe(true);
    a.close();
    b.close();
    const check = await JobStore.open(file);
    expect(check.summariesOf(ra)).toEqual(makeSummaries(3, 1));
    expect(check.summariesOf(rb)).toEqual(makeSummaries(2, 2));
    check.close();
  });
});

describeEachStore('summaries in the store', (open) => {
  it('reads stages by (stage_id, attempt_id) and executors by numeric id, keeping nulls', async () => {
    const repo = await open();
    const record = makeRecord();
    const given: AppSummaries = {
      stages: [
        makeStage({ stage_id: 10, attempt_id: 0 }),
        makeStage({ stage_id: 2, attempt_id: 1, status: 'complete' }),
        makeStage({ stage_id: 2, attempt_id: 0, status: 'failed', failed_tasks: 3 }),
        makeStage({ stage_id: 3, status: 'skipped', name: null, num_tasks: 0, duration_ms: null, submission_time: null, completion_time: null, task_duration_ms: null, peak_execution_memory_bytes: null }),
      ],
      executors: [makeExecutor({ executor_id: '10' }), makeExecutor({ executor_id: '2', host: null, total_cores: null, remove_time: '2024-06-01T00:05:00.000Z', remove_reason: 'Container killed' }), makeExecutor({ executor_id: '1' })],
    };
    expect(repo.upsert([{ record, summaries: given }])).toEqual({ new: 1, updated: 0, unchanged: 0 });
    const read = repo.summariesOf(record)!;
    expect(read.stages.map((s) => [s.stage_id, s.attempt_id])).toEqual([
      [2, 0],
      [2, 1],
      [3, 0],
      [10, 0],
    ]);
    expect(read.stages[0]).toEqual(given.stages[2]);
    expect(read.stages[2]).toEqual(given.stages[3]);
    expect(read.executors.map((e) => e.executor_id)).toEqual(['1', '2', '10']);
    expect(read.executors[1]).toEqual(given.executors[1]);
    // A record stored with empty summaries has them (none), unlike one stored without.
    const empty = makeRecord({ app_id: 'empty' });
    repo.upsert([{ record: empty, summaries: { stages: [], executors: [] } }, makeRecord({ app_id: 'none' })]);
    expect(repo.summariesOf(empty)).toEqual({ stages: [], executors: [] });
    expect(repo.summariesOf({ app_id: 'none', attempt_id: null })).toBeUndefined();
    expect(repo.summariesOf({ app_id: 'missing', attempt_id: null })).toBeUndefined();
  });

  it('upserts are idempotent and replace summaries with their record', async () => {
    const repo = await open();
    const record = makeRecord({ attempt_id: '1' });
    const first = makeSummaries(5, 3);
    repo.upsert([{ record, summaries: first }]);
    expect(repo.upsert([{ record, summaries: first }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    // Without summaries (a source that cannot see them): the record is the same, its summaries stay.
    expect(repo.upsert([record])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.summariesOf(record)).toEqual(first);
    // The same record read with other summaries: they replace the old ones.
    const second = makeSummaries(2, 1);
    expect(repo.upsert([{ record, summaries: second }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(record)).toEqual(second);
    // A changed record with summaries: both replaced.
    const changed = { ...record, total_tasks: record.total_tasks + 1 };
    const third = makeSummaries(4, 4);
    expect(repo.upsert([{ record: changed, summaries: third }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.get(record)).toEqual(changed);
    expect(repo.summariesOf(record)).toEqual(third);
    // A changed record without summaries: the old ones were of the copy it replaces, so they go.
    const platformOnly = { ...changed, total_tasks: changed.total_tasks + 1 };
    expect(repo.upsert([platformOnly])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(record)).toBeUndefined();
  });

  it('a record given twice in one call ends with the later summaries', async () => {
    const repo = await open();
    const record = makeRecord();
    const later = makeSummaries(2, 2);
    expect(repo.upsert([{ record, summaries: makeSummaries(6, 6) }, { record, summaries: later }])).toEqual({ new: 1, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(record)).toEqual(later);
  });

  it('a finished record is never replaced by an unfinished copy, nor are its summaries', async () => {
    const repo = await open();
    const done = makeRecord({ status: 'completed' });
    const summaries = makeSummaries(4, 2);
    repo.upsert([{ record: done, summaries }]);
    const running = makeRecord({ status: 'running', end_time: null, duration_ms: null });
    expect(repo.upsert([{ record: running, summaries: makeSummaries(1, 1) }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.upsert([running])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.get(done)).toEqual(done);
    expect(repo.summariesOf(done)).toEqual(summaries);
    // The other way round: a running record with summaries is replaced by its finished copy's.
    const app2 = { ...running, app_id: 'app-2' };
    repo.upsert([{ record: app2, summaries: makeSummaries(1, 1) }]);
    const finished = { ...done, app_id: 'app-2' };
    expect(repo.upsert([{ record: finished, summaries }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(finished)).toEqual(summaries);
  });

  it('delete and retention remove the summaries with their records', async () => {
    const repo = await open();
    const { now, old, recent, gone, kept } = storeForRetention(repo);
    expect(repo.delete([gone])).toBe(1);
    expect(repo.summariesOf(gone)).toBeUndefined();
    expect(repo.summariesOf(kept)?.stages).toHaveLength(3);
    expect(repo.applyRetention(20, now)).toBe(2); // old, and attempt 2 of gone (it ended on June 1st)
    expect([old, gone, kept].map((r) => repo.summariesOf(r))).toEqual([undefined, undefined, undefined]);
    expect(repo.summariesOf(recent)?.stages).toHaveLength(3);
    expect(repo.delete([recent])).toBe(1);
    expect(repo.summariesOf(recent)).toBeUndefined();
  });

  it('attempts written together, one of much text, each read back their own; one replaced leaves the others readable', async () => {
    const repo = await open();
    const records = Array.from({ length: 40 }, (_, i) => makeRecord({ app_id: `app-${i}` }));
    const big = makeRecord({ app_id: 'big' });
    repo.upsert([...records.map((record, i) => ({ record, summaries: makeSummaries(i % 5, 2) })), { record: big, summaries: makeSummaries(2_000, 200) }]);
    expect(repo.summariesOf(big)).toEqual(makeSummaries(2_000, 200));
    records.forEach((r, i) => expect(repo.summariesOf(r)).toEqual(makeSummaries(i % 5, 2)));
    expect(repo.upsert([{ record: records[3]!, summaries: makeSummaries(7, 7) }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(records[3]!)).toEqual(makeSummaries(7, 7));
    records.forEach((r, i) => i !== 3 && expect(repo.summariesOf(r)).toEqual(makeSummaries(i % 5, 2)));
    // The big one replaced by a copy without summaries: it has none.
    expect(repo.upsert([{ ...big, total_tasks: 1 }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(big)).toBeUndefined();
  });

  it('ingest stores the summaries a collector carries on its apps', async () => {
    const store = await open();
    const record = makeRecord();
    const summaries = makeSummaries(2, 1);
    async function* batches(): AsyncGenerator<Batch> {
      await new Promise((resolve) => setImmediate(resolve)); // as a collector sends it
      yield { apps: [{ record, summaries, problems: [], files: [], provenance: { path: 'x', files: [] } }], problems: [], filtered: 0, unchanged: 0 };
    }
    const run = await ingest(store, batches(), { source: 'test', options: {} });
    expect(run.new).toBe(1);
    expect(store.summariesOf(record)).toEqual(summaries);
  });
});
