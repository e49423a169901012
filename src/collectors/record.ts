/**
 * The normalized record: one per application attempt, keyed by (app_id, attempt_id).
 * Field names are DESIGN.md §2's snake_case names, used unchanged in the database, the CLI's JSON
 * output and exports. Times are ISO-8601 UTC strings; bytes and milliseconds are integers.
 */
import * as z from 'zod';

const count = z.number().int().nonnegative();
const isoUtc = z.string().datetime({ offset: false });

import { STATUSES } from './record/status';
import { REDACTED, environmentVariableOf, maskSecretText, secretName } from '../common/secretText';

export { STATUSES, type AppStatus } from './record/status';

export const sparkAppRecordSchema = z.object({
  app_id: z.string().min(1),
  attempt_id: z.string().min(1).nullable(),
  app_name: z.string().nullable(),
  user: z.string().nullable(),
  submit_time: isoUtc.nullable(),
  start_time: isoUtc.nullable(),
  end_time: isoUtc.nullable(),
  duration_ms: count.nullable(),
  spark_version: z.string().nullable(),
  executor_cores: count.nullable(),
  executor_memory_mb: count.nullable(),
  num_executors: count.nullable(),
  driver_memory_mb: count.nullable(),
  total_tasks: count,
  failed_tasks: count,
  total_stages: count,
  failed_stages: count,
  /** Null when Spark never measured it (Executor CPU Time exists from Spark 2.1), flagged `missing:cpu_time_ms`. */
  cpu_time_ms: count.nullable(),
  input_bytes: count,
  output_bytes: count,
  shuffle_read_bytes: count,
  shuffle_write_bytes: count,
  memory_spilled_bytes: count,
  disk_spilled_bytes: count,
  tags: z.record(z.string(), z.string()),
  environment: z.record(z.string(), z.string()),
  source: z.string(),
  status: z.enum(STATUSES),
  quality: z.array(z.string()),
});

export type SparkAppRecord = z.infer<typeof sparkAppRecordSchema>;

/** Quality flags (DESIGN.md §2). `defaulted:<field>` and `missing:<field>` are built with the helpers. */
export const Quality = {
  inProgress: 'in_progress',
  truncated: 'truncated',
  compacted: 'compacted',
  restCapped: 'rest_capped',
  /** submit_time is after start_time: the submitting host's clock and the driver's disagree. */
  submitAfterStart: 'submit_after_start',
  /** A cloud step/run/job with no Spark metrics behind it: times and sizing only. */
  platformLevel: 'platform_level',
  defaulted: (field: keyof SparkAppRecord): string => `defaulted:${field}`,
  missing: (field: keyof SparkAppRecord): string => `missing:${field}`,
  /**
   * A value read for the field could not be true (issue 13: a time outside 1970–9999, a fraction or
   * negative where a count belongs, beyond 2^53); it was left out and reported as an error. A field
   * that can be null is then null; a total that cannot (input_bytes, …) is the sum of the other values.
   */
  invalid: (field: keyof SparkAppRecord): string => `invalid:${field}`,
} as const;

/**
 * The latest time a record holds, 9999-12-31T23:59:59.999Z. Later ones need ISO-8601's expanded
 * (six-digit) years, which the schema and SQLite's date functions do not read; past ±8.64e15 ms
 * (ECMA-262 §21.4.1.1) JavaScript has no Date at all and toISOString throws a RangeError.
 */
export const LATEST_TIME_MS = 253_402_300_799_999;

/**
 * Why `ms`, epoch milliseconds read from a source (Spark, the History Server and the cloud APIs all
 * give them), cannot be one of the record's times; null when it can. The one rule every source uses.
 */
export function timeFault(ms: number): string | null {
  if (!Number.isInteger(ms)) return 'not a whole number of milliseconds';
  if (ms < 0) return 'before 1970';
  if (ms > LATEST_TIME_MS) return 'after the year 9999';
  return null;
}

/** Epoch milliseconds as the record's ISO-8601 UTC string; null for null and for what timeFault refuses (never throws). */
export function isoTime(ms: number | null): string | null {
  return ISO_TIMES.of(ms);
}

