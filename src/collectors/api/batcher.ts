/** Batches of an API collection (runner.ts), none over the configured size. */
import type { Batch, CollectProgress, CollectedApp } from '../contract';
import type { Problem } from '../record';
import { sumTally, type ShardTally } from '../shard';

/**
 * Collects records, problems, filtered and unchanged counts, and hands them out in batches of at most `size`
 * entries (each record, problem and filtered one counts), records first. Keeps the run's progress
 * counts of records and problems as they are added.
 */
export class Batcher {
  private apps: CollectedApp[] = [];
  private problems: Problem[] = [];
  private filteredCount = 0;
  private unchangedCount = 0;
  /** A sharded run's tally since the last batch (one collector lists one unit). */
  private tally: ShardTally | undefined;
  /** The run's progress; `apps` and `problems` are counted here, the rest by the runner. */
  readonly progress: CollectProgress = { logsFound: 0, logsDone: 0, bytesRead: 0, apps: 0, problems: 0 };
  private readonly size: number;

  constructor(size: number) {
    this.size = Math.max(1, size);
  }

  app(app: CollectedApp): void {
    this.apps.push(app);
    this.progress.apps++;
    this.progress.problems += app.problems.length;
  }

  problem(...problems: Problem[]): void {
    this.problems.push(...problems);
    this.progress.problems += problems.length;
  }

  filtered(n = 1): void {
    this.filteredCount += n;
  }

  /** Listed items the store holds as listed (runner.ts held): not fetched. */
  unchanged(n = 1): void {
    this.unchangedCount += n;
  }

  /** Listed items of a sharded run: `mine` of `total` are its shard's. Goes with the next batch. */
  sharded(t: ShardTally): void {
    this.tally = sumTally(this.tally, t);
  }

  get full(): boolean {
    return this.count >= this.size;
  }

  get empty(): boolean {
    return this.count === 0 && this.tally === undefined;
  }

  /** The next batch: up to `size` entries of what was added, records first, then problems. */
  take(): Batch {
    let room = this.size;
    const apps = this.apps.splice(0, room);
    room -= apps.length;
    const problems = this.problems.splice(0, room);
    room -= problems.length;
    const filtered = Math.min(this.filteredCount, room);
    this.filteredCount -= filtered;
    room -= filtered;
    const unchanged = Math.min(this.unchangedCount, room);
    this.unchangedCount -= unchanged;
    const shard = this.tally;
    this.tally = undefined;
    return { apps, problems, filtered, unchanged, ...(shard !== undefined ? { shard } : {}) };
  }

  private get count(): number {
    return this.apps.length + this.problems.length + this.filteredCount + this.unchangedCount;
  }
}
