/** The one reader of typed dates and times (--since, --until, --where on a time, a config's since). */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseTime } from '../src/common/parseTime';
import { UsageError, parseDate, positiveInt } from '../src/cli/io';
import { fieldOf, parseValue } from '../src/storage/fields';

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('parseTime', () => {
  it('reads dates and times with a zone as that instant', () => {
    expect(parseTime('2024-05-01T12:00:00Z')!.toISOString()).toBe('2024-05-01T12:00:00.000Z');
    expect(parseTime('2024-05-01 12:00:30.25+02:00')!.toISOString()).toBe('2024-05-01T10:00:30.250Z');
    expect(parseTime('2024-05-01T12:00-0530')!.toISOString()).toBe('2024-05-01T17:30:00.000Z');
  });

  it('reads a date or time without a zone as local time, a date alone as local midnight', () => {
    expect(parseTime('2024-05-01')!.getTime()).toBe(new Date(2024, 4, 1).getTime());
    expect(parseTime('2024-05-01 09:15')!.getTime()).toBe(new Date(2024, 4, 1, 9, 15).getTime());
  });

  it('refuses what is not a date instead of guessing one', () => {
    for (const bad of ['5', '2019', 'yesterday', '2019-02-30', '2023-02-29', '2024-13-01', '2024-05-01 24:00', '2024-05-01T12:60', '05/01/2024', '2024-05-01T12:00+15:00']) {
      expect(parseTime(bad), bad).toBeUndefined();
    }
    expect(parseTime('2024-02-29')).toBeDefined();
  });

  it('is what --since and --where read, so that they agree', () => {
    expect(() => parseDate('since', '5')).toThrow(/--since must be a date or time like 2024-05-01/);
    expect(parseDate('since', '2019-04-09')!.toISOString()).toBe(parseValue(fieldOf('end_time'), '2019-04-09'));
    expect(() => parseValue(fieldOf('end_time'), '2019-02-30')).toThrow(/end_time takes a date or time/);
  });
});

describe('count flags', () => {
  it('refuse numbers past a billion with the flag named, and --offset takes 0', () => {
    expect(() => positiveInt('limit', '99999999999999999999', 100)).toThrow(new UsageError('--limit must be at most 1,000,000,000, got 99999999999999999999'));
    expect(positiveInt('limit', '1000000000', 100)).toBe(1_000_000_000);
    expect(positiveInt('offset', '0', 0, 0)).toBe(0);
    expect(() => positiveInt('limit', '0', 100)).toThrow(/--limit must be a positive integer/);
  });
});
