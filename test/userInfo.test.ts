/** A URL's user and password never reach the database or a label (descriptor.ts withoutUserInfo, registry.ts recordedOptions). */
import { describe, expect, it } from 'vitest';
import { withoutUserInfo } from '../src/common/secretText';

describe('withoutUserInfo', () => {
  it('strips the whole user:password part, an @ in the user name included (a review: the password was stored)', () => {
    expect(withoutUserInfo('http://alice@corp.com:Pa55-SEKRIT@127.0.0.1:18080/')).toBe('http://127.0.0.1:18080/');
    // The user information runs to the LAST @ of the URL (a password may hold @, /, ?, #: a security
    // review, L1): an @ later in the query is read as its end too, and the text up to it goes. Cutting
    // too much is safe; showing part of a password is not.
    expect(withoutUserInfo('https://u:p@hs.example.com/api?x=a@b')).toBe('https://b');
    expect(withoutUserInfo('https://u:pa/ss@hs.example.com/api')).toBe('https://hs.example.com/api');
    expect(withoutUserInfo('https://hs.example.com/path/@x')).toBe('https://hs.example.com/path/@x');
    expect(withoutUserInfo('http://hs:18080')).toBe('http://hs:18080');
  });
});
