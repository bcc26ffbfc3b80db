import { type Content, newDelete, newEdit, newReaction } from "../content.js";
import { EmsgError } from "../errors.js";
import { readReceiptsOn } from "./account-settings.js";
import { forgetBlobs } from "./blob-deletions.js";
import type { CoreContext } from "./context.js";
import { loadConversation, saveConversation } from "./conversation-record.js";
import { changed, type MessageChange, withChanged } from "./message-changes.js";
import { indexMessages } from "./search.js";
import { findMessage, history, type MessageRecord, saveMessage } from "./messages.js";
import { enqueue, enqueueReceipt } from "./outgoing-queue.js";

/**
 * What this account does to a message already shown (PROTOCOL §8.1): react, edit, delete for
 * everyone, mark read. Each is applied here at once, by the same rule receivers use, and queued
 * for the conversation; the caller runs it in turn with everything that rewrites a record.
 */

/** The message `id` as one this account may act on: stored, a text, not deleted. */
async function target(ctx: CoreContext, id: string): Promise<MessageRecord> {
  const message = await findMessage(ctx, id);
  if (!message || message.notice) throw new EmsgError("not_found", "There is no such message on this device.");
  if (message.deleted) throw new EmsgError("conflict", "That message was deleted.");
  const record = message.conversation.startsWith("@") ? undefined : await loadConversation(ctx, message.conversation);
  if (record?.left) throw new EmsgError("forbidden", "You are no longer a member of this group.");
  if (record?.unsafe) throw new EmsgError("unauthorized", record.unsafe);
  return message;
}

/** Where a change to `message` goes: its conversation, or the friend a first text still waits for. */
function addressed(message: MessageRecord, content: Content) {
  return message.conversation.startsWith("@")
    ? { content, peer: message.conversation.slice(1) as MessageRecord["from"] }
    : { content, conversation: message.conversation };
}

async function apply(ctx: CoreContext, message: MessageRecord, change: MessageChange): Promise<MessageRecord> {
  const next = changed(message, change, ctx.account.address);
  if (!next) throw new EmsgError("conflict", "That change was already made.");
  await saveMessage(ctx, next);
  if (change.type !== "reaction") await indexMessages(ctx, [next]);
  await enqueue(ctx, addressed(message, change));
  ctx.events.emit("status", next);
  const record = await loadConversation(ctx, message.conversation);
  if (record?.last?.id === next.id) await saveConversation(ctx, withChanged(record, next));
  return next;
}

export async function react(ctx: CoreContext, id: string, emoji: string, op: "add" | "remove"): Promise<MessageRecord> {
  const message = await target(ctx, id);
  return apply(ctx, message, newReaction(id, emoji, op, ctx.clock.now()));
}

/** Only one's own texts can be edited or deleted: receivers ignore anyone else's. */
async function own(ctx: CoreContext, id: string): Promise<MessageRecord> {
  const message = await target(ctx, id);
  if (message.direction !== "out") throw new EmsgError("forbidden", "Only your own messages can be changed.");
  return message;
}

export async function edit(ctx: CoreContext, id: string, text: string): Promise<MessageRecord> {
  const message = await own(ctx, id);
  // Never before the words it replaces, whatever this device's clock says.
  const at = Math.max(ctx.clock.now(), (message.editedAt ?? message.at) + 1);
  return apply(ctx, message, newEdit(id, text, at));
}

/** An attachment's blob goes too (PROTOCOL §15.4): noted here, deleted on the server by `deleteForgottenBlobs`. */
export async function deleteForEveryone(ctx: CoreContext, id: string): Promise<MessageRecord> {
  const message = await own(ctx, id);
  if (message.attachment?.state === "uploading") throw new EmsgError("conflict", "That file is still being sent: cancel its upload instead.");
  const next = await apply(ctx, message, newDelete(id, ctx.clock.now()));
  await forgetBlobs(ctx, [message]);
  return next;
}

/**
 * The conversation is on screen: its unread count goes to zero and, when the account shares read
 * receipts, one `read` receipt names the received texts not yet marked (at most the latest 100).
 */
export async function markRead(ctx: CoreContext, conversation: string): Promise<void> {
  const record = await loadConversation(ctx, conversation);
  if (!record || record.unread === 0) return;
  await saveConversation(ctx, { ...record, unread: 0 });
  if (record.left || record.unsafe) return;
  const unmarked = (await history(ctx, conversation, { limit: 100 })).filter((m) => m.direction === "in" && !m.notice && !m.deleted && !m.readSent);
  if (unmarked.length === 0) return;
  for (const message of unmarked) await saveMessage(ctx, { ...message, readSent: true });
  if (await readReceiptsOn(ctx)) await enqueueReceipt(ctx, conversation, unmarked.map((m) => m.id), ctx.clock.now(), "read");
}
