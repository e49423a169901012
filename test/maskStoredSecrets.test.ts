/**
 * Secrets that older versions stored, hidden again by the secrets review's rules (storedSecrets.ts):
 * the embedded file's migration 12, PostgreSQL's 13. Environments (redactSecrets' wider key and
 * value rules), tags, the regression checks that quote the properties that changed, and the runs'
 * options (their cursor scopes, which then match what a collection computes now) and errors. Each is
 * idempotent and atomic: a migration that stops half-way leaves the store as it was, and the next
 * open does it again. PostgreSQL runs its migrations without the connection's statement timeout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import * as path from 'node:path';
import type { Database } from 'sql.js';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/collectors/config';
import { redactSecrets } from '../src/collectors/record';
import { REDACTED } from '../src/common/secretText';
import { cursorKey, incrementalJob, jobsFor, recordedOptions, type SourceJob } from '../src/collectors/registry';
import { LISTED_THROUGH } from '../src/storage/keys';
import { migrate, schemaVersion, SCHEMA_VERSION } from '../src/storage/migrations';
import { PG_SCHEMA_VERSION } from '../src/storage/postgres/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { JobStore } from '../src/storage/jobStore';
import { environmentMasker, maskCheckTexts, maskEnvironmentText, maskJsonText, maskTagsText, shownCheck } from '../src/storage/storedSecrets';
import type { RegressionCheck } from '../src/analysis/regression';
import { loadSqlJs } from '../src/storage/sqlJs';
import { databaseAtVersion, describePostgres, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

/** Every secret the fixtures hold: none may be left in any stored text. */
const SECRETS = ['ENV_PW_SECRET', 'JAVA_PW_HIDDEN9', 'AUTH_HIDDEN9', 'AKIAABCDEFGHIJKLMNOP', 'TAG_PW_SECRET', 'OLD_PW_SECRET', 'NEW_PW_SECRET', 'QS_SECRET_TOKEN_2', 'RUN_PW_SECRET'];

const environment = (i: number): Record<string, string> => ({
  'spark.executorEnv.DB_PASS': 'ENV_PW_SECRET',
  'spark.driver.extraJavaOptions': '-Dfoo.pwd=JAVA_PW_HIDDEN9 -Xmx1g',
  'spark.sql.catalog.x.uri': 'thrift://host:9083?auth=AUTH_HIDDEN9',
  'spark.hadoop.fs.s3a.access.key': 'AKIAABCDEFGHIJKLMNOP',
  'spark.executor.memory': `${i}g`,
  'spark.master': 'k8s://https://10.0.0.1:443',
});
const maskedEnvironment = (i: number): Record<string, string> => ({
  'spark.executorEnv.DB_PASS': REDACTED,
  'spark.driver.extraJavaOptions': `-Dfoo.pwd=${REDACTED} -Xmx1g`,
  'spark.sql.catalog.x.uri': `thrift://host:9083?auth=${REDACTED}`,
  'spark.hadoop.fs.s3a.access.key': REDACTED,
  'spark.executor.memory': `${i}g`,
  'spark.master': 'k8s://https://10.0.0.1:443',
});
const TAGS = { state_message: 'failed: jdbc:mysql://u:TAG_PW_SECRET@db/x', team: 'etl' };
const MASKED_TAGS = { state_message: `failed: jdbc:mysql://u:${REDACTED}@db/x`, team: 'etl' };

const quoted = (pw: [string, string]): string => `spark.executorEnv.DB_PASS ${pw[0]} → ${pw[1]}; spark.executor.memory 1g → 2g`;
const CHECK = {
  summary: 'Duration 4.0x; 2 properties changed',
  explanation: (pw: [string, string]): string => `Regressed against the median of 3 earlier completed runs: Duration 40 min, 4.0x the baseline's 10 min. Likely cause: the configuration, 2 Spark properties changed: ${quoted(pw)}.`,
  json: (pw: [string, string]): string =>
    JSON.stringify({ v: 2, app_name: 'Nightly', source: 'logs', start_time: null, baseline_runs: ['a', 'b', 'c'], metrics: {}, spark_version: null, config: [['spark.executorEnv.DB_PASS', pw[0], pw[1]], ['spark.executor.memory', '1g', '2g']], causes: ['config'] }),
};
const RAW: [string, string] = ['OLD_PW_SECRET', 'NEW_PW_SECRET'];
const HIDDEN: [string, string] = [REDACTED, REDACTED];

