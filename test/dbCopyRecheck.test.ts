/**
 * Two removals that re-checked nothing: `db copy` removes a platform-level record the destination
 * holds when a copied record names it (contract.ts REPLACES_TAG: upsert's supersede), and a file
 * store's save merged with another writer's replays this session's changes onto that file, which may
 * remove runs the other writer stored or checked against (a supersede, a delete, a retention). The
 * runs whose baselines held them are now checked again (regression.ts recheckAfterRemoval), as after
 * every other removal, so that no stored verdict quotes a run that is gone.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dbCommand } from '../src/cli/dbCommand';
import { DEFAULT_THRESHOLDS } from '../src/analysis/regressionThresholds';
import { REPLACES_TAG } from '../src/collectors/contract';
import { Quality, type SparkAppRecord } from '../src/collectors/record';
import { JobStore } from '../src/storage/jobStore';
import type { AppKey, JobRepository } from '../src/storage/repository';
import { MIN, collectNightly, nightlyRun as run } from './support/nightly';
import { tempDir } from './support/tmp';

const io = (dir: string): { out: (s: string) => void; err: (s: string) => void; isTTY: boolean; cwd: string } => ({ out: () => undefined, err: () => undefined, isTTY: false, cwd: dir });
const keyOf = (r: Pick<SparkAppRecord, 'app_id' | 'attempt_id'>): AppKey => ({ app_id: r.app_id, attempt_id: r.attempt_id });
const baselineOf = (repo: JobRepository, r: SparkAppRecord): string[] => repo.regressions([keyOf(r)])[0]?.check?.baseline_runs.map((k) => k.app_id) ?? [];

describe('db copy: a platform-level record superseded in the destination', () => {
  it("re-checks the destination's later runs whose baselines held it", async () => {
    const dir = tempDir();
    const [from, to] = [path.join(dir, 'laptop.db'), path.join(dir, 'team.db')];
    // The team's database knows run 3 by its platform's record (an EMR step, say); run 6 regressed against a baseline holding it.
    const platform = run(3, { app_id: 'step-3', quality: [Quality.platformLevel] });
    const slow = run(6, { duration_ms: 20 * MIN });
    const team = await JobStore.open(to);
    await collectNightly(team, [run(0), run(1), run(2), platform, run(4), run(5), slow]);
    expect(baselineOf(team, slow)).toContain('step-3');
    await team.save();
    team.close();
    // The laptop collected run 3's Spark application (named otherwise), which replaces the step.
    const laptop = await JobStore.open(from);
    laptop.upsert([run(3, { app_name: 'nightly_job.py', tags: { [REPLACES_TAG]: 'step-3' } })]);
    await laptop.save();
    laptop.close();

    expect(await dbCommand(['copy', '--from', from, '--to', to], io(dir))).toBe(0);
    const after = await JobStore.open(to, { readOnly: true });
    try {
      expect(after.get(keyOf(platform))).toBeUndefined();
      expect(baselineOf(after, slow)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
      expect(after.regressions([keyOf(slow)])[0]?.status).toBe('regressed');
    } finally {
      after.close();
    }
  });
});

describe("a file's save merged with another writer's (jobStore.ts save)", () => {
  /** Runs 0, 1, 2, 4 and 5 on file; a first writer opens it, then a second stores and checks the platform record and run 6. */
  async function twoWriters(dir: string): Promise<{ file: string; first: JobStore; platform: SparkAppRecord; slow: SparkAppRecord }> {
    const file = path.join(dir, 'jobs.db');
    const platform = run(3, { app_id: 'step-3', quality: [Quality.platformLevel] });
    const slow = run(6, { duration_ms: 20 * MIN });
    const seed = await JobStore.open(file);
    await collectNightly(seed, [run(0), run(1), run(2), run(4), run(5)]);
    await seed.save();
    seed.close();
    const first = await JobStore.open(file, { recheckThresholds: () => DEFAULT_THRESHOLDS });
    const second = await JobStore.open(file);
    await collectNightly(second, [platform, slow]);
    expect(baselineOf(second, slow)).toContain('step-3');
    await second.save();
    second.close();
    return { file, first, platform, slow };
  }

  async function onFile<T>(file: string, read: (store: JobStore) => T): Promise<T> {
    const store = await JobStore.open(file, { readOnly: true });
    try {
      return read(store);
    } finally {
      store.close();
    }
  }

  it("re-checks the other writer's runs whose baselines held a platform-level record the replay superseded", async () => {
    const { file, first, platform, slow } = await twoWriters(tempDir());
    // The first writer's record of run 3's Spark application (named otherwise) names the step, which it does not hold.
    first.upsert([run(3, { app_name: 'nightly_job.py', tags: { [REPLACES_TAG]: 'step-3' } })]);
    expect(await first.save()).toEqual({ written: true, merged: true });
    first.close();
    await onFile(file, (store) => {
      expect(store.get(keyOf(platform))).toBeUndefined();
      expect(baselineOf(store, slow)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
    });
  });

  it("re-checks the other writer's runs whose baselines held a run the replay deleted", async () => {
    const { file, first, slow } = await twoWriters(tempDir());
    first.delete([keyOf(run(4))]);
    expect(await first.save()).toEqual({ written: true, merged: true });
    first.close();
    await onFile(file, (store) => {
      expect(store.get(keyOf(run(4)))).toBeUndefined();
      expect(baselineOf(store, slow)).toEqual(['nightly-005', 'step-3', 'nightly-002', 'nightly-001', 'nightly-000']);
    });
  });
});
