/**
 * The record model's own rules (src/collectors/record.ts), one test per rule, so that a broken
 * rule fails a test that names it (issue 19; `npm run mutate` measures it, TESTING.md).
 */
import { describe, expect, it } from 'vitest';
import { sparkVersionBefore } from '../src/collectors/record/sparkVersion';
import { formatProblem, matchesFilter, noSparkMetrics, platformLevelQuality, redactSecrets, sparkAppRecordSchema, validateRecord, type SparkAppRecord } from '../src/collectors/record';
import { makeRecord } from './support/records';
import { REDACTED } from '../src/common/secretText';

describe('redactSecrets', () => {
  // Each alternative of the key pattern alone, with a value that says nothing secret.
  it.each([
    'spark.my.secret',
    'spark.ssl.keyStorePassword',
    'spark.db.passwd',
    'spark.service.token',
    'spark.hadoop.fs.gs.auth.service.account.json.keyfile.credential',
    'spark.hadoop.fs.s3a.access.key',
    'spark.hadoop.fs.s3a.access_key',
    'spark.hadoop.fs.s3a.access-key',
    'spark.hadoop.fs.s3a.accesskey',
    'spark.ssh.private.key',
    'spark.ssh.private_key',
    'spark.ssh.privatekey',
    'spark.request.signature',
    'spark.authenticate.secret',
    'spark.databricks.api.key',
    'spark.hadoop.fs.azure.account.key.myaccount.blob.core.windows.net',
    'spark.hadoop.fs.azure.sas.mycontainer.myaccount.blob.core.windows.net',
    'SPARK.SERVICE.TOKEN',
  ])('redacts the key %s', (key) => {
    expect(redactSecrets({ [key]: 'plain-value-42', 'spark.app.name': 'etl' })).toEqual({ [key]: REDACTED, 'spark.app.name': 'etl' });
  });

  // Each alternative of the value pattern alone (Spark's default spark.redaction.regex), under an innocent key.
  it.each(['-Dsecret=abc', '-Ddb.password=abc', '-Dapi.token=abc', '-Dfs.s3a.access.key=abc', '-DPASSWORD=abc'])('redacts a value holding %s', (value) => {
    expect(redactSecrets({ 'spark.driver.extraJavaOptions': value, 'spark.executor.memory': '4g' })).toEqual({ 'spark.driver.extraJavaOptions': REDACTED, 'spark.executor.memory': '4g' });
  });

  it('keeps settings that only sound like credentials (issue 16): Spark’s rule does not match them', () => {
    // A credentials provider names a class, not a credential (a security review, L1: it was hidden).
    const props = { 'spark.kubernetes.authenticate.driver.serviceAccountName': 'spark', 'spark.authenticate': 'true', 'spark.hadoop.fs.s3a.aws.credentials.provider': 'x' };
    expect(redactSecrets(props)).toEqual(props);
    expect(redactSecrets({ 'spark.hadoop.fs.s3a.bucket.b.credentials': 'x' })).toEqual({ 'spark.hadoop.fs.s3a.bucket.b.credentials': REDACTED });
  });

  it('adds the application’s own spark.redaction.regex to Spark’s default, with the known credential keys on top', () => {
    const props = { 'spark.redaction.regex': '(?i)secret|mycorp', 'spark.mycorp.id': '7', 'spark.my.password': 'p', 'spark.db.passwd': 'p', 'spark.executor.memory': '4g' };
    // Its rule adds mycorp; it names no password, but an own rule never shows what the default hides; passwd is a known credential key.
    expect(redactSecrets(props)).toEqual({ 'spark.redaction.regex': REDACTED, 'spark.mycorp.id': REDACTED, 'spark.my.password': REDACTED, 'spark.db.passwd': REDACTED, 'spark.executor.memory': '4g' });
    // A rule JavaScript cannot read falls back to Spark's default.
    expect(redactSecrets({ 'spark.redaction.regex': '(?<x', 'spark.my.token': 't' })['spark.my.token']).toBe(REDACTED);
  });

  it('keeps ordinary keys and values, and an access_key value (outside Spark’s value rule) readable', () => {
    const props = { 'spark.executor.memory': '4g', 'spark.master': 'k8s://https://10.0.0.1:443', 'spark.sql.shuffle.partitions': '200', 'spark.app.tags': 'access_key_rotation' };
    expect(redactSecrets(props)).toEqual(props);
  });

  it('hides the password of a URL with user info, which neither rule matches (a review: a Hive metastore URL was stored and shown)', () => {
    const props = {
      'spark.hadoop.javax.jdo.option.ConnectionURL': 'jdbc:mysql://hive:s3cr3tPw@db.internal:3306/metastore?useSSL=true',
      'spark.mongodb.read.connection.uri': 'mongodb://etl:pw-42@m1:27017,m2:27017/db',
      'spark.master': 'k8s://https://10.0.0.1:443',
      'spark.eventLog.dir': 's3a://logs@bucket/events',
      'spark.driver.extraJavaOptions': '-Dcatalog=http://svc:p%40ss@cat:8080/api -Dx=1',
    };
    expect(redactSecrets(props)).toEqual({
      'spark.hadoop.javax.jdo.option.ConnectionURL': `jdbc:mysql://hive:${REDACTED}@db.internal:3306/metastore?useSSL=true`,
      'spark.mongodb.read.connection.uri': `mongodb://etl:${REDACTED}@m1:27017,m2:27017/db`,
      'spark.master': 'k8s://https://10.0.0.1:443',
      'spark.eventLog.dir': 's3a://logs@bucket/events',
      'spark.driver.extraJavaOptions': `-Dcatalog=http://svc:${REDACTED}@cat:8080/api -Dx=1`,
    });
  });

  it('does not change its argument', () => {
    const props = { 'spark.service.token': 'abc' };
    redactSecrets(props);
    expect(props).toEqual({ 'spark.service.token': 'abc' });
  });
});

