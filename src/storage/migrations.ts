/**
 * Numbered schema migrations. `PRAGMA user_version` is the schema version; a database whose
 * version is newer than the last migration here is refused, never rewritten.
 * Never edit a released migration: add the next one.
 */
import { inflateRawSync } from 'node:zlib';
import type { Database, SqlValue } from 'sql.js';
import { SCHEMA_IMAGE } from './schemaImage';
import { allRows, transaction } from './sqlJs';
import { moveSummaryRowsIntoBlocks } from './summaries';
import { packCheck } from '../analysis/regression';
import { attemptKey } from './keys';
import { packEnvironments, storedRegression, type StoredRegression } from './repository';
import { maskUrlPasswords } from '../common/secretText';
import { environmentMasker, maskCheckTexts, maskEnvironmentText, maskJsonText, maskTagsText } from './storedSecrets';

/** SQL, or a step that needs code (it runs in the migration's transaction like SQL does). */
export type Migration = string | ((db: Database) => void);

export const MIGRATIONS: readonly Migration[] = [
  // 1: applications and the files they were read from.
  `CREATE TABLE applications (
     app_id TEXT NOT NULL,
     attempt_key TEXT NOT NULL,            -- attempt_id, or '' for none (SQLite keys treat NULLs as distinct)
     attempt_id TEXT,
     app_name TEXT, user TEXT,
     submit_time TEXT, start_time TEXT, end_time TEXT, duration_ms INTEGER,
     spark_version TEXT,
     executor_cores INTEGER, executor_memory_mb INTEGER, num_executors INTEGER, driver_memory_mb INTEGER,
     total_tasks INTEGER NOT NULL, failed_tasks INTEGER NOT NULL,
     total_stages INTEGER NOT NULL, failed_stages INTEGER NOT NULL,
     cpu_time_ms INTEGER NOT NULL, input_bytes INTEGER NOT NULL, output_bytes INTEGER NOT NULL,
     shuffle_read_bytes INTEGER NOT NULL, shuffle_write_bytes INTEGER NOT NULL,
     memory_spilled_bytes INTEGER NOT NULL, disk_spilled_bytes INTEGER NOT NULL,
     tags TEXT NOT NULL, environment TEXT NOT NULL, quality TEXT NOT NULL,   -- JSON
     source TEXT NOT NULL, status TEXT NOT NULL,
     record_hash TEXT NOT NULL,
     first_seen TEXT NOT NULL, last_updated TEXT NOT NULL,
     PRIMARY KEY (app_id, attempt_key)
   );
   CREATE TABLE ingested_files (
     path TEXT PRIMARY KEY,
     unit_path TEXT NOT NULL,              -- the file or folder holding the attempt
     size INTEGER NOT NULL, mtime_ms REAL NOT NULL, codec TEXT NOT NULL,
     app_id TEXT, attempt_key TEXT,
     status TEXT NOT NULL,                 -- ok | problems
     last_seen TEXT NOT NULL
   );`,
  // 2: collection runs (the monitoring record) and indexes for the Jobs tree's queries.
  `CREATE TABLE collection_runs (
     run_id TEXT PRIMARY KEY,
     source TEXT NOT NULL, options TEXT NOT NULL,
     started TEXT NOT NULL, finished TEXT,
     seen INTEGER NOT NULL DEFAULT 0, new INTEGER NOT NULL DEFAULT 0, updated INTEGER NOT NULL DEFAULT 0,
     unchanged INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
     errors TEXT NOT NULL DEFAULT '[]'
   );
   CREATE INDEX runs_started ON collection_runs (started);
   CREATE INDEX apps_end_time ON applications (end_time, app_id, attempt_key);
   CREATE INDEX apps_start_time ON applications (start_time, app_id, attempt_key);
   CREATE INDEX apps_user ON applications (user, end_time, app_id, attempt_key);
   CREATE INDEX apps_source ON applications (source, end_time, app_id, attempt_key);
   CREATE INDEX apps_status ON applications (status, end_time, app_id, attempt_key);
   CREATE INDEX apps_day ON applications (substr(COALESCE(end_time, start_time), 1, 10));
   CREATE INDEX files_unit ON ingested_files (unit_path);`,
  // 3: environments stored in shared deflated blocks, one per group of records written together
  // (repository.ts). Rows of before keep theirs in `environment` (env_block NULL); newer rows have ''.
  `CREATE TABLE environment_blocks (
     id INTEGER PRIMARY KEY,
     data BLOB NOT NULL                    -- deflated concatenation of environment JSON texts
   );
   ALTER TABLE applications ADD COLUMN env_block INTEGER;
   ALTER TABLE applications ADD COLUMN env_start INTEGER;   -- byte range of this row's JSON in the inflated block
   ALTER TABLE applications ADD COLUMN env_end INTEGER;
   CREATE INDEX apps_env_block ON applications (env_block) WHERE env_block IS NOT NULL;`,
  // 4: cpu_time_ms may be NULL: Spark before 2.1 never measured it (issue #12). SQLite cannot drop a
  // NOT NULL constraint, so the table is rebuilt with its columns in the same order. Logs stored
  // with CPU time 0 are forgotten as read, so the next collection reads them again and says unknown
  // where Spark did not measure it.
  `CREATE TABLE applications_v4 (
     app_id TEXT NOT NULL,
     attempt_key TEXT NOT NULL,
     attempt_id TEXT,
     app_name TEXT, user TEXT,
     submit_time TEXT, start_time TEXT, end_time TEXT, duration_ms INTEGER,
     spark_version TEXT,
     executor_cores INTEGER, executor_memory_mb INTEGER, num_executors INTEGER, driver_memory_mb INTEGER,
     total_tasks INTEGER NOT NULL, failed_tasks INTEGER NOT NULL,
     total_stages INTEGER NOT NULL, failed_stages INTEGER NOT NULL,
     cpu_time_ms INTEGER, input_bytes INTEGER NOT NULL, output_bytes INTEGER NOT NULL,
     shuffle_read_bytes INTEGER NOT NULL, shuffle_write_bytes INTEGER NOT NULL,
     memory_spilled_bytes INTEGER NOT NULL, disk_spilled_bytes INTEGER NOT NULL,
     tags TEXT NOT NULL, environment TEXT NOT NULL, quality TEXT NOT NULL,
     source TEXT NOT NULL, status TEXT NOT NULL,
     record_hash TEXT NOT NULL,
     first_seen TEXT NOT NULL, last_updated TEXT NOT NULL,
     env_block INTEGER, env_start INTEGER, env_end INTEGER,
     PRIMARY KEY (app_id, attempt_key)
   );
   INSERT INTO applications_v4 SELECT * FROM applications;
   DROP TABLE applications;
   ALTER TABLE applications_v4 RENAME TO applications;
   CREATE INDEX apps_end_time ON applications (end_time, app_id, attempt_key);
   CREATE INDEX apps_start_time ON applications (start_time, app_id, attempt_key);
   CREATE INDEX apps_user ON applications (user, end_time, app_id, attempt_key);
   CREATE INDEX apps_source ON applications (source, end_time, app_id, attempt_key);
   CREATE INDEX apps_status ON applications (status, end_time, app_id, attempt_key);
   CREATE INDEX apps_day ON applications (substr(COALESCE(end_time, start_time), 1, 10));
   CREATE INDEX apps_env_block ON applications (env_block) WHERE env_block IS NOT NULL;
   DELETE FROM ingested_files WHERE EXISTS (
     SELECT 1 FROM applications a
     WHERE a.app_id = ingested_files.app_id AND a.attempt_key = ingested_files.attempt_key AND a.cpu_time_ms = 0 AND a.total_tasks > 0
   );`,
  // 5: stage attempts and executors below each application attempt (issue 15, collectors/record/summaries.ts),
  // keyed by the application's (app_id, attempt_key) and replaced with it by upserts (repository.ts).
  // WITHOUT ROWID: a row lives once, in its key's b-tree, and an application's rows are one range of it.
  // `summaries_hash` is NULL while an application has none stored. The files of stored applications are
  // forgotten as read (as in 4), so the next collection reads them again and stores their summaries;
  // the files of records retention dropped stay known, so those are not imported again.
  `CREATE TABLE stages (
     app_id TEXT NOT NULL, attempt_key TEXT NOT NULL,
     stage_id INTEGER NOT NULL, attempt_id INTEGER NOT NULL,
     name TEXT, status TEXT NOT NULL,
     submission_time TEXT, completion_time TEXT, duration_ms INTEGER,
     num_tasks INTEGER NOT NULL, failed_tasks INTEGER NOT NULL, killed_tasks INTEGER NOT NULL,
     input_bytes INTEGER NOT NULL, output_bytes INTEGER NOT NULL,
     shuffle_read_bytes INTEGER NOT NULL, shuffle_write_bytes INTEGER NOT NULL,
     memory_spilled_bytes INTEGER NOT NULL, disk_spilled_bytes INTEGER NOT NULL,
     executor_run_time_ms INTEGER NOT NULL, cpu_time_ms INTEGER NOT NULL, gc_time_ms INTEGER NOT NULL,
     peak_execution_memory_bytes INTEGER,
     task_min_ms INTEGER, task_p25_ms INTEGER, task_p50_ms INTEGER, task_p75_ms INTEGER, task_max_ms INTEGER,  -- all NULL: no ended task
     PRIMARY KEY (app_id, attempt_key, stage_id, attempt_id)
   ) WITHOUT ROWID;
   CREATE TABLE executors (
     app_id TEXT NOT NULL, attempt_key TEXT NOT NULL,
     executor_id TEXT NOT NULL,
     host TEXT, total_cores INTEGER,
     add_time TEXT, remove_time TEXT, remove_reason TEXT,
     total_tasks INTEGER NOT NULL, failed_tasks INTEGER NOT NULL, gc_time_ms INTEGER NOT NULL,
     shuffle_read_bytes INTEGER NOT NULL, shuffle_write_bytes INTEGER NOT NULL,
     PRIMARY KEY (app_id, attempt_key, executor_id)
   ) WITHOUT ROWID;
   ALTER TABLE applications ADD COLUMN summaries_hash TEXT;
   DELETE FROM ingested_files WHERE EXISTS (
     SELECT 1 FROM applications a WHERE a.app_id = ingested_files.app_id AND a.attempt_key = ingested_files.attempt_key
   );`,
  // 6: an attempt's stages and executors as one text (summaryCodec.ts), the texts of the attempts an
  // upsert writes deflated together in shared blocks (summaries.ts), instead of rows: the bench's
  // 50-stage / 20-executor attempt took 11.7 KB as rows, 1.8 KB this way (BENCHMARKS.md). Each row of
  // applications keeps its block and byte range; rows of 5 are moved into blocks, their tables dropped
  // (migrate() then VACUUMs, so that the file shrinks).
  (db) => {
    db.exec(`CREATE TABLE summary_blocks (
       id INTEGER PRIMARY KEY,
       data BLOB NOT NULL                  -- deflated concatenation of summaryCodec.ts texts
     );
     ALTER TABLE applications ADD COLUMN summaries_block INTEGER;    -- NULL: none stored (summaries_hash NULL too)
     ALTER TABLE applications ADD COLUMN summaries_start INTEGER;    -- byte range of this row's text in the inflated block
     ALTER TABLE applications ADD COLUMN summaries_end INTEGER;
     CREATE INDEX apps_summaries_block ON applications (summaries_block) WHERE summaries_block IS NOT NULL;`);
    moveSummaryRowsIntoBlocks(db);
  },
  // 7: a run's baseline (issue 18, repository.ts baselineRuns): the completed runs of its name and source
  // that started before it, newest first. The index holds them in that order, so a baseline of N runs
  // reads N index entries instead of every run of the name (an hourly job has thousands).
  `CREATE INDEX apps_baseline ON applications (app_name, source, COALESCE(start_time, submit_time, end_time), app_id, attempt_key) WHERE status = 'completed';`,
  // 8: each attempt's latest regression check (issue 18, analysis/regression.ts), stored by the collection
  // that read it (pipeline.ts), keyed like applications and removed with its row (repository.ts delete,
  // retention, and an upsert that replaces the record). `status` is indexed for `jobs --regressed`.
  // Runs stored before this migration have none until a collection reads them again. check_json held
  // the whole check here; since 9 it holds it packed (the column's note below is this version's).
  `CREATE TABLE regressions (
     app_id TEXT NOT NULL,
     attempt_key TEXT NOT NULL,            -- as in applications
     status TEXT NOT NULL,                 -- regressed | steady | unchecked
     summary TEXT NOT NULL, explanation TEXT NOT NULL,
     check_json TEXT,                      -- a regressed run's whole RegressionCheck (metrics, baseline runs, changes); NULL for the others
     checked_at TEXT NOT NULL,
     PRIMARY KEY (app_id, attempt_key)
   );
   CREATE INDEX regressions_status ON regressions (status, app_id, attempt_key);`,
  // 9: a regressed check is stored packed (regression.ts packCheck): what cannot be derived again,
  // about a third of the whole check's JSON. Checks stored whole are packed here; a reader takes either.
  repackChecks,
  // 10: the password of a URL's user info (jdbc:mysql://hive:PASSWORD@db/…) hidden where collections
  // before record.ts's maskUrlPasswords stored it: the environments and the regression checks, which
  // quote the properties that changed. Record hashes are left: a record read again is then 'updated'.
  maskStoredPasswords,
  // 11: a history's failed runs by time (issue 18, repository.ts laterRuns), as apps_baseline (7) holds its
  // completed ones: a run stored into or removed from a history makes the runs after it checked again,
  // the failed ones too (regression.ts checks them), and that stays an index seek per history. An index
  // only: a command that only reads needs it not (postgres/migrations.ts READS_FROM).
  `CREATE INDEX apps_failed_history ON applications (app_name, source, COALESCE(start_time, submit_time, end_time), app_id, attempt_key) WHERE status = 'failed';`,
  // 12: secrets hidden again, by the rules of the secrets review (common/secretText.ts, collectors/record.ts),
  // where older versions stored them: environments (redactSecrets: credential-named keys such as
  // spark.executorEnv.DB_PASS, `-Dfoo.pwd=`, `?auth=`, token-shaped values), tags (redactTags), the
  // regression checks that quote the properties that changed, and the runs' options (their cursor
  // scopes too, which then match what a collection computes now) and errors. Record hashes are left,
  // as in 10.
  maskStoredSecrets,
  // 13: who runs a collection run, so that one whose process was killed (Ctrl-C twice, out of memory, its
  // editor closed) reads as interrupted, not as going for ever (repository.ts runState, by fileLock.ts's
  // rule for a lock's holder). Runs of before, and runs an older version still records into a store it
  // shares (its INSERT names its columns), keep NULLs: their state is unknown.
  `ALTER TABLE collection_runs ADD COLUMN host TEXT;        -- the host of the process that runs it
   ALTER TABLE collection_runs ADD COLUMN pid INTEGER;      -- and its pid there
   ALTER TABLE collection_runs ADD COLUMN heartbeat TEXT;   -- its last sign of life in the row: its start, then each save (the file it holds beside the database says more: jobStore.ts)`,
];

