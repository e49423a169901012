/** Small statistics shared by the regression check and the Trend view. Pure. */

/** The median of a non-empty array, which it sorts in place (the mean of the middle two for an even count). */
export function medianSorting(values: number[]): number {
  values.sort((a, b) => a - b);
  const mid = values.length >> 1;
  return values.length % 2 === 1 ? values[mid]! : (values[mid - 1]! + values[mid]!) / 2;
}

/** The median of `values` (left as they are), or null for none. */
export function median(values: readonly number[]): number | null {
  return values.length === 0 ? null : medianSorting([...values]);
}
