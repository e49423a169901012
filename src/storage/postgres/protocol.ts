/**
 * What the caller's thread and the PostgreSQL worker (pgWorker.ts) say to each other (syncClient.ts).
 * A request is a list of statements run in order on the worker's one connection, stopping at the
 * first error; the answer has each statement's rows, or the error.
 */
export type PgParam = string | number | boolean | null | Uint8Array | readonly (string | number | null)[];

export interface PgStatement {
  sql: string;
  params?: readonly PgParam[];
  /** Prepared once per connection under this name, then only bound and run. */
  name?: string;
}

export interface PgResult {
  rows: Record<string, unknown>[];
  rowCount: number;
}

/** The connection, as the worker hands it to `pg` (no URL: a password never sits in a string that may be printed). */
export interface PgConnectConfig {
  host: string;
  port: number;
  database: string;
  user: string | undefined;
  password: string | undefined;
  /** false: plain TCP; otherwise Node's TLS options (ca/cert/key as text). */
  ssl: false | { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string; checkServerIdentity?: 'skip' };
  /** sslmode=prefer: TLS first, plain TCP if the server has no TLS (as libpq does). */
  fallbackToPlain: boolean;
  connectTimeoutMs: number;
  statementTimeoutMs: number;
  applicationName: string;
}

export type PgRequest = { kind: 'run'; statements: PgStatement[] } | { kind: 'close' };

export type PgAnswer = { ok: true; results: PgResult[] } | { ok: false; message: string; code?: string; statement: number };
