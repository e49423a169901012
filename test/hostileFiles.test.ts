/**
 * Issue 13, hostile files: `validate` checks every file whatever one of them does (item 4), a deeply
 * nested value does not stop the analyzer (item 5), one line cannot take the memory or the
 * database (item 7), and a decompression bomb stops at a ratio in every codec (item 8).
 * Every file is made here; the big ones are compressed, so little touches the disk.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { analyzeEventLogFile } from '../src/analysis/eventLogAnalyzer';
import { validateCommand } from '../src/cli/validateCommand';
import { collectAll } from '../src/collectors/eventlog/collect';
import { CodecError, DecompressionLimitError, RATIO_FREE_BYTES, decode, type Codec } from '../src/collectors/eventlog/codecs/index';
import { DEFAULT_MAX_LINE_MB, OVERLONG_HEAD, splitLines } from '../src/collectors/eventlog/lines';
import { MAX_STORED_ENVIRONMENT, MAX_STORED_TEXT } from '../src/collectors/record/finish';
import { lz4BlockStream, lzfStream, snappyStream, zstdFrames } from './support/sparkCompress';
import { tempDir } from './support/tmp';

const MiB = 2 ** 20;
const T0 = 1_700_000_000_000;

/** A small complete log; `env` adds Spark properties, `start` replaces the ApplicationStart's Timestamp. */
function smallLog(appId: string, opts: { env?: Record<string, string>; start?: number; appName?: string } = {}): string {
  return `${[
    JSON.stringify({ Event: 'SparkListenerLogStart', 'Spark Version': '3.5.3' }),
    JSON.stringify({ Event: 'SparkListenerApplicationStart', 'App Name': opts.appName ?? 'small', 'App ID': appId, Timestamp: opts.start ?? T0, User: 'u' }),
    JSON.stringify({
      Event: 'SparkListenerEnvironmentUpdate',
      'Spark Properties': { 'spark.executor.cores': '4', 'spark.executor.memory': '4g', 'spark.driver.memory': '2g', ...opts.env },
    }),
    JSON.stringify({ Event: 'SparkListenerExecutorAdded', Timestamp: T0 + 10, 'Executor ID': '1', 'Executor Info': { Host: 'h', 'Total Cores': 4 } }),
    JSON.stringify({ Event: 'SparkListenerApplicationEnd', Timestamp: T0 + 60_000 }),
  ].join('\n')}\n`;
}

interface Captured {
  code: number;
  out: string[];
  err: string[];
}

/** `spark-optimizer validate` in this process, its output captured. */
async function validate(...args: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await validateCommand(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: process.cwd() });
  return { code, out, err };
}

/** The JSON findings of a validate run, as `file code` pairs (base names). */
function fileCodes(run: Captured): string[] {
  return run.out.map((l) => JSON.parse(l) as { file: string; code: string }).map((f) => `${path.basename(f.file)} ${f.code}`);
}

