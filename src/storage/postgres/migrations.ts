/**
 * The schema migrations of migrations.ts, numbered the same, in PostgreSQL's dialect (issue 17), then
 * PostgreSQL's own (POSTGRES_ONLY: 10, indexes that hold a text of any length). The
 * version is the one row of `spark_optimizer_schema`; each migration runs in its own transaction
 * under an advisory lock, so that collectors starting together on a new database migrate it once.
 * A database whose version is newer than the last migration here is refused, never rewritten.
 *
 * Where the embedded file needed a layout of its own (3: environments in shared deflated blocks;
 * 6: stages and executors in shared deflated blocks), PostgreSQL compresses a large text by itself
 * (TOAST), so a row keeps its environment and its summaries text (summaryCodec.ts) in columns.
 * Numbers are DOUBLE PRECISION: exactly a JavaScript number, so a record reads back as it was stored.
 */
import { URL_PASSWORD_PG } from '../../collectors/record';
import { REDACTED } from '../../common/secretText';
import { MIGRATIONS } from '../migrations';
import { environmentMasker, maskCheckTexts, maskEnvironmentText, maskJsonText, maskTagsText } from '../storedSecrets';
import { PostgresError, type SyncPgClient } from './syncClient';

/**
 * NULLS FIRST on nullable columns: SQLite sorts NULL as the smallest value, and the repository orders
 * as SQLite does (NULLs first ascending, last descending); an index in that order serves both
 * directions, PostgreSQL's default (NULLs last) would serve neither.
 */
const APPLICATION_INDEXES = `
  CREATE INDEX apps_end_time ON applications (end_time NULLS FIRST, app_id, attempt_key);
  CREATE INDEX apps_start_time ON applications (start_time NULLS FIRST, app_id, attempt_key);
  CREATE INDEX apps_user ON applications ("user" NULLS FIRST, end_time NULLS FIRST, app_id, attempt_key);
  CREATE INDEX apps_source ON applications (source, end_time NULLS FIRST, app_id, attempt_key);
  CREATE INDEX apps_status ON applications (status, end_time NULLS FIRST, app_id, attempt_key);
  CREATE INDEX apps_day ON applications (substr(COALESCE(end_time, start_time), 1, 10));`;

/** Characters of an app id in the index that pages by id (migration 10): at most 800 bytes of UTF-8. */
export const ID_PREFIX = 200;
/** Characters of a user in index apps_user (migration 10), with end_time: under the 2,704 bytes of an entry. */
export const TEXT_PREFIX = 200;

/** Bytes of a text that migration 10's key indexes hold as it is (indexedKey): two such fit an entry. */
export const KEY_BYTES = 1000;
/**
 * A text as migration 10's key indexes hold it: itself up to KEY_BYTES bytes (nearly every id, name
 * and path, compared as the primary keys compared them, bytewise), else its md5 padded to one byte
 * more than the longest held whole, so that it never equals one (two such are equal only when their
 * md5s are). Hashing every text instead (md5 as uuid) made each write compute several md5s per row.
 * Parenthesized, as an index expression and an ON CONFLICT target name it; the repository's
 * conditions name it the same way, so that they match the index.
 */
export const indexedKey = (text: string): string =>
  `((CASE WHEN octet_length(${text}) <= ${KEY_BYTES} THEN ${text} ELSE rpad(md5(${text}), ${KEY_BYTES + 1}, '.') END) COLLATE "C")`;

/** Text compares bytewise, as in SQLite (sorting, grouping, equality): the two stores order alike. */
const C = (sql: string): string => sql.replace(/\bTEXT\b/g, 'TEXT COLLATE "C"');

/** SQL (its statements run as one simple query), or a step that needs code (it runs in the migration's transaction like SQL does). */
export type PgMigration = string | ((pg: SyncPgClient) => void);

