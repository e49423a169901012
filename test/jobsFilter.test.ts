/** The Jobs tree's filter box (views/jobCommands.ts): since: read as the CLI reads it, in local time (a review). */
import { describe, expect, it } from 'vitest';
import { filterOf, filterText, filterWords, localSince } from '../src/views/jobCommands';

describe("the Jobs tree's filter", () => {
  it('reads since: as local time, as jobs --since does, and gives it back as typed', () => {
    const f = filterOf('name:etl since:2024-06-01 user:maria');
    expect(f).toEqual({ name: 'etl', user: 'maria', since: new Date(2024, 5, 1).toISOString() });
    expect(localSince(f.since!)).toBe('2024-06-01');
    const t = filterOf('since:2024-06-01T12:30');
    expect(t.since).toBe(new Date(2024, 5, 1, 12, 30).toISOString());
    expect(localSince(t.since!)).toBe('2024-06-01T12:30');
  });

  it('takes values with spaces in quotes, and pre-fills them quoted (a review: "source:folder: logs" was split)', () => {
    const f = filterOf('source:"folder: logs" name:"Daily Revenue" user:maria status:failed');
    expect(f).toEqual({ source: 'folder: logs', name: 'Daily Revenue', user: 'maria', status: 'failed' });
    // What the box is pre-filled with reads back to the same filter.
    expect(filterText(f)).toBe('source:"folder: logs" name:"Daily Revenue" user:maria status:failed');
    expect(filterOf(filterText(f))).toEqual(f);
    const odd = { name: 'say "hi" \\ bye', source: 'a:b' };
    expect(filterOf(filterText(odd))).toEqual(odd);
    expect(filterOf('"Daily Revenue"')).toEqual({ name: 'Daily Revenue' });
    expect(filterOf('etl: report')).toEqual({ name: 'report' });
    expect(filterWords('name:"open')).toBeUndefined();
  });
});
