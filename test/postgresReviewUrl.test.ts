/**
 * A review of how a postgres:// URL is read (storage/location.ts, views/databaseSetting.ts), against
 * libpq's own rules (conninfo_uri_parse_params, conninfo_uri_decode):
 * - a parameter's name is percent-decoded before it is judged: `?pass%77ord=S` is the password, so it
 *   is hidden, refused in the settings and scrubbed from messages (it was used, but shown);
 * - only percent escapes are decoded: `+` is a plus (URLSearchParams made it a space);
 * - a malformed escape is a DatabaseUrlError naming the part, never the password (it was `URI malformed`).
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatabaseUrlError, parseDatabaseLocation, withoutPassword, type PostgresLocation } from '../src/storage/location';
import { DatabaseSettingError, editorLocation, hasLiteralPassword, safeUrl, scrubPassword } from '../src/views/databaseSetting';
import { tempDir } from './support/tmp';

const CLI = path.resolve(__dirname, '../dist/cli.js');
const cwd = '/work/here';
const pg = (url: string): PostgresLocation => parseDatabaseLocation(url, cwd, {}) as PostgresLocation;

function parseError(url: string): Error {
  try {
    parseDatabaseLocation(url, cwd, {});
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${url} was taken`);
}

describe('a password parameter judged by its decoded name, as libpq reads it', () => {
  const urls = ['postgres://ann@db/jobs?pass%77ord=S3cretPW', 'postgres://ann@db/jobs?%70assword=S3cretPW&sslmode=disable', 'postgres://ann@db/jobs?sslmode=disable&%70%61%73%73%77%6f%72%64=S3cretPW'];

  it.each(urls)('%s: the password is taken, and the display has none', (url) => {
    const loc = pg(url);
    expect(loc.password).toBe('S3cretPW');
    expect(loc.display).not.toContain('S3cretPW');
    expect(loc.display).toMatch(/[?&]password=…$/);
    expect(withoutPassword(url)).toBe(loc.display);
  });

  it.each(urls)('%s: refused in the settings, and scrubbed from any message', (url) => {
    expect(hasLiteralPassword(url)).toBe(true);
    expect(() => editorLocation({ database: url, databasePath: 'jobs.db' }, cwd, {})).toThrow(DatabaseSettingError);
    expect(safeUrl(url)).not.toContain('S3cretPW');
    expect(scrubPassword(`the server said S3cretPW at ${url}`, url)).not.toContain('S3cretPW');
  });

  it('an encoded value is scrubbed as written and as decoded; an ${env:NAME} value is no literal password', () => {
    const url = 'postgres://ann@db/jobs?pass%77ord=S3cret%2BPW';
    expect(pg(url).password).toBe('S3cret+PW');
    expect(scrubPassword('S3cret+PW and S3cret%2BPW', url)).toBe('*** and ***');
    expect(hasLiteralPassword('postgres://ann@db/jobs?pass%77ord=${env:PW}')).toBe(false);
  });

  it('a parameter that is not the password stays in the display', () => {
    expect(withoutPassword('postgres://ann@db/jobs?application_name=passwordless&sslmode=disable')).toBe('postgres://ann@db/jobs?application_name=passwordless&sslmode=disable');
    expect(hasLiteralPassword('postgres://ann@db/jobs?application_name=password')).toBe(false);
  });

  it('the CLI neither prints nor stores it: the error names the URL without it', () => {
    const home = tempDir();
    const run = spawnSync(process.execPath, [CLI, 'jobs', '--db', 'postgres://ann@127.0.0.1:1/jobs?pass%77ord=S3cretPW&connect_timeout=2'], { encoding: 'utf8', env: { ...process.env, HOME: home } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('postgres://ann@127.0.0.1:1/jobs?password=…');
    expect(run.stdout + run.stderr).not.toContain('S3cretPW');
  });
});

describe('only percent escapes are decoded (+ is a plus)', () => {
  it('parameter values keep their +', () => {
    const loc = pg('postgres://ann@db/jobs?application_name=etl+nightly&sslrootcert=certs/ca+root.pem&pass%77ord=a+b');
    expect(loc.applicationName).toBe('etl+nightly');
    expect(loc.sslrootcert).toBe(path.resolve(cwd, 'certs/ca+root.pem'));
    expect(loc.password).toBe('a+b');
    expect(pg('postgres://ann@db/jobs?application_name=etl%20nightly%2B1').applicationName).toBe('etl nightly+1');
  });

  it('the last of a parameter given twice wins, as in libpq', () => {
    expect(pg('postgres://db/jobs?sslmode=require&sslmode=disable').sslmode).toBe('disable');
  });
});

describe('a malformed percent escape names the part, never the password', () => {
  it.each([
    ['postgres://u:Sekr%zz@db/jobs', 'the password'],
    ['postgres://u:Sekr%e9t@db/jobs', 'the password'],
    ['postgres://u@db/j%zz', 'the database name'],
    ['postgres://u%zz@db/jobs', 'the user name'],
    ['postgres://u@db/jobs?sslrootcert=ca%2', 'the value of parameter sslrootcert'],
    ['postgres://u@db/jobs?pass%77ord=Sekr%zz', 'the value of parameter password'],
    ['postgres://u@db/jobs?ssl%zzmode=disable', 'a parameter name'],
  ])('%s: %s', (url, part) => {
    const error = parseError(url);
    expect(error).toBeInstanceOf(DatabaseUrlError);
    expect(error.message).toContain(`: ${part} has a malformed percent escape`);
    expect(error.message).not.toContain('Sekr');
    expect(error.message).not.toContain('URI malformed');
  });

  it('the CLI says it as a --db usage error', () => {
    const run = spawnSync(process.execPath, [CLI, 'jobs', '--db', 'postgres://u:Sekr%zz@127.0.0.1:1/jobs'], { encoding: 'utf8', env: { ...process.env, HOME: tempDir() } });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain('--db: postgres://u@127.0.0.1:1/jobs: the password has a malformed percent escape');
    expect(run.stderr).not.toContain('Sekr');
  });

  it('in the settings too, scrubbed', () => {
    expect(() => editorLocation({ database: 'postgres://u@db/j%zz', databasePath: 'jobs.db' }, cwd, {})).toThrow('the setting sparkOptimizer.database: postgres://u@db/j%zz: the database name has a malformed percent escape');
  });
});
