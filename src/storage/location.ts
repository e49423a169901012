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
 * The URL with any password taken out: safe for messages, logs and the database. The user part ends
 * at the last `@` (a password may hold an unencoded `/`, `?`, `#` or `@`: cutting too much is safe,
 * printing a password is not), and the user name at its first `:` (splitUserInfo).
 */
export function withoutPassword(text: string): string {
  const m = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(text);
  if (!m) return text;
  const [, scheme, rest] = m as unknown as [string, string, string];
  const at = rest.lastIndexOf('@');
  if (at < 0) return withoutPasswordParameter(text);
  const { user } = splitUserInfo(rest.slice(0, at));
  return withoutPasswordParameter(`${scheme}${user === '' ? '' : `${user}@`}${rest.slice(at + 1)}`);
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

/** libpq takes `?password=…` too: it and all after it are cut (the value may hold an unencoded & or #). */
function withoutPasswordParameter(text: string): string {
  return text.replace(/([?&])password=.*$/is, '$1password=…');
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
    if (!m) throw new DatabaseUrlError(`${raw} is not a sqlite URL: write sqlite:///relative/path or sqlite:////absolute/path`);
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
  const database = decodeURIComponent(url.pathname.replace(/^\//, ''));
  if (database === '' || database.includes('/')) throw new DatabaseUrlError(`${display} names no database: write postgres://user@host:5432/DATABASE`);
  for (const key of url.searchParams.keys()) {
    if (!PG_PARAMS.includes(key)) throw new DatabaseUrlError(`${display}: unknown parameter ${key} (known: ${PG_PARAMS.join(', ')})`);
  }
  const sslmode = (url.searchParams.get('sslmode') ?? 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) throw new DatabaseUrlError(`${display}: sslmode must be one of ${SSL_MODES.join(', ')}`);
  const seconds = (key: string, fallback: number): number => {
    const v = url.searchParams.get(key);
    if (v === null) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > 3600) throw new DatabaseUrlError(`${display}: ${key} must be a number of seconds between 1 and 3600`);
    return n;
  };
  const file = (key: string): string | undefined => {
    const v = url.searchParams.get(key);
    return v === null ? undefined : path.resolve(cwd, v);
  };
  const port = url.port === '' ? 5432 : Number(url.port);
  return {
    kind: 'postgres',
    host: decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')) || 'localhost',
    port,
    database,
    user: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password !== '' ? decodeURIComponent(url.password) : (url.searchParams.get('password') ?? undefined),
    sslmode,
    sslrootcert: file('sslrootcert'),
    sslcert: file('sslcert'),
    sslkey: file('sslkey'),
    applicationName: url.searchParams.get('application_name') ?? 'spark-optimizer',
    connectTimeoutS: seconds('connect_timeout', 10),
    statementTimeoutS: seconds('statement_timeout', 60),
    display,
  };
}
