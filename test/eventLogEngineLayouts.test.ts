/**
 * Task ends read by a layout (taskLayout.ts TaskEndLayout: the literal runs of the last lines checked in
 * place, the values between them read) against the rule every byte reader keeps: a line gives the
 * same record and summaries whichever path reads it, the bytes or JSON.parse. Each case is a log of
 * task ends that share a layout, with lines among them that differ from it in one place (a value of
 * another kind, size or spelling, a key renamed, removed or added), read as written and with a space
 * after each line (which sends every line to JSON.parse).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { readUnit } from '../src/collectors/eventlog/readLog';
import { AppReplay } from '../src/collectors/eventlog/replay';
import { LEARN_AFTER, LIBRARY_LEARNS_AFTER, TaskLayoutLibrary, TaskLayouts } from '../src/collectors/eventlog/taskLayout';
import type { SparkAppRecord } from '../src/collectors/record';
import type { AppSummaries } from '../src/collectors/record/summaries';

type Json = Record<string, unknown>;

const T0 = 1_700_000_000_000;
const j = (v: unknown): string => JSON.stringify(v);

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

interface Read {
  record: SparkAppRecord | null;
  summaries: AppSummaries;
  byLayout: number;
}

/**
 * The lines replayed from one buffer, as the engine's chunks hold them; `tail` after each (a space:
 * JSON.parse reads every line); with `layouts`, the replay shares them (as readLog.ts's attempts of one thread do).
 */
function replay(lines: readonly string[], tail: string, summaries = true, layouts?: TaskLayoutLibrary): Read {
  const r = replayer(summaries, layouts);
  lines.forEach((line) => r.feed(line, tail));
  return r.done();
}

/** A replay fed line by line, each line in a buffer of its own (so that replays fed in turn never share one). */
function replayer(summaries = true, layouts?: TaskLayoutLibrary): { feed: (line: string, tail?: string) => void; done: () => Read } {
  const r = new AppReplay({ appId: 'app-layouts', source: 'test', inProgress: false, tags: {} }, { summaries, layouts });
  r.beginFile('app-layouts');
  let lineNo = 0;
  return {
    feed: (line, tail = '') => {
      const buf = Buffer.from(`${line}${tail}\n`);
      r.line(buf, 0, buf.length - 1, ++lineNo);
    },
    done: () => {
      r.endFile();
      return { record: r.finish(), summaries: r.summaries(), byLayout: r.taskEndsByLayout };
    },
  };
}

const appStart = j({ Event: 'SparkListenerApplicationStart', 'App Name': 'layouts', 'App ID': 'app-layouts', Timestamp: T0, User: 'u' });
const appEnd = j({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 600_000 });

/**
 * LEARN_AFTER task ends first (of a stage of their own, read by the searches: no layout is learned
 * before them), so that layouts are learned from the test's own lines.
 */
const WARM_UP = Array.from({ length: LEARN_AFTER }, (_, v) => j({ ...head(99, 'ResultTask'), 'Task Info': { 'Task ID': 90_000 + v, 'Launch Time': T0, 'Executor ID': '1', 'Finish Time': T0 + 5 }, 'Task Metrics': { 'Executor Run Time': v } }));

/** Asserts the rule on `taskLines` between an application start and end (after WARM_UP), with and without summaries; the byte path's read. */
function samePaths(taskLines: readonly string[]): Read {
  const lines = [appStart, ...WARM_UP, ...taskLines, appEnd];
  const bytes = replay(lines, '');
  const parsed = replay(lines, ' ');
  expect(parsed.byLayout).toBe(0);
  expect(bytes.record).toEqual(parsed.record);
  expect(bytes.summaries).toEqual(parsed.summaries);
  expect(replay(lines, '', false).record).toEqual(parsed.record);
  return bytes;
}

/** The members a successful task end starts with (Spark 1.2-4.x), before its Task Info. */
function head(stage: number, type: string): Json {
  return { Event: 'SparkListenerTaskEnd', 'Stage ID': stage, 'Stage Attempt ID': 0, 'Task Type': type, 'Task End Reason': { Reason: 'Success' } };
}

