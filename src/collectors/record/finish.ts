/**
 * What every source does last to a record it built (issue 14): cut its text to what a record keeps,
 * then check it against the schema and its invariants. One rule, so that a property value from the
 * History Server or a cloud API is capped exactly as one from an event log.
 */
import { pushAll } from '../../common/arrays';
import { validateRecord, type Problem, type RecordFindings, type SparkAppRecord } from '../record';

/**
 * Longest text a record keeps from a source, in characters (a property value, the app name): a log
 * may hold a value of any size up to the line limit, an API answer one up to its size limit, and
 * issue 13's 100 MB property became a 100 MB database row (`jobs --format json` on it took 1.42 GB).
 * Spark's real property values are at most a few KB (class paths, Java options).
 */
export const MAX_STORED_TEXT = 64 * 1024;
/** Most characters of Spark properties (keys and values) a record keeps; real environments are tens of KB. */
export const MAX_STORED_ENVIRONMENT = 1024 * 1024;

/** The quality flag of a field whose stored text was cut to the limits above. */
export function cappedFlag(field: keyof SparkAppRecord): string {
  return `capped:${field}`;
}

/** `text` cut to `max` characters (not inside a surrogate pair), with a note of how long it was. */
function cut(text: string, max: number): string {
  const end = text.charCodeAt(max - 1) >= 0xd800 && text.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max;
  return `${text.slice(0, end)}… [cut: ${text.length} characters]`;
}

/**
 * Cuts the record's text to MAX_STORED_TEXT per value and MAX_STORED_ENVIRONMENT for all its
 * properties, flags each field cut `capped:<field>` and says what was cut. Numbers, times and ids
 * are left alone (an id is the record's key: cutting it could merge two applications).
 */
export function capStoredText(record: SparkAppRecord, file: string): Problem[] {
  const problems: Problem[] = [];
  // Made for the first field cut: nearly every record has none.
  let flags: Set<string> | undefined;
  const note = (field: keyof SparkAppRecord, message: string): void => {
    (flags ??= new Set(record.quality)).add(cappedFlag(field));
    problems.push({ severity: 'warning', code: 'value-capped', field, message, file });
  };
  for (const field of ['app_name', 'user', 'spark_version'] as const) {
    const v = record[field];
    if (v !== null && v.length > MAX_STORED_TEXT) {
      record[field] = cut(v, MAX_STORED_TEXT);
      note(field, `${field} is ${v.length} characters; the record keeps the first ${MAX_STORED_TEXT}`);
    }
  }
  if (!environmentOverLimits(record.environment)) {
    if (flags !== undefined) record.quality = [...flags].sort();
    return problems;
  }
  const tooLong: string[] = [];
  let left = 0;
  let total = 0;
  let capped = false;
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(record.environment)) {
    const kept = value.length > MAX_STORED_TEXT ? cut(value, MAX_STORED_TEXT) : value;
    if (key.length > MAX_STORED_TEXT || total + key.length + kept.length > MAX_STORED_ENVIRONMENT) {
      left++;
      capped = true;
      continue;
    }
    if (kept !== value) {
      tooLong.push(`${key} (${value.length} characters)`);
      capped = true;
    }
    env[key] = kept;
    total += key.length + kept.length;
  }
  if (capped) {
    record.environment = env;
    const parts: string[] = [];
    if (tooLong.length > 0) parts.push(`${tooLong.length === 1 ? 'a property value is' : `${tooLong.length} property values are`} over ${MAX_STORED_TEXT} characters and kept cut to that: ${tooLong.slice(0, 3).join(', ')}${tooLong.length > 3 ? ', …' : ''}`);
    if (left > 0) parts.push(`${left} ${left === 1 ? 'property is' : 'properties are'} left out, past ${MAX_STORED_ENVIRONMENT / 1024 / 1024} M characters of properties in all`);
    note('environment', `${parts.join('; ')} (so that one line cannot make the record huge)`);
  }
  if (flags !== undefined) record.quality = [...flags].sort();
  return problems;
}

/**
 * Whether any property of `env` is cut or left out by capStoredText's rules: a key or value over
 * MAX_STORED_TEXT, or all of them over MAX_STORED_ENVIRONMENT. Nearly every environment is neither,
 * and is then kept as it is, not copied (10,000 small logs: a copy of ~200 properties per record).
 */
function environmentOverLimits(env: Readonly<Record<string, string>>): boolean {
  let total = 0;
  for (const key of Object.keys(env)) {
    const value = env[key]!;
    if (key.length > MAX_STORED_TEXT || value.length > MAX_STORED_TEXT) return true;
    total += key.length + value.length;
  }
  return total > MAX_STORED_ENVIRONMENT;
}

/** The record's text capped (capStoredText), then the record checked (validateRecord): the problems of both, in that order. */
export function finishRecord(record: SparkAppRecord, where: string): Problem[] {
  const problems = capStoredText(record, where);
  pushAll(problems, validateRecord(record, where));
  return problems;
}

/** The record of `fields` with the flags gathered in `found`, finished (finishRecord), its problems added to `found`'s. */
export function completeRecord(fields: Omit<SparkAppRecord, 'quality'>, found: RecordFindings): SparkAppRecord {
  const record: SparkAppRecord = { ...fields, quality: [...found.quality].sort() };
  found.problems.push(...finishRecord(record, found.where));
  return record;
}
