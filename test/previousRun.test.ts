/** Compare with Previous Run (issue 15): the run of the same application name that started last before this one. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { JobStore } from '../src/storage/jobStore';
import { makeRecord } from './support/records';
import { describeEachStore } from './support/stores';
import { tempDir } from './support/tmp';

const day = (d: number, h = 2): string => new Date(Date.UTC(2024, 5, d, h)).toISOString();

async function storeWith(records: ReturnType<typeof makeRecord>[]): Promise<string> {
  const file = path.join(tempDir(), 'jobs.db');
  const store = await JobStore.open(file);
  store.upsert(records);
  await store.save();
  store.close();
  return file;
}

/** Nightly on days 1 to 4, and runs beside them. */
const runs = [
  makeRecord({ app_id: 'n-1', app_name: 'Nightly', start_time: day(1), duration_ms: 100_000 }),
  makeRecord({ app_id: 'n-3', app_name: 'Nightly', start_time: day(3), duration_ms: 250_000 }),
  makeRecord({ app_id: 'n-2', app_name: 'Nightly', start_time: day(2), duration_ms: 120_000 }),
  // Later, another name, no time, no name: never a previous run of n-3.
  makeRecord({ app_id: 'n-4', app_name: 'Nightly', start_time: day(4) }),
  makeRecord({ app_id: 'o-1', app_name: 'Other', start_time: day(2, 12) }),
  makeRecord({ app_id: 'x-0', app_name: 'Nightly', submit_time: null, start_time: null, end_time: null }),
  makeRecord({ app_id: 'u-1', app_name: null, start_time: day(2) }),
];

describeEachStore('the previous run', (open) => {
  it('is the run of the same name that started last before it; the first run and a nameless one have none', async () => {
    const store = await open();
    store.upsert(runs);
    const get = (id: string): ReturnType<typeof makeRecord> => store.getByAppId(id)[0]!;
    expect(store.previousRun(get('n-3'))?.app_id).toBe('n-2');
    expect(store.previousRun(get('n-2'))?.app_id).toBe('n-1');
    expect(store.previousRun(get('n-1'))).toBeUndefined();
    expect(store.previousRun(get('u-1'))).toBeUndefined();
    expect(store.previousRun(get('x-0'))).toBeUndefined();
    // Another attempt of the same application is an earlier run too.
    store.upsert([makeRecord({ app_id: 'n-3', attempt_id: '2', app_name: 'Nightly', start_time: day(3, 5) })]);
    expect(store.previousRun(store.getByAppId('n-3').find((r) => r.attempt_id === '2')!)).toMatchObject({ app_id: 'n-3', attempt_id: null });
  });
});

describe('compare --previous', () => {
  it('compare A --previous compares it with that run; with none, it says so and exits 1', async () => {
    const file = await storeWith(runs);
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (s: string) => out.push(s), err: (s: string) => err.push(s), isTTY: false, cwd: process.cwd() };
    expect(await main(['compare', 'n-3', '--previous', '--format', 'json', '--db', file], io)).toBe(0);
    const c = JSON.parse(out[0]!) as { a: { app_id: string }; b: { app_id: string }; metrics: { field: string; a: number; b: number; delta: number }[] };
    expect([c.a.app_id, c.b.app_id]).toEqual(['n-2', 'n-3']);
    expect(c.metrics.find((m) => m.field === 'duration_ms')).toMatchObject({ a: 120_000, b: 250_000, delta: 130_000 });
    expect(await main(['compare', 'n-1', '--previous', '--db', file], io)).toBe(1);
    expect(err.at(-1)).toBe(`spark-optimizer: n-1 (Nightly) has no earlier run of the same name in ${file}.`);
    expect(await main(['compare', 'n-1', 'n-2', '--previous', '--db', file], io)).toBe(2);
  });
});
