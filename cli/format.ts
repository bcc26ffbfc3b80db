import type { MessageRecord } from "../shared/client/messages.js";

export const time = (ms: number) => new Date(ms).toISOString().replace("T", " ").slice(0, 19);

/** One line per message: when, who, what, and for our own messages how far it got. */
export function formatMessage(m: MessageRecord): string {
  const mark = m.direction === "out" ? `  [${m.status}${m.error ? `: ${m.error}` : ""}]` : "";
  return `${time(m.at)}  ${m.direction === "out" ? "me" : m.from}: ${m.text}${mark}`;
}
