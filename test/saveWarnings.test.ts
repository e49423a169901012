/** A collection whose database file is damaged on disk while it runs says so when it saves (the CLI printed only the open's warnings). */
import { readdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectCommand } from '../src/cli/collectCommand';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

function logs(n: number, from: number): string {
  const dir = tempDir();
  for (let i = from; i < from + n; i++) writeFileSync(path.join(dir, `app-${i}`), eventLogText({ appId: `app-${i}`, stages: 1, tasksPerStage: 2 }).text);
  return dir;
}

describe('collect', () => {
  it('prints the warning of a save that found the database damaged on disk', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'jobs.db');
    const quiet = { out: () => undefined, err: () => undefined, isTTY: false, cwd: dir };
    expect(await collectCommand(['--path', logs(2, 0), '--db', db], quiet)).toBe(0);
    const err: string[] = [];
    let damaged = false;
    const io = {
      out: () => {
        // As the first record of this run prints, something else writes over the database file.
        if (!damaged) writeFileSync(db, 'not a database any more');
        damaged = true;
      },
      err: (s: string) => err.push(s),
      isTTY: false,
      cwd: dir,
    };
    expect(await collectCommand(['--path', logs(3, 10), '--db', db, '--format', 'json'], io)).toBe(0);
    expect(damaged).toBe(true);
    const aside = readdirSync(dir).filter((n) => n.startsWith('jobs.db.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(err.join('\n')).toMatch(new RegExp(`^warning: .*damaged on disk.*${aside[0]!.replace(/[.]/g, '\\.')}`, 'm'));
  });
});
