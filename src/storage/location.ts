/**
 * Where the jobs live (issue 17): what `--db` and the `sparkOptimizer.database` setting name.
 * - a path, or `sqlite:///relative/path` / `sqlite:////absolute/path` (SQLAlchemy's spelling, the
 *   seed's `sqlite:///spark_optimizer.db`): the embedded sql.js file;
 * - `postgres://user@host:5432/db?sslmode=require&sslrootcert=ca.pem` (or `postgresql://`): a shared
 *   PostgreSQL server.
 *
 * A password never travels in what this returns for printing or storing (`display`): it comes from
 * PGPASSWORD, ~/.pgpass (the `pg` client reads both), a `${env:NAME}` in the URL, the editor's secret
 * storage, or, discouraged, the URL itself.
 */
import * as path from 'node:path';
import { ENV_REFERENCE, ENV_REFERENCES } from '../common/envReference';
import { urlUserInfo } from '../common/secretText';

export type SslMode = 'disable' | 'prefer' | 'require' | 'verify-ca' | 'verify-full';
const SSL_MODES: readonly SslMode[] = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'];
/** Query parameters a postgres URL may carry; anything else is refused rather than ignored. */
const PG_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'application_name', 'connect_timeout', 'statement_timeout', 'password'];

export interface PostgresLocation {
  kind: 'postgres';
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  /** Given in the URL (or through `${env:NAME}` there); undefined: PGPASSWORD, ~/.pgpass or a secret. */
  password: string | undefined;
  sslmode: SslMode;
  /** Files for TLS, resolved against the working folder. */
  sslrootcert: string | undefined;
  sslcert: string | undefined;
  sslkey: string | undefined;
  /** What the server's pg_stat_activity shows for the connection (default spark-optimizer). */
  applicationName: string;
  /** Seconds to wait for a connection and for each statement. */
  connectTimeoutS: number;
  statementTimeoutS: number;
  /** The URL without its password: what messages, the Output channel and the runs table show. */
  display: string;
}

export type DatabaseLocation = { kind: 'sqlite'; file: string; display: string } | PostgresLocation;

export class DatabaseUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUrlError';
  }
}


/** `${env:NAME}` anywhere in the text, from `env`; an unset one is an error naming it (never the text). */
function expandEnv(text: string, env: NodeJS.ProcessEnv, what: string): string {
  return text.replace(ENV_REFERENCES, (_, name: string) => {
    const v = env[name];
    if (v === undefined || v === '') throw new DatabaseUrlError(`${what} refers to environment variable ${name}, which is not set`);
    return v;
  });
}

export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

/**
 * The URL with any password taken out: safe for messages, logs and the database. Which part is user
 * information is secretText.ts's rule (urlUserInfo: to the URL's last `@`, since a password may hold
 * an unencoded `/`, `?`, `#` or `@`, and cutting too much is safe where printing a password is not;
 * the user name ends at its first `:` outside a `${env:NAME}`), the one the collectors and views mask
 * URLs by; libpq's `?password=` is cut too.
 */
export function withoutPassword(text: string): string {
  const span = urlUserInfo(text);
  if (span === undefined) return withoutPasswordParameter(text);
  const user = text.slice(span.start, span.colon === -1 ? span.at : span.colon);
  return withoutPasswordParameter(`${text.slice(0, span.start)}${user === '' ? '' : `${user}@`}${text.slice(span.at + 1)}`);
}

/**
 * User information (`user:password`, before a URL's `@`) split at its first `:` outside a
 * `${env:NAME}` (any other `${` counts no more than other text: cutting too much is safe); password
 * undefined when it has no `:`.
 */
export function splitUserInfo(userinfo: string): { user: string; password: string | undefined } {
  const colon = userinfo.replace(ENV_REFERENCES, (ref) => '\0'.repeat(ref.length)).indexOf(':');
  return colon < 0 ? { user: userinfo, password: undefined } : { user: userinfo.slice(0, colon), password: userinfo.slice(colon + 1) };
}

/**
 * `text` with each run of valid `%XX` escapes decoded and anything else as it is: how a parameter's
 * name is judged before the URL is checked (a malformed escape must not hide a password).
 */
