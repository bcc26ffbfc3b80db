import type { Address } from "../address.js";
import { EmsgError } from "../errors.js";
import { verifyDeviceCert } from "../identity.js";
import { randomId16 } from "../ids.js";
import { addMembers, createGroup, encrypt } from "../mls/group.js";
import { decodeGroupState, encodeGroupState } from "../mls/state-codec.js";
import { epochOf } from "../mls/group-state.js";
import { ClaimResponseSchema } from "../wire/account.js";
import {
  CreateConversationResponseSchema,
  parseConversationRef,
  type Submit,
  type SubmitAccepted,
  SubmitAcceptedSchema,
} from "../wire/conversation.js";
import { deviceIdentityOf } from "./account-record.js";
import type { CoreContext } from "./context.js";
import { choosePeerConversation, type ConversationRecord, conversationWith, loadConversation, saveConversation } from "./conversation-record.js";
import { pinnedKey } from "./friends.js";

/**
 * Claims one KeyPackage of every device of `address` (PROTOCOL §8) and checks each device
 * certificate against the account key: the pinned one for a friend, our own for ourselves.
 */
export async function claimKeyPackages(ctx: CoreContext, address: Address, accountKey: string, skipDevice?: string): Promise<string[]> {
  const claim = await ctx.api.call("POST", "/directory/claim", { address }, ClaimResponseSchema);
  if (claim.accountKey !== accountKey) {
    throw new EmsgError("unauthorized", `The server offered keys for ${address} that are not the ones you verified.`);
  }
  const keyPackages: string[] = [];
  for (const { deviceCert, keyPackage } of claim.devices) {
    const body = verifyDeviceCert(deviceCert, { address, accountKey });
    if (body.deviceId !== skipDevice && keyPackage !== null) keyPackages.push(keyPackage);
  }
  return keyPackages;
}

export function hubPath(conversation: string): string {
  const { hub, id } = parseConversationRef(conversation);
  return `/conversations/${encodeURIComponent(hub)}/${encodeURIComponent(id)}`;
}

/**
 * Sends a Submit to the conversation's hub: over its session when one is open (path 2), else, or
 * when the session ended unanswered, through our own server (path 1), with the same id.
 */
export async function submitToHub(ctx: CoreContext, conversation: string, submit: Submit): Promise<SubmitAccepted> {
  const live = await ctx.live?.submit(conversation, submit);
  return live ?? ctx.api.call("POST", `${hubPath(conversation)}/messages`, submit, SubmitAcceptedSchema);
}

/**
 * The 1:1 conversation with a friend, made on first use: this server becomes its hub; one commit
 * adds the friend's devices and this account's other devices, with one Welcome for all of them.
 */
export async function ensureConversation(ctx: CoreContext, peer: Address): Promise<ConversationRecord> {
  const existing = await conversationWith(ctx, peer);
  if (existing) return existing;
  const accountKey = await pinnedKey(ctx, peer);
  if (accountKey === undefined) throw new EmsgError("forbidden", `${peer} is not your friend yet.`);
  const me = ctx.account;
  const theirs = await claimKeyPackages(ctx, peer, accountKey);
  if (theirs.length === 0) throw new EmsgError("not_found", `${peer} has no device that can receive messages right now.`);
  const mine = await claimKeyPackages(ctx, me.address, me.accountPublicKey, me.deviceId);
  const { conversation } = await ctx.api.call(
    "POST", "/conversations", { id: randomId16(), members: [me.address, peer] }, CreateConversationResponseSchema,
  );
  const start = await createGroup(deviceIdentityOf(me), conversation);
  const added = await addMembers(start, [...theirs, ...mine]);
  await submitToHub(ctx, conversation, {
    id: randomId16(),
    epoch: epochOf(start),
    kind: "commit",
    mls: added.commit,
    welcome: added.welcome,
    // Naming this account too sends the Welcome to its other devices as well (PROTOCOL §6).
    roster: { add: [peer, me.address], remove: [] },
  });
  const record: ConversationRecord = {
    conversation,
    members: [me.address, peer],
    peer,
    // Every device added was certified under the key pinned for them (claimKeyPackages).
    peerKey: accountKey,
    group: encodeGroupState(added.state),
    epoch: epochOf(added.state),
    lastHubSeq: 0,
    created: ctx.clock.now(),
    unread: 0,
  };
  await saveConversation(ctx, record);
  await choosePeerConversation(ctx, record);
  return record;
}

/** An application message as encrypted once: what is submitted, however often that is tried. */
export interface SealedApplication {
  epoch: number;
  mls: string;
}

/**
 * Encrypts one application message. The advanced group state is stored before the ciphertext
 * leaves the device, so a crash can never make it reuse a message key.
 */
export async function sealApplication(ctx: CoreContext, conversation: string, plaintext: Uint8Array): Promise<SealedApplication> {
  const record = await loadConversation(ctx, conversation);
  if (!record) throw new EmsgError("not_found", "No such conversation on this device.");
  if (record.unsafe) throw new EmsgError("unauthorized", record.unsafe);
  const { state, mls } = await encrypt(await decodeGroupState(record.group), plaintext);
  const epoch = epochOf(state);
  await saveConversation(ctx, { ...record, group: encodeGroupState(state), epoch }, false);
  return { epoch, mls };
}

/** Submits a sealed application message under Submit id `id`. */
export async function submitApplication(ctx: CoreContext, conversation: string, id: string, sealed: SealedApplication) {
  return { ...(await submitToHub(ctx, conversation, { id, epoch: sealed.epoch, kind: "application", mls: sealed.mls })), epoch: sealed.epoch };
}
