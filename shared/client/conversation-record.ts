import type { Address } from "../address.js";
import { EmsgError } from "../errors.js";
import { decodeGroupState } from "../mls/state-codec.js";
import type { CoreContext } from "./context.js";
import { proveMembers } from "./conversation-trust.js";
import { getFriend } from "./friends.js";
import type { MessageRecord } from "./messages.js";
import type { BeforeCommit } from "./withdrawals.js";

/**
 * One conversation on this device. `group` (the encoded MLS state) and `lastHubSeq` are kept in
 * one record, written in one put: the state and the position it reflects can never disagree.
 */
export interface ConversationRecord {
  conversation: string;
  /** The accounts in the MLS tree (PROTOCOL §8), not the server's roster. */
  members: Address[];
  /** For a 1:1 conversation, the other person. */
  peer?: Address;
  /**
   * The key held for `peer` (a friend's pinned key, or their request's) under which every leaf of
   * theirs verified, the tree holding exactly their account and ours (PROTOCOL §8).
   */
  peerKey?: string;
  /** Absent on records kept before groups existed: those are all "direct". */
  kind?: ConversationKind;
  /** A group's name, once a member sent it (PROTOCOL §8.1). */
  title?: string;
  /** When the name in `title` was sent: an older one arriving late does not replace it. */
  titleAt?: number;
  /**
   * Let back into a group it had left or been removed from: the next name heard is taken without
   * a notice. It is a member's repeat for those who join (who set it, and when, happened while this
   * account was away), not a rename by that member.
   */
  titleToLearn?: true;
  /** This account left the group, or was removed: it stays readable here but takes no new messages. */
  left?: boolean;
  /**
   * This account's `leave` message and, once the hub ordered it, its position: what the hub ordered
   * before it is still shown, nothing after it.
   */
  leaveId?: string;
  leftAt?: number;
  /**
   * Why this device stopped at a commit it refused (a member's certificate not signed by the key
   * pinned for it, a device added unseen): nothing is sent or read here after it (PROTOCOL §8).
   */
  unsafe?: string;
  /** Members who said they leave and whose removal this device should commit (PROTOCOL §12). */
  leaving?: Address[];
  /**
   * The latest change of who is in the group: the epoch its commit made, when it is shown, and the
   * last time given to a message dated after it (see shownAt).
   */
  rosterChange?: { epoch: number; at: number; dated?: number };
  group: string;
  epoch: number;
  /** Highest hub position applied, and the most recent ones: servers may deliver out of order. */
  lastHubSeq: number;
  applied?: number[];
  /** Digests of application messages read from a direct channel, before their hub copy (PROTOCOL §10). */
  direct?: string[];
  created: number;
  unread: number;
  /** The chat list's line: the newest text or file, or a timer notice when one came after it. */
  last?: LastLine;
  /** The conversation before each of the latest commits this device applied, oldest first (PROTOCOL §8, Vetoes). */
  beforeCommits?: BeforeCommit[];
  /**
   * Out of step with the group (PROTOCOL §8, Rejoining): this device asked to be let back in
   * (`stuck`), or could not process `commit`, which may be one that re-adds it (`members`: the
   * roster it must leave; `seal`: the epoch that commit makes, which its Welcome must be of). Only
   * then does a Welcome into a conversation this device is in (for a `commit`, that commit's own)
   * replace its group.
   */
  rejoin?: { stuck?: true; commit?: string; members?: Address[]; seal?: string };
}

export type ConversationKind = "direct" | "group";

export type ConversationSummary = Omit<ConversationRecord, "group" | "applied" | "direct" | "leaving" | "kind" | "titleAt" | "titleToLearn" | "leaveId" | "leftAt" | "beforeCommits" | "rosterChange"> & {
  kind: ConversationKind;
  /** A group whose history moved in with the account (PROTOCOL §11), not joined again here: read-only. */
  moved?: true;
};

/**
 * Who a conversation is one chat with: its friend under the key every leaf of theirs was proven
 * by, for a 1:1 not refused; undefined for any other. Two 1:1s made at once, one by each side,
 * or one made anew by a side that lost the other, are one chat to show and read (PROTOCOL §8).
 */
