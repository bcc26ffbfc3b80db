import type { Address } from "../address.js";
import type { DeleteContent, EditContent, ReactionContent, ReceiptContent } from "../content.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, lastLine, loadConversation } from "./conversation-record.js";
import { indexMessages } from "./search.js";
import { findMessage, history, type MessageRecord, saveMessage, setStatus } from "./messages.js";
import { ofChat } from "./moved-history.js";

/**
 * What refers to a stored message by its id (PROTOCOL §8.1): reactions, edits, deletes and
 * receipts. The author of each is its MLS sender, passed in as `sender`; a server's `from` never
 * gets here. An edit or delete by anyone but the message's own sender changes nothing.
 */
export type MessageChange = ReactionContent | EditContent | DeleteContent;

/** One sender's reaction, kept also when taken back: a late `add` older than the `remove` must lose. */
export interface Reaction {
  by: Address;
  emoji: string;
  at: number;
  removed?: true;
}

/** A typing indicator sent longer ago than this arrived late: not shown, and not sent (PROTOCOL §8.1). */
export const TYPING_LATE_MS = 20_000;

const HELD = "held/";
const heldPrefix = (conversation: string, of: string) => `${HELD}${conversation}/${of}/`;
/** Where the changes held for any message of `conversation` are (a mailbox batch reads them at once). */
export const heldChangesOf = (conversation: string) => `${HELD}${conversation}/`;
/** A change whose message has not come within the mailbox lifetime never will (PROTOCOL §8.1). */
export const HELD_MAX_AGE_MS = 30 * 86_400_000;
/** Per conversation: a member sending changes to messages that never come cannot fill the store. */
export const HELD_MAX_PER_CONVERSATION = 500;

/** A change kept until its message arrives; `at` is when it arrived (absent on ones kept before the bound). */
interface HeldChange {
  change: MessageChange;
  sender: Address;
  at?: number;
}

/** Applies `change` to its message: a new record, or undefined when it changes nothing. */
export function changed(message: MessageRecord, change: MessageChange, sender: Address): MessageRecord | undefined {
  if (message.notice || message.deleted) return undefined;
  if (change.type === "reaction") return reacted(message, change, sender);
  // Only the message's author may change it: the rule the receivers enforce (PROTOCOL §8.1).
  if (sender !== message.from) return undefined;
  if (change.type === "delete") {
    // A file's pointer holds its key: a message deleted for everyone keeps neither words nor file.
    const { reactions: _r, editedAt: _e, attachment: _a, ...rest } = message;
    return { ...rest, text: "", deleted: true };
  }
  if (message.editedAt !== undefined && message.editedAt >= change.sentAt) return undefined;
  return { ...message, text: change.text, editedAt: change.sentAt };
}

function reacted(message: MessageRecord, change: ReactionContent, sender: Address): MessageRecord | undefined {
  const all = message.reactions ?? [];
  const mine = all.find((r) => r.by === sender && r.emoji === change.emoji);
  if (mine && mine.at >= change.sentAt) return undefined;
  const next: Reaction = { by: sender, emoji: change.emoji, at: change.sentAt, ...(change.op === "remove" ? { removed: true as const } : {}) };
  return { ...message, reactions: [...all.filter((r) => r !== mine), next] };
}

/**
 * Reads a change by `sender` in `record`'s conversation. Its message is looked up in that
 * conversation only (and the history moved in for its chat); one not here yet is held and applied
 * when it arrives (`applyHeld`).
 */
export async function readChange(ctx: CoreContext, record: ConversationRecord, change: MessageChange, sender: Address): Promise<ConversationRecord> {
  const message = await findMessage(ctx, change.of);
  if (!message) {
    await hold(ctx, record.conversation, { change, sender, at: ctx.clock.now() });
    return record;
  }
  if (!ofChat(message, record)) return record;
  return store(ctx, record, changed(message, change, sender));
}

/** Keeps `held` for its message, dropping the conversation's oldest beyond the bound. */
async function hold(ctx: CoreContext, conversation: string, held: HeldChange): Promise<void> {
  await ctx.store.put(`${heldPrefix(conversation, held.change.of)}${held.change.id}`, held);
  const all = await ctx.store.list<HeldChange>(`${HELD}${conversation}/`);
  if (all.length <= HELD_MAX_PER_CONVERSATION) return;
  const oldest = all.sort(([, a], [, b]) => (a.at ?? 0) - (b.at ?? 0)).slice(0, all.length - HELD_MAX_PER_CONVERSATION);
  for (const [key] of oldest) await ctx.store.delete(key);
}

/**
 * Drops held changes that will never apply: older than the bound (or kept before it, so of unknown
 * age), or of a conversation this device no longer has, left, or stopped as unsafe. Returns how many.
 */