/**
 * Migration 12: every stored environment, tag set, regression check and run record through
 * storedSecrets.ts's masks. A text that holds nothing to mask is left as it is (not even written).
 */
function maskStoredSecrets(db: Database): void {
  const rows = (sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] => allRows(db, sql, params);
  const update = (sql: string, each: (run: (params: SqlValue[]) => void) => void): void => {
    const stmt = db.prepare(sql);
    try {
      each((params) => stmt.run(params));
    } finally {
      stmt.free();
    }
  };
  const masker = environmentMasker();
  // Environments in blocks: a block with a member that changes is packed again from its members' texts.
  const members = rows('SELECT env_block, rowid AS rid, env_start, env_end FROM applications WHERE env_block IS NOT NULL ORDER BY env_block, env_start');
  const blockData = db.prepare('SELECT data FROM environment_blocks WHERE id = ?');
  try {
    update('UPDATE environment_blocks SET data = ? WHERE id = ?', (setBlock) =>
      // By rowid (applications is a rowid table): one b-tree search a row, not the key's index and then the row.
      update('UPDATE applications SET env_start = ?, env_end = ? WHERE rowid = ?', (setRange) => {
        for (let i = 0; i < members.length; ) {
          const id = members[i]!.env_block!;
          let j = i;
          while (j < members.length && members[j]!.env_block === id) j++;
          const group = members.slice(i, j);
          i = j;
          blockData.bind([id]);
          const data = blockData.step() ? blockData.get()[0] : null;
          blockData.reset();
          if (!(data instanceof Uint8Array)) continue;
          const block = inflateRawSync(data);
          const texts = group.map((m) => block.toString('utf8', Number(m.env_start), Number(m.env_end)));
          const masked = texts.map((t) => maskEnvironmentText(t, masker));
          if (masked.every((t, k) => t === texts[k])) continue;
          const packed = packEnvironments(masked);
          setBlock([packed.data, id]);
          group.forEach((m, k) => {
            const [start, end] = packed.ranges[k]!;
            if (start !== m.env_start || end !== m.env_end) setRange([start, end, m.rid!]);
          });
        }
      }),
    );
  } finally {
    blockData.free();
  }
  // Rows from before blocks (3) keep their environment in its column, plain or deflated; it is written back plain.
  update('UPDATE applications SET environment = ? WHERE app_id = ? AND attempt_key = ?', (set) => {
    for (const r of rows("SELECT app_id, attempt_key, environment FROM applications WHERE env_block IS NULL AND environment != ''")) {
      const text = r.environment instanceof Uint8Array ? inflateRawSync(r.environment).toString('utf8') : String(r.environment);
      const masked = maskEnvironmentText(text, masker);
      if (masked !== text) set([masked, r.app_id!, r.attempt_key!]);
    }
  });
  update('UPDATE applications SET tags = ? WHERE app_id = ? AND attempt_key = ?', (set) => {
    for (const r of rows("SELECT app_id, attempt_key, tags FROM applications WHERE tags != '{}'")) {
      const masked = maskTagsText(String(r.tags));
      if (masked !== r.tags) set([masked, r.app_id!, r.attempt_key!]);
    }
  });
  update('UPDATE regressions SET summary = ?, explanation = ?, check_json = ? WHERE app_id = ? AND attempt_key = ?', (set) => {
    for (const r of rows('SELECT app_id, attempt_key, summary, explanation, check_json FROM regressions')) {
      const texts = { summary: String(r.summary), explanation: String(r.explanation), check_json: typeof r.check_json === 'string' ? r.check_json : null };
      const masked = maskCheckTexts(texts);
      if (masked !== texts) set([masked.summary, masked.explanation, masked.check_json, r.app_id!, r.attempt_key!]);
    }
  });
  update('UPDATE collection_runs SET options = ?, errors = ? WHERE run_id = ?', (set) => {
    for (const r of rows('SELECT run_id, options, errors FROM collection_runs')) {
      const [options, errors] = [maskJsonText(String(r.options)), maskJsonText(String(r.errors))];
      if (options !== r.options || errors !== r.errors) set([options, errors, r.run_id!]);
    }
  });
}