describe('validate checks every file, whatever one of them does (item 4)', () => {
  it('a time no date can hold is a finding on its line, and the files after it are still checked', async () => {
    const dir = tempDir();
    // ApplicationStart past 8.64e15 ms and an end before it: formatting that start as a date threw and ended the run.
    writeFileSync(path.join(dir, 'app-1'), smallLog('app-1', { start: 8640000000000001 }));
    writeFileSync(path.join(dir, 'app-2'), smallLog('app-2', { env: { 'spark.app.submitTime': '99999999999999999999' } }));
    writeFileSync(path.join(dir, 'app-3'), smallLog('app-3'));
    const run = await validate(dir, '--format', 'json');
    expect(fileCodes(run)).toEqual(['app-1 invalid-value', 'app-2 invalid-value']);
    const [start, submit] = run.out.map((l) => JSON.parse(l) as { line: number; column: number; message: string });
    expect([start!.line, submit!.line]).toEqual([2, 3]);
    // Collection's own words (the analyzer gives the engine's problems as collect reports them).
    expect(start!.message).toBe('SparkListenerApplicationStart Timestamp 8640000000000001 is after the year 9999: left out of start_time');
    expect(submit!.message).toMatch(/^spark\.app\.submitTime .*99999999999999999999.* is after the year 9999/);
    expect(run.err).toEqual(['3 files checked: 2 errors, 0 warnings']);
  });

  it('a file it cannot read is an error finding on that file, and the others are still checked (real EACCES)', () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    writeFileSync(path.join(logs, 'app-a'), smallLog('app-a'));
    writeFileSync(path.join(logs, 'app-b'), smallLog('app-b'));
    writeFileSync(path.join(logs, 'app-c'), smallLog('app-c'));
    writeFileSync(path.join(logs, 'spark-optimizer.yaml'), 'sources: []\n');
    writeFileSync(path.join(logs, 'other.yaml'), 'a: 1\n');
    for (const f of ['app-b', 'spark-optimizer.yaml', 'other.yaml']) chmodSync(path.join(logs, f), 0o000);
    chmodSync(dir, 0o755);
    chmodSync(logs, 0o755);
    // Root reads any file whatever its mode: the CLI runs as `nobody` then, as a user would meet EACCES.
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const r = spawnSync(process.execPath, [path.resolve('dist/cli.js'), 'validate', logs, '--format', 'json'], { encoding: 'utf8', ...asUser });
    expect(r.stderr).toBe('5 files checked: 3 errors, 0 warnings\n');
    const findings = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { file: string; code: string; line: number; message: string });
    expect(findings.map((f) => `${path.basename(f.file)} ${f.code} ${f.line}`).sort()).toEqual(['app-b read-failed 1', 'other.yaml read-failed 1', 'spark-optimizer.yaml read-failed 1']);
    expect(findings[0]!.message).toBe('Cannot read this file: EACCES (permission denied: this user may not read it). Collection cannot read it either.');
    expect(r.status).toBe(1);
  });

  it('a path that cannot be read as a file is a finding from the analyzer, not an exception', async () => {
    const dir = tempDir();
    const folder = path.join(dir, 'app-1.lz4');
    mkdirSync(folder);
    expect(await analyzeEventLogFile(folder)).toEqual([
      { range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, severity: 'error', code: 'read-failed', message: 'Cannot read this file: EISDIR (it is a folder, not a file). Collection cannot read it either.' },
    ]);
  });
});

describe('a value nested 100,000 levels deep (item 5, the analyzer)', () => {
  it('is read like any value, and the lines after it are still checked', async () => {
    const dir = tempDir();
    const deep = 100_000;
    const props = '"spark.executor.cores":"4","spark.executor.memory":"4g","spark.driver.memory":"2g"';
    const nested = `{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{${props},"spark.deep":${'['.repeat(deep)}${']'.repeat(deep)}}}`;
    const task = `{"Event":"SparkListenerTaskEnd","Stage ID":0,"Stage Attempt ID":0,"Task Metrics":${'{"a":'.repeat(deep)}1${'}'.repeat(deep)}}`;
    const lines = smallLog('app-deep', { start: T0 }).trimEnd().split('\n');
    // After the deep lines: a job that ends before the application starts, which only a reader that went on can see.
    lines.splice(4, 0, nested, task, JSON.stringify({ Event: 'SparkListenerJobEnd', 'Job ID': 0, 'Completion Time': T0 - 10_000 }));
    writeFileSync(path.join(dir, 'app-deep'), `${lines.join('\n')}\n`);
    const findings = await analyzeEventLogFile(path.join(dir, 'app-deep'));
    // The nested property is left out of the record's environment, as collect says (bad-property).
    expect(findings.map((f) => `${f.range.start.line} ${f.code}`)).toEqual(['4 bad-property', '5 task-for-unknown-stage', '6 time-backwards']);
  });

  it('as an application Timestamp it is one invalid-value finding, not a check of the file that failed (found by the fuzz suite)', async () => {
    const dir = tempDir();
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    const lines = smallLog('app-deep-ts').trimEnd().split('\n');
    lines[1] = lines[1]!.replace(`"Timestamp":${T0}`, `"Timestamp":${deep}`);
    lines[4] = lines[4]!.replace(`"Timestamp":${T0 + 60_000}`, '"Timestamp":{"a":1}');
    writeFileSync(path.join(dir, 'app-deep-ts'), `${lines.join('\n')}\n`);
    const findings = await analyzeEventLogFile(path.join(dir, 'app-deep-ts'));
    // As collect reports them: the start could not be read at all (its value overflows the stack), so the record has none.
    expect(findings.map((f) => `${f.range.start.line} ${f.code} ${f.message}`)).toEqual([
      '0 record-inconsistent no SparkListenerApplicationStart: start time unknown',
      '1 nested-too-deep SparkListenerApplicationStart could not be read (Maximum call stack size exceeded): a value is nested too deeply. Collection skips this line.',
      '4 invalid-value SparkListenerApplicationEnd Timestamp {"a":1} is not a number: left out of end_time',
    ]);
  });
});

