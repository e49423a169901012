/**
 * A review of the PostgreSQL store: a text a log gives whole (app id, attempt, name, user, a file's
 * path) may be longer than a B-tree entry holds (2,704 bytes after compression). One random
 * 3,000-character app name failed every batch of its folder ("index row size 3064 exceeds btree
 * version 4 maximum 2704 for index apps_baseline") and `db copy` to the server copied nothing,
 * while the sql.js file stored it. Migration 10 (postgres/migrations.ts) indexes a key or name
 * whole up to 1,000 bytes and by its md5 beyond (indexedKey), a user or an id's order by a prefix;
 * here every such text is stored (none is refused), found, copied, and the queries still go through
 * indexes.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { checkRegressions } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { KEY_BYTES, PG_SCHEMA_VERSION, indexedKey } from '../src/storage/postgres/migrations';
import { eventLogText } from './support/eventLogGenerator';
import { databaseAtVersion, describePostgres, newDatabase, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');

/** Stores and clients of the test's own, closed after each test. */
const { open, connect } = pgHandles();

/** `n` characters no compression shortens (a B-tree entry is compressed before its size is checked). */
const random = (n: number): string => randomBytes(n).toString('base64url').slice(0, n);

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...own, HOME: tempDir(), ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** A folder of logs: five ordinary ones, one each with a long name, user and app id, and one at a ~3,000-character path. */
function folderWithLongTexts(): { logs: string; longName: string; longUser: string; longId: string; longPath: string } {
  const logs = path.join(tempDir(), 'logs');
  mkdirSync(logs);
  const write = (file: string, opts: Parameters<typeof eventLogText>[0]): void => writeFileSync(file, eventLogText({ stages: 1, tasksPerStage: 2, ...opts }).text);
  for (let i = 0; i < 5; i++) write(path.join(logs, `app-ok-${i}`), { appId: `app-ok-${i}`, appName: 'normal job', startMs: 1_700_000_000_000 + i * 3_600_000 });
  const longName = random(3000);
  const longUser = random(3000);
  const longId = `app-${random(3000)}`;
  write(path.join(logs, 'app-longname'), { appId: 'app-longname', appName: longName });
  write(path.join(logs, 'app-longuser'), { appId: 'app-longuser', user: longUser });
  // A file name holds 255 bytes: the path is long by its folders.
  write(path.join(logs, 'app-longid'), { appId: longId });
  let deep = logs;
  for (let i = 0; i < 12; i++) deep = path.join(deep, random(240));
  mkdirSync(deep, { recursive: true });
  const longPath = path.join(deep, 'app-longpath');
  write(longPath, { appId: 'app-longpath' });
  return { logs, longName, longUser, longId, longPath };
}

