/** Bounded-concurrency fetching over pages of items, for the API collector runner (runner.ts). */

export type Settled<T, R> = { item: T; result: R } | { item: T; error: Error };

/**
 * Runs `fetch` over the items of `pages` (an async iterable of arrays, e.g. API pages), at most
 * `concurrency` at once, yielding each outcome as it completes (a rejection is an outcome, not a
 * throw). Errors from `pages` itself propagate. Stops taking new items once `stop()` says so.
 */
export async function* pooled<T, R>(
  pages: AsyncIterable<T[]>,
  fetch: (item: T) => Promise<R>,
  concurrency: number,
  stop: () => boolean = () => false,
): AsyncGenerator<Settled<T, R>> {
  const inFlight = new Map<number, Promise<{ key: number; out: Settled<T, R> }>>();
  let key = 0;
  const settle = async (): Promise<Settled<T, R>> => {
    const done = await Promise.race(inFlight.values());
    inFlight.delete(done.key);
    return done.out;
  };
  for await (const page of pages) {
    for (const item of page) {
      if (stop()) break;
      const k = key++;
      inFlight.set(
        k,
        fetch(item).then(
          (result) => ({ key: k, out: { item, result } }),
          (err: unknown) => ({ key: k, out: { item, error: err instanceof Error ? err : new Error(String(err)) } }),
        ),
      );
      while (inFlight.size >= Math.max(1, concurrency)) yield await settle();
    }
    if (stop()) break;
  }
  while (inFlight.size > 0) yield await settle();
}