export const PG_MIGRATIONS: readonly PgMigration[] = [
  // 1: applications and the files they were read from.
  C(`CREATE TABLE applications (
     app_id TEXT NOT NULL,
     attempt_key TEXT NOT NULL,            -- attempt_id, or '' for none (as the embedded file keys them)
     attempt_id TEXT,
     app_name TEXT, "user" TEXT,
     submit_time TEXT, start_time TEXT, end_time TEXT, duration_ms DOUBLE PRECISION,
     spark_version TEXT,
     executor_cores DOUBLE PRECISION, executor_memory_mb DOUBLE PRECISION, num_executors DOUBLE PRECISION, driver_memory_mb DOUBLE PRECISION,
     total_tasks DOUBLE PRECISION NOT NULL, failed_tasks DOUBLE PRECISION NOT NULL,
     total_stages DOUBLE PRECISION NOT NULL, failed_stages DOUBLE PRECISION NOT NULL,
     cpu_time_ms DOUBLE PRECISION NOT NULL, input_bytes DOUBLE PRECISION NOT NULL, output_bytes DOUBLE PRECISION NOT NULL,
     shuffle_read_bytes DOUBLE PRECISION NOT NULL, shuffle_write_bytes DOUBLE PRECISION NOT NULL,
     memory_spilled_bytes DOUBLE PRECISION NOT NULL, disk_spilled_bytes DOUBLE PRECISION NOT NULL,
     tags TEXT NOT NULL, environment TEXT NOT NULL, quality TEXT NOT NULL,   -- JSON
     source TEXT NOT NULL, status TEXT NOT NULL,
     record_hash TEXT NOT NULL,
     first_seen TEXT NOT NULL, last_updated TEXT NOT NULL,
     PRIMARY KEY (app_id, attempt_key)
   );
   CREATE TABLE ingested_files (
     path TEXT PRIMARY KEY,
     unit_path TEXT NOT NULL,
     size DOUBLE PRECISION NOT NULL, mtime_ms DOUBLE PRECISION NOT NULL, codec TEXT NOT NULL,
     app_id TEXT, attempt_key TEXT,
     status TEXT NOT NULL,
     last_seen TEXT NOT NULL
   );`),
  // 2: collection runs and the indexes of the Jobs tree's queries.
  C(`CREATE TABLE collection_runs (
     run_id TEXT PRIMARY KEY,
     source TEXT NOT NULL, options TEXT NOT NULL,
     started TEXT NOT NULL, finished TEXT,
     seen DOUBLE PRECISION NOT NULL DEFAULT 0, new DOUBLE PRECISION NOT NULL DEFAULT 0, updated DOUBLE PRECISION NOT NULL DEFAULT 0,
     unchanged DOUBLE PRECISION NOT NULL DEFAULT 0, skipped DOUBLE PRECISION NOT NULL DEFAULT 0, failed DOUBLE PRECISION NOT NULL DEFAULT 0,
     errors TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX runs_started ON collection_runs (started);
   ${APPLICATION_INDEXES}
   CREATE INDEX files_unit ON ingested_files (unit_path);`),
  // 3: (environment blocks) nothing: the environment stays in its column, compressed by the server.
  `SELECT 1`,
  // 4: cpu_time_ms may be NULL (Spark before 2.1 never measured it).
  `ALTER TABLE applications ALTER COLUMN cpu_time_ms DROP NOT NULL`,
  // 5: stages and executors (issue 15): their hash; NULL while none are stored.
  C(`ALTER TABLE applications ADD COLUMN summaries_hash TEXT`),
  // 6: ... and their text (summaryCodec.ts), NULL for none.
  C(`ALTER TABLE applications ADD COLUMN summaries TEXT`),
  // 7: a run's baseline (issue 18): completed runs of its name and source, by time.
  `CREATE INDEX apps_baseline ON applications (app_name, source, (COALESCE(start_time, submit_time, end_time)), app_id, attempt_key) WHERE status = 'completed'`,
  // 8: each attempt's latest regression check (issue 18).
  C(`CREATE TABLE regressions (
     app_id TEXT NOT NULL,
     attempt_key TEXT NOT NULL,
     status TEXT NOT NULL,
     summary TEXT NOT NULL, explanation TEXT NOT NULL,
     check_json TEXT,
     checked_at TEXT NOT NULL,
     PRIMARY KEY (app_id, attempt_key)
   );
   CREATE INDEX regressions_status ON regressions (status, app_id, attempt_key);`),
  // 9: (regressed checks stored packed) nothing: the server compresses a large text by itself, and a
  // reader takes a check stored whole as well as a packed one.
  `SELECT 1`,
  // 10 (PostgreSQL's own): no index holds a text a log or listing gives whole (app id, attempt, name,
  // user, a file's path). A B-tree entry must fit a third of a page, 2,704 bytes after compression,
  // and SQLite has no such limit: one random 3,000-character app name failed every batch of its
  // folder ("index row size 3064 exceeds btree version 4 maximum 2704"). Instead:
  // - keys (and a run's baseline by name) are unique by indexedKey: the text itself up to 1,000
  //   bytes, its md5 beyond. ON CONFLICT names these expressions, and a write also requires the whole
  //   key to be equal, so two keys of one md5 never overwrite each other. The same index finds a row,
  //   and an app id's rows: the repository matches by indexedKey, then by the whole value;
  // - a user's rows by time through a B-tree on the user's first 200 characters (the repository adds
  //   the prefix's equality to the user's);
  // - the orders by time keep their B-trees on the time alone: ties (few) are sorted by id after the
  //   index (incremental sort), and paging by id uses a B-tree on its first 200 characters (ordering
  //   by that prefix, then the id, is ordering by the id: text compares bytewise, COLLATE "C");
  // - regressions keep a hash index on app_id, for the joins on the whole key of repository.ts's
  //   where() and UNCHECKED_RUNS_SQL (SQL shared with the embedded file);
  // - no index on a file's unit_path: no PostgreSQL query looks a file up by it (knownFiles reads all).
  // Every index costs each row written (20,000 records upserted): a first version (md5 of every
  // key, hash indexes on app_id and unit_path) wrote 20,000 records in 1.5-1.7x schema 9's time.
  `ALTER TABLE applications DROP CONSTRAINT applications_pkey;
   CREATE UNIQUE INDEX apps_key ON applications (${indexedKey('app_id')}, ${indexedKey('attempt_key')});
   CREATE INDEX apps_id_order ON applications (left(app_id, ${ID_PREFIX}));
   DROP INDEX apps_end_time, apps_start_time, apps_user, apps_source, apps_status, apps_baseline;
   CREATE INDEX apps_end_time ON applications (end_time NULLS FIRST);
   CREATE INDEX apps_start_time ON applications (start_time NULLS FIRST);
   CREATE INDEX apps_user ON applications (left("user", ${TEXT_PREFIX}) NULLS FIRST, end_time NULLS FIRST);
   CREATE INDEX apps_source ON applications (source, end_time NULLS FIRST);
   CREATE INDEX apps_status ON applications (status, end_time NULLS FIRST);
   CREATE INDEX apps_baseline ON applications (${indexedKey('app_name')}, source, (COALESCE(start_time, submit_time, end_time))) WHERE status = 'completed';
   ALTER TABLE regressions DROP CONSTRAINT regressions_pkey;
   CREATE UNIQUE INDEX regressions_key ON regressions (${indexedKey('app_id')}, ${indexedKey('attempt_key')});
   CREATE INDEX regressions_app_id ON regressions USING hash (app_id);
   DROP INDEX regressions_status;
   CREATE INDEX regressions_status ON regressions (status);
   ALTER TABLE ingested_files DROP CONSTRAINT ingested_files_pkey;
   ALTER TABLE ingested_files ALTER COLUMN path SET NOT NULL;
   CREATE UNIQUE INDEX files_key ON ingested_files (${indexedKey('path')});
   DROP INDEX files_unit;`,
  // 11 (the embedded file's 10): the password of a URL's user info hidden in stored environments and
  // regression checks, by record.ts's rule in PostgreSQL's words (URL_PASSWORD_PG).
  `UPDATE applications SET environment = ${maskedPg('environment')} WHERE environment ~* '${URL_PASSWORD_PG}';
   UPDATE regressions SET summary = ${maskedPg('summary')}, explanation = ${maskedPg('explanation')}, check_json = ${maskedPg('check_json')}
    WHERE summary ~* '${URL_PASSWORD_PG}' OR explanation ~* '${URL_PASSWORD_PG}' OR check_json ~* '${URL_PASSWORD_PG}';`,
  // 12 (the embedded file's 11): a history's failed runs by time, as apps_baseline (10) holds its completed ones.
  `CREATE INDEX apps_failed_history ON applications (${indexedKey('app_name')}, source, (COALESCE(start_time, submit_time, end_time))) WHERE status = 'failed'`,
  // 13 (the embedded file's 12): secrets hidden again where older versions stored them, by the same code
  // (storedSecrets.ts): environments, tags, regression checks, runs' options (cursor scopes) and errors.
  maskStoredSecretsPg,
  // 14 (the embedded file's 13): who runs a collection run, and its heartbeat (the server's time, written
  // every HEARTBEAT_MS while it runs: postgres/repository.ts), so that a run whose process was killed
  // reads as interrupted on every host. Rows of before, and of an older version still writing (its
  // INSERT names its columns), keep NULLs: their state is unknown. New columns without a default: no
  // table rewrite, the lock held for an instant.
  C(`ALTER TABLE collection_runs ADD COLUMN host TEXT, ADD COLUMN pid DOUBLE PRECISION, ADD COLUMN heartbeat TEXT`),
];

