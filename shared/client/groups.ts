import type { Address } from "../address.js";
import { newGroupTitle, newLeave } from "../content.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import { addMembers, createGroup, MAX_ADDS_PER_COMMIT, refreshKeys, removeMembers } from "../mls/group.js";
import { epochOf, type GroupState, membersOf } from "../mls/group-state.js";
import { decodeGroupState, encodeGroupState } from "../mls/state-codec.js";
import { CreateConversationResponseSchema, type Roster } from "../wire/conversation.js";
import { deviceIdentityOf } from "./account-record.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, loadConversation, saveConversation } from "./conversation-record.js";
import { claimKeyPackages, submitToHub } from "./conversations.js";
import { getFriend } from "./friends.js";
import { addNotice } from "./group-changes.js";
import { enqueue } from "./outgoing-queue.js";
import { commitToHub, pendingCommit, sendPendingCommit } from "./own-commits.js";
import { queueRosterJob, rosterJobs } from "./roster-jobs.js";

/**
 * Groups (PROTOCOL §12): made on this account's server, changed by roster commits of any member.
 * Adding someone needs their key pinned (a friend); reading a group needs no friendship with its
 * members. Leaving is a `leave` message: MLS lets no member commit its own removal, so a remaining
 * member's device commits it (`removeLeavers`).
 */

/** Accounts in one group, the creator included: the Welcome carries the whole tree (PROTOCOL §8). */
export const GROUP_MAX_MEMBERS = 50;

/** Reads what the hub has (the caller's mailbox poll), after a commit lost the race for an epoch. */
export type CatchUp = () => Promise<void>;

async function friendKey(ctx: CoreContext, address: Address): Promise<string> {
  const friend = await getFriend(ctx, address);
  if (friend?.state !== "friend" || !friend.accountKey) throw new EmsgError("forbidden", `${address} is not your friend, so you cannot add them.`);
  return friend.accountKey;
}

/** One KeyPackage of every device of each account (checked against the pinned key), friends only. */
async function claimAll(ctx: CoreContext, members: readonly Address[]): Promise<string[]> {
  const keys = new Map<Address, string>();
  for (const address of members) keys.set(address, await friendKey(ctx, address));
  const keyPackages: string[] = [];
  for (const [address, accountKey] of keys) {
    const theirs = await claimKeyPackages(ctx, address, accountKey);
    if (theirs.length === 0) throw new EmsgError("not_found", `${address} has no device that can receive messages right now.`);
    keyPackages.push(...theirs);
  }
  return keyPackages;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export async function loadGroup(ctx: CoreContext, conversation: string): Promise<ConversationRecord> {
  const record = await loadConversation(ctx, conversation);
  if (!record) throw new EmsgError("not_found", "No such conversation on this device.");
  if (record.kind !== "group") throw new EmsgError("bad_request", "That conversation is not a group.");
  if (record.left) throw new EmsgError("forbidden", "You are no longer a member of this group.");
  if (record.unsafe) throw new EmsgError("unauthorized", record.unsafe);
  return record;
}

function distinctAddresses(ctx: CoreContext, members: readonly Address[]): Address[] {
  return [...new Set(members)].filter((a) => a !== ctx.account.address);
}

/**
 * Makes a group of this account and `members` (friends): claims a KeyPackage of every device,
 * commits their adds (at most MAX_ADDS_PER_COMMIT devices a commit; the first names every account
 * in `roster.add`, so the Welcomes reach them all), then sends the name.
 */
export async function createGroupConversation(ctx: CoreContext, title: string, members: readonly Address[]): Promise<ConversationRecord> {
  const me = ctx.account;
  const named = newGroupTitle(title, ctx.clock.now());
  const others = distinctAddresses(ctx, members);
  if (others.length < 2) throw new EmsgError("bad_request", "A group needs at least two other people; write to one friend directly.");
  if (others.length + 1 > GROUP_MAX_MEMBERS) throw new EmsgError("too_large", `A group holds at most ${GROUP_MAX_MEMBERS} people.`);
  const theirs = await claimAll(ctx, others);
  const mine = await claimKeyPackages(ctx, me.address, me.accountPublicKey, me.deviceId);
  const roster = [me.address, ...others];
  const { conversation } = await ctx.api.call("POST", "/conversations", { id: randomId16(), members: others }, CreateConversationResponseSchema);
  let state = await createGroup(deviceIdentityOf(me), conversation);
  const created = randomId16();
  for (const [i, batch] of chunks([...theirs, ...mine], MAX_ADDS_PER_COMMIT).entries()) {
    const added = await addMembers(state, batch);
    await submitToHub(ctx, conversation, {
      id: i === 0 ? created : randomId16(),
      epoch: epochOf(state),
      kind: "commit",
      mls: added.commit,
      welcome: added.welcome,
      ...(i === 0 ? { roster: { add: [...others, me.address], remove: [] } } : {}),
    });
    state = added.state;
  }
  const now = ctx.clock.now();
  const record: ConversationRecord = {
    conversation, members: roster, kind: "group", title: named.title, titleAt: named.sentAt,
    group: encodeGroupState(state), epoch: epochOf(state), lastHubSeq: 0, created: now, unread: 0,
  };
  await saveConversation(ctx, record);
  await addNotice(ctx, conversation, created, now, { type: "created", by: me.address, who: others, title: named.title });
  await enqueue(ctx, { content: named, conversation });
  return record;
}

type Made = { state: GroupState; commit: string; welcome?: string };

/**
 * Submits one roster commit made from the group's current state, catching up and making it again
 * when another member's commit won the epoch. "ordered": the change is the group's now; "forwarded":
 * a remote hub's answer is on its way, and the change shows once it comes (own-commits.ts), or is
 * made again should another member's commit have come first (roster-jobs.ts).
 */
async function commitRoster(
  ctx: CoreContext,
  conversation: string,
  make: (state: GroupState, record: ConversationRecord) => Promise<{ made: Made; roster?: Roster }>,
  catchUp: CatchUp,
  id: string,
): Promise<"ordered" | "forwarded"> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (attempt > 0) await catchUp();
    const record = await loadGroup(ctx, conversation);
    const { made, roster } = await make(await decodeGroupState(record.group), record);
    const answer = await commitToHub(ctx, record, made, roster, id);
    if (answer !== "stale") return answer;
  }
  throw new EmsgError("stale_epoch", "Other members kept changing the group; try again.");
}

