import type { Store } from "../../../shared/client/store.js";
import { unwrap } from "idb";
import { isExpiryEntry, messageIdsOf } from "../../../shared/client/messages.js";
import type { Database, SealedValue, StoredValue } from "./database.js";
import { lastKeysRange, prefixRange, prefixRangeBefore } from "../../../ui/platform/key-ranges.js";
import { indexedId, MESSAGE_IDS, requestEach } from "../../../ui/platform/message-index.js";

/**
 * The client core's Store on IndexedDB. Every value is JSON sealed with AES-GCM under the
 * vault's data key; keys stay clear so ordered prefix listing works with an IDB key range, and
 * so an expiry entry, whose value is another key (isExpiryEntry), is kept as it is. A message's
 * index entries (`msgid/{id}`) are not kept: each sealed message carries its ids in the clear, and
 * reading an entry asks the index on them (ui/platform/message-index.ts); listings do not show them.
 */
export class IdbStore implements Store {
  readonly #db: Database;
  readonly #key: CryptoKey;

  constructor(db: Database, key: CryptoKey) {
    this.#db = db;
    this.#key = key;
  }

  async #seal(key: string, value: unknown): Promise<StoredValue> {
    if (isExpiryEntry(key, value)) return value;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, this.#key, new TextEncoder().encode(JSON.stringify(value)));
    const ids = messageIdsOf(key, value);
    return ids ? { iv, data, ids } : { iv, data };
  }

  async #open<T>(key: string, stored: StoredValue): Promise<T> {
    if (typeof stored === "string") {
      if (!isExpiryEntry(key, stored)) throw new Error(`The stored value of ${key} is not sealed.`);
      return stored as T;
    }
    const sealed: SealedValue = stored;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as BufferSource }, this.#key, sealed.data);
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const id = indexedId(key);
    if (id !== undefined) return (await this.#db.getKeyFromIndex("entries", MESSAGE_IDS, id)) as T | undefined;
    const sealed = await this.#db.get("entries", key);
    return sealed === undefined ? undefined : this.#open<T>(key, sealed);
  }

  async put(key: string, value: unknown): Promise<void> {
    // An index entry is the ids of the message it names, written with it.
    if (indexedId(key) !== undefined) return;
    // Sealed before the transaction opens: IDB transactions close if they wait on other promises.
    const sealed = await this.#seal(key, value);
    await this.#db.put("entries", sealed, key);
  }

  async delete(key: string): Promise<void> {
    // An index entry goes with the message, or with the id it no longer has.
    if (indexedId(key) !== undefined) return;
    await this.#db.delete("entries", key);
  }

  /** Many values in one transaction (what a mailbox frame's batch reads ahead); undefined where absent. */
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const tx = this.#db.transaction("entries", "readonly");
    // Straight to IndexedDB, as putMany writes: a frame looks up ~500 keys, most of them absent.
    const requests = requestEach(unwrap(tx.store), keys);
    await tx.done;
    return Promise.all(requests.map(({ indexed, request: { result } }, i) => (indexed || result === undefined ? result : this.#open(keys[i]!, result as StoredValue))));
  }

  /** Every write in one transaction, all or none (a mailbox frame's, see StoreBatch); undefined deletes. */
  async putMany(entries: Array<[string, unknown]>): Promise<void> {
    const writes = entries.filter(([key]) => indexedId(key) === undefined);
    const sealed = await Promise.all(writes.map(async ([key, value]) => [key, value === undefined ? undefined : await this.#seal(key, value)] as const));
    const tx = this.#db.transaction("entries", "readwrite");
    // Straight to IndexedDB, without a promise and two listeners per request (a frame writes ~500):
    // any request that fails aborts the transaction, and `done` rejects.
    const store = unwrap(tx.store);
    for (const [key, value] of sealed) {
      if (value === undefined) store.delete(key);
      else store.put(value, key);
    }
    await tx.done;
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    const range = prefixRange(prefix);
    const tx = this.#db.transaction("entries", "readonly");
    const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range), tx.done]);
    return Promise.all(values.map(async (sealed, i): Promise<[string, T]> => [keys[i]!, await this.#open<T>(keys[i]!, sealed)]));
  }

  /** Finds where the page starts from the end of the range, so only the page is read and opened. */
  async listLast<T>(prefix: string, limit: number, before?: string): Promise<Array<[string, T]>> {
    const range = prefixRangeBefore(prefix, before);
    if (limit <= 0 || range === null) return [];
    const tx = this.#db.transaction("entries", "readonly");
    const page = await lastKeysRange(tx.store, range, limit);
    if (page === null) return [];
    const [keys, values] = await Promise.all([tx.store.getAllKeys(page), tx.store.getAll(page), tx.done]);
    return Promise.all(values.map(async (sealed, i): Promise<[string, T]> => [keys[i]!, await this.#open<T>(keys[i]!, sealed)]));
  }
}
