/** The friendly field table (storage/fields.ts): names, conditions with units, and SQL-side sort/filter on any field. */
import { describe, expect, it } from 'vitest';
import { sparkAppRecordSchema } from '../src/collectors/record';
import { FIELDS, FieldError, fieldByName, fieldsHelp, parseCondition } from '../src/storage/fields';
import { migrate } from '../src/storage/migrations';
import { SqlJsRepository } from '../src/storage/repository';
import { loadSqlJs, memoryDatabase } from '../src/storage/sqlJs';
import { makeRecord } from './support/records';

describe('fields', () => {
  it('lists every scalar record field once, and finds each by column, friendly name and label in any case', () => {
    const scalar = Object.keys(sparkAppRecordSchema.shape).filter((k) => !['tags', 'environment', 'quality'].includes(k));
    expect(FIELDS.map((f) => f.column).sort()).toEqual(scalar.sort());
    for (const f of FIELDS) {
      expect(fieldByName(f.column)?.column).toBe(f.column);
      expect(fieldByName(f.label.toUpperCase())?.column).toBe(f.column);
      for (const n of f.names) expect(fieldByName(n)?.column, n).toBe(f.column);
    }
    expect(fieldByName('duration')?.column).toBe('duration_ms');
    expect(fieldByName('failed')?.column).toBe('failed_tasks');
    expect(fieldByName('shuffle')?.column).toBe('shuffle_read_bytes');
    expect(fieldByName('Failed tasks')?.column).toBe('failed_tasks');
    expect(fieldByName('shuffle-write')?.column).toBe('shuffle_write_bytes');
    expect(fieldByName('environment')).toBeUndefined();
    expect(fieldByName('nope')).toBeUndefined();
  });

  it('no name stands for two fields', () => {
    const seen = new Map<string, string>();
    for (const f of FIELDS) {
      for (const n of [f.column, f.label.toLowerCase().replace(/\s+/g, '_'), ...f.names]) {
        expect(seen.get(n) ?? f.column, n).toBe(f.column);
        seen.set(n, f.column);
      }
    }
  });

  it('reads conditions with values in the field\'s units', () => {
    expect(parseCondition('failed_tasks>0')).toEqual({ field: 'failed_tasks', op: '>', value: 0 });
    expect(parseCondition('duration >= 1h30m')).toEqual({ field: 'duration_ms', op: '>=', value: 5_400_000 });
    expect(parseCondition('duration<90s')).toEqual({ field: 'duration_ms', op: '<', value: 90_000 });
    expect(parseCondition('cpu<=2.5h')).toEqual({ field: 'cpu_time_ms', op: '<=', value: 9_000_000 });
    expect(parseCondition('duration=500')).toEqual({ field: 'duration_ms', op: '=', value: 500 });
    expect(parseCondition('spill > 1GB')).toEqual({ field: 'disk_spilled_bytes', op: '>', value: 1024 ** 3 });
    expect(parseCondition('shuffle>=1.5g')).toEqual({ field: 'shuffle_read_bytes', op: '>=', value: 1.5 * 1024 ** 3 });
    expect(parseCondition('input>100')).toEqual({ field: 'input_bytes', op: '>', value: 100 });
    expect(parseCondition('memory>=4g')).toEqual({ field: 'executor_memory_mb', op: '>=', value: 4096 });
    expect(parseCondition('driver_memory=512')).toEqual({ field: 'driver_memory_mb', op: '=', value: 512 });
    expect(parseCondition('user=etl')).toEqual({ field: 'user', op: '=', value: 'etl' });
    expect(parseCondition('Failed tasks != 0')).toEqual({ field: 'failed_tasks', op: '!=', value: 0 });
    expect(parseCondition('start>=2024-06-01')).toEqual({ field: 'start_time', op: '>=', value: '2024-06-01T00:00:00.000Z' });
    expect(parseCondition('end=null')).toEqual({ field: 'end_time', op: '=', value: null });
    expect(parseCondition('cpu!=NULL')).toEqual({ field: 'cpu_time_ms', op: '!=', value: null });
  });

  it('refuses what it cannot read, saying what the field takes', () => {
    expect(() => parseCondition('failed')).toThrow(FieldError);
    expect(() => parseCondition('bogus>1')).toThrow(/unknown field "bogus"/);
    expect(() => parseCondition('duration>soon')).toThrow(/duration_ms takes a duration like 90s/);
    expect(() => parseCondition('duration>1h20')).toThrow(/duration_ms takes/);
    expect(() => parseCondition('failed>-1')).toThrow(/failed_tasks takes a whole number/);
    expect(() => parseCondition('spill>1XB')).toThrow(/disk_spilled_bytes takes a size/);
    expect(() => parseCondition('start>yesterday')).toThrow(/start_time takes a date/);
    expect(() => parseCondition('end>null')).toThrow(/null can only be compared with = or !=/);
  });

  it('help lists every field with its names', () => {
    const help = fieldsHelp();
    for (const f of FIELDS) expect(help).toContain(f.column);
    expect(help).toMatch(/^ {2}failed_tasks +failed +a whole number$/m);
    expect(help).toMatch(/^ {2}shuffle_read_bytes +shuffle_read, shuffle +a size like/m);
  });

  it('the repository sorts by any field and applies conditions in SQL', async () => {
    const db = memoryDatabase(await loadSqlJs());
    migrate(db, 'memory');
    const repo = new SqlJsRepository(db);
    repo.upsert([
      makeRecord({ app_id: 'a', failed_tasks: 0, disk_spilled_bytes: 5 * 1024 ** 3, duration_ms: 3_600_000, executor_memory_mb: 2048 }),
      makeRecord({ app_id: 'b', failed_tasks: 7, disk_spilled_bytes: 0, duration_ms: 60_000, executor_memory_mb: 8192 }),
      makeRecord({ app_id: 'c', failed_tasks: 2, disk_spilled_bytes: 2 * 1024 ** 3, duration_ms: null, end_time: null, status: 'running', executor_memory_mb: null }),
    ]);
    const ids = (q: Parameters<SqlJsRepository['list']>[0]): string[] => repo.list(q).map((r) => r.app_id);
    expect(ids({ sort: 'failed_tasks' })).toEqual(['b', 'c', 'a']);
    expect(ids({ sort: 'failed_tasks', descending: false })).toEqual(['a', 'c', 'b']);
    expect(ids({ sort: 'disk_spilled_bytes' })).toEqual(['a', 'c', 'b']);
    expect(ids({ sort: 'executor_memory_mb' })).toEqual(['b', 'a', 'c']);
    expect(ids({ where: [parseCondition('failed>0')], sort: 'app_id', descending: false })).toEqual(['b', 'c']);
    expect(ids({ where: [parseCondition('failed>0'), parseCondition('spill>1GB')] })).toEqual(['c']);
    expect(ids({ where: [parseCondition('duration>=1h')] })).toEqual(['a']);
    expect(ids({ where: [parseCondition('end=null')] })).toEqual(['c']);
    expect(repo.count({ where: [parseCondition('memory>=4g')] })).toBe(1);
    // Only table columns and operators reach the SQL text.
    expect(() => repo.list({ where: [{ field: 'app_id; DROP TABLE applications' as 'app_id', op: '=', value: 1 }] })).toThrow(/not a condition/);
    expect(() => repo.list({ where: [{ field: 'app_id', op: 'OR 1=1 --' as '=', value: 1 }] })).toThrow(/not a condition/);
    db.close();
  });
});
