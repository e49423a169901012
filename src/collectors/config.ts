/**
 * Collector configuration files (`spark-optimizer.yaml`, `.spark-optimizer.yml`): the seed's single
 * `collector:` form or a `sources:` list of named sources, one zod schema per source type.
 * Parsing keeps YAML positions so every error names the line (the editor's analyzer maps the same
 * issues onto exact ranges).
 */
import * as path from 'node:path';
import { LineCounter, parseDocument, isNode, visit, type Alias, type Document } from 'yaml';
import { z } from 'zod';
import { visible } from '../common/format';
import { DEFAULT_MAX_DECOMPRESSION_RATIO, MAX_DECOMPRESSION_RATIO_LIMIT, MAX_ZSTD_WINDOW_MB_LIMIT, MIN_DECOMPRESSION_RATIO, RATIO_FREE_BYTES } from './eventlog/codecs/index';
import { DEFAULT_MAX_LINE_MB, MAX_LINE_MB_LIMIT } from './eventlog/lines';
import { MAX_RESPONSE_MB, MAX_UNPACKED_MB, MAX_UNPACK_RATIO } from './http/limits';

const name = z.string().min(1).max(100);
const since = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be a date such as 2024-05-01 or 2024-05-01T12:00:00Z');
const batchSize = z.number().int().min(1).max(10_000);
const between = (range: { min: number; max: number }): z.ZodOptional<z.ZodNumber> => z.number().int().min(range.min).max(range.max).optional();

/**
 * The limits the event-log engine reads a log with (readLog.ts ReadLimits), on every source whose
 * logs it reads itself. Left out, the editor's setting (sparkOptimizer.*) or the engine's default holds.
 */
const readLimits = {
  zstd_max_window_mb: between({ min: 1, max: MAX_ZSTD_WINDOW_MB_LIMIT }),
  max_line_mb: between({ min: 1, max: MAX_LINE_MB_LIMIT }),
  max_decompression_ratio: between({ min: MIN_DECOMPRESSION_RATIO, max: MAX_DECOMPRESSION_RATIO_LIMIT }),
};
/** The most of one REST answer read (jsonClient.ts), in MiB. */
const maxResponseMb = between(MAX_RESPONSE_MB);

/** MiB as a config key or flag gives them, in bytes as the collectors take them; left out stays left out. */
export function mebibytes(mb: number | undefined): number | undefined {
  return mb === undefined ? undefined : mb * 2 ** 20;
}

export const eventLogSourceSchema = z
  .object({
    type: z.literal('event_log'),
    name: name.optional(),
    path: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], { error: 'path is required: a folder or file of event logs, or a list of them' }),
    recursive: z.boolean().default(true),
    batch_size: batchSize.default(100),
    concurrency: z.number().int().min(1).max(64).optional(),
    since: since.optional(),
    user: z.string().min(1).optional(),
    ...readLimits,
  })
  .strict();

const httpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL');
/** A reference to an environment variable, the way secrets are written: `${env:VAR}`. */
export const ENV_REFERENCE = /^\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/;
/**
 * Secrets are written as `${env:VAR}` (or set with the editor's secret command), never inline. A
 * value that starts like a reference but is not one (`${env:}`, `${ENV:X}`, `${env:MY-VAR}`) is
 * refused: it would be sent as the secret itself (issue #13).
 */