describe('one line cannot take the memory or the database (item 7)', () => {
  async function split(chunks: Buffer[], max: number): Promise<{ lines: string[]; overlong: [number, number, string][] }> {
    const lines: string[] = [];
    const overlong: [number, number, string][] = [];
    await splitLines(Readable.from(chunks), (buf, s, e, n) => lines.push(`${n}:${buf.toString('latin1', s, e)}`), max, (n, bytes, head) => overlong.push([n, bytes, head.toString('latin1')]));
    return { lines, overlong };
  }

  it('a line over the limit inside one chunk (a decoded block) is skipped like one that spans chunks', async () => {
    const long = `{"Event":"Big","x":"${'x'.repeat(2000)}"}`;
    const got = await split([Buffer.from(`short\n${long}\nafter\n`)], 1000);
    expect(got.lines).toEqual(['1:short', '3:after']);
    expect(got.overlong).toEqual([[2, long.length, long.slice(0, OVERLONG_HEAD)]]);
  });

  it('a line whose last piece takes it over the limit is skipped, and its first bytes name it', async () => {
    // 9 + 3 + 984 bytes carried are within the limit; the 6 before the newline take the line to 1,002.
    const got = await split([Buffer.from('a\n{"Event":'), Buffer.from('"Sp'), Buffer.from(`ark"${'y'.repeat(980)}`), Buffer.from('zzzzzz\nb\n')], 1000);
    expect(got.lines).toEqual(['1:a', '3:b']);
    expect(got.overlong).toEqual([[2, 1002, `{"Event":"Spark"${'y'.repeat(OVERLONG_HEAD - 16)}`]]);
  });

  it('by default a 40 MB line is skipped as it streams by, with a problem naming the file, line, limit and setting', async () => {
    const dir = tempDir();
    const lines = smallLog('app-wide').trimEnd().split('\n');
    lines.splice(2, 0, `{"Event":"SparkListenerEnvironmentUpdate","Spark Properties":{"spark.huge":"${'x'.repeat(40 * MiB)}"}}`);
    // LZ4 at most 255x: 160 KB on disk, and under the decompression limit.
    const file = path.join(dir, 'app-wide.lz4');
    writeFileSync(file, lz4BlockStream(Buffer.from(`${lines.join('\n')}\n`)));
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    expect(apps[0]!.record).toMatchObject({ app_id: 'app-wide', executor_cores: 4, executor_memory_mb: 4096, end_time: new Date(T0 + 60_000).toISOString() });
    expect(apps[0]!.record.environment['spark.huge']).toBeUndefined();
    expect(apps[0]!.problems).toEqual([
      {
        severity: 'error',
        code: 'line-too-long',
        file,
        line: 3,
        message: `line 3 is 40 MB, over the ${DEFAULT_MAX_LINE_MB} MB line limit (a SparkListenerEnvironmentUpdate event): skipped. Raise max_line_mb (config), --max-line-mb (CLI) or sparkOptimizer.maxLineMb (editor) to read it; memory use grows with the limit`,
      },
    ]);

    const run = await validate(file, '--format', 'json');
    const findings = run.out.map((l) => JSON.parse(l) as { line: number; code: string; message: string });
    expect(findings.map((f) => `${f.line} ${f.code}`)).toEqual(['3 line-too-long']);
    expect(findings[0]!.message).toMatch(/^Line 3 is 40 MB, over the 32 MB line limit .* --max-line-mb .*; collection skips it too\.$/);
    // Raised by the flag, the line is read (and its value is cut when stored; see the next test).
    expect(await validate(file, '--max-line-mb', '64')).toMatchObject({ code: 0, out: [] });
  });

  it('validate takes --max-line-mb and --max-decompression-ratio like collect, and refuses values out of range', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app-1');
    writeFileSync(file, smallLog('app-1', { env: { 'spark.long': 'z'.repeat(2 * MiB) } }));
    const run = await validate(file, '--max-line-mb', '1', '--max-decompression-ratio', '50');
    expect(run.out).toEqual([
      `${file}:1:1: warning missing-environment-update No SparkListenerEnvironmentUpdate: executor and driver sizes fall back to defaults.`,
      expect.stringMatching(new RegExp(`^${file}:3:1: error line-too-long Line 3 is 2 MB, over the 1 MB line limit`)),
    ]);
    await expect(validate(file, '--max-line-mb', '513')).rejects.toThrow('--max-line-mb must be at most 512');
    await expect(validate(file, '--max-decompression-ratio', '1')).rejects.toThrow('--max-decompression-ratio must be from 2 to 1000000, got "1"');
  });

  it('stores at most MAX_STORED_TEXT characters of one value and MAX_STORED_ENVIRONMENT of properties, flagged and said', async () => {
    const dir = tempDir();
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`spark.many.${String(i).padStart(2, '0')}`, String(i % 10).repeat(30_000)]));
    const file = path.join(dir, 'app-big');
    writeFileSync(file, smallLog('app-big', { appName: 'n'.repeat(100_000), env: { 'spark.huge': 'x'.repeat(3 * MiB), ...many } }));
    const { apps } = await collectAll({ path: dir });
    const { record, problems } = apps[0]!;
    expect(record.app_name).toBe(`${'n'.repeat(MAX_STORED_TEXT)}… [cut: 100000 characters]`);
    expect(record.environment['spark.huge']).toBe(`${'x'.repeat(MAX_STORED_TEXT)}… [cut: ${3 * MiB} characters]`);
    expect(record.environment['spark.executor.cores']).toBe('4');
    const kept = Object.entries(record.environment).reduce((n, [k, v]) => n + k.length + v.length, 0);
    expect(kept).toBeLessThanOrEqual(MAX_STORED_ENVIRONMENT);
    // 1 MB holds the first 32 of the 40 properties of 30,000 characters after the cut one.
    expect(Object.keys(record.environment).filter((k) => k.startsWith('spark.many.'))).toHaveLength(32);
    expect(record.quality).toEqual(expect.arrayContaining(['capped:app_name', 'capped:environment']));
    expect(problems).toEqual([
      { severity: 'warning', code: 'value-capped', field: 'app_name', file, message: `app_name is 100000 characters; the record keeps the first ${MAX_STORED_TEXT}` },
      {
        severity: 'warning',
        code: 'value-capped',
        field: 'environment',
        file,
        message: `a property value is over ${MAX_STORED_TEXT} characters and kept cut to that: spark.huge (${3 * MiB} characters); 8 properties are left out, past 1 M characters of properties in all (so that one line cannot make the record huge)`,
      },
    ]);
  });
});

