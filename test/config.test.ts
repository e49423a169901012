/**
 * The collector config parser (src/collectors/config.ts): forms, names, paths, defaults, limits and
 * error positions, one rule per test (issue 19; `npm run mutate` measures it, TESTING.md).
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { commonApiOptions } from '../src/collectors/configKeys';
import { configSchema, KEY_DOCS, keyDefault, parseConfig, SOURCE_SCHEMAS } from '../src/collectors/config';
import { REGRESSION_CONFIG_KEYS } from '../src/analysis/regressionThresholds';

const BASE = path.resolve('/configs/team');

function ok(text: string): ReturnType<typeof parseConfig>['sources'] {
  const { sources, errors } = parseConfig(text, BASE);
  expect(errors).toEqual([]);
  return sources;
}
/** The errors of a config whose other sources are kept (issue 14), with the names of those kept. */
function keptWith(text: string): { kept: string[]; errors: { message: string; line?: number; path: string }[] } {
  const { sources, errors } = parseConfig(text, BASE);
  return { kept: sources.map((s) => s.name), errors: errors.map((e) => ({ message: e.message, line: e.line, path: e.path.join('.') })) };
}
function errorsOf(text: string): { message: string; line?: number; path: string }[] {
  const { sources, errors } = parseConfig(text, BASE);
  expect(sources).toEqual([]);
  return errors.map((e) => ({ message: e.message, line: e.line, path: e.path.join('.') }));
}

describe('parseConfig: forms and names', () => {
  it('the single collector form: its name is its type, relative paths resolve against the file’s folder, defaults filled in', () => {
    expect(ok('collector:\n  type: event_log\n  path: logs\n')).toEqual([{ type: 'event_log', name: 'event_log', path: path.join(BASE, 'logs'), recursive: true, batch_size: 100 }]);
  });

  it('the sources list: unnamed sources are <type>-<position>, named ones keep their name', () => {
    const sources = ok('sources:\n  - type: event_log\n    path: /abs/logs\n  - type: history_server\n    history_server_url: http://hs:18080\n  - type: event_log\n    name: mine\n    path: [a, /b]\n');
    expect(sources.map((s) => s.name)).toEqual(['event_log-1', 'history_server-2', 'mine']);
    expect(sources[0]).toMatchObject({ path: '/abs/logs' });
    expect(sources[2]).toMatchObject({ path: [path.join(BASE, 'a'), '/b'] });
  });

  it('history_server defaults', () => {
    expect(ok('collector:\n  type: history_server\n  history_server_url: https://hs.example.com\n')[0]).toEqual({
      type: 'history_server',
      name: 'history_server',
      history_server_url: 'https://hs.example.com',
      mode: 'api',
      concurrency: 4,
      insecure_skip_verify: false,
      timeout: 30,
      status: 'completed',
      batch_size: 100,
    });
  });

  it('cloud defaults (emr reads CloudWatch unless told not to)', () => {
    expect(ok('collector:\n  type: emr\n')[0]).toEqual({ type: 'emr', name: 'emr', batch_size: 100, concurrency: 4, timeout: 30, cloudwatch: true });
    expect(ok('collector:\n  type: databricks\n')[0]).toEqual({ type: 'databricks', name: 'databricks', batch_size: 100, concurrency: 4, timeout: 30 });
    expect(ok('collector:\n  type: dataproc\n')[0]).toEqual({ type: 'dataproc', name: 'dataproc', batch_size: 100, concurrency: 4, timeout: 30 });
  });

  it('a local event_log_dir resolves against the file’s folder; s3://, dbfs:/ and other URLs stay as written', () => {
    const sources = ok(
      'sources:\n  - type: databricks\n    name: a\n    event_log_dir: logs/dbx\n  - type: databricks\n    name: b\n    event_log_dir: dbfs:/cluster-logs\n  - type: emr\n    name: c\n    event_log_dir: s3://bucket/prefix\n  - type: emr\n    name: d\n    event_log_dir: /var/log/spark\n',
    );
    expect(sources.map((s) => ('event_log_dir' in s ? s.event_log_dir : undefined))).toEqual([path.join(BASE, 'logs/dbx'), 'dbfs:/cluster-logs', 's3://bucket/prefix', '/var/log/spark']);
  });

  it('duplicate names: an error on the second one’s name, naming the first; the first is kept', () => {
    expect(keptWith('sources:\n  - type: emr\n    name: x\n  - type: databricks\n    name: x\n')).toEqual({ kept: ['x'], errors: [{ message: 'duplicate source name "x" (also source 1)', line: 5, path: 'sources.1.name' }] });
    // Default names collide too.
    expect(keptWith('sources:\n  - type: emr\n    name: emr-2\n  - type: emr\n')).toEqual({ kept: ['emr-2'], errors: [{ message: 'duplicate source name "emr-2" (also source 1)', line: 4, path: 'sources.1.name' }] });
  });
});

