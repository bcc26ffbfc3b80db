import { type _HMAC, hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type CiphersuiteImpl, type CryptoProvider, defaultCryptoProvider, type Hash, type Kdf, type Signature } from "ts-mls";
import { signEd25519, verifyEd25519 } from "./ed25519.js";

// ts-mls's default provider runs every HMAC and HKDF step through WebCrypto, importing the key
// each time and waiting on the host's crypto thread (~270 µs a step in Node, ten steps a message).
// SHA-512, HMAC and HKDF here are the pure-JS ones, synchronous (~35 µs a step), so no key is
// imported and none outlives its call: a cached key would keep ratchet secrets MLS deletes.
// Same bytes out, so the wire and stored states do not change.

function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

const sha512Hash: Hash = {
  async digest(data) {
    return sha512(data);
  },
  async mac(key, data) {
    return hmac(sha512, key, data);
  },
  async verifyMac(key, mac, data) {
    return equalInConstantTime(mac, hmac(sha512, key, data));
  },
};

const HASH_BYTES = 64;

type Mac = (key: Uint8Array, data: Uint8Array) => Uint8Array;
const freshMac: Mac = (key, data) => hmac(sha512, key, data);

/** RFC 5869 expand: T(i) = HMAC(prk, T(i-1) || info || i), as many blocks as `length` needs. */
function expand(prk: Uint8Array, info: Uint8Array, length: number, mac: Mac = freshMac): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * HASH_BYTES) throw new Error("HKDF-Expand length out of range");
  const out = new Uint8Array(length);
  let previous: Uint8Array = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++, at += HASH_BYTES) {
    const input = new Uint8Array(previous.length + info.length + 1);
    input.set(previous);
    input.set(info, previous.length);
    input[input.length - 1] = i;
    previous = mac(prk, input);
    out.set(previous.subarray(0, Math.min(HASH_BYTES, length - at)), at);
  }
  return out;
}

const hkdfSha512: Kdf = {
  // An empty salt is HashLen zero bytes (RFC 5869), which HMAC's zero padding of its key already
  // gives; any other length is refused, as ts-mls's default provider refuses it.
  async extract(salt, ikm) {
    if (salt.length !== 0 && salt.length !== HASH_BYTES) throw new Error("HKDF-Extract salt must be empty or HashLen bytes");
    return hmac(sha512, salt, ikm);
  },
  async expand(prk, info, length) {
    return expand(prk, info, length);
  },
  size: HASH_BYTES,
};

const ed25519Signature: Signature = {
  sign: signEd25519,
  verify: verifyEd25519,
  async keygen() {
    const { secretKey, publicKey } = ed25519.keygen();
    return { signKey: secretKey, publicKey };
  },
};

/**
 * EMSG's ts-mls crypto provider: for its suite (SHA-512, Ed25519) the hash, KDF and signatures
 * above; HPKE, the AEAD and randomness are ts-mls's own. Any other suite is ts-mls's default.
 */
export const emsgCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs) {
    const base = await defaultCryptoProvider.getCiphersuiteImpl(cs);
    if (cs.hash !== "SHA-512" || cs.hpke.kdf !== "HKDF-SHA512" || cs.signature !== "Ed25519") return base;
    return { ...base, hash: sha512Hash, kdf: hkdfSha512, signature: ed25519Signature };
  },
};

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
// Injective byte → character map, so equal texts mean equal bytes.
const latin1 = new TextDecoder("latin1");

/**
 * HMAC-SHA512 and SHA-512 for the span of one MLS operation. A key's padded HMAC state is made once
 * and cloned for every MAC under it: a secret-tree node keys four expands and a message's ratchet
 * secret three, and the pads cost half of each MAC. A digest of bytes hashed before in the
 * operation is given again: a joiner's parent-hash check hashes the same subtrees once per leaf.
 * Keys are taken by identity and checked by content (ts-mls may reuse an array); `end` wipes
 * every state, so no secret outlives the operation.
 */
class OperationHashes {
  readonly #keyed = new Map<Uint8Array, { key: Uint8Array; state: _HMAC<ReturnType<typeof sha512.create>> }>();
  readonly #digests = new Map<string, Uint8Array>();

  mac: Mac = (key, data) => {
    let entry = this.#keyed.get(key);
    if (entry === undefined || !equalBytes(entry.key, key)) {
      entry?.state.destroy();
      entry = { key: key.slice(), state: hmac.create(sha512, key) };
      this.#keyed.set(key, entry);
    }
    return entry.state.clone().update(data).digest();
  };

  digest(data: Uint8Array): Uint8Array {
    const text = latin1.decode(data);
    let hash = this.#digests.get(text);
    if (hash === undefined) {
      hash = sha512(data);
      this.#digests.set(text, hash);
    }
    return hash.slice();
  }

  end(): void {
    for (const { key, state } of this.#keyed.values()) {
      key.fill(0);
      state.destroy();
    }
    this.#keyed.clear();
    this.#digests.clear();
  }
}

/**
 * `suite` for one operation (see OperationHashes): its hash and KDF share keyed MAC states and
 * digests until `end`. Same bytes out as `suite`.
 */
export function operationSuite(suite: CiphersuiteImpl): { cs: CiphersuiteImpl; end(): void } {
  const hashes = new OperationHashes();
  const hash: Hash = {
    async digest(data) {
      return hashes.digest(data);
    },
    async mac(key, data) {
      return hashes.mac(key, data);
    },
    async verifyMac(key, mac, data) {
      return equalInConstantTime(mac, hashes.mac(key, data));
    },
  };
  const kdf: Kdf = {
    async extract(salt, ikm) {
      return hkdfSha512.extract(salt, ikm);
    },
    async expand(prk, info, length) {
      return expand(prk, info, length, hashes.mac);
    },
    size: HASH_BYTES,
  };
  return { cs: { ...suite, hash, kdf }, end: () => hashes.end() };
}
