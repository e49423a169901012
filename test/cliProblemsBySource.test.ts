/**
 * `collect`'s summary counts problems by source, as the editor's does (a review): two History Server
 * sources at one URL that both fail are two sources with problems, not one.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { tempDir } from './support/tmp';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A History Server that refuses every request (401): each source's run stops at once with one error. */
async function refusing(): Promise<string> {
  const server = createServer((_req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' });
    res.end('{"message":"no"}');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('collect counts problems by source', () => {
  it('two sources at one URL that both fail are two sources with problems', async () => {
    const url = await refusing();
    const dir = tempDir();
    const config = path.join(dir, 'spark-optimizer.yaml');
    writeFileSync(config, `sources:\n  - type: history_server\n    name: one\n    history_server_url: ${url}\n  - type: history_server\n    name: two\n    history_server_url: ${url}\n`);
    const out: string[] = [];
    const err: string[] = [];
    await main(['collect', '--config', config, '--db', path.join(dir, 'jobs.db')], { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: dir });
    const summary = [...out, ...err].find((l) => /\d+ new, \d+ updated/.test(l));
    expect(summary, [...out, ...err].join('\n')).toMatch(/, 2 sources with problems/);
  });
});