const TOKEN_URL = 'http://127.0.0.1:18184/?access_token=QS_SECRET_TOKEN_2';
const THROUGH = '2024-01-01T00:10:00.000Z';
/** A run recorded by a version before recordedOptions masked a URL's query token: the token in its options and its cursor's scope. */
const OLD_OPTIONS = JSON.stringify({ url: TOKEN_URL, [LISTED_THROUGH]: { end_time: THROUGH, scope: JSON.stringify({ url: TOKEN_URL, shard: null }) } });
const OLD_ERRORS = JSON.stringify(['GET http://u:RUN_PW_SECRET@hs/api/v1 failed', 'a line with nothing to hide']);

/** The built CLI (dist/cli.js), as a user runs it. */
function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.resolve('dist/cli.js'), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function hsJob(): SourceJob {
  const parsed = parseConfig(`sources:\n  - name: hs\n    type: history_server\n    history_server_url: ${TOKEN_URL}\n`, '/work');
  return jobsFor(parsed.sources[0]!)[0]!;
}

/** Every text the embedded file holds, environments inflated. */
function storedText(db: Database): string {
  const all = (sql: string): string[] => (db.exec(sql)[0]?.values ?? []).flat().map((v) => (v instanceof Uint8Array ? inflateRawSync(v).toString('utf8') : String(v)));
  return [...all('SELECT data FROM environment_blocks'), ...all('SELECT environment, tags FROM applications'), ...all('SELECT summary, explanation, check_json FROM regressions'), ...all('SELECT options, errors FROM collection_runs')].join('\n');
}

/** An embedded database at schema 11 holding what versions before the review stored. */
async function oldFile(): Promise<{ db: Database; repo: SqlJsRepository }> {
  const SQL = await loadSqlJs();
  const db = new SQL.Database();
  migrate(db, 'v11.db', 11, false);
  const repo = new SqlJsRepository(db);
  // 40 records: more than one environment block (32 a block); app-0 kept as rows were before blocks.
  repo.upsert(Array.from({ length: 40 }, (_, i) => makeRecord({ app_id: `app-${i}`, environment: environment(i), tags: i % 2 === 0 ? TAGS : { team: 'etl' } })));
  db.run("UPDATE applications SET environment = ?, env_block = NULL, env_start = NULL, env_end = NULL WHERE app_id = 'app-0'", [JSON.stringify(environment(0))]);
  db.run("INSERT INTO regressions VALUES ('app-1', '', 'regressed', ?, ?, ?, '2024-07-01T00:00:00.000Z')", [CHECK.summary, CHECK.explanation(RAW), CHECK.json(RAW)]);
  db.run("INSERT INTO collection_runs (run_id, source, options, started, finished, errors) VALUES ('r1', 'hs', ?, '2024-01-01T00:00:00.000Z', '2024-01-01T00:11:00.000Z', ?)", [OLD_OPTIONS, OLD_ERRORS]);
  return { db, repo };
}

