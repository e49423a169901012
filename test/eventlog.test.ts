import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { collectAll } from '../src/collectors/eventlog/collect';
import type { SparkAppRecord } from '../src/collectors/record';
import { eventLogText, type GeneratedTotals } from './support/eventLogGenerator';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from './support/sparkCompress';
import { tempDir } from './support/tmp';

function expectTotals(r: SparkAppRecord, t: GeneratedTotals): void {
  expect(r).toMatchObject({
    app_id: t.app_id,
    attempt_id: t.attempt_id,
    app_name: t.app_name,
    user: t.user,
    spark_version: t.spark_version,
    start_time: new Date(t.start_ms).toISOString(),
    end_time: t.end_ms === null ? null : new Date(t.end_ms).toISOString(),
    duration_ms: t.end_ms === null ? null : t.end_ms - t.start_ms,
    total_tasks: t.total_tasks,
    failed_tasks: t.failed_tasks,
    total_stages: t.total_stages,
    failed_stages: t.failed_stages,
    cpu_time_ms: Math.floor(t.cpu_time_ns / 1e6),
    input_bytes: t.input_bytes,
    output_bytes: t.output_bytes,
    shuffle_read_bytes: t.shuffle_read_bytes,
    shuffle_write_bytes: t.shuffle_write_bytes,
    memory_spilled_bytes: t.memory_spilled_bytes,
    disk_spilled_bytes: t.disk_spilled_bytes,
    num_executors: t.num_executors,
    executor_cores: t.executor_cores,
    executor_memory_mb: t.executor_memory_mb,
    driver_memory_mb: t.driver_memory_mb,
  });
}