/** What each migration does, for an error that says which one failed. */
const PG_MIGRATION_NAMES: readonly string[] = [
  'applications and files',
  'collection runs',
  'environment blocks (nothing here)',
  'cpu_time_ms may be NULL',
  'summaries hash',
  'summaries text',
  'baseline index',
  'regression checks',
  'packed checks (nothing here)',
  'indexes for texts of any length',
  'stored passwords hidden',
  'failed runs by history index',
  'stored secrets hidden again',
  'who runs a collection run',
];

/** Rows a step that needs code reads per round trip (a FETCH of its cursor), and writes per UPDATE. */
const MASK_CHUNK = 2000;

/** Matches a row of `t` to a row of the unnest `v` by key, through the unique index on indexedKey (migration 10). */
const sameKey = (t: string, v: string): string =>
  `${indexedKey(`${t}.app_id`)} = ${indexedKey(`${v}.app_id`)} AND ${indexedKey(`${t}.attempt_key`)} = ${indexedKey(`${v}.attempt_key`)} AND ${t}.app_id = ${v}.app_id AND ${t}.attempt_key = ${v}.attempt_key`;

/**
 * Migration 13: every row's texts through storedSecrets.ts's masks, read through a cursor in chunks of
 * MASK_CHUNK (each FETCH and each UPDATE a short statement), only the rows that change written back,
 * in the migration's one transaction: a process killed half-way leaves the database as it was, at 12.
 */
