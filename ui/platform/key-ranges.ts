// IndexedDB key ranges for the client core's Store (ordered prefix listing, shared/client/store.ts):
// both clients' stores list by them, so a prefix means the same keys in each as in MemoryStore.

/** The keys that start with `prefix`: from the prefix up to, not including, the first string after all of them. */
export function prefixRange(prefix: string): IDBKeyRange | undefined {
  // That string: the prefix without its trailing U+FFFF units, its last unit one higher.
  const stem = prefix.replace(/\uffff+$/, "");
  if (stem === "") return prefix === "" ? undefined : IDBKeyRange.lowerBound(prefix);
  const after = stem.slice(0, -1) + String.fromCharCode(stem.charCodeAt(stem.length - 1) + 1);
  return IDBKeyRange.bound(prefix, after, false, true);
}

/** The keys that start with `prefix` and sort before `before` (all of them when absent); null when none can. */
export function prefixRangeBefore(prefix: string, before: string | undefined): IDBKeyRange | undefined | null {
  const whole = prefixRange(prefix);
  if (before === undefined) return whole;
  // IDBKeyRange refuses a range whose end is not after its start.
  if (before <= prefix) return null;
  const upper = whole?.upper as string | undefined;
  return IDBKeyRange.bound(prefix, upper !== undefined && upper < before ? upper : before, false, true);
}

/** What lastKeysRange needs of an object store (idb's wrapper of one). */
interface KeyCursorSource {
  openKeyCursor(range: IDBKeyRange | undefined, direction: "prev"): Promise<{ key: IDBValidKey; advance(count: number): Promise<{ key: IDBValidKey } | null> } | null>;
}

/**
 * The part of `range` holding its last `limit` keys (null when it holds none): found with one step
 * of a key cursor back over them, so the page is then read by getAll in one request, not by a
 * cursor step per entry (each a round trip to the browser's IndexedDB).
 */
export async function lastKeysRange(store: KeyCursorSource, range: IDBKeyRange | undefined, limit: number): Promise<IDBKeyRange | undefined | null> {
  const last = await store.openKeyCursor(range, "prev");
  if (!last) return null;
  const first = limit > 1 ? await last.advance(limit - 1) : last;
  if (!first) return range;
  return range?.upper === undefined ? IDBKeyRange.lowerBound(first.key) : IDBKeyRange.bound(first.key, range.upper, false, range.upperOpen);
}
