import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sparkAppRecordSchema } from '../src/collectors/record';
import type { Batch } from '../src/collectors/contract';
import { ingest } from '../src/storage/ingest';
import { JobStore } from '../src/storage/jobStore';
import { unchangedCheck } from '../src/storage/unchanged';
import { MIGRATIONS, SCHEMA_VERSION, SchemaTooNewError, migrate } from '../src/storage/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { makeRecord, manyRecords } from './support/records';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

describeEachStore('repository', (open) => {
  it('creates, gets by app id, refuses a duplicate create, keeps attempts apart', async () => {
    const store = await open();
    store.create(makeRecord({ attempt_id: '1' }));
    store.create(makeRecord({ attempt_id: '2', status: 'failed' }));
    store.create(makeRecord({ app_id: 'app-2' }));
    expect(() => store.create(makeRecord({ attempt_id: '1' }))).toThrow(/already exists/);
    expect(store.getByAppId('app-1').map((r) => [r.attempt_id, r.status])).toEqual([
      ['1', 'completed'],
      ['2', 'failed'],
    ]);
    expect(store.get({ app_id: 'app-2', attempt_id: null })).toEqual(makeRecord({ app_id: 'app-2' }));
  });

  it('upserts idempotently, updates a record that improved, never downgrades a finished one', async () => {
    const store = await open();
    const running = makeRecord({ status: 'running', end_time: null, duration_ms: null, quality: ['in_progress'] });
    expect(store.upsert([running])).toEqual({ new: 1, updated: 0, unchanged: 0 });
    expect(store.upsert([running])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    const done = makeRecord();
    expect(store.upsert([done])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(store.upsert([running])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    expect(store.get(done)).toEqual(done);
    expect(store.count()).toBe(1);
  });

  it('filters, sorts, pages and groups', async () => {
    const store = await open();
    const all = manyRecords(500);
    store.upsert(all);
    const page = store.list({ sort: 'end_time', limit: 200, offset: 200 });
    const byEnd = [...all].sort((a, b) => b.end_time!.localeCompare(a.end_time!));
    expect(page.map((r) => r.app_id)).toEqual(byEnd.slice(200, 400).map((r) => r.app_id));
    expect(store.list({ user: 'maria', limit: 1000 }).every((r) => r.user === 'maria')).toBe(true);
    expect(store.count({ user: 'maria' })).toBe(125);
    expect(store.count({ source: 'hs' })).toBe(all.filter((r) => r.source === 'hs').length);
    expect(store.count({ name: 'job 1' })).toBe(all.filter((r) => r.app_name!.toLowerCase().includes('job 1')).length);
    expect(store.count({ name: '%' })).toBe(0); // LIKE wildcards are matched literally
    const since = all[100]!.end_time!;
    expect(store.count({ since })).toBe(400);
    expect(store.groupCounts('user')).toEqual([
      { key: 'etl', count: 125 },
      { key: 'finance', count: 125 },
      { key: 'maria', count: 125 },
      { key: 'sam', count: 125 },
    ]);
    const days = store.groupCounts('day');
    expect(days[0]).toEqual({ key: all.at(-1)!.end_time!.slice(0, 10), count: expect.any(Number) as number });
    expect(days.reduce((n, d) => n + d.count, 0)).toBe(500);
    expect(store.count({ day: days[0]!.key })).toBe(days[0]!.count);
  });

  it('deletes (and forgets the files) and applies retention', async () => {
    const store = await open();
    store.upsert([makeRecord({ app_id: 'old', end_time: '2020-01-01T00:00:00.000Z' }), makeRecord({ app_id: 'new', end_time: new Date().toISOString() })]);
    store.recordFiles([{ path: '/logs/old', unit_path: '/logs/old', size: 1, mtime_ms: 1, codec: 'none', app_id: 'old', attempt_id: null, status: 'ok' }]);
    expect(unchangedCheck(store.knownFiles())({ path: '/logs/old', files: [{ path: '/logs/old', size: 1, mtimeMs: 1 }] })).toBe(true);
    expect(store.applyRetention(30)).toBe(1);
    expect(store.list().map((r) => r.app_id)).toEqual(['new']);
    // Retention keeps the file known, so the old log is not imported again.
    expect(unchangedCheck(store.knownFiles())({ path: '/logs/old', files: [{ path: '/logs/old', size: 1, mtimeMs: 1 }] })).toBe(true);
    store.upsert([makeRecord({ app_id: 'old' })]);
    expect(store.delete([{ app_id: 'old', attempt_id: null }])).toBe(1);
    expect(unchangedCheck(store.knownFiles())({ path: '/logs/old', files: [{ path: '/logs/old', size: 1, mtimeMs: 1 }] })).toBe(false);
  });
});

describe('repository (sql.js)', () => {
  it('record_hash is the sha1 of the JSON of the fields in schema order (what databases already written hold)', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    migrate(db, 'mem');
    const repo = new SqlJsRepository(db);
    // Tags that hold the text of the placeholder the hashing uses, and an environment with odd characters.
    const record = makeRecord({ tags: { note: '\u0000environment\u0000' }, environment: { 'spark.a': 'x"y\\z', 'spark.\u2028': '\u0000' } });
    repo.upsert([record]);
    const stored = db.exec('SELECT record_hash FROM applications')[0]!.values[0]![0];
    const fields = Object.keys(sparkAppRecordSchema.shape) as (keyof typeof record)[];
    expect(stored).toBe(createHash('sha1').update(JSON.stringify(fields.map((f) => record[f]))).digest('hex'));
    db.close();
  });
});

describe('environments in shared blocks', () => {
  /** Rows of environment_blocks, read from the saved file. */
  async function blocks(file: string): Promise<number> {
    const SQL = await loadSqlJs();
    const db = new SQL.Database(readFileSync(file));
    const n = Number(db.exec('SELECT count(*) FROM environment_blocks')[0]!.values[0]![0]);
    db.close();
    return n;
  }

  it('every record reads back its own environment, whatever block it landed in (multi-byte text included)', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    const records = manyRecords(150).map((r, i) => ({ ...r, environment: { ...r.environment, 'spark.app.name': `Jöb ✓ ${'é'.repeat(i % 7)} ${i}`, 'spark.extra': 'x'.repeat(i) } }));
    expect(store.upsert(records)).toEqual({ new: 150, updated: 0, unchanged: 0 });
    await store.save();
    // 150 records: ceil(150 / 32) blocks.
    expect(await blocks(file)).toBe(5);
    const byId = new Map(store.list({ limit: 1000 }).map((r) => [r.app_id, r]));
    for (const r of records) expect(byId.get(r.app_id)).toEqual(r);
    expect(store.get({ app_id: records[77]!.app_id, attempt_id: null })).toEqual(records[77]);
    store.close();
  });

  it('a block goes when no row points to it any more (updates, delete, retention), and not before', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    const records = manyRecords(64); // two blocks of 32
    store.upsert(records);
    // Updating the whole first block moves its rows into a new block: the old one goes.
    expect(store.upsert(records.slice(0, 32).map((r) => ({ ...r, environment: { ...r.environment, changed: 'yes' } })))).toEqual({ new: 0, updated: 32, unchanged: 0 });
    await store.save();
    expect(await blocks(file)).toBe(2);
    // Updating part of a block leaves the block to the rows still in it.
    store.upsert([{ ...records[40]!, environment: { changed: 'again' } }]);
    await store.save();
    expect(await blocks(file)).toBe(3);
    expect(store.get({ app_id: records[41]!.app_id, attempt_id: null })).toEqual(records[41]);
    expect(store.delete(records.slice(32).map((r) => ({ app_id: r.app_id, attempt_id: null })))).toBe(32);
    await store.save();
    expect(await blocks(file)).toBe(1);
    expect(store.applyRetention(1)).toBe(32);
    await store.save();
    expect(await blocks(file)).toBe(0);
    store.close();
  });

  it('a record given twice in one call counts as new, then updated, and the later one is stored', async () => {
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    const first = makeRecord({ status: 'running', end_time: null, environment: { a: '1' } });
    const later = makeRecord({ environment: { a: '2' } });
    expect(store.upsert([first, later, later])).toEqual({ new: 1, updated: 1, unchanged: 1 });
    expect(store.get(later)).toEqual(later);
    // A finished record given, then an unfinished one: the finished one stays.
    expect(store.upsert([makeRecord({ app_id: 'b' }), makeRecord({ app_id: 'b', status: 'running', end_time: null })])).toEqual({ new: 1, updated: 0, unchanged: 1 });
    expect(store.get({ app_id: 'b', attempt_id: null })?.status).toBe('completed');
    store.close();
  });
});

