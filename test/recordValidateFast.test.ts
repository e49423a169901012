/**
 * validateRecord checks a record with plain checks first and leaves to zod only what those do not
 * accept (issue #12: zod's parse was a third of a small log's cost besides its lines). The plain
 * checks must accept nothing the schema refuses: for every record here, the schema problems are
 * exactly zod's issues, as they were when zod saw every record.
 */
import { describe, expect, it } from 'vitest';
import { sparkAppRecordSchema, validateRecord, type SparkAppRecord } from '../src/collectors/record';
import { makeRecord } from './support/records';

/**
 * The record-invalid problems of `record` as zod alone gives them (what validateRecord did before);
 * 'throws' where making them threw (a symbol key in the path cannot be joined), as it did there.
 */
function zodProblems(record: unknown, file: string): unknown[] | 'throws' {
  const parsed = sparkAppRecordSchema.safeParse(record);
  if (parsed.success) return [];
  try {
    return issuesAsProblems(parsed.error.issues, file);
  } catch (err) {
    if (err instanceof TypeError) return 'throws';
    throw err;
  }
}

function issuesAsProblems(issues: readonly { path: PropertyKey[]; message: string }[], file: string): unknown[] {
  return issues.map((issue) => ({
    severity: 'error',
    code: 'record-invalid',
    field: issue.path.join('.'),
    message: `field ${issue.path.join('.') || '(record)'}: ${issue.message}`,
    file,
  }));
}

/**
 * Expects validateRecord to give `record` zod's record-invalid problems (a fresh copy of it made by
 * `make`, as validateRecord replaces what zod refuses). Where it throws, making zod's problems threw
 * too (a symbol key in the path), or its consistency rules threw on a value no source gives (an
 * object where a count belongs): they run after the schema's check, whichever way it was made.
 */
function expectZods(make: () => unknown, label: string): void {
  const expected = zodProblems(make(), 'f');
  let actual: unknown[] | 'throws';
  try {
    actual = validateRecord(make() as SparkAppRecord, 'f').filter((p) => p.code === 'record-invalid');
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    actual = 'throws';
  }
  if (actual === 'throws' && expected !== 'throws') expect(() => rulesOnly(make() as SparkAppRecord), label).toThrow(TypeError);
  else expect(actual, label).toEqual(expected);
}

/** validateRecord's consistency rules alone, on a record the schema takes but for the fields they read. */
function rulesOnly(record: SparkAppRecord): void {
  validateRecord({ ...makeRecord(), num_executors: record.num_executors, failed_tasks: record.failed_tasks, total_tasks: record.total_tasks, failed_stages: record.failed_stages, total_stages: record.total_stages, duration_ms: record.duration_ms, start_time: record.start_time, quality: record.quality }, 'f');
}

function shown(v: unknown): string {
  try {
    return typeof v === 'symbol' ? v.toString() : (JSON.stringify(v) ?? String(v));
  } catch {
    return Object.prototype.toString.call(v);
  }
}

const TIME_FIELDS = ['submit_time', 'start_time', 'end_time'] as const;
const COUNT_FIELDS = ['duration_ms', 'executor_cores', 'executor_memory_mb', 'num_executors', 'driver_memory_mb', 'total_tasks', 'failed_tasks', 'total_stages', 'failed_stages', 'cpu_time_ms', 'input_bytes', 'output_bytes', 'shuffle_read_bytes', 'shuffle_write_bytes', 'memory_spilled_bytes', 'disk_spilled_bytes'] as const;
const TEXT_FIELDS = ['app_id', 'attempt_id', 'app_name', 'user', 'spark_version', 'source'] as const;
const ALL_FIELDS = [...TIME_FIELDS, ...COUNT_FIELDS, ...TEXT_FIELDS, 'tags', 'environment', 'status', 'quality'] as const;

const nullProto = (entries: Record<string, unknown>): object => Object.assign(Object.create(null) as object, entries);
const withHidden = (): object => Object.defineProperty({ a: 'x' }, 'b', { value: 1, enumerable: false });
class Props {
  a = 'x';
}