export function friendChatKey(c: Pick<ConversationRecord, "kind" | "peer" | "peerKey" | "unsafe">): string | undefined {
  return c.kind !== "group" && c.peer && c.peerKey && !c.unsafe ? `${c.peer} ${c.peerKey}` : undefined;
}

/** The conversations shown as one chat with `record` (itself first), as friendChatKey says. */
export async function friendChat(ctx: Pick<CoreContext, "store">, record: ConversationRecord): Promise<string[]> {
  const key = friendChatKey(record);
  if (key === undefined) return [record.conversation];
  const others = (await ctx.store.list<ConversationRecord>("conv/")).map(([, r]) => r).filter((r) => r.conversation !== record.conversation && friendChatKey(r) === key);
  return [record.conversation, ...others.map((r) => r.conversation)];
}

/** The record once our leave `id` is known to be at hub position `hubSeq` (from the hub's answer or our mailbox). */
export function leaveOrderedAt(record: ConversationRecord, id: string, hubSeq: number): ConversationRecord {
  return record.leaveId === id ? { ...record, leftAt: hubSeq } : record;
}

const APPLIED_KEPT = 512;

/**
 * Whether a message at hub position `hubSeq` (undefined: a direct copy, not ordered yet) comes after
 * this account left. Until our own leave is ordered, what arrives was ordered before it.
 */
export function afterLeaving(record: ConversationRecord, hubSeq: number | undefined): boolean {
  if (!record.left) return false;
  if (record.leftAt !== undefined) return hubSeq === undefined || hubSeq > record.leftAt;
  return record.leaveId === undefined;
}

/**
 * When a message encrypted at `epoch` whose sender's clock says `sentAt` is shown, and the record
 * that remembers it. A message of the latest roster change's epoch or later was ordered after that
 * change and is shown after it, whatever the sender's clock says: it may be behind the hub's, or
 * lie, and a text sent again after a removal must not look as if the removed member had it. The
 * epoch is MLS's own word. Messages so dated follow each other in the order this device reads them.
 */
export function shownAt(record: ConversationRecord, epoch: number, sentAt: number): { at: number; record: ConversationRecord } {
  const change = record.rosterChange;
  const floor = change?.dated ?? change?.at;
  if (change === undefined || floor === undefined || epoch < change.epoch || sentAt > floor) return { at: sentAt, record };
  return { at: floor + 1, record: { ...record, rosterChange: { ...change, dated: floor + 1 } } };
}

export function wasApplied(record: ConversationRecord, hubSeq: number): boolean {
  const applied = record.applied ?? [];
  if (applied.includes(hubSeq)) return true;
  // Older than every position still remembered: it was applied long ago.
  return applied.length >= APPLIED_KEPT && hubSeq < applied[0]!;
}

/** The record with `hubSeq` marked applied; only the newest positions are kept. */
export function markApplied(record: ConversationRecord, hubSeq: number): ConversationRecord {
  const kept = record.applied ?? [];
  // Kept in order: a position after every one kept (the usual case) goes at the end, nothing sorted again.
  let applied: number[];
  if (kept.length === 0 || hubSeq >= kept[kept.length - 1]!) {
    applied = kept.slice(Math.max(0, kept.length + 1 - APPLIED_KEPT));
    applied.push(hubSeq);
  } else applied = [...kept, hubSeq].sort((a, b) => a - b).slice(-APPLIED_KEPT);
  return { ...record, applied, lastHubSeq: Math.max(record.lastHubSeq, hubSeq) };
}

/** Where a conversation's record is stored. */
export const conversationKey = (conversation: string) => `conv/${conversation}`;
const key = conversationKey;
const peerKey = (peer: string) => `peer/${peer}`;

export function loadConversation(ctx: Pick<CoreContext, "store">, conversation: string): Promise<ConversationRecord | undefined> {
  return ctx.store.get<ConversationRecord>(key(conversation));
}

/** `record` with `message` as its chat-list line, unless the line it has is newer. */
export function withLast(record: ConversationRecord, message: MessageRecord): ConversationRecord {
  if (record.last && record.last.at > message.at) return record;
  return { ...record, last: lastLine(message) };
}

/** What a chat row needs of its newest message; a deleted one says so, its text being "". */
export type LastLine = Pick<MessageRecord, "id" | "from" | "text" | "at" | "direction" | "status" | "notice" | "deleted">;

