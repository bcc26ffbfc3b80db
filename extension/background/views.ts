import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import type { Friend } from "../../shared/client/friends.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { ChatView, FriendView, MessageView } from "../messaging/messages.js";

/** What crosses from the background to its pages: no keys, no MLS state, only what is shown. */
export function friendView(friend: Friend): FriendView {
  return {
    address: friend.address,
    state: friend.state,
    since: friend.since,
    ...(friend.note ? { note: friend.note } : {}),
    ...(friend.bounced ? { bounced: friend.bounced } : {}),
  };
}

export function chatView(summary: ConversationSummary, self: string): ChatView | null {
  const peer = summary.peer ?? summary.members.find((m) => m !== self);
  if (!peer) return null;
  return {
    peer,
    lastText: summary.last?.text ?? null,
    lastAt: summary.last?.at ?? null,
    lastMine: summary.last?.direction === "out",
    unread: summary.unread,
  };
}

export function messageView(message: MessageRecord): MessageView {
  return { id: message.id, mine: message.direction === "out", text: message.text, at: message.at, status: message.status };
}
