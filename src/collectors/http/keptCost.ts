/**
 * What a value kept from a large answer costs, in bytes of V8 memory: the one table by which both
 * what a list keeps (jsonList.ts KeptMemory, each entry as it is validated) and what the pruned
 * token reader keeps (jsonStream.ts PrunedJsonReader, a large answer or list entry as it is read) are
 * held to their share of `max_response_mb`. One table, so that a large list entry counts the same
 * in the reader (against the room the list has left) as in the list once it is whole.
 *
 * A History Server stage row (record.ts stageSchema) counts ~400 bytes by it and measured 392 (heap
 * after GC, 100,000 rows); its JSON text is ~650 bytes, its whole entry in the answer ~3 KB.
 */
export const KEPT_COST = {
  /** An object, besides its properties. */
  object: 24,
  /** An array, besides its elements. */
  array: 16,
  /** A property or element: a number, boolean or null lives in it (one alone: one slot). */
  slot: 8,
  /** A string, besides its characters (one each). */
  string: 16,
  /** A property's name, besides its characters: once per list or answer (V8 shares the names of properties). */
  key: 16,
  /**
   * An object or array the reader is still building, besides the value: its frame on the reader's
   * stack (with the container, ~150 bytes while open, measured with `[[[[…`). Counted while it is
   * open, so that a kept value that only opens is refused at the budget (d44ab92: 16 MB of `[`
   * took 2.2 GB while 18 bytes were counted).
   */
  openFrame: 128,
} as const;
