/**
 * `BENCH_ONLY=postgres npm run bench` (issue 17): the shared PostgreSQL store on a throw-away local
 * server (test/support/pgServer.ts), each figure beside the embedded file's in the same process:
 * - upserting 100,000 records, as a collection stores them (storeBatch, batches of 1,000);
 * - a jobs page of 200 out of 1,000,000 records (the rows made on the server from the 100,000
 *   stored, so that filling takes seconds, not the minutes of 1,000,000 upserts), by end time (the
 *   Jobs tree's and the table's default), a deep page, by user, and the count the table shows;
 * - `spark-optimizer db copy` of 100,000 records, file to PostgreSQL and back, as a user runs it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { IngestedFile } from '../src/storage/repository';
import { JobStore } from '../src/storage/jobStore';
import { openStore, type Store } from '../src/storage/store';
import { manyRecords } from '../test/support/records';
import { findPostgresBin, startPostgres, newDatabase } from '../test/support/pgServer';

const ms = (t: bigint): number => Number(process.hrtime.bigint() - t) / 1e6;

function timed<T>(fn: () => T): [T, number] {
  const t = process.hrtime.bigint();
  const r = fn();
  return [r, ms(t)];
}

/** Milliseconds to store `rows` records in batches of 1,000 with a file each, as ingest does. */
function storeAll(store: Store, rows: number): number {
  let total = 0;
  for (let i = 0; i < rows; i += 1000) {
    const records = manyRecords(Math.min(1000, rows - i), i);
    const files: IngestedFile[] = records.map((r) => ({ path: `/logs/${r.app_id}`, unit_path: `/logs/${r.app_id}`, size: 1000, mtime_ms: 1, codec: 'none', app_id: r.app_id, attempt_id: r.attempt_id, status: 'ok' }));
    total += timed(() => store.storeBatch(records, files))[1];
  }
  return total;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function postgresSection(): Promise<void> {
  console.log('\nPostgreSQL store (issue 17; a local server on 127.0.0.1, beside the embedded file in this process):');
  if (findPostgresBin() === null) {
    console.log('!!! NOT RUN: PostgreSQL is not installed (bash scripts/e2e/setup.sh installs it)');
    return;
  }
  const rows = Number(process.env.BENCH_PG_ROWS ?? 100_000);
  const big = Number(process.env.BENCH_PG_BIG ?? 1_000_000);
  const server = await startPostgres();
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-pg-'));
  try {
    const url = await newDatabase(server);
    const pg = await openStore(url, dir, { password: server.password });
    const file = await JobStore.open(path.join(dir, 'jobs.db'));
    const fileMs = storeAll(file, rows);
    const [, saveMs] = await (async (): Promise<[unknown, number]> => {
      const t = process.hrtime.bigint();
      await file.save();
      return [undefined, ms(t)];
    })();
    file.close();
    const pgMs = storeAll(pg, rows);
    const againMs = storeAll(pg, rows);
    console.log(
      `upsert ${rows.toLocaleString('en-US')} records in batches of 1,000 (storeBatch): PostgreSQL ${(pgMs / 1000).toFixed(2)} s (${Math.round(rows / (pgMs / 1000)).toLocaleString('en-US')}/s), ` +
        `the file ${(fileMs / 1000).toFixed(2)} s + save ${(saveMs / 1000).toFixed(2)} s; ratio ${(pgMs / (fileMs + saveMs)).toFixed(2)}x the file's time. Again, all unchanged: ${(againMs / 1000).toFixed(2)} s`,
    );

    // db copy, both ways, through the CLI.
    const cli = path.resolve('dist/cli.js');
    const copyUrl = await newDatabase(server);
    const env = { ...process.env, PGPASSWORD: server.password };
    const copy = (from: string, to: string): number => {
      const t = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [cli, 'db', 'copy', '--from', from, '--to', to], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`db copy failed: ${r.stderr}`);
      return ms(t);
    };
    const toPg = copy(path.join(dir, 'jobs.db'), copyUrl);
    const toFile = copy(copyUrl, path.join(dir, 'back.db'));
    const again = copy(path.join(dir, 'jobs.db'), copyUrl);
    console.log(`db copy of ${rows.toLocaleString('en-US')} records: file -> PostgreSQL ${(toPg / 1000).toFixed(1)} s, PostgreSQL -> file ${(toFile / 1000).toFixed(1)} s, file -> PostgreSQL again (all unchanged) ${(again / 1000).toFixed(1)} s`);

    // 1,000,000 records: the stored ones copied on the server under new keys, users and times.
    const fill = timed(() => {
      const c = (pg as unknown as { client: { query(sql: string): unknown } }).client;
      for (let k = 1; k * rows < big; k++) {
        c.query(`INSERT INTO applications SELECT app_id || '-c${k}', attempt_key, attempt_id, app_name, CASE WHEN random() < 0.1 THEN 'maria' ELSE "user" END,
                   submit_time, start_time, to_char((end_time::timestamptz - interval '${k} days') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   duration_ms, spark_version, executor_cores, executor_memory_mb, num_executors, driver_memory_mb, total_tasks, failed_tasks, total_stages, failed_stages,
                   cpu_time_ms, input_bytes, output_bytes, shuffle_read_bytes, shuffle_write_bytes, memory_spilled_bytes, disk_spilled_bytes, tags, environment, quality,
                   source, status, record_hash, first_seen, last_updated, summaries_hash, summaries
                 FROM applications WHERE app_id NOT LIKE '%-c%'`);
      }
      // As autovacuum leaves a table between collections: statistics, and a visibility map that lets a count read an index.
      c.query('VACUUM ANALYZE applications');
    })[1];
    const n = pg.count();
    const first: number[] = [];
    const deep: number[] = [];
    const byUser: number[] = [];
    for (let i = 0; i < 11; i++) {
      first.push(timed(() => pg.list({ sort: 'end_time', limit: 200, offset: 0 }))[1]);
      deep.push(timed(() => pg.list({ sort: 'end_time', limit: 200, offset: 100_000 }))[1]);
      byUser.push(timed(() => pg.list({ user: 'maria', sort: 'end_time', limit: 200 }))[1]);
    }
    const count = median(Array.from({ length: 5 }, () => timed(() => pg.count())[1]));
    const byDuration = median(Array.from({ length: 3 }, () => timed(() => pg.list({ sort: 'duration_ms', limit: 200 }))[1]));
    console.log(
      `jobs page of 200 out of ${n.toLocaleString('en-US')} records (filled on the server in ${(fill / 1000).toFixed(1)} s), median of 11: by end time ${median(first).toFixed(1)} ms (target < 50 ms), ` +
        `at offset 100,000 ${median(deep).toFixed(1)} ms, user = maria ${median(byUser).toFixed(1)} ms, by duration (no index) ${byDuration.toFixed(1)} ms; count ${count.toFixed(1)} ms`,
    );
    pg.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await server.stop();
  }
}
