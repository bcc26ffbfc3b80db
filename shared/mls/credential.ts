import type { AuthenticationService, Credential } from "ts-mls";
import { toB64u } from "../base64url.js";
import { jcs } from "../canonical.js";
import { EmsgError } from "../errors.js";
import { type DeviceCert, type DeviceCertBody, verifyDeviceCert } from "../identity.js";

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
  const body = verifyDeviceCert(cert);
  if (body.deviceKey !== toB64u(signaturePublicKey)) {
    throw new EmsgError("unauthorized", "A member's MLS signature key is not its certified device key.");
  }
  return { cert: cert as DeviceCert, body };
}

/** This device's credential, refused here rather than at every peer if the cert is not for its key. */
export function ownCredential(me: { deviceCert: DeviceCert; devicePublicKey: Uint8Array }): Credential {
  const credential = credentialOf(me.deviceCert);
  certOfLeaf(credential, me.devicePublicKey);
  return credential;
}

/**
 * The certificate of a leaf already in the group. Every leaf was checked with `certOfLeaf` when it
 * entered, so this only reads it: re-verifying each member on every message would cost ~1 ms each.
 */
export function readCertOfLeaf(credential: Credential): DeviceCert {
  if (credential.credentialType !== "basic") throw new EmsgError("internal", "A group member has a non-basic credential.");
  return JSON.parse(strictUtf8.decode(credential.identity)) as DeviceCert;
}

/** What ts-mls asks whenever a leaf enters the group or changes: on add, on join, on every commit path. */
export const deviceCredentialService: AuthenticationService = {
  async validateCredential(credential, signaturePublicKey) {
    try {
      certOfLeaf(credential, signaturePublicKey);
      return true;
    } catch (e) {
      if (e instanceof EmsgError) return false;
      throw e;
    }
  },
};
