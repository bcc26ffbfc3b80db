import type { Locale, Translate } from "../i18n/translate.js";
import type { MessageKey } from "../i18n/en.js";
import { clockTime, dayLabel, sameDay } from "./time-format.js";

export type DeliveryStatus = "queued" | "sending" | "sent" | "delivered" | "failed";

/** A message as the conversation screen needs it, whatever the core's record looks like. */
export interface TimelineMessage {
  id: string;
  mine: boolean;
  text: string;
  at: number;
  status: DeliveryStatus | null;
  starred: boolean;
}

export type TimelineItem =
  | { kind: "day"; key: string; label: string }
  | {
      kind: "message";
      key: string;
      id: string;
      mine: boolean;
      text: string;
      time: string;
      /** ✓ sent, ✓✓ delivered, ! when it failed; empty while waiting (the view draws a clock). */
      tick: string;
      status: DeliveryStatus | null;
      statusLabel: string;
      starred: boolean;
      /** First of a run from the same side within five minutes: the view adds space above it. */
      startsRun: boolean;
    };

const TICK: Record<DeliveryStatus, string> = { queued: "", sending: "", sent: "✓", delivered: "✓✓", failed: "!" };
const STATUS_KEY: Record<DeliveryStatus, MessageKey> = {
  queued: "conv.status.queued",
  sending: "conv.status.sending",
  sent: "conv.status.sent",
  delivered: "conv.status.delivered",
  failed: "conv.status.failed",
};
const RUN_GAP = 5 * 60_000;

/** Orders messages by time and puts a day separator before each new day. */
export function buildTimeline(messages: readonly TimelineMessage[], now: number, locale: Locale, t: Translate): TimelineItem[] {
  const sorted = [...messages].sort((a, b) => a.at - b.at || a.id.localeCompare(b.id));
  const items: TimelineItem[] = [];
  let previous: TimelineMessage | undefined;
  for (const message of sorted) {
    const newDay = !previous || !sameDay(previous.at, message.at);
    if (newDay) items.push({ kind: "day", key: `day-${message.at}`, label: dayLabel(message.at, now, locale, t) });
    const status = message.mine ? message.status : null;
    items.push({
      kind: "message",
      key: message.id,
      id: message.id,
      mine: message.mine,
      text: message.text,
      time: clockTime(message.at, locale),
      tick: status ? TICK[status] : "",
      status,
      statusLabel: status ? t(STATUS_KEY[status]) : "",
      starred: message.starred,
      startsRun: newDay || !previous || previous.mine !== message.mine || message.at - previous.at > RUN_GAP,
    });
    previous = message;
  }
  return items;
}
