/**
 * A synchronous PostgreSQL connection, so that one repository interface (repository.ts, synchronous
 * because sql.js is) serves both stores. The connection lives in a worker thread (pgWorker.ts); a call
 * posts its statements and blocks on Atomics.wait until the worker raises a shared flag, then takes
 * the answer with receiveMessageOnPort (receiveAnswer: the one to its request, by sequence number,
 * looked for a little longer if it is not there yet). A statement list is one round trip.
 *
 * Blocking is bounded: the server cancels a statement after statement_timeout, and the wait gives up
 * a little later (the worker is then stopped, the connection with it, and the call says so). The
 * editor's extension host blocks during a call as it does for a sql.js query; pages are 200 rows.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { PostgresLocation } from '../location';
import { isAnswer, type PgAnswer, type PgCall, type PgConnectConfig, type PgResult, type PgStatement } from './protocol';

export class PostgresError extends Error {
  constructor(
    message: string,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'PostgresError';
  }
}

/** Blocks this thread for `ms` (a retry's pause): the repository is synchronous, as sql.js is. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How long a call looks for its answer once the flag is up and none is there yet (ANSWER_POLL_MS steps). */
export const ANSWER_GRACE_MS = 1000;
const ANSWER_POLL_MS = 1;

/**
 * The answer to request `seq` on `port`, once the worker has raised the flag: answers to other
 * (earlier) requests are set aside, and while none is there it looks again every millisecond for up
 * to `graceMs` (a CI run under heavy load once found the flag up and the port empty: "the
 * connection's thread gave no answer", never seen again in 100,000 queries). Undefined when none came.
 */
export function receiveAnswer(port: MessagePort, seq: number, graceMs = ANSWER_GRACE_MS): { answer: PgAnswer | undefined; stale: number; waitedMs: number } {
  const start = Date.now();
  let stale = 0;
  for (;;) {
    for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) {
      if (isAnswer(m.message) && m.message.seq === seq) return { answer: m.message, stale, waitedMs: Date.now() - start };
      stale++;
    }
    const waitedMs = Date.now() - start;
    if (waitedMs >= graceMs) return { answer: undefined, stale, waitedMs };
    sleepSync(ANSWER_POLL_MS);
  }
}

/** dist/pgWorker.js: beside this bundle, or (tests, running the sources) in the project's dist. */
export function pgWorkerFile(): string {
  const candidates = [path.join(__dirname, 'pgWorker.js'), path.resolve(__dirname, '../../../dist/pgWorker.js'), path.resolve(process.cwd(), 'dist/pgWorker.js')];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new PostgresError(`the PostgreSQL worker (pgWorker.js) is not built: run \`npm run build\` (looked in ${candidates.join(', ')})`);
  return found;
}

/** What `pg` is given for a location: TLS files read here, so that a missing one is named at once. */
export function connectConfig(loc: PostgresLocation, password: string | undefined): PgConnectConfig {
  const read = (file: string | undefined, what: string): string | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new PostgresError(`${loc.display}: cannot read the ${what} ${file}: ${(err as Error).message}`);
    }
  };
  const tls = { ca: read(loc.sslrootcert, 'CA file (sslrootcert)'), cert: read(loc.sslcert, 'client certificate (sslcert)'), key: read(loc.sslkey, 'client key (sslkey)') };
  const ssl: PgConnectConfig['ssl'] =
    loc.sslmode === 'disable'
      ? false
      : loc.sslmode === 'verify-full'
        ? { rejectUnauthorized: true, ...tls }
        : // require / prefer with a CA file act as verify-ca, as in libpq ("If a root CA file exists, the
          // behavior of sslmode=require will be the same as that of verify-ca"): the CA is checked, the
          // host name is not. Without a CA: encrypted, the server's certificate not checked.
          loc.sslmode === 'verify-ca' || tls.ca !== undefined
          ? { rejectUnauthorized: true, checkServerIdentity: 'skip', ...tls }
          : { rejectUnauthorized: false, ...tls };
  return {
    host: loc.host,
    port: loc.port,
    database: loc.database,
    user: loc.user,
    password: password ?? loc.password,
    ssl,
    fallbackToPlain: loc.sslmode === 'prefer',
    connectTimeoutMs: loc.connectTimeoutS * 1000,
    statementTimeoutMs: loc.statementTimeoutS * 1000,
    applicationName: loc.applicationName,
  };
}

