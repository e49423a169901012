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
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import * as path from 'node:path';
import type { Database } from 'sql.js';
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

async function readDatabase(file: string): Promise<{ db: Database; id: FileIdentity | null }> {
  const SQL = await loadSqlJs();
  const st = await statOrNull(file);
  if (st === null || st.size === 0) return { db: new SQL.Database(), id: identity(st) };
  const bytes = await readFile(file);
  if (bytes.length < SQLITE_HEADER.length || !bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw new CorruptDatabase('it does not start with the SQLite header');
  }
  let db: Database | undefined;
  try {
    db = new SQL.Database(bytes);
    const check = db.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
    if (check !== 'ok') throw new CorruptDatabase(`SQLite's quick_check says: ${String(check)}`);
    return { db, id: identity(st) };
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
  ) {
    this.repo = new SqlJsRepository(db);
  }

  /** Opens (creating folders as needed), migrates, and recovers from a corrupt file. */
  static async open(file: string, options: OpenOptions = {}): Promise<JobStore> {
    const abs = path.resolve(file);
    await mkdir(path.dirname(abs), { recursive: true });
    await removeDeadTempFiles(abs);
    const warnings: string[] = [];
    let loaded: { db: Database; id: FileIdentity | null };
    try {
      loaded = await readDatabase(abs);
    } catch (err) {
      if (!(err instanceof CorruptDatabase)) throw err;
      const aside = await moveAside(abs);
      warnings.push(`${abs} is not a readable database (${err.message}); moved it to ${aside} and started a new one. Nothing was deleted.`);
      loaded = { db: new (await loadSqlJs()).Database(), id: null };
    }
    try {
      tune(loaded.db);
      migrate(loaded.db, abs);
    } catch (err) {
      loaded.db.close();
      throw err;
    }
    const store = new JobStore(abs, loaded.db, loaded.id, options);
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

  private static replay(repo: SqlJsRepository, entry: Journaled): void {
    switch (entry.op) {
      case 'upsert':
        repo.upsert(entry.records, entry.now);
        break;
      case 'delete':
        repo.delete(entry.keys);
        break;
      case 'retention':
        repo.applyRetention(entry.days, entry.now);
        break;
      case 'files':
        repo.recordFiles(entry.files, entry.now);
        break;
      case 'startRun':
        repo.startRun(entry.runId, entry.source, entry.options, entry.now);
        break;
      case 'finishRun':
        repo.finishRun(entry.runId, entry.counts, entry.errors, entry.now);
        break;
    }
  }

  create(record: SparkAppRecord, now = new Date()): void {
    this.repo.create(record, now);
    this.record({ op: 'upsert', records: [record], now });
  }

  upsert(records: readonly SparkAppRecord[], now = new Date()): UpsertCounts {
    const counts = this.repo.upsert(records, now);
    if (counts.new + counts.updated > 0) this.record({ op: 'upsert', records, now });
    return counts;
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
        let fresh: { db: Database; id: FileIdentity | null } | null = null;
        try {
          fresh = await readDatabase(this.file);
        } catch (err) {
          if (!(err instanceof CorruptDatabase)) throw err;
          const aside = await moveAside(this.file);
          this.warnings.push(`${this.file} was damaged on disk (${err.message}); moved it to ${aside} and wrote this session's database instead.`);
        }
        if (fresh) {
          tune(fresh.db);
          migrate(fresh.db, this.file);
          const repo = new SqlJsRepository(fresh.db);
          for (const entry of this.journal) JobStore.replay(repo, entry);
          this.db.close();
          this.db = fresh.db;
          this.repo = repo;
          merged = true;
        }
      }
      await writeAtomically(this.file, this.db.export());
      this.loaded = identity(await stat(this.file));
      this.journal = [];
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
