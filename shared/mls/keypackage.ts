import {
  type CiphersuiteImpl,
  generateKeyPackageWithKey,
  type KeyPackage,
  type Lifetime,
  type PrivateKeyPackage,
} from "ts-mls";
import { makeKeyPackageRef } from "ts-mls/keyPackage.js";
import { decodeVarLenData, varLenDataEncoder } from "ts-mls/codec/variableLength.js";
import { composeBufferEncoders, encode } from "ts-mls/codec/tlsEncoder.js";
import { fromB64u, toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import type { DeviceIdentity } from "./device.js";
import { ownCredential } from "./credential.js";
import { capabilities, withCipherSuite } from "./suite.js";
import { fromWire, toWire } from "./wire.js";

/** One published KeyPackage and what the device keeps to use it. */
export interface KeyPackageBundle {
  /** b64u MLSMessage(KeyPackage): what the server stores and hands out on a claim. */
  keyPackage: string;
  /** b64u KeyPackageRef (RFC 9420 §5.2): what a Welcome names its recipient by. */
  ref: string;
  /** b64u of the KeyPackage's two HPKE private keys; stays on the device, deleted once used. */
  secret: string;
}

export const KEY_PACKAGE_LIFETIME_MS = 90 * 24 * 3600 * 1000;
// A device whose clock is a little ahead must not publish KeyPackages others refuse as not yet valid.
const CLOCK_SKEW_MS = 3600 * 1000;

function lifetimeFrom(now: number): Lifetime {
  return {
    notBefore: BigInt(Math.floor((now - CLOCK_SKEW_MS) / 1000)),
    notAfter: BigInt(Math.floor((now + KEY_PACKAGE_LIFETIME_MS) / 1000)),
  };
}

const secretEncoder = encode(composeBufferEncoders([varLenDataEncoder, varLenDataEncoder]));

/**
 * `count` fresh KeyPackages whose leaf signature key is the device key itself and whose credential is
 * the device certificate (PROTOCOL §4), valid for 90 days from `now`.
 */
export async function makeKeyPackages(me: DeviceIdentity, count: number, now = Date.now()): Promise<KeyPackageBundle[]> {
  if (!Number.isSafeInteger(count) || count < 0) throw new EmsgError("bad_request", "The number of KeyPackages must be a whole number.");
  const credential = ownCredential(me);
  const signer = { signKey: me.devicePrivateKey, publicKey: me.devicePublicKey };
  const bundles: KeyPackageBundle[] = [];
  for (let i = 0; i < count; i++) {
    bundles.push(await withCipherSuite(async (cs) => {
      const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
        credential, capabilities(), lifetimeFrom(now), [], signer, cs,
      );
      return {
        keyPackage: toWire({ wireformat: "mls_key_package", keyPackage: publicPackage }),
        ref: await keyPackageRefOf(publicPackage, cs),
        secret: toB64u(secretEncoder([privatePackage.initPrivateKey, privatePackage.hpkePrivateKey])),
      };
    }));
  }
  return bundles;
}

/** A KeyPackage from the wire, in the EMSG ciphersuite (its signatures are checked when it is used). */
export function parseKeyPackage(text: string): KeyPackage {
  return fromWire(text, "mls_key_package").keyPackage;
}

export async function keyPackageRefOf(keyPackage: KeyPackage, cs: CiphersuiteImpl): Promise<string> {
  return toB64u(await makeKeyPackageRef(keyPackage, cs.hash));
}

/** The private half of a bundle; the signature key is the device key, never stored in the bundle. */
export function privatePackageOf(bundle: KeyPackageBundle, me: DeviceIdentity): PrivateKeyPackage {
  const bytes = fromB64u(bundle.secret);
  const init = decodeVarLenData(bytes, 0);
  // ts-mls decoders answer [value, bytes consumed].
  const hpke = init && decodeVarLenData(bytes, init[1]);
  if (!init || !hpke || init[1] + hpke[1] !== bytes.length) throw new EmsgError("bad_request", "A stored KeyPackage secret is damaged.");
  return { initPrivateKey: init[0], hpkePrivateKey: hpke[0], signaturePrivateKey: me.devicePrivateKey };
}
