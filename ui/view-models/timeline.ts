import type { Locale, Translate } from "../i18n/translate.js";
import type { MessageKey } from "../i18n/en.js";
import type { Address } from "../../shared/address.js";
import type { GroupNotice } from "./core-types.js";
import { noticeText } from "./group-notice.js";
import { type GroupLabels, type SenderLabel, senderLabels } from "./sender-label.js";
import { type TextPart, textParts } from "./message-text.js";
import { clockTime, dayLabel, sameDay } from "./time-format.js";
import type { AttachmentRecord } from "../../shared/client/attachments.js";

export type DeliveryStatus = "queued" | "sending" | "sent" | "delivered" | "read" | "failed";

/** The message a reply answers, as shown above it; `text` is null when this device does not hold it. */
export interface TimelineQuote {
  id: string;
  author: string;
  text: string | null;
}

/** One emoji's reactions: how many gave it, and whether this account is one of them. */
export interface TimelineReaction {
  emoji: string;
  count: number;
  mine: boolean;
  /** Who gave it, for a tooltip. */
  by: string;
}

/** A message as the conversation screen needs it, whatever the core's record looks like. */
export interface TimelineMessage {
  id: string;
  mine: boolean;
  text: string;
  at: number;
  status: DeliveryStatus | null;
  starred: boolean;
  /** Who wrote it: in a group, runs break and names show where the sender changes. */
  from?: Address;
  /** A group event (someone added, removed, left, renamed) rather than something someone wrote. */
  notice?: GroupNotice;
  edited?: boolean;
  /**
   * Moved in with the account (PROTOCOL §11): the old account's record of what was said, which no
   * MLS sender proves, so it is marked as such and never passes for a message received here.
   */
  moved?: boolean;
  /** Deleted for everyone by its sender: shown as a line saying so. */
  deleted?: boolean;
  quote?: TimelineQuote;
  reactions?: TimelineReaction[];
  /** A photo, file or voice note (PROTOCOL §15); `text` is its name. */
  attachment?: AttachmentRecord;
  /** Ours, failed to send for good: why, and whether it can be sent again (Retry). */
  failure?: SendFailure;
}

/** Why a message of ours was not delivered, worded for the person, and whether Retry can work (null: not known yet). */
export interface SendFailure {
  reason: string;
  retry: boolean | null;
  /** A file whose upload never finished: no server holds it, so there is nothing to open or download. */
  unsent: boolean;
}

export type TimelineItem =
  | { kind: "day"; key: string; label: string }
  /** Where the messages unread when the chat opened begin ("3 unread messages"). */
  | { kind: "unread"; key: string; label: string }
  /** A group event as one centered system line. */
  | { kind: "notice"; key: string; id: string; text: string; time: string }
  | {
      kind: "message";
      key: string;
      id: string;
      mine: boolean;
      text: string;
      /** `text` as runs of words and safe links. */
      parts: TextPart[];
      edited: boolean;
      moved: boolean;
      deleted: boolean;
      quote: TimelineQuote | null;
      reactions: TimelineReaction[];
      attachment: AttachmentRecord | null;
      time: string;
      /** ✓ sent, ✓✓ delivered, ! when it failed; empty while waiting (the view draws a clock). */
      tick: string;
      status: DeliveryStatus | null;
      statusLabel: string;
      /** Ours, failed to send: offered Retry (where it can work) and Delete. */
      failure: SendFailure | null;
      starred: boolean;
      /** First of a run from the same side within five minutes: the view adds space above it. */
      startsRun: boolean;
      /** In a group, on the first of someone else's run: who wrote it, shown above the text. */
      sender: SenderLabel | null;
      /** In a group, on every message of someone else: who wrote it (screen readers say it each time). */
      author: SenderLabel | null;
    };

const TICK: Record<DeliveryStatus, string> = { queued: "", sending: "", sent: "✓", delivered: "✓✓", read: "✓✓", failed: "!" };
const STATUS_KEY: Record<DeliveryStatus, MessageKey> = {
  queued: "conv.status.queued",
  sending: "conv.status.sending",
  sent: "conv.status.sent",
  delivered: "conv.status.delivered",
  read: "conv.status.read",
  failed: "conv.status.failed",
};
const RUN_GAP = 5 * 60_000;

/** Whether `message` begins a new run after `previous` (same day already checked by the caller). */
function startsRun(previous: TimelineMessage | undefined, message: TimelineMessage): boolean {
  if (!previous || previous.notice) return true;
  if (previous.mine !== message.mine || message.at - previous.at > RUN_GAP) return true;
  return previous.from !== undefined && message.from !== undefined && previous.from !== message.from;
}

/** The first message unread when the chat opened, and how many were. */
export interface UnreadStart {
  id: string;
  count: number;
}

/**
 * Orders messages by time and puts a day separator before each new day. `group` is given for a
 * group chat: others' runs are then headed by the sender's name and events become system lines.
 * `unread` puts its line above the first message unread when the chat opened.
 */
export function buildTimeline(messages: readonly TimelineMessage[], now: number, locale: Locale, t: Translate, group?: GroupLabels, unread?: UnreadStart): TimelineItem[] {
  const sorted = [...messages].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  const items: TimelineItem[] = [];
  let previous: TimelineMessage | undefined;
  for (const message of sorted) {
    const newDay = !previous || !sameDay(previous.at, message.at);
    if (newDay) items.push({ kind: "day", key: `day-${message.at}`, label: dayLabel(message.at, now, locale, t) });
    if (message.id === unread?.id) items.push({ kind: "unread", key: "unread", label: unread.count === 1 ? t("conv.unreadOne") : t("conv.unreadMany", { count: unread.count }) });
    if (message.notice) {
      // A 1:1 has notices too (a message that could not be read): named as a group would name them.
      const text = noticeText(message.notice, group ?? { self: "" as Address, label: senderLabels([message.notice.by]) }, locale, t);
      items.push({ kind: "notice", key: message.id, id: message.id, text, time: clockTime(message.at, locale) });
      previous = message;
      continue;
    }
    const status = message.mine ? message.status : null;
    const first = newDay || startsRun(previous, message);
    const author = group && !message.mine && message.from ? group.label(message.from) : null;
    items.push({
      kind: "message",
      key: message.id,
      id: message.id,
      mine: message.mine,
      text: message.text,
      parts: message.deleted ? [] : textParts(message.text),
      edited: message.edited === true,
      moved: message.moved === true,
      deleted: message.deleted === true,
      quote: message.quote ?? null,
      reactions: message.reactions ?? [],
      attachment: message.attachment ?? null,
      time: clockTime(message.at, locale),
      tick: status ? TICK[status] : "",
      status,
      statusLabel: status ? t(STATUS_KEY[status]) : "",
      failure: message.mine ? (message.failure ?? null) : null,
      starred: message.starred,
      startsRun: first,
      sender: first ? author : null,
      author,
    });
    previous = message;
  }
  return items;
}
