import type { FileSource, KeptUploads } from "../../shared/client/attachments.js";

/** The platform's keeping, in memory: sealed parts, and files while they are sealed. */
export class MemoryKept implements KeptUploads {
  readonly parts = new Map<string, Uint8Array>();
  readonly files = new Map<string, FileSource>();
  async put(id: string, n: number, bytes: Uint8Array) {
    this.parts.set(`${id}/${n}`, bytes.slice());
  }
  async get(id: string, n: number) {
    return this.parts.get(`${id}/${n}`);
  }
  async keepFile(id: string, source: FileSource) {
    this.files.set(id, source);
  }
  async file(id: string) {
    return this.files.get(id);
  }
  async dropFile(id: string) {
    this.files.delete(id);
  }
  async drop(id: string) {
    for (const key of [...this.parts.keys()]) if (key.startsWith(`${id}/`)) this.parts.delete(key);
    this.files.delete(id);
  }
  /** What is kept, by message id. */
  held(): string[] {
    return [...new Set([...this.parts.keys()].map((k) => k.split("/")[0]!).concat([...this.files.keys()]))];
  }
}
