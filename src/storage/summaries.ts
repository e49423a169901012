/**
 * Stage and executor summaries in the store (migration 6): each attempt's as one text
 * (summaryCodec.ts); the texts of the attempts an upsert writes are deflated together into blocks
 * of `summary_blocks`, as their environments are (repository.ts), and each attempt's row keeps its
 * block and byte range (summaries_block, summaries_start, summaries_end; NULL: none stored).
 *
 * Why shared blocks rather than one deflated text per attempt: the bench's 50-stage / 20-executor
 * attempt deflates to about 2.4 KB alone, and a 4 KB SQLite page holds only one cell that size, so
 * each took a page (+4.1 KB per attempt, tried); 16 attempts deflated together take a quarter less
 * (stage names and hosts repeat from run to run) and fill whole overflow pages: +1.8 KB per attempt,
 * against 11.7 KB as migration 5's rows (BENCHMARKS.md, "What they add to the database"). Reading
 * one attempt inflates its block: at most BLOCK_TEXT_BYTES of text.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, SqlValue } from 'sql.js';
import { stageRows, stageTableOf } from '../collectors/record/stageTable';
import { STAGE_COUNTERS, type AppSummaries, type ExecutorSummary, type StageSummary } from '../collectors/record/summaries';
import { decodeSummaries, encodeSummaryBytes } from './summaryCodec';
import { sha1 } from '../common/sha1';

/** An attempt's summaries as a store writes them: summaryCodec's text (UTF-8), and what identifies it. */
export interface SummariesToStore {
  readonly summaries: AppSummaries;
  readonly bytes: Buffer;
  /** TEXT_HASH + the text's SHA-1 (base64): a re-read that gives the same text changes nothing. */
  readonly hash: string;
}

/**
 * Marks a hash of the stored text. Before it, summaries_hash was the SHA-1 of the summaries'
 * JSON (jsonSummariesHash, 28 base64 characters, never holding ':'): a second serialization of
 * 9,000 stages that cost as much as the text itself (26 ms of a 128 MB Spark 3.0 log's collect).
 */
const TEXT_HASH = 't:';

const sha1Base64 = (data: string | Buffer): string => sha1(data, 'base64');

/** summaries_hash as stores wrote it before TEXT_HASH (and schema 5's rows: test/support/summaryRowsV5.ts). */
export function jsonSummariesHash(summaries: AppSummaries): string {
  // A table's rows made for this alone: read through `stages`, they would be kept on the summaries beside the table.
  const table = stageTableOf(summaries);
  return sha1Base64(JSON.stringify(table === undefined ? summaries : { stages: stageRows(table), executors: summaries.executors }));
}

export function summariesToStore(summaries: AppSummaries): SummariesToStore {
  const bytes = encodeSummaryBytes(summaries);
  return { summaries, bytes, hash: TEXT_HASH + sha1Base64(bytes) };
}

/**
 * The hash to judge `s` by against a row's summaries_hash (`stored`): its own, or the stored one
 * when that is an older JSON hash of the same summaries, so that the first re-read after an upgrade
 * does not count as an update (that costs the old hash once, only for rows that hold one). The older
 * hash is of the summaries in the order the reader gave them; summaries that crossed a worker as their
 * text (summariesWire.ts) come back with executors in id order, so a row whose executors Spark added in
 * another order is counted as updated once, and re-stored with the new hash.
 */
export function hashAgainst(s: SummariesToStore, stored: unknown): string {
  if (typeof stored === 'string' && !stored.startsWith(TEXT_HASH) && stored === jsonSummariesHash(s.summaries)) return stored;
  return s.hash;
}

/** A block holds up to this many attempts ... */
const BLOCK_ATTEMPTS = 16;
/** ... and up to this much text (an attempt with more has a block of its own): what a read inflates. */
const BLOCK_TEXT_BYTES = 128 * 1024;

