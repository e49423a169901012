/**
 * maskSecrets (src/collectors/maskSecrets.ts): the secrets a source uses cut from a service's error
 * text. One secret may hold another (a client secret holding the token it was issued, a password
 * holding the user's short token), in any order the caller lists them: no part of either may be left.
 */
import { describe, expect, it } from 'vitest';
import { maskSecrets } from '../src/collectors/maskSecrets';
import { scrubSecrets } from '../src/collectors/dataproc/auth';
import { scrubber } from '../src/collectors/emr/credentials';

describe('maskSecrets: a secret holding another is masked whole, whatever the order', () => {
  const token = 'tok-7f3a';
  const clientSecret = `cs-LEFT-${token}-RIGHT`;

  it.each([
    ['shorter first', [token, clientSecret]],
    ['longer first', [clientSecret, token]],
  ])('%s', (_, secrets) => {
    expect(maskSecrets(`invalid_client: ${clientSecret} (token ${token})`, secrets)).toBe('invalid_client: *** (token ***)');
  });

  it('sorts the percent-encoded and decoded forms of every secret with all the others', () => {
    // The password as written in a URL is `p%40ss-...`; a server quotes the decoded `p@ss-...`, which holds the user's token.
    const short = 'ss-9z8y';
    const password = `p%40${short}-wide`;
    expect(maskSecrets(`denied for p@${short}-wide and ${password}`, [short, password])).toBe('denied for *** and ***');
  });

  it('masks two secrets that overlap in a text whole, the run they cover together', () => {
    expect(maskSecrets('got abcdef1234ghij', ['abcdef12', 'ef1234ghij'])).toBe('got ***');
    expect(maskSecrets('got abcdef1234ghij', ['ef1234ghij', 'abcdef12'])).toBe('got ***');
  });

  it('leaves what is no secret, and values shorter than 4 characters', () => {
    expect(maskSecrets('a b c abc', ['abc', undefined])).toBe('a b c abc');
    expect(maskSecrets('tokentoken and token', ['token'])).toBe('****** and ***');
  });
});

describe('the cloud callers pass their secrets in any order', () => {
  it('Dataproc scrubSecrets', () => {
    expect(scrubSecrets('bad assertion opaque-XYZW-outer', 'XYZW', 'opaque-XYZW-outer')).toBe('bad assertion ***');
  });

  it('EMR scrubber: a session token that holds the secret key', () => {
    const secretAccessKey = 'wJalrXUtnFEMI-K7MDENG';
    const sessionToken = `FwoGZXIvYXdzE${secretAccessKey}Lw==`;
    expect(scrubber({ accessKeyId: 'AKIA', secretAccessKey, sessionToken })(`echoed ${sessionToken}`)).toBe('echoed ***');
  });
});