/**
 * Whether a roster change asked for now waits as a job (roster-jobs.ts): a commit of ours waits for
 * the hub's answer, and the next is made from the state that answer leaves, never beside it.
 */
async function waitsItsTurn(ctx: CoreContext, record: ConversationRecord, change: { add: Address[]; remove: Address[] }): Promise<boolean> {
  if (!(await pendingCommit(ctx, record.conversation))) return false;
  await queueRosterJob(ctx, { conversation: record.conversation, after: record.epoch, ...change });
  return true;
}

/** Adds friends to a group: their devices by commit and Welcome, then the group's name for them. */
export async function addToGroup(ctx: CoreContext, conversation: string, members: readonly Address[], catchUp: CatchUp): Promise<void> {
  const start = await loadGroup(ctx, conversation);
  const added = distinctAddresses(ctx, members);
  if (added.length === 0) throw new EmsgError("bad_request", "Nobody to add.");
  const present = added.find((a) => start.members.includes(a));
  if (present) throw new EmsgError("conflict", `${present} is already in the group.`);
  if (start.members.length + added.length > GROUP_MAX_MEMBERS) throw new EmsgError("too_large", `A group holds at most ${GROUP_MAX_MEMBERS} people.`);
  if (await waitsItsTurn(ctx, start, { add: added, remove: [] })) return;
  await commitAdd(ctx, conversation, added, catchUp);
}

/** Commits the add of every device of `added` (accounts not in the group), then sends the group's name. */
async function commitAdd(ctx: CoreContext, conversation: string, added: Address[], catchUp: CatchUp): Promise<void> {
  const keyPackages = await claimAll(ctx, added);
  const id = randomId16();
  for (const [i, batch] of chunks(keyPackages, MAX_ADDS_PER_COMMIT).entries()) {
    const roster = i === 0 ? { add: added, remove: [] } : undefined;
    const make = async (state: GroupState) => ({ made: await addMembers(state, batch), ...(roster ? { roster } : {}) });
    await commitRoster(ctx, conversation, make, catchUp, i === 0 ? id : randomId16());
  }
  await repeatTitle(ctx, (await loadConversation(ctx, conversation))!);
}

/**
 * Sends the group's name again for devices that just joined (they cannot read the message that set
 * it), with the time it was set: members who know a later name keep theirs (PROTOCOL §8.1).
 */
export async function repeatTitle(ctx: CoreContext, record: ConversationRecord): Promise<void> {
  if (record.kind !== "group" || record.title === undefined || record.left) return;
  await enqueue(ctx, { content: newGroupTitle(record.title, record.titleAt ?? ctx.clock.now()), conversation: record.conversation });
}

/** One commit removing every device of `members` (those still in the roster) and them from the roster. */
function commitRemoval(ctx: CoreContext, conversation: string, members: readonly Address[], catchUp: CatchUp): Promise<"ordered" | "forwarded"> {
  const make = async (state: GroupState, record: ConversationRecord) => {
    const removed = members.filter((a) => record.members.includes(a));
    if (removed.length === 0) throw new EmsgError("not_found", "They are no longer in the group.");
    const devices = membersOf(state).filter((m) => removed.includes(m.address)).map((m) => m.deviceId);
    // An account none of whose devices ever joined leaves only the roster: an empty commit carries it.
    const made = devices.length > 0 ? await removeMembers(state, devices) : await refreshKeys(state);
    return { made, roster: { add: [], remove: removed } };
  };
  return commitRoster(ctx, conversation, make, catchUp, randomId16());
}

