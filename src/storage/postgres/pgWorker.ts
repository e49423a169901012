/**
 * The PostgreSQL connection's thread (bundled as dist/pgWorker.js). The repository interface is
 * synchronous (sql.js answers in the caller's thread); `pg` answers asynchronously. So the caller
 * posts a request and waits on a shared flag (syncClient.ts); this thread runs the statements on
 * its one connection, posts the answer, then raises the flag.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Client, types, type ClientConfig } from 'pg';
import pgpass from 'pgpass';
import { postAnswer, type PgConnectConfig, type PgOutcome, type PgRequest, type PgResult } from './protocol';

// BIGINT (COUNT(*), sizes) as numbers: every count and byte size the repository stores fits 2^53.
types.setTypeParser(20, (v) => Number(v));
// An empty PGPASSWORD is no password, as libpq has it: pg would send '' and never read ~/.pgpass.
// (This thread's environment is its own copy.)
if (process.env.PGPASSWORD === '') delete process.env.PGPASSWORD;

/**
 * What pg 8 says when the server asks for a password (SCRAM) and none was found in the URL, the
 * settings' secret, PGPASSWORD or ~/.pgpass: said as that, not as pg's "client password must be a string".
 */
const NO_PASSWORD = /SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string/;
const NO_PASSWORD_SAID = 'the server asks for a password and none was found (not in the URL, PGPASSWORD or ~/.pgpass, nor stored by the editor for this database)';

/**
 * Node's `code` for a server certificate that the trusted CAs do not vouch for: OpenSSL's
 * X509_V_ERR_* names without the prefix (Node's crypto_common.cc). Said as such, with what was trusted.
 */
const CERT_NOT_VERIFIED = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
]);

/**
 * The password when neither the URL nor the editor gave one: PGPASSWORD, else ~/.pgpass, as pg finds
 * them itself. pg 8 reads ~/.pgpass only with a deprecation notice that every command printed
 * ("pgpass support is deprecated … provide an async function as the password"): this is that function.
 */
const fromEnvironment = (connection: { host?: string; port?: number; database?: string; user?: string }): Promise<string | undefined> =>
  process.env.PGPASSWORD !== undefined ? Promise.resolve(process.env.PGPASSWORD) : new Promise((resolve) => pgpass(connection, resolve));

const { config, port, flag } = workerData as { config: PgConnectConfig; port: MessagePort; flag: Int32Array };
let client: Client | undefined;

function newClient(ssl: PgConnectConfig['ssl']): Client {
  const tls =
    ssl === false
      ? false
      : { rejectUnauthorized: ssl.rejectUnauthorized, ca: ssl.ca, cert: ssl.cert, key: ssl.key, ...(ssl.checkServerIdentity === 'skip' ? { checkServerIdentity: () => undefined } : {}) };
  return new Client({
    host: config.host,
    port: config.port,
    database: config.database,
    user: config.user,
    password: config.password ?? (fromEnvironment as ClientConfig['password']),
    ssl: tls,
    connectionTimeoutMillis: config.connectTimeoutMs,
    statement_timeout: config.statementTimeoutMs,
    application_name: config.applicationName,
  });
}

async function connected(): Promise<Client> {
  if (client) return client;
  let c = newClient(config.ssl);
  try {
    await c.connect();
  } catch (err) {
    if (!(config.fallbackToPlain && /does not support SSL/i.test((err as Error).message))) throw err;
    c = newClient(false);
    await c.connect();
  }
  // A dropped connection is said at the next request, not thrown from nowhere.
  const lost = (): void => {
    if (client === c) client = undefined;
  };
  c.on('error', lost);
  c.on('end', lost);
  client = c;
  return c;
}

/** What an error says to the user: pg's and Node's own words, with what a TLS check failed on. */
function said(e: Error & { code?: string; cert?: { subjectaltname?: string; subject?: { CN?: string } } }): string {
  if (NO_PASSWORD.test(e.message)) return NO_PASSWORD_SAID;
  if (config.ssl !== false && e.code !== undefined && CERT_NOT_VERIFIED.has(e.code)) {
    return config.ssl.ca !== undefined
      ? `the server's certificate could not be verified with the CA in sslrootcert (${e.message})`
      : `the server's certificate could not be verified (${e.message}): no sslrootcert was given, so only Node's built-in CAs were trusted; give the CA that signed it with sslrootcert=FILE`;
  }
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = e.cert?.subjectaltname ?? `CN=${e.cert?.subject?.CN ?? '?'}`;
    return `the server's certificate is not for ${config.host} (it names ${names}): connect to a host it names, or use sslmode=verify-ca to check only its CA`;
  }
  return e.message;
}

