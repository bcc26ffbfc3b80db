import type { ClientState, RatchetTree } from "ts-mls";
import { asDomain } from "../address.js";
import { EmsgError } from "../errors.js";
import { type DeviceCert, type DeviceCertBody, verifyDeviceCert } from "../identity.js";
import { isB64uOfLength } from "../ids.js";
import { readCertOfLeaf } from "./credential.js";

declare const opaque: unique symbol;

/**
 * One device's view of one conversation's MLS group. Opaque: only this module's functions read it.
 * It holds the epoch secrets and the device's signature key, so it is stored like a private key.
 * Every operation returns a new state; an old one must not be used again once a newer one is kept.
 */
export type GroupState = { readonly [opaque]: "GroupState" };

export function asClient(state: GroupState): ClientState {
  return state as unknown as ClientState;
}

export function asGroupState(client: ClientState): GroupState {
  return client as unknown as GroupState;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** The MLS group_id of a conversation: UTF8("HUB/ID") (PROTOCOL §8). */
export function groupIdBytes(conversation: string): Uint8Array {
  const slash = conversation.indexOf("/");
  const hub = conversation.slice(0, slash);
  const id = conversation.slice(slash + 1);
  if (slash < 0 || !isB64uOfLength(id, 16)) throw new EmsgError("bad_request", "A conversation is HUB/ID with a 16-byte id.");
  asDomain(hub);
  return utf8.encode(conversation);
}

export function groupIdOf(state: GroupState): string {
  return utf8Decoder.decode(asClient(state).groupContext.groupId);
}

export function epochOf(state: GroupState): number {
  return Number(asClient(state).groupContext.epoch);
}

/** False once a commit removed this device: it can then neither read nor send in the conversation. */
export function isActive(state: GroupState): boolean {
  return asClient(state).groupActiveState.kind === "active";
}

export interface Member {
  leafIndex: number;
  cert: DeviceCert;
  body: DeviceCertBody;
}

/** The members of a ratchet tree with their certificates, in leaf order (leaf i is node 2i). */
export function membersOfTree(tree: RatchetTree): Member[] {
  const members: Member[] = [];
  tree.forEach((node, nodeIndex) => {
    if (node?.nodeType !== "leaf") return;
    const cert = readCertOfLeaf(node.leaf.credential);
    members.push({ leafIndex: nodeIndex / 2, cert, body: cert.body });
  });
  return members;
}

export function memberAt(tree: RatchetTree, leafIndex: number): Member | undefined {
  const node = tree[leafIndex * 2];
  if (node?.nodeType !== "leaf") return undefined;
  const cert = readCertOfLeaf(node.leaf.credential);
  return { leafIndex, cert, body: cert.body };
}

/** Every device in the group, this one included, as its certificate body. */
export function membersOf(state: GroupState): DeviceCertBody[] {
  return membersOfTree(asClient(state).ratchetTree).map((m) => m.body);
}

/**
 * Checks every member against the account keys this user pinned (friends, PROTOCOL §9): throws
 * `unauthorized` naming the first device whose certificate another account key signed. Addresses
 * with no pin (`undefined`) are not checked here; the caller pins them first, as it sees fit.
 */
export function verifyMembers(state: GroupState, pinned: (address: string) => string | undefined): void {
  for (const { cert, body } of membersOfTree(asClient(state).ratchetTree)) {
    const accountKey = pinned(body.address);
    if (accountKey === undefined) continue;
    try {
      verifyDeviceCert(cert, { address: body.address, accountKey });
    } catch {
      throw new EmsgError("unauthorized", `Device ${body.deviceId} claims to be ${body.address} but is not certified by the account key pinned for it.`);
    }
  }
}