describe('parseConfig: errors with their line', () => {
  it('YAML syntax errors, first line of the message only, and nothing else is checked', () => {
    // `type: nope` would be an error of its own if the broken document were validated.
    expect(errorsOf('collector:\n  type: nope\n  path: [x\n')).toEqual([{ message: 'Flow sequence in block collection must be sufficiently indented and end with a ]', line: 4, path: '' }]);
  });

  it('a top-level error has no path prefix; an unknown key is on its own line', () => {
    expect(errorsOf('sources:\n  - type: emr\nextra: 1\n')).toEqual([{ message: 'Unrecognized key: "extra"', line: 3, path: '' }]);
  });

  it.each(['', 'just text\n', '- a\n- b\n', 'other: 1\n'])('no collector or sources key (%j): one error on line 1', (text) => {
    expect(errorsOf(text)).toEqual([{ message: 'expected a top-level `collector:` (one source) or `sources:` (a list of named sources)', line: 1, path: '' }]);
  });

  it('a field error names the field path and its line (the other sources are kept)', () => {
    expect(keptWith('sources:\n  - type: event_log\n    path: logs\n  - type: history_server\n    history_server_url: ftp://hs\n')).toEqual({
      kept: ['event_log-1'],
      errors: [{ message: 'sources.1.history_server_url: must be an http:// or https:// URL', line: 5, path: 'sources.1.history_server_url' }],
    });
  });

  it('an unknown key is an error on its own line', () => {
    const [e] = errorsOf('collector:\n  type: event_log\n  path: logs\n  recursiv: false\n');
    // The key's line, as validate and the editor show it (a review: collect gave the mapping's, line 2).
    expect(e).toMatchObject({ line: 4, path: 'collector' });
    expect(e!.message).toMatch(/^collector: .*recursiv/);
  });

  it('sources must not be empty; both forms at once pick the single form (and fail on sources)', () => {
    expect(errorsOf('sources: []\n')[0]).toMatchObject({ path: 'sources', line: 1 });
    expect(errorsOf('collector:\n  type: emr\nsources:\n  - type: emr\n')).toEqual([{ message: 'Unrecognized key: "sources"', line: 3, path: '' }]);
  });

  it('path is required for event_log, with a message that says what it is', () => {
    expect(errorsOf('collector:\n  type: event_log\n')).toEqual([{ message: 'collector.path: path is required: a folder or file of event logs, or a list of them', line: 2, path: 'collector.path' }]);
  });

  it('since must be a date', () => {
    expect(ok('collector:\n  type: emr\n  since: 2024-05-01\n')[0]).toMatchObject({ since: '2024-05-01' });
    expect(errorsOf('collector:\n  type: emr\n  since: yesterday\n')).toEqual([{ message: 'collector.since: must be a date or time such as 2024-05-01, 2024-05-01 12:00 (local) or 2024-05-01T12:00:00Z', line: 3, path: 'collector.since' }]);
  });
});

