import { EmsgError } from "../errors.js";
import { joinFromWelcome } from "../mls/group.js";
import { epochOf, groupIdOf, isActive } from "../mls/group-state.js";
import { sealOfCommit, sealOfState } from "../mls/commit-seal.js";
import { type Processed, processMessage } from "../mls/receive.js";
import { decodeGroupState, encodeGroupState } from "../mls/state-codec.js";
import type { ConvPayload } from "../wire/conversation.js";
import type { Address } from "../address.js";
import { type Content, decodeContent, type TypingContent } from "../content.js";
import { readReceiptsOn } from "./account-settings.js";
import { applyHeld, readChange, readOnOtherDevice, readReceipt, TYPING_LATE_MS } from "./message-changes.js";
import { indexMessages } from "./search.js";
import { readTimer } from "./retention.js";
import { deviceIdentityOf } from "./account-record.js";
import { forgetKeyPackage, unusedKeyPackages } from "./account.js";
import type { CoreContext } from "./context.js";
import {
  afterLeaving,
  choosePeerConversation,
  type ConversationRecord,
  dropPeerConversation,
  loadConversation,
  markApplied,
  saveConversation,
  shownAt,
  wasApplied,
} from "./conversation-record.js";
import { accountsOf, type Proven, proveMembers } from "./conversation-trust.js";
import { readDirectly } from "./direct-copies.js";
import { addNotice, asGroup, noticeRosterChange, readLeave, readTitle } from "./group-changes.js";
import { ownItemBack } from "./own-commits.js";
import { readWithdrawal, rememberBefore, vetoIfUnreadable } from "./withdrawals.js";
import { readdedBy, readRejoin, rejoinedBy } from "./rejoin.js";
import { checkReaddedByMember } from "./rejoin-welcome.js";
import { groupTextIn, readAheadIn } from "./store-batch.js";
import { findMessage, type MessageRecord, saveMessage, SENT_AHEAD_MS } from "./messages.js";
import { attachmentRecordOf } from "./attachments.js";
import { readProfile } from "./profiles.js";

/** What applying a conversation item asks of the caller afterwards. */
export interface ConvOutcome {
  /** Ids of messages to acknowledge with a delivery receipt. */
  receipts?: { conversation: string; ids: string[] };
}

/**
 * A Welcome: join, unless this device already is in the conversation or the Welcome is for another
 * device. A group this account left or was removed from is joined again when a member adds it back.
 * Who is in it, and whether it is the 1:1 with a friend, is read from the tree, not from the hub's
 * `members` and `from` (PROTOCOL §8). One holding a device that another key signed for an address
 * whose key is pinned is kept marked unsafe, read and written no more, so the user sees who posed
 * as whom.
 */
