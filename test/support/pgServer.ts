/**
 * A real PostgreSQL for the tests (issue 17): a throw-away cluster in a fresh temp folder, on a free
 * port of 127.0.0.1, with password (SCRAM) authentication on, removed again afterwards. Debian's
 * `postgresql` package (installed by `bash scripts/e2e/setup.sh`, which `npm test` runs first)
 * provides the binaries in /usr/lib/postgresql/<version>/bin.
 *
 * PostgreSQL refuses to run as root ("root" execution of the PostgreSQL server is not permitted), so
 * under root the cluster is made and run as the `postgres` OS user the Debian package creates.
 *
 * `startPostgres({ tls: true })` also turns TLS on, with a certificate from a throw-away CA made with
 * `openssl` (Debian's `openssl` package), for the sslmode tests.
 *
 * Plain Node (no vitest): the bench starts its server with it too. Suites use postgres.ts's describePostgres.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chmodSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, isIP } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client, type ClientConfig } from 'pg';

const execFileAsync = promisify(execFile);

export const DEBIAN_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'spark_test';
const DATABASE = 'spark_test';
/** The OS user Debian's package creates; the server runs as it when the tests run as root. */
const OS_USER = 'postgres';
/** Bound on initdb + start + the first accepted connection. */
const START_TIMEOUT_MS = 30_000;
export const INSTALL_HINT = 'run bash scripts/e2e/setup.sh';

export interface StartOptions {
  /**
   * TLS on (`ssl=on`), with a server certificate signed by a throw-away CA (`PgServer.caFile`). `true`:
   * the certificate names `localhost` and 127.0.0.1; `{ hosts }`: exactly these DNS names and IP
   * addresses (a host the certificate does not name, for the host name check). Plain TCP is still
   * accepted: pg_hba's `host` lines match both.
   */
  tls?: boolean | { hosts: readonly string[] };
}

export interface PgServer {
  host: '127.0.0.1';
  port: number;
  /** The superuser initdb made. */
  user: string;
  /** Random per server; not in `url`, so pass it to `pg` explicitly (PGPASSWORD is not set). */
  password: string;
  database: string;
  /** `postgres://user@127.0.0.1:port/db?sslmode=disable`, without the password. */
  url: string;
  /** The cluster's data folder (inside the server's temp folder, which `stop()` removes). */
  dataDir: string;
  /** With `tls`: the PEM certificate of the CA that signed the server's certificate (sslrootcert). */
  caFile?: string;
  /** With `tls`: the certificate of another throw-away CA, which signed nothing the server has. */
  otherCaFile?: string;
  /** Stops the server at once (`pg_ctl stop -m immediate`) and removes its temp folder; idempotent. */
  stop(): Promise<void>;
  /** Runs `sql` with psql against `database` and returns its unaligned, tuples-only output. */
  psql(sql: string): string;
}

