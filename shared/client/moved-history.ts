import type { Address } from "../address.js";
import { type ArchiveChat, type ArchiveMessage, HISTORY_MAX_MESSAGES, HISTORY_MAX_REACTIONS } from "../account-archive.js";
import type { CoreContext } from "./context.js";
import { attachmentContentOf, attachmentRecordOf } from "./attachments.js";
import { type ConversationRecord, type ConversationSummary, lastLine, listConversations } from "./conversation-record.js";
import { listFriends } from "./friends.js";
import { findMessage, history, type MessageRecord, saveMessage } from "./messages.js";
import { pendingConversation } from "./outgoing-queue.js";
import { indexMessages } from "./search.js";
import { lastOf } from "./store.js";

/**
 * The chat history an account brings when it moves here (PROTOCOL §11), and that a new device of
 * the account brings from the one that linked it (§6). Each chat's messages are
 * kept under a name of their own, `moved:CHAT`, where CHAT is the friend of a 1:1 or the group's
 * conversation; the chat's history then shows them with its own, so a 1:1 reads on in the new
 * conversation with the same friend, and before there is one. A group not joined again is read
 * from its old conversation alone, read-only.
 */

const MOVED = "moved:";
const CHATS = "moved-chats";

/** Where a chat's moved-in messages are kept. */
export const movedChat = (chat: string) => `${MOVED}${chat}`;

/** The chat a stored conversation name belongs to when it holds moved-in history. */
export const chatOfMoved = (conversation: string): string | undefined => (conversation.startsWith(MOVED) ? conversation.slice(MOVED.length) : undefined);

/**
 * Whether `message` is of `record`'s chat: in its conversation, or in the history moved in for it
 * (its friend's, or the group's own). A reaction, edit, deletion or receipt that comes in the
 * conversation then applies to a message brought from another device or account too.
 */
export function ofChat(message: Pick<MessageRecord, "conversation">, record: Pick<ConversationRecord, "conversation" | "kind" | "peer">): boolean {
  if (message.conversation === record.conversation) return true;
  const chat = chatOfMoved(message.conversation);
  return chat !== undefined && chat === (record.kind !== "group" && record.peer ? record.peer : record.conversation);
}

/** A chat whose history moved in: its friend or group, its name as it was, how many messages, when the first of them was written. */
export interface MovedChat {
  chat: string;
  title?: string;
  messages: number;
  /** Absent from records kept before it was: the chat's messages are read for it then. */
  firstAt?: number;
}

export function movedChats(ctx: Pick<CoreContext, "store">): Promise<MovedChat[]> {
  return ctx.store.get<MovedChat[]>(CHATS).then((chats) => chats ?? []);
}

/** A conversation's messages as read from its end, a page at a time. */
interface PageCursor {
  prefix: string;
  /** Oldest first, as the store lists them: the next message in turn is the last. */
  page: Array<[string, MessageRecord]>;
  more: boolean;
}

const PAGE = 200;

async function pageBefore(ctx: Pick<CoreContext, "store">, prefix: string, before?: string): Promise<PageCursor> {
  // A store that cannot read a page lists the whole chat for each one: it gives it all at once.
  const size = ctx.store.listLast ? PAGE : Number.MAX_SAFE_INTEGER;
  const page = await lastOf<MessageRecord>(ctx.store, prefix, size, before);
  return { prefix, page, more: page.length === size };
}

/**
 * The newest `limit` messages that `keep` takes from the conversations `names`, newest first: each
 * is read a page at a time from its end, so what is read is about what is carried, not the store.
 */
