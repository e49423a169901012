/**
 * What a log says is printed, never obeyed: an app name or user with an escape sequence, a carriage
 * return or a newline (they come from the log) neither recolours the terminal nor breaks the table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

async function run(...args: string[]): Promise<{ code: number; out: string }> {
  return runOn(false, ...args);
}

async function runOn(isTTY: boolean, ...args: string[]): Promise<{ code: number; out: string }> {
  const out: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => out.push(s), isTTY, cwd: process.cwd() });
  return { code, out: out.join('\n') };
}

describe('text from a log in the terminal', () => {
  it('is shown escaped by collect, jobs, show and compare', async () => {
    const dir = tempDir();
    const logs = path.join(dir, 'logs');
    const db = path.join(dir, 'jobs.db');
    const evil = 'evil\u001b[31mRED\u001b[0m\nsecond\r\u001b]0;pwned\u0007';
    mkdirSync(logs);
    for (const id of ['app-esc-1', 'app-esc-2']) writeFileSync(path.join(logs, id), eventLogText({ appId: id, appName: evil }).text);
    const outputs = [
      await run('collect', '--path', logs, '--db', db),
      await run('jobs', '--db', db),
      await run('show', 'app-esc-1', '--db', db),
      await run('compare', 'app-esc-1', 'app-esc-2', '--db', db),
    ];
    for (const { code, out } of outputs) {
      expect(code).toBe(0);
      expect(out).not.toMatch(/[\u001b\u0007\r]/);
      expect(out).toContain('evil\\u001B[31mRED');
    }
    // In a table, the newline is escaped too: the row stays one line.
    expect(outputs[1]!.out).toMatch(/^app-esc-1 .*evil\\u001B\[31mRED\\u001B\[0m\\nsecond\\u000D/m);
    // CSV: escaped on a terminal, as stored in a pipe or file (it is data there).
    expect((await runOn(true, 'jobs', '--db', db, '--format', 'csv')).out).not.toMatch(/[\u001b\u0007]/);
    expect((await runOn(false, 'jobs', '--db', db, '--format', 'csv')).out).toContain('evil\u001b[31mRED');
  });

  it("is shown escaped by validate, in a file's name too", async () => {
    const dir = tempDir();
    const name = path.join(dir, 'app-\u001b]0;pwned\u0007x');
    writeFileSync(name, 'not json\n');
    const { out } = await run('validate', dir, '--verbose');
    expect(out).toContain('app-\\u001B]0;pwned\\u0007x');
    expect(out).not.toMatch(/[\u001b\u0007]/);
  });
});
