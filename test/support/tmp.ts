import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, onTestFinished } from 'vitest';

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
