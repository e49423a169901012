/**
 * HTTPS_PROXY / HTTP_PROXY are honoured, as curl honours them (a review: collect failed with ENOTFOUND
 * where curl -x worked); NO_PROXY and this machine's own addresses are reached directly.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { build } from 'esbuild';
import * as z from 'zod';
import { oauthTokenProvider } from '../src/collectors/databricks/credentials';
import { JsonClient } from '../src/collectors/http/jsonClient';
import { tempDir } from './support/tmp';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(closers.splice(0).map((c) => c()));
});

/** A JSON server on `host`, and a CONNECT proxy that records each tunnel it opens. */
async function serverOn(host: string): Promise<string> {
  const s = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Every answer a JSON client here reads: an { ok } and an OAuth token answer alike.
    res.end('{"ok":true,"access_token":"t-1","expires_in":3600}');
  });
  await new Promise<void>((resolve) => s.listen(0, host, resolve));
  closers.push(() => new Promise((resolve) => s.close(() => resolve())));
  return `http://${host}:${(s.address() as AddressInfo).port}`;
}

async function proxy(): Promise<{ url: string; tunnels: string[] }> {
  const tunnels: string[] = [];
  const p = http.createServer();
  p.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => p.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => { p.closeAllConnections?.(); p.close(() => resolve()); }));
  return { url: `http://127.0.0.1:${(p.address() as AddressInfo).port}`, tunnels };
}

describe('a proxy named by the environment', () => {
  it('carries requests to other hosts, not to this machine or NO_PROXY', async () => {
    const { url: proxyUrl, tunnels } = await proxy();
    vi.stubEnv('HTTP_PROXY', proxyUrl);
    vi.stubEnv('NO_PROXY', '127.0.0.3');
    // 127.0.0.2 is this machine too, but not one of the addresses always reached directly: it stands for a remote host.
    for (const host of ['127.0.0.2', '127.0.0.1', '127.0.0.3']) {
      const base = await serverOn(host);
      const client = new JsonClient({ baseUrl: base, maxAttempts: 1 });
      closers.push(() => client.close());
      expect(await client.getJson('x', z.object({ ok: z.boolean() }))).toEqual({ ok: true });
    }
    expect(tunnels).toHaveLength(1);
    expect(tunnels[0]).toMatch(/^127\.0\.0\.2:\d+$/);
  });
});

describe("Databricks' OAuth token exchange", () => {
  it('goes through the proxy the environment names too (a review: it used the global dispatcher)', async () => {
    const { url: proxyUrl, tunnels } = await proxy();
    vi.stubEnv('HTTP_PROXY', proxyUrl);
    const base = await serverOn('127.0.0.2');
    const token = oauthTokenProvider({ baseUrl: base, clientId: 'id', clientSecret: 'secret', maxAttempts: 1 });
    expect(await token()).toBe('t-1');
    expect(tunnels).toEqual([expect.stringMatching(/^127\.0\.0\.2:\d+$/)]);
  });
});

describe("undici's experimental-agent warning", () => {
  it('is not printed on a proxied run, where a cron job would mail it every time (a review); other warnings are', async () => {
    const dir = tempDir();
    const entry = path.join(dir, 'entry.ts');
    writeFileSync(entry, `import { proxyFromEnv } from ${JSON.stringify(path.resolve(__dirname, '../src/collectors/http/jsonClient'))};\nproxyFromEnv();\nprocess.emitWarning('another warning', { code: 'OTHER' });\n`);
    const out = path.join(dir, 'entry.js');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'silent' });
    const run = spawnSync(process.execPath, [out], { env: { ...process.env, HTTP_PROXY: 'http://127.0.0.1:9' }, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(0);
    expect(run.stderr).not.toContain('EnvHttpProxyAgent is experimental');
    expect(run.stderr).toContain('another warning');
  });
});
