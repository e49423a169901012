/**
 * Passwords in URLs' user info that collections stored before record.ts's maskUrlPasswords (a review:
 * a Hive metastore's jdbc:mysql://hive:PASSWORD@db/… in the environment, and in the regression checks
 * that quote changed properties) are hidden by a migration: the embedded file's 10, PostgreSQL's 11.
 */
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { REDACTED } from '../src/common/secretText';
import { migrate, schemaVersion, SCHEMA_VERSION } from '../src/storage/migrations';
import { PG_SCHEMA_VERSION } from '../src/storage/postgres/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { loadSqlJs } from '../src/storage/sqlJs';
import { databaseAtVersion, describePostgres, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';

const PASSWORD = 'Hunter2-metastore';
const URL_OF = (pw: string): string => `jdbc:mysql://hive:${pw}@db.internal:3306/metastore?useSSL=true`;
const environment = (i: number, pw = PASSWORD): Record<string, string> => ({
  'spark.hadoop.javax.jdo.option.ConnectionURL': URL_OF(pw),
  'spark.master': 'k8s://https://10.0.0.1:443',
  'spark.executor.memory': `${i}g`,
});
const CHECK_TEXT = `1 Spark property changed: spark.hadoop.javax.jdo.option.ConnectionURL ${URL_OF('old-pw')} -> ${URL_OF(PASSWORD)}`;

describe('migration 10 (the embedded file)', () => {
  it('hides the password in every stored environment, in blocks and in the column rows of before blocks, and in the regression checks; the rest is unchanged', async () => {
    const SQL = await loadSqlJs();
    const db = new SQL.Database();
    try {
      migrate(db, 'v9.db', 9, false);
      const repo = new SqlJsRepository(db);
      // 40 records: more than one environment block (32 a block), and a row kept as rows were before blocks.
      const records = Array.from({ length: 40 }, (_, i) => makeRecord({ app_id: `app-${i}`, environment: environment(i) }));
      repo.upsert(records);
      db.run("UPDATE applications SET environment = ?, env_block = NULL, env_start = NULL, env_end = NULL WHERE app_id = 'app-0'", [JSON.stringify(environment(0))]);
      db.run('INSERT INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?)', [
        'app-1',
        '',
        'regressed',
        CHECK_TEXT,
        `Likely cause: ${CHECK_TEXT}.`,
        JSON.stringify({ v: 2, config: [{ key: 'spark.hadoop.javax.jdo.option.ConnectionURL', a: URL_OF('old-pw'), b: URL_OF(PASSWORD) }] }),
        '2024-07-01T00:00:00.000Z',
      ]);
      const storedText = (): string =>
        [
          ...db.exec('SELECT data FROM environment_blocks')[0]!.values.map((r) => inflateRawSync(r[0] as Uint8Array).toString('utf8')),
          ...db.exec('SELECT environment FROM applications')[0]!.values.map((r) => String(r[0])),
          ...db.exec('SELECT summary, explanation, check_json FROM regressions')[0]!.values.flat().map(String),
        ].join('\n');
      expect(storedText()).toContain(PASSWORD);

      migrate(db, 'v9.db');
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      expect(storedText()).not.toContain(PASSWORD);
      expect(storedText()).not.toContain('old-pw');
      const masked = (i: number): Record<string, string> => environment(i, REDACTED);
      expect(repo.environments(records.map((r) => ({ app_id: r.app_id, attempt_id: null })))).toEqual(records.map((_, i) => masked(i)));
      expect(repo.getByAppId('app-0')[0]!.environment).toEqual(masked(0));
      expect(repo.getByAppId('app-39')[0]!.environment).toEqual(masked(39));
      const [summary, , check] = db.exec("SELECT summary, explanation, check_json FROM regressions WHERE app_id = 'app-1'")[0]!.values[0]!.map(String);
      expect(summary).toBe(`1 Spark property changed: spark.hadoop.javax.jdo.option.ConnectionURL ${URL_OF(REDACTED)} -> ${URL_OF(REDACTED)}`);
      expect(JSON.parse(check!)).toEqual({ v: 2, config: [{ key: 'spark.hadoop.javax.jdo.option.ConnectionURL', a: URL_OF(REDACTED), b: URL_OF(REDACTED) }] });
    } finally {
      db.close();
    }
  });
});

describePostgres('migration 11 (PostgreSQL)', (server) => {
  const { open, connect } = pgHandles();

  it('hides the password in stored environments and regression checks, by the same rule as the embedded file', async () => {
    const s = server();
    // Before migration 11 (the embedded file's 10).
    const url = await databaseAtVersion(s, 10);
    const client = await connect(s, url);
    await client.query(
      `INSERT INTO applications (app_id, attempt_key, attempt_id, app_name, "user", total_tasks, failed_tasks, total_stages, failed_stages, cpu_time_ms, input_bytes, output_bytes,
        shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, tags, environment, quality, source, status, record_hash, first_seen, last_updated)
        VALUES ('app-old', '', NULL, 'old', 'ann', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}', $1, '[]', 'event_log', 'completed', 'h', 'now', 'now')`,
      [JSON.stringify(environment(3))],
    );
    await client.query("INSERT INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at) VALUES ('app-old', '', 'regressed', $1, $2, NULL, 'now')", [CHECK_TEXT, 'no URL here']);
    const store = await open(url, s.password);
    expect((await client.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    expect(store.getByAppId('app-old')[0]!.environment).toEqual(environment(3, REDACTED));
    const rows = (await client.query('SELECT summary, explanation, check_json FROM regressions')).rows;
    expect(rows).toEqual([{ summary: `1 Spark property changed: spark.hadoop.javax.jdo.option.ConnectionURL ${URL_OF(REDACTED)} -> ${URL_OF(REDACTED)}`, explanation: 'no URL here', check_json: null }]);
    expect(JSON.stringify((await client.query('SELECT environment FROM applications')).rows)).not.toContain(PASSWORD);
  });
});