async function newestMessages(ctx: Pick<CoreContext, "store">, names: Iterable<string>, limit: number, keep: (m: MessageRecord) => boolean): Promise<MessageRecord[]> {
  const cursors = await Promise.all([...new Set(names)].map((name) => pageBefore(ctx, `msg/${name}/`)));
  const newest: MessageRecord[] = [];
  while (newest.length < limit) {
    let next: PageCursor | undefined;
    for (const cursor of cursors) {
      const head = cursor.page.at(-1);
      if (head && (!next || head[1].at > next.page.at(-1)![1].at)) next = cursor;
    }
    if (!next) break;
    const [key, message] = next.page.pop()!;
    if (keep(message)) newest.push(message);
    if (next.page.length === 0 && next.more) Object.assign(next, await pageBefore(ctx, next.prefix, key));
  }
  return newest;
}

/** What a device link adds to each message (PROTOCOL §6): its reactions, and how far ours got. */
function linkStateOf(m: MessageRecord): Pick<ArchiveMessage, "status" | "reactions"> {
  const reactions = (m.reactions ?? []).filter((r) => !r.removed).slice(-HISTORY_MAX_REACTIONS).map(({ by, emoji, at }) => ({ by, emoji, at }));
  const status = m.direction !== "out" || m.status !== "delivered" ? undefined : m.read ? "read" : "delivered";
  return { ...(status ? { status } : {}), ...(reactions.length > 0 ? { reactions } : {}) };
}

/**
 * This device's history for an export: every chat's texts and files, newest first up to `limit`
 * (an export's bound, or as many as a link could carry), each chat keyed by its friend or group.
 * Notices and deleted messages stay behind; a file goes as its pointer. Reactions and receipts go
 * only to another device of this account (`link`): a move leaves them behind (§11).
 */
export async function historyForExport(ctx: Pick<CoreContext, "store">, limit = HISTORY_MAX_MESSAGES, { link = false } = {}): Promise<ArchiveChat[]> {
  const conversations = await listConversations(ctx);
  const records = new Map(conversations.map((c) => [c.conversation, c]));
  const chatOf = (conversation: string) => {
    if (conversation.startsWith("@")) return conversation.slice(1);
    const moved = chatOfMoved(conversation);
    if (moved !== undefined) return moved;
    const record = records.get(conversation);
    return record?.kind !== "group" && record?.peer ? record.peer : conversation;
  };
  const moved = await movedChats(ctx);
  // Where messages are filed: conversations, a friend's before its conversation is made, history moved in.
  const names = [
    ...conversations.map((c) => c.conversation),
    ...(await listFriends(ctx)).map((f) => pendingConversation(f.address)),
    ...moved.map((c) => movedChat(c.chat)),
  ];
  const kept = await newestMessages(ctx, names, limit, (m) => !m.notice && !m.deleted && m.attachment?.state !== "uploading");
  const chats = new Map<string, ArchiveChat>();
  const titles = new Map(moved.map((c) => [c.chat, c.title]));
  for (const m of kept.reverse()) {
    const chat = chatOf(m.conversation);
    let entry = chats.get(chat);
    if (!entry) {
      const title = records.get(chat)?.title ?? titles.get(chat);
      entry = { chat: chat as ArchiveChat["chat"], ...(title === undefined ? {} : { title }), messages: [] };
      chats.set(chat, entry);
    }
    entry.messages.push({
      id: m.id,
      from: m.from,
      text: m.text,
      at: m.at,
      ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
      ...(m.editedAt === undefined ? {} : { editedAt: m.editedAt }),
      ...(m.expiresAt === undefined ? {} : { expiresAt: m.expiresAt }),
      ...(m.attachment ? { attachment: attachmentContentOf(m.id, m.at, m.attachment) } : {}),
      ...(link ? linkStateOf(m) : {}),
    });
  }
  return [...chats.values()];
}

/** How far a message brought here got: a history without `status` (an export, an older link) says only that ours was sent. */
function statusOf(m: ArchiveMessage, mine: boolean): Pick<MessageRecord, "status" | "read"> {
  if (!mine) return { status: "received" };
  if (!m.status) return { status: "sent" };
  return { status: "delivered", ...(m.status === "read" ? { read: true as const } : {}) };
}

