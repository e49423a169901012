/**
 * Issue 16, "Command line": the built CLI as a user runs it (dist/cli.js; `node scripts/build.mjs`
 * first) — help and version, pipes closed early, the seed's cron line, a path that does not exist,
 * big runs, times with their zone, what each run read, validate's noise, --sort's names.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { JobStore } from '../src/storage/jobStore';
import { eventLogText } from './support/eventLogGenerator';
import { manyRecords } from './support/records';
import { tempDir } from './support/tmp';

const ROOT = path.resolve(__dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, cwd: opts.cwd, env: { ...process.env, ...opts.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A folder of `n` small event logs, app ids app-0000… */
function logs(n: number): string {
  const dir = path.join(tempDir(), 'logs');
  mkdirSync(dir);
  for (let i = 0; i < n; i++) {
    const appId = `app-${String(i).padStart(4, '0')}`;
    writeFileSync(path.join(dir, appId), eventLogText({ appId, appName: `Job${i}`, stages: 1, tasksPerStage: 2 }).text);
  }
  return dir;
}

/** `logs(n)` whose EnvironmentUpdate leaves out the three properties validate reports as defaulted. */
function bareLogs(n: number): string {
  const dir = path.join(tempDir(), 'logs');
  mkdirSync(dir);
  for (let i = 0; i < n; i++) {
    const appId = `app-${String(i).padStart(4, '0')}`;
    const text = eventLogText({ appId, appName: `Job${i}`, stages: 1, tasksPerStage: 2 }).text.replace(/"spark\.(executor\.cores|executor\.memory|driver\.memory)":"[^"]*",/g, '');
    writeFileSync(path.join(dir, appId), text);
  }
  return dir;
}

/** A database holding `n` records (manyRecords: ~1 KB of JSON each). */
async function database(n: number): Promise<string> {
  const file = path.join(tempDir(), 'jobs.db');
  const store = await JobStore.open(file);
  store.upsert(manyRecords(n));
  await store.save();
  store.close();
  return file;
}

const COMMANDS = ['collect', 'jobs', 'show', 'compare', 'runs', 'validate'] as const;

describe('help, version and usage errors', () => {
  it.each(COMMANDS)('%s --help and -h print that command\'s help on stdout and exit 0', (command) => {
    for (const flag of ['--help', '-h']) {
      const r = run([command, flag]);
      expect(r.code, `${command} ${flag}: ${r.stderr}`).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^Usage:\n/);
      expect(r.stdout).toContain(`spark-optimizer ${command} `);
      // Its own help, not the whole text: no other command's synopsis.
      for (const other of COMMANDS.filter((c) => c !== command)) expect(r.stdout, `${command} ${flag}`).not.toMatch(new RegExp(`^ +spark-optimizer ${other} `, 'm'));
    }
  });

  it('--help after other flags, and `help COMMAND`, print the command\'s help too', () => {
    const r = run(['collect', '--source', 'event-logs', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--path PATH');
    const h = run(['help', 'validate']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('spark-optimizer validate PATH...');
  });

  it('--version prints the version of package.json and exits 0', () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = run([flag]);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`spark-optimizer ${version}\n`);
      expect(r.stderr).toBe('');
    }
  });

  it.each([
    [['collect', '--bogus'], /^spark-optimizer: unknown option '--bogus'\nRun 'spark-optimizer collect --help' for its usage\.\n$/],
    [['jobs', '--limit', 'zero'], /^spark-optimizer: --limit must be a positive integer, got "zero"\nRun 'spark-optimizer jobs --help' for its usage\.\n$/],
    [['validate'], /^spark-optimizer: validate needs at least one file or folder\nRun 'spark-optimizer validate --help' for its usage\.\n$/],
    [['frobnicate'], /^spark-optimizer: unknown command "frobnicate"\nRun 'spark-optimizer --help' for the usage\.\n$/],
    [[], /^spark-optimizer: a command is needed: collect, jobs, show, compare, runs, validate or db\nRun 'spark-optimizer --help' for the usage\.\n$/],
  ])('a usage error prints one line and where the help is, exit 2: %j', (args, message) => {
    const r = run(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stdout).toBe('');
  });
});

