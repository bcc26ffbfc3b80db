import type { MessageRecord } from "../shared/client/messages.js";

export const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** A group notice as a sentence: "alice#… added carol#…". */
function noticeText(m: MessageRecord): string {
  const n = m.notice!;
  const who = n.who?.length ? ` ${n.who.join(", ")}` : "";
  if (n.type === "renamed") return `${n.by} renamed the group to "${n.title}"`;
  if (n.type === "unreadable") return `a message from ${n.by} could not be read`;
  if (n.type === "created") return `${n.by} created the group${n.title ? ` "${n.title}"` : ""}${who && ` with${who}`}`;
  return `${n.by} ${n.type}${who}`;
}

/** One line per message: when, who, what, and for our own messages how far it got. */
export function formatMessage(m: MessageRecord): string {
  if (m.notice) return `${time(m.at)}  * ${noticeText(m)}`;
  const mark = m.direction === "out" ? `  [${m.status}${m.error ? `: ${m.error}` : ""}]` : "";
  return `${time(m.at)}  ${m.direction === "out" ? "me" : m.from}: ${m.text}${mark}`;
}
