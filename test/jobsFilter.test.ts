/** The Jobs tree's filter box (views/jobCommands.ts): since: read as the CLI reads it, in local time (a review). */
import { describe, expect, it } from 'vitest';
import { filterOf, localSince } from '../src/views/jobCommands';

describe("the Jobs tree's filter", () => {
  it('reads since: as local time, as jobs --since does, and gives it back as typed', () => {
    const f = filterOf('name:etl since:2024-06-01 user:maria');
    expect(f).toEqual({ name: 'etl', user: 'maria', since: new Date(2024, 5, 1).toISOString() });
    expect(localSince(f.since!)).toBe('2024-06-01');
    const t = filterOf('since:2024-06-01T12:30');
    expect(t.since).toBe(new Date(2024, 5, 1, 12, 30).toISOString());
    expect(localSince(t.since!)).toBe('2024-06-01T12:30');
  });
});
