import type { Address } from "../address.js";
import type { CoreContext } from "./context.js";
import { type ConversationSummary, lastLine } from "./conversation-record.js";
import type { MessageRecord } from "./messages.js";

/**
 * The chats with friends whose first messages wait for their conversation (a file still uploading,
 * a text written offline), listed as `@FRIEND` (a target like the address) with their newest message
 * as the last line, until the conversation is made and takes their place. Friends with a live 1:1
 * (`live`) are left out: what waits for them moves into it on the next send.
 */
export async function pendingSummaries(ctx: Pick<CoreContext, "store">, live: readonly ConversationSummary[], self: Address): Promise<ConversationSummary[]> {
  const held = new Set(live.flatMap((c) => (c.kind !== "group" && c.peer && !c.unsafe ? [c.peer] : [])));
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
    summaries.push({ conversation: chat, members: [self, peer], kind: "direct", peer, epoch: 0, lastHubSeq: 0, created: messages[0]!.at, unread: 0, last: lastLine(messages.at(-1)!) });
  }
  return summaries;
}
