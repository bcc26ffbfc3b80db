// Both clients' IndexedDB stores find a message by its id through an index of the ids each stored
// message carries in the clear (shared/client/messages.ts, messageIdsOf), not through an entry per
// id: a catch-up of 10,000 messages made 10,000 puts fewer, each ~45 µs of the page's thread.
import { INDEX_PREFIX } from "../../shared/client/messages.js";
import { prefixRange } from "./key-ranges.js";

/** The name of the index, on the `ids` of the values of the store's entries (multiEntry: one row an id). */
export const MESSAGE_IDS = "ids";

/** The id an index entry's key names (`msgid/{id}`), or undefined for any other key (one IndexedDB refuses, too). */
export function indexedId(key: unknown): string | undefined {
  return typeof key === "string" && key.startsWith(INDEX_PREFIX) ? key.slice(INDEX_PREFIX.length) : undefined;
}

/**
 * In a database's upgrade (its versionchange transaction): makes the index on `store` and moves
 * each index entry an earlier version kept into the message it names, as `withIds(value, ids)`
 * gives it; then the entries go. `targetOf` reads an entry's value: the message's key, or undefined
 * for one that is not (kept by no version). Requests only, no promise between them, so the
 * transaction stays open until the last is done.
 */
export function moveIndexEntries(store: IDBObjectStore, targetOf: (value: unknown) => string | undefined, withIds: (value: unknown, ids: string[]) => unknown): void {
  store.createIndex(MESSAGE_IDS, "ids", { multiEntry: true });
  const range = prefixRange(INDEX_PREFIX)!;
  const keys = store.getAllKeys(range);
  const values = store.getAll(range);
  values.onsuccess = () => {
    const idsOf = new Map<string, string[]>();
    values.result.forEach((value, i) => {
      const target = targetOf(value);
      if (target === undefined) return;
      idsOf.set(target, [...(idsOf.get(target) ?? []), indexedId(keys.result[i] as string)!]);
    });
    for (const [target, ids] of idsOf) {
      const message = store.get(target);
      message.onsuccess = () => {
        if (message.result !== undefined) store.put(withIds(message.result, ids), target);
      };
    }
    store.delete(range);
  };
}

/**
 * Asks `store` for each of `keys` in its transaction, without a promise per request: an index
 * entry of the index (what it gives is the message's key), any other key of the store (what it
 * gives is the stored value, for the caller to read).
 */
export function requestEach(store: IDBObjectStore, keys: readonly string[]): Array<{ indexed: boolean; request: IDBRequest }> {
  const ids = store.index(MESSAGE_IDS);
  return keys.map((key) => {
    const id = indexedId(key);
    return id === undefined ? { indexed: false, request: store.get(key) } : { indexed: true, request: ids.getKey(id) };
  });
}