function maskStoredSecretsPg(pg: SyncPgClient): void {
  const masker = environmentMasker();
  const walk = (name: string, select: string, each: (rows: Record<string, unknown>[]) => { sql: string; params: unknown[][] } | null): void => {
    pg.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${select}`);
    for (;;) {
      const rows = pg.query(`FETCH FORWARD ${MASK_CHUNK} FROM ${name}`).rows;
      if (rows.length === 0) break;
      const write = each(rows);
      if (write !== null && write.params[0]!.length > 0) pg.query(write.sql, write.params as string[][]);
      if (rows.length < MASK_CHUNK) break;
    }
    pg.query(`CLOSE ${name}`);
  };
  walk('mask_apps', 'SELECT app_id, attempt_key, environment, tags FROM applications', (rows) => {
    const cols: string[][] = [[], [], [], []];
    for (const r of rows) {
      const [environment, tags] = [String(r.environment), String(r.tags)];
      const env = environment === '' ? environment : maskEnvironmentText(environment, masker);
      const t = tags === '{}' ? tags : maskTagsText(tags);
      if (env === environment && t === tags) continue;
      [String(r.app_id), String(r.attempt_key), env, t].forEach((v, i) => cols[i]!.push(v));
    }
    return {
      sql: `UPDATE applications a SET environment = v.environment, tags = v.tags FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(app_id, attempt_key, environment, tags) WHERE ${sameKey('a', 'v')}`,
      params: cols,
    };
  });
  walk('mask_checks', 'SELECT app_id, attempt_key, summary, explanation, check_json FROM regressions', (rows) => {
    const cols: (string | null)[][] = [[], [], [], [], []];
    for (const r of rows) {
      const texts = { summary: String(r.summary), explanation: String(r.explanation), check_json: typeof r.check_json === 'string' ? r.check_json : null };
      const masked = maskCheckTexts(texts);
      if (masked === texts) continue;
      [String(r.app_id), String(r.attempt_key), masked.summary, masked.explanation, masked.check_json].forEach((v, i) => cols[i]!.push(v));
    }
    return {
      sql: `UPDATE regressions g SET summary = v.summary, explanation = v.explanation, check_json = v.check_json FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) AS v(app_id, attempt_key, summary, explanation, check_json) WHERE ${sameKey('g', 'v')}`,
      params: cols,
    };
  });
  walk('mask_runs', 'SELECT run_id, options, errors FROM collection_runs', (rows) => {
    const cols: string[][] = [[], [], []];
    for (const r of rows) {
      const [options, errors] = [maskJsonText(String(r.options)), maskJsonText(String(r.errors))];
      if (options !== r.options || errors !== r.errors) [String(r.run_id), options, errors].forEach((v, i) => cols[i]!.push(v));
    }
    return { sql: 'UPDATE collection_runs c SET options = v.options, errors = v.errors FROM unnest($1::text[], $2::text[], $3::text[]) AS v(run_id, options, errors) WHERE c.run_id = v.run_id', params: cols };
  });
}

/** `column` with maskUrlPasswords' rule applied (migration 11). */
function maskedPg(column: string): string {
  return `regexp_replace(${column}, '${URL_PASSWORD_PG}', '\\1${REDACTED}@', 'gi')`;
}

/**
 * Versions that are PostgreSQL's alone (10: indexes that hold any length). Up to 9 the two stores'
 * versions are the same migrations; a later embedded migration gets its counterpart appended here,
 * under the next free PostgreSQL number (a server's version only grows).
 */
const POSTGRES_ONLY = 1;
/** The schema version a current server database has (spark_optimizer_schema). */
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

if (PG_MIGRATIONS.length - POSTGRES_ONLY !== MIGRATIONS.length || PG_MIGRATION_NAMES.length !== PG_MIGRATIONS.length) {
  throw new Error(`PostgreSQL has ${PG_MIGRATIONS.length - POSTGRES_ONLY} counterparts of the embedded file's ${MIGRATIONS.length} migrations: give each one its own`);
}