describe('sparkVersionBefore', () => {
  it.each([
    ['2.0.2', 2, 1, true],
    ['2.1.0', 2, 1, false],
    ['2.2.0', 2, 1, false],
    ['1.6.3', 2, 1, true],
    ['3.0.0', 2, 1, false],
    ['1.4.0-SNAPSHOT', 1, 5, true],
    ['10.0.0', 2, 1, false],
    ['2.10.0', 2, 9, false],
    ['2.10.0', 2, 11, true],
    ['12.3', 12, 4, true],
    ['v2.0', 2, 1, false],
    ['x.2.0', 2, 1, false],
    ['2', 2, 1, false],
    [null, 2, 1, false],
  ] as const)('%s before %d.%d: %s', (version, major, minor, before) => {
    expect(sparkVersionBefore(version, major, minor)).toBe(before);
  });
});

describe('validateRecord', () => {
  it('a valid, consistent record has no problem', () => {
    expect(validateRecord(makeRecord(), 'f')).toEqual([]);
    // The edges of each rule are still consistent.
    expect(validateRecord(makeRecord({ num_executors: 1, failed_tasks: 100, total_tasks: 100, failed_stages: 5, total_stages: 5, duration_ms: 0 }))).toEqual([]);
    expect(validateRecord(makeRecord({ num_executors: null, duration_ms: null }))).toEqual([]);
  });

  it('schema failures are errors naming the field, with the file', () => {
    expect(validateRecord(makeRecord({ input_bytes: -1 }), 'logs/app-1')).toEqual([
      { severity: 'error', code: 'record-invalid', field: 'input_bytes', message: 'field input_bytes: Too small: expected number to be >=0', file: 'logs/app-1' },
    ]);
    expect(validateRecord(makeRecord({ tags: { a: 1 as unknown as string } }))).toEqual([
      { severity: 'error', code: 'record-invalid', field: 'tags.a', message: 'field tags.a: Invalid input: expected string, received number', file: undefined },
    ]);
  });

  it('a schema failure of the whole record says (record)', () => {
    const problems = validateRecord('not a record' as unknown as Parameters<typeof validateRecord>[0]);
    expect(problems[0]).toMatchObject({ severity: 'error', code: 'record-invalid', field: '', message: expect.stringMatching(/^field \(record\): /) as unknown });
  });

  it.each([
    [{ num_executors: 0 }, 'num_executors', 'no executor was ever added'],
    [{ failed_tasks: 5, total_tasks: 4 }, 'failed_tasks', 'failed_tasks 5 > total_tasks 4'],
    [{ failed_stages: 3, total_stages: 2 }, 'failed_stages', 'failed_stages 3 > total_stages 2'],
    [{ duration_ms: -1 }, 'duration_ms', 'application ends before it starts'],
    [{ start_time: null }, 'start_time', 'no SparkListenerApplicationStart: start time unknown'],
  ] as const)('inconsistent %o: one warning on %s', (overrides, field, message) => {
    const problems = validateRecord(makeRecord(overrides), 'f').filter((p) => p.code !== 'record-invalid');
    expect(problems).toEqual([{ severity: 'warning', code: 'record-inconsistent', field, message, file: 'f' }]);
  });

  it('the schema: times are UTC ISO strings without offset; an attempt id, when present, is not empty', () => {
    expect(sparkAppRecordSchema.safeParse(makeRecord({ start_time: '2024-06-01T02:00:01.000+02:00' })).success).toBe(false);
    expect(sparkAppRecordSchema.safeParse(makeRecord({ attempt_id: '' })).success).toBe(false);
    expect(sparkAppRecordSchema.safeParse(makeRecord({ attempt_id: '12' })).success).toBe(true);
    expect(sparkAppRecordSchema.safeParse(makeRecord({ app_id: '' })).success).toBe(false);
  });
});

