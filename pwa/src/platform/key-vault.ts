import type { Database, VaultRecord } from "./database.js";

/**
 * The data key that seals everything the client core stores in IndexedDB.
 * Without a passphrase it is a non-extractable AES-GCM key kept by the browser; with one it is
 * wrapped by a PBKDF2-SHA-256 key derived from the passphrase, so keys at rest are unreadable
 * without it. The passphrase and the data key never leave this device.
 */
export const PBKDF2_ITERATIONS = 600_000;

const AES = { name: "AES-GCM", length: 256 } as const;

async function wrappingKey(passphrase: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey("raw", new TextEncoder().encode(passphrase), "PBKDF2", false, ["deriveKey"]);
  return crypto.subtle.deriveKey(
    { name: "PBKDF2", hash: "SHA-256", salt: salt as BufferSource, iterations },
    material,
    AES,
    false,
    ["wrapKey", "unwrapKey"],
  );
}

export async function vaultMode(db: Database): Promise<VaultRecord["mode"] | "none"> {
  return (await db.get("vault", "vault"))?.mode ?? "none";
}

/** Makes the data key for a new account and records it; returns the key to seal with. */
export async function createVault(db: Database, passphrase: string | null, iterations = PBKDF2_ITERATIONS): Promise<CryptoKey> {
  if (passphrase === null) {
    const key = await crypto.subtle.generateKey(AES, false, ["encrypt", "decrypt"]);
    await db.put("vault", { mode: "device", key }, "vault");
    return key;
  }
  const key = await crypto.subtle.generateKey(AES, true, ["encrypt", "decrypt"]);
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const wrapped = await crypto.subtle.wrapKey("raw", key, await wrappingKey(passphrase, salt, iterations), { name: "AES-GCM", iv });
  await db.put("vault", { mode: "passphrase", salt, iterations, iv, wrapped }, "vault");
  return unwrap({ mode: "passphrase", salt, iterations, iv, wrapped }, passphrase);
}

async function unwrap(record: Extract<VaultRecord, { mode: "passphrase" }>, passphrase: string): Promise<CryptoKey> {
  const wrapper = await wrappingKey(passphrase, record.salt, record.iterations);
  // Unwrapped as non-extractable: once unlocked, script can use the key but not read it out.
  return crypto.subtle.unwrapKey("raw", record.wrapped, wrapper, { name: "AES-GCM", iv: record.iv as BufferSource }, AES, false, [
    "encrypt",
    "decrypt",
  ]);
}

/** Opens the vault. Returns null when a passphrase is needed but missing or wrong. */
export async function openVault(db: Database, passphrase?: string): Promise<CryptoKey | null> {
  const record = await db.get("vault", "vault");
  if (!record) return null;
  if (record.mode === "device") return record.key;
  if (passphrase === undefined) return null;
  try {
    return await unwrap(record, passphrase);
  } catch {
    return null;
  }
}
