import { openDB, type DBSchema, type IDBPDatabase } from "idb";

/** What the PWA keeps in IndexedDB: the client core's entries (sealed) and the key vault's record. */
export interface SealedValue {
  iv: Uint8Array;
  data: ArrayBuffer;
}

export type VaultRecord =
  | { mode: "device"; key: CryptoKey }
  | { mode: "passphrase"; salt: Uint8Array; iterations: number; iv: Uint8Array; wrapped: ArrayBuffer };

interface EmsgDb extends DBSchema {
  entries: { key: string; value: SealedValue };
  vault: { key: "vault"; value: VaultRecord };
  prefs: { key: string; value: string };
}

export type Database = IDBPDatabase<EmsgDb>;

export function openDatabase(name = "emsg"): Promise<Database> {
  return openDB<EmsgDb>(name, 1, {
    upgrade(db) {
      db.createObjectStore("entries");
      db.createObjectStore("vault");
      db.createObjectStore("prefs");
    },
  });
}

/** Removes every trace of the account from this device (after account deletion). */
export async function eraseDatabase(db: Database): Promise<void> {
  const tx = db.transaction(["entries", "vault", "prefs"], "readwrite");
  await Promise.all([tx.objectStore("entries").clear(), tx.objectStore("vault").clear(), tx.objectStore("prefs").clear(), tx.done]);
}
