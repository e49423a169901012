/**
 * `collect --shard K/N` (issue 17): N runs split one archive or listing with no overlap and no gap.
 * The pure split (shard.ts) against SHA-1 values computed outside this code (Python's hashlib), then
 * the built CLI (dist/cli.js; `npm run build` first) on event logs this file writes and on a fake
 * History Server: the shards' databases together hold exactly what one unsharded run stores.
 */
import { execFile, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runApiCollector, type ApiCollector } from '../src/collectors/api/runner';
import { apiProvenance, type Batch, type CollectedApp } from '../src/collectors/contract';
import { collectEmrAll } from '../src/collectors/emr/collect';
import type { SparkAppRecord } from '../src/collectors/record';
import { inShard, logIdentity, parseShard, shardOf, shardSummary, type Shard } from '../src/collectors/shard';
import { EmrFake, HOUR, T0, fakeCluster, type FakeCluster, type FakeStep } from './support/emrFake';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, syntheticRoutes, type FakeServer, type SyntheticApp } from './support/historyServerFake';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Ran {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI without blocking this process (which serves the fake History Server). */
function runAsync(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Every record a database holds, as `jobs --format json` prints it, in key order. */
function records(db: string): Record<string, unknown>[] {
  const r = run(['jobs', '--db', db, '--format', 'json', '--limit', '100000']);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
}

const keyOf = (r: Record<string, unknown>): string => `${String(r.app_id)}\u0000${String(r.attempt_id)}`;

/** The line `collect` says how the run split: "shard 2/3: 5 of 14 logs" as [mine, total]. */
function tally(out: string, shard: string, unit: string): [number, number] {
  const m = new RegExp(`^shard ${shard}: ([\\d,]+) of ([\\d,]+) ${unit}s?$`, 'm').exec(out);
  expect(m, out).not.toBeNull();
  return [Number(m![1]!.replace(/,/g, '')), Number(m![2]!.replace(/,/g, ''))];
}

function writeLog(file: string, appId: string, seed: number): void {
  writeFileSync(file, eventLogText({ appId, appName: `Job ${appId}`, seed, stages: 2, tasksPerStage: 2, startMs: Date.UTC(2025, 0, 1) + seed * 60_000 }).text);
}

/**
 * An archive of every layout a unit can have: single logs at the top and in nested folders, rolling
 * `eventlog_v2_*` folders (two files each: one unit), and a Spark 1.x folder. `extra` adds more single
 * logs (app-x0…) to show that the others keep their shard. Returns the number of units.
 */
function writeArchive(root: string, extra = 0): number {
  mkdirSync(path.join(root, 'team-a', 'daily'), { recursive: true });
  mkdirSync(path.join(root, 'team-b'), { recursive: true });
  let units = 0;
  for (let i = 0; i < 14; i++) {
    const dir = i % 3 === 0 ? root : i % 3 === 1 ? path.join(root, 'team-a', 'daily') : path.join(root, 'team-b');
    writeLog(path.join(dir, `app-${String(i).padStart(3, '0')}`), `app-${String(i).padStart(3, '0')}`, i + 1);
    units++;
  }
  for (let i = 0; i < 3; i++) {
    const id = `app-roll-${i}`;
    const dir = path.join(root, i === 0 ? '' : 'team-a', `eventlog_v2_${id}`);
    mkdirSync(dir, { recursive: true });
    const lines = eventLogText({ appId: id, appName: `Rolling ${i}`, seed: 100 + i, stages: 2, tasksPerStage: 2 }).text.trimEnd().split('\n');
    const half = Math.ceil(lines.length / 2);
    writeFileSync(path.join(dir, `events_1_${id}`), `${lines.slice(0, half).join('\n')}\n`);
    writeFileSync(path.join(dir, `events_2_${id}`), `${lines.slice(half).join('\n')}\n`);
    writeFileSync(path.join(dir, `appstatus_${id}`), '');
    units++;
  }
  const legacy = path.join(root, 'team-b', 'app-legacy');
  mkdirSync(legacy);
  writeLog(path.join(legacy, 'EVENT_LOG_1'), 'app-legacy', 200);
  writeFileSync(path.join(legacy, 'SPARK_VERSION_1.2.0'), '');
  writeFileSync(path.join(legacy, 'APPLICATION_COMPLETE'), '');
  units++;
  for (let i = 0; i < extra; i++) {
    writeLog(path.join(root, 'team-b', `app-x${i}`), `app-x${i}`, 300 + i);
    units++;
  }
  return units;
}

/** Collects `archive` in `count` shards, each into a database of its own; the records of each and its "k of total" tally. */
function collectShards(archive: string, count: number, unit = 'log'): { records: Record<string, unknown>[][]; tallies: [number, number][] } {
  const dir = tempDir();
  const out = { records: [] as Record<string, unknown>[][], tallies: [] as [number, number][] };
  for (let k = 1; k <= count; k++) {
    const db = path.join(dir, `shard-${k}.db`);
    const r = run(['collect', '--path', archive, '--shard', `${k}/${count}`, '--db', db]);
    expect(r.code, r.stderr).toBe(0);
    out.tallies.push(tally(r.stdout, `${k}/${count}`, unit));
    out.records.push(records(db));
  }
  return out;
}

const ids = (rs: Record<string, unknown>[]): string[] => rs.map((r) => String(r.app_id)).sort();

describe('parseShard', () => {
  it('takes K/N with 1 <= K <= N', () => {
    expect(parseShard('1/1')).toEqual({ index: 1, count: 1 });
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(parseShard('3/3')).toEqual({ index: 3, count: 3 });
    expect(parseShard('07/10')).toEqual({ index: 7, count: 10 });
  });

  it('refuses anything else, saying what it needs', () => {
    for (const bad of ['0/3', '4/3', 'x/2', '1/0', '0/0', '', '3', '1/', '/3', '-1/3', '1.5/3', '1/3/5', ' 1/3', '1 / 3', '1/99999999999999999999']) {
      expect(() => parseShard(bad), bad).toThrow(`must be K/N, whole numbers with 1 <= K <= N (2/4: the second of four shares), got ${JSON.stringify(bad)}`);
    }
  });
});

describe('shardOf and inShard', () => {
  it('are the first 8 bytes of SHA-1, big-endian, mod N, plus 1 (values from Python hashlib)', () => {
    expect(shardOf('app-1', 3)).toBe(2);
    expect(shardOf('application_1700000000000_0001', 4)).toBe(4);
    expect(shardOf('eventlog_v2_app-7', 5)).toBe(5);
    expect(shardOf('sub/app-12.lz4', 7)).toBe(3);
    expect(shardOf('app-\u00e9', 2)).toBe(2);
  });

  it('hash a name the same way whether its accents are composed (Linux) or not (macOS)', () => {
    for (let n = 2; n <= 12; n++) expect(shardOf('logs/caf\u0065\u0301-app', n)).toBe(shardOf('logs/caf\u00e9-app', n));
  });

  it('put every identity in exactly one shard; no shard, or one, keeps everything', () => {
    for (let n = 1; n <= 7; n++) {
      for (let i = 0; i < 200; i++) {
        const id = `application_1700000000000_${String(i).padStart(4, '0')}`;
        const holders = Array.from({ length: n }, (_, k) => k + 1).filter((k) => inShard(id, { index: k, count: n }));
        expect(holders, `${id} of ${n}`).toHaveLength(1);
      }
    }
    expect(inShard('anything', undefined)).toBe(true);
    expect(inShard('anything', { index: 1, count: 1 })).toBe(true);
  });

  it('balance 10,000 sequential ids and paths within 10% of 1/N each', () => {
    const families = [(i: number) => `application_1700000000000_${String(i).padStart(4, '0')}`, (i: number) => `2025/01/${String(i % 28).padStart(2, '0')}/app-${i}.zstd`];
    for (const family of families) {
      for (const n of [2, 3, 4, 5, 7, 10]) {
        const counts = new Array<number>(n).fill(0);
        for (let i = 0; i < 10_000; i++) counts[shardOf(family(i), n) - 1]!++;
        const expected = 10_000 / n;
        for (const c of counts) expect(Math.abs(c - expected) / expected, `${family(0)} N=${n}: ${counts.join(',')}`).toBeLessThanOrEqual(0.1);
      }
    }
  });
});

describe('logIdentity', () => {
  it('is the path relative to the source, with /, wherever the archive is mounted', () => {
    expect(logIdentity('/mnt/a/spark-events', '/mnt/a/spark-events/team/app-1.lz4')).toBe('team/app-1.lz4');
    expect(logIdentity('/data/archive/', '/data/archive/team/app-1.lz4')).toBe('team/app-1.lz4');
    expect(logIdentity('/mnt/a/spark-events', '/mnt/a/spark-events/eventlog_v2_app-2')).toBe('eventlog_v2_app-2');
  });

  it('is the unit own name when the source is the unit itself, or a file in it', () => {
    expect(logIdentity('/mnt/a/app-1.lz4', '/mnt/a/app-1.lz4')).toBe('app-1.lz4');
    expect(logIdentity('/mnt/a/eventlog_v2_app-2', '/mnt/a/eventlog_v2_app-2')).toBe('eventlog_v2_app-2');
    // A Spark 1.x EVENT_LOG_1 given on its own: its folder is the unit.
    expect(logIdentity('/mnt/a/app-3/EVENT_LOG_1', '/mnt/a/app-3')).toBe('app-3');
  });
});

describe('shardSummary', () => {
  it('says how the run split, per kind of unit', () => {
    expect(shardSummary({ index: 2, count: 4 }, [{ unit: 'log', mine: 1234, total: 4901 }])).toBe('shard 2/4: 1,234 of 4,901 logs');
    expect(shardSummary({ index: 1, count: 2 }, [{ unit: 'log', mine: 0, total: 1 }, { unit: 'cluster', mine: 3, total: 5 }])).toBe('shard 1/2: 0 of 1 log, 3 of 5 clusters');
    expect(shardSummary({ index: 1, count: 2 }, [])).toBe('shard 1/2: nothing found');
  });
});

describe('collect --shard on event logs', () => {
  it('N=3 and N=1: the shards together store exactly what one unsharded run stores, none twice', () => {
    const archive = path.join(tempDir(), 'spark-events');
    const units = writeArchive(archive);
    const db = path.join(tempDir(), 'all.db');
    const whole = run(['collect', '--path', archive, '--db', db]);
    expect(whole.code, whole.stderr).toBe(0);
    expect(whole.stdout).toContain(`${units} new, 0 updated`);
    const expected = records(db);
    expect(expected).toHaveLength(units);

    const three = collectShards(archive, 3);
    const merged = three.records.flat().sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    expect(merged).toEqual(expected);
    expect(new Set(merged.map(keyOf)).size).toBe(merged.length);
    // Each shard has some (18 units over 3), and says how many of all it took.
    for (const [k, rs] of three.records.entries()) {
      expect(rs.length, `shard ${k + 1}`).toBeGreaterThan(0);
      expect(three.tallies[k]).toEqual([rs.length, units]);
    }

    const one = collectShards(archive, 1);
    expect(one.records[0]).toEqual(expected);
    expect(one.tallies[0]).toEqual([units, units]);
  });

  it("records the shard in the run's options; another shard's logs are not known files, so an unsharded run reads them", () => {
    const archive = path.join(tempDir(), 'spark-events');
    const units = writeArchive(archive);
    const db = path.join(tempDir(), 'jobs.db');
    const first = run(['collect', '--path', archive, '--shard', '2/3', '--db', db]);
    expect(first.code, first.stderr).toBe(0);
    const [mine] = tally(first.stdout, '2/3', 'log');
    expect(first.stdout).toContain(`${mine} new, 0 updated, 0 unchanged, 0 skipped, 0 failed`);

    const runs = run(['runs', '--db', db, '--format', 'json']);
    expect((JSON.parse(runs.stdout.trim().split('\n')[0]!) as { options: unknown }).options).toMatchObject({ path: archive, shard: { index: 2, count: 3 } });

    const again = run(['collect', '--path', archive, '--db', db]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain(`${units - mine} new, 0 updated, ${mine} unchanged, 0 skipped, 0 failed`);
    expect(again.stdout).not.toMatch(/^shard /m);
  });

  it('keeps each log in its shard when logs are added', () => {
    const archive = path.join(tempDir(), 'spark-events');
    writeArchive(archive);
    const before = collectShards(archive, 3);
    const grown = path.join(tempDir(), 'spark-events');
    const units = writeArchive(grown, 12);
    const after = collectShards(grown, 3);
    for (let k = 0; k < 3; k++) {
      expect(ids(after.records[k]!), `shard ${k + 1}`).toEqual(expect.arrayContaining(ids(before.records[k]!)));
      expect(after.tallies[k]![1]).toBe(units);
    }
    expect(after.records.flat()).toHaveLength(units);
  });

  it('splits the same archive the same way wherever it is mounted', () => {
    const archive = path.join(tempDir(), 'spark-events');
    writeArchive(archive);
    const elsewhere = path.join(tempDir(), 'mnt', 'nfs', 'other-name');
    cpSync(archive, elsewhere, { recursive: true });
    const here = collectShards(archive, 3);
    const there = collectShards(elsewhere, 3);
    for (let k = 0; k < 3; k++) expect(ids(there.records[k]!), `shard ${k + 1}`).toEqual(ids(here.records[k]!));
  });

  it('refuses a shard that is not K/N with 1 <= K <= N: a usage error, exit 2, one line, nothing stored', () => {
    const archive = path.join(tempDir(), 'spark-events');
    writeArchive(archive);
    for (const bad of ['0/3', '4/3', 'x/2', '1/0']) {
      const db = path.join(tempDir(), 'jobs.db');
      const r = run(['collect', '--path', archive, '--shard', bad, '--db', db]);
      expect(r.code, bad).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.split('\n')[0]).toBe(`spark-optimizer: --shard must be K/N, whole numbers with 1 <= K <= N (2/4: the second of four shares), got "${bad}"`);
      expect(existsSync(db)).toBe(false);
    }
  });

  it('is documented in collect --help', () => {
    const r = run(['collect', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--shard K\/N +only the K-th of N shares/);
  });
});

describe('collect --shard on a History Server listing', () => {
  const T0 = Date.UTC(2025, 4, 1, 12, 0, 0);
  // 15 applications, three of them with two attempts: attempts go with their application.
  const APPS: SyntheticApp[] = Array.from({ length: 15 }, (_, i) => i).flatMap((i) => {
    const app = (attemptId?: string, offset = 0): SyntheticApp => ({
      id: `application_1746100000000_${String(i).padStart(4, '0')}`,
      ...(attemptId !== undefined ? { attemptId } : {}),
      name: `Job ${i}`,
      user: 'etl',
      startMs: T0 + i * 60_000 + offset,
      endMs: T0 + i * 60_000 + offset + 5000,
      executors: [{ id: 'driver', cores: 1 }, { id: '1', cores: 2 }],
      stages: [{ id: 0, status: 'COMPLETE', complete: 4, input: 1024 * (i + 1) }],
    });
    return i % 5 === 0 ? [app('1'), app('2', 10_000)] : [app()];
  });

  async function serve(): Promise<FakeServer> {
    const s = await startFakeServer({ applications: { json: syntheticListing(APPS) }, ...syntheticRoutes(APPS) });
    return s;
  }

  it('splits by application id: the shards together store what one unsharded run stores, and ask only for their own', async () => {
    const s = await serve();
    try {
      const dir = tempDir();
      const whole = await runAsync(['collect', '--source', 'history-server', '--url', s.url, '--db', path.join(dir, 'all.db')]);
      expect(whole.code, whole.stderr).toBe(0);
      const expected = records(path.join(dir, 'all.db'));
      expect(expected).toHaveLength(APPS.length);

      const shards: Record<string, unknown>[][] = [];
      for (let k = 1; k <= 3; k++) {
        const db = path.join(dir, `shard-${k}.db`);
        const asked = s.requests.length;
        const r = await runAsync(['collect', '--source', 'history-server', '--url', s.url, '--shard', `${k}/3`, '--db', db]);
        expect(r.code, r.stderr).toBe(0);
        const rs = records(db);
        shards.push(rs);
        expect(tally(r.stdout, `${k}/3`, 'application attempt')).toEqual([rs.length, APPS.length]);
        // Every attempt of an application is in the application's shard.
        for (const rec of rs) expect(shardOf(String(rec.app_id), 3)).toBe(k);
        // Another shard's applications were listed, never fetched.
        const fetched = new Set(s.requests.slice(asked).flatMap((q) => /^applications\/([^/?]+)\//.exec(q)?.[1] ?? []));
        expect([...fetched].sort()).toEqual([...new Set(rs.map((rec) => String(rec.app_id)))].sort());
      }
      const merged = shards.flat().sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
      expect(merged).toEqual(expected);
      expect(new Set(merged.map(keyOf)).size).toBe(merged.length);
      expect(shards.every((rs) => rs.length > 0)).toBe(true);
    } finally {
      await s.close();
    }
  });
});

describe('the API runner splits every API listing in one place', () => {
  const appOf = (id: string): CollectedApp => ({ record: makeRecord({ app_id: id }), problems: [], files: [], provenance: apiProvenance(`fake/${id}`) });

  /** A listing of 60 items in 3 pages; `loose` ids come back from finish() with their own shard key (as EMR's unclaimed applications). */
  async function collect(shard: Shard | undefined, over: Partial<ApiCollector<string, CollectedApp>> = {}, loose: string[] = []): Promise<{ batches: Batch[]; fetched: string[]; others: string[] }> {
    const fetched: string[] = [];
    const others: string[] = [];
    const batches: Batch[] = [];
    const items = Array.from({ length: 60 }, (_, i) => `item-${i}`);
    const build = (): ApiCollector<string, CollectedApp> => ({
      maxApps: 'items',
      shard: { unit: 'item', key: (id) => id },
      list: async function* () {
        for (let i = 0; i < items.length; i += 20) {
          await Promise.resolve();
          yield { items: items.slice(i, i + 20) };
        }
      },
      fetch: (id, mine) => {
        (mine ? fetched : others).push(id);
        return Promise.resolve(appOf(id));
      },
      found: (app, _id, mine) => (mine ? [{ apps: [app] }] : []),
      finish: () => loose.map((id) => ({ apps: [appOf(id)], shardKey: id })),
      refused: () => undefined,
      listFailed: (err) => ({ severity: 'error', code: 'list-failed', message: err.message }),
      failed: (id, err) => ({ severity: 'error', code: 'item-failed', message: `${id}: ${err.message}` }),
      close: () => undefined,
      ...over,
    });
    for await (const b of runApiCollector({ shard, batchSize: 7 }, {}, build)) batches.push(b);
    return { batches, fetched, others };
  }
  const stored = (bs: Batch[]): string[] => bs.flatMap((b) => b.apps.map((a) => a.record.app_id)).sort();

  it("fetches only the shard's items, and tallies them against every item listed", async () => {
    const whole = await collect(undefined);
    expect(whole.batches.some((b) => b.shard !== undefined)).toBe(false);
    const all = stored(whole.batches);
    const union: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const part = await collect({ index: k, count: 3 });
      expect(part.others).toEqual([]);
      expect(part.fetched.every((id) => shardOf(id, 3) === k)).toBe(true);
      expect(stored(part.batches)).toEqual([...part.fetched].sort());
      const mine = part.batches.reduce((n, b) => n + (b.shard?.mine ?? 0), 0);
      const total = part.batches.reduce((n, b) => n + (b.shard?.total ?? 0), 0);
      expect([mine, total]).toEqual([part.fetched.length, 60]);
      expect(part.batches.every((b) => b.shard === undefined || b.shard.unit === 'item')).toBe(true);
      // Other shards' items are not "filtered" either: they are in no count.
      expect(part.batches.reduce((n, b) => n + b.filtered, 0)).toBe(0);
      union.push(...stored(part.batches));
    }
    expect(union.sort()).toEqual(all);
  });

  it('gives the other shards\' items to a collector that asks for them, marked not its own; records of no item split by their shardKey', async () => {
    const loose = Array.from({ length: 30 }, (_, i) => `loose-${i}`);
    const union: string[] = [];
    for (let k = 1; k <= 3; k++) {
      const part = await collect({ index: k, count: 3 }, { shard: { unit: 'item', key: (id) => id, fetchOthers: () => true } }, loose);
      expect([...part.fetched, ...part.others].sort()).toEqual(Array.from({ length: 60 }, (_, i) => `item-${i}`).sort());
      expect(part.others.every((id) => shardOf(id, 3) !== k)).toBe(true);
      const ids = stored(part.batches);
      expect(ids.every((id) => shardOf(id, 3) === k)).toBe(true);
      union.push(...ids);
    }
    expect(union.sort()).toEqual([...Array.from({ length: 60 }, (_, i) => `item-${i}`), ...loose].sort());
  });
});

describe('collect --shard on EMR: by cluster, with the loose applications each cluster claims', () => {
  let fake: EmrFake;
  let endpoint: string;
  beforeEach(async () => {
    // Never the real instance-metadata service, never the developer's own ~/.aws files.
    const none = path.join(tmpdir(), 'shard-test-no-such-dir');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    vi.stubEnv('AWS_CONFIG_FILE', path.join(none, 'config'));
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', path.join(none, 'credentials'));
    vi.stubEnv('AWS_PROFILE', undefined);
    vi.stubEnv('AWS_REGION', undefined);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAFAKEEXAMPLE00001');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'fake-secret-for-the-shard-test');
    vi.stubEnv('AWS_SESSION_TOKEN', undefined);
    fake = new EmrFake();
    endpoint = await fake.start();
  });
  afterEach(async () => {
    await fake.stop();
    vi.unstubAllEnvs();
  });

  function step(id: string, startMs: number, minutes: number): FakeStep {
    return {
      Id: id,
      Name: `job ${id}`,
      Config: { Jar: 'command-runner.jar', Args: ['spark-submit', '--deploy-mode', 'cluster', `s3://code/${id}.py`] },
      Status: { State: 'COMPLETED', Timeline: { CreationDateTime: new Date(startMs - 60_000), StartDateTime: new Date(startMs), EndDateTime: new Date(startMs + minutes * 60_000) } },
    };
  }

  function cluster(i: number): FakeCluster {
    const created = T0 + i * HOUR;
    const steps = [step(`s-A${i}`, created + 10 * 60_000, 10), step(`s-B${i}`, created + 25 * 60_000, 10), step(`s-C${i}`, created + 40 * 60_000, 5)];
    return fakeCluster(i, steps, { Id: `j-SHARD${String(i).padStart(4, '0')}` });
  }

  it('N=3: the shards together give the records one unsharded run gives (joined the same), none twice', async () => {
    const clusters = Array.from({ length: 9 }, (_, i) => cluster(i));
    fake.clusters = clusters;
    for (const [i, c] of clusters.entries()) {
      const created = T0 + i * HOUR;
      // One log in the cluster's own folder (ran by step A), one loose log ran by step B (joined by time).
      const own = eventLogText({ appId: `application_${created + 60_000}_0001`, startMs: created + 11 * 60_000, seed: i + 1, stages: 1, tasksPerStage: 2 });
      const loose = eventLogText({ appId: `application_${created + 60_000}_0002`, startMs: created + 26 * 60_000, seed: i + 50, stages: 1, tasksPerStage: 2 });
      fake.putObject('logs', `events/${c.Id}/${own.totals.app_id}`, own.text);
      fake.putObject('logs', `events/${loose.totals.app_id}`, loose.text);
    }
    // Loose logs no listed cluster ran: split by their own application id.
    for (let j = 0; j < 6; j++) {
      const id = `application_${T0 - 30 * HOUR}_${String(j).padStart(4, '0')}`;
      fake.putObject('logs', `events/${id}`, eventLogText({ appId: id, startMs: T0 - 29 * HOUR + j * 60_000, seed: 90 + j, stages: 1, tasksPerStage: 2 }).text);
    }
    const options = { endpointUrl: endpoint, region: 'us-east-1', source: 'emr-prod', maxAttempts: 2, timeoutMs: 5000, cloudwatch: false, eventLogDir: 's3://logs/events' };
    const byKey = (rs: SparkAppRecord[]): SparkAppRecord[] => [...rs].sort((a, b) => a.app_id.localeCompare(b.app_id));

    const whole = await collectEmrAll(options);
    expect(whole.problems.filter((p) => p.severity !== 'info')).toEqual([]);
    const expected = byKey(whole.apps.map((a) => a.record));
    // 9 own + 9 joined + 9 step C platform-level + 6 unjoined.
    expect(expected).toHaveLength(33);

    const parts: SparkAppRecord[][] = [];
    for (let k = 1; k <= 3; k++) {
      const part = await collectEmrAll({ ...options, shard: { index: k, count: 3 } });
      expect(part.problems.filter((p) => p.severity !== 'info')).toEqual([]);
      parts.push(part.apps.map((a) => a.record));
      for (const r of part.apps.map((a) => a.record)) {
        const clusterId = r.tags.cluster_id;
        expect(shardOf(clusterId ?? r.app_id, 3), r.app_id).toBe(k);
      }
    }
    const merged = byKey(parts.flat());
    expect(new Set(merged.map((r) => r.app_id)).size).toBe(merged.length);
    expect(merged).toEqual(expected);
    // Another shard's cluster folder is never read.
    for (const c of clusters) expect(fake.requests.filter((r) => r.url.includes(`events/${c.Id}/application_`)).length, c.Id).toBe(1 + 1);
  });
});