describe('parseConfig: values', () => {
  it('enumerations accept each of their values and nothing else', () => {
    const hs = (extra: string): string => `collector:\n  type: history_server\n  history_server_url: http://hs\n  ${extra}\n`;
    for (const mode of ['api', 'eventlog']) expect(ok(hs(`mode: ${mode}`))[0]).toMatchObject({ mode });
    for (const status of ['completed', 'running', 'all']) expect(ok(hs(`status: ${status}`))[0]).toMatchObject({ status });
    expect(errorsOf(hs('mode: rest'))[0]!.path).toBe('collector.mode');
    expect(errorsOf(hs('status: failed'))[0]!.path).toBe('collector.status');
    const states = ['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'];
    expect(ok(`collector:\n  type: emr\n  cluster_states: [${states.join(', ')}]\n`)[0]).toMatchObject({ cluster_states: states });
    expect(errorsOf('collector:\n  type: emr\n  cluster_states: [DONE]\n')[0]!.path).toBe('collector.cluster_states.0');
    for (const jobState of ['all', 'active', 'non_active']) expect(ok(`collector:\n  type: dataproc\n  job_state: ${jobState}\n`)[0]).toMatchObject({ job_state: jobState });
  });

  it('strings longer than one character where one is needed', () => {
    expect(ok('collector:\n  type: history_server\n  history_server_url: http://hs\n  username: bob\n  ca_file: ca.pem\n  user: alice\n')[0]).toMatchObject({ username: 'bob', ca_file: 'ca.pem', user: 'alice' });
    expect(ok('collector:\n  type: emr\n  cluster_ids: [j-ABC, j-DEF]\n')[0]).toMatchObject({ cluster_ids: ['j-ABC', 'j-DEF'] });
    expect(errorsOf('collector:\n  type: emr\n  cluster_ids: [""]\n')[0]!.path).toBe('collector.cluster_ids.0');
  });

  it('URLs must start with http:// or https://, not merely contain it', () => {
    expect(errorsOf('collector:\n  type: emr\n  endpoint_url: ftp://host/?next=http://x\n')).toEqual([{ message: 'collector.endpoint_url: must be an http:// or https:// URL', line: 3, path: 'collector.endpoint_url' }]);
  });

  it('a local event_log_dir with a colon later in it is still a local path', () => {
    expect(ok('collector:\n  type: emr\n  event_log_dir: logs/run:1\n')[0]).toMatchObject({ event_log_dir: path.join(BASE, 'logs/run:1') });
  });

  it('configSchema accepts both forms, as the JSON Schema describes them', () => {
    expect(configSchema.safeParse({ collector: { type: 'emr' } }).success).toBe(true);
    expect(configSchema.safeParse({ sources: [{ type: 'event_log', path: 'x' }] }).success).toBe(true);
    expect(configSchema.safeParse({ other: 1 }).success).toBe(false);
  });
});

describe('parseConfig: regression thresholds (issue 18)', () => {
  it('every source type takes a regression: mapping; its keys are checked and named in errors with their line', () => {
    for (const type of Object.keys(SOURCE_SCHEMAS)) expect(Object.keys(SOURCE_SCHEMAS[type as keyof typeof SOURCE_SCHEMAS].shape), type).toContain('regression');
    expect(ok('collector:\n  type: event_log\n  path: logs\n  regression:\n    factor: 2\n    baseline_runs: 20\n')[0]).toMatchObject({ regression: { factor: 2, baseline_runs: 20 } });
    expect(ok('collector:\n  type: emr\n  regression: {min_increase_mb: 0}\n')[0]).toMatchObject({ regression: { min_increase_mb: 0 } });
    const text = 'sources:\n  - name: a\n    type: event_log\n    path: logs\n  - name: b\n    type: history_server\n    history_server_url: http://hs\n    regression:\n      factor: 0.5\n      min_increase_secs: 60\n';
    expect(keptWith(text)).toEqual({
      kept: ['a'],
      errors: [
        { message: 'sources.1.regression.factor: Too small: expected number to be >=1', line: 9, path: 'sources.1.regression.factor' },
        { message: 'sources.1.regression: Unrecognized key: "min_increase_secs"', line: 10, path: 'sources.1.regression' },
      ],
    });
  });
});

