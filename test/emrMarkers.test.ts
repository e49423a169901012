/** EMR's Marker paging stops on a repeated marker instead of paging forever (a review: ListSteps grew to 204 MB in 15 s). */
import { describe, expect, it } from 'vitest';
import { PageTokenGuard } from '../src/collectors/api/listingGuard';

describe('PageTokenGuard (EMR\'s Marker)', () => {
  it('passes new markers, ends on none or an empty one, and refuses one given before', () => {
    const g = new PageTokenGuard('Marker');
    expect(g.next('m1')).toBe('m1');
    expect(g.next('m2')).toBe('m2');
    expect(g.next(undefined)).toBeUndefined();
    expect(g.next('')).toBeUndefined();
    expect(() => g.next('m1')).toThrow('the server returned Marker "m1" twice; listing stopped to avoid a loop');
  });
});