/** Removes members from a group: all their devices leave the MLS group, and they get nothing after. */
export async function removeFromGroup(ctx: CoreContext, conversation: string, members: readonly Address[], catchUp: CatchUp): Promise<void> {
  const start = await loadGroup(ctx, conversation);
  const removed = [...new Set(members)];
  if (removed.length === 0) throw new EmsgError("bad_request", "Nobody to remove.");
  if (removed.includes(ctx.account.address)) throw new EmsgError("bad_request", "To go yourself, leave the group.");
  const stranger = removed.find((a) => !start.members.includes(a));
  if (stranger) throw new EmsgError("not_found", `${stranger} is not in the group.`);
  if (await waitsItsTurn(ctx, start, { add: [], remove: removed })) return;
  await commitRemoval(ctx, conversation, removed, catchUp);
}

/**
 * Makes the roster changes this device owes (roster-jobs.ts) whose turn it is, each from the group
 * as it is now: who is gone already is not removed, who is in already not added. One that can no
 * longer be made (we left, a friend is no more) is dropped; one that fails for now waits.
 */
export async function runRosterJobs(ctx: CoreContext, catchUp: CatchUp): Promise<void> {
  for (const [key, job] of await rosterJobs(ctx)) {
    const record = await loadConversation(ctx, job.conversation);
    const open = record !== undefined && record.kind === "group" && !record.left && !record.unsafe;
    const pending = open ? await pendingCommit(ctx, job.conversation) : undefined;
    // One whose answer was lost goes again under its id (the hub answers with its first result); one our server holds for a remote hub is answered by mail.
    if (pending && !pending.forwarded) await sendPendingCommit(ctx, pending);
    if (open && (record.epoch <= job.after || pending)) continue;
    try {
      const remove = open ? job.remove.filter((a) => record.members.includes(a) && a !== ctx.account.address) : [];
      const add = open ? distinctAddresses(ctx, job.add).filter((a) => !record.members.includes(a)) : [];
      if (remove.length > 0) await commitRemoval(ctx, job.conversation, remove, catchUp);
      else if (add.length > 0) await commitAdd(ctx, job.conversation, add, catchUp);
    } catch (error) {
      if (!(error instanceof EmsgError) || RETRYABLE.has(error.code)) throw error;
      console.warn(`emsg: a change of who is in ${job.conversation} was not made: ${error.message}`);
    }
    await ctx.store.delete(key);
  }
}

/** Renames a group: the new name goes to every member as a message. */
export async function renameGroup(ctx: CoreContext, conversation: string, title: string): Promise<void> {
  const record = await loadGroup(ctx, conversation);
  const named = newGroupTitle(title, ctx.clock.now());
  if (named.title === record.title) return;
  await saveConversation(ctx, { ...record, title: named.title, titleAt: named.sentAt });
  await addNotice(ctx, conversation, named.id, named.sentAt, { type: "renamed", by: ctx.account.address, title: named.title });
  await enqueue(ctx, { content: named, conversation });
}

/**
 * Leaves a group: says so to the members, whose devices commit the removal, and stops sending at
 * once; what the hub ordered before the leave is still shown, nothing after. The history stays.
 */
export async function leaveGroup(ctx: CoreContext, conversation: string): Promise<void> {
  const record = await loadGroup(ctx, conversation);
  const leave = newLeave(ctx.clock.now());
  // Marked before it is queued, so the hub's answer to it finds the leave it orders.
  await saveConversation(ctx, { ...record, left: true, leaveId: leave.id });
  await enqueue(ctx, { content: leave, conversation });
  await addNotice(ctx, conversation, leave.id, leave.sentAt, { type: "left", by: ctx.account.address });
}

/**
 * Commits the removal of members who said they leave, in every group this device is in. Several
 * members' devices may try at once: the hub takes one commit per epoch, and the others, catching
 * up, find the member gone. What fails now is tried again on the next call.
 */
export async function removeLeavers(ctx: CoreContext, catchUp: CatchUp): Promise<void> {
  for (const [, listed] of await ctx.store.list<ConversationRecord>("conv/")) {
    if (!listed.leaving?.length || listed.left) continue;
    const record = await loadConversation(ctx, listed.conversation);
    const gone = (record?.leaving ?? []).filter((a) => record!.members.includes(a));
    // A commit of ours waiting for the hub's answer may be that removal: the next is made from the state it leaves.
    if (!record || gone.length === 0 || (await pendingCommit(ctx, record.conversation))) continue;
    try {
      await commitRemoval(ctx, record.conversation, gone, catchUp);
    } catch (error) {
      if (!(error instanceof EmsgError) || RETRYABLE.has(error.code)) throw error;
      if (error.code === "stale_epoch") continue;
      // Someone else's commit took them out first, or the hub no longer counts them: nothing left to do.
      const now = await loadConversation(ctx, record.conversation);
      if (now) await saveConversation(ctx, { ...now, leaving: (now.leaving ?? []).filter((a) => !gone.includes(a)) }, false);
    }
  }
}