/** Values a field may be given, valid for some fields and not for others. */
const VALUES: readonly unknown[] = [
  null,
  undefined,
  '',
  'x',
  0,
  -0,
  1,
  -1,
  1.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 53 - 1,
  2 ** 53,
  true,
  [],
  ['a'],
  [1],
  {},
  { a: 'x' },
  { a: 1 },
  { a: null },
  { [Symbol('s')]: 'x' },
  nullProto({ a: 'x' }),
  nullProto({ a: 2 }),
  withHidden(),
  new Props(),
  { constructor: 'x' },
  JSON.parse('{"__proto__":"x","a":"y"}') as unknown,
  JSON.parse('{"__proto__":1}') as unknown,
  new Map([['a', 'x']]),
  'completed',
  'running',
  'done',
  '2024-06-01T00:00:00.000Z',
  '2024-06-01T00:00:00Z',
  '2024-06-01T00:00:00.5Z',
  '2024-06-01T00:00:00.000000Z',
  '2024-06-01T00:00:00.000+00:00',
  '2024-06-01 00:00:00.000Z',
  '2024-06-01T24:00:00.000Z',
  '2024-06-01T23:60:00.000Z',
  '2024-06-01T23:59:60.000Z',
  '2024-13-01T00:00:00.000Z',
  '2024-00-01T00:00:00.000Z',
  '2024-06-31T00:00:00.000Z',
  '2024-06-00T00:00:00.000Z',
  '+012024-06-01T00:00:00.000Z',
  '0000-01-01T00:00:00.000Z',
  '9999-12-31T23:59:59.999Z',
  '２０２４-06-01T00:00:00.000Z',
];

describe('validateRecord without zod for what it plainly accepts', () => {
  it('a valid record: no problem, and the record is unchanged', () => {
    const record = makeRecord({ environment: { 'spark.master': 'yarn', 'spark.executor.memory': '4g' }, quality: ['a', 'b'] });
    const before = structuredClone(record);
    expect(validateRecord(record, 'f')).toEqual([]);
    expect(record).toEqual(before);
  });

  it('tries every field of the schema: a field added to it fails here until the plain checks and this test take it', () => {
    expect([...ALL_FIELDS].sort()).toEqual(Object.keys(sparkAppRecordSchema.shape).sort());
  });

  it.each(ALL_FIELDS)('%s: every value gives zod’s problems', (field) => {
    for (const value of VALUES) expectZods(() => makeRecord({ [field]: value }), `${field} = ${shown(value)}`);
  });

  it('quality: an array with a hole or a non-string member gives zod’s problems', () => {
    const holed = (): string[] => {
      const quality: string[] = [];
      quality[1] = 'a';
      return quality;
    };
    expectZods(() => makeRecord({ quality: holed() }), 'a hole');
    expectZods(() => makeRecord({ quality: ['a', 1 as unknown as string] }), 'a number');
    expectZods(() => makeRecord({ quality: ['a', null as unknown as string] }), 'null');
  });

  it('a field left out, an extra field, a record that is not a plain object: zod’s problems', () => {
    const withoutId = (): Partial<SparkAppRecord> => {
      const record: Partial<SparkAppRecord> = makeRecord();
      delete record.app_id;
      return record;
    };
    expectZods(withoutId, 'no app_id');
    expectZods(() => ({ ...makeRecord(), extra: 1 }), 'an extra field');
    expectZods(() => Object.assign(new Props(), makeRecord()), 'a class instance');
    expectZods(() => nullProto({ ...makeRecord() }), 'no prototype');
    expectZods(() => 'not a record', 'a string');
  });

  it('every day of leap and common years, and the year’s edges: exactly the days zod takes', () => {
    for (const year of ['0000', '0004', '0100', '0400', '1900', '2000', '2023', '2024', '2100', '9999']) {
      for (let month = 0; month <= 13; month++) {
        for (let day = 0; day <= 32; day++) {
          const time = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}T12:34:56.789Z`;
          expectZods(() => makeRecord({ end_time: time }), time);
        }
      }
    }
  });
});
