/**
 * A `collect` that outgrows start-up size gets back what its start holds back (v8Flags.ts; issue
 * #12): V8's own tier-up once its logs hold more than 2 MB or number more than 32 (tierUpAsUsual),
 * and the young generation's growth past 32 logs or 16 MB read (tuneV8ForLongRun). node:v8 is
 * replaced here so that the flags are recorded, not set.
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

async function collect(logs: number, size = { stages: 1, tasksPerStage: 2 }): Promise<string[]> {
  const dir = tempDir();
  const from = path.join(dir, 'logs');
  mkdirSync(from);
  for (let i = 0; i < logs; i++) writeFileSync(path.join(from, `app-${i}`), eventLogText({ appId: `app-${i}`, seed: i + 1, ...size }).text);
  flags.length = 0;
  const err: string[] = [];
  // On this thread (--concurrency 1): the pool's script is a bundle in dist/, and this runs from the sources.
  const code = await main(['collect', '--source', 'event-logs', '--path', from, '--concurrency', '1', '--db', path.join(dir, 'jobs.db')], { out: () => undefined, err: (s) => err.push(s), isTTY: false, cwd: '/' });
  expect(code, err.join('\n')).toBe(0);
  return [...flags];
}

describe("a long collect's V8 flags", () => {
  // And dynamic tiering for WebAssembly compiled from then on (the LZ decoders; SQLite's is compiled already).
  const tierUp = ['--max-bytecode-size-for-early-opt=81', '--ticks-before-optimization=3', '--wasm-dynamic-tiering'];

  it("a collect of a few small logs keeps start-up's; one past 32 logs gets V8's tier-up and the young generation's growth back", async () => {
    expect(await collect(4)).toEqual([]);
    expect(await collect(40)).toEqual([...tierUp, '--semi-space-growth-factor=2']);
  });

  it("one log of more than 2 MB is read with V8's own tier-up from its start", async () => {
    expect(await collect(1, { stages: 8, tasksPerStage: 80 })).toEqual(tierUp);
  });
});
