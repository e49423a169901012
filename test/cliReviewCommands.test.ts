/**
 * `jobs`, `show` and `compare` as a Spark engineer runs them (a review of the CLI's read commands):
 * what they say when a flag contradicts another, when a value cannot match anything, and when
 * there is nothing to show, over a database built here.
 */
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { noSparkMetrics, platformLevelQuality } from '../src/collectors/record';
import { JobStore } from '../src/storage/jobStore';
import { makeRecord } from './support/records';
import { makeExecutor } from './support/summaries';
import { tempDir } from './support/tmp';

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: '/' });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

let db: string;

beforeAll(async () => {
  db = path.join(tempDir(), 'jobs.db');
  const store = await JobStore.open(db);
  const noStages = { stages: [], executors: [makeExecutor({ executor_id: 'driver', total_tasks: 0 })] };
  store.upsert([
    // Two attempts of one application that ran no stage (a shell opened and closed), as in ../shared's local-1430917381535.
    { record: makeRecord({ app_id: 'app-shell', attempt_id: '1', app_name: 'Shell', start_time: '2024-06-01T00:00:00.000Z', total_tasks: 0, failed_tasks: 0, total_stages: 0 }), summaries: noStages },
    { record: makeRecord({ app_id: 'app-shell', attempt_id: '2', app_name: 'Shell', start_time: '2024-06-01T01:00:00.000Z', total_tasks: 0, failed_tasks: 0, total_stages: 0 }), summaries: noStages },
    makeRecord({ app_id: 'app-run', app_name: 'Etl', status: 'running', end_time: null, duration_ms: null }),
    // A Databricks run with no Spark metrics behind it (as its collector stores one): 0 with missing:<field> for each.
    makeRecord({ app_id: 'run-42', app_name: 'Nightly', source: 'databricks', ...noSparkMetrics(), quality: [...platformLevelQuality()] }),
    makeRecord({ app_id: 'app-nightly', app_name: 'Nightly', total_tasks: 110, failed_tasks: 2, input_bytes: 6_900_000 }),
    // An event log without an EnvironmentUpdate (or a History Server app whose /environment failed): no properties known.
    makeRecord({ app_id: 'app-noenv', app_name: 'Nightly', environment: {}, quality: ['missing:environment'] }),
    // A name with a line of its own in it (a log says what it likes): one forged row of show's summary.
    makeRecord({ app_id: 'app-forged', app_name: 'Nightly\nFailed tasks           0', failed_tasks: 7, user: 'etl\nStatus                 completed', status: 'failed' }),
  ]);
  await store.save();
  store.close();
});

describe('compare', () => {
  it('two runs that ran no stage say so, as show says "Stage attempts: 0" (not a blank where the stages go)', async () => {
    const r = await cli('compare', 'app-shell', 'app-shell', '--attempt-a', '1', '--attempt-b', '2', '--db', db);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/\nStages: none in either run\n/);
    expect((await cli('show', 'app-shell', '--attempt', '1', '--db', db)).out).toContain('\nStage attempts: 0\n');
  });

  it('--previous with --attempt-a and --attempt-b naming different attempts is a usage error, not one of them taken silently', async () => {
    const r = await cli('compare', 'app-shell', '--previous', '--attempt-a', '2', '--attempt-b', '1', '--db', db);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--previous .*one run.*--attempt-a/);
    expect(r.out).toBe('');
    // One of them, or both the same, is the run to compare with its previous one.
    const one = await cli('compare', 'app-shell', '--previous', '--attempt-a', '2', '--db', db, '--format', 'json');
    expect(one.code).toBe(0);
    expect((JSON.parse(one.out) as { a: { attempt_id: string }; b: { attempt_id: string } }).b.attempt_id).toBe('2');
    expect((await cli('compare', 'app-shell', '--previous', '--attempt-a', '2', '--attempt-b', '2', '--db', db)).code).toBe(0);
  });
});

describe('jobs --where', () => {
  it('a status no run can have is a usage error listing the statuses (as --status is), not an empty list', async () => {
    const typo = await cli('jobs', '--where', 'status=runing', '--db', db);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/--where: status takes one of completed, running, failed, unknown, got "runing"/);
    const running = await cli('jobs', '--where', 'status=running', '--db', db, '--format', 'json');
    expect(running.code).toBe(0);
    expect(running.out.split('\n').map((l) => (JSON.parse(l) as { app_id: string }).app_id)).toEqual(['app-run']);
    expect((await cli('jobs', '--where', 'status!=null', '--db', db)).code).toBe(0);
  });
});

describe('--help of the read commands', () => {
  it('explains each option with a default, the JSON keys show prints, and what --previous compares', async () => {
    const help = async (command: string): Promise<string> => {
      const r = await cli(command, '--help');
      expect(r.code).toBe(0);
      return r.out;
    };
    const show = await help('show');
    expect(show).toMatch(/"stages", "executors" and "regression"/);
    expect(show).toMatch(/\n {2}--top N +.*\(default 10\)/);
    const compare = await help('compare');
    expect(compare).toMatch(/\n {2}--top N +.*\(default 10\)/);
    expect(compare).toMatch(/\n {2}--utc +times in UTC/);
    // The run named is B in what compare prints, and its baseline A.
    expect(compare).toMatch(/compare B --previous .*\(B against A, the last earlier run of its name\)/);
    const jobs = await help('jobs');
    expect(jobs).toMatch(/\n {2}--status S +completed, running, failed, unknown\n/);
    expect(jobs).toMatch(/\n {2}--limit N +.*\(default 100\)/);
    expect(jobs).toMatch(/\n {2}--format F +.*JSON lines/);
    const runs = await help('runs');
    expect(runs).toMatch(/\n {2}--limit N +.*\(default 20\)/);
    // Every option a synopsis names is one the command takes: none is an unknown option.
    for (const [command, text] of [['show', show], ['compare', compare], ['jobs', jobs], ['runs', runs]] as const) {
      const synopsis = text.split('\n\n')[0]!;
      for (const flag of new Set(synopsis.match(/--[a-z-]+/g))) {
        if (flag === '--help') continue;
        const r = await cli(command, flag, '1', '--db', path.join(tempDir(), 'none.db'));
        expect(r.err, `${command} ${flag}`).not.toMatch(/unknown option/i);
      }
    }
  });
});

