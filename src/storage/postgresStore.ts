/**
 * The jobs store on a PostgreSQL server (issue 17), opened by store.ts's openStore for a postgres://
 * location. A module of its own so that a file database's commands never set up the PostgreSQL code
 * (its zod checks, its repository's tables): openStore imports it only for a server (issue #12, start-up).
 */
import { connect } from 'node:net';
import type { PostgresLocation } from './location';
import { attemptKey, entryOf, type AppKey, type IngestedFile, type LaterRun, type UpsertCounts, type UpsertItem } from './repository';
import type { Store } from './store';
import { KnownFileIndex } from './unchanged';
import { checkPostgresSchema, migratePostgres } from './postgres/migrations';
import { PostgresRepository } from './postgres/repository';
import { PostgresError, SyncPgClient, connectConfig } from './postgres/syncClient';

export class PostgresStore extends PostgresRepository implements Store {
  readonly kind = 'postgres';
  readonly warnings: string[] = [];
  readonly unsavedChanges = 0;
  private known: KnownFileIndex | null = null;

  private constructor(
    private readonly client: SyncPgClient,
    readonly where: string,
  ) {
    super(client);
  }

  /**
   * Connects and migrates; an error names the server (never its password) and what failed. The
   * server is first reached asynchronously: a down or unreachable one is said without blocking the
   * caller's thread (the editor's extension host) for the connect timeout. `readOnly` (a command that
   * only reads): nothing is migrated or created; a database without the jobs schema is said (a review:
   * `jobs --db` made five tables in whatever database it named).
   */
  static async open(loc: PostgresLocation, password?: string, readOnly = false): Promise<PostgresStore> {
    await reachable(loc);
    const client = new SyncPgClient(connectConfig(loc, password), loc.display);
    try {
      if (readOnly) checkPostgresSchema(client);
      else migratePostgres(client);
    } catch (err) {
      client.close();
      throw err;
    }
    return new PostgresStore(client, loc.display);
  }

  /**
   * The batch's files are known once its transaction committed (a failed batch throws first). A
   * batch the server refuses for what one of its records holds (a value it cannot store) is stored
   * again a record at a time, each with its files: the others are kept, and each record refused is
   * a warning naming it and its log, its files left unknown so that the next run reads them again
   * (a review: one such record lost its whole folder).
   */
  override storeBatch(...args: Parameters<PostgresRepository['storeBatch']>): ReturnType<PostgresRepository['storeBatch']> {
    const [items, files, now, changed, removed] = args;
    let counts: UpsertCounts;
    try {
      counts = super.storeBatch(items, files, now, changed, removed);
    } catch (err) {
      if (!refusedForItsValues(err) || items.length === 0) throw err;
      return this.storeEach(items, files, now, changed, removed);
    }
    this.known?.record(files);
    return counts;
  }

  /** storeBatch one record at a time (with the files read for it), then the files of no record. */
  private storeEach(items: readonly UpsertItem[], files: readonly IngestedFile[], now: Date | undefined, changed: AppKey[] | undefined, removed: LaterRun[] | undefined): UpsertCounts {
    const total: UpsertCounts = { new: 0, updated: 0, unchanged: 0 };
    const add = (c: UpsertCounts): void => {
      total.new += c.new;
      total.updated += c.updated;
      total.unchanged += c.unchanged;
      if (c.removed !== undefined) total.removed = (total.removed ?? 0) + c.removed;
    };
    const left = new Set(files);
    for (const item of items) {
      const { record } = entryOf(item);
      const own = files.filter((f) => f.app_id === record.app_id && attemptKey(f.attempt_id) === attemptKey(record.attempt_id));
      for (const f of own) left.delete(f);
      try {
        add(super.storeBatch([item], own, now, changed, removed));
        this.known?.record(own);
      } catch (err) {
        if (!refusedForItsValues(err)) throw err;
        total.refused = (total.refused ?? 0) + 1;
        const logs = [...new Set(own.map((f) => f.path))];
        this.warnings.push(
          `${this.where}: application ${record.app_id}${record.attempt_id === null ? '' : ` attempt ${record.attempt_id}`}` +
            `${logs.length > 0 ? ` (read from ${logs.join(', ')})` : ''} was not stored: ${(err as Error).message}. The rest of the batch was; the log is read again next time.`,
        );
      }
    }
    if (left.size > 0) this.recordFiles([...left], now);
    return total;
  }

  override recordFiles(...args: Parameters<PostgresRepository['recordFiles']>): void {
    super.recordFiles(...args);
    this.known?.record(args[0]);
  }

  override delete(...args: Parameters<PostgresRepository['delete']>): number {
    this.known = null;
    return super.delete(...args);
  }

  /** Read once per open store: the files any host has recorded until then, and those this one records. */
  isUnchanged(unit: { path: string; files: readonly { path: string; size: number; mtimeMs: number }[] }): boolean {
    this.known ??= new KnownFileIndex(this.knownFiles());
    return this.known.isUnchanged(unit);
  }

  async checkWritable(): Promise<void> {
    // Writing needs INSERT on the tables; a read-only role is told now, not at the first batch.
    const rows = this.client.query("SELECT has_table_privilege('applications', 'INSERT') AND has_table_privilege('ingested_files', 'INSERT') AS ok").rows;
    if (rows[0]?.ok !== true) throw new Error(`${this.where}: this role may not write the jobs tables (INSERT on applications and ingested_files); nothing was stored.`);
    return Promise.resolve();
  }

  save(): Promise<{ written: boolean; merged: boolean }> {
    return Promise.resolve({ written: false, merged: false });
  }

  /** A run left unfinished reads as interrupted from now on (letGoRuns): its heartbeats stop with the connection. */
  close(): void {
    this.letGoRuns();
    this.client.close();
  }
}

/**
 * The server refused a statement for the values a log gave it, not for the connection, another
 * writer or this code: a data exception (22: a value out of range, a bad encoding) or a program
 * limit (54: an index entry, a row or a text too large). An integrity violation (23: a NULL where
 * the schema has none) is this code's mistake, and fails the batch as before.
 */
function refusedForItsValues(err: unknown): boolean {
  return err instanceof PostgresError && err.code !== undefined && /^(22|54)/.test(err.code);
}

/** Resolves once a TCP connection to the server opens; rejects, naming it, when none does in its connect timeout. */
function reachable(loc: PostgresLocation): Promise<void> {
  return new Promise((resolve, reject) => {
    // A host that is a folder is where the server's Unix socket is (libpq's rule, which pg follows).
    const socket = loc.host.startsWith('/') ? connect({ path: `${loc.host}/.s.PGSQL.${loc.port}` }) : connect({ host: loc.host, port: loc.port });
    const done = (err?: Error): void => {
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    socket.setTimeout(loc.connectTimeoutS * 1000, () => done(new PostgresError(`${loc.display}: no answer from ${loc.host}:${loc.port} within ${loc.connectTimeoutS} s`)));
    socket.once('connect', () => done());
    socket.once('error', (err: NodeJS.ErrnoException) => done(new PostgresError(`${loc.display}: cannot reach ${loc.host}:${loc.port} (${err.code ?? err.message})`, err.code)));
  });
}