describe('event-log replay', () => {
  it('maps a generated Spark 3.5 log to the totals the generator wrote', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ stages: 5, tasksPerStage: 20, failEvery: 7, failStageEvery: 3 });
    writeFileSync(path.join(dir, totals.app_id), text);
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    expect(apps).toHaveLength(1);
    expectTotals(apps[0]!.record, totals);
    expect(apps[0]!.record.status).toBe('completed'); // stage 2 of 0..4 failed; the last job succeeded
  });

  it('calls an app failed when Spark 4 logs a non-zero exit code, and counts killed tasks as not failed', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ stages: 2, tasksPerStage: 3 });
    const killed = text
      .replace('"SparkListenerApplicationEnd","Timestamp":', '"SparkListenerApplicationEnd","ExitCode":1,"Timestamp":')
      .replace('"Task End Reason":{"Reason":"Success"}', '"Task End Reason":{"Reason":"TaskKilled","Kill Reason":"stage cancelled"}');
    writeFileSync(path.join(dir, totals.app_id), killed);
    const { record } = (await collectAll({ path: dir })).apps[0]!;
    expect(record.status).toBe('failed');
    expect(record.total_tasks).toBe(totals.total_tasks);
    expect(record.failed_tasks).toBe(0);
  });

  it('reads an attempt whose app is still running: status running, in_progress, broken last line tolerated', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ running: true, stages: 2, tasksPerStage: 3, attemptId: '1' });
    writeFileSync(path.join(dir, `${totals.app_id}_1.inprogress`), `${text}{"Event":"SparkListenerTaskEnd","Stage ID":1,"Sta`);
    const { apps } = await collectAll({ path: dir });
    expect(apps).toHaveLength(1);
    const { record, problems } = apps[0]!;
    expectTotals(record, totals);
    expect(record.status).toBe('running');
    expect(record.quality).toContain('in_progress');
    expect(record.quality).not.toContain('truncated');
    expect(problems).toEqual([expect.objectContaining({ severity: 'info', code: 'truncated-line', line: text.split('\n').length })]);
  });

  it('reports each malformed line with file and line number and keeps going', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ stages: 2, tasksPerStage: 4 });
    const lines = text.split('\n');
    lines.splice(3, 0, '{"Event":"SparkListenerJobStart", broken', '{"no":"event"}');
    const file = path.join(dir, totals.app_id);
    writeFileSync(file, lines.join('\n'));
    const { apps } = await collectAll({ path: dir });
    expect(apps).toHaveLength(1);
    expectTotals(apps[0]!.record, totals);
    expect(apps[0]!.problems).toEqual([
      expect.objectContaining({ code: 'malformed-json', file, line: 4 }),
      expect.objectContaining({ code: 'missing-event', file, line: 5 }),
    ]);
  });

  it('groups a rolling folder into one attempt, reads events_N in index order, and a .compact restarts the set', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ stages: 4, tasksPerStage: 5 });
    const lines = text.trimEnd().split('\n');
    const roll = path.join(dir, `eventlog_v2_${totals.app_id}`);
    mkdirSync(roll);
    const third = Math.floor(lines.length / 3);
    // events_10 must come after events_2 (numeric order, not text order).
    writeFileSync(path.join(roll, `events_1_${totals.app_id}`), `${lines.slice(0, third).join('\n')}\n`);
    writeFileSync(path.join(roll, `events_2_${totals.app_id}.gz`), gzipSync(`${lines.slice(third, 2 * third).join('\n')}\n`));
    writeFileSync(path.join(roll, `events_10_${totals.app_id}`), `${lines.slice(2 * third).join('\n')}\n`);
    writeFileSync(path.join(roll, `appstatus_${totals.app_id}`), '');
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    expect(apps).toHaveLength(1);
    expectTotals(apps[0]!.record, totals);
    expect(apps[0]!.files.map((f) => path.basename(f))).toEqual([`events_1_${totals.app_id}`, `events_2_${totals.app_id}.gz`, `events_10_${totals.app_id}`]);
    expect(apps[0]!.record.tags).toMatchObject({ log_layout: 'rolling' });

    // Compaction: Spark's reader starts at the last .compact file.
    writeFileSync(path.join(roll, `events_2_${totals.app_id}.compact`), `${lines.slice(0, 2 * third).join('\n')}\n`);
    const compacted = await collectAll({ path: roll });
    expect(compacted.apps[0]!.files.map((f) => path.basename(f))).toEqual([`events_2_${totals.app_id}.compact`, `events_10_${totals.app_id}`]);
    expect(compacted.apps[0]!.record.quality).toContain('compacted');
    expectTotals(compacted.apps[0]!.record, totals);
  });

  it('rolling and Databricks folders: the order of the files decides which of two environments is the last one read', async () => {
    // An application whose environment changes (a later EnvironmentUpdate replaces the earlier one,
    // as Spark's listeners take it): the record keeps what the last file in Spark's order says.
    const env = (memory: string): string => JSON.stringify({ Event: 'SparkListenerEnvironmentUpdate', 'Spark Properties': { 'spark.executor.memory': memory, 'spark.driver.memory': '1g' } });
    const dir = tempDir();
    const { text, totals } = eventLogText({ appId: 'app-order', stages: 2, tasksPerStage: 3 });
    const lines = text.trimEnd().split('\n');
    const roll = path.join(dir, 'eventlog_v2_app-order');
    mkdirSync(roll);
    // events_1 … events_12: in text order events_12 would come before events_2 and events_9.
    const per = Math.ceil(lines.length / 12);
    for (let i = 1; i <= 12; i++) {
      const part = lines.slice((i - 1) * per, i * per);
      if (i === 9) part.push(env('3g'));
      if (i === 12) part.push(env('5g'));
      writeFileSync(path.join(roll, `events_${i}_app-order`), `${part.join('\n')}\n`);
    }
    writeFileSync(path.join(roll, 'appstatus_app-order'), '');
    const rolling = await collectAll({ path: roll });
    expect(rolling.problems).toEqual([]);
    expect(rolling.apps[0]!.files.map((f) => path.basename(f).split('_')[1])).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12']);
    expect(rolling.apps[0]!.record).toMatchObject({ executor_memory_mb: 5 * 1024, driver_memory_mb: 1024, total_tasks: totals.total_tasks });

    // Databricks: the rolled eventlog-<time>.gz files oldest first, the current `eventlog` last (in
    // text order `eventlog` would come first).
    const db = path.join(dir, 'dbx', 'app-order-dbx', 'eventlog');
    mkdirSync(db, { recursive: true });
    const half = Math.floor(lines.length / 2);
    writeFileSync(path.join(db, 'eventlog-2024-05-01--09-00.gz'), gzipSync(`${[...lines.slice(0, half), env('3g')].join('\n')}\n`));
    writeFileSync(path.join(db, 'eventlog-2024-05-01--10-00.gz'), gzipSync(`${[env('6g')].join('\n')}\n`));
    writeFileSync(path.join(db, 'eventlog'), `${[...lines.slice(half), env('7g')].join('\n')}\n`);
    const dbx = await collectAll({ path: path.join(dir, 'dbx') });
    expect(dbx.problems).toEqual([]);
    expect(dbx.apps[0]!.files.map((f) => path.basename(f))).toEqual(['eventlog-2024-05-01--09-00.gz', 'eventlog-2024-05-01--10-00.gz', 'eventlog']);
    expect(dbx.apps[0]!.record).toMatchObject({ executor_memory_mb: 7 * 1024, total_tasks: totals.total_tasks });
  });

  it('marks a rolling log without appstatus completion as running', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ running: true, stages: 1, tasksPerStage: 2 });
    const roll = path.join(dir, `eventlog_v2_${totals.app_id}`);
    mkdirSync(roll);
    writeFileSync(path.join(roll, `events_1_${totals.app_id}`), text);
    writeFileSync(path.join(roll, `appstatus_${totals.app_id}.inprogress`), '');
    const { apps } = await collectAll({ path: dir });
    expect(apps[0]!.record.status).toBe('running');
  });

  it('reads a Databricks folder: rolled eventlog-*.gz oldest first, then eventlog', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText({ stages: 3, tasksPerStage: 4 });
    const lines = text.trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    const db = path.join(dir, 'cluster-0101', 'eventlog', 'ctx-1');
    mkdirSync(db, { recursive: true });
    writeFileSync(path.join(db, 'eventlog-2024-05-01--10-00.gz'), gzipSync(`${lines.slice(0, half).join('\n')}\n`));
    writeFileSync(path.join(db, 'eventlog'), `${lines.slice(half).join('\n')}\n`);
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    expect(apps).toHaveLength(1);
    expectTotals(apps[0]!.record, totals);
    expect(apps[0]!.record.tags).toMatchObject({ log_layout: 'databricks', log_codec: 'gzip,none' });
  });

  it('keeps attempts apart, skips hidden files, honours recursive: false, since and user', async () => {
    const dir = tempDir();
    const a1 = eventLogText({ appId: 'application_1_0001', attemptId: '1', startMs: Date.UTC(2024, 0, 1) });
    const a2 = eventLogText({ appId: 'application_1_0001', attemptId: '2', startMs: Date.UTC(2024, 0, 2), user: 'alice' });
    writeFileSync(path.join(dir, 'application_1_0001_1'), a1.text);
    writeFileSync(path.join(dir, 'application_1_0001_2'), a2.text);
    writeFileSync(path.join(dir, '.application_1_0001_1.crc'), 'garbage');
    writeFileSync(path.join(dir, 'README.md'), '# not a log');
    mkdirSync(path.join(dir, 'nested'));
    writeFileSync(path.join(dir, 'nested', 'local-1'), eventLogText({ appId: 'local-1' }).text);

    const all = await collectAll({ path: dir });
    // Passed over, and said so: nothing else is a problem.
    expect(all.problems.map((p) => [p.severity, p.code, p.file])).toEqual([
      ['info', 'skipped-file', path.join(dir, '.application_1_0001_1.crc')],
      ['info', 'skipped-file', path.join(dir, 'README.md')],
    ]);
    expect(all.apps.map((a) => [a.record.app_id, a.record.attempt_id]).sort()).toEqual([
      ['application_1_0001', '1'],
      ['application_1_0001', '2'],
      ['local-1', null],
    ]);
    expect((await collectAll({ path: dir, recursive: false })).apps).toHaveLength(2);
    // `since` compares the end time: attempt 1 started before this moment but ended after it, so it
    // stays (a start-time rule would drop it) …
    expect(a1.totals.end_ms! - a1.totals.start_ms).toBeGreaterThan(2);
    const midRun = await collectAll({ path: dir, recursive: false, since: new Date(a1.totals.start_ms + 1) });
    expect(midRun.apps.map((a) => a.record.attempt_id).sort()).toEqual(['1', '2']);
    expect(midRun.filtered).toBe(0);
    // … and one millisecond after it ended, it goes.
    const since = await collectAll({ path: dir, recursive: false, since: new Date(a1.totals.end_ms! + 1) });
    expect(since.apps.map((a) => a.record.attempt_id)).toEqual(['2']);
    expect(since.filtered).toBe(1);
    expect((await collectAll({ path: dir, recursive: false, since: new Date(a1.totals.end_ms!) })).apps).toHaveLength(2);
    expect((await collectAll({ path: dir, user: 'alice' })).apps.map((a) => a.record.attempt_id)).toEqual(['2']);
  });

  it('redacts secret-looking properties in the stored environment', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText();
    writeFileSync(
      path.join(dir, totals.app_id),
      text.replace('"spark.master"', '"spark.myservice.password":"hunter2","spark.driver.extraJavaOptions":"-Dx=1 -Ddb.password=swordfish","spark.master"'),
    );
    const { apps } = await collectAll({ path: dir });
    const env = apps[0]!.record.environment;
    expect(env['spark.myservice.password']).toBe('*********(redacted)');
    // A secret in the value of an innocent key, as Spark's own redaction catches it.
    expect(env['spark.driver.extraJavaOptions']).toBe('*********(redacted)');
    expect(JSON.stringify(apps[0]!.record)).not.toContain('hunter2');
    expect(JSON.stringify(apps[0]!.record)).not.toContain('swordfish');
    expect(env['spark.executor.memory']).toBe('4g');
  });

  it('defaults absent executor properties and says so in quality', async () => {
    const dir = tempDir();
    const { text, totals } = eventLogText();
    const stripped = text.replace(/"spark\.(executor\.cores|executor\.memory|driver\.memory)":"[^"]*",/g, '').replace(/"Total Cores":2/g, '"Total Cores":3');
    writeFileSync(path.join(dir, totals.app_id), stripped);
    const { record } = (await collectAll({ path: dir })).apps[0]!;
    expect(record.executor_cores).toBe(3); // observed on ExecutorAdded
    expect(record.executor_memory_mb).toBe(1024);
    expect(record.driver_memory_mb).toBe(1024);
    expect(record.quality).toEqual(expect.arrayContaining(['defaulted:executor_memory_mb', 'defaulted:driver_memory_mb']));
    expect(record.quality).not.toContain('defaulted:executor_cores');
  });
});

