/**
 * An incremental run's cursor never passes a record the store did not store (a review of the
 * PostgreSQL store, item 2): the server refused app-b for a value it could not hold, the warning said
 * "the log is read again next time", and the run recorded its cursor at app-c's end, days after
 * app-b's; every later run asked only for what ended after that, so app-b was never collected. A run
 * with a record refused (or failed) now records no cursor (pipeline.ts storeSink).
 */
import { describe, expect, it } from 'vitest';
import { SOURCE_SCHEMAS, type SourceConfig } from '../src/collectors/config';
import type { HistoryServerOptions } from '../src/collectors/historyServer/collect';
import { collectRun, plan, runJob, storeSink } from '../src/pipeline';
import { entryOf, type JobRepository } from '../src/storage/repository';
import { unchangedCheck } from '../src/storage/unchanged';
import { memoryRepository } from './support/memoryRepository';
import { serve, syntheticListing, syntheticRoutes, type FakeServer, type SyntheticApp } from './support/historyServerFake';
import { describePostgres, newDatabase, pgHandles } from './support/postgres';

const day = (d: number): number => Date.UTC(2024, 5, d, 12);
const app = (id: string, d: number): SyntheticApp => ({ id, user: 'etl', startMs: day(d) - 600_000, endMs: day(d), executors: [{ id: 'driver', cores: 1 }], stages: [] });
const APPS = [app('app-a', 1), app('app-b', 5), app('app-c', 10)];

/** A History Server that honours minEndDate as Spark's does (the applications that ended at or after it). */
function server(): Promise<FakeServer> {
  return serve({
    ...syntheticRoutes(APPS),
    applications: (req, res) => {
      const min = new URL(req.url ?? '/', 'http://x').searchParams.get('minEndDate');
      const from = min === null ? -Infinity : Date.parse(min.replace(/GMT$/, 'Z'));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(syntheticListing(APPS.filter((a) => a.endMs! >= from))));
    },
  });
}

const source = (url: string): SourceConfig => ({ ...SOURCE_SCHEMAS.history_server.parse({ type: 'history_server', history_server_url: url }), name: 'hs' });

/** One collection as the CLI runs it: planned with the store's cursor, run, stored. */
async function collect(repo: JobRepository, url: string): Promise<{ failed: number; since: string | undefined }> {
  const planned = plan([source(url)], { newestEndTime: (of) => repo.newestEndTime(of) });
  const isUnchanged = unchangedCheck(repo.knownFiles());
  const result = await collectRun(planned.jobs, ({ job }, signal) => ({ batches: runJob(job, { signal, isUnchanged }) }), storeSink(repo), new AbortController().signal);
  return { failed: result.counts.failed, since: (planned.jobs[0]!.job.options as HistoryServerOptions).since?.toISOString() };
}

const stored = (repo: JobRepository): string[] => repo.list({ limit: 100 }).map((r) => r.app_id).sort();

/** The refused record's run, then a run that can store it: it is collected, and only then does a cursor move past it. */
async function refusedThenStored(repo: JobRepository, refusing: { on: boolean }): Promise<void> {
  const s = await server();
  const first = await collect(repo, s.url);
  expect(first.failed).toBe(1);
  expect(stored(repo)).toEqual(['app-a', 'app-c']);
  refusing.on = false;
  const second = await collect(repo, s.url);
  // No cursor was recorded: the whole listing again, app-b with it (the others held unchanged).
  expect(second.since).toBeUndefined();
  expect(second.failed).toBe(0);
  expect(stored(repo)).toEqual(['app-a', 'app-b', 'app-c']);
  // Everything stored: now a cursor, at the newest end that run fetched (app-b's: the others were held), less the overlap.
  expect((await collect(repo, s.url)).since).toBe(new Date(day(5) - 60 * 60 * 1000).toISOString());
}

describe('History Server cursor and a record the store refused (sql.js, a refusing store)', () => {
  it('a run in which the store refused a record records no cursor; the next run collects that record', async () => {
    const { repo } = await memoryRepository();
    const refusing = { on: true };
    // As PostgresStore.storeBatch answers a record the server refuses: the rest stored, the record counted refused.
    const store = Object.create(repo) as JobRepository;
    store.storeBatch = (items, files, now, changed, removed) => {
      const kept = refusing.on ? items.filter((i) => entryOf(i).record.app_id !== 'app-b') : items;
      const counts = repo.storeBatch(kept, refusing.on ? files.filter((f) => f.app_id !== 'app-b') : files, now, changed, removed);
      return kept.length === items.length ? counts : { ...counts, refused: items.length - kept.length };
    };
    await refusedThenStored(store, refusing);
  });
});

describePostgres('History Server cursor and a record the server refused (PostgreSQL)', (pg) => {
  const { open, connect } = pgHandles();
  it('a run in which the server refused a record (value out of range) records no cursor; the next run collects that record', async () => {
    const url = await newDatabase(pg());
    const store = await open(url, pg().password);
    const admin = await connect(pg(), url);
    // The server refuses app-b as it refuses a value it cannot hold (SQLSTATE 22003).
    await admin.query(`CREATE FUNCTION refuse_b() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.app_id = 'app-b' THEN RAISE EXCEPTION 'value out of range (simulated)' USING ERRCODE = '22003'; END IF; RETURN NEW; END $$`);
    await admin.query('CREATE TRIGGER refuse_b BEFORE INSERT OR UPDATE ON applications FOR EACH ROW EXECUTE FUNCTION refuse_b()');
    const s = await server();
    const first = await collect(store, s.url);
    expect(first.failed).toBe(1);
    expect(store.warnings.join('\n')).toMatch(/app-b .*was not stored: .*value out of range/);
    expect(stored(store)).toEqual(['app-a', 'app-c']);
    await admin.query('DROP TRIGGER refuse_b ON applications');
    const second = await collect(store, s.url);
    expect(second.since).toBeUndefined();
    expect(stored(store)).toEqual(['app-a', 'app-b', 'app-c']);
    expect((await collect(store, s.url)).since).toBe(new Date(day(5) - 60 * 60 * 1000).toISOString());
  });
});
