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
  /**
   * The last `limit` entries whose key starts with `prefix` and sorts before `before` (every one
   * when absent), in ascending key order: a page of a long listing (a chat's newest messages)
   * without reading the rest of it. A store without it is listed whole (see lastOf).
   */
  listLast?<T>(prefix: string, limit: number, before?: string): Promise<Array<[string, T]>>;
}

/** `store.listLast`, or what it gives, from a whole listing where the store has none. */
export async function lastOf<T>(store: Store, prefix: string, limit: number, before?: string): Promise<Array<[string, T]>> {
  if (store.listLast) return store.listLast<T>(prefix, limit, before);
  if (limit <= 0) return [];
  const all = await store.list<T>(prefix);
  return (before === undefined ? all : all.filter(([key]) => key < before)).slice(-limit);
}

/** A view of a store under a key prefix, so several accounts or features share one store. */
export function namespaced(store: Store, prefix: string): Store {
  return {
    get: (key) => store.get(prefix + key),
    put: (key, value) => store.put(prefix + key, value),
    delete: (key) => store.delete(prefix + key),
    list: async <T>(p: string) =>
      (await store.list<T>(prefix + p)).map(([key, value]): [string, T] => [key.slice(prefix.length), value]),
    // Only a store that reads pages gives them: one listed whole says so by having no listLast.
    ...(store.listLast
      ? {
          listLast: async <T>(p: string, limit: number, before?: string) =>
            (await lastOf<T>(store, prefix + p, limit, before === undefined ? undefined : prefix + before)).map(([key, value]): [string, T] => [key.slice(prefix.length), value]),
        }
      : {}),
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

  async listLast<T>(prefix: string, limit: number, before?: string): Promise<Array<[string, T]>> {
    if (limit <= 0) return [];
    return [...this.#entries.keys()]
      .filter((key) => key.startsWith(prefix) && (before === undefined || key < before))
      .sort()
      .slice(-limit)
      .map((key) => [key, JSON.parse(this.#entries.get(key)!) as T]);
  }
}
