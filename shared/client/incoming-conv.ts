import type { Address } from "../address.js";
import { EmsgError } from "../errors.js";
import { joinFromWelcome } from "../mls/group.js";
import { epochOf, type GroupState, isActive, verifyMembers, membersOf } from "../mls/group-state.js";
import { type Processed, processMessage } from "../mls/receive.js";
import { decodeGroupState, encodeGroupState } from "../mls/state-codec.js";
import type { ConvPayload } from "../wire/conversation.js";
import { decodeContent } from "../content.js";
import { deviceIdentityOf } from "./account-record.js";
import { forgetKeyPackage, unusedKeyPackages } from "./account.js";
import type { CoreContext } from "./context.js";
import { afterLeaving, type ConversationRecord, loadConversation, markApplied, saveConversation, wasApplied } from "./conversation-record.js";
import { readDirectly } from "./direct-copies.js";
import { getFriend } from "./friends.js";
import { addNotice, noticeRosterChange, readLeave, readTitle } from "./group-changes.js";
import { ownItemBack } from "./own-commits.js";
import { findMessage, type MessageRecord, saveMessage, setStatus } from "./messages.js";

/** What applying a conversation item asks of the caller afterwards. */
export interface ConvOutcome {
  /** Ids of messages to acknowledge with a delivery receipt. */
  receipts?: { conversation: string; ids: string[] };
}

async function pinnedOf(ctx: CoreContext, address: string): Promise<string | undefined> {
  if (address === ctx.account.address) return ctx.account.accountPublicKey;
  const friend = await getFriend(ctx, address as Address);
  return friend?.accountKey || undefined;
}

/** Checks every member's certificate against the key pinned for its address, where one is (PROTOCOL §8). */
async function checkPins(ctx: CoreContext, state: GroupState): Promise<void> {
  const pins = new Map<string, string | undefined>();
  for (const { address } of membersOf(state)) if (!pins.has(address)) pins.set(address, await pinnedOf(ctx, address));
  verifyMembers(state, (address) => pins.get(address));
}

/**
 * A Welcome: join, unless this device already is in the conversation or the Welcome is for another
 * device. A group this account left or was removed from is joined again when a member adds it back.
 */
async function join(ctx: CoreContext, item: ConvPayload): Promise<ConvOutcome> {
  const existing = await loadConversation(ctx, item.conversation);
  if (existing && !existing.left) return {};
  let joined;
  try {
    joined = await joinFromWelcome(deviceIdentityOf(ctx.account), item.mls, await unusedKeyPackages(ctx));
  } catch (error) {
    // Every device of the account gets the same Welcome; one naming another device is not ours.
    if (error instanceof EmsgError && error.code === "not_found") return {};
    throw error;
  }
  await checkPins(ctx, joined.state);
  const members = item.members ?? [...new Set(membersOf(joined.state).map((m) => m.address))];
  const others = members.filter((a) => a !== ctx.account.address);
  // A group's creation names at least three accounts; a 1:1 two. A group that shrank to two is
  // recognized by the name its members send after every add.
  const group = existing?.kind === "group" || others.length !== 1;
  const { left: _left, leaving: _leaving, ...kept } = existing ?? ({} as Partial<ConversationRecord>);
  const record: ConversationRecord = {
    ...kept,
    conversation: item.conversation,
    members,
    ...(group ? { kind: "group" as const } : { kind: "direct" as const, peer: others[0]! }),
    group: encodeGroupState(joined.state),
    epoch: epochOf(joined.state),
    lastHubSeq: item.hubSeq,
    applied: [item.hubSeq],
    created: existing?.created ?? item.at,
    unread: existing?.unread ?? 0,
  };
  await saveConversation(ctx, record);
  await forgetKeyPackage(ctx, joined.usedRef);
  // The creating commit is the hub's first (epoch 0); a later Welcome from our own account only
  // brings a newly linked device into a group the account is in already, which is no news.
  if (group && item.epoch === 0) {
    // The name comes in the creator's next message; the notice is kept as it was seen.
    await addNotice(ctx, item.conversation, item.id, item.at, { type: "created", by: item.from, who: members.filter((a) => a !== item.from) });
  }
  else if (group && item.from !== ctx.account.address) {
    await addNotice(ctx, item.conversation, item.id, item.at, { type: "added", by: item.from, who: [ctx.account.address] });
  }
  return replayParked(ctx, item.conversation);
}

const parkedPrefix = (conversation: string) => `parked/${conversation}/`;

/**
 * Keeps an item of a conversation this device has not joined yet: with retries between
 * servers, a message can arrive before the Welcome it needs. It is applied after the join.
 */
async function park(ctx: CoreContext, item: ConvPayload): Promise<void> {
  await ctx.store.put(`${parkedPrefix(item.conversation)}${String(item.hubSeq).padStart(12, "0")}-${item.type}`, item);
}

async function replayParked(ctx: CoreContext, conversation: string): Promise<ConvOutcome> {
  const ids: string[] = [];
  for (const [key, item] of await ctx.store.list<ConvPayload>(parkedPrefix(conversation))) {
    try {
      ids.push(...((await applyConvItem(ctx, item)).receipts?.ids ?? []));
    } catch (error) {
      if (!(error instanceof EmsgError)) throw error;
      console.warn(`emsg: a held conversation item was dropped: ${error.message}`);
    }
    await ctx.store.delete(key);
  }
  return ids.length > 0 ? { receipts: { conversation, ids } } : {};
}

