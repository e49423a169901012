/**
 * The workspace database file: open (migrate, recover), and save so that nothing is lost.
 *
 * sql.js keeps the whole database in memory; saving writes the file anew. These rules make that safe:
 * - Atomic: write `<db>.tmp-<pid>-<n>_<host>`, fsync, rename over the database, fsync the folder. A process
 *   killed at any point leaves the old file or the new one, both complete.
 * - Two writers (the CLI from cron, the editor): saves take `<db>.lock` (fileLock.ts: created
 *   exclusively; a lock whose process is gone is broken, race-free). If the file changed on disk since
 *   we loaded it, we load it again and replay our own changes onto it (every change since the last
 *   save is journaled as the repository call that made it), so neither writer loses the other's records.
 * - Runs that say whether they still go: a collection run of this process holds `<db>.run-<id>`
 *   (fileLock.ts holdFile: touched every 20 s) until a save has written its end, since the file is
 *   written only by saves; a run whose file is gone or stale (the lock's rule) reads as interrupted.
 *   The next open removes what a killed process left (its run's file, a save's temp file).
 * - Recover, never delete: a file that is not a readable SQLite database is renamed to
 *   `<db>.corrupt-<time>` and a fresh database is started, with a message saying where the old one went.
 * - Refuse, never override: a database file without write permission (chmod 444), damaged or not,
 *   is not replaced, a read-only folder is said before a collection rather than at its save, and a
 *   save that fails (a full disk, no permission) removes its temp file and says that the database on
 *   disk is as it was. A symlinked database stays a link, and the file keeps its mode.
 *
 * Speed (issue #3): the file's bytes are checked, then copied into an in-memory SQLite database
 * (`memoryDatabase`, see sqlJs.ts), where upserts and commits never touch Emscripten's file system;
 * saving exports the pages once.
 */
