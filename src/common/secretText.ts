/**
 * Secrets in text: where a URL's user information is, which names (a Spark property, an environment
 * variable, a JVM `-D` option, a query parameter) hold a credential, and one function that masks
 * every secret a text can carry in its values (maskSecretText). Plain functions with no Node or zod
 * behind them: the collectors' redaction (collectors/record.ts), the views' URL masking
 * (safeUrl.ts), and storage migrations that mask what was stored before all use these, so that
 * there is one rule for each thing, in one place.
 */

/** What replaces a secret in a stored or shown text. */
export const REDACTED = '*********(redacted)';

/** Where a URL's user information is in a text: `text.slice(start, at)` is `user` or `user:password`. */
export interface UserInfoSpan {
  /** The first character after `scheme://`. */
  start: number;
  /** The `:` between user and password, or -1 when there is no password. */
  colon: number;
  /** The `@` that ends the user information. */
  at: number;
}

const SCHEME_CHAR = /[a-z0-9+.-]/i;
/** What ends a URL in a text: white space, a quote (so that a JSON text is read string by string), angle brackets. */
const URL_END = /[\s"<>]/;

/**
 * Every URL's user information in `text`. A URL starts at each `scheme://` (a letter, then letters,
 * digits, `+.-`) and ends at white space, a quote, `<` or `>`, or where the next `scheme://` starts
 * (`k8s://https://host`, a list of URLs). The user information runs to the LAST `@` of the URL, as
 * libpq and MongoDB's drivers read an unencoded one: a password may hold `@`, `/`, `?`, `#`, `;`
 * or `,` (`mongodb://u:p@ss@host`), and cutting too much is safe where showing part of a password
 * is not. So an `@` later in a path or query (`http://host:8080/x?to=a@b`) is read as the end of
 * user information too: the text up to it is hidden (but see the two exceptions below, a path with no
 * password and `host:port/`). A password holding white space runs on past it (spacedSpan). The user ends at the first `:` outside a
 * `${env:NAME}`. A scan from each `://`, not a regular expression (a review: one that tried a
 * scheme from every letter took 14 s over 100,000 stored environments).
 */
export function userInfoSpans(text: string): UserInfoSpan[] {
  const spans: UserInfoSpan[] = [];
  let from = 0;
  for (let sep = text.indexOf('://', from); sep !== -1; sep = text.indexOf('://', from)) {
    const start = sep + 3;
    from = start;
    const scheme = schemeStart(text, sep, 0);
    if (scheme === sep || !/[a-z]/i.test(text[scheme]!)) continue;
    const end = urlEnd(text, start, URL_END);
    const span = spanOf(text, start, end) ?? spacedSpan(text, start, end);
    if (span === undefined) continue;
    spans.push(span);
    from = Math.max(span.at + 1, end);
  }
  return spans;
}

/** Where the scheme whose `://` is at `sep` starts: the first of the scheme characters before it, not before `floor`. */
function schemeStart(text: string, sep: number, floor: number): number {
  let s = sep;
  while (s > floor && SCHEME_CHAR.test(text[s - 1]!)) s--;
  return s;
}

/** Where a URL whose authority starts at `start` ends: at the first character `stop` takes, or where the next `scheme://` starts. */
function urlEnd(text: string, start: number, stop: RegExp): number {
  const next = text.indexOf('://', start);
  // Read no further than the next `://`: a long line of URLs is read once, not once for each.
  const limit = next === -1 ? text.length : next;
  let end = start;
  while (end < limit && !stop.test(text[end]!)) end++;
  return end < limit || next === -1 ? end : schemeStart(text, next, start);
}

/** What ends a password that holds white space (spacedSpan): the line's end, a quote, angle brackets. */
const LINE_END = /[\r\n"<>]/;

/**
 * The user information of a URL whose password holds white space (`jdbc:postgresql://user:pa ss@host/db`,
 * `https://u:my secret@h`): white space ends a URL in a text, so the URL read from `start` ends at
 * `end` with a user, a `:` and the start of a password, and no `@`. The password then runs on over
 * white space to the last `@` before the line ends (or a quote, `<`, `>`, the next `scheme://`):
 * which `@` ends it cannot be told, and hiding text up to the last one is safe where showing the rest
 * of a password is not. Not read so, that ordinary texts stay as they are: what follows the `:` is a
 * port (`http://hs:18080 failed; mail ops@x`; the price, a password of 1-5 digits then white space
 * shows) or nothing (`https://example.com: write to a@b`), the `:` follows a path (`https://host/a:b
 * c@d`) or is an IPv6 host's (`http://[::1]:8080`), or spanOf's rules refuse the longer span
 * (`host:5432/db as bob@corp`). A password holding both `@` and white space (`u:p@ss word@h`) still
 * shows what follows its first white space: the URL read to it has user information already.
 */
function spacedSpan(text: string, start: number, end: number): UserInfoSpan | undefined {
  if (!/[^\S\r\n]/.test(text[end] ?? '') || text[start] === '[') return undefined;
  const colon = userColon(text, start, end);
  if (colon === -1 || /^\d{0,5}$/.test(text.slice(colon + 1, end))) return undefined;
  const span = spanOf(text, start, urlEnd(text, start, LINE_END));
  return span !== undefined && span.colon === colon && span.at > end ? span : undefined;
}

/**
 * The user information of the URL whose authority starts at `start` and that ends at `end`
 * (userInfoSpans' rule for one URL): to its last `@`, the password after the user's first `:`, and
 * neither a path's `@` nor `host:PORT/` read as one.
 */
function spanOf(text: string, start: number, end: number): UserInfoSpan | undefined {
  // The last `@` of this URL, looked for in it alone: lastIndexOf from `end` would read back to the text's start for each URL that has none.
  const inUrl = text.slice(start, end).lastIndexOf('@');
  if (inUrl === -1) return undefined;
  const at = start + inUrl;
  const colon = userColon(text, start, at);
  const path = text.slice(start, at).search(/[/?#]/);
  // No user name holds `/`, `?` or `#`: an `@` after one, with no password before it, is in a path
  // or query (`https://host/path/@x`). Nor is `host:PORT/…` user information (a Kerberos principal in
  // `jdbc:hive2://host:10000/default;principal=hive/_HOST@REALM`), though a password of 1-5 digits and
  // then `/` would read as one: the price of not hiding every such JDBC URL's path.
  if (path !== -1 && (colon === -1 || start + path < colon)) return undefined;
  if (colon !== -1 && /^\d{1,5}[/?#;,]/.test(text.slice(colon + 1, at))) return undefined;
  return { start, colon, at };
}

/**
 * The user information of `text` when the whole text is one URL (a database URL, a setting's value):
 * userInfoSpans' rule, except that only the text's end ends the URL, so that a password holding white
 * space, a quote or a `scheme://` is still all user information. Undefined: the text does not start
 * with `scheme://`, or has none.
 */
export function urlUserInfo(text: string): UserInfoSpan | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  return m ? spanOf(text, m[0].length, text.length) : undefined;
}

/** The first `:` in `text` between `start` and `end`, outside a `${env:NAME}` reference; -1 for none. */
function userColon(text: string, start: number, end: number): number {
  // The first `}` at or after `i` before `end` (`end`: none), looked for in this stretch alone and once for
  // all the `${env:` it holds: indexOf read on to the text's end for each (128,000 URLs `a://${env:X@h` on a line: 1.2 s).
  let close = start - 1;
  for (let i = start; i < end; i++) {
    if (text.startsWith('${env:', i)) {
      if (close < i) for (close = i; close < end && text[close] !== '}'; ) close++;
      if (close < end) {
        i = close;
        continue;
      }
    }
    if (text[i] === ':') return i;
  }
  return -1;
}

/** `text` with each URL's password (userInfoSpans) replaced by `mask`; the user and host stay, to tell runs apart. */
export function maskUrlPasswords(text: string, mask = REDACTED): string {
  if (!text.includes('://')) return text;
  let out = '';
  let copied = 0;
  for (const s of userInfoSpans(text)) {
    if (s.colon === -1) continue;
    out += `${text.slice(copied, s.colon + 1)}${mask}`;
    copied = s.at;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** `text` with each URL's whole user information (`user:password@`, userInfoSpans) left out. */
export function withoutUserInfo(text: string): string {
  if (!text.includes('://')) return text;
  let out = '';
  let copied = 0;
  for (const s of userInfoSpans(text)) {
    out += text.slice(copied, s.start);
    copied = s.at + 1;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/**
 * The words of a name: `spark.es.net.http.auth.pass` → spark es net http auth pass,
 * `keyStorePassword` → key Store Password, `MYSQL_PWD` → MYSQL PWD; numbers alone (`PASSWORD_2`'s 2) left out.
 * Other characters stay in a word (`weird}]key` is one word, and no credential's).
 */
function words(name: string): string[] {
  return name.split(/[\s._-]+|(?<=[a-z0-9])(?=[A-Z])/).filter((w) => w !== '' && !/^\d+$/.test(w));
}

/**
 * A word that names a credential: a password (`pass`, `pwd`, `passphrase`), a token (`pat` a
 * personal access token), `auth`/`authorization` (a header or a Redis password), a key, a secret,
 * credentials, a signature, a session id or a cookie; or a word that ends in one (`PGPASS`,
 * `APIKEY`, `accesstoken`). Not `authenticate`, `keytab`, `keyStore`'s `key` (only a last word counts
 * for most names: secretName), nor `session` (`spark.sql.hive.thriftServer.singleSession`).
 */
const SECRET_WORD = /^(?:pass(?:wd|word|phrase)?|pwd|pat|auth|authorization|(?:api)?keys?|tokens?|secrets?|creds?|credentials?|sig|signature|j?sessionid|cookie)$/i;
const SECRET_WORD_END = /^[A-Za-z0-9]*(?:pass|passwd|password|pwd|key|token|secret)$/i;
/** What every word SECRET_WORD or SECRET_WORD_END takes holds. */
const SECRET_STEM = /pass|pwd|pat|auth|key|token|secret|cred|sig|session|cookie/i;
const secretWord = (w: string): boolean => SECRET_WORD.test(w) || SECRET_WORD_END.test(w);

/**
 * Whether `name` names a credential. `last`: its last word does (a Spark property, a JVM option, a
 * query parameter: `spark.redis.auth`, `-Ddb.passphrase`, `?access_token`, but not
 * `spark.io.encryption.keySizeBits` or `-Djava.security.auth.login.config`). `any`: any of its words
 * does (an environment variable, whose name is all there is: `DB_PASS`, `GITHUB_PAT`, `PGPASS`,
 * `AWS_SECRET_ACCESS_KEY`, `PASSWORD_FILE`; not `PYTHONPATH`, `JAVA_HOME`).
 */
export function secretName(name: string, scope: 'last' | 'any' = 'last'): boolean {
  // Most names hold no stem of a credential word: told without splitting them (hundreds of properties a record).
  if (!SECRET_STEM.test(name)) return false;
  const w = words(name);
  if (w.length === 0) return false;
  return scope === 'last' ? secretWord(w[w.length - 1]!) : w.some(secretWord);
}

/** An environment variable's name in a Spark property that sets one (`spark.executorEnv.DB_PASS`, `spark.yarn.appMasterEnv.X`, `spark.kubernetes.driverEnv.X`). */
export function environmentVariableOf(key: string): string | undefined {
  // `(.+)$` crosses no line's end, so only the last line can hold the name; tried on the whole key, it read
  // from each `.executorEnv.` to a line break at the end and back (32,000 of them: 5 s).
  let line = key.length;
  while (line > 0 && !/[\n\r\u2028\u2029]/.test(key[line - 1]!)) line--;
  return /\.(?:executorEnv|appMasterEnv|driverEnv)\.(.+)$/i.exec(key.slice(line))?.[1];
}

/**
 * `name=value` pairs in a text whose name is a credential (secretName, last word): at the start, after
 * white space, a quote, `,([{` (free text, `-D` JVM options) or after `?`, `&` or `;` (a query
 * string, a SQL Server JDBC URL's `;pwd=`). The value runs to white space or a quote; in a query
 * string also to `&` or `#`, after `;` to the next `;` (or a SQL Server `{…}` value whole), and it
 * never runs into a JSON string's closing `\"`. A quoted value is masked to its closing quote.
 */
const PARAM = /(?:^|(?<=[\s?&;,([{"']))(-D)?([A-Za-z_][\w.-]*)=/g;

function maskParams(text: string, mask: string): string {
  if (!text.includes('=')) return text;
  let out = '';
  let copied = 0;
  // Found once: a `;name={` with no `}` after it would otherwise read to the text's end for each (`;pwd={` 128,000 times: 0.7 s).
  const lastBrace = text.lastIndexOf('}');
  PARAM.lastIndex = 0;
  for (let m = PARAM.exec(text); m !== null; m = PARAM.exec(text)) {
    const lead = m.index === 0 ? '' : text[m.index - 1]!;
    const from = m.index + m[0].length;
    const end = valueEnd(text, from, m[1] !== undefined ? ' ' : lead, lastBrace);
    PARAM.lastIndex = Math.max(end, from);
    if (end === from || !secretName(m[2]!) || text.slice(from, end) === mask) continue;
    out += `${text.slice(copied, from)}${mask}`;
    copied = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Where a parameter's value that starts at `from` ends, by what came before its name (maskParams); `lastBrace`: the text's last `}`, -1 for none. */
function valueEnd(text: string, from: number, lead: string, lastBrace: number): number {
  const first = text[from];
  if (first === '"' || first === "'") {
    const close = text.indexOf(first, from + 1);
    if (close !== -1) return close + 1;
  }
  if (first === '{' && lead === ';' && lastBrace > from) {
    const close = text.indexOf('}', from + 1);
    if (close !== -1) return close + 1;
  }
  const stop = lead === '?' || lead === '&' ? /[\s"&#]/ : lead === ';' ? /[\s";]/ : /[\s"]/;
  let i = from;
  while (i < text.length && !stop.test(text[i]!) && !(text[i] === '\\' && text[i + 1] === '"')) i++;
  return i;
}

/** Oracle's `jdbc:oracle:thin:user/` (no `://`), before a password (maskOracle). */
const ORACLE_HEAD = /jdbc:oracle:[a-z0-9]+:[^\s/@":]*\//gi;
/** What ends an Oracle URL in a text: white space, a quote. */
const ORACLE_END = /[\s"]/;
/** White space that does not end a line: the start of a password holding white space. */
const SPACE = /[^\S\r\n]/;

/**
 * `text` with the password of each Oracle `jdbc:oracle:thin:user/password@host` masked: to the last `@`
 * of the URL read to white space or a quote; or, when that holds no `@` (a password holding white space,
 * as spacedSpan reads one), on over the white space to the last `@` before the line ends, a quote, `<` or
 * `>`. A masked password is left as it is. A scan, not one regular expression: one that read each URL
 * with no `@` after it to the line's end took 14 s for 32,000 such URLs on a line (`jdbc:oracle:thin:u/p q`),
 * 24 s without the white space (`jdbc:oracle:thin:u/p` 32,000 times); here the URL's and the line's last
 * `@` are each found once, for all the URLs in them.
 */
function maskOracle(text: string, mask: string): string {
  let out = '';
  let copied = 0;
  const url: Stretch = { end: -1, at: -1 };
  const line: Stretch = { end: -1, at: -1 };
  ORACLE_HEAD.lastIndex = 0;
  for (let m = ORACLE_HEAD.exec(text); m !== null; m = ORACLE_HEAD.exec(text)) {
    const from = m.index + m[0].length;
    let at = lastAt(text, from, ORACLE_END, url);
    if (at === -1 && url.end > from && SPACE.test(text[url.end] ?? '')) at = lastAt(text, url.end + 1, LINE_END, line);
    // No password's end: the next URL is looked for from here (none starts inside `jdbc:oracle:x:user/`).
    if (at === -1) continue;
    ORACLE_HEAD.lastIndex = at + 1;
    if (text.slice(from, at) === mask) continue;
    out += `${text.slice(copied, from)}${mask}`;
    copied = at;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** A stretch of a text that ends at `end` (a character some `stop` takes, or the text's end), and its last `@` (-1: none). */
interface Stretch {
  end: number;
  at: number;
}

/**
 * The last `@` from `from` up to the first character `stop` takes (or the text's end); -1 for none.
 * `seen` is the stretch read last: a `from` in it (they only grow) is answered from it, not read again.
 */
function lastAt(text: string, from: number, stop: RegExp, seen: Stretch): number {
  if (from > seen.end) {
    let end = from;
    let at = -1;
    for (; end < text.length && !stop.test(text[end]!); end++) if (text[end] === '@') at = end;
    seen.end = end;
    seen.at = at;
  }
  return seen.at >= from ? seen.at : -1;
}

/**
 * Credentials that are recognisable by their shape alone, under any key or in any text; a short,
 * precise list: Databricks personal access tokens (`dapi` + 32 hex), Google OAuth access tokens
 * (`ya29.`), AWS access key ids (`AKIA`/`ASIA` + 16).
 */
const TOKEN_SHAPES = /\b(?:dapi[0-9a-f]{32}(?:-\d+)?|ya29\.[\w.-]+|(?:AKIA|ASIA)[0-9A-Z]{16})\b/g;
/** Whether a text may hold anything maskSecretText masks (a password ends at `@`, a parameter has `=`): most property values hold none of these. */
const MAY_HOLD = /[=@]|dapi|ya29\.|A[KS]IA/;

/**
 * `text` with every secret it carries in its values masked by `mask` (REDACTED by default):
 * - a URL's password (maskUrlPasswords: `jdbc:mysql://hive:PW@db`, `mongodb://u:p@ss@host`);
 * - Oracle's `jdbc:oracle:thin:scott/PW@db`;
 * - a credential-named `name=value` (maskParams): `?access_token=…`, `&password=…`, `?auth=…`,
 *   `;pwd=…` (SQL Server), `-Dfoo.pwd=…`, `-Ddb.passphrase=…`, `password=…` in free text: only the value;
 * - token-shaped values (TOKEN_SHAPES).
 * What is not a secret is left exactly as it is (a URL is not rewritten), and masking twice changes
 * nothing (so a stored text can be masked again, and a masked URL keeps its identity). Safe on a JSON
 * text too (nothing runs past a quote), but meant for decoded strings: a stored environment, a
 * regression check's texts, a record's tags, an error message.
 */
export function maskSecretText(text: string, mask = REDACTED): string {
  if (!MAY_HOLD.test(text)) return text;
  let out = maskUrlPasswords(text, mask);
  if (/jdbc:oracle/i.test(out)) out = maskOracle(out, mask);
  out = maskParams(out, mask);
  return /dapi|ya29\.|A[KS]IA/.test(out) ? out.replace(TOKEN_SHAPES, mask) : out;
}