describe('bad input never stops the run', () => {
  it('empty files, binary garbage, invalid UTF-8 and a 50 MB line each give a clear problem; good logs are still collected', async () => {
    const dir = tempDir();
    const good = eventLogText({ appId: 'app-good', stages: 2, tasksPerStage: 3 });
    writeFileSync(path.join(dir, 'app-good'), good.text);
    writeFileSync(path.join(dir, 'app-empty'), '');
    writeFileSync(path.join(dir, 'app-binary'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 131) % 256)));

    // Invalid UTF-8 inside a property value of an otherwise good log.
    const utf = eventLogText({ appId: 'app-utf8', stages: 1, tasksPerStage: 2 });
    const [before, after] = utf.text.split('"spark.master":"');
    writeFileSync(path.join(dir, 'app-utf8'), Buffer.concat([Buffer.from(`${before}"spark.master":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(after!)]));

    // A 50 MB line in the middle of a good log: skipped as over-long when the limit is lower, malformed otherwise.
    const big = eventLogText({ appId: 'app-bigline', stages: 1, tasksPerStage: 2 });
    const bigLines = big.text.split('\n');
    bigLines.splice(2, 0, `{"Event":"SparkListenerJobStart","junk":"${'x'.repeat(50 * 1024 * 1024)}`);
    writeFileSync(path.join(dir, 'app-bigline'), bigLines.join('\n'));

    const { apps, problems } = await collectAll({ path: dir, maxLineBytes: 16 * 1024 * 1024 });
    expect(apps.map((a) => a.record.app_id).sort()).toEqual(['app-bigline', 'app-good', 'app-utf8']);
    const byId = Object.fromEntries(apps.map((a) => [a.record.app_id, a]));
    expectTotals(byId['app-good']!.record, good.totals);
    expectTotals(byId['app-bigline']!.record, big.totals);
    expect(byId['app-bigline']!.problems).toEqual([expect.objectContaining({ code: 'line-too-long', line: 3 })]);
    expect(byId['app-bigline']!.problems[0]!.message).toMatch(/line 3 is 50 MB/);
    expect(byId['app-utf8']!.problems).toEqual([expect.objectContaining({ code: 'invalid-utf8', severity: 'warning' })]);
    expectTotals(byId['app-utf8']!.record, utf.totals);

    const file = (name: string): string => path.join(dir, name);
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'not-an-event-log', file: file('app-empty') }),
        expect.objectContaining({ code: 'malformed-json', file: file('app-binary'), line: 1 }),
      ]),
    );
    expect(problems.find((p) => p.file === file('app-binary'))!.message).toMatch(/binary or invalid UTF-8/);
    // Binary garbage: a bounded number of line problems plus one summary, not thousands.
    expect(problems.filter((p) => p.file === file('app-binary')).length).toBeLessThanOrEqual(22);
  });

  it('a 20 MB line under the default limit is parsed, reported as malformed, and the rest is read', async () => {
    const dir = tempDir();
    const big = eventLogText({ appId: 'app-bigline2', stages: 1, tasksPerStage: 2 });
    const lines = big.text.split('\n');
    lines.splice(2, 0, `{"Event":"SparkListenerEnvironmentUpdate","junk":"${'y'.repeat(20 * 1024 * 1024)}`);
    writeFileSync(path.join(dir, 'app-bigline2'), lines.join('\n'));
    const { apps } = await collectAll({ path: dir });
    expectTotals(apps[0]!.record, big.totals);
    expect(apps[0]!.problems).toEqual([expect.objectContaining({ code: 'malformed-json', line: 3 })]);
  });
});

