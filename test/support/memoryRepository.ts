/**
 * A repository on an in-memory SQLite database at the newest schema, for tests of the storage
 * rules; every database made is closed after each test of the file that imports this.
 */
import type { Database } from 'sql.js';
import { afterEach } from 'vitest';
import { migrate } from '../../src/storage/migrations';
import { SqlJsRepository } from '../../src/storage/repository';
import { loadSqlJs } from '../../src/storage/sqlJs';

const open: Database[] = [];
afterEach(() => {
  for (const db of open.splice(0)) db.close();
});

export async function memoryRepository(): Promise<{ repo: SqlJsRepository; db: Database }> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  open.push(db);
  migrate(db, ':memory:');
  return { repo: new SqlJsRepository(db), db };
}
