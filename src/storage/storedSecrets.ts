/**
 * Secrets in what a store holds, masked by the collectors' own rules (common/secretText.ts
 * maskSecretText, collectors/record.ts redactSecrets and redactTags), for three callers:
 * - the storage migrations that mask again what older versions stored (migrations.ts 12,
 *   postgres/migrations.ts 13): environments, tags, regression check texts, run options and errors;
 * - ingest.ts, where a run's options and errors are stored;
 * - the readers that show a record or a check (shownRecord, shownRegression): a client of an older
 *   version, still running against a migrated shared database, writes what it always wrote, and
 *   what it wrote must never be shown (a review of the PostgreSQL store, finding 4).
 * Every function here is idempotent (a masked value is left as it is) and returns its argument
 * itself when nothing in it changes, so that a caller tells "changed" by identity, without comparing.
 */
import { OWN_RULE_KEY, redactSecrets, redactTags, redactedProperty, redactedValue, secretPropertyKey, type SparkAppRecord } from '../collectors/record';
import { REDACTED, maskSecretText } from '../common/secretText';
import type { RegressionCheck } from '../analysis/regression';
import type { StoredRegression } from './repository';

/**
 * A stored JSON text read; undefined when it is not JSON (a store's text no reader could read either):
 * then the masks above take it as a plain text (maskSecretText), so that a migration neither fails
 * on it, which would leave the store unopenable for writing, nor keeps a secret in it.
 */
function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Every string in a JSON value (objects, arrays, nested) through maskSecretText; the value itself when none changes. */
export function maskJsonStrings<T>(value: T): T {
  if (typeof value === 'string') return maskSecretText(value) as T;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v: unknown, i) => {
      const m = maskJsonStrings(v);
      if (m !== v) (out ??= [...value])[i] = m;
    });
    return (out ?? value) as T;
  }
  if (value !== null && typeof value === 'object') {
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const m = maskJsonStrings(v);
      if (m !== v) (out ??= { ...(value as Record<string, unknown>) })[k] = m;
    }
    return (out ?? value) as T;
  }
  return value;
}

/** An environment through redactSecrets (its key and value rules, and maskSecretText); the environment itself when no value changes. */
export type EnvironmentMasker = (env: Readonly<Record<string, string>>) => Readonly<Record<string, string>>;

/** Values a masker remembers at most (a store's environments repeat most of theirs: the same properties run after run). */
const REMEMBERED_VALUES = 100_000;

/**
 * A maskEnvironment that remembers, over the environments it is given, which property names hide
 * their value and what each value becomes: redactSecrets judges a name and a value apart
 * (secretPropertyKey, redactedValue: with no `spark.redaction.regex` of the environment's own), and most
 * of a store's names and values repeat in every run, so a migration over 100,000 environments judges
 * each once. An environment with its own rule goes through redactSecrets whole. The same result as
 * redactSecrets (tested).
 */
export function environmentMasker(): EnvironmentMasker {
  const keys = new Map<string, boolean>();
  const values = new Map<string, string>();
  const hides = (k: string): boolean => {
    let h = keys.get(k);
    if (h === undefined) keys.set(k, (h = secretPropertyKey(k)));
    return h;
  };
  const masked = (v: string): string => {
    let m = values.get(v);
    if (m === undefined) {
      if (values.size >= REMEMBERED_VALUES) values.clear();
      values.set(v, (m = redactedValue(v)));
    }
    return m;
  };
  return (env) => {
    const own = env[OWN_RULE_KEY];
    if (own !== undefined && own !== REDACTED) return maskEnvironment(env);
    let out: Record<string, string> | undefined;
    for (const k in env) {
      const v = env[k]!;
      const m = typeof v !== 'string' ? v : hides(k) ? REDACTED : masked(v);
      if (m !== v) (out ??= { ...env })[k] = m;
    }
    return out ?? env;
  };
}

/** An environment through redactSecrets (its key and value rules, and maskSecretText); the environment itself when no value changes. */
export function maskEnvironment(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const masked = redactSecrets(env);
  for (const k in masked) if (masked[k] !== env[k]) return masked;
  return env;
}

/**
 * A stored JSON text with the value it holds masked by `mask`, when `takes` that value; the text itself
 * when nothing changes. A text that is not JSON, or holds what `mask` does not take, as a plain text
 * (maskSecretText).
 */
