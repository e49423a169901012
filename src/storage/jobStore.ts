/**
 * The workspace database file: open (migrate, recover), and save so that nothing is lost.
 *
 * sql.js keeps the whole database in memory; saving writes the file anew. Three rules make that safe:
 * - Atomic: write `<db>.tmp-<pid>-<n>`, fsync, rename over the database, fsync the folder. A process
 *   killed at any point leaves the old file or the new one, both complete.
 * - Two writers (the CLI from cron, the editor): saves take `<db>.lock` (created exclusively; a lock
 *   whose process is gone, or older than two minutes, is broken). If the file changed on disk since
 *   we loaded it, we load it again and replay our own changes onto it (every change since the last
 *   save is journaled as the repository call that made it), so neither writer loses the other's records.
 * - Recover, never delete: a file that is not a readable SQLite database is renamed to
 *   `<db>.corrupt-<time>` and a fresh database is started, with a message saying where the old one went.
 *
 * Speed (issue #3): sql.js keeps the file in Emscripten's in-memory file system, which grows a file
 * 12.5% at a time, each time into a new buffer with a full copy. Importing 100k records grew an 80 MB
 * file that way about 45 times: ~730 MB of fresh memory, whose page faults (and the full GCs that
 * big buffers trigger) were most of the 10 s. So the file is kept with free room after its pages
 * (zeros: SQLite goes by the page count in its header and writes new pages into the room without
 * growing the file), made once per need from a measured size per record, and never saved to disk.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Database, SqlJsStatic } from 'sql.js';
import type { SparkAppRecord } from '../collectors/record';
import { migrate } from './migrations';
import {
  SqlJsRepository,
  type AppKey,
  type GroupField,
  type IngestedFile,
  type JobQuery,
  type JobRepository,
  type RunCounts,
  type RunRow,
  type UpsertCounts,
} from './repository';
import { loadSqlJs } from './sqlJs';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
/** Records upserted per transaction; room is checked between chunks. */
const UPSERT_CHUNK = 2000;
/** Free room kept after the pages when the file is (re)opened: at least 4 MB, or a quarter of the database. */
const roomFor = (bytes: number): number => Math.max(4 * 1024 * 1024, Math.ceil(bytes / 4));
const STALE_LOCK_MS = 120_000;

export interface OpenOptions {
  /** How long a save waits for another writer's lock before giving up. */
  lockTimeoutMs?: number;
}

type Journaled =
  | { op: 'upsert'; records: readonly SparkAppRecord[]; now: Date }
  | { op: 'delete'; keys: readonly AppKey[] }
  | { op: 'retention'; days: number; now: Date }
  | { op: 'files'; files: readonly IngestedFile[]; now: Date }
  | { op: 'startRun'; runId: string; source: string; options: Record<string, unknown>; now: Date }
  | { op: 'finishRun'; runId: string; counts: RunCounts; errors: readonly string[]; now: Date };

interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

function identity(st: Stats | null): FileIdentity | null {
  return st ? { ino: st.ino, size: st.size, mtimeMs: st.mtimeMs } : null;
}

function sameIdentity(a: FileIdentity | null, b: FileIdentity | null): boolean {
  return a === b || (a !== null && b !== null && a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs);
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Reads and checks a database file; `null` bytes means "start empty". Throws CorruptDatabase. */
class CorruptDatabase extends Error {}

/**
 * The database's own length (page count x page size from its header), when the header vouches for
 * it (the change counter at offset 24 equals the version-valid-for number at 92, as every SQLite
 * since 3.7.0 writes); otherwise null.
 */
function pagesLength(bytes: Uint8Array): number | null {
  if (bytes.length < 100) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pageSize = view.getUint16(16) === 1 ? 65536 : view.getUint16(16);
  const length = view.getUint32(28) * pageSize;
  return view.getUint32(24) === view.getUint32(92) && length > 0 && length <= bytes.length ? length : null;
}

/** Opens `bytes` with `room` free bytes after its pages (see the file comment); as they are when the header cannot say where the pages end. */
function openWithRoom(SQL: SqlJsStatic, bytes: Uint8Array, room: number): { db: Database; capacity: number } {
  const length = pagesLength(bytes);
  if (length === null || room <= 0) return { db: new SQL.Database(bytes), capacity: bytes.length };
  const padded = new Uint8Array(length + room);
  padded.set(bytes.subarray(0, length));
  return { db: new SQL.Database(padded), capacity: padded.length };
}

async function readDatabase(file: string): Promise<{ db: Database; id: FileIdentity | null; capacity: number }> {
  const SQL = await loadSqlJs();
  const st = await statOrNull(file);
  if (st === null || st.size === 0) return { db: new SQL.Database(), id: identity(st), capacity: 0 };
  const bytes = await readFile(file);
  if (bytes.length < SQLITE_HEADER.length || !bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw new CorruptDatabase('it does not start with the SQLite header');
  }
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
    if (check !== 'ok') throw new CorruptDatabase(`SQLite's quick_check says: ${String(check)}`);
    return { db, id: identity(st), capacity: bytes.length };
  } catch (err) {
    db?.close();
    if (err instanceof CorruptDatabase) throw err;
    throw new CorruptDatabase(`SQLite cannot read it (${(err as Error).message})`);
  }
}

