/**
 * The client core's only storage: an async key-value store with ordered prefix listing.
 * Adapters: IndexedDB in the PWA and extension, JSON files in Node (cli/), memory in tests.
 * Each `put` must be durable when its promise resolves; the core orders its writes so that a
 * crash between two of them never loses or duplicates a message (see mailbox-sync.ts).
 */
export interface Store {
  get<T>(key: string): Promise<T | undefined>;
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
  /** Every entry whose key starts with `prefix`, in ascending key order. */
  list<T>(prefix: string): Promise<Array<[string, T]>>;
}

/** A view of a store under a key prefix, so several accounts or features share one store. */
export function namespaced(store: Store, prefix: string): Store {
  return {
    get: (key) => store.get(prefix + key),
    put: (key, value) => store.put(prefix + key, value),
    delete: (key) => store.delete(prefix + key),
    list: async <T>(p: string) =>
      (await store.list<T>(prefix + p)).map(([key, value]): [string, T] => [key.slice(prefix.length), value]),
  };
}

/** A store held in memory: for a session that keeps nothing, and for tests. */
export class MemoryStore implements Store {
  readonly #entries = new Map<string, string>();

  async get<T>(key: string): Promise<T | undefined> {
    const text = this.#entries.get(key);
    return text === undefined ? undefined : (JSON.parse(text) as T);
  }

  async put(key: string, value: unknown): Promise<void> {
    // Stored as JSON so callers never share mutable objects with the store, as with a real one.
    this.#entries.set(key, JSON.stringify(value));
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    return keys.map((key) => {
      const text = this.#entries.get(key);
      return text === undefined ? undefined : JSON.parse(text);
    });
  }

  /** Every write at once (see StoreBatch); a value of undefined deletes. */
  async putMany(entries: Array<[string, unknown]>): Promise<void> {
    for (const [key, value] of entries) {
      if (value === undefined) this.#entries.delete(key);
      else this.#entries.set(key, JSON.stringify(value));
    }
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    return [...this.#entries.keys()]
      .filter((key) => key.startsWith(prefix))
      .sort()
      .map((key) => [key, JSON.parse(this.#entries.get(key)!) as T]);
  }
}
