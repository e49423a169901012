import { describe, expect, it } from 'vitest';
import { isCi, sharedMode } from './support/shared';

describe('describeShared without ../shared', () => {
  it('fails the run in CI, skips loudly elsewhere, runs when the data is there', () => {
    expect(sharedMode(false, true)).toBe('fail');
    expect(sharedMode(false, false)).toBe('skip');
    expect(sharedMode(true, true)).toBe('run');
    expect(sharedMode(true, false)).toBe('run');
  });

  it('reads CI as CI systems set it', () => {
    expect(isCi({ CI: 'true' })).toBe(true);
    expect(isCi({ CI: '1' })).toBe(true);
    expect(isCi({ CI: 'TRUE' })).toBe(true);
    expect(isCi({})).toBe(false);
    expect(isCi({ CI: '' })).toBe(false);
    expect(isCi({ CI: 'false' })).toBe(false);
    expect(isCi({ CI: '0' })).toBe(false);
  });
});