/** Migration 10: every stored environment and regression check through maskUrlPasswords. */
function maskStoredPasswords(db: Database): void {
  const rows = (sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] => allRows(db, sql, params);
  // A block that holds one is packed again from its rows' texts, their byte ranges with it.
  for (const { id, data } of rows('SELECT id, data FROM environment_blocks')) {
    const block = inflateRawSync(data as Uint8Array);
    const whole = block.toString('utf8');
    if (maskUrlPasswords(whole) === whole) continue;
    const members = rows('SELECT app_id, attempt_key, env_start, env_end FROM applications WHERE env_block = ? ORDER BY env_start', [id!]);
    const packed = packEnvironments(members.map((m) => maskUrlPasswords(block.toString('utf8', Number(m.env_start), Number(m.env_end)))));
    db.run('UPDATE environment_blocks SET data = ? WHERE id = ?', [packed.data, id!]);
    members.forEach((m, i) => db.run('UPDATE applications SET env_start = ?, env_end = ? WHERE app_id = ? AND attempt_key = ?', [...packed.ranges[i]!, m.app_id!, m.attempt_key!]));
  }
  // Rows from before blocks (3) keep their environment in its column, plain or deflated; it is written back plain.
  for (const r of rows("SELECT app_id, attempt_key, environment FROM applications WHERE env_block IS NULL AND environment != ''")) {
    const text = r.environment instanceof Uint8Array ? inflateRawSync(r.environment).toString('utf8') : String(r.environment);
    const masked = maskUrlPasswords(text);
    if (masked !== text) db.run('UPDATE applications SET environment = ? WHERE app_id = ? AND attempt_key = ?', [masked, r.app_id!, r.attempt_key!]);
  }
  for (const r of rows('SELECT app_id, attempt_key, summary, explanation, check_json FROM regressions')) {
    const texts = [r.summary, r.explanation, r.check_json].map((t) => (typeof t === 'string' ? maskUrlPasswords(t) : t));
    if (texts.some((t, i) => t !== [r.summary, r.explanation, r.check_json][i])) db.run('UPDATE regressions SET summary = ?, explanation = ?, check_json = ? WHERE app_id = ? AND attempt_key = ?', [...(texts as SqlValue[]), r.app_id!, r.attempt_key!]);
  }
}