describe('environmentMasker (the migrations remember what each name and value becomes)', () => {
  it('gives what redactSecrets gives, environment after environment, an own spark.redaction.regex too', () => {
    const masker = environmentMasker();
    const envs: Record<string, string>[] = [
      environment(1),
      environment(2),
      maskedEnvironment(3),
      { 'spark.redaction.regex': '(?i)secret|\\Qcorp.vault.blob\\E', 'spark.corp.vault.blob': 'LEAK', 'spark.app.name': 'x' },
      { 'spark.redaction.regex': REDACTED, 'spark.executorEnv.GITHUB_PAT': 'ghp_x', 'spark.yarn.appMasterEnv.PYTHONPATH': '/opt' },
      { 'spark.hadoop.fs.s3a.aws.credentials.provider': 'com.amazonaws.auth.X', 'spark.mongodb.input.uri': 'mongodb://u:p@ss@h/db', x: 'password is here' },
      {},
    ];
    for (const env of [...envs, ...envs]) {
      const masked = masker(env);
      expect(masked).toEqual(redactSecrets(env));
      // Nothing to hide: the environment itself (a migration writes nothing back).
      if (JSON.stringify(redactSecrets(env)) === JSON.stringify(env)) expect(masked).toBe(env);
    }
  });
});

describe('a property keyed spark.redaction.regex (an application\'s own rule is read from that key)', () => {
  const OWN = 'spark.redaction.regex';
  /** The property as an environment holding it stores it: the rule it holds judges that key and value too. */
  const stored = (v: string): string => redactSecrets({ [OWN]: v })[OWN]!;
  const RULES = ['(?i)secret|corpvault', '(?i)redaction', '\\d{16}', REDACTED];

  it('is judged by the rule it holds: hidden when that rule matches its key or its own text, kept when neither', () => {
    expect(RULES.map(stored)).toEqual([REDACTED, REDACTED, '\\d{16}', REDACTED]);
  });

  it('environmentMasker gives what redactSecrets gives, the key seen again and again', () => {
    const masker = environmentMasker();
    const envs = RULES.map((rule) => ({ [OWN]: rule, 'spark.app.name': 'corpvault-etl', 'spark.card': '1234567812345678' }));
    for (const env of [...envs, ...envs]) expect(masker(env)).toEqual(redactSecrets(env));
  });

  it('a check quoting its change shows each value as an environment holding it stores it', () => {
    const pairs: [string, string][] = [[RULES[0]!, RULES[2]!], [RULES[2]!, RULES[1]!], [RULES[3]!, RULES[2]!]];
    for (const [a, b] of pairs) {
      const explanation = (x: string, y: string): string => `Likely cause: the configuration, 1 Spark property changed: ${OWN} ${x} → ${y}.`;
      const packed = JSON.stringify({ v: 2, app_name: 'Nightly', source: 'logs', start_time: null, baseline_runs: ['a'], metrics: {}, spark_version: null, config: [[OWN, a, b]], causes: ['config'] });
      const masked = maskCheckTexts({ summary: CHECK.summary, explanation: explanation(a, b), check_json: packed });
      expect(masked.explanation).toBe(explanation(stored(a), stored(b)));
      expect((JSON.parse(masked.check_json!) as { config: unknown[] }).config).toEqual([[OWN, stored(a), stored(b)]]);
      const check = { summary: CHECK.summary, explanation: explanation(a, b), changes: { input_ratio: null, input: null, spark_version: null, plan: null, config: [{ key: OWN, a, b, per_run: false }] } } as unknown as Pick<RegressionCheck, 'summary' | 'explanation' | 'changes'>;
      const shown = shownCheck(check);
      expect(shown.explanation).toBe(explanation(stored(a), stored(b)));
      expect(shown.changes!.config).toEqual([{ key: OWN, a: stored(a), b: stored(b), per_run: false }]);
    }
  });
});

