/**
 * `spark-optimizer db copy` into a store that checked the same run later (a review): the copy
 * saved every regression check of its source over the destination's, so copying an older workspace
 * file into the team's database replaced the team's newer check of a run both hold unchanged (made
 * against more history) with the file's older one. A check now replaces only an older one (or none):
 * the newest check of each run is kept, whichever store it was made in.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbCommand } from '../src/cli/dbCommand';
import { JobStore } from '../src/storage/jobStore';
import { manyRecords } from './support/records';
import { tempDir } from './support/tmp';

const io = (dir: string): { out: (s: string) => void; err: (s: string) => void; isTTY: boolean; cwd: string } => ({ out: () => undefined, err: () => undefined, isTTY: false, cwd: dir });
const row = (app_id: string, status: 'steady' | 'unchecked', summary: string) => ({ app_id, attempt_id: null, status, summary, explanation: summary, check: null });

describe('db copy: regression checks', () => {
  it('keeps the destination’s newer check of a run both hold unchanged, and takes the source’s newer ones', async () => {
    const dir = tempDir();
    const [a, b] = [path.join(dir, 'a.db'), path.join(dir, 'b.db')];
    const records = manyRecords(3);
    const t = (day: number): Date => new Date(Date.UTC(2024, 5, day));
    const older = await JobStore.open(a);
    older.upsert(records);
    // The laptop's file: app-000000 checked on the 1st, app-000001 on the 5th.
    older.saveRegressions([row('app-000000', 'unchecked', 'laptop, June 1')], t(1));
    older.saveRegressions([row('app-000001', 'steady', 'laptop, June 5')], t(5));
    await older.save();
    older.close();
    const team = await JobStore.open(b);
    team.upsert(records);
    // The team's database: app-000000 checked again on the 3rd, app-000001 on the 2nd; app-000002 on the 4th.
    team.saveRegressions([row('app-000000', 'steady', 'team, June 3')], t(3));
    team.saveRegressions([row('app-000001', 'unchecked', 'team, June 2')], t(2));
    team.saveRegressions([row('app-000002', 'steady', 'team, June 4')], t(4));
    await team.save();
    team.close();

    expect(await dbCommand(['copy', '--from', a, '--to', b], io(dir))).toBe(0);
    const after = await JobStore.open(b);
    const checks = after.regressions(records.map((r) => ({ app_id: r.app_id, attempt_id: null }))).map((c) => c && [c.summary, c.checked_at]);
    after.close();
    expect(checks).toEqual([
      ['team, June 3', t(3).toISOString()],
      ['laptop, June 5', t(5).toISOString()],
      ['team, June 4', t(4).toISOString()],
    ]);
  });
});
