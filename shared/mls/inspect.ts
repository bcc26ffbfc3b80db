import { verifyKeyPackage } from "ts-mls/keyPackage.js";
import { verifyLeafNodeSignatureKeyPackage } from "ts-mls/leafNode.js";
import { toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import type { DeviceCertBody } from "../identity.js";
import { certOfLeaf } from "./credential.js";
import { keyPackageRefOf, parseKeyPackage } from "./keypackage.js";
import { cipherSuite } from "./suite.js";
import { fromWire } from "./wire.js";

/**
 * What a server checks before storing or handing out a KeyPackage: both its signatures verify, and
 * its credential is a valid device certificate for the leaf key. The caller compares `device` with
 * the uploading device. Failures: `bad_request` (malformed) or `unauthorized` (does not verify).
 */
export async function inspectKeyPackage(text: string): Promise<{ ref: string; device: DeviceCertBody; notAfter: number }> {
  const keyPackage = parseKeyPackage(text);
  const cs = await cipherSuite();
  const leaf = keyPackage.leafNode;
  if (!(await verifyKeyPackage(keyPackage, cs.signature)) || !(await verifyLeafNodeSignatureKeyPackage(leaf, cs.signature))) {
    throw new EmsgError("unauthorized", "The KeyPackage's signature does not verify.");
  }
  if (toB64u(keyPackage.initKey) === toB64u(leaf.hpkePublicKey)) throw new EmsgError("bad_request", "The KeyPackage reuses its init key as leaf key.");
  const { body } = certOfLeaf(leaf.credential, leaf.signaturePublicKey);
  return { ref: await keyPackageRefOf(keyPackage, cs), device: body, notAfter: Number(leaf.lifetime.notAfter) * 1000 };
}

export interface MessageInfo {
  conversation: string;
  epoch: number;
  type: "application" | "commit" | "proposal";
}

const utf8 = new TextDecoder();

/** The cleartext header of a member's message: what the hub orders and checks epochs by (PROTOCOL §6). */
export function inspectMessage(mls: string): MessageInfo {
  const message = fromWire(mls, "mls_private_message").privateMessage;
  const epoch = Number(message.epoch);
  if (!Number.isSafeInteger(epoch)) throw new EmsgError("bad_request", "The message's epoch is out of range.");
  return { conversation: utf8.decode(message.groupId), epoch, type: message.contentType };
}