async function join(ctx: CoreContext, item: ConvPayload): Promise<ConvOutcome> {
  const existing = await loadConversation(ctx, item.conversation);
  // In a conversation, a Welcome is taken only to be let back in (PROTOCOL §8, Rejoining).
  const readd = existing !== undefined && !existing.left && (existing.rejoin?.stuck === true || existing.rejoin?.commit === item.id);
  if (existing && !existing.left && !readd) return {};
  let joined;
  const bundles = await unusedKeyPackages(ctx);
  try {
    joined = await joinFromWelcome(deviceIdentityOf(ctx.account), item.mls, bundles);
  } catch (error) {
    // Every device of the account gets the same Welcome; one naming another device is not ours.
    if (error instanceof EmsgError && error.code === "not_found") return {};
    throw error;
  }
  if (groupIdOf(joined.state) !== item.conversation) throw new EmsgError("bad_request", "The Welcome is for another conversation than the one it came in.");
  // A re-add's Welcome is of the commit it came with: the epoch after the one that commit was made at;
  // for a device that was in step, of its own group, every other leaf as it was (PROTOCOL §8, Rejoining).
  if (readd && epochOf(joined.state) !== item.epoch + 1) throw new EmsgError("unauthorized", "The Welcome to let this device back in is not of the commit it came with.");
  if (readd && !existing!.rejoin!.stuck && sealOfState(joined.state) !== existing!.rejoin!.seal) {
    throw new EmsgError("unauthorized", "The Welcome to let this device back in is not of the epoch the commit it came with makes.");
  }
  if (readd && existing!.rejoin!.stuck) await checkReaddedByMember(ctx, await decodeGroupState(existing!.group), joined.state, item.mls, bundles.find((b) => b.ref === joined.usedRef)!);
  let proven: Proven;
  let unsafe: string | undefined;
  try {
    proven = await proveMembers(ctx, joined.state);
  } catch (error) {
    if (!(error instanceof EmsgError) || error.code !== "unauthorized") throw error;
    proven = { members: accountsOf(joined.state) };
    unsafe = error.message;
  }
  const { members } = proven;
  const expected = existing?.rejoin?.members;
  if (readd && expected && (expected.length !== members.length || expected.some((a) => !members.includes(a)))) {
    throw new EmsgError("unauthorized", "The Welcome to let this device back in holds other people than the commit that re-added it.");
  }
  const others = members.filter((a) => a !== ctx.account.address);
  // A group's creation names at least three accounts; a 1:1 two. A group that shrank to two is
  // recognized by the name its members send after every add. The hub's roster may only make it a
  // group: the first Welcome of a group made in several commits holds part of it.
  const group = existing?.kind === "group" || others.length !== 1 || (item.members !== undefined && new Set(item.members).size !== 2);
  const { left: _left, leaving: _leaving, unsafe: _unsafe, rejoin: _rejoin, ...kept } = existing ?? ({} as Partial<ConversationRecord>);
  const record: ConversationRecord = {
    ...kept,
    conversation: item.conversation,
    members,
    ...(group ? { kind: "group" as const } : { kind: "direct" as const, peer: others[0]!, ...(proven.peer?.accountKey ? { peerKey: proven.peer.accountKey } : {}) }),
    ...(unsafe === undefined ? {} : { unsafe }),
    group: encodeGroupState(joined.state),
    epoch: epochOf(joined.state),
    lastHubSeq: item.hubSeq,
    applied: [item.hubSeq],
    // Should the commit that brought us in be withdrawn, this device is out again (PROTOCOL §8, Vetoes).
    beforeCommits: [{ commit: item.id, joined: true, by: item.from, ...(readd ? { rejoined: true as const } : {}) }],
    created: existing?.created ?? item.at,
    unread: existing?.unread ?? 0,
    ...(existing?.left && existing.title !== undefined ? { titleToLearn: true as const } : {}),
  };
  await saveConversation(ctx, record);
  await forgetKeyPackage(ctx, joined.usedRef);
  if (readd) await rejoinedBy(ctx, existing!, item);
  if (unsafe !== undefined) {
    await replayParked(ctx, item.conversation);
    throw new EmsgError("unauthorized", unsafe);
  }
  // The latest 1:1 joined with someone is the one written to (PROTOCOL §8).
  if (!group) await choosePeerConversation(ctx, record);
  if (group && !readd) await noticeJoin(ctx, record, item);
  return replayParked(ctx, item.conversation);
}

/**
 * The line a Welcome into a group leaves. The creating commit is the first (epoch 0 to 1), made by
 * the creator, whose leaf is the first: MLS says who made the group. Who added us later is the
 * hub's `from`, shown only if that account is in the tree. A later Welcome from our own account only
 * brings a newly linked device into a group the account is in already, which is no news.
 */
async function noticeJoin(ctx: CoreContext, record: ConversationRecord, item: ConvPayload): Promise<void> {
  if (record.epoch === 1) {
    const creator = record.members[0]!;
    // The name comes in the creator's next message; the notice is kept as it was seen.
    await addNotice(ctx, item.conversation, item.id, item.at, { type: "created", by: creator, who: record.members.filter((a) => a !== creator) });
  } else if (item.from !== ctx.account.address && record.members.includes(item.from)) {
    await addNotice(ctx, item.conversation, item.id, item.at, { type: "added", by: item.from, who: [ctx.account.address] });
  }
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
    await indexMessages(ctx, [message]);
    ctx.events.emit("message", message);
    if (message.direction === "in") ctx.events.emit("typing", { conversation: message.conversation, from: message.from, typing: false });
  }
  const last = { id: message.id, from: message.from, text: message.text, at: message.at, direction: message.direction, status: message.status };
  const newer = !record.last || record.last.at <= message.at;
  const next = {
    ...record,
    ...(newer ? { last } : {}),
    unread: record.unread + (!known && message.direction === "in" ? 1 : 0),
  };
  return known ? next : applyHeld(ctx, next, message);
}

/** Typing from another account, shown only when it is fresh and this account shares its own. */
async function readTyping(ctx: CoreContext, record: ConversationRecord, content: TypingContent, sender: Address): Promise<void> {
  if (sender === ctx.account.address || ctx.clock.now() - content.sentAt > TYPING_LATE_MS || !(await readReceiptsOn(ctx))) return;
  ctx.events.emit("typing", { conversation: record.conversation, from: sender, typing: content.state === "typing" });
}

/**
 * Stores what an application message says (`record` already holds the state that read it): a text
 * is kept and announced once, a receipt marks our messages delivered. `hubSeq` is absent for a
 * direct copy, which arrives before the hub has ordered it. `decoded`: its content, when it was
 * decoded already (reading a frame ahead).
 */
