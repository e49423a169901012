import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { formatBytes } from '../src/common/format';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, type FakeServer } from './support/historyServerFake';
import { ownTempRoot, tempDir } from './support/tmp';
import { zip } from './support/zip';

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('History Server, mode: eventlog (download /logs and parse it)', () => {
  it('gives exactly the event-log record for single-file and rolling logs, streamed from a zip', async () => {
    const single = eventLogText({ appId: 'app-single', stages: 3, tasksPerStage: 40, failEvery: 7, startMs: Date.UTC(2024, 5, 1) });
    const rolling = eventLogText({ appId: 'app-rolling', stages: 2, tasksPerStage: 30, startMs: Date.UTC(2024, 5, 2), seed: 5 });
    const lines = rolling.text.trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    const zips = {
      'app-single': await zip({ 'app-single': single.text }),
      'app-rolling': await zip({
        'eventlog_v2_app-rolling/events_1_app-rolling': `${lines.slice(0, half).join('\n')}\n`,
        'eventlog_v2_app-rolling/events_2_app-rolling': `${lines.slice(half).join('\n')}\n`,
        'eventlog_v2_app-rolling/appstatus_app-rolling': '',
      }),
    };
    const listing = syntheticListing([
      { id: 'app-single', startMs: single.totals.start_ms, endMs: single.totals.end_ms, executors: [], stages: [] },
      { id: 'app-rolling', startMs: rolling.totals.start_ms, endMs: rolling.totals.end_ms, executors: [], stages: [] },
    ]);
    server = await startFakeServer({
      applications: { json: listing },
      ...Object.fromEntries(
        Object.entries(zips).map(([id, bytes]) => [
          `applications/${id}/logs`,
          (_req: unknown, res: import('node:http').ServerResponse) => {
            res.writeHead(200, { 'content-type': 'application/octet-stream' });
            res.end(bytes);
          },
        ]),
      ),
    });
    const viaServer = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', source: 'hs' });
    expect(viaServer.problems).toEqual([]);
    expect(server.requests.filter((r) => r.endsWith('/environment'))).toEqual([]);

    const dir = tempDir();
    writeFileSync(path.join(dir, 'app-single'), single.text);
    const direct = await collectAll({ path: path.join(dir, 'app-single'), source: 'hs' });
    const fromServer = viaServer.apps.find((a) => a.record.app_id === 'app-single')!.record;
    const { tags: t1, ...a } = fromServer;
    const { tags: t2, ...b } = direct.apps[0]!.record;
    expect(a).toEqual(b);
    expect(t1).toMatchObject({ ...t2, origin: 'history_server' });
    const roll = viaServer.apps.find((x) => x.record.app_id === 'app-rolling')!.record;
    expect(roll).toMatchObject({ total_tasks: rolling.totals.total_tasks, cpu_time_ms: Math.floor(rolling.totals.cpu_time_ns / 1e6), status: 'completed', tags: { log_layout: 'rolling' } });
  });

  it('a zip entry escaping the folder or a log missing on the server is a problem for that app only', async () => {
    const good = eventLogText({ appId: 'app-good', startMs: Date.UTC(2024, 5, 1) });
    // Writers refuse such names, so the name is patched into the bytes (same length, both headers).
    const evil = Buffer.from((await zip({ 'xx/evil': 'x' })).toString('latin1').replaceAll('xx/evil', '../evil'), 'latin1');
    server = await startFakeServer({
      applications: {
        json: syntheticListing([
          { id: 'app-good', startMs: good.totals.start_ms, endMs: good.totals.end_ms, executors: [], stages: [] },
          { id: 'app-evil', startMs: good.totals.start_ms, endMs: good.totals.end_ms, executors: [], stages: [] },
          { id: 'app-gone', startMs: good.totals.start_ms, endMs: good.totals.end_ms, executors: [], stages: [] },
        ]),
      },
      'applications/app-good/logs': (_req, res) => {
        void zip({ 'app-good': good.text }).then((b) => {
          res.writeHead(200);
          res.end(b);
        });
      },
      'applications/app-evil/logs': (_req, res) => {
        res.writeHead(200);
        res.end(evil);
      },
    });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog' });
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/app-evil: .*(invalid relative path|points outside the archive)/);
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(/app-gone\/logs: HTTP 404/);
  });

  it("a log whose App ID differs from the server's id is stored under the server's id, with a warning (found by the fuzz suite)", async () => {
    const log = eventLogText({ appId: 'app-listed', startMs: Date.UTC(2024, 5, 1) });
    const renamed = log.text.replace('"App ID":"app-listed"', '"App ID":0');
    expect(renamed).not.toBe(log.text);
    server = await startFakeServer({
      applications: { json: syntheticListing([{ id: 'app-listed', startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }]) },
      'applications/app-listed/logs': (_req, res) => {
        void zip({ 'app-listed': renamed }).then((b) => {
          res.writeHead(200);
          res.end(b);
        });
      },
    });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog' });
    expect(r.problems).toEqual([]);
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-listed']);
    expect(r.apps[0]!.problems).toContainEqual({
      severity: 'warning',
      code: 'app-id-differs',
      message: `app-listed: the downloaded log says App ID "0"; the record keeps the History Server's id`,
      file: `${server.url}/api/v1/applications/app-listed/logs`,
    });
  });

  it('a zip whose deflated data is damaged is a problem for its app, never an uncaught zlib error (found by the fuzz suite)', async () => {
    const log = eventLogText({ appId: 'app-z', startMs: Date.UTC(2024, 5, 1), stages: 3, tasksPerStage: 200 });
    const good = await zip({ 'app-z': log.text });
    // Garbage over part of the deflated data (after the 30-byte local header and the name), ten ways.
    const damaged = Array.from({ length: 10 }, (_, i) => {
      const bytes = Buffer.from(good);
      bytes.fill(0xff - i * 7, 40 + i * 50, 48 + i * 50);
      return bytes;
    });
    const ids = damaged.map((_, i) => `app-bad${i}`);
    server = await startFakeServer({
      applications: { json: syntheticListing(['app-z', ...ids].map((id) => ({ id, startMs: log.totals.start_ms, endMs: log.totals.end_ms, executors: [], stages: [] }))) },
      'applications/app-z/logs': (_req, res) => {
        res.writeHead(200);
        res.end(good);
      },
      ...Object.fromEntries(
        ids.map((id, i) => [
          `applications/${id}/logs`,
          (_req: unknown, res: import('node:http').ServerResponse) => {
            res.writeHead(200);
            res.end(damaged[i]);
          },
        ]),
      ),
    });
    const uncaught: unknown[] = [];
    const listener = (err: unknown): void => {
      uncaught.push(err);
    };
    process.prependListener('uncaughtException', listener);
    try {
      const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', concurrency: 1 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(uncaught).toEqual([]);
      expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-z']);
      expect(r.problems.map((p) => p.message.split(':')[0])).toEqual(expect.arrayContaining(ids));
    } finally {
      process.removeListener('uncaughtException', listener);
    }
  });
});

