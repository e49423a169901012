/**
 * Start-up memory (issue #12): the first use of any Intl service maps ~7 MB of ICU's data, so the
 * CLI prints its counts and UTC times without ICU (common/format.ts groupDigits, formatLocalTime),
 * and the yaml package is loaded only for a config file. The texts must stay exactly what
 * `toLocaleString('en-US')` and Intl.DateTimeFormat gave. The CLI cases need `npm run build`.
 * Memory itself is measured by scripts/benchStartup.ts, not here.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatLocalTime, groupDigits, plural } from '../src/common/format';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const DIST = path.resolve(__dirname, '..', 'dist');

function icuTime(t: number, timeZone?: string): string {
  const f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' });
  const part = Object.fromEntries(f.formatToParts(t).map((p) => [p.type, p.value]));
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${part.timeZoneName}`;
}

const INSTANTS = [0, Date.UTC(1999, 11, 31, 23, 59, 59, 999), Date.UTC(2024, 1, 29, 0, 0), Date.UTC(2024, 6, 1, 12, 7), Date.UTC(2026, 11, 6, 19, 28), Date.UTC(2038, 0, 19, 3, 14, 8), Date.UTC(9999, 11, 31, 23, 59)];

describe('numbers and times without ICU', () => {
  const tz = process.env.TZ;
  afterEach(() => {
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
  });

  it("groupDigits is toLocaleString('en-US') for every number", () => {
    const values = [0, -0, 1, -1, 7, 999, 1000, -1000, 1234.5, -1234.56, 0.125, 12345.678, 0.1234, 1.23456, 999999.9999, 1e15, 1e20, 1e21, -1e21, 2 ** 53 - 1, 2 ** 53 + 2, -(2 ** 53), 5e-7, NaN, Infinity, -Infinity, Number.MIN_VALUE, Number.MAX_VALUE];
    let seed = 12345;
    const random = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 2000; i++) {
      const magnitude = 10 ** Math.floor(random() * 17);
      values.push(Math.round((random() - 0.5) * magnitude), Number(((random() - 0.5) * magnitude).toFixed(i % 5)));
    }
    for (const v of values) expect(groupDigits(v), String(v)).toBe(v.toLocaleString('en-US'));
    expect(plural(1234567, 'file')).toBe('1,234,567 files');
    expect(plural(1, 'error')).toBe('1 error');
  });

  it('a UTC time is what Intl.DateTimeFormat writes, asked for (--utc) or local', () => {
    for (const zone of ['UTC', 'Etc/UTC', 'Universal', 'Zulu']) {
      process.env.TZ = zone;
      for (const t of INSTANTS) {
        const iso = new Date(t).toISOString();
        expect(formatLocalTime(iso, 'UTC'), iso).toBe(icuTime(t, 'UTC'));
        expect(formatLocalTime(iso), `${zone} ${iso}`).toBe(icuTime(t));
      }
    }
  });

  it('only a UTC zone is named "Coordinated Universal Time" by Date#toString, and en-US calls it "UTC"', () => {
    const zones = [...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC', 'GMT', 'Etc/GMT', 'Etc/GMT-0', 'Europe/London', 'Africa/Abidjan', 'Atlantic/Reykjavik'];
    for (const zone of zones) {
      process.env.TZ = zone;
      for (const t of INSTANTS) {
        const named = new Date(t).toString().endsWith('(Coordinated Universal Time)');
        if (named) expect(`${zone} ${icuTime(t).slice(-3)} ${new Date(t).getTimezoneOffset()}`).toBe(`${zone} UTC 0`);
      }
    }
  });
});

interface Used {
  intl: string[];
  files: string[];
}

/** Runs the built CLI with every Intl entry point watched; what it used and the dist/ files it loaded. */
function runCli(args: string[], cwd: string): Promise<Used> {
  const out = path.join(cwd, 'used.json');
  const preload = path.join(cwd, 'watch-intl.js');
  writeFileSync(
    preload,
    `const used = new Set();
for (const k of Object.getOwnPropertyNames(Intl)) if (typeof Intl[k] === 'function') Intl[k] = new Proxy(Intl[k], { construct: (t, a) => (used.add('Intl.' + k), Reflect.construct(t, a)), apply: (t, s, a) => (used.add('Intl.' + k), Reflect.apply(t, s, a)) });
for (const [proto, names] of [[Number.prototype, ['toLocaleString']], [String.prototype, ['localeCompare', 'toLocaleLowerCase', 'toLocaleUpperCase']], [Date.prototype, ['toLocaleString', 'toLocaleDateString', 'toLocaleTimeString']], [Array.prototype, ['toLocaleString']]])
  for (const n of names) { const f = proto[n]; proto[n] = function (...a) { used.add(n); return f.apply(this, a); }; }
process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, JSON.stringify({ intl: [...used], files: Object.keys(require.cache) })));`,
  );
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--require', preload, path.join(DIST, 'cli.js'), ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TZ: 'UTC' } }, (err, _stdout, stderr) => {
      if (err) return reject(new Error(`${err.message}\n${stderr}`));
      const used = JSON.parse(readFileSync(out, 'utf8')) as Used;
      resolve({ intl: used.intl, files: used.files.filter((f) => f !== preload).map((f) => path.relative(DIST, f)) });
    });
  });
}

describe('the CLI at start-up', () => {
  it('--help, validate, collect (with its table) and jobs use no Intl in a UTC zone, and load yaml only for a config', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    mkdirSync(logs);
    for (const appId of ['app-20240101000000-0001', 'app-20240101000000-0002']) writeFileSync(path.join(logs, appId), eventLogText({ appId, stages: 2, tasksPerStage: 4 }).text);
    const runs = [['--help'], ['validate', path.join(logs, 'app-20240101000000-0001')], ['collect', '--source', 'event-logs', '--path', logs, '--db', 'jobs.db'], ['jobs', '--db', 'jobs.db'], ['jobs', '--db', 'jobs.db', '--utc']];
    for (const args of runs) expect(await runCli(args, dir), args.join(' ')).toEqual({ intl: [], files: ['cli.js'] });
    writeFileSync(path.join(dir, 'spark-optimizer.yaml'), `sources:\n  - type: event_log\n    name: local\n    path: ${JSON.stringify(logs)}\n`);
    const config = await runCli(['collect', '--config', 'spark-optimizer.yaml', '--db', 'jobs2.db'], dir);
    expect(config.files).toEqual(['cli.js', 'yaml.js']);
  });
});
