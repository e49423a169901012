/**
 * The TLS side of a postgres:// URL (issue 17: "TLS options: sslmode, CA file") against real servers
 * with TLS on (pgServer.ts `tls`): which sslmode encrypts, which checks the CA and which the host
 * name, and what a failed check says: the URL without its password, and what could not be verified.
 * Whether the store's connection is encrypted is read on the server (pg_stat_ssl) by a client of the
 * test's own while the store is open. A server without TLS is postgresStore.test.ts's.
 */
import { execFile, execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { afterEach, expect, it } from 'vitest';
import { openStore, type Store } from '../src/storage/store';
import { clientConfig, describePostgres, newDatabase, type PgServer } from './support/postgres';
import { makeRecord } from './support/records';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');

const stores: Store[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A new database's URL with `query` (sslmode=…) instead of sslmode=disable, and `host` if given. */
async function urlWith(server: PgServer, query: string, host = '127.0.0.1'): Promise<string> {
  const url = await newDatabase(server);
  return url.replace('@127.0.0.1:', `@${host}:`).replace('sslmode=disable', query);
}

/** The URL with the password in it (the discouraged spelling): then no message may hold it either. */
const withPassword = (url: string, password: string): string => url.replace(/^postgres:\/\/([^@/]+)@/, (_, user: string) => `postgres://${user}:${encodeURIComponent(password)}@`);

async function open(server: PgServer, url: string, cwd = process.cwd()): Promise<Store> {
  const store = await openStore(url, cwd, { password: server.password });
  stores.push(store);
  return store;
}

/** The error opening `url` fails with (the password given explicitly, and also in the URL). */
async function openError(server: PgServer, url: string): Promise<Error & { code?: string }> {
  const errors: (Error & { code?: string })[] = [];
  for (const target of [url, withPassword(url, server.password)]) {
    try {
      stores.push(await openStore(target, process.cwd(), { password: server.password }));
    } catch (err) {
      errors.push(err as Error);
    }
  }
  expect(errors).toHaveLength(2);
  expect(errors[1]!.message).toBe(errors[0]!.message);
  for (const e of errors) {
    expect(e.message).not.toContain(server.password);
    expect(e.message).not.toContain(encodeURIComponent(server.password));
  }
  return errors[0]!;
}

/** Seen by the server: whether each connection of Spark Optimizer to `url`'s database is TLS. */
async function sparkConnectionsTls(server: PgServer, url: string): Promise<boolean[]> {
  const client = new Client(clientConfig(server, url.replace('@localhost:', '@127.0.0.1:')));
  await client.connect();
  try {
    const rows = await client.query<{ ssl: boolean }>(
      "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid WHERE a.datname = current_database() AND a.application_name = 'spark-optimizer'",
    );
    return rows.rows.map((r) => r.ssl);
  } finally {
    await client.end();
  }
}

async function tablesOf(server: PgServer, url: string): Promise<number> {
  const client = new Client(clientConfig(server, url.replace('@localhost:', '@127.0.0.1:')));
  await client.connect();
  try {
    return (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0]!.n;
  } finally {
    await client.end();
  }
}

/** The built CLI with no libpq variable of this process, a HOME of its own (no ~/.pgpass), and `env`. */
async function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const own = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PG')));
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [CLI, ...args], { env: { ...own, HOME: tempDir(), ...env }, encoding: 'utf8', timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describePostgres(
  'PostgreSQL over TLS (certificate for localhost and 127.0.0.1)',
  (server) => {
    it('the harness: TLS on, the key the server\'s own and private, the CA files readable here', () => {
      const s = server();
      expect(s.psql('SHOW ssl')).toBe('on');
      const key = statSync(path.join(path.dirname(s.caFile!), 'server.key'));
      expect(key.mode & 0o777).toBe(0o600);
      // Under root the server runs as `postgres` (pgServer.ts), and PostgreSQL wants its key its own.
      const serverUid = process.getuid?.() === 0 ? Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })) : process.getuid?.();
      expect(key.uid).toBe(serverUid);
      expect(statSync(s.caFile!).isFile()).toBe(true);
      expect(statSync(s.otherCaFile!).isFile()).toBe(true);
    });

    it('sslmode=require connects encrypted, without checking the certificate', async () => {
      const s = server();
      const url = await urlWith(s, 'sslmode=require');
      const store = await open(s, url);
      expect(store.upsert([makeRecord()])).toEqual({ new: 1, updated: 0, unchanged: 0 });
      expect(await sparkConnectionsTls(s, url)).toEqual([true]);
    });

    it('sslmode=prefer (also the default) uses TLS when the server has it', async () => {
      const s = server();
      for (const query of ['sslmode=prefer', '']) {
        const url = (await urlWith(s, query)).replace(/\?$/, '');
        await open(s, url);
        expect(await sparkConnectionsTls(s, url), url).toEqual([true]);
      }
    });

    it('sslmode=disable connects without TLS', async () => {
      const s = server();
      const url = await urlWith(s, 'sslmode=disable');
      await open(s, url);
      expect(await sparkConnectionsTls(s, url)).toEqual([false]);
    });

    it('sslmode=verify-full with sslrootcert=the CA works by IP (127.0.0.1) and by name (localhost); a relative sslrootcert is read from cwd', async () => {
      const s = server();
      for (const host of ['127.0.0.1', 'localhost']) {
        const url = await urlWith(s, `sslmode=verify-full&sslrootcert=${encodeURIComponent(s.caFile!)}`, host);
        const store = await open(s, url);
        expect(store.where).toBe(url);
        expect(store.upsert([makeRecord()])).toEqual({ new: 1, updated: 0, unchanged: 0 });
        expect(await sparkConnectionsTls(s, url), url).toEqual([true]);
      }
      const relative = await urlWith(s, `sslmode=verify-full&sslrootcert=${path.basename(s.caFile!)}`);
      await open(s, relative, path.dirname(s.caFile!));
      expect(await sparkConnectionsTls(s, relative)).toEqual([true]);
    });

    it('sslmode=verify-full without sslrootcert fails, naming the URL and saying the certificate could not be verified; nothing is created', async () => {
      const s = server();
      const url = await urlWith(s, 'sslmode=verify-full');
      const e = await openError(s, url);
      // Node's words in the parentheses: "unable to verify the first certificate" (UNABLE_TO_VERIFY_LEAF_SIGNATURE).
      expect(e.message).toMatch(/^[^ ]+: the server's certificate could not be verified \(.+\): no sslrootcert was given, so only Node's built-in CAs were trusted; give the CA that signed it with sslrootcert=FILE$/);
      expect(e.message.startsWith(`${url}: `)).toBe(true);
      expect(await tablesOf(s, url)).toBe(0);
    });

    it('sslmode=verify-full and verify-ca with another CA fail: the certificate could not be verified with the CA in sslrootcert', async () => {
      const s = server();
      for (const mode of ['verify-full', 'verify-ca']) {
        const url = await urlWith(s, `sslmode=${mode}&sslrootcert=${encodeURIComponent(s.otherCaFile!)}`);
        const e = await openError(s, url);
        expect(e.message).toBe(`${url}: the server's certificate could not be verified with the CA in sslrootcert (unable to verify the first certificate)`);
        expect(await tablesOf(s, url)).toBe(0);
      }
    });

    it('sslmode=require with sslrootcert checks the CA, as libpq does: the right CA connects, another fails', async () => {
      const s = server();
      const good = await urlWith(s, `sslmode=require&sslrootcert=${encodeURIComponent(s.caFile!)}`);
      await open(s, good);
      expect(await sparkConnectionsTls(s, good)).toEqual([true]);
      const wrong = await urlWith(s, `sslmode=require&sslrootcert=${encodeURIComponent(s.otherCaFile!)}`);
      expect((await openError(s, wrong)).message).toBe(`${wrong}: the server's certificate could not be verified with the CA in sslrootcert (unable to verify the first certificate)`);
    });

    it('an sslrootcert that does not exist fails naming the file, before connecting', async () => {
      const s = server();
      const missing = path.join(tempDir(), 'no-such-ca.pem');
      const url = await urlWith(s, `sslmode=verify-full&sslrootcert=${encodeURIComponent(missing)}`);
      const e = await openError(s, url);
      expect(e.message.startsWith(`${url}: cannot read the CA file (sslrootcert) ${missing}: ENOENT`), e.message).toBe(true);
      expect(await tablesOf(s, url)).toBe(0);
    });

    it('the CLI (PGPASSWORD in its environment only): verify-full with the CA lists the jobs; without it, says why, without the password', async () => {
      const s = server();
      const url = await urlWith(s, `sslmode=verify-full&sslrootcert=${encodeURIComponent(s.caFile!)}`, 'localhost');
      const store = await open(s, url);
      store.upsert([makeRecord({ app_id: 'app-over-tls' })]);
      store.close();
      const ok = await cli(['jobs', '--db', url], { PGPASSWORD: s.password });
      expect(ok, ok.stderr).toMatchObject({ code: 0, stderr: '' });
      expect(ok.stdout).toContain('app-over-tls');

      const unverified = url.replace(/&sslrootcert=[^&]*/, '');
      const failed = await cli(['jobs', '--db', unverified], { PGPASSWORD: s.password });
      expect(failed.code).not.toBe(0);
      expect(failed.stderr).toContain(`${unverified}: the server's certificate could not be verified (unable to verify the first certificate)`);
      for (const text of [ok.stdout, ok.stderr, failed.stdout, failed.stderr]) expect(text).not.toContain(s.password);
    });
  },
  { tls: true },
);

