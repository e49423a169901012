/** Hovers on config keys with digits and on quoted keys (a review: `[A-Za-z_]+` matched neither). */
import { describe, expect, it } from 'vitest';
import { describeConfigKey } from '../src/analysis/hover';

describe('config key hovers', () => {
  it.each([
    ['a key with a digit', '    s3_endpoint_url: http://s3.local', 6, 's3_endpoint_url'],
    ['a double-quoted key', '  "max_line_mb": 64', 4, 'max_line_mb'],
    ['a single-quoted key in a list item', "  - 'name': nightly", 6, 'name'],
  ])('%s', (_what, line, character, key) => {
    expect(describeConfigKey(line, character)).toMatch(new RegExp(`^\\*\\*${key}\\*\\*: `));
  });

  it('not past the key, nor on its value', () => {
    expect(describeConfigKey('    s3_endpoint_url: http://s3.local', 25)).toBeUndefined();
    expect(describeConfigKey('  "max_line_mb": 64', 1)).toBeUndefined();
  });
});
