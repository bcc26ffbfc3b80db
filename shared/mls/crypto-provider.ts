import { type _HMAC, hmac } from "@noble/hashes/hmac.js";
import { sha512 } from "@noble/hashes/sha2.js";
import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { ed25519 } from "@noble/curves/ed25519.js";
import { type CiphersuiteImpl, type CryptoProvider, defaultCryptoProvider, type Hash, type Hpke, type Kdf, type Signature } from "ts-mls";
import { signEd25519, verifyEd25519 } from "./ed25519.js";
import { xWingHpke } from "./x-wing.js";

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

let digestSha512: (data: Uint8Array) => Uint8Array = sha512;

/**
 * Uses a host's own SHA-512 for digests (cli/node-ed25519.ts: Node's) if it hashes a fixed input as
 * the pure-JS one does; says whether it does. A joiner hashes ~220 KB of ratchet tree per join.
 */
export function useHostSha512(host: (data: Uint8Array) => Uint8Array): boolean {
  const probe = new Uint8Array(300).map((_, i) => i);
  try {
    if (!equalInConstantTime(host(probe), sha512(probe))) return false;
  } catch {
    return false;
  }
  digestSha512 = host;
  return true;
}

type Mac = (key: Uint8Array, data: Uint8Array) => Uint8Array;
const pureMac: Mac = (key, data) => hmac(sha512, key, data);
// A host's own HMAC-SHA512 if one was given (useHostHmacSha512).
let hostMac: Mac | undefined;
const freshMac: Mac = (key, data) => (hostMac ?? pureMac)(key, data);

/** HMAC-SHA512 through the host's where one was given (useHostHmacSha512), else pure JS. */
export const hmacSha512: Mac = freshMac;

/**
 * Uses a host's own HMAC-SHA512 (cli/node-ed25519.ts: Node's) if it MACs fixed inputs as the
 * pure-JS one does; says whether it does. A message takes about ten MACs, a joiner's new epoch ~380
 * (the secret tree), each ~3× the host's cost in pure JS even with its padded key state kept.
 */
export function useHostHmacSha512(host: Mac): boolean {
  const data = new Uint8Array(300).map((_, i) => i);
  try {
    for (const key of [new Uint8Array(0), data.subarray(0, 64), data.subarray(0, 200)]) {
      if (!equalInConstantTime(host(key, data), pureMac(key, data))) return false;
    }
  } catch {
    return false;
  }
  hostMac = host;
  return true;
}

const sha512Hash: Hash = {
  async digest(data) {
    return digestSha512(data);
  },
  async mac(key, data) {
    return freshMac(key, data);
  },
  async verifyMac(key, mac, data) {
    return equalInConstantTime(mac, freshMac(key, data));
  },
};

const HASH_BYTES = 64;

