import * as v from "valibot";
import { ed25519 } from "@noble/curves/ed25519.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { type Address, isAddress } from "./address.js";
import { fromB64u, toB64u } from "./base64url.js";
import { EmsgError } from "./errors.js";
import { fixedB64uSchema, Id16Schema } from "./ids.js";
import { type Signed, signObject, signedSchema, verifyObject } from "./signed.js";

export interface KeyPair {
  publicKey: Uint8Array;
  privateKey: Uint8Array;
}

export const LABEL_MAX = 64;

/** A fresh Ed25519 key pair (account or device key). */
export function generateKeyPair(): KeyPair {
  const { secretKey, publicKey } = ed25519.keygen();
  return { publicKey, privateKey: secretKey };
}

/** The key pair of a 32-byte Ed25519 seed; used for fixed test vectors and restoring exports. */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new EmsgError("bad_request", "An Ed25519 private key is 32 bytes.");
  return { publicKey: ed25519.getPublicKey(seed), privateKey: seed };
}

/** `deviceId` = b64u(SHA-256(device public key)[0..16]). */
export function deviceIdOf(devicePublicKey: Uint8Array): string {
  return toB64u(sha256(devicePublicKey).subarray(0, 16));
}

/** `kid` = b64u(SHA-256(public key)[0..8]). */
export function keyIdOf(publicKey: Uint8Array): string {
  return toB64u(sha256(publicKey).subarray(0, 8));
}

export const PublicKeySchema = fixedB64uSchema(32, "A public key");

export const AddressSchema = v.custom<Address>(isAddress, "An address must be name#host in normal form.");

export interface DeviceCertBody {
  address: Address;
  accountKey: string;
  deviceId: string;
  deviceKey: string;
  created: number;
  label: string;
}

export type DeviceCert = Signed<DeviceCertBody>;

export const DeviceCertBodySchema = v.looseObject({
  address: AddressSchema,
  accountKey: PublicKeySchema,
  deviceId: Id16Schema,
  deviceKey: PublicKeySchema,
  created: v.pipe(v.number(), v.safeInteger(), v.minValue(0)),
  label: v.pipe(
    v.string(),
    v.check((s) => [...s].length <= LABEL_MAX, `A device label has at most ${LABEL_MAX} characters.`),
  ),
});

export const DeviceCertSchema = signedSchema(DeviceCertBodySchema);

/** The account key vouches for one device key: the certificate friends check every device against. */
export function certifyDevice(
  account: KeyPair,
  address: Address,
  devicePublicKey: Uint8Array,
  label: string,
  now: number,
): DeviceCert {
  const body: DeviceCertBody = {
    address,
    accountKey: toB64u(account.publicKey),
    deviceId: deviceIdOf(devicePublicKey),
    deviceKey: toB64u(devicePublicKey),
    created: now,
    label,
  };
  v.parse(DeviceCertBodySchema, body);
  return signObject(account.privateKey, "device-cert", body);
}

/**
 * Validates a device certificate from the wire and returns its body. Malformed → `bad_request`;
 * a bad signature, or an address or account key other than the expected one → `unauthorized`.
 */
export function verifyDeviceCert(cert: unknown, expect: { address?: Address; accountKey?: string } = {}): DeviceCertBody {
  const body = deviceCertBodyOf(cert, expect);
  // Verify the body exactly as received: the signature covers members this version may not know.
  if (!verifyObject(fromB64u(body.accountKey), "device-cert", cert as DeviceCert)) {
    throw new EmsgError("unauthorized", "The device certificate's signature does not verify.");
  }
  return body;
}

/**
 * Every check of `verifyDeviceCert` but the signature, for a caller that verifies it another way
 * (MLS checks leaves through the host's native Ed25519). Never trust its answer alone.
 */
export function deviceCertBodyOf(cert: unknown, expect: { address?: Address; accountKey?: string } = {}): DeviceCertBody {
  const parsed = v.safeParse(DeviceCertSchema, cert);
  if (!parsed.success) {
    throw new EmsgError("bad_request", `Malformed device certificate: ${parsed.issues[0].message}`);
  }
  const body = parsed.output.body as DeviceCertBody;
  if (body.deviceId !== deviceIdOf(fromB64u(body.deviceKey))) {
    throw new EmsgError("bad_request", "The device certificate's deviceId does not match its deviceKey.");
  }
  if (expect.address !== undefined && body.address !== expect.address) {
    throw new EmsgError("unauthorized", `The device certificate is for ${body.address}, not ${expect.address}.`);
  }
  if (expect.accountKey !== undefined && body.accountKey !== expect.accountKey) {
    throw new EmsgError("unauthorized", "The device certificate is signed by a different account key.");
  }
  return body;
}