/** The folder holding initdb, pg_ctl and postgres: the newest /usr/lib/postgresql/<v>/bin, else PATH. */
export function findPostgresBin(): string | null {
  const hasServer = (dir: string): boolean =>
    ['initdb', 'pg_ctl', 'postgres'].every((name) => {
      try {
        accessSync(path.join(dir, name), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
  let versions: string[] = [];
  try {
    versions = readdirSync(DEBIAN_ROOT).filter((v) => /^\d+(\.\d+)?$/.test(v));
  } catch {
    // No Debian layout.
  }
  versions.sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const dir = path.join(DEBIAN_ROOT, v, 'bin');
    if (hasServer(dir)) return dir;
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir !== '' && hasServer(dir)) return dir;
  }
  return null;
}

/**
 * Servers started and not yet stopped, for the exit safety net below. Process-wide on purpose: an
 * 'exit' handler is process-wide, and a server left running outlives the test process.
 */
const running = new Set<{ stopNow(): void }>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Only synchronous work runs in 'exit'. A process killed by a signal skips this (afterAll has
  // normally stopped the servers by then).
  process.on('exit', () => {
    for (const server of [...running]) server.stopNow();
  });
}

/** How to run a PostgreSQL binary: directly, or through `runuser -u postgres --` under root. */
interface Runner {
  asOsUser: boolean;
  command(bin: string, args: string[]): [string, string[]];
}

function makeRunner(): Runner {
  const asOsUser = process.getuid?.() === 0;
  if (asOsUser && spawnSync('id', ['-u', OS_USER], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      `running as root, which PostgreSQL refuses, and there is no \`${OS_USER}\` OS user to run it as (Debian's postgresql package creates it: ${INSTALL_HINT})`,
    );
  }
  return {
    asOsUser,
    command: (bin, args) => (asOsUser ? ['runuser', ['-u', OS_USER, '--', bin, ...args]] : [bin, args]),
  };
}

/**
 * A fresh temp folder the server's user can write. Under root it is chowned to `postgres`; when
 * os.tmpdir() is a folder `postgres` cannot reach (a test's own 0700 TMPDIR), /tmp is used instead.
 */
function makeRootDir(runner: Runner): string {
  const candidates = [...new Set([tmpdir(), '/tmp'])];
  for (const parent of candidates) {
    const dir = mkdtempSync(path.join(parent, 'spark-opt-pg-'));
    if (!runner.asOsUser) return dir;
    const chown = spawnSync('chown', ['-R', OS_USER, dir], { encoding: 'utf8' });
    if (chown.status === 0 && spawnSync('runuser', ['-u', OS_USER, '--', 'test', '-w', dir], { stdio: 'ignore' }).status === 0) {
      return dir;
    }
    rmSync(dir, { recursive: true, force: true });
  }
  throw new Error(`the \`${OS_USER}\` OS user cannot write a folder made under ${candidates.join(' or ')}`);
}

async function run(runner: Runner, bin: string, args: string[], cwd: string): Promise<string> {
  const [cmd, argv] = runner.command(bin, args);
  try {
    const { stdout } = await execFileAsync(cmd, argv, { cwd, encoding: 'utf8', timeout: START_TIMEOUT_MS });
    return stdout;
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`${path.basename(bin)} failed: ${e.message}\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
  }
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n');
  } catch {
    return '(no server log)';
  }
}

interface Connection {
  port: number;
  user: string;
  password: string;
  database: string;
}

async function withClient<T>(c: Connection, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ host: '127.0.0.1', port: c.port, user: c.user, password: c.password, database: c.database, ssl: false });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Waits for the server to accept an authenticated connection: the real signal that it is up. Retries
 * only while it is not listening yet or still starting (57P03); any other error is final.
 */
async function waitUntilAccepting(c: Connection, deadline: number): Promise<void> {
  for (;;) {
    try {
      await withClient(c, (client) => client.query('SELECT 1'));
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      const transient = code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === '57P03';
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The hosts a TLS server's certificate names by default: what the tests connect to. */
const TLS_HOSTS = ['localhost', '127.0.0.1'];
/** Days the throw-away certificates are valid; a suite is over long before. */
const CERT_DAYS = '2';

async function openssl(args: string[], cwd: string): Promise<void> {
  try {
    await execFileAsync('openssl', args, { cwd, encoding: 'utf8', timeout: START_TIMEOUT_MS });
  } catch (err) {
    const e = err as { stderr?: string; message: string; code?: string };
    const hint = e.code === 'ENOENT' ? ' (openssl is not installed: apt-get install openssl)' : '';
    throw new Error(`openssl ${args[0] ?? ''} failed${hint}: ${e.message}\n${e.stderr ?? ''}`.trim());
  }
}

/** A self-signed CA (P-256, for speed) in `<dir>/<name>.crt` and `.key`; returns the certificate's path. */
async function makeCa(dir: string, name: string): Promise<string> {
  await openssl(
    [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', CERT_DAYS,
      '-subj', `/CN=Spark Optimizer test CA ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
      '-keyout', `${name}.key`, '-out', `${name}.crt`,
    ],
    dir,
  );
  return path.join(dir, `${name}.crt`);
}

/**
 * The server's TLS files in `dir`: a CA, the server's key (mode 0600: PostgreSQL refuses a key others
 * can read) and certificate signed by that CA for `hosts` (subjectAltName DNS:/IP:, CN the first), and
 * a second, unrelated CA. The CAs' keys are removed once used.
 */
async function makeTlsFiles(dir: string, hosts: readonly string[]): Promise<{ caFile: string; otherCaFile: string; certFile: string; keyFile: string }> {
  if (hosts.length === 0) throw new Error('startPostgres: tls.hosts names no host');
  mkdirSync(dir, { mode: 0o700 });
  const caFile = await makeCa(dir, 'ca');
  const otherCaFile = await makeCa(dir, 'other-ca');
  const altNames = hosts.map((h) => (isIP(h) === 0 ? `DNS:${h}` : `IP:${h}`)).join(',');
  writeFileSync(
    path.join(dir, 'server.ext'),
    [`subjectAltName=${altNames}`, 'basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth', ''].join('\n'),
  );
  await openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${hosts[0]!}`, '-keyout', 'server.key', '-out', 'server.csr'], dir);
  await openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', CERT_DAYS, '-extfile', 'server.ext', '-out', 'server.crt'],
    dir,
  );
  for (const f of ['ca.key', 'other-ca.key', 'server.csr', 'server.ext', 'ca.srl']) rmSync(path.join(dir, f), { force: true });
  const keyFile = path.join(dir, 'server.key');
  chmodSync(keyFile, 0o600);
  return { caFile, otherCaFile, certFile: path.join(dir, 'server.crt'), keyFile };
}

function urlFor(port: number, user: string, database: string): string {
  return `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${encodeURIComponent(database)}?sslmode=disable`;
}

/**
 * Starts a throw-away PostgreSQL: initdb (SCRAM auth, random password) into a fresh temp folder,
 * `pg_ctl start` on a free port of 127.0.0.1 with its socket in that folder and durability off, and a
 * database `spark_test`. Call `stop()` when done; an 'exit' handler stops whatever is left. With
 * `tls`, see StartOptions.
 */
export async function startPostgres(options: StartOptions = {}): Promise<PgServer> {
  const bin = findPostgresBin();
  if (bin === null) throw new Error(`PostgreSQL is not installed: ${INSTALL_HINT}`);
  const deadline = Date.now() + START_TIMEOUT_MS;
  const runner = makeRunner();
  const password = randomBytes(18).toString('base64url');

  const rootDir = makeRootDir(runner);
  const dataDir = path.join(rootDir, 'data');
  const socketDir = path.join(rootDir, 'socket');
  const logFile = path.join(rootDir, 'postgres.log');
  const pwFile = path.join(rootDir, 'pwfile');
  const fix = (): void => {
    // Files made here by root after makeRootDir's chown must be readable by the server's user.
    if (runner.asOsUser) spawnSync('chown', ['-R', OS_USER, rootDir]);
  };
  mkdirSync(socketDir, { mode: 0o700 });
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });

  let started = false;
  const stopNow = (): void => {
    if (started) {
      const [cmd, argv] = runner.command(path.join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30']);
      spawnSync(cmd, argv, { cwd: '/', stdio: 'ignore' });
      started = false;
    }
    rmSync(rootDir, { recursive: true, force: true });
    running.delete(handle);
  };
  const handle = { stopNow };
  installExitHook();
  running.add(handle);

  try {
    const tlsHosts = options.tls === true ? TLS_HOSTS : options.tls ? options.tls.hosts : undefined;
    const tls = tlsHosts ? await makeTlsFiles(path.join(rootDir, 'tls'), tlsHosts) : undefined;
    // Also makes the server's key its own (still 0600), which it requires of a key file.
    fix();
    await run(
      runner,
      path.join(bin, 'initdb'),
      ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwFile}`, '--encoding=UTF8', '--locale=C', '--no-sync'],
      rootDir,
    );
    rmSync(pwFile, { force: true });

    // The port is free when picked but not reserved: another process can take it before the server
    // binds, so a bind failure is retried on a new port.
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      const options = [
        `-p ${port}`,
        `-k "${socketDir}"`,
        '-c listen_addresses=127.0.0.1',
        // A throw-away cluster: nothing has to survive a crash.
        '-c fsync=off',
        '-c synchronous_commit=off',
        '-c full_page_writes=off',
        ...(tls ? ['-c ssl=on', `-c ssl_cert_file="${tls.certFile}"`, `-c ssl_key_file="${tls.keyFile}"`] : []),
      ].join(' ');
      try {
        started = true;
        await run(runner, path.join(bin, 'pg_ctl'), ['-D', dataDir, '-o', options, '-l', logFile, '-w', '-t', '30', 'start'], rootDir);
        break;
      } catch (err) {
        started = existsSync(path.join(dataDir, 'postmaster.pid'));
        const log = logTail(logFile);
        if (attempt < 3 && !started && /could not bind|already in use/i.test(log)) continue;
        throw new Error(`${(err as Error).message}\nserver log (${logFile}):\n${log}`);
      }
    }

    const superuser: Connection = { port, user: SUPERUSER, password, database: 'postgres' };
    await waitUntilAccepting(superuser, deadline);
    await withClient(superuser, (client) => client.query(`CREATE DATABASE ${quoteIdent(DATABASE)}`));

    let stopping: Promise<void> | undefined;
    return {
      host: '127.0.0.1',
      port,
      user: SUPERUSER,
      password,
      database: DATABASE,
      url: urlFor(port, SUPERUSER, DATABASE),
      dataDir,
      ...(tls ? { caFile: tls.caFile, otherCaFile: tls.otherCaFile } : {}),
      stop: () => (stopping ??= stopAsync(runner, bin, dataDir, rootDir, handle, () => (started = false))),
      psql: (sql) => runPsql(bin, { port, user: SUPERUSER, password, database: DATABASE }, sql),
    };
  } catch (err) {
    stopNow();
    throw err;
  }
}