async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomUUID().slice(0, 8)}`;
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  // The rename itself must reach the disk too (POSIX: fsync the directory).
  const dir = await open(path.dirname(file), fsConstants.O_RDONLY);
  try {
    await dir.sync().catch(() => undefined); // some file systems refuse fsync on a directory
  } finally {
    await dir.close();
  }
}

export class JobStore implements JobRepository {
  private repo: SqlJsRepository;
  private journal: Journaled[] = [];
  readonly warnings: string[] = [];

  private constructor(
    readonly file: string,
    private db: Database,
    private loaded: FileIdentity | null,
    private readonly options: OpenOptions,
    private readonly SQL: SqlJsStatic,
    /** Bytes the in-memory file holds before it must grow: its pages plus the room after them. */
    private capacity: number,
  ) {
    this.repo = new SqlJsRepository(db);
  }

  /** Opens (creating folders as needed), migrates, and recovers from a corrupt file. */
  static async open(file: string, options: OpenOptions = {}): Promise<JobStore> {
    const abs = path.resolve(file);
    await mkdir(path.dirname(abs), { recursive: true });
    await removeDeadTempFiles(abs);
    const warnings: string[] = [];
    let loaded: Awaited<ReturnType<typeof readDatabase>>;
    try {
      loaded = await readDatabase(abs);
    } catch (err) {
      if (!(err instanceof CorruptDatabase)) throw err;
      const aside = await moveAside(abs);
      warnings.push(`${abs} is not a readable database (${err.message}); moved it to ${aside} and started a new one. Nothing was deleted.`);
      loaded = { db: new (await loadSqlJs()).Database(), id: null, capacity: 0 };
    }
    try {
      tune(loaded.db);
      migrate(loaded.db, abs);
    } catch (err) {
      loaded.db.close();
      throw err;
    }
    const store = new JobStore(abs, loaded.db, loaded.id, options, await loadSqlJs(), loaded.capacity);
    store.warnings.push(...warnings);
    return store;
  }

  /** Changes made since the last save (they are what a merge replays). */
  get unsavedChanges(): number {
    return this.journal.length;
  }

  private record(entry: Journaled): void {
    this.journal.push(entry);
  }

  /** Applies a journaled change again (onto a database another writer saved). */
  private replay(entry: Journaled): void {
    switch (entry.op) {
      case 'upsert':
        this.upsertWithRoom(entry.records, entry.now);
        break;
      case 'delete':
        this.repo.delete(entry.keys);
        break;
      case 'retention':
        this.repo.applyRetention(entry.days, entry.now);
        break;
      case 'files':
        this.repo.recordFiles(entry.files, entry.now);
        break;
      case 'startRun':
        this.repo.startRun(entry.runId, entry.source, entry.options, entry.now);
        break;
      case 'finishRun':
        this.repo.finishRun(entry.runId, entry.counts, entry.errors, entry.now);
        break;
    }
  }

  create(record: SparkAppRecord, now = new Date()): void {
    this.repo.create(record, now);
    this.record({ op: 'upsert', records: [record], now });
  }

  upsert(records: readonly SparkAppRecord[], now = new Date()): UpsertCounts {
    // Chunks commit one by one: if a later one fails, the ones before are stored and must be journaled.
    let committed = 0;
    let changed = false;
    try {
      return this.upsertWithRoom(records, now, (done, counts) => {
        committed = done;
        changed ||= counts.new + counts.updated > 0;
      });
    } finally {
      if (changed) this.record({ op: 'upsert', records: committed === records.length ? records : records.slice(0, committed), now });
    }
  }

  /** What one new record adds to the file, as last measured (it starts at a typical row with its indexes). */
  private bytesPerRecord = 1024;

  /**
   * Upserts in chunks, making room before a chunk that might not fit (see the file comment). The room
   * made covers the rest of the records at the measured size and share of new records, so a bulk
   * import reopens once (after its first chunk), and a run whose records are unchanged makes none.
   */
  private upsertWithRoom(records: readonly SparkAppRecord[], now: Date, onChunk?: (done: number, counts: UpsertCounts) => void): UpsertCounts {
    const total: UpsertCounts = { new: 0, updated: 0, unchanged: 0 };
    // The share of this call's records that are new, from its chunks so far: none is assumed, so the
    // first chunk makes no room and a re-run whose records are all unchanged never does.
    let newShare = 0;
    for (let i = 0; i < records.length; i += UPSERT_CHUNK) {
      const chunk = records.slice(i, i + UPSERT_CHUNK);
      const perRecord = this.bytesPerRecord * newShare * 1.25;
      this.makeRoom(chunk.length * perRecord, (records.length - i) * perRecord);
      const before = this.pagesBytes();
      const counts = this.repo.upsert(chunk, now);
      const grown = this.pagesBytes() - before;
      if (counts.new >= 100 && grown > 0) this.bytesPerRecord = Math.max(256, grown / counts.new);
      newShare = counts.new / Math.max(1, chunk.length);
      total.new += counts.new;
      total.updated += counts.updated;
      total.unchanged += counts.unchanged;
      onChunk?.(i + chunk.length, counts);
    }
    return total;
  }

  /** Makes room for `records` new records at once when they would not fit (see the file comment): one reopen instead of many regrowths. */
  reserve(records: number): void {
    // Room for half as much again, so that the size per record, re-measured as records land, does
    // not call for another reopen (each one copies the whole database).
    const bytes = records * this.bytesPerRecord;
    this.makeRoom(bytes, bytes * 1.5);
  }

  private pagesBytes(): number {
    const n = (sql: string): number => Number(this.db.exec(sql)[0]?.values[0]?.[0] ?? 0);
    return n('PRAGMA page_count') * n('PRAGMA page_size');
  }

  /**
   * When `needed` more bytes might not fit, reopens the database from its own bytes with room for
   * `wanted` (at least a quarter of its size).
   */
  private makeRoom(needed: number, wanted: number): void {
    if (needed <= 0) return;
    const used = this.pagesBytes();
    if (used + needed <= this.capacity) return;
    this.swapIn(openWithRoom(this.SQL, this.db.export(), Math.max(roomFor(used), Math.ceil(wanted))), tune);
  }

  /** Replaces the live database with `next` once `prepare` succeeds on it (`next` is closed if it fails). */
  private swapIn(next: { db: Database; capacity: number }, prepare: (db: Database) => void): void {
    try {
      prepare(next.db);
    } catch (err) {
      next.db.close();
      throw err;
    }
    this.db.close();
    this.db = next.db;
    this.repo = new SqlJsRepository(next.db);
    this.capacity = next.capacity;
  }

  get(key: AppKey): SparkAppRecord | undefined {
    return this.repo.get(key);
  }

  getByAppId(appId: string): SparkAppRecord[] {
    return this.repo.getByAppId(appId);
  }

  list(query?: JobQuery): SparkAppRecord[] {
    return this.repo.list(query);
  }

  count(query?: JobQuery): number {
    return this.repo.count(query);
  }

  groupCounts(by: GroupField, query?: JobQuery): { key: string; count: number }[] {
    return this.repo.groupCounts(by, query);
  }

  delete(keys: readonly AppKey[]): number {
    const n = this.repo.delete(keys);
    this.record({ op: 'delete', keys });
    return n;
  }

  applyRetention(days: number, now = new Date()): number {
    const n = this.repo.applyRetention(days, now);
    if (n > 0) this.record({ op: 'retention', days, now });
    return n;
  }

  isUnitUnchanged(unitPath: string, files: readonly { path: string; size: number; mtimeMs: number }[]): boolean {
    return this.repo.isUnitUnchanged(unitPath, files);
  }

  recordFiles(files: readonly IngestedFile[], now = new Date()): void {
    this.repo.recordFiles(files, now);
    this.record({ op: 'files', files, now });
  }

  knownFiles(): { unit_path: string; path: string; size: number; mtime_ms: number }[] {
    return this.repo.knownFiles();
  }

  newestEndTime(source: string): string | null {
    return this.repo.newestEndTime(source);
  }

  startRun(runId: string, source: string, options: Record<string, unknown>, now = new Date()): void {
    this.repo.startRun(runId, source, options, now);
    this.record({ op: 'startRun', runId, source, options, now });
  }

  finishRun(runId: string, counts: RunCounts, errors: readonly string[], now = new Date()): void {
    this.repo.finishRun(runId, counts, errors, now);
    this.record({ op: 'finishRun', runId, counts, errors, now });
  }

  listRuns(limit?: number): RunRow[] {
    return this.repo.listRuns(limit);
  }

  /**
   * Writes the database atomically under the lock, first merging in whatever another writer saved
   * since we loaded. Returns whether a merge happened. Nothing to save = no write.
   */
  async save(): Promise<{ written: boolean; merged: boolean }> {
    if (this.journal.length === 0 && this.loaded !== null) return { written: false, merged: false };
    const release = await acquireLock(`${this.file}.lock`, this.options.lockTimeoutMs ?? 30_000, this.file);
    try {
      let merged = false;
      const onDisk = identity(await statOrNull(this.file));
      if (!sameIdentity(onDisk, this.loaded) && onDisk !== null && onDisk.size > 0) {
        let fresh: Awaited<ReturnType<typeof readDatabase>> | null = null;
        try {
          fresh = await readDatabase(this.file);
        } catch (err) {
          if (!(err instanceof CorruptDatabase)) throw err;
          const aside = await moveAside(this.file);
          this.warnings.push(`${this.file} was damaged on disk (${err.message}); moved it to ${aside} and wrote this session's database instead.`);
        }
        if (fresh) {
          // Ours until now is replaced by theirs plus our journal; if a replay fails, the journal stays for the next save.
          this.swapIn(fresh, (db) => {
            tune(db);
            migrate(db, this.file);
          });
          for (const entry of this.journal) this.replay(entry);
          merged = true;
        }
      }
      // What this save writes: changes made while it waits on the disk stay journaled for the next one.
      const saved = this.journal.length;
      // sql.js exports through SQLite's backup API into a file of its own: the live file keeps its room,
      // and the export is just the pages (cut to the header's page count all the same).
      const bytes = this.db.export();
      await writeAtomically(this.file, bytes.subarray(0, pagesLength(bytes) ?? bytes.length));
      this.loaded = identity(await stat(this.file));
      this.journal = this.journal.slice(saved);
      return { written: true, merged };
    } finally {
      await release();
    }
  }

  close(): void {
    this.db.close();
  }
}

