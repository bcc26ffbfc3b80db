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
