import { openDB, unwrap, type DBSchema, type IDBPDatabase } from "idb";
import { MESSAGE_IDS, moveIndexEntries } from "../../../ui/platform/message-index.js";

/**
 * What the PWA keeps in IndexedDB: the client core's entries (sealed but for expiry entries), the key vault's record, and
 * the sealed parts of files being sent or whose upload failed (`uploads`, by `{message id}/{part}`:
 * ciphertext under each file's own key, which only the sealed entries hold).
 */
export interface SealedValue {
  iv: Uint8Array;
  data: ArrayBuffer;
  /** A message's ids (messageIdsOf), clear for the index it is found by (ui/platform/message-index.ts). */
  ids?: string[];
}

/** An entry's value: sealed, or an expiry entry's message key as it is (see IdbStore). */
export type StoredValue = SealedValue | string;

export type VaultRecord =
  | { mode: "device"; key: CryptoKey }
  | { mode: "passphrase"; salt: Uint8Array; iterations: number; iv: Uint8Array; wrapped: ArrayBuffer };

interface EmsgDb extends DBSchema {
  entries: { key: string; value: StoredValue; indexes: { [MESSAGE_IDS]: string } };
  vault: { key: "vault"; value: VaultRecord };
  prefs: { key: string; value: string };
  uploads: { key: string; value: Blob };
}

export type Database = IDBPDatabase<EmsgDb>;

/**
 * What opening the database tells its page: `blocked`, a tab of an earlier version keeps it open,
 * so the upgrade waits until that tab closes; `outdated`, a newer version opened in another tab,
 * which this tab's connection, closed then, would hold up.
 */
export interface OpenEvents {
  blocked?: () => void;
  outdated?: () => void;
}

export function openDatabase(name = "emsg", events: OpenEvents = {}): Promise<Database> {
  return openDB<EmsgDb>(name, 3, {
    blocked: () => events.blocked?.(),
    blocking: (_current, _next, event) => {
      (event.target as IDBDatabase).close();
      events.outdated?.();
    },
    upgrade(db, from, _to, tx) {
      if (from < 1) {
        db.createObjectStore("entries");
        db.createObjectStore("vault");
        db.createObjectStore("prefs");
      }
      if (from < 2) db.createObjectStore("uploads");
      if (from < 3) {
        // Version 2 kept a message's key as it is under each of its ids; the sealed message gets them instead.
        moveIndexEntries(
          unwrap(tx.objectStore("entries")),
          (value) => (typeof value === "string" ? value : undefined),
          (value, ids) => ({ ...(value as SealedValue), ids }),
        );
      }
    },
  });
}

/** Removes every trace of the account from this device (after account deletion). */
export async function eraseDatabase(db: Database): Promise<void> {
  const tx = db.transaction(["entries", "vault", "prefs", "uploads"], "readwrite");
  await Promise.all([tx.objectStore("entries").clear(), tx.objectStore("vault").clear(), tx.objectStore("prefs").clear(), tx.objectStore("uploads").clear(), tx.done]);
}
