import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Store } from "../shared/client/store.js";

/**
 * The client core's Store on disk: one JSON file per key in one directory. A write goes to a
 * temporary file that is flushed and then renamed over the old one, so a crash leaves either the
 * old value or the new one, never half of each.
 */
export class FileStore implements Store {
  readonly #dir: string;
  #ready: Promise<unknown> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
  }

  #ensureDir(): Promise<unknown> {
    return (this.#ready ??= mkdir(this.#dir, { recursive: true }));
  }

  #path(key: string): string {
    return join(this.#dir, `${encodeURIComponent(key)}.json`);
  }

  async get<T>(key: string): Promise<T | undefined> {
    try {
      return JSON.parse(await readFile(this.#path(key), "utf8")) as T;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  async put(key: string, value: unknown): Promise<void> {
    await this.#ensureDir();
    const path = this.#path(key);
    const temp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    const file = await open(temp, "w");
    try {
      await file.writeFile(JSON.stringify(value));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  }

  async delete(key: string): Promise<void> {
    await rm(this.#path(key), { force: true });
  }

  async list<T>(prefix: string): Promise<Array<[string, T]>> {
    await this.#ensureDir();
    const keys = (await readdir(this.#dir))
      .filter((name) => name.endsWith(".json"))
      .map((name) => decodeURIComponent(name.slice(0, -5)))
      .filter((key) => key.startsWith(prefix))
      .sort();
    const out: Array<[string, T]> = [];
    for (const key of keys) {
      const value = await this.get<T>(key);
      if (value !== undefined) out.push([key, value]);
    }
    return out;
  }
}
