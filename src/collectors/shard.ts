/**
 * `collect --shard K/N` (issue 17): N collections (cron jobs on N hosts) split one event-log archive
 * or one API listing between them, with no unit in two shards and none in no shard. A unit belongs to
 * shard `shardOf(identity, N)`, from its identity alone, so every host decides the same without
 * talking to the others, and a unit keeps its shard when others are added or removed.
 *
 * The hash is the first 8 bytes of SHA-1 of the identity (NFC, UTF-8), big-endian, mod N, plus 1.
 * SHA-1 because anyone can check a split with `printf %s ID | sha1sum`, every Node has it, and its
 * bits are evenly mixed, so neighbouring ids (application_1700000000000_0001, _0002…) spread over any
 * N; FNV-1a's low bits follow the last characters, which share a few values in sequential ids. It
 * must never change: a different hash moves units between shards, and hosts on two versions overlap.
 *
 * What the identity is (the collectors say; never an absolute path, which differs between hosts):
 * - event logs: the attempt's path relative to the source's path, with `/` (logIdentity below); a
 *   rolling, Databricks or Spark 1.x folder is one unit, named by its folder;
 * - API sources: the id of what the collector lists (api/runner.ts `shard`).
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { groupDigits, plural } from '../common/format';

/** Shard `index` (1-based) of `count`. Plain data: it travels in a job's options, and the run record keeps it. */
export interface Shard {
  index: number;
  count: number;
}

/** `K/N` as a Shard; throws with what is wrong (the CLI turns it into a usage error). */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text);
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(count) || count < 1 || index < 1 || index > count) {
    throw new Error(`must be K/N, whole numbers with 1 <= K <= N (2/4: the second of four shares), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

export function shardText(shard: Shard): string {
  return `${shard.index}/${shard.count}`;
}

/** The shard (1..count) a unit of this identity belongs to. */
export function shardOf(identity: string, count: number): number {
  const digest = createHash('sha1').update(identity.normalize('NFC'), 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) % BigInt(count)) + 1;
}

/** Whether the unit of this identity is this shard's; every unit is when there is no shard (or one). */
export function inShard(identity: string, shard: Shard | undefined): boolean {
  return shard === undefined || shard.count === 1 || shardOf(identity, shard.count) === shard.index;
}

/**
 * An event-log attempt's identity: its path relative to the source's `root`, with `/` separators (the
 * archive is mounted at different places on different hosts); when `root` is the attempt itself (a
 * log file or a rolling folder given on its own), or a file in it (Spark 1.x `EVENT_LOG_1`), its name.
 */
export function logIdentity(root: string, unitPath: string): string {
  const rel = path.relative(root, unitPath);
  const inside = rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
  return (inside ? rel : path.basename(unitPath)).split(path.sep).join('/');
}

/** How one job's units split: `mine` of the `total` it found are this shard's. `unit` names them: "log", "cluster". */
export interface ShardTally {
  unit: string;
  mine: number;
  total: number;
}

/** Two tallies of one unit added up (`had` undefined: none yet). */
export function sumTally(had: ShardTally | undefined, t: ShardTally): ShardTally {
  return { unit: t.unit, mine: (had?.mine ?? 0) + t.mine, total: (had?.total ?? 0) + t.total };
}

/** The tallies of a run, added up by unit (a config's event-log paths are one "logs" count). */
export function addTally(into: Map<string, ShardTally>, t: ShardTally): void {
  into.set(t.unit, sumTally(into.get(t.unit), t));
}

/** "shard 2/4: 1,234 of 4,901 logs" (and ", 12 of 50 clusters" for each other unit). */
export function shardSummary(shard: Shard, tallies: Iterable<ShardTally>): string {
  const parts = [...tallies].map((t) => `${groupDigits(t.mine)} of ${plural(t.total, t.unit)}`);
  return `shard ${shardText(shard)}: ${parts.length > 0 ? parts.join(', ') : 'nothing found'}`;
}