/** Spark 1.4's task end (JsonProtocol of 1.4: no CPU time, empty groups left out, Task Info's Accumulables empty). */
function spark14(v: number, stage = 1): Json {
  return {
    ...head(stage, 'ShuffleMapTask'),
    'Task Info': { 'Task ID': v, Index: v, Attempt: 0, 'Launch Time': T0 + v * 10, 'Executor ID': 'driver', Host: 'localhost', Locality: 'PROCESS_LOCAL', Speculative: false, 'Getting Result Time': 0, 'Finish Time': T0 + v * 10 + 400 + (v % 7) * 1000, Failed: false, Accumulables: [] },
    'Task Metrics': {
      'Host Name': 'localhost',
      'Executor Deserialize Time': 30 + v,
      'Executor Run Time': 350 * v,
      'Result Size': 2010,
      'JVM GC Time': v % 3,
      'Result Serialization Time': 1,
      'Memory Bytes Spilled': 0,
      'Disk Bytes Spilled': v * 7,
      'Shuffle Write Metrics': { 'Shuffle Bytes Written': 1710 * v, 'Shuffle Write Time': 3675510 + v, 'Shuffle Records Written': 10 },
      'Input Metrics': { 'Data Read Method': 'Hadoop', 'Bytes Read': 60488 * v, 'Records Read': 10000 },
    },
  };
}

/** Spark 3.x's task end: Accumulables in Task Info, Task Executor Metrics, every metric (the reader stops after the last wanted one). */
function spark3(v: number, stage = 2): Json {
  return {
    ...head(stage, 'ResultTask'),
    'Task Info': {
      'Task ID': v,
      Index: v,
      Attempt: 0,
      'Partition ID': v,
      'Launch Time': T0 + v,
      'Executor ID': String(1 + (v % 3)),
      Host: `10.0.0.${v % 5}`,
      Locality: 'PROCESS_LOCAL',
      Speculative: false,
      'Getting Result Time': 0,
      'Finish Time': T0 + v * 3 + 50,
      Failed: false,
      Killed: false,
      Accumulables: [{ ID: v, Name: 'internal.metrics.executorRunTime', Update: v * 11, Value: v * 11, Internal: true, 'Count Failed Values': true }],
    },
    'Task Executor Metrics': { JVMHeapMemory: v * 1000, MinorGCCount: v % 4 },
    'Task Metrics': {
      'Executor Deserialize Time': 3,
      'Executor Deserialize CPU Time': 2_000_000 + v,
      'Executor Run Time': v * 11,
      'Executor CPU Time': 91_000_000 * v,
      'Peak Execution Memory': v * 1024,
      'Result Size': 2470,
      'JVM GC Time': v % 20,
      'Result Serialization Time': 4,
      'Memory Bytes Spilled': v % 2 === 0 ? 0 : 2 ** 40 + v,
      'Disk Bytes Spilled': 0,
      'Shuffle Read Metrics': { 'Remote Blocks Fetched': 1, 'Local Blocks Fetched': 2, 'Fetch Wait Time': 0, 'Remote Bytes Read': v * 5, 'Remote Bytes Read To Disk': 0, 'Local Bytes Read': v * 6, 'Total Records Read': 7 },
      'Shuffle Write Metrics': { 'Shuffle Bytes Written': v * 8, 'Shuffle Write Time': 9, 'Shuffle Records Written': 1 },
      'Input Metrics': { 'Bytes Read': v * 9, 'Records Read': 3 },
      'Output Metrics': { 'Bytes Written': v * 10, 'Records Written': 4 },
      'Updated Blocks': [{ 'Block ID': `rdd_${v}`, Status: { 'Memory Size': v } }],
    },
  };
}

