/**
 * `spark-optimizer db copy --from A --to B` (issue 17): everything one store holds into another (the
 * workspace file to a team's PostgreSQL and back, or file to file), a page at a time.
 * - Streamed: records go PAGE at a time with their stages and executors and regression checks; what
 *   is held is one page, whatever the store's size (the embedded file is in memory anyway).
 * - Idempotent: records go through upsert, whose rules hold (an identical record is unchanged, a
 *   finished one is never replaced by an unfinished copy), files and runs by key; a copy run again,
 *   or into a store that holds some of them, converges to the same rows.
 * - The known files go too, so that collecting into the copy does not read every log again.
 * - Stopped (Ctrl+C): the pages copied are kept (saved, for a file), and it says so.
 * - A file is saved every SAVE_EVERY_MS or SAVE_EVERY_RECORDS and at the end, not after each page: a
 *   save writes the whole database, so saving per page made a copy quadratic in its size (100,000
 *   records file to file: 30 s -> 11 s), and until a save the store keeps what it wrote for a merge
 *   with another writer, which the record bound keeps in check. A killed copy loses at most that
 *   much work, which running it again redoes.
 * - A record that names a platform-level record the destination holds (contract.ts REPLACES_TAG)
 *   removes it there (upsert's supersede), as a collection does; the destination's runs whose
 *   baselines held it are checked again (regression.ts recheckAfterRemoval) with each page, before
 *   any save, so that no stored verdict quotes a run that is gone, even after a stopped copy.
 * A record's first_seen in the copy is when it was copied.
 */
import { parseArgs } from 'node:util';
import { recheckAfterRemoval } from '../analysis/regression';
import { DEFAULT_THRESHOLDS } from '../analysis/regressionThresholds';
import type { AppKey, LaterRun, RegressionRow } from '../storage/repository';
import type { Store } from '../storage/store';
import { plural } from '../common/format';
import { maskJsonStrings, shownRecords, shownRegression } from '../storage/storedSecrets';
import { databaseLocation, openDatabase, openExisting, printNewWarnings } from './database';
import { STOP_SIGNALS, UsageError, ignoreClosedTerminal, positiveInt, stringFlags, type Io } from './io';

const PAGE = 500;
const SAVE_EVERY_MS = 5000;
const SAVE_EVERY_RECORDS = 10_000;
/**
 * The thresholds of the re-check after a supersede (here, or in a merge with another writer's save of
 * the destination file). A source's `regression:` keys live in the config file `collect --config`
 * reads, and db copy is given none (nor does a store keep them), so every source gets what collect
 * gives a source without those keys: DEFAULT_THRESHOLDS (pipeline.ts storeSink; the CLI has no editor
 * settings), the fallback of the editor's re-checks for a source it does not know (jobCommands.ts).
 */
const recheckThresholds = (): typeof DEFAULT_THRESHOLDS => DEFAULT_THRESHOLDS;

