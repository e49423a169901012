/**
 * A collection run whose process was killed (Ctrl-C twice, an out-of-memory kill, a closed editor) is
 * shown as interrupted, not as going for ever (a known fault: `runs` said "unfinished" for good, on
 * both stores, and a teammate sharing the server saw it too). A run is going while its process is
 * alive by fileLock.ts's rule for a lock's holder: on this host its pid answers, and on any host it
 * gave a sign of life in the last two minutes (a file store: the file the run holds beside the
 * database; a server: the heartbeat it writes into its row). Runs of older versions, which do not say
 * who runs them, are "unfinished" as before (state unknown). The last suites really kill
 * `node dist/cli.js collect` with SIGKILL (node scripts/build.mjs first).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, linkSync, mkdirSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT_MS, STALE_LOCK_MS, pidAlive } from '../src/storage/fileLock';
import { JobStore } from '../src/storage/jobStore';
import { LISTED_THROUGH } from '../src/storage/keys';
import { openStore, type Store } from '../src/storage/store';
import { migrate } from '../src/storage/migrations';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import type { RunCounts, RunOwner } from '../src/storage/repository';
import { UNENDED_RUN } from '../src/storage/runState';
import { commandUsage } from '../src/cli/usage';
import { eventLogText } from './support/eventLogGenerator';
import { databaseAtVersion, describePostgres, newDatabase, pgHandles } from './support/postgres';
import { memoryRepository } from './support/memoryRepository';
import { tempDir } from './support/tmp';
import { skippedHere } from './support/skip';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');
const COUNTS: RunCounts = { seen: 1, new: 1, updated: 0, unchanged: 0, skipped: 0, failed: 0 };

/** The pid of a process that has exited (a short child waited for). */
function deadPid(): number {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();
const owner = (host: string, pid: number, heartbeat: string): RunOwner => ({ host, pid, heartbeat });

/** A database path in a fresh folder, through symlinks (the run files are beside the real file). */
const newDb = (): string => path.join(realpathSync(tempDir()), 'jobs.db');

/**
 * The state tests on each store as users have them: a file database (JobStore: it judges a run by the
 * file the run holds beside it) and a server (PostgresStore: by the row's heartbeat). Not a bare
 * sql.js database (test/support/stores.ts): none judges its runs (SqlJsRepository alone says unknown).
 */
function describeOnStores(name: string, body: (open: () => Promise<Store>) => void): void {
  describe(`${name} (file)`, () => {
    const opened: Store[] = [];
    afterEach(() => {
      for (const store of opened.splice(0)) store.close();
    });
    body(async () => {
      const store = await JobStore.open(newDb());
      opened.push(store);
      return store;
    });
  });
  describePostgres(`${name} (PostgreSQL)`, (server) => {
    const { open } = pgHandles();
    body(async () => open(await newDatabase(server()), server().password));
  });
}

describeOnStores('a collection run says whether its process still runs it', (open) => {
  it('a run of this process is running, naming this host and pid, until its end is recorded', async () => {
    const repo = await open();
    // Started an hour ago by this process's clock: its process is alive, whatever the row's times say.
    repo.startRun('r1', 'logs', { path: '/logs' }, new Date(Date.now() - 3_600_000));
    expect(repo.listRuns()).toMatchObject([{ run_id: 'r1', finished: null, state: 'running', owner: { host: hostname(), pid: process.pid } }]);
    expect(repo.latestRuns()).toMatchObject([{ run_id: 'r1', state: 'running' }]);
    repo.finishRun('r1', COUNTS, []);
    expect(repo.listRuns()).toMatchObject([{ run_id: 'r1', state: 'finished', new: 1 }]);
    expect(repo.listRuns()[0]!.finished).not.toBeNull();
  });

  it("is interrupted once its process is gone (a dead pid here); an older version's run is unknown", async () => {
    const repo = await open();
    const now = new Date();
    repo.startRun('killed-here', 's', {}, now, owner(hostname(), deadPid(), now.toISOString()));
    repo.startRun('older-version', 's', {}, now, null);
    const state = Object.fromEntries(repo.listRuns().map((r) => [r.run_id, r.state]));
    expect(state).toEqual({ 'killed-here': 'interrupted', 'older-version': 'unknown' });
    // Interrupted is a state, not an end: no end time is made up.
    expect(repo.listRuns().every((r) => r.finished === null)).toBe(true);
  });

  it('recording a run again replaces its options only: who runs it stays as recorded', async () => {
    const repo = await open();
    const now = new Date();
    repo.startRun('gone', 's', { a: 1 }, now, owner(hostname(), deadPid(), now.toISOString()));
    // What pipeline.ts does once a run has listed its server: startRun again with the cursor, from this process.
    repo.startRun('gone', 's', { a: 2 });
    expect(repo.listRuns()).toMatchObject([{ run_id: 'gone', options: { a: 2 }, state: 'interrupted', owner: { host: hostname() } }]);
    expect(repo.listRuns()[0]!.owner!.pid).not.toBe(process.pid);
  });

  it("an unfinished run's cursor is never an incremental run's start, whatever its state", async () => {
    const repo = await open();
    const cursor = { [LISTED_THROUGH]: { end_time: '2026-01-01T00:00:00.000Z', scope: 'http://hs' } };
    repo.startRun('killed', 'hs', cursor, new Date(), owner(hostname(), deadPid(), new Date().toISOString()));
    repo.startRun('going', 'hs', cursor);
    expect(repo.listRuns().map((r) => r.state).sort()).toEqual(['interrupted', 'running']);
    expect(repo.newestEndTime({ source: 'hs', scope: 'http://hs' })).toBeNull();
    repo.finishRun('going', COUNTS, []);
    expect(repo.newestEndTime({ source: 'hs', scope: 'http://hs' })).toBe('2026-01-01T00:00:00.000Z');
  });
});

describe('a bare sql.js database (SqlJsRepository on its own) judges no run', () => {
  it("says unknown for an unfinished run that names its owner, whatever the row's heartbeat: only its store keeps a sign of life", async () => {
    const { repo } = await memoryRepository();
    const now = new Date();
    repo.startRun('mine', 's', {}, new Date('2024-06-01T00:00:00.000Z'));
    repo.startRun('dead', 's', {}, now, owner(hostname(), deadPid(), now.toISOString()));
    repo.startRun('done', 's', {});
    repo.finishRun('done', COUNTS, []);
    expect(Object.fromEntries(repo.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ mine: 'unknown', dead: 'unknown', done: 'finished' });
  });
});

describePostgres("a server judges a run by its row's heartbeat", (server) => {
  const { open } = pgHandles();

  it("is interrupted once its process is gone: at once on this host, after two minutes' silence on any host", async () => {
    const repo = await open(await newDatabase(server()), server().password);
    const now = new Date();
    const silent = ago(STALE_LOCK_MS + 60_000);
    repo.startRun('killed-here', 's', {}, now, owner(hostname(), deadPid(), now.toISOString()));
    // A live pid alone does not keep a silent run going: it may be another process that took the pid (a container's PID 1).
    repo.startRun('pid-reused', 's', {}, now, owner(hostname(), process.pid, silent));
    repo.startRun('elsewhere-going', 's', {}, now, owner('another-host.example', 1, ago(HEARTBEAT_MS)));
    repo.startRun('elsewhere-silent', 's', {}, now, owner('another-host.example', 1, silent));
    repo.startRun('older-version', 's', {}, now, null);
    const state = Object.fromEntries(repo.listRuns().map((r) => [r.run_id, r.state]));
    expect(state).toEqual({ 'killed-here': 'interrupted', 'pid-reused': 'interrupted', 'elsewhere-going': 'running', 'elsewhere-silent': 'interrupted', 'older-version': 'unknown' });
  });
});

/** The file beside the database that a run of a process holds while it goes (jobStore.ts runFile). */
const runFile = (db: string, runId: string): string => `${db}.run-${runId}`;

describe('a file store: a run holds a file beside the database while it goes', () => {
  it('another process reading the file sees the run going, then finished; the file goes once a save holds the end', async () => {
    const db = newDb();
    const writer = await JobStore.open(db);
    writer.startRun('r1', 'logs', {}, new Date(Date.now() - 3_600_000));
    expect(existsSync(runFile(db, 'r1'))).toBe(true);
    const saving = Date.now();
    await writer.save();
    const read = async (): Promise<unknown> => {
      const reader = await JobStore.open(db, { readOnly: true });
      try {
        return reader.listRuns().map((r) => r.state);
      } finally {
        reader.close();
      }
    };
    expect(await read()).toEqual(['running']);
    // The row's heartbeat is its last save's time, not its start (what a copy of the file, or db copy, is judged by).
    const seen = await JobStore.open(db, { readOnly: true });
    expect(Date.parse(seen.listRuns()[0]!.owner!.heartbeat)).toBeGreaterThanOrEqual(saving);
    seen.close();
    writer.finishRun('r1', COUNTS, []);
    // Until a save writes the end, the file on disk says unfinished: the run is still going.
    expect(existsSync(runFile(db, 'r1'))).toBe(true);
    expect(await read()).toEqual(['running']);
    await writer.save();
    expect(existsSync(runFile(db, 'r1'))).toBe(false);
    expect(await read()).toEqual(['finished']);
    writer.close();
  });

  it('a run a store closed unfinished (a collection that failed before its end was saved) reads as interrupted', async () => {
    const db = newDb();
    const writer = await JobStore.open(db);
    writer.startRun('r1', 'logs', {});
    await writer.save();
    writer.finishRun('r1', COUNTS, []);
    writer.close();
    const reader = await JobStore.open(db, { readOnly: true });
    expect(reader.listRuns()).toMatchObject([{ run_id: 'r1', finished: null, state: 'interrupted' }]);
    reader.close();
  });

  it('a run whose file could not be created is running in its own process all the same, and its heartbeat tries again', async () => {
    const db = newDb();
    const store = await JobStore.open(db);
    // In the way of its file: what a dead process of this host left under that name (any reason creating it fails).
    writeFileSync(runFile(db, 'r1'), JSON.stringify({ pid: deadPid(), host: hostname(), at: Date.now() }));
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      store.startRun('r1', 'logs', {});
      expect(store.warnings.join('\n')).toContain(`could not create ${runFile(db, 'r1')}`);
      expect(store.listRuns()).toMatchObject([{ run_id: 'r1', state: 'running' }]);
      expect(store.latestRuns()).toMatchObject([{ run_id: 'r1', state: 'running' }]);
      // Its heartbeat tries again: what was in the way is a gone holder's, so it is replaced by this run's.
      vi.advanceTimersByTime(HEARTBEAT_MS);
    } finally {
      vi.useRealTimers();
    }
    expect(JSON.parse(readFileSync(runFile(db, 'r1'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
    store.finishRun('r1', COUNTS, []);
    await store.save();
    expect(store.listRuns()).toMatchObject([{ run_id: 'r1', state: 'finished' }]);
    store.close();
  });

  it("a run's file removed while it goes (taken for dead by a reader) is created again at its next heartbeat; its time is the file system's, not the holder's clock", async () => {
    const db = newDb();
    const store = await JobStore.open(db);
    const reader = async (): Promise<string[]> => {
      const other = await JobStore.open(db, { readOnly: true });
      try {
        return other.listRuns().map((r) => r.state);
      } finally {
        other.close();
      }
    };
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    try {
      store.startRun('r1', 'logs', {});
      await store.save();
      // A reader whose clock is ahead, or that found this process's event loop stalled, removed it.
      rmSync(runFile(db, 'r1'));
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect(JSON.parse(readFileSync(runFile(db, 'r1'), 'utf8'))).toMatchObject({ pid: process.pid, host: hostname() });
      // This host's clock an hour behind at its next beat: the file's time is still the file system's (now).
      vi.setSystemTime(Date.now() - 3_600_000);
      vi.advanceTimersByTime(HEARTBEAT_MS);
      await new Promise((r) => setImmediate(r));
    } finally {
      vi.useRealTimers();
    }
    expect(Math.abs(statSync(runFile(db, 'r1')).mtimeMs - Date.now())).toBeLessThan(10_000);
    expect(await reader()).toEqual(['running']);
    store.close();
    expect(existsSync(runFile(db, 'r1'))).toBe(false);
  });

  // Pid namespaces are Linux's (/proc/self/ns/pid); elsewhere a holder names none and this cannot happen.
  it.skipIf(skippedHere(process.platform !== 'linux', `NOT RUN on ${process.platform}: pid namespaces are Linux's`))("Linux: a run's file held in another pid namespace of this host name (a container) is judged by its touches, not by a pid that means nothing here", async () => {
    const db = newDb();
    const writer = await JobStore.open(db);
    const now = new Date();
    const pid = deadPid();
    writer.startRun('in-container', 's', {}, now, owner(hostname(), pid, now.toISOString()));
    writer.startRun('here-dead', 's', {}, now, owner(hostname(), pid, now.toISOString()));
    writeFileSync(runFile(db, 'in-container'), JSON.stringify({ pid, host: hostname(), at: Date.now(), ns: 'pid:[1]' }));
    writeFileSync(runFile(db, 'here-dead'), JSON.stringify({ pid, host: hostname(), at: Date.now(), ns: readlinkSync('/proc/self/ns/pid') }));
    await writer.save();
    writer.close();
    const store = await JobStore.open(db);
    expect(Object.fromEntries(store.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ 'in-container': 'running', 'here-dead': 'interrupted' });
    store.close();
    expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.run-'))).toEqual(['jobs.db.run-in-container']);
  });

  it("judges a run's file by the lock's rule: a dead pid here, or untouched two minutes anywhere, is gone", async () => {
    const db = newDb();
    const writer = await JobStore.open(db);
    const now = new Date();
    const runs: [string, RunOwner, { touched: number } | null][] = [
      ['dead-here', owner(hostname(), deadPid(), now.toISOString()), { touched: Date.now() }],
      ['no-file', owner(hostname(), process.pid, now.toISOString()), null],
      ['far-fresh', owner('another-host.example', 7, now.toISOString()), { touched: Date.now() - HEARTBEAT_MS }],
      ['far-silent', owner('another-host.example', 7, now.toISOString()), { touched: Date.now() - STALE_LOCK_MS - 60_000 }],
    ];
    for (const [id, o, file] of runs) {
      writer.startRun(id, 's', {}, now, o);
      if (file === null) continue;
      writeFileSync(runFile(db, id), JSON.stringify({ pid: o.pid, host: o.host, at: file.touched }));
      utimesSync(runFile(db, id), new Date(file.touched), new Date(file.touched));
    }
    // A run copied with its owner (db copy) holds no file here.
    expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.run-')).sort()).toEqual(['jobs.db.run-dead-here', 'jobs.db.run-far-fresh', 'jobs.db.run-far-silent']);
    await writer.save();
    writer.close();
    const states = async (readOnly: boolean): Promise<Record<string, string>> => {
      const store = await JobStore.open(db, { readOnly });
      try {
        return Object.fromEntries(store.listRuns().map((r) => [r.run_id, r.state]));
      } finally {
        store.close();
      }
    };
    const expected = { 'dead-here': 'interrupted', 'no-file': 'interrupted', 'far-fresh': 'running', 'far-silent': 'interrupted' };
    expect(await states(true)).toEqual(expected);
    // Opening the file removed the files of runs whose holder is gone (what a killed run leaves), and they stay interrupted.
    expect(await states(false)).toEqual(expected);
    expect(readdirSync(path.dirname(db)).filter((n) => n.includes('.run-'))).toEqual(['jobs.db.run-far-fresh']);
  });
});

describe('`db copy` of runs', () => {
  it('carries who ran each run; a copy holds no sign of life, so a run going in the source is interrupted in the copy', async () => {
    const from = newDb();
    const source = await JobStore.open(from);
    source.startRun('going', 'logs', {});
    source.startRun('done', 'logs', {});
    source.finishRun('done', COUNTS, []);
    source.startRun('older-version', 'logs', {}, new Date(), null);
    await source.save();
    const to = path.join(path.dirname(from), 'copy.db');
    const copied = cli(['db', 'copy', '--from', from, '--to', to]);
    expect(copied.status, copied.stderr).toBe(0);
    source.close();
    const copy = await JobStore.open(to, { readOnly: true });
    try {
      const runs = Object.fromEntries(copy.listRuns().map((r) => [r.run_id, r]));
      expect(Object.fromEntries(Object.entries(runs).map(([id, r]) => [id, r.state]))).toEqual({ going: 'interrupted', done: 'finished', 'older-version': 'unknown' });
      expect(runs.going!.owner).toMatchObject({ host: hostname(), pid: process.pid });
    } finally {
      copy.close();
    }
  });
});

describe('what processes that died left beside a file database', () => {
  it("removes a temp file of a dead save on this host, and another host's only once untouched for two minutes", async () => {
    const db = newDb();
    const dir = path.dirname(db);
    // This host as a save names it in its temp file: 8 hex digits of its name's SHA-1.
    const mine = createHash('sha1').update(hostname()).digest('hex').slice(0, 8);
    const dead = deadPid();
    const silent = new Date(Date.now() - STALE_LOCK_MS - 60_000);
    const files = {
      // A save of this host killed mid-write, named now and as older versions named it.
      deadHere: `jobs.db.tmp-${dead}-aaaaaaaa_${mine}`,
      deadHereOld: `jobs.db.tmp-${dead}-bbbbbbbb`,
      // Another host's saves: one writing now (its pid means nothing here), one left two minutes ago.
      elsewhereWriting: `jobs.db.tmp-${dead}-cccccccc_ffffffff`,
      elsewhereSilent: `jobs.db.tmp-${dead}-dddddddd_ffffffff`,
    };
    for (const name of Object.values(files)) writeFileSync(path.join(dir, name), 'partial');
    utimesSync(path.join(dir, files.elsewhereSilent), silent, silent);
    (await JobStore.open(db)).close();
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([files.elsewhereWriting]);
  });
});

describe("what looks like a run's file beside a file database", () => {
  it("is removed only when it is what a gone holder left (its text, or nothing); a user's file of such a name stays", async () => {
    const db = newDb();
    const dir = path.dirname(db);
    const minuteAgo = new Date(Date.now() - 60_000);
    const files: Record<string, string> = {
      // A user's files: not a run id after run- (a dot), or not a holder's text.
      'jobs.db.run-archive.db': 'SQLite format 3\0 a backup',
      'jobs.db.run-notes': 'what the collection of Monday did',
      'jobs.db.run-big': 'x'.repeat(1_000_000),
      // What dead runs left: a holder's text, and an empty file (killed between creating and writing it).
      'jobs.db.run-dead': JSON.stringify({ pid: deadPid(), host: hostname(), at: Date.now() }),
      'jobs.db.run-empty': '',
    };
    for (const [name, text] of Object.entries(files)) {
      writeFileSync(path.join(dir, name), text);
      utimesSync(path.join(dir, name), minuteAgo, minuteAgo);
    }
    (await JobStore.open(db)).close();
    expect(readdirSync(dir).filter((n) => n.includes('.run-')).sort()).toEqual(['jobs.db.run-archive.db', 'jobs.db.run-big', 'jobs.db.run-notes']);
    expect(readFileSync(path.join(dir, 'jobs.db.run-notes'), 'utf8')).toBe(files['jobs.db.run-notes']);
  });
});

describe('the words for a run without an end', () => {
  it('runs --help says each state with the word runs and the Sources view show (one definition)', () => {
    const help = commandUsage('runs').replace(/\s+/g, ' ');
    for (const state of Object.values(UNENDED_RUN)) expect(help).toContain(`${state.word} (${state.gist})`);
    expect(Object.values(UNENDED_RUN).map((s) => s.word)).toEqual(['running', 'interrupted', 'unfinished']);
  });
});

describe('migration 13 (the file): who runs a run', () => {
  it("leaves an older version's unfinished runs unknown, and that version's statements still record runs in the migrated file", async () => {
    const SQL = await loadSqlJs();
    const old = memoryDatabase(SQL);
    migrate(old, 'old.db', 12);
    // The run statements of version 12, as an older client sharing the file still runs them.
    const oldStart = 'INSERT INTO collection_runs (run_id, source, options, started) VALUES (?, ?, ?, ?) ON CONFLICT (run_id) DO UPDATE SET options = excluded.options';
    old.run(oldStart, ['before', 'logs', '{}', '2026-01-01T00:00:00.000Z']);
    const db = newDb();
    writeFileSync(db, old.export());
    old.close();
    const store = await JobStore.open(db);
    expect(store.listRuns()).toMatchObject([{ run_id: 'before', finished: null, owner: null, state: 'unknown' }]);
    store.startRun('current', 'logs', {});
    store.finishRun('current', COUNTS, []);
    await store.save();
    store.close();
    // An older client's statements on the migrated file: its INSERT names its columns, the new ones stay NULL.
    const again = new SQL.Database(readFileSync(db));
    again.run(oldStart, ['older-client', 'logs', '{}', '2026-01-02T00:00:00.000Z']);
    writeFileSync(db, again.export());
    again.close();
    const reader = await JobStore.open(db, { readOnly: true });
    expect(Object.fromEntries(reader.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ before: 'unknown', 'older-client': 'unknown', current: 'finished' });
    reader.close();
  });
});

/** Folder of `n` event logs: one generated log hard-linked `n` times (a long collection without its bytes on disk n times). */
function manyLogs(n: number): string {
  const dir = path.join(tempDir(), 'logs');
  mkdirSync(dir);
  const first = path.join(dir, 'app-0');
  writeFileSync(first, eventLogText({ appId: 'app-0', stages: 20, tasksPerStage: 200 }).text);
  for (let i = 1; i < n; i++) linkSync(first, path.join(dir, `app-${i}`));
  return dir;
}

function collect(logs: string, db: string, env: Record<string, string> = {}): ChildProcess {
  return spawn(process.execPath, [CLI, 'collect', '--source', 'event-logs', '--path', logs, '--db', db, '--batch-size', '1'], { stdio: 'ignore', env: { ...process.env, ...env } });
}

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Waits (polling every 100 ms, up to `ms`) until `ready` says yes; fails if the child ends first. */
async function until(child: ChildProcess, ready: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the collection ended (${child.exitCode ?? child.signalCode}) before ${what}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function killed(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** `runs`' table rows and JSON lines for `db`. */
function listed(db: string, env: Record<string, string> = {}): { table: string; json: Record<string, unknown>[] } {
  const table = cli(['runs', '--db', db], env);
  const json = cli(['runs', '--db', db, '--format', 'json'], env);
  expect(table.status, table.stderr).toBe(0);
  expect(json.status, json.stderr).toBe(0);
  return { table: table.stdout, json: json.stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('`collect` killed with SIGKILL (file store)', () => {
  it('its run is listed as interrupted, not unfinished; what it left beside the database goes at the next collect', { timeout: 180_000 }, async () => {
    // A long run saves every 10 s (collectCommand.ts), and the run is in the file from then on: logs enough for
    // well over 10 s on a fast machine (2,000 took 15 s on two cores); it is killed at its first save anyway.
    const logs = manyLogs(10_000);
    const db = newDb();
    const child = collect(logs, db);
    const saved = async (): Promise<boolean> => {
      if (!existsSync(db)) return false;
      const store = await JobStore.open(db, { readOnly: true }).catch(() => null);
      if (store === null) return false;
      try {
        return store.listRuns().length > 0;
      } finally {
        store.close();
      }
    };
    try {
      await until(child, saved, 120_000, 'a save holding the run');
      // Going, as another process sees it while the collect runs.
      const going = listed(db).json;
      expect(going).toMatchObject([{ finished: null, state: 'running', owner: { host: hostname(), pid: child.pid } }]);
    } finally {
      await killed(child);
    }
    const after = listed(db);
    expect(after.json).toMatchObject([{ finished: null, state: 'interrupted' }]);
    expect(after.table).toContain('interrupted');
    expect(after.table).not.toContain('unfinished');
    // What it left (its run's file, a lock and a temp file if it was killed mid-save) goes at the next open; the next collect's
    const beside = (): string[] => readdirSync(path.dirname(db)).filter((n) => n !== 'jobs.db');
    // The next collect (a writer) removes what the killed one left; the killed run stays interrupted.
    const small = path.join(tempDir(), 'small');
    mkdirSync(small);
    writeFileSync(path.join(small, 'app-small'), eventLogText({ appId: 'app-small', stages: 1, tasksPerStage: 2 }).text);
    expect(cli(['collect', '--source', 'event-logs', '--path', small, '--db', db]).status).toBe(0);
    expect(beside()).toEqual([]);
    expect(listed(db).json.map((r) => r.state)).toEqual(['finished', 'interrupted']);
  });
});

describePostgres('`collect` killed with SIGKILL (PostgreSQL)', (server) => {
  const { open, connect } = pgHandles();

  it('its run is listed as interrupted by every reader of the server, not unfinished', { timeout: 180_000 }, async () => {
    // Killed as soon as its run is on the server; logs enough that it is still going then on a fast machine.
    const logs = manyLogs(3000);
    const url = await newDatabase(server());
    const env = { PGPASSWORD: server().password };
    const client = await connect(server(), url);
    const child = collect(logs, url, env);
    // Each batch commits: the run is on the server from its start.
    const recorded = async (): Promise<boolean> => {
      const exists = (await client.query<{ e: boolean }>("SELECT to_regclass('collection_runs') IS NOT NULL AS e")).rows[0]?.e === true;
      return exists && (await client.query('SELECT 1 FROM collection_runs')).rows.length > 0;
    };
    try {
      await until(child, recorded, 120_000, 'the run on the server');
      expect(listed(url, env).json).toMatchObject([{ finished: null, state: 'running', owner: { host: hostname(), pid: child.pid } }]);
    } finally {
      await killed(child);
    }
    const after = listed(url, env);
    expect(after.json).toMatchObject([{ finished: null, state: 'interrupted' }]);
    expect(after.table).toContain('interrupted');
    // A teammate on another host knows no pid of ours: for them the heartbeat stops, and two minutes on the run reads as interrupted.
    await client.query("UPDATE collection_runs SET host = 'teammate-host.example'");
    const store = await open(url, server().password);
    expect(store.listRuns()).toMatchObject([{ state: 'running' }]);
    await client.query(`UPDATE collection_runs SET heartbeat = '${ago(STALE_LOCK_MS + 1000)}'`);
    expect(store.listRuns()).toMatchObject([{ state: 'interrupted' }]);
  });

  it("a run's heartbeat is written by the server's clock every HEARTBEAT_MS until its end", async () => {
    const url = await newDatabase(server());
    const client = await connect(server(), url);
    const store = await open(url, server().password);
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      // The client's clock an hour behind: the row's heartbeat is the server's time all the same.
      store.startRun('r1', 'logs', {}, new Date(Date.now() - 3_600_000));
      const beat = async (): Promise<number> => Date.parse((await client.query<{ heartbeat: string }>('SELECT heartbeat FROM collection_runs')).rows[0]!.heartbeat);
      const first = await beat();
      expect(Math.abs(first - Date.now())).toBeLessThan(60_000);
      expect(store.listRuns()).toMatchObject([{ state: 'running' }]);
      await new Promise((r) => setTimeout(r, 20));
      vi.advanceTimersByTime(HEARTBEAT_MS);
      expect(await beat()).toBeGreaterThan(first);
      store.finishRun('r1', COUNTS, []);
      const last = await beat();
      await new Promise((r) => setTimeout(r, 20));
      vi.advanceTimersByTime(HEARTBEAT_MS * 3);
      expect(await beat()).toBe(last);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('closing the store stops its runs\' heartbeats, and a run it left unfinished reads as interrupted at once, as on a file store', async () => {
    const url = await newDatabase(server());
    const reader = await open(url, server().password);
    // Closed by the test itself (pgHandles' stores are closed after it).
    const writer = await openStore(url, process.cwd(), { password: server().password });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      writer.startRun('r1', 'logs', {});
      writer.startRun('done', 'logs', {});
      writer.finishRun('done', COUNTS, []);
      expect(vi.getTimerCount()).toBe(1);
      expect(Object.fromEntries(reader.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ r1: 'running', done: 'finished' });
      writer.close();
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
    expect(Object.fromEntries(reader.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ r1: 'interrupted', done: 'finished' });
  });

  it("migration 14 leaves an older version's runs unknown; its statements still work; a reader reads a database at 13 as it is", async () => {
    const at13 = await databaseAtVersion(server(), 13);
    const client = await connect(server(), at13);
    const oldStart = 'INSERT INTO collection_runs (run_id, source, options, started) VALUES ($1, $2, $3, $4) ON CONFLICT (run_id) DO UPDATE SET options = excluded.options';
    await client.query(oldStart, ['before', 'logs', '{}', '2026-01-01T00:00:00.000Z']);
    // A command that only reads does not migrate: the runs of a database at 13 are read without the new columns.
    const read = cli(['runs', '--db', at13, '--format', 'json'], { PGPASSWORD: server().password });
    expect(read.status, read.stderr).toBe(0);
    expect(JSON.parse(read.stdout)).toMatchObject({ run_id: 'before', owner: null, state: 'unknown' });
    expect(cli(['runs', '--db', at13], { PGPASSWORD: server().password }).stdout).toContain('unfinished');
    const store = await open(at13, server().password);
    expect((await client.query('SELECT version FROM spark_optimizer_schema')).rows).toEqual([{ version: 14 }]);
    await client.query(oldStart, ['older-client', 'logs', '{}', '2026-01-02T00:00:00.000Z']);
    store.startRun('current', 'logs', {});
    expect(Object.fromEntries(store.listRuns().map((r) => [r.run_id, r.state]))).toEqual({ before: 'unknown', 'older-client': 'unknown', current: 'running' });
    store.finishRun('current', COUNTS, []);
  });
});
