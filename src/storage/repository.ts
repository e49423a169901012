/**
 * The job repository: every read and write of collected records, files and runs, as parameterized
 * SQL over one in-memory sql.js database. `JobRepository` is the interface the CLI and the
 * extension use, so another backend (a shared server database) can slot in; `SqlJsRepository` is
 * the workspace implementation. Persistence (locking, atomic save, merging with another writer)
 * lives in jobStore.ts.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { Database, SqlValue } from 'sql.js';
import { packCheck, unpackCheck, type RegressionCheck, type RegressionStatus } from '../analysis/regression';
import { REPLACES_TAG } from '../collectors/contract';
import { Quality, sparkAppRecordSchema, type AppStatus, type SparkAppRecord } from '../collectors/record';
import type { AppSummaries } from '../collectors/record/summaries';
import { fieldOf, isRecordColumn, OPERATORS, type FieldCondition, type RecordColumn } from './fields';
import { dropUnusedSummaryBlocks, hashAgainst, readSummaries, summariesToStore, writeSummaryBlocks, type SummariesToStore, type SummaryPlace } from './summaries';
import type { KnownFile } from './unchanged';
import { thisHolder, type Holder } from './fileLock';
import { pushAll } from '../common/arrays';
import { allRows, textParam, transaction } from './sqlJs';
import { sha1 } from '../common/sha1';
import { LISTED_THROUGH, appKeyId, attemptKey, keyId, runTimeOf } from './keys';
import type { RunState } from './runState';

export { attemptKey, keyId, runTimeOf } from './keys';

export interface AppKey {
  app_id: string;
  attempt_id: string | null;
}

export interface UpsertCounts {
  new: number;
  updated: number;
  unchanged: number;
  /** Platform-level records removed because a record of the call, or one stored, replaces them (supersede). */
  removed?: number;
  /** Records the store refused for their values (PostgresStore.storeBatch: each one a warning); the run counts them failed. */
  refused?: number;
}

/** The sort fields the Jobs tree offers; `JobQuery.sort` takes any record column (fields.ts). */
export const SORT_FIELDS = ['end_time', 'start_time', 'duration_ms', 'app_name', 'user', 'cpu_time_ms', 'total_tasks', 'shuffle_read_bytes'] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export const GROUP_FIELDS = ['source', 'user', 'status', 'day'] as const;
export type GroupField = (typeof GROUP_FIELDS)[number];

export interface JobQuery {
  user?: string;
  /** Substring of the application name, case-insensitive. */
  name?: string;
  /** Substring of the application name, id or user, case-insensitive (the jobs table's search box). */
  text?: string;
  status?: AppStatus;
  source?: string;
  /** Applications that ended (running ones: started) at or after this ISO time. */
  since?: string;
  /** ... and before this ISO time. */
  until?: string;
  /** `YYYY-MM-DD` of the end (or start) time, as the tree groups by day. */
  day?: string;
  /** Any record column (fields.ts `fieldByName` turns a friendly name into one); end_time when unknown. */
  sort?: SortField | RecordColumn;
  /** Conditions on record columns, all of which must hold (`jobs --where`). */
  where?: readonly FieldCondition[];
  /**
   * true: only runs whose stored regression check (saveRegressions, issue 18) says 'regressed';
   * false: only the others (steady, unchecked, or never checked).
   */
  regressed?: boolean;
  descending?: boolean;
  /**
   * Only the records whose key comes after this one in key order (app_id, then attempt): keyset
   * paging for a walk over every record (db copy, with sort 'app_id' ascending). Unlike `offset`, a
   * page is an index seek however far in it starts, and rows written or deleted between pages make
   * none of the others be skipped or read twice.
   */
  after?: AppKey;
  limit?: number;
  offset?: number;
}

export interface IngestedFile {
  path: string;
  unit_path: string;
  size: number;
  mtime_ms: number;
  codec: string;
  app_id: string | null;
  attempt_id: string | null;
  status: 'ok' | 'problems';
}

export interface RunCounts {
  seen: number;
  new: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
}

/** The process that runs a run and its last sign of life as its row keeps them (migration 13, PostgreSQL 14). */
export interface RunOwner extends Holder {
  /** ISO time: the run's last sign of life in its row (its start; then each save of a file store, each HEARTBEAT_MS on a server). */
  heartbeat: string;
}

/** A row of collection_runs as recorded. */
export interface RecordedRun extends RunCounts {
  run_id: string;
  source: string;
  options: Record<string, unknown>;
  started: string;
  finished: string | null;
  errors: string[];
  /** Who ran it; null for a run of a version before the store recorded it. */
  owner: RunOwner | null;
}

export interface RunRow extends RecordedRun {
  state: RunState;
}

/**
 * Whether the process of an unfinished run that names its owner is gone, by the sign of life its
 * store keeps for it (fileLock.ts's rule for a lock's holder): a file store's, the file the run holds
 * beside the database (JobStore); a server's, the heartbeat in the row (PostgresRepository). One
 * judge per store: a file store's rows' heartbeat is only its last save's, no sign of life.
 */
export type RunGone = (run: RecordedRun & { owner: RunOwner }) => boolean;

/** A record with the stages and executors read with it (issue 15), as a collector yields them. */
export interface AppEntry {
  record: SparkAppRecord;
  /** Absent: the source could not see them. */
  summaries?: AppSummaries;
}

/** What upsert takes: records alone, or with their summaries. */
export type UpsertItem = SparkAppRecord | AppEntry;

/** A record without its environment and tags: what a check over many records reads (issue 18). */
export type RecordFigures = Omit<SparkAppRecord, 'environment' | 'tags'>;
/** A field baselines() may read. */
export type FigureField = keyof RecordFigures;
/** A run's figures and, of its baseline runs (newest first), the fields asked for (baselines()). */
export interface RunBaseline<F extends FigureField = FigureField> {
  run: RecordFigures;
  baseline: Pick<RecordFigures, F>[];
}
/**
 * What is stored of a run's regression check (issue 18, migration 8): its status and words, and the
 * whole check (metrics, baseline runs, what changed) of a regressed run only. A steady check's
 * figures are ~2 KB of JSON that nothing reads back (the job page checks the run it shows anew);
 * kept for every run, they would double a database of 100,000 runs.
 */
export interface RegressionRow {
  app_id: string;
  attempt_id: string | null;
  status: RegressionStatus;
  summary: string;
  explanation: string;
  /** The whole check of a regressed run (stored packed: regression.ts packCheck); null for the others. */
  check: RegressionCheck | null;
  /**
   * The run as it was when checked. A check is stored only onto that run: `db copy` and a merge with
   * another writer save checks after upserting their records, and a record refused there (upsert
   * never replaces a finished run by an unfinished copy) must not take its copy's check ("not checked:
   * the run is running") either. Absent: the copy the store's own check read of it (CheckedCopies),
   * else the run as stored now.
   */
  of?: RunVersion;
}

/** What tells one stored copy of a run from another for its check: its status and end. */
export interface RunVersion {
  status: AppStatus;
  end_time: string | null;
}

/** A run's latest regression check as stored, and when it was made. */
export interface StoredRegression extends RegressionRow {
  checked_at: string;
}

/** What saveRegressions stores of a check. */
export function regressionRow(c: RegressionCheck): RegressionRow {
  return { app_id: c.app_id, attempt_id: c.attempt_id, status: c.status, summary: c.summary, explanation: c.explanation, check: c.status === 'regressed' ? c : null };
}

/** Runs whose checked copy CheckedCopies holds before it starts again: what the checks of a few views read and never saved. */
const CHECKED_COPIES_HELD = 100_000;

/**
 * The copy of each run that a check was made from, so that saveRegressions stores the check onto that
 * copy only (RegressionRow.of), on both stores by one rule. A check is made from the figures
 * baselines() reads (regression.ts checkRegressions), and nothing in it says which copy they were:
 * on a server another collector may store a newer copy between the read and the save (a review: a
 * check of a running copy, saved after another collector's check of the completed one, replaced it,
 * and the completed run stayed "not checked: running" for good). So the store notes each run's status
 * and end as baselines() reads them, and saveRegressions gives a check without `of` the copy noted
 * (taken once). A check of a run not noted is of the run as stored when saved (RegressionRow.of).
 */
export class CheckedCopies {
  private readonly read = new Map<string, RunVersion>();

  /** What baselines() read for a check: each run's copy, by its key as stored. */
  note(read: readonly { run: RecordFigures }[]): void {
    if (this.read.size > CHECKED_COPIES_HELD) this.read.clear();
    for (const { run } of read) this.read.set(appKeyId(run), { status: run.status, end_time: run.end_time });
  }

  /** `rows` with `of` where they have none and a copy was noted for their run (it is then forgotten). */
  attach(rows: readonly RegressionRow[]): RegressionRow[] {
    return rows.map((r) => {
      if (r.of !== undefined) return r;
      const id = appKeyId(r);
      const of = this.read.get(id);
      if (of === undefined) return r;
      this.read.delete(id);
      return { ...r, of };
    });
  }
}