/**
 * Keeps a history brought here (an archive's, or a link bundle's), as written by `from` (ours now),
 * with the reactions and how far ours got where a link carried them: one already on this device
 * (by id) is left as it is. Returns how many messages came in.
 */
export async function restoreHistory(ctx: CoreContext, from: Address, chats: readonly ArchiveChat[]): Promise<number> {
  const known = new Map((await movedChats(ctx)).map((c) => [c.chat, c]));
  const restored: MessageRecord[] = [];
  for (const { chat, title, messages } of chats) {
    let count = 0;
    let firstAt = Number.POSITIVE_INFINITY;
    for (const m of messages) {
      if (await findMessage(ctx, m.id)) continue;
      const mine = m.from === from || m.from === ctx.account.address;
      const message: MessageRecord = {
        id: m.id,
        conversation: movedChat(chat),
        from: m.from as Address,
        direction: mine ? "out" : "in",
        text: m.text,
        at: m.at,
        ...statusOf(m, mine),
        ...(m.replyTo === undefined ? {} : { replyTo: m.replyTo }),
        ...(m.editedAt === undefined ? {} : { editedAt: m.editedAt }),
        ...(m.expiresAt === undefined ? {} : { expiresAt: m.expiresAt }),
        ...(m.attachment ? { attachment: attachmentRecordOf(m.attachment) } : {}),
        ...(m.reactions?.length ? { reactions: m.reactions.map(({ by, emoji, at }) => ({ by, emoji, at })) } : {}),
      };
      await saveMessage(ctx, message);
      restored.push(message);
      count++;
      firstAt = Math.min(firstAt, m.at);
    }
    const before = known.get(chat);
    const name = title ?? before?.title;
    // A record kept before firstAt was keeps none: its first message is looked up when listed.
    const first = before && before.firstAt === undefined ? Number.POSITIVE_INFINITY : Math.min(before?.firstAt ?? firstAt, firstAt);
    known.set(chat, { chat, ...(name === undefined ? {} : { title: name }), messages: (before?.messages ?? 0) + count, ...(Number.isFinite(first) ? { firstAt: first } : {}) });
  }
  await ctx.store.put(CHATS, [...known.values()]);
  await indexMessages(ctx, restored);
  return restored.length;
}

/**
 * The chats whose history moved in and that have no conversation here yet, listed so their history
 * can be opened: a friend's as the chat with that friend (`@FRIEND`, where writing makes the new
 * conversation, which then shows the history), a group this account is not in again as a chat left
 * (read-only, named as it was) until a member adds the new address back.
 */
export async function movedSummaries(ctx: Pick<CoreContext, "store">, live: readonly ConversationSummary[], self: Address): Promise<ConversationSummary[]> {
  const held = new Set(live.flatMap((c) => (c.kind !== "group" && c.peer && !c.unsafe ? [c.conversation, c.peer] : [c.conversation])));
  const summaries: ConversationSummary[] = [];
  for (const { chat, title, firstAt } of await movedChats(ctx)) {
    if (held.has(chat)) continue;
    // The newest message alone is read (the chat list asks for this often); the first's time was kept when it came.
    const [newest] = await history(ctx, movedChat(chat), { limit: 1 });
    if (!newest) continue;
    const created = firstAt ?? (await history(ctx, movedChat(chat), { limit: Number.MAX_SAFE_INTEGER }))[0]!.at;
    const common = { epoch: 0, lastHubSeq: 0, created, unread: 0, last: lastLine(newest) };
    if (!chat.includes("/")) {
      const peer = chat as Address;
      summaries.push({ conversation: `@${peer}`, members: [self, peer], kind: "direct", peer, ...common });
    } else summaries.push({ conversation: chat, members: [self], kind: "group", ...(title === undefined ? {} : { title }), left: true, moved: true, ...common });
  }
  return summaries;
}
