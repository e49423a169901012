/**
 * JobRepository on a shared PostgreSQL server (issue 17), beside SqlJsRepository (the workspace file).
 * Both keep the same rules and answer the same behaviour tests (describeEachStore, test/support/stores.ts):
 * what differs is how the rows are laid out (migrations.ts) and that several collectors on several
 * hosts write at once.
 *
 * Concurrent writers converge without a lock:
 * - an upsert is one transaction; each window of records is one INSERT … ON CONFLICT whose
 *   condition is upsertVerdict's rule (a finished record is never replaced by an unfinished one; the
 *   same record changes nothing but other summaries), evaluated by the server against the row as it
 *   is when the statement takes it, so a row another collector stored meanwhile is judged, not
 *   overwritten blindly;
 * - rows are written in key order (files in path order), so two transactions take their row locks
 *   in the same order; a deadlock the server still reports is retried.
 * Counts come from the statement's own answer (RETURNING: inserted, updated, or left alone).
 */
import { packCheck, type RegressionCheck } from '../../analysis/regression';
import { REPLACES_TAG } from '../../collectors/contract';
import { Quality, sparkAppRecordSchema, type AppStatus, type SparkAppRecord } from '../../collectors/record';
import type { AppSummaries } from '../../collectors/record/summaries';
import { FIELDS, isRecordColumn } from '../fields';
import {
  CheckedCopies,
  FIGURE_FIELDS,
  FINISH_RUN_SQL,
  KNOWN_FILES_SQL,
  LISTED_THROUGH_SQL,
  START_RUN_SQL,
  newestListedThrough,
  type ListingScope,
  UNCHECKED_RUNS_SQL,
  laterRunsGroups,
  laterRunsParams,
  laterRun,
  historyRunColumns,
  inHistory,
  type LaterRun,
  type RunGroup,
  finishRunParams,
  knownFile,
  runRow,
  latestRunsSql,
  ownerNow,
  startRunParams,
  type RunOwner,
  storedRegression,
  GROUP_FIELDS,
  JSON_FIELDS,
  KEYS_PER_QUERY,
  RECORD_FIELDS,
  WHERE_TIME,
  attemptKey,
  column,
  appKey,
  entryOf,
  ingestedFile,
  supersede,
  REPLACES_LIKE,
  keyId,
  recordHash,
  regressionRow,
  upsertVerdict,
  runTime,
  sortKey,
  tieBreak,
  where,
  type AppKey,
  type FigureField,
  type GroupField,
  type IngestedFile,
  type JobQuery,
  type JobRepository,
  type RecordFigures,
  type RegressionRow,
  type RunBaseline,
  type RunCounts,
  type RunRef,
  type RunRow,
  type StoredRegression,
  type UpsertCounts,
  type UpsertItem,
} from '../repository';
import { hashAgainst, summariesToStore, type SummariesToStore } from '../summaries';
import { decodeSummaries } from '../summaryCodec';
import type { KnownFile } from '../unchanged';
import { HEARTBEAT_MS, STALE_LOCK_MS, holderGone } from '../fileLock';
import { ID_PREFIX, TEXT_PREFIX, indexedKey } from './migrations';
import type { PgParam } from './protocol';
import { PostgresError, sleepSync, type SyncPgClient } from './syncClient';
import { pushAll } from '../../common/arrays';

/** `?` placeholders (the shared WHERE builder's) as PostgreSQL's `$1, $2, …`. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

const RECORD_COLUMNS = RECORD_FIELDS.map(column).join(', ');
const ROW_COLUMNS = [...RECORD_FIELDS, 'summaries', 'summaries_hash', 'attempt_key', 'record_hash', 'first_seen', 'last_updated'];
/** Records per statement (one array per column): 200 took a tenth longer per record (round trips, measured). */
const WINDOW = 1000;
const FINAL_SQL = "('completed', 'failed')";
/**
 * The conflict target of a row keyed by (app_id, attempt_key): the unique index on their indexedKeys
 * (migration 10, which any length fits); each DO UPDATE also requires the whole key to be equal.
 */
const KEY_CONFLICT = `(${indexedKey('app_id')}, ${indexedKey('attempt_key')})`;
/**
 * Rows `a` and `b` (table aliases) of one key: by the indexedKeys the unique index holds (migration
 * 10), so that a join can walk that index, then by the whole key (two long keys of one md5 are two keys).
 */
const sameKey = (a: string, b: string): string =>
  `${indexedKey(`${a}.app_id`)} = ${indexedKey(`${b}.app_id`)} AND ${indexedKey(`${a}.attempt_key`)} = ${indexedKey(`${b}.attempt_key`)} AND ${a}.app_id = ${b}.app_id AND ${a}.attempt_key = ${b}.attempt_key`;
/**
 * Deadlocks, serialization failures, and a connection lost under a statement or inside a transaction:
 * the server rolled it back, it may run again (on a new connection: pgWorker.ts reconnects). 08006:
 * the connection broke (pgWorker also says so for pg's "Connection terminated unexpectedly" and a
 * reset socket, which carry no SQLSTATE); 57P01, 57P02, 57P05: the server ended the session (an
 * administrator's shutdown or pg_terminate_backend, a crash of another backend, an idle-session
 * timeout); 57P03: the server is starting up or recovering, met as the retry reconnects (a review: a
 * backend terminated mid-statement failed the whole collect).
 */
const RETRY_CODES = new Set(['40P01', '40001', '08006', '57P01', '57P02', '57P03', '57P05']);
/** Of RETRY_CODES, those of a lost connection: retried after a pause (a server restarting takes a moment). */
const RECONNECT_CODES = new Set(['08006', '57P01', '57P02', '57P03', '57P05']);
const RETRIES = 5;
/** The pause before retry `attempt` (from 2) after a lost connection: 50, 100, 200, 400 ms. */
const reconnectPauseMs = (attempt: number): number => 50 * 2 ** (attempt - 2);

/** Whether `err` after `attempt` tries may be tried again; waits first when it was a lost connection. */
function mayRetry(err: unknown, attempt: number): boolean {
  if (!(err instanceof PostgresError && err.code !== undefined && RETRY_CODES.has(err.code)) || attempt >= RETRIES) return false;
  if (RECONNECT_CODES.has(err.code)) sleepSync(reconnectPauseMs(attempt + 1));
  return true;
}

