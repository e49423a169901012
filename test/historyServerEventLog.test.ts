import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ZipFile } from 'yazl';
import { collectAll } from '../src/collectors/eventlog/collect';
import { collectHistoryServerAll } from '../src/collectors/historyServer/collect';
import { eventLogText } from './support/eventLogGenerator';
import { startFakeServer, syntheticListing, type FakeServer } from './support/historyServerFake';
import { tempDir } from './support/tmp';

function zip(entries: Record<string, string>): Promise<Buffer> {
  const z = new ZipFile();
  for (const [name, text] of Object.entries(entries)) z.addBuffer(Buffer.from(text), name);
  z.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    z.outputStream.on('data', (c: Buffer) => chunks.push(c));
    z.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    z.outputStream.on('error', reject);
  });
}

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
});