import { randomUUID } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { access, lstat, mkdir, open, readFile, readdir, readlink, realpath, rename, rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { acquireLock, HEARTBEAT_MS, heldFileGone, holderGone, holdFile, HOST_TAG, LockTimeout, pidAlive, removeIfHolderGone } from './fileLock';
import { KnownFileIndex, type KnownFile } from './unchanged';
import { recheckAfterRemoval, type RegressionCheck } from '../analysis/regression';
import type { RegressionThresholds } from '../analysis/regressionThresholds';
import type { SparkAppRecord } from '../collectors/record';
import type { AppSummaries } from '../collectors/record/summaries';
import { migrate, SCHEMA_VERSION } from './migrations';
import {
  CheckedCopies,
  SqlJsRepository,
  regressionRow,
  type AppKey,
  type GroupField,
  type IngestedFile,
  type JobQuery,
  type RunCounts,
  type RunGone,
  type RunOwner,
  type RunRow,
  ownerNow,
  type UpsertCounts,
  type UpsertItem,
  type RecordFigures,
  type RunBaseline,
  type FigureField,
  type RunRef,
  type RegressionRow,
  type StoredRegression,
  type ListingScope,
  type LaterRun,
  type RunGroup,
} from './repository';
import { loadSqlJs, memoryDatabase } from './sqlJs';
import type { Store } from './store';

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

export interface OpenOptions {
  /** How long a save waits for another writer's lock before giving up. */
  lockTimeoutMs?: number;
  /** The most the database may hold before upserts are refused (default MAX_DATABASE_BYTES). */
  maxBytes?: number;
  /**
   * For a command that only reads (`jobs`, `show`, `compare`, `db copy --from`): a file that is not
   * a readable database is refused with an error naming it, never moved aside (a typo in `--db`
   * must not make a file vanish); only a writer recovers by starting anew.
   */
  readOnly?: boolean;
  /**
   * The thresholds of each source (its `regression:` keys over the settings or the defaults), for the
   * re-check a merge with another writer's save needs: replaying this session's changes onto that
   * file may remove runs the other writer stored or checked against (a platform-level record a record
   * of ours names, a run we deleted or that our retention drops), and the runs whose baselines held
   * them are checked again (regression.ts recheckAfterRemoval), as after every other removal. The
   * store cannot know a source's thresholds (a config file, the editor's settings), so whoever opens
   * it to write says them; left out, a merge re-checks nothing.
   */
  recheckThresholds?: (source: string) => Readonly<RegressionThresholds>;
}

/**
 * The most the in-memory database may hold and still be saved and merged: sql.js's WebAssembly heap
 * ends at about 2 GB, where SQLite answers "out of memory". An export needs memory of its own, and a
 * merge with another writer's save holds both databases at once (measured: two 1,000 MB databases
 * fit, two of 1,400 MB do not; one of 1.5 GB still exports). About 1.3 million records of the bench's.
 */
export const MAX_DATABASE_BYTES = 1024 ** 3;

type Journaled =
  | { op: 'upsert'; records: readonly UpsertItem[]; now: Date }
  | { op: 'delete'; keys: readonly AppKey[] }
  | { op: 'retention'; days: number; now: Date }
  | { op: 'regressions'; rows: readonly RegressionRow[]; now: Date }
  | { op: 'files'; files: readonly IngestedFile[]; now: Date }
  | { op: 'startRun'; runId: string; source: string; options: Record<string, unknown>; now: Date; owner: RunOwner | null }
  | { op: 'finishRun'; runId: string; counts: RunCounts; errors: readonly string[]; now: Date };

interface FileIdentity {
  ino: number;
  size: number;
  mtimeMs: number;
}

function mb(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(bytes < 10 * 1024 ** 2 ? 1 : 0)} MB`;
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

/**
 * Why a database file's length does not fit its header, or null. A file cut short inside its last
 * page (a copy that stopped, a full disk) passes quick_check: SQLite reads the missing bytes as zeros,
 * inside stored JSON, say, and the next save would write them for good. The header
 * (sqlite.org/fileformat2.html) gives the page size (bytes 16-17, 1 meaning 65536) and the page count
 * (bytes 28-31, valid when the change counter at 24-27 equals the one at 92-95).
 */
function cutShort(bytes: Buffer): string | null {
  if (bytes.length < 100) return `it is ${bytes.length} bytes, shorter than the SQLite header`;
  const raw = bytes.readUInt16BE(16);
  const pageSize = raw === 1 ? 65536 : raw;
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) return `its header gives no valid page size (${raw})`;
  if (bytes.length % pageSize !== 0) return `its ${bytes.length} bytes are not whole pages of ${pageSize} bytes: it was cut short`;
  const pages = bytes.readUInt32BE(28);
  if (pages > 0 && bytes.readUInt32BE(24) === bytes.readUInt32BE(92) && bytes.length < pages * pageSize) {
    return `it holds ${bytes.length / pageSize} of the ${pages} pages its header counts: it was cut short`;
  }
  return null;
}

/** Reads and checks a database file; `null` bytes means "start empty". Throws CorruptDatabase. */
class CorruptDatabase extends Error {}

async function readDatabase(file: string): Promise<{ db: Database; id: FileIdentity | null }> {
  const SQL = await loadSqlJs();
  const st = await statOrNull(file);
  if (st === null || st.size === 0) return { db: memoryDatabase(SQL), id: identity(st) };
  if (st.isDirectory()) throw new Error(`${file} is a folder, not a database file; pass a file path to --db (such as ${path.join(file, 'jobs.db')}).`);
  const bytes = await readFile(file).catch((err: unknown) => {
    throw new Error(`cannot read the database ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; it was left as it is.`);
  });
  if (bytes.length < SQLITE_HEADER.length || !bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) {
    throw new CorruptDatabase('it does not start with the SQLite header');
  }
  const short = cutShort(bytes);
  if (short !== null) throw new CorruptDatabase(short);
  let onFile: Database | undefined;
  try {
    onFile = new SQL.Database(bytes);
    const check = onFile.exec('PRAGMA quick_check')[0]?.values[0]?.[0];
    if (check !== 'ok') throw new CorruptDatabase(`SQLite's quick_check says: ${String(check)}`);
  } catch (err) {
    onFile?.close();
    if (err instanceof CorruptDatabase) throw err;
    throw new CorruptDatabase(`SQLite cannot read it (${(err as Error).message})`);
  }
  try {
    return { db: memoryDatabase(SQL, onFile), id: identity(st) };
  } catch (err) {
    throw new Error(`${file} could not be loaded into memory (${(err as Error).message}); the file was left as it is.`);
  } finally {
    onFile.close();
  }
}

