/**
 * capStoredText keeps an environment within its limits as it is, without a copy (issue #12: a copy
 * per record of 10,000 small logs), and cuts one past them as before: the edges of both limits.
 */
import { describe, expect, it } from 'vitest';
import { MAX_STORED_ENVIRONMENT, MAX_STORED_TEXT, capStoredText, cappedFlag } from '../src/collectors/record/finish';
import { makeRecord } from './support/records';

/** Properties of `count` keys `kNNN` whose keys and values hold `total` characters in all. */
function propsOf(count: number, total: number): Record<string, string> {
  const props: Record<string, string> = {};
  const keyLength = 4;
  let left = total - count * keyLength;
  for (let i = 0; i < count; i++) {
    const size = i === count - 1 ? left : Math.floor((total - count * keyLength) / count);
    props[`k${String(i).padStart(3, '0')}`] = 'v'.repeat(size);
    left -= size;
  }
  return props;
}

describe('capStoredText at the edges of its limits', () => {
  it('properties of exactly MAX_STORED_ENVIRONMENT characters, each value at most MAX_STORED_TEXT: kept as they are, the same object', () => {
    const environment = propsOf(20, MAX_STORED_ENVIRONMENT);
    expect(Math.max(...Object.values(environment).map((v) => v.length))).toBeLessThanOrEqual(MAX_STORED_TEXT);
    const record = makeRecord({ environment });
    expect(capStoredText(record, 'f')).toEqual([]);
    expect(record.environment).toBe(environment);
    expect(record.quality).toEqual([]);
  });

  it('one character more: the last property is left out, flagged and said', () => {
    const environment = propsOf(20, MAX_STORED_ENVIRONMENT + 1);
    const record = makeRecord({ environment, quality: ['b', 'a'] });
    const problems = capStoredText(record, 'f');
    expect(problems).toEqual([expect.objectContaining({ code: 'value-capped', field: 'environment', message: expect.stringMatching(/^1 property is left out, past 1 M characters/) as unknown, file: 'f' })]);
    expect(Object.keys(record.environment)).toEqual(Object.keys(environment).slice(0, 19));
    expect(record.quality).toEqual(['a', 'b', cappedFlag('environment')]);
  });

  it('a value of exactly MAX_STORED_TEXT is kept, one of MAX_STORED_TEXT + 1 is cut; a key of MAX_STORED_TEXT + 1 is left out', () => {
    const exact = { a: 'x'.repeat(MAX_STORED_TEXT), b: 'y' };
    const kept = makeRecord({ environment: exact });
    expect(capStoredText(kept, 'f')).toEqual([]);
    expect(kept.environment).toBe(exact);

    const record = makeRecord({ environment: { a: 'x'.repeat(MAX_STORED_TEXT + 1), b: 'y' } });
    const problems = capStoredText(record, 'f');
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(/^a property value is over 65536 characters and kept cut to that: a \(65537 characters\)/);
    expect(record.environment.a).toBe(`${'x'.repeat(MAX_STORED_TEXT)}… [cut: ${MAX_STORED_TEXT + 1} characters]`);
    expect(record.environment.b).toBe('y');

    const longKey = makeRecord({ environment: { ['k'.repeat(MAX_STORED_TEXT + 1)]: 'v', b: 'y' } });
    expect(capStoredText(longKey, 'f')[0]!.message).toMatch(/^1 property is left out/);
    expect(longKey.environment).toEqual({ b: 'y' });
  });

  it('a long app name alone: flagged, the environment kept as it is', () => {
    const environment = { a: 'b' };
    const record = makeRecord({ app_name: 'n'.repeat(MAX_STORED_TEXT + 1), environment, quality: ['z'] });
    expect(capStoredText(record, 'f').map((p) => p.field)).toEqual(['app_name']);
    expect(record.environment).toBe(environment);
    expect(record.quality).toEqual([cappedFlag('app_name'), 'z']);
  });
});
