/**
 * Storage bugs a review reproduced with several processes, a damaged file or a concurrent delete:
 * each test here failed on the code before its fix.
 */
import { utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobStore } from '../src/storage/jobStore';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

/** A pid no process has: pid_max is at most 2^22. */
const DEAD_PID = 2 ** 22 + 17;

describe('the save lock', () => {
  it('a stale lock broken by several writers at once still lets only one save at a time: nobody\'s record is lost', async () => {
    // The reviewer's race.sh in one process: N stores of one file, a dead process's lock, all saving
    // at the same moment. Before, two of them could judge the stale lock stale, the second removing
    // the fresh lock the first had taken since; both saved at once and one record was lost.
    const N = 6;
    for (let trial = 0; trial < 12; trial++) {
      const file = path.join(tempDir(), 'r.db');
      const base = await JobStore.open(file);
      base.upsert([makeRecord({ app_id: 'base' })]);
      await base.save();
      base.close();
      writeFileSync(`${file}.lock`, JSON.stringify({ pid: DEAD_PID, host: hostname(), at: Date.now() }));
      const stores = await Promise.all(Array.from({ length: N }, () => JobStore.open(file, { lockTimeoutMs: 20_000 })));
      stores.forEach((s, i) => s.upsert([makeRecord({ app_id: `race-${i}` })]));
      await Promise.all(stores.map((s) => s.save()));
      for (const s of stores) s.close();
      const after = await JobStore.open(file);
      expect(after.count(), `trial ${trial}`).toBe(N + 1);
      after.close();
    }
  });

  it('a live process on this host is waited for however old its lock is (a long save), never broken by age', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: hostname(), at: Date.now() - 600_000 }));
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    utimesSync(`${file}.lock`, tenMinutesAgo, tenMinutesAgo);
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    await expect(store.save()).rejects.toThrow(new RegExp(`locked by process ${process.pid} on `));
    store.close();
  });

  it('a lock from another host is broken once nobody touched it for two minutes, not before', async () => {
    const file = path.join(tempDir(), 'jobs.db');
    writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'elsewhere.example', at: Date.now() }));
    const store = await JobStore.open(file, { lockTimeoutMs: 300 });
    store.upsert([makeRecord()]);
    await expect(store.save()).rejects.toThrow(/locked by process 1 on elsewhere\.example/);
    const threeMinutesAgo = new Date(Date.now() - 180_000);
    utimesSync(`${file}.lock`, threeMinutesAgo, threeMinutesAgo);
    expect((await store.save()).written).toBe(true);
    store.close();
  });
});