describe('formatProblem', () => {
  it('file:line: severity [code] message, with what is known', () => {
    expect(formatProblem({ severity: 'error', code: 'malformed-json', message: 'bad', file: 'a.log', line: 3, column: 46 })).toBe('a.log:3:46: error malformed-json bad');
    expect(formatProblem({ severity: 'error', code: 'malformed-json', message: 'bad', file: 'a.log', line: 3 })).toBe('a.log:3: error malformed-json bad');
    expect(formatProblem({ severity: 'warning', code: 'c', message: 'm', file: 'a.log' })).toBe('a.log: warning c m');
    expect(formatProblem({ severity: 'info', code: 'c', message: 'm' })).toBe('information c m');
  });
});

describe('matchesFilter', () => {
  const r = makeRecord({ user: 'etl', start_time: '2024-06-01T00:00:01.000Z', end_time: '2024-06-01T00:10:01.000Z' });
  it('user must match exactly', () => {
    expect(matchesFilter(r, { user: 'etl' })).toBe(true);
    expect(matchesFilter(r, { user: 'other' })).toBe(false);
    expect(matchesFilter(r, {})).toBe(true);
  });
  it('since compares the end time, inclusive; a running app (no end) its start; no time at all matches only a running app (queued: of now)', () => {
    expect(matchesFilter(r, { since: new Date('2024-06-01T00:05:00.000Z') })).toBe(true);
    expect(matchesFilter(r, { since: new Date('2024-06-01T00:10:01.000Z') })).toBe(true);
    expect(matchesFilter(r, { since: new Date('2024-06-01T00:10:01.001Z') })).toBe(false);
    const running = makeRecord({ end_time: null, start_time: '2024-06-01T00:00:01.000Z' });
    expect(matchesFilter(running, { since: new Date('2024-06-01T00:00:01.000Z') })).toBe(true);
    expect(matchesFilter(running, { since: new Date('2024-06-01T00:00:01.001Z') })).toBe(false);
    expect(matchesFilter(makeRecord({ start_time: null, end_time: null }), { since: new Date(0) })).toBe(false);
    // A queued job (running, not started): kept whatever --since says (a review: a PENDING Dataproc job was dropped).
    expect(matchesFilter(makeRecord({ status: 'running', start_time: null, end_time: null }), { since: new Date() })).toBe(true);
    expect(matchesFilter(makeRecord({ start_time: null, end_time: null }), {})).toBe(true);
  });
});

describe('platform-level records', () => {
  it('have every Spark metric 0, CPU time unknown, each flagged missing', () => {
    expect(noSparkMetrics()).toEqual({ total_tasks: 0, failed_tasks: 0, total_stages: 0, failed_stages: 0, cpu_time_ms: null, input_bytes: 0, output_bytes: 0, shuffle_read_bytes: 0, shuffle_write_bytes: 0, memory_spilled_bytes: 0, disk_spilled_bytes: 0 });
    expect([...platformLevelQuality()].sort()).toEqual(
      ['platform_level', ...['total_tasks', 'failed_tasks', 'total_stages', 'failed_stages', 'cpu_time_ms', 'input_bytes', 'output_bytes', 'shuffle_read_bytes', 'shuffle_write_bytes', 'memory_spilled_bytes', 'disk_spilled_bytes'].map((f) => `missing:${f}`)].sort(),
    );
  });
});

describe('a record without a start time', () => {
  it('is warned about as an event log would be, as a finished platform record is, but not as a queued platform record (a review)', () => {
    const startless = (over: Partial<SparkAppRecord>): string[] => validateRecord(makeRecord({ start_time: null, duration_ms: null, ...over })).filter((p) => p.field === 'start_time').map((p) => p.message);
    expect(startless({})).toEqual(['no SparkListenerApplicationStart: start time unknown']);
    expect(startless({ quality: ['platform_level'] })).toEqual(['start time unknown: the platform gave none']);
    expect(startless({ quality: ['platform_level'], status: 'running', end_time: null })).toEqual([]);
  });
});
