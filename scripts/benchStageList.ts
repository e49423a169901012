/**
 * A History Server application whose `/stages` answer is hundreds of MB (test/support/
 * stageListAnswer.ts: Spark 3.5-sized stage entries of ~3 KB), collected with the default limits
 * (max_response_mb 256) and no task summaries: wall time and peak RSS of the collecting process.
 * The server runs in a process of its own with the whole answer built beforehand, so that neither
 * its making nor its memory is measured.
 *
 *   npx esbuild scripts/benchStageList.ts --bundle --platform=node --outfile=out/benchStageList.js
 *   node out/benchStageList.js 65000 98000 160000 210000
 *
 * (65,000 stages is a 200 MB answer, 98,000 300 MB, 160,000 494 MB, 210,000 648 MB.)
 */
import { spawn } from 'node:child_process';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { syntheticListing } from '../test/support/historyServerFake';
import { stageEntry } from '../test/support/stageListAnswer';

/** `--serve N`: answers one application whose /stages has N entries; prints the port. */
function serve(count: number): void {
  const pieces: Buffer[] = [];
  for (let at = 0; at < count; at += 10_000) {
    const parts: string[] = [];
    for (let i = at; i < Math.min(count, at + 10_000); i++) parts.push((i === 0 ? '[' : ',') + JSON.stringify(stageEntry(i)));
    pieces.push(Buffer.from(parts.join('')));
  }
  pieces.push(Buffer.from(count === 0 ? '[]' : ']'));
  const stages = Buffer.concat(pieces);
  const listing = JSON.stringify(syntheticListing([{ id: 'app-big', startMs: Date.UTC(2024, 5, 1), endMs: Date.UTC(2024, 5, 2), executors: [], stages: [] }]));
  const json = (res: ServerResponse, body: string | Buffer): void => {
    res.writeHead(200, { 'content-type': 'application/json' });
    if (typeof body === 'string') {
      res.end(body);
      return;
    }
    let at = 0;
    const more = (): void => {
      while (at < body.length && !res.destroyed) {
        const end = Math.min(body.length, at + 1024 * 1024);
        const ok = res.write(body.subarray(at, end));
        at = end;
        if (!ok) {
          res.once('drain', more);
          return;
        }
      }
      if (!res.destroyed) res.end();
    };
    more();
  };
  const server = createServer((req, res) => {
    const p = (req.url ?? '').replace(/^\/api\/v1\//, '').split('?')[0]!;
    if (p === 'applications') json(res, listing);
    else if (p.endsWith('/stages')) json(res, stages);
    else if (p.endsWith('/environment')) json(res, JSON.stringify({ sparkProperties: [['spark.executor.cores', '4']] }));
    else if (p.endsWith('/allexecutors')) json(res, JSON.stringify([{ id: '1', totalCores: 4, hostPort: 'h:1' }]));
    else if (p.endsWith('/jobs')) json(res, '[]');
    else {
      res.writeHead(404);
      res.end();
    }
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: (server.address() as AddressInfo).port, bytes: stages.length })));
}

/** `--collect PORT`: one collection, then its time, what it found and the process's peak RSS. */
async function collect(port: number): Promise<void> {
  const t0 = performance.now();
  const r = await collectHistoryServerAll({ url: `http://127.0.0.1:${port}`, maxTaskSummaries: 0 });
  const app = r.apps[0];
  console.log(JSON.stringify({ ms: Math.round(performance.now() - t0), peakMB: Math.round(process.resourceUsage().maxRSS / 1024), stages: app?.summaries?.stages.length ?? null, problems: r.problems.map((p) => p.message) }));
}

function child(args: string[], untilLine: boolean): Promise<{ line: string; kill: () => void }> {
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [process.argv[1]!, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (untilLine && out.includes('\n')) resolve({ line: out.trim(), kill: () => c.kill() });
    });
    c.on('error', reject);
    c.on('exit', () => resolve({ line: out.trim(), kill: () => undefined }));
  });
}

async function main(): Promise<void> {
  const [mode, arg] = process.argv.slice(2);
  if (mode === '--serve') return serve(Number(arg));
  if (mode === '--collect') return collect(Number(arg));
  for (const count of process.argv.slice(2).map(Number)) {
    const server = await child(['--serve', String(count)], true);
    const { port, bytes } = JSON.parse(server.line) as { port: number; bytes: number };
    try {
      const { line } = await child(['--collect', String(port)], false);
      console.log(`${count} stages, ${(bytes / 1e6).toFixed(0)} MB: ${line}`);
    } finally {
      server.kill();
    }
  }
}

void main();