describe('in-memory database (memoryDatabase)', () => {
  it('is an in-memory SQLite database with sql.js\'s API, a page-for-page copy of its source (page size included)', async () => {
    const SQL = await loadSqlJs();
    const source = new SQL.Database();
    source.run('PRAGMA page_size = 8192');
    source.run('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)');
    for (let i = 0; i < 500; i++) source.run('INSERT INTO t (v) VALUES (?)', [`value ${i}`]);
    const db = memoryDatabase(SQL, source);
    source.close();
    // An in-memory main database has no file name.
    expect(db.exec('PRAGMA database_list')[0]!.values[0]).toEqual([0, 'main', '']);
    expect(db.exec('PRAGMA page_size')[0]!.values[0]![0]).toBe(8192);
    expect(db.exec("SELECT count(*), max(v) FROM t WHERE v LIKE 'value 4%'")[0]!.values[0]).toEqual([111, 'value 499']);
    db.run('INSERT INTO t (v) VALUES (?)', ['more']);
    // Its export is a complete database file that opens on its own.
    const copy = new SQL.Database(db.export());
    expect(copy.exec('SELECT count(*) FROM t')[0]!.values[0]![0]).toBe(501);
    expect(copy.exec('PRAGMA integrity_check')[0]!.values[0]![0]).toBe('ok');
    copy.close();
    expect(() => db.close()).not.toThrow();
    // An empty one too, and sql.js's own databases still open files as before.
    const empty = memoryDatabase(SQL);
    expect(empty.exec('PRAGMA database_list')[0]!.values[0]).toEqual([0, 'main', '']);
    empty.close();
    const onFile = new SQL.Database();
    expect(String(onFile.exec('PRAGMA database_list')[0]!.values[0]![2])).toMatch(/dbfile_/);
    onFile.close();
  });

  it('a database file with another page size opens, takes records and saves with its page size', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const SQL = await loadSqlJs();
    const seed = new SQL.Database();
    seed.run('PRAGMA page_size = 16384');
    migrate(seed, file);
    writeFileSync(file, seed.export());
    seed.close();
    const store = await JobStore.open(file);
    store.upsert(manyRecords(300));
    await store.save();
    store.close();
    const bytes = readFileSync(file);
    expect(bytes.readUInt16BE(16)).toBe(16384);
    const again = await JobStore.open(file);
    expect(again.count()).toBe(300);
    again.close();
  });
});

