import type { Address } from "../address.js";
import type { AttachmentRecord } from "./attachments.js";
import type { CoreContext } from "./context.js";
import { lastOf } from "./store.js";
import { loadConversation, saveConversation } from "./conversation-record.js";
import type { Reaction } from "./message-changes.js";

/**
 * `sending`: queued on this device; `sent`: the hub accepted it; `delivered`: a device of the
 * recipient acknowledged it (`read` says whether one had it on screen); `failed`: refused for good
 * (see `error`); `received`: sent to us.
 */
export type MessageStatus = "sending" | "sent" | "delivered" | "failed" | "received";

/**
 * A change to a group, kept in its history as a line of its own ("alice added carol"). `who`: those
 * added or removed, or the members a group was created with; `title`: a rename's new name, and the
 * name on the creator's own "created" (other devices learn it from the message after).
 * `unreadable` (any conversation): a message from `by` arrived that this device could not read.
 * `undone` (any conversation): a change was withdrawn after `by` vetoed it, its device unable to apply it (PROTOCOL §8, Vetoes).
 * `rejoined` (any conversation): this device was let back in after it fell out of step; what was sent meanwhile stays unread (§8, Rejoining).
 */
export type GroupNotice = {
  type: "created" | "added" | "removed" | "left" | "renamed" | "unreadable" | "timer" | "undone" | "rejoined";
  by: Address;
  who?: Address[];
  title?: string;
  /** A `timer` notice (any conversation): the chat's new timer in days, `null` forever, absent each device's own setting. */
  days?: number | null;
};

export interface MessageRecord {
  /** The content id the sender chose: the same on every device, so it deduplicates. */
  id: string;
  conversation: string;
  from: Address;
  /** `out` for messages from this account, on any of its devices. */
  direction: "in" | "out";
  text: string;
  /** When the sender wrote it (its own clock). */
  at: number;
  hubSeq?: number;
  /**
   * The epoch our text was encrypted at while only our own server holds it for a remote hub: a
   * `stale_epoch` bounce sends it again once this device is past that epoch (PROTOCOL §6).
   */
  epoch?: number;
  status: MessageStatus;
  /**
   * Our text sent again (Retry, a `stale_epoch` resend, a withdrawn commit's): the Submit id it went
   * under last, when not its content id. Only a bounce of that submission is about it; one of an
   * earlier submission, late, must not mark failed (or send again) the text the hub took since.
   */
  submitId?: string;
  /** Why it failed: an error code, or one of the reasons an upload stops below (older versions kept other words). */
  error?: string;
  /** Set on a group notice; its `text` is "". */
  notice?: GroupNotice;
  /** The id of the message this one answers (quotes), in the same conversation. */
  replyTo?: string;
  /** A photo, file or voice note (PROTOCOL §15); `text` is then its name. */
  attachment?: AttachmentRecord;
  /** When every device deletes it: the disappearing-messages timer its sender had (PROTOCOL §8.1). */
  expiresAt?: number;
  /** When its sender last changed its words (their clock); absent if never edited. */
  editedAt?: number;
  /** Deleted for everyone by its sender: `text` is "" and it has no reactions. */
  deleted?: true;
  reactions?: Reaction[];
  /** Our text: a recipient had it on screen (a `read` receipt, PROTOCOL §8.1); it is `delivered` too. */
  read?: true;
  /** A received text marked read on this device: no `read` receipt is sent for it again. */
  readSent?: true;
}

/** Why a file's upload stopped when no server refused it, kept as a failed message's `error`; each client words it. */
export const UPLOAD_CANCELLED = "The upload was cancelled.";
export const UPLOAD_INTERRUPTED = "The upload was interrupted; send the file again.";

/** Whether a file of ours reached our server: one whose upload never finished has stand-ins for its blob and hash, and no `until`. */
export const uploaded = (attachment: AttachmentRecord): boolean => attachment.until !== undefined;

// Keys sort by time, so a prefix listing of one conversation is its history in order.
const timeKey = (conversation: string, at: number) => `msg/${conversation}/${String(at).padStart(15, "0")}`;
function messageKey(conversation: string, at: number, id: string): string {
  return `${timeKey(conversation, at)}-${id}`;
}

/** Where a message's key is found by its id (a mailbox batch reads a frame's at once). */
export const INDEX_PREFIX = "msgid/";
export const indexKey = (id: string) => `${INDEX_PREFIX}${id}`;

/**
 * The ids a stored message is found by: its content id, and the Submit id it went under last. An
 * index entry (indexKey) is written only beside a message that has its id as one of these, and
 * goes when none has it any more (the message deleted, moved in time, or submitted anew), so a
 * store may keep these ids of each message it stores as an index instead of keeping the entries
 * (IndexedDB: a put fewer for each message); undefined for anything but a message.
 */
export function messageIdsOf(key: string, value: unknown): string[] | undefined {
  if (typeof key !== "string" || !key.startsWith("msg/") || typeof value !== "object" || value === null) return undefined;
  const { id, submitId } = value as Partial<MessageRecord>;
  if (typeof id !== "string") return undefined;
  return typeof submitId === "string" && submitId !== id ? [id, submitId] : [id];
}

/**
 * Whether `value` under `key` is an expiry entry: a message's key under when it expires. Keys are
 * clear in every store and a message's own key holds its id, so such an entry tells nothing a
 * listing of keys does not: a store that seals its values may keep these as they are.
 */