async function stopAsync(runner: Runner, bin: string, dataDir: string, rootDir: string, handle: { stopNow(): void }, markStopped: () => void): Promise<void> {
  try {
    await run(runner, path.join(bin, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '30'], '/');
  } finally {
    markStopped();
    rmSync(rootDir, { recursive: true, force: true });
    running.delete(handle);
  }
}

function runPsql(bin: string, c: Connection, sql: string): string {
  const psql = path.join(bin, 'psql');
  const r = spawnSync(psql, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(c.port), '-U', c.user, '-d', c.database, '-c', sql], {
    encoding: 'utf8',
    // Only the child sees the password; the test process's environment stays without PGPASSWORD.
    env: { ...process.env, PGPASSWORD: c.password },
  });
  if (r.error) throw new Error(`${psql}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`psql exited with ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout.replace(/\n$/, '');
}

/**
 * A new empty database on `server` (a random name unless given), for tests that must not share
 * tables. Returns its URL, without the password (use `server.password`).
 */
export async function newDatabase(server: PgServer, name?: string): Promise<string> {
  const database = name ?? `t_${randomBytes(6).toString('hex')}`;
  await withClient({ port: server.port, user: server.user, password: server.password, database: server.database }, (client) =>
    client.query(`CREATE DATABASE ${quoteIdent(database)}`),
  );
  return urlFor(server.port, server.user, database);
}

/**
 * `pg` client settings for `url` (default the server's) with the server's password. Not
 * `{ connectionString: url, password }`: pg 8 lets the connection string's fields override the
 * others, and a URL without a password parses to password '' (then SCRAM fails with "client password
 * must be a string").
 */
export function clientConfig(server: PgServer, url: string = server.url): ClientConfig {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port),
    user: decodeURIComponent(u.username),
    password: server.password,
    database: decodeURIComponent(u.pathname.slice(1)),
    ssl: false,
  };
}