/** The ASCII codes of the tens and ones digits of 0..99, for the clock part of a time. */
const TENS = Uint8Array.from({ length: 100 }, (_, i) => 0x30 + Math.floor(i / 10));
const ONES = Uint8Array.from({ length: 100 }, (_, i) => 0x30 + (i % 10));
/** Buffer's latin1Slice (what toString('latin1') calls after its checks): bytes to a flat one-byte string, in one native call. */
type Latin1Slicer = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * The record's ISO-8601 times (isoTime) for many times in a row, without a Date each: an app with
 * 10,000 stages has 20,000 stage times, mostly on one day. Rows are made once, cold (the event-log
 * engine made them at the end of a log before tables), where a call's cost is its bytecodes and
 * allocations: the date part of the text (`2024-05-06T`) is written once per day, each
 * time writes only its clock digits from tables into the same 24 bytes, and one native call makes
 * the string (issue 15: 20,000 times took ~30 ms as template strings there, ~10 ms so). Equal to
 * toISOString for every time (eventLogSummaries.test.ts compares them).
 */
export class IsoTimes {
  /** Days since 1970 of the date in `text`; -1 before the first. */
  private day = -1;
  /** Seconds since 1970 of the date and clock up to the second in `text`; -1 before the first. */
  private second = -1;
  /** `YYYY-MM-DDTHH:MM:SS.mmmZ` in latin1. */
  private readonly text = Buffer.alloc(24) as Latin1Slicer;

  /** `ms` as toISOString writes it; null for null and for what timeFault refuses. */
  of(ms: number | null): string | null {
    if (ms === null || timeFault(ms) !== null) return null;
    const text = this.text;
    const second = Math.floor(ms / 1000);
    // Most times of a stage list fall in the second of the one before: only the milliseconds change.
    if (second !== this.second) this.clock(second);
    let rest = ms - second * 1000;
    const hundreds = Math.floor(rest / 100);
    rest -= hundreds * 100;
    text[20] = 0x30 + hundreds;
    text[21] = TENS[rest]!;
    text[22] = ONES[rest]!;
    return text.latin1Slice(0, 24);
  }

  /** Writes the date and the clock up to `second` (seconds since 1970) into `text`. */
  private clock(second: number): void {
    this.second = second;
    const text = this.text;
    const day = Math.floor(second / 86_400);
    if (day !== this.day) {
      this.day = day;
      this.date(day);
    }
    let rest = second - day * 86_400;
    const hours = Math.floor(rest / 3_600);
    rest -= hours * 3_600;
    const minutes = Math.floor(rest / 60);
    rest -= minutes * 60;
    text[11] = TENS[hours]!;
    text[12] = ONES[hours]!;
    text[14] = TENS[minutes]!;
    text[15] = ONES[minutes]!;
    text[17] = TENS[rest]!;
    text[18] = ONES[rest]!;
  }

  /**
   * Writes `YYYY-MM-DDT` of `day` (days since 1970, up to 9999-12-31) into `text`, counted as Howard
   * Hinnant's civil_from_days counts it (eras of 400 years from March 1st): a Date's toISOString
   * for it was ~8 µs of each of 10,000 small logs, each on a day of its own, in a profile of a pool
   * worker (issue #12).
   */
  private date(day: number): void {
    const z = day + 719_468;
    const era = Math.floor(z / 146_097);
    const dayOfEra = z - era * 146_097;
    const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
    const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
    const shifted = Math.floor((5 * dayOfYear + 2) / 153);
    const month = shifted < 10 ? shifted + 3 : shifted - 9;
    const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
    const text = this.text;
    const century = Math.floor(year / 100);
    text[0] = TENS[century]!;
    text[1] = ONES[century]!;
    text[2] = TENS[year - century * 100]!;
    text[3] = ONES[year - century * 100]!;
    text[4] = 0x2d;
    text[5] = TENS[month]!;
    text[6] = ONES[month]!;
    text[7] = 0x2d;
    const dayOfMonth = dayOfYear - Math.floor((153 * shifted + 2) / 5) + 1;
    text[8] = TENS[dayOfMonth]!;
    text[9] = ONES[dayOfMonth]!;
    text[10] = 0x54;
    text[13] = 0x3a;
    text[16] = 0x3a;
    text[19] = 0x2e;
    text[23] = 0x5a;
  }
}

/**
 * isoTime's, for every time of a thread: a Date's toISOString per time was ~10 µs of each small log
 * in a profile of a pool worker (the record's three times, its executors'; issue #12). It keeps only
 * the text of the last day and second it wrote, which changes no result.
 */
const ISO_TIMES = new IsoTimes();

/** Why `v` cannot be one of the record's counts, sizes or durations; null when it can. */
export function countFault(v: number): string | null {
  if (!Number.isInteger(v)) return Number.isFinite(v) ? 'not a whole number' : 'not a finite number';
  if (v < 0) return 'negative';
  // Beyond 2^53 a double no longer holds every integer, and SQLite's INTEGER stores it as a REAL.
  if (!Number.isSafeInteger(v)) return 'over 2^53 - 1';
  return null;
}

