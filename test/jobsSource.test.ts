/** `jobs --source`: the names collect takes find their runs; a name the store does not hold is said. */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/cli/main';
import { tempDir } from './support/tmp';

async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false, cwd: process.cwd() });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('jobs --source', () => {
  it("takes collect's --source name for runs collected without a config, and refuses a name the store does not hold", async () => {
    const db = path.join(tempDir(), 'jobs.db');
    expect((await run('collect', '--path', path.resolve(__dirname, '..', 'samples', 'event-logs'), '--db', db)).code).toBe(0);
    for (const name of ['event_log', 'event-logs']) expect((await run('jobs', '--db', db, '--source', name)).out, name).toMatch(/^8 of 8 applications$/m);
    const bogus = await run('jobs', '--db', db, '--source', 'bogus');
    expect(bogus.code).toBe(1);
    expect(bogus.err).toContain(`no source named "bogus" in ${db}; its sources: event_log`);
  });
});
