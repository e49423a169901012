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
import { redactSecrets, redactTags, type SparkAppRecord } from '../collectors/record';
import { maskSecretText } from '../common/secretText';
import type { StoredRegression } from './repository';

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
export function maskEnvironment(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const masked = redactSecrets(env);
  for (const k in masked) if (masked[k] !== env[k]) return masked;
  return env;
}

/** A JSON text of an environment masked (maskEnvironment); the text itself when nothing changes. */
export function maskEnvironmentText(text: string): string {
  const env = JSON.parse(text) as Record<string, string>;
  const masked = maskEnvironment(env);
  return masked === env ? text : JSON.stringify(masked);
}

/** A JSON text of tags masked (redactTags); the text itself when nothing changes. */
export function maskTagsText(text: string): string {
  const tags = JSON.parse(text) as Record<string, string>;
  const masked = redactTags(tags);
  return masked === tags ? text : JSON.stringify(masked);
}

/** A JSON text whose strings are masked (maskJsonStrings: a run's options, its errors); the text itself when nothing changes. */
export function maskJsonText(text: string): string {
  const value = JSON.parse(text) as unknown;
  const masked = maskJsonStrings(value);
  return masked === value ? text : JSON.stringify(masked);
}

/** A property's value as an environment of its own would store it (redactSecrets' key and value rules); null stays null. */
const maskedValue = (key: string, value: string | null): string | null => (value === null ? null : (redactSecrets({ [key]: value })[key] ?? value));

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
    check = JSON.parse(texts.check_json) as unknown;
    rows = configRows(check);
  }
  const masked = rows.map(maskedRow);
  const summary = maskCheckText(texts.summary, rows, masked);
  const explanation = maskCheckText(texts.explanation, rows, masked);
  let check_json = texts.check_json;
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
 * environment and tags masked (maskEnvironment, redactTags), whoever wrote them. The record itself when
 * nothing changes. A few microseconds for a record of 100 properties (test/storedSecrets.test.ts);
 * a list that reads no environment (jobs) never comes here.
 */
export function shownRecord<R extends Pick<SparkAppRecord, 'environment' | 'tags'>>(record: R): R {
  const environment = maskEnvironment(record.environment);
  const tags = redactTags(record.tags);
  return environment === record.environment && tags === record.tags ? record : { ...record, environment, tags };
}

/** A stored check as it may be shown: its summary, explanation and the properties it quotes masked (maskCheckTexts' rules). */
export function shownRegression<S extends StoredRegression>(stored: S): S {
  const texts = { summary: stored.summary, explanation: stored.explanation, check_json: null };
  const rows = stored.check?.changes?.config ?? [];
  const masked = rows.map(maskedRow);
  const summary = maskCheckText(texts.summary, rows, masked);
  const explanation = maskCheckText(texts.explanation, rows, masked);
  if (summary === stored.summary && explanation === stored.explanation && stored.check === null) return stored;
  const check =
    stored.check === null
      ? null
      : maskJsonStrings({
          ...stored.check,
          summary: maskCheckText(stored.check.summary, rows, masked),
          explanation: maskCheckText(stored.check.explanation, rows, masked),
          changes: stored.check.changes === null ? null : { ...stored.check.changes, config: stored.check.changes.config === null ? null : stored.check.changes.config.map((r, i) => ({ ...r, a: masked[i]!.a, b: masked[i]!.b })) },
        });
  return { ...stored, summary, explanation, check };
}
