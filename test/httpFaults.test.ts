/**
 * The HTTP client and the History Server collector against a local server that misbehaves: closes
 * the connection, resets it, trickles, redirects, sends answers over the limit (issue 13). Every
 * server is on 127.0.0.1 and every test is bounded in time.
 */
import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import * as z from 'zod';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { HttpError, JsonClient } from '../src/collectors/http/jsonClient';
import { listenLocal } from './support/localServer';
import { eventLogText } from './support/eventLogGenerator';
import { ownTempRoot } from './support/tmp';
import { zip } from './support/zip';
import { startFakeServer, syntheticListing, syntheticRoutes, type FakeServer, type SyntheticApp } from './support/historyServerFake';

/** Uncaught exceptions while `run` runs (undici's crash happens in a socket's 'end' handler, outside any promise). */
async function uncaughtDuring<T>(run: () => Promise<T>): Promise<{ result: T; uncaught: Error[] }> {
  const uncaught: Error[] = [];
  const listener = (err: Error): void => {
    uncaught.push(err);
  };
  process.prependListener('uncaughtException', listener);
  try {
    const result = await run();
    // The crash comes on the socket's 'end', a tick after the body: let it come.
    await new Promise((r) => setTimeout(r, 50));
    return { result, uncaught };
  } finally {
    process.removeListener('uncaughtException', listener);
  }
}

/** The collector's temp folders, in this file's own temp root. */
const hsTempFolders = ownTempRoot('spark-opt-hs-');

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('a server that closes the connection after the body (Connection: close)', () => {
  it('mode eventlog: every app is stored, nothing is thrown outside the run, no temp folder is left', async () => {
    const ids = ['app-1', 'app-2', 'app-3', 'app-4'];
    // An unknown event with 3 MB of random text makes each zip about that large; its last 512 KB
    // come in one burst with the FIN, so that undici's parser is paused by the disk when the FIN comes.
    const logs = ids.map((id, i) => eventLogText({ appId: id, startMs: Date.UTC(2024, 5, 1 + i), seed: i + 1 }));
    const zips = await Promise.all(logs.map((l, i) => zip({ [ids[i]!]: `${l.text}{"Event":"org.example.Padding","Data":"${randomBytes(2_300_000).toString('base64')}"}\n` })));
    const before = new Set(hsTempFolders());
    server = await startFakeServer({
      applications: { json: syntheticListing(logs.map((l, i) => ({ id: ids[i]!, startMs: l.totals.start_ms, endMs: l.totals.end_ms, executors: [], stages: [] }))) },
      ...Object.fromEntries(
        ids.map((id, i) => [
          `applications/${id}/logs`,
          (_req: unknown, res: ServerResponse) => {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': zips[i]!.length, connection: 'close' });
            // The last 512 KB in one burst with the FIN, once the client has caught up.
            const tail = zips[i]!.length - 512 * 1024;
            res.write(zips[i]!.subarray(0, tail), () => setTimeout(() => res.end(zips[i]!.subarray(tail)), 100));
          },
        ]),
      ),
    });
    const { result, uncaught } = await uncaughtDuring(() => collectHistoryServerAll({ url: server!.url, mode: 'eventlog', concurrency: 2 }));
    expect(uncaught.map((e) => `${e.name}: ${e.message}`)).toEqual([]);
    expect(result.problems).toEqual([]);
    expect(result.apps.map((a) => a.record.app_id).sort()).toEqual(ids);
    expect(hsTempFolders().filter((n) => !before.has(n))).toEqual([]);
  }, 20_000);
});