const secret = z
  .string()
  .min(1)
  .refine((v) => !/^\$\{\s*env\s*:/i.test(v) || ENV_REFERENCE.test(v), 'is not a valid ${env:NAME} reference: NAME must be an environment variable name (letters, digits and _, not starting with a digit), e.g. ${env:SPARK_HISTORY_PASSWORD}');

export const historyServerSourceSchema = z
  .object({
    type: z.literal('history_server'),
    name: name.optional(),
    history_server_url: httpUrl,
    mode: z.enum(['api', 'eventlog']).default('api'),
    concurrency: z.number().int().min(1).max(32).default(4),
    username: z.string().min(1).optional(),
    password: secret.optional(),
    token: secret.optional(),
    headers: z.record(z.string(), z.string()).optional(),
    ca_file: z.string().min(1).optional(),
    insecure_skip_verify: z.boolean().default(false),
    timeout: z.number().min(1).max(600).default(30),
    max_apps: z.number().int().min(1).max(1_000_000).optional(),
    status: z.enum(['completed', 'running', 'all']).default('completed'),
    batch_size: batchSize.default(100),
    since: since.optional(),
    user: z.string().min(1).optional(),
    max_response_mb: maxResponseMb,
    // mode: eventlog: the /logs zip, and the log in it, read by the event-log engine.
    max_unpacked_mb: between(MAX_UNPACKED_MB),
    max_unpack_ratio: between(MAX_UNPACK_RATIO),
    ...readLimits,
  })
  .strict();

const cloudCommon = {
  name: name.optional(),
  batch_size: batchSize.default(100),
  since: since.optional(),
  user: z.string().min(1).optional(),
  endpoint_url: httpUrl.optional(),
  concurrency: z.number().int().min(1).max(32).default(4),
  timeout: z.number().min(1).max(600).default(30),
  max_apps: z.number().int().min(1).max(1_000_000).optional(),
};

/**
 * Cloud sources. Credentials are read the platform's own way (the AWS default chain, DATABRICKS_TOKEN,
 * Application Default Credentials) or from `${env:VAR}`; never written inline.
 */
export const emrSourceSchema = z
  .object({
    type: z.literal('emr'),
    ...cloudCommon,
    region: z.string().min(1).optional(),
    profile: z.string().min(1).optional(),
    cluster_ids: z.array(z.string().min(1)).optional(),
    cluster_states: z.array(z.enum(['STARTING', 'BOOTSTRAPPING', 'RUNNING', 'WAITING', 'TERMINATING', 'TERMINATED', 'TERMINATED_WITH_ERRORS'])).optional(),
    cloudwatch: z.boolean().default(true),
    event_log_dir: z.string().min(1).optional(),
    history_server_url: httpUrl.optional(),
    cloudwatch_endpoint_url: httpUrl.optional(),
    s3_endpoint_url: httpUrl.optional(),
  })
  .strict();
export const databricksSourceSchema = z
  .object({ type: z.literal('databricks'), ...cloudCommon, host: httpUrl.optional(), token: secret.optional(), event_log_dir: z.string().min(1).optional(), max_response_mb: maxResponseMb })
  .strict();
export const dataprocSourceSchema = z
  .object({
    type: z.literal('dataproc'),
    ...cloudCommon,
    project_id: z.string().min(1).optional(),
    region: z.string().min(1).optional(),
    access_token: secret.optional(),
    history_server_url: httpUrl.optional(),
    job_state: z.enum(['all', 'active', 'non_active']).optional(),
    labels: z.record(z.string(), z.string()).optional(),
    cluster_name: z.string().min(1).optional(),
    max_response_mb: maxResponseMb,
  })
  .strict();

export const SOURCE_SCHEMAS = {
  event_log: eventLogSourceSchema,
  history_server: historyServerSourceSchema,
  emr: emrSourceSchema,
  databricks: databricksSourceSchema,
  dataproc: dataprocSourceSchema,
} as const;
export type SourceType = keyof typeof SOURCE_SCHEMAS;

export const sourceSchema = z.discriminatedUnion('type', [eventLogSourceSchema, historyServerSourceSchema, emrSourceSchema, databricksSourceSchema, dataprocSourceSchema]);

const singleForm = z.object({ collector: sourceSchema }).strict();
const listForm = z.object({ sources: z.array(sourceSchema).min(1) }).strict();
/** The two forms without their sources, which parseConfig checks one by one. */
const singleEnvelope = z.object({ collector: z.unknown() }).strict();
const listEnvelope = z.object({ sources: z.array(z.unknown()).min(1) }).strict();
/** The seed's single `collector:` form, or a `sources:` list. */
export const configSchema = z.union([singleForm, listForm]);

export type SourceConfig = z.infer<typeof sourceSchema> & { name: string };
export type EventLogSourceConfig = z.infer<typeof eventLogSourceSchema> & { name: string };

export interface ConfigError {
  message: string;
  /** 1-based line of the YAML node the error is about, when known. */
  line?: number;
  path: (string | number)[];
}

/** A source the config lists but that cannot run: its own errors (the file's other sources are kept). */
export interface InvalidSource {
  /** Its place in `sources:` (0 for the `collector:` form). */
  index: number;
  /** Its `name:` as written, else the name it would have had (`<type>-<n>`), else `source <n>`. */
  name: string;
  /** Its `type:` as written, when that is a string. */
  type?: string;
  /** 1-based line where the source starts. */
  line?: number;
  errors: ConfigError[];
}

export interface ParsedConfig {
  /** The sources that can run. */
  sources: SourceConfig[];
  /** Every error: the whole file's, or those of the sources in `invalid`. */
  errors: ConfigError[];
  /**
   * Sources dropped for errors of their own; absent when the file itself could not be read (YAML
   * syntax, aliases, top-level keys), which leaves no source at all.
   */
  invalid?: InvalidSource[];
}

function lineOf(doc: Document, lines: LineCounter, at: (string | number)[]): number | undefined {
  for (let n = at.length; n >= 0; n--) {
    const node = doc.getIn(at.slice(0, n), true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

/**
 * Aliases (`*name`) with no anchor (`&name`) before them, in one pass over the document: yaml's own
 * `Alias.resolve` walks the whole document for each alias, and its `toJS` throws a ReferenceError that
 * names no line.
 */
export function undefinedAliases(doc: Document): Alias[] {
  const anchors = new Set<string>();
  const undefinedOnes: Alias[] = [];
  visit(doc, {
    Alias: (_key, node) => {
      if (!anchors.has(node.source)) undefinedOnes.push(node);
    },
    Node: (_key, node) => {
      if (node.anchor) anchors.add(node.anchor);
    },
  });
  return undefinedOnes;
}

export const TOO_DEEP = 'a value is nested too deeply to read (the YAML parser ran out of stack): look for a long run of [, { or - here; a config is a few levels deep';

/** Whether `err` is V8 running out of stack ("Maximum call stack size exceeded"). */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof Error && /Maximum call stack size exceeded/.test(err.message);
}

/**
 * The 1-based number of the most indented line: where a config nested too deep to parse most likely
 * goes wrong. Depending on where the stack runs out, the YAML parser records the overflow as an
 * error with its place, or throws it with none (issue #13: 2,000 block levels, in a fresh process).
 */
export function deepestLine(text: string): number {
  let best = 1;
  let bestIndent = -1;
  let line = 1;
  for (let start = 0; start < text.length; line++) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && (text[i] === ' ' || text[i] === '-' || text[i] === '[' || text[i] === '{')) i++;
    if (i - start > bestIndent) {
      bestIndent = i - start;
      best = line;
    }
    start = end + 1;
  }
  return best;
}

/**
 * The document's YAML errors, in words. A value nested thousands of levels deep makes the parser run
 * out of stack, which it records as an error of its own ("Maximum call stack size exceeded"), once
 * per level it unwinds: that is said once, as what it means.
 */
export function yamlErrors(doc: Document): { message: string; pos: [number, number] }[] {
  const out: { message: string; pos: [number, number] }[] = [];
  let tooDeep = false;
  for (const e of doc.errors) {
    if (isStackOverflow(e)) {
      if (!tooDeep) out.push({ message: TOO_DEEP, pos: e.pos });
      tooDeep = true;
    } else out.push({ message: e.message.split('\n')[0]!, pos: e.pos });
  }
  return out;
}

export function undefinedAliasMessage(alias: Alias): string {
  return `*${alias.source} refers to no anchor: define &${alias.source} on the value it stands for, above this line`;
}

/** Parses a config file's text. Relative `path:` entries are resolved against `baseDir`. */
export function parseConfig(text: string, baseDir: string): ParsedConfig {
  let parsed: ParsedConfig;
  try {
    parsed = parseConfigText(text, baseDir);
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    parsed = { sources: [], errors: [{ message: TOO_DEEP, line: deepestLine(text), path: [] }] };
  }
  // Messages quote keys and values as written: an invisible character (a byte-order mark) is shown.
  for (const e of parsed.errors) e.message = visible(e.message);
  return parsed;
}

function parseConfigText(text: string, baseDir: string): ParsedConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const errors: ConfigError[] = yamlErrors(doc).map((e) => ({ message: e.message, line: lines.linePos(e.pos[0]).line, path: [] }));
  if (errors.length > 0) return { sources: [], errors };
  const dangling = undefinedAliases(doc);
  if (dangling.length > 0) return { sources: [], errors: dangling.map((a) => ({ message: undefinedAliasMessage(a), line: a.range ? lines.linePos(a.range[0]).line : undefined, path: [] })) };
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // yaml's limit on alias expansion (billion laughs): "Excessive alias count indicates a resource exhaustion attack".
    return { sources: [], errors: [{ message: `${(err as Error).message}; the config was not read`, line: 1, path: [] }] };
  }
  // Pick the form by its key so errors are about the fields, not "matches neither form".
  if (data === null || typeof data !== 'object' || (!('sources' in data) && !('collector' in data))) {
    return { sources: [], errors: [{ message: 'expected a top-level `collector:` (one source) or `sources:` (a list of named sources)', line: 1, path: [] }] };
  }
  const single = 'collector' in data;
  const issueErrors = (issues: readonly z.core.$ZodIssue[], prefix: (string | number)[]): ConfigError[] =>
    issues.map((i) => {
      const at = [...prefix, ...i.path.filter((p): p is string | number => typeof p !== 'symbol')];
      return { message: `${at.length > 0 ? `${at.join('.')}: ` : ''}${i.message}`, line: lineOf(doc, lines, at), path: at };
    });
  // The file's shape (its top-level keys, a non-empty `sources:` list) first: an error there leaves no source.
  const envelope = (single ? singleEnvelope : listEnvelope).safeParse(data);
  if (!envelope.success) return { sources: [], errors: issueErrors(envelope.error.issues, []) };
  const entries: unknown[] = single ? [(data as { collector: unknown }).collector] : (data as { sources: unknown[] }).sources;
  // Then each source on its own: one that is wrong is dropped with its errors, and the others are kept.
  const invalid: InvalidSource[] = [];
  const sources: SourceConfig[] = [];
  const indexes: number[] = [];
  const reject = (i: number, errs: ConfigError[]): void => {
    const raw = (entries[i] ?? {}) as { name?: unknown; type?: unknown };
    const type = typeof raw.type === 'string' ? raw.type : undefined;
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : type !== undefined ? (single ? type : `${type}-${i + 1}`) : `source ${i + 1}`;
    const at = single ? ['collector'] : ['sources', i];
    invalid.push({ index: i, name, type, line: lineOf(doc, lines, at), errors: errs });
    errors.push(...errs);
  };
  entries.forEach((entry, i) => {
    const parsed = sourceSchema.safeParse(entry);
    if (!parsed.success) {
      reject(i, issueErrors(parsed.error.issues, single ? ['collector'] : ['sources', i]));
      return;
    }
    const s = parsed.data;
    const named = { ...s, name: s.name ?? (single ? s.type : `${s.type}-${i + 1}`) };
    const first = indexes[sources.findIndex((o) => o.name === named.name)];
    if (first !== undefined) {
      const at = ['sources', i, 'name'];
      reject(i, [{ message: `duplicate source name ${JSON.stringify(named.name)} (also source ${first + 1})`, line: lineOf(doc, lines, at), path: at }]);
      return;
    }
    sources.push(resolvePaths(named, baseDir));
    indexes.push(i);
  });
  return { sources, errors, invalid };
}

