/**
 * Every source type, one line each. The config schema, the JSON Schema, the CLI's flags and usage,
 * the editor's Sources view and starter config, and the worker protocol's accepted kinds all come
 * from here. Adding a source type: a descriptor (`<type>/source.ts`), a collector, one line below,
 * and its tests (test/registry.test.ts checks that every descriptor is complete).
 */
import type { z } from 'zod';
import { regressionConfigSchema } from '../analysis/regressionThresholds';
import type { Batch, CollectContext } from './contract';
import { COMMON_OVERRIDES, type CursorTracker, type JobOverrides, type SourceDescriptor, type StoredSecret } from './descriptor';
import { withoutUserInfo } from '../common/secretText';
import { databricksSource } from './databricks/source';
import { dataprocSource } from './dataproc/source';
import { emrSource } from './emr/source';
import { eventLogSource } from './eventlog/source';
import { cursorScope } from './historyServer/cursor';
import { historyServerSource } from './historyServer/source';
import { redactTags, type Problem } from './record';
import { maskSecretText } from '../common/secretText';

/** Keys every source has, whatever its type: how its runs are judged once stored (issue 18). */
const SOURCE_KEYS = { regression: regressionConfigSchema.optional() };
type WithSourceKeys<S> = S extends z.ZodObject<infer Shape, infer Config> ? z.ZodObject<z.core.util.Extend<Shape, typeof SOURCE_KEYS>, Config> : never;

/** A type's descriptor with the keys every source has added to its schema (still strict). */
function withSourceKeys<D extends { schema: z.ZodObject }>(d: D): Omit<D, 'schema'> & { schema: WithSourceKeys<D['schema']> } {
  return { ...d, schema: d.schema.extend(SOURCE_KEYS) as WithSourceKeys<D['schema']> };
}

export const SOURCE_TYPES = {
  event_log: withSourceKeys(eventLogSource),
  history_server: withSourceKeys(historyServerSource),
  emr: withSourceKeys(emrSource),
  databricks: withSourceKeys(databricksSource),
  dataproc: withSourceKeys(dataprocSource),
} as const;

type Descriptors = typeof SOURCE_TYPES;
export type SourceType = keyof Descriptors;
type ConfigOf<K extends SourceType> = z.infer<Descriptors[K]['schema']> & { name: string };
export type OptionsOf<K extends SourceType> = Parameters<Awaited<ReturnType<Descriptors[K]['collector']>>>[0];
/** A configured source of any type, as its schema gives it, with its name settled. */
export type SourceConfig = { [K in SourceType]: ConfigOf<K> }[SourceType];
/** What one collection run reads; options are plain data (they are posted to a worker thread). */
export type SourceJob = { [K in SourceType]: { kind: K; name: string; options: OptionsOf<K> } }[SourceType];

/** The descriptors, in the order help and pickers list them. */
export const DESCRIPTORS: readonly SourceDescriptor[] = Object.values(SOURCE_TYPES) as readonly SourceDescriptor[];

export function isSourceType(t: unknown): t is SourceType {
  return typeof t === 'string' && Object.hasOwn(SOURCE_TYPES, t);
}

/** The descriptor of a type, loosely typed for code that handles every type alike. */
export function descriptorOf(type: SourceType): SourceDescriptor<string, { type: string; name: string }, object> {
  return SOURCE_TYPES[type] as unknown as SourceDescriptor<string, { type: string; name: string }, object>;
}

/** The config schemas by type, for the config parser and the editor's analyzer. */
export const SOURCE_SCHEMAS = Object.fromEntries(DESCRIPTORS.map((d) => [d.type, d.schema])) as { [K in SourceType]: Descriptors[K]['schema'] };

/** The jobs of one configured source: one per event-log path, one for any other source. Throws on a `${env:VAR}` that is not set. */
export function jobsFor(s: SourceConfig, stored?: StoredSecret): SourceJob[] {
  return descriptorOf(s.type)
    .jobs(s, stored)
    .map((options) => ({ kind: s.type, name: s.name, options }) as SourceJob);
}

/**
 * A job with `overrides` (command-line flags) winning over its options and `defaults` (editor
 * settings) filling in what they leave out, for the keys its type takes; given-but-undefined is not given.
 */
export function adjustedJob(job: SourceJob, overrides: JobOverrides = {}, defaults: JobOverrides = {}): SourceJob {
  const options = { ...(job.options as Record<string, unknown>) };
  for (const key of [...COMMON_OVERRIDES, ...descriptorOf(job.kind).takes]) {
    if (overrides[key] !== undefined) options[key] = overrides[key];
    else if (options[key] === undefined && defaults[key] !== undefined) options[key] = defaults[key];
  }
  return { ...job, options } as SourceJob;
}

/**
 * Which cursor a job asks for (PlanOptions.newestEndTime): its source's name and its scope, the
 * server and shard its runs list (historyServer/cursor.ts): two servers collected under one name
 * (CLI runs are named by type) or two shards of one server never share a cursor.
 */
export interface CursorKey {
  source: string;
  scope: string;
}