/**
 * The error for a value read from a source that cannot be true (the caller also flags
 * `Quality.invalid` on the field it would have fed). `what` names the value where it was read.
 */
export function invalidValue(field: keyof SparkAppRecord, what: string, value: unknown, fault: string, at: Pick<Problem, 'file' | 'line'>): Problem {
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
  const short = shown.length > 40 ? `${shown.slice(0, 40)}… (${shown.length} characters)` : shown;
  return { severity: 'error', code: 'invalid-value', field, message: `${what} ${short} is ${fault}: left out of ${field}`, ...at };
}

/** What a source gathers while it builds one record: its flags, and its problems with where they came from (a file, a URL, an app). */
export interface RecordFindings {
  quality: Set<string>;
  problems: Problem[];
  where: string;
  /** What the record stands for in messages (`run 42`, `step s-1`); the application itself when absent. */
  subject?: string;
  /** Where the Spark properties were read (an event log's EnvironmentUpdate line); `where` when absent. */
  propsAt?: Pick<Problem, 'file' | 'line'>;
}

/** `ms` when it can be one of the record's times (timeFault); otherwise null, with the error and the `invalid:` flag in `found`. */
export function checkedTime(ms: number | null, field: 'submit_time' | 'start_time' | 'end_time', what: string, found: RecordFindings): number | null {
  const fault = ms === null ? null : timeFault(ms);
  if (fault === null) return ms;
  found.problems.push(invalidValue(field, what, ms, fault, { file: found.where }));
  found.quality.add(Quality.invalid(field));
  return null;
}

/** `v` when it can be one of the record's counts or sizes (countFault); otherwise null, with the error and the `invalid:` flag in `found`. */
export function checkedCount(v: number, field: keyof SparkAppRecord, what: string, found: RecordFindings): number | null {
  const fault = countFault(v);
  if (fault === null) return v;
  found.problems.push(invalidValue(field, what, v, fault, { file: found.where }));
  found.quality.add(Quality.invalid(field));
  return null;
}

/** The Spark metrics only Spark itself reports: a platform-level record has them 0 (CPU time unknown, null), each flagged `missing:`. */
export const SPARK_METRIC_FIELDS = ['total_tasks', 'failed_tasks', 'total_stages', 'failed_stages', 'cpu_time_ms', 'input_bytes', 'output_bytes', 'shuffle_read_bytes', 'shuffle_write_bytes', 'memory_spilled_bytes', 'disk_spilled_bytes'] as const;
export type SparkMetricField = (typeof SPARK_METRIC_FIELDS)[number];

/** The metric fields of a record with no Spark metrics behind it (a cloud step/run/job). */
export function noSparkMetrics(): Pick<SparkAppRecord, SparkMetricField> {
  return { ...(Object.fromEntries(SPARK_METRIC_FIELDS.map((f) => [f, 0])) as Record<SparkMetricField, number>), cpu_time_ms: null };
}

/** The quality flags every platform-level record starts with. */
export function platformLevelQuality(): Set<string> {
  return new Set([Quality.platformLevel, ...SPARK_METRIC_FIELDS.map((f) => Quality.missing(f))]);
}

/**
 * Spark's own rule for what to hide: `spark.redaction.regex`, matched against each property's key
 * and value (Utils.redact), here with its default. An application that sets its own is redacted by
 * its own (see redactSecrets).
 */
export const SPARK_REDACTION_DEFAULT = '(?i)secret|password|token|access[.]?key';
/**
 * Credential keys Spark's default rule misses, always hidden as well: `passwd`, credentials (not a
 * credentials provider: `spark.hadoop.fs.s3a.aws.credentials.provider` names a class), private keys,
 * request signatures, `access_key`/`access-key` spellings, API keys, and the cloud storage keys
 * (`fs.azure.account.key.<account>`, Azure SAS settings). Besides these, a key whose last word names
 * a credential (secretText.ts secretName: `spark.es.net.http.auth.pass`, `spark.redis.auth`,
 * `...header.Authorization`, `spark.hadoop.fs.s3a.encryption.key`) and an environment variable any
 * of whose words does (`spark.executorEnv.DB_PASS`). Not `auth` inside a key (commit 54a662a):
 * `spark.authenticate` and `spark.kubernetes.authenticate.driver.serviceAccountName` are settings,
 * and neither is `spark.io.encryption.keySizeBits` nor `spark.ssl.keyStore` (a path).
 */