/** An application name and source, and a run time in its history (laterRuns). */
export interface RunGroup {
  app_name: string;
  source: string;
  time: string;
}
/**
 * A run in its history: its key, name, source, run time and status. What laterRuns finds, and what
 * the calls that remove runs (delete, applyRetention, upsert's supersede) give of the runs they
 * removed that were in a history (completed, with a name and a time): the runs after them are checked
 * again (regression.ts laterChecks).
 */
export type LaterRun = AppKey & RunGroup & { status: AppStatus };

/** What finds a run's baseline: its key, name, source and times. */
export type RunRef = Pick<SparkAppRecord, 'app_id' | 'attempt_id' | 'app_name' | 'source' | 'submit_time' | 'start_time' | 'end_time'>;

export interface JobRepository {
  /** Inserts a record that must not exist yet; throws if it does. */
  create(record: SparkAppRecord, now?: Date): void;
  /**
   * Idempotent: an identical record (with identical summaries, or none given) is `unchanged`; a
   * finished record is never replaced by an unfinished one, nor are its summaries. A record that
   * changes takes the summaries it comes with (none given: its stored ones are removed, they were
   * of the copy it replaces); a record that does not change but comes with other summaries than it
   * has gets those (`updated`). A record that changes loses its stored regression check (it was
   * of the copy it replaces). `changed`, when given, receives the key of each record the call
   * stored new or updated, once the call has succeeded: the runs a collection checks (pipeline.ts).
   * `removed`, when given, receives the platform-level runs it removed (supersede) that were in a
   * history (LaterRun), once the call has succeeded: their later runs are checked again.
   */
  upsert(items: readonly UpsertItem[], now?: Date, changed?: AppKey[], removed?: LaterRun[]): UpsertCounts;
  get(key: AppKey): SparkAppRecord | undefined;
  /** The attempt's stages (by stage_id, attempt_id) and executors (by numeric id); undefined when none are stored. */
  summariesOf(key: AppKey): AppSummaries | undefined;
  /** summariesOf for many attempts, in the keys' order: one statement per 500 keys on a server. */
  summariesOfMany(keys: readonly AppKey[]): (AppSummaries | undefined)[];
  getByAppId(appId: string): SparkAppRecord[];
  /** The run of the same application name that started last before this one (issue 15: Compare with Previous Run); none for a nameless or first run. */
  previousRun(record: SparkAppRecord): SparkAppRecord | undefined;
  /**
   * A run's baseline (issue 18): the completed runs of the same application name and source that
   * started before it (by start, else submission, else end time, as previousRun), newest first, at
   * most `n`; none for a nameless or timeless run.
   */
  baselineRuns(record: RunRef, n: number): SparkAppRecord[];
  /**
   * baselineRuns for many runs at once, figures only (no environments, no tags): each stored run of
   * `keys`, in their order, with `fields` of the first `n(run)` of its baseline runs. A few
   * statements for all of them: checking a collection's new runs (issue 18) must not cost a query
   * per run, nor a read per field (sql.js reads a column with several WebAssembly calls).
   */
  baselines<F extends FigureField>(keys: readonly AppKey[], n: number | ((run: RecordFigures) => number), fields: readonly F[]): RunBaseline<F>[];
  /** The environments of these records, in the keys' order ({} for a key not stored); each shared block inflated once. */
  environments(keys: readonly AppKey[]): Record<string, string>[];
  /**
   * Stores each check (regressionRow: all of a regressed one, the words of the others) as its run's
   * latest (issue 18), replacing the one it had; a check of a run that is not stored (deleted since,
   * say), or of another copy of it than the one stored (RegressionRow.of), is left out. Returns how
   * many were stored.
   */
  saveRegressions(checks: readonly (RegressionCheck | RegressionRow)[], now?: Date): number;
  /** The stored checks of these runs, in the keys' order (null: none stored); one statement per 500 keys. */
  regressions(keys: readonly AppKey[]): (StoredRegression | null)[];
  /**
   * Up to `limit` stored runs of a source that have no stored check: a collection cancelled or killed
   * before its check stored them, and the next one finds their logs unchanged (pipeline.ts checks
   * them then). By name and run time, as checks go through runs.
   */
  uncheckedRuns(source: string, limit: number): AppKey[];
  /**
   * Per group, the finished runs (completed or failed: the statuses the check judges) of its
   * application name and source whose run time (baselineRuns' order) is after the group's `time`, with
   * theirs and their status: the runs whose baselines a run of that time may be in, which are checked
   * again when it is stored or removed (regression.ts laterChecks). One statement per 500 groups; in
   * no particular order.
   */
  laterRuns(groups: readonly RunGroup[]): LaterRun[];
  list(query?: JobQuery): SparkAppRecord[];
  count(query?: JobQuery): number;
  groupCounts(by: GroupField, query?: JobQuery): { key: string; count: number }[];
  /**
   * Deletes records (and their regression checks) and forgets their files, so a later collection reads
   * them again. `removed`, when given, receives those that were in a history (LaterRun): the caller
   * checks the runs after them again (regression.ts recheckAfterRemoval), knowing their sources' thresholds.
   */
  delete(keys: readonly AppKey[], removed?: LaterRun[]): number;
  /**
   * Drops records older than `days` (by end time, else start time), and their regression checks. Their
   * files stay known, so they are not re-imported. `removed` as delete's.
   */
  applyRetention(days: number, now?: Date, removed?: LaterRun[]): number;
  /**
   * A collected batch: its records (upsert's rules) and the files they were read from (recordFiles),
   * all or nothing, so that a collector killed mid-batch leaves no record without its files nor files
   * without their records.
   */
  storeBatch(items: readonly UpsertItem[], files: readonly IngestedFile[], now?: Date, changed?: AppKey[], removed?: LaterRun[]): UpsertCounts;
  /** True when every file of the attempt is known with the same size and mtime, and no file was added. */
  recordFiles(files: readonly IngestedFile[], now?: Date): void;
  /**
   * Where an incremental run of a cursor key (registry CursorKey) starts: the newest end time that
   * finished runs of that source and scope recorded as listed through (`listed_through` in their
   * options: historyServer/cursor.ts says when a run may record one), or null (a full run). Not the
   * latest end time among the source's applications: that is no cursor (a capped, filtered,
   * cancelled or failed run, or another server under the same name, stores new applications
   * without the older ones).
   */
  newestEndTime(of: ListingScope): string | null;
  /** Every file read without errors: what an out-of-process collector needs to skip unchanged attempts. */
  knownFiles(): KnownFile[];
  /** Every recorded file as recordFiles took it, in path order (what `db copy` carries over). */
  ingestedFiles(): IngestedFile[];
  /**
   * Records a run and its options; for a run already recorded, replaces its options (the cursor it
   * listed through, once it is known), nothing else. `owner` left out: this process runs it, and keeps
   * a sign of life for it until finishRun (a file store's held file, a server's heartbeat) so that
   * readers can tell it from one whose process was killed (runState). Given (a run copied from another
   * store, `db copy`): recorded as it is, with no sign of life from here; null: none recorded.
   */
  startRun(runId: string, source: string, options: Record<string, unknown>, now?: Date, owner?: RunOwner | null): void;
  finishRun(runId: string, counts: RunCounts, errors: readonly string[], now?: Date): void;
  /** The newest runs first, each with its state (runState) as of now. */
  listRuns(limit?: number): RunRow[];
  /** The latest run of each source, newest first: what the Sources view shows, however many runs came after (a review: listRuns(500) lost older sources). */
  latestRuns(): RunRow[];
}

/** The latest run of each source (latestRuns), in SQL both stores run. */
export const latestRunsSql = (columns = '*'): string =>
  `SELECT ${columns} FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY source ORDER BY started DESC, run_id DESC) AS latest FROM collection_runs) r WHERE latest = 1 ORDER BY started DESC`;
export const LATEST_RUNS_SQL = latestRunsSql();

export const RECORD_FIELDS = Object.keys(sparkAppRecordSchema.shape) as (keyof SparkAppRecord)[];
/** Fields stored as JSON text. */
export const JSON_FIELDS = new Set<keyof SparkAppRecord>(['tags', 'environment', 'quality']);
export const FINAL: ReadonlySet<AppStatus> = new Set(['completed', 'failed']);
const BLOCK_COLUMNS = ['env_block', 'env_start', 'env_end'];
/** Where the attempt's summaries are (summaries.ts): block and byte range, all NULL for none. */
const SUMMARY_COLUMNS = ['summaries_block', 'summaries_start', 'summaries_end'];
const NO_SUMMARIES: readonly SqlValue[] = [null, null, null];
const COLUMNS = [...RECORD_FIELDS, ...BLOCK_COLUMNS, ...SUMMARY_COLUMNS, 'summaries_hash', 'attempt_key', 'record_hash', 'first_seen', 'last_updated'];
export const WHERE_TIME = "COALESCE(end_time, start_time)";
/** A column name as SQL: quoted, since `user` is a reserved word in PostgreSQL (SQLite takes the quotes too). */
export const column = (name: string): string => `"${name}"`;
/**
 * What orders a list's rows that its sort field does not tell apart, before the key: the newest run
 * first, so that the runs of one name (or of 0 failed tasks) read in time order, not by app id (a
 * review of the jobs table on real logs). Nothing for a sort by a time or by the key itself. NULLS
 * LAST: as SQLite sorts NULL in a descending order, which PostgreSQL would put first.
 */