describe('the stored JSON texts (maskEnvironmentText, maskTagsText, maskJsonText: one rule for the three)', () => {
  const PLAIN = 'not JSON: jdbc:mysql://u:PLAIN_PW_SECRET@db/x';
  const MASKED_PLAIN = `not JSON: jdbc:mysql://u:${REDACTED}@db/x`;

  it('mask what each holds, write a text again only when something changed, and mask a text that is not JSON as a plain text', () => {
    const env = JSON.stringify(environment(1));
    expect(JSON.parse(maskEnvironmentText(env))).toEqual(maskedEnvironment(1));
    expect(JSON.parse(maskEnvironmentText(env, environmentMasker()))).toEqual(maskedEnvironment(1));
    expect(JSON.parse(maskTagsText(JSON.stringify(TAGS)))).toEqual(MASKED_TAGS);
    expect(JSON.parse(maskJsonText(OLD_ERRORS))).toEqual(['GET http://u:*********(redacted)@hs/api/v1 failed', 'a line with nothing to hide']);
    // Nothing to hide: the text as it was, spacing and all (a migration writes nothing back).
    for (const mask of [maskEnvironmentText, maskTagsText, maskJsonText]) {
      const clean = '{ "team" : "etl" }';
      expect(mask(clean)).toBe(clean);
      expect(mask(PLAIN)).toBe(MASKED_PLAIN);
    }
  });

  it('an environment or tags that are JSON but no object are masked as plain text, options and errors as the JSON value they are', () => {
    const quoted = JSON.stringify('http://u:Q_PW_SECRET@h/x');
    for (const mask of [maskEnvironmentText, maskTagsText]) {
      expect(mask('null')).toBe('null');
      expect(mask(quoted)).toBe(JSON.stringify(`http://u:${REDACTED}@h/x`));
    }
    expect(maskJsonText('null')).toBe('null');
    expect(maskJsonText(quoted)).toBe(JSON.stringify(`http://u:${REDACTED}@h/x`));
    expect(maskJsonText('[1, {"a": ["?token=T_SECRET"]}]')).toBe(`[1,{"a":["?token=${REDACTED}"]}]`);
  });
});

describe('maskCheckTexts (the migrations over regressions)', () => {
  it('reads a check stored whole as well as packed (PostgreSQL kept whole checks: its 9 packed nothing), and leaves one with nothing to hide as it is', () => {
    const whole = JSON.stringify({ summary: CHECK.summary, explanation: CHECK.explanation(RAW), changes: { config: [{ key: 'spark.executorEnv.DB_PASS', a: RAW[0], b: RAW[1], per_run: false }], input_ratio: null }, metrics: [] });
    const masked = maskCheckTexts({ summary: CHECK.summary, explanation: CHECK.explanation(RAW), check_json: whole });
    expect(masked.explanation).toBe(CHECK.explanation(HIDDEN));
    expect(JSON.parse(masked.check_json!)).toEqual({ summary: CHECK.summary, explanation: CHECK.explanation(HIDDEN), changes: { config: [{ key: 'spark.executorEnv.DB_PASS', a: REDACTED, b: REDACTED, per_run: false }], input_ratio: null }, metrics: [] });
    expect(maskCheckTexts(masked)).toBe(masked);
    const clean = { summary: 'Steady against 3 earlier runs', explanation: 'No regression.', check_json: null };
    expect(maskCheckTexts(clean)).toBe(clean);
  });
});

