import {
  createApplicationMessage,
  createCommit,
  createGroup as createMlsGroup,
  emptyPskIndex,
  generateKeyPackageWithKey,
  joinGroup,
  type Proposal,
} from "ts-mls";
import { toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { ownCredential } from "./credential.js";
import type { DeviceIdentity } from "./device.js";
import { guarded, mlsFailure } from "./failure.js";
import { asClient, asGroupState, type GroupState, groupIdBytes, isActive, membersOfTree } from "./group-state.js";
import { type KeyPackageBundle, parseKeyPackage, privatePackageOf } from "./keypackage.js";
import { capabilities, clientConfig, withCipherSuite } from "./suite.js";
import { forgetGroupState, wipeSpent } from "./state-codec.js";
import { fromWire, toWire } from "./wire.js";

/** A new group with this device as its only member, at epoch 0. */
export async function createGroup(me: DeviceIdentity, groupId: string): Promise<GroupState> {
  const id = groupIdBytes(groupId);
  return withCipherSuite(async (cs) => {
    // The creator's own leaf comes from a KeyPackage made for the occasion and never published.
    const { publicPackage, privatePackage } = await generateKeyPackageWithKey(
      ownCredential(me), capabilities(), { notBefore: 0n, notAfter: 2n ** 63n - 1n }, [],
      { signKey: me.devicePrivateKey, publicKey: me.devicePublicKey }, cs,
    );
    return asGroupState(await guarded("Creating the group failed", () => createMlsGroup(id, publicPackage, privatePackage, [], cs, clientConfig)));
  });
}

function ensureActive(state: GroupState): void {
  if (!isActive(state)) throw new EmsgError("forbidden", "This device is no longer a member of the conversation.");
}

// A commit's consumed secrets are not zeroed: if the hub refuses it (`stale_epoch`), the caller goes
// on from the state it had before, which still needs them.
async function commit(state: GroupState, proposals: Proposal[], doing: string) {
  ensureActive(state);
  const result = await withCipherSuite((cs) => createCommit({ state: asClient(state), cipherSuite: cs }, { extraProposals: proposals, ratchetTreeExtension: true }))
    .catch((e: unknown) => {
      if (e instanceof Error && /already in the group|not unique/.test(e.message)) {
        throw new EmsgError("conflict", `${doing}: that device is already in the conversation.`);
      }
      throw mlsFailure(e, doing);
    });
  return { result, state: asGroupState(result.newState) };
}

/**
 * Most devices one commit adds. Each costs about 8 KB of b64u (its KeyPackage in the commit, its
 * leaf and secrets in the Welcome), and a Submit carrying both must fit in `maxBodyBytes` (PROTOCOL §8).
 */
export const MAX_ADDS_PER_COMMIT = 20;

/**
 * One commit adding the devices of `keyPackages` (b64u MLSMessage KeyPackages, as claimed), and the
 * Welcome that lets them join. Each credential is checked (device certificate, leaf key = device key).
 * More than MAX_ADDS_PER_COMMIT is `too_large`: split them over several commits.
 */
export async function addMembers(state: GroupState, keyPackages: string[]): Promise<{ state: GroupState; commit: string; welcome: string }> {
  if (keyPackages.length === 0) throw new EmsgError("bad_request", "Nobody to add.");
  if (keyPackages.length > MAX_ADDS_PER_COMMIT) {
    throw new EmsgError("too_large", `One commit adds at most ${MAX_ADDS_PER_COMMIT} devices; split the rest over further commits.`);
  }
  const proposals: Proposal[] = keyPackages.map((text) => ({ proposalType: "add", add: { keyPackage: parseKeyPackage(text) } }));
  const { result, state: next } = await commit(state, proposals, "Adding members failed");
  if (result.welcome === undefined) throw new EmsgError("internal", "ts-mls made no Welcome for an add.");
  return {
    state: next,
    commit: toWire(result.commit),
    welcome: toWire({ wireformat: "mls_welcome", welcome: result.welcome }),
  };
}

/** One commit removing the given devices; a device id not in the group is `not_found`. */
export async function removeMembers(state: GroupState, deviceIds: string[]): Promise<{ state: GroupState; commit: string }> {
  if (deviceIds.length === 0) throw new EmsgError("bad_request", "Nobody to remove.");
  const members = membersOfTree(asClient(state).ratchetTree);
  const proposals: Proposal[] = [...new Set(deviceIds)].map((deviceId) => {
    const member = members.find((m) => m.body.deviceId === deviceId);
    if (member === undefined) throw new EmsgError("not_found", `Device ${deviceId} is not in the conversation.`);
    return { proposalType: "remove", remove: { removed: member.leafIndex } };
  });
  const { result, state: next } = await commit(state, proposals, "Removing members failed");
  return { state: next, commit: toWire(result.commit) };
}

/**
 * One commit that removes a device's leaf and adds it again from `keyPackage` (its own, checked by
 * the caller as for any add), with the Welcome that lets it join: a device left behind the group is
 * let back in (PROTOCOL §8, Rejoining). A device id not in the group is `not_found`.
 */
export async function readdMember(state: GroupState, deviceId: string, keyPackage: string): Promise<{ state: GroupState; commit: string; welcome: string }> {
  const member = membersOfTree(asClient(state).ratchetTree).find((m) => m.body.deviceId === deviceId);
  if (member === undefined) throw new EmsgError("not_found", `Device ${deviceId} is not in the conversation.`);
  const proposals: Proposal[] = [
    { proposalType: "remove", remove: { removed: member.leafIndex } },
    { proposalType: "add", add: { keyPackage: parseKeyPackage(keyPackage) } },
  ];
  const { result, state: next } = await commit(state, proposals, "Adding the device again failed");
  if (result.welcome === undefined) throw new EmsgError("internal", "ts-mls made no Welcome for an add.");
  return { state: next, commit: toWire(result.commit), welcome: toWire({ wireformat: "mls_welcome", welcome: result.welcome }) };
}

/**
 * An empty commit with a fresh path: new leaf and path keys for this device, so a past leak of
 * its group secrets stops reading what comes next (post-compromise security). Send it now and then.
 */
export async function refreshKeys(state: GroupState): Promise<{ state: GroupState; commit: string }> {
  const { result, state: next } = await commit(state, [], "Refreshing keys failed");
  return { state: next, commit: toWire(result.commit) };
}

/**
 * Joins from a Welcome, picking among this device's unused KeyPackage bundles the one it names.
 * The caller deletes the bundle `usedRef` afterwards: a KeyPackage is single use.
 */
export async function joinFromWelcome(
  me: DeviceIdentity,
  welcome: string,
  secrets: KeyPackageBundle[],
): Promise<{ state: GroupState; usedRef: string }> {
  const parsed = fromWire(welcome, "mls_welcome").welcome;
  const named = new Set(parsed.secrets.map((s) => toB64u(s.newMember)));
  const bundle = secrets.find((b) => named.has(b.ref));
  if (bundle === undefined) throw new EmsgError("not_found", "This Welcome is for none of this device's KeyPackages.");
  const keyPackage = parseKeyPackage(bundle.keyPackage);
  if (toB64u(keyPackage.leafNode.signaturePublicKey) !== toB64u(me.devicePublicKey)) {
    throw new EmsgError("bad_request", "That KeyPackage bundle belongs to another device.");
  }
  const client = await guarded("Joining the conversation failed", () => withCipherSuite((cs) =>
    joinGroup(parsed, keyPackage, privatePackageOf(bundle, me), emptyPskIndex, cs, undefined, undefined, clientConfig),
  ));
  return { state: asGroupState(client), usedRef: bundle.ref };
}

/** An application message to the group: b64u MLSMessage(PrivateMessage). */
export async function encrypt(state: GroupState, plaintext: Uint8Array): Promise<{ state: GroupState; mls: string }> {
  ensureActive(state);
  const result = await guarded("Encrypting failed", () => withCipherSuite((cs) => createApplicationMessage(asClient(state), plaintext, cs)));
  forgetGroupState(state);
  wipeSpent(result.consumed);
  return { state: asGroupState(result.newState), mls: toWire({ wireformat: "mls_private_message", privateMessage: result.privateMessage }) };
}
