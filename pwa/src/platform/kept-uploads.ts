import type { KeptUploads } from "../../../shared/client/attachments.js";
import type { Database } from "./database.js";

/**
 * The sealed parts of files being sent, in IndexedDB (the client core's KeptUploads): a reload or a
 * closed tab does not lose an upload, which resumes from the parts the server holds when the app
 * opens again. Each part is a Blob, which the browser keeps on disk rather than in the page's memory.
 */
export class IdbKeptUploads implements KeptUploads {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async put(id: string, n: number, bytes: Uint8Array): Promise<void> {
    await this.#db.put("uploads", new Blob([bytes as Uint8Array<ArrayBuffer>]), `${id}/${n}`);
  }

  async get(id: string, n: number): Promise<Uint8Array | undefined> {
    const blob = await this.#db.get("uploads", `${id}/${n}`);
    return blob && new Uint8Array(await blob.arrayBuffer());
  }

  async drop(id: string): Promise<void> {
    // `{id}/` up to `{id}/` followed by the highest character: every part of this file and no other.
    await this.#db.delete("uploads", IDBKeyRange.bound(`${id}/`, `${id}/\uffff`));
  }
}