export async function readApplication(
  ctx: CoreContext,
  record: ConversationRecord,
  processed: Extract<Processed, { kind: "application" }>,
  hubSeq?: number,
  decoded?: Content,
): Promise<{ record: ConversationRecord; outcome: ConvOutcome }> {
  const sender = processed.sender.address;
  const content = decoded ?? decodeContent(processed.plaintext);
  // After leaving, the group's history stays as it was: nothing new is shown.
  if (afterLeaving(record, hubSeq)) return { record, outcome: {} };
  if (content.type === "group") return { record: await readTitle(ctx, record, content, sender), outcome: {} };
  if (content.type === "leave") return { record: await readLeave(ctx, record, content, sender, hubSeq), outcome: {} };
  if (content.type === "text" || content.type === "attachment") {
    const direction = sender === ctx.account.address ? "out" : "in";
    // The sender's clock, but at most a few minutes ahead of ours (a time to come would keep it last
    // in the chat for good), and after a roster change ordered before it.
    const shown = shownAt(record, processed.epoch, Math.min(content.sentAt, ctx.clock.now() + SENT_AHEAD_MS));
    const next = await applyText(ctx, shown.record, {
      id: content.id,
      conversation: record.conversation,
      from: sender,
      direction,
      // An attachment's blob is on its sender's server; the record keeps the pointer to fetch it by.
      ...(content.type === "text" ? { text: content.text } : { text: content.name, attachment: attachmentRecordOf(content) }),
      at: shown.at,
      ...(hubSeq === undefined ? {} : { hubSeq }),
      status: direction === "out" ? "sent" : "received",
      ...(content.replyTo === undefined ? {} : { replyTo: content.replyTo }),
      // The timer its sender had: this device deletes it then, whatever it holds itself (PROTOCOL §8.1).
      ...(content.expiresAt === undefined ? {} : { expiresAt: content.expiresAt }),
    });
    return { record: next, outcome: direction === "in" ? { receipts: { conversation: record.conversation, ids: [content.id] } } : {} };
  }
  if (content.type === "receipt") {
    if (sender === ctx.account.address) return { record: await readOnOtherDevice(ctx, record, content), outcome: {} };
    await readReceipt(ctx, record, content, await readReceiptsOn(ctx));
    // setStatus rewrote the stored chat line's status; this copy, saved after, must not put the old one back.
    const stored = (await loadConversation(ctx, record.conversation))?.last;
    return { record: stored && stored.id === record.last?.id ? { ...record, last: stored } : record, outcome: {} };
  }
  if (content.type === "reaction" || content.type === "edit" || content.type === "delete") {
    return { record: await readChange(ctx, record, content, sender), outcome: {} };
  }
  if (content.type === "typing") await readTyping(ctx, record, content, sender);
  if (content.type === "timer") return { record: await readTimer(ctx, record, content, sender), outcome: {} };
  if (content.type === "profile") await readProfile(ctx, record, content, sender);
  return { record, outcome: {} };
}

/**
 * One entry of a hub's log. Items this device already applied (by hub order) and its own
 * submissions coming back are skipped; the new group state and its position are stored together.
 * Its author is the MLS sender, whatever the hub's `from` says; one whose `type` is not what the
 * MLS message is is refused unread; one of a conversation marked unsafe is not read (PROTOCOL §8).
 */
