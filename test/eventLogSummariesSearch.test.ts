/**
 * The byte path's shortcuts of issue 15's throughput work (replay.ts, summaries.ts) against the
 * JSON.parse path: keys searched back from a line's end skip by Horspool's rule (they must not skip
 * the real key among look-alikes), the task-metrics scan stops once every key has its value, a task's
 * executor is first compared with the last task's, and a success's Task Info is checked in place.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit } from '../src/collectors/eventlog/readLog';
import type { AppSummaries } from '../src/collectors/record/summaries';
import { tempDir } from './support/tmp';

const T0 = 1_700_000_000_000;
const j = (v: unknown): string => JSON.stringify(v);
const appStart = j({ Event: 'SparkListenerApplicationStart', 'App Name': 'a', 'App ID': 'app-search', Timestamp: T0, User: 'u' });
const appEnd = j({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 });

async function read(text: string): Promise<{ summaries: AppSummaries | undefined; parses: number; tasks: number | undefined }> {
  const file = path.join(tempDir(), 'app-search');
  writeFileSync(file, text);
  const unit: LogUnit = { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: 'app-search', inProgress: false, compacted: false };
  const parse = vi.spyOn(JSON, 'parse');
  try {
    const result = await readUnit(unit, { source: 'test' });
    return { summaries: result.summaries, parses: parse.mock.calls.length, tasks: result.record?.total_tasks };
  } finally {
    parse.mockRestore();
  }
}

/** `lines` read as written and with a trailing space on each (so JSON.parse reads every one): equal summaries; the first read parses only the app lines and `parsedLines` more (null: not checked). */
async function samePaths(lines: readonly string[], parsedLines: number | null = 0): Promise<AppSummaries> {
  const log = (tail: string): string => `${[appStart, ...lines.map((l) => l + tail), appEnd].join('\n')}\n`;
  const bytes = await read(log(''));
  const parsed = await read(log(' '));
  if (parsedLines !== null) expect(bytes.parses).toBe(2 + parsedLines);
  expect(bytes.summaries).toBeDefined();
  expect(bytes.summaries).toEqual(parsed.summaries);
  expect(bytes.tasks).toBe(parsed.tasks);
  return bytes.summaries!;
}

/**
 * Properties full of pieces of the searched keys, of every length, so that a backward skip that is
 * one byte too long lands past the real key on some line.
 */
function lookAlikes(n: number): Record<string, string> {
  const alphabet = '"Stage IDsSubmission Time:Task Metricsnfo ';
  let seed = n + 1;
  let noise = '';
  for (let k = 0; k < n * 2; k++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    noise += alphabet[seed % alphabet.length];
  }
  return { [`Submission Tim${'e'.repeat(n % 3)} ${n}`]: `"Stage ID":"Stage IDs" ime": "Task Metrics" ${noise}`, x: noise.slice(0, n % 7) };
}

function stageInfo(id: number, extra: object): object {
  return { 'Stage ID': id, 'Stage Attempt ID': 0, 'Stage Name': `stage ${id}`, 'Number of Tasks': 1, 'RDD Info': [], 'Parent IDs': [], Details: 'Submission Time":', ...extra, Accumulables: [{ ID: 1, Name: 'Submission Tim', Value: '"Submission Time":' }] };
}

function taskEnd(executor: string, metrics: object, stage = 1): string {
  return j({
    Event: 'SparkListenerTaskEnd',
    'Stage ID': stage,
    'Stage Attempt ID': 0,
    'Task Type': 'ResultTask',
    'Task End Reason': { Reason: 'Success' },
    'Task Info': { 'Task ID': 1, Index: 0, Attempt: 0, 'Launch Time': T0 + 10, 'Executor ID': executor, Host: 'h', Locality: 'ANY', Speculative: false, 'Getting Result Time': 0, 'Finish Time': T0 + 20 + executor.length, Failed: false, Accumulables: [] },
    'Task Metrics': metrics,
  });
}

