import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';

/** A fresh temporary folder removed after the current test. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'spark-opt-'));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