/** Spark 1.0-1.1's task end: no Stage Attempt ID. */
function spark10(v: number): Json {
  const line = spark14(v, 3);
  delete line['Stage Attempt ID'];
  return line;
}

/** The integers and strings a mutation puts in place of a value, as JSON text. */
const ODD_INTEGERS = ['0', '-1', '-0', '7', '1234567890123', String(2 ** 53 - 1), String(2 ** 53 + 2), '90071992547409910', '1.5', '2e3', '3E2', '7.0e1', '-5'];
const ODD_STRINGS = ['', 'x', 'Success', 'a\\"b', '"Bytes Read":99,"x', 'h\\', '\\\\', 'é€😀', '"Task Metrics":{"Bytes Read":5}', '"Launch Time":1,"Executor ID":"9"', 'driver'];
const WORDS = ['true', 'false', 'null', '{}', '[]', '{"x":3}', '[1,2]', '"1"'];

/** Every (object, key) of `v`, depth first, in key order. */
function members(v: unknown, out: [Json, string][] = []): [Json, string][] {
  if (Array.isArray(v)) for (const e of v) members(e, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, child] of Object.entries(v as Json)) {
      if (k !== 'Event') out.push([v as Json, k]);
      members(child, out);
    }
  }
  return out;
}

/**
 * `base` with one thing changed at a random member: its value replaced (by an integer of another
 * size or kind, a string with escapes or keys spelled in it, a literal, an object or array), its key
 * renamed, the member removed, or a member added after it. Raw number texts are put in by placeholder.
 * Not made: what the byte path reads apart from JSON.parse by design whichever way it reads a line
 * (a metric key found in any group: a group renamed, or a wanted key put in another object).
 */
