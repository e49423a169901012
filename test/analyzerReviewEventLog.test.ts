/**
 * A review of the event-log analyzer against collection's engine (README: one code, one message and
 * the same 1-based line and column everywhere): each message says what collection really does.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyzeEventLogFile } from '../src/analysis/eventLogAnalyzer';
import { collectAll } from '../src/collectors/eventlog/collect';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const good = eventLogText({ appId: 'app-review', stages: 2, tasksPerStage: 3 }).text.trimEnd().split('\n');

/** A log of `lines` in a folder of its own, read by both: collection's record and problems, the analyzer's findings. */
async function both(lines: string[], name = 'app-review'): Promise<{ record: Awaited<ReturnType<typeof collectAll>>['apps'][number]; findings: Awaited<ReturnType<typeof analyzeEventLogFile>> }> {
  const dir = tempDir();
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { apps } = await collectAll({ path: dir });
  return { record: apps[0]!, findings: await analyzeEventLogFile(file) };
}

describe('messages that say what collection does', () => {
  it('a task that ends in Success but says Failed counts as succeeded, and the message says so', async () => {
    const at = good.findIndex((l) => l.includes('"Event":"SparkListenerTaskEnd"') && l.includes('"Reason":"Success"'));
    const lines = good.map((l, i) => (i === at ? l.replace('"Failed":false', '"Failed":true') : l));
    expect(lines[at]).toContain('"Failed":true');
    const { record, findings } = await both(lines);
    expect(record.record.failed_tasks).toBe(0);
    const found = findings.filter((f) => f.code === 'inconsistent-task');
    expect(found.map((f) => f.range.start.line)).toEqual([at]);
    expect(found[0]!.message).not.toMatch(/counts it as failed/);
    expect(found[0]!.message).toMatch(/as succeeded/);
  });
});

describe('validate gives collection its own problems, on the same lines, in the same words', () => {
  const T = 1_430_917_380_000;
  const ev = (o: Record<string, unknown>): string => JSON.stringify(o);
  /** One log with a defect of each kind the reviewer found reported by one of the two only. */
  function defects(): { lines: string[]; fast: number[] } {
    const lines = [...good];
    const at = (event: string): number => lines.findIndex((l) => l.includes(`"Event":"${event}"`));
    const start = at('SparkListenerApplicationStart');
    lines.splice(start + 1, 0,
      ev({ Event: 'SparkListenerExecutorAdded', Timestamp: T, 'Executor Info': { Host: 'h', 'Total Cores': 2 } }), // missing-key
      ev({ Event: 'SparkListenerExecutorAdded', Timestamp: T, 'Executor ID': '9', 'Executor Info': { Host: 'h', 'Total Cores': 'four' } }), // invalid-value
      ev({ Event: 'SparkListenerBlockManagerAdded', 'Block Manager ID': { Host: 'h' } }), // missing-key
      ev({ Event: 'SparkListenerStageCompleted', 'Stage Info': { 'Stage Name': 'x' } }), // missing-key
      ev({ Event: 5 }), // an unknown event type to both, not a line without Event
      '{"Event":"SparkListenerTaskStart","Stage ID":0 "Task Info":{}}', // malformed, read from its first bytes
      '{"Event":"com.acme.Custom",broken}', // malformed, skipped unparsed
      '{"Event":"SparkListenerBlockManagerAdded","x":[1,2}', // malformed, parsed: skipped
    );
    const fast = [start + 6, start + 7];
    // An application end before its start, with a Timestamp that is not a time on another line.
    const end = lines.findIndex((l) => l.includes('"Event":"SparkListenerApplicationEnd"'));
    lines[end] = ev({ Event: 'SparkListenerApplicationEnd', Timestamp: 1 });
    lines.splice(end, 0, ev({ Event: 'SparkListenerApplicationEnd', Timestamp: 'soon' }));
    // A negative metric: Spark's unknown, which collection leaves out without a problem.
    const task = lines.findIndex((l) => l.includes('"Event":"SparkListenerTaskEnd"'));
    lines[task] = lines[task]!.replace(/"Memory Bytes Spilled":\d+/, '"Memory Bytes Spilled":-7');
    return { lines, fast };
  }

  it('every problem collect reports, validate reports with the same code, line and message', async () => {
    const { lines, fast } = defects();
    const dir = tempDir();
    const file = path.join(dir, 'app-review');
    // Bytes that are not UTF-8 in the application start's user.
    const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
    const user = text.indexOf('"User":"') + 8;
    text[user] = 0xff;
    writeFileSync(file, text);
    const { apps, problems } = await collectAll({ path: dir });
    const collected = [...problems, ...apps.flatMap((a) => a.problems)].map((p) => `${p.line ?? 1} ${p.code} ${p.message}`);
    const findings = await analyzeEventLogFile(file);
    const validated = findings.map((f) => `${f.range.start.line + 1} ${f.code} ${f.message}`);
    expect(collected).toHaveLength(8);
    for (const c of collected) expect(validated).toContain(c);
    expect(new Set(collected.map((c) => c.split(' ')[1]))).toEqual(new Set(['missing-key', 'invalid-value', 'invalid-utf8', 'malformed-json', 'time-order']));
    // What validate adds of its own is none of collection's codes but the malformed lines collection reads without parsing,
    // whose message says so; a negative metric is information, not an error; {"Event":5} is an unknown event.
    const extra = findings.filter((f) => !collected.includes(`${f.range.start.line + 1} ${f.code} ${f.message}`));
    expect(extra.filter((f) => f.code === 'malformed-json').map((f) => f.range.start.line)).toEqual(fast);
    for (const f of extra.filter((x) => x.code === 'malformed-json')) expect(f.message).not.toMatch(/skips/);
    expect(extra.filter((f) => ['missing-key', 'invalid-value', 'invalid-utf8', 'time-order', 'missing-event', 'end-before-start'].includes(f.code))).toEqual([]);
    expect(findings.filter((f) => f.code === 'negative-metric').map((f) => f.severity)).toEqual(['information']);
    expect(findings.some((f) => f.code === 'unknown-event' && f.message.includes('type 5'))).toBe(true);
  });
});
