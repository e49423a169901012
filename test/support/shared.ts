/**
 * Where the shared test data lives: `../shared` beside the repository (DESIGN.md §2), i.e.
 * /work/shared next to /work/main here, `<clone>/../shared` in CI. Tests that need it register
 * through `describeShared`, which turns a missing folder into a visibly skipped test with a loud
 * warning instead of a silent pass.
 */
import { existsSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'vitest';

/** The repository root: this file is `<root>/test/support/shared.ts`. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..');

export const SHARED_DIR = path.resolve(REPO_ROOT, '..', 'shared');

export const hasShared: boolean = existsSync(SHARED_DIR) && statSync(SHARED_DIR).isDirectory();

/** A path inside the shared data folder. */
export function sharedPath(...parts: string[]): string {
  return path.join(SHARED_DIR, ...parts);
}

/** `describe(name, fn)` when ../shared is there; otherwise one skipped test that says why, loudly. */
export function describeShared(name: string, fn: () => void): void {
  if (hasShared) {
    describe(name, fn);
    return;
  }
  const message = `SKIPPED: ../shared not found at ${SHARED_DIR}: ${name} tests need Apache Spark's test logs`;
  describe(name, () => {
    console.warn(message);
    it.skip(message, () => undefined);
  });
}