function mutated(base: Json, random: () => number): string {
  const copy = JSON.parse(j(base)) as Json;
  const all = members(copy);
  const [obj, key] = all[Math.floor(random() * all.length)]!;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const raw: string[] = [];
  const placeholder = (text: string): string => {
    raw.push(text);
    return `@@raw${raw.length - 1}@@`;
  };
  const kind = Math.floor(random() * 6);
  if (kind === 0) obj[key] = placeholder(pick(ODD_INTEGERS));
  else if (kind === 1) obj[key] = pick(ODD_STRINGS).replace(/\\"/g, '"').replace(/\\\\/g, '\\');
  else if (kind === 2) obj[key] = placeholder(pick(WORDS));
  else {
    // Rebuilt in order, so that a renamed or added member stays where it was.
    const entries = Object.entries(obj);
    for (const k of Object.keys(obj)) delete obj[k];
    for (const [k, v] of entries) {
      if (k !== key) obj[k] = v;
      else if (kind === 3) obj[v !== null && typeof v === 'object' ? k : `${k}x`] = v;
      else if (kind === 4) continue;
      else {
        obj[k] = v;
        obj[`Extra ${Math.floor(random() * 100)}`] = random() < 0.5 ? Math.floor(random() * 1e6) : 'extra';
      }
    }
  }
  return j(copy).replace(/"@@raw(\d+)@@"/g, (_, i: string) => raw[Number(i)]!);
}

describe('task ends read by a layout give the parsed path’s record and summaries', () => {
  const shapes: [string, (v: number) => Json][] = [
    ['Spark 1.4', (v) => spark14(v)],
    ['Spark 3.x', (v) => spark3(v)],
    ['Spark 1.0-1.1 (no attempt id)', spark10],
  ];

  it(`a log of fewer than ${LEARN_AFTER} task ends is read by the searches alone (learning would cost a small log more than it saves)`, () => {
    const lines = Array.from({ length: LEARN_AFTER - 1 }, (_, v) => j(spark14(v)));
    const r = replay([appStart, ...lines, appEnd], '');
    expect(r.byLayout).toBe(0);
    expect(r.record?.total_tasks).toBe(LEARN_AFTER - 1);
    // Past them, the task end after the LEARN_AFTER-th is learned from, and the ones after it are read by its layout.
    expect(replay([appStart, ...lines, ...lines.slice(0, 10), appEnd], '').byLayout).toBe(8);
  });

  for (const [name, make] of shapes) {
    it(`${name}: lines of one layout, values of every size, read by the layout`, () => {
      const lines = Array.from({ length: 200 }, (_, v) => j(make(v * 37 + (v % 3) * 100_001)));
      const r = samePaths(lines);
      // The first line is learned from; every other one is read by its layout.
      expect(r.byLayout).toBe(lines.length - 1);
      expect(r.record?.total_tasks).toBe(LEARN_AFTER + 200);
    });

    it(`${name}: a line that differs from the layout in one place, 600 kinds, among lines of the layout`, () => {
      const random = rng(name.length * 7919);
      const lines: string[] = [];
      for (let v = 0; v < 600; v++) {
        lines.push(j(make(v)), j(make(v + 1000)), mutated(make(v + 2000), random));
      }
      const r = samePaths(lines);
      expect(r.byLayout).toBeGreaterThan(1000);
    });
  }

  it('layouts in turn: a map stage and a result stage, then three kinds of stage', () => {
    const result = (v: number): Json => {
      const line = spark14(v, 2);
      const metrics = line['Task Metrics'] as Json;
      delete metrics['Shuffle Write Metrics'];
      delete metrics['Input Metrics'];
      metrics['Shuffle Read Metrics'] = { 'Remote Blocks Fetched': 0, 'Local Blocks Fetched': 4, 'Fetch Wait Time': 0, 'Remote Bytes Read': 0, 'Local Bytes Read': 171 * v };
      return line;
    };
    const lines: string[] = [];
    for (let v = 0; v < 50; v++) lines.push(j(spark14(v)), j(result(v)));
    for (let v = 0; v < 50; v++) lines.push(j(spark3(v)), j(result(v)), j(spark14(v)));
    const r = samePaths(lines);
    // Each part's layouts are tried in turn: only the first line of each kind is searched.
    expect(r.byLayout).toBe(lines.length - 3);
  });

  it('failures, kills and resubmissions among successes: read by layouts, as the searches read them', () => {
    const lines: string[] = [];
    const reasons: Json[] = [
      { Reason: 'TaskKilled', 'Kill Reason': 'stage cancelled' },
      { Reason: 'TaskKilled' },
      { Reason: 'Resubmitted' },
      { Reason: 'TaskCommitDenied', 'Job ID': 1, 'Partition ID': 2, 'Attempt Number': 0 },
      { Reason: 'ExceptionFailure', 'Class Name': 'E', Description: 'bad "quoted"', 'Stack Trace': [{ 'Declaring Class': 'C', 'Method Name': 'm', 'File Name': 'F.java', 'Line Number': 3 }] },
    ];
    for (let v = 0; v < 100; v++) {
      lines.push(j(spark14(v)));
      const failed = spark14(v + 500);
      failed['Task End Reason'] = reasons[v % reasons.length]!;
      lines.push(j(failed));
    }
    const r = samePaths(lines);
    expect(r.record).toMatchObject({ total_tasks: LEARN_AFTER + 200, failed_tasks: 40 });
    // A failure's head ends at its reason, whatever follows it, and its Task Info has layouts of its
    // own: only the first success and the first failure are searched.
    expect(r.byLayout).toBe(lines.length - 2);
  });

  it('Task Info’s times and executor null, then numbers: each read as the searches read them', () => {
    const lines: string[] = [];
    for (let v = 0; v < 40; v++) {
      const line = spark14(v);
      const info = line['Task Info'] as Json;
      if (v % 4 === 1) info['Launch Time'] = null;
      if (v % 4 === 2) info['Executor ID'] = null;
      if (v % 4 === 3) info['Finish Time'] = null;
      lines.push(j(line), j(line));
    }
    samePaths(lines);
  });

  it('task ends with a layout each (learning rationed, layouts tried only now and then), then ones that share one', () => {
    const own = Array.from({ length: 300 }, (_, v) => {
      const line = spark14(v);
      (line['Task Metrics'] as Json)[`Custom ${v}`] = v;
      (line['Task Info'] as Json)[`Custom ${v}`] = v;
      return j(line);
    });
    const shared = Array.from({ length: 1500 }, (_, v) => j(spark14(v)));
    const r = samePaths([...own, ...shared]);
    // The first 16 lines were learned from; the next line is learned from at the 1,024th task end,
    // and its layout read from the first line that tries it (within 64) on.
    expect(r.byLayout).toBeGreaterThanOrEqual(own.length + shared.length - 1024 - 64);
    expect(r.byLayout).toBeLessThan(shared.length);
  });

  it('metrics that are null, and metrics that are not an object', () => {
    const lines: string[] = [];
    for (let v = 0; v < 30; v++) {
      const line = spark14(v);
      line['Task Metrics'] = v % 3 === 0 ? null : v % 3 === 1 ? [] : spark14(v + 1)['Task Metrics'];
      lines.push(j(line), j(line));
    }
    samePaths(lines);
  });

  it('a layout learned from a line without Task Info’s keys does not skip them on the next lines', () => {
    // The first line's reason holds an array and its Task Info nothing: a head that jumped from that
    // array to Task Metrics would read the first line as the searches do, and the next ones without
    // their launch, finish and executor.
    const line = (v: number, info: boolean): string => {
      const task = spark3(v);
      task['Task End Reason'] = { Reason: 'Success', Notes: [v] };
      if (!info) task['Task Info'] = { Accumulables: [{ ID: 1 }] };
      return j(task);
    };
    const r = samePaths([line(0, false), ...Array.from({ length: 20 }, (_, v) => line(v + 1, true))]);
    expect(r.summaries.executors.map((e) => e.executor_id).sort()).toEqual(['1', '2', '3']);
  });
});

describe('task-end layouts shared by the logs one thread reads (TaskLayoutLibrary)', () => {
  /** A small log: an application start, `n` task ends made by `make`, an application end. */
  const small = (n: number, make: (v: number) => Json, from = 0): string[] => [appStart, ...Array.from({ length: n }, (_, v) => j(make(from + v))), appEnd];

  /** Reads `lines` with `library` and checks it against JSON.parse's path; the byte path's read. */
  const sameAsParsed = (lines: readonly string[], library: TaskLayoutLibrary, summaries = true): Read => {
    const bytes = replay(lines, '', summaries, library);
    const parsed = replay(lines, ' ', summaries);
    expect(bytes.record).toEqual(parsed.record);
    expect(bytes.summaries).toEqual(parsed.summaries);
    return bytes;
  };

  it(`a library learns only after its logs searched ${LIBRARY_LEARNS_AFTER} task ends (a command reading a few small logs pays nothing for it)`, () => {
    const library = new TaskLayoutLibrary(true);
    let searched = 0;
    let log = 0;
    for (; searched + 30 <= LIBRARY_LEARNS_AFTER; log++, searched += 30) expect(sameAsParsed(small(30, spark3, log * 100), library).byLayout).toBe(0);
    // The log that takes it past the threshold learns from its next lines, and the one after reads all of its task ends by layout.
    sameAsParsed(small(30, spark3, log++ * 100), library);
    expect(sameAsParsed(small(30, spark3, log * 100), library).byLayout).toBe(30);
  });

  // The libraries below learn from their first line (learnsAfter 0), so that each case needs only a few logs.
  it(`a log of fewer than ${LEARN_AFTER} task ends reads them by the layouts of the logs before it`, () => {
    const library = new TaskLayoutLibrary(true, 0);
    // Alone, such a log learns nothing (learning costs a small log more than it saves).
    expect(replay(small(30, spark14), '').byLayout).toBe(0);
    // The library's first logs learn from their first lines (LIBRARY_LEARNS_FREE), and the next log reads all of its task ends by their layouts.
    expect(sameAsParsed(small(30, spark14), library).byLayout).toBe(29);
    expect(sameAsParsed(small(30, spark14, 100), library).byLayout).toBe(30);
    expect(sameAsParsed(small(30, spark3), library).byLayout).toBe(29);
    expect(sameAsParsed(small(30, spark3, 100), library).byLayout).toBe(30);
    expect(sameAsParsed(small(30, spark14, 200), library).byLayout).toBe(30);
    // Without summaries the heads end at the end reason: a library of their own.
    const plain = new TaskLayoutLibrary(false, 0);
    sameAsParsed(small(30, spark3), plain, false);
    expect(sameAsParsed(small(30, spark3, 100), plain, false).byLayout).toBe(30);
    expect(() => replay(small(3, spark3), '', false, library)).toThrow(/with or without summaries/);
  });

  it('lines that differ from a shared layout in one place, 600 kinds, in small logs: as JSON.parse reads them', () => {
    for (const [name, make] of [['Spark 1.4', spark14], ['Spark 3.x', spark3], ['Spark 1.0-1.1', spark10]] as const) {
      const library = new TaskLayoutLibrary(true, 0);
      sameAsParsed(small(20, make), library);
      const random = rng(name.length * 104_729);
      let byLayout = 0;
      for (let log = 0; log < 30; log++) {
        const lines = [appStart];
        for (let v = 0; v < 20; v++) lines.push(j(make(log * 100 + v)), mutated(make(log * 100 + v + 50), random));
        lines.push(appEnd);
        byLayout += sameAsParsed(lines, library).byLayout;
      }
      expect(byLayout).toBeGreaterThan(600);
    }
  });

  it('logs read at once, their lines in turn, share layouts and read as each alone would', () => {
    const library = new TaskLayoutLibrary(true, 0);
    const failed = (v: number): Json => ({ ...spark14(v), 'Task End Reason': { Reason: 'ExceptionFailure', 'Class Name': 'E', Description: 'x', 'Stack Trace': [] } });
    const logs = [small(40, spark14), small(25, spark3), small(30, (v) => (v % 3 === 0 ? failed(v) : spark14(v))), small(12, spark10), small(40, spark3, 500)];
    const readers = logs.map(() => replayer(true, library));
    for (let i = 0; i < Math.max(...logs.map((l) => l.length)); i++) logs.forEach((lines, k) => lines[i] !== undefined && readers[k]!.feed(lines[i]!));
    const reads = readers.map((r) => r.done());
    logs.forEach((lines, k) => {
      const parsed = replay(lines, ' ');
      expect(reads[k]!.record).toEqual(parsed.record);
      expect(reads[k]!.summaries).toEqual(parsed.summaries);
    });
    expect(reads.reduce((n, r) => n + r.byLayout, 0)).toBeGreaterThan(120);
  });

  it(`readUnit: once a thread's small logs searched ${LIBRARY_LEARNS_AFTER} task ends, the next small log's are read by layouts`, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shared-layouts-'));
    try {
      const unit = (name: string, lines: readonly string[]) => {
        const file = path.join(dir, name);
        writeFileSync(file, lines.map((l) => `${l}\n`).join(''));
        return { layout: 'single' as const, path: file, files: [{ path: file, codec: 'none' as const, size: 1, mtimeMs: 0 }], appIdHint: name, inProgress: false, compacted: false };
      };
      // This thread's library may have seen other tests' logs: enough small logs to pass its threshold, and one more to learn from.
      for (let log = 0; log * 30 < LIBRARY_LEARNS_AFTER + 30; log++) await readUnit(unit(`app-${log}`, small(30, spark3, log * 100)), { source: 'test' });
      const read = vi.spyOn(TaskLayouts.prototype, 'read');
      const second = await readUnit(unit('app-last', small(30, spark3, 100_000)), { source: 'test' });
      expect(second.record?.total_tasks).toBe(30);
      expect(read.mock.results.filter((r) => r.value === true)).toHaveLength(30);
      read.mockRestore();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
