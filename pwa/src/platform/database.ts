import { openDB, type DBSchema, type IDBPDatabase } from "idb";

/**
 * What the PWA keeps in IndexedDB: the client core's entries (sealed but for index entries), the key vault's record, and
 * the sealed parts of files being sent or whose upload failed (`uploads`, by `{message id}/{part}`:
 * ciphertext under each file's own key, which only the sealed entries hold).
 */
export interface SealedValue {
  iv: Uint8Array;
  data: ArrayBuffer;
}

/** An entry's value: sealed, or a message index entry's key as it is (see IdbStore). */
export type StoredValue = SealedValue | string;

export type VaultRecord =
  | { mode: "device"; key: CryptoKey }
  | { mode: "passphrase"; salt: Uint8Array; iterations: number; iv: Uint8Array; wrapped: ArrayBuffer };

interface EmsgDb extends DBSchema {
  entries: { key: string; value: StoredValue };
  vault: { key: "vault"; value: VaultRecord };
  prefs: { key: string; value: string };
  uploads: { key: string; value: Blob };
}

export type Database = IDBPDatabase<EmsgDb>;

export function openDatabase(name = "emsg"): Promise<Database> {
  return openDB<EmsgDb>(name, 2, {
    upgrade(db, from) {
      if (from < 1) {
        db.createObjectStore("entries");
        db.createObjectStore("vault");
        db.createObjectStore("prefs");
      }
      if (from < 2) db.createObjectStore("uploads");
    },
  });
}

/** Removes every trace of the account from this device (after account deletion). */
export async function eraseDatabase(db: Database): Promise<void> {
  const tx = db.transaction(["entries", "vault", "prefs", "uploads"], "readwrite");
  await Promise.all([tx.objectStore("entries").clear(), tx.objectStore("vault").clear(), tx.objectStore("prefs").clear(), tx.objectStore("uploads").clear(), tx.done]);
}
