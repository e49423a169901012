/**
 * The secrets a source uses (a token, a client secret, an AWS secret key) cut from a text that goes
 * into a problem or an error: a service's error message is shown as it came, and a service could
 * echo what it was sent, as it was sent or percent-encoded (a password written `p%40ss` in a URL is
 * sent as `p@ss`; a server may quote either). A value shorter than 4 characters is left: masking it
 * would mask ordinary text.
 */
export function maskSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) {
    if (s === undefined || s.length < 4) continue;
    // Longest first: a form that holds another is masked whole.
    for (const form of [...new Set([s, encodeURIComponent(s), decoded(s)])].filter((f) => f.length >= 4).sort((a, b) => b.length - a.length)) out = out.split(form).join('***');
  }
  return out;
}

/** `text` percent-decoded, or as it is when it is no valid encoding. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
