/**
 * Issue 18 through the built CLI (dist/cli.js; `node scripts/build.mjs` first), with event logs the
 * test writes: five steady runs of one application name and a sixth twice as slow. `collect` names
 * the regressed run in its last line, `jobs --regressed` lists exactly it, and `--fail-on-regression`
 * exits 3 only when a run the collection stored regressed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { regressedLine } from '../src/cli/collectCommand';
import type { RegressedRun } from '../src/pipeline';
import { writeNightlyLog as writeRun } from './support/nightly';
import { tempDir } from './support/tmp';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], cwd: string): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function workspace(): { root: string; logs: string } {
  const root = tempDir();
  const logs = path.join(root, 'logs');
  mkdirSync(logs);
  return { root, logs };
}

describe('spark-optimizer and runs that regress (issue 18)', () => {
  it('collect names the regressed run and exits 0 without --fail-on-regression; jobs --regressed lists exactly it, in a table and as JSON', () => {
    const { root, logs } = workspace();
    for (let i = 0; i < 5; i++) writeRun(logs, i);
    const slow = writeRun(logs, 5, true);

    const collected = cli(['collect', '--path', logs], root);
    expect(collected.code, collected.stderr).toBe(0);
    const lines = collected.stdout.trim().split('\n');
    expect(lines.at(-2)).toMatch(/^6 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(stored in /);
    expect(lines.at(-1)).toBe(`1 run regressed: Nightly ${slow} (Duration 2.0x; 40 stages (was 20))`);

    const table = cli(['jobs', '--regressed', '--utc'], root);
    expect(table.code, table.stderr).toBe(0);
    const rows = table.stdout.trim().split('\n');
    expect(rows[0]).toMatch(/^app_id +attempt +name .* source +regression$/);
    expect(rows.filter((r) => r.startsWith('app-'))).toEqual([expect.stringMatching(new RegExp(`^${slow} .* Nightly .*event_log +Duration 2\\.0x; 40 stages \\(was 20\\)$`))]);
    expect(rows.at(-1)).toBe('1 of 1 regressed application');

    const json = cli(['jobs', '--regressed', '--format', 'json'], root);
    expect(json.code, json.stderr).toBe(0);
    const records = json.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { regression: Record<string, unknown> & { metrics: { field: string; flag: string | null; ratio: number | null }[] } });
    expect(records.map((r) => r.app_id)).toEqual([slow]);
    const regression = records[0]!.regression;
    expect(Object.keys(regression)).toEqual(['status', 'summary', 'explanation', 'metrics', 'changes', 'likely_cause', 'baseline_runs', 'checked_at']);
    expect(regression).toMatchObject({ status: 'regressed', summary: 'Duration 2.0x; 40 stages (was 20)', likely_cause: 'plan' });
    expect(regression.explanation).toMatch(/^Regressed against the median of 5 earlier completed runs \(2026-01-01 to 2026-01-05\): Duration 4m 4s, 2\.0x the baseline's 2m 4s\./);
    expect(regression.metrics.filter((m) => m.flag !== null)).toEqual([expect.objectContaining({ field: 'duration_ms', flag: 'threshold', ratio: 1.97 })]);
    expect(regression.baseline_runs).toHaveLength(5);
    expect(regression.changes).toMatchObject({ spark_version: null, config: [], plan: { stages: [20, 40], tasks: [20, 40] } });

    // Without --regressed, jobs lists all six, as before.
    expect(cli(['jobs'], root).stdout.trim().split('\n').at(-1)).toBe('6 of 6 applications');
  });

  it('--fail-on-regression exits 3 when a run the collection stored regressed, 0 when none did', () => {
    const { root, logs } = workspace();
    for (let i = 0; i < 5; i++) writeRun(logs, i);
    const steady = cli(['collect', '--path', logs, '--fail-on-regression'], root);
    expect(steady.code, steady.stderr).toBe(0);
    expect(steady.stdout).not.toMatch(/regressed/);

    const slow = writeRun(logs, 5, true);
    const regressed = cli(['collect', '--path', logs, '--fail-on-regression', '--format', 'json'], root);
    expect(regressed.code, regressed.stderr).toBe(3);
    // JSON lines on stdout; the summary and the regressed line on stderr.
    expect(regressed.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { app_id: string }).app_id)).toEqual([slow]);
    expect(regressed.stderr.trim().split('\n').at(-1)).toBe(`1 run regressed: Nightly ${slow} (Duration 2.0x; 40 stages (was 20))`);

    // Nothing new the next time: nothing is checked, and the run passes.
    const again = cli(['collect', '--path', logs, '--fail-on-regression'], root);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/0 new, 0 updated, 6 unchanged/);
    expect(again.stdout).not.toMatch(/regressed/);
    // The stored check stays.
    expect(cli(['jobs', '--regressed', '--format', 'csv'], root).stdout.trim().split('\n').slice(1).map((l) => [l.split(',')[0], l.split(',').at(-1)])).toEqual([[slow, 'Duration 2.0x; 40 stages (was 20)']]);

    const dry = cli(['collect', '--path', logs, '--dry-run', '--fail-on-regression'], root);
    expect(dry.code).toBe(2);
    expect(dry.stderr).toMatch(/^spark-optimizer: --fail-on-regression needs runs stored/);
  });

  it('a source\'s regression: keys in the config file change what counts: at factor 3 a 2x slowdown passes', () => {
    const { root, logs } = workspace();
    for (let i = 0; i < 5; i++) writeRun(logs, i);
    writeRun(logs, 5, true);
    writeFileSync(path.join(root, 'spark-optimizer.yaml'), 'sources:\n  - name: nightly-logs\n    type: event_log\n    path: logs\n    regression:\n      factor: 3\n');
    const r = cli(['collect', '--config', 'spark-optimizer.yaml', '--fail-on-regression'], root);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/6 new/);
    expect(r.stdout).not.toMatch(/regressed/);
    expect(cli(['jobs', '--regressed'], root).stdout).toMatch(/^0 of 0 regressed applications\n/);
  });
});

describe("collect's regressed line", () => {
  const regressed = (i: number, attempt: string | null = null, name: string | null = 'Nightly'): RegressedRun => ({ key: { app_id: `app-${i}`, attempt_id: attempt }, app_name: name, source: 'prod', summary: `Duration ${i}.0x` });

  it('names up to five runs (with an attempt, and a nameless one by its id); more are only counted', () => {
    expect(regressedLine([regressed(2)])).toBe('1 run regressed: Nightly app-2 (Duration 2.0x)');
    expect(regressedLine([regressed(2, '1'), regressed(3, null, null)])).toBe('2 runs regressed: Nightly app-2 attempt 1 (Duration 2.0x); (no name) app-3 (Duration 3.0x)');
    expect(regressedLine([1, 2, 3, 4, 5].map((i) => regressed(i))).split('; ')).toHaveLength(5);
    expect(regressedLine([1, 2, 3, 4, 5, 6].map((i) => regressed(i)))).toBe('6 runs regressed against their earlier runs; `spark-optimizer jobs --regressed` lists them.');
  });
});
