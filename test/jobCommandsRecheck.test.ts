/**
 * The Jobs view's Delete Job and Apply Retention commands (jobCommands.ts) check again the runs whose
 * stored verdicts had a removed run in their baselines (regression.ts recheckAfterRemoval), with the
 * source's thresholds, and save it all while the store is held. Runs in plain Node with a recording
 * `commands` and `window` over a JobStore file.
 */
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SourceConfig } from '../src/collectors/registry';
import { JobStore } from '../src/storage/jobStore';
import { DatabaseService } from '../src/views/database';
import { register } from '../src/views/jobCommands';
import { MIN, collectNightly, nightlyRun as run } from './support/nightly';
import { tempDir } from './support/tmp';
import { setConfiguration } from './support/vscodeFake';

const ui = vi.hoisted(() => ({
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  infos: [] as string[],
  /** What the next input box answers. */
  input: undefined as string | undefined,
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  return {
    ...fake,
    commands: {
      ...fake.commands,
      registerCommand: (id: string, handler: (...args: unknown[]) => unknown) => {
        ui.commands.set(id, handler);
        return { dispose: () => ui.commands.delete(id) };
      },
    },
    workspace: { ...fake.workspace, registerTextDocumentContentProvider: () => ({ dispose: () => undefined }) },
    window: {
      showInformationMessage: (text: string) => Promise.resolve(void ui.infos.push(text)),
      showInputBox: () => Promise.resolve(ui.input),
    },
  };
});


const stores: JobStore[] = [];
const subscriptions: { dispose(): void }[] = [];
beforeEach(() => {
  ui.commands.clear();
  ui.infos = [];
  ui.input = undefined;
  setConfiguration('sparkOptimizer', {});
});
afterEach(() => {
  for (const s of subscriptions.splice(0)) s.dispose();
  for (const s of stores.splice(0)) s.close();
});

/** A store with runs 0..5 and a slow run 6 of Nightly (source prod) collected and checked, and the commands registered on it. */
async function editor(sources?: Record<string, Partial<SourceConfig>>): Promise<{ store: JobStore; file: string; saves: number[] }> {
  const file = path.join(tempDir(), 'jobs.db');
  const store = await JobStore.open(file);
  stores.push(store);
  await collectNightly(store, [0, 1, 2, 3, 4, 5].map((i) => run(i)).concat(run(6, { duration_ms: 20 * MIN })));
  await store.save();
  const saves: number[] = [];
  let held = false;
  const db = {
    openForWriting: () => {
      held = true;
      return Promise.resolve({ store, release: () => Promise.resolve(void (held = false)) });
    },
    // Saved while held: what a reset meanwhile waits for.
    save: async () => {
      expect(held).toBe(true);
      await store.save();
      saves.push(store.unsavedChanges);
    },
  } as unknown as DatabaseService;
  // The service's own write: the change, then its save, while the store is held.
  db.write = DatabaseService.prototype.write.bind(db);
  const find = (name: string) => (sources?.[name] ? { config: sources[name] } : undefined);
  register({ db, tree: {} as never, view: {} as never, log: { info: () => undefined } as never, root: undefined, sources: { find } }, { subscriptions } as never);
  return { store, file, saves };
}

const baselineOf = (store: JobStore, i: number): string[] => store.regressions([{ app_id: run(i).app_id, attempt_id: null }])[0]?.check?.baseline_runs.map((k) => k.app_id) ?? [];

describe('Delete Job and Apply Retention check the later runs again', () => {
  it('Delete Job: the slow run no longer quotes the deleted run, and that is saved', async () => {
    const { store, file, saves } = await editor();
    expect(baselineOf(store, 6)).toContain('nightly-003');
    await ui.commands.get('sparkOptimizer.deleteJob')!({ kind: 'job', record: run(3) });
    expect(baselineOf(store, 6)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
    expect(saves).toEqual([0]);
    const reopened = await JobStore.open(file, { readOnly: true });
    stores.push(reopened);
    expect(baselineOf(reopened, 6)).toEqual(['nightly-005', 'nightly-004', 'nightly-002', 'nightly-001', 'nightly-000']);
  });

  it("Delete Job re-checks with the source's regression: keys when the sources are given", async () => {
    const { store } = await editor({ prod: { regression: { baseline_runs: 3 } } });
    await ui.commands.get('sparkOptimizer.deleteJob')!({ kind: 'job', record: run(5) });
    expect(baselineOf(store, 6)).toEqual(['nightly-004', 'nightly-003', 'nightly-002']);
  });

  it('Apply Retention: runs dropped are no longer quoted', async () => {
    const { store } = await editor();
    vi.useFakeTimers({ now: new Date('2024-07-03T00:00:00Z'), toFake: ['Date'] });
    try {
      // Runs 0 and 1 ended more than 30 days before July 3rd.
      ui.input = '30';
      await ui.commands.get('sparkOptimizer.applyRetention')!();
    } finally {
      vi.useRealTimers();
    }
    expect(ui.infos).toEqual(['Spark Optimizer: deleted 2 jobs older than 30 days.']);
    expect(baselineOf(store, 6)).toEqual(['nightly-005', 'nightly-004', 'nightly-003', 'nightly-002']);
  });
});
