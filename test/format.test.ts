/** The duration text every view and the CLI share (src/common/format.ts). */
import { describe, expect, it } from 'vitest';
import { formatDuration } from '../src/common/format';

describe('formatDuration', () => {
  it('carries a rounded unit up instead of printing 60 of it', () => {
    expect(formatDuration(119_600)).toBe('2m 0s');
    expect(formatDuration(59_960)).toBe('1m 0s');
    expect(formatDuration(3_599_600)).toBe('1h 0m');
  });

  it('keeps each range as it was', () => {
    expect([null, 0, 999, 1000, 12_340, 59_940, 60_000, 125_400, 3_540_000, 7_380_000].map(formatDuration)).toEqual([
      '-',
      '0 ms',
      '999 ms',
      '1.0 s',
      '12.3 s',
      '59.9 s',
      '1m 0s',
      '2m 5s',
      '59m 0s',
      '2h 3m',
    ]);
  });
});
