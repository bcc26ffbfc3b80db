import { friendChatKey } from "../../shared/client/conversation-record.js";
import type { ConversationSummary } from "./core-types.js";

/** The chat list's chats: a friend's 1:1s as one (see friendChatKey), under the first made, so its pin and mute hold. */
export interface FriendChats {
  /** One summary a chat: the newest last line and every unread of the conversations it shows. */
  chats: ConversationSummary[];
  /** A listed conversation's chat (its own id for most). */
  chatOf(conversation: string): string;
  /** Every conversation a chat shows, itself first. */
  shownIn(chat: string): string[];
}

export function friendChats(summaries: Iterable<ConversationSummary>): FriendChats {
  const byKey = new Map<string, ConversationSummary[]>();
  const chats: ConversationSummary[] = [];
  for (const summary of summaries) {
    const key = friendChatKey(summary);
    if (key === undefined) chats.push(summary);
    else byKey.set(key, [...(byKey.get(key) ?? []), summary]);
  }
  const chatOf = new Map<string, string>();
  const shown = new Map<string, string[]>();
  for (const group of byKey.values()) {
    group.sort((a, b) => a.created - b.created || (a.conversation < b.conversation ? -1 : 1));
    const first = group[0]!;
    const last = group.map((s) => s.last).reduce((a, b) => (b && (!a || b.at > a.at) ? b : a));
    chats.push({ ...first, unread: group.reduce((sum, s) => sum + s.unread, 0), ...(last ? { last } : {}) });
    shown.set(first.conversation, group.map((s) => s.conversation));
    for (const s of group) chatOf.set(s.conversation, first.conversation);
  }
  return {
    chats,
    chatOf: (conversation) => chatOf.get(conversation) ?? conversation,
    shownIn: (chat) => shown.get(chat) ?? [chat],
  };
}
