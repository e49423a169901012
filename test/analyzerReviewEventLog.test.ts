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
