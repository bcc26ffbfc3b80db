import { CipherSuite, HkdfSha512, InvalidParamError } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Hpke, HpkeAlgorithm } from "ts-mls";
import { makeAead } from "ts-mls/crypto/implementation/default/makeAead.js";
import { makeKdf } from "ts-mls/crypto/implementation/default/makeKdfImpl.js";
import { makeGenericHpke } from "ts-mls/crypto/implementation/hpke.js";
import { expand, hmacSha512 } from "./crypto-provider.js";

// X-Wing's X25519 through a host's own where one is given: each decapsulation (a Welcome, a commit's
// path secret) and each key derived from a path secret takes one or two X25519 scalar multiplications,
// ~0.7 ms each in the pure-JS curve and ~0.05 ms in Node's. The HPKE around it is ts-mls's own,
// built as ts-mls builds it, so the bytes are the same.

/** A host's X25519 (RFC 7748): the shared secret of a 32-byte secret key and a 32-byte public key; may throw. */
export type HostX25519 = (secretKey: Uint8Array, publicKey: Uint8Array) => Uint8Array;

let hostX25519: HostX25519 | undefined;

const equalBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Uses `host` for X-Wing's X25519 from now on if it agrees with the pure-JS curve on fixed keys; says whether it does. */
export function useHostX25519(host: HostX25519): boolean {
  const secret = new Uint8Array(32).map((_, i) => i + 1);
  const base = new Uint8Array(32);
  base[0] = 9;
  try {
    const publicKey = host(secret, base);
    const peer = x25519.getPublicKey(new Uint8Array(32).fill(3));
    if (!equalBytes(publicKey, x25519.getPublicKey(secret)) || !equalBytes(host(secret, peer), x25519.getSharedSecret(secret, peer))) return false;
  } catch {
    return false;
  }
  hostX25519 = host;
  return true;
}

/** X-Wing whose X25519 asks the host first; where the host refuses (e.g. an all-zero result) the pure-JS answer stands, as before. */
class XWingWithHostX25519 extends XWing {
  constructor() {
    super();
    const pureJs = this._x25519;
    const derive = async (sk: Uint8Array, pk: Uint8Array): Promise<Uint8Array> => {
      if (hostX25519 !== undefined) {
        try {
          return hostX25519(sk, pk);
        } catch {
          // Answered below by the pure-JS curve.
        }
      }
      return pureJs.derive(sk, pk);
    };
    this._x25519 = Object.assign(Object.create(pureJs) as typeof pureJs, { derive });
  }
}

const HASH_BYTES = 64;

/** A fresh ArrayBuffer of exactly these bytes, as WebCrypto answers. */
const bufferOf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

/**
 * HPKE's HKDF-SHA512 computed here, synchronously, through the MLS code's HMAC: @hpke's runs each
 * step through WebCrypto, whose HKDF cost ~200 µs of CPU a call in Node (five steps an HPKE seal or
 * open: a Welcome, every commit's path secret). Same bytes and the same refusals as @hpke's.
 */
export class HkdfSha512Here extends HkdfSha512 {
  override async extract(salt: ArrayBuffer, ikm: ArrayBuffer): Promise<ArrayBuffer> {
    if (salt.byteLength !== 0 && salt.byteLength !== HASH_BYTES) throw new InvalidParamError("The salt length must be the same as the hashSize");
    // An empty salt is HashLen zeros (RFC 5869), which HMAC's zero padding of its key already gives.
    return bufferOf(hmacSha512(new Uint8Array(salt), new Uint8Array(ikm)));
  }

  override async expand(prk: ArrayBuffer, info: ArrayBuffer, len: number): Promise<ArrayBuffer> {
    // @hpke imports the key for HMAC with a length of HashLen, which WebCrypto holds it to.
    if (prk.byteLength !== HASH_BYTES) throw new DOMException("Invalid key length", "DataError");
    if (len > 255 * HASH_BYTES) throw new Error("Entropy limit reached");
    return bufferOf(expand(new Uint8Array(prk), new Uint8Array(info), len, hmacSha512));
  }

  override async extractAndExpand(salt: ArrayBuffer, ikm: ArrayBuffer, info: ArrayBuffer, len: number): Promise<ArrayBuffer> {
    // WebCrypto's HKDF takes a salt of any length, the HMAC key of its extract step, and refuses
    // more than 255 hash lengths of output.
    if (len > 255 * HASH_BYTES) throw new DOMException("The operation failed for an operation-specific reason", "OperationError");
    return bufferOf(expand(hmacSha512(new Uint8Array(salt), new Uint8Array(ikm)), new Uint8Array(info), len, hmacSha512));
  }
}

/**
 * ts-mls's HPKE for an X-Wing suite, as its default provider makes it (makeHpke), with the X-Wing
 * and (for HKDF-SHA512) the HKDF above. Keys are X-Wing's own objects, the same as the default's.
 */
export async function xWingHpke(alg: HpkeAlgorithm): Promise<Hpke> {
  const [aead, aeadInterface] = await makeAead(alg.aead);
  const suite = new CipherSuite({ kem: new XWingWithHostX25519(), kdf: alg.kdf === "HKDF-SHA512" ? new HkdfSha512Here() : makeKdf(alg.kdf), aead: aeadInterface });
  return makeGenericHpke(alg, aead, suite);
}