/** Migration 9: each regressed check stored whole, packed; read as the store reads a check (storedRegression). */
function repackChecks(db: Database): void {
  const stored: StoredRegression[] = allRows(db, `SELECT * FROM regressions WHERE check_json IS NOT NULL AND check_json NOT LIKE '{"v":%'`).map(storedRegression);
  const update = db.prepare('UPDATE regressions SET check_json = ? WHERE app_id = ? AND attempt_key = ?');
  try {
    for (const s of stored) update.run([packCheck(s.check!), s.app_id, attemptKey(s.attempt_id)]);
  } finally {
    update.free();
  }
}

export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  constructor(file: string, found: number) {
    super(
      `${file} has schema version ${found}, written by a newer Spark Optimizer (this one knows up to ${SCHEMA_VERSION}). ` +
        'Upgrade Spark Optimizer or use another database file; this one was left unchanged.',
    );
    this.name = 'SchemaTooNewError';
  }
}

export function schemaVersion(db: Database): number {
  const v = db.exec('PRAGMA user_version')[0]?.values[0]?.[0];
  return typeof v === 'number' ? v : 0;
}

/**
 * What the schema is, as SQLite keeps it: the CREATE statement of each table and index, in the
 * order they were made (an index after its table). scripts/writeSchemaImage.ts writes it for the
 * migrations' result to schemaImage.ts; a new database is made from that (migrate below).
 */