/**
 * zlib's level for the blocks. Level 4 (the fastest with lazy matching) against the default 6, over the
 * 625 blocks of 16 texts of bench-data/small-logs-10000 (~8 KB each; best of 7 in one process): 29.4 ms
 * for 725 KB against 39.8 ms for 677 KB (+7% bytes, +0.14% of that 34 MB database); level 1 23.4 ms
 * for 816 KB (+21%). On the main thread of a collect, where both cores are busy, it costs about twice
 * that (issue #12). A big log's text compresses as well at 4 as at 6 (the 128 MB shapes' ~35-900 KB
 * texts: within 2%, ~1 ms).
 */
const BLOCK_LEVEL = 4;

/** Where an attempt's summaries are: [summaries_block, summaries_start, summaries_end]. */
export type SummaryPlace = [number, number, number];

/**
 * Writes summaries' texts (summaryCodec's, UTF-8) as blocks (in order, BLOCK_ATTEMPTS and BLOCK_TEXT_BYTES
 * at most each) and returns where each one went, for its attempt's row.
 */
export function writeSummaryBlocks(db: Database, texts: readonly Buffer[]): SummaryPlace[] {
  const places: SummaryPlace[] = [];
  if (texts.length === 0) return places;
  const insert = db.prepare('INSERT INTO summary_blocks (data) VALUES (?)');
  try {
    let group: Buffer[] = [];
    let bytes = 0;
    const flush = (): void => {
      if (group.length === 0) return;
      // One text alone is deflated as it is: copying a 2 GB Spark 3.0 log's ~15 MB text was 12 MB more at the collect's peak.
      insert.run([deflateRawSync(group.length === 1 ? group[0]! : Buffer.concat(group, bytes), { level: BLOCK_LEVEL })]);
      const id = Number(db.exec('SELECT last_insert_rowid()')[0]!.values[0]![0]);
      let at = 0;
      for (const text of group) places.push([id, at, (at += text.length)]);
      group = [];
      bytes = 0;
    };
    for (const text of texts) {
      if (group.length >= BLOCK_ATTEMPTS || (group.length > 0 && bytes + text.length > BLOCK_TEXT_BYTES)) flush();
      group.push(text);
      bytes += text.length;
    }
    flush();
  } finally {
    insert.free();
  }
  return places;
}

/** The attempt's stored summaries (stages by (stage_id, attempt_id), executors by numeric id); undefined when none are stored. */
export function readSummaries(db: Database, appId: string, key: string): AppSummaries | undefined {
  const at = db.exec('SELECT summaries_block, summaries_start, summaries_end FROM applications WHERE app_id = ? AND attempt_key = ?', [appId, key])[0]?.values[0];
  if (at === undefined || at[0] === null) return undefined;
  const data = db.exec('SELECT data FROM summary_blocks WHERE id = ?', [at[0]!])[0]?.values[0]?.[0];
  if (!(data instanceof Uint8Array)) throw new Error(`the database has lost summaries block ${String(at[0])}`);
  return decodeSummaries(inflateRawSync(data).toString('utf8', Number(at[1]), Number(at[2])));
}

/** Removes blocks no attempt points to any more: of `ids` (blocks replaced by an upsert), or all (after deletes). */
export function dropUnusedSummaryBlocks(db: Database, ids?: Iterable<number>): void {
  if (ids === undefined) {
    db.run('DELETE FROM summary_blocks WHERE id NOT IN (SELECT summaries_block FROM applications WHERE summaries_block IS NOT NULL)');
    return;
  }
  const drop = db.prepare('DELETE FROM summary_blocks WHERE id = ? AND NOT EXISTS (SELECT 1 FROM applications WHERE summaries_block = ?)');
  try {
    for (const id of ids) drop.run([id, id]);
  } finally {
    drop.free();
  }
}

