/**
 * What the caller's thread and the PostgreSQL worker (pgWorker.ts) say to each other (syncClient.ts).
 * A request is a list of statements run in order on the worker's one connection, stopping at the
 * first error; the answer has each statement's rows, or the error.
 */
import type { MessagePort } from 'node:worker_threads';

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

/** What the caller asks (SyncPgClient.call): its statements run in order, or the connection closed. */
export type PgCall = { kind: 'run'; statements: PgStatement[] } | { kind: 'close' };
/**
 * Sent by the caller's thread (SyncPgClient.call), one at a time: a call with its sequence number,
 * which the answer carries back, so that an answer to an earlier call (one given up on: "gave no
 * answer") is never taken for this one's.
 */
export type PgRequest = PgCall & { seq: number };

/** What a request came to: each statement's rows, or the error and the statement it stopped at. */
export type PgOutcome = { ok: true; results: PgResult[] } | { ok: false; message: string; code?: string; statement: number };
/** Sent by the worker (pgWorker.ts reply, through postAnswer) for each request, then the shared flag raised. */
export type PgAnswer = PgOutcome & { seq: number };

/**
 * The worker posts `answer` on `port`. An answer that cannot be passed (structured clone refuses a
 * value pg gave) is said as a short failure instead, so that the caller gets an answer, never none.
 */
export function postAnswer(port: Pick<MessagePort, 'postMessage'>, answer: PgAnswer): void {
  try {
    port.postMessage(answer);
  } catch (err) {
    port.postMessage({ ok: false, message: `the answer could not be passed back: ${(err as Error).message}`, statement: answer.ok ? 0 : answer.statement, seq: answer.seq } satisfies PgAnswer);
  }
}

/** Checked on receipt (SyncPgClient): what came is an answer of this protocol. */
export function isAnswer(m: unknown): m is PgAnswer {
  if (typeof m !== 'object' || m === null) return false;
  const a = m as Record<string, unknown>;
  return typeof a.seq === 'number' && (a.ok === true ? Array.isArray(a.results) : a.ok === false && typeof a.message === 'string');
}
