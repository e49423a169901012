/**
 * Summaries as schema 5 stored them: rows of `stages` and `executors`, written as that version's
 * SummaryWriter wrote them (INSERT OR REPLACE of every field, a stage's quantiles in five columns),
 * and `summaries_hash` set on the application. For the tests and the bench of migration 6.
 */
import type { Database, SqlValue } from 'sql.js';
import { STAGE_COUNTERS, type AppSummaries } from '../../src/collectors/record/summaries';
import { MIGRATIONS } from '../../src/storage/migrations';
import { jsonSummariesHash } from '../../src/storage/summaries';

const STAGE_FIELDS = ['stage_id', 'attempt_id', 'name', 'status', 'submission_time', 'completion_time', 'duration_ms', ...STAGE_COUNTERS, 'peak_execution_memory_bytes'] as const;
const QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const;
const EXECUTOR_FIELDS = ['executor_id', 'host', 'total_cores', 'add_time', 'remove_time', 'remove_reason', 'total_tasks', 'failed_tasks', 'gc_time_ms', 'shuffle_read_bytes', 'shuffle_write_bytes'] as const;

/** Writes an attempt's summaries as schema-5 rows into a database of schema 5, and its summaries_hash. */
export function writeV5Summaries(db: Database, appId: string, attemptKey: string, summaries: AppSummaries): void {
  const stageColumns = ['app_id', 'attempt_key', ...STAGE_FIELDS, ...QUANTILES.map((q) => `task_${q}_ms`)];
  const executorColumns = ['app_id', 'attempt_key', ...EXECUTOR_FIELDS];
  const insert = (table: string, columns: string[]): string => `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
  const stage = db.prepare(insert('stages', stageColumns));
  const executor = db.prepare(insert('executors', executorColumns));
  try {
    for (const s of summaries.stages) {
      const q = s.task_duration_ms;
      stage.run([appId, attemptKey, ...STAGE_FIELDS.map((f) => s[f] as SqlValue), ...QUANTILES.map((k) => (q ? q[k] : null))]);
    }
    for (const e of summaries.executors) executor.run([appId, attemptKey, ...EXECUTOR_FIELDS.map((f) => e[f] as SqlValue)]);
  } finally {
    stage.free();
    executor.free();
  }
  db.run('UPDATE applications SET summaries_hash = ? WHERE app_id = ? AND attempt_key = ?', [jsonSummariesHash(summaries), appId, attemptKey]);
}

/**
 * A database of the current schema holding records without summaries, made into the one schema 5
 * would have written: what later migrations added dropped (tables, indexes, the columns of
 * applications after summaries_hash), the summaries' tables of migration 5 made, version 5. Then
 * writeV5Summaries adds rows.
 */
export function asSchema5(db: Database): void {
  const v5 = MIGRATIONS[4];
  if (typeof v5 !== 'string') throw new Error('migration 5 is SQL');
  const names = (type: string): string[] => (db.exec(`SELECT name FROM sqlite_master WHERE type = '${type}' AND sql IS NOT NULL`)[0]?.values ?? []).map((r) => String(r[0]));
  const V5_TABLES = ['applications', 'ingested_files', 'collection_runs', 'environment_blocks'];
  const V5_INDEXES = ['runs_started', 'apps_end_time', 'apps_start_time', 'apps_user', 'apps_source', 'apps_status', 'apps_day', 'files_unit', 'apps_env_block'];
  for (const index of names('index')) if (!V5_INDEXES.includes(index)) db.exec(`DROP INDEX ${index}`);
  for (const table of names('table')) if (!V5_TABLES.includes(table)) db.exec(`DROP TABLE ${table}`);
  const columns = (db.exec('PRAGMA table_info(applications)')[0]?.values ?? []).map((r) => String(r[1]));
  for (const column of columns.slice(columns.indexOf('summaries_hash') + 1)) db.exec(`ALTER TABLE applications DROP COLUMN ${column}`);
  db.exec(`${v5.slice(0, v5.indexOf('ALTER TABLE'))}; PRAGMA user_version = 5;`);
}