export function schemaStatements(db: Database): string[] {
  return (db.exec('SELECT sql FROM sqlite_schema WHERE sql IS NOT NULL ORDER BY rowid')[0]?.values ?? []).map((row) => String(row[0]));
}

/**
 * Brings `db` to the current schema in one transaction per migration (a migration that fails leaves
 * the database at the version before it; the file on disk changes only when the store saves). When
 * the migrations freed more than a quarter of the pages (6 drops the row tables of summaries), the
 * database is rebuilt without them (VACUUM), so that its file shrinks; if that fails, free pages
 * are only left for SQLite to reuse.
 *
 * A new database (version 0, nothing in it) is given the schema the migrations end with in one
 * transaction instead, from schemaImage.ts, which the build generates from MIGRATIONS: running all
 * of them (tables made, rebuilt and dropped, then a VACUUM) took 13 ms of a first `collect`'s ~210
 * (issue #12: start-up). test/schemaImage.test.ts checks the image against the migrations; an image
 * of another version than SCHEMA_VERSION is not used. `viaImage: false` runs the migrations anyway
 * (the image's generator and that test).
 */
/**
 * Steps that only mask what older versions stored (10, 12). Every reader masks what it shows the same
 * way (storedSecrets.ts shownRecord, shownCheck, …: an older client may write into a migrated shared
 * store), so a store opened only to read, and never saved, skips their rewrite: it took 2-4 s per
 * 100,000 records, paid by each `jobs` or `show` until a writer saved the file.
 */