describe('parseConfig: limits', () => {
  const src = (type: string, extra: string): string => `collector:\n  type: ${type}\n${type === 'event_log' ? '  path: logs\n' : ''}${type === 'history_server' ? '  history_server_url: http://hs\n' : ''}  ${extra}\n`;
  it.each([
    ['event_log', 'batch_size', 1, 10_000],
    ['event_log', 'concurrency', 1, 64],
    ['event_log', 'zstd_max_window_mb', 1, 1024],
    ['history_server', 'concurrency', 1, 32],
    ['history_server', 'timeout', 1, 600],
    ['history_server', 'max_apps', 1, 1_000_000],
    ['history_server', 'batch_size', 1, 10_000],
    ['emr', 'concurrency', 1, 32],
    ['emr', 'timeout', 1, 600],
    ['emr', 'max_apps', 1, 1_000_000],
    ['emr', 'batch_size', 1, 10_000],
  ] as const)('%s %s: %d to %d', (type, key, min, max) => {
    expect(ok(src(type, `${key}: ${min}`))[0]).toMatchObject({ [key]: min });
    expect(ok(src(type, `${key}: ${max}`))[0]).toMatchObject({ [key]: max });
    expect(errorsOf(src(type, `${key}: ${min - 1}`))[0]!.path).toBe(`collector.${key}`);
    expect(errorsOf(src(type, `${key}: ${max + 1}`))[0]!.path).toBe(`collector.${key}`);
  });

  it('integers where a count is meant; a timeout may be fractional', () => {
    expect(errorsOf(src('event_log', 'batch_size: 1.5'))[0]!.path).toBe('collector.batch_size');
    expect(errorsOf(src('emr', 'max_apps: 2.5'))[0]!.path).toBe('collector.max_apps');
    expect(ok(src('emr', 'timeout: 1.5'))[0]).toMatchObject({ timeout: 1.5 });
  });

  it('names: 1 to 100 characters', () => {
    expect(ok(`collector:\n  type: emr\n  name: ${'n'.repeat(100)}\n`)[0]!.name).toHaveLength(100);
    expect(errorsOf(`collector:\n  type: emr\n  name: ${'n'.repeat(101)}\n`)[0]!.path).toBe('collector.name');
    expect(errorsOf('collector:\n  type: emr\n  name: ""\n')[0]!.path).toBe('collector.name');
  });

  it('empty strings are refused where a value is needed', () => {
    for (const extra of ['user: ""', 'region: ""', 'profile: ""']) expect(errorsOf(src('emr', extra))[0]!.path).toBe(`collector.${extra.split(':')[0]}`);
    expect(errorsOf(src('databricks', 'token: ""'))[0]!.path).toBe('collector.token');
    expect(errorsOf(src('event_log', 'user: ""'))[0]!.path).toBe('collector.user');
  });
});

describe('commonApiOptions', () => {
  it('maps config keys to collector options: since as a Date, timeout in ms', () => {
    expect(commonApiOptions({ name: 'hs', since: '2024-05-01T00:00:00Z', user: 'u', max_apps: 7, concurrency: 3, batch_size: 50, timeout: 2.5 })).toEqual({
      source: 'hs',
      since: new Date('2024-05-01T00:00:00Z'),
      user: 'u',
      maxApps: 7,
      concurrency: 3,
      batchSize: 50,
      timeoutMs: 2500,
    });
    expect(commonApiOptions({ name: 'hs', concurrency: 4, batch_size: 100, timeout: 30 }).since).toBeUndefined();
    expect(commonApiOptions({ name: 'hs', since: '', concurrency: 4, batch_size: 100, timeout: 30 }).since).toBeUndefined();
  });
});

describe('key documentation', () => {
  it('every key of every source type, and the two top-level keys, has a description', () => {
    const keys = new Set(['collector', 'sources', ...Object.values(SOURCE_SCHEMAS).flatMap((s) => Object.keys(s.shape)), ...REGRESSION_CONFIG_KEYS]);
    for (const key of keys) expect(KEY_DOCS[key]?.length ?? 0, key).toBeGreaterThan(10);
    expect(Object.keys(KEY_DOCS).sort()).toEqual([...keys].sort());
  });

  it('keyDefault: the default of the first source type that has the key', () => {
    expect(keyDefault('recursive')).toBe(true);
    expect(keyDefault('batch_size')).toBe(100);
    expect(keyDefault('concurrency')).toBeUndefined(); // event_log has no default; it comes first
    expect(keyDefault('mode')).toBe('api');
    expect(keyDefault('cloudwatch')).toBe(true);
    expect(keyDefault('path')).toBeUndefined();
    expect(keyDefault('no_such_key')).toBeUndefined();
  });
});
