/**
 * A History Server of ten applications for the cancel tests (cancelKeeps*.test.ts): a download of some
 * of them held in flight while the run is cancelled, the others answered at once.
 */
import type { ServerResponse } from 'node:http';
import type { JobRepository } from '../../src/storage/repository';
import { serve, syntheticListing, syntheticRoutes, type Handler, type SyntheticApp } from './historyServerFake';

const T0 = Date.UTC(2024, 0, 10);
/** Ten completed applications, a second apart; the listing gives the newest (app-009) first. */
export const APPS: SyntheticApp[] = Array.from({ length: 10 }, (_, i) => ({ id: `app-${String(i).padStart(3, '0')}`, user: 'etl', startMs: T0 + i * 1000 - 500, endMs: T0 + i * 1000, executors: [{ id: 'driver', cores: 1 }], stages: [] }));

/**
 * The server: every application answers, except that while `hold` is on, the `/environment` of the
 * `heldIds` never answers (a download in flight at the cancel). `onHeld` is told of each held request.
 */
export async function heldServer(heldIds: readonly string[]): Promise<{ url: string; hold: { on: boolean }; held: ServerResponse[]; onHeld: (f: () => void) => void; requests: string[] }> {
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

export const storedIds = (repo: JobRepository): string[] => repo.list({ limit: 1000 }).map((r) => r.app_id).sort();
/** The seven the listing gives first: fetched to the end before the cancel. */
export const FINISHED = APPS.map((a) => a.id).slice(3);
