/**
 * Every value a jobs database holds, as searchable text: each cell of each table, with compressed
 * cells (the deflated environment blocks, older rows' deflated environments) inflated first. A
 * byte search of the file itself cannot see into those, so "no secret in the database" is checked
 * on this text.
 */
import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import type { SqlValue } from 'sql.js';
import { loadSqlJs } from '../../src/storage/sqlJs';

function cellText(v: SqlValue): string {
  if (!(v instanceof Uint8Array)) return String(v);
  try {
    return inflateRawSync(v).toString('utf8');
  } catch {
    return Buffer.from(v).toString('latin1');
  }
}

export async function databaseText(file: string): Promise<string> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database(readFileSync(file));
  try {
    const tables = (db.exec("SELECT name FROM sqlite_master WHERE type = 'table'")[0]?.values ?? []).map((r) => String(r[0]));
    const parts: string[] = [];
    for (const t of tables) for (const result of db.exec(`SELECT * FROM "${t.replace(/"/g, '""')}"`)) for (const row of result.values) for (const v of row) parts.push(cellText(v));
    return parts.join('\n');
  } finally {
    db.close();
  }
}
