/**
 * Which store the editor opens (issue 17), from the settings, and how it is named: pure, so that it
 * is tested in plain Node. `sparkOptimizer.database` (a path, sqlite:/// or postgres:// URL) wins;
 * empty, it is the `sparkOptimizer.databasePath` file.
 *
 * A password must not be stored in settings (DESIGN §4: secrets live in the secret storage or the
 * environment), so a postgres URL there with a literal password is refused, and every message about
 * the setting is scrubbed of what could be one: beyond location.ts's `withoutPassword`, which cuts the
 * URL's own user information and `?password=`, scrubPassword takes each candidate out of any text (a
 * server's error message may quote it).
 */
import * as path from 'node:path';
import { ENV_REFERENCE } from '../common/envReference';
import { DatabaseUrlError, isPostgresUrl, leniently, parseDatabaseLocation, passwordParameters, splitUserInfo, withoutPassword, type DatabaseLocation, type PostgresLocation } from '../storage/location';

export class DatabaseSettingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseSettingError';
  }
}

/** `scheme://` then the user information up to its `@`: the authority's (no `/`, `?`, `#` before it), or up to the text's last `@`. */
const AUTHORITY_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i;
const ANY_USERINFO = /^[a-z][a-z0-9+.-]*:\/\/(.*)@/is;
const passwordOf = (userinfo: string): string | undefined => splitUserInfo(userinfo).password;

/** True when the URL carries a password that is not a `${env:NAME}`: such a URL must not be kept in settings. */
export function hasLiteralPassword(text: string): boolean {
  const m = AUTHORITY_USERINFO.exec(text.trim());
  const password = m ? passwordOf(m[1]!) : undefined;
  // libpq's `?password=`, by its decoded name (`?pass%77ord=`), as parseDatabaseLocation takes it.
  return [password, ...passwordParameters(text).map((p) => p.value)].some((p) => p !== undefined && p !== '' && !ENV_REFERENCE.test(p));
}

/** `text` with anything `url` might carry as a password replaced by `***`, as written and as decoded. */
export function scrubPassword(text: string, url: string): string {
  const written = [
    ...[AUTHORITY_USERINFO, ANY_USERINFO].map((re) => re.exec(url.trim())?.[1]).map((userinfo) => (userinfo === undefined ? undefined : passwordOf(userinfo))),
    // libpq's `?password=…` by its decoded name: its value up to the next & or #, and (it may hold those unencoded) all after it.
    ...passwordParameters(url).flatMap((p) => [p.value, p.rest]),
  ].filter((p): p is string => p !== undefined && p !== '' && !ENV_REFERENCE.test(p));
  const candidates = [...new Set([...written, ...written.map(leniently)])].filter((p) => p !== '').sort((a, b) => b.length - a.length);
  return candidates.reduce((out, p) => out.split(p).join('***'), text);
}

/**
 * The URL as messages may show it: no password, even a malformed one. Not common/safeUrl.ts's
 * safeUrl, which it is not equivalent to: that one drops the user too and masks every credential-named
 * parameter as `***` (a source's URL); this one names the store as its status and password key do
 * (location.ts withoutPassword, whose user information is secretText.ts's rule, keeping the user and
 * `password=…`), then scrubs every text the setting could hold as a password (scrubPassword).
 */
export function safeUrl(url: string): string {
  return scrubPassword(withoutPassword(url.trim()), url);
}

/**
 * The store the settings name, relative paths against the workspace folder `root`. Throws
 * DatabaseSettingError, with a message safe to show and log, for a URL that cannot be used.
 */
export function editorLocation(settings: { database: string; databasePath: string }, root: string, env: NodeJS.ProcessEnv = process.env): DatabaseLocation {
  const text = settings.database.trim();
  if (text === '') {
    const file = path.resolve(root, settings.databasePath);
    return { kind: 'sqlite', file, display: file };
  }
  if (isPostgresUrl(text) && hasLiteralPassword(text)) {
    throw new DatabaseSettingError(
      `the setting sparkOptimizer.database (${safeUrl(text)}) has a password in it, and settings are no place for one: it was not used. ` +
        'Take the password out of the URL and run "Spark Optimizer: Set Database Password…" (or use PGPASSWORD, ~/.pgpass, or user:${env:NAME}@ in the URL).',
    );
  }
  try {
    return parseDatabaseLocation(text, root, env);
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw new DatabaseSettingError(`the setting sparkOptimizer.database: ${scrubPassword(err.message, text)}`);
    throw err;
  }
}

/** Where a server's password is kept in the editor's secret storage: by its URL without the password. */
export function passwordKey(loc: PostgresLocation): string {
  return `sparkOptimizer.dbPassword.${loc.display}`;
}

export interface StatusView {
  text: string;
  tooltip: string;
  /** The store could not be opened (or the setting is unusable): shown in the error colours. */
  error: boolean;
}

/** The status-bar item: which store is open; `problem` (already safe to show) when it could not be. */
export function storeStatus(loc: DatabaseLocation | undefined, problem: string | undefined): StatusView {
  const suffix = problem === undefined ? '' : `\n\nNot open: ${problem}`;
  if (loc === undefined) return { text: '$(database) Jobs database', tooltip: `Spark Optimizer jobs database${suffix}\n\nClick to change sparkOptimizer.database.`, error: true };
  if (loc.kind === 'sqlite') {
    return { text: `$(database) ${path.basename(loc.file)}`, tooltip: `Spark Optimizer jobs database: ${loc.file}${suffix}`, error: problem !== undefined };
  }
  return { text: `$(database) PostgreSQL ${loc.host}/${loc.database}`, tooltip: `Spark Optimizer jobs database: ${loc.display}${suffix}`, error: problem !== undefined };
}
