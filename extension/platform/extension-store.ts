import { type DBSchema, type IDBPDatabase, openDB, unwrap } from "idb";
import type { BatchStore } from "../../shared/client/store-batch.js";
import { moveFromStorageArea, type StorageArea } from "./storage-migration.js";
import { lastKeysRange, prefixRange, prefixRangeBefore } from "../../ui/platform/key-ranges.js";
import { indexedId, MESSAGE_IDS, moveIndexEntries, requestEach } from "../../ui/platform/message-index.js";
import { entryValue, type EntryValue, parse } from "./entry-value.js";

export type { StorageArea } from "./storage-migration.js";

/** Where the migration from extension storage stands (see storage-migration.ts). */
export type MigrationState = "copied" | "done";

export interface ExtensionDbSchema extends DBSchema {
  /** The client core's entries by the core's key. */
  entries: { key: string; value: EntryValue; indexes: { [MESSAGE_IDS]: string } };
  /** This database's own bookkeeping: "migration". */
  meta: { key: string; value: MigrationState };
}

export type ExtensionDb = IDBPDatabase<ExtensionDbSchema>;

export function openExtensionDb(name: string): Promise<ExtensionDb> {
  return openDB<ExtensionDbSchema>(name, 2, {
    upgrade(db, from, _to, tx) {
      if (from < 1) {
        db.createObjectStore("entries");
        db.createObjectStore("meta");
      }
      if (from < 2) {
        // Version 1 kept a message's key (as JSON text) under each of its ids; the message gets them instead.
        moveIndexEntries(
          unwrap(tx.objectStore("entries")),
          (value) => {
            // A throw here would abort the upgrade, and the store would never open: what is not a key's JSON is no entry.
            try {
              const key: unknown = typeof value === "string" ? JSON.parse(value) : undefined;
              return typeof key === "string" ? key : undefined;
            } catch {
              return undefined;
            }
          },
          (value, ids) => ({ text: value as string, ids }),
        );
      }
    },
  });
}

/**
 * The client core's Store in the extension: IndexedDB of the extension's own origin, which the
 * background service worker, panel and popup share and no web page or content script can open.
 * A listing reads its key range only, and a mailbox frame's writes go in one transaction
 * (putMany, see StoreBatch), all or none.
 *
 * Values are JSON text, not sealed as the PWA's are: the PWA seals against other scripts of its
 * web origin, and an extension's origin runs only the extension's own code; a sealing key would
 * have to live beside the data (no passphrase here), so it would not keep anything from whoever
 * can read the profile's files either. JSON text keeps the store's semantics those of
 * MemoryStore and of the extension storage it replaces: callers never share objects with it.
 *
 * Opening moves what an earlier version kept in extension storage here first, once
 * (storage-migration.ts); every call waits for that.
 */
export class ExtensionStore implements BatchStore {
  readonly #area: StorageArea;
  readonly #name: string;
  readonly #prefix: string;
  #opened: Promise<ExtensionDb> | undefined;

  /** `area`: the extension storage an earlier version kept the entries in, under `prefix`. */
  constructor(area: StorageArea, name = "emsg-store", prefix = "emsg:") {
    this.#area = area;
    this.#name = name;
    this.#prefix = prefix;
  }

  /** The database, opened and moved into on first use; a failed opening is tried again by the next call. */
  get #db(): Promise<ExtensionDb> {
    this.#opened ??= openExtensionDb(this.#name)
      .then(async (db) => {
        try {
          await moveFromStorageArea(db, this.#area, this.#prefix);
        } catch (error) {
          db.close();
          throw error;
        }
        return db;
      })
      .catch((error: unknown) => {
        this.#opened = undefined;
        throw error;
      });
    return this.#opened;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const id = indexedId(key);
    if (id !== undefined) return (await (await this.#db).getKeyFromIndex("entries", MESSAGE_IDS, id)) as T | undefined;
    return parse(await (await this.#db).get("entries", key)) as T | undefined;
  }

  async put(key: string, value: unknown): Promise<void> {
    // An index entry is the ids of the message it names, written with it.
    if (indexedId(key) !== undefined) return;
    await (await this.#db).put("entries", entryValue(key, JSON.stringify(value), value), key);
  }

  async delete(key: string): Promise<void> {
    // An index entry goes with the message, or with the id it no longer has.
    if (indexedId(key) !== undefined) return;
    await (await this.#db).delete("entries", key);
  }

  /** Deletes every entry: what a device its account removed holds goes (ClientService.forgetRemoved). */
  async clear(): Promise<void> {
    await (await this.#db).clear("entries");
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    const tx = (await this.#db).transaction("entries", "readonly");
    const range = prefixRange(prefix);
    const [keys, values] = await Promise.all([tx.store.getAllKeys(range), tx.store.getAll(range), tx.done]);
    return values.map((stored, i): [string, T] => [keys[i]!, parse(stored) as T]);
  }

  /** Finds where the page starts from the end of the range, so only the page is read. */
  async listLast<T>(prefix: string, limit: number, before?: string): Promise<Array<[string, T]>> {
    const range = prefixRangeBefore(prefix, before);
    if (limit <= 0 || range === null) return [];
    const tx = (await this.#db).transaction("entries", "readonly");
    const page = await lastKeysRange(tx.store, range, limit);
    if (page === null) return [];
    const [keys, values] = await Promise.all([tx.store.getAllKeys(page), tx.store.getAll(page), tx.done]);
    return values.map((stored, i): [string, T] => [keys[i]!, parse(stored) as T]);
  }

  /** Many values in one transaction (what a mailbox frame's batch reads ahead); undefined where absent. */
  async getMany(keys: readonly string[]): Promise<unknown[]> {
    const tx = (await this.#db).transaction("entries", "readonly");
    // Straight to IndexedDB, without a promise per request: a frame looks up ~500 keys, most absent.
    const requests = requestEach(unwrap(tx.store), keys);
    await tx.done;
    return requests.map(({ indexed, request: { result } }) => (indexed ? result : parse(result as EntryValue | undefined)));
  }

  /** Every write in one transaction, all or none (a mailbox frame's, see StoreBatch); undefined deletes. */
  async putMany(entries: Array<[string, unknown]>): Promise<void> {
    // Turned to text before the transaction opens, so a value that cannot be written fails before anything is.
    const texts = entries.filter(([key]) => indexedId(key) === undefined).map(([key, value]) => [key, value === undefined ? undefined : entryValue(key, JSON.stringify(value), value)] as const);
    const tx = (await this.#db).transaction("entries", "readwrite");
    // Any request that fails aborts the transaction, and `done` rejects; one refused at once (a bad key) aborts it here.
    const store = unwrap(tx.store);
    try {
      for (const [key, text] of texts) {
        if (text === undefined) store.delete(key);
        else store.put(text, key);
      }
    } catch (error) {
      tx.abort();
      await tx.done.catch(() => undefined);
      throw error;
    }
    await tx.done;
  }
}
