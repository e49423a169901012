/**
 * Collector config analyzer (`spark-optimizer.yaml`, `.spark-optimizer.yml`, any YAML with a
 * top-level `collector:` or `sources:`): YAML errors, the per-type zod schemas of
 * src/collectors/config.ts mapped onto the exact YAML nodes, unknown keys with "did you mean",
 * paths that do not exist, inline secrets, duplicate names — each with a fix where one is obvious.
 */
import * as path from 'node:path';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type Pair, type Scalar } from 'yaml';
import type { ZodObject, ZodRawShape } from 'zod';
import { SOURCE_SCHEMAS, TOO_DEEP, deepestLine, defaultedName, envelopeIssues, undefinedAliasMessage, undefinedAliases, yamlErrors, type SourceType } from '../collectors/config';
import { isStackOverflow } from '../common/stack';
import { visible } from '../common/format';
import { lineRange, range, sortFindings, type Finding, type FindingFix, type Range } from './findings';
import { REGRESSION_CONFIG_KEYS } from './regressionThresholds';

export interface ConfigContext {
  /** Folder that relative paths are resolved against (the config file's folder). */
  baseDir: string;
  /** Whether a path exists; injected so the analyzer stays pure (the CLI and editor pass fs.existsSync). */
  exists?: (absolutePath: string) => boolean;
}

/** Keys whose value is a credential; `authorization` and `cookie` for a source's `headers:` (a review: `Authorization: Bearer …` went unseen). */
const SECRET_KEY = /token|password|passwd|secret|api[_-]?key|access[_-]?key|authori[sz]ation|credential|cookie|private[_-]?key/i;
/**
 * Written as a reference, valid or not (the schema's error says which is not), anywhere in the value:
 * a header holds one after its scheme (`Bearer ${env:TOKEN}`).
 */
const LIKE_ENV_REF = /\$\{\s*env\s*:/i;
/** An HTTP authorization scheme before the credential, kept by the quick fix: `Bearer ${env:…}`. */
const AUTH_SCHEME = /^(?:Bearer|Basic|Token|Digest|ApiKey)\s+/i;
/** A URL with a password in its user info (`https://user:pw@host`): group 1 is the password. */
const URL_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s:]*:([^/?#@\s]+)@/i;
const TOP_KEYS = ['collector', 'sources'];
const SOURCE_TYPES = Object.keys(SOURCE_SCHEMAS) as SourceType[];
/**
 * Each type's schema without its unknown-key check (unknown keys get their own findings), made once:
 * `.strip()` makes a new schema, which zod compiles anew, and one per source took 100,000 sources
 * 28 s instead of 11 (issue #13).
 */
const STRIPPED = Object.fromEntries(SOURCE_TYPES.map((t) => [t, (SOURCE_SCHEMAS[t] as unknown as ZodObject<ZodRawShape>).strip()])) as Record<SourceType, ZodObject<ZodRawShape>>;

/** Whether a YAML text looks like a collector config (for files not named like one). */
export function looksLikeConfig(text: string): boolean {
  return /^\uFEFF?(collector|sources)\s*:/m.test(text);
}

/** Edits between two words, a swap of neighbours counting as one (`ulr` is one edit from `url`): optimal string alignment. */
function editDistance(a: string, b: string): number {
  let before = Array.from({ length: b.length + 1 }, () => 0);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    [before, prev] = [prev, row];
  }
  return prev[b.length]!;
}

function closest(word: string, options: readonly string[]): { option: string; distance: number } | undefined {
  let best: { option: string; distance: number } | undefined;
  for (const o of options) {
    const d = editDistance(word.toLowerCase(), o.toLowerCase());
    if (!best || d < best.distance) best = { option: o, distance: d };
  }
  return best;
}

/**
 * The known key a misspelt one most likely meant: the whole key within a few edits (`pathh`,
 * `batchsize`), else its last words within one edit of a key, the words before them taken as a
 * prefix the writer added (`event_log_pth` -> `path`, `server_ulr` -> `url`).
 */
export function didYouMean(word: string, options: readonly string[]): string | undefined {
  const whole = closest(word, options);
  if (whole && whole.distance <= Math.max(2, Math.floor(word.length / 3))) return whole.option;
  const words = word.split(/[_-]/);
  for (let from = 1; from < words.length; from++) {
    const tail = words.slice(from).join('_');
    if (tail.length < 3) break;
    const near = closest(tail, options);
    if (near && near.distance <= 1) return near.option;
  }
  return undefined;
}

function envName(source: string, key: string): string {
  return `SPARK_OPTIMIZER_${source}_${key}`.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
}

export function analyzeConfig(text: string, ctx: ConfigContext): Finding[] {
  // A byte-order mark is not text: editors hide it and count line 1's columns without it, so `validate`,
  // which reads the file's bytes, must too (a review: every column of line 1 was one too far).
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return analyzeConfigText(text, ctx);
  } catch (err) {
    if (!isStackOverflow(err)) throw err;
    return [{ range: lineRange(deepestLine(text) - 1, 0), severity: 'error', code: 'yaml-syntax', message: TOO_DEEP }];
  }
}

