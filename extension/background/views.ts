import type { Address } from "../../shared/address.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import type { Friend } from "../../shared/client/friends.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { Translate } from "../../ui/i18n/translate.js";
import { chatSummary, groupSender } from "../../ui/view-models/chat-list.js";
import { notificationBody } from "../../ui/view-models/notification-policy.js";
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
  };
}

/**
 * The system notification for an arriving message: "bob in Weekend" for a group, the sender's
 * address for a 1:1 chat. None for our own messages or for group events, which only show in the chat.
 */
export function arrivalNotification(message: MessageRecord, summary: ConversationSummary | undefined, self: Address, t: Translate): { title: string; body: string } | null {
  if (message.direction !== "in" || message.notice) return null;
  const inGroup = summary ? groupSender(summary, message.from, self) : null;
  const title = inGroup ? t("notify.group", inGroup) : t("notify.title", { address: message.from });
  return { title, body: notificationBody(message.text) };
}
