import { CipherSuite } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";
import { x25519 } from "@noble/curves/ed25519.js";
import type { Hpke, HpkeAlgorithm } from "ts-mls";
import { makeAead } from "ts-mls/crypto/implementation/default/makeAead.js";
import { makeKdf } from "ts-mls/crypto/implementation/default/makeKdfImpl.js";
import { makeGenericHpke } from "ts-mls/crypto/implementation/hpke.js";

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

/**
 * ts-mls's HPKE for an X-Wing suite, as its default provider makes it (makeHpke), with the X-Wing
 * above. Keys are X-Wing's own objects, the same as the default's.
 */
export async function xWingHpke(alg: HpkeAlgorithm): Promise<Hpke> {
  const [aead, aeadInterface] = await makeAead(alg.aead);
  const suite = new CipherSuite({ kem: new XWingWithHostX25519(), kdf: makeKdf(alg.kdf), aead: aeadInterface });
  return makeGenericHpke(alg, aead, suite);
}
