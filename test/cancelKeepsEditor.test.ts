/**
 * The editor: a History Server collection cancelled from its notification keeps what the collection
 * worker had fetched to the end ("Cancelled: 7 new", not "Cancelled: 0 new" as a review saw), the
 * application in flight is not stored, and the run is recorded cancelled. The CollectionController
 * runs in plain Node with the real collection worker (dist/collectWorker.js: build first).
 */
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import { JobStore } from '../src/storage/jobStore';
import { CollectionController } from '../src/views/collection';
import type { DatabaseService } from '../src/views/database';
import { APPS, FINISHED, heldServer, storedIds } from './support/heldServer';
import { tempDir } from './support/tmp';
import { setConfiguration } from './support/vscodeFake';

const ui = vi.hoisted(() => ({
  infos: [] as string[],
  /** Cancels the running notification, as its Cancel button does. */
  cancel: undefined as (() => void) | undefined,
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<typeof import('./support/vscodeFake')>();
  return {
    ...fake,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window: {
      withProgress: fake.cancellableProgress((cancel) => (ui.cancel = cancel)),
      showInformationMessage: (message: string): Promise<undefined> => {
        ui.infos.push(message);
        return Promise.resolve(undefined);
      },
      showErrorMessage: (message: string): Promise<undefined> => {
        ui.infos.push(message);
        return Promise.resolve(undefined);
      },
      showWarningMessage: (message: string): Promise<undefined> => {
        ui.infos.push(message);
        return Promise.resolve(undefined);
      },
    },
  };
});

const REPO = path.resolve(__dirname, '..');

beforeEach(() => {
  ui.infos = [];
  ui.cancel = undefined;
  setConfiguration('sparkOptimizer', {});
});



describe('the editor: a cancelled collection keeps what the worker had fetched', () => {
  it('Cancel while app-002 is in flight: the 7 fetched before are stored, "Cancelled: 7 new"; the next run stores the 3 others', async () => {
    const s = await heldServer(['app-002']);
    const store = await JobStore.open(path.join(tempDir(), 'jobs.db'));
    const db = { open: () => Promise.resolve(store), openForWriting: () => Promise.resolve({ store, release: () => Promise.resolve() }), save: () => store.save().then(() => undefined), notify: () => undefined } as unknown as DatabaseService;
    const channel = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined, trace: () => undefined, show: () => undefined };
    type Ctor = ConstructorParameters<typeof CollectionController>;
    const controller = new CollectionController(REPO, db, channel as unknown as Ctor[2], undefined, { get: () => Promise.resolve(undefined) } as unknown as Ctor[4]);
    const config: SourceConfig = { ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: s.url, concurrency: 1 }), name: 'hs' };
    let cancelledAt = 0;
    // One at a time: app-003 is in the worker's hands before app-002 is asked for (and held).
    s.onHeld(() => {
      cancelledAt = performance.now();
      ui.cancel!();
    });
    try {
      const total = await controller.run([{ name: 'hs', config, errors: [] }]);
      const ms = performance.now() - cancelledAt;
      expect(ui.infos.at(-1)).toMatch(/^Spark Optimizer: Cancelled: 7 new, 0 updated, 0 unchanged, 0 skipped, 0 failed/);
      expect(total?.new).toBe(7);
      expect(storedIds(store)).toEqual(FINISHED);
      expect(store.listRuns(1)[0]!.errors).toContain('run stopped: cancelled');
      console.log(`History Server (editor, worker): ${ms.toFixed(1)} ms from Cancel to the run's end`);
      expect(ms).toBeLessThan(1500);

      s.hold.on = false;
      const again = await controller.run([{ name: 'hs', config, errors: [] }]);
      // The editor sends History Server jobs no known files: what is stored is fetched again, unchanged.
      expect(again).toMatchObject({ new: 3 });
      expect(store.count()).toBe(10);
      expect(storedIds(store)).toEqual(APPS.map((a) => a.id).sort());
    } finally {
      store.close();
    }
  });
});