const allMetrics = (k: number): Record<string, unknown> => ({
  'Executor Run Time': k,
  'Executor CPU Time': k * 2,
  'Peak Execution Memory': k * 3,
  'JVM GC Time': k,
  'Memory Bytes Spilled': k,
  'Disk Bytes Spilled': k,
  'Shuffle Read Metrics': { 'Remote Bytes Read': k, 'Local Bytes Read': k },
  'Shuffle Write Metrics': { 'Shuffle Bytes Written': k },
  'Input Metrics': { 'Bytes Read': k },
  'Output Metrics': { 'Bytes Written': k, 'Records Written': 1 },
});

describe('issue 15 byte-path shortcuts agree with JSON.parse', () => {
  it('keys searched back from the end: Submission Time and Stage IDs among look-alikes in Properties, at every offset', async () => {
    const lines: string[] = [];
    for (let n = 0; n < 120; n++) {
      const props = lookAlikes(n);
      lines.push(j({ Event: 'SparkListenerJobStart', 'Job ID': n, 'Submission Time': T0, 'Stage Infos': [stageInfo(n, {}), stageInfo(100 + n, {})], 'Stage IDs': [n, 100 + n], Properties: props }));
      lines.push(j({ Event: 'SparkListenerStageSubmitted', 'Stage Info': stageInfo(n, { 'Submission Time': T0 + n }), Properties: props }));
      lines.push(j({ Event: 'SparkListenerStageCompleted', 'Stage Info': stageInfo(n, { 'Submission Time': T0 + n, 'Completion Time': T0 + 2 * n + 1 }) }));
      // No Submission Time at all (Spark 1.x submitted stages): the search back finds none.
      lines.push(j({ Event: 'SparkListenerStageSubmitted', 'Stage Info': stageInfo(200 + n, {}), Properties: props }));
    }
    const summaries = await samePaths(lines);
    expect(summaries.stages.find((s) => s.stage_id === 119)?.submission_time).toBe(new Date(T0 + 119).toISOString());
    expect(summaries.stages.some((s) => s.stage_id === 219)).toBe(true);
    // Only in a job's Stage Infos: skipped, named by them (their Details and the Properties spell keys too).
    expect(summaries.stages.find((s) => s.stage_id === 199)).toMatchObject({ status: 'skipped', name: 'stage 199' });
  });

  it('the metrics scan stops once every key is read: look-alike keys after them (Updated Blocks) change nothing', async () => {
    const updated = { 'Updated Blocks': [{ 'Block ID': 'rdd_1_1', Status: { 'Bytes Read': 999, 'JVM GC Time': 999, 'Executor Run Time': 999 } }] };
    const summaries = await samePaths([taskEnd('1', { ...allMetrics(5), ...updated }), taskEnd('1', { ...allMetrics(7), 'Executor Run Time': 8, ...updated }), taskEnd('2', allMetrics(1))]);
    const stage = summaries.stages.find((s) => s.stage_id === 1)!;
    expect(stage.executor_run_time_ms).toBe(5 + 8 + 1);
  });

  it('the last task’s executor is reused only for the same id bytes (prefixes, lengths, escapes)', async () => {
    const ids = ['1', '1', '10', '1', '01', '10', 'ex"1', 'ex"1', 'ex', 'driver', 'driver', '1'];
    // An id with an escape goes to JSON.parse (two lines).
    const summaries = await samePaths(ids.map((id, k) => taskEnd(id, allMetrics(k + 1))), 2);
    const byId = Object.fromEntries(summaries.executors.map((e) => [e.executor_id, e.total_tasks]));
    expect(byId).toEqual({ '1': 4, '10': 2, '01': 1, 'ex"1': 2, ex: 1 });
  });

  it('a success whose Task Info is not right after its reason is read as before (from bytes or parsed, the same)', async () => {
    const odd = j({ Event: 'SparkListenerTaskEnd', 'Stage ID': 2, 'Stage Attempt ID': 0, 'Task Type': 'ResultTask', 'Task End Reason': { Reason: 'Success' }, Extra: 1, 'Task Info': { 'Launch Time': T0, 'Executor ID': '3', 'Finish Time': T0 + 9 }, 'Task Metrics': allMetrics(2) });
    const summaries = await samePaths([taskEnd('3', allMetrics(1), 2), odd], null);
    expect(summaries.stages.find((s) => s.stage_id === 2)?.num_tasks).toBe(2);
  });
});
