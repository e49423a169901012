/**
 * Loads sql.js (SQLite compiled to WebAssembly) once per process, with its `.wasm` located
 * explicitly: next to the bundle (`dist/sql-wasm.wasm`, copied there by scripts/build.mjs, which is
 * how the packaged extension and the CLI find it) or, when running from source (tests), in the
 * sql.js package.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import initSqlJs, { type Database, type SqlJsStatic, type SqlValue } from 'sql.js';

let loading: Promise<SqlJsStatic> | undefined;
let compiling: Promise<WebAssembly.Module> | undefined;

const PACKAGE = 'sql.js'; // a variable, so bundlers leave the lookup to run time

export function wasmPath(): string {
  const bundled = path.join(__dirname, 'sql-wasm.wasm');
  if (existsSync(bundled)) return bundled;
  return path.join(path.dirname(require.resolve(PACKAGE)), 'sql-wasm.wasm');
}

/**
 * Starts compiling SQLite's WebAssembly (688 KB: decoded and validated; V8 compiles each function on
 * its first call) on V8's background threads, and returns at once. The CLI calls it before it loads
 * a command that opens the database, so that the compile overlaps the command's module set-up
 * instead of being waited for when the database opens (issue #12: 5-10 ms of `collect`'s start-up
 * spent idle). Loading sql.js waits for this compile, whoever started it.
 */
export function compileSqlJs(): Promise<WebAssembly.Module> {
  if (compiling === undefined) {
    // Read now, on this thread (an asynchronous read would be answered only when the module set-up this
    // overlaps ends); a file that cannot be read rejects the promise, as a failed compile does.
    compiling = (async () => WebAssembly.compile(readFileSync(wasmPath())))();
    // A failure is reported by loadSqlJs, when the database is opened; none is reported for a compile nobody waits on.
    compiling.catch(() => undefined);
  }
  return compiling;
}