/** What the errors a save can meet mean, and what to do about them. */
const FS_FAILURES: Readonly<Record<string, { what: string; fix: string }>> = {
  ENOSPC: { what: 'the disk is full', fix: 'Free some space there, or collect into another database (--db).' },
  EDQUOT: { what: 'the disk quota is used up', fix: 'Free some space there, or collect into another database (--db).' },
  EFBIG: { what: 'the file is larger than this process may write', fix: 'Raise the file size limit (ulimit -f), or collect into another database (--db).' },
  EACCES: { what: 'permission denied', fix: 'Make the folder writable for this user, or collect into another database (--db).' },
  EPERM: { what: 'operation not permitted', fix: 'Make the folder writable for this user, or collect into another database (--db).' },
  EROFS: { what: 'the file system is read-only', fix: 'Collect into a database on a writable disk (--db).' },
};

/** A file-system error in words a person can act on, naming the file; the errno code stays on `code`. */
export function fsFailure(err: unknown, doing: string, outcome: string): Error {
  const e = err as NodeJS.ErrnoException;
  const known = typeof e.code === 'string' ? FS_FAILURES[e.code] : undefined;
  const why = known ? `${known.what} (${e.code})` : e.message;
  return Object.assign(new Error(`${doing} failed: ${why}. ${outcome}${known ? ` ${known.fix}` : ''}`, { cause: err }), { code: e.code });
}

/**
 * The file a path names, through any symlinks: where a save writes (a temp file beside it, renamed
 * over it), locks and moves a damaged file aside. Renamed over, a symlink would become a plain file
 * and the file it pointed to would keep the old data. A path not there yet is in its folder as
 * resolved; a dangling link, where it points.
 */
async function realFile(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    // not there (yet), or a link to nowhere
  }
  const st = await lstat(file).catch(() => null);
  if (st?.isSymbolicLink()) return path.resolve(path.dirname(file), await readlink(file));
  const dir = await realpath(path.dirname(file)).catch(() => path.dirname(file));
  return path.join(dir, path.basename(file));
}

/**
 * Writes `bytes` to a temp file beside `file` (through symlinks: realFile), fsyncs it and renames it
 * over `file`. The new file keeps the old one's mode (a chmod 600 database stays private) and, where
 * this process may, its owner. On any failure before the rename the temp file is removed (a partial
 * copy of a full disk must not wait for the next command) and `file` is untouched.
 */
async function writeAtomically(file: string, bytes: Uint8Array): Promise<void> {
  const real = await realFile(file);
  const tmp = `${real}.tmp-${process.pid}-${randomUUID().slice(0, 8)}_${HOST_TAG}`;
  try {
    const old = await statOrNull(real);
    const fh = await open(tmp, 'wx');
    try {
      if (old !== null) {
        // Best effort: another user's file, writable to us by its group, cannot be given its mode or owner.
        await fh.chmod(old.mode & 0o7777).catch(() => undefined);
        await fh.chown(old.uid, old.gid).catch(() => undefined);
      }
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, real);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw fsFailure(err, `saving ${file} (writing ${tmp}, removed again)`, `Nothing new was stored: ${file} is intact, as it was before this save.`);
  }
  // The rename itself must reach the disk too (POSIX: fsync the directory). The new file is in place
  // by now, so a folder that cannot be opened or synced is not a failed save.
  const dir = await open(path.dirname(real), fsConstants.O_RDONLY).catch(() => null);
  if (dir === null) return;
  try {
    await dir.sync().catch(() => undefined); // some file systems refuse fsync on a directory
  } finally {
    await dir.close();
  }
}

/** The mode of a file or folder without write permission, as `0444`; null when it may be written. */
async function readOnlyMode(file: string, st: Stats): Promise<string | null> {
  // The mode bits as well as access(): root passes every access check.
  const writable = (st.mode & 0o222) !== 0 && (await access(file, fsConstants.W_OK).then(() => true, () => false));
  return writable ? null : (st.mode & 0o777).toString(8).padStart(4, '0');
}