const CREDENTIAL_KEY = /passwd|credentials?(?!s|[._-]?provider)|private[._-]?key|signature|access[_-]key|api[._-]?key|account\.key|\.sas\.|sas[._-]?token/i;

/** Java's POSIX and the common Unicode property classes (`\p{Alpha}`), as the inside of a JavaScript class; a letter class reaches past ASCII (more is hidden, never less). */
const PROPERTY_CLASSES: Readonly<Record<string, string>> = (() => {
  const letters = 'A-Za-z\\u00AA-\\uFFFF';
  const c: Record<string, string> = {
    Lower: 'a-z', Upper: 'A-Z', ASCII: '\\x00-\\x7F', Alpha: 'A-Za-z', Digit: '0-9', Alnum: 'A-Za-z0-9', Punct: '!-\\/:-@\\[-`{-~', Graph: '!-~', Print: ' -~',
    Blank: ' \\t', Cntrl: '\\x00-\\x1F\\x7F', XDigit: '0-9a-fA-F', Space: ' \\t\\n\\x0B\\f\\r', L: letters, Alphabetic: letters, Letter: letters, javaLetter: letters,
    Lu: letters, Uppercase: letters, javaUpperCase: letters, Ll: letters, Lowercase: letters, javaLowerCase: letters, N: '0-9\\u00B2-\\uFFFF', Nd: '0-9\\u0660-\\uFFFF', javaDigit: '0-9\\u0660-\\uFFFF',
  };
  for (const k of Object.keys(c)) c[`Is${k}`] = c[k]!;
  return c;
})();
const escapeLiteral = (text: string): string => text.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** Java's escapes outside a class that JavaScript spells otherwise (javaRegex). */
const JAVA_ESCAPES: Readonly<Record<string, string>> = { z: '$', Z: '(?=\\n?$)', A: '^', e: '\\x1B', a: '\\x07', h: '[ \\t\\u00A0\\u1680\\u180E\\u2000-\\u200A\\u202F\\u205F\\u3000]', R: '(?:\\r\\n|[\\n\\x0B\\f\\r\\x85\\u2028\\u2029])' };

/**
 * A Java regex as Spark reads `spark.redaction.regex` (java.util.regex), as a JavaScript one that
 * hides at least what it hides; undefined when it holds what cannot be translated (a class
 * intersection `&&`, comments mode `(?x)`, `\G`, an unknown `\p{…}`). Translated: `\Q…\E` (a
 * literal), flags anywhere (`(?i)` mid-pattern turns case-insensitivity on for all of it, `(?-i)` is
 * ignored: either only matches more), `\p{Alpha}` and the other POSIX classes, `\z`, `\Z`, `\A`,
 * `\h`, `\R`, `\e`, `\a`, `\x{…}`, possessive quantifiers and atomic groups (as greedy ones: they
 * match more).
 */
function javaRegex(source: string): RegExp | undefined {
  const flags = new Set<string>();
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const n = source[i + 1];
      if (n === undefined) return undefined;
      if (n === 'Q') {
        const end = source.indexOf('\\E', i + 2);
        out += escapeLiteral(source.slice(i + 2, end < 0 ? undefined : end));
        i = end < 0 ? source.length : end + 1;
        continue;
      }
      if (n === 'p' || n === 'P') {
        const m = /^(?:\{(\w+)\}|([A-Za-z]))/.exec(source.slice(i + 2));
        const range = m ? PROPERTY_CLASSES[m[1] ?? m[2]!] : undefined;
        if (m === null || range === undefined || (inClass && n === 'P')) return undefined;
        out += inClass ? range : n === 'p' ? `[${range}]` : `[^${range}]`;
        i += 1 + m[0].length;
        continue;
      }
      if (n === 'x' && source[i + 2] === '{') {
        const m = /^\{([0-9a-fA-F]{1,4})\}/.exec(source.slice(i + 2));
        if (m === null) return undefined;
        out += `\\u${m[1]!.padStart(4, '0')}`;
        i += 1 + m[0].length;
        continue;
      }
      if (n === 'G' || n === 'X' || n === 'H' || (inClass && (n === 'h' || n === 'R'))) return undefined;
      out += !inClass && JAVA_ESCAPES[n] !== undefined ? JAVA_ESCAPES[n] : `\\${n}`;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' || (c === '&' && source[i + 1] === '&')) return undefined;
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      const negated = source[i + 1] === '^';
      out += negated ? '[^' : '[';
      if (negated) i++;
      // Java reads a `]` first in a class as itself.
      if (source[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && source[i + 1] === '?') {
      const m = /^\(\?([a-zA-Z]*)(?:-([a-zA-Z]*))?([):])/.exec(source.slice(i));
      if (m !== null && (m[1] !== '' || m[2] !== undefined)) {
        for (const f of m[1]!) {
          if (f === 'x') return undefined;
          if (f === 'i' || f === 's' || f === 'm') flags.add(f);
        }
        out += m[3] === ':' ? '(?:' : '';
        i += m[0].length - 1;
        continue;
      }
      if (source[i + 2] === '>') {
        out += '(?:';
        i += 2;
        continue;
      }
    }
    // A possessive quantifier (`a*+`, `a++`, `a?+`, `a{2}+`) as the greedy one.
    if ((c === '*' || c === '+' || c === '?' || c === '}') && source[i + 1] === '+') {
      out += c;
      i++;
      continue;
    }
    out += c;
  }
  try {
    return new RegExp(out, [...flags].join(''));
  } catch {
    return undefined;
  }
}

