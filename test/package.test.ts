/** The .vsix (issue 16): it carries the licence and no source maps, unless packed with --sourcemaps. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/shared';
import { tempDir } from './support/tmp';

/** Packs dist as built (npm test builds it first) and lists the .vsix's files. */
function pack(...options: string[]): string[] {
  const out = path.join(tempDir(), 'spark-optimizer.vsix');
  execFileSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'package.mjs'), '--no-build', ...options], { cwd: REPO_ROOT, env: { ...process.env, PACKAGE_OUT: out }, stdio: 'pipe' });
  const names = execFileSync('python3', ['-c', 'import sys, zipfile; print("\\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))', out], { encoding: 'utf8' });
  return names.trim().split('\n');
}

describe('the packed extension', () => {
  it('carries LICENSE, the bundles, the wasm and the webviews, and no source maps', () => {
    const files = pack();
    expect(files).toContain('extension/LICENSE.txt');
    for (const f of ['extension/dist/extension.js', 'extension/dist/cli.js', 'extension/dist/sql-wasm.wasm', 'extension/dist/webview/jobsTable.js', 'extension/package.json']) expect(files).toContain(f);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('extension/src/') || f.startsWith('extension/test/'))).toEqual([]);
  }, 120_000);

  it('packs the source maps when asked with --sourcemaps', () => {
    expect(pack('--sourcemaps')).toContain('extension/dist/extension.js.map');
  }, 120_000);
});
