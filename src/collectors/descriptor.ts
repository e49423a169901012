/**
 * What the product knows about one source type, in one place: its config keys (schema and docs),
 * its command-line flags and usage, its icon, location text and starter snippet, how a configured
 * source becomes collection jobs (secrets, incremental runs, the limits it takes), and its
 * collector. The registry (registry.ts) lists one descriptor per type; the CLI, the editor, the
 * worker protocol, the config schema and the JSON Schema are all built from it.
 */
import type { z } from 'zod';
import type { Batch, Collector } from './contract';

/** What the store sink keeps of a job's batches for its cursor, and where the run reached once all are stored (null: it records none). */
export interface CursorTracker {
  take(batch: Batch): void;
  reached(): string | null;
}
import type { Problem } from './record';
import type { Shard } from './shard';

/** Credentials the editor keeps in its secret storage for a source (the CLI has none). */
export interface StoredSecret {
  secret: string;
  /** How to name it in messages, e.g. "the editor's secret storage (source 'prod')". */
  from: string;
}

/**
 * Job options a command-line flag (which wins over the config) or an editor setting (which fills
 * in what the config leaves out) may set. `since`, `user`, `concurrency`, `batchSize` and `shard` are taken
 * by every source type; the others by the types whose descriptor lists them in `takes`.
 */
export interface JobOverrides {
  since?: Date;
  user?: string;
  concurrency?: number;
  batchSize?: number;
  maxApps?: number;
  status?: 'completed' | 'running' | 'all';
  maxResponseBytes?: number;
  maxUnpackedBytes?: number;
  maxUnpackRatio?: number;
  maxZstdWindowMb?: number;
  maxLineBytes?: number;
  maxDecompressionRatio?: number;
  /** `--shard K/N`: only the units (logs, listed applications…) of this shard (shard.ts). */
  shard?: Shard;
}
export type OverrideKey = keyof JobOverrides;
/** What every source type takes. */
export const COMMON_OVERRIDES: readonly OverrideKey[] = ['since', 'user', 'concurrency', 'batchSize', 'shard'];
/** The event-log engine's read limits (readLog.ts ReadLimits), for the types whose logs it reads. */
export const READ_LIMIT_OVERRIDES = ['maxZstdWindowMb', 'maxLineBytes', 'maxDecompressionRatio'] as const satisfies readonly OverrideKey[];

/** A `collect --source T` flag: the config key it stands for, with exactly that key's meaning. */
export interface SourceFlag {
  /** Without the dashes: `cluster-id`. */
  flag: string;
  /** The config key it sets: `cluster_ids`. */
  key: string;
  /** `string` (default); `list`: may be given more than once; `negate`: a boolean flag that sets the key to false; `path`: resolved against the working folder. */
  kind?: 'string' | 'list' | 'negate' | 'path';
  /** The source cannot be collected from flags without it. */
  required?: boolean;
}

export interface SourceDescriptor<T extends string = string, C extends { type: T; name: string } = { type: T; name: string }, O = unknown> {
  type: T;
  /** In a few words, for help and pickers: "Spark event logs". */
  title: string;
  /** `--source` spellings; the first is the one help shows. */
  cliNames: readonly string[];
  /** The config entry's schema (strict, with `type: T`). */
  schema: z.ZodObject<z.ZodRawShape>;
  flags: readonly SourceFlag[];
  /** The flags of its `collect --source` usage line, after the source: `--path PATH`. */
  usage: string;
  /**
   * How `since` and `user` narrow what it reads before anything is fetched (its push-down), for
   * `--help`. Whatever is read is then judged by the one rule every source shares (record.ts
   * `matchesFilter`: ended at or after `since`, running ones started at or after it).
   */
  narrows: string;
  /** How it finds credentials, for `--help`; none for a type that needs none. */
  credentials?: string;
  /** A codicon for the Sources view. */
  icon: string;
  /** Its entry in a new config file's `sources:` list (YAML, indented two spaces; commented out but for the first type). */
  starter: string;
  /** Where a configured source reads from, in a few words; never a password written into a URL. */
  location(config: C): string;
  /** Which of `JobOverrides` besides the common ones its options take. */
  takes: readonly OverrideKey[];
  /** It takes a secret from the editor's secret storage: what to call it. */
  secret?: string;
  /** Its collection jobs' options (one per event-log path; one for any other). Throws on a `${env:VAR}` that is not set. */
  jobs(config: C, stored?: StoredSecret): O[];
  /** Incremental runs: the options given the newest end time stored for this source. */
  incremental?(options: O, newestEndTime: string | null): O;
  /** Incremental runs: what a job's run reached, from its batches as they are stored (the next run's cursor). */
  cursor?(options: O): CursorTracker;
  /** Whether these problems mean the job stopped early (unreadable path, wrong credentials, unreadable listing). */
  stopped(options: O, problems: readonly Problem[]): boolean;
  /**
   * Its collector skips what the store already holds unchanged (`CollectContext.isUnchanged`): log
   * files on disk, or an API listing's finished items by their marks (a "file" at the item's URL,
   * api/runner.ts, historyServer/collect.ts). The editor sends such a job the store's known files, and
   * no other (they are a full read of a table, copied to the worker thread).
   */
  skipsUnchangedFiles?: true;
  /** Its collector, loaded when a job of its type runs (the API ones carry HTTP stacks: issue #12). */
  collector(): Promise<Collector<O>>;
}

/** A type's flags: a config key stands for `--key-with-dashes`; an object for any other flag. */
export function sourceFlags(...flags: readonly (string | SourceFlag)[]): SourceFlag[] {
  return flags.map((f) => (typeof f === 'string' ? { flag: f.replace(/_/g, '-'), key: f } : f));
}

/** An API source's run stopped early: refused credentials, an unreadable listing, a source that cannot start. */
export function apiRunStopped(_options: unknown, problems: readonly Problem[]): boolean {
  return problems.some((p) => p.code === 'auth-failed' || p.code === 'list-failed' || p.code === 'config');
}

