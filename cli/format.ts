import type { Address } from "../shared/address.js";
import type { ConversationRecord } from "../shared/client/conversation-record.js";
import type { MessageRecord } from "../shared/client/messages.js";
import { chatOfMoved } from "../shared/client/moved-history.js";

export const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** How a message is named on the command line: the start of its id, enough to pick it out. */
export const shortId = (id: string) => id.slice(0, 6);

/** A group notice as a sentence: "alice#… added carol#…". */
function noticeText(m: Pick<MessageRecord, "notice">): string {
  const n = m.notice!;
  const who = n.who?.length ? ` ${n.who.join(", ")}` : "";
  if (n.type === "renamed") return `${n.by} renamed the group to "${n.title}"`;
  if (n.type === "unreadable") return `a message from ${n.by} could not be read`;
  if (n.type === "timer") {
    const timer = n.days === undefined ? "as each device's settings say" : n.days === null ? "forever" : `for ${n.days} day${n.days === 1 ? "" : "s"}`;
    return `${n.by} set messages here to be kept ${timer}`;
  }
  if (n.type === "created") return `${n.by} created the group${n.title ? ` "${n.title}"` : ""}${who && ` with${who}`}`;
  return `${n.by} ${n.type}${who}`;
}

/** A chat's last line in the list of chats: "me: hi", "bob#…: hi", or its timer notice "* bob#… set …". */
export function lastLineText(last: NonNullable<ConversationRecord["last"]>, nameOf: (address: Address) => string = (a) => a): string {
  if (last.notice) return `* ${noticeText(last)}`;
  return `${last.direction === "out" ? "me" : nameOf(last.from)}: ${last.text}`;
}

/** A file as "[file] report.pdf (1.2 MiB)", with "damaged" or "expired" when a download found it so. */
function attachmentText(a: NonNullable<MessageRecord["attachment"]>): string {
  const size = a.size < 1_048_576 ? `${Math.ceil(a.size / 1024)} KiB` : `${(a.size / 1_048_576).toFixed(1)} MiB`;
  const state = a.state ? `, ${a.state}` : "";
  return `[${a.kind}] ${a.name} (${size}${state})`;
}

/** Reactions as "👍 2 ❤ 1" (each emoji with how many people gave it). */
function reactionsText(m: MessageRecord): string {
  const counts = new Map<string, number>();
  for (const r of m.reactions ?? []) if (!r.removed) counts.set(r.emoji, (counts.get(r.emoji) ?? 0) + 1);
  return [...counts].map(([emoji, n]) => `${emoji} ${n}`).join(" ");
}

/**
 * One line per message: when, its short id, who, what, and for our own messages how far it got;
 * a reply names the message it answers (`quoted`, if this device holds it), and reactions follow.
 */
export function formatMessage(m: MessageRecord, quoted?: MessageRecord, nameOf: (address: Address) => string = (a) => a): string {
  if (m.notice) return `${time(m.at)}  * ${noticeText(m)}`;
  const mark = m.direction === "out" ? `  [${m.status}${m.read ? ", read" : ""}${m.error ? `: ${m.error}` : ""}]` : "";
  const who = m.direction === "out" ? "me" : nameOf(m.from);
  const what = m.deleted ? "(deleted)" : m.attachment ? attachmentText(m.attachment) : `${m.text}${m.editedAt !== undefined ? " (edited)" : ""}`;
  // The old account's record (PROTOCOL §11), not a message received here.
  const moved = chatOfMoved(m.conversation) === undefined ? "" : "  (earlier history)";
  const reply = m.replyTo === undefined ? "" : `(re ${shortId(m.replyTo)}${quoted && !quoted.deleted ? `: "${[...quoted.text].slice(0, 30).join("")}"` : ""}) `;
  const reactions = reactionsText(m);
  return `${time(m.at)}  ${shortId(m.id)}  ${who}: ${reply}${what}${mark}${moved}${reactions ? `  ${reactions}` : ""}`;
}
