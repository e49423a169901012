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
 * A line JSON.parse refused: the 1-based column where it stopped (the line's end for "unexpected
 * end") and the message, without V8's "in JSON at position …" (the column says it, counted as
 * editors count).
 */
export function malformedJson(text: string, err: unknown): { code: typeof MALFORMED_JSON; column: number; message: string } {
  const raw = err instanceof Error ? err.message : String(err);
  const at = /position (\d+)/.exec(raw);
  const column = (at ? Math.min(Number(at[1]), text.length) : /end of JSON/.test(raw) ? text.length : 0) + 1;
  const why = BINARY.test(text.slice(0, 256)) ? 'binary or invalid UTF-8 bytes: is this really an uncompressed event log?' : raw.replace(/ in JSON at position \d+.*$/s, '');
  return { code: MALFORMED_JSON, column, message: `Malformed JSON at column ${column} (${why}). Collection skips this line: fix or remove it.` };
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
