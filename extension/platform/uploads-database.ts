import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { UploadsDb } from "../../ui/platform/kept-uploads.js";

interface UploadsSchema extends DBSchema {
  uploads: { key: string; value: Blob };
}

/**
 * The background's IndexedDB of files being sent (ui/platform/kept-uploads.ts): extension storage
 * holds only JSON text, and a file's parts must outlive the service worker, which the browser stops
 * when idle. Opened on first use, so the background's start does not wait for it.
 */
export function uploadsDatabase(name = "emsg-uploads"): UploadsDb {
  let opened: Promise<IDBPDatabase<UploadsSchema>> | undefined;
  const db = () => (opened ??= openDB<UploadsSchema>(name, 1, { upgrade: (d) => void d.createObjectStore("uploads") }));
  return {
    put: async (store, value, key) => (await db()).put(store, value, key),
    get: async (store, key) => (await db()).get(store, key),
    delete: async (store, key) => (await db()).delete(store, key),
  };
}
