/**
 * A Spark engineer's review of the regression check (issue 18) through the built CLI (dist/cli.js;
 * `node scripts/build.mjs` first), with event logs the test writes: the newest, twice as slow, run
 * collected first, and its five steady runs before it collected by a second `collect`.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeNightlyLog as writeRun } from './support/nightly';
import { tempDir } from './support/tmp';

const CLI = path.join(path.resolve(__dirname, '..'), 'dist', 'cli.js');

function cli(args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('spark-optimizer collect, an older run collected after newer ones', () => {
  it('the slow run collected before its history is flagged (exit 3 with --fail-on-regression) once the history is collected, and only then', () => {
    const root = tempDir();
    const [newest, archive] = [path.join(root, 'newest'), path.join(root, 'archive')];
    mkdirSync(newest);
    mkdirSync(archive);
    const slow = writeRun(newest, 5, true);
    for (let i = 0; i < 5; i++) writeRun(archive, i);

    const first = cli(['collect', '--path', newest, '--fail-on-regression'], root);
    expect(first.code, first.stderr).toBe(0);
    expect(cli(['show', slow], root).stdout).toMatch(/^History +Not checked: 0 earlier completed runs of this name and source; 3 are needed\./m);

    const second = cli(['collect', '--path', archive, '--fail-on-regression'], root);
    expect(second.code, second.stderr).toBe(3);
    expect(second.stdout.trim().split('\n').at(-1)).toBe(`1 run regressed: Nightly ${slow} (Duration 2.0x; 40 stages (was 20))`);
    const listed = cli(['jobs', '--regressed', '--format', 'json'], root);
    expect(listed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { app_id: string }).app_id)).toEqual([slow]);
    expect(cli(['show', slow], root).stdout).toMatch(/^History +Duration 2\.0x; 40 stages \(was 20\) \(as of /m);

    // Both again: nothing new, nothing reported twice.
    for (const dir of [newest, archive]) {
      const again = cli(['collect', '--path', dir, '--fail-on-regression'], root);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout).not.toMatch(/regressed/);
    }
  });
});
