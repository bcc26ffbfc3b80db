import type { Address } from "../address.js";
import { type Content, newReceipt, newText, RECEIPT_MAX_IDS, type ReceiptContent } from "../content.js";
import { randomId16 } from "../ids.js";
import type { CoreContext } from "./context.js";
import { loadConversation } from "./conversation-record.js";
import type { SealedApplication } from "./conversations.js";
import { attachmentContentOf } from "./attachments.js";
import { type MessageRecord, resubmit, setStatus, submittedAs } from "./messages.js";
import { notNow, sendFrom } from "./outgoing-window.js";
import { sendVetoes } from "./withdrawals.js";
import { sendRejoins } from "./rejoin.js";
import { canBatch } from "./store-batch.js";

/**
 * What waits to be sent. A text may name only its peer: its conversation is made on first send.
 * Entries are stored, so a message written offline survives a restart and goes out on reconnect.
 */
export interface OutgoingEntry {
  content: Content;
  peer?: Address;
  conversation?: string;
  /** Refused by the hub as `stale_epoch`: sent again only once the conversation is past this epoch. */
  after?: number;
  /**
   * Its Submit id when not its content id: the hub's server answers a repeated id with its first
   * answer (PROTOCOL §7), so a text sent again after a refusal needs a new one.
   */
  submitId?: string;
  /**
   * The message as first encrypted, sent as it is on every later try (its Submit id is the same):
   * encrypting it anew on each try used a message key each time, and a text tried more than 200
   * times while its server was down left a gap of generations no reader crosses (issue 15).
   */
  sealed?: SealedApplication;
  /**
   * Where it was queued among entries of the same `sentAt`: texts written within one millisecond
   * (a script, a text and a file together) go in the order written, not in the order of their
   * random ids. Entries queued before it existed have none.
   */
  queued?: number;
}

/** Where the queue's entries are kept, each under entryKey. */
export const OUTGOING = "out/";

export const entryKey = ({ content, queued }: OutgoingEntry) =>
  `${OUTGOING}${String(content.sentAt).padStart(15, "0")}-${queued === undefined ? "" : `${String(queued).padStart(12, "0")}-`}${content.id}`;

/** Counts entries queued by this process; the key's time comes first, so it only orders entries of one millisecond. */
let lastQueued = 0;

/** A place in the queue after every one given before, for an entry queued later in the same place (an upload's). */
export const nextQueued = () => ++lastQueued;

/** Queues a new entry, after every entry queued before it unless it names its place. */
export function enqueue(ctx: Pick<CoreContext, "store">, entry: OutgoingEntry): Promise<void> {
  const queued: OutgoingEntry = { ...entry, queued: entry.queued ?? nextQueued() };
  return ctx.store.put(entryKey(queued), queued);
}

/** Writes a queued entry back where it is (its key unchanged), e.g. with its ciphertext. */
export function updateQueued(ctx: Pick<CoreContext, "store">, entry: OutgoingEntry): Promise<void> {
  return ctx.store.put(entryKey(entry), entry);
}

/**
 * Queues a receipt, folded into one of the same state still waiting for the same conversation, so
 * catching up on many messages sends a few receipts rather than one each.
 */
export function enqueueReceipt(
  ctx: Pick<CoreContext, "store">,
  conversation: string,
  ids: string[],
  now: number,
  state: ReceiptContent["state"] = "delivered",
): Promise<void> {
  return enqueueReceipts(ctx, [{ conversation, ids }], now, state);
}

/**
 * Queues receipts as enqueueReceipt does, all of them from one listing of the queue and in one
 * write where the store takes many at once: a mailbox frame asks for some of each of its
 * conversations, and listing (and, in the PWA, decrypting) the queue once a receipt took ~0.2 s
 * per 10,000 messages caught up.
 */