export async function applyConvItem(ctx: CoreContext, item: ConvPayload): Promise<ConvOutcome> {
  if (item.type === "welcome") return join(ctx, item);
  const record = await loadConversation(ctx, item.conversation);
  // Hub order is not arrival order: a peer's outbox retries can overtake. MLS reads application
  // messages of an epoch in any order; exact positions already applied are skipped.
  if (!record) {
    // A withdrawal of a commit whose Welcome never made this device a member has nothing to undo.
    if (item.type !== "withdrawn") await park(ctx, item);
    return {};
  }
  if (wasApplied(record, item.hubSeq)) return {};
  // Shown as refused already (`unsafe`): nothing more is read there.
  if (record.unsafe) return {};
  // The hub's word, whoever vetoed (our own veto included): what it withdrew is undone (PROTOCOL §8, Vetoes).
  if (item.type === "withdrawn") {
    await saveConversation(ctx, markApplied(await readWithdrawal(ctx, record, item), item.hubSeq));
    return {};
  }
  // A member device asks to be let back in: maybe this device's to re-add (PROTOCOL §8, Rejoining).
  if (item.type === "rejoin") {
    await readRejoin(ctx, record, item);
    await saveConversation(ctx, markApplied(record, item.hubSeq), false);
    return {};
  }
  if (item.deviceId === ctx.account.deviceId) {
    await ownItemBack(ctx, record, item);
    return {};
  }
  if (readDirectly(record, item.mls)) {
    // Its direct copy (path 3) was read already; this is the same ciphertext, now in hub order.
    await saveConversation(ctx, markApplied(record, item.hubSeq), false);
    return {};
  }
  const read: Promise<{ processed: Processed; content?: Content }> = readAheadIn(ctx.store, record.group, item.mls) ?? processMessage(await decodeGroupState(record.group), item.mls, item.type).then((processed) => ({ processed }));
  const { processed, content } = await read.catch(async (error: unknown) => {
    // A commit that removes this device and adds it again cannot be processed by it (MLS reuses its
    // leaf): should that commit's Welcome follow, it is taken instead of the veto (PROTOCOL §8, Rejoining).
    if (await vetoIfUnreadable(ctx, record, item, error)) {
      const seal = await sealOfCommit(await decodeGroupState(record.group), item.mls).catch(() => undefined);
      if (seal !== undefined) await saveConversation(ctx, { ...record, rejoin: { commit: item.id, members: record.members, seal } }, false);
    }
    throw error;
  });
  if (processed.sender.address !== item.from || processed.sender.deviceId !== item.deviceId) {
    // The author is the MLS sender; a hub whose `from`/`deviceId` name another is lying or broken,
    // and its item is refused unread (PROTOCOL §8). A commit so refused leaves the group behind for
    // good, so the conversation says why it takes nothing more, as for any refused commit.
    const lie = new EmsgError(
      "unauthorized",
      `The server says ${item.from} (device ${item.deviceId}) sent this, but it is from ${processed.sender.address} (device ${processed.sender.deviceId}).`,
    );
    if (processed.kind === "commit") await saveConversation(ctx, { ...record, unsafe: lie.message });
    throw lie;
  }
  let next: ConversationRecord = markApplied({ ...record, group: groupTextIn(ctx.store, processed.state) }, item.hubSeq);
  let outcome: ConvOutcome = {};
  if (processed.kind === "commit") {
    try {
      next = rememberBefore(record, await readCommit(ctx, { ...next, epoch: processed.epoch }, processed, item), item.id, processed.sender.address);
    } catch (error) {
      // The group stays where it was. A commit refused for whom it holds is vetoed like any this
      // device cannot process; only if it cannot be, the conversation says why it takes no more (PROTOCOL §8).
      if (error instanceof EmsgError && error.code === "unauthorized" && !(await vetoIfUnreadable(ctx, record, item, error))) {
        await saveConversation(ctx, { ...record, unsafe: error.message });
      }
      throw error;
    }
  } else if (processed.kind === "application") {
    ({ record: next, outcome } = await readApplication(ctx, next, processed, item.hubSeq, content));
  }
  const changed = next.last?.id !== record.last?.id || next.last?.text !== record.last?.text || next.unread !== record.unread || next.epoch !== record.epoch || next.title !== record.title || next.left !== record.left;
  await saveConversation(ctx, next, changed || next.kind !== record.kind);
  return outcome;
}

/**
 * A commit by someone else (its MLS sender): who joined or went, and whether this device is still
 * in the group. The roster after it is the tree's. Devices it adds must belong to accounts on the
 * hub's roster too: otherwise the hub would not route the group's messages to whom it holds
 * (PROTOCOL §12). A 1:1 whose tree no longer holds exactly its two accounts is a group from then on.
 */
async function readCommit(
  ctx: CoreContext,
  record: ConversationRecord,
  processed: Extract<Processed, { kind: "commit" }>,
  item: ConvPayload,
): Promise<ConversationRecord> {
  const by = processed.sender.address;
  // Removed and added again at once: let back in, by the Welcome that follows (PROTOCOL §8, Rejoining).
  const readd = readdedBy(record, processed.state, ctx.account.deviceId, accountsOf(processed.state), item.id);
  if (readd) return readd;
  if (!isActive(processed.state)) {
    const removed = record.left ? [] : [ctx.account.address];
    if (record.kind === "group" && removed.length > 0) {
      await addNotice(ctx, record.conversation, item.id, item.at, { type: "removed", by, who: removed });
    }
    return { ...record, members: accountsOf(processed.state), left: true };
  }
  const hidden = item.members && processed.added.find((d) => !item.members!.includes(d.address));
  if (hidden) throw new EmsgError("unauthorized", `A commit adds a device of ${hidden.address}, who is not on the conversation's roster.`);
  const { members } = await proveMembers(ctx, processed.state, processed.added);
  if (record.left) return { ...record, members };
  const stillOneToOne = record.kind !== "group" && members.length === 2 && members.includes(ctx.account.address) && members.includes(record.peer!);
  if (record.kind !== "group" && !stillOneToOne) {
    await dropPeerConversation(ctx, record);
    return noticeRosterChange(ctx, asGroup(record), members, { by, id: item.id, at: item.at });
  }
  return noticeRosterChange(ctx, record, members, { by, id: item.id, at: item.at });
}
