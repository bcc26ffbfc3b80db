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

export type ConversationSummary = Omit<ConversationRecord, "group" | "applied" | "direct">;

const APPLIED_KEPT = 512;

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
  const { group: _secret, applied: _positions, direct: _copies, ...summary } = record;
  return summary;
}

export async function saveConversation(ctx: CoreContext, record: ConversationRecord, announce = true): Promise<void> {
  await ctx.store.put(key(record.conversation), record);
  if (record.peer) await ctx.store.put(peerKey(record.peer), record.conversation);
  if (announce) ctx.events.emit("conversation", summaryOf(record));
}

/** The 1:1 conversation with `peer`, if there is one. */
export async function conversationWith(ctx: Pick<CoreContext, "store">, peer: Address): Promise<ConversationRecord | undefined> {
  const conversation = await ctx.store.get<string>(peerKey(peer));
  return conversation === undefined ? undefined : loadConversation(ctx, conversation);
}

export async function listConversations(ctx: Pick<CoreContext, "store">): Promise<ConversationSummary[]> {
  const records = (await ctx.store.list<ConversationRecord>("conv/")).map(([, r]) => summaryOf(r));
  return records.sort((a, b) => (b.last?.at ?? b.created) - (a.last?.at ?? a.created));
}
