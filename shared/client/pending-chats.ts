import type { Address } from "../address.js";
import type { CoreContext } from "./context.js";
import { type ConversationSummary, lastLine, listConversations } from "./conversation-record.js";
import type { MessageRecord } from "./messages.js";

/**
 * The chats with friends whose first messages wait for their conversation (a file still uploading,
 * a text written offline), listed as `@FRIEND` (a target like the address) with their newest message
 * as the last line, until the conversation is made and takes their place. Friends with a live 1:1
 * (`live`) are left out: what waits for them moves into it on the next send.
 */
export async function pendingSummaries(ctx: Pick<CoreContext, "store">, live: readonly ConversationSummary[], self: Address): Promise<ConversationSummary[]> {
  const held = heldPeers(live);
  // Keys sort by chat then time: each chat's messages come together, oldest first.
  const chats = new Map<string, MessageRecord[]>();
  for (const [, message] of await ctx.store.list<MessageRecord>("msg/@")) {
    const chat = chats.get(message.conversation);
    if (chat) chat.push(message);
    else chats.set(message.conversation, [message]);
  }
  const summaries: ConversationSummary[] = [];
  for (const [chat, messages] of chats) {
    const peer = chat.slice(1) as Address;
    if (held.has(peer)) continue;
    summaries.push(pendingSummary(chat, messages, self));
  }
  return summaries;
}

/**
 * Tells the chat list what a `@FRIEND` chat's row is now that one of its messages was deleted: its
 * newest message left as the last line, or no `last` when none is left (the list then drops the row,
 * as it is no longer listed). Nothing while a live 1:1 with the friend is listed in its place.
 */
export async function announcePendingChat(ctx: CoreContext, chat: string): Promise<void> {
  const peer = chat.slice(1) as Address;
  if (heldPeers(await listConversations(ctx)).has(peer)) return;
  const messages = (await ctx.store.list<MessageRecord>(`msg/${chat}/`)).map(([, message]) => message);
  ctx.events.emit("conversation", pendingSummary(chat, messages, ctx.account.address));
}

/** Friends whose live 1:1 shows what waits for them. */
function heldPeers(live: readonly ConversationSummary[]): Set<Address> {
  return new Set(live.flatMap((c) => (c.kind !== "group" && c.peer && !c.unsafe ? [c.peer] : [])));
}

function pendingSummary(chat: string, messages: readonly MessageRecord[], self: Address): ConversationSummary {
  const peer = chat.slice(1) as Address;
  const newest = messages.at(-1);
  return { conversation: chat, members: [self, peer], kind: "direct", peer, epoch: 0, lastHubSeq: 0, created: messages[0]?.at ?? 0, unread: 0, ...(newest ? { last: lastLine(newest) } : {}) };
}
