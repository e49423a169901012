/**
 * A collection run's state and the words it is shown by: a module of its own, without the
 * repository's imports, because `--help` (cli/usage.ts) prints them and must start small (issue 12).
 */

/**
 * Where a collection run is: `finished` (its end recorded), `running` (its process is alive, by
 * fileLock.ts's rule for a lock's holder), `interrupted` (its end never came and its process is gone:
 * killed, out of memory, its editor closed), or `unknown` (unfinished, by a version before the store
 * recorded who runs a run: nothing tells). `finished` stays null for the last three: a run's end is
 * only ever the time its process recorded, and an incremental cursor is taken only from a run that
 * recorded one (LISTED_THROUGH_SQL).
 */
export type RunState = 'finished' | 'running' | 'interrupted' | 'unknown';

/**
 * What a run without an end is called wherever it is shown (runs' finished column, the Sources view,
 * runs --help), with what that means in short (`gist`) and in full: the one definition of the words.
 */
export const UNENDED_RUN: Readonly<Record<Exclude<RunState, 'finished'>, { word: string; gist: string; means: string }>> = {
  running: { word: 'running', gist: 'its process alive', means: 'its counts so far' },
  interrupted: { word: 'interrupted', gist: 'its process gone', means: 'its process ended before the run did, so what it stored is all it did' },
  // An older version's run: it did not say who ran it.
  unknown: { word: 'unfinished', gist: "an older version's: it cannot be told", means: 'recorded by an older version, which does not say whether it still runs' },
};

/** The word for a run's state (UNENDED_RUN), 'finished' for one with an end. */
export const runStateWord = (state: RunState): string => (state === 'finished' ? 'finished' : UNENDED_RUN[state].word);