/**
 * sql.js keeps SQLite's files in Emscripten's in-memory file system, where every write is a copy:
 * keeping the rollback journal in SQLite's own memory halves upsert time (BENCHMARKS.md).
 * Durability comes from save()'s atomic file replace, not from SQLite's journal.
 */
function tune(db: Database): void {
  db.exec('PRAGMA journal_mode = MEMORY; PRAGMA synchronous = OFF; PRAGMA temp_store = MEMORY;');
}

async function moveAside(file: string): Promise<string> {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  return aside;
}

/** Temp files of saves whose process died mid-write: partial copies, never the database itself. */
async function removeDeadTempFiles(file: string): Promise<void> {
  const base = `${path.basename(file)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(base)) continue;
    const pid = Number(name.slice(base.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) await rm(path.join(path.dirname(file), name), { force: true });
  }
}

interface LockInfo {
  pid: number;
  host: string;
  at: number;
}

async function lockIsStale(lockPath: string): Promise<boolean> {
  let st: Stats;
  let text: string;
  try {
    st = await stat(lockPath);
    text = await readFile(lockPath, 'utf8');
  } catch {
    return false; // gone already: just retry
  }
  const age = Date.now() - st.mtimeMs;
  let info: LockInfo | null = null;
  try {
    info = JSON.parse(text) as LockInfo;
  } catch {
    // Being written this very moment, or left half-written by a crash: only the latter gets old.
    return age > 5_000;
  }
  if (age > STALE_LOCK_MS) return true;
  return info.host === hostname() && !pidAlive(info.pid);
}

async function acquireLock(lockPath: string, timeoutMs: number, dbFile: string): Promise<() => Promise<void>> {
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() } satisfies LockInfo));
      } finally {
        await fh.close();
      }
      return () => rm(lockPath, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await lockIsStale(lockPath)) {
      // Renamed, not deleted, so two processes breaking the same stale lock cannot both succeed.
      const stale = `${lockPath}.stale-${process.pid}-${randomUUID().slice(0, 8)}`;
      await rename(lockPath, stale).then(() => rm(stale, { force: true }), () => undefined);
      continue;
    }
    if (Date.now() > deadline) {
      let holder = 'another process';
      try {
        const info = JSON.parse(await readFile(lockPath, 'utf8')) as LockInfo;
        holder = `process ${info.pid} on ${info.host}`;
      } catch {
        // keep the generic wording
      }
      throw new Error(`${dbFile} is locked by ${holder} (${lockPath}); gave up after ${Math.round(timeoutMs / 1000)} s. Try again when it finishes.`);
    }
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 200);
  }
}
