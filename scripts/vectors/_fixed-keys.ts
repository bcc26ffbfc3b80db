/** Fixed keys for deterministic vectors: Ed25519 seeds are SHA-256 of a label, never random. */
import { sha256 } from "@noble/hashes/sha2.js";
import { toB64u } from "../../shared/base64url.js";
import { type KeyPair, keyPairFromSeed } from "../../shared/identity.js";

export function fixedKeyPair(label: string): KeyPair {
  return keyPairFromSeed(sha256(new TextEncoder().encode(`emsg-vectors/${label}`)));
}

/** A key as vectors show it: the 32-byte seed (RFC 8032 private key) and public key, b64u. */
export function keyJson(kp: KeyPair): { seed: string; publicKey: string } {
  return { seed: toB64u(kp.privateKey), publicKey: toB64u(kp.publicKey) };
}

/** Bytes 0, 1, 2, … as b64u: readable fixed nonces and salts. */
export function countingB64u(length: number, start = 0): string {
  return toB64u(Uint8Array.from({ length }, (_, i) => (start + i) & 0xff));
}

export function countingBytes(length: number, start = 0): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (start + i) & 0xff);
}

export function errorCodeOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== "string") throw e;
    return code;
  }
}