/** Zeros compress beyond 10x in every codec (deflate ~1000x, LZ4 255x, LZF 88x, Snappy 21x, zstd far more). */
const COMPRESSORS: [Codec, (b: Buffer) => Buffer][] = [
  ['gzip', (b) => gzipSync(b)],
  ['zstd', (b) => zstdFrames(b)],
  ['lz4', (b) => lz4BlockStream(b)],
  ['snappy', (b) => snappyStream(b)],
  ['lzf', (b) => lzfStream(b)],
];

async function drain(codec: Codec, data: Buffer, ratio?: number): Promise<{ bytes: number; error: unknown }> {
  const pieces = Array.from({ length: Math.ceil(data.length / (64 * 1024)) }, (_, i) => data.subarray(i * 64 * 1024, (i + 1) * 64 * 1024));
  let bytes = 0;
  try {
    for await (const chunk of decode(codec, Readable.from(pieces), `/logs/app.${codec}`, ratio === undefined ? {} : { maxDecompressionRatio: ratio })) bytes += chunk.length;
    return { bytes, error: null };
  } catch (error) {
    return { bytes, error };
  }
}

/**
 * A zstd frame of RLE blocks (3-byte header + the byte, 128 KB each): `mib` MiB of spaces from
 * 32 bytes per MiB, the shape of issue 13's 2 MB file that expanded to 20 GB.
 */
function zstdBomb(mib: number): Buffer {
  const header = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (17 - 10) << 3]);
  const blocks = mib * 8;
  const body = Buffer.alloc(blocks * 4);
  for (let i = 0; i < blocks; i++) {
    const h = ((128 * 1024) << 3) | (1 << 1) | (i === blocks - 1 ? 1 : 0);
    body.writeUIntLE(h, i * 4, 3);
    body[i * 4 + 3] = 0x20;
  }
  return Buffer.concat([header, body]);
}

