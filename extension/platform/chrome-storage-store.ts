import type { Store } from "../../shared/client/store.js";

/** The part of `chrome.storage.local` (or Firefox's `browser.storage.local`) a store needs. */
export interface StorageArea {
  get(keys: string | string[] | null): Promise<Record<string, unknown>>;
  set(items: Record<string, unknown>): Promise<void>;
  remove(keys: string | string[]): Promise<void>;
}

/**
 * The client core's Store over extension storage: private to the extension, never readable by
 * a web page, and kept across service-worker suspension. Values are JSON text, so the core
 * never shares mutable objects with the store and byte arrays fail loudly instead of silently.
 */
export class ExtensionStore implements Store {
  readonly #area: StorageArea;
  readonly #prefix: string;

  constructor(area: StorageArea, prefix = "emsg:") {
    this.#area = area;
    this.#prefix = prefix;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const full = this.#prefix + key;
    const text = (await this.#area.get(full))[full];
    return typeof text === "string" ? (JSON.parse(text) as T) : undefined;
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.#area.set({ [this.#prefix + key]: JSON.stringify(value) });
  }

  async delete(key: string): Promise<void> {
    await this.#area.remove(this.#prefix + key);
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    const all = await this.#area.get(null);
    const full = this.#prefix + prefix;
    return Object.keys(all)
      .filter((key) => key.startsWith(full) && typeof all[key] === "string")
      .sort()
      .map((key) => [key.slice(this.#prefix.length), JSON.parse(all[key] as string) as T]);
  }
}
