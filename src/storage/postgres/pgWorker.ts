/**
 * The PostgreSQL connection's thread (bundled as dist/pgWorker.js). The repository interface is
 * synchronous (sql.js answers in the caller's thread); `pg` answers asynchronously. So the caller
 * posts a request and waits on a shared flag (syncClient.ts); this thread runs the statements on
 * its one connection, posts the answer, then raises the flag.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { Client, types } from 'pg';
import type { PgAnswer, PgConnectConfig, PgRequest, PgResult } from './protocol';

// BIGINT (COUNT(*), sizes) as numbers: every count and byte size the repository stores fits 2^53.
types.setTypeParser(20, (v) => Number(v));

/**
 * What pg 8 says when the server asks for a password (SCRAM) and none was found in the URL, the
 * settings' secret, PGPASSWORD or ~/.pgpass: said as that, not as pg's "client password must be a string".
 */
const NO_PASSWORD = /SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string/;
const NO_PASSWORD_SAID = 'the server asks for a password and none was found (not in the URL, PGPASSWORD or ~/.pgpass, nor stored by the editor for this database)';

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
    password: config.password,
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
  c.on('error', () => {
    client = undefined;
  });
  client = c;
  return c;
}

async function answer(request: PgRequest): Promise<PgAnswer> {
  if (request.kind === 'close') {
    await client?.end().catch(() => undefined);
    client = undefined;
    return { ok: true, results: [] };
  }
  let at = 0;
  try {
    const c = await connected();
    const results: PgResult[] = [];
    for (; at < request.statements.length; at++) {
      const s = request.statements[at]!;
      const r = await c.query({ text: s.sql, values: s.params as unknown[] | undefined, name: s.name });
      results.push({ rows: r.rows as Record<string, unknown>[], rowCount: r.rowCount ?? 0 });
    }
    return { ok: true, results };
  } catch (err) {
    const e = err as Error & { code?: string };
    return { ok: false, message: NO_PASSWORD.test(e.message) ? NO_PASSWORD_SAID : e.message, code: e.code, statement: at };
  }
}

port.on('message', (request: PgRequest) => {
  void answer(request).then((a) => {
    port.postMessage(a);
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
parentPort?.postMessage('ready');