describe('downloads that fail or are cancelled (mode eventlog)', () => {
  const good = eventLogText({ appId: 'app-good', startMs: Date.UTC(2024, 5, 1) });
  const listing = (ids: string[]): unknown[] => syntheticListing(ids.map((id) => ({ id, startMs: good.totals.start_ms, endMs: good.totals.end_ms, executors: [], stages: [] })));

  it('a reset, a close before the body and a short body are problems of their apps; the others are stored', async () => {
    const bytes = await zip({ 'app-good': good.text });
    const before = new Set(hsTempFolders());
    server = await startFakeServer({
      applications: { json: listing(['app-good', 'app-reset', 'app-closed', 'app-short']) },
      'applications/app-good/logs': (_req, res) => {
        res.writeHead(200, { 'content-length': bytes.length });
        res.end(bytes);
      },
      // Half the zip, then a TCP reset.
      'applications/app-reset/logs': (_req, res) => {
        res.writeHead(200, { 'content-length': bytes.length });
        res.write(bytes.subarray(0, bytes.length >> 1), () => res.socket?.resetAndDestroy());
      },
      'applications/app-closed/logs': (_req, res) => res.socket?.end(),
      // Fewer bytes than announced, then the connection ends.
      'applications/app-short/logs': (_req, res) => {
        res.socket?.end(`HTTP/1.1 200 OK\r\ncontent-length: ${bytes.length}\r\nconnection: close\r\n\r\n`);
      },
    });
    const { result, uncaught } = await uncaughtDuring(() => collectHistoryServerAll({ url: server!.url, mode: 'eventlog', maxAttempts: 2, backoffMs: 1, maxDelayMs: 2 }));
    expect(uncaught).toEqual([]);
    expect(result.apps.map((a) => a.record.app_id)).toEqual(['app-good']);
    const messages = result.problems.map((p) => p.message).sort();
    expect(messages).toHaveLength(3);
    expect(messages[0]).toMatch(/^app-closed: applications\/app-closed\/logs: .+ \(gave up after 2 attempts\)$/);
    expect(messages[1]).toMatch(/^app-reset: applications\/app-reset\/logs: .+ \(gave up after 2 attempts\)$/);
    expect(messages[2]).toMatch(/^app-short: applications\/app-short\/logs: .+ \(gave up after 2 attempts\)$/);
    expect(server.requests.filter((r) => r.endsWith('/logs')).sort()).toEqual(['app-closed', 'app-closed', 'app-good', 'app-reset', 'app-reset', 'app-short', 'app-short'].map((id) => `applications/${id}/logs`));
    expect(hsTempFolders().filter((n) => !before.has(n))).toEqual([]);
  });

  it('cancelled while logs trickle in: the run ends with the reason at once and every temp folder is gone', async () => {
    const ids = ['app-1', 'app-2', 'app-3', 'app-4', 'app-5', 'app-6'];
    const before = new Set(hsTempFolders());
    let started = 0;
    let allStarted!: () => void;
    const downloading = new Promise<void>((resolve) => (allStarted = resolve));
    server = await startFakeServer({
      applications: { json: listing(ids) },
      ...Object.fromEntries(
        ids.map((id) => [
          `applications/${id}/logs`,
          (_req: unknown, res: ServerResponse) => {
            res.writeHead(200, { 'content-length': 10_000_000 });
            // A first piece, flushed, and then nothing more: the download is under way.
            res.write(Buffer.alloc(1024 * 1024), () => {
              if (++started === ids.length) allStarted();
            });
          },
        ]),
      ),
    });
    const controller = new AbortController();
    const run = collectHistoryServerAll({ url: server.url, mode: 'eventlog', concurrency: ids.length }, { signal: controller.signal });
    run.catch(() => undefined);
    await downloading;
    // Each download has its folder now.
    expect(hsTempFolders().filter((n) => !before.has(n))).toHaveLength(ids.length);
    const t0 = performance.now();
    controller.abort(new Error('cancelled by the test'));
    await expect(run).rejects.toThrow('cancelled by the test');
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(hsTempFolders().filter((n) => !before.has(n))).toEqual([]);
  });
});

const T0 = Date.UTC(2025, 4, 1, 12);
const APPS: SyntheticApp[] = ['app-a', 'app-b', 'app-c'].map((id, i) => ({ id, startMs: T0 + i * 1000, endMs: T0 + i * 1000 + 500, executors: [{ id: '1', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 4 }] }));

describe('answers over the limit (mode api)', () => {
  it('an endless stage list is a problem of its app naming the URL, the limit and the setting; asked for once; the others are stored', async () => {
    let stagesAsked = 0;
    server = await startFakeServer({
      applications: { json: syntheticListing(APPS) },
      ...syntheticRoutes(APPS),
      // An endless stage list, without a length: read entry by entry until what it keeps passes its
      // share of the limit (a quarter), then dropped.
      'applications/app-b/stages': (_req, res) => {
        stagesAsked++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('[');
        const piece = `${'{"status":"COMPLETE","stageId":1},'.repeat(2000)}`;
        const more = (): void => {
          while (!res.destroyed && res.write(piece));
          if (!res.destroyed) res.once('drain', more);
        };
        more();
      },
    });
    const t0 = performance.now();
    const r = await collectHistoryServerAll({ url: server.url, maxResponseBytes: 1024 * 1024 });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.apps.map((a) => a.record.app_id).sort()).toEqual(['app-a', 'app-c']);
    expect(r.problems).toEqual([
      {
        severity: 'error',
        code: 'rest-invalid',
        message: expect.stringMatching(
          new RegExp(
            `^app-b: applications/app-b/stages: the answer holds more than 256 KB of values we keep \\(a quarter of the 1 MB limit\\) in its first [\\d,]+ entries, so it was not read \\(${server.url.replace(/\./g, '\\.')}/api/v1/applications/app-b/stages\\); raise max_response_mb \\(config\\) or --max-response-mb \\(CLI\\) to read it$`,
          ),
        ) as string,
        file: `${server.url}/api/v1/applications/app-b`,
      },
    ]);
    expect(stagesAsked).toBe(1);
  });

  it('a listing over the limit ends the listing with one problem that says so', async () => {
    server = await startFakeServer({
      applications: (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': 5 * 1024 * 1024 });
        res.end(Buffer.alloc(5 * 1024 * 1024, 0x20));
      },
    });
    const r = await collectHistoryServerAll({ url: server.url, maxResponseBytes: 1024 * 1024 });
    expect(r.apps).toEqual([]);
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([
      ['list-failed', `listing applications failed: applications?status=completed&limit=500: the answer is larger than the 1 MB limit, so it was not read (${server.url}/api/v1/applications?status=completed&limit=500); raise max_response_mb (config) or --max-response-mb (CLI) to read it`],
    ]);
    expect(server.requests).toHaveLength(1);
  });
});