export function isExpiryEntry(key: string, value: unknown): value is string {
  return typeof value === "string" && value.startsWith("msg/") && key.startsWith(EXPIRING);
}

export async function findMessage(ctx: Pick<CoreContext, "store">, id: string): Promise<MessageRecord | undefined> {
  const key = await ctx.store.get<string>(indexKey(id));
  return key === undefined ? undefined : ctx.store.get<MessageRecord>(key);
}

/** Stores a message; writing the same one twice (a replay after a crash) changes nothing. */
export async function saveMessage(ctx: Pick<CoreContext, "store">, message: MessageRecord): Promise<void> {
  const key = messageKey(message.conversation, message.at, message.id);
  await ctx.store.put(key, message);
  await ctx.store.put(indexKey(message.id), key);
  if (message.expiresAt !== undefined) await ctx.store.put(expiringKey(message), key);
}

/** How far ahead of this device's clock a sender's or a hub's may be (clocks differ) before its time is not believed (PROTOCOL §8.1). */
export const SENT_AHEAD_MS = 10 * 60_000;

/** `message` shown at `at` instead: its keys are by time, so it moves, with its Submit id's alias. */
export async function retime(ctx: Pick<CoreContext, "store">, message: MessageRecord, at: number): Promise<MessageRecord> {
  await ctx.store.delete(messageKey(message.conversation, message.at, message.id));
  const next = { ...message, at };
  await saveMessage(ctx, next);
  if (next.submitId !== undefined) await ctx.store.put(indexKey(next.submitId), messageKey(next.conversation, at, next.id));
  return next;
}

/** Messages sent with a timer, by when they expire: an expiry pass reads these, not every message. */
export const EXPIRING = "expiring/";
const expiringKey = (message: MessageRecord) => `${EXPIRING}${String(message.expiresAt).padStart(15, "0")}-${message.id}`;

/**
 * Makes `submitId` the current submission of `message` (a text sent again goes to the hub under a new
 * Submit id), by which a bounce finds it; the one before is no longer its alias. Returns it, stored.
 */
export async function resubmit(ctx: Pick<CoreContext, "store">, message: MessageRecord, submitId: string): Promise<MessageRecord> {
  if (message.submitId !== undefined) await ctx.store.delete(indexKey(message.submitId));
  const next = { ...message, submitId };
  await ctx.store.put(indexKey(submitId), messageKey(message.conversation, message.at, message.id));
  await saveMessage(ctx, next);
  return next;
}

/**
 * The message whose current submission is Submit id `ref`, as a bounce names it: none for an earlier
 * one (its content id after a resend, say), which the hub refused while a later one may have reached it.
 */
export async function submittedAs(ctx: Pick<CoreContext, "store">, ref: string): Promise<MessageRecord | undefined> {
  const message = await findMessage(ctx, ref);
  return message && (message.submitId ?? message.id) === ref ? message : undefined;
}

export async function setStatus(
  ctx: CoreContext,
  id: string,
  status: MessageStatus,
  extra: Partial<MessageRecord> = {},
): Promise<MessageRecord | undefined> {
  const message = await findMessage(ctx, id);
  if (!message || message.status === status || (message.status === "delivered" && status === "sent")) return message;
  const next = { ...message, ...extra, status };
  await saveMessage(ctx, next);
  const record = await loadConversation(ctx, next.conversation);
  if (record?.last?.id === id) await saveConversation(ctx, { ...record, last: { ...record.last, status } });
  ctx.events.emit("status", next);
  return next;
}

export async function deleteMessage(ctx: Pick<CoreContext, "store">, message: MessageRecord): Promise<void> {
  await ctx.store.delete(messageKey(message.conversation, message.at, message.id));
  await ctx.store.delete(indexKey(message.id));
  if (message.submitId !== undefined) await ctx.store.delete(indexKey(message.submitId));
  if (message.expiresAt !== undefined) await ctx.store.delete(expiringKey(message));
}

/** Where a page of history ends: before `before` (ms), or, with `beforeId`, before that message (its `at` and id). */
export interface HistoryPage {
  before?: number;
  beforeId?: string;
  limit?: number;
}

/**
 * Up to `limit` messages before the page's end, oldest first: of one conversation, or of several
 * shown as one (a chat and the history moved in with the account), merged by time then id.
 */
export async function history(ctx: Pick<CoreContext, "store">, conversation: string | readonly string[], { before = Number.MAX_SAFE_INTEGER, beforeId, limit = 50 }: HistoryPage = {}): Promise<MessageRecord[]> {
  // A message's key is its conversation, time and id (messageKey), so the page ends before the key
  // its end would have: messages of one millisecond are ordered by id, as their keys are, and a page
  // that ends inside such a millisecond goes on from the right one rather than skipping the rest.
  // Only the page is read: a chat of 10,000 messages listed whole took ~0.5 s a page in Chromium.
  const end = (c: string) => (before === Number.MAX_SAFE_INTEGER ? undefined : beforeId === undefined ? timeKey(c, before) : messageKey(c, before, beforeId));
  const lists = await Promise.all((typeof conversation === "string" ? [conversation] : conversation).map((c) => lastOf<MessageRecord>(ctx.store, `msg/${c}/`, limit, end(c))));
  const all = lists.flat().map(([, m]) => m);
  if (lists.length > 1) all.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.slice(-limit);
}
