/**
 * Once per test run: the CLI's compile cache (src/cli/launcher.ts) goes to a folder of this run,
 * removed at its end, not to the user's cache folder; tests of the cache itself say where theirs goes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export default function setup(): () => void {
  const folder = mkdtempSync(path.join(tmpdir(), 'spark-optimizer-test-cache-'));
  process.env.SPARK_OPTIMIZER_COMPILE_CACHE = folder;
  return () => rmSync(folder, { recursive: true, force: true });
}