describePostgres('PostgreSQL: texts longer than a B-tree entry (review)', (server) => {
  it('a collection stores every log of a folder with a 3,000-character name, user, app id and path, as the sql.js file does', async () => {
    const s = server();
    const url = await newDatabase(s);
    const { logs, longName, longUser, longId, longPath } = folderWithLongTexts();
    const collect = (db: string) => cli(['collect', '--source', 'event-logs', '--path', logs, '--db', db], { PGPASSWORD: s.password });
    const file = path.join(tempDir(), 'jobs.db');
    for (const db of [file, url]) {
      const first = await collect(db);
      expect(first.code, first.stderr).toBe(0);
      expect(first.stderr).not.toContain('index row size');
    }
    const store = await open(url, s.password);
    expect(store.count()).toBe(9);
    expect(store.listRuns()[0]).toMatchObject({ seen: 9, new: 9, failed: 0, errors: [] });
    expect(store.list({ user: longUser }).map((r) => r.app_id)).toEqual(['app-longuser']);
    expect(store.get({ app_id: longId, attempt_id: null })?.app_id).toBe(longId);
    expect(store.getByAppId(longId)).toHaveLength(1);
    expect(store.list({ name: longName }).map((r) => r.app_id)).toEqual(['app-longname']);
    expect(store.ingestedFiles().map((f) => f.path)).toContain(longPath);
    expect(store.isUnchanged({ path: longPath, files: [{ path: longPath, size: store.ingestedFiles().find((f) => f.path === longPath)!.size, mtimeMs: store.ingestedFiles().find((f) => f.path === longPath)!.mtime_ms }] })).toBe(true);
    // Read again: nothing new, nothing failed (every file, the long path's too, is known).
    const again = await collect(url);
    expect(again.code, again.stderr).toBe(0);
    expect(store.listRuns()[0]).toMatchObject({ seen: 9, new: 0, updated: 0, failed: 0 });
    // The two stores hold the same jobs.
    const jobs = async (db: string) => (await cli(['jobs', '--db', db, '--format', 'json', '--sort', 'app_id', '--asc'], { PGPASSWORD: s.password })).stdout;
    expect(await jobs(url)).toBe(await jobs(file));

    // db copy both ways copies them all.
    const copy = await newDatabase(s);
    const there = await cli(['db', 'copy', '--from', file, '--to', copy], { PGPASSWORD: s.password });
    expect(there.code, there.stderr).toBe(0);
    const copied = await open(copy, s.password);
    expect(copied.count()).toBe(9);
    expect(copied.ingestedFiles().map((f) => f.path)).toContain(longPath);
    const back = path.join(tempDir(), 'back.db');
    const home = await cli(['db', 'copy', '--from', copy, '--to', back], { PGPASSWORD: s.password });
    expect(home.code, home.stderr).toBe(0);
    expect(await jobs(back)).toBe(await jobs(file));
  });

  it('a record the server still refuses is a warning naming it and its log; the rest of its batch is stored, and the log is read again next time', async () => {
    const s = server();
    const url = await newDatabase(s);
    const logs = path.join(tempDir(), 'logs');
    mkdirSync(logs);
    for (const [id, name] of [['app-1', 'fine'], ['app-2', 'refused'], ['app-3', 'fine']] as const) writeFileSync(path.join(logs, id), eventLogText({ appId: id, appName: name, stages: 1, tasksPerStage: 2 }).text);
    // Made first, then given a trigger that refuses one name as the server refuses an index entry too
    // large (54000): the stand-in for a value it cannot store.
    const collect = () => cli(['collect', '--source', 'event-logs', '--path', logs, '--db', url], { PGPASSWORD: s.password });
    const empty = await cli(['collect', '--source', 'event-logs', '--path', tempDir(), '--db', url], { PGPASSWORD: s.password });
    expect(empty.code, empty.stderr).toBe(0);
    const client = await connect(s, url);
    await client.query(`CREATE FUNCTION review_refused() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
        IF NEW.app_name = 'refused' THEN RAISE EXCEPTION 'review_refused: index row size 3064 exceeds btree version 4 maximum 2704' USING ERRCODE = '54000'; END IF;
        RETURN NEW; END $$;
      CREATE TRIGGER review_refused BEFORE INSERT OR UPDATE ON applications FOR EACH ROW EXECUTE FUNCTION review_refused()`);
    const first = await collect();
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain(`warning: ${url}: application app-2 (read from ${path.join(logs, 'app-2')}) was not stored: `);
    expect(first.stderr).toContain('review_refused');
    // Counted failed in the summary and the run, not passed over.
    expect(first.stdout).toMatch(/\b2 new, 0 updated, 0 unchanged, 0 skipped, 1 failed\b/);
    const store = await open(url, s.password);
    expect(store.list({ sort: 'app_id', descending: false }).map((r) => r.app_id)).toEqual(['app-1', 'app-3']);
    expect(store.ingestedFiles().map((f) => path.basename(f.path))).toEqual(['app-1', 'app-3']);
    await client.query('DROP TRIGGER review_refused ON applications');
    const again = await collect();
    expect(again.code, again.stderr).toBe(0);
    expect(store.listRuns()[0]).toMatchObject({ new: 1, unchanged: 2 });
    expect(store.count()).toBe(3);
  });

  it('a long name keeps its baseline and regression checks; long keys keep theirs', async () => {
    const s = server();
    const store = await open(await newDatabase(s), s.password);
    const name = random(4000);
    const runs = Array.from({ length: 6 }, (_, i) =>
      makeRecord({ app_id: `${random(3000)}-${i}`, app_name: name, start_time: new Date(Date.UTC(2024, 5, 1 + i)).toISOString(), end_time: new Date(Date.UTC(2024, 5, 1 + i, 1)).toISOString(), duration_ms: i === 5 ? 7_200_000 : 3_600_000 }),
    );
    expect(store.upsert(runs)).toEqual({ new: 6, updated: 0, unchanged: 0 });
    expect(store.upsert(runs)).toEqual({ new: 0, updated: 0, unchanged: 6 });
    expect(store.baselineRuns(runs[5]!, 10).map((r) => r.app_id)).toEqual(runs.slice(0, 5).map((r) => r.app_id).reverse());
    expect(store.previousRun(runs[5]!)?.app_id).toBe(runs[4]!.app_id);
    const keys = runs.map((r) => ({ app_id: r.app_id, attempt_id: null }));
    expect(store.saveRegressions(checkRegressions(store, keys, DEFAULT_THRESHOLDS))).toBe(6);
    expect(store.saveRegressions(checkRegressions(store, keys, DEFAULT_THRESHOLDS))).toBe(6);
    expect(store.regressions(keys).map((g) => g?.status)).toEqual(['unchecked', 'unchecked', 'unchecked', 'steady', 'steady', 'regressed']);
    expect(store.list({ regressed: true }).map((r) => r.app_id)).toEqual([runs[5]!.app_id]);
    // A long attempt id too.
    const attempt = makeRecord({ app_id: 'app-attempt', attempt_id: random(3000) });
    expect(store.upsert([attempt])).toEqual({ new: 1, updated: 0, unchanged: 0 });
    expect(store.get(attempt)).toEqual(attempt);
    // Either side of the KEY_BYTES the key indexes hold whole (indexedKey), in bytes not characters:
    // 'é' is two. Ids of one prefix and 1,000 or 1,001 bytes are two keys, each found again.
    const edge = ['é'.repeat(KEY_BYTES / 2), `${'é'.repeat(KEY_BYTES / 2)}x`, 'é'.repeat(KEY_BYTES / 2 + 1)].map((app_id) => makeRecord({ app_id, app_name: name }));
    expect(store.upsert(edge)).toEqual({ new: 3, updated: 0, unchanged: 0 });
    expect(store.upsert(edge)).toEqual({ new: 0, updated: 0, unchanged: 3 });
    for (const r of edge) expect(store.getByAppId(r.app_id)).toEqual([r]);
    expect(store.delete([...keys, attempt, ...edge])).toBe(10);
    expect(store.count()).toBe(0);
  });

  it('paging by id (db copy) returns every record once, in id order, with ids longer and shorter than the indexed prefix', async () => {
    const s = server();
    const store = await open(await newDatabase(s), s.password);
    const prefix = 'x'.repeat(250);
    const ids = [...Array.from({ length: 30 }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`), ...Array.from({ length: 30 }, (_, i) => `app-${i}`), prefix, `${prefix.slice(0, 199)}y`];
    store.upsert(ids.map((app_id) => makeRecord({ app_id })));
    const seen: string[] = [];
    let after: { app_id: string; attempt_id: string | null } | undefined;
    for (;;) {
      const page = store.list({ sort: 'app_id', descending: false, limit: 7, after });
      if (page.length === 0) break;
      seen.push(...page.map((r) => r.app_id));
      after = page[page.length - 1]!;
    }
    expect(seen).toEqual([...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
  });

  it('a database of schema 9 is migrated with its rows, which keep their keys', async () => {
    const s = server();
    const url = await databaseAtVersion(s, 9);
    const client = await connect(s, url);
    await client.query(`INSERT INTO applications (app_id, attempt_key, attempt_id, app_name, "user", total_tasks, failed_tasks, total_stages, failed_stages, cpu_time_ms, input_bytes, output_bytes,
      shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, tags, environment, quality, source, status, record_hash, first_seen, last_updated)
      VALUES ('app-old', '', NULL, 'old', 'ann', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}', '{}', '[]', 'event_log', 'completed', 'h', 'now', 'now')`);
    await client.query("INSERT INTO ingested_files VALUES ('/old', '/old', 1, 1, 'none', 'app-old', '', 'ok', 'now')");
    const store = await open(url, s.password);
    expect((await client.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
    expect(store.getByAppId('app-old')).toHaveLength(1);
    expect(store.upsert([makeRecord({ app_id: 'app-old' })])).toEqual({ new: 0, updated: 1, unchanged: 0 });
    store.recordFiles([{ path: '/old', unit_path: '/old', size: 2, mtime_ms: 2, codec: 'none', app_id: 'app-old', attempt_id: null, status: 'ok' }]);
    expect(store.ingestedFiles()).toEqual([expect.objectContaining({ path: '/old', size: 2 })]);
    expect(store.upsert([makeRecord({ app_id: random(3000), app_name: random(3000), user: random(3000) })])).toEqual({ new: 1, updated: 0, unchanged: 0 });
  });

  it('the queries keep using indexes (plans over 100,000 runs, a regression check for each)', async () => {
    const s = server();
    const url = await newDatabase(s);
    const store = await open(url, s.password);
    store.upsert([makeRecord({ app_id: 'app-seed' })]);
    const client = await connect(s, url);
    await client.query(`INSERT INTO applications SELECT 'app-' || i, '', NULL, 'job-' || (i % 200), 'user-' || (i % 50), submit_time, to_char(timestamp '2024-01-01' + i * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"'),
        to_char(timestamp '2024-01-01' + i * interval '1 minute' + interval '30 second', 'YYYY-MM-DD"T"HH24:MI:SS.000"Z"'), duration_ms, spark_version, executor_cores, executor_memory_mb, num_executors,
        driver_memory_mb, total_tasks, failed_tasks, total_stages, failed_stages, cpu_time_ms, input_bytes, output_bytes, shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes,
        tags, environment, quality, source, status, record_hash, first_seen, last_updated, summaries_hash, summaries
      FROM applications, generate_series(1, 100000) i WHERE app_id = 'app-seed'`);
    await client.query(`INSERT INTO regressions SELECT app_id, attempt_key, CASE WHEN right(app_id, 3) = '000' THEN 'regressed' ELSE 'steady' END, '', '', NULL, 'now' FROM applications`);
    await client.query('ANALYZE');
    const plan = async (sql: string, params: unknown[] = []): Promise<string> => (await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const cols = 'app_id, attempt_key';
    // A key, a batch's keys and an app id's rows: through apps_key, by the texts as it holds them (indexedKey).
        expect(await plan(`SELECT ${cols} FROM applications WHERE ${indexedKey('app_id')} = ${indexedKey('$1')} AND ${indexedKey('attempt_key')} = ${indexedKey('$2')} AND app_id = $1 AND attempt_key = $2`, ['app-7', ''])).toContain('Index Scan using apps_key');
    expect(await plan(`SELECT ${cols} FROM applications WHERE ${indexedKey('app_id')} = ${indexedKey('$1')} AND app_id = $1`, ['app-7'])).toContain('Index Scan using apps_key');
    const keys = [Array.from({ length: 1000 }, (_, i) => `app-${i * 7}`), Array.from({ length: 1000 }, () => '')];
    expect(
      await plan(
        `SELECT a.* FROM unnest($1::text[], $2::text[]) AS k(app_id, attempt_key) CROSS JOIN LATERAL (SELECT a.app_id FROM applications a
          WHERE ${indexedKey('a.app_id')} = ${indexedKey('k.app_id')} AND ${indexedKey('a.attempt_key')} = ${indexedKey('k.attempt_key')} AND a.app_id = k.app_id AND a.attempt_key = k.attempt_key FOR UPDATE) a`,
        keys,
      ),
    ).toMatch(/Nested Loop[\s\S]*Index Scan using apps_key/);
    expect(
      await plan(`SELECT ${cols} FROM applications a WHERE (${indexedKey('a.app_id')}, ${indexedKey('a.attempt_key')}, a.app_id, a.attempt_key) IN (SELECT ${indexedKey('k.a')}, ${indexedKey('k.b')}, k.a, k.b FROM unnest($1::text[], $2::text[]) AS k(a, b))`, keys),
    ).toContain('Index Scan using apps_key');
    expect(await plan(`SELECT ${cols} FROM applications WHERE (${indexedKey('app_id')}, ${indexedKey('attempt_key')}) IN (SELECT ${indexedKey('app_id')}, ${indexedKey('attempt_key')} FROM regressions WHERE status = 'regressed') ORDER BY end_time DESC NULLS LAST LIMIT 200`)).toContain('apps_key');
    expect(await plan(`SELECT ${cols} FROM applications ORDER BY end_time DESC NULLS LAST, app_id DESC, attempt_key DESC LIMIT 100`)).toMatch(/Incremental Sort[\s\S]*Index Scan Backward using apps_end_time/);
    expect(await plan(`SELECT ${cols} FROM applications WHERE "user" = $1 AND left("user", 200) = left($1, 200) ORDER BY end_time DESC NULLS LAST, app_id DESC, attempt_key DESC LIMIT 100`, ['user-3'])).toContain(
      'Index Cond: ("left"("user", 200) = ',
    );
    expect(
      await plan(
        `SELECT ${cols} FROM applications a WHERE ${indexedKey('app_name')} = ${indexedKey('$1')} AND app_name = $1 AND source = $2 AND status = 'completed' AND COALESCE(a.start_time, a.submit_time, a.end_time) < $3
          ORDER BY COALESCE(a.start_time, a.submit_time, a.end_time) DESC, app_id DESC, attempt_key DESC LIMIT 10`,
        ['job-3', 'event_log', '2025-01-01'],
      ),
    ).toContain('apps_baseline');
    expect(await plan(`SELECT ${cols} FROM applications WHERE (app_id, attempt_key) > ($1, $2) AND left(app_id, 200) >= left($1, 200) ORDER BY left(app_id, 200), app_id, attempt_key LIMIT 1000`, ['app-5', ''])).toContain(
      'apps_id_order',
    );
  });
});