/** Any constant: the advisory lock every Spark Optimizer takes to migrate. */
const MIGRATION_LOCK = 5_417_001;

function pgSchemaVersion(pg: SyncPgClient): number {
  const exists = pg.query("SELECT to_regclass('spark_optimizer_schema') IS NOT NULL AS e").rows[0]?.e === true;
  if (!exists) return 0;
  return Number(pg.query('SELECT version FROM spark_optimizer_schema').rows[0]?.version ?? 0);
}

const tooNew = (pg: SyncPgClient, found: number): Error =>
  new Error(`${pg.display} has schema version ${found}, written by a newer Spark Optimizer (this one knows up to ${PG_MIGRATIONS.length}). Upgrade Spark Optimizer; the database was left unchanged.`);

/** The tables migration 1 and 2 make, which a database of some other application may have too. */
const OWN_TABLES = ['applications', 'ingested_files', 'collection_runs', 'regressions'];

/** Of OWN_TABLES, those the database has (where an unqualified name finds them, as the migrations' would). */
function tablesNamedAsOurs(pg: SyncPgClient): string[] {
  return pg.query('SELECT t FROM unnest($1::text[]) AS t WHERE to_regclass(quote_ident(t)) IS NOT NULL ORDER BY t', [OWN_TABLES]).rows.map((r) => String(r.t));
}

/** A database without spark_optimizer_schema that has a table of one of our names: another application's. */
const notOurs = (pg: SyncPgClient, tables: readonly string[]): Error =>
  new Error(
    `${pg.display} has ${tables.length === 1 ? 'a table' : 'tables'} named ${tables.join(', ')} that Spark Optimizer did not make (it has no spark_optimizer_schema): ` +
      'it is not Spark Optimizer\'s jobs database, and was neither read nor changed. Give --db a database of its own for the jobs.',
  );

/**
 * The oldest schema a command that only reads (`jobs`, `show`, `compare`, `runs`, `db copy --from`)
 * reads as it is: such a command never writes, so it does not migrate. 10 changed only indexes; 11
 * hid passwords a reader must not show; 12 added an index only (failed runs by history, for the
 * re-checks a collection or a delete makes), so a database at 11 is read as it is, not refused; 13
 * hides secrets again by wider rules, which every reader that shows an environment or a check applies
 * as it reads as well (storedSecrets.ts shownRecord, shownRegression: an older client may still be
 * writing them), so a database at 11 or 12 is read as it is too; 14 adds the columns that say who runs
 * a collection run, which a reader of an older database does without (repository.ts runRow: no owner,
 * the state of an unfinished run unknown), so a database at 11 to 13 is read as it is too.
 */
const READS_FROM = 11;

/**
 * For a command that only reads: throws, saying why and what to do, unless the database holds a
 * schema this version reads (READS_FROM up to the newest). Nothing is created or changed: a database
 * without the schema is said as the embedded file's "no database … yet" is, and one whose tables of
 * our names are another application's is refused.
 */