/**
 * What stands in for an application's `spark.redaction.regex` that javaRegex cannot translate:
 * every word of three or more letters or digits in it, as a text to find in any case (`corp` of
 * `corp\.[\p{InGreek}]+`), so that what its rule hides is hidden and more; and every value when a
 * branch of it has no such word (nothing of it can be told apart).
 */
function wordsRule(source: string): RegExp {
  const branches: string[] = [];
  let depth = 0;
  let inClass = false;
  let branch = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!;
    if (c === '\\') {
      const end = source[i + 1] === 'Q' ? source.indexOf('\\E', i + 2) : -1;
      if (source[i + 1] === 'Q') {
        branch += ` ${source.slice(i + 2, end < 0 ? undefined : end)} `;
        i = end < 0 ? source.length : end + 1;
      } else {
        branch += ' ';
        i++;
      }
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      branches.push(branch);
      branch = '';
      continue;
    }
    branch += /[A-Za-z0-9_]/.test(c) ? c : ' ';
  }
  branches.push(branch);
  // Flags (`(?i)`) and group names leave letters of their own: at worst they hide more.
  const found = branches.map((b) => b.match(/[A-Za-z0-9_]{3,}/g) ?? []);
  if (found.some((w) => w.length === 0)) return /(?:)/;
  return new RegExp([...new Set(found.flat())].map(escapeLiteral).join('|'), 'i');
}

/**
 * Own rules read so far, by their source: an application's records, and a migration's 100,000 stored
 * environments, repeat a few (each was a character scan and a RegExp to compile). Cleared past OWN_RULES_KEPT.
 */
const ownRules = new Map<string, { rule: RegExp; note: string | null }>();
const OWN_RULES_KEPT = 256;

/** The application's own rule as JavaScript reads it, and what to say when it could only be approximated (null: translated as it is). */
function ownRule(source: string): { rule: RegExp; note: string | null } {
  let read = ownRules.get(source);
  if (read === undefined) {
    if (ownRules.size >= OWN_RULES_KEPT) ownRules.clear();
    ownRules.set(source, (read = readOwnRule(source)));
  }
  return read;
}

function readOwnRule(source: string): { rule: RegExp; note: string | null } {
  const rule = javaRegex(source);
  if (rule !== undefined) return { rule, note: null };
  const words = wordsRule(source);
  const all = words.source === '(?:)';
  return {
    rule: words,
    note: `spark.redaction.regex uses Java regex syntax this reader cannot translate: ${all ? 'every property value is hidden' : `every key or value holding any of its words (${words.source.split('|').slice(0, 10).join(', ')}) is hidden`}, more than Spark hides`,
  };
}

const DEFAULT_RULE = javaRegex(SPARK_REDACTION_DEFAULT)!;
/** What a key is hidden by whatever the application's own rule: Spark's default or a credential key, in one search. */
const KEY_RULE = new RegExp(`${DEFAULT_RULE.source}|${CREDENTIAL_KEY.source}`, 'i');

/** Whether property `key` names a secret whatever its value (KEY_RULE, its last word, or an environment variable's name). */
export function secretPropertyKey(key: string): boolean {
  if (KEY_RULE.test(key) || secretName(key)) return true;
  const variable = environmentVariableOf(key);
  return variable !== undefined && secretName(variable, 'any');
}

/** The property an application's own redaction rule is read from (Spark's `spark.redaction.regex`). */
export const OWN_RULE_KEY = 'spark.redaction.regex';

