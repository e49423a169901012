/** Reads shared by several items of an API collection (a cluster many runs ran on), each done once. */

/**
 * `read`, called once per key however many items ask for it; a failure is kept too, and told to
 * each caller that awaits it. With `keep`, only that many of the most recently asked keys are held
 * (parsed event logs are big): a key asked again after it was let go is read again.
 */
export function onceEach<V>(read: (key: string) => Promise<V>, keep = Infinity): (key: string) => Promise<V> {
  const cache = new Map<string, Promise<V>>();
  return (key) => {
    let p = cache.get(key);
    if (p !== undefined) cache.delete(key);
    else {
      p = read(key);
      // Marked handled here: a failure is reported by each caller that awaits it.
      p.catch(() => undefined);
    }
    // Most recently asked last: a Map iterates oldest first.
    cache.set(key, p);
    for (const old of cache.keys()) {
      if (cache.size <= keep) break;
      cache.delete(old);
    }
    return p;
  };
}