const COMPRESSORS: [string, string, (b: Buffer) => Buffer][] = [
  ['lz4', 'lz4', (b) => lz4BlockStream(b)],
  ['snappy', 'snappy', (b) => snappyStream(b)],
  ['lzf', 'lzf', (b) => lzfStream(b)],
  ['zstd', 'zstd', (b) => zstdFrames(b)],
  ['gz', 'gzip', (b) => gzipSync(b)],
];

describe('every codec through the whole engine', () => {
  it.each(COMPRESSORS)('.%s: single file and rolling folder give the generated totals', async (suffix, codec, compress) => {
    const dir = tempDir();
    const single = eventLogText({ appId: `app-single-${suffix}`, stages: 4, tasksPerStage: 30 });
    writeFileSync(path.join(dir, `app-single-${suffix}.${suffix}`), compress(Buffer.from(single.text)));
    const rolled = eventLogText({ appId: `app-roll-${suffix}`, stages: 4, tasksPerStage: 30, seed: 7 });
    const roll = path.join(dir, `eventlog_v2_app-roll-${suffix}`);
    mkdirSync(roll);
    const lines = rolled.text.trimEnd().split('\n');
    const half = Math.floor(lines.length / 2);
    writeFileSync(path.join(roll, `events_1_app-roll-${suffix}.${suffix}`), compress(Buffer.from(`${lines.slice(0, half).join('\n')}\n`)));
    writeFileSync(path.join(roll, `events_2_app-roll-${suffix}.${suffix}`), compress(Buffer.from(`${lines.slice(half).join('\n')}\n`)));
    writeFileSync(path.join(roll, `appstatus_app-roll-${suffix}`), '');
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    const byId = Object.fromEntries(apps.map((a) => [a.record.app_id, a]));
    expectTotals(byId[`app-single-${suffix}`]!.record, single.totals);
    expectTotals(byId[`app-roll-${suffix}`]!.record, rolled.totals);
    expect(byId[`app-single-${suffix}`]!.record.tags.log_codec).toBe(codec);
    expect(byId[`app-single-${suffix}`]!.problems).toEqual([]);
  });

  it('every codec, small blocks and frames: exactly the plain log’s record and stage/executor summaries (decoders reuse their output buffers)', async () => {
    // Blocks of 4-16 KiB, so that most lines span two or more of them, and 2,000 blocks a log, so
    // that a line, name or id kept from overwritten decoder memory would show in the summaries.
    const log = eventLogText({ appId: 'app-blocks', stages: 60, tasksPerStage: 40, executors: 6, seed: 3 }).text;
    const small: [string, Buffer][] = [
      ['lz4', lz4BlockStream(Buffer.from(log), { blockSize: 4096 })],
      ['snappy', snappyStream(Buffer.from(log), { blockSize: 4096 })],
      ['lzf', lzfStream(Buffer.from(log), { chunkSize: 4096 })],
      ['zstd', zstdFrames(Buffer.from(log), { frameSize: 16384 })],
      ['gz', gzipSync(log)],
    ];
    const dir = tempDir();
    writeFileSync(path.join(dir, 'app-blocks'), log);
    const plain = (await collectAll({ path: dir })).apps[0]!;
    expect(plain.summaries?.stages.length).toBe(60);
    for (const [suffix, bytes] of small) {
      const one = tempDir();
      writeFileSync(path.join(one, `app-blocks.${suffix}`), bytes);
      const { apps, problems } = await collectAll({ path: one });
      expect(problems, suffix).toEqual([]);
      expect({ ...apps[0]!.record, tags: {} }, suffix).toEqual({ ...plain.record, tags: {} });
      expect(apps[0]!.summaries, suffix).toEqual(plain.summaries);
    }
  });

  it.each(COMPRESSORS)('.%s.inprogress cut inside a block: what was decoded counts, flagged truncated, run goes on', async (suffix, _codec, compress) => {
    const dir = tempDir();
    const log = eventLogText({ appId: 'app-cut', running: true, stages: 6, tasksPerStage: 200 });
    const whole = compress(Buffer.from(log.text));
    writeFileSync(path.join(dir, `app-cut.${suffix}.inprogress`), whole.subarray(0, Math.floor(whole.length * 0.6)));
    writeFileSync(path.join(dir, 'app-other'), eventLogText({ appId: 'app-other' }).text);
    const { apps } = await collectAll({ path: dir });
    expect(apps.map((a) => a.record.app_id).sort()).toEqual(['app-cut', 'app-other']);
    const cut = apps.find((a) => a.record.app_id === 'app-cut')!;
    expect(cut.record.status).toBe('running');
    expect(cut.record.quality).toEqual(expect.arrayContaining(['in_progress', 'truncated']));
    expect(cut.record.total_tasks).toBeGreaterThan(0);
    expect(cut.record.total_tasks).toBeLessThan(log.totals.total_tasks);
    expect(cut.problems.map((p) => p.code)).toContain('codec-truncated');
  });

  it.each(COMPRESSORS)('a plain-text log named .%s is refused with a clear problem naming the file', async (suffix) => {
    const dir = tempDir();
    const file = path.join(dir, `app-plain.${suffix}`);
    writeFileSync(file, eventLogText({ appId: 'app-plain' }).text);
    const { apps, problems } = await collectAll({ path: dir });
    expect(apps).toEqual([]);
    expect(problems).toEqual([expect.objectContaining({ severity: 'error', code: 'codec-corrupt', file })]);
    expect(problems[0]!.message).toMatch(/plain text/);
  });
});