describe('migration 12 (the embedded file)', () => {
  it('hides every secret of the review in environments, tags, checks and runs; the rest is unchanged', async () => {
    const { db, repo } = await oldFile();
    try {
      for (const secret of SECRETS) expect(storedText(db)).toContain(secret);
      migrate(db, 'v11.db');
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      const text = storedText(db);
      for (const secret of SECRETS) expect(text).not.toContain(secret);
      expect(repo.environments(Array.from({ length: 40 }, (_, i) => ({ app_id: `app-${i}`, attempt_id: null })))).toEqual(Array.from({ length: 40 }, (_, i) => maskedEnvironment(i)));
      expect(repo.getByAppId('app-0')[0]!.environment).toEqual(maskedEnvironment(0));
      expect(repo.getByAppId('app-0')[0]!.tags).toEqual(MASKED_TAGS);
      expect(repo.getByAppId('app-1')[0]!.tags).toEqual({ team: 'etl' });
      // As a collection stores them now (redactSecrets): the same texts.
      expect(maskedEnvironment(7)).toEqual(redactSecrets(environment(7)));
      const [summary, explanation, check] = db.exec("SELECT summary, explanation, check_json FROM regressions WHERE app_id = 'app-1'")[0]!.values[0]!.map(String);
      expect([summary, explanation, check]).toEqual([CHECK.summary, CHECK.explanation(HIDDEN), CHECK.json(HIDDEN)]);
      const run = repo.listRuns()[0]!;
      expect(run.errors).toEqual([`GET http://u:${REDACTED}@hs/api/v1 failed`, 'a line with nothing to hide']);
    } finally {
      db.close();
    }
  });

  it('keeps an incremental cursor recorded with a token in its scope: the masked scope is the one a collection computes now', async () => {
    const { db, repo } = await oldFile();
    try {
      const job = hsJob();
      const cursorOf = (): unknown => (incrementalJob(job, (k) => repo.newestEndTime(k)).options as { cursor?: string }).cursor;
      const key = cursorKey('hs', recordedOptions(job));
      // Before: found through the old rule's key only (registry legacyCursorKey).
      expect(repo.newestEndTime(key)).toBeNull();
      expect(cursorOf()).toBe(THROUGH);
      migrate(db, 'v11.db');
      expect(repo.newestEndTime(key)).toBe(THROUGH);
      expect(cursorOf()).toBe(THROUGH);
    } finally {
      db.close();
    }
  });

  it('is left out by a store opened only to read, which shows what it holds masked all the same and refuses to be saved; the file stays at 11 for a writer to migrate', async () => {
    const { db } = await oldFile();
    const file = path.join(tempDir(), 'v11.db');
    writeFileSync(file, db.export());
    db.close();
    const before = readFileSync(file);
    const reader = await JobStore.open(file, { readOnly: true });
    try {
      // Not rewritten in memory (2-4 s per 100,000 records, paid by every `jobs` or `show` until a writer saved)...
      expect(reader.getByAppId('app-0')[0]!.environment['spark.executorEnv.DB_PASS']).toBe('ENV_PW_SECRET');
      await expect(reader.save()).rejects.toThrow(/opened only to read; it cannot be saved/);
    } finally {
      reader.close();
    }
    // ...but never shown: `show` masks what it reads (storedSecrets.ts shownRecord).
    const shown = runCli(['show', 'app-0', '--db', file, '--format', 'json']);
    expect(shown.status).toBe(0);
    for (const secret of SECRETS) expect(shown.stdout).not.toContain(secret);
    expect((JSON.parse(shown.stdout) as { environment: unknown }).environment).toEqual(maskedEnvironment(0));
    expect(readFileSync(file).equals(before)).toBe(true);
    // A writer migrates it (and its save keeps the masked texts).
    const writer = await JobStore.open(file);
    try {
      expect(writer.getByAppId('app-0')[0]!.environment).toEqual(maskedEnvironment(0));
    } finally {
      writer.close();
    }
  });

  it('is idempotent: run again over what it masked, it changes nothing', async () => {
    const { db } = await oldFile();
    try {
      // Up to 12 both times: the migrations after it are not this test's (13 adds columns, which cannot be added twice).
      migrate(db, 'v11.db', 12);
      const once = storedText(db);
      const changes = db.exec('SELECT total_changes()')[0]!.values[0]![0];
      db.exec('PRAGMA user_version = 11');
      migrate(db, 'v11.db', 12);
      expect(storedText(db)).toBe(once);
      // Nothing written but the version: no row was updated.
      expect(db.exec('SELECT total_changes()')[0]!.values[0]![0]).toBe(changes);
    } finally {
      db.close();
    }
  });

  it('is atomic: stopped half-way (after environments and tags, before the runs), the database is as it was, at 11; the next open does it', async () => {
    const { db } = await oldFile();
    try {
      const before = storedText(db);
      const prepare = db.prepare.bind(db);
      db.prepare = ((sql: string) => {
        if (sql.startsWith('UPDATE collection_runs')) throw new Error('killed');
        return prepare(sql);
      });
      expect(() => migrate(db, 'v11.db')).toThrow('killed');
      db.prepare = prepare;
      expect(schemaVersion(db)).toBe(11);
      expect(storedText(db)).toBe(before);
      migrate(db, 'v11.db');
      expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
      for (const secret of SECRETS) expect(storedText(db)).not.toContain(secret);
    } finally {
      db.close();
    }
  });

  it('masks a stored text that is not JSON as plain text, and does not fail on it', async () => {
    const { db } = await oldFile();
    try {
      db.run("UPDATE applications SET tags = 'not json: pwd=TAG_PW_SECRET' WHERE app_id = 'app-2'");
      migrate(db, 'v11.db');
      expect(db.exec("SELECT tags FROM applications WHERE app_id = 'app-2'")[0]!.values[0]![0]).toBe(`not json: pwd=${REDACTED}`);
    } finally {
      db.close();
    }
  });
});