/** RFC 5869 expand: T(i) = HMAC(prk, T(i-1) || info || i), as many blocks as `length` needs. */
export function expand(prk: Uint8Array, info: Uint8Array, length: number, mac: Mac = freshMac): Uint8Array {
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
    return freshMac(salt, ikm);
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

/** A host's own ChaCha20-Poly1305 (RFC 8439: 32-byte key, 12-byte nonce, 16-byte tag after the ciphertext). */
export interface HostAead {
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** The plaintext, or undefined if the tag or anything else does not check. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
}

let hostAead: HostAead | undefined;

/**
 * Uses a host's own ChaCha20-Poly1305 (cli/node-ed25519.ts: Node's) for MLS messages and Welcomes
 * if it seals a fixed input as the pure-JS one does and opens it again; says whether it does. A
 * message is four seals or opens, a Welcome's GroupInfo ~100 KB for 50 members.
 */
export function useHostChaCha20Poly1305(host: HostAead): boolean {
  const [key, nonce, aad, plaintext] = [new Uint8Array(32).fill(1), new Uint8Array(12).fill(2), Uint8Array.of(3), new Uint8Array(100).fill(4)];
  try {
    const sealed = host.seal(key, nonce, aad, plaintext);
    if (!equalInConstantTime(sealed, chacha20poly1305(key, nonce, aad).encrypt(plaintext))) return false;
    const opened = host.open(key, nonce, aad, sealed);
    sealed[0]! ^= 1;
    if (opened === undefined || !equalInConstantTime(opened, plaintext) || host.open(key, nonce, aad, sealed) !== undefined) return false;
  } catch {
    return false;
  }
  hostAead = host;
  return true;
}

const NO_AAD = new Uint8Array(0);

/**
 * The suite's AEAD through the host's where one is given. A message the host does not open is
 * opened again by ts-mls's own, whose answer and error are final: only forgeries pay for it.
 */
function withHostAead(hpke: Hpke): Hpke {
  return {
    ...hpke,
    async encryptAead(key, nonce, aad, plaintext) {
      return hostAead === undefined ? hpke.encryptAead(key, nonce, aad, plaintext) : hostAead.seal(key, nonce, aad ?? NO_AAD, plaintext);
    },
    async decryptAead(key, nonce, aad, ciphertext) {
      return hostAead?.open(key, nonce, aad ?? NO_AAD, ciphertext) ?? hpke.decryptAead(key, nonce, aad, ciphertext);
    },
  };
}

/**
 * EMSG's ts-mls crypto provider: for its suite (SHA-512, Ed25519, ChaCha20-Poly1305) the hash, KDF
 * and signatures above, the AEAD through a host's own where one is given, and X-Wing's X25519 too
 * (x-wing.ts); HPKE and randomness are ts-mls's own. Any other suite is ts-mls's default.
 */
export const emsgCryptoProvider: CryptoProvider = {
  async getCiphersuiteImpl(cs) {
    const base = await defaultCryptoProvider.getCiphersuiteImpl(cs);
    if (cs.hash !== "SHA-512" || cs.hpke.kdf !== "HKDF-SHA512" || cs.signature !== "Ed25519" || cs.hpke.aead !== "CHACHA20POLY1305") return base;
    const hpke = cs.hpke.kem === "X-Wing" ? await xWingHpke(cs.hpke) : base.hpke;
    return { ...base, hash: sha512Hash, kdf: hkdfSha512, signature: ed25519Signature, hpke: withHostAead(hpke) };
  },
};

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

type KeyedMac = _HMAC<ReturnType<typeof sha512.create>>;

/**
 * HMAC-SHA512 for the span of one MLS operation. A key's padded state is made once and copied for
 * every MAC under it: a secret-tree node keys four expands and a message's ratchet secret three, and
 * the pads cost half of each MAC. Keys are taken by identity and checked by content (ts-mls may
 * reuse an array); `end` wipes every state, so no secret outlives the operation.
 */
class OperationMacs {
  readonly #keyed = new Map<Uint8Array, { key: Uint8Array; state: KeyedMac }>();
  // Each MAC runs in this one copy of a keyed state rather than a new one.
  #scratch: KeyedMac | undefined;

  mac: Mac = (key, data) => {
    let entry = this.#keyed.get(key);
    if (entry === undefined || !equalBytes(entry.key, key)) {
      entry?.state.destroy();
      entry = { key: key.slice(), state: hmac.create(sha512, key) };
      this.#keyed.set(key, entry);
    }
    this.#scratch = entry.state._cloneInto(this.#scratch);
    return this.#scratch.update(data).digest();
  };

  end(): void {
    for (const { key, state } of this.#keyed.values()) {
      key.fill(0);
      state.destroy();
    }
    this.#scratch?.destroy();
    this.#keyed.clear();
  }
}

/**
 * `suite` for one operation: its MACs and KDF share keyed states (OperationMacs, pure JS only) until
 * `end`. Same bytes out as `suite`. (A received message's sender data, which receive.ts reads to
 * name the sender before ts-mls reads it, is read once by the ts-mls patch: privateMessage.js.)
 */
export function operationSuite(suite: CiphersuiteImpl): { cs: CiphersuiteImpl; end(): void } {
  // A host's own HMAC has no keyed state to share, so operations under it make none.
  const macs = hostMac === undefined ? new OperationMacs() : undefined;
  const mac = macs?.mac ?? freshMac;
  const hash: Hash = {
    digest: sha512Hash.digest,
    async mac(key, data) {
      return mac(key, data);
    },
    async verifyMac(key, tag, data) {
      return equalInConstantTime(tag, mac(key, data));
    },
  };
  const kdf: Kdf = {
    async extract(salt, ikm) {
      return hkdfSha512.extract(salt, ikm);
    },
    async expand(prk, info, length) {
      return expand(prk, info, length, mac);
    },
    size: HASH_BYTES,
  };
  return {
    cs: { ...suite, hash, kdf },
    end: () => macs?.end(),
  };
}
