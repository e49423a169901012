/**
 * An open jobs store, whichever kind (issue 17): the workspace's sql.js file (JobStore, the default)
 * or a shared PostgreSQL server (PostgresStore, postgresStore.ts). Both are a JobRepository plus what a collection and
 * the views need around it; `openStore` picks by what `--db` or the setting names (location.ts).
 *
 * The kinds differ in when a write is durable: the file's changes are kept in memory and written by
 * save() (atomically, merged with another writer's); the server's are committed by each call (a
 * batch is one transaction), so save() there has nothing to write.
 */
import { JobStore, type OpenOptions } from './jobStore';
import { parseDatabaseLocation, type DatabaseLocation } from './location';
import type { JobRepository } from './repository';

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

/** Opens what `target` names (a path, sqlite:/// or postgres:// URL, relative to `cwd`). */
export async function openStore(target: string | DatabaseLocation, cwd: string, options: OpenStoreOptions = {}): Promise<Store> {
  const loc = typeof target === 'string' ? parseDatabaseLocation(target, cwd) : target;
  if (loc.kind === 'postgres') return (await import('./postgresStore.js')).PostgresStore.open(loc, options.password, options.readOnly === true);
  return JobStore.open(loc.file, options);
}