export class SyncPgClient {
  private worker: Worker | undefined;
  private readonly port: MessagePort;
  private readonly flag = new Int32Array(new SharedArrayBuffer(4));
  /** How long a call may block: each statement's timeout, the connection's, and a margin. */
  private statementMs: number;
  private readonly connectMs: number;
  /** Why the connection's thread ended, if it did: said by the next call instead of waiting. */
  private died: string | undefined;

  constructor(
    config: PgConnectConfig,
    /** What errors name: the URL without its password. */
    readonly display: string,
  ) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.statementMs = config.statementTimeoutMs;
    this.connectMs = config.connectTimeoutMs;
    const worker = new Worker(pgWorkerFile(), { workerData: { config, port: port2, flag: this.flag }, transferList: [port2] });
    this.worker = worker;
    // A thread that dies (out of memory, say) is said, not a crash of this process nor a wait for nothing.
    worker.on('error', (err) => (this.died = err.message));
    worker.on('exit', (code) => (this.died ??= `the connection's thread ended (exit code ${code})`));
    // The worker must not keep a CLI process alive, nor its messages wake anyone.
    this.worker.unref();
    this.port.unref();
  }

  /** The sequence number of the last request (PgRequest.seq). */
  private seq = 0;

  private call(request: PgCall): PgResult[] {
    const worker = this.worker;
    if (!worker) throw new PostgresError(`${this.display}: the connection is closed${this.died === undefined ? '' : ` (${this.died})`}`);
    if (this.died !== undefined) {
      this.worker = undefined;
      throw new PostgresError(`${this.display}: ${this.died}`);
    }
    Atomics.store(this.flag, 0, 0);
    const seq = ++this.seq;
    this.port.postMessage({ ...request, seq });
    const waitMs = this.connectMs + this.statementMs * Math.max(1, request.kind === 'run' ? request.statements.length : 1) + 5000;
    if (Atomics.wait(this.flag, 0, 0, waitMs) === 'timed-out') {
      this.worker = undefined;
      void worker.terminate();
      throw new PostgresError(`${this.display} did not answer within ${Math.round(waitMs / 1000)} s; the connection was closed`);
    }
    const { answer: message, stale, waitedMs } = receiveAnswer(this.port, seq);
    if (!message) {
      throw new PostgresError(
        `${this.display}: the connection's thread gave no answer to request ${seq} (its flag was raised; looked for ${waitedMs} ms more` +
          `${stale > 0 ? `, set aside ${stale} answer${stale === 1 ? '' : 's'} to earlier requests` : ''})`,
      );
    }
    if (!message.ok) throw new PostgresError(`${this.display}: ${message.message}`, message.code);
    return message.results;
  }

  /**
   * `fn`, its calls waiting as long as statements that may run `ms` each (a migration sets its own
   * statement_timeout so: an index over a large store outlasts the connection's 60 s, and a call that
   * stopped waiting first would close the connection under the server's still running statement).
   */
  withStatementTimeout<T>(ms: number, fn: () => T): T {
    const before = this.statementMs;
    this.statementMs = Math.max(before, ms);
    try {
      return fn();
    } finally {
      this.statementMs = before;
    }
  }

  /** `name`: a statement run often, prepared once per connection. */
  query(sql: string, params?: PgStatement['params'], name?: string): PgResult {
    return this.call({ kind: 'run', statements: [{ sql, params, name }] })[0]!;
  }

  /** The statements in order, in one round trip; the first error stops them (and is thrown). */
  batch(statements: PgStatement[]): PgResult[] {
    return statements.length === 0 ? [] : this.call({ kind: 'run', statements });
  }

  close(): void {
    if (!this.worker) return;
    try {
      this.call({ kind: 'close' });
    } catch {
      // closing anyway (a call that timed out has stopped the thread already)
    }
    const worker = this.worker;
    this.worker = undefined;
    void worker?.terminate();
  }
}
