/**
 * `validate` on a folder of many logs (issue #12: no cliffs): each folder's names are listed once,
 * not once per log. Listed per log, a folder of 10,000 small logs was 10,000 listings of 10,000
 * names (74 s against 3 s to collect them; BENCHMARKS.md); counted here, since speed is the bench's.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

/** Every folder node:fs/promises' readdir listed (hoisted with the mock, which runs before the imports). */
const listed = vi.hoisted((): string[] => []);
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const nodePath = await import('node:path');
  const readdir = ((dir: string, ...rest: unknown[]) => {
    listed.push(nodePath.resolve(dir));
    return (actual.readdir as (...args: unknown[]) => unknown)(dir, ...rest);
  }) as typeof actual.readdir;
  return { ...actual, readdir, default: { ...actual, readdir } };
});

describe('spark-optimizer validate on a folder of many logs', () => {
  it("lists each folder's names once, whatever the number of logs in it, and checks every log", async () => {
    const dir = tempDir();
    // Named to sort among the logs: discovery gives the folder's logs on both sides of it.
    const sub = path.join(dir, 'events_1_app-15-more');
    mkdirSync(sub);
    // Logs named as rolling parts (each an application of its own), the names that read their folder.
    for (let i = 0; i < 40; i++) writeFileSync(path.join(i < 30 ? dir : sub, `events_1_app-${String(i).padStart(2, '0')}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 1, tasksPerStage: 2 }).text);
    const err: string[] = [];
    const code = await main(['validate', dir], { out: () => undefined, err: (s) => err.push(s), isTTY: false, cwd: '/' });
    expect(code).toBe(0);
    expect(err.join('\n')).toMatch(/^40 files checked: 0 errors, 0 warnings/m);
    // The checks list each folder once (they listed it once per log: 30 and 10 times), though the
    // folder's logs come before and after the subfolder's. Discovery's own listing goes through
    // node:fs's promises, not counted here.
    const times = (folder: string): number => listed.filter((d) => d === folder).length;
    expect([times(dir), times(sub)]).toEqual([1, 1]);
  });
});
