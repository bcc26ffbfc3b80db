import type { Address } from "../../shared/address.js";
import type { Locale, Translate } from "../i18n/translate.js";
import type { ConversationSummary, GroupNotice } from "./core-types.js";
import type { PeopleNames } from "./people-names.js";
import { senderLabels } from "./sender-label.js";
import { retentionLabel } from "./settings-form.js";
import { listStamp } from "./time-format.js";

export interface ChatSummary {
  id: string;
  title: string;
  lastText: string | null;
  lastAt: number | null;
  lastMine: boolean;
  /** The last message was deleted for everyone: its text is gone, the row says so. */
  lastDeleted?: boolean;
  /** The last line is a notice (a chat's new timer), told by its own words. */
  lastNotice?: GroupNotice;
  /** The last message is ours and failed to send for good: the row says so, as the chat does. */
  lastFailed?: boolean;
  unread: number;
  /** For a group: its roster size, and the name of who wrote the last message. */
  members?: number;
  lastFrom?: string | null;
  /** A 1:1's person: their address (always one hover away) and avatar. */
  address?: Address;
  avatar?: string | null;
}

export interface ChatRow {
  id: string;
  title: string;
  initial: string;
  preview: string;
  stamp: string;
  unreadLabel: string;
  unread: number;
  /** "Not delivered" before the preview when the last message is ours and failed; empty otherwise. */
  failedLabel: string;
  selected: boolean;
  group: boolean;
  /** "3 members" for a group, empty for a chat with one person. */
  membersLabel: string;
  /** Kept at the top of the list. */
  pinned: boolean;
  /** Its messages do not notify. */
  muted: boolean;
  /** The person's address, shown on hover; empty for a group. */
  address: string;
  avatar: string | null;
}

/** How chats name people: display names, told apart from lookalikes (PROTOCOL §8.2). */
export type ChatNames = Pick<PeopleNames, "person" | "resolve">;

/** The chats this device keeps on top, and those it keeps quiet (ids as the rows have them). */
export interface ChatMarks {
  pinned: ReadonlySet<string>;
  muted: ReadonlySet<string>;
}

/** Whether a chat's last line is a text or file of ours that failed to send (a notice never does). */
const failedLast = (last: ConversationSummary["last"]): boolean => last?.direction === "out" && last.status === "failed" && !last.notice && !last.deleted;

/** What a chat row shows of the core's summary: a group by its name (its members until it has one). */
export function chatSummary(c: ConversationSummary, self: Address, names?: ChatNames): ChatSummary {
  if (c.kind === "group") {
    const last = c.last;
    return {
      id: c.conversation,
      title: c.title || c.members.filter((m) => m !== self).join(", "),
      lastText: last?.text || null,
      lastAt: last?.at ?? null,
      lastMine: last?.direction === "out",
      ...(last?.deleted ? { lastDeleted: true } : {}),
      ...(last?.notice ? { lastNotice: last.notice } : {}),
      ...(failedLast(last) ? { lastFailed: true } : {}),
      unread: c.unread,
      members: c.members.length,
      lastFrom: last && last.direction === "in" ? senderLabels([...c.members, last.from], names?.resolve)(last.from).name : null,
    };
  }
  return {
    id: c.conversation,
    title: c.peer && names ? names.person(c.peer, { full: true }).line : (c.peer ?? c.members.filter((m) => m !== self).join(", ")),
    ...(c.peer ? { address: c.peer, avatar: names?.person(c.peer).avatar ?? null } : {}),
    lastText: c.last?.text ?? null,
    lastAt: c.last?.at ?? null,
    lastMine: c.last?.direction === "out",
    ...(c.last?.deleted ? { lastDeleted: true } : {}),
    ...(c.last?.notice ? { lastNotice: c.last.notice } : {}),
    ...(failedLast(c.last) ? { lastFailed: true } : {}),
    unread: c.unread,
  };
}

/** Who wrote a group message and in which group ("bob in Weekend"), for its notification; null outside groups. */
export function groupSender(summary: ConversationSummary, from: Address, self: Address, names?: ChatNames): { name: string; title: string } | null {
  if (summary.kind !== "group") return null;
  const { title } = chatSummary(summary, self, names);
  return { name: senderLabels([...summary.members, from], names?.resolve)(from).name, title };
}

const PREVIEW_MAX = 80;

/** One line of text for a chat row: the first line of the last message, cut at a word. */
export function previewOf(text: string): string {
  const line = text.split("\n", 1)[0]!.trim();
  if (line.length <= PREVIEW_MAX) return line;
  const cut = line.slice(0, PREVIEW_MAX);
  const space = cut.lastIndexOf(" ");
  return `${space > PREVIEW_MAX / 2 ? cut.slice(0, space) : cut}…`;
}

/** A chat's new timer as its last line: "Disappearing messages: 1 day". */
function noticePreview(notice: GroupNotice, t: Translate): string {
  if (notice.type !== "timer") return "";
  if (notice.days === undefined) return t("chats.timerOwn");
  return notice.days === null ? t("chats.timerOff") : t("chats.timer", { time: retentionLabel(notice.days, t) });
}

/** "You: hi" for our own last message, "bob: hi" for someone's in a group, else the text alone. */
function preview(chat: ChatSummary, t: Translate): string {
  if (chat.lastNotice) return noticePreview(chat.lastNotice, t);
  if (chat.lastDeleted && chat.lastMine) return t("chats.youDeleted");
  const text = chat.lastDeleted ? t("conv.deleted") : chat.lastText === null ? "" : previewOf(chat.lastText);
  if (!text) return text;
  if (chat.lastMine) return t("chats.you", { text });
  return chat.lastFrom ? t("chats.from", { name: chat.lastFrom, text }) : text;
}

export function membersLabel(count: number, t: Translate): string {
  return count === 1 ? t("group.oneMember") : t("group.members", { count });
}

/** Chats with the newest activity first; a chat without messages sorts last, by title. */
export function chatRows(
  chats: readonly ChatSummary[],
  selected: string | null,
  now: number,
  locale: Locale,
  t: Translate,
  marks: ChatMarks = { pinned: new Set(), muted: new Set() },
): ChatRow[] {
  const pinned = (id: string) => (marks.pinned.has(id) ? 1 : 0);
  return [...chats]
    .sort((a, b) => pinned(b.id) - pinned(a.id) || (b.lastAt ?? -1) - (a.lastAt ?? -1) || a.title.localeCompare(b.title))
    .map((chat) => ({
      id: chat.id,
      title: chat.title,
      initial: (chat.title.match(/[\p{L}\p{N}]/u)?.[0] ?? "#").toUpperCase(),
      preview: preview(chat, t),
      stamp: chat.lastAt === null ? "" : listStamp(chat.lastAt, now, locale, t),
      unreadLabel: chat.unread > 0 ? t("chats.unread", { count: chat.unread }) : "",
      unread: chat.unread,
      failedLabel: chat.lastFailed ? t("conv.status.failed") : "",
      selected: chat.id === selected,
      group: chat.members !== undefined,
      membersLabel: chat.members === undefined ? "" : membersLabel(chat.members, t),
      pinned: marks.pinned.has(chat.id),
      muted: marks.muted.has(chat.id),
      address: chat.address ?? "",
      avatar: chat.avatar ?? null,
    }));
}