describe('database file', () => {
  it('saves and reopens with everything, runs included', async () => {
    const file = path.join(tempDir(), 'sub', 'jobs.db');
    const store = await JobStore.open(file);
    store.upsert(manyRecords(50));
    store.startRun('r1', 'event_log', { path: '/x' });
    store.finishRun('r1', { seen: 50, new: 50, updated: 0, unchanged: 0, skipped: 0, failed: 0 }, ['a.log:3: error [malformed-line] bad']);
    expect(await store.save()).toEqual({ written: true, merged: false });
    expect(await store.save()).toEqual({ written: false, merged: false });
    store.close();
    const again = await JobStore.open(file);
    expect(again.count()).toBe(50);
    expect(again.listRuns()).toEqual([expect.objectContaining({ run_id: 'r1', new: 50, errors: ['a.log:3: error [malformed-line] bad'] })]);
    again.close();
  });

  it('a bulk import into the in-memory database saves a sound file, and keeps growing correctly after a save', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    expect(store.upsert(manyRecords(7000))).toEqual({ new: 7000, updated: 0, unchanged: 0 });
    await store.save();
    // More records must still land after a save, and re-upserting changes nothing.
    expect(store.upsert(manyRecords(3000, 7000))).toEqual({ new: 3000, updated: 0, unchanged: 0 });
    expect(store.upsert(manyRecords(10_000))).toEqual({ new: 0, updated: 0, unchanged: 10_000 });
    await store.save();
    store.close();
    const bytes = readFileSync(file);
    // The file is exactly its pages (header: page size at 16, page count at 28): no free room on disk.
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    expect(bytes.length).toBe(bytes.readUInt32BE(28) * pageSize);
    const SQL = await loadSqlJs();
    const db = new SQL.Database(bytes);
    expect(db.exec('PRAGMA integrity_check')[0]!.values[0]![0]).toBe('ok');
    db.close();
    const again = await JobStore.open(file);
    expect(again.count()).toBe(10_000);
    expect(again.get({ app_id: 'app-009999', attempt_id: null })?.app_name).toBe('Job 49');
    again.close();
  });

  it('ingest() stores batches as they arrive, and a re-run stays all unchanged', async () => {
    const toBatch = (records: ReturnType<typeof manyRecords>): Batch => ({
      apps: records.map((record) => ({ record, problems: [], files: [], provenance: { path: record.app_id, files: [] } })),
      problems: [],
      filtered: 0,
      unchanged: 0,
    });
    async function* stream(n: number): AsyncGenerator<Batch> {
      for (let i = 0; i < n; i += 100) {
        await new Promise((resolve) => setImmediate(resolve)); // batches arrive as a collector sends them
        yield toBatch(manyRecords(100, i));
      }
    }
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    const store = await JobStore.open(file);
    const first = await ingest(store, stream(3000), { source: 's', options: {}, save: () => store.save() });
    expect(first).toMatchObject({ new: 3000, updated: 0, unchanged: 0 });
    const again = await ingest(store, stream(3000), { source: 's', options: {}, save: () => store.save() });
    expect(again).toMatchObject({ new: 0, updated: 0, unchanged: 3000 });
    store.close();
    const bytes = readFileSync(file);
    const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
    expect(bytes.length).toBe(bytes.readUInt32BE(28) * pageSize);
    const check = await JobStore.open(file);
    expect(check.count()).toBe(3000);
    expect(check.get({ app_id: 'app-002999', attempt_id: null })).toEqual(manyRecords(1, 2999)[0]);
    check.close();
  });

  it('migrates an empty file and a database of the previous schema, keeping its rows', async () => {
    const dir = tempDir();
    const empty = path.join(dir, 'empty.db');
    writeFileSync(empty, '');
    const fromEmpty = await JobStore.open(empty);
    expect(fromEmpty.listRuns()).toEqual([]);
    fromEmpty.close();

    const SQL = await loadSqlJs();
    const v1 = new SQL.Database();
    migrate(v1, 'v1.db', 1);
    const r = makeRecord();
    v1.run(
      `INSERT INTO applications VALUES (${Array.from({ length: 33 }, () => '?').join(',')})`,
      // Column order of migration 1.
      [r.app_id, '', null, r.app_name, r.user, r.submit_time, r.start_time, r.end_time, r.duration_ms, r.spark_version, r.executor_cores, r.executor_memory_mb, r.num_executors, r.driver_memory_mb, r.total_tasks, r.failed_tasks, r.total_stages, r.failed_stages, r.cpu_time_ms, r.input_bytes, r.output_bytes, r.shuffle_read_bytes, r.shuffle_write_bytes, r.memory_spilled_bytes, r.disk_spilled_bytes, JSON.stringify(r.tags), JSON.stringify(r.environment), JSON.stringify(r.quality), r.source, r.status, 'hash', 'x', 'x'],
    );
    const v1File = path.join(dir, 'v1.db');
    writeFileSync(v1File, v1.export());
    v1.close();
    const upgraded = await JobStore.open(v1File);
    expect(upgraded.get(r)).toEqual(r);
    upgraded.startRun('r', 'event_log', {});
    expect(upgraded.listRuns()).toHaveLength(1);
    await upgraded.save();
    upgraded.close();
    const check = new SQL.Database(readFileSync(v1File));
    expect(check.exec('PRAGMA user_version')[0]!.values[0]![0]).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
    check.close();
  });

  it('a schema-2 database (environment deflated in its row) migrates; its rows read as before and move into a block when updated', async () => {
    const SQL = await loadSqlJs();
    const v2 = new SQL.Database();
    migrate(v2, 'v2.db', 2);
    const r = makeRecord({ environment: { 'spark.master': 'yarn', 'spark.app.name': 'Jöb' } });
    const columns = Object.keys(sparkAppRecordSchema.shape) as (keyof typeof r)[];
    const hash = createHash('sha1').update(JSON.stringify(columns.map((c) => r[c]))).digest('hex');
    v2.run(`INSERT INTO applications (${columns.join(', ')}, attempt_key, record_hash, first_seen, last_updated) VALUES (${columns.map(() => '?').join(', ')}, '', ?, 'x', 'x')`, [
      ...columns.map((c) => {
        const v = r[c];
        if (c === 'environment') return deflateRawSync(JSON.stringify(v));
        return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
      }),
      hash,
    ]);
    const file = path.join(tempDir(), 'v2.db');
    writeFileSync(file, v2.export());
    v2.close();
    const store = await JobStore.open(file);
    expect(store.get(r)).toEqual(r);
    // Its hash is the one this version computes: the same record again is unchanged.
    expect(store.upsert([r])).toEqual({ new: 0, updated: 0, unchanged: 1 });
    const changed = { ...r, environment: { ...r.environment, more: '1' } };
    expect(store.upsert([changed])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    expect(store.get(r)).toEqual(changed);
    await store.save();
    store.close();
    const check = new SQL.Database(readFileSync(file));
    expect(check.exec('SELECT environment, env_block IS NOT NULL FROM applications')[0]!.values).toEqual([['', 1]]);
    check.close();
  });

  it('schema 4: CPU time may be unknown (null); logs stored with CPU time 0 are read again by the next collection', async () => {
    const SQL = await loadSqlJs();
    const v3 = new SQL.Database();
    migrate(v3, 'v3.db', 3);
    const insert = (r: ReturnType<typeof makeRecord>): void => {
      const columns = Object.keys(sparkAppRecordSchema.shape) as (keyof typeof r)[];
      v3.run(`INSERT INTO applications (${columns.join(', ')}, attempt_key, record_hash, first_seen, last_updated) VALUES (${columns.map(() => '?').join(', ')}, '', 'h', 'x', 'x')`, [
        ...columns.map((c) => {
          const v = r[c];
          return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
        }),
      ]);
      v3.run(`INSERT INTO ingested_files VALUES (?, ?, 1, 1, 'none', ?, '', 'ok', 'x')`, [`/logs/${r.app_id}`, `/logs/${r.app_id}`, r.app_id]);
    };
    const zero = makeRecord({ app_id: 'old-spark', cpu_time_ms: 0, total_tasks: 10 });
    const measured = makeRecord({ app_id: 'new-spark', cpu_time_ms: 1234, total_tasks: 10 });
    insert(zero);
    insert(measured);
    const file = path.join(tempDir(), 'v3.db');
    writeFileSync(file, v3.export());
    const v4 = new SQL.Database(v3.export());
    migrate(v4, 'v4.db', 4);
    expect(v4.exec('SELECT path FROM ingested_files')[0]!.values).toEqual([['/logs/new-spark']]);
    v4.close();
    v3.close();
    const store = await JobStore.open(file);
    expect(store.get(zero)?.cpu_time_ms).toBe(0);
    expect(store.get(measured)?.cpu_time_ms).toBe(1234);
    // Schema 5 forgets the rest too, so that their stages and executors are read (summariesStore.test.ts).
    expect(store.knownFiles()).toEqual([]);
    const unknown = makeRecord({ app_id: 'spark-1.4', cpu_time_ms: null, quality: ['missing:cpu_time_ms'] });
    expect(store.upsert([unknown])).toEqual({ new: 1, updated: 0, unchanged: 0 });
    expect(store.get(unknown)).toEqual(unknown);
    expect(store.list({ sort: 'cpu_time_ms', limit: 10 }).map((r) => r.cpu_time_ms)).toContain(null);
    store.close();
  });

  it('refuses a database from a newer version and leaves it untouched', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    writeFileSync(file, db.export());
    db.close();
    const before = readFileSync(file);
    await expect(JobStore.open(file)).rejects.toBeInstanceOf(SchemaTooNewError);
    await expect(JobStore.open(file)).rejects.toThrow(/newer Spark Optimizer/);
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it.each([
    ['garbage', Buffer.from('this is not a database at all')],
    ['a damaged SQLite file', Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4000, 7)])],
  ])('moves %s aside with a message, starts fresh, deletes nothing', async (_what, bytes) => {
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    writeFileSync(file, bytes);
    const store = await JobStore.open(file);
    expect(store.warnings).toEqual([expect.stringMatching(/not a readable database .* moved it to .*jobs\.db\.corrupt-.* Nothing was deleted/)]);
    const aside = readdirSync(dir).filter((n) => n.startsWith('jobs.db.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(readFileSync(path.join(dir, aside[0]!)).equals(bytes)).toBe(true);
    store.upsert([makeRecord()]);
    await store.save();
    store.close();
    expect((await JobStore.open(file)).count()).toBe(1);
  });

  it.each([
    ['garbage', Buffer.from('this is not a database at all')],
    ['a damaged SQLite file', Buffer.concat([Buffer.from('SQLite format 3\0'), Buffer.alloc(4000, 7)])],
  ])('opened to read only, refuses %s with its name and leaves it where it is', async (_what, bytes) => {
    const dir = tempDir();
    const file = path.join(dir, 'notes.md');
    writeFileSync(file, bytes);
    await expect(JobStore.open(file, { readOnly: true })).rejects.toThrow(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a readable Spark Optimizer database .* it was left as it is`));
    expect(readdirSync(dir)).toEqual(['notes.md']);
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it('names a folder given as the database file', async () => {
    const dir = tempDir();
    await expect(JobStore.open(dir)).rejects.toThrow(/is a folder, not a database file; pass a file path to --db/);
  });

  it('merges when another writer saved in between: neither loses records', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const a = await JobStore.open(file);
    const b = await JobStore.open(file);
    a.upsert([makeRecord({ app_id: 'from-a' })]);
    b.upsert([makeRecord({ app_id: 'from-b' })]);
    b.startRun('run-b', 'event_log', {});
    expect(await a.save()).toEqual({ written: true, merged: false });
    expect(await b.save()).toEqual({ written: true, merged: true });
    a.upsert([makeRecord({ app_id: 'from-a-2' })]);
    expect(await a.save()).toEqual({ written: true, merged: true });
    a.close();
    b.close();
    const check = await JobStore.open(file);
    expect(check.list().map((r) => r.app_id).sort()).toEqual(['from-a', 'from-a-2', 'from-b']);
    expect(check.listRuns().map((r) => r.run_id)).toEqual(['run-b']);
    check.close();
    expect(existsSync(`${file}.lock`)).toBe(false);
  });

  it('a change made while a save is writing is not lost: it stays for the next save', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'jobs.db');
    const store = await JobStore.open(file);
    // Big enough that the write (and its fsync) takes a while.
    store.upsert(manyRecords(20_000));
    const saving = store.save();
    // Wait until the save is past its export: its temp file exists.
    const started = Date.now();
    while (!readdirSync(dir).some((n) => n.includes('.tmp-')) && Date.now() - started < 10_000) await new Promise((r) => setImmediate(r));
    expect(readdirSync(dir).some((n) => n.includes('.tmp-')), 'the save should have reached its write').toBe(true);
    store.delete([{ app_id: 'app-000001', attempt_id: null }]);
    await saving;
    expect(store.unsavedChanges).toBe(1);
    expect(await store.save()).toEqual({ written: true, merged: false });
    store.close();
    const again = await JobStore.open(file);
    expect(again.count()).toBe(19_999);
    expect(again.get({ app_id: 'app-000001', attempt_id: null })).toBeUndefined();
    again.close();
  });

  it('an upsert that fails part-way stores none of its records and journals nothing; the store goes on and merges', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const a = await JobStore.open(file);
    const b = await JobStore.open(file);
    a.upsert(manyRecords(10, 9000));
    const records = manyRecords(5000);
    // One transaction per call: a row that breaks a NOT NULL column near the end undoes the whole call.
    records[4500] = { ...records[4500]!, total_tasks: null as unknown as number };
    expect(() => a.upsert(records)).toThrow(/NOT NULL/);
    expect(a.count()).toBe(10);
    expect(a.unsavedChanges).toBe(1);
    expect(a.upsert(records.slice(0, 4500))).toEqual({ new: 4500, updated: 0, unchanged: 0 });
    b.upsert([makeRecord({ app_id: 'from-b' })]);
    await b.save();
    // a merges onto b's file: everything a stored comes along, nothing of the failed call.
    expect(await a.save()).toEqual({ written: true, merged: true });
    a.close();
    b.close();
    const check = await JobStore.open(file);
    expect(check.count()).toBe(4511);
    expect(check.get({ app_id: 'app-004500', attempt_id: null })).toBeUndefined();
    check.close();
  });

  it('a database over its size limit refuses further upserts clearly, keeps what it has, still saves, and takes records again once some are dropped', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file, { maxBytes: 1024 * 1024 });
    let stored = 0;
    let refusal: Error | undefined;
    for (let i = 0; i < 200 && !refusal; i++) {
      try {
        stored += store.upsert(manyRecords(50, i * 50)).new;
      } catch (err) {
        refusal = err as Error;
      }
    }
    const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(refusal?.message).toMatch(new RegExp(`^${escaped} is full: it holds 1\\.\\d MB in ${stored} records, and an in-memory database can hold about 1\\.0 MB .*nothing of this batch was stored`));
    expect(stored).toBeGreaterThan(0);
    expect(store.count()).toBe(stored);
    expect((await store.save()).written).toBe(true);
    // Space freed by deleting is space again (SQLite reuses free pages), after a reopen too.
    expect(store.delete(store.list({ limit: 100_000 }).map((r) => ({ app_id: r.app_id, attempt_id: r.attempt_id })))).toBe(stored);
    await store.save();
    store.close();
    const again = await JobStore.open(file, { maxBytes: 1024 * 1024 });
    expect(again.upsert(manyRecords(50, 100_000))).toEqual({ new: 50, updated: 0, unchanged: 0 });
    again.close();
  });

  it('SQLite running out of memory in an upsert stores nothing of it, says so with the file, and the store goes on', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    const store = await JobStore.open(file);
    store.upsert(manyRecords(2000));
    await store.save();
    // SQLite's heap limit (process-wide in sql.js's module: set back at once) stands in for the 2 GB end of the WebAssembly heap.
    const db = (store as unknown as { db: { exec(sql: string): unknown } }).db;
    db.exec('PRAGMA hard_heap_limit = 12000000');
    let error: Error | undefined;
    try {
      store.upsert(manyRecords(20_000, 5000));
    } catch (err) {
      error = err as Error;
    } finally {
      db.exec('PRAGMA hard_heap_limit = 0');
    }
    expect(error?.message).toMatch(/jobs\.db: SQLite ran out of memory storing 20000 records \(out of memory\); nothing of this batch was stored/);
    expect(store.count()).toBe(2000);
    expect(store.unsavedChanges).toBe(0);
    expect(store.upsert(manyRecords(10, 5000))).toEqual({ new: 10, updated: 0, unchanged: 0 });
    await store.save();
    store.close();
    const again = await JobStore.open(file);
    expect(again.count()).toBe(2010);
    again.close();
  });

  it('waits for a live lock and breaks a dead one', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    // A lock left by a process that no longer exists is broken at once.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 17, host: (await import('node:os')).hostname(), at: Date.now() }));
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    expect((await store.save()).written).toBe(true);
    // A live holder (this very process) makes the save wait and then fail clearly.
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), at: Date.now() }));
    store.upsert([makeRecord({ app_id: 'app-2' })]);
    await expect(store.save()).rejects.toThrow(new RegExp(`locked by process ${process.pid}`));
    store.close();
  });
});
