import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, onTestFinished } from 'vitest';

/**
 * A fresh temporary folder, removed when the current test finishes (or, made outside a test, when
 * the file's tests finish). `afterEach` registered inside a running test never runs in vitest, which
 * once left 74 GB of these folders behind and filled CI's disk.
 */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'spark-opt-'));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  try {
    onTestFinished(remove);
  } catch {
    afterAll(remove);
  }
  return dir;
}

/**
 * Gives the calling test file a temp root of its own (os.tmpdir() reads TMPDIR) for its tests, and
 * returns the names in it starting with `prefix`. Other test files, running at the same time, make
 * and remove their own folders in the shared one, so a count of leftovers there races with them.
 */
export function ownTempRoot(prefix: string): () => string[] {
  const shared = tmpdir();
  let root = '';
  beforeAll(() => {
    root = mkdtempSync(path.join(shared, 'spark-opt-root-'));
    process.env.TMPDIR = root;
  });
  afterAll(() => {
    process.env.TMPDIR = shared;
    rmSync(root, { recursive: true, force: true });
  });
  return () => readdirSync(root).filter((n) => n.startsWith(prefix));
}
