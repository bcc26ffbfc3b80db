import { ed25519 } from "@noble/curves/ed25519.js";
import { toB64u } from "../base64url.js";

// Ed25519 through the host's WebCrypto where it has it (Node, Chromium, Firefox, workerd): ~30×
// faster than the pure-JS curve, which stays the fallback and the final word on what verifies.
// Imported keys are kept per key: importing one cost more than the signature itself.

type Subtle = SubtleCrypto;

const MAX_KEYS = 4096;
const signKeys = new Map<string, Promise<CryptoKey>>();
const verifyKeys = new Map<string, Promise<CryptoKey>>();

function bytes(b: Uint8Array): BufferSource {
  return b as Uint8Array<ArrayBuffer>;
}

function remembered(cache: Map<string, Promise<CryptoKey>>, id: string, load: () => Promise<CryptoKey>): Promise<CryptoKey> {
  let key = cache.get(id);
  if (key === undefined) {
    if (cache.size >= MAX_KEYS) cache.delete(cache.keys().next().value!);
    key = load();
    cache.set(id, key);
  }
  return key;
}

const PKCS8_SEED_PREFIX = Uint8Array.of(0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20);

function pkcs8(seed: Uint8Array): Uint8Array {
  const out = new Uint8Array(PKCS8_SEED_PREFIX.length + 32);
  out.set(PKCS8_SEED_PREFIX);
  out.set(seed, PKCS8_SEED_PREFIX.length);
  return out;
}

let host: Promise<Subtle | undefined> | undefined;

/**
 * The host's SubtleCrypto if its Ed25519 signs a fixed seed's message exactly as the pure-JS
 * curve does (Ed25519 is deterministic), else undefined.
 */
function nativeEd25519(): Promise<Subtle | undefined> {
  host ??= (async () => {
    const subtle = typeof crypto === "undefined" ? undefined : crypto.subtle;
    if (subtle === undefined) return undefined;
    try {
      const seed = new Uint8Array(32).fill(7);
      const message = Uint8Array.of(1, 2, 3);
      const key = await subtle.importKey("pkcs8", bytes(pkcs8(seed)), "Ed25519", false, ["sign"]);
      const sig = new Uint8Array(await subtle.sign("Ed25519", key, bytes(message)));
      return toB64u(sig) === toB64u(ed25519.sign(message, seed)) ? subtle : undefined;
    } catch {
      return undefined;
    }
  })();
  return host;
}

/**
 * A host's own synchronous Ed25519, such as Node's crypto module (cli/node-ed25519.ts). WebCrypto
 * runs each signature on a crypto thread and answers on a later turn, and on a busy machine that
 * hop costs more than the math (~50 µs of CPU a verification, and waits of hundreds of µs for a
 * turn): a host that has a direct call gives it here, and the WebCrypto path stays for the rest.
 */
export interface HostEd25519 {
  sign(seed: Uint8Array, message: Uint8Array): Uint8Array;
  /** May throw on keys or signatures it cannot read. */
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

let hostEd25519: HostEd25519 | undefined;

/** Uses `host` from now on if it signs a fixed seed's message exactly as the pure-JS curve does; says whether it does. */
export function useHostEd25519(host: HostEd25519): boolean {
  const seed = new Uint8Array(32).fill(7);
  const message = Uint8Array.of(1, 2, 3);
  try {
    const sig = host.sign(seed, message);
    if (toB64u(sig) !== toB64u(ed25519.sign(message, seed)) || !host.verify(ed25519.getPublicKey(seed), message, sig)) return false;
  } catch {
    return false;
  }
  hostEd25519 = host;
  return true;
}

/** An Ed25519 signature by a 32-byte seed; the same bytes whichever implementation makes it. */
export async function signEd25519(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
  if (hostEd25519 !== undefined && seed.length === 32) return hostEd25519.sign(seed, message);
  const subtle = await nativeEd25519();
  if (subtle === undefined || seed.length !== 32) return ed25519.sign(message, seed);
  const key = await remembered(signKeys, toB64u(seed), () => subtle.importKey("pkcs8", bytes(pkcs8(seed)), "Ed25519", false, ["sign"]));
  return new Uint8Array(await subtle.sign("Ed25519", key, bytes(message)));
}

const P = 2n ** 255n - 19n;
const L = 2n ** 252n + 27742317777372353535851937790883648493n;

/** 32 little-endian bytes of `n`: the encodings below are compared bytewise, ~50 µs a verification less than as bigints. */
function littleEndianBytes(n: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
}

const P_BYTES = littleEndianBytes(P);
const L_BYTES = littleEndianBytes(L);
const ONE = littleEndianBytes(1n);
const P_MINUS_ONE = littleEndianBytes(P - 1n);
// The y coordinates of the 8 points of small order (the identity, order 2, 4 and 8), each taken with either sign of x.
const SMALL_ORDER_Y = [
  0n,
  1n,
  P - 1n,
  0x05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826n,
  0x7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7n,
].map(littleEndianBytes);

/** a < b, both 32 little-endian bytes. */
function lessThan(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The y coordinate of a point encoding: its 255 low bits. */
function yOf(point: Uint8Array): Uint8Array {
  const y = point.slice(0, 32);
  y[31]! &= 0x7f;
  return y;
}

/** A point encoding RFC 8032 accepts: y < p, and no x = 0 with its sign bit set (y = ±1). */
function canonicalPoint(b: Uint8Array): boolean {
  const signBit = (b[31]! & 0x80) !== 0;
  const y = yOf(b);
  return lessThan(y, P_BYTES) && !(signBit && (sameBytes(y, ONE) || sameBytes(y, P_MINUS_ONE)));
}

/**
 * What a native verification that succeeded still needs so the pure-JS strict check (RFC 8032, no
 * ZIP-215 leniency, key not of small order) would agree: hosts differ in which encodings they
 * accept, and any signature passing the cofactorless equation passes the cofactored one.
 */
function strictEncodings(publicKey: Uint8Array, signature: Uint8Array): boolean {
  const y = yOf(publicKey);
  return canonicalPoint(publicKey) && canonicalPoint(signature.subarray(0, 32)) && lessThan(signature.subarray(32), L_BYTES)
    && !SMALL_ORDER_Y.some((small) => sameBytes(y, small));
}

/**
 * Strict Ed25519 verification with exactly the pure-JS curve's answer (`zip215: false`), the
 * native one first: a signature the host rejects is checked again in JS, so only forgeries pay
 * for the slow path. Never throws.
 */
export async function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  if (hostEd25519 !== undefined) {
    try {
      if (hostEd25519.verify(publicKey, message, signature) && strictEncodings(publicKey, signature)) return true;
    } catch {
      // Read again below by the pure-JS curve, whose answer is final.
    }
    return strictVerify(publicKey, message, signature);
  }
  const subtle = await nativeEd25519();
  if (subtle !== undefined) {
    try {
      const key = await remembered(verifyKeys, toB64u(publicKey), () => subtle.importKey("raw", bytes(publicKey), "Ed25519", false, ["verify"]));
      if (await subtle.verify("Ed25519", key, bytes(signature), bytes(message)) && strictEncodings(publicKey, signature)) return true;
    } catch {
      verifyKeys.delete(toB64u(publicKey));
    }
  }
  return strictVerify(publicKey, message, signature);
}

function strictVerify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  try {
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
