/** One answer shared by every call for `ttlMs`, so frequent scrapes cost the dependency one call. */
export function cachedFor<T>(ttlMs: number, load: () => Promise<T>): () => Promise<T> {
  let cached: { value: Promise<T>; at: number } | undefined;
  return () => {
    if (!cached || performance.now() - cached.at >= ttlMs) {
      const entry = { value: load(), at: performance.now() };
      cached = entry;
      // A failure is not kept: the next scrape asks again.
      entry.value.catch(() => {
        if (cached === entry) cached = undefined;
      });
    }
    return cached.value;
  };
}