export function leniently(text: string): string {
  return text.replace(/(?:%[0-9a-f]{2})+/gi, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** A parameter name that is libpq's `password` once decoded (`pass%77ord`, `%70assword`), in any case: cutting too much is safe. */
const isPasswordName = (name: string): boolean => leniently(name).trim().toLowerCase() === 'password';
/** A decoded parameter name as a message shows it: one that starts like `password` (`password%3Ds3cret` has no `=`) is only that. */
const shownName = (name: string): string => (/^\s*password/i.test(name) ? 'password' : name);

/**
 * Each `password` parameter of `text` (after its first `?` or `&`), judged by its decoded name as
 * libpq reads it: where it starts (its `?` or `&`), its value up to the next `&` or `#`, and all
 * after its `=` (the value may hold an unencoded `&` or `#`).
 */
export function passwordParameters(text: string): { at: number; value: string; rest: string }[] {
  const found: { at: number; value: string; rest: string }[] = [];
  for (let at = text.search(/[?&]/); at >= 0; at = text.indexOf('&', at + 1)) {
    const end = text.indexOf('&', at + 1);
    const segment = text.slice(at + 1, end < 0 ? undefined : end);
    const eq = segment.indexOf('=');
    if (!isPasswordName(eq < 0 ? segment : segment.slice(0, eq))) continue;
    const rest = eq < 0 ? '' : text.slice(at + 2 + eq);
    found.push({ at, value: eq < 0 ? '' : (/^[^&#]*/.exec(rest)?.[0] ?? ''), rest });
  }
  return found;
}

/** libpq takes `?password=…` too: it and all after it are cut (the value may hold an unencoded & or #). */
function withoutPasswordParameter(text: string): string {
  const first = passwordParameters(text)[0];
  return first === undefined ? text : `${text.slice(0, first.at + 1)}password=…`;
}

/**
 * The query string's parameters as libpq reads them (conninfo_uri_parse_params): `&`-separated
 * `name=value` pairs, name and value percent-decoded and nothing else (`+` is a plus, not a space as
 * in a form's URLSearchParams), the last of a name winning. A malformed escape names the parameter.
 */
function queryParameters(search: string, decode: (text: string, what: string) => string, display: string): Map<string, string> {
  const params = new Map<string, string>();
  for (const pair of search.replace(/^\?/, '').split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq < 0) {
      const name = decode(pair, 'a parameter name');
      throw new DatabaseUrlError(`${display}: parameter ${shownName(name)} has no value (write name=value)`);
    }
    const name = decode(pair.slice(0, eq), 'a parameter name');
    params.set(name, decode(pair.slice(eq + 1), `the value of parameter ${shownName(name)}`));
  }
  return params;
}

/**
 * Reads a `--db` value or the setting. `cwd` resolves relative paths. Throws DatabaseUrlError with
 * what is wrong, never echoing a password.
 */
export function parseDatabaseLocation(text: string, cwd: string, env: NodeJS.ProcessEnv = process.env): DatabaseLocation {
  let raw = text.trim();
  // The whole value from the environment (`${env:DATABASE_URL}`): what it holds decides the kind.
  const whole = ENV_REFERENCE.exec(raw);
  if (whole) raw = expandEnv(raw, env, `the database (\${env:${whole[1]!}})`).trim();
  if (raw === '') throw new DatabaseUrlError('the database is empty: give a file path or a postgres:// URL');
  if (/^sqlite:/i.test(raw)) {
    const m = /^sqlite:\/\/\/(.+)$/i.exec(raw);
    if (!m) throw new DatabaseUrlError(`${withoutPassword(raw)} is not a sqlite URL: write sqlite:///relative/path or sqlite:////absolute/path`);
    const file = path.resolve(cwd, m[1]!);
    return { kind: 'sqlite', file, display: file };
  }
  if (!isPostgresUrl(raw)) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) throw new DatabaseUrlError(`${withoutPassword(raw)}: only postgres:// (or postgresql://) and sqlite:/// URLs are databases`);
    const file = path.resolve(cwd, raw);
    return { kind: 'sqlite', file, display: file };
  }
  const display = withoutPassword(raw);
  let url: URL;
  try {
    url = new URL(expandEnv(raw, env, display));
  } catch (err) {
    if (err instanceof DatabaseUrlError) throw err;
    throw new DatabaseUrlError(`${display} is not a valid URL`);
  }
  // Percent-decoded as libpq decodes (conninfo_uri_decode); a malformed escape names the part, never
  // its text (it may be the password).
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new DatabaseUrlError(`${display}: ${what} has a malformed percent escape (each % starts two hex digits of UTF-8; write a % itself as %25)`);
    }
  };
  const database = decode(url.pathname.replace(/^\//, ''), 'the database name');
  if (database === '' || database.includes('/')) throw new DatabaseUrlError(`${display} names no database: write postgres://user@host:5432/DATABASE`);
  const params = queryParameters(url.search, decode, display);
  for (const key of params.keys()) {
    if (!PG_PARAMS.includes(key)) throw new DatabaseUrlError(`${display}: unknown parameter ${shownName(key)} (known, in lower case: ${PG_PARAMS.join(', ')})`);
  }
  const param = (key: string): string | null => params.get(key) ?? null;
  const sslmode = (param('sslmode') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) throw new DatabaseUrlError(`${display}: sslmode must be one of ${SSL_MODES.join(', ')}`);
  const seconds = (key: string, fallback: number): number => {
    const v = param(key);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new DatabaseUrlError(`${display}: ${key} must be a number of seconds between 1 and 3600`);
    return n;
  };
  const file = (key: string): string | undefined => {
    const v = param(key);
    return v === null ? undefined : path.resolve(cwd, v);
  };
  const port = url.port === '' ? 5432 : Number(url.port);
  return {
    kind: 'postgres',
    host: decode(url.hostname.replace(/^\[(.*)\]$/, '$1'), 'the host') || 'localhost',
    port,
    database,
    user: url.username === '' ? undefined : decode(url.username, 'the user name'),
    password: url.password !== '' ? decode(url.password, 'the password') : (param('password') ?? undefined),
    sslmode,
    sslrootcert: file('sslrootcert'),
    sslcert: file('sslcert'),
    sslkey: file('sslkey'),
    applicationName: param('application_name') ?? 'spark-optimizer',
    connectTimeoutS: seconds('connect_timeout', 10),
    statementTimeoutS: seconds('statement_timeout', 60),
    display,
  };
}
