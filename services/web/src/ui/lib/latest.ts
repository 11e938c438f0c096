/**
 * Loads only the newest of overlapping reloads: each call supersedes the ones still in flight, so
 * an older answer arriving late never overwrites a newer one.
 */
export function latest<T>(
  load: () => Promise<T>,
  apply: (v: T) => void,
  fail: (e: unknown) => void,
): () => Promise<void> {
  let generation = 0;
  return async (): Promise<void> => {
    const mine = ++generation;
    try {
      const v = await load();
      if (mine === generation) apply(v);
    } catch (e) {
      if (mine === generation) fail(e);
    }
  };
}
