/**
 * A regression check is stored only onto the copy of its run it was made from, on both stores (a
 * review of the PostgreSQL store, item 1): collector S1 stored run X running and checked it; S2 stored
 * X completed and saved its check (regressed); then S1 saved its older check. PostgreSQL kept S1's
 * "not checked: the run is running" on the completed run, and nothing would ever check it again
 * (SQLite kept "regressed"). The store notes the copy each check read (repository.ts CheckedCopies).
 */
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { checkRegressions } from '../src/analysis/regression';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import type { Store } from '../src/storage/store';
import { describePostgres, newDatabase, pgHandles } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';
import { openStore } from '../src/storage/store';

const x = { app_id: 'X', attempt_id: null };
const baseRuns = [1, 2, 3].map((d) =>
  makeRecord({ app_id: `base-${d}`, submit_time: `2024-06-0${d}T00:00:00.000Z`, start_time: `2024-06-0${d}T00:00:01.000Z`, end_time: `2024-06-0${d}T00:10:01.000Z`, duration_ms: 600_000 }),
);
const xRunning = makeRecord({ app_id: 'X', submit_time: '2024-06-05T00:00:00.000Z', start_time: '2024-06-05T00:00:01.000Z', end_time: null, duration_ms: null, status: 'running', quality: ['in_progress'] });
// Six times the baseline's duration: regressed.
const xDone = makeRecord({ app_id: 'X', submit_time: '2024-06-05T00:00:00.000Z', start_time: '2024-06-05T00:00:01.000Z', end_time: '2024-06-05T01:00:01.000Z', duration_ms: 3_600_000 });

/** Two collectors' stores on one database (`open` twice): S1's check of the running copy is saved after S2's of the completed one. */
function staleCheckTests(open: () => Promise<Store>): void {
  it("a check of a running copy, saved after another collector stored the run completed and checked it, does not replace that check", async () => {
    const s1 = await open();
    s1.storeBatch([...baseRuns, xRunning], []);
    await s1.save();
    const c1 = checkRegressions(s1, [x], DEFAULT_THRESHOLDS);
    expect(c1[0]!.status).toBe('unchecked');

    const s2 = await open();
    s2.storeBatch([xDone], []);
    const c2 = checkRegressions(s2, [x], DEFAULT_THRESHOLDS);
    expect(c2[0]!.status).toBe('regressed');
    expect(s2.saveRegressions(c2)).toBe(1);
    await s2.save();

    // S1's older check: of a copy no longer stored, so not stored.
    s1.saveRegressions(c1);
    await s1.save();

    const s3 = await open();
    expect(s3.get(x)!.status).toBe('completed');
    expect(s3.regressions([x])[0]?.status).toBe('regressed');
    expect(s3.count({ regressed: true })).toBe(1);
  });

  it('a check saved with no other collector in between is stored, and a check of a run checked again later is of that later copy', async () => {
    const s1 = await open();
    s1.storeBatch([...baseRuns, xRunning], []);
    expect(s1.saveRegressions(checkRegressions(s1, [x], DEFAULT_THRESHOLDS))).toBe(1);
    expect(s1.regressions([x])[0]?.status).toBe('unchecked');
    // The same store stores the completed copy and checks it: stored (the running copy's note is gone).
    s1.storeBatch([xDone], []);
    expect(s1.saveRegressions(checkRegressions(s1, [x], DEFAULT_THRESHOLDS))).toBe(1);
    expect(s1.regressions([x])[0]?.status).toBe('regressed');
    await s1.save();
  });

  it('a regressed check of a completed copy, saved after another collector stored a newer completed copy and checked it steady, is not stored', async () => {
    const s1 = await open();
    s1.storeBatch([...baseRuns, xDone], []);
    await s1.save();
    // S1 reads X for its re-check; meanwhile S2 stores a newer copy of X (a longer end) and its check.
    const xLater = { ...xDone, end_time: '2024-06-05T00:10:01.000Z', duration_ms: 600_000 };
    const s2 = await open();
    const stale = checkRegressions(s1, [x], DEFAULT_THRESHOLDS);
    s2.storeBatch([xLater], []);
    s2.saveRegressions(checkRegressions(s2, [x], DEFAULT_THRESHOLDS));
    await s2.save();
    s1.saveRegressions(stale);
    await s1.save();
    const s3 = await open();
    expect(stale[0]!.status).toBe('regressed');
    expect(s3.regressions([x])[0]?.status).toBe('steady');
    expect(s3.count({ regressed: true })).toBe(0);
  });
}

describe('stale regression checks (sql.js file: two stores on one file)', () => {
  const opened: Store[] = [];
  let file = '';
  const open = async (): Promise<Store> => {
    file ||= path.join(tempDir(), 'jobs.db');
    const s = await openStore(file, process.cwd());
    opened.push(s);
    return s;
  };
  staleCheckTests(open);
  // Each test its own file.
  afterEach(() => {
    for (const s of opened.splice(0)) s.close();
    file = '';
  });
});

describePostgres('stale regression checks (PostgreSQL: two stores on one database)', (server) => {
  const { open } = pgHandles();
  let url = '';
  afterEach(() => {
    url = '';
  });
  staleCheckTests(async () => {
    url ||= await newDatabase(server());
    return open(url, server().password);
  });
});

