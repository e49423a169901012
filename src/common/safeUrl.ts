/**
 * URLs as they may be shown: without user info, fragment or secret-looking query values. One place
 * for the CLI's `runs` table and every view that shows where a source reads (its config may carry
 * `https://user:pw@host` or `?access_token=…`; a review found both in the Sources tooltip). Which
 * part is user information and which parameter is a credential are secretText.ts's rules, the ones
 * the collectors redact by.
 */
import { maskSecretText, secretName, withoutUserInfo } from './secretText';

/** `url` without what could be a credential; text that is not a URL is returned as it is. */
export function safeUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  const bare = withoutUserInfo(text);
  let url: URL;
  try {
    url = new URL(bare);
  } catch {
    // Not readable as a URL: nothing of it is shown past its scheme and host-like start.
    return bare.replace(/[?#].*$/, '');
  }
  url.hash = '';
  for (const key of [...url.searchParams.keys()]) if (secretName(key)) url.searchParams.set(key, '***');
  return url.toString();
}

/**
 * Every URL in `text` through safeUrl, its user information cut first (to the last `@` before the
 * host, so that a password holding `;`, `,` or `@` goes whole: secretText.ts userInfoSpans), every
 * other secret the text carries masked (maskSecretText), and a `user:password@` before a host
 * without a scheme dropped.
 */
export function maskUrls(text: string): string {
  const urls = withoutUserInfo(text).replace(/[a-z][a-z0-9+.-]*:\/\/[^\s,;'"<>`]+/gi, (url) => {
    const safe = safeUrl(url);
    return safe === normalized(url) ? url : safe;
  });
  return maskSecretText(urls, '***').replace(/(^|[\s(,])[^\s:/@(),]+:[^\s/@(),]*@(?=[^\s@])/g, '$1');
}

/** How `new URL` writes `url` back (a URL with nothing to hide is shown as written, without the slash URL adds). */
function normalized(url: string): string {
  try {
    return new URL(url).toString();
  } catch {
    return url;
  }
}
