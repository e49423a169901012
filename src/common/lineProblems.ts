/**
 * One catalogue of what can be wrong with a line of an event log (issue 16): its code, its message
 * and its 1-based column, the same in `validate` and the editor's diagnostics (the analyzer) as in
 * `collect`, `runs` and the Output channel (the engine). Both build their line problems here, so the
 * same bad line reads the same everywhere. Pure.
 */

export const MALFORMED_JSON = 'malformed-json';
export const MISSING_EVENT = 'missing-event';
export const TRUNCATED_LINE = 'truncated-line';

/** Text that is not JSON text at all: control characters, or bytes that were not UTF-8 (decoded as U+FFFD). */
const BINARY = /[\u0000-\u0008\u000e-\u001f\ufffd]/;

/**
 * Where a line that is not JSON first goes wrong, and why, in words that quote none of it: a line
 * may be an EnvironmentUpdate holding a secret, and this message is printed, logged and stored
 * (V8's own messages quote up to ten characters of the line, Node 20). `at` is a 0-based UTF-16
 * index, as editors count columns. Run only on lines JSON.parse refused: one pass, no recursion (a
 * line nested thousands deep is scanned like any other). Null when it finds no fault.
 */
export function jsonFault(text: string): { at: number; why: string } | null {
  const n = text.length;
  const closers: number[] = [];
  let i = 0;
  const fault = (at: number, why: string): { at: number; why: string } => ({ at, why: at >= n ? `the line ends too soon: ${why}` : why });
  const skipSpace = (): void => {
    for (let c = text.charCodeAt(i); c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d; c = text.charCodeAt(++i));
  };
  const digits = (): number => {
    const from = i;
    for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i));
    return i - from;
  };
  const string = (): { at: number; why: string } | null => {
    const open = i++;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else if (e === undefined) break;
        else return fault(i, 'a backslash that starts no valid escape inside a string');
      } else if (c < 0x20) return fault(i, 'a control character inside a string (it must be written as an escape)');
      else i++;
    }
    return fault(open, 'a string that is never closed (no closing quote on this line)');
  };
  const key = (): { at: number; why: string } | null => {
    skipSpace();
    if (text.charCodeAt(i) !== 0x22) return fault(i, 'expected a property name in double quotes');
    const bad = string();
    if (bad) return bad;
    skipSpace();
    if (text.charCodeAt(i) !== 0x3a) return fault(i, "expected ':' after a property name");
    i++;
    return null;
  };
  for (;;) {
    // A value.
    skipSpace();
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      i++;
      skipSpace();
      const close = c === 0x7b ? 0x7d : 0x5d;
      if (text.charCodeAt(i) !== close) {
        closers.push(close);
        if (c === 0x7b) {
          const bad = key();
          if (bad) return bad;
        }
        continue;
      }
      i++;
    } else if (c === 0x22) {
      const bad = string();
      if (bad) return bad;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const start = i;
      if (c === 0x2d) i++;
      if (text.charCodeAt(i) === 0x30) i++;
      else if (digits() === 0) return fault(i, 'a number with no digits');
      if (text.charCodeAt(i) === 0x2e) {
        i++;
        if (digits() === 0) return fault(i, 'a number with no digits after its decimal point');
      }
      if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45) {
        i++;
        if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i++;
        if (digits() === 0) return fault(i, 'a number with no digits in its exponent');
      }
      if (i === start) return fault(i, 'expected a value');
    } else {
      const word = ['true', 'false', 'null'].find((w) => text.startsWith(w, i));
      if (word === undefined) return fault(i, 'expected a value (an object, array, string, number, true, false or null)');
      i += word.length;
    }
    // After a value: close what it ends, or go on to the next member.
    for (;;) {
      skipSpace();
      const close = closers.at(-1);
      if (close === undefined) return i < n ? fault(i, 'more text after the end of the JSON value') : null;
      const d = text.charCodeAt(i);
      if (d === close) {
        i++;
        closers.pop();
        continue;
      }
      if (d !== 0x2c) return fault(i, close === 0x7d ? "expected ',' or '}' after a property value" : "expected ',' or ']' after an array element");
      i++;
      if (close === 0x7d) {
        const bad = key();
        if (bad) return bad;
      }
      break;
    }
  }
}

/**
 * A line JSON.parse refused: the 1-based column of the fault (jsonFault) and a message that says
 * why without quoting the line (it may hold a secret; V8's own message would quote it).
 * `readAnyway`: collection's byte reader took the values it needs from this line without parsing it
 * (replay.ts reads task ends and a few other events so), so the message must not say it is skipped.
 */
export function malformedJson(text: string, readAnyway = false): { code: typeof MALFORMED_JSON; column: number; message: string } {
  const binary = BINARY.test(text.slice(0, 256));
  const found = jsonFault(text);
  const column = (found?.at ?? 0) + 1;
  const why = binary ? 'binary or invalid UTF-8 bytes: is this really an uncompressed event log?' : (found?.why ?? 'not valid JSON');
  const what = readAnyway
    ? "Collection does not check all of this line's JSON (it tells the event by its first bytes and reads only what it needs), so it reads the line and reports nothing; other tools refuse it: fix it."
    : 'Collection skips this line: fix or remove it.';
  return { code: MALFORMED_JSON, column, message: `Malformed JSON at column ${column} (${why}). ${what}` };
}

export const MISSING_EVENT_MESSAGE = 'This line is JSON but has no "Event" field, so it is not a Spark listener event; collection skips it.';

/** The last line, cut off (no newline, not complete JSON): normal while Spark still writes the log. */
export function truncatedLineMessage(stillWriting: boolean): string {
  return stillWriting
    ? 'The last line is incomplete: normal while Spark is still writing this log; collection ignores it.'
    : 'The last line is cut off (no newline, not complete JSON): the file was truncated. Collection ignores it.';
}

export const NESTED_TOO_DEEP = 'nested-too-deep';

/** An event whose values overflowed the stack while being read (nested thousands of levels deep). */
export function nestedTooDeepMessage(event: string, err: unknown): string {
  return `${event} could not be read (${err instanceof Error ? err.message : String(err)}): a value is nested too deeply. Collection skips this line.`;
}

/** More line problems in one file than are listed. */
export function moreNotListed(n: number): string {
  return `${n} more malformed ${n === 1 ? 'line' : 'lines'} not listed`;
}

/**
 * How bad a codec's failure is, for collection (readLog.ts) and the analyzer alike: damage is an
 * error; a file cut off is an error in a part other parts follow, a warning in a log's last part, and
 * information only while the log is still being written.
 */
export function codecFailureSeverity(truncated: boolean, lastPart: boolean, stillWriting: boolean): 'error' | 'warning' | 'info' {
  return !truncated || !lastPart ? 'error' : stillWriting ? 'info' : 'warning';
}
