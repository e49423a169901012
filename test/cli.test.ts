import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

function run(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('spark-optimizer collect', () => {
  it('prints one JSON line per attempt with the record keys, problems for bad files, and exit 0', () => {
    const dir = tempDir();
    for (const id of ['app-1', 'app-2', 'app-3']) writeFileSync(path.join(dir, id), eventLogText({ appId: id, stages: 2, tasksPerStage: 3 }).text);
    writeFileSync(path.join(dir, 'app-garbage'), Buffer.from([0, 1, 2, 255, 254, 10, 200, 201]));
    writeFileSync(path.join(dir, 'app-fake.zstd'), eventLogText({ appId: 'app-fake' }).text);
    writeFileSync(path.join(dir, 'app-empty'), '');
    const r = run('collect', '--source', 'event-logs', '--path', dir, '--format', 'json', '--dry-run');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.app_id).sort()).toEqual(['app-1', 'app-2', 'app-3']);
    for (const l of lines) {
      const { problems, ...record } = l;
      expect(problems).toEqual([]);
      expect(sparkAppRecordSchema.strict().parse(record)).toEqual(record);
      expect(record.attempt_id).toBeNull();
    }
    expect(r.stderr).toContain(path.join(dir, 'app-garbage'));
    expect(r.stderr).toMatch(/app-fake\.zstd.*(zstd|magic)/i);
    expect(r.stderr).toContain(path.join(dir, 'app-empty'));
    // A log that failed is one of the logs with problems too: "Show Problems" lists it.
    expect(r.stderr).toMatch(/3 new, 0 updated, 0 unchanged, 0 skipped, 3 failed, 3 logs with problems \(dry run, nothing stored\)/);
  });

  it('prints a table and a summary line by default', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'app-9'), eventLogText({ appId: 'app-9', appName: 'NightlyJoin' }).text);
    const r = run('collect', '--source', 'event-logs', '--path', dir, '--dry-run');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/app_id\s+attempt\s+name/);
    expect(r.stdout).toMatch(/app-9\s+-\s+NightlyJoin\s+spark\s+completed/);
    expect(r.stdout).toMatch(/1 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(dry run, nothing stored\)/);
  });

  it('accepts the seed spelling for the History Server: an unreachable server is a clear fatal error', () => {
    const dir = tempDir();
    const r = run('collect', '--source', 'history-server', '--url', 'http://127.0.0.1:9', '--db', path.join(dir, 'jobs.db'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/127\.0\.0\.1:9/);
  });

  it('exits 1 on a path that does not exist, naming it', () => {
    const r = run('collect', '--source', 'event-logs', '--path', '/nonexistent/spark-logs');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('/nonexistent/spark-logs');
  });

  it.each([
    [['collect', '--source', 'event-logs']],
    [['collect', '--source', 'event-logs', '--path', '.', '--batch-size', 'zero']],
    [['collect', '--source', 'event-logs', '--path', '.', '--since', 'yesterday-ish']],
    [['collect', '--bogus']],
    [['frobnicate']],
  ])('exits 2 on usage errors: %j', (args) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\nRun 'spark-optimizer (collect )?--help' for (its|the) usage\.\n$/);
    expect(r.stderr).not.toContain('Usage:');
  });
});
