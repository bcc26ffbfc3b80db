import type { Address } from "../../shared/address.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import type { Friend } from "../../shared/client/friends.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { chatSummary } from "../../ui/view-models/chat-list.js";
import type { ChatView, FriendView, MessageView } from "../messaging/messages.js";

/** What crosses from the background to its pages: no keys, no MLS state, only what is shown. */
export function friendView(friend: Friend): FriendView {
  return {
    address: friend.address,
    state: friend.state,
    since: friend.since,
    ...(friend.note ? { note: friend.note } : {}),
    ...(friend.bounced ? { bounced: friend.bounced } : {}),
    ...(friend.movedTo ? { movedTo: friend.movedTo } : {}),
  };
}

/**
 * A chat-list row, named as the PWA names it. A group is opened by its conversation id; a 1:1
 * chat by the friend's address, so a friend's chat opens the same way before its first message.
 */
export function chatView(summary: ConversationSummary, self: Address): ChatView | null {
  const row = chatSummary(summary, self);
  if (summary.kind === "group") return { ...row, kind: "group" };
  const peer = summary.peer ?? summary.members.find((m) => m !== self);
  return peer ? { ...row, id: peer, kind: "direct" } : null;
}

export function messageView(message: MessageRecord): MessageView {
  return {
    id: message.id,
    mine: message.direction === "out",
    from: message.from,
    text: message.text,
    at: message.at,
    status: message.status,
    ...(message.notice ? { notice: message.notice } : {}),
    ...(message.editedAt !== undefined ? { edited: true as const } : {}),
    ...(message.deleted ? { deleted: true as const } : {}),
    ...(message.read ? { read: true as const } : {}),
    ...(message.replyTo !== undefined ? { replyTo: message.replyTo } : {}),
    ...(message.reactions?.some((r) => !r.removed) ? { reactions: reactionCounts(message) } : {}),
  };
}

function reactionCounts(message: MessageRecord): { emoji: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const r of message.reactions ?? []) if (!r.removed) counts.set(r.emoji, (counts.get(r.emoji) ?? 0) + 1);
  return [...counts].map(([emoji, count]) => ({ emoji, count }));
}
