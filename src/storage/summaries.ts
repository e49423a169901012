/**
 * The `stages` and `executors` tables (migration 5): an application attempt's summaries as rows
 * keyed by its (app_id, attempt_key), written and read here for repository.ts. Field names are
 * summaries.ts's; a stage's task-duration quantiles are five columns (`task_min_ms` … `task_max_ms`),
 * all NULL when the stage attempt has no ended task.
 */
import * as crypto from 'node:crypto';
import type { Database, SqlValue, Statement } from 'sql.js';
import { STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageSummary } from '../collectors/record/summaries';

const STAGE_FIELDS = [
  'stage_id',
  'attempt_id',
  'name',
  'status',
  'submission_time',
  'completion_time',
  'duration_ms',
  ...STAGE_COUNTERS,
  'peak_execution_memory_bytes',
] as const satisfies readonly (keyof StageSummary)[];
const QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const;
const QUANTILE_COLUMNS = QUANTILES.map((q) => `task_${q}_ms`);
const STAGE_COLUMNS = ['app_id', 'attempt_key', ...STAGE_FIELDS, ...QUANTILE_COLUMNS];

const EXECUTOR_FIELDS = [
  'executor_id',
  'host',
  'total_cores',
  'add_time',
  'remove_time',
  'remove_reason',
  'total_tasks',
  'failed_tasks',
  'gc_time_ms',
  'shuffle_read_bytes',
  'shuffle_write_bytes',
] as const satisfies readonly (keyof ExecutorSummary)[];
const EXECUTOR_COLUMNS = ['app_id', 'attempt_key', ...EXECUTOR_FIELDS];

/** What identifies stored summaries: a re-read that gives the same ones changes nothing. */
export function summariesHash(summaries: AppSummaries): string {
  return crypto.createHash('sha1').update(JSON.stringify(summaries)).digest('base64');
}

function insertSql(table: string, columns: readonly string[]): string {
  return `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

/** Prepared statements that replace or remove an attempt's rows; free() when done. */
export class SummaryWriter {
  private readonly stage: Statement;
  private readonly executor: Statement;
  private readonly dropStages: Statement;
  private readonly dropExecutors: Statement;

  constructor(db: Database) {
    this.stage = db.prepare(insertSql('stages', STAGE_COLUMNS));
    this.executor = db.prepare(insertSql('executors', EXECUTOR_COLUMNS));
    this.dropStages = db.prepare('DELETE FROM stages WHERE app_id = ? AND attempt_key = ?');
    this.dropExecutors = db.prepare('DELETE FROM executors WHERE app_id = ? AND attempt_key = ?');
  }

  /** Removes the attempt's rows. */
  remove(appId: string, key: string): void {
    this.dropStages.run([appId, key]);
    this.dropExecutors.run([appId, key]);
  }

  /** Writes `summaries` as the attempt's rows; `fresh` = it has none yet (a new record), so nothing to remove first. */
  write(appId: string, key: string, summaries: AppSummaries, fresh: boolean): void {
    if (!fresh) this.remove(appId, key);
    for (const s of summaries.stages) {
      const q = s.task_duration_ms;
      this.stage.run([appId, key, ...STAGE_FIELDS.map((f) => s[f] as SqlValue), ...QUANTILES.map((k) => (q ? q[k] : null))]);
    }
    for (const e of summaries.executors) this.executor.run([appId, key, ...EXECUTOR_FIELDS.map((f) => e[f] as SqlValue)]);
  }

  free(): void {
    this.stage.free();
    this.executor.free();
    this.dropStages.free();
    this.dropExecutors.free();
  }
}

/** Rows as arrays in `columns` order: sql.js's getAsObject per row costs twice the whole read of 2,000 stages. */
function rows(db: Database, columns: readonly string[], sql: string, params: SqlValue[]): SqlValue[][] {
  return db.exec(`SELECT ${columns.join(', ')} ${sql}`, params)[0]?.values ?? [];
}

function toStage(r: readonly SqlValue[]): StageSummary {
  const out: Record<string, unknown> = {};
  STAGE_FIELDS.forEach((f, i) => (out[f] = r[i]));
  const at = STAGE_FIELDS.length;
  out.task_duration_ms = r[at] === null ? null : Object.fromEntries(QUANTILES.map((q, i) => [q, r[at + i]]));
  return out as unknown as StageSummary;
}

function toExecutor(r: readonly SqlValue[]): ExecutorSummary {
  return Object.fromEntries(EXECUTOR_FIELDS.map((f, i) => [f, r[i]])) as unknown as ExecutorSummary;
}

/** Executors by numeric id ("2" before "10"), then any other id ("driver") by text. */
export function compareExecutorIds(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Number.NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : Number.NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb || (a < b ? -1 : a > b ? 1 : 0);
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The attempt's stored summaries: stages by (stage_id, attempt_id), executors by numeric id. */
export function readSummaries(db: Database, appId: string, key: string): AppSummaries {
  const where = 'WHERE app_id = ? AND attempt_key = ?';
  const stages = rows(db, [...STAGE_FIELDS, ...QUANTILE_COLUMNS], `FROM stages ${where} ORDER BY stage_id, attempt_id`, [appId, key]).map(toStage);
  const executors = rows(db, EXECUTOR_FIELDS, `FROM executors ${where}`, [appId, key])
    .map(toExecutor)
    .sort((a, b) => compareExecutorIds(a.executor_id, b.executor_id));
  return { stages, executors };
}