/**
 * The connection a transaction began on (BEGIN), until its COMMIT or ROLLBACK. If that connection
 * is lost (server restart, failover, an idle timeout, a killed backend), the server rolled the
 * transaction back; a new connection must not carry on with the rest of it statement by statement
 * (each would commit alone, and the COMMIT would only warn): every request but a ROLLBACK is refused
 * until the caller ends the transaction.
 */
let transactionOn: Client | undefined;
const LOST_TRANSACTION = 'the connection to the server was lost inside a transaction; the server rolled it back, so nothing of it was stored';

/** BEGIN, COMMIT or ROLLBACK when the statement is just that, else ''; matched in place, not by an upper-case copy of every statement (an upsert's is kilobytes). */
const TRANSACTION_KEYWORD = /^\s*(BEGIN|COMMIT|ROLLBACK)\s*$/i;
const keyword = (sql: string): string => TRANSACTION_KEYWORD.exec(sql)?.[1]!.toUpperCase() ?? '';

/**
 * pg's words (and Node's codes) for a connection that broke under a statement without the server
 * saying why (no SQLSTATE): the socket ended ("Connection terminated unexpectedly", a client pg has
 * marked broken) or was reset. Said as 08006 (connection_failure), which they are, so that the
 * caller retries its transaction on a new connection (repository.ts RETRY_CODES).
 */
const CONNECTION_BROKE = /Connection terminated|is not queryable/;
const SOCKET_BROKE = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
/**
 * The server ended the session (SQLSTATE class 57P: an administrator's or a crash's shutdown, a
 * terminated backend, an idle-session timeout): its connection is gone, the next request reconnects.
 */
const SERVER_ENDED = /^57P0[1-5]$/;

async function answer(request: PgRequest): Promise<PgOutcome> {
  if (request.kind === 'close') {
    await client?.end().catch(() => undefined);
    client = undefined;
    transactionOn = undefined;
    return { ok: true, results: [] };
  }
  if (transactionOn !== undefined && transactionOn !== client) {
    const first = keyword(request.statements[0]?.sql ?? '');
    transactionOn = undefined;
    if (first === 'ROLLBACK' && request.statements.length === 1) return { ok: true, results: [{ rows: [], rowCount: 0 }] };
    return { ok: false, message: LOST_TRANSACTION, code: '08006', statement: 0 };
  }
  let at = 0;
  let on: Client | undefined;
  try {
    const c = (on = await connected());
    const results: PgResult[] = [];
    for (; at < request.statements.length; at++) {
      const s = request.statements[at]!;
      const word = keyword(s.sql);
      if (transactionOn !== undefined && transactionOn !== client) throw Object.assign(new Error(LOST_TRANSACTION), { code: '08006' });
      const r = await c.query({ text: s.sql, values: s.params as unknown[] | undefined, name: s.name });
      if (word === 'BEGIN') transactionOn = c;
      else if (word === 'COMMIT' || word === 'ROLLBACK') transactionOn = undefined;
      results.push({ rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 });
    }
    return { ok: true, results };
  } catch (err) {
    // A ROLLBACK that failed (its connection gone) still ends the transaction.
    if (request.statements.some((st) => keyword(st.sql) === 'ROLLBACK')) transactionOn = undefined;
    const e = err as Error & { code?: string };
    let code = e.code;
    // A connection that broke under a statement (not one that could not be made): the server rolled
    // back what it had begun; the next request is on a new connection, as after an idle drop.
    const broke = on !== undefined && (code === undefined ? CONNECTION_BROKE.test(e.message) : SOCKET_BROKE.has(code));
    if (broke) code = '08006';
    if (on !== undefined && (broke || SERVER_ENDED.test(code ?? ''))) {
      if (client === on) client = undefined;
      void on.end().catch(() => undefined);
    }
    return { ok: false, message: said(e), code, statement: at };
  }
}

/**
 * The answer to request `seq`, then the flag the caller waits on: always, whatever happened, so that
 * it never waits for nothing. An answer that cannot be passed back is said as such (postAnswer).
 */
function reply(seq: number, a: PgOutcome): void {
  try {
    postAnswer(port, { ...a, seq });
  } finally {
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  }
}

port.on('message', (request: PgRequest) => {
  answer(request).then(
    (a) => reply(request.seq, a),
    (err: unknown) => reply(request.seq, { ok: false, message: `the connection's thread failed: ${(err as Error).message}`, statement: 0 }),
  );
});
// Anything thrown outside a request (a socket error pg did not route) is said at the next request, not a hang.
process.on('uncaughtException', () => {
  client = undefined;
});
parentPort?.postMessage('ready');