export async function enqueueReceipts(
  ctx: Pick<CoreContext, "store">,
  receipts: ReadonlyArray<{ conversation: string; ids: string[] }>,
  now: number,
  state: ReceiptContent["state"] = "delivered",
): Promise<void> {
  if (receipts.length === 0) return;
  const queue = await pending(ctx);
  const writes = new Map<string, OutgoingEntry>();
  for (const { conversation, ids } of receipts) {
    const at = queue.findIndex(
      // One already encrypted is sent as it is: ids added to it now would never leave.
      (e) =>
        e.conversation === conversation && e.content.type === "receipt" && e.content.state === state && !e.sealed &&
        e.content.of.length + ids.length <= RECEIPT_MAX_IDS,
    );
    const waiting = queue[at];
    const entry: OutgoingEntry =
      waiting && waiting.content.type === "receipt"
        ? { ...waiting, content: { ...waiting.content, of: [...new Set([...waiting.content.of, ...ids])] } }
        : { content: newReceipt(ids, state, now), conversation, queued: nextQueued() };
    if (waiting) queue[at] = entry;
    else queue.push(entry);
    writes.set(entryKey(entry), entry);
  }
  const { store } = ctx;
  if (canBatch(store)) await store.putMany([...writes]);
  else await Promise.all([...writes].map(([key, entry]) => store.put(key, entry)));
}

export async function pending(ctx: Pick<CoreContext, "store">): Promise<OutgoingEntry[]> {
  return (await ctx.store.list<OutgoingEntry>(OUTGOING)).map(([, entry]) => entry);
}

/** Where a message to a peer with no conversation yet is kept until the conversation exists. */
export const pendingConversation = (peer: Address) => `@${peer}`;

/**
 * The remote hub of `conversation` refused our text as `stale_epoch` (a commit was ordered before it): it goes into
 * the queue again, to be encrypted anew once this device has read that commit, as a hub on our
 * own server would have had us do at once. False when it is no text this device sent that way.
 */
export async function resendStale(ctx: CoreContext, id: string, conversation: string): Promise<boolean> {
  // Only its current submission: a late bounce of an earlier one must not send it once more.
  const message = await submittedAs(ctx, id);
  if (!message || message.conversation !== conversation || message.direction !== "out" || message.notice || message.status !== "sent" || message.epoch === undefined) return false;
  // Encrypted at an epoch this device left since (its commit was withdrawn, PROTOCOL §8): nothing to wait for.
  const record = await loadConversation(ctx, message.conversation);
  await requeue(ctx, message, record && record.epoch < message.epoch ? undefined : message.epoch);
  await setStatus(ctx, message.id, "sending");
  return true;
}

/**
 * Queues a text or file of ours to be sent again (its content as it was, under a new Submit id, which
 * a bounce must name from now on: resubmit), after this device reached epoch `after` if given.
 * Returns the message as stored with that submission.
 */
export async function requeue(ctx: CoreContext, message: MessageRecord, after?: number): Promise<MessageRecord> {
  const submitId = randomId16();
  const resubmitted = await resubmit(ctx, message, submitId);
  const to = message.conversation.startsWith("@") ? { peer: message.conversation.slice(1) as Address } : { conversation: message.conversation };
  await enqueue(ctx, { content: contentOf(message), ...to, ...(after === undefined ? {} : { after }), submitId });
  return resubmitted;
}

/**
 * The content a text or file of ours was sent as, to send it again: the same content id (receivers
 * keep one copy), its reply and its timer. A file goes as the same pointer: its blob is on our server.
 */
function contentOf(message: MessageRecord): Content {
  const extra = { ...(message.replyTo === undefined ? {} : { replyTo: message.replyTo }), ...(message.expiresAt === undefined ? {} : { expiresAt: message.expiresAt }) };
  return message.attachment
    ? { ...attachmentContentOf(message.id, message.at, message.attachment), ...extra }
    : { ...newText(message.text, message.at, extra), id: message.id };
}

/**
 * Sends queued entries in order. Stops at the first transient failure (keeping it and everything
 * after it for the next reconnect); a permanent refusal marks that message failed and drops it.
 * Over a conversation's open session the entries after one are sent before its answer is awaited
 * (see sendFrom, outgoing-window.ts); over HTTP, where requests may overtake one another, one at a
 * time. Returns how many entries are still waiting.
 */
export async function flushOutgoing(ctx: CoreContext, catchUp: () => Promise<void>): Promise<number> {
  // A veto goes first: what waits behind it is taken only once the hub is back at our epoch (PROTOCOL §8).
  await sendVetoes(ctx);
  await sendRejoins(ctx);
  const entries = await pending(ctx);
  for (let i = 0; i < entries.length; ) {
    if (await notNow(ctx, entries[i]!)) {
      i++;
      continue;
    }
    const sent = await sendFrom(ctx, entries, i, catchUp);
    if (sent.stopped !== undefined) return sent.left;
    i = sent.next;
  }
  return 0;
}