/** The cursor key of a job (of its recorded options, as the run that records a cursor keys it). */
export function cursorKey(name: string, recorded: Record<string, unknown>): CursorKey {
  return { source: name, scope: cursorScope(recorded) };
}

/** What records a job's cursor as its run is stored (descriptor cursor), or undefined for a type that keeps none. */
export function cursorTracker(job: SourceJob): CursorTracker | undefined {
  return descriptorOf(job.kind).cursor?.(job.options);
}

/**
 * The job for an incremental run, given where its source's complete listings reached (its cursor).
 * A cursor recorded before URLs were recorded with their secret query values masked (recordedOptions)
 * has the URL as written in its scope (`?access_token=…`): it is looked up too (legacyCursorKey), in
 * memory only, so that such a source's next run does not start over; the newer of the two wins.
 */
export function incrementalJob(job: SourceJob, newestEndTime: (of: CursorKey) => string | null): SourceJob {
  const d = descriptorOf(job.kind);
  if (!d.incremental) return job;
  const recorded = recordedOptions(job);
  const key = cursorKey(job.name, recorded);
  const legacy = legacyCursorKey(job, recorded);
  const found = [newestEndTime(key), legacy.scope === key.scope ? null : newestEndTime(legacy)].filter((t): t is string => t !== null).sort();
  return { ...job, options: d.incremental(job.options, found.at(-1) ?? null) } as SourceJob;
}

/** The rule that cut a URL's user info before secretText.ts's (to the first `/?#`): kept as it was, to find the cursors recorded by it. */
const USER_INFO_BEFORE_SECRET_TEXT = /^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i;

/** The cursor key a run recorded before recordedOptions masked secret query values (`recorded`, the job's now): its URLs cut of user info by the rule of then, nothing else. */
function legacyCursorKey(job: SourceJob, recorded: Readonly<Record<string, unknown>>): CursorKey {
  const then: Record<string, unknown> = { ...recorded };
  const options = job.options as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (k in then && typeof v === 'string' && /^https?:\/\//.test(v)) then[k] = v.replace(USER_INFO_BEFORE_SECRET_TEXT, '$1');
  return cursorKey(job.name, then);
}

/**
 * The collector of a job, loaded when it runs; every record's tags masked (redactTags) as it is
 * yielded: a platform's error text kept as a tag (Databricks `state_message`, Dataproc
 * `state_details`, EMR `step_failure_reason`) may quote a URL with its password, and tags are merged
 * from several places (a run's into its Spark applications' records), so they are masked here, where
 * every collector's records pass, once. Problems' texts likewise (maskProblems).
 */
export async function* collectSource(job: SourceJob, ctx: CollectContext): AsyncGenerator<Batch> {
  const collect = await descriptorOf(job.kind).collector();
  for await (const batch of collect(job.options, ctx)) {
    maskProblems(batch.problems);
    for (const app of batch.apps) {
      app.record.tags = redactTags(app.record.tags);
      maskProblems(app.problems);
    }
    yield batch;
  }
}

/** Each problem's message and place with the secrets they quote masked (maskSecretText): a net under every collector's own care. */
function maskProblems(problems: Problem[]): void {
  problems.forEach((p, i) => {
    const message = maskSecretText(p.message);
    const file = p.file === undefined ? undefined : maskSecretText(p.file);
    if (message !== p.message || file !== p.file) problems[i] = { ...p, message, ...(file !== undefined ? { file } : {}) };
  });
}

/** Problems after which a source's run stopped early: wrong credentials, an unreadable listing or path, a source that cannot start. */
export function stoppedRun(job: SourceJob, problems: readonly Problem[]): boolean {
  return descriptorOf(job.kind).stopped(job.options, problems);
}

const SECRET_OPTION = /token|secret|password|credential|auth|headers/i;

/**
 * What a run record keeps of a job's options: never credentials or headers (they may hold secrets),
 * URLs without user info and with their secret query values masked (maskSecretText: the same mask
 * each time, so the cursor scope built from them stays one source's across runs), times as ISO text.
 */
export function recordedOptions(job: SourceJob): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(job.options)) {
    if (v === undefined) continue;
    if (SECRET_OPTION.test(k)) {
      // Which kind of credential, never its value.
      if (k === 'auth' && typeof v === 'object' && v !== null && 'type' in v) out.auth = (v as { type: string }).type;
      if (k === 'tokenSource' && typeof v === 'string') out.tokenSource = v;
      continue;
    }
    out[k] = v instanceof Date ? v.toISOString() : typeof v === 'string' && /^https?:\/\//.test(v) ? maskSecretText(withoutUserInfo(v)) : v;
  }
  return out;
}

/** Where a source reads from, in a few words (the Sources view, logs); never a password written into a URL. */
export function sourceLocation(s: SourceConfig): string {
  return descriptorOf(s.type).location(s);
}

/** The type a `--source` spelling names. */
export function typeOfCliName(name: string): SourceType | undefined {
  return DESCRIPTORS.find((d) => d.cliNames.includes(name))?.type as SourceType | undefined;
}
