// Bundled into a page by extension-store.test.ts: the extension's store and migration, run on
// Chromium's own IndexedDB, with an old storage area that outlives a reload of the page.
import type { StorageArea } from "../../extension/platform/storage-migration.js";

export { ExtensionStore, openExtensionDb } from "../../extension/platform/extension-store.js";
export { MemoryStore } from "../../shared/client/store.js";
// The PWA's store too: the same listing contract, sealed values.
export { IdbStore } from "../../pwa/src/platform/idb-store.js";
export { openDatabase } from "../../pwa/src/platform/database.js";

/**
 * Extension storage as an earlier version left it, kept in the page's localStorage: it outlives a
 * reload as extension storage outlives a stopped service worker. `failRemove` stops the migration
 * where a worker stopped between its copy and its removal of the old keys would.
 */
export function pageStorageArea(failRemove = false): StorageArea {
  return {
    get: async (keys) => {
      if (keys !== null) throw new Error("the migration reads the whole area");
      const all: Record<string, unknown> = {};
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i)!;
        all[key] = localStorage.getItem(key);
      }
      return all;
    },
    remove: async (keys) => {
      if (failRemove) throw new Error("stopped");
      for (const key of typeof keys === "string" ? [keys] : keys) localStorage.removeItem(key);
    },
  };
}