describePostgres(
  'PostgreSQL over TLS (certificate for localhost only)',
  (server) => {
    it('sslmode=verify-full to 127.0.0.1, a host the certificate does not name, fails saying so; verify-ca (and require with the CA) to the same host connects', async () => {
      const s = server();
      const ca = encodeURIComponent(s.caFile!);
      const full = await urlWith(s, `sslmode=verify-full&sslrootcert=${ca}`);
      const e = await openError(s, full);
      expect(e.message).toBe(`${full}: the server's certificate is not for 127.0.0.1 (it names DNS:localhost): connect to a host it names, or use sslmode=verify-ca to check only its CA`);
      expect(e.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
      expect(await tablesOf(s, full)).toBe(0);

      for (const mode of ['verify-ca', 'require']) {
        const url = await urlWith(s, `sslmode=${mode}&sslrootcert=${ca}`);
        const store = await open(s, url);
        expect(store.upsert([makeRecord()]), url).toEqual({ new: 1, updated: 0, unchanged: 0 });
        expect(await sparkConnectionsTls(s, url), url).toEqual([true]);
      }
    });

    it('sslmode=verify-full to localhost, the name in the certificate, connects', async () => {
      const s = server();
      const url = await urlWith(s, `sslmode=verify-full&sslrootcert=${encodeURIComponent(s.caFile!)}`, 'localhost');
      await open(s, url);
      expect(await sparkConnectionsTls(s, url)).toEqual([true]);
    });
  },
  { tls: { hosts: ['localhost'] } },
);
