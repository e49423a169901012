/**
 * URLs as they may be shown: without user info, fragment or secret-looking query values. One place
 * for the CLI's `runs` table and every view that shows where a source reads (its config may carry
 * `https://user:pw@host` or `?access_token=…`; a review found both in the Sources tooltip).
 */

/** Query parameters whose values are credentials (a signed URL's signature, an API key, a token). */
const SECRET_PARAM = /token|secret|password|passwd|pwd|key|sig|signature|credential|auth|session|code/i;

/** `url` without what could be a credential; text that is not a URL is returned as it is. */
export function safeUrl(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return text;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not readable as a URL: nothing of it is shown past its scheme and host-like start.
    return text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/]*@/i, '$1').replace(/[?#].*$/, '');
  }
  url.username = '';
  url.password = '';
  url.hash = '';
  for (const key of [...url.searchParams.keys()]) if (SECRET_PARAM.test(key)) url.searchParams.set(key, '***');
  return url.toString();
}

/** Every URL in `text` through safeUrl, and a `user:password@` before a host without a scheme dropped. */
export function maskUrls(text: string): string {
  return text
    .replace(/[a-z][a-z0-9+.-]*:\/\/[^\s,;'"<>`]+/gi, (url) => {
      const safe = safeUrl(url);
      return safe === normalized(url) ? url : safe;
    })
    .replace(/(^|[\s(,])[^\s:/@(),]+:[^\s/@(),]*@(?=[^\s@])/g, '$1');
}

/** How `new URL` writes `url` back (a URL with nothing to hide is shown as written, without the slash URL adds). */
function normalized(url: string): string {
  try {
    return new URL(url).toString();
  } catch {
    return url;
  }
}