/**
 * `props` with every secret replaced by REDACTED: a key or value that Spark's redaction rule matches
 * (Spark's default, and the application's own `spark.redaction.regex`, translated from Java's
 * syntax, or approximated by its words when it cannot be: an own rule adds to what is hidden, it
 * never shows a password the default hides), every credential key (secretPropertyKey); and in every other
 * value, each secret it carries (maskSecretText: a URL's password, `-Dfoo.pwd=…`, `;pwd=…`, a token).
 * When the own rule had to be approximated, `found` (if given) gets a warning saying so.
 * Also what a storage migration runs over a stored environment: masking one twice changes nothing.
 */
export function redactSecrets(props: Readonly<Record<string, string>>, found?: Pick<RecordFindings, 'problems' | 'where' | 'propsAt'>): Record<string, string> {
  const custom = ownRuleOf(props[OWN_RULE_KEY]);
  if (custom?.note && found !== undefined) found.problems.push({ severity: 'warning', code: 'redaction-regex', message: custom.note, ...(found.propsAt ?? { file: found.where }) });
  const out: Record<string, string> = {};
  for (const k of Object.keys(props)) out[k] = redacted(k, props[k]!, custom?.rule);
  return out;
}

/**
 * One property as an environment holding it alone stores it (redactSecrets): its key and value
 * judged by the rules every environment has, and `spark.redaction.regex` by the rule it holds too.
 */
export function redactedProperty(key: string, value: string): string {
  return redacted(key, value, key === OWN_RULE_KEY ? ownRuleOf(value)?.rule : undefined);
}

/**
 * A value as redactSecrets stores it under a key that names no secret, in an environment with no
 * own rule: REDACTED when Spark's default rule matches it, else with each secret it carries masked.
 */
export function redactedValue(value: string): string {
  return DEFAULT_RULE.test(value) ? REDACTED : maskSecretText(value);
}

/** An environment's own rule, read from its `spark.redaction.regex`; undefined for none, or for one stored hidden (it names `secret`…: it was applied when it was stored). */
const ownRuleOf = (source: string | undefined): { rule: RegExp; note: string | null } | undefined => (source === undefined || source === REDACTED ? undefined : ownRule(source));

/** Property `k` with value `v` as an environment whose own rule is `rule` stores it. */
const redacted = (k: string, v: string, rule: RegExp | undefined): string => (secretPropertyKey(k) || (rule !== undefined && (rule.test(k) || rule.test(v))) ? REDACTED : redactedValue(v));

/** A record's tags with every secret in their values masked (maskSecretText): a platform's error text may quote a JDBC URL with its password. */
export function redactTags(tags: Record<string, string>): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const k of Object.keys(tags)) {
    const v = tags[k]!;
    const masked = maskSecretText(v);
    if (masked !== v) (out ??= { ...tags })[k] = masked;
  }
  return out ?? tags;
}

/**
 * maskUrlPasswords' rule for PostgreSQL's regexp_replace (flags 'gi'): the migration of texts stored
 * before it (postgres/migrations.ts). The password runs to the last `@` before white space or a
 * quote, as maskUrlPasswords' does (it also stops at the next `scheme://`; this one hides more).
 */
export const URL_PASSWORD_PG = `(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*://[^[:space:]:"<>]*:)[^[:space:]"<>]*@`;

export type Severity = 'error' | 'warning' | 'info';

/** Something wrong with the input, with where (file, 1-based line) and why. Never thrown; collected. */
export interface Problem {
  severity: Severity;
  code: string;
  message: string;
  file?: string;
  /** 1-based, as editors count (the Problems panel's Ln and Col). */
  line?: number;
  column?: number;
  field?: string;
}

/** The record's times, counts and sizes: where validateRecord replaces a value the schema refuses. */
const VALUE_FIELDS: ReadonlySet<string> = new Set<keyof SparkAppRecord>(['submit_time', 'start_time', 'end_time', 'duration_ms', 'executor_cores', 'executor_memory_mb', 'num_executors', 'driver_memory_mb', ...SPARK_METRIC_FIELDS]);
type ValueField = 'submit_time' | 'start_time' | 'end_time' | 'duration_ms' | 'executor_cores' | 'executor_memory_mb' | 'num_executors' | 'driver_memory_mb' | SparkMetricField;

/**
 * Checks a record against the schema and the record's own invariants (DESIGN.md §2, issue 2):
 * required fields present, duration >= 0, at least one executor, failed <= total for tasks and
 * stages. Failures come back as problems attached to the record, never thrown.
 *
 * A time, count or size the schema refuses (Infinity, a fraction, a negative count, a year past
 * 9999) is then replaced, so no source stores a value that cannot be true (issue 13): by null where
 * the field may be null, else by 0, and flagged `invalid:<field>`. Sources check what they read
 * first, with the place it came from; this is the net under all of them.
 */
