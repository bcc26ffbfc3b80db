import {
  type CiphersuiteImpl,
  type ClientState,
  emptyPskIndex,
  type IncomingMessageCallback,
  type PrivateMessage,
  processPrivateMessage,
  type RatchetTree,
} from "ts-mls";
import { decryptSenderData } from "ts-mls/privateMessage.js";
import { toB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import type { DeviceCertBody } from "../identity.js";
import { guarded, mlsFailure } from "./failure.js";
import { asClient, asGroupState, type GroupState, isActive, memberAt, membersOfTree } from "./group-state.js";
import { withCipherSuite } from "./suite.js";
import { forgetGroupState, wipeSpent } from "./state-codec.js";
import { fromWire } from "./wire.js";

/** `sender` is the member the message is from, as MLS proves it: never a server's word (PROTOCOL §8). */
export type Processed =
  | { kind: "application"; state: GroupState; plaintext: Uint8Array; sender: DeviceCertBody; epoch: number }
  | { kind: "commit"; state: GroupState; epoch: number; added: DeviceCertBody[]; removed: DeviceCertBody[]; sender: DeviceCertBody }
  | { kind: "proposal"; state: GroupState; sender: DeviceCertBody };

export type ContentType = Processed["kind"];

// EMSG members only add, remove and update; anything else in a commit (re-init, PSKs, external
// joins, new group extensions) has no meaning in v1 and is refused rather than applied.
const ALLOWED: ReadonlySet<unknown> = new Set(["add", "remove", "update"]);
const onlyMembershipChanges: IncomingMessageCallback = (incoming) => {
  const proposals = incoming.kind === "commit" ? incoming.proposals : [incoming.proposal];
  return proposals.every((p) => ALLOWED.has(p.proposal.proposalType)) ? "accept" : "reject";
};

function checkEpoch(client: ClientState, message: PrivateMessage): void {
  const current = client.groupContext.epoch;
  if (message.epoch > current) {
    throw new EmsgError("stale_epoch", `The message is from epoch ${message.epoch}, this device is at ${current}: process the commits before it first.`);
  }
  if (message.contentType !== "application" && message.epoch < current) {
    throw new EmsgError("stale_epoch", `A ${message.contentType} from past epoch ${message.epoch} (now ${current}): already applied or superseded.`);
  }
}

/** The sender of a message, read with the secrets of the epoch it was sent in. */
async function senderOf(client: ClientState, message: PrivateMessage, cs: CiphersuiteImpl): Promise<DeviceCertBody> {
  const past = client.historicalReceiverData.get(message.epoch);
  const current = message.epoch === client.groupContext.epoch;
  if (!current && past === undefined) throw new EmsgError("stale_epoch", `Epoch ${message.epoch} is too old to read any more.`);
  const secret = current ? client.keySchedule.senderDataSecret : past!.senderDataSecret;
  const tree = current ? client.ratchetTree : past!.ratchetTree;
  const data = await guarded("The message's sender cannot be read", () => decryptSenderData(message, secret, cs));
  const sender = data && memberAt(tree, data.leafIndex);
  if (sender === undefined) throw new EmsgError("unauthorized", "The message's sender is not a member of the conversation.");
  return sender.body;
}

/** Who a commit added and removed, by device: the trees before and after it, compared. */
function membershipChange(before: RatchetTree, after: RatchetTree): { added: DeviceCertBody[]; removed: DeviceCertBody[] } {
  const was = membersOfTree(before).map((m) => m.body);
  const is = membersOfTree(after).map((m) => m.body);
  const wasIds = new Set(was.map((b) => b.deviceId));
  const isIds = new Set(is.map((b) => b.deviceId));
  return { added: is.filter((b) => !wasIds.has(b.deviceId)), removed: was.filter((b) => !isIds.has(b.deviceId)) };
}

/**
 * Reads one message of the group, in hub order. Application → the plaintext and its authenticated
 * sender; commit → the new epoch and who came and went. Failures are EmsgErrors and leave `state`
 * as it was: garbage `bad_request`, a forgery or tampering `unauthorized`, a handshake from a past
 * epoch or any message from a future one `stale_epoch`, anything after this device's removal `forbidden`.
 * `expected` is the content type the message was delivered as: one that is not what it is is
 * `bad_request`, read no further (a commit posing as a proposal, an application message as either).
 */
export async function processMessage(state: GroupState, mls: string, expected?: ContentType): Promise<Processed> {
  const message = fromWire(mls, "mls_private_message").privateMessage;
  const client = asClient(state);
  if (toB64u(message.groupId) !== toB64u(client.groupContext.groupId)) {
    throw new EmsgError("bad_request", "The message belongs to another conversation.");
  }
  if (expected !== undefined && message.contentType !== expected) {
    throw new EmsgError("bad_request", `The message was delivered as type ${expected} but is of type ${message.contentType}.`);
  }
  if (!isActive(state)) throw new EmsgError("forbidden", "This device is no longer a member of the conversation.");
  checkEpoch(client, message);
  const { sender, result } = await withCipherSuite(async (cs) => ({
    sender: await senderOf(client, message, cs),
    result: await processPrivateMessage(client, message, emptyPskIndex, cs, onlyMembershipChanges),
  })).catch((e: unknown) => {
    // Its key is gone: used (a replay, or a copy under another hub position) or dropped, past the
    // skipped generations kept (§8). Not proof of a duplicate: the caller knows what it read by hub position.
    if (e instanceof Error && /gen in the past/.test(e.message)) throw new EmsgError("conflict", "This message's key is no longer held: read already, or skipped too long ago.");
    throw mlsFailure(e, "The message cannot be read");
  });
  if (result.kind === "newState" && result.actionTaken === "reject") {
    throw new EmsgError("bad_request", "The commit does something EMSG does not allow (only adding, removing and updating members).");
  }
  forgetGroupState(state);
  wipeSpent(result.consumed);
  const next = asGroupState(result.newState);
  // The epoch it was encrypted at: part of what its AEAD authenticates, not the server's word.
  if (result.kind === "applicationMessage") return { kind: "application", state: next, plaintext: result.message, sender, epoch: Number(message.epoch) };
  if (message.contentType === "proposal") return { kind: "proposal", state: next, sender };
  return {
    kind: "commit",
    state: next,
    sender,
    epoch: Number(result.newState.groupContext.epoch),
    ...membershipChange(client.ratchetTree, result.newState.ratchetTree),
  };
}