/**
 * A database file without write permission is left alone: rename() in a writable folder would
 * replace it anyway. A read-only folder is said before a collection too: a save writes its temp file
 * and lock there, so it would fail only after everything was collected.
 */
async function refuseReadOnly(file: string): Promise<void> {
  const real = await realFile(file);
  const st = await statOrNull(real);
  const mode = st && (await readOnlyMode(real, st));
  if (mode) throw new Error(`${file} is read-only (mode ${mode}): it was left as it is and nothing was stored in it. Make it writable (chmod u+w ${file}) to collect into it, or collect into another database (--db).`);
  const dir = path.dirname(real);
  const dirSt = await statOrNull(dir);
  const dirMode = dirSt && (await readOnlyMode(dir, dirSt));
  if (dirMode) {
    throw new Error(
      `${dir}, the folder of ${file}, is read-only (mode ${dirMode}): nothing was stored in ${file}; a save writes a new file there and renames it over the database. ` +
        `Make the folder writable (chmod u+w ${dir}) to collect into it, or collect into another database (--db).`,
    );
  }
}

export class JobStore implements Store {
  readonly kind = 'sqlite';
  private repo: SqlJsRepository;
  private journal: Journaled[] = [];
  /** The copy of each run its checks were made from (one rule with PostgresRepository's). */
  private readonly checked = new CheckedCopies();
  /** The files read without errors, built on first use and kept current (null = build again). */
  private known: KnownFileIndex | null = null;
  readonly warnings: string[] = [];
  /** Opened to read, its masking migrations left out (migrations.ts MASKING_STEPS): never saved, or its file would say they ran. */
  private maskingSkipped = false;
  /**
   * The file each unfinished run of this process holds beside the database (runFile), by run id: its
   * sign of life, touched every HEARTBEAT_MS (fileLock.ts holdFile). The row alone cannot be one: the
   * file is written only by a save, and a run may go minutes without one. A run's file is let go once
   * a save has written its end, or when the store closes (whatever that leaves unfinished on disk is
   * then interrupted).
   */
  private readonly held = new Map<string, () => void>();
  /**
   * This process's unfinished runs (startRun without an owner), whether or not their file could be
   * created: this process knows they go, whatever the folder holds (held has only those it could).
   */
  private readonly own = new Set<string>();

  private constructor(
    readonly file: string,
    /** The file through any symlinks (realFile): where the runs' files are, as the lock and the temp files. */
    private readonly real: string,
    private db: Database,
    private loaded: FileIdentity | null,
    private readonly options: OpenOptions,
  ) {
    this.repo = new SqlJsRepository(db, this.runGone);
  }

  /** Opens (creating folders as needed), migrates, and recovers from a corrupt file. */
  static async open(file: string, options: OpenOptions = {}): Promise<JobStore> {
    const abs = path.resolve(file);
    await mkdir(path.dirname(abs), { recursive: true }).catch((err: unknown) => {
      throw fsFailure(err, `creating the folder of ${abs}`, 'Nothing was stored.');
    });
    const real = await realFile(abs);
    await removeLeftovers(real);
    const warnings: string[] = [];
    let loaded: Awaited<ReturnType<typeof readDatabase>>;
    try {
      loaded = await readDatabase(abs);
    } catch (err) {
      if (!(err instanceof CorruptDatabase)) throw err;
      if (options.readOnly) throw new Error(`${abs} is not a readable Spark Optimizer database (${err.message}); it was left as it is. Check the --db path.`);
      // Refuse, never override: a read-only file (or folder) is not moved aside and replaced either.
      await refuseReadOnly(abs).catch((ro: unknown) => {
        throw new Error(`${abs} is not a readable database (${err.message}); ${(ro as Error).message}`);
      });
      const aside = await moveAside(abs);
      warnings.push(`${abs} is not a readable database (${err.message}); moved it to ${aside} and started a new one. Nothing was deleted.`);
      loaded = { db: memoryDatabase(await loadSqlJs()), id: null };
    }
    let maskingSkipped: boolean;
    try {
      tune(loaded.db);
      maskingSkipped = migrate(loaded.db, abs, SCHEMA_VERSION, true, options.readOnly === true);
    } catch (err) {
      loaded.db.close();
      throw err;
    }
    const store = new JobStore(abs, real, loaded.db, loaded.id, options);
    store.maskingSkipped = maskingSkipped;
    store.warnings.push(...warnings);
    return store;
  }