/** Columns stored as numbers (DOUBLE PRECISION, migrations.ts): the fields that are not text or times; the others are text. */
const NUMBER_COLUMNS: ReadonlySet<string> = new Set(FIELDS.filter((f) => f.kind !== 'text' && f.kind !== 'time').map((f) => f.column));

/**
 * A table of rows given as one array parameter per column (`unnest`): one short statement, prepared
 * once per connection, however many rows. 200 rows as VALUES lists were 7,600 parameters, parsed
 * and planned anew each time (23 ms per window, measured; this takes a fraction of it).
 */
const columnsAsTable = (columns: readonly string[], types: (c: string) => string): string =>
  `SELECT * FROM unnest(${columns.map((c, i) => `$${i + 1}::${types(c)}[]`).join(', ')}) AS t(${columns.map(column).join(', ')})`;

/**
 * One window's upsert. `old` is the rows before the statement (the snapshot it starts from); the
 * insert's condition is the rule; `dropped` removes the regression check of each record that
 * changed (not of one whose summaries alone did); the answer names each row written.
 */
const UPSERT_SQL = ((): string => {
  const set = [...RECORD_FIELDS, 'record_hash', 'last_updated'].map((c) => `${column(c)} = EXCLUDED.${column(c)}`);
  const newSummaries = 'a.record_hash <> EXCLUDED.record_hash OR EXCLUDED.summaries_hash IS NOT NULL';
  return `WITH input AS (${columnsAsTable(ROW_COLUMNS, (c) => (NUMBER_COLUMNS.has(c) ? 'float8' : 'text'))}
    ), old AS (
      SELECT a.* FROM input i CROSS JOIN LATERAL (SELECT a.app_id, a.attempt_key, a.record_hash FROM applications a WHERE ${sameKey('a', 'i')} OFFSET 0) a
    ), up AS (
      INSERT INTO applications AS a (${ROW_COLUMNS.map(column).join(', ')}) SELECT * FROM input
      ON CONFLICT ${KEY_CONFLICT} DO UPDATE SET ${set.join(', ')},
        summaries = CASE WHEN ${newSummaries} THEN EXCLUDED.summaries ELSE a.summaries END,
        summaries_hash = CASE WHEN ${newSummaries} THEN EXCLUDED.summaries_hash ELSE a.summaries_hash END
      WHERE a.app_id = EXCLUDED.app_id AND a.attempt_key = EXCLUDED.attempt_key
        AND NOT (a.status IN ${FINAL_SQL} AND EXCLUDED.status NOT IN ${FINAL_SQL})
        AND (a.record_hash <> EXCLUDED.record_hash OR (EXCLUDED.summaries_hash IS NOT NULL AND EXCLUDED.summaries_hash IS DISTINCT FROM a.summaries_hash))
      RETURNING a.app_id, a.attempt_key, a.record_hash, (a.xmax = 0) AS inserted
    ), dropped AS (
      DELETE FROM regressions g USING up LEFT JOIN old ON old.app_id = up.app_id AND old.attempt_key = up.attempt_key
      WHERE g.app_id = up.app_id AND g.attempt_key = up.attempt_key AND NOT up.inserted AND old.record_hash IS DISTINCT FROM up.record_hash
    )
    SELECT app_id, attempt_key, inserted FROM up`;
})();


const FILE_COLUMNS = ['path', 'unit_path', 'size', 'mtime_ms', 'codec', 'app_id', 'attempt_key', 'status', 'last_seen'];
const FILES_SQL = `INSERT INTO ingested_files (${FILE_COLUMNS.join(', ')}) ${columnsAsTable(FILE_COLUMNS, (c) => (c === 'size' || c === 'mtime_ms' ? 'float8' : 'text'))}
  ON CONFLICT (${indexedKey('path')}) DO UPDATE SET unit_path = EXCLUDED.unit_path, size = EXCLUDED.size, mtime_ms = EXCLUDED.mtime_ms,
    codec = EXCLUDED.codec, app_id = EXCLUDED.app_id, attempt_key = EXCLUDED.attempt_key, status = EXCLUDED.status, last_seen = EXCLUDED.last_seen
  WHERE ingested_files.path = EXCLUDED.path`;

/** A record as it goes in: the schema's fields (JSON ones as text), then summaries and bookkeeping. */
interface Pending {
  /** Its place in the call. */
  at: number;
  record: SparkAppRecord;
  key: string;
  envJson: string;
  hash: string;
  summaries: SummariesToStore | undefined;
  /** What the row's summaries_hash becomes (hashAgainst the row's, once judged); null: no summaries given. */
  summariesHash: string | null;
}

function fromRow(row: Record<string, unknown>): SparkAppRecord {
  const out: Record<string, unknown> = {};
  for (const f of RECORD_FIELDS) {
    const v = row[f];
    out[f] = JSON_FIELDS.has(f) ? JSON.parse(String(v)) : v;
  }
  return out as SparkAppRecord;
}