function maskStoredJson<T>(text: string, takes: (value: unknown) => value is T, mask: (value: T) => T): string {
  const value = parsed(text);
  if (value === undefined || !takes(value)) return maskSecretText(text);
  const masked = mask(value);
  return masked === value ? text : JSON.stringify(masked);
}
/** What an environment or tags are stored as: a JSON object. */
function isObject(value: unknown): value is Record<string, string> {
  return value !== null && typeof value === 'object';
}
/** Any JSON value: a run's options, its errors. */
function anyValue(value: unknown): value is unknown {
  return value !== undefined;
}

/** A JSON text of an environment masked (maskEnvironment, or `masker`'s); the text itself when nothing changes. */
export function maskEnvironmentText(text: string, masker: EnvironmentMasker = maskEnvironment): string {
  return maskStoredJson(text, isObject, masker);
}

/** A JSON text of tags masked (redactTags); the text itself when nothing changes. */
export function maskTagsText(text: string): string {
  return maskStoredJson(text, isObject, redactTags);
}

/** A JSON text whose strings are masked (maskJsonStrings: a run's options, its errors); the text itself when nothing changes. */
export function maskJsonText(text: string): string {
  return maskStoredJson(text, anyValue, maskJsonStrings);
}

/** A property's value as an environment of its own would store it (redactedProperty); null stays null. */
const maskedValue = (key: string, value: string | null): string | null => (value === null ? null : redactedProperty(key, value));

/** A check's property row, and how its summary and explanation quote it (regression.ts configText). */
interface ConfigRow {
  key: string;
  a: string | null;
  b: string | null;
}
/** A row with its values masked (maskedValue); the row itself when neither changes. */
const maskedRow = (r: ConfigRow | null): ConfigRow | null => {
  if (r === null) return null;
  const [a, b] = [maskedValue(r.key, r.a), maskedValue(r.key, r.b)];
  return a === r.a && b === r.b ? r : { key: r.key, a, b };
};
const quoted = (r: ConfigRow): string => `${r.key} ${r.a ?? '(not set)'} → ${r.b ?? '(not set)'}`;

/**
 * Texts quoting a check's changed properties (`spark.executorEnv.DB_PASS old → new`) with each value
 * a secret's key names masked as an environment masks it: a free text has no `name=value` for
 * maskSecretText to see. Then maskSecretText over all of it.
 */
function maskCheckText(text: string, rows: readonly (ConfigRow | null)[], masked: readonly (ConfigRow | null)[]): string {
  let out = text;
  rows.forEach((r, i) => {
    const m = masked[i]!;
    if (r !== null && m !== null && (m.a !== r.a || m.b !== r.b)) out = out.split(quoted(r)).join(quoted(m));
  });
  return maskSecretText(out);
}

/** The stored texts of a check (a row of regressions). */
export interface CheckTexts {
  summary: string;
  explanation: string;
  check_json: string | null;
}

/**
 * A regression check's stored texts masked: each changed property's values by the environment's
 * rules (so that a secret's old and new values, quoted as they changed, are hidden as the
 * environment hides them), then every string by maskSecretText. The check as packed (v 2) and as
 * stored whole before (PostgreSQL kept those: its migration 9 packed nothing) are both read. The
 * texts themselves when nothing changes.
 */
export function maskCheckTexts(texts: CheckTexts): CheckTexts {
  let rows: (ConfigRow | null)[] = [];
  let check: unknown = null;
  if (texts.check_json !== null) {
    check = parsed(texts.check_json) ?? null;
    rows = configRows(check);
  }
  const masked = rows.map(maskedRow);
  const summary = maskCheckText(texts.summary, rows, masked);
  const explanation = maskCheckText(texts.explanation, rows, masked);
  let check_json = texts.check_json === null || check !== null ? texts.check_json : maskSecretText(texts.check_json);
  if (check !== null) {
    const changedRows = masked.some((m, i) => m !== rows[i]);
    const withRows = changedRows ? withConfigRows(check, masked) : check;
    const whole = withRows as { summary?: unknown; explanation?: unknown };
    // A check stored whole has its own summary and explanation.
    if (typeof whole.summary === 'string' && typeof whole.explanation === 'string') {
      const s = maskCheckText(whole.summary, rows, masked);
      const e = maskCheckText(whole.explanation, rows, masked);
      if (s !== whole.summary || e !== whole.explanation) Object.assign(whole, { summary: s, explanation: e });
    }
    const all = maskJsonStrings(withRows);
    if (all !== check || changedRows) check_json = JSON.stringify(all);
  }
  return summary === texts.summary && explanation === texts.explanation && check_json === texts.check_json ? texts : { summary, explanation, check_json };
}