export function lastLine(message: MessageRecord): LastLine {
  const { id, from, text, at, direction, status, notice, deleted } = message;
  return { id, from, text, at, direction, status, ...(notice ? { notice } : {}), ...(deleted ? { deleted } : {}) };
}

export function summaryOf(record: ConversationRecord): ConversationSummary {
  const { group: _secret, applied: _positions, direct: _copies, leaving: _leaving, titleAt: _titleAt, titleToLearn: _titleToLearn, leaveId: _leaveId, leftAt: _leftAt, beforeCommits: _before, kind, ...summary } = record;
  return { ...summary, kind: kind ?? "direct" };
}

export async function saveConversation(ctx: CoreContext, record: ConversationRecord, announce = true): Promise<void> {
  await ctx.store.put(key(record.conversation), record);
  if (announce) ctx.events.emit("conversation", summaryOf(record));
}

/**
 * Makes `record` the 1:1 that writing to its peer by address uses: of two usable ones, the one
 * joined (or made) last wins (PROTOCOL §8). One marked unsafe never is.
 */
export async function choosePeerConversation(ctx: Pick<CoreContext, "store">, record: ConversationRecord): Promise<void> {
  if (record.kind === "group" || !record.peer || record.unsafe) throw new EmsgError("internal", "Only a 1:1 that is not refused can be someone's.");
  await ctx.store.put(peerKey(record.peer), record.conversation);
}

/** `record` is no longer the 1:1 with its peer (it became a group, or holds someone else now). */
export async function dropPeerConversation(ctx: Pick<CoreContext, "store">, record: ConversationRecord): Promise<void> {
  if (!record.peer || (await ctx.store.get<string>(peerKey(record.peer))) !== record.conversation) return;
  await ctx.store.delete(peerKey(record.peer));
}

/**
 * The 1:1 conversation with `peer`, if there is one. When this device holds a key for them (a
 * friend's, or their request's), only a 1:1 whose tree holds exactly their account and ours, every
 * leaf of theirs certified by that key, is theirs: a server cannot pass its own group off as it,
 * and an address someone else took over with a new key gets a new conversation. With no key held
 * (a stranger), the latest 1:1 with that address is.
 */
export async function conversationWith(ctx: CoreContext, peer: Address): Promise<ConversationRecord | undefined> {
  const accountKey = (await getFriend(ctx, peer))?.accountKey || undefined;
  const chosen = await ctx.store.get<string>(peerKey(peer));
  const record = chosen === undefined ? undefined : await usable(ctx, await loadConversation(ctx, chosen), peer, accountKey);
  if (record) return record;
  // None chosen, or the chosen one no longer holds (their key changed, it became a group): the
  // latest other 1:1 with them that holds is, a stranger's that became a friend's say.
  const candidates = (await ctx.store.list<ConversationRecord>("conv/")).map(([, r]) => r).filter((r) => r.peer === peer && r.conversation !== chosen);
  for (const candidate of candidates.sort((a, b) => b.created - a.created)) {
    const found = await usable(ctx, candidate, peer, accountKey);
    if (found) {
      await choosePeerConversation(ctx, found);
      return found;
    }
  }
  return undefined;
}

/** `record` if it is the 1:1 with `peer` under `accountKey` (the key held for them now), proven from its tree if need be. */
async function usable(ctx: CoreContext, record: ConversationRecord | undefined, peer: Address, accountKey: string | undefined) {
  // A group that once held only two people is not the 1:1 conversation with either of them.
  if (!record || record.kind === "group" || record.peer !== peer || record.unsafe) return undefined;
  if (accountKey === undefined || record.peerKey === accountKey) return record;
  let proven;
  try {
    proven = await proveMembers(ctx, await decodeGroupState(record.group));
  } catch (error) {
    if (error instanceof EmsgError) return undefined;
    throw error;
  }
  if (proven.peer?.address !== peer || proven.peer.accountKey !== accountKey) return undefined;
  const next = { ...record, peerKey: accountKey };
  await saveConversation(ctx, next, false);
  return next;
}

export async function listConversations(ctx: Pick<CoreContext, "store">): Promise<ConversationSummary[]> {
  const records = (await ctx.store.list<ConversationRecord>("conv/")).map(([, r]) => summaryOf(r));
  return records.sort((a, b) => (b.last?.at ?? b.created) - (a.last?.at ?? a.created));
}
