import { unwrap } from "idb";
import type { ExtensionDb } from "./extension-store.js";
import { entryValue } from "./entry-value.js";
import { indexedId } from "../../ui/platform/message-index.js";

/** The part of `chrome.storage.local` (or Firefox's `browser.storage.local`) the migration needs. */
export interface StorageArea {
  get(keys: string | string[] | null): Promise<Record<string, unknown>>;
  remove(keys: string | string[]): Promise<void>;
}

/**
 * Moves the entries an earlier version kept in extension storage (JSON text under `prefix`) into
 * the database, once. The service worker may be stopped at any point, and the panel may open the
 * store at the same time, so each step can be cut short or run twice:
 * 1. the entries and the mark "copied" go into the database in one transaction, which writes
 *    nothing if the mark is already there: a copy is whole or absent, and never written over
 *    what the new version has written since;
 * 2. the old keys are removed, then the mark becomes "done", after which storage is not read again.
 * A start that finds "copied" did not finish step 2 and does it.
 */
export async function moveFromStorageArea(db: ExtensionDb, area: StorageArea, prefix: string): Promise<void> {
  const state = await db.get("meta", "migration");
  if (state === "done") return;
  // Nothing writes under the prefix any more, so one reading serves both steps.
  const stored = await area.get(null);
  if (state === undefined) await copyOnce(db, stored, prefix);
  const old = Object.keys(stored).filter((key) => key.startsWith(prefix));
  if (old.length > 0) await area.remove(old);
  await db.put("meta", "done", "migration");
}

async function copyOnce(db: ExtensionDb, stored: Record<string, unknown>, prefix: string): Promise<void> {
  // Strict: complete only once on disk, as the old keys go next (by default Chromium completes once the OS has the writes).
  const tx = db.transaction(["entries", "meta"], "readwrite", { durability: "strict" });
  const meta = tx.objectStore("meta");
  if ((await meta.get("migration")) === undefined) {
    // Straight to IndexedDB, without a promise per entry: a request that fails aborts the transaction, and `done` rejects.
    const entries = unwrap(tx.objectStore("entries"));
    for (const [stem, text] of Object.entries(stored)) {
      const key = stem.slice(prefix.length);
      // The old store wrote only JSON text and read nothing else back; its index entries are the ids each message carries here.
      if (!stem.startsWith(prefix) || typeof text !== "string" || indexedId(key) !== undefined) continue;
      entries.put(entryValue(key, text, parsedOrNot(text)), key);
    }
    unwrap(meta).put("copied", "migration");
  }
  await tx.done;
}

/** The value of JSON text, or undefined for text that is not JSON: copied as it is, as before. */
function parsedOrNot(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
