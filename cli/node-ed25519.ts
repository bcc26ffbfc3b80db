// Node's own crypto for the MLS code in shared/, for the CLI and the benches, which run in Node:
// Ed25519 synchronous, so a signature costs its math and no hop to a crypto thread, and SHA-512,
// HMAC-SHA512 and ChaCha20-Poly1305 in native code (a joiner hashes ~220 KB of ratchet tree per
// join; the pure-JS hash ~15× slower, its HMAC ~3×, its AEAD ~10× on a message).
import { createCipheriv, createDecipheriv, createHash, createHmac, createPrivateKey, createPublicKey, diffieHellman, type KeyObject, sign, verify } from "node:crypto";
import { type HostAead, useHostChaCha20Poly1305, useHostHmacSha512, useHostSha512 } from "../shared/mls/crypto-provider.js";
import { type HostEd25519, useHostEd25519 } from "../shared/mls/ed25519.js";
import { useHostX25519 } from "../shared/mls/x-wing.js";

// DER prefix of a PKCS#8 Ed25519 seed (RFC 8410).
const PKCS8_SEED = Buffer.from("302e020100300506032b657004220420", "hex");
const MAX_KEYS = 4096;

/** Base64url by Node's own encoder: keys are named and handed over this way once or twice a signature. */
function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("base64url");
}

/** KeyObjects by key, at most MAX_KEYS (oldest dropped first): making one cost more than a signature. */
function keyCache(make: (bytes: Uint8Array) => KeyObject): (bytes: Uint8Array) => KeyObject {
  const keys = new Map<string, KeyObject>();
  return (bytes) => {
    const id = b64u(bytes);
    let key = keys.get(id);
    if (key === undefined) {
      if (keys.size >= MAX_KEYS) keys.delete(keys.keys().next().value!);
      key = make(bytes);
      keys.set(id, key);
    }
    return key;
  };
}

const privateKeyOf = keyCache((seed) => createPrivateKey({ key: Buffer.concat([PKCS8_SEED, seed]), format: "der", type: "pkcs8" }));
// Public keys go in as JWK: OpenSSL's SPKI decoder costs ~0.13 ms a key, JWK ~0.02 ms (a joiner of a
// 50-member group meets ~100 keys it has not seen).
const publicKeyOf = keyCache((key) => createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(key) }, format: "jwk" }));

export const nodeEd25519: HostEd25519 = {
  sign(seed, message) {
    return new Uint8Array(sign(null, message, privateKeyOf(seed)));
  },
  verify(publicKey, message, signature) {
    return verify(null, message, publicKeyOf(publicKey), signature);
  },
};

export function nodeSha512(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha512").update(data).digest());
}

export function nodeHmacSha512(key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac("sha512", key).update(data).digest());
}

const TAG_BYTES = 16;

// Copied out of Node's Buffers: a Buffer's slice is a view, where ts-mls expects a Uint8Array's copy.
export const nodeChaCha20Poly1305: HostAead = {
  seal(key, nonce, aad, plaintext) {
    const cipher = createCipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad, { plaintextLength: plaintext.length });
    return new Uint8Array(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]));
  },
  open(key, nonce, aad, ciphertext) {
    if (ciphertext.length < TAG_BYTES) return undefined;
    try {
      const decipher = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG_BYTES });
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - TAG_BYTES));
      decipher.setAAD(aad, { plaintextLength: ciphertext.length - TAG_BYTES });
      return new Uint8Array(Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - TAG_BYTES)), decipher.final()]));
    } catch {
      return undefined;
    }
  },
};

// X25519 keys go in as JWK: OpenSSL's DER decoders cost ~0.6 ms a private key, JWK ~0.05 ms. A
// private JWK must carry x, but OpenSSL derives the public half from d alone, so x is a placeholder
// (the probe in useHostX25519 refuses a Node that would check it).
const X_PLACEHOLDER = b64u(new Uint8Array(32));

/** X25519 in OpenSSL, which refuses (throws on) an all-zero result where the pure-JS curve answers zeros. */
export function nodeX25519(secretKey: Uint8Array, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(diffieHellman({
    privateKey: createPrivateKey({ key: { kty: "OKP", crv: "X25519", d: b64u(secretKey), x: X_PLACEHOLDER }, format: "jwk" }),
    publicKey: createPublicKey({ key: { kty: "OKP", crv: "X25519", x: b64u(publicKey) }, format: "jwk" }),
  }));
}

/** Puts all five under the MLS code; false if any does not answer as the pure-JS one does. */
export function useNodeCrypto(): boolean {
  return useHostEd25519(nodeEd25519) && useHostSha512(nodeSha512) && useHostHmacSha512(nodeHmacSha512)
    && useHostChaCha20Poly1305(nodeChaCha20Poly1305) && useHostX25519(nodeX25519);
}
