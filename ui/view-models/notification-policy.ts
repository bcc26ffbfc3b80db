import type { Address } from "../../shared/address.js";
import type { Translate } from "../i18n/translate.js";
import { type ChatNames, groupSender } from "./chat-list.js";
import type { ConversationSummary, Friend, MessageRecord } from "./core-types.js";

export interface Attention {
  hidden: boolean;
  permission: NotificationPermission | "unsupported";
}

export interface NotificationText {
  title: string;
  body: string;
}

/** A system notification only while EMSG is hidden and allowed to; in view, unread counts say it. */
export function shouldNotify(attention: Attention): boolean {
  return attention.hidden && attention.permission === "granted";
}

/** Notification text is cut short: lock screens show it to anyone nearby. */
export function notificationBody(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 120 ? `${line.slice(0, 119)}…` : line;
}

/**
 * The notification for an arriving message: "bob in Weekend" for a group (`summary` is the
 * conversation's, when known), the sender's display name (with the address when it could pass for
 * someone else's, PROTOCOL §8.2; `names`) or address otherwise. None for our own messages or group
 * events (someone added, left…), which only show in the chat.
 */
export function arrivalNotification(message: MessageRecord, summary: ConversationSummary | undefined, self: Address, t: Translate, names?: ChatNames): NotificationText | null {
  if (message.direction !== "in" || message.notice) return null;
  const inGroup = summary ? groupSender(summary, message.from, self, names) : null;
  const title = inGroup ? t("notify.group", inGroup) : t("notify.title", { address: names ? names.person(message.from, { full: true }).line : message.from });
  return { title, body: notificationBody(message.text) };
}

/** The notification for a friend request that waits for an answer (its note, if it has one); none for other changes. */
export function requestNotification(friend: Pick<Friend, "address" | "state" | "note">, t: Translate): NotificationText | null {
  if (friend.state !== "incoming" && friend.state !== "held") return null;
  const body = friend.note ? notificationBody(friend.note) : t("notify.requestBody", { address: friend.address });
  return { title: t("notify.request", { address: friend.address }), body };
}