export function validateRecord(record: SparkAppRecord, file?: string): Problem[] {
  const problems: Problem[] = [];
  const parsed = plainlyValid(record) ? null : sparkAppRecordSchema.safeParse(record);
  if (parsed !== null && !parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push({
        severity: 'error',
        code: 'record-invalid',
        field: issue.path.join('.'),
        message: `field ${issue.path.join('.') || '(record)'}: ${issue.message}`,
        file,
      });
    }
  }
  const rule = (ok: boolean, field: string, message: string): void => {
    if (!ok) problems.push({ severity: 'warning', code: 'record-inconsistent', field, message, file });
  };
  rule(record.num_executors === null || record.num_executors >= 1, 'num_executors', 'no executor was ever added');
  rule(record.failed_tasks <= record.total_tasks, 'failed_tasks', `failed_tasks ${record.failed_tasks} > total_tasks ${record.total_tasks}`);
  rule(record.failed_stages <= record.total_stages, 'failed_stages', `failed_stages ${record.failed_stages} > total_stages ${record.total_stages}`);
  rule(record.duration_ms === null || record.duration_ms >= 0, 'duration_ms', 'application ends before it starts');
  if (record.start_time === null && !record.quality.includes(Quality.invalid('start_time'))) {
    // A platform's record (an EMR step, a Databricks run, a Dataproc job) has no event log to name; a
    // queued one has simply not started yet (a review: a PENDING Dataproc job was warned about).
    const platform = record.quality.includes(Quality.platformLevel);
    if (!(platform && record.status === 'running')) rule(false, 'start_time', platform ? 'start time unknown: the platform gave none' : 'no SparkListenerApplicationStart: start time unknown');
  }
  if (parsed !== null && !parsed.success) replaceRefused(record, parsed.error.issues);
  return problems;
}

/**
 * Whether `record` is one the schema accepts, told by plain checks that accept nothing the schema
 * refuses (some of what it accepts they leave to it: zod then says why, as it always did). zod's
 * parse of a whole record, its environment's hundreds of properties included, cost 50 us: a third of
 * what a 67 KB log costs the engine besides its lines (issue #12: 10,000 small logs).
 */
function plainlyValid(r: SparkAppRecord): boolean {
  return (
    plainObject(r) &&
    typeof r.app_id === 'string' &&
    r.app_id.length > 0 &&
    (r.attempt_id === null || (typeof r.attempt_id === 'string' && r.attempt_id.length > 0)) &&
    stringOrNull(r.app_name) &&
    stringOrNull(r.user) &&
    isoUtcOrNull(r.submit_time) &&
    isoUtcOrNull(r.start_time) &&
    isoUtcOrNull(r.end_time) &&
    countOrNull(r.duration_ms) &&
    stringOrNull(r.spark_version) &&
    countOrNull(r.executor_cores) &&
    countOrNull(r.executor_memory_mb) &&
    countOrNull(r.num_executors) &&
    countOrNull(r.driver_memory_mb) &&
    isCount(r.total_tasks) &&
    isCount(r.failed_tasks) &&
    isCount(r.total_stages) &&
    isCount(r.failed_stages) &&
    countOrNull(r.cpu_time_ms) &&
    isCount(r.input_bytes) &&
    isCount(r.output_bytes) &&
    isCount(r.shuffle_read_bytes) &&
    isCount(r.shuffle_write_bytes) &&
    isCount(r.memory_spilled_bytes) &&
    isCount(r.disk_spilled_bytes) &&
    stringRecord(r.tags) &&
    stringRecord(r.environment) &&
    typeof r.source === 'string' &&
    (STATUSES as readonly unknown[]).includes(r.status) &&
    stringArray(r.quality)
  );
}

