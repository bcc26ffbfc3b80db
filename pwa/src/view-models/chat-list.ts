import type { Locale, Translate } from "../i18n/translate.js";
import { listStamp } from "./time-format.js";

export interface ChatSummary {
  id: string;
  title: string;
  lastText: string | null;
  lastAt: number | null;
  lastMine: boolean;
  unread: number;
  /** For a group: its roster size, and the name of who wrote the last message. */
  members?: number;
  lastFrom?: string | null;
}

export interface ChatRow {
  id: string;
  title: string;
  initial: string;
  preview: string;
  stamp: string;
  unreadLabel: string;
  unread: number;
  selected: boolean;
  group: boolean;
  /** "3 members" for a group, empty for a chat with one person. */
  membersLabel: string;
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

/** "You: hi" for our own last message, "bob: hi" for someone's in a group, else the text alone. */
function preview(chat: ChatSummary, t: Translate): string {
  const text = chat.lastText === null ? "" : previewOf(chat.lastText);
  if (!text) return text;
  if (chat.lastMine) return t("chats.you", { text });
  return chat.lastFrom ? t("chats.from", { name: chat.lastFrom, text }) : text;
}

export function membersLabel(count: number, t: Translate): string {
  return count === 1 ? t("group.oneMember") : t("group.members", { count });
}

/** Chats with the newest activity first; a chat without messages sorts last, by title. */
export function chatRows(chats: readonly ChatSummary[], selected: string | null, now: number, locale: Locale, t: Translate): ChatRow[] {
  return [...chats]
    .sort((a, b) => (b.lastAt ?? -1) - (a.lastAt ?? -1) || a.title.localeCompare(b.title))
    .map((chat) => ({
      id: chat.id,
      title: chat.title,
      initial: (chat.title.match(/[\p{L}\p{N}]/u)?.[0] ?? "#").toUpperCase(),
      preview: preview(chat, t),
      stamp: chat.lastAt === null ? "" : listStamp(chat.lastAt, now, locale, t),
      unreadLabel: chat.unread > 0 ? t("chats.unread", { count: chat.unread }) : "",
      unread: chat.unread,
      selected: chat.id === selected,
      group: chat.members !== undefined,
      membersLabel: chat.members === undefined ? "" : membersLabel(chat.members, t),
    }));
}
