/**
 * The editor: a History Server collection cancelled from its notification keeps what the collection
 * worker had fetched to the end ("Cancelled: 7 new", not "Cancelled: 0 new" as a review saw), the
 * application in flight is not stored, and the run is recorded cancelled. The CollectionController
 * runs in plain Node with the real collection worker (dist/collectWorker.js: build first).
 */
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import { JobStore } from '../src/storage/jobStore';
import type { JobRepository } from '../src/storage/repository';
import { CollectionController } from '../src/views/collection';
import type { DatabaseService } from '../src/views/database';
import { serve, syntheticListing, syntheticRoutes, type Handler, type SyntheticApp } from './support/historyServerFake';
import { tempDir } from './support/tmp';
import { setConfiguration } from './support/vscodeFake';

const ui = vi.hoisted(() => ({
  infos: [] as string[],
  /** Cancels the running notification, as its Cancel button does. */
  cancel: undefined as (() => void) | undefined,
}));

vi.mock('vscode', async (importOriginal) => {
  const fake = await importOriginal<Record<string, unknown>>();
  class CancellationToken {
    isCancellationRequested = false;
    private listeners: (() => void)[] = [];
    onCancellationRequested = (l: () => void): { dispose(): void } => {
      this.listeners.push(l);
      return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
    };
    cancel(): void {
      this.isCancellationRequested = true;
      for (const l of [...this.listeners]) l();
    }
  }
  return {
    ...fake,
    ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
    window: {
      withProgress: async <T>(_options: unknown, task: (progress: { report(p: { message?: string }): void }, token: CancellationToken) => Promise<T>): Promise<T> => {
        const token = new CancellationToken();
        ui.cancel = () => token.cancel();
        return task({ report: () => undefined }, token);
      },
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

const T0 = Date.UTC(2024, 0, 10);
/** Ten completed applications, a second apart; the listing gives the newest (app-009) first. */
const APPS: SyntheticApp[] = Array.from({ length: 10 }, (_, i) => ({ id: `app-${String(i).padStart(3, '0')}`, user: 'etl', startMs: T0 + i * 1000 - 500, endMs: T0 + i * 1000, executors: [{ id: 'driver', cores: 1 }], stages: [] }));

/**
 * The server: every application answers, except that while `hold` is on, the `/environment` of the
 * `heldIds` never answers (a download in flight at the cancel). `onHeld` is told of each held request.
 */
async function server(heldIds: readonly string[]): Promise<{ url: string; hold: { on: boolean }; held: ServerResponse[]; onHeld: (f: () => void) => void; requests: string[] }> {
  const hold = { on: true };
  const held: ServerResponse[] = [];
  let heldListener: () => void = () => undefined;
  const routes = syntheticRoutes(APPS);
  for (const id of heldIds) {
    const answer = routes[`applications/${id}/environment`]!;
    const handler: Handler = (_req, res) => {
      if (!hold.on) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify((answer as { json: unknown }).json));
        return;
      }
      held.push(res);
      heldListener();
    };
    routes[`applications/${id}/environment`] = handler;
  }
  const listing: Handler = (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    // Newest first, as Spark lists them.
    res.end(JSON.stringify(syntheticListing([...APPS].reverse())));
  };
  const s = await serve({ applications: listing, ...routes });
  return { url: s.url, hold, held, onHeld: (f) => (heldListener = f), requests: s.requests };
}

const storedIds = (repo: JobRepository): string[] => repo.list({ limit: 1000 }).map((r) => r.app_id).sort();
/** The seven the listing gives first: fetched to the end before the cancel. */
const FINISHED = APPS.map((a) => a.id).slice(3);


describe('the editor: a cancelled collection keeps what the worker had fetched', () => {
  it('Cancel while app-002 is in flight: the 7 fetched before are stored, "Cancelled: 7 new"; the next run stores the 3 others', async () => {
    const s = await server(['app-002']);
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
