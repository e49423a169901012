/**
 * Where an incremental History Server run starts (its cursor), and when a run may move it.
 *
 * A cursor is a claim: "every application of this server that ended at or before T is stored". The
 * newest end time stored under a source name was not one (a review, r3/r10/r11): a `--max-apps 5`
 * trial, a first run cancelled after 600 of 1,340 applications, a run with `--user`, a listing that
 * failed part way, or another server collected under the same name (CLI runs are named by type)
 * stored new applications and left older ones out, and every later run asked only for what ended
 * after them, so the older ones were never collected.
 *
 * So a run records a cursor only when it listed and stored everything it claims: in its own run
 * record (collection_runs.options, `listed_through`, written by the store sink after the run's
 * records: startRun again for the same run), only for a run of status `completed` with no user
 * filter, no `since` of its own (one taken from a cursor is fine: it starts where a complete listing
 * reached), no `maxApps` cap reached, not cancelled, and no error at all (a listing that failed or
 * stopped, an entry of the wrong shape, an application that could not be fetched: each may be one it
 * did not store), and no record the store refused or failed to store (pipeline.ts storeSink: the
 * run's `failed` count, which holds both; such a record is read again next time). T is then the newest end time among the records it stored. A run's cursor is the
 * newest one recorded by such runs of the same source *and scope* (the server's URL without user
 * info, and the shard), so two servers under one name, or shards of one server, never share one.
 *
 * Why this is race-free: each recorded T only claims what its own run listed, from a start that was
 * itself covered (none, or a cursor minus the overlap), and is written after that run's records are
 * (in the same save for the file store, after their commits on PostgreSQL); so the newest of them is
 * a claim that holds however runs interleave, and a run that does not record one changes nothing.
 * A database written before this kept no cursor: its first run lists everything once.
 *
 * The overlap: the History Server lists an application only once it has replayed its event log, so
 * one that ended at 10:00:00 may appear after one that ended at 10:00:10 was stored (r2). An
 * incremental run asks from the cursor minus OVERLAP_MS. What it lists again there that the store
 * holds completed with the same end time is not fetched again (collect.ts heldMark; the CLI's store
 * tells it, the editor's worker is sent no known files for this type and fetches it again); it is
 * counted unchanged. Such held attempts are not in the run's records, so T is the newest end among
 * the records fetched: a cursor can lag behind what is stored, never run ahead of it.
 */
import type { Batch } from '../contract';
import type { HistoryServerOptions } from './collect';

/** How far before its cursor an incremental run asks from: applications listed late by the server (log replay) are not missed. */
export const OVERLAP_MS = 60 * 60 * 1000;

/**
 * Which listing a cursor belongs to, from a run's recorded options (registry recordedOptions: the URL
 * without user info, its secret query values masked the same way each time): the server's URL
 * without trailing slashes or `/api/v1`, and the shard. A URL with no secret in it is recorded as
 * written, so its scope is what it always was; one recorded before the masking is found through
 * registry legacyCursorKey.
 */
export function cursorScope(recorded: Record<string, unknown>): string {
  const url = typeof recorded.url === 'string' ? recorded.url.replace(/\/+$/, '').replace(/\/api\/v1$/, '') : null;
  const shard = recorded.shard as { index?: unknown; count?: unknown } | undefined;
  return JSON.stringify({ url, shard: shard && shard.count !== 1 ? `${String(shard.index)}/${String(shard.count)}` : null });
}

/** What the store sink sees of a run's batches that the cursor needs. */
export class RunListing {
  /** The newest end time among the finished records stored (ISO text orders as time). */
  newestEnd: string | null = null;
  /** Applications stored (only counted when the run has a cap). */
  readonly apps = new Set<string>();
  /** Attempts not fetched because the store holds them unchanged: they count against the cap too. */
  unchanged = 0;
  /** Any error the run reported besides a record's own. */
  errors = false;

  constructor(private readonly countApps: boolean) {}

  take(batch: Batch): void {
    if (batch.problems.some((p) => p.severity === 'error')) this.errors = true;
    this.unchanged += batch.unchanged;
    for (const { record } of batch.apps) {
      if (this.countApps) this.apps.add(record.app_id);
      if ((record.status === 'completed' || record.status === 'failed') && record.end_time !== null && (this.newestEnd === null || record.end_time > this.newestEnd)) this.newestEnd = record.end_time;
    }
  }
}

/** The cursor a finished, not cancelled, History Server run may record, or null (see the header). */
export function listedThrough(options: HistoryServerOptions, run: RunListing): string | null {
  if ((options.status ?? 'completed') !== 'completed' || options.user !== undefined) return null;
  if (options.since !== undefined && options.cursor === undefined) return null;
  // Reached or maybe reached (an unchanged attempt may be one of an application stored): the listing stopped there.
  if (options.maxApps !== undefined && run.apps.size + run.unchanged >= options.maxApps) return null;
  if (run.errors) return null;
  return run.newestEnd;
}
