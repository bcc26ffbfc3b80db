import type { Address } from "../address.js";
import type { DeleteContent, EditContent, ReactionContent, ReceiptContent } from "../content.js";
import type { CoreContext } from "./context.js";
import type { ConversationRecord } from "./conversation-record.js";
import { indexMessages } from "./search.js";
import { findMessage, type MessageRecord, saveMessage, setStatus } from "./messages.js";

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

const heldPrefix = (conversation: string, of: string) => `held/${conversation}/${of}/`;

/** Applies `change` to its message: a new record, or undefined when it changes nothing. */
export function changed(message: MessageRecord, change: MessageChange, sender: Address): MessageRecord | undefined {
  if (message.notice || message.deleted) return undefined;
  if (change.type === "reaction") return reacted(message, change, sender);
  // Only the message's author may change it: the rule the receivers enforce (PROTOCOL §8.1).
  if (sender !== message.from) return undefined;
  if (change.type === "delete") {
    const { reactions: _r, editedAt: _e, ...rest } = message;
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
 * conversation only; one not here yet is held and applied when it arrives (`applyHeld`).
 */
export async function readChange(ctx: CoreContext, record: ConversationRecord, change: MessageChange, sender: Address): Promise<ConversationRecord> {
  const message = await findMessage(ctx, change.of);
  if (!message) {
    await ctx.store.put(`${heldPrefix(record.conversation, change.of)}${change.id}`, { change, sender });
    return record;
  }
  if (message.conversation !== record.conversation) return record;
  return store(ctx, record, changed(message, change, sender));
}

/** Changes that arrived before `message` did, applied now under the same checks. */
export async function applyHeld(ctx: CoreContext, record: ConversationRecord, message: MessageRecord): Promise<ConversationRecord> {
  const held = await ctx.store.list<{ change: MessageChange; sender: Address }>(heldPrefix(record.conversation, message.id));
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
  await saveMessage(ctx, message);
  if (message.deleted || message.editedAt !== undefined) await indexMessages(ctx, [message]);
  ctx.events.emit("status", message);
  if (record.last?.id !== message.id) return record;
  return { ...record, last: { ...record.last, text: message.text } };
}

/**
 * A receipt from `sender` (another account): marks our own texts of this conversation it names
 * delivered or read. `showRead` false (the privacy setting) takes `read` as `delivered`.
 */
export async function readReceipt(ctx: CoreContext, record: ConversationRecord, receipt: ReceiptContent, sender: Address, showRead: boolean): Promise<void> {
  if (sender === ctx.account.address) return;
  const read = receipt.state === "read" && showRead;
  for (const id of receipt.of) {
    const message = await findMessage(ctx, id);
    if (!message || message.conversation !== record.conversation || message.direction !== "out" || message.notice) continue;
    const delivered = await setStatus(ctx, id, "delivered");
    if (read && delivered && !delivered.read) {
      const next: MessageRecord = { ...delivered, read: true };
      await saveMessage(ctx, next);
      ctx.events.emit("status", next);
    }
  }
}