describePostgres('migration 13 (PostgreSQL)', (server) => {
  const { open, connect } = pgHandles();

  /** A database at 12 holding what versions before the review stored. */
  async function oldServerDatabase(): Promise<{ url: string; client: Awaited<ReturnType<typeof connect>> }> {
    const s = server();
    const url = await databaseAtVersion(s, 12);
    const client = await connect(s, url);
    for (let i = 0; i < 3; i++) {
      await client.query(
        `INSERT INTO applications (app_id, attempt_key, attempt_id, app_name, "user", total_tasks, failed_tasks, total_stages, failed_stages, cpu_time_ms, input_bytes, output_bytes,
          shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, tags, environment, quality, source, status, record_hash, first_seen, last_updated)
          VALUES ($1, '', NULL, 'old', 'ann', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $2, $3, '[]', 'hs', 'completed', 'h', 'now', 'now')`,
        [`app-${i}`, JSON.stringify(TAGS), JSON.stringify(environment(i))],
      );
    }
    await client.query("INSERT INTO regressions (app_id, attempt_key, status, summary, explanation, check_json, checked_at) VALUES ('app-1', '', 'regressed', $1, $2, $3, 'now')", [CHECK.summary, CHECK.explanation(RAW), CHECK.json(RAW)]);
    await client.query("INSERT INTO collection_runs (run_id, source, options, started, finished, errors) VALUES ('r1', 'hs', $1, '2024-01-01T00:00:00.000Z', '2024-01-01T00:11:00.000Z', $2)", [OLD_OPTIONS, OLD_ERRORS]);
    return { url, client };
  }
  const serverText = async (client: Awaited<ReturnType<typeof connect>>): Promise<string> =>
    JSON.stringify([
      (await client.query('SELECT environment, tags FROM applications ORDER BY app_id')).rows,
      (await client.query('SELECT summary, explanation, check_json FROM regressions')).rows,
      (await client.query('SELECT options, errors FROM collection_runs')).rows,
    ]);
  const versionOf = async (client: Awaited<ReturnType<typeof connect>>): Promise<number> => Number((await client.query<{ version: number }>('SELECT version FROM spark_optimizer_schema')).rows[0]?.version);

  it('hides the same secrets by the same code as the embedded file, and the cursor scope matches after it', async () => {
    const { url, client } = await oldServerDatabase();
    const store = await open(url, server().password);
    expect(await versionOf(client)).toBe(PG_SCHEMA_VERSION);
    const text = await serverText(client);
    for (const secret of SECRETS) expect(text).not.toContain(secret);
    expect(store.getByAppId('app-2')[0]!.environment).toEqual(maskedEnvironment(2));
    expect(store.getByAppId('app-2')[0]!.tags).toEqual(MASKED_TAGS);
    expect((await client.query('SELECT summary, explanation, check_json FROM regressions')).rows[0]).toEqual({ summary: CHECK.summary, explanation: CHECK.explanation(HIDDEN), check_json: CHECK.json(HIDDEN) });
    const job = hsJob();
    expect(store.newestEndTime(cursorKey('hs', recordedOptions(job)))).toBe(THROUGH);
    expect((incrementalJob(job, (k) => store.newestEndTime(k)).options as { cursor?: string }).cursor).toBe(THROUGH);
  });

  it('runs without the connection statement_timeout: a step slower than it completes (a review: "canceling statement due to statement timeout")', async () => {
    const { url, client } = await oldServerDatabase();
    // Every UPDATE of the runs takes 1.5 s, over the URL's statement_timeout of 1 s.
    await client.query(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1.5); RETURN NULL; END $$;
      CREATE TRIGGER slow AFTER UPDATE ON collection_runs FOR EACH STATEMENT EXECUTE FUNCTION slow();`);
    await open(`${url}${url.includes('?') ? '&' : '?'}statement_timeout=1`, server().password);
    expect(await versionOf(client)).toBe(PG_SCHEMA_VERSION);
    for (const secret of SECRETS) expect(await serverText(client)).not.toContain(secret);
  });

  it('says which step failed, and leaves the database as it was, at 12; the next open does it', async () => {
    const { url, client } = await oldServerDatabase();
    const before = await serverText(client);
    await client.query(`CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'runs are read-only today'; END $$;
      CREATE TRIGGER refuse BEFORE UPDATE ON collection_runs FOR EACH STATEMENT EXECUTE FUNCTION refuse();`);
    await expect(open(url, server().password)).rejects.toThrow(/upgrading the schema to version 13 \(stored secrets hidden again\) failed, and the database was left at version 12: .*runs are read-only today/);
    expect(await versionOf(client)).toBe(12);
    // Environments and tags were masked before the runs in the same transaction: rolled back with it.
    expect(await serverText(client)).toBe(before);
    await client.query('DROP TRIGGER refuse ON collection_runs');
    await open(url, server().password);
    expect(await versionOf(client)).toBe(PG_SCHEMA_VERSION);
    for (const secret of SECRETS) expect(await serverText(client)).not.toContain(secret);
  });

  it('a CLI killed (SIGKILL) mid-migration leaves the database as it was, at 12; the next collect does it', async () => {
    const { url, client } = await oldServerDatabase();
    const before = await serverText(client);
    await client.query(`CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
      CREATE TRIGGER slow AFTER UPDATE ON collection_runs FOR EACH STATEMENT EXECUTE FUNCTION slow();`);
    const logs = tempDir();
    const cli = spawn(process.execPath, [path.resolve(__dirname, '../dist/cli.js'), 'collect', '--path', logs, '--db', url], { env: { ...process.env, PGPASSWORD: server().password, HOME: tempDir() }, stdio: 'ignore' });
    const exited = new Promise((resolve) => cli.on('exit', resolve));
    // Killed while its migration's last UPDATE runs: environments and tags are masked by then, uncommitted.
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      seen = (await client.query("SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'UPDATE collection_runs%'")).rows.length > 0;
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    cli.kill('SIGKILL');
    expect(seen).toBe(true);
    await exited;
    // The server ends the dead client's transaction once its statement is over (it rolls back).
    for (let i = 0; i < 200; i++) {
      const busy = await client.query("SELECT 1 FROM pg_stat_activity WHERE query LIKE 'UPDATE collection_runs%' AND pid <> pg_backend_pid()");
      if (busy.rows.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(await versionOf(client)).toBe(12);
    expect(await serverText(client)).toBe(before);
    await client.query('DROP TRIGGER slow ON collection_runs');
    await open(url, server().password);
    expect(await versionOf(client)).toBe(PG_SCHEMA_VERSION);
    for (const secret of SECRETS) expect(await serverText(client)).not.toContain(secret);
  }, 60_000);
});
