/**
 * The secrets a source uses (a token, a client secret, an AWS secret key) cut from a text that goes
 * into a problem or an error: a service's error message is shown as it came, and a service could
 * echo what it was sent. A value shorter than 4 characters is left: masking it would mask ordinary
 * text.
 */
export function maskSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const s of secrets) if (s !== undefined && s.length >= 4) out = out.split(s).join('***');
  return out;
}
