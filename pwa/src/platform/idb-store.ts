import type { Store } from "../../../shared/client/store.js";
import { unwrap } from "idb";
import { isMessageIndex } from "../../../shared/client/messages.js";
import type { Database, SealedValue, StoredValue } from "./database.js";
import { lastKeysRange, prefixRange, prefixRangeBefore } from "../../../ui/platform/key-ranges.js";

/**
 * The client core's Store on IndexedDB. Every value is JSON sealed with AES-GCM under the
 * vault's data key; keys stay clear so ordered prefix listing works with an IDB key range, and
 * so a message index entry, whose value is another key (isMessageIndex), is kept as it is.
 */
export class IdbStore implements Store {
  readonly #db: Database;
  readonly #key: CryptoKey;

  constructor(db: Database, key: CryptoKey) {
    this.#db = db;
    this.#key = key;
  }

  async #seal(key: string, value: unknown): Promise<StoredValue> {
    if (isMessageIndex(key, value)) return value;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const data = await crypto.subtle.encrypt({ name: "AES-GCM", iv }, this.#key, new TextEncoder().encode(JSON.stringify(value)));
    return { iv, data };
  }

  async #open<T>(key: string, stored: StoredValue): Promise<T> {
    if (typeof stored === "string") {
      if (!isMessageIndex(key, stored)) throw new Error(`The stored value of ${key} is not sealed.`);
      return stored as T;
    }
    const sealed: SealedValue = stored;
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: sealed.iv as BufferSource }, this.#key, sealed.data);
    return JSON.parse(new TextDecoder().decode(plain)) as T;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const sealed = await this.#db.get("entries", key);
    return sealed === undefined ? undefined : this.#open<T>(key, sealed);
  }

  async put(key: string, value: unknown): Promise<void> {
    // Sealed before the transaction opens: IDB transactions close if they wait on other promises.
    const sealed = await this.#seal(key, value);
    await this.#db.put("entries", sealed, key);
  }

  async delete(key: string): Promise<void> {
    await this.#db.delete("entries", key);
  }

  /** Many values in one transaction (what a mailbox frame's batch reads ahead); undefined where absent. */
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const tx = this.#db.transaction("entries", "readonly");
    // Straight to IndexedDB, as putMany writes: a frame looks up ~500 keys, most of them absent.
    const store = unwrap(tx.store);
    const requests = keys.map((key) => store.get(key) as IDBRequest<StoredValue | undefined>);
    await tx.done;
    return Promise.all(requests.map(({ result }, i) => (result === undefined ? undefined : this.#open(keys[i]!, result))));
  }

  /** Every write in one transaction, all or none (a mailbox frame's, see StoreBatch); undefined deletes. */
  async putMany(entries: Array<[string, unknown]>): Promise<void> {
    const sealed = await Promise.all(entries.map(async ([key, value]) => [key, value === undefined ? undefined : await this.#seal(key, value)] as const));
    const tx = this.#db.transaction("entries", "readwrite");
    // Straight to IndexedDB, without a promise and two listeners per request (a frame writes ~1,000):
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