/** A config row as stored: `[key, a, b]` (packed) or `{key, a, b}` (whole); null for anything else (left as it is). */
function rowOf(r: unknown): ConfigRow | null {
  const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  if (Array.isArray(r) && typeof r[0] === 'string') return { key: r[0], a: text(r[1]), b: text(r[2]) };
  if (r !== null && typeof r === 'object' && typeof (r as ConfigRow).key === 'string') return { key: (r as ConfigRow).key, a: text((r as ConfigRow).a), b: text((r as ConfigRow).b) };
  return null;
}

/** Where a check as stored keeps its changed properties: packed (`config`) or whole (`changes.config`). */
function configList(check: unknown): unknown[] | null {
  if (check === null || typeof check !== 'object') return null;
  const c = check as { v?: unknown; config?: unknown; changes?: { config?: unknown } | null };
  const list = 'v' in c ? c.config : c.changes?.config;
  return Array.isArray(list) ? list : null;
}

/** The changed properties of a check as stored (configList), each one's row or null. */
function configRows(check: unknown): (ConfigRow | null)[] {
  return (configList(check) ?? []).map(rowOf);
}

/** `check` (a fresh copy) with its config rows' values replaced by `rows`' (a row null: as it was). */
function withConfigRows(check: unknown, rows: readonly (ConfigRow | null)[]): unknown {
  const copy = JSON.parse(JSON.stringify(check)) as unknown;
  const list = configList(copy)!;
  rows.forEach((m, i) => {
    if (m === null) return;
    const r = list[i];
    if (Array.isArray(r)) list[i] = [r[0] as unknown, m.a, m.b, ...(r.slice(3) as unknown[])];
    else list[i] = { ...(r as object), a: m.a, b: m.b };
  });
  return copy;
}

/**
 * A record as it may be shown (show, compare, the job page, Open Record as JSON, export): its
 * environment and tags masked (maskEnvironment, or `masker`'s, and redactTags), whoever wrote them. The
 * record itself when nothing changes. ~10-25 µs for a record of 25-65 properties (test/maskStoredSecrets
 * bench figures in its commit); a list that reads no environment (the jobs list) never comes here.
 */
export function shownRecord<R extends Pick<SparkAppRecord, 'environment' | 'tags'>>(record: R, masker: EnvironmentMasker = maskEnvironment): R {
  const environment = masker(record.environment);
  const tags = redactTags(record.tags);
  return environment === record.environment && tags === record.tags ? record : { ...record, environment, tags };
}

/** Records as they may be shown (shownRecord), one masker for all: names and values that repeat from run to run are judged once. */
export function shownRecords<R extends Pick<SparkAppRecord, 'environment' | 'tags'>>(records: readonly R[]): R[] {
  const masker = environmentMasker();
  return records.map((r) => shownRecord(r, masker));
}

/** A regression check as it may be shown: its summary, explanation and the properties it quotes masked (maskCheckTexts' rules). */
export function shownCheck<C extends Pick<RegressionCheck, 'summary' | 'explanation' | 'changes'>>(check: C): C {
  const rows = check.changes?.config ?? [];
  const masked = rows.map(maskedRow);
  const summary = maskCheckText(check.summary, rows, masked);
  const explanation = maskCheckText(check.explanation, rows, masked);
  const rowsChanged = masked.some((m, i) => m !== rows[i]);
  if (summary === check.summary && explanation === check.explanation && !rowsChanged) return maskJsonStrings(check);
  const changes = check.changes === null || !rowsChanged ? check.changes : { ...check.changes, config: check.changes.config!.map((r, i) => ({ ...r, a: masked[i]!.a, b: masked[i]!.b })) };
  return maskJsonStrings({ ...check, summary, explanation, changes });
}

/** A stored check as it may be shown (its texts and its check: shownCheck); the stored check itself when nothing changes. */
export function shownRegression<S extends StoredRegression>(stored: S): S {
  const check = stored.check === null ? null : shownCheck(stored.check);
  const summary = maskCheckText(stored.summary, stored.check?.changes?.config ?? [], check?.changes?.config ?? []);
  const explanation = maskCheckText(stored.explanation, stored.check?.changes?.config ?? [], check?.changes?.config ?? []);
  return check === stored.check && summary === stored.summary && explanation === stored.explanation ? stored : { ...stored, summary, explanation, check };
}