export function checkPostgresSchema(pg: SyncPgClient): void {
  const current = pgSchemaVersion(pg);
  if (current > PG_MIGRATIONS.length) throw tooNew(pg, current);
  if (current === 0) {
    const foreign = tablesNamedAsOurs(pg);
    if (foreign.length > 0) throw notOurs(pg, foreign);
    throw new Error(`no jobs database at ${pg.display} yet (it has no Spark Optimizer tables, and nothing was created); run \`spark-optimizer collect\` first (or pass --db).`);
  }
  if (current < READS_FROM) {
    throw new Error(
      `${pg.display} has schema version ${current}, older than this Spark Optimizer reads as it is (${READS_FROM} to ${PG_MIGRATIONS.length}); a command that only reads does not upgrade it. ` +
        'Run `spark-optimizer collect` (or `db copy --to`) on it once, which does; it was left unchanged.',
    );
  }
}

/** An error of migration `v + 1` that says which step failed and that the database stayed at `v` (its transaction rolled back). */
function migrationFailed(pg: SyncPgClient, v: number, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  const said = message.startsWith(`${pg.display}: `) ? message.slice(pg.display.length + 2) : message;
  return new PostgresError(
    `${pg.display}: upgrading the schema to version ${v + 1} (${PG_MIGRATION_NAMES[v]}) failed, and the database was left at version ${v}: ${said}`,
    err instanceof PostgresError ? err.code : undefined,
  );
}

/**
 * How long one statement of a migration may run (an index or a rewrite over every row of a large
 * shared store), on the server and in the client's wait: long, but not for ever (a migration waiting
 * on a lock another session never gives up still ends, with an error naming the step).
 */
export const MIGRATION_STATEMENT_MS = 30 * 60_000;

/** Brings the server's schema to `upTo`, one transaction per migration; refuses a newer schema, and another application's tables. */
export function migratePostgres(pg: SyncPgClient, upTo = PG_MIGRATIONS.length): void {
  for (;;) {
    const current = pgSchemaVersion(pg);
    if (current > PG_MIGRATIONS.length) throw tooNew(pg, current);
    if (current >= upTo) return;
    pg.query('BEGIN');
    try {
      // Under the lock, read the version again: another collector may have migrated meanwhile.
      const [, , , read] = pg.batch([
        { sql: `SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})` },
        { sql: 'CREATE TABLE IF NOT EXISTS spark_optimizer_schema (version INTEGER NOT NULL)' },
        { sql: 'INSERT INTO spark_optimizer_schema (version) SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM spark_optimizer_schema)' },
        { sql: 'SELECT version FROM spark_optimizer_schema' },
      ]);
      const v = Number(read!.rows[0]?.version);
      // A new database of ours has none of our tables: the migrations would fail on another's with a
      // bare "relation already exists", or worse, use it.
      if (v === 0) {
        const foreign = tablesNamedAsOurs(pg);
        if (foreign.length > 0) throw notOurs(pg, foreign);
      }
      if (v < upTo && v < PG_MIGRATIONS.length) {
        const step = PG_MIGRATIONS[v]!;
        try {
          // A migration rewrites or indexes every row: on a large store a statement outlasts the
          // connection's statement_timeout (a review: a bare "canceling statement due to statement
          // timeout", the store never upgraded). MIGRATION_STATEMENT_MS in the migration's transaction
          // (LOCAL: the connection's own comes back at its end), and the client waits as long; the
          // migration still holds the advisory lock.
          pg.query(`SET LOCAL statement_timeout = ${MIGRATION_STATEMENT_MS}`);
          pg.withStatementTimeout(MIGRATION_STATEMENT_MS, () => {
            // No parameters: the simple protocol, which runs a migration's several statements.
            if (typeof step === 'string') pg.batch([{ sql: step }, { sql: `UPDATE spark_optimizer_schema SET version = ${v + 1}` }]);
            else {
              step(pg);
              pg.query(`UPDATE spark_optimizer_schema SET version = ${v + 1}`);
            }
          });
        } catch (err) {
          throw migrationFailed(pg, v, err);
        }
      }
      pg.query('COMMIT');
    } catch (err) {
      try {
        pg.query('ROLLBACK');
      } catch {
        // the connection is gone: the server rolled back
      }
      throw err;
    }
  }
}
