import type { Address } from "../address.js";
import { EmsgError } from "../errors.js";
import { forgetBlobs } from "./blob-deletions.js";
import type { CoreContext } from "./context.js";
import { lastLine, loadConversation, saveConversation } from "./conversation-record.js";
import { pinnedKey } from "./friends.js";
import { deleteMessage, findMessage, history, type MessageRecord, saveMessage, uploaded } from "./messages.js";
import { requeue } from "./outgoing-queue.js";
import { announcePendingChat } from "./pending-chats.js";
import { unindexMessages } from "./search.js";

/**
 * A text or file of ours that failed for good (status `failed`), as its user acts on it: sent again
 * (Retry) or deleted from this device. Only the user does either: no bounce or answer of a server
 * sends a failed message again by itself.
 */

/** The failed message `id` of this account; anything else is `not_found`. */
export async function failedOwn(ctx: CoreContext, id: string): Promise<MessageRecord> {
  const message = await findMessage(ctx, id);
  if (!message || message.id !== id || message.direction !== "out" || message.notice || message.deleted || message.status !== "failed") {
    throw new EmsgError("not_found", "There is no message of yours here that failed to send.");
  }
  return message;
}

/**
 * Why `message` cannot be sent again now, or undefined when it can: its conversation must still take
 * what this device writes (not left, not stopped as unsafe; a first text waiting for one, to a friend
 * still), and a file's blob must still be on our server or, for an upload never finished, its file
 * at hand (`fileAtHand`: this process, or the platform's keeping, still holds it).
 */
export async function cannotRetry(ctx: CoreContext, message: MessageRecord, fileAtHand: boolean): Promise<EmsgError | undefined> {
  if (message.conversation.startsWith("@")) {
    const peer = message.conversation.slice(1) as Address;
    if (!(await pinnedKey(ctx, peer))) return new EmsgError("forbidden", `${peer} is not your friend.`);
  } else {
    const record = await loadConversation(ctx, message.conversation);
    if (!record) return new EmsgError("not_found", "That conversation is no longer on this device.");
    if (record.left) return new EmsgError("forbidden", "You are no longer a member of this group.");
    if (record.unsafe) return new EmsgError("unauthorized", record.unsafe);
  }
  const file = message.attachment;
  if (file && uploaded(file) && file.until! <= ctx.clock.now()) return new EmsgError("gone", "The file was deleted from your server; send it again.");
  if (file && !uploaded(file) && !fileAtHand) return new EmsgError("not_found", "The file is no longer at hand on this device; send it again.");
  return undefined;
}

/** The failed message as `sending` again, its failure forgotten. */
export function sendingAgain(message: MessageRecord): MessageRecord {
  const { error: _error, ...rest } = message;
  return { ...rest, status: "sending" };
}

/** Tells the chat list (its line) and the views that a stored message is `sending` again. */
export async function announceSending(ctx: CoreContext, message: MessageRecord): Promise<void> {
  const record = message.conversation.startsWith("@") ? undefined : await loadConversation(ctx, message.conversation);
  if (record?.last?.id === message.id) await saveConversation(ctx, { ...record, last: { ...record.last, status: "sending" } });
  ctx.events.emit("status", message);
}

/**
 * Queues a failed text, or a file whose blob is on our server (its pointer), to be sent again: the
 * same content, so a receiver that got it after all keeps one copy, under a new Submit id, since a
 * hub's server answers a repeated one as it did the first time (PROTOCOL §7).
 */
export async function resendFailed(ctx: CoreContext, message: MessageRecord): Promise<MessageRecord> {
  const next = sendingAgain(await requeue(ctx, message));
  await saveMessage(ctx, next);
  await announceSending(ctx, next);
  return next;
}

/**
 * Deletes a failed message from this device; nobody else has it. A file's blob that reached our
 * server goes too. The chat list's line becomes the newest message left (a `@FRIEND` chat with none
 * left goes from the list).
 */
export async function discardFailed(ctx: CoreContext, message: MessageRecord): Promise<void> {
  await deleteMessage(ctx, message);
  await unindexMessages(ctx, [message.id]);
  if (message.attachment && uploaded(message.attachment)) await forgetBlobs(ctx, [message]);
  // A chat waiting for its conversation has no record to rewrite: its row is told anew.
  if (message.conversation.startsWith("@")) return announcePendingChat(ctx, message.conversation);
  const record = await loadConversation(ctx, message.conversation);
  if (record?.last?.id !== message.id) return;
  // The line is a text or file, or a timer notice (withLast): the newest such one left.
  const left = (await history(ctx, message.conversation, { limit: 50 })).findLast((m) => !m.notice || m.notice.type === "timer");
  const { last: _gone, ...rest } = record;
  await saveConversation(ctx, left ? { ...record, last: lastLine(left) } : rest);
}
