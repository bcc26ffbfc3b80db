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
  lastHubSeq: number;
  created: number;
  unread: number;
  last?: Pick<MessageRecord, "id" | "from" | "text" | "at" | "direction" | "status">;
}

export type ConversationSummary = Omit<ConversationRecord, "group">;

const key = (conversation: string) => `conv/${conversation}`;
const peerKey = (peer: string) => `peer/${peer}`;

export function loadConversation(ctx: Pick<CoreContext, "store">, conversation: string): Promise<ConversationRecord | undefined> {
  return ctx.store.get<ConversationRecord>(key(conversation));
}

export function summaryOf(record: ConversationRecord): ConversationSummary {
  const { group: _secret, ...summary } = record;
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
