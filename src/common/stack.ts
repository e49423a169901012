/**
 * Whether `err` is V8 running out of stack ("RangeError: Maximum call stack size exceeded"): what
 * reading a value nested thousands of levels deep ends in (a YAML config, a Spark property that is
 * an array of arrays), as opposed to any other error, which is a bug and is thrown on (issue 13).
 */
export function isStackOverflow(err: unknown): boolean {
  return err instanceof Error && /Maximum call stack size exceeded/.test(err.message);
}
