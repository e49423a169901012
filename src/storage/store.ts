/**
 * An open jobs store, whichever kind (issue 17): the workspace's sql.js file (JobStore, the default)
 * or a shared PostgreSQL server (PostgresStore). Both are a JobRepository plus what a collection and
 * the views need around it; `openStore` picks by what `--db` or the setting names (location.ts).
 *
 * The kinds differ in when a write is durable: the file's changes are kept in memory and written by
 * save() (atomically, merged with another writer's); the server's are committed by each call (a
 * batch is one transaction), so save() there has nothing to write.
 */
import { connect } from 'node:net';
import { JobStore, type OpenOptions } from './jobStore';
import { parseDatabaseLocation, type DatabaseLocation, type PostgresLocation } from './location';
import type { JobRepository } from './repository';
import { KnownFileIndex } from './unchanged';
import { migratePostgres } from './postgres/migrations';
import { PostgresRepository } from './postgres/repository';
import { PostgresError, SyncPgClient, connectConfig } from './postgres/syncClient';

export interface Store extends JobRepository {
  readonly kind: 'sqlite' | 'postgres';
  /** Where the jobs are, as messages name it: the file, or the server's URL without its password. */
  readonly where: string;
  /** Said once on opening (a damaged file moved aside, say). */
  readonly warnings: string[];
  /** Changes not yet durable (always 0 on a server: each call commits). */
  readonly unsavedChanges: number;
  /** The incremental rule (unchanged.ts) against the files the store knows. */
  isUnchanged(unit: { path: string; files: readonly { path: string; size: number; mtimeMs: number }[] }): boolean;
  /** Throws, saying what to do, when the store cannot be written. */
  checkWritable(): Promise<void>;
  save(): Promise<{ written: boolean; merged: boolean }>;
  close(): void;
}

export interface OpenStoreOptions extends OpenOptions {
  /** The server's password from the editor's secret storage; else the URL's, PGPASSWORD or ~/.pgpass. */
  password?: string;
}

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
   * caller's thread (the editor's extension host) for the connect timeout.
   */
  static async open(loc: PostgresLocation, password?: string): Promise<PostgresStore> {
    await reachable(loc);
    const client = new SyncPgClient(connectConfig(loc, password), loc.display);
    try {
      migratePostgres(client);
    } catch (err) {
      client.close();
      throw err;
    }
    return new PostgresStore(client, loc.display);
  }

  /** The batch's files are known once its transaction committed (a failed batch throws first). */
  override storeBatch(...args: Parameters<PostgresRepository['storeBatch']>): ReturnType<PostgresRepository['storeBatch']> {
    const counts = super.storeBatch(...args);
    this.known?.record(args[1]);
    return counts;
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

  close(): void {
    this.client.close();
  }
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

/** Opens what `target` names (a path, sqlite:/// or postgres:// URL, relative to `cwd`). */
export async function openStore(target: string | DatabaseLocation, cwd: string, options: OpenStoreOptions = {}): Promise<Store> {
  const loc = typeof target === 'string' ? parseDatabaseLocation(target, cwd) : target;
  if (loc.kind === 'postgres') return PostgresStore.open(loc, options.password);
  return JobStore.open(loc.file, options);
}