const MASKING_STEPS: ReadonlySet<Migration> = new Set([maskStoredPasswords, maskStoredSecrets]);

/**
 * Returns whether a masking step's rewrite was left out (`readOnly`): such a store must never be
 * saved, or its file would say the step ran.
 */
export function migrate(db: Database, file: string, upTo = SCHEMA_VERSION, viaImage = true, readOnly = false): boolean {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(file, current);
  if (viaImage && current === 0 && upTo === SCHEMA_VERSION && SCHEMA_IMAGE.version === SCHEMA_VERSION && isEmpty(db)) {
    transaction(db, () => db.exec(`${SCHEMA_IMAGE.statements.map((sql) => `${sql};\n`).join('')}PRAGMA user_version = ${SCHEMA_VERSION}`));
    return false;
  }
  let skipped = false;
  for (let v = current; v < upTo; v++) {
    const step = MIGRATIONS[v]!;
    transaction(db, () => {
      if (typeof step === 'string') db.exec(step);
      else if (readOnly && MASKING_STEPS.has(step)) skipped = true;
      else step(db);
      db.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
  if (current < upTo && pragma(db, 'freelist_count') * 4 > pragma(db, 'page_count')) {
    try {
      db.exec('VACUUM');
    } catch {
      // Out of memory for the copy VACUUM makes, say: the database is as it was, with its free pages.
    }
  }
  return skipped;
}

/** No table, index or anything else in it. */
function isEmpty(db: Database): boolean {
  return db.exec('SELECT 1 FROM sqlite_schema LIMIT 1').length === 0;
}

function pragma(db: Database, name: string): number {
  return Number(db.exec(`PRAGMA ${name}`)[0]?.values[0]?.[0] ?? 0);
}