export const tieBreak = (field: RecordColumn): string =>
  field === 'start_time' || field === 'end_time' || field === 'submit_time' || field === 'app_id' ? '' : `COALESCE(start_time, submit_time, end_time) DESC NULLS LAST, `;
/**
 * What a list sorts by for a field: text without regard to case ('databricks-job' among the names
 * beginning with D, not after 'SessionizeClicks'; ASCII letters in SQLite, every letter in
 * PostgreSQL), anything else as stored. The key (app_id, attempt) stays in byte order: pages walk
 * it (JobQuery.after).
 */
export const sortKey = (field: RecordColumn): string => (fieldOf(field).kind === 'text' && field !== 'app_id' && field !== 'attempt_id' ? `lower(${column(field)})` : column(field));

const sha1Hex = (text: string): string => sha1(text, 'hex');

/**
 * Same record, same hash, whatever the key order it was built with: the JSON of the fields in schema
 * order. `envJson` is the environment's JSON, already made for the row; the fields before and after it
 * are stringified in one call each and joined around it, which gives exactly JSON.stringify of the
 * whole field array (so stored hashes stay valid) at a fraction of the cost of one call per field.
 */
const ENV_AT = RECORD_FIELDS.indexOf('environment');
const BEFORE_ENV = RECORD_FIELDS.slice(0, ENV_AT);
const AFTER_ENV = RECORD_FIELDS.slice(ENV_AT + 1);
export function recordHash(record: SparkAppRecord, envJson: string): string {
  const before = JSON.stringify(BEFORE_ENV.map((f) => record[f]));
  const after = JSON.stringify(AFTER_ENV.map((f) => record[f]));
  return sha1Hex(`${before.slice(0, -1)},${envJson},${after.slice(1)}`);
}

/**
 * `environment` (all Spark properties, often several KB) is most of a record. The environments of the
 * records one upsert changes are stored together, up to BLOCK_RECORDS at a time, as one deflated block
 * of their JSON texts; each row keeps its block and byte range. One zlib call per block instead of per
 * record: Node's sync zlib builds a stream per call, and 100k such calls were about 2 s of a 100k
 * upsert (mostly garbage collection). Records written together share most keys and values, so a block
 * also compresses far better than each alone. Rows of before (env_block NULL) keep their environment
 * in the `environment` column, as plain or deflated JSON, and are read as before.
 */
const BLOCK_RECORDS = 32;
/** Records decided and written together by an upsert: a few blocks' worth. */
const UPSERT_WINDOW = 8 * BLOCK_RECORDS;

/** The environments' JSON texts as one deflated block, and where each one is in the inflated block. */
export function packEnvironments(texts: readonly string[]): { data: Uint8Array; ranges: [number, number][] } {
  const parts = texts.map((t) => Buffer.from(t, 'utf8'));
  const ranges: [number, number][] = [];
  let at = 0;
  for (const p of parts) {
    ranges.push([at, at + p.length]);
    at += p.length;
  }
  return { data: deflateRawSync(Buffer.concat(parts, at), { level: 1 }), ranges };
}

function unpack(v: SqlValue): unknown {
  return JSON.parse(v instanceof Uint8Array ? inflateRawSync(v).toString('utf8') : String(v));
}

/** The row's values for the record's fields; the environment itself goes into a block. */
function toRow(record: SparkAppRecord): SqlValue[] {
  return RECORD_FIELDS.map((f) => {
    if (f === 'environment') return '';
    const v = record[f];
    return JSON_FIELDS.has(f) ? JSON.stringify(v) : (v as SqlValue);
  });
}

/**
 * A record an upsert stores: new, or changed from the row it has (`stored`); or, with `summariesOnly`,
 * a stored record whose summaries alone change. `summaries` undefined = none given.
 */
interface Change {
  record: SparkAppRecord;
  key: string;
  envJson: string;
  hash: string;
  stored: boolean;
  summaries: SummariesToStore | undefined;
  summariesHash: string | null;
  summariesOnly: boolean;
  /** The environment block of the stored row, which a full update replaces. */
  storedBlock: SqlValue | undefined;
  /** The summaries block of the stored row, which any update replaces. */
  storedSummariesBlock: SqlValue | undefined;
}

/** What supersede does to one upsert call (contract.ts REPLACES_TAG). */
export interface Supersession {
  /** The items to upsert: those that are not a replaced platform-level record. */
  keep: UpsertItem[];
  /** Items left out (counted unchanged: nothing of them is stored). */
  skipped: number;
  /** The platform-level records to remove (attempt null; only a stored row flagged platform_level is removed). */
  remove: AppKey[];
}

/**
 * The rule of contract.ts REPLACES_TAG for one upsert call, both stores: a record naming a
 * platform-level record (its REPLACES_TAG) removes it, and a platform-level record named by a record
 * of the call or by one stored (`storedNames`: of these app ids of this source, those a stored
 * record of the source names) is not stored, and a stored copy of it is removed.
 */
export function supersede(items: readonly UpsertItem[], storedNames: (source: string, appIds: readonly string[]) => Iterable<string>): Supersession {
  const named = new Set<string>();
  for (const item of items) {
    const v = entryOf(item).record.tags[REPLACES_TAG];
    if (v !== undefined && v !== '') named.add(v);
  }
  const platform = (r: SparkAppRecord): boolean => r.attempt_id === null && r.quality.includes(Quality.platformLevel);
  const asked = new Map<string, string[]>();
  for (const item of items) {
    const r = entryOf(item).record;
    if (!platform(r) || named.has(r.app_id)) continue;
    const ids = asked.get(r.source);
    if (ids) ids.push(r.app_id);
    else asked.set(r.source, [r.app_id]);
  }
  for (const [source, ids] of asked) for (const id of storedNames(source, ids)) named.add(id);
  if (named.size === 0) return { keep: [...items], skipped: 0, remove: [] };
  const keep = items.filter((item) => {
    const r = entryOf(item).record;
    return !(platform(r) && named.has(r.app_id));
  });
  return { keep, skipped: items.length - keep.length, remove: [...named].map((app_id) => ({ app_id, attempt_id: null })) };
}

/** What narrows supersede's stored side to the rows naming some record before their tags are parsed (`_` matching itself too is harmless). */
export const REPLACES_LIKE = `%"${REPLACES_TAG}":%`;

export function entryOf(item: UpsertItem): AppEntry {
  return 'record' in item ? item : { record: item };
}

/** Inflated environment blocks by id, for the rows of one read. */
type BlockReader = (id: number) => Buffer;

function fromRow(row: Record<string, SqlValue>, block: BlockReader): SparkAppRecord {
  const out: Record<string, unknown> = {};
  for (const f of RECORD_FIELDS) {
    const v = row[f];
    if (f === 'environment' && row.env_block !== null && row.env_block !== undefined) {
      out[f] = JSON.parse(block(Number(row.env_block)).toString('utf8', Number(row.env_start), Number(row.env_end)));
    } else {
      out[f] = JSON_FIELDS.has(f) ? unpack(v!) : v;
    }
  }
  return out as SparkAppRecord;
}

