/**
 * Stage and executor summaries in the store (issue 15): migration 5 from a database of schema 4,
 * upserts that replace them with their record (idempotent, finished never replaced by unfinished),
 * delete, retention, a merge of two writers, and the ingest path.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Database } from 'sql.js';
import { sparkAppRecordSchema, type SparkAppRecord } from '../src/collectors/record';
import type { Batch } from '../src/collectors/contract';
import type { AppSummaries } from '../src/collectors/record/summaries';
import { ingest } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import { migrate, schemaVersion, SCHEMA_VERSION } from '../src/storage/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { makeRecord } from './support/records';
import { makeExecutor, makeStage, makeSummaries } from './support/summaries';
import { tempDir } from './support/tmp';

async function memoryRepo(): Promise<{ db: Database; repo: SqlJsRepository }> {
  const db = memoryDatabase(await loadSqlJs());
  migrate(db, 'memory');
  return { db, repo: new SqlJsRepository(db) };
}

function rowCount(db: Database, table: string, appId?: string): number {
  const where = appId === undefined ? '' : ` WHERE app_id = '${appId}'`;
  return Number(db.exec(`SELECT COUNT(*) FROM ${table}${where}`)[0]!.values[0]![0]);
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

  it('reads stages by (stage_id, attempt_id) and executors by numeric id, keeping nulls', async () => {
    const { repo } = await memoryRepo();
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
    const { db, repo } = await memoryRepo();
    const record = makeRecord({ attempt_id: '1' });
    const first = makeSummaries(5, 3);
    repo.upsert([{ record, summaries: first }]);
    expect(repo.upsert([{ record, summaries: first }])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    // Without summaries (a source that cannot see them): the record is the same, its summaries stay.
    expect(repo.upsert([record])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(repo.summariesOf(record)).toEqual(first);
    expect(rowCount(db, 'stages')).toBe(5);
    // The same record read with other summaries: they replace the old ones, no row of those is left.
    const second = makeSummaries(2, 1);
    expect(repo.upsert([{ record, summaries: second }])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(record)).toEqual(second);
    expect([rowCount(db, 'stages'), rowCount(db, 'executors')]).toEqual([2, 1]);
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
    expect([rowCount(db, 'stages'), rowCount(db, 'executors')]).toEqual([0, 0]);
  });

  it('a record given twice in one call ends with the later summaries', async () => {
    const { db, repo } = await memoryRepo();
    const record = makeRecord();
    const later = makeSummaries(2, 2);
    expect(repo.upsert([{ record, summaries: makeSummaries(6, 6) }, { record, summaries: later }])).toEqual({ new: 1, updated: 1, unchanged: 0 });
    expect(repo.summariesOf(record)).toEqual(later);
    expect(rowCount(db, 'stages')).toBe(2);
  });

  it('a finished record is never replaced by an unfinished copy, nor are its summaries', async () => {
    const { repo } = await memoryRepo();
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
    const { db, repo } = await memoryRepo();
    const now = new Date('2024-07-01T00:00:00Z');
    const old = makeRecord({ app_id: 'old', end_time: '2024-01-01T00:00:00.000Z' });
    const recent = makeRecord({ app_id: 'recent', end_time: '2024-06-30T00:00:00.000Z' });
    const gone = makeRecord({ app_id: 'gone', attempt_id: '1' });
    const kept = makeRecord({ app_id: 'gone', attempt_id: '2' });
    repo.upsert([old, recent, gone, kept].map((record) => ({ record, summaries: makeSummaries(3, 2) })));
    expect(rowCount(db, 'stages')).toBe(12);
    expect(repo.delete([gone])).toBe(1);
    expect(repo.summariesOf(gone)).toBeUndefined();
    expect(repo.summariesOf(kept)?.stages).toHaveLength(3);
    expect(rowCount(db, 'stages', 'gone')).toBe(3);
    expect(repo.applyRetention(20, now)).toBe(2); // old, and attempt 2 of gone (it ended on June 1st)
    expect([rowCount(db, 'stages', 'old'), rowCount(db, 'executors', 'old'), rowCount(db, 'stages', 'gone')]).toEqual([0, 0, 0]);
    expect(repo.summariesOf(recent)?.stages).toHaveLength(3);
    expect([rowCount(db, 'stages'), rowCount(db, 'executors')]).toEqual([3, 2]);
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

  it('ingest stores the summaries a collector carries on its apps', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    const record = makeRecord();
    const summaries = makeSummaries(2, 1);
    async function* batches(): AsyncGenerator<Batch> {
      await new Promise((resolve) => setImmediate(resolve)); // as a collector sends it
      yield { apps: [{ record, summaries, problems: [], files: [], provenance: { path: 'x', files: [] } }], problems: [], filtered: 0, unchanged: 0 };
    }
    const run = await ingest(store, batches(), { source: 'test', options: {} });
    expect(run.new).toBe(1);
    expect(store.summariesOf(record)).toEqual(summaries);
    store.close();
  });
});