export async function cleanHeld(ctx: Pick<CoreContext, "store">, now: number): Promise<number> {
  const open = new Map<string, boolean>();
  const isOpen = async (conversation: string) => {
    if (!open.has(conversation)) {
      const record = await loadConversation(ctx, conversation);
      // A change to a first text still waiting for its conversation (`@friend`) is kept.
      open.set(conversation, conversation.startsWith("@") || (record !== undefined && !record.left && !record.unsafe));
    }
    return open.get(conversation)!;
  };
  let dropped = 0;
  for (const [key, held] of await ctx.store.list<HeldChange>(HELD)) {
    // `held/{conversation}/{of}/{id}`: the conversation ("HUB/ID") holds a slash itself.
    const conversation = key.slice(HELD.length).split("/").slice(0, -2).join("/");
    if (held.at !== undefined && now - held.at <= HELD_MAX_AGE_MS && (await isOpen(conversation))) continue;
    await ctx.store.delete(key);
    dropped++;
  }
  return dropped;
}

/** Changes that arrived before `message` did, applied now under the same checks. */
export async function applyHeld(ctx: CoreContext, record: ConversationRecord, message: MessageRecord): Promise<ConversationRecord> {
  const held = await ctx.store.list<HeldChange>(heldPrefix(record.conversation, message.id));
  let current = message;
  let next = record;
  for (const [key, { change, sender }] of held) {
    const after = changed(current, change, sender);
    if (after) {
      next = await store(ctx, next, after);
      current = after;
    }
    await ctx.store.delete(key);
  }
  return next;
}

async function store(ctx: CoreContext, record: ConversationRecord, message: MessageRecord | undefined): Promise<ConversationRecord> {
  if (!message) return record;
  // Read before the deleted copy replaces it: a message deleted before it was read is no news.
  const unread = message.deleted && (await countedUnread(ctx, record, message)) ? record.unread - 1 : record.unread;
  await saveMessage(ctx, message);
  if (message.deleted || message.editedAt !== undefined) await indexMessages(ctx, [message]);
  ctx.events.emit("status", message);
  return withChanged({ ...record, unread }, message);
}

/** `record` whose chat-list line is `message` as changed now (edited, or deleted for everyone). */
export function withChanged(record: ConversationRecord, message: MessageRecord): ConversationRecord {
  return record.last?.id === message.id ? { ...record, last: lastLine(message) } : record;
}

/** Messages a page back through a conversation reads at a time, looking for received ones. */
const RECEIVED_PAGE = 200;

/**
 * The newest `count` received messages of a conversation (no notices, none deleted), oldest first:
 * all the unread count can hold, read a page at a time from the newest, not the whole history.
 */
async function newestReceived(ctx: CoreContext, conversation: string, count: number): Promise<MessageRecord[]> {
  const found: MessageRecord[] = [];
  let page = await history(ctx, conversation, { limit: RECEIVED_PAGE });
  while (page.length > 0 && found.length < count) {
    found.unshift(...page.filter((m) => m.direction === "in" && !m.notice && !m.deleted));
    page = await history(ctx, conversation, { before: page[0]!.at, beforeId: page[0]!.id, limit: RECEIVED_PAGE });
  }
  return found.slice(-count);
}

/**
 * Whether `message` is among those the unread count holds: the newest received ones not yet read,
 * each counted once when it arrived (notices and deleted messages are not).
 */
async function countedUnread(ctx: CoreContext, record: ConversationRecord, message: MessageRecord): Promise<boolean> {
  if (record.unread === 0 || message.direction !== "in" || message.readSent) return false;
  return (await newestReceived(ctx, record.conversation, record.unread)).some((m) => m.id === message.id);
}

/**
 * A `read` receipt from another device of this account: what it names was read there, so it is
 * read here too. No receipt of this device names those again, and the unread count keeps only what
 * came after the newest of them (a message that came since stays unread).
 */
export async function readOnOtherDevice(ctx: CoreContext, record: ConversationRecord, receipt: ReceiptContent): Promise<ConversationRecord> {
  if (receipt.state !== "read") return record;
  for (const id of receipt.of) {
    const message = await findMessage(ctx, id);
    if (message && ofChat(message, record) && message.direction === "in" && !message.readSent) await saveMessage(ctx, { ...message, readSent: true });
  }
  if (record.unread === 0) return record;
  const named = new Set(receipt.of);
  // Only the newest `unread` received ones can lower the count: one named further back leaves it.
  const received = await newestReceived(ctx, record.conversation, record.unread);
  const newest = received.findLastIndex((m) => named.has(m.id));
  return newest < 0 ? record : { ...record, unread: Math.min(record.unread, received.length - 1 - newest) };
}

/**
 * A receipt from `sender` (another account): marks our own texts of this conversation it names
 * delivered or read. `showRead` false (the privacy setting) takes `read` as `delivered`.
 */
export async function readReceipt(ctx: CoreContext, record: ConversationRecord, receipt: ReceiptContent, showRead: boolean): Promise<void> {
  const read = receipt.state === "read" && showRead;
  for (const id of receipt.of) {
    const message = await findMessage(ctx, id);
    if (!message || !ofChat(message, record) || message.direction !== "out" || message.notice) continue;
    const delivered = await setStatus(ctx, id, "delivered");
    if (read && delivered && !delivered.read) {
      const next: MessageRecord = { ...delivered, read: true };
      await saveMessage(ctx, next);
      ctx.events.emit("status", next);
    }
  }
}
