/**
 * `spark-optimizer compare A B`: B against A (issue 15), from analysis/compare.ts's view model:
 * metric deltas, aligned stages, and the Spark properties that differ. Several attempts and no
 * `--attempt-a/-b`: the last attempt, as `show` does. `compare A --previous`: A against the run of
 * its application name that started last before it.
 */
import { parseArgs } from 'node:util';
import { compareRuns } from '../analysis/compare';
import { compareText } from '../analysis/compareText';
import type { SparkAppRecord } from '../collectors/record';
import { oneLine, visible } from '../common/format';
import { oneOf, positiveInt, stringFlags, UsageError, type Io } from './io';
import { openExisting } from './database';
import { attemptName, findRun } from './showCommand';

export async function compareCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { ...stringFlags('db', 'attempt-a', 'attempt-b', 'format', 'top'), previous: { type: 'boolean', default: false }, utc: { type: 'boolean', default: false } }, strict: true, allowPositionals: true });
  const wanted = values.previous ? 1 : 2;
  if (positionals.length !== wanted) throw new UsageError(values.previous ? `compare --previous takes one application id, got ${positionals.length}` : `compare takes two application ids (or one with --previous), got ${positionals.length}`);
  const format = oneOf('format', values.format, ['text', 'json'] as const, 'text');
  const top = positiveInt('top', values.top, 10);
  const store = await openExisting(values.db, io);
  if (!store) return 1;
  try {
    const pick = (appId: string, attempt: string | undefined, tag: 'A' | 'B'): SparkAppRecord => {
      const { record, others } = findRun(store, appId, attempt);
      if (others.length > 0) io.err(`note: ${tag} is attempt ${attemptName(record)} of ${appId}, the last (--attempt-${tag.toLowerCase()} N for another).`);
      return record;
    };
    let records: [SparkAppRecord, SparkAppRecord];
    if (values.previous) {
      // --previous: the run given is B, and A is the run of its name that started last before it.
      // Its attempt is --attempt-a's (as the usage says) or --attempt-b's: two different ones name no run.
      const [x, y] = [values['attempt-a'], values['attempt-b']];
      if (x !== undefined && y !== undefined && x !== y) throw new UsageError(`compare --previous compares one run with its previous one: --attempt-a ${x} and --attempt-b ${y} name two; give one`);
      const b = pick(positionals[0]!, x ?? y, 'B');
      const a = store.previousRun(b);
      if (!a) {
        io.err(`spark-optimizer: ${b.app_id} (${oneLine(b.app_name ?? 'no name')}) has no earlier run of the same name in ${store.where}.`);
        return 1;
      }
      records = [a, b];
    } else {
      records = [pick(positionals[0]!, values['attempt-a'], 'A'), pick(positionals[1]!, values['attempt-b'], 'B')];
    }
    const runs = records.map((record) => ({ record, summaries: store.summariesOf(record) }));
    const comparison = compareRuns(runs[0]!, runs[1]!);
    io.out(format === 'json' ? JSON.stringify(comparison) : visible(compareText(comparison, top, values.utc ? 'UTC' : undefined)));
    return 0;
  } finally {
    store.close();
  }
}