async function applyText(ctx: CoreContext, record: ConversationRecord, message: MessageRecord): Promise<ConversationRecord> {
  const known = await findMessage(ctx, message.id);
  if (!known) {
    await saveMessage(ctx, message);
    ctx.events.emit("message", message);
  }
  const last = { id: message.id, from: message.from, text: message.text, at: message.at, direction: message.direction, status: message.status };
  const newer = !record.last || record.last.at <= message.at;
  return {
    ...record,
    ...(newer ? { last } : {}),
    unread: record.unread + (!known && message.direction === "in" ? 1 : 0),
  };
}

/**
 * Stores what an application message says (`record` already holds the state that read it): a text
 * is kept and announced once, a receipt marks our messages delivered. `hubSeq` is absent for a
 * direct copy, which arrives before the hub has ordered it.
 */
export async function readApplication(
  ctx: CoreContext,
  record: ConversationRecord,
  processed: Extract<Processed, { kind: "application" }>,
  hubSeq?: number,
): Promise<{ record: ConversationRecord; outcome: ConvOutcome }> {
  const sender = processed.sender.address;
  const content = decodeContent(processed.plaintext);
  // After leaving, the group's history stays as it was: nothing new is shown.
  if (afterLeaving(record, hubSeq)) return { record, outcome: {} };
  if (content.type === "group") return { record: await readTitle(ctx, record, content, sender), outcome: {} };
  if (content.type === "leave") return { record: await readLeave(ctx, record, content, sender, hubSeq), outcome: {} };
  if (content.type === "text") {
    const direction = sender === ctx.account.address ? "out" : "in";
    const next = await applyText(ctx, record, {
      id: content.id,
      conversation: record.conversation,
      from: sender,
      direction,
      text: content.text,
      at: content.sentAt,
      ...(hubSeq === undefined ? {} : { hubSeq }),
      status: direction === "out" ? "sent" : "received",
    });
    return { record: next, outcome: direction === "in" ? { receipts: { conversation: record.conversation, ids: [content.id] } } : {} };
  }
  if (content.type === "receipt" && sender !== ctx.account.address) {
    for (const id of content.of) await setStatus(ctx, id, "delivered");
  }
  return { record, outcome: {} };
}

/**
 * One entry of a hub's log. Items this device already applied (by hub order) and its own
 * submissions coming back are skipped; the new group state and its position are stored together.
 */
export async function applyConvItem(ctx: CoreContext, item: ConvPayload): Promise<ConvOutcome> {
  if (item.type === "welcome") return join(ctx, item);
  const record = await loadConversation(ctx, item.conversation);
  // Hub order is not arrival order: a peer's outbox retries can overtake. MLS reads application
  // messages of an epoch in any order; exact positions already applied are skipped.
  if (!record) {
    await park(ctx, item);
    return {};
  }
  if (wasApplied(record, item.hubSeq)) return {};
  if (item.deviceId === ctx.account.deviceId) {
    await ownItemBack(ctx, record, item);
    return {};
  }
  if (readDirectly(record, item.mls)) {
    // Its direct copy (path 3) was read already; this is the same ciphertext, now in hub order.
    await saveConversation(ctx, markApplied(record, item.hubSeq), false);
    return {};
  }
  const processed = await processMessage(await decodeGroupState(record.group), item.mls);
  let next: ConversationRecord = markApplied({ ...record, group: encodeGroupState(processed.state) }, item.hubSeq);
  let outcome: ConvOutcome = {};
  if (processed.kind === "commit") {
    try {
      next = await readCommit(ctx, { ...next, epoch: processed.epoch }, processed, item);
    } catch (error) {
      // The group stays where it was, and says why it takes no more messages (PROTOCOL §8).
      if (error instanceof EmsgError && error.code === "unauthorized") await saveConversation(ctx, { ...record, unsafe: error.message });
      throw error;
    }
  } else if (processed.kind === "application") {
    ({ record: next, outcome } = await readApplication(ctx, next, processed, item.hubSeq));
  }
  const changed = next.last?.id !== record.last?.id || next.epoch !== record.epoch || next.title !== record.title || next.left !== record.left;
  await saveConversation(ctx, next, changed || next.kind !== record.kind);
  return outcome;
}

/**
 * A commit by someone else: who joined or went, and whether this device is still in the group.
 * Devices it adds must belong to accounts on the roster after it: otherwise someone would read
 * the group without the members seeing their name (PROTOCOL §12).
 */
async function readCommit(
  ctx: CoreContext,
  record: ConversationRecord,
  processed: Extract<Processed, { kind: "commit" }>,
  item: ConvPayload,
): Promise<ConversationRecord> {
  const members = item.members ?? record.members;
  if (!isActive(processed.state)) {
    const removed = record.left ? [] : [ctx.account.address];
    if (record.kind === "group" && removed.length > 0) {
      await addNotice(ctx, record.conversation, item.id, item.at, { type: "removed", by: item.from, who: removed });
    }
    return { ...record, members, left: true };
  }
  const hidden = item.members && processed.added.find((d) => !item.members!.includes(d.address));
  if (hidden) throw new EmsgError("unauthorized", `A commit adds a device of ${hidden.address}, who is not on the conversation's roster.`);
  await checkPins(ctx, processed.state);
  if (record.left) return { ...record, members };
  return noticeRosterChange(ctx, record, members, { by: item.from, id: item.id, at: item.at });
}