// Migration 5's rows, read once by migration 6. Its columns: the summaries' field names, and a
// stage's task-duration quantiles as five columns (task_min_ms … task_max_ms), all NULL for none.
const V5_STAGE_FIELDS = [
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
const V5_QUANTILES = ['min', 'p25', 'p50', 'p75', 'max'] as const;
const V5_EXECUTOR_FIELDS = [
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

function v5Stage(r: readonly SqlValue[]): StageSummary {
  const out: Record<string, unknown> = {};
  V5_STAGE_FIELDS.forEach((f, i) => (out[f] = r[i + 2]));
  const at = V5_STAGE_FIELDS.length + 2;
  out.task_duration_ms = r[at] === null ? null : Object.fromEntries(V5_QUANTILES.map((q, i) => [q, r[at + i]]));
  return out as unknown as StageSummary;
}

function v5Executor(r: readonly SqlValue[]): ExecutorSummary {
  return Object.fromEntries(V5_EXECUTOR_FIELDS.map((f, i) => [f, r[i + 2]])) as unknown as ExecutorSummary;
}

/**
 * Rows of one table, attempt after attempt, in the order of the attempts' query; `take` returns the
 * rows of the given attempt. Only equality of keys is compared here: SQLite orders text by its UTF-8
 * bytes, which JavaScript's string order does not always match.
 */
function rowsByAttempt<T>(db: Database, sql: string, toItem: (r: readonly SqlValue[]) => T): { take: (appId: string, key: string) => T[]; free: () => void } {
  const stmt = db.prepare(sql);
  let row: SqlValue[] | undefined = stmt.step() ? stmt.get() : undefined;
  return {
    take(appId, key) {
      const items: T[] = [];
      while (row !== undefined && row[0] === appId && row[1] === key) {
        items.push(toItem(row));
        row = stmt.step() ? stmt.get() : undefined;
      }
      return items;
    },
    free: () => stmt.free(),
  };
}

/** Attempts converted at a time by migration 6: what it holds of them at once. */
const MIGRATION_CHUNK = 256;

/**
 * Migration 6, inside its transaction, after its DDL: every attempt that has summaries stored
 * (summaries_hash set) gets them in blocks, read from migration 5's `stages` and `executors` in one
 * pass over each table in key order; then those tables are dropped. Rows of an attempt without
 * summaries_hash were never read (summariesOf said none), so they go with the tables.
 */
export function moveSummaryRowsIntoBlocks(db: Database): void {
  const order = 'ORDER BY app_id, attempt_key';
  const keys = (db.exec(`SELECT app_id, attempt_key FROM applications WHERE summaries_hash IS NOT NULL ${order}`)[0]?.values ?? []) as [string, string][];
  const stored = 'SELECT 1 FROM applications a WHERE a.app_id = t.app_id AND a.attempt_key = t.attempt_key AND a.summaries_hash IS NOT NULL';
  const stages = rowsByAttempt(
    db,
    `SELECT app_id, attempt_key, ${V5_STAGE_FIELDS.join(', ')}, ${V5_QUANTILES.map((q) => `task_${q}_ms`).join(', ')} FROM stages t WHERE EXISTS (${stored}) ${order}, stage_id, attempt_id`,
    v5Stage,
  );
  const executors = rowsByAttempt(db, `SELECT app_id, attempt_key, ${V5_EXECUTOR_FIELDS.join(', ')} FROM executors t WHERE EXISTS (${stored}) ${order}, executor_id`, v5Executor);
  // The rows of applications are updated once the reads of the tables (which look at applications) are done.
  const places: SummaryPlace[] = [];
  try {
    for (let i = 0; i < keys.length; i += MIGRATION_CHUNK) {
      const chunk = keys.slice(i, i + MIGRATION_CHUNK).map(([appId, key]) => encodeSummaryBytes({ stages: stages.take(appId, key), executors: executors.take(appId, key) }));
      places.push(...writeSummaryBlocks(db, chunk));
    }
  } finally {
    stages.free();
    executors.free();
  }
  const update = db.prepare('UPDATE applications SET summaries_block = ?, summaries_start = ?, summaries_end = ? WHERE app_id = ? AND attempt_key = ?');
  try {
    keys.forEach(([appId, key], i) => update.run([...places[i]!, appId, key]));
  } finally {
    update.free();
  }
  db.exec('DROP TABLE stages; DROP TABLE executors;');
}