/** `mib` MiB of zeros, a piece at a time: deflates about 1000 to 1. */
function zeros(mib: number): Readable {
  const piece = Buffer.alloc(1024 * 1024);
  let left = mib;
  return new Readable({
    read() {
      this.push(left-- > 0 ? piece : null);
    },
  });
}

/**
 * A zip whose directory declares one stored entry of `declared` bytes (zip64 sizes) while holding
 * none: what a server could send to make us plan for a petabyte.
 */
function declaringZip(name: string, declared: number): Buffer {
  const n = Buffer.from(name);
  const extra = Buffer.alloc(20);
  extra.writeUInt16LE(1, 0); // zip64 extended information
  extra.writeUInt16LE(16, 2);
  extra.writeBigUInt64LE(BigInt(declared), 4);
  extra.writeBigUInt64LE(BigInt(declared), 12);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(45, 4);
  local.writeUInt32LE(0xffffffff, 18);
  local.writeUInt32LE(0xffffffff, 22);
  local.writeUInt16LE(n.length, 26);
  local.writeUInt16LE(extra.length, 28);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(45, 4);
  central.writeUInt16LE(45, 6);
  central.writeUInt32LE(0xffffffff, 20);
  central.writeUInt32LE(0xffffffff, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt16LE(extra.length, 30);
  const head = Buffer.concat([local, n, extra]);
  const directory = Buffer.concat([central, n, extra]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(head.length, 16);
  return Buffer.concat([head, directory, end]);
}

describe('History Server, mode: eventlog: zips that would unpack to too much (issue 13: a 23 MB zip wrote 5.17 GB)', () => {
  const good = eventLogText({ appId: 'app-good', startMs: Date.UTC(2024, 5, 1) });
  const listing = (ids: string[]): unknown[] => syntheticListing(ids.map((id) => ({ id, startMs: good.totals.start_ms, endMs: good.totals.end_ms, executors: [], stages: [] })));
  const serveZips = async (zips: Record<string, Buffer>): Promise<FakeServer> =>
    startFakeServer({
      applications: { json: listing(Object.keys(zips)) },
      ...Object.fromEntries(
        Object.entries(zips).map(([id, bytes]) => [
          `applications/${id}/logs`,
          (_req: unknown, res: import('node:http').ServerResponse) => {
            res.writeHead(200, { 'content-type': 'application/octet-stream' });
            res.end(bytes);
          },
        ]),
      ),
    });
  const hsFolders = ownTempRoot('spark-opt-hs-');

  it('a zip that deflates 100 MB of zeros (about 1000 to 1) is refused for its ratio before anything is unpacked; the good log is read', async () => {
    const bomb = await zip({ 'app-bomb': zeros(100) });
    expect(bomb.length).toBeLessThan(200 * 1024);
    server = await serveZips({ 'app-good': await zip({ 'app-good': good.text }), 'app-bomb': bomb });
    const before = new Set(hsFolders());
    const t0 = performance.now();
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog' });
    // Unpacking 100 MB and reading it as a log would take seconds; refusing takes none.
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    const ratio = Math.round((100 * 1024 * 1024) / bomb.length);
    expect(r.problems).toEqual([
      {
        severity: 'error',
        code: 'rest-invalid',
        message: `app-bomb: ${server.url}/api/v1/applications/app-bomb/logs: the event log would unpack to 100 MB from a ${formatBytes(bomb.length)} zip (${ratio} to 1), over the limit of 200 to 1, so it was not unpacked; raise max_unpack_ratio (config) or --max-unpack-ratio (CLI) to read it`,
        file: `${server.url}/api/v1/applications/app-bomb`,
      },
    ]);
    expect(hsFolders().filter((n) => !before.has(n))).toEqual([]);
  });

  it('maxUnpackedBytes: a log over it is refused, from its directory or, stored, already by its download', async () => {
    const big = eventLogText({ appId: 'app-big', stages: 10, tasksPerStage: 400, startMs: Date.UTC(2024, 5, 1) });
    expect(big.text.length).toBeGreaterThan(2 * 1024 * 1024);
    server = await serveZips({ 'app-good': await zip({ 'app-good': good.text }), 'app-big': await zip({ 'app-big': big.text }), 'app-stored': await zip({ 'app-stored': big.text }, false) });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', maxUnpackedBytes: 2 * 1024 * 1024 });
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    const messages = r.problems.map((p) => p.message).sort();
    expect(messages).toEqual([
      `app-big: ${server.url}/api/v1/applications/app-big/logs: the event log would unpack to ${formatBytes(big.text.length)}, over the 2 MB limit, so it was not unpacked; raise max_unpacked_mb (config) or --max-unpacked-mb (CLI) to read it`,
      `app-stored: applications/app-stored/logs: the answer is larger than the 2 MB limit, so it was not read (${server.url}/api/v1/applications/app-stored/logs); raise max_unpacked_mb (config) or --max-unpacked-mb (CLI) to read it`,
    ]);
    // Refused, not retried.
    expect(server.requests.filter((q) => q.endsWith('/logs'))).toHaveLength(3);
  });

  it('free space is checked before unpacking: a zip declaring a petabyte is refused even with no limits', async () => {
    server = await serveZips({ 'app-good': await zip({ 'app-good': good.text }), 'app-huge': declaringZip('app-huge', 2 ** 50) });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog', maxUnpackedBytes: Infinity, maxUnpackRatio: Infinity });
    expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    expect(r.problems).toHaveLength(1);
    const message = r.problems[0]!.message;
    expect(message.startsWith(`app-huge: ${server.url}/api/v1/applications/app-huge/logs: unpacking needs 1024 TB and `)).toBe(true);
    expect(message).toMatch(/ has [\d.]+ (B|KB|MB|GB|TB) free \(512 MB is kept free\); not unpacked$/);
  });

  it('zip-slip stays refused, and a zip with one escaping entry unpacks nothing at all', async () => {
    const evil = Buffer.from((await zip({ 'app-evil': good.text, 'xx/evil': 'x' })).toString('latin1').replaceAll('xx/evil', '../evil'), 'latin1');
    server = await serveZips({ 'app-evil': evil });
    const r = await collectHistoryServerAll({ url: server.url, mode: 'eventlog' });
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => p.message)).toEqual([expect.stringMatching(/^app-evil: .*(invalid relative path|points outside the archive)/)]);
  });
});

