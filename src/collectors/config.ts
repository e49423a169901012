/**
 * Collector configuration files (`spark-optimizer.yaml`, `.spark-optimizer.yml`): the seed's single
 * `collector:` form or a `sources:` list of named sources, one zod schema per source type.
 * Parsing keeps YAML positions so every error names the line (the editor's analyzer maps the same
 * issues onto exact ranges).
 */
import * as path from 'node:path';
import { LineCounter, parseDocument, isMap, isNode, isScalar, visit, type Alias, type Document } from 'yaml';
import * as z from 'zod';
import { visible } from '../common/format';
import { isStackOverflow } from '../common/stack';
import { REGRESSION_SETTING_KEYS, THRESHOLD_KEYS } from '../analysis/regressionThresholds';
import { SHARED_KEY_DOCS } from './configKeys';
import { DESCRIPTORS, SOURCE_SCHEMAS, type SourceConfig } from './registry';

export { SOURCE_SCHEMAS, type SourceConfig, type SourceType } from './registry';

/** The schema of one source, whichever its type (each type's is in its descriptor). */
export const sourceSchema = z.discriminatedUnion('type', DESCRIPTORS.map((d) => d.schema) as unknown as [z.ZodObject<z.ZodRawShape>, ...z.ZodObject<z.ZodRawShape>[]]);

const singleForm = z.object({ collector: sourceSchema }).strict();
const listForm = z.object({ sources: z.array(sourceSchema).min(1) }).strict();
/** The two forms without their sources, which parseConfig (and the editor's analyzer) check one by one. */
const singleEnvelope = z.object({ collector: z.unknown() }).strict();
const listEnvelope = z.object({ sources: z.array(z.unknown()).min(1) }).strict();

/**
 * The file's shape without its sources, as collect checks it: the issues of the form its data
 * takes (`collector:` if it has that key, else `sources:`, a list of at least one). The editor's
 * analyzer maps the same issues onto its YAML nodes, so the two cannot disagree (a review:
 * `sources: []` passed validate, and collect refused it).
 */
export function envelopeIssues(data: object): readonly z.core.$ZodIssue[] {
  const r = ('collector' in data ? singleEnvelope : listEnvelope).safeParse(data);
  return r.success ? [] : r.error.issues;
}

/**
 * The name collect gives a source: its `name:`, else its type (the `collector:` form) or
 * `<type>-<n>` (the nth of `sources:`). One rule for parseConfig's duplicate check and the
 * analyzer's (a review: a defaulted `event_log-1` clashing with one written so passed validate).
 */
export function defaultedName(name: string | undefined, type: string, index: number, single: boolean): string {
  return name ?? (single ? type : `${type}-${index + 1}`);
}
/** The seed's single `collector:` form, or a `sources:` list. */
export const configSchema = z.union([singleForm, listForm]);


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

/** The line of key `key` in the mapping at `map` (an unknown key is shown there, not on its value). */
function keyLineOf(doc: Document, lines: LineCounter, map: (string | number)[], key: string): number | undefined {
  const node = doc.getIn(map, true);
  if (!isMap(node)) return undefined;
  for (const pair of node.items) if (isScalar(pair.key) && pair.key.value === key && pair.key.range) return lines.linePos(pair.key.range[0]).line;
  return undefined;
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
    } else if (e.code === 'MISSING_CHAR' && /closing .?quote/.test(e.message)) {
      out.push(unclosedQuote(doc, e.pos));
    } else out.push({ message: e.message.split('\n')[0]!, pos: e.pos });
  }
  return out;
}

/**
 * A quoted value with no closing quote: the parser says so where it gave up (the end of the file,
 * often lines below); shown on the opening quote, which is what to fix (a review).
 */
function unclosedQuote(doc: Document, pos: [number, number]): { message: string; pos: [number, number] } {
  let open: number | undefined;
  visit(doc, {
    Scalar: (_key, node) => {
      if ((node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE') && node.range && node.range[1] >= pos[0] && node.range[0] < pos[0]) {
        open = node.range[0];
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return open === undefined ? { message: 'Missing closing quote', pos } : { message: 'This quoted value has no closing quote: it runs on to the end of the file', pos: [open, open + 1] };
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
      // An unknown key is placed on the key itself, as validate places it (a review: collect gave its mapping's line).
      const key = i.code === 'unrecognized_keys' && i.keys.length === 1 ? i.keys[0]! : undefined;
      const line = (key !== undefined ? keyLineOf(doc, lines, at, key) : undefined) ?? lineOf(doc, lines, at);
      return { message: `${at.length > 0 ? `${at.join('.')}: ` : ''}${i.message}`, line, path: at };
    });
  // The file's shape (its top-level keys, a non-empty `sources:` list) first: an error there leaves no source.
  const envelope = envelopeIssues(data);
  if (envelope.length > 0) return { sources: [], errors: issueErrors(envelope, []) };
  const entries: unknown[] = single ? [(data as { collector: unknown }).collector] : (data as { sources: unknown[] }).sources;
  // Then each source on its own: one that is wrong is dropped with its errors, and the others are kept.
  const invalid: InvalidSource[] = [];
  const sources: SourceConfig[] = [];
  const indexes: number[] = [];
  const reject = (i: number, errs: ConfigError[]): void => {
    const raw = (entries[i] ?? {}) as { name?: unknown; type?: unknown };
    const type = typeof raw.type === 'string' ? raw.type : undefined;
    const name = typeof raw.name === 'string' && raw.name !== '' ? raw.name : type !== undefined ? defaultedName(undefined, type, i, single) : `source ${i + 1}`;
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
    const s = parsed.data as Omit<SourceConfig, 'name'> & { name?: string };
    const named = { ...s, name: defaultedName(s.name, s.type, i, single) } as SourceConfig;
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

/** What each config key does, for hovers in the editor and the JSON Schema's descriptions. */
export const KEY_DOCS: Readonly<Record<string, string>> = Object.fromEntries([
  ['type', `The kind of source: ${DESCRIPTORS.map((d) => d.type).join(', ')}.`],
  ...Object.entries(SHARED_KEY_DOCS),
  ...DESCRIPTORS.flatMap((d) => Object.entries(d.schema.shape as Record<string, z.ZodType>).flatMap(([key, field]) => (field.description === undefined ? [] : [[key, field.description] as const]))),
  // The keys of a source's `regression:` mapping (issue 18), with their defaults: keyDefault only sees a source's own keys.
  ...REGRESSION_SETTING_KEYS.map((k) => [THRESHOLD_KEYS[k].key, `${THRESHOLD_KEYS[k].description} Default ${THRESHOLD_KEYS[k].default}; the setting sparkOptimizer.regression.${k} when left out.`] as const),
]);

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