describe('a closed stdout', () => {
  let db: string;
  let dir: string;
  beforeAll(async () => {
    db = await database(400);
    dir = bareLogs(40);
  });

  /** Runs the CLI with its stdout's read end closed after the first chunk (or at once), as `| head -1` does. */
  function closedEarly(args: string[], atOnce: boolean): Promise<Ran> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      if (atOnce) child.stdout.destroy();
      else child.stdout.once('data', () => child.stdout.destroy());
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: '', stderr }));
    });
  }

  it('ends `jobs --format json` quietly with status 0, every time', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await closedEarly(['jobs', '--db', db, '--format', 'json', '--limit', '400'], i % 2 === 0);
      expect(r.stderr, `run ${i}`).toBe('');
      expect(r.code, `run ${i}`).toBe(0);
    }
  });

  it('ends `validate` quietly with its usual status', async () => {
    for (let i = 0; i < 4; i++) {
      const r = await closedEarly(['validate', dir, '--min-severity', 'information'], i % 2 === 0);
      expect(r.stderr, `run ${i}`).not.toMatch(/EPIPE|Error:|    at /);
      expect(r.code, `run ${i}`).toBe(0);
    }
  });

  it('through a real shell pipe to head', () => {
    if (process.platform === 'win32') return;
    for (let i = 0; i < 3; i++) {
      const r = spawnSync('bash', ['-c', `"${process.execPath}" "${CLI}" jobs --db "${db}" --format json --limit 400 | head -1 >/dev/null; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr, `run ${i}`).toBe('status=0\n');
    }
  });
});

describe('collect', () => {
  it('takes the seed\'s cron line: --event-log-dir with no --source reads event logs', () => {
    const dir = logs(2);
    const r = run(['collect', '--event-log-dir', dir, '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(dry run, nothing stored\)/);
  });

  it('--event-log-dir with an object-store URL and no --source says which source reads it', () => {
    const r = run(['collect', '--event-log-dir', 's3://bucket/logs', '--dry-run']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--event-log-dir s3:\/\/bucket\/logs is not a local folder: add --source emr/);
  });

  it('a path that does not exist is fatal: no database file is made and no run is recorded', () => {
    const dir = tempDir();
    const db = path.join(dir, 'x.db');
    for (const args of [
      ['--path', '/nonexistent/spark-logs'],
      ['--source', 'event-logs', '--path', '/nonexistent/spark-logs'],
      ['--event-log-dir', '/nonexistent/spark-logs'],
    ]) {
      const r = run(['collect', ...args, '--db', db], { cwd: dir });
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^spark-optimizer: \/nonexistent\/spark-logs does not exist\n$/);
      expect(existsSync(db)).toBe(false);
      expect(existsSync(path.join(dir, '.spark-optimizer'))).toBe(false);
    }
    // An existing database gets no run either.
    const good = logs(1);
    expect(run(['collect', '--path', good, '--db', db]).code).toBe(0);
    expect(run(['collect', '--path', '/nonexistent/spark-logs', '--db', db]).code).toBe(1);
    const runs = run(['runs', '--db', db, '--format', 'json']);
    expect(runs.stdout.trim().split('\n')).toHaveLength(1);
  });

  it('a config source whose path does not exist is named and skipped; the others run', () => {
    const dir = tempDir();
    const good = logs(1);
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), `sources:\n  - name: gone\n    type: event_log\n    path: /nonexistent/spark-logs\n  - name: here\n    type: event_log\n    path: ${good}\n`);
    const r = run(['collect', '--config', 'spark-optimizer.yaml', '--db', 'x.db'], { cwd: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('spark-optimizer: source gone: /nonexistent/spark-logs does not exist; skipped.');
    const runs = run(['runs', '--db', path.join(dir, 'x.db'), '--format', 'json']);
    expect(runs.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { source: string }).source)).toEqual(['here']);
  });

  it('a big run prints the first rows of its table, says how many more, and all of them with --format table', () => {
    const dir = logs(30);
    const r = run(['collect', '--path', dir, '--dry-run']);
    expect(r.code).toBe(0);
    const rows = r.stdout.split('\n').filter((l) => /^app-\d{4} /.test(l));
    expect(rows).toHaveLength(20);
    expect(r.stdout).toContain('… and 10 more applications (--format table shows them all)\n');
    expect(r.stdout).toMatch(/30 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(dry run, nothing stored\)/);
    const all = run(['collect', '--path', dir, '--dry-run', '--format', 'table']);
    expect(all.stdout.split('\n').filter((l) => /^app-\d{4} /.test(l))).toHaveLength(30);
    expect(all.stdout).not.toContain('more applications');
    // Stored, the rest is a `jobs` away.
    const stored = run(['collect', '--path', dir, '--db', path.join(tempDir(), 'jobs.db')]);
    expect(stored.stdout).toContain('… and 10 more applications (--format table shows them all; `spark-optimizer jobs` lists what is stored)\n');
  });

  it('collect and jobs print the same columns, with times in the local zone (or UTC with --utc)', () => {
    const dir = logs(1);
    const db = path.join(tempDir(), 'jobs.db');
    const env = { TZ: 'Asia/Kolkata' };
    const collected = run(['collect', '--path', dir, '--db', db], { env });
    const listed = run(['jobs', '--db', db], { env });
    const header = (s: string): string => s.split('\n').find((l) => l.startsWith('app_id'))!.split(/\s{2,}/).join(' ');
    expect(header(collected.stdout)).toBe(header(listed.stdout));
    expect(header(listed.stdout)).toBe('app_id attempt name user status end duration tasks failed execs cpu input shuffle r/w source');
    const row = (s: string): string => s.split('\n').find((l) => l.startsWith('app-0000'))!;
    expect(row(collected.stdout)).toBe(row(listed.stdout));
    expect(row(listed.stdout)).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d GMT\+5:30 /);
    expect(row(run(['jobs', '--db', db, '--utc'], { env }).stdout)).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d UTC /);
    expect(row(run(['collect', '--path', dir, '--dry-run', '--utc'], { env }).stdout)).toMatch(/ \d{4}-\d\d-\d\d \d\d:\d\d UTC /);
  });
});

describe('runs', () => {
  it('shows what each run read, with times in their zone and never a credential', async () => {
    const dir = logs(1);
    const db = path.join(tempDir(), 'jobs.db');
    expect(run(['collect', '--path', dir, '--db', db]).code).toBe(0);
    // A run recorded by an older version, or by hand, with secrets in its URL.
    const store = await JobStore.open(db);
    store.startRun('r-hs', 'history', { url: 'https://ana:s3cret@hs.example.com:18080/?token=abc123&x=1#frag' }, new Date('2024-06-11T10:00:00Z'));
    store.startRun('r-emr', 'emr', { region: 'eu-west-1' }, new Date('2024-06-11T09:00:00Z'));
    await store.save();
    store.close();
    const r = run(['runs', '--db', db], { env: { TZ: 'Asia/Kolkata' } });
    expect(r.code).toBe(0);
    const header = r.stdout.split('\n')[0]!.split(/\s{2,}/);
    expect(header).toEqual(['started', 'source', 'read', 'finished', 'seen', 'new', 'updated', 'unchanged', 'skipped', 'failed', 'errors']);
    expect(r.stdout).toContain(dir);
    expect(r.stdout).toContain('https://hs.example.com:18080/?token=***&x=1');
    expect(r.stdout).toMatch(/2024-06-11 15:30 GMT\+5:30 +history/);
    expect(r.stdout).toMatch(/emr +region eu-west-1 /);
    expect(r.stdout).not.toMatch(/s3cret|abc123|ana/);
    expect(run(['runs', '--db', db, '--utc']).stdout).toMatch(/2024-06-11 10:00 UTC +history/);
    const json = run(['runs', '--db', db, '--format', 'json']).stdout;
    expect(json).not.toMatch(/s3cret|abc123/);
  });
});

describe('validate: less noise, and grammar', () => {
  it('hides information below --min-severity (default warning), and folds a file\'s defaulted properties into one line', () => {
    const dir = bareLogs(2);
    const quiet = run(['validate', dir]);
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe('');
    expect(quiet.stderr).toBe('2 files checked: 0 errors, 0 warnings; 6 information findings not shown (--min-severity information)\n');
    const all = run(['validate', dir, '--min-severity', 'information']);
    const lines = all.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/app-0000:\d+:1: information defaulted-property spark\.executor\.cores is not set: .*\. spark\.executor\.memory is not set: .*\. spark\.driver\.memory is not set: .*\.$/);
    expect(all.stderr).toBe('2 files checked: 0 errors, 0 warnings\n');
    // JSON keeps one object per finding, filtered the same way.
    expect(run(['validate', dir, '--format', 'json']).stdout).toBe('');
    expect(run(['validate', dir, '--format', 'json', '--min-severity', 'information']).stdout.trim().split('\n')).toHaveLength(6);
    const bad = run(['validate', dir, '--min-severity', 'loud']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--min-severity must be one of error, warning, information, hint, got "loud"/);
  });

  it('says "1 file" and "1 error", not "1 files" and "1 errors"', () => {
    const dir = tempDir();
    const file = path.join(dir, 'app-1');
    writeFileSync(file, `${eventLogText({ appId: 'app-1' }).text}{"Event":"SparkListenerTaskEnd",\n`);
    const r = run(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^1 file checked: 1 error, 0 warnings/);
  });

  it('jobs says "1 of 1 application"', async () => {
    const db = await database(1);
    expect(run(['jobs', '--db', db]).stdout).toMatch(/\n1 of 1 application\n$/);
  });
});

describe('jobs --sort', () => {
  it('takes every record field by its column and friendly names, and says why the JSON ones cannot sort', async () => {
    const db = await database(3);
    const json = new Set(['tags', 'environment', 'quality']);
    for (const column of Object.keys(sparkAppRecordSchema.shape)) {
      const r = run(['jobs', '--db', db, '--sort', column, '--format', 'json']);
      if (json.has(column)) {
        expect(r.code, column).toBe(2);
        expect(r.stderr).toMatch(new RegExp(`^spark-optimizer: --sort ${column}: ${column} holds JSON and cannot be sorted by`));
      } else {
        expect(r.code, `${column}: ${r.stderr}`).toBe(0);
      }
    }
    for (const name of ['duration', 'failed', 'shuffle', 'spill', 'cpu', 'memory', 'Failed tasks']) expect(run(['jobs', '--db', db, '--sort', name]).code, name).toBe(0);
    const help = run(['jobs', '--help']).stdout;
    for (const column of Object.keys(sparkAppRecordSchema.shape)) expect(help, column).toContain(column);
  });
});