/** A character or code unit PostgreSQL's text cannot hold as given (storable): NUL, a surrogate (paired or not: the second test tells). */
const MAYBE_UNSTORABLE = /[\u0000\ud800-\udfff]/;
/** NUL, and a surrogate that is not half of a pair (a lone one): what storable replaces. */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Text as the server stores it, so that keys and counts are the stored ones. PostgreSQL text cannot
 * hold NUL (U+0000), which SQLite stores: a hostile log's name with one would fail the whole batch.
 * A lone surrogate (half of a UTF-16 pair, as a JSON log may write with \ud800) has no UTF-8 form: pg
 * sends it as U+FFFD, so `dup-\ud800` and `dup-\udc00` were one key on the server and two here (a
 * review: one batch holding both failed whole, "ON CONFLICT DO UPDATE command cannot affect row a
 * second time"; two batches overwrote one with the other, counted unchanged). Both are stored as
 * U+FFFD, replaced here, before a key is made or a record counted (the hash stays the record's as
 * read, so a re-read is unchanged). JSON columns are safe: JSON.stringify escapes both.
 */
function storable(v: string): string;
function storable(v: string | number | null): string | number | null;
function storable(v: string | number | null): string | number | null {
  return typeof v === 'string' && MAYBE_UNSTORABLE.test(v) ? v.replace(UNSTORABLE, '\uFFFD') : v;
}

/** Parameters as stored: text, alone or in an array, through storable, so that a key with NUL or a lone surrogate finds its row. */
function storedParams(params: readonly PgParam[]): PgParam[] {
  return params.map((p) => (typeof p === 'string' ? storable(p) : Array.isArray(p) ? (p as readonly (string | number | null)[]).map((v) => storable(v)) : p));
}

/**
 * Keys as two array parameters, joined as a table: `(a, b) IN (SELECT * FROM unnest(…))` walks the
 * key's index once per key; a list of 200 `(?, ?)` pairs was planned as a scan of the whole table
 * (48 ms per 200 keys at 100,000 records, measured).
 */
const KEYS = 'SELECT * FROM unnest(?::text[], ?::text[])';
/**
 * KEYS as a table `k`, for a LATERAL subquery to find each key's row in: a nested loop through the
 * unique index, whatever the table's statistics say. Joined, a table not yet analyzed was read whole
 * (a hash join) for each batch's keys, the key expression computed for every row.
 */
const KEYS_TABLE = 'unnest(?::text[], ?::text[]) AS k(app_id, attempt_key)';
/**
 * The rows of table alias `t` (applications or regressions) whose key is one of KEYS: by the
 * indexedKeys their unique index holds (migration 10), then by the whole key (which no index holds).
 */
const keysIn = (t: string): string =>
  `(${indexedKey(`${t}.app_id`)}, ${indexedKey(`${t}.attempt_key`)}, ${t}.app_id, ${t}.attempt_key) IN (SELECT ${indexedKey('k.app_id')}, ${indexedKey('k.attempt_key')}, k.app_id, k.attempt_key FROM ${KEYS_TABLE})`;
/** The key of a row as stored: a caller's key with NUL or a lone surrogate finds the row that holds U+FFFD (storable). */
const storedKeyId = (k: AppKey): string => keyId(storable(k.app_id), storable(attemptKey(k.attempt_id)));
const keyArrays = (keys: readonly AppKey[]): [string[], string[]] => [keys.map((k) => k.app_id), keys.map((k) => attemptKey(k.attempt_id))];
/** Columns that are never NULL: sorted as they are, so that an index (the primary key's) serves the order. */
const NOT_NULL: ReadonlySet<string> = new Set(FIELDS.filter((f) => !sparkAppRecordSchema.shape[f.column].safeParse(null).success).map((f) => f.column));
const chunks = <T>(items: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/**
 * where()'s clause, with what its conditions imply on the prefixes and keys migration 10 indexes
 * (text compares bytewise, so `a = b` implies equal prefixes and `a > b` a prefix at least b's): a
 * user's rows by apps_user, the page after a key by apps_id_order and the regressed by apps_key, as
 * the whole values were before.
 */
function indexedWhere(query: JobQuery): { sql: string; params: PgParam[] } {
  const { sql, params } = where(query, 'ILIKE');
  const parts: string[] = [];
  const more: PgParam[] = [];
  // Not for '' (the jobs without a user, the "(none)" group of repository.ts where): NULL has no prefix to compare.
  if (query.user !== undefined && query.user !== '') {
    parts.push(`left("user", ${TEXT_PREFIX}) = left(?, ${TEXT_PREFIX})`);
    more.push(query.user);
  }
  // The regressed keys (index regressions_status), then their rows by apps_key, as by the primary key before.
  if (query.regressed === true) {
    parts.push(`(${indexedKey('app_id')}, ${indexedKey('attempt_key')}) IN (SELECT ${indexedKey('g.app_id')}, ${indexedKey('g.attempt_key')} FROM regressions g WHERE g.status = 'regressed')`);
  }
  if (query.after !== undefined) {
    parts.push(`left(app_id, ${ID_PREFIX}) >= left(?, ${ID_PREFIX})`);
    more.push(query.after.app_id);
  }
  if (parts.length === 0) return { sql, params };
  return { sql: `${sql === '' ? 'WHERE' : `${sql} AND`} ${parts.join(' AND ')}`, params: [...params, ...more] };
}

/**
 * laterRuns on the server (repository.ts laterRunsSql is the embedded file's): for each group (LATERAL,
 * a loop over the groups whatever the table's statistics say), its completed runs after its time by
 * index apps_baseline and its failed ones by apps_failed_history (migrations 10 and 12), which hold the
 * name as indexedKey: the name is matched by that, then whole. Matched by the name alone, as the
 * embedded file's statement does, no index served it, and the server read the whole table.
 */
export const laterRunsPgSql = (groups: number): string => {
  const of = (status: AppStatus): string => `SELECT ${historyRunColumns('a')} FROM applications a
     WHERE ${indexedKey('a.app_name')} = ${indexedKey('g.app_name')} AND a.app_name = g.app_name AND a.source = g.source AND a.status = '${status}' AND ${runTime('a')} > g.t`;
  return `${laterRunsGroups(groups)}
 SELECT a.* FROM g CROSS JOIN LATERAL (${of('completed')}
   UNION ALL ${of('failed')}) a`;
};

/**
 * A DELETE of applications rows (alias `t`) as one row: how many it deleted (`n`) and, as JSON, those
 * that were in a history (`runs`: the LaterRuns the caller checks the runs after again), so that a
 * retention of many runs sends back only the few columns of the runs that matter. Without `wanted`
 * (no caller asked for them: Clear All's pages), the count alone.
 */
const removedRunsSql = (deleteSql: string, wanted: boolean): string =>
  wanted
    ? `WITH gone AS (${deleteSql} RETURNING ${historyRunColumns('t')}, ${inHistory('t')} AS h)
  SELECT count(*) AS n, COALESCE(json_agg(json_build_array(app_id, attempt_key, app_name, source, t, status)) FILTER (WHERE h), '[]')::text AS runs FROM gone`
    : `WITH gone AS (${deleteSql} RETURNING 1) SELECT count(*) AS n, '[]' AS runs FROM gone`;
/** removedRunsSql's row: its runs pushed onto `into`, its count returned. */
function removedRuns(row: Record<string, unknown> | undefined, into: LaterRun[]): number {
  for (const [app_id, attempt_key, app_name, source, t, status] of JSON.parse(typeof row?.runs === 'string' ? row.runs : '[]') as string[][]) into.push(laterRun({ app_id, attempt_key, app_name, source, t, status }));
  return Number(row?.n ?? 0);
}

export class PostgresRepository implements JobRepository {
  /** The copy of each run its checks were made from (baselines() notes, saveRegressions stores onto it). */
  private readonly checked = new CheckedCopies();

  constructor(private readonly pg: SyncPgClient) {}

  /**
   * A statement with `?` parameters, given as stored (storedParams). Outside a transaction it is one
   * of its own, and every such statement here reads or is idempotent (startRun, finishRun): run again
   * when its connection was lost under it (RETRY_CODES). Inside one, transaction() runs it all again.
   */
  private rows(sql: string, params: readonly PgParam[] = []): Record<string, unknown>[] {
    const text = numbered(sql);
    const values = storedParams(params);
    for (let attempt = 1; ; attempt++) {
      try {
        return this.pg.query(text, values).rows;
      } catch (err) {
        if (this.inTransaction || !mayRetry(err, attempt)) throw err;
      }
    }
  }

  private records(sql: string, params: readonly PgParam[]): SparkAppRecord[] {
    return this.rows(sql, params).map(fromRow);
  }

  /** Inside transaction(): a call made there joins it. */
  private inTransaction = false;

  /**
   * Runs `fn` in one transaction; again (up to RETRIES times) when the server broke a deadlock or the
   * connection was lost under it (RETRY_CODES: the server rolled it back). A
   * call inside `fn` that makes a transaction joins this one (storeBatch: records and files).
   */
  private transaction<T>(fn: () => T): T {
    if (this.inTransaction) return fn();
    for (let attempt = 1; ; attempt++) {
      this.pg.query('BEGIN');
      this.inTransaction = true;
      try {
        const result = fn();
        this.pg.query('COMMIT');
        return result;
      } catch (err) {
        try {
          this.pg.query('ROLLBACK');
        } catch {
          // the connection is gone: the server rolled back
        }
        if (!mayRetry(err, attempt)) throw err;
      } finally {
        this.inTransaction = false;
      }
    }
  }

  /** One transaction: a collector killed at any moment leaves the whole batch stored, or none of it. */
  storeBatch(items: readonly UpsertItem[], files: readonly IngestedFile[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const stored: AppKey[] = [];
    const gone: LaterRun[] = [];
    const counts = this.transaction(() => {
      stored.length = 0;
      gone.length = 0;
      const c = this.upsert(items, now, stored, gone);
      this.writeFiles(files, now);
      return c;
    });
    if (changed) pushAll(changed, stored);
    if (removed) pushAll(removed, gone);
    return counts;
  }

  create(record: SparkAppRecord, now = new Date()): void {
    if (this.get(record)) throw new Error(`application ${record.app_id} attempt ${record.attempt_id ?? '(none)'} already exists`);
    this.upsert([record], now);
  }

  /**
   * Each window of keys (in key order): the stored rows are read and locked (FOR UPDATE), each
   * record of the call is judged against them in the call's order by upsertVerdict (so the counts
   * are the embedded store's), and each key that changed is written once, as it ends. A key that
   * was not stored when read may have been inserted by another collector since: the write's own
   * condition judges it, and its answer corrects the count.
   */
  upsert(items: readonly UpsertItem[], now = new Date(), changed?: AppKey[], removed?: LaterRun[]): UpsertCounts {
    const stored: AppKey[] = [];
    const gone: LaterRun[] = [];
    const counts = this.transaction(() => {
      // Again from the start when the server broke a deadlock and the transaction is retried.
      stored.length = 0;
      gone.length = 0;
      const { keep, skipped, remove } = supersede(items, (source, ids) => this.storedNames(source, ids));
      const c = this.upsertItems(keep, now, stored);
      c.unchanged += skipped;
      const platform = remove.length > 0 ? this.platformKeys(remove) : [];
      if (platform.length > 0) c.removed = this.delete(platform, gone);
      return c;
    });
    if (changed) pushAll(changed, stored);
    if (removed) pushAll(removed, gone);
    return counts;
  }

  /** supersede's stored side: of these platform-level app ids of `source`, those a stored record of it names. */
  private storedNames(source: string, appIds: readonly string[]): string[] {
    const out: string[] = [];
    for (const chunk of chunks(appIds, KEYS_PER_QUERY)) {
      const named = `(tags::json ->> '${REPLACES_TAG}')`;
      for (const r of this.rows(`SELECT DISTINCT ${named} AS v FROM applications WHERE source = ? AND tags LIKE ? AND ${named} = ANY(?::text[])`, [source, REPLACES_LIKE, chunk])) out.push(String(r.v));
    }
    return out;
  }

  /** Of these keys, the stored rows flagged platform-level: all supersede may remove. */
  private platformKeys(keys: readonly AppKey[]): AppKey[] {
    return this.rows(`SELECT app_id, attempt_key FROM applications a WHERE ${keysIn('a')} AND quality LIKE ?`, [...keyArrays(keys), `%"${Quality.platformLevel}"%`]).map(appKey);
  }

  /** upsert() for the records supersede keeps, inside its transaction; `changed` as upsert's. */
  private upsertItems(items: readonly UpsertItem[], now: Date, changed: AppKey[]): UpsertCounts {
    const byKey = new Map<string, Pending[]>();
    for (const [at, item] of items.entries()) {
      const entry = entryOf(item);
      // Keys as stored (storable): a re-read of the same log finds its row, and two ids the server
      // stores alike are one key here too (judged and counted as one, written once).
      const appId = storable(entry.record.app_id);
      const attemptId = entry.record.attempt_id === null ? null : storable(entry.record.attempt_id);
      const record = appId === entry.record.app_id && attemptId === entry.record.attempt_id ? entry.record : { ...entry.record, app_id: appId, attempt_id: attemptId };
      const summaries = entry.summaries && summariesToStore(entry.summaries);
      const key = attemptKey(record.attempt_id);
      const envJson = JSON.stringify(record.environment);
      const p: Pending = { at, record, key, envJson, hash: recordHash(record, envJson), summaries, summariesHash: summaries ? summaries.hash : null };
      const id = keyId(record.app_id, key);
      const same = byKey.get(id);
      if (same) same.push(p);
      else byKey.set(id, [p]);
    }
    const ids = [...byKey.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const stamp = now.toISOString();
    const { counts, stored } = this.transaction(() => {
      const counts: UpsertCounts = { new: 0, updated: 0, unchanged: 0 };
      // Each key stored with the place in the call of its first change.
      const stored: [number, AppKey][] = [];
      const firstChange = new Map<string, number>();
      for (const window of chunks(ids, WINDOW)) {
        const keys = window.map((id) => byKey.get(id)![0]!).map((p) => ({ app_id: p.record.app_id, attempt_id: p.record.attempt_id }));
        const before = new Map<string, { hash: unknown; status: unknown; sumHash: unknown }>();
        // Locked in the window's order (keyId's), the same in every collector.
        for (const r of this.rows(`SELECT a.* FROM ${KEYS_TABLE} CROSS JOIN LATERAL (SELECT app_id, attempt_key, record_hash, status, summaries_hash FROM applications a WHERE ${sameKey('a', 'k')} FOR UPDATE) a`, keyArrays(keys))) {
          before.set(keyId(String(r.app_id), String(r.attempt_key)), { hash: r.record_hash, status: r.status, sumHash: r.summaries_hash });
        }
        const writes: Pending[] = [];
        const believedNew = new Set<string>();
        for (const id of window) {
          let state = before.get(id);
          let last: Pending | undefined;
          for (const p of byKey.get(id)!) {
            if (p.summaries) p.summariesHash = hashAgainst(p.summaries, state?.sumHash);
            const verdict = upsertVerdict(state, p.hash, p.record.status, p.summariesHash);
            if (verdict === 'unchanged') {
              counts.unchanged++;
              continue;
            }
            if (!firstChange.has(id)) firstChange.set(id, p.at);
            if (verdict === 'new') {
              counts.new++;
              believedNew.add(id);
            } else counts.updated++;
            // Other summaries alone keep the record as it is (and its hash), with the new summaries.
            last = verdict === 'summaries' && last ? { ...last, summaries: p.summaries, summariesHash: p.summariesHash } : p;
            state = { hash: last.hash, status: last.record.status, sumHash: last.summariesHash };
          }
          if (last) writes.push(last);
        }
        if (writes.length === 0) continue;
        // One array per column (UPSERT_SQL), in ROW_COLUMNS' order.
        const values = (p: Pending): PgParam[] => [
          ...RECORD_FIELDS.map((f) => (f === 'environment' ? p.envJson : JSON_FIELDS.has(f) ? JSON.stringify(p.record[f]) : storable(p.record[f] as string | number | null))),
          p.summaries ? p.summaries.bytes.toString('utf8') : null,
          p.summariesHash,
          p.key,
          p.hash,
          stamp,
          stamp,
        ];
        const rows = writes.map(values);
        const params: PgParam[] = ROW_COLUMNS.map((_, c) => rows.map((r) => r[c] as string | number | null));
        const written = new Map<string, boolean>();
        for (const r of this.pg.query(UPSERT_SQL, params, 'spark_optimizer_upsert').rows) written.set(keyId(String(r.app_id), String(r.attempt_key)), r.inserted === true);
        for (const p of writes) {
          const id = keyId(p.record.app_id, p.key);
          const inserted = written.get(id);
          // Inserted by another collector between our read and our write: judged by the write's condition.
          if (believedNew.has(id) && inserted !== true) {
            counts.new--;
            if (inserted === undefined) counts.unchanged++;
            else counts.updated++;
          }
          if (inserted !== undefined || !believedNew.has(id)) stored.push([firstChange.get(id)!, { app_id: p.record.app_id, attempt_id: p.record.attempt_id }]);
        }
      }
      return { counts, stored };
    });
    // In the order the call changed them, not the key order they were written in: as the embedded
    // store gives them, so that a collection checks its runs (and lists the regressed) in the same order.
    pushAll(changed, stored.sort((a, b) => a[0] - b[0]).map(([, key]) => key));
    return counts;
  }

  get(key: AppKey): SparkAppRecord | undefined {
    return this.records(`SELECT ${RECORD_COLUMNS} FROM applications a WHERE ${keysIn('a')}`, keyArrays([key]))[0];
  }

  summariesOf(key: AppKey): AppSummaries | undefined {
    const text = this.rows(`SELECT summaries FROM applications a WHERE ${keysIn('a')}`, keyArrays([key]))[0]?.summaries;
    return typeof text === 'string' ? decodeSummaries(text) : undefined;
  }

  summariesOfMany(keys: readonly AppKey[]): (AppSummaries | undefined)[] {
    const found = new Map<string, string>();
    for (const chunk of chunks(keys, KEYS_PER_QUERY)) {
      for (const row of this.rows(`SELECT app_id, attempt_key, summaries FROM applications a WHERE summaries IS NOT NULL AND ${keysIn('a')}`, keyArrays(chunk))) {
        found.set(keyId(String(row.app_id), String(row.attempt_key)), String(row.summaries));
      }
    }
    return keys.map((k) => {
      const text = found.get(storedKeyId(k));
      return text === undefined ? undefined : decodeSummaries(text);
    });
  }

  getByAppId(appId: string): SparkAppRecord[] {
    return this.records(`SELECT ${RECORD_COLUMNS} FROM applications a, (SELECT ?::text AS given) p WHERE ${indexedKey('a.app_id')} = ${indexedKey('p.given')} AND a.app_id = p.given ORDER BY attempt_key`, [appId]);
  }

  previousRun(record: SparkAppRecord): SparkAppRecord | undefined {
    const at = record.start_time ?? record.submit_time ?? record.end_time;
    if (record.app_name === null || at === null) return undefined;
    return this.records(
      `SELECT ${RECORD_COLUMNS} FROM applications a
        WHERE app_name = ? AND NOT (app_id = ? AND attempt_key = ?) AND ${runTime('a')} < ?
        ORDER BY ${runTime('a')} DESC, app_id DESC, attempt_key DESC LIMIT 1`,
      [record.app_name, record.app_id, attemptKey(record.attempt_id), at],
    )[0];
  }

  baselineRuns(record: RunRef, n: number): SparkAppRecord[] {
    const at = record.start_time ?? record.submit_time ?? record.end_time;
    if (record.app_name === null || at === null || n < 1) return [];
    return this.records(
      `SELECT ${RECORD_COLUMNS} FROM applications a, (SELECT ?::text AS given) p
        WHERE ${indexedKey('a.app_name')} = ${indexedKey('p.given')} AND app_name = p.given AND source = ? AND status = 'completed' AND ${runTime('a')} < ? AND NOT (app_id = ? AND attempt_key = ?)
        ORDER BY ${runTime('a')} DESC, app_id DESC, attempt_key DESC LIMIT ?`,
      [record.app_name, record.source, at, record.app_id, attemptKey(record.attempt_id), Math.floor(n)],
    );
  }

  /** Each run with its baseline's rows beside it (LATERAL: the baseline index walked once per run). */
  baselines<F extends FigureField>(keys: readonly AppKey[], n: number | ((run: RecordFigures) => number), fields: readonly F[]): RunBaseline<F>[] {
    const known = fields.filter((f) => FIGURE_FIELDS.includes(f));
    if (known.length !== fields.length) throw new Error(`not fields of a record's figures: ${fields.filter((f) => !known.includes(f)).join(', ')}`);
    const figures = FIGURE_FIELDS.map((f) => `r.${column(f)}`).join(', ');
    const picked = known.map((f) => `, b.${column(f)} AS ${column(`b_${f}`)}`).join('');
    const found = new Map<string, RunBaseline<F>>();
    const read = (chunk: readonly AppKey[], size: number): void => {
      const rows = this.rows(
        `SELECT ${figures}, r.attempt_key AS r_key, b.t IS NOT NULL AS present${picked} FROM applications r
           LEFT JOIN LATERAL (
             SELECT ${runTime('b')} AS t, b.app_id AS b_id, b.attempt_key AS b_key${known.map((f) => `, b.${column(f)}`).join('')} FROM applications b
              WHERE ${indexedKey('b.app_name')} = ${indexedKey('r.app_name')} AND b.app_name = r.app_name AND b.source = r.source AND b.status = 'completed' AND ${runTime('b')} < ${runTime('r')}
                AND NOT (b.app_id = r.app_id AND b.attempt_key = r.attempt_key)
              ORDER BY ${runTime('b')} DESC, b.app_id DESC, b.attempt_key DESC
              LIMIT ?
           ) b ON true
          WHERE ${keysIn('r')}
          ORDER BY r.app_id, r.attempt_key, b.t DESC, b.b_id DESC, b.b_key DESC`,
        [Math.max(0, Math.floor(size)), ...keyArrays(chunk)],
      );
      // A run's rows come together; its first row of this read starts its baseline afresh.
      const started = new Set<string>();
      for (const row of rows) {
        const id = keyId(String(row.app_id), String(row.r_key));
        let entry = found.get(id);
        if (!started.has(id)) {
          started.add(id);
          const run: Record<string, unknown> = {};
          for (const f of FIGURE_FIELDS) run[f] = f === 'quality' ? JSON.parse(String(row[f])) : row[f];
          found.set(id, (entry = { run: run as RecordFigures, baseline: [] }));
        }
        if (row.present !== true) continue;
        const b: Record<string, unknown> = {};
        for (const f of known) b[f] = f === 'quality' ? JSON.parse(String(row[`b_${f}`])) : row[`b_${f}`];
        entry!.baseline.push(b as Pick<RecordFigures, F>);
      }
    };
    if (typeof n === 'number') {
      for (const chunk of chunks(keys, KEYS_PER_QUERY)) read(chunk, n);
    } else {
      // Sizes that differ by run (a source's own thresholds): the runs first, then their baselines by size.
      for (const chunk of chunks(keys, KEYS_PER_QUERY)) read(chunk, 0);
      const bySize = new Map<number, AppKey[]>();
      for (const { run } of found.values()) {
        const size = Math.floor(n(run));
        if (size < 1) continue;
        bySize.set(size, [...(bySize.get(size) ?? []), run]);
      }
      for (const [size, ks] of bySize) for (const chunk of chunks(ks, KEYS_PER_QUERY)) read(chunk, size);
    }
    const out = keys.flatMap((k) => found.get(storedKeyId(k)) ?? []);
    this.checked.note(out);
    return out;
  }

  environments(keys: readonly AppKey[]): Record<string, string>[] {
    const envs = new Map<string, Record<string, string>>();
    for (const chunk of chunks(keys, KEYS_PER_QUERY)) {
      const rows = this.rows(`SELECT app_id, attempt_key, environment FROM applications a WHERE ${keysIn('a')}`, keyArrays(chunk));
      for (const row of rows) envs.set(keyId(String(row.app_id), String(row.attempt_key)), JSON.parse(String(row.environment)) as Record<string, string>);
    }
    return keys.map((k) => envs.get(storedKeyId(k)) ?? {});
  }

  saveRegressions(checks: readonly (RegressionCheck | RegressionRow)[], now = new Date()): number {
    const stamp = now.toISOString();
    // The last check of a run wins, as one after the other would; in key order, as upserts lock.
    const byKey = new Map<string, RegressionRow>();
    // Each check only onto the copy of its run it was made from (CheckedCopies): another collector may
    // have stored a newer copy since, and checked it.
    for (const row of this.checked.attach(checks.map((c) => ('check' in c ? c : regressionRow(c))))) byKey.set(storedKeyId(row), row);
    const rows = [...byKey.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    if (rows.length === 0) return 0;
    return this.transaction(() => {
      let n = 0;
      for (const chunk of chunks(rows, 1000)) {
        const values = chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, CAST(? AS TEXT), CAST(? AS TEXT))').join(', ');
        const params = chunk.flatMap((c) => [c.app_id, attemptKey(c.attempt_id), c.status, c.summary, c.explanation, c.check === null ? null : packCheck(c.check), stamp, c.of?.status ?? null, c.of?.end_time ?? null]);
        // Only for a run still stored (another collector may have deleted it), as it was checked
        // (RegressionRow.of: db copy must not put an unfinished copy's check onto a finished run).
        n += this.pg.query(
          numbered(`INSERT INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at)
            SELECT v.app_id, v.attempt_key, v.status, v.summary, v.explanation, v.check_json, v.checked_at
              FROM (VALUES ${values}) v(app_id, attempt_key, status, summary, explanation, check_json, checked_at, of_status, of_end)
             WHERE EXISTS (SELECT 1 FROM applications a WHERE ${sameKey('a', 'v')}
                             AND (v.of_status IS NULL OR (a.status = v.of_status AND a.end_time IS NOT DISTINCT FROM v.of_end)))
            ON CONFLICT ${KEY_CONFLICT} DO UPDATE SET status = EXCLUDED.status, summary = EXCLUDED.summary, explanation = EXCLUDED.explanation,
              check_json = EXCLUDED.check_json, checked_at = EXCLUDED.checked_at
            WHERE regressions.app_id = EXCLUDED.app_id AND regressions.attempt_key = EXCLUDED.attempt_key`),
          // Keys as the record's row has them (a NUL in an id failed the statement).
          storedParams(params),
        ).rowCount;
      }
      return n;
    });
  }

  regressions(keys: readonly AppKey[]): (StoredRegression | null)[] {
    const found = new Map<string, StoredRegression>();
    for (const chunk of chunks(keys, KEYS_PER_QUERY)) {
      const sql = `SELECT g.*, a.status AS run_status, a.end_time AS run_end FROM regressions g LEFT JOIN applications a ON ${sameKey('a', 'g')}
                    WHERE ${keysIn('g')}`;
      for (const row of this.rows(sql, keyArrays(chunk))) {
        found.set(keyId(String(row.app_id), String(row.attempt_key)), storedRegression(row));
      }
    }
    return keys.map((k) => found.get(storedKeyId(k)) ?? null);
  }

  list(query: JobQuery = {}): SparkAppRecord[] {
    const { sql, params } = indexedWhere(query);
    const sort = query.sort !== undefined && isRecordColumn(query.sort) ? query.sort : 'end_time';
    // By id (db copy's pages): by index apps_id_order, its prefix first, which orders as the id does.
    const byId = sort === 'app_id';
    const dir = query.descending === false ? 'ASC' : 'DESC';
    // SQLite puts NULLs first in ascending order, last in descending: the same here (the indexes of
    // nullable columns are NULLS FIRST, so that they serve it).
    const nulls = NOT_NULL.has(sort) ? '' : dir === 'ASC' ? 'NULLS FIRST' : 'NULLS LAST';
    const limit = query.limit === undefined ? null : Math.max(0, Math.floor(query.limit));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    return this.records(`SELECT ${RECORD_COLUMNS} FROM applications ${sql} ORDER BY ${byId ? `left(app_id, ${ID_PREFIX}) ${dir}` : `${sortKey(sort)} ${dir} ${nulls}`}, ${tieBreak(sort)}app_id ${dir}, attempt_key ${dir} LIMIT ? OFFSET ?`, [
      ...(params),
      limit,
      offset,
    ]);
  }

  count(query: JobQuery = {}): number {
    const { sql, params } = indexedWhere(query);
    return Number(this.rows(`SELECT COUNT(*) AS n FROM applications ${sql}`, params)[0]?.n ?? 0);
  }

  groupCounts(by: GroupField, query: JobQuery = {}): { key: string; count: number }[] {
    const expr = by === 'day' ? `substr(${WHERE_TIME}, 1, 10)` : column(GROUP_FIELDS.includes(by) ? by : 'source');
    const { sql, params } = indexedWhere(query);
    return this.rows(`SELECT ${expr} AS k, COUNT(*) AS n FROM applications ${sql} GROUP BY 1 ORDER BY ${by === 'day' ? '1 DESC NULLS LAST' : `lower(${expr}) ASC NULLS FIRST, ${expr} COLLATE "C" ASC NULLS FIRST`}`, params).map((r) => ({
      key: typeof r.k === 'string' ? r.k : '',
      count: Number(r.n),
    }));
  }

  /** Inside upsert's transaction too (supersede): it joins it. */
  delete(keys: readonly AppKey[], removed?: LaterRun[]): number {
    const gone: LaterRun[] = [];
    const n = this.transaction(() => {
      gone.length = 0;
      let count = 0;
      for (const chunk of chunks(keys, KEYS_PER_QUERY)) {
        const params = storedParams(keyArrays(chunk));
        const [apps] = this.pg.batch([
          { sql: numbered(removedRunsSql(`DELETE FROM applications t WHERE ${keysIn('t')}`, removed !== undefined)), params },
          // ingested_files has no index by key (none before migration 10 either).
          ...['ingested_files', 'regressions'].map((table) => ({ sql: numbered(`DELETE FROM ${table} t WHERE ${table === 'ingested_files' ? `(app_id, attempt_key) IN (${KEYS})` : keysIn('t')}`), params })),
        ]);
        count += removedRuns(apps!.rows[0], gone);
      }
      return count;
    });
    if (removed) pushAll(removed, gone);
    return n;
  }

  applyRetention(days: number, now = new Date(), removed?: LaterRun[]): number {
    const cutoff = new Date(now.getTime() - days * 86_400_000).toISOString();
    const gone: LaterRun[] = [];
    const n = this.transaction(() => {
      gone.length = 0;
      const [, apps] = this.pg.batch([
        { sql: `DELETE FROM regressions WHERE (app_id, attempt_key) IN (SELECT app_id, attempt_key FROM applications WHERE ${WHERE_TIME} < $1)`, params: [cutoff] },
        { sql: removedRunsSql(`DELETE FROM applications t WHERE ${WHERE_TIME} < $1`, removed !== undefined), params: [cutoff] },
      ]);
      return removedRuns(apps!.rows[0], gone);
    });
    if (removed) pushAll(removed, gone);
    return n;
  }

  recordFiles(files: readonly IngestedFile[], now = new Date()): void {
    if (files.length > 0) this.transaction(() => this.writeFiles(files, now));
  }

  /** recordFiles' statements, in the caller's transaction: one row per path (the last given wins), in path order. */
  private writeFiles(files: readonly IngestedFile[], now: Date): void {
    const stamp = now.toISOString();
    const byPath = new Map<string, IngestedFile>();
    for (const f of files) byPath.set(f.path, f);
    const rows = [...byPath.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const chunk of chunks(rows, 5000)) {
      const values = chunk.map((f) => [storable(f.path), storable(f.unit_path), f.size, f.mtime_ms, f.codec, f.app_id === null ? null : storable(f.app_id), f.app_id === null ? null : storable(attemptKey(f.attempt_id)), f.status, stamp]);
      this.pg.query(FILES_SQL, FILE_COLUMNS.map((_, c) => values.map((v) => v[c] ?? null)), 'spark_optimizer_files');
    }
  }

  uncheckedRuns(source: string, limit: number): AppKey[] {
    return this.rows(UNCHECKED_RUNS_SQL, [source, limit]).map(appKey);
  }

  laterRuns(groups: readonly RunGroup[]): LaterRun[] {
    const out: LaterRun[] = [];
    for (const chunk of chunks(groups, KEYS_PER_QUERY)) for (const r of this.rows(laterRunsPgSql(chunk.length), laterRunsParams(chunk))) out.push(laterRun(r));
    return out;
  }

  newestEndTime(of: ListingScope): string | null {
    return newestListedThrough(this.rows(LISTED_THROUGH_SQL, [of.source]), of.scope);
  }

  knownFiles(): KnownFile[] {
    return this.rows(KNOWN_FILES_SQL).map(knownFile);
  }

  ingestedFiles(): IngestedFile[] {
    return this.rows('SELECT * FROM ingested_files ORDER BY path').map(ingestedFile);
  }

  /**
   * The heartbeats of this process's unfinished runs, by run id: each writes the server's time into
   * its row every HEARTBEAT_MS until finishRun, so that any host tells a run going from one whose
   * process is gone (runState: untouched for STALE_LOCK_MS, fileLock.ts's rule for a lock).
   */
  private readonly beats = new Map<string, NodeJS.Timeout>();

  /**
   * A new run of this process (no `owner` given) beats from now on; a run already recorded only has
   * its options replaced (pipeline.ts records the cursor it listed through after its end).
   */
  startRun(runId: string, source: string, options: Record<string, unknown>, now = new Date(), owner?: RunOwner | null): void {
    const own = owner === undefined && !this.beats.has(runId) && this.rows('SELECT 1 FROM collection_runs WHERE run_id = ?', [runId]).length === 0;
    this.rows(START_RUN_SQL, startRunParams(runId, source, options, now, owner === undefined ? ownerNow(now) : owner));
    if (own) this.beatFor(runId);
  }

  /** Writes the run's heartbeat now (by the server's clock: the one readers compare it with) and every HEARTBEAT_MS until finishRun. */
  private beatFor(runId: string): void {
    const beat = (): void => void this.rows(`UPDATE collection_runs SET heartbeat = ${SERVER_NOW} WHERE run_id = ? AND finished IS NULL`, [runId]);
    beat();
    let failingSince: number | null = null;
    const timer = setInterval(() => {
      try {
        beat();
        failingSince = null;
      } catch {
        // The server away for a while, or this store closed with the run unfinished: by the time the
        // beats have failed for STALE_LOCK_MS every reader takes the run for gone, and they stop.
        failingSince ??= Date.now();
        if (Date.now() - failingSince > STALE_LOCK_MS) this.stopBeat(runId);
      }
    }, HEARTBEAT_MS);
    // A heartbeat must not keep a CLI process alive.
    timer.unref();
    this.beats.set(runId, timer);
  }

  private stopBeat(runId: string): void {
    clearInterval(this.beats.get(runId));
    this.beats.delete(runId);
  }

  /**
   * Stops the heartbeats of this process's runs and writes each unfinished one's as none (NO_SIGN_OF_LIFE):
   * the store is closing, and a run it leaves unfinished reads as interrupted from now on, on every
   * host, as a file store's does once its file is let go (not for two minutes more while beats fail).
   */
  protected letGoRuns(): void {
    for (const runId of [...this.beats.keys()]) {
      this.stopBeat(runId);
      try {
        this.rows('UPDATE collection_runs SET heartbeat = ? WHERE run_id = ? AND finished IS NULL', [NO_SIGN_OF_LIFE, runId]);
      } catch {
        // The server away: its heartbeat stops all the same, and readers take it for gone in two minutes.
      }
    }
  }

  finishRun(runId: string, counts: RunCounts, errors: readonly string[], now = new Date()): void {
    this.stopBeat(runId);
    this.rows(FINISH_RUN_SQL, finishRunParams(runId, counts, errors, now));
  }

  /** Each with its state as of the server's time, which wrote the heartbeats (hosts' clocks differ). */
  listRuns(limit = 50): RunRow[] {
    return this.rows(`SELECT *, ${SERVER_NOW} AS server_now FROM collection_runs ORDER BY started DESC LIMIT ?`, [limit]).map(judgedRun);
  }

  latestRuns(): RunRow[] {
    return this.rows(latestRunsSql(`*, ${SERVER_NOW} AS server_now`)).map(judgedRun);
  }
}

/** A heartbeat that says its process let its run go (letGoRuns): older than any, gone by any reader's rule. */
const NO_SIGN_OF_LIFE = new Date(0).toISOString();

/** The server's clock as the ISO text the stores keep times in. */
const SERVER_NOW = `to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * A row of collection_runs read with the server's time (server_now), judged by its heartbeat as of
 * it (the server's clock wrote it): the store's one rule for a run's sign of life.
 */
function judgedRun(r: Record<string, unknown>): RunRow {
  const now = Date.parse(String(r.server_now));
  return runRow(r, ({ owner }) => {
    const at = Date.parse(owner.heartbeat);
    return holderGone(owner, Number.isNaN(at) ? Infinity : Math.max(0, now - at));
  });
}
