/**
 * A `collect` that outgrows start-up size gets V8's long-run flags back (v8Flags.ts
 * tuneV8ForLongRun; issue #12): Sparkplug and the young generation's growth, which start-up holds
 * back. node:v8 is replaced here so that the flags are recorded, not set.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main';
import { eventLogText } from './support/eventLogGenerator';
import { tempDir } from './support/tmp';

const flags = vi.hoisted((): string[] => []);
vi.mock('node:v8', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:v8')>();
  const setFlagsFromString = (flag: string): void => void flags.push(flag);
  return { ...actual, setFlagsFromString, default: { ...actual, setFlagsFromString } };
});

async function collect(logs: number): Promise<string[]> {
  const dir = tempDir();
  const from = path.join(dir, 'logs');
  mkdirSync(from);
  for (let i = 0; i < logs; i++) writeFileSync(path.join(from, `app-${i}`), eventLogText({ appId: `app-${i}`, seed: i + 1, stages: 1, tasksPerStage: 2 }).text);
  flags.length = 0;
  const err: string[] = [];
  // On this thread (--concurrency 1): the pool's script is a bundle in dist/, and this runs from the sources.
  const code = await main(['collect', '--source', 'event-logs', '--path', from, '--concurrency', '1', '--db', path.join(dir, 'jobs.db')], { out: () => undefined, err: (s) => err.push(s), isTTY: false, cwd: '/' });
  expect(code, err.join('\n')).toBe(0);
  return [...flags];
}

describe("a long collect's V8 flags", () => {
  it('a collect of a few logs keeps start-up\'s; one past 32 logs turns Sparkplug and the young generation\'s growth back on', async () => {
    expect(await collect(4)).toEqual([]);
    expect(await collect(40)).toEqual(['--semi-space-growth-factor=2', '--sparkplug']);
  });
});