describe('a server that trickles', () => {
  it('an answer that comes a byte at a time is abandoned at the timeout, retried, and given up on: a problem of its app', async () => {
    const timers = new Set<NodeJS.Timeout>();
    server = await startFakeServer({
      applications: { json: syntheticListing(APPS.slice(0, 2)) },
      ...syntheticRoutes(APPS.slice(0, 2)),
      'applications/app-b/environment': (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const body = JSON.stringify({ sparkProperties: [] });
        let i = 0;
        const t = setInterval(() => {
          if (res.destroyed || i >= body.length) {
            clearInterval(t);
            if (!res.destroyed) res.end();
            return;
          }
          res.write(body[i++]);
        }, 40);
        timers.add(t);
      },
    });
    try {
      const t0 = performance.now();
      const r = await collectHistoryServerAll({ url: server.url, timeoutMs: 300, maxAttempts: 2, backoffMs: 1, maxDelayMs: 2 });
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(r.apps.map((a) => a.record.app_id)).toEqual(['app-a']);
      expect(r.problems.map((p) => p.message)).toEqual(['app-b: applications/app-b/environment: timed out after 300 ms (gave up after 2 attempts)']);
      expect(server.requests.filter((q) => q === 'applications/app-b/environment')).toHaveLength(2);
    } finally {
      for (const t of timers) clearInterval(t);
    }
  });
});

describe('a server that redirects', () => {
  const NOT_FOLLOWED = 'not followed: requests, and their credentials, go only to the configured URL, so if the API moved, configure the new address';

  it('the error names where it points and why it is not followed; the target is never asked, nothing is retried', async () => {
    const targetHits: string[] = [];
    const target = await listenLocal((req, res) => {
      targetHits.push(req.url ?? '');
      res.end('[]');
    });
    const seen: string[] = [];
    const source = await listenLocal((req, res) => {
      seen.push(req.url ?? '');
      const to: Record<string, string | undefined> = {
        '/a': `${target.url}/api/v1/applications`,
        // Relative, resolved against the request; a query (maybe a signed token) and credentials are not shown.
        '/api/v1/b': '../login?ticket=SECRET#x',
        '/c': target.url.replace('http://', 'http://user:pw@') + '/x?sig=SECRET',
        '/d': undefined,
      };
      res.writeHead(req.url === '/d' ? 307 : 302, to[req.url ?? ''] === undefined ? {} : { location: to[req.url ?? '']! });
      res.end('moved');
    });
    const client = new JsonClient({ baseUrl: source.url, auth: { type: 'bearer', token: 'tok-123456' }, backoffMs: 1, maxDelayMs: 2 });
    try {
      const fail = (p: string): Promise<HttpError> => client.getJson(p, z.unknown()).then(() => Promise.reject(new Error('expected a failure')), (e: HttpError) => e);
      const a = await fail('a');
      expect(a).toBeInstanceOf(HttpError);
      expect(a).toMatchObject({ status: 302, attempts: 1, message: `a: HTTP 302 (a redirect to ${target.url}/api/v1/applications; ${NOT_FOLLOWED})` });
      expect((await fail('api/v1/b')).message).toBe(`api/v1/b: HTTP 302 (a redirect to ${source.url}/api/login?…; ${NOT_FOLLOWED})`);
      const c = (await fail('c')).message;
      expect(c).toBe(`c: HTTP 302 (a redirect to ${target.url}/x?…; ${NOT_FOLLOWED})`);
      expect(c).not.toContain('SECRET');
      expect(c).not.toContain('pw');
      expect((await fail('d')).message).toBe('d: HTTP 307 (a redirect without a Location; redirects are not followed)');
      expect(seen).toEqual(['/a', '/api/v1/b', '/c', '/d']);
      expect(targetHits).toEqual([]);
    } finally {
      await client.close();
      await Promise.all([source.close(), target.close()]);
    }
  });

  it('a History Server behind a login redirect: one problem naming the login page', async () => {
    server = await startFakeServer({
      applications: (_req, res) => {
        res.writeHead(302, { location: 'https://sso.example.invalid/login?service=history' });
        res.end();
      },
    });
    const r = await collectHistoryServerAll({ url: server.url });
    expect(r.problems.map((p) => [p.code, p.message])).toEqual([['list-failed', `listing applications failed: applications?status=completed&limit=500: HTTP 302 (a redirect to https://sso.example.invalid/login?…; ${NOT_FOLLOWED})`]]);
    expect(server.requests).toHaveLength(1);
  });
});

