import { type GroupState } from "../mls/group-state.js";
import { deferGroupState, dropDeferred, encodeDeferred, encodeGroupState, isDeferred } from "../mls/state-codec.js";
import type { Store } from "./store.js";

/**
 * A store whose `putMany` applies a set of writes all at once or not at all (one IndexedDB
 * transaction, one map update): a crash leaves either every write of the set or none.
 */
export interface BatchStore extends Store {
  /** Each entry is a put, or a delete where the value is undefined. */
  putMany(entries: Array<[string, unknown]>): Promise<void>;
}

export function canBatch(store: Store): store is BatchStore {
  return typeof (store as Partial<BatchStore>).putMany === "function";
}

/**
 * Writes kept in memory over a store until `commit` hands them to it in one `putMany`: a mailbox
 * frame's items are applied here, so each record is read once and written once per frame instead
 * of once per message (each write is a sealed IndexedDB transaction in the PWA). Values are copied
 * in and out, as a real store would, so callers never share objects with it.
 */
export class StoreBatch implements Store {
  readonly #base: BatchStore;
  // A key's value as this batch sees it: written here, or read from the base once; undefined = absent.
  readonly #seen = new Map<string, unknown>();
  readonly #written = new Set<string>();
  readonly #deferred = new Set<string>();

  constructor(base: BatchStore) {
    this.#base = base;
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (!this.#seen.has(key)) this.#seen.set(key, await this.#base.get(key));
    const value = this.#seen.get(key);
    return value === undefined ? undefined : (structuredClone(value) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    this.#seen.set(key, structuredClone(value));
    this.#written.add(key);
  }

  async delete(key: string): Promise<void> {
    this.#seen.set(key, undefined);
    this.#written.add(key);
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    const merged = new Map<string, unknown>(await this.#base.list(prefix));
    for (const key of this.#written) {
      if (!key.startsWith(prefix)) continue;
      const value = this.#seen.get(key);
      if (value === undefined) merged.delete(key);
      else merged.set(key, value);
    }
    return [...merged.keys()].sort().map((key): [string, T] => [key, structuredClone(merged.get(key)) as T]);
  }

  /**
   * The text to keep in a conversation record's `group` for `state`: a stand-in, encoded once when
   * the batch is committed (see deferGroupState), so a state moved on by many items is encoded once.
   */
  groupText(state: GroupState): string {
    const text = deferGroupState(state);
    this.#deferred.add(text);
    return text;
  }

  /** Hands every write to the base store at once, each record's state encoded; the batch is empty afterwards. */
  async commit(): Promise<void> {
    try {
      const entries = [...this.#written].map((key): [string, unknown] => [key, withEncodedGroup(this.#seen.get(key))]);
      this.#written.clear();
      if (entries.length > 0) await this.#base.putMany(entries);
    } finally {
      this.discard();
    }
  }

  /** Forgets the states held for records never committed. */
  discard(): void {
    dropDeferred(this.#deferred);
    this.#deferred.clear();
  }
}

function withEncodedGroup(value: unknown): unknown {
  if (typeof value !== "object" || value === null || !("group" in value) || typeof value.group !== "string" || !isDeferred(value.group)) return value;
  return { ...value, group: encodeDeferred(value.group) };
}

/** `encodeGroupState`, or a stand-in when `store` is a batch (see StoreBatch.groupText). */
export function groupTextIn(store: Store, state: GroupState): string {
  return store instanceof StoreBatch ? store.groupText(state) : encodeGroupState(state);
}
