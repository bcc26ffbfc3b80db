import type { Address } from "../address.js";
import type { CoreContext } from "./context.js";
import type { MessageRecord } from "./messages.js";

/**
 * One conversation on this device. `group` (the encoded MLS state) and `lastHubSeq` are kept in
 * one record, written in one put: the state and the position it reflects can never disagree.
 */
export interface ConversationRecord {
  conversation: string;
  members: Address[];
  /** For a 1:1 conversation, the other person. */
  peer?: Address;
  /** Absent on records kept before groups existed: those are all "direct". */
  kind?: ConversationKind;
  /** A group's name, once a member sent it (PROTOCOL §8.1). */
  title?: string;
  /** When the name in `title` was sent: an older one arriving late does not replace it. */
  titleAt?: number;
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
  group: string;
  epoch: number;
  /** Highest hub position applied, and the most recent ones: servers may deliver out of order. */
  lastHubSeq: number;
  applied?: number[];
  /** Digests of application messages read from a direct channel, before their hub copy (PROTOCOL §10). */
  direct?: string[];
  created: number;
  unread: number;
  last?: Pick<MessageRecord, "id" | "from" | "text" | "at" | "direction" | "status">;
}

export type ConversationKind = "direct" | "group";

export type ConversationSummary = Omit<ConversationRecord, "group" | "applied" | "direct" | "leaving" | "kind" | "titleAt" | "leaveId" | "leftAt"> & { kind: ConversationKind };

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

export function wasApplied(record: ConversationRecord, hubSeq: number): boolean {
  const applied = record.applied ?? [];
  if (applied.includes(hubSeq)) return true;
  // Older than every position still remembered: it was applied long ago.
  return applied.length >= APPLIED_KEPT && hubSeq < applied[0]!;
}

/** The record with `hubSeq` marked applied; only the newest positions are kept. */
export function markApplied(record: ConversationRecord, hubSeq: number): ConversationRecord {
  const applied = [...(record.applied ?? []), hubSeq].sort((a, b) => a - b).slice(-APPLIED_KEPT);
  return { ...record, applied, lastHubSeq: Math.max(record.lastHubSeq, hubSeq) };
}

const key = (conversation: string) => `conv/${conversation}`;
const peerKey = (peer: string) => `peer/${peer}`;

export function loadConversation(ctx: Pick<CoreContext, "store">, conversation: string): Promise<ConversationRecord | undefined> {
  return ctx.store.get<ConversationRecord>(key(conversation));
}

export function summaryOf(record: ConversationRecord): ConversationSummary {
  const { group: _secret, applied: _positions, direct: _copies, leaving: _leaving, titleAt: _titleAt, leaveId: _leaveId, leftAt: _leftAt, kind, ...summary } = record;
  return { ...summary, kind: kind ?? "direct" };
}

export async function saveConversation(ctx: CoreContext, record: ConversationRecord, announce = true): Promise<void> {
  await ctx.store.put(key(record.conversation), record);
  if (record.peer && record.kind !== "group") await ctx.store.put(peerKey(record.peer), record.conversation);
  if (announce) ctx.events.emit("conversation", summaryOf(record));
}

/** The 1:1 conversation with `peer`, if there is one. */
export async function conversationWith(ctx: Pick<CoreContext, "store">, peer: Address): Promise<ConversationRecord | undefined> {
  const conversation = await ctx.store.get<string>(peerKey(peer));
  const record = conversation === undefined ? undefined : await loadConversation(ctx, conversation);
  // A group that once held only two people is not the 1:1 conversation with either of them.
  return record?.kind === "group" ? undefined : record;
}

export async function listConversations(ctx: Pick<CoreContext, "store">): Promise<ConversationSummary[]> {
  const records = (await ctx.store.list<ConversationRecord>("conv/")).map(([, r]) => summaryOf(r));
  return records.sort((a, b) => (b.last?.at ?? b.created) - (a.last?.at ?? a.created));
}
