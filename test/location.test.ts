/**
 * What `--db` and the sparkOptimizer.database setting name (issue 17, storage/location.ts), and the
 * display form that messages, the Output channel and the runs table show: never a password.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, parseDatabaseLocation, withoutPassword } from '../src/storage/location';
import { openStore } from '../src/storage/store';

describe('withoutPassword', () => {
  it.each([
    ['postgres://ann:s3cret@db:5432/jobs', 'postgres://ann@db:5432/jobs'],
    ['postgres://ann:pa/ss?wo#rd@db/jobs?sslmode=require', 'postgres://ann@db/jobs?sslmode=require'],
    ['postgres://ann:p@ss@db/jobs', 'postgres://ann@db/jobs'],
    ['postgres://:onlypw@db/jobs', 'postgres://db/jobs'],
    ['postgres://${env:PGUSER}:${env:PGPW}@db/jobs', 'postgres://${env:PGUSER}@db/jobs'],
    // A `${` that is not a whole ${env:NAME} does not hide a colon: the password after it is cut.
    ['postgres://${ann:s3cret@db/jobs', 'postgres://${ann@db/jobs'],
    ['postgres://${x}ann:s3cret@db/jobs', 'postgres://${x}ann@db/jobs'],
    ['postgres://ann@db/jobs', 'postgres://ann@db/jobs'],
    ['postgres://db/jobs', 'postgres://db/jobs'],
    ['postgres://ann@db/jobs?sslmode=require&password=s3&cr#t&x=1', 'postgres://ann@db/jobs?sslmode=require&password=…'],
    ['postgres://db/jobs?password=s3cret', 'postgres://db/jobs?password=…'],
  ])('%s -> %s', (url, shown) => {
    expect(withoutPassword(url)).toBe(shown);
  });
});

describe('parseDatabaseLocation', () => {
  const cwd = '/work/here';
  it('a path, sqlite:///relative and sqlite:////absolute are the embedded file', () => {
    expect(parseDatabaseLocation('jobs.db', cwd)).toEqual({ kind: 'sqlite', file: path.resolve(cwd, 'jobs.db'), display: path.resolve(cwd, 'jobs.db') });
    expect(parseDatabaseLocation('sqlite:///spark_optimizer.db', cwd)).toMatchObject({ kind: 'sqlite', file: path.resolve(cwd, 'spark_optimizer.db') });
    expect(parseDatabaseLocation('sqlite:////var/jobs.db', cwd)).toMatchObject({ kind: 'sqlite', file: '/var/jobs.db' });
  });

  it('a postgres URL: host, port, database, user, TLS, timeouts; the password kept apart from the display', () => {
    const loc = parseDatabaseLocation('postgresql://ann:s3cret@db.example:6543/jobs?sslmode=verify-full&sslrootcert=ca.pem&connect_timeout=3', cwd);
    expect(loc).toMatchObject({
      kind: 'postgres',
      host: 'db.example',
      port: 6543,
      database: 'jobs',
      user: 'ann',
      password: 's3cret',
      sslmode: 'verify-full',
      sslrootcert: path.resolve(cwd, 'ca.pem'),
      connectTimeoutS: 3,
      display: 'postgresql://ann@db.example:6543/jobs?sslmode=verify-full&sslrootcert=ca.pem&connect_timeout=3',
    });
    expect(parseDatabaseLocation('postgres://db/jobs', cwd)).toMatchObject({ port: 5432, user: undefined, password: undefined, sslmode: 'prefer' });
    // libpq's ?password= and application_name are taken too; the display has no password.
    expect(parseDatabaseLocation('postgres://ann@db/jobs?application_name=nightly&password=p%40ss', cwd)).toMatchObject({
      password: 'p@ss',
      applicationName: 'nightly',
      display: 'postgres://ann@db/jobs?application_name=nightly&password=…',
    });
    expect(parseDatabaseLocation('postgres://db/jobs', cwd)).toMatchObject({ applicationName: 'spark-optimizer' });
  });

  it('${env:NAME} in the URL, or as the whole value, comes from the environment; an unset one is named', () => {
    const env = { PW: 'from-env', URL: 'postgres://bob@db/jobs' };
    expect(parseDatabaseLocation('postgres://ann:${env:PW}@db/jobs', cwd, env)).toMatchObject({ password: 'from-env', display: 'postgres://ann@db/jobs' });
    expect(parseDatabaseLocation('${env:URL}', cwd, env)).toMatchObject({ kind: 'postgres', user: 'bob' });
    expect(() => parseDatabaseLocation('postgres://ann:${env:NOPE}@db/jobs', cwd, env)).toThrow('environment variable NOPE, which is not set');
  });

  it('refuses what it cannot use, saying why and never the password', () => {
    const bad = [
      'mysql://ann:s3cret@db/jobs',
      'postgres://ann:s3cret@db/',
      'postgres://ann:s3cret@db/jobs?sslmode=maybe',
      'postgres://ann:s3cret@db/jobs?pool=5',
      'postgres://ann@db/jobs?pool=5&password=s3cret',
      'postgres://ann@db/jobs?password=s3cret&pool=5',
      'sqlite://x.db',
      '',
    ];
    for (const text of bad) {
      let error: unknown;
      try {
        parseDatabaseLocation(text, cwd);
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(DatabaseUrlError);
      expect((error as Error).message).not.toContain('s3cret');
    }
  });
});

describe('openStore on a server that is not there', () => {
  it('fails at once, naming the URL without its password, before any blocking connection is made', async () => {
    const started = Date.now();
    await expect(openStore('postgres://ann:s3cret@127.0.0.1:1/jobs', '/')).rejects.toThrow(/^postgres:\/\/ann@127\.0\.0\.1:1\/jobs: cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED\)$/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

/**
 * Secrets review L8: `--db sqlite://u:PW@host/x` was refused as "sqlite://u:PW@host/x is not a sqlite
 * URL", with the password, also when the URL came from `${env:NAME}`. withoutPassword now reads user
 * information by secretText.ts's rule (urlUserInfo), the one every other URL is masked by.
 */
