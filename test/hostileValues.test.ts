/**
 * Issue 13: values no real Spark writes, each in a small log made here. Item 5: a property nested
 * 100,000 levels deep is a problem on its line, and the lines after it are still read.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LogUnit } from '../src/collectors/eventlog/discovery';
import { readUnit } from '../src/collectors/eventlog/readLog';
import type { Problem, SparkAppRecord } from '../src/collectors/record';
import { tempDir } from './support/tmp';

const T0 = Date.UTC(2024, 5, 1);
const j = (o: object): string => JSON.stringify(o);
/**
 * The same event with a space after each key's colon: not the compact form the byte reader takes, so
 * JSON.parse reads it. Done on the text, so numbers keep their digits (JSON.stringify would write a
 * 400-digit number as null).
 */
const spaced = (line: string): string => line.replaceAll('":', '": ');

const appStart = (timestamp: unknown = T0): string => j({ Event: 'SparkListenerApplicationStart', 'App Name': 'hostile', 'App ID': 'app-1', Timestamp: timestamp, User: 'ann' });
const appEnd = (timestamp: unknown = T0 + 60_000): string => j({ Event: 'SparkListenerApplicationEnd', Timestamp: timestamp });
const env = (props: Record<string, unknown>): string => j({ Event: 'SparkListenerEnvironmentUpdate', 'JVM Information': {}, 'Spark Properties': props, 'System Properties': {}, 'Classpath Entries': {} });
const executorAdded = (id: string, cores: unknown): string => j({ Event: 'SparkListenerExecutorAdded', Timestamp: T0, 'Executor ID': id, 'Executor Info': { Host: 'h', 'Total Cores': cores } });
/** A Spark 3.x task end in JsonProtocol's field order (the byte reader's shape), with `raw` spliced in as the text of one metric. */
function taskEnd(id: number, raw: Partial<Record<'cpu' | 'input', string>> = {}): string {
  const metrics = `{"Executor Deserialize Time":1,"Executor Run Time":20,"Executor CPU Time":${raw.cpu ?? '3000000'},"Result Size":900,"JVM GC Time":0,"Memory Bytes Spilled":0,"Disk Bytes Spilled":0,"Shuffle Read Metrics":{"Remote Blocks Fetched":0,"Local Blocks Fetched":0,"Remote Bytes Read":10,"Local Bytes Read":5,"Total Records Read":1},"Shuffle Write Metrics":{"Shuffle Bytes Written":7,"Shuffle Write Time":1,"Shuffle Records Written":1},"Input Metrics":{"Bytes Read":${raw.input ?? '100'},"Records Read":1},"Output Metrics":{"Bytes Written":0,"Records Written":0}}`;
  return `{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Type":"ResultTask","Task End Reason":{"Reason":"Success"},"Task Info":{"Task ID":${id},"Executor ID":"1","Failed":false},"Task Metrics":${metrics}}`;
}

function unitOf(file: string): LogUnit {
  return { layout: 'single', path: file, files: [{ path: file, codec: 'none', size: 0, mtimeMs: 0 }], appIdHint: path.basename(file), inProgress: false, compacted: false };
}

async function readLines(lines: string[]): Promise<{ record: SparkAppRecord; problems: Problem[]; file: string }> {
  const file = path.join(tempDir(), 'app-1');
  writeFileSync(file, `${lines.join('\n')}\n`);
  const { record, problems } = await readUnit(unitOf(file), { source: 'test' });
  expect(record).not.toBeNull();
  return { record: record!, problems, file };
}

describe('a property value nested 100,000 levels deep (item 5)', () => {
  // Written as text: JSON.stringify of such a value overflows the stack too.
  const DEEP = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
  const PLACEHOLDER = '"@deep@"';

  it.each([
    ['byte reader', (l: string): string => l],
    ['parsed path', spaced],
  ])('%s: a problem on its line, the other properties kept, and every line after it read', async (_path, shape) => {
    const nested = shape(env({ 'spark.executor.memory': '3g', 'spark.evil': '@deep@' })).replace(PLACEHOLDER, DEEP);
    const { record, problems, file } = await readLines([appStart(), nested, executorAdded('1', 2), taskEnd(1), taskEnd(2), appEnd()]);
    expect(record).toMatchObject({ status: 'completed', total_tasks: 2, num_executors: 1, executor_memory_mb: 3072, end_time: new Date(T0 + 60_000).toISOString() });
    expect(record.environment).toEqual({ 'spark.executor.memory': '3g' });
    expect(problems).toEqual([expect.objectContaining({ severity: 'warning', code: 'bad-property', file, line: 2 })]);
    expect(problems[0]!.message).toContain('spark.evil');
  });

  it('as an old log’s [key, value] pair, too', async () => {
    const pairs = env([['spark.driver.memory', '512m'], ['spark.evil', '@deep@']] as unknown as Record<string, unknown>).replace(PLACEHOLDER, DEEP);
    const { record, problems } = await readLines([appStart(), pairs, taskEnd(1), appEnd()]);
    expect(record).toMatchObject({ driver_memory_mb: 512, total_tasks: 1, status: 'completed' });
    expect(problems.map((p) => [p.code, p.line])).toEqual([['bad-property', 2]]);
  });
});
