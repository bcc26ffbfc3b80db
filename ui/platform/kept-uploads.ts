import type { FileSource, KeptUploads } from "../../shared/client/attachments.js";

/**
 * The one object store this needs, as `idb` opens it: the PWA's database has it among others, the
 * extension's background a database of its own (extension/platform/uploads-database.ts).
 */
export interface UploadsDb {
  put(store: "uploads", value: Blob, key: string): Promise<unknown>;
  get(store: "uploads", key: string): Promise<Blob | undefined>;
  delete(store: "uploads", key: string | IDBKeyRange): Promise<void>;
}

/**
 * The parts of files being sent, in IndexedDB (the client core's KeptUploads): a reload or a closed
 * tab (or the extension's stopped background) does not lose an upload, which resumes from the parts
 * the server holds when the app opens again. Each part is a Blob, which the browser keeps on disk
 * rather than in memory. The picked file itself is kept (`{id}/file`) only while it is sealed, so a
 * reload in that second seals it again; it is the same plaintext the user's own disk holds. A failed
 * upload's parts (or file) stay for Retry, bounded by the core, until sent, deleted or unsendable.
 */
export class IdbKeptUploads implements KeptUploads {
  readonly #db: UploadsDb;

  constructor(db: UploadsDb) {
    this.#db = db;
  }

  async put(id: string, n: number, bytes: Uint8Array): Promise<void> {
    await this.#db.put("uploads", new Blob([bytes as Uint8Array<ArrayBuffer>]), `${id}/${n}`);
  }

  async get(id: string, n: number): Promise<Uint8Array | undefined> {
    const blob = await this.#db.get("uploads", `${id}/${n}`);
    return blob && new Uint8Array(await blob.arrayBuffer());
  }

  async keepFile(id: string, source: FileSource): Promise<void> {
    // Only a file the platform handed over as a Blob (picked, dropped, pasted, recorded) can be kept.
    const picked = (source as { picked?: unknown }).picked;
    if (picked instanceof Blob) await this.#db.put("uploads", picked, `${id}/file`);
  }

  async file(id: string): Promise<FileSource | undefined> {
    const blob = await this.#db.get("uploads", `${id}/file`);
    if (!blob) return undefined;
    // Only size and bytes are read: the pointer's name and type were stored with the upload.
    return { name: "", mediaType: blob.type, size: blob.size, read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()) };
  }

  async dropFile(id: string): Promise<void> {
    await this.#db.delete("uploads", `${id}/file`);
  }

  async drop(id: string): Promise<void> {
    // `{id}/` up to `{id}/` followed by the highest character: every part of this file and no other.
    await this.#db.delete("uploads", IDBKeyRange.bound(`${id}/`, `${id}/\uffff`));
  }
}