describe('L8: a refused URL is never echoed with its password', () => {
  const cwd = '/work/here';
  const messageOf = (text: string, env: NodeJS.ProcessEnv = {}): string => {
    try {
      parseDatabaseLocation(text, cwd, env);
    } catch (err) {
      expect(err).toBeInstanceOf(DatabaseUrlError);
      return (err as Error).message;
    }
    throw new Error(`${text} was taken`);
  };

  it.each(['sqlite://u:SQLITEPW_SECRET@host/x', 'sqlite://u:p@ss/SQLITEPW_SECRET@host/x', 'sqlite://:SQLITEPW_SECRET@host', 'SQLITE://u:a b SQLITEPW_SECRET@host/x'])('%s', (url) => {
    const message = messageOf(url);
    expect(message).toMatch(/is not a sqlite URL/);
    expect(message).not.toContain('SQLITEPW_SECRET');
    expect(messageOf('${env:JOBS_DB}', { JOBS_DB: url })).not.toContain('SQLITEPW_SECRET');
  });

  it('keeps the user and host, so that the message still says which URL', () => {
    expect(messageOf('sqlite://u:SQLITEPW_SECRET@host/x')).toMatch(/^sqlite:\/\/u@host\/x is not a sqlite URL/);
    expect(messageOf('${env:JOBS_DB}', { JOBS_DB: 'mysql://ann:SQLITEPW_SECRET@db/jobs' })).toMatch(/^mysql:\/\/ann@db\/jobs: only postgres/);
  });

  it('withoutPassword and the collectors read user information alike (one rule: a password with white space, a quote or :// goes whole)', () => {
    expect(withoutPassword('postgres://ann:a b"c@db/jobs')).toBe('postgres://ann@db/jobs');
    expect(withoutPassword('postgres://ann:x://y@db/jobs')).toBe('postgres://ann@db/jobs');
    // host:PORT/ is no user information (libpq and URL read a host and a port): nothing is cut.
    expect(withoutPassword('postgres://etl@db:5432/spark?application_name=a@b')).toBe('postgres://etl@db:5432/spark?application_name=a@b');
  });

  it('the CLI says it without the password', () => {
    const run = spawnSync(process.execPath, [path.resolve(__dirname, '../dist/cli.js'), 'jobs', '--db', 'sqlite://u:SQLITEPW_SECRET@host/x'], { encoding: 'utf8' });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('sqlite://u@host/x is not a sqlite URL');
    expect(run.stdout + run.stderr).not.toContain('SQLITEPW_SECRET');
  });
});
