/**
 * How the stores name an application attempt and place a run in its history: small rules shared by
 * the repositories and the collection pipeline, in a module of their own so that code which only
 * needs them (the editor's collection thread) does not load a store.
 */

/**
 * Where, in a run's stored options, a run that listed its server completely keeps where it reached:
 * `{ end_time, scope }` (historyServer/cursor.ts). Here, not in repository.ts: the pipeline writes it
 * in the editor's collection worker, whose bundle has no repository.
 */
export const LISTED_THROUGH = 'listed_through';

/** A key's attempt as the stores keep it: '' for none (a primary key's column cannot be NULL). */
export function attemptKey(attemptId: string | null): string {
  return attemptId ?? '';
}

/** One string for an attempt's key, to look it up in a Map. */
export const keyId = (appId: string, attemptKey: string): string => `${appId}\u0000${attemptKey}`;
/** keyId of an attempt's key as records and AppKeys hold it (attempt_id null for none). */
export const appKeyId = (k: { app_id: string; attempt_id: string | null }): string => keyId(k.app_id, attemptKey(k.attempt_id));

/** A run's time as baselines are ordered by: its start, else its submission, else its end (previousRun's rule). */
export const runTimeOf = (r: { start_time: string | null; submit_time: string | null; end_time: string | null }): string | null => r.start_time ?? r.submit_time ?? r.end_time;