describe('runs', () => {
  it('a database no collection ran into says so (it was a header and dashes alone); JSON prints nothing', async () => {
    const r = await cli('runs', '--db', db);
    expect(r.code).toBe(0);
    expect(r.out).toBe(`0 collection runs in ${db}`);
    expect((await cli('runs', '--db', db, '--format', 'json')).out).toBe('');
  });
});

describe('a figure its source did not measure (missing:<field>)', () => {
  it('is "-" in jobs and show, not a measured 0, and compare gives it no change, as the regression check counts it unknown', async () => {
    const jobs = await cli('jobs', '--where', 'app=run-42', '--db', db, '--utc');
    const [header, , row] = jobs.out.split('\n');
    const cells = Object.fromEntries(header!.trim().split(/ {2,}/).map((h, i) => [h, row!.trim().split(/ {2,}/)[i]]));
    expect(cells).toMatchObject({ tasks: '-', failed: '-', cpu: '-', input: '-', 'shuffle r/w': '- / -' });
    const show = await cli('show', 'run-42', '--db', db);
    expect(show.out).toMatch(/\nTasks {18}- \(- failed\)\n/);
    expect(show.out).toMatch(/\nInput \/ output {9}- \/ -\n/);
    const compare = JSON.parse((await cli('compare', 'run-42', 'app-nightly', '--db', db, '--format', 'json')).out) as { metrics: { field: string; a: number | null; b: number | null; delta: number | null; percent: number | null }[] };
    expect(compare.metrics.find((m) => m.field === 'total_tasks')).toEqual(expect.objectContaining({ a: null, b: 110, delta: null, percent: null }));
    expect(compare.metrics.find((m) => m.field === 'input_bytes')).toEqual(expect.objectContaining({ a: null, b: 6_900_000, delta: null }));
    // What it did measure is compared as before.
    expect(compare.metrics.find((m) => m.field === 'duration_ms')).toEqual(expect.objectContaining({ delta: 0, percent: 0 }));
    const text = (await cli('compare', 'run-42', 'app-nightly', '--db', db)).out;
    expect(text).toMatch(/\nTasks +- +110 +- +-\n/);
  });
});

describe('compare with a run whose Spark properties were not collected (missing:environment)', () => {
  it('says so instead of listing every property of the other run as "(not set)" in it', async () => {
    const text = await cli('compare', 'app-noenv', 'app-nightly', '--db', db);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/\nConfig: not collected for A\.?$/);
    expect(text.out).not.toContain('(not set)');
    const json = JSON.parse((await cli('compare', 'app-noenv', 'app-nightly', '--db', db, '--format', 'json')).out) as { a: { has_config: boolean }; b: { has_config: boolean }; config: unknown[] };
    expect([json.a.has_config, json.b.has_config, json.config]).toEqual([false, true, []]);
    // Both collected: the diff as before (the generator-free records differ in nothing).
    expect((await cli('compare', 'run-42', 'app-nightly', '--db', db)).out).toMatch(/\nConfig: no property differs$/);
  });
});

describe('an application id that is not stored', () => {
  it('named as its event log file names it (APP_ID_ATTEMPT) points at the stored attempt', async () => {
    const r = await cli('show', 'app-shell_2', '--db', db);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/no application "app-shell_2" in .*; it holds app-shell with attempt 2 \(an event log's name is APP_ID_ATTEMPT\)\.$/);
    // An id that only looks like one (a YARN id ends in _NNNN too) gets the plain message.
    const yarn = await cli('show', 'application_1718000000000_0042', '--db', db);
    expect(yarn.code).toBe(1);
    expect(yarn.err).toMatch(/no application "application_1718000000000_0042" in .*jobs\.db; `spark-optimizer jobs --db .*` lists what it holds\.$/);
    // compare says the same of either run.
    const compare = await cli('compare', 'app-shell_1', 'app-nightly', '--db', db);
    expect(compare.code).toBe(1);
    expect(compare.err).toMatch(/app-shell with attempt 1/);
  });
});

describe('a newline in what a log names (app name, user)', () => {
  it('stays on its line in show and compare, escaped as in tables, so it cannot add a row that is not there', async () => {
    const show = await cli('show', 'app-forged', '--db', db);
    expect(show.code).toBe(0);
    const lines = show.out.split('\n');
    expect(lines.filter((l) => l.startsWith('Status'))).toEqual(['Status                 failed']);
    expect(lines.filter((l) => l.startsWith('Failed tasks'))).toEqual([]);
    expect(lines[0]).toBe('Nightly\\nFailed tasks           0');
    expect(show.out).toContain('User                   etl\\nStatus                 completed\n');
    const compare = await cli('compare', 'app-forged', 'app-nightly', '--db', db);
    expect(compare.out.split('\n')[0]).toMatch(/^A {2}Nightly\\nFailed tasks {11}0 \(app-forged\) {2}failed/);
    // Its name in a message too: the one line of a fatal error.
    const previous = await cli('compare', 'app-forged', '--previous', '--db', db);
    expect(previous.code).toBe(1);
    expect(previous.err).toBe(`spark-optimizer: app-forged (Nightly\\nFailed tasks           0) has no earlier run of the same name in ${db}.`);
  });
});