/** Relative `path:` entries (and a local `event_log_dir`) resolved against the config's folder. */
function resolvePaths(named: SourceConfig, baseDir: string): SourceConfig {
  if (named.type === 'event_log') {
    const paths = Array.isArray(named.path) ? named.path : [named.path];
    const resolved = paths.map((p) => path.resolve(baseDir, p));
    return { ...named, path: resolved.length === 1 ? resolved[0]! : resolved };
  }
  // A local event_log_dir is relative to this file too; s3://, dbfs:/ and other URLs are left as written.
  if ('event_log_dir' in named && named.event_log_dir !== undefined && !/^[a-z][a-z0-9+.-]*:/i.test(named.event_log_dir)) {
    return { ...named, event_log_dir: path.resolve(baseDir, named.event_log_dir) };
  }
  return named;
}

/** The options every API source (History Server and the cloud sources) takes from its config the same way. */
export function commonApiOptions(s: { name: string; since?: string; user?: string; max_apps?: number; concurrency: number; batch_size: number; timeout: number }): {
  source: string;
  since: Date | undefined;
  user: string | undefined;
  maxApps: number | undefined;
  concurrency: number;
  batchSize: number;
  timeoutMs: number;
} {
  return { source: s.name, since: s.since ? new Date(s.since) : undefined, user: s.user, maxApps: s.max_apps, concurrency: s.concurrency, batchSize: s.batch_size, timeoutMs: s.timeout * 1000 };
}