export async function dbCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'copy') throw new UsageError(sub === undefined ? 'db needs a subcommand: copy' : `unknown db subcommand ${JSON.stringify(sub)} (known: copy)`);
  const { values } = parseArgs({ args: rest, options: { ...stringFlags('from', 'to', 'batch-size') }, allowPositionals: false });
  if (values.from === undefined || values.to === undefined) throw new UsageError('db copy needs --from and --to (a database file, sqlite:/// or postgres:// URL each)');
  const page = positiveInt('batch-size', values['batch-size'], PAGE);
  const toAt = databaseLocation(values.to, io);
  if (databaseLocation(values.from, io).display === toAt.display) throw new UsageError(`--from and --to are the same database (${toAt.display})`);
  // A file to copy from must exist (said as `jobs` says it); a server is opened as it is.
  const from = await openExisting(values.from, io, true);
  if (!from) return 1;
  let to: Store;
  try {
    // A file's save merged with another writer's re-checks with them too (jobStore.ts OpenOptions.recheckThresholds).
    to = await openDatabase(toAt, io, { recheckThresholds });
    await to.checkWritable();
  } catch (err) {
    from.close();
    throw err;
  }
  const toWarnings = to.warnings.length;
  let stopped = false;
  const stop = (signal: NodeJS.Signals): void => {
    stopped = true;
    if (signal === 'SIGHUP') ignoreClosedTerminal();
  };
  for (const s of STOP_SIGNALS) process.once(s, stop);
  const started = Date.now();
  let lastSaid = started;
  let lastSaved = started;
  let savedAt = 0;
  const counts = { new: 0, updated: 0, unchanged: 0 };
  let checks = 0;
  try {
    const total = from.count();
    let done = 0;
    // In key order, each page after the last key copied (keyset paging, JobQuery.after): OFFSET
    // paging counted past every row copied before on each page, and a collector writing into the
    // source meanwhile would shift rows across page boundaries.
    let after: AppKey | undefined;
    try {
      while (!stopped) {
        // Masked as they are copied (storedSecrets.ts): a source not migrated (a reader does not migrate)
        // or written by an older client may hold secrets, which a destination at the newest schema would
        // keep, no migration being left to hide them.
        const records = shownRecords(from.list({ sort: 'app_id', descending: false, limit: page, after }));
        if (records.length === 0) break;
        after = records[records.length - 1]!;
        const summaries = from.summariesOfMany(records);
        const removed: LaterRun[] = [];
        const c = to.upsert(
          records.map((record, k) => ({ record, summaries: summaries[k] })),
          undefined,
          undefined,
          removed,
        );
        counts.new += c.new;
        counts.updated += c.updated;
        counts.unchanged += c.unchanged;
        // Regression checks keep when they were made: saved together per time. One replaces only an
        // older check (or none) of the run: a run both hold unchanged may have been checked since in
        // the destination, against more history (a review: an older file's checks replaced a team's).
        const byTime = new Map<string, RegressionRow[]>();
        const held = to.regressions(records);
        for (const [k, stored] of from.regressions(records).entries()) {
          const theirs = held[k] ?? null;
          if (stored === null || (theirs !== null && theirs.checked_at > stored.checked_at)) continue;
          const r = shownRegression(stored);
          const same = byTime.get(r.checked_at);
          if (same) same.push(r);
          else byTime.set(r.checked_at, [r]);
        }
        for (const [at, rows] of byTime) checks += to.saveRegressions(rows, new Date(at));
        // After the page's checks are copied: a copied check of a run whose baseline held the removed
        // run is made again too, and the re-checks, made now, are newer than any check copied later.
        await recheckAfterRemoval(to, removed, recheckThresholds);
        done += records.length;
        if (Date.now() - lastSaved >= SAVE_EVERY_MS || done - savedAt >= SAVE_EVERY_RECORDS) {
          await to.save();
          lastSaved = Date.now();
          savedAt = done;
        }
        if (Date.now() - lastSaid >= 2000) {
          lastSaid = Date.now();
          io.err(`copied ${done.toLocaleString('en-US')} of ${plural(total, 'record')}…`);
        }
        // Let a Ctrl+C in.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (err) {
      // What was copied before the failure is kept, if the target can still be written.
      await to.save().catch(() => undefined);
      throw err;
    }
    let files = 0;
    let runs = 0;
    // Every record was read: the files and runs go too, and a stop from here on (during the last
    // save) changes nothing the copy does, so it is not said as one.
    const complete = !stopped;
    if (complete) {
      const all = from.ingestedFiles();
      for (let i = 0; i < all.length; i += 5000) to.recordFiles(all.slice(i, i + 5000));
      files = all.length;
      for (const r of from.listRuns(Number.MAX_SAFE_INTEGER)) {
        // Who ran it, as recorded there: a copy never holds a run's sign of life, so an unfinished one reads as interrupted once its process is gone.
        to.startRun(r.run_id, r.source, maskJsonStrings(r.options), new Date(r.started), r.owner);
        if (r.finished !== null) to.finishRun(r.run_id, r, maskJsonStrings(r.errors), new Date(r.finished));
        runs++;
      }
    }
    await to.save();
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const what = `${counts.new} new, ${counts.updated} updated, ${counts.unchanged} unchanged, ${plural(checks, 'regression check')}`;
    if (!complete) {
      io.err(`Stopped: ${what} copied from ${from.where} to ${to.where} and kept; files and runs not copied. Run it again to finish (${secs} s).`);
      return 130;
    }
    io.out(`${what}, ${plural(files, 'known file')}, ${plural(runs, 'collection run')} copied from ${from.where} to ${to.where}; ${secs} s`);
    return 0;
  } finally {
    for (const s of STOP_SIGNALS) process.removeListener(s, stop);
    printNewWarnings(to, toWarnings, io);
    from.close();
    to.close();
  }
}
