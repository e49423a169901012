/**
 * `--db`: which store a command reads or writes (issue 17): a path or sqlite:/// URL (the embedded
 * file, `.spark-optimizer/jobs.db` by default) or a postgres:// URL. What is printed of it is its
 * display form: the file, or the URL without a password.
 */
import { existsSync } from 'node:fs';
import { DatabaseUrlError, parseDatabaseLocation, type DatabaseLocation } from '../storage/location';
import { openStore, type OpenStoreOptions, type Store } from '../storage/store';
import { DEFAULT_DB, UsageError, type Io } from './io';

/** The location `--db` names; a malformed URL is a usage error. */
export function databaseLocation(db: string | undefined, io: Io): DatabaseLocation {
  try {
    return parseDatabaseLocation(db ?? DEFAULT_DB, io.cwd);
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new UsageError(`--db: ${err.message}`);
    throw err;
  }
}

/** Opens the store, printing its warnings. */
export async function openDatabase(location: DatabaseLocation, io: Io, options: OpenStoreOptions = {}): Promise<Store> {
  const store = await openStore(location, io.cwd, options);
  for (const w of store.warnings) io.err(`warning: ${w}`);
  return store;
}

/**
 * Prints the warnings a store gathered since it had `seen` of them: a save that found the file
 * damaged on disk moves it aside and says so in `warnings` (openDatabase printed those of the open).
 */
export function printNewWarnings(store: Pick<Store, 'warnings'>, seen: number, io: Io): void {
  for (const w of store.warnings.slice(seen)) io.err(`warning: ${w}`);
}

/**
 * For the commands that only read: a file that does not exist yet is said, not created. `copyFrom`:
 * it is `db copy`'s --from, whose missing file is no reason to collect.
 */
export async function openExisting(db: string | undefined, io: Io, copyFrom = false): Promise<Store | null> {
  const location = databaseLocation(db, io);
  if (location.kind === 'sqlite' && !existsSync(location.file)) {
    io.err(
      copyFrom
        ? `spark-optimizer: no database at ${location.file} to copy from (--from); nothing was copied.`
        : `spark-optimizer: no database at ${location.file} yet; run \`spark-optimizer collect\` first (or pass --db).`,
    );
    return null;
  }
  return openDatabase(location, io, { readOnly: true });
}
