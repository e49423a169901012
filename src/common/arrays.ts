/**
 * Array helpers for lists of any length. `target.push(...items)` and `Math.max(...values)` pass every
 * item as an argument, and past ~125,000 of them the call overflows the stack ("Maximum call stack
 * size exceeded"): a 2 GB Spark streaming log has ~150,000 stages, an upsert can store more records.
 */

/** Appends `items` to `target`, one at a time. */
export function pushAll<T>(target: T[], items: Iterable<T>): void {
  for (const item of items) target.push(item);
}

/** The largest of `values` (numbers, no NaN); -Infinity for none, as Math.max(). */
export function maxOf(values: Iterable<number>): number {
  let max = -Infinity;
  for (const v of values) if (v > max) max = v;
  return max;
}

/** The smallest of `values` (numbers, no NaN); Infinity for none, as Math.min(). */
export function minOf(values: Iterable<number>): number {
  let min = Infinity;
  for (const v of values) if (v < min) min = v;
  return min;
}
