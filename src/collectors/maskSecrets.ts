/**
 * The secrets a source uses (a token, a client secret, an AWS secret key) cut from a text that goes
 * into a problem or an error: a service's error message is shown as it came, and a service could
 * echo what it was sent, as it was sent or percent-encoded (a password written `p%40ss` in a URL is
 * sent as `p@ss`; a server may quote either). A value shorter than 4 characters is left: masking it
 * would mask ordinary text.
 *
 * Every place any form of any secret stands is found in the text as it came, and each run they
 * cover, alone or overlapping, becomes one `***`: one secret may hold another (a client secret holding
 * the token it was issued) or two may overlap where they are quoted, in whatever order a caller lists
 * them, and masking one first would leave the rest of the other visible.
 */
export function maskSecrets(text: string, secrets: Iterable<string | undefined>): string {
  const forms = new Set<string>();
  for (const s of secrets) if (s !== undefined && s.length >= 4) for (const f of [s, encodeURIComponent(s), decoded(s)]) if (f.length >= 4) forms.add(f);
  const runs: [number, number][] = [];
  for (const form of forms) for (let i = text.indexOf(form); i !== -1; i = text.indexOf(form, i + 1)) runs.push([i, i + form.length]);
  if (runs.length === 0) return text;
  runs.sort((a, b) => a[0] - b[0]);
  let out = '';
  let copied = 0;
  for (let r = 0; r < runs.length; ) {
    const from = runs[r]![0];
    let to = runs[r]![1];
    // Runs that overlap are one; one that only touches the last (`tokentoken`) is masked apart, as each occurrence always was.
    for (r++; r < runs.length && runs[r]![0] < to; r++) to = Math.max(to, runs[r]![1]);
    out += `${text.slice(copied, from)}***`;
    copied = to;
  }
  return out + text.slice(copied);
}

/** `text` percent-decoded, or as it is when it is no valid encoding. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