export function loadSqlJs(): Promise<SqlJsStatic> {
  loading ??= compileSqlJs().then(
    (compiled) =>
      new Promise<SqlJsStatic>((resolve, reject) => {
        initSqlJs({
          // sql.js instantiates what it is handed instead of reading and compiling the file itself.
          instantiateWasm(imports, receive) {
            try {
              receive(new WebAssembly.Instance(compiled, imports));
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
            return {};
          },
        }).then(resolve, reject);
      }),
  );
  return loading;
}

/**
 * Runs `body` in a transaction of `db`: committed when it returns, rolled back when it throws (the
 * error it threw is the one that propagates).
 */
/** Every row `sql` gives with `params` bound, each as an object by column name; the statement is freed. */
export function allRows(db: Database, sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
  const stmt = db.prepare(sql);
  try {
    stmt.bind(params);
    const rows: Record<string, SqlValue>[] = [];
    while (stmt.step()) rows.push(stmt.getAsObject());
    return rows;
  } finally {
    stmt.free();
  }
}

export function transaction<T>(db: Database, body: () => T): T {
  db.exec('BEGIN');
  try {
    const result = body();
    db.exec('COMMIT');
    return result;
  } catch (err) {
    // After some errors ("out of memory" among them) SQLite has rolled back already; the error that
    // caused it is the one to report.
    try {
      db.exec('ROLLBACK');
    } catch {
      // nothing left to undo
    }
    throw err;
  }
}

/** Texts up to this many UTF-16 units are bound as they are: a Buffer costs more than sql.js's loops for them. */
const TEXT_AS_BYTES_FROM = 64;

/**
 * A text to bind where the statement reads the parameter as `CAST(? AS TEXT)`: a long one as its
 * UTF-8 bytes. sql.js binds a string by walking it in JavaScript three times (its UTF-8 length twice,
 * then the copy into the WebAssembly heap); a blob is encoded by Node and copied in with one `set`,
 * and SQLite's CAST makes it the same text again. Storing a 10,000-log collection's regression checks
 * (14 MB of JSON) spent 0.6 s of 0.9 s in those loops (issue #12).
 */
export function textParam(text: string | null): string | Uint8Array | null {
  return text !== null && text.length > TEXT_AS_BYTES_FROM ? Buffer.from(text, 'utf8') : text;
}

/**
 * The parts of sql.js's Emscripten module used below; they are exported by sql.js's build (its own
 * API calls them) but not declared in its types.
 */
interface SqlJsModule extends SqlJsStatic {
  _sqlite3_open: (filename: number, out: number) => number;
  _sqlite3_backup_init(dest: number, destName: number, source: number, sourceName: number): number;
  _sqlite3_backup_step(backup: number, pages: number): number;
  _sqlite3_backup_finish(backup: number): number;
  _sqlite3_errmsg(db: number): number;
  stringToNewUTF8(text: string): number;
  UTF8ToString(pointer: number): string;
  _free(pointer: number): void;
}

/** What sql.js keeps on each Database: SQLite's handle and the in-memory file it opened. */
interface DatabaseInternals {
  db: number | null;
  filename: string;
}

const SQLITE_DONE = 101;

function internals(db: Database): DatabaseInternals {
  const d = db as unknown as DatabaseInternals;
  if (typeof d.db !== 'number' || typeof d.filename !== 'string') throw new Error('this sql.js build does not keep a database handle where 1.16 does; in-memory databases need it');
  return d;
}

/**
 * An in-memory SQLite database (`:memory:`) with sql.js's whole API, holding a copy of `source` when
 * given (SQLite's backup API copies its pages).
 *
 * Why not sql.js's own `new Database(bytes)`: that keeps the database as a file in Emscripten's
 * in-memory file system, where every committed page is a JS write call and the file grows 12.5% at a
 * time into a new buffer with a full copy. An in-memory database keeps its pages in SQLite's own page
 * cache inside the WebAssembly heap, so commits write nothing and nothing is ever regrown by copying:
 * 100k records upserted in calls of 1,000 took 9.3 s before and 3.9 s after, in the same bench run
 * (BENCHMARKS.md). Its limit is the WebAssembly heap's 2 GB; SQLite then answers "out of memory"
 * (JobStore stops short of it, see MAX_DATABASE_BYTES).
 *
 * sql.js's constructor always opens a file named `dbfile_<n>`; for the length of that call its
 * `sqlite3_open` is pointed at `:memory:` instead (sql.js looks the function up on each call). Its
 * `close()` removes that file, so an empty one is made by attaching and detaching it.
 */
export function memoryDatabase(SQL: SqlJsStatic, source?: Database): Database {
  const M = SQL as SqlJsModule;
  const open = M._sqlite3_open;
  const name = M.stringToNewUTF8(':memory:');
  let db: Database;
  M._sqlite3_open = (_filename, out) => open(name, out);
  try {
    db = new SQL.Database();
  } finally {
    M._sqlite3_open = open;
    M._free(name);
  }
  try {
    const target = internals(db);
    db.run('ATTACH ? AS placeholder', [target.filename]);
    db.run('DETACH placeholder');
    // An in-memory main database has no file name; a sql.js that no longer looks sqlite3_open up per call would have opened a file.
    if (db.exec('PRAGMA database_list')[0]?.values[0]?.[2] !== '') throw new Error('this sql.js did not open an in-memory database the way 1.16 does');
    if (source) copyPages(M, source, db);
  } catch (err) {
    try {
      db.close();
    } catch {
      // the error that matters is the first one
    }
    throw err;
  }
  return db;
}

/** Copies every page of `source` into the empty `target` with SQLite's backup API. */
function copyPages(M: SqlJsModule, source: Database, target: Database): void {
  const pageSize = Number(source.exec('PRAGMA page_size')[0]?.values[0]?.[0]);
  // An in-memory target must have the source's page size before the copy.
  if (Number.isInteger(pageSize) && pageSize > 0) target.run(`PRAGMA page_size = ${pageSize}`);
  const to = internals(target).db!;
  const main = M.stringToNewUTF8('main');
  try {
    const backup = M._sqlite3_backup_init(to, main, internals(source).db!, main);
    if (backup === 0) throw new Error(M.UTF8ToString(M._sqlite3_errmsg(to)));
    let rc: number;
    try {
      rc = M._sqlite3_backup_step(backup, -1);
    } finally {
      M._sqlite3_backup_finish(backup);
    }
    if (rc !== SQLITE_DONE) throw new Error(`copying the database into memory failed: ${M.UTF8ToString(M._sqlite3_errmsg(to))}`);
  } finally {
    M._free(main);
  }
}
