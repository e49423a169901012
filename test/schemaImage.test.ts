/**
 * A new database is made from src/storage/schemaImage.ts instead of running every migration
 * (issue #12: start-up). The image must be exactly what the migrations make, so that the migrations
 * stay the one rule for the schema: `node scripts/build.mjs` regenerates it.
 */
import { describe, expect, it } from 'vitest';
import type { Database } from 'sql.js';
import { SCHEMA_VERSION, migrate, schemaStatements, schemaVersion } from '../src/storage/migrations';
import { SCHEMA_IMAGE } from '../src/storage/schemaImage';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { schemaImageModule } from '../scripts/writeSchemaImage';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

async function newDatabase(): Promise<Database> {
  return memoryDatabase(await loadSqlJs());
}

/** Every object of the schema as SQLite describes it, and each table's columns. */
function schemaOf(db: Database): unknown {
  const objects = db.exec('SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY name')[0]!.values;
  const tables = objects.filter((o) => o[0] === 'table').map((o) => String(o[1]));
  const columns = tables.map((t) => db.exec(`PRAGMA table_xinfo(${JSON.stringify(t)})`)[0]!.values);
  return { objects, columns };
}

describe('the schema image', () => {
  it('is what the migrations make, one by one from an empty database (else run node scripts/build.mjs)', async () => {
    const db = await newDatabase();
    migrate(db, 'migrated.db', SCHEMA_VERSION, false);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_IMAGE.version).toBe(SCHEMA_VERSION);
    expect(SCHEMA_IMAGE.statements).toEqual(schemaStatements(db));
    // The file itself is what the generator writes for it (nothing edited by hand).
    expect(readFileSync(path.resolve(__dirname, '..', 'src', 'storage', 'schemaImage.ts'), 'utf8')).toBe(schemaImageModule(SCHEMA_VERSION, schemaStatements(db)));
    db.close();
  });

  it('gives a new database the schema and version the migrations give it', async () => {
    const migrated = await newDatabase();
    migrate(migrated, 'migrated.db', SCHEMA_VERSION, false);
    const fromImage = await newDatabase();
    migrate(fromImage, 'new.db');
    expect(schemaVersion(fromImage)).toBe(SCHEMA_VERSION);
    expect(schemaOf(fromImage)).toEqual(schemaOf(migrated));
    expect(fromImage.exec('PRAGMA integrity_check')[0]!.values).toEqual([['ok']]);
    migrated.close();
    fromImage.close();
  });

  it('is not used for a database that holds something, or for a migration short of the last', async () => {
    // A version-0 file with a table of its own goes through the migrations, as before.
    const foreign = await newDatabase();
    foreign.exec('CREATE TABLE notes (x)');
    migrate(foreign, 'foreign.db');
    expect(schemaStatements(foreign)[0]).toBe('CREATE TABLE notes (x)');
    expect(schemaVersion(foreign)).toBe(SCHEMA_VERSION);
    const older = await newDatabase();
    migrate(older, 'older.db', 3);
    expect(schemaVersion(older)).toBe(3);
    expect(older.exec("SELECT name FROM sqlite_schema WHERE name = 'regressions'")).toEqual([]);
    foreign.close();
    older.close();
  });
});