function analyzeConfigText(text: string, ctx: ConfigContext): Finding[] {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const findings: Finding[] = [];
  const at = (offset: number): { line: number; character: number } => {
    const p = lines.linePos(offset);
    return { line: p.line - 1, character: p.col - 1 };
  };
  const nodeRange = (node: Node | null | undefined): Range => {
    if (!node?.range) return range(0, 0, 0, 0);
    return { start: at(node.range[0]), end: at(node.range[1]) };
  };
  /** The source being checked, for the environment variable names the inline-secret fixes suggest. */
  let sourceNameNow = '';
  /** Errors so far: a source that adds none is one collect keeps (checkSource). */
  let errorCount = 0;
  const add = (severity: Finding['severity'], code: string, r: Range, message: string, fixes?: FindingFix[]): void => {
    if (severity === 'error') errorCount++;
    findings.push({ range: r, severity, code, message: visible(message), ...(fixes ? { fixes } : {}) });
  };

  for (const e of yamlErrors(doc)) add('error', 'yaml-syntax', { start: at(e.pos[0]), end: at(e.pos[1]) }, e.message);
  if (doc.errors.length > 0) return sortFindings(findings);
  const dangling = new Set(undefinedAliases(doc));
  for (const alias of dangling) add('error', 'undefined-alias', nodeRange(alias), `${undefinedAliasMessage(alias)}.`);
  // The whole document as data, once, with its aliases resolved as the CLI's parseConfig does
  // (a source's own toJSON() has no document to resolve `*name` against).
  let data: unknown;
  if (dangling.size === 0) {
    try {
      data = doc.toJS();
    } catch (err) {
      add('error', 'yaml-aliases', nodeRange(doc.contents), `${(err as Error).message}; the config is not read.`);
      return sortFindings(findings);
    }
  }

  const root = doc.contents;
  if (!isMap(root)) {
    add('error', 'config-shape', nodeRange(root), 'A collector config is a mapping with a top-level `collector:` (one source) or `sources:` (a list of named sources).');
    return sortFindings(findings);
  }
  for (const pair of root.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '';
    if (!TOP_KEYS.includes(key)) unknownKey(pair, TOP_KEYS, 'top level');
  }
  const collector = root.get('collector', true);
  const sources = root.get('sources', true);
  if (collector === undefined && sources === undefined) {
    add('error', 'config-shape', range(0, 0, 0, 0), 'Missing a top-level `collector:` (one source) or `sources:` (a list of named sources).');
  }
  if (collector !== undefined && sources !== undefined) {
    add('error', 'config-shape', nodeRange(root.items.find((p) => isScalar(p.key) && p.key.value === 'sources')?.key), 'Use either `collector:` or `sources:`, not both.');
  }
  // The file's shape as collect checks it (config.ts envelopeIssues); unknown and doubled top-level keys are reported above.
  if (data !== null && typeof data === 'object' && (collector !== undefined || sources !== undefined)) {
    for (const issue of envelopeIssues(data)) {
      if (issue.code === 'unrecognized_keys') continue;
      const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
      const target = (doc.getIn(p, true) as Node | undefined) ?? root;
      const message =
        p.join('.') === 'sources' && issue.code === 'invalid_type'
          ? '`sources:` must be a list of sources (items starting with `- `).'
          : p.join('.') === 'sources' && issue.code === 'too_small'
            ? '`sources:` lists no source: collect refuses a config without one. Add a source, or use `collector:` for one.'
            : `"${p.join('.')}": ${issue.message}.`;
      add('error', 'invalid-value', nodeRange(target), message);
    }
  }
  if (collector !== undefined) checkSource(collector as Node, ['collector'], 'collector', 0, true);
  else if (sources !== undefined && isSeq(sources)) {
    // Names as collect gives them (config.ts defaultedName), among the sources it keeps (those without errors).
    const names = new Map<string, { index: number; defaulted: boolean }>();
    const unnamed = ', which has no `name:` and so takes this one';
    sources.items.forEach((item, i) => {
      const name = checkSource(item as Node, ['sources', i], `source ${i + 1}`, i, false);
      if (name === null) return;
      const first = names.get(name.value);
      if (first === undefined) names.set(name.value, { index: i, defaulted: name.defaulted });
      else {
        const why = `${name.defaulted ? 'this source has no `name:` and so takes it; ' : ''}also source ${first.index + 1}${first.defaulted ? unnamed : ''}`;
        add('error', 'duplicate-name', nodeRange(name.node), `Duplicate source name "${name.value}" (${why}): names pick sources for \`collect --name\` and must be unique.`);
      }
    });
  }
  return sortFindings(findings);

  function unknownKey(pair: Pair, allowed: readonly string[], where: string): void {
    const keyNode = pair.key as Node;
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    const guess = didYouMean(key, allowed);
    add(
      'error',
      'unknown-key',
      nodeRange(keyNode),
      `Unknown key "${key}" at ${where}.${guess ? ` Did you mean "${guess}"?` : ` Known keys: ${allowed.join(', ')}.`}`,
      guess ? [{ title: `Rename to "${guess}"`, range: nodeRange(keyNode), newText: guess }] : undefined,
    );
  }

  /**
   * Checks one source mapping; returns the name collect gives it and the node to show a clash on,
   * or null when collect would drop it for errors of its own (then its name clashes with none).
   * An alias (`- *base`) is the mapping it stands for, as collect reads it.
   */
  function checkSource(written: Node, where: (string | number)[], label: string, index: number, single: boolean): { value: string; node: Node; defaulted: boolean } | null {
    const node = isAlias(written) && !dangling.has(written) ? ((written.resolve(doc) as Node | undefined) ?? written) : written;
    const errorsBefore = errorCount;
    if (!isMap(node)) {
      add('error', 'invalid-value', nodeRange(node), `${label} must be a mapping of keys such as type, name, path.`);
      return null;
    }
    const map = node;
    // Values as collect reads them: aliases resolved (`type: *t`, `name: *n`).
    const value = (data === undefined ? map.toJSON() : where.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], data)) as Record<string, unknown>;
    const typeNode = map.get('type', true) as Node | undefined;
    const type = typeof value.type === 'string' ? value.type : isScalar(typeNode) ? String(typeNode.value) : undefined;
    const types = SOURCE_TYPES;
    if (type === undefined || !(type in SOURCE_SCHEMAS)) {
      const firstKey = map.items[0]?.key as Node | undefined;
      const inferred: SourceType | undefined = map.has('path') ? 'event_log' : map.has('history_server_url') ? 'history_server' : undefined;
      if (type === undefined) {
        const fixes: FindingFix[] | undefined =
          inferred && firstKey?.range
            ? [{ title: `Add "type: ${inferred}"`, range: { start: at(firstKey.range[0]), end: at(firstKey.range[0]) }, newText: `type: ${inferred}\n${' '.repeat(at(firstKey.range[0]).character)}` }]
            : undefined;
        add('error', 'missing-key', nodeRange(firstKey ?? node), `${label} has no "type": one of ${types.join(', ')}.`, fixes);
      } else {
        const guess = didYouMean(type, types);
        add('error', 'invalid-value', nodeRange(typeNode), `Unknown source type "${type}": one of ${types.join(', ')}.${guess ? ` Did you mean "${guess}"?` : ''}`, guess ? [{ title: `Change to "${guess}"`, range: nodeRange(typeNode), newText: guess }] : undefined);
      }
      return null;
    }
    const schema = STRIPPED[type as SourceType];
    const allowed = Object.keys(schema.shape);
    for (const pair of map.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(key)) unknownKey(pair, allowed, `${label} (${type})`);
    }
    // A source's regression thresholds (issue 18) are a mapping of their own, its keys checked the same way.
    const regression = map.get('regression', true) as Node | undefined;
    if (isMap(regression)) {
      for (const pair of regression.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        if (!REGRESSION_CONFIG_KEYS.includes(key as never)) unknownKey(pair, REGRESSION_CONFIG_KEYS, `${label} regression`);
      }
    }
    const result = schema.safeParse(value);
    if (!result.success) {
      for (const issue of result.error.issues) {
        const p = issue.path.filter((x): x is string | number => typeof x !== 'symbol');
        const target = map.getIn(p, true) as Node | undefined;
        const key = String(p[0] ?? '');
        // The undefined alias is the finding there, not the value it failed to give.
        if (isAlias(target) && dangling.has(target)) continue;
        // Unknown keys of a source's regression: mapping have their own findings above.
        if (issue.code === 'unrecognized_keys' && key === 'regression') continue;
        if (target === undefined) {
          add('error', 'missing-key', nodeRange(typeNode), `${label} (${type}) needs "${key}": ${issue.message}.`);
        } else {
          add('error', 'invalid-value', nodeRange(target), `"${p.join('.')}": ${issue.message}.`);
        }
      }
    }
    const nameNode = map.get('name', true) as Node | undefined;
    const name = defaultedName(typeof value.name === 'string' ? value.name : undefined, type, index, single);
    const kept = errorCount === errorsBefore;
    sourceNameNow = name;
    // Inline secrets: anywhere in the source, a secret-looking key with a literal value, and a URL with a password in it.
    const visit = (node: unknown): void => {
      if (isSeq(node)) {
        for (const item of node.items) visit(item);
        return;
      }
      if (!isMap(node)) return;
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '';
        const value = pair.value;
        if (isMap(value) || isSeq(value)) visit(value);
        else if (isScalar(value) && typeof value.value === 'string' && value.value !== '' && !LIKE_ENV_REF.test(value.value)) {
          if (SECRET_KEY.test(key)) inlineSecret(key, value as Scalar<string>);
          else urlPassword(key, value as Scalar<string>);
        }
      }
    };
    visit(map);
    if (type === 'event_log' && ctx.exists) {
      const p = map.get('path', true) as Node | undefined;
      const entries: Node[] = isSeq(p) ? (p.items as Node[]) : p ? [p] : [];
      for (const entry of entries) {
        if (!isScalar(entry) || typeof entry.value !== 'string') continue;
        const abs = path.resolve(ctx.baseDir, entry.value);
        // An error, as for collect: it names the path, skips it and exits 1 (a review: validate said a warning and exited 0).
        if (!ctx.exists(abs)) add('error', 'path-not-found', nodeRange(entry), `${abs} does not exist: collection names it, reads nothing from it and ends with exit status 1.`);
      }
    }
    // A clash is shown where the source is written: on an alias (`- *base`), not on the source it copies.
    return kept ? { value: name, node: node !== written ? written : (nameNode ?? typeNode ?? written), defaulted: nameNode === undefined } : null;
  }

  /**
   * A scalar's range without the line break(s) a block scalar (`|`, `>`) ends with: replacing
   * nodeRange would join the next key to this line (a review: `token: |` then `user: bob` became
   * invalid YAML).
   */
  function valueRange(node: Scalar): Range {
    const [from, to] = node.range ?? [0, 0];
    let end = to;
    while (end > from && /\s/.test(text[end - 1]!)) end--;
    return { start: at(from), end: at(end) };
  }

  function inlineSecret(key: string, value: Scalar<string>): void {
    const ref = `\${env:${envName(sourceNameNow, key)}}`;
    // A header's scheme stays: `Authorization: Bearer sk-…` becomes `Bearer ${env:…}`.
    const scheme = AUTH_SCHEME.exec(value.value)?.[0];
    const plain = value.type === 'PLAIN' || value.type === 'QUOTE_DOUBLE' || value.type === 'QUOTE_SINGLE';
    const newText = scheme !== undefined && plain ? `${scheme}${ref}` : ref;
    add(
      'warning',
      'inline-secret',
      valueRange(value),
      `"${key}" is written inline: anyone who can read this file can read it. Use the "Spark Optimizer: Set Source Secret" command, or an environment variable reference such as ${ref}.`,
      [{ title: `Replace with ${newText}`, range: valueRange(value), newText }],
    );
  }

  /** A URL's literal password; called only for a value with no `${env:…}` in it (visit), so none in the password either. */
  function urlPassword(key: string, value: Scalar<string>): void {
    const m = URL_PASSWORD.exec(value.value);
    if (!m) return;
    const r = valueRange(value);
    // The password's own place when the value is written as is (plain, or quoted without escapes on one line).
    const written = value.range ? text.slice(value.range[0], value.range[1]) : '';
    const offset = written.indexOf(`:${m[1]!}@`);
    const where = offset >= 0 && value.range ? { start: at(value.range[0] + offset + 1), end: at(value.range[0] + offset + 1 + m[1]!.length) } : r;
    add(
      'warning',
      'inline-secret',
      where,
      `"${key}" holds a password in its URL (user:password@host): anyone who can read this file can read it. Leave it out of the URL and use the source's username and password keys (password: \${env:…}) or the "Spark Optimizer: Set Source Secret" command.`,
    );
  }
}
