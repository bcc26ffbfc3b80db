import { toB64u } from "../shared/base64url.js";

/**
 * Ed25519 and SHA-256 through workerd's WebCrypto (native code) for the server's hot paths:
 * checking every signed request (its Content-Digest and signature) and signing every federation
 * batch. noble, in pure JavaScript, takes milliseconds of the isolate's one thread for each; the
 * same results, checked the same way (RFC 8032, a non-canonical S refused).
 */

/** Imported keys by their b64u public key: a server talks to few peers and its own devices, and importing costs a call. */
const verifyKeys = new Map<string, Promise<CryptoKey>>();
const signKeys = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 1000;

const ED25519 = { name: "Ed25519" } as const;

function cached(cache: Map<string, Promise<CryptoKey>>, id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = cache.get(id);
  if (!key) {
    if (cache.size >= MAX_CACHED_KEYS) cache.clear();
    key = load();
    // A key that fails to import is not kept: the next call tries again (and fails the same way).
    key.catch(() => cache.delete(id));
    cache.set(id, key);
  }
  return key;
}

/** True when `signature` is `publicKey`'s signature of `message`; false for a malformed key or signature. */
export async function verifyEd25519(publicKey: Uint8Array, signature: Uint8Array, message: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    const key = await cached(verifyKeys, toB64u(publicKey), () => crypto.subtle.importKey("raw", publicKey, ED25519, false, ["verify"]));
    return await crypto.subtle.verify(ED25519, key, signature, message);
  } catch {
    return false;
  }
}

/** Signs with the key whose 32-byte seed is `privateKey` (b64u) and whose public key is `publicKey` (b64u). */
export async function signEd25519(privateKey: string, publicKey: string, message: Uint8Array): Promise<Uint8Array> {
  const key = await cached(signKeys, publicKey, () =>
    crypto.subtle.importKey("jwk", { kty: "OKP", crv: "Ed25519", d: privateKey, x: publicKey }, ED25519, false, ["sign"]),
  );
  return new Uint8Array(await crypto.subtle.sign(ED25519, key, message));
}

/** SHA-256 of a request body through WebCrypto, for its Content-Digest. */
export async function sha256Native(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
}