describe('a decompression bomb stops at a ratio, in every codec (item 8)', () => {
  const zeros = Buffer.alloc(RATIO_FREE_BYTES + 4 * MiB);

  it.each(COMPRESSORS)('%s: past the free allowance, output over the ratio times the input read is a DecompressionLimitError', async (codec, compress) => {
    const compressed = compress(zeros);
    const stopped = await drain(codec, compressed, 10);
    expect(stopped.error).toBeInstanceOf(DecompressionLimitError);
    const err = stopped.error as DecompressionLimitError;
    expect(err).toBeInstanceOf(CodecError);
    expect(err.truncated).toBe(false);
    expect(err.file).toBe(`/logs/app.${codec}`);
    expect(err.problem).toMatch(/^the first [\d.]+ [KM]B of the file decompress to [\d.]+ MB or more, over 10 times their size: stopped there, .* raise max_decompression_ratio \(config\), --max-decompression-ratio \(CLI\) or sparkOptimizer\.maxDecompressionRatio \(editor\)$/);
    // Everything before the block that went over was handed on (blocks are at most 128 KB here), nothing after it.
    expect(stopped.bytes).toBeGreaterThan(RATIO_FREE_BYTES - 128 * 1024);
    expect(stopped.bytes).toBeLessThanOrEqual(RATIO_FREE_BYTES);
    // Within the ratio, the same input decodes whole.
    expect(await drain(codec, compressed, 1_000_000)).toEqual({ bytes: zeros.length, error: null });
  });

  it('a bad ratio option is a programming error, not a damaged file', async () => {
    for (const bad of [1, Number.NaN, 2_000_000]) {
      const { error } = await drain('gzip', gzipSync(Buffer.from('{}\n')), bad);
      expect(error).toBeInstanceOf(RangeError);
    }
  });

  it('a zstd file of RLE blocks stops after RATIO_FREE_BYTES, through collect and validate, naming the file and the setting', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'app-bomb.zstd');
    writeFileSync(file, zstdBomb(1024)); // 32 KB on disk, 1 GB decoded
    writeFileSync(path.join(dir, 'app-ok.zstd'), zstdFrames(Buffer.from(smallLog('app-ok'))));
    const started = Date.now();
    const { apps, problems } = await collectAll({ path: dir });
    expect(apps.map((a) => a.record.app_id)).toEqual(['app-ok']);
    expect(problems.map((p) => `${p.severity} ${p.code} ${p.file}`)).toEqual([`error decompression-limit ${file}`]);
    expect(problems[0]!.message).toMatch(/^the first [\d.]+ B of the file decompress to 16(\.\d)? MB or more, over 1000 times their size: .*max_decompression_ratio/);
    const run = await validate(dir);
    expect(run.out).toEqual([
      expect.stringMatching(new RegExp(`^${file}:1:1: error decompression-limit the first .* over 1000 times their size: .*--max-decompression-ratio .*\\. Collection stops there too\\.$`)),
      `${file}:1:1: error no-events No Spark listener event in this file: it is empty or not an event log.`,
    ]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('collect reads a file past the default ratio when max_decompression_ratio is raised', async () => {
    const dir = tempDir();
    const lines = smallLog('app-dense').trimEnd().split('\n');
    // 24 MB of one repeated line: beyond the free 16 MB, zstd packs it far past 1000x.
    const dense = JSON.stringify({ Event: 'SparkListenerBlockUpdated', 'Block Updated Info': { 'Block ID': 'rdd_0_0' } });
    const block = `${dense}\n`.repeat(Math.ceil((24 * MiB) / (dense.length + 1)));
    const text = `${lines.slice(0, 4).join('\n')}\n${block}${lines.slice(4).join('\n')}\n`;
    writeFileSync(path.join(dir, 'app-dense.zstd'), zstdFrames(Buffer.from(text), { level: 9 }));
    const stopped = await collectAll({ path: dir });
    expect(stopped.apps[0]!.problems.map((p) => p.code)).toEqual(['decompression-limit']);
    expect(stopped.apps[0]!.record.quality).toContain('truncated');
    const raised = await collectAll({ path: dir, maxDecompressionRatio: 100_000 });
    expect(raised.apps[0]!.problems).toEqual([]);
    expect(raised.apps[0]!.record).toMatchObject({ app_id: 'app-dense', end_time: new Date(T0 + 60_000).toISOString() });
  });
});

describe('a byte-order mark at the start of a log (issue 13 item 10)', () => {
  it('is not part of the first event: collect reads it and validate finds nothing, plain and gzip', async () => {
    const dir = tempDir();
    const text = smallLog('app-bom', { appName: 'bom' });
    writeFileSync(path.join(dir, 'app-bom'), `\uFEFF${text}`);
    writeFileSync(path.join(dir, 'app-bomz.gz'), gzipSync(Buffer.from(`\uFEFF${text.replace('app-bom', 'app-bomz')}`)));
    const { apps, problems } = await collectAll({ path: dir });
    expect(problems).toEqual([]);
    const records = apps.map((a) => a.record).sort((a, b) => a.app_id.localeCompare(b.app_id));
    expect(records.map((r) => [r.app_id, r.app_name, r.spark_version])).toEqual([
      ['app-bom', 'bom', '3.5.3'],
      ['app-bomz', 'bom', '3.5.3'],
    ]);
    expect(records.every((r) => !r.quality.includes('missing:spark_version'))).toBe(true);
    const run = await validate(dir, '--format', 'json');
    expect(run.out).toEqual([]);
    expect(run.code).toBe(0);
  });
});
