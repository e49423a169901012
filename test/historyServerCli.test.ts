/**
 * `spark-optimizer collect --source history-server` end to end: the built CLI (dist/cli.js, from
 * `npm run build`) against a History Server played by a real HTTP server on 127.0.0.1.
 * The CLI runs as a child process without blocking this process, which serves it.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { startFakeServer, syntheticListing, syntheticRoutes, type FakeServer, type Route, type SyntheticApp } from './support/historyServerFake';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '..', 'dist', 'cli.js');

function run(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env }, cwd }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const T0 = Date.UTC(2025, 4, 1, 12, 0, 0);
const APPS: SyntheticApp[] = [
  { id: 'app-a', name: 'Daily', user: 'etl', startMs: T0, endMs: T0 + 5000, properties: { 'spark.executor.memory': '4g' }, executors: [{ id: 'driver', cores: 0 }, { id: '1', cores: 2 }], stages: [{ id: 0, status: 'COMPLETE', complete: 8, input: 4096 }] },
  { id: 'app-b', name: 'Hourly', user: 'bob', startMs: T0 + 1000, endMs: T0 + 9000, executors: [{ id: 'driver', cores: 4 }], stages: [{ id: 0, status: 'COMPLETE', complete: 2 }] },
];

const servers: FakeServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});
async function serve(extra: Record<string, Route> = {}): Promise<FakeServer> {
  const s = await startFakeServer({ applications: { json: syntheticListing(APPS) }, ...syntheticRoutes(APPS), ...extra });
  servers.push(s);
  return s;
}

describe('spark-optimizer collect --source history-server', () => {
  it('stores the attempts in the database through the same ingest path; the next run is incremental', async () => {
    const s = await serve();
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    const first = await run(['collect', '--source', 'history-server', '--url', s.url, '--db', db]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/app-a\s+-\s+Daily\s+etl\s+completed/);
    expect(first.stdout).toMatch(/2 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(stored in /);
    expect(s.requests[0]).toBe('applications?status=completed&limit=500');

    const second = await run(['collect', '--source', 'history-server', '--url', s.url, '--db', db]);
    expect(second.code).toBe(0);
    // Incremental: the second run asks only for apps that ended at/after where the first run's complete
    // listing reached, less an hour's overlap (historyServer/cursor.ts): both apps ended in that hour,
    // are fetched again and stored unchanged.
    expect(`${second.stdout}\n${second.stderr}`).toMatch(/0 new, 0 updated, 2 unchanged, 0 skipped, 0 failed/);
    expect(decodeURIComponent(s.requests.filter((r) => r.startsWith('applications?')).at(-1)!)).toMatch(/^applications\?status=completed&minEndDate=\d{4}-\d{2}-\d{2}T[\d:.]+GMT&limit=500$/);

    const jobs = await run(['jobs', '--db', db, '--format', 'json']);
    expect(jobs.code).toBe(0);
    const rows = jobs.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows.map((r) => r.app_id).sort()).toEqual(['app-a', 'app-b']);
    const newest = rows.map((r) => r.end_time as string).sort().at(-1)!;
    const from = new Date(Date.parse(newest) - 3_600_000).toISOString();
    expect(decodeURIComponent(s.requests.filter((r) => r.startsWith('applications?')).at(-1)!)).toContain(`minEndDate=${from.replace(/Z$/, 'GMT')}`);
    expect(rows.find((r) => r.app_id === 'app-a')).toMatchObject({ source: 'history_server', executor_memory_mb: 4096, input_bytes: 4096, total_tasks: 8, num_executors: 1, executor_cores: 2 });
  });

  it('--dry-run --format json prints records; --since, --status, --max-apps and --user reach the request and the filter', async () => {
    const s = await serve();
    const r = await run(['collect', '--source', 'history-server', '--url', s.url, '--dry-run', '--format', 'json', '--status', 'all', '--since', '2025-05-01T00:00:00Z', '--max-apps', '10', '--user', 'bob']);
    expect(r.code).toBe(0);
    // Status all: running applications started since, then completed ones ended since; with --user,
    // --max-apps counts bob's applications only, so the server's limit is a page, not 10.
    expect(s.requests.slice(0, 2)).toEqual(['applications?status=running&minDate=2025-05-01T00%3A00%3A00.000GMT', 'applications?status=completed&minEndDate=2025-05-01T00%3A00%3A00.000GMT&limit=500']);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.app_id)).toEqual(['app-b']);
    const { problems, ...record } = lines[0]!;
    expect(problems).toEqual([]);
    expect(sparkAppRecordSchema.strict().parse(record)).toEqual(record);
    expect(r.stderr).toMatch(/1 new, 0 updated, 0 unchanged, 1 skipped, 0 failed \(dry run, nothing stored\)/);
  });

  it('wrong credentials: exit 1, one auth problem, the password from the environment is never printed', async () => {
    const s = await serve({
      applications: (_req, res) => {
        res.writeHead(401);
        res.end();
      },
    });
    const r = await run(['collect', '--source', 'history-server', '--url', s.url, '--dry-run'], { SPARK_OPTIMIZER_HISTORY_SERVER_USERNAME: 'ann', SPARK_OPTIMIZER_HISTORY_SERVER_PASSWORD: 'Sekr1t-pw' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error auth-failed 401 Unauthorized/);
    expect(r.stderr.match(/auth-failed/g)).toHaveLength(1);
    expect(r.stdout + r.stderr).not.toContain('Sekr1t-pw');
    expect(s.authorizations[0]).toBe(`Basic ${Buffer.from('ann:Sekr1t-pw').toString('base64')}`);
  });

  it('a config source of type history_server, with the token as ${env:VAR}', async () => {
    const s = await serve();
    const dir = tempDir();
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), ['sources:', '  - name: hs', '    type: history_server', `    history_server_url: ${s.url}`, '    token: ${env:HS_TOKEN}', '    timeout: 5', '    status: all', ''].join('\n'));
    const r = await run(['collect', '--config', 'spark-optimizer.yaml', '--dry-run', '--format', 'json'], { HS_TOKEN: 'tok-123' }, dir);
    expect(r.code).toBe(0);
    expect(s.requests.slice(0, 2)).toEqual(['applications?status=running', 'applications?status=completed&limit=500']);
    expect(s.authorizations.every((a) => a === 'Bearer tok-123')).toBe(true);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.source)).toEqual(['hs', 'hs']);
    expect(r.stdout + r.stderr).not.toContain('tok-123');
  });

  it('--mode eventlog against a server that closes each connection after the body: exit 0, every app stored, the temp folder empty (issue 13, item 1)', async () => {
    // Zips of about 3 MB (a padding event of random text), whose last 512 KiB come in one burst with
    // the FIN: undici's parser was then paused by the disk when the FIN came, and the process died
    // of an AssertionError.
    const ids = ['app-1', 'app-2', 'app-3'];
    const logs = ids.map((id, i) => eventLogText({ appId: id, startMs: T0 + i * 60_000, seed: i + 1 }));
    const zips = await Promise.all(
      logs.map((l, i) => {
        const z = new ZipFile();
        z.addBuffer(Buffer.from(`${l.text}{"Event":"org.example.Padding","Data":"${randomBytes(2_300_000).toString('base64')}"}\n`), ids[i]!);
        z.end();
        const chunks: Buffer[] = [];
        return new Promise<Buffer>((resolve) => {
          z.outputStream.on('data', (c: Buffer) => chunks.push(c));
          z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
        });
      }),
    );
    const s = await serve({
      applications: { json: syntheticListing(logs.map((l, i) => ({ id: ids[i]!, startMs: l.totals.start_ms, endMs: l.totals.end_ms, executors: [], stages: [] }))) },
      ...Object.fromEntries(
        ids.map((id, i): [string, Route] => [
          `applications/${id}/logs`,
          (_req, res) => {
            res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': zips[i]!.length, connection: 'close' });
            // The last half megabyte in one burst with the FIN, once the client has caught up.
            const tail = zips[i]!.length - 512 * 1024;
            res.write(zips[i]!.subarray(0, tail), () => setTimeout(() => res.end(zips[i]!.subarray(tail)), 100));
          },
        ]),
      ),
    });
    const dir = tempDir();
    const tmp = tempDir();
    const r = await run(['collect', '--source', 'history-server', '--url', s.url, '--mode', 'eventlog', '--db', path.join(dir, 'jobs.db')], { TMPDIR: tmp });
    expect(r.stderr).not.toMatch(/AssertionError/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/3 new, 0 updated, 0 unchanged, 0 skipped, 0 failed \(stored in /);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('a missing --url is a usage error', async () => {
    const r = await run(['collect', '--source', 'history-server']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--url is required/);
  });
});
