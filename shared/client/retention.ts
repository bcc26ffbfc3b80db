import type { Address } from "../address.js";
import { EmsgError } from "../errors.js";
import type { CoreContext } from "./context.js";
import { listConversations } from "./conversation-record.js";
import type { MessageRecord } from "./messages.js";

const DAY_MS = 86_400_000;
const RETENTION = "retention/";
/** The bounds of the account's own setting (PROTOCOL §6, `PUT /account/settings`). */
const MIN_DAYS = 1;
const MAX_DAYS = 3650;

/**
 * A chat's own retention is kept per friend for a 1:1 (so it holds before the conversation exists
 * and across a new one with the same friend) and per conversation for a group.
 */
export type ChatKey = Address | string;

/** A chat's own setting: days, `null` to keep forever; `undefined` follows the account's. */
export async function chatRetention(ctx: Pick<CoreContext, "store">, chat: ChatKey): Promise<number | null | undefined> {
  return (await ctx.store.get<{ days: number | null }>(RETENTION + chat))?.days;
}

export async function setChatRetention(ctx: Pick<CoreContext, "store">, chat: ChatKey, days: number | null | undefined): Promise<void> {
  if (days === undefined) return ctx.store.delete(RETENTION + chat);
  if (days !== null && (!Number.isSafeInteger(days) || days < MIN_DAYS || days > MAX_DAYS)) {
    throw new EmsgError("bad_request", `Retention is ${MIN_DAYS} to ${MAX_DAYS} days, or forever.`);
  }
  await ctx.store.put(RETENTION + chat, { days });
}

async function chatRetentions(ctx: Pick<CoreContext, "store">): Promise<Map<ChatKey, number | null>> {
  const entries = await ctx.store.list<{ days: number | null }>(RETENTION);
  return new Map(entries.map(([key, entry]) => [key.slice(RETENTION.length), entry.days]));
}

/**
 * The stored messages past their chat's retention: its own setting wins over the account's, and
 * `null` (forever) keeps all. A message still under its pending name (`@friend`, no conversation
 * yet) belongs to that friend's chat.
 */
export async function expiredMessages(ctx: Pick<CoreContext, "store">, accountDays: number | null, now: number): Promise<MessageRecord[]> {
  const overrides = await chatRetentions(ctx);
  if (accountDays === null && overrides.size === 0) return [];
  const chats = new Map((await listConversations(ctx)).map((c) => [c.conversation, c.peer ?? c.conversation]));
  const chatOf = (conversation: string): ChatKey => (conversation.startsWith("@") ? conversation.slice(1) : (chats.get(conversation) ?? conversation));
  const messages = (await ctx.store.list<MessageRecord>("msg/")).map(([, m]) => m);
  return messages.filter((m) => {
    const chat = chatOf(m.conversation);
    const days = overrides.has(chat) ? overrides.get(chat)! : accountDays;
    return days !== null && m.at < now - days * DAY_MS;
  });
}