function isCount(v: unknown): boolean {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function countOrNull(v: unknown): boolean {
  return v === null || isCount(v);
}

function stringOrNull(v: unknown): boolean {
  return v === null || typeof v === 'string';
}

/** Days in each month of a common year. */
const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Null, or the form toISOString gives a time in the years 0-9999 (`2024-02-29T23:59:59.123Z`) of a
 * day the Gregorian calendar has, as the schema's datetime pattern takes it (leap years and all).
 */
function isoUtcOrNull(v: unknown): boolean {
  if (v === null) return true;
  if (typeof v !== 'string' || v.length !== 24) return false;
  for (let i = 0; i < 24; i++) {
    const c = v.charCodeAt(i);
    const sep = i === 4 || i === 7 ? 0x2d : i === 10 ? 0x54 : i === 13 || i === 16 ? 0x3a : i === 19 ? 0x2e : i === 23 ? 0x5a : -1;
    if (sep === -1 ? c < 0x30 || c > 0x39 : c !== sep) return false;
  }
  // Two digits' number (checked above), without a string of them: three times a record (issue #12).
  const n = (at: number): number => (v.charCodeAt(at) - 0x30) * 10 + v.charCodeAt(at + 1) - 0x30;
  const year = n(0) * 100 + n(2);
  const month = n(5);
  const day = n(8);
  if (month < 1 || month > 12 || day < 1 || n(11) > 23 || n(14) > 59 || n(17) > 59) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return day <= (month === 2 && leap ? 29 : MONTH_DAYS[month - 1]!);
}

/** An object literal's kind of object (what zod's record and object take): no symbol keys, no own `constructor`. */
function plainObject(v: unknown): v is object {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !Object.prototype.hasOwnProperty.call(v, 'constructor') && Object.getOwnPropertySymbols(v).length === 0;
}

/** A plain object whose every enumerable property (own or inherited) is a string. */
function stringRecord(v: unknown): boolean {
  if (!plainObject(v)) return false;
  const o = v as Record<string, unknown>;
  for (const k in o) if (typeof o[k] !== 'string') return false;
  return true;
}

function stringArray(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string') return false;
  return true;
}

function replaceRefused(record: SparkAppRecord, issues: readonly { path: readonly PropertyKey[] }[]): void {
  const flags: string[] = [];
  for (const { path } of issues) {
    const field = path[0];
    if (typeof field !== 'string' || !VALUE_FIELDS.has(field)) continue;
    const f = field as ValueField;
    const nullable = sparkAppRecordSchema.shape[f].safeParse(null).success;
    (record as Record<ValueField, number | string | null>)[f] = nullable ? null : 0;
    flags.push(Quality.invalid(f));
  }
  if (flags.length > 0) record.quality = [...new Set([...record.quality, ...flags])].sort();
}

/** `file:line: severity [code] message`, the one-line form the CLI prints and runs store. */
/**
 * A problem as one line, the shape `validate` prints findings in (analysis/findings.ts formatFinding):
 * `file:line:column: severity code message`, 1-based; `info` reads `information` there too.
 */
export function formatProblem(p: Problem): string {
  const where = p.file ? `${p.file}${p.line !== undefined ? `:${p.line}${p.column !== undefined ? `:${p.column}` : ''}` : ''}: ` : '';
  return `${where}${p.severity === 'info' ? 'information' : p.severity} ${p.code} ${p.message}`;
}

/** The collectors' `since` / `user` filter: `since` compares the end time, or the start for running apps (one not started yet passes). */
export function matchesFilter(record: SparkAppRecord, filter: { since?: Date; user?: string }): boolean {
  if (filter.user !== undefined && record.user !== filter.user) return false;
  if (filter.since !== undefined) {
    const t = record.end_time ?? record.start_time;
    // A running record with no time yet (a queued job) is of now: kept (a review: any --since dropped it).
    if (t === null) return record.status === 'running';
    if (Date.parse(t) < filter.since.getTime()) return false;
  }
  return true;
}

/**
 * Spark properties as text, from key-value pairs as an event log or the History Server gives them.
 * A key or value that is an object or array is left out (String() of one nested 100,000 deep
 * overflows the stack, and its text would mean nothing), and `leftOut` says so in words, once.
 */
export function textProperties(entries: Iterable<readonly [unknown, unknown]>): { properties: Record<string, string>; leftOut: string | null } {
  const properties: Record<string, string> = {};
  let first: string | undefined;
  let count = 0;
  for (const [k, v] of entries) {
    const key = propertyText(k);
    const text = propertyText(v);
    if (key !== null && text !== null) properties[key] = text;
    else {
      first ??= key ?? '(a nested key)';
      count++;
    }
  }
  const leftOut = count === 0 ? null : `${count} Spark ${count === 1 ? 'property is' : 'properties are'} an object or array, not text (first: ${JSON.stringify((first ?? '').slice(0, 80))}): left out of environment`;
  return { properties, leftOut };
}

/**
 * A property as text, the way Spark writes every one; numbers, booleans and null from other writers
 * as their JSON text. Null for an object or array: no Spark version writes one, and String() of a
 * deeply nested array recurses until the stack overflows (issue 13).
 */
function propertyText(v: unknown): string | null {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' || v === null ? String(v) : null;
}