  /** The file: where the jobs are, as messages name it. */
  get where(): string {
    return this.file;
  }

  /** Changes made since the last save (they are what a merge replays). */
  get unsavedChanges(): number {
    return this.journal.length;
  }

  private record(entry: Journaled): void {
    this.journal.push(entry);
  }

  /**
   * Applies a journaled change again (onto a database another writer saved); `removed` receives the
   * runs in a history it removed there (repository.ts LaterRun), whose later runs are checked again.
   */
  private replay(entry: Journaled, removed: LaterRun[]): void {
    switch (entry.op) {
      case 'upsert':
        this.repo.upsert(entry.records, entry.now, undefined, removed);
        break;
      case 'delete':
        this.repo.delete(entry.keys, removed);
        break;
      case 'retention':
        this.repo.applyRetention(entry.days, entry.now, removed);
        break;
      case 'regressions':
        // After the upserts journaled before it: the runs are there again (unless the other writer deleted them).
        this.repo.saveRegressions(entry.rows, entry.now);
        break;
      case 'files': {
        // A known file always has its record. This session's upsert of a record that did not change
        // was not journaled, so a record the other writer deleted since is not stored again; its files
        // must not be either, or the next collection would call them unchanged and the record would
        // never come back (delete() forgets them so that it does).
        const stored = this.repo.runVersions(entry.files.flatMap((f) => (f.app_id === null ? [] : [{ app_id: f.app_id, attempt_id: f.attempt_id }])));
        let k = 0;
        this.repo.recordFiles(
          entry.files.filter((f) => f.app_id === null || stored[k++] !== null),
          entry.now,
        );
        break;
      }
      case 'startRun':
        this.repo.startRun(entry.runId, entry.source, entry.options, entry.now, entry.owner);
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

  /** Records with their summaries (AppEntry) or alone; a merge replays both. */
  upsert(records: readonly UpsertItem[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const max = this.options.maxBytes ?? MAX_DATABASE_BYTES;
    if (this.bytes() > max) throw this.full(max);
    let counts: UpsertCounts;
    try {
      // One transaction: a call that fails stores nothing, so there is nothing to journal.
      counts = this.repo.upsert(records, now, changed, removed);
    } catch (err) {
      throw /out of memory/i.test((err as Error).message) ? this.outOfMemory(records.length, max, err as Error) : err;
    }
    // A call that only removed platform-level records (repository.ts supersede) changed the database too.
    if (counts.new + counts.updated + (counts.removed ?? 0) > 0) this.record({ op: 'upsert', records, now });
    return counts;
  }

  /** What the database holds: its pages less the free ones (which SQLite reuses before growing). */
  private bytes(): number {
    const n = (pragma: string): number => Number(this.db.exec(`PRAGMA ${pragma}`)[0]?.values[0]?.[0] ?? 0);
    return (n('page_count') - n('freelist_count')) * n('page_size');
  }

  private full(max: number): Error {
    return new Error(
      `${this.file} is full: it holds ${mb(this.bytes())} in ${this.repo.count()} records, and an in-memory database can hold about ${mb(max)} and still be saved; ` +
        'nothing of this batch was stored. Drop old records (the extension\'s retention setting, or Delete in the Jobs view) or collect into another database (--db).',
    );
  }

  /** SQLite ran out of memory inside the call (it rolled back): full, if that is why, or else said as it is. */
  private outOfMemory(records: number, max: number, err: Error): Error {
    try {
      if (this.bytes() >= max * 0.9) return this.full(max);
    } catch {
      // the database cannot even be measured now: say what happened
    }
    return new Error(
      `${this.file}: SQLite ran out of memory storing ${records} records (${err.message}); nothing of this batch was stored and the records stored before are intact. ` +
        'sql.js has about 2 GB of memory for every database this process has open: upsert fewer records at a time, or close other databases.',
    );
  }

  /** Replaces the live database with `next` once `prepare` succeeds on it (`next` is closed if it fails). */
  private swapIn(next: Database, prepare: (db: Database) => void): void {
    try {
      prepare(next);
    } catch (err) {
      next.close();
      throw err;
    }
    this.db.close();
    this.db = next;
    this.repo = new SqlJsRepository(next, this.runGone);
    this.known = null;
  }

  get(key: AppKey): SparkAppRecord | undefined {
    return this.repo.get(key);
  }

  getByAppId(appId: string): SparkAppRecord[] {
    return this.repo.getByAppId(appId);
  }

  previousRun(record: SparkAppRecord): SparkAppRecord | undefined {
    return this.repo.previousRun(record);
  }

  baselineRuns(record: RunRef, n: number): SparkAppRecord[] {
    return this.repo.baselineRuns(record, n);
  }

  baselines<F extends FigureField>(keys: readonly AppKey[], n: number | ((run: RecordFigures) => number), fields: readonly F[]): RunBaseline<F>[] {
    const read = this.repo.baselines(keys, n, fields);
    this.checked.note(read);
    return read;
  }

  environments(keys: readonly AppKey[]): Record<string, string>[] {
    return this.repo.environments(keys);
  }

  summariesOf(key: AppKey): AppSummaries | undefined {
    return this.repo.summariesOf(key);
  }

  summariesOfMany(keys: readonly AppKey[]): (AppSummaries | undefined)[] {
    return this.repo.summariesOfMany(keys);
  }

  saveRegressions(checks: readonly (RegressionCheck | RegressionRow)[], now = new Date()): number {
    // The journal keeps what is stored (regressionRow), not a steady check's figures, until the next
    // save; and which copy of each run was checked, so that a merge does not put the check onto another.
    const given = this.checked.attach(checks.map((c) => ('check' in c ? c : regressionRow(c))));
    const versions = this.repo.runVersions(given.filter((r) => r.of === undefined));
    let k = 0;
    const rows = given.map((r): RegressionRow => {
      if (r.of !== undefined) return r;
      const of = versions[k++];
      return of ? { ...r, of } : r;
    });
    const n = this.repo.saveRegressions(rows, now);
    if (rows.length > 0) this.record({ op: 'regressions', rows, now });
    return n;
  }

  regressions(keys: readonly AppKey[]): (StoredRegression | null)[] {
    return this.repo.regressions(keys);
  }

  uncheckedRuns(source: string, limit: number): AppKey[] {
    return this.repo.uncheckedRuns(source, limit);
  }

  laterRuns(groups: readonly RunGroup[]): LaterRun[] {
    return this.repo.laterRuns(groups);
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

  delete(keys: readonly AppKey[], removed?: LaterRun[]): number {
    const n = this.repo.delete(keys, removed);
    this.known = null;
    this.record({ op: 'delete', keys });
    return n;
  }

  applyRetention(days: number, now = new Date(), removed?: LaterRun[]): number {
    const n = this.repo.applyRetention(days, now, removed);
    if (n > 0) {
      this.known = null;
      this.record({ op: 'retention', days, now });
    }
    return n;
  }

  /** Both journaled, as the calls they are; the file is written only by save(), never between them. */
  storeBatch(items: readonly UpsertItem[], files: readonly IngestedFile[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const counts = this.upsert(items, now, changed, removed);
    if (files.length > 0) this.recordFiles(files, now);
    return counts;
  }

  recordFiles(files: readonly IngestedFile[], now = new Date()): void {
    this.repo.recordFiles(files, now);
    this.known?.record(files);
    this.record({ op: 'files', files, now });
  }

  knownFiles(): KnownFile[] {
    return this.repo.knownFiles();
  }

  ingestedFiles(): IngestedFile[] {
    return this.repo.ingestedFiles();
  }

  /**
   * The incremental rule (unchanged.ts) against what the database holds now, including the files
   * recorded since: one read of the table however many sources a run has.
   */
  isUnchanged(unit: { path: string; files: readonly { path: string; size: number; mtimeMs: number }[] }): boolean {
    this.known ??= new KnownFileIndex(this.repo.knownFiles());
    return this.known.isUnchanged(unit);
  }

  /** Throws, saying what to do, when saves could not write the database file (it is read-only). */
  async checkWritable(): Promise<void> {
    await refuseReadOnly(this.file);
  }

  newestEndTime(of: ListingScope): string | null {
    return this.repo.newestEndTime(of);
  }

  /** A new run of this process (no `owner`) holds its file (runFile) from now until a save has written its end. */
  startRun(runId: string, source: string, options: Record<string, unknown>, now = new Date(), owner?: RunOwner | null): void {
    const own = owner === undefined && !this.own.has(runId) && !this.repo.runRecorded(runId);
    const recorded = owner === undefined ? ownerNow(now) : owner;
    this.repo.startRun(runId, source, options, now, recorded);
    this.record({ op: 'startRun', runId, source, options, now, owner: recorded });
    if (!own) return;
    this.own.add(runId);
    // An id that names no file (RUN_ID) goes here all the same; no run of a collection has one (randomUUID).
    if (!RUN_ID.test(runId)) return;
    const held = holdFile(this.runFile(runId));
    this.held.set(runId, held.release);
    if (held.failed !== null) {
      this.warnings.push(
        `${this.file}: could not create ${this.runFile(runId)} (${held.failed.message}); other processes will show this collection run as interrupted until it can be (tried again every ${HEARTBEAT_MS / 1000} s).`,
      );
    }
  }

  finishRun(runId: string, counts: RunCounts, errors: readonly string[], now = new Date()): void {
    this.repo.finishRun(runId, counts, errors, now);
    this.record({ op: 'finishRun', runId, counts, errors, now });
  }

  listRuns(limit?: number): RunRow[] {
    return this.repo.listRuns(limit);
  }

  latestRuns(): RunRow[] {
    return this.repo.latestRuns();
  }

  /** `<db>.run-<run id>`: the file a run of a process holds while it goes (fileLock.ts holdFile). */
  private runFile(runId: string): string {
    return `${this.real}.${RUN_FILE}${runId}`;
  }

  /**
   * The file store's one rule for whether an unfinished run's process is gone (the repository's
   * runState asks it): not one of this process's, and its file not held, by fileLock.ts's rule for a lock. Not by the
   * row's heartbeat, which is only its last save's time: the file is only written by a save.
   */
  private readonly runGone: RunGone = (run) => !this.own.has(run.run_id) && heldFileGone(this.runFile(run.run_id));

  /**
   * Writes the database atomically under the lock, first merging in whatever another writer saved
   * since we loaded. Returns whether a merge happened. Nothing to save = no write.
   */
  async save(): Promise<{ written: boolean; merged: boolean }> {
    if (this.maskingSkipped) throw new Error(`${this.file} was opened only to read; it cannot be saved`);
    if (this.journal.length === 0 && this.loaded !== null) return { written: false, merged: false };
    const release = await this.lock();
    try {
      await refuseReadOnly(this.file);
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
          this.swapIn(fresh.db, (db) => {
            tune(db);
            migrate(db, this.file);
          });
          const removed: LaterRun[] = [];
          for (const entry of this.journal) this.replay(entry, removed);
          merged = true;
          // The other writer's runs whose baselines held a run the replay removed: their checks quote it.
          // Under the lock, so that the file written holds the re-checks (journaled too, as any check).
          const thresholds = this.options.recheckThresholds;
          if (thresholds !== undefined && removed.length > 0) await recheckAfterRemoval(this, removed, thresholds);
        }
      }
      // The rows of the runs going here say when they were last seen (not journaled: a merge's replay
      // records them as started, and this save writes them seen again).
      if (this.own.size > 0) this.repo.beatRuns([...this.own], new Date());
      // What this save writes: changes made while it waits on the disk stay journaled for the next one.
      const saved = this.journal.length;
      await writeAtomically(this.file, this.db.export());
      this.loaded = identity(await stat(this.file));
      // Runs whose end the file now holds need no sign of life any more.
      for (const entry of this.journal.slice(0, saved)) if (entry.op === 'finishRun') this.letGo(entry.runId);
      this.journal = this.journal.slice(saved);
      return { written: true, merged };
    } finally {
      await release();
    }
  }

  /** Takes `<db>.lock` (fileLock.ts), errors said naming the database. */
  private async lock(): Promise<() => Promise<void>> {
    // Beside the file itself: two writers reaching it through different links take the same lock.
    const lockPath = `${await realFile(this.file)}.lock`;
    try {
      return await acquireLock(lockPath, this.options.lockTimeoutMs ?? 30_000);
    } catch (err) {
      if (err instanceof LockTimeout) throw new Error(`${this.file} is ${err.message}`);
      throw fsFailure(err, `saving ${this.file} (creating the lock ${lockPath})`, `Nothing new was stored: ${this.file} is intact, as it was before this save.`);
    }
  }

  private letGo(runId: string): void {
    this.held.get(runId)?.();
    this.held.delete(runId);
    this.own.delete(runId);
  }

  /** What a run left unfinished on disk reads as interrupted from now on: its process no longer holds its file. */
  close(): void {
    for (const runId of [...this.own]) this.letGo(runId);
    this.db.close();
  }
}

/**
 * Temporary tables and sorts stay in SQLite's memory rather than in files of Emscripten's file system.
 * (An in-memory database keeps its rollback journal in memory anyway; durability comes from save()'s
 * atomic file replace.)
 */
function tune(db: Database): void {
  db.exec('PRAGMA temp_store = MEMORY;');
}

/** Renames the damaged file (not a symlink to it) to `<file>.corrupt-<time>` beside it; returns the new name. */
async function moveAside(file: string): Promise<string> {
  const real = await realFile(file);
  const aside = `${real}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(real, aside);
  return aside;
}

/** What follows `<db>.` in the name of a run's file (JobStore.runFile), before its run id. */
const RUN_FILE = 'run-';
/**
 * A run id that may name a run's file: ingest.ts's (randomUUID) and those tests give. Nothing else
 * beside the database is taken for a run's file (`jobs.db.run-archive.db` is a user's), and a run
 * id outside it (a path separator, a dot) names none.
 */
const RUN_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * What processes that died left beside the database, judged by fileLock.ts's rule for a lock's
 * holder (holderGone): temp files of saves killed mid-write (partial copies, never the database
 * itself), and the files of collection runs whose holder is gone (such a run reads as interrupted
 * with its file or without): named `run-` and a run id (RUN_ID), holding a holder's text or nothing
 * (fileLock.ts removeIfHolderGone); any other file so named is a user's, and stays. A temp file of another host (its HOST_TAG) is its until untouched for
 * STALE_LOCK_MS: its pid means nothing here, and taken for dead by it, it would be removed under that
 * host's save, whose rename would then fail. One named before the tag (an older version's) is judged
 * by its pid here, as then.
 */
async function removeLeftovers(file: string): Promise<void> {
  const base = `${path.basename(file)}.tmp-`;
  const runs = `${path.basename(file)}.${RUN_FILE}`;
  let names: string[];
  try {
    names = await readdir(path.dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    const full = path.join(path.dirname(file), name);
    if (name.startsWith(runs)) {
      // Recover, never delete: only what a run's holder left (its text, or nothing), and only once it is gone.
      if (RUN_ID.test(name.slice(runs.length))) removeIfHolderGone(full);
      continue;
    }
    if (!name.startsWith(base)) continue;
    const [pidText, rest = ''] = name.slice(base.length).split('-');
    const pid = Number(pidText);
    const sep = rest.indexOf('_');
    const tag = sep < 0 ? HOST_TAG : rest.slice(sep + 1);
    if (!Number.isInteger(pid) || (pid === process.pid && tag === HOST_TAG)) continue;
    let gone: boolean;
    if (tag === HOST_TAG) gone = !pidAlive(pid);
    else {
      const st = await statOrNull(full).catch(() => null);
      gone = st !== null && holderGone({ pid, host: `another host (${tag})` }, Date.now() - st.mtimeMs);
    }
    // Not removable (a folder this reader may not write): left for a writer, whose save fails there anyway.
    if (gone) await rm(full, { force: true }).catch(() => undefined);
  }
}
