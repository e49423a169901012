/**
 * Where the shared test data lives: `../shared` beside the repository (DESIGN.md §2), i.e.
 * /work/shared next to /work/main here, `<clone>/../shared` in CI. Tests that need it register
 * through `describeShared`. A missing folder fails the run in CI (`CI` set, as `.ci/run` does),
 * where the data is always laid; on a developer machine it is a visibly skipped test with a loud
 * warning instead of a silent pass.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'vitest';
import { describeSkipped } from './skip';

/** The repository root: this file is `<root>/test/support/shared.ts`. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

/**
 * `SPARK_OPTIMIZER_SHARED_DIR` overrides the location: `npm run mutate` runs the tests in a copy of
 * the repository (a Stryker sandbox), whose `../shared` is not this one.
 */
export const SHARED_DIR = path.resolve(process.env.SPARK_OPTIMIZER_SHARED_DIR || path.resolve(REPO_ROOT, '..', 'shared'));

export const hasShared: boolean = existsSync(SHARED_DIR) && statSync(SHARED_DIR).isDirectory();

/** A path inside the shared data folder. */
export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/** Whether `CI` says this is a CI run (set and not "false" or "0"; the e2e harness reads it the same way). */
export function isCi(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== 'false' && v !== '0';
}

/** What describeShared does: run the tests, or, without the data, fail them (CI) or skip them (anywhere else). */
export function sharedMode(present: boolean, ci: boolean): 'run' | 'fail' | 'skip' {
  return present ? 'run' : ci ? 'fail' : 'skip';
}

/** `describe(name, fn)` when ../shared is there; otherwise one failing (CI) or skipped test that says why, loudly. */
export function describeShared(name: string, fn: () => void): void {
  const mode = sharedMode(hasShared, isCi());
  if (mode === 'run') {
    describe(name, fn);
    return;
  }
  const why = `../shared not found at ${SHARED_DIR}: ${name} tests need Apache Spark's test logs`;
  if (mode === 'fail') {
    describe(name, () => {
      it(`FAILED: ${why} (CI is set, and CI always lays ../shared beside the clone)`, () => {
        throw new Error(`${why}. CI=${process.env.CI ?? ''}: a CI run must have the shared data.`);
      });
    });
    return;
  }
  describeSkipped(name, `SKIPPED: ${why}`);
}