/** What each config key does, for hovers in the editor and the JSON Schema's descriptions. */
export const KEY_DOCS: Readonly<Record<string, string>> = {
  collector: 'One source (the single-source form). Use `sources:` for several.',
  sources: 'A list of named sources to collect from.',
  type: 'The kind of source: event_log, history_server, emr, databricks or dataproc.',
  name: 'A unique name: it appears in the Sources view, in each record\'s `source`, and selects the source for `collect --name`.',
  path: 'A folder or file of Spark event logs (spark.eventLog.dir), or a list of them; relative to this file.',
  recursive: 'Walk sub-folders of `path`.',
  batch_size: 'Records written to the database per batch.',
  concurrency: 'How many logs (or requests) are read at once.',
  since: 'Only applications that ended (running ones: started) at or after this date.',
  user: 'Only applications run by this user.',
  zstd_max_window_mb: 'Largest zstd window a .zstd log may need, in MiB (default 128, what zstd itself decodes by default; up to 1024). Memory use grows with it.',
  max_line_mb: `Longest event-log line read, in MiB (default ${DEFAULT_MAX_LINE_MB}; 1 to ${MAX_LINE_MB_LIMIT}). A longer line is skipped with a problem naming it; memory use grows with the limit.`,
  max_decompression_ratio: `Most decompressed bytes per compressed byte of a log, past its first ${RATIO_FREE_BYTES / 2 ** 20} MiB (default ${DEFAULT_MAX_DECOMPRESSION_RATIO}; ${MIN_DECOMPRESSION_RATIO} to ${MAX_DECOMPRESSION_RATIO_LIMIT}). A log over it is stopped as a decompression bomb; real logs compress 5-20x.`,
  max_response_mb: `Largest REST answer read, in MiB (default ${MAX_RESPONSE_MB.default}; ${MAX_RESPONSE_MB.min} to ${MAX_RESPONSE_MB.max}). A larger one is refused, and not asked for again.`,
  max_unpacked_mb: `mode: eventlog: most bytes one attempt's /logs zip may unpack to, in MiB (default ${MAX_UNPACKED_MB.default}, 64 GiB; ${MAX_UNPACKED_MB.min} to ${MAX_UNPACKED_MB.max}). The download is held to it too.`,
  max_unpack_ratio: `mode: eventlog: most bytes unpacked per byte of a /logs zip that unpacks to over 64 MiB (default ${MAX_UNPACK_RATIO.default}; ${MAX_UNPACK_RATIO.min} to ${MAX_UNPACK_RATIO.max}).`,
  history_server_url: 'The Spark History Server, e.g. http://history:18080 (the REST API is under /api/v1).',
  mode: '`api`: read the REST API; `eventlog`: download each application\'s event log and parse it (the most exact).',
  username: 'User for HTTP basic authentication.',
  password: 'Password for basic authentication: write ${env:VAR} or use the "Set Source Secret" command, never the password itself.',
  token: 'Bearer token: write ${env:VAR} or use the "Set Source Secret" command, never the token itself.',
  access_token: 'OAuth access token: write ${env:VAR}, never the token itself.',
  headers: 'Extra HTTP headers sent with every request.',
  ca_file: 'A PEM file of certificate authorities to trust for HTTPS.',
  insecure_skip_verify: 'Skip TLS certificate checks (only for testing).',
  timeout: 'Seconds before a request is given up and retried.',
  max_apps: 'At most this many applications per run.',
  status: 'Which applications to collect: completed, running or all.',
  endpoint_url: 'Override the service endpoint (VPC endpoints, proxies, emulators).',
  region: 'The cloud region.',
  cluster_ids: 'Only these clusters.',
  cluster_states: 'Only clusters in these states.',
  event_log_dir: 'Where the clusters\' Spark event logs are: s3://bucket/prefix (EMR), dbfs:/path (Databricks cluster log delivery) or a local folder. Read with the event-log engine and joined to the platform record.',
  host: 'The workspace URL, e.g. https://dbc-1234.cloud.databricks.com.',
  project_id: 'The Google Cloud project (default: GOOGLE_CLOUD_PROJECT or the credentials\' project).',
  profile: 'The AWS shared-config profile (default: AWS_PROFILE, then "default").',
  cloudwatch: 'Also read each cluster\'s CloudWatch metrics (AWS/ElasticMapReduce) over its lifetime.',
  cloudwatch_endpoint_url: 'EMR: the CloudWatch endpoint, overriding endpoint_url for CloudWatch only. Needed for a CloudWatch VPC interface endpoint or proxy (these are per service).',
  s3_endpoint_url: 'EMR: the S3 endpoint (path-style), overriding endpoint_url for S3 only. Needed for an S3 VPC interface endpoint or proxy (these are per service).',
  job_state: 'Dataproc: only jobs in this state: all (default), active (pending or running) or non_active (done, failed, cancelled).',
  labels: 'Dataproc: only jobs carrying all of these labels (key: value).',
  cluster_name: 'Dataproc: only jobs that ran on the cluster with this name.',
};

/** The default a key takes when left out (for hovers), from the first source schema that has it. */
export function keyDefault(key: string): unknown {
  for (const schema of Object.values(SOURCE_SCHEMAS)) {
    const field = (schema.shape as Record<string, z.ZodType | undefined>)[key];
    if (!field) continue;
    const r = field.safeParse(undefined);
    return r.success ? r.data : undefined;
  }
  return undefined;
}
