import type { AuthenticationService, Credential } from "ts-mls";
import { fromB64u, toB64u } from "../base64url.js";
import { jcs } from "../canonical.js";
import { EmsgError } from "../errors.js";
import { type DeviceCert, type DeviceCertBody, deviceCertBodyOf, verifyDeviceCert } from "../identity.js";
import { signingInput } from "../signed.js";
import { verifyEd25519 } from "./ed25519.js";

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The MLS credential of a device: `basic`, identity = UTF8(JCS(deviceCert)) (PROTOCOL §4). */
export function credentialOf(cert: DeviceCert): Credential {
  return { credentialType: "basic", identity: utf8.encode(jcs(cert)) };
}

/**
 * The device certificate carried by an MLS leaf, checked: the identity must be exactly the JCS text
 * of a device certificate whose signature verifies under its own account key, and the leaf's
 * signature key must be the certified device key. Anything else → EmsgError.
 */
export function certOfLeaf(credential: Credential, signaturePublicKey: Uint8Array): { cert: DeviceCert; body: DeviceCertBody } {
  const cert = canonicalCertOf(credential);
  const body = verifyDeviceCert(cert);
  keyOfLeafIsCertified(body, signaturePublicKey);
  return { cert, body };
}

/** `certOfLeaf`, its account signature checked through the host's native Ed25519 where it has one. */
async function certOfLeafNative(credential: Credential, signaturePublicKey: Uint8Array): Promise<void> {
  const cert = canonicalCertOf(credential);
  const body = deviceCertBodyOf(cert);
  keyOfLeafIsCertified(body, signaturePublicKey);
  if (!(await verifyEd25519(fromB64u(body.accountKey), signingInput("device-cert", cert.body), fromB64u(cert.sig)))) {
    throw new EmsgError("unauthorized", "The device certificate's signature does not verify.");
  }
}

function keyOfLeafIsCertified(body: DeviceCertBody, signaturePublicKey: Uint8Array): void {
  if (body.deviceKey !== toB64u(signaturePublicKey)) {
    throw new EmsgError("unauthorized", "A member's MLS signature key is not its certified device key.");
  }
}

function canonicalCertOf(credential: Credential): DeviceCert {
  if (credential.credentialType !== "basic") throw new EmsgError("unauthorized", "A member's MLS credential is not an EMSG device certificate.");
  let text: string;
  let cert: unknown;
  try {
    text = strictUtf8.decode(credential.identity);
    cert = JSON.parse(text);
  } catch {
    throw new EmsgError("bad_request", "A member's MLS credential is not JSON.");
  }
  // One byte string per certificate, so leaves can be compared and hashed by their identity.
  if (jcs(cert) !== text) throw new EmsgError("bad_request", "A member's MLS credential is not canonical JSON.");
  return cert as DeviceCert;
}

/** This device's credential, refused here rather than at every peer if the cert is not for its key. */
export function ownCredential(me: { deviceCert: DeviceCert; devicePublicKey: Uint8Array }): Credential {
  const credential = credentialOf(me.deviceCert);
  certOfLeaf(credential, me.devicePublicKey);
  return credential;
}

// Read certificates by the identity bytes they were read from: a tree's leaves keep theirs from
// state to state, and every message names its sender through one.
const readCerts = new WeakMap<Uint8Array, DeviceCert>();

/**
 * The certificate of a leaf already in the group. Every leaf was checked with `certOfLeaf` when it
 * entered, so this only reads it: re-verifying each member on every message would cost ~1 ms each.
 * Frozen: the same object is handed to every caller.
 */
export function readCertOfLeaf(credential: Credential): DeviceCert {
  if (credential.credentialType !== "basic") throw new EmsgError("internal", "A group member has a non-basic credential.");
  let cert = readCerts.get(credential.identity);
  if (cert === undefined) {
    cert = JSON.parse(strictUtf8.decode(credential.identity)) as DeviceCert;
    Object.freeze(cert.body);
    Object.freeze(cert);
    readCerts.set(credential.identity, cert);
  }
  return cert;
}

/** What ts-mls asks whenever a leaf enters the group or changes: on add, on join, on every commit path. */
export const deviceCredentialService: AuthenticationService = {
  async validateCredential(credential, signaturePublicKey) {
    try {
      await certOfLeafNative(credential, signaturePublicKey);
      return true;
    } catch (e) {
      if (e instanceof EmsgError) return false;
      throw e;
    }
  },
};
