/**
 * The editor's event-log diagnostics find what `validate` finds in the same file (a review: they
 * were given only the file's name and its folder's names, so an in-progress rolling log, a Spark
 * 1.x folder's version and the line limit were known to validate and collect, not to the editor).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { Finding } from '../src/analysis/findings';
import { main } from '../src/cli/main';
import { DiagnosticsController } from '../src/views/diagnostics';
import type { AnalysisRequest } from '../src/worker/analyzeProtocol';
import { isAnalysisMessage } from '../src/worker/analyzeProtocol';
// The worker's own message handler, on the port mocked below.
import '../src/worker/analyzeWorker';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';
import { diagnosticsPublished as published, documentOpened, setConfiguration } from './support/vscodeFake';

/** The analysis worker's port, for its real message handler (analyzeWorker.ts) run on this thread. */
const port = vi.hoisted(() => ({ handler: undefined as undefined | ((m: unknown) => void), replies: [] as ((m: unknown) => void)[] }));
vi.mock('node:worker_threads', () => ({
  parentPort: {
    on: (_event: string, h: (m: unknown) => void) => void (port.handler = h),
    postMessage: (m: unknown) => port.replies.shift()!(m),
  },
}));


/** AnalysisWorker's side: each request handed to the worker's own handler, answered by its reply. */
const worker = {
  analyze: (r: AnalysisRequest): Promise<Finding[]> =>
    new Promise((resolve, reject) => {
      port.replies.push((m) => {
        const reply = m as { findings?: Finding[]; error?: string };
        if (reply.error !== undefined) reject(new Error(reply.error));
        else resolve(reply.findings!);
      });
      port.handler!({ id: 1, ...r });
    }),
} as never;

const log = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined } as never;

/** Opens `file` in the fake editor as VS Code would (an event-log document) and waits for its diagnostics. */
async function editorFindings(file: string): Promise<[number, number, string][]> {
  const controller = new DiagnosticsController(worker, log);
  published.delete(file);
  const text = readFileSync(file, 'utf8');
  documentOpened.fire({ uri: { scheme: 'file', fsPath: file, toString: () => `file://${file}` }, fileName: file, languageId: 'spark-eventlog', version: 1, isClosed: false, getText: () => text });
  await vi.waitFor(() => expect(published.has(file)).toBe(true));
  controller.dispose();
  return published.get(file)!.map((d) => [d.range.start.line + 1, d.range.start.character + 1, String(d.code)]);
}

async function validateFindings(target: string, file: string, ...flags: string[]): Promise<[number, number, string][]> {
  const out: string[] = [];
  await main(['validate', target, '--format', 'json', '--min-severity', 'hint', ...flags], { out: (s) => out.push(s), err: () => undefined, isTTY: false, cwd: '/' });
  return out
    .map((l) => JSON.parse(l) as { file: string; line: number; column: number; code: string })
    .filter((f) => f.file === file)
    .map((f) => [f.line, f.column, f.code]);
}

const good = eventLogText({ appId: 'app-ed', stages: 1, tasksPerStage: 2 }).text.trimEnd().split('\n');

describe('the editor and validate find the same in the same file', () => {
  it('a rolling log still being written (appstatus_….inprogress)', async () => {
    const dir = path.join(tempDir(), 'eventlog_v2_app-ed');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'appstatus_app-ed.inprogress'), '');
    const file = path.join(dir, 'events_1_app-ed');
    writeFileSync(file, `${good.filter((l) => !l.includes('SparkListenerApplicationEnd')).join('\n')}\n`);
    const editor = await editorFindings(file);
    expect(editor).toEqual(await validateFindings(path.dirname(dir), file));
    expect(editor.map((f) => f[2])).toContain('missing-application-end');
    expect(published.get(file)!.find((d) => d.code === 'missing-application-end')!.severity).toBe(2);
  });

  it('a Spark 1.x folder naming its version', async () => {
    const dir = path.join(tempDir(), 'app-ed');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'SPARK_VERSION_1.2.0'), '');
    writeFileSync(path.join(dir, 'APPLICATION_COMPLETE'), '');
    const file = path.join(dir, 'EVENT_LOG_1');
    writeFileSync(file, `${good.filter((l) => !l.includes('SparkListenerLogStart')).join('\n')}\n`);
    const editor = await editorFindings(file);
    expect(editor).toEqual(await validateFindings(dir, file));
    expect(published.get(file)!.find((d) => d.code === 'missing-log-start')!.message).toContain('SPARK_VERSION_1.2.0');
  });

  it('a line over the line limit (the setting, as validate takes the flag)', async () => {
    setConfiguration('sparkOptimizer', { maxLineMb: 1 });
    try {
      const dir = tempDir();
      const file = path.join(dir, 'app-ed');
      const long = `{"Event":"org.apache.spark.sql.Custom","x":"${'y'.repeat(2 ** 20 + 10)}"}`;
      writeFileSync(file, `${[...good.slice(0, 3), long, ...good.slice(3)].join('\n')}\n`);
      const editor = await editorFindings(file);
      expect(editor).toEqual(await validateFindings(file, file, '--max-line-mb', '1'));
      expect(editor).toContainEqual([4, 1, 'line-too-long']);
    } finally {
      setConfiguration('sparkOptimizer', {});
    }
  });
});

describe('the analysis worker takes the same context', () => {
  it('accepts what discovery tells and the line limit, refuses what is not', () => {
    const text = { id: 1, text: '', fileName: 'x', siblings: [], maxLineBytes: 1024, discovered: { inProgress: true, sparkVersion: '1.2.0', codec: 'lz4' } };
    expect(isAnalysisMessage(text)).toBe(true);
    expect(isAnalysisMessage({ id: 2, file: '/x', siblings: undefined, discovered: { inProgress: false } })).toBe(true);
    expect(isAnalysisMessage({ ...text, discovered: { codec: 'brotli' } })).toBe(false);
    expect(isAnalysisMessage({ ...text, discovered: { inProgress: 'yes' } })).toBe(false);
    expect(isAnalysisMessage({ ...text, maxLineBytes: -1 })).toBe(false);
  });
});