/** A LIKE pattern for "contains `text`" (SQLite's LIKE ignores ASCII case), its wildcards escaped. */
const likeContaining = (text: string): string => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * What an upsert does with a record, given the stored copy (or the same call's earlier copy): the
 * rule both stores keep (PostgresRepository states it again as its ON CONFLICT condition).
 * - none stored: `new`;
 * - a finished record is never replaced by an unfinished one: `unchanged`;
 * - the same record: `unchanged`, or `summaries` when it comes with other summaries than it has;
 * - otherwise `record`: the record changes, and takes the summaries it comes with (or none).
 */
export type UpsertVerdict = 'new' | 'unchanged' | 'summaries' | 'record';
export function upsertVerdict(before: { hash: unknown; status: unknown; sumHash: unknown } | undefined, hash: string, status: AppStatus, sumHash: string | null): UpsertVerdict {
  if (before === undefined) return 'new';
  if (FINAL.has(before.status as AppStatus) && !FINAL.has(status)) return 'unchanged';
  if (before.hash === hash) return sumHash === null || sumHash === before.sumHash ? 'unchanged' : 'summaries';
  return 'record';
}

/**
 * A query's WHERE clause with `?` parameters. `like` is the case-insensitive LIKE of the dialect
 * (SQLite's LIKE ignores ASCII case; PostgreSQL's ILIKE).
 */
export function where(q: JobQuery, like: 'LIKE' | 'ILIKE' = 'LIKE'): { sql: string; params: SqlValue[] } {
  const parts: string[] = [];
  const params: SqlValue[] = [];
  const add = (sql: string, value: SqlValue): void => {
    parts.push(sql);
    params.push(value);
  };
  // '' is the Jobs tree's "(none)" group, which groupCounts makes of NULL: it matches both (a review: it never opened).
  if (q.user === '') parts.push(`(${column('user')} IS NULL OR ${column('user')} = '')`);
  else if (q.user !== undefined) add(`${column('user')} = ?`, q.user);
  if (q.name !== undefined) add(`app_name ${like} ? ESCAPE '\\'`, likeContaining(q.name));
  if (q.text !== undefined) {
    const text = likeContaining(q.text);
    parts.push(`(app_name ${like} ? ESCAPE '\\' OR app_id ${like} ? ESCAPE '\\' OR ${column('user')} ${like} ? ESCAPE '\\')`);
    params.push(text, text, text);
  }
  if (q.status !== undefined) add('status = ?', q.status);
  if (q.source !== undefined) add('source = ?', q.source);
  if (q.since !== undefined) add(`${WHERE_TIME} >= ?`, q.since);
  if (q.until !== undefined) add(`${WHERE_TIME} < ?`, q.until);
  if (q.day !== undefined) add(`substr(${WHERE_TIME}, 1, 10) = ?`, q.day);
  // applications unaliased: list, count and groupCounts select FROM applications with this WHERE.
  // Regressed: the few keys by index regressions_status, then their rows (0.2 ms over 100,000 runs);
  // not regressed: a key lookup per row (NOT IN with a row value took 13x longer, 640 against 50 ms).
  if (q.regressed === true) parts.push("(applications.app_id, applications.attempt_key) IN (SELECT app_id, attempt_key FROM regressions WHERE status = 'regressed')");
  else if (q.regressed === false) {
    parts.push("NOT EXISTS (SELECT 1 FROM regressions g WHERE g.app_id = applications.app_id AND g.attempt_key = applications.attempt_key AND g.status = 'regressed')");
  }
  if (q.after !== undefined) {
    parts.push('(app_id, attempt_key) > (?, ?)');
    params.push(q.after.app_id, attemptKey(q.after.attempt_id));
  }
  for (const c of q.where ?? []) {
    // Column names and operators come from the fields table only, never from the caller's text.
    if (!isRecordColumn(c.field) || !OPERATORS.includes(c.op)) throw new Error(`not a condition on a record field: ${JSON.stringify(c)}`);
    if (c.value === null) parts.push(`${column(c.field)} IS ${c.op === '=' ? '' : 'NOT '}NULL`);
    else add(`${column(c.field)} ${c.op} ?`, c.value);
  }
  return { sql: parts.length > 0 ? `WHERE ${parts.join(' AND ')}` : '', params };
}

/**
 * Fields as one JSON object per row (`b` the table's alias): one text column per row costs far less
 * to read through sql.js than a column per field. Field names come from the record schema only.
 */
export const FIGURE_FIELDS: readonly FigureField[] = RECORD_FIELDS.filter((f): f is FigureField => f !== 'environment' && f !== 'tags');
const jsonObject = (b: string, fields: readonly FigureField[]): string => `json_object(${fields.map((f) => `'${f}', ${f === 'quality' ? `json(${b}.quality)` : `${b}.${f}`}`).join(', ')})`;
/** A run's time as baselines are ordered by: its start, else its submission, else its end (previousRun's rule). */
export const runTime = (b: string): string => `COALESCE(${b}.start_time, ${b}.submit_time, ${b}.end_time)`;
const isAscii = (text: string): boolean => /^[\x00-\x7f]*$/.test(text);
/**
 * Runs' keys with their baseline runs' `fields`, `?` the baseline's size. The subquery is
 * baselineRuns', which walks index apps_baseline (migration 7); json_group_array keeps its order.
 */
const baselinesSql = (keys: number, fields: readonly FigureField[]): string => `SELECT r.app_id, r.attempt_key, (
    SELECT json_group_array(${jsonObject('b', fields)}) FROM (
      SELECT ${fields.map((f) => `b.${f}`).join(', ')} FROM applications b
       WHERE b.app_name = r.app_name AND b.source = r.source AND b.status = 'completed' AND ${runTime('b')} < ${runTime('r')}
         AND NOT (b.app_id = r.app_id AND b.attempt_key = r.attempt_key)
       ORDER BY ${runTime('b')} DESC, b.app_id DESC, b.attempt_key DESC LIMIT ?) b) AS baseline
  FROM applications r WHERE (r.app_id, r.attempt_key) IN (VALUES ${Array.from({ length: keys }, () => '(?, ?)').join(', ')})`;
/** Keys per IN list: well under SQLite's 32,766 parameters. */
export const KEYS_PER_QUERY = 500;


/** The key of a row of applications (or regressions): attempt_key '' is no attempt (attemptKey's inverse). */
export function appKey(r: Record<string, unknown>): AppKey {
  return { app_id: String(r.app_id), attempt_id: r.attempt_key === '' ? null : String(r.attempt_key) };
}

/** A row of ingested_files as recordFiles took it. */
export function ingestedFile(r: Record<string, unknown>): IngestedFile {
  const key = typeof r.attempt_key === 'string' ? r.attempt_key : null;
  return {
    path: String(r.path),
    unit_path: String(r.unit_path),
    size: Number(r.size),
    mtime_ms: Number(r.mtime_ms),
    codec: String(r.codec),
    app_id: typeof r.app_id === 'string' ? r.app_id : null,
    attempt_id: key === null || key === '' ? null : key,
    status: r.status === 'ok' ? 'ok' : 'problems',
  };
}

/** A row of ingested_files read without errors, as the incremental rule needs it. */
export function knownFile(r: Record<string, unknown>): KnownFile {
  return { unit_path: String(r.unit_path), path: String(r.path), size: Number(r.size), mtime_ms: Number(r.mtime_ms) };
}

/**
 * A run's state (RunState) from its row and, for an unfinished run that names its owner, its store's
 * judge (`gone`). Without one (a bare database, SqlJsRepository on its own: no store keeps a sign of
 * life for it) nothing tells: unknown.
 */
export function runState(run: RecordedRun, gone: RunGone | undefined): RunState {
  if (run.finished !== null) return 'finished';
  if (run.owner === null || gone === undefined) return 'unknown';
  return gone({ ...run, owner: run.owner }) ? 'interrupted' : 'running';
}

/**
 * A row of collection_runs, its state judged by `gone` (runState). A row read from a schema before 13
 * (a reader of an older server database) has no owner columns: no owner.
 */
export function runRow(r: Record<string, unknown>, gone: RunGone | undefined): RunRow {
  const owner: RunOwner | null =
    typeof r.host === 'string' && r.pid !== null && r.pid !== undefined && typeof r.heartbeat === 'string' ? { host: r.host, pid: Number(r.pid), heartbeat: r.heartbeat } : null;
  const run: RecordedRun = {
    run_id: String(r.run_id),
    source: String(r.source),
    options: JSON.parse(String(r.options)) as Record<string, unknown>,
    started: String(r.started),
    finished: typeof r.finished === 'string' ? r.finished : null,
    seen: Number(r.seen),
    new: Number(r.new),
    updated: Number(r.updated),
    unchanged: Number(r.unchanged),
    skipped: Number(r.skipped),
    failed: Number(r.failed),
    errors: JSON.parse(String(r.errors)) as string[],
    owner,
  };
  return { ...run, state: runState(run, gone) };
}

/** The owner a run of this process records (startRun without one), its heartbeat `now`. */
export const ownerNow = (now: Date): RunOwner => ({ ...thisHolder(), heartbeat: now.toISOString() });

/** A row of regressions. */
export function storedRegression(row: Record<string, unknown>): StoredRegression {
  const key = String(row.attempt_key);
  const words = {
    app_id: String(row.app_id),
    attempt_id: key === '' ? null : key,
    status: String(row.status) as RegressionStatus,
    summary: String(row.summary),
    explanation: String(row.explanation),
  };
  const stored: StoredRegression = { ...words, check: typeof row.check_json === 'string' ? unpackCheck(row.check_json, words) : null, checked_at: String(row.checked_at) };
  // Read with its run (regressions()): a stored check is of the run as stored, since upsert drops the check of a run it changes.
  if (typeof row.run_status === 'string') stored.of = { status: row.run_status as AppStatus, end_time: typeof row.run_end === 'string' ? row.run_end : null };
  return stored;
}

/** The parameters of saveRegressions' condition on the run (`? IS NULL OR (status = ? AND end_time IS ?)`): none when `of` is absent. */
export const runVersionParams = (of: RunVersion | undefined): (string | null)[] => [of?.status ?? null, of?.status ?? null, of?.end_time ?? null];

/** What both stores run to finish a run (`?` parameters: finishRunParams). */
export const FINISH_RUN_SQL = 'UPDATE collection_runs SET finished = ?, seen = ?, new = ?, updated = ?, unchanged = ?, skipped = ?, failed = ?, errors = ? WHERE run_id = ?';
export const finishRunParams = (runId: string, counts: RunCounts, errors: readonly string[], now: Date): (string | number)[] => [
  now.toISOString(),
  counts.seen,
  counts.new,
  counts.updated,
  counts.unchanged,
  counts.skipped,
  counts.failed,
  JSON.stringify(errors),
  runId,
];
/** A cursor key (registry CursorKey): a source's name and the scope (server, shard) its runs listed. */
export interface ListingScope {
  source: string;
  scope: string;
}
/** The newest runs of a source that recorded a cursor (any scope: the scope is compared in newestListedThrough). */
export const LISTED_THROUGH_SQL = `SELECT options FROM collection_runs WHERE source = ? AND finished IS NOT NULL AND options LIKE '%"${LISTED_THROUGH}"%' ORDER BY started DESC LIMIT 200`;
/** The newest end time that rows of LISTED_THROUGH_SQL recorded for `scope`. */
export function newestListedThrough(rows: readonly Record<string, unknown>[], scope: string): string | null {
  let newest: string | null = null;
  for (const r of rows) {
    const l = (JSON.parse(String(r.options)) as Record<string, { end_time?: unknown; scope?: unknown } | undefined>)[LISTED_THROUGH];
    if (l?.scope === scope && typeof l.end_time === 'string' && (newest === null || l.end_time > newest)) newest = l.end_time;
  }
  return newest;
}
/** Records a run with its owner, or replaces the options of one recorded (the cursor it listed through, once known): startRunParams. */
export const START_RUN_SQL =
  'INSERT INTO collection_runs (run_id, source, options, started, host, pid, heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET options = excluded.options';
export const startRunParams = (runId: string, source: string, options: Record<string, unknown>, now: Date, owner: RunOwner | null): (string | number | null)[] => [
  runId,
  source,
  JSON.stringify(options),
  now.toISOString(),
  owner?.host ?? null,
  owner?.pid ?? null,
  owner?.heartbeat ?? null,
];
/** uncheckedRuns, for both stores. */
export const UNCHECKED_RUNS_SQL = `SELECT app_id, attempt_key FROM applications a WHERE source = ?
   AND NOT EXISTS (SELECT 1 FROM regressions g WHERE g.app_id = a.app_id AND g.attempt_key = a.attempt_key)
 ORDER BY app_name, ${runTime('a')}, app_id, attempt_key LIMIT ?`;
/** The groups of laterRuns as a table `g` (`?`: laterRunsParams). */
export const laterRunsGroups = (groups: number): string => `WITH g (app_name, source, t) AS (VALUES ${Array.from({ length: groups }, () => '(?, ?, ?)').join(', ')})`;
/**
 * laterRuns of `groups` groups (`?`: laterRunsParams) on the embedded file (postgres/repository.ts
 * has the server's): each group walks index apps_baseline (migration 7) from its time on for the
 * completed runs, and index apps_failed_history (migration 11, the same columns) for the failed ones;
 * a condition on both statuses would use neither partial index. CROSS JOIN keeps SQLite's loop over
 * the groups outside; as a JOIN it scanned applications (5 s for 1,000 groups over 100,000 runs, now 15 ms).
 */
export const laterRunsSql = (groups: number): string => {
  const of = (status: AppStatus): string => `SELECT ${historyRunColumns('a')} FROM g CROSS JOIN applications a
   WHERE a.app_name = g.app_name AND a.source = g.source AND a.status = '${status}' AND ${runTime('a')} > g.t`;
  return `${laterRunsGroups(groups)}
 ${of('completed')}
 UNION ALL ${of('failed')}`;
};
export const laterRunsParams = (groups: readonly RunGroup[]): string[] => groups.flatMap((g) => [g.app_name, g.source, g.time]);
export const laterRun = (r: Record<string, unknown>): LaterRun => ({ ...appKey(r), app_name: String(r.app_name), source: String(r.source), time: String(r.t), status: String(r.status) as AppStatus });
/** What a run's row gives of it as a LaterRun (laterRun reads it), from table alias `a`. */
export const historyRunColumns = (a: string): string => `${a}.app_id, ${a}.attempt_key, ${a}.app_name, ${a}.source, ${runTime(a)} AS t, ${a}.status`;
/** Rows of alias `a` that are in a history, so in some later run's baseline: completed, with a name and a time (baselinesSql). */
export const inHistory = (a: string): string => `${a}.status = 'completed' AND ${a}.app_name IS NOT NULL AND ${runTime(a)} IS NOT NULL`;
/** Files read without errors. */
export const KNOWN_FILES_SQL = "SELECT unit_path, path, size, mtime_ms FROM ingested_files WHERE status = 'ok'";

export class SqlJsRepository implements JobRepository {
  /**
   * `runGone`: how the store this database is the file of judges its runs' processes (JobStore: by
   * each run's file). Without it, as a bare database, an unfinished run's state is unknown.
   */
  constructor(
    private readonly db: Database,
    private readonly runGone?: RunGone,
  ) {}

  private all(sql: string, params: SqlValue[] = []): Record<string, SqlValue>[] {
    return allRows(this.db, sql, params);
  }

  private run(sql: string, params: SqlValue[] = []): number {
    this.db.run(sql, params);
    return this.db.getRowsModified();
  }

  /** Runs `fn` in one transaction (all or nothing). */
  transaction<T>(fn: () => T): T {
    return transaction(this.db, fn);
  }

  create(record: SparkAppRecord, now = new Date()): void {
    if (this.get(record)) throw new Error(`application ${record.app_id} attempt ${record.attempt_id ?? '(none)'} already exists`);
    this.upsert([record], now);
  }

  /**
   * Goes through the records a window at a time, so that what is held stays bounded: decides what
   * each record of the window changes (a record given twice counts as the later change to the
   * first), then writes the window's new and changed rows with their environments in blocks, and
   * their summaries' rows, in the same transaction.
   */
  upsert(items: readonly UpsertItem[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const counts: UpsertCounts = { new: 0, updated: 0, unchanged: 0 };
    const stored: AppKey[] = [];
    const gone: LaterRun[] = [];
    const stamp = now.toISOString();
    const insert = this.db.prepare(`INSERT INTO applications (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
    const update = this.db.prepare(
      `UPDATE applications SET ${[...RECORD_FIELDS, ...BLOCK_COLUMNS, ...SUMMARY_COLUMNS, 'summaries_hash', 'record_hash', 'last_updated'].map((c) => `${c} = ?`).join(', ')} WHERE app_id = ? AND attempt_key = ?`,
    );
    const updateSummaries = this.db.prepare(`UPDATE applications SET ${[...SUMMARY_COLUMNS, 'summaries_hash', 'last_updated'].map((c) => `${c} = ?`).join(', ')} WHERE app_id = ? AND attempt_key = ?`);
    const addBlock = this.db.prepare('INSERT INTO environment_blocks (data) VALUES (?)');
    const dropCheck = this.db.prepare('DELETE FROM regressions WHERE app_id = ? AND attempt_key = ?');
    const decide = (window: readonly UpsertItem[]): { changes: Change[]; replacedBlocks: Set<number>; replacedSummaryBlocks: Set<number> } => {
      const changes = new Map<string, Change>();
      const replacedBlocks = new Set<number>();
      const replacedSummaryBlocks = new Set<number>();
      // What the window's keys have stored, in one read (a statement per record cost more than its row).
      const storedRows = new Map<string, SqlValue[]>();
      const keys = window.map((item) => entryOf(item).record);
      for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
        const chunk = keys.slice(i, i + KEYS_PER_QUERY);
        const rows = this.db.exec(
          `SELECT app_id, attempt_key, record_hash, status, env_block, summaries_hash, summaries_block FROM applications WHERE (app_id, attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
          chunk.flatMap((r) => [r.app_id, attemptKey(r.attempt_id)]),
        )[0]?.values;
        for (const row of rows ?? []) storedRows.set(keyId(String(row[0]), String(row[1])), row.slice(2));
      }
      for (const item of window) {
        const entry = entryOf(item);
        const record = entry.record;
        const summaries = entry.summaries && summariesToStore(entry.summaries);
        const key = attemptKey(record.attempt_id);
        const envJson = JSON.stringify(record.environment);
        const hash = recordHash(record, envJson);
        const id = keyId(record.app_id, key);
        const earlier = changes.get(id);
        let before: { hash: SqlValue; status: SqlValue; block?: SqlValue; sumHash: SqlValue; sumBlock?: SqlValue } | undefined = earlier && {
          hash: earlier.hash,
          status: earlier.record.status,
          block: earlier.storedBlock,
          sumHash: earlier.summariesHash,
          sumBlock: earlier.storedSummariesBlock,
        };
        if (!earlier) {
          const row = storedRows.get(id);
          if (row !== undefined) before = { hash: row[0]!, status: row[1]!, block: row[2], sumHash: row[3]!, sumBlock: row[4] };
        }
        const sumHash = summaries ? hashAgainst(summaries, before?.sumHash) : null;
        const change: Change = {
          record,
          key,
          envJson,
          hash,
          stored: earlier?.stored ?? before !== undefined,
          summaries,
          summariesHash: sumHash,
          summariesOnly: false,
          storedBlock: before?.block,
          storedSummariesBlock: before?.sumBlock,
        };
        const verdict = upsertVerdict(before, hash, record.status, sumHash);
        if (verdict === 'new') {
          changes.set(id, change);
          counts.new++;
        } else if (verdict === 'unchanged') {
          counts.unchanged++;
        } else if (verdict === 'summaries') {
          // The same record with other summaries (first read with them, or read again better).
          changes.set(id, earlier ? { ...earlier, summaries, summariesHash: sumHash } : { ...change, summariesOnly: true });
          if (typeof before!.sumBlock === 'number') replacedSummaryBlocks.add(before!.sumBlock);
          counts.updated++;
        } else {
          changes.set(id, change);
          if (typeof before!.block === 'number') replacedBlocks.add(before!.block);
          // Its summaries go with it: replaced by those it comes with, or none.
          if (typeof before!.sumBlock === 'number') replacedSummaryBlocks.add(before!.sumBlock);
          counts.updated++;
        }
      }
      return { changes: [...changes.values()], replacedBlocks, replacedSummaryBlocks };
    };
    const write = (changes: readonly Change[]): void => {
      // A changed record without summaries loses those of the copy it replaces (NO_SUMMARIES).
      const withSummaries = changes.filter((c) => c.summaries !== undefined);
      const places = new Map<Change, SummaryPlace>();
      writeSummaryBlocks(this.db, withSummaries.map((c) => c.summaries!.bytes)).forEach((place, k) => places.set(withSummaries[k]!, place));
      const summaryValues = (c: Change): readonly SqlValue[] => places.get(c) ?? NO_SUMMARIES;
      const records = changes.filter((c) => !c.summariesOnly);
      for (let i = 0; i < records.length; i += BLOCK_RECORDS) {
        const group = records.slice(i, i + BLOCK_RECORDS);
        const { data, ranges } = packEnvironments(group.map((c) => c.envJson));
        addBlock.run([data]);
        const block = Number(this.db.exec('SELECT last_insert_rowid()')[0]!.values[0]![0]);
        group.forEach((c, k) => {
          const values = [...toRow(c.record), block, ...ranges[k]!, ...summaryValues(c)];
          if (c.stored) {
            update.run([...values, c.summariesHash, c.hash, stamp, c.record.app_id, c.key]);
            // The check was of the record it replaces (a running run's 'unfinished', say).
            dropCheck.run([c.record.app_id, c.key]);
          } else insert.run([...values, c.summariesHash, c.key, c.hash, stamp, stamp]);
        });
      }
      for (const c of changes) if (c.summariesOnly) updateSummaries.run([...summaryValues(c), c.summariesHash, stamp, c.record.app_id, c.key]);
      for (const c of changes) stored.push({ app_id: c.record.app_id, attempt_id: c.record.attempt_id });
    };
    try {
      this.transaction(() => {
        const { keep, skipped, remove } = supersede(items, (source, ids) => this.storedNames(source, ids));
        counts.unchanged += skipped;
        for (let w = 0; w < keep.length; w += UPSERT_WINDOW) {
          const { changes, replacedBlocks, replacedSummaryBlocks } = decide(keep.slice(w, w + UPSERT_WINDOW));
          write(changes);
          for (const block of replacedBlocks) this.run('DELETE FROM environment_blocks WHERE id = ? AND NOT EXISTS (SELECT 1 FROM applications WHERE env_block = ?)', [block, block]);
          dropUnusedSummaryBlocks(this.db, replacedSummaryBlocks);
        }
        const platform = remove.length > 0 ? this.platformKeys(remove) : [];
        if (platform.length > 0) counts.removed = this.deleteRows(platform, removed && gone);
      });
    } finally {
      insert.free();
      update.free();
      updateSummaries.free();
      addBlock.free();
      dropCheck.free();
    }
    // Only once the transaction committed: a call that failed stored nothing.
    if (changed) pushAll(changed, stored);
    if (removed) pushAll(removed, gone);
    return counts;
  }

  /**
   * Reads environment blocks for the rows of one read. The last few inflated blocks are kept: rows
   * read together were mostly written together, and a read of everything should not hold every block.
   */
  private blockReader(): BlockReader {
    const inflated = new Map<number, Buffer>();
    return (id) => {
      let block = inflated.get(id);
      if (!block) {
        const data = this.all('SELECT data FROM environment_blocks WHERE id = ?', [id])[0]?.data;
        if (!(data instanceof Uint8Array)) throw new Error(`the database has lost environment block ${id}`);
        // One 256 KiB output chunk instead of 16 KiB ones joined after: a third less CPU per block (~150 KB inflated), less garbage.
        block = inflateRawSync(data, { chunkSize: 256 * 1024 });
        if (inflated.size >= 8) inflated.delete(inflated.keys().next().value!);
        inflated.set(id, block);
      }
      return block;
    };
  }

  private records(sql: string, params: SqlValue[]): SparkAppRecord[] {
    const block = this.blockReader();
    return this.all(sql, params).map((row) => fromRow(row, block));
  }

  /** Blocks no row points to any more (after deletes). */
  private dropUnusedBlocks(): void {
    this.run('DELETE FROM environment_blocks WHERE id NOT IN (SELECT env_block FROM applications WHERE env_block IS NOT NULL)');
  }

  get(key: AppKey): SparkAppRecord | undefined {
    return this.records('SELECT * FROM applications WHERE app_id = ? AND attempt_key = ?', [key.app_id, attemptKey(key.attempt_id)])[0];
  }

  summariesOf(key: AppKey): AppSummaries | undefined {
    return readSummaries(this.db, key.app_id, attemptKey(key.attempt_id));
  }

  summariesOfMany(keys: readonly AppKey[]): (AppSummaries | undefined)[] {
    return keys.map((k) => this.summariesOf(k));
  }

  getByAppId(appId: string): SparkAppRecord[] {
    return this.records('SELECT * FROM applications WHERE app_id = ? ORDER BY attempt_key', [appId]);
  }

  previousRun(record: SparkAppRecord): SparkAppRecord | undefined {
    // A run's time: its start, else its submission, else its end (the order the Jobs tree shows them in).
    const at = record.start_time ?? record.submit_time ?? record.end_time;
    if (record.app_name === null || at === null) return undefined;
    return this.records(
      `SELECT * FROM applications
        WHERE app_name = ? AND NOT (app_id = ? AND attempt_key = ?) AND COALESCE(start_time, submit_time, end_time) < ?
        ORDER BY COALESCE(start_time, submit_time, end_time) DESC, app_id DESC, attempt_key DESC LIMIT 1`,
      [record.app_name, record.app_id, attemptKey(record.attempt_id), at],
    )[0];
  }

  baselineRuns(record: RunRef, n: number): SparkAppRecord[] {
    const at = record.start_time ?? record.submit_time ?? record.end_time;
    if (record.app_name === null || at === null || n < 1) return [];
    // Walks index apps_baseline (migration 7) backwards from the run's time and stops after n rows.
    return this.records(
      `SELECT * FROM applications
        WHERE app_name = ? AND source = ? AND status = 'completed' AND COALESCE(start_time, submit_time, end_time) < ? AND NOT (app_id = ? AND attempt_key = ?)
        ORDER BY COALESCE(start_time, submit_time, end_time) DESC, app_id DESC, attempt_key DESC LIMIT ?`,
      [record.app_name, record.source, at, record.app_id, attemptKey(record.attempt_id), Math.floor(n)],
    );
  }

  /**
   * Each run's figures and its baseline. Runs of one application name and source are answered
   * together when that is cheaper (groupBaselines): one read of the group's baseline candidates,
   * each row read once, instead of each run walking its own baseline (baselinesSql). A first
   * collection of 10,000 runs of a few names spent 0.6 s reading baselines run by run, each of its
   * baseline rows built as JSON ten times over (issue #12).
   */
  baselines<F extends FigureField>(keys: readonly AppKey[], n: number | ((run: RecordFigures) => number), fields: readonly F[]): RunBaseline<F>[] {
    const known = fields.filter((f) => FIGURE_FIELDS.includes(f));
    if (known.length !== fields.length) throw new Error(`not fields of a record's figures: ${fields.filter((f) => !known.includes(f)).join(', ')}`);
    const sizeOf = (run: RecordFigures): number => Math.max(0, Math.floor(typeof n === 'number' ? n : n(run)));
    const runs = new Map<string, RecordFigures>();
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const rows = this.db.exec(
        `SELECT ${jsonObject('r', FIGURE_FIELDS)} FROM applications r WHERE (r.app_id, r.attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
        chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]),
      )[0]?.values ?? [];
      for (const [text] of rows) {
        const r = JSON.parse(String(text)) as RecordFigures;
        runs.set(appKeyId(r), r);
      }
    }
    // Runs by name and source; a run without either, or without a time, has no baseline.
    const groups = new Map<string, RecordFigures[]>();
    const found = new Map<string, RunBaseline<F>>();
    for (const [id, run] of runs) {
      if (run.app_name === null || runTimeOf(run) === null || sizeOf(run) === 0) {
        found.set(id, { run, baseline: [] });
        continue;
      }
      const g = `${run.app_name}\u0000${run.source}`;
      const same = groups.get(g);
      if (same) same.push(run);
      else groups.set(g, [run]);
    }
    const oneByOne = new Map<number, RecordFigures[]>();
    for (const group of groups.values()) {
      const answered = this.groupBaselines(group, sizeOf, known);
      if (answered === null) {
        for (const run of group) {
          const same = oneByOne.get(sizeOf(run));
          if (same) same.push(run);
          else oneByOne.set(sizeOf(run), [run]);
        }
        continue;
      }
      group.forEach((run, k) => found.set(appKeyId(run), { run, baseline: answered[k]! }));
    }
    for (const [size, group] of oneByOne) {
      for (let i = 0; i < group.length; i += KEYS_PER_QUERY) {
        const chunk = group.slice(i, i + KEYS_PER_QUERY);
        const stmt = this.db.prepare(baselinesSql(chunk.length, known));
        try {
          stmt.bind([size, ...chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)])]);
          while (stmt.step()) {
            // The runs' figures were read above; this read gives their baselines.
            const [appId, key, baseline] = stmt.get() as [string, string, string];
            const id = keyId(appId, key);
            found.set(id, { run: runs.get(id)!, baseline: JSON.parse(baseline) as Pick<RecordFigures, F>[] });
          }
        } finally {
          stmt.free();
        }
      }
    }
    return keys.flatMap((k) => found.get(appKeyId(k)) ?? []);
  }

  /**
   * The baselines of runs of one name and source (each with a time), in one read: the completed runs
   * of the group from the earliest run's time to the latest's, and the `size` before that, in
   * baselinesSql's order; each run's baseline is then the first of them older than it. Null (ask run
   * by run) when that read would be much longer than the baselines themselves (a few new runs spread
   * over a long history), or when a time is not ASCII text, whose order this thread would not compare
   * as SQLite does.
   */
  private groupBaselines<F extends FigureField>(group: readonly RecordFigures[], sizeOf: (run: RecordFigures) => number, fields: readonly F[]): Pick<RecordFigures, F>[][] | null {
    const times = group.map((r) => runTimeOf(r)!);
    if (!times.every(isAscii)) return null;
    const size = Math.max(...group.map(sizeOf));
    const [from, to] = [times.reduce((a, b) => (b < a ? b : a)), times.reduce((a, b) => (b > a ? b : a))];
    const { app_name: name, source } = group[0]!;
    const inGroup = `app_name = ? AND source = ? AND status = 'completed'`;
    const between = Number(this.db.exec(`SELECT count(*) FROM applications WHERE ${inGroup} AND ${runTime('applications')} >= ? AND ${runTime('applications')} < ?`, [name, source, from, to])[0]!.values[0]![0]);
    // Each row read once against each run walking its own: worth it unless the span holds far more rows.
    if (between + size > 2 * group.length * size) return null;
    const columns = `${fields.join(', ')}, ${runTime('applications')} AS t, app_id AS k1, attempt_key AS k2`;
    const stmt = this.db.prepare(
      `SELECT * FROM (
         SELECT ${columns} FROM applications WHERE ${inGroup} AND ${runTime('applications')} >= ? AND ${runTime('applications')} < ?
         UNION ALL
         SELECT * FROM (SELECT ${columns} FROM applications WHERE ${inGroup} AND ${runTime('applications')} < ? ORDER BY t DESC, k1 DESC, k2 DESC LIMIT ?)
       ) ORDER BY t DESC, k1 DESC, k2 DESC`,
    );
    const rows: Pick<RecordFigures, F>[] = [];
    const rowTimes: string[] = [];
    try {
      stmt.bind([name, source, from, to, name, source, from, size]);
      while (stmt.step()) {
        const values = stmt.get();
        const t = values[fields.length];
        if (typeof t !== 'string' || !isAscii(t)) return null;
        const row: Record<string, unknown> = {};
        fields.forEach((f, i) => {
          row[f] = JSON_FIELDS.has(f) ? (JSON.parse(String(values[i])) as unknown) : values[i];
        });
        rows.push(row as Pick<RecordFigures, F>);
        rowTimes.push(t);
      }
    } finally {
      stmt.free();
    }
    // rowTimes descend: a run's baseline starts at the first row strictly older than it.
    return group.map((run, k) => {
      const t = times[k]!;
      let lo = 0;
      let hi = rowTimes.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (rowTimes[mid]! >= t) lo = mid + 1;
        else hi = mid;
      }
      return rows.slice(lo, lo + sizeOf(run));
    });
  }

  environments(keys: readonly AppKey[]): Record<string, string>[] {
    const block = this.blockReader();
    const envs = new Map<string, Record<string, string>>();
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      // By block, so that each block is inflated once (the reader keeps the last few).
      const rows = this.all(
        `SELECT app_id, attempt_key, environment, env_block, env_start, env_end FROM applications
          WHERE (app_id, attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')}) ORDER BY env_block`,
        chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]),
      );
      for (const row of rows) {
        const env: unknown =
          row.env_block !== null && row.env_block !== undefined
            ? JSON.parse(block(Number(row.env_block)).toString('utf8', Number(row.env_start), Number(row.env_end)))
            : unpack(row.environment!);
        envs.set(keyId(String(row.app_id), String(row.attempt_key)), env as Record<string, string>);
      }
    }
    return keys.map((k) => envs.get(appKeyId(k)) ?? {});
  }

  saveRegressions(checks: readonly (RegressionCheck | RegressionRow)[], now = new Date()): number {
    const stamp = now.toISOString();
    const rowOf = (c: RegressionCheck | RegressionRow): RegressionRow => ('check' in c ? c : regressionRow(c));
    // Only for a run still stored, as it was checked: a merge may replay checks onto a database where
    // another writer deleted the run, or stored a finished copy where this one checked a running one.
    const stmt = this.db.prepare(
      `INSERT OR REPLACE INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at)
       SELECT ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), ?
        WHERE EXISTS (SELECT 1 FROM applications WHERE app_id = ? AND attempt_key = ? AND (? IS NULL OR (status = ? AND end_time IS ?)))`,
    );
    try {
      return this.transaction(() => {
        let n = 0;
        for (const c of checks.map(rowOf)) {
          const key = attemptKey(c.attempt_id);
          stmt.run([c.app_id, key, c.status, textParam(c.summary), textParam(c.explanation), textParam(c.check === null ? null : packCheck(c.check)), stamp, c.app_id, key, ...runVersionParams(c.of)]);
          n += this.db.getRowsModified();
        }
        return n;
      });
    } finally {
      stmt.free();
    }
  }

  regressions(keys: readonly AppKey[]): (StoredRegression | null)[] {
    const found = new Map<string, StoredRegression>();
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const rows = this.all(
        `SELECT g.*, a.status AS run_status, a.end_time AS run_end FROM regressions g LEFT JOIN applications a ON a.app_id = g.app_id AND a.attempt_key = g.attempt_key
          WHERE (g.app_id, g.attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
        chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]),
      );
      for (const row of rows) {
        found.set(keyId(String(row.app_id), String(row.attempt_key)), storedRegression(row));
      }
    }
    return keys.map((k) => found.get(appKeyId(k)) ?? null);
  }

  uncheckedRuns(source: string, limit: number): AppKey[] {
    return this.all(UNCHECKED_RUNS_SQL, [source, limit]).map(appKey);
  }

  laterRuns(groups: readonly RunGroup[]): LaterRun[] {
    const out: LaterRun[] = [];
    for (let i = 0; i < groups.length; i += KEYS_PER_QUERY) {
      const chunk = groups.slice(i, i + KEYS_PER_QUERY);
      for (const r of this.all(laterRunsSql(chunk.length), laterRunsParams(chunk))) out.push(laterRun(r));
    }
    return out;
  }

  /** Each stored run's status and end, in the keys' order (null: not stored): what a check is of (RegressionRow.of). */
  runVersions(keys: readonly AppKey[]): (RunVersion | null)[] {
    const found = new Map<string, RunVersion>();
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const rows = this.all(
        `SELECT app_id, attempt_key, status, end_time FROM applications WHERE (app_id, attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')})`,
        chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]),
      );
      for (const r of rows) found.set(keyId(String(r.app_id), String(r.attempt_key)), { status: String(r.status) as AppStatus, end_time: typeof r.end_time === 'string' ? r.end_time : null });
    }
    return keys.map((k) => found.get(appKeyId(k)) ?? null);
  }

  list(query: JobQuery = {}): SparkAppRecord[] {
    const { sql, params } = where(query);
    const sort = query.sort !== undefined && isRecordColumn(query.sort) ? query.sort : 'end_time';
    const dir = query.descending === false ? 'ASC' : 'DESC';
    const limit = Math.max(0, Math.floor(query.limit ?? -1));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    // Sort and page narrow rows (an index covers end/start time), then fetch the page's full rows.
    const order = `ORDER BY ${sortKey(sort)} ${dir}, ${tieBreak(sort)}app_id ${dir}, attempt_key ${dir}`;
    return this.records(`SELECT * FROM applications WHERE rowid IN (SELECT rowid FROM applications ${sql} ${order} LIMIT ? OFFSET ?) ${order}`, [
      ...params,
      query.limit === undefined ? -1 : limit,
      offset,
    ]);
  }

  count(query: JobQuery = {}): number {
    const { sql, params } = where(query);
    return Number(this.all(`SELECT COUNT(*) AS n FROM applications ${sql}`, params)[0]?.n ?? 0);
  }

  groupCounts(by: GroupField, query: JobQuery = {}): { key: string; count: number }[] {
    const expr = by === 'day' ? `substr(${WHERE_TIME}, 1, 10)` : column(GROUP_FIELDS.includes(by) ? by : 'source');
    const { sql, params } = where(query);
    return this.all(`SELECT ${expr} AS k, COUNT(*) AS n FROM applications ${sql} GROUP BY k ORDER BY ${by === 'day' ? 'k DESC' : 'lower(k), k'}`, params).map((r) => ({
      key: r.k === null ? '' : String(r.k),
      count: Number(r.n),
    }));
  }

  delete(keys: readonly AppKey[], removed?: LaterRun[]): number {
    const gone: LaterRun[] = [];
    const n = this.transaction(() => this.deleteRows(keys, removed && gone));
    if (removed) pushAll(removed, gone);
    return n;
  }

  /** delete() inside a transaction already open (upsert's supersede); `removed`, when given, receives the rows in a history. */
  private deleteRows(keys: readonly AppKey[], removed?: LaterRun[]): number {
    for (let i = 0; removed !== undefined && i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const sql = `SELECT ${historyRunColumns('a')} FROM applications a WHERE (a.app_id, a.attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')}) AND ${inHistory('a')}`;
      for (const r of this.all(sql, chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]))) removed.push(laterRun(r));
    }
    let n = 0;
    for (const k of keys) {
      n += this.run('DELETE FROM applications WHERE app_id = ? AND attempt_key = ?', [k.app_id, attemptKey(k.attempt_id)]);
      this.run('DELETE FROM ingested_files WHERE app_id = ? AND attempt_key = ?', [k.app_id, attemptKey(k.attempt_id)]);
      this.run('DELETE FROM regressions WHERE app_id = ? AND attempt_key = ?', [k.app_id, attemptKey(k.attempt_id)]);
    }
    this.dropUnusedBlocks();
    dropUnusedSummaryBlocks(this.db);
    return n;
  }

  /** supersede's stored side: of these platform-level app ids of `source`, those a stored record of it names. */
  private storedNames(source: string, appIds: readonly string[]): string[] {
    const out: string[] = [];
    // Only the source's rows (index apps_source) whose tags name some record are parsed.
    for (let i = 0; i < appIds.length; i += KEYS_PER_QUERY) {
      const chunk = appIds.slice(i, i + KEYS_PER_QUERY);
      const rows = this.all(`SELECT DISTINCT json_extract(tags, '$.${REPLACES_TAG}') AS v FROM applications WHERE source = ? AND tags LIKE ? AND json_extract(tags, '$.${REPLACES_TAG}') IN (${chunk.map(() => '?').join(', ')})`, [source, REPLACES_LIKE, ...chunk]);
      for (const r of rows) out.push(String(r.v));
    }
    return out;
  }

  /** Of these keys, the stored rows flagged platform-level: all supersede may remove. */
  private platformKeys(keys: readonly AppKey[]): AppKey[] {
    // One statement per KEYS_PER_QUERY keys, as runVersions: a batch of records each naming its platform-level one asked once per key.
    const out: AppKey[] = [];
    for (let i = 0; i < keys.length; i += KEYS_PER_QUERY) {
      const chunk = keys.slice(i, i + KEYS_PER_QUERY);
      const sql = `SELECT app_id, attempt_key FROM applications WHERE (app_id, attempt_key) IN (VALUES ${chunk.map(() => '(?, ?)').join(', ')}) AND quality LIKE ?`;
      pushAll(out, this.all(sql, [...chunk.flatMap((k) => [k.app_id, attemptKey(k.attempt_id)]), `%"${Quality.platformLevel}"%`]).map(appKey));
    }
    return out;
  }

  applyRetention(days: number, now = new Date(), removed?: LaterRun[]): number {
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
    const gone: LaterRun[] = [];
    const n = this.transaction(() => {
      if (removed) pushAll(gone, this.all(`SELECT ${historyRunColumns('a')} FROM applications a WHERE ${WHERE_TIME} < ? AND ${inHistory('a')}`, [cutoff]).map(laterRun));
      // The checks first, while their rows still say which runs go.
      this.run(`DELETE FROM regressions WHERE (app_id, attempt_key) IN (SELECT app_id, attempt_key FROM applications WHERE ${WHERE_TIME} < ?)`, [cutoff]);
      const dropped = this.run(`DELETE FROM applications WHERE ${WHERE_TIME} < ?`, [cutoff]);
      if (dropped > 0) {
        this.dropUnusedBlocks();
        dropUnusedSummaryBlocks(this.db);
      }
      return dropped;
    });
    if (removed) pushAll(removed, gone);
    return n;
  }

  /** In memory, nothing is durable until the store saves, which never falls between the two. */
  storeBatch(items: readonly UpsertItem[], files: readonly IngestedFile[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const counts = this.upsert(items, now, changed, removed);
    if (files.length > 0) this.recordFiles(files, now);
    return counts;
  }

  recordFiles(files: readonly IngestedFile[], now = new Date()): void {
    const stamp = now.toISOString();
    const stmt = this.db.prepare(
      `INSERT INTO ingested_files (path, unit_path, size, mtime_ms, codec, app_id, attempt_key, status, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (path) DO UPDATE SET unit_path = excluded.unit_path, size = excluded.size, mtime_ms = excluded.mtime_ms,
         codec = excluded.codec, app_id = excluded.app_id, attempt_key = excluded.attempt_key, status = excluded.status, last_seen = excluded.last_seen`,
    );
    try {
      this.transaction(() => {
        for (const f of files) stmt.run([f.path, f.unit_path, f.size, f.mtime_ms, f.codec, f.app_id, f.app_id === null ? null : attemptKey(f.attempt_id), f.status, stamp]);
      });
    } finally {
      stmt.free();
    }
  }

  newestEndTime(of: ListingScope): string | null {
    return newestListedThrough(this.all(LISTED_THROUGH_SQL, [of.source]), of.scope);
  }

  knownFiles(): KnownFile[] {
    return this.all(KNOWN_FILES_SQL).map(knownFile);
  }

  ingestedFiles(): IngestedFile[] {
    return this.all('SELECT * FROM ingested_files ORDER BY path').map(ingestedFile);
  }

  /** A run of this process records it as its owner; the file it holds is JobStore's (a bare database has no file). */
  startRun(runId: string, source: string, options: Record<string, unknown>, now = new Date(), owner?: RunOwner | null): void {
    this.run(START_RUN_SQL, startRunParams(runId, source, options, now, owner === undefined ? ownerNow(now) : owner));
  }

  finishRun(runId: string, counts: RunCounts, errors: readonly string[], now = new Date()): void {
    this.run(FINISH_RUN_SQL, finishRunParams(runId, counts, errors, now));
  }

  listRuns(limit = 50): RunRow[] {
    return this.all('SELECT * FROM collection_runs ORDER BY started DESC LIMIT ?', [limit]).map((r) => runRow(r, this.runGone));
  }

  latestRuns(): RunRow[] {
    return this.all(LATEST_RUNS_SQL, []).map((r) => runRow(r, this.runGone));
  }

  /** Writes `now` as the heartbeat of those of the runs still unfinished (JobStore: at each save, the row's last sign of life). */
  beatRuns(runIds: readonly string[], now: Date): void {
    // A process runs a run per source at a time: a statement each.
    for (const id of runIds) this.run('UPDATE collection_runs SET heartbeat = ? WHERE run_id = ? AND finished IS NULL', [now.toISOString(), id]);
  }

  /** Whether the run is recorded (JobStore: only a new run of this process holds a file). */
  runRecorded(runId: string): boolean {
    return this.all('SELECT 1 FROM collection_runs WHERE run_id = ?', [runId]).length > 0;
  }
}
