import * as v from "valibot";
import { EmsgError } from "../errors.js";
import { type MailItem, MailboxPageSchema } from "../wire/mail.js";
import { ServerFrameSchema } from "../wire/frames.js";
import { WsTicketResponseSchema } from "../wire/account.js";
import type { ClientEvents, CoreContext } from "./context.js";
import type { ConvPayload } from "../wire/conversation.js";
import { applyConvItem, type ConvOutcome } from "./incoming-conv.js";
import { loadConversation } from "./conversation-record.js";
import { addNotice } from "./group-changes.js";
import { receiveDeleted, receiveFriendBounce, receiveFriendRequest, receiveFriendResponse } from "./friends.js";
import { setStatus } from "./messages.js";
import { resendStale } from "./outgoing-queue.js";
import { receiveMoved } from "./friend-moves.js";
import { onDeviceAdded } from "./device-jobs.js";
import type { SocketLike } from "./transport.js";
import { type BatchStore, canBatch, StoreBatch } from "./store-batch.js";
import { Emitter } from "./events.js";
import { RECEIPT_MAX_IDS } from "../content.js";

const CURSOR = "mailbox/cursor";

export async function cursorOf(ctx: Pick<CoreContext, "store">): Promise<number> {
  return (await ctx.store.get<number>(CURSOR)) ?? 0;
}

/** A linked device starts after the mailbox backlog it cannot read (PROTOCOL §6). */
export function startCursorAt(ctx: Pick<CoreContext, "store">, seq: number): Promise<void> {
  return ctx.store.put(CURSOR, seq);
}

async function applyItem(ctx: CoreContext, item: Exclude<MailItem, { kind: "conv" }>): Promise<ConvOutcome> {
  switch (item.kind) {
    case "friend_request":
      await receiveFriendRequest(ctx, item.signed, item.at);
      return {};
    case "friend_response":
      await receiveFriendResponse(ctx, item.signed, item.at);
      return {};
    case "deleted":
      await receiveDeleted(ctx, item.signed);
      return {};
    case "bounce":
      if (await receiveFriendBounce(ctx, item.ref, item.to, item.error)) return {};
      if (item.error === "stale_epoch" && (await resendStale(ctx, item.ref))) return {};
      await setStatus(ctx, item.ref, "failed", { error: item.error });
      return {};
    case "moved":
      await receiveMoved(ctx, item.signed);
      return {};
    case "device_added":
      await onDeviceAdded(ctx, item.deviceCert, item.link);
      return {};
  }
}

/** A conversation's items waiting for a commit, in hub order: one key, read once per item, not a listing. */
const heldKey = (conversation: string) => `held/${conversation}`;

/**
 * Whether a conversation item is of an epoch this device has not reached: a commit before it is
 * missing (PROTOCOL §6), so it waits for that commit instead of failing now.
 */
async function aheadOfCommit(ctx: CoreContext, item: ConvPayload): Promise<boolean> {
  if (item.type === "welcome") return false;
  const record = await loadConversation(ctx, item.conversation);
  return record !== undefined && !record.left && item.epoch > record.epoch;
}

/**
 * Applies one conversation item, or keeps it until the commit it needs came; after an item that
 * moved the conversation on, what waited for it is applied in hub order. What cannot be read is
 * reported in the conversation (see reportUnreadable).
 */
async function applyConv(ctx: CoreContext, item: ConvPayload, onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<void> {
  const key = heldKey(item.conversation);
  const held = (await ctx.store.get<ConvPayload[]>(key)) ?? [];
  if (await aheadOfCommit(ctx, item)) {
    held.push(item);
    held.sort((a, b) => a.hubSeq - b.hubSeq || Number(a.type === "welcome") - Number(b.type === "welcome"));
    await ctx.store.put(key, held);
    return;
  }
  await readOrReport(ctx, item, onOutcome);
  // Applied again after a crash before the list was saved, an item is passed over by its hub position.
  while (held.length > 0 && !(await aheadOfCommit(ctx, held[0]!))) {
    await readOrReport(ctx, held.shift()!, onOutcome);
    await (held.length > 0 ? ctx.store.put(key, held) : ctx.store.delete(key));
  }
}

async function readOrReport(ctx: CoreContext, item: ConvPayload, onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<void> {
  try {
    await onOutcome(await applyConvItem(ctx, item));
  } catch (error) {
    if (!(error instanceof EmsgError) && !(error instanceof v.ValiError)) throw error;
    console.warn(`emsg: conversation item ${item.hubSeq} (${item.type}) of ${item.conversation} not read: ${error.message}`);
    if (error instanceof EmsgError) await reportUnreadable(ctx, item, error);
  }
}

/**
 * A message that could not be read becomes a notice in its conversation ("a message from alice
 * could not be read"), never a silent gap. Not reported: a commit or proposal of a past epoch
 * (applied already or superseded), and anything in a conversation that says already why it takes
 * nothing more (this device was removed, or it was stopped as unsafe).
 */
async function reportUnreadable(ctx: CoreContext, item: ConvPayload, error: EmsgError): Promise<void> {
  if (item.type === "welcome" || error.code === "forbidden") return;
  if (error.code === "stale_epoch" && item.type !== "application") return;
  const record = await loadConversation(ctx, item.conversation);
  if (!record || record.unsafe) return;
  await addNotice(ctx, item.conversation, item.id, item.at, { type: "unreadable", by: item.from });
}

/**
 * Applies mailbox items in order and returns the sequence number to acknowledge. The cursor is
 * stored only after an item is fully applied, and items at or below it are skipped, so an item
 * redelivered after a crash is applied at most once and an unapplied one is never acknowledged.
 * A conversation item of an epoch not reached yet is kept on the device until its commit comes;
 * one that cannot be read (garbage, a forgery, a key no longer held) is reported in its
 * conversation and passed over, not retried forever.
 */
export async function applyItems(
  ctx: CoreContext,
  items: MailItem[],
  onOutcome: (outcome: ConvOutcome) => Promise<void>,
): Promise<number> {
  const sorted = [...items].sort((a, b) => a.seq - b.seq);
  const base = ctx.store;
  if (!canBatch(base)) return applyEach(ctx, sorted, onOutcome);
  let cursor = await cursorOf(ctx);
  for (let start = 0; start < sorted.length; ) {
    let end = start;
    while (end < sorted.length && sorted[end]!.kind === "conv") end++;
    if (end === start) end++;
    const run = sorted.slice(start, end);
    cursor = run[0]!.kind === "conv" ? await applyBatch(ctx, base, run, onOutcome) : await applyEach(ctx, run, onOutcome);
    start = end;
  }
  return cursor;
}

/** A view's events, held until the batch they tell of is stored. */
class HeldEvents extends Emitter<ClientEvents> {
  readonly #held: Array<[keyof ClientEvents, unknown]> = [];

  override emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    this.#held.push([event, payload]);
  }

  releaseTo(events: Emitter<ClientEvents>): void {
    for (const [event, payload] of this.#held) events.emit(event, payload as never);
  }
}

/**
 * A run of conversation items applied in one StoreBatch: every record read once, written once, the
 * cursor last, all in one atomic write, so a crash leaves the run applied whole or not at all (and
 * then applied again from its start). Nothing is sent meanwhile: the receipts it asks for are
 * queued after the write, one per conversation, and the views hear of it only then. Other kinds
 * (rare, and some of them send) go one at a time.
 */
async function applyBatch(ctx: CoreContext, base: BatchStore, items: MailItem[], onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<number> {
  const batch = new StoreBatch(base);
  const events = new HeldEvents();
  const receipts = new Map<string, string[]>();
  let cursor: number;
  try {
    cursor = await applyEach({ ...ctx, store: batch, events }, items, async ({ receipts: r }) => {
      if (r) receipts.set(r.conversation, [...(receipts.get(r.conversation) ?? []), ...r.ids]);
    });
    await batch.commit();
  } catch (error) {
    batch.discard();
    throw error;
  }
  events.releaseTo(ctx.events);
  for (const [conversation, ids] of receipts) {
    for (let i = 0; i < ids.length; i += RECEIPT_MAX_IDS) await onOutcome({ receipts: { conversation, ids: ids.slice(i, i + RECEIPT_MAX_IDS) } });
  }
  return cursor;
}

async function applyEach(ctx: CoreContext, items: MailItem[], onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<number> {
  let cursor = await cursorOf(ctx);
  for (const item of items) {
    if (item.seq <= cursor) continue;
    try {
      if (item.kind === "conv") await applyConv(ctx, item, onOutcome);
      else await onOutcome(await applyItem(ctx, item));
    } catch (error) {
      if (!(error instanceof EmsgError) && !(error instanceof v.ValiError)) throw error;
      console.warn(`emsg: mailbox item ${item.seq} (${item.kind}) skipped: ${error.message}`);
    }
    cursor = item.seq;
    await ctx.store.put(CURSOR, cursor);
  }
  return cursor;
}

/** Pulls and applies everything waiting in the mailbox over HTTP (the polling path). */
export async function pollMailbox(ctx: CoreContext, onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<void> {
  for (;;) {
    const after = await cursorOf(ctx);
    const page = await ctx.api.call("GET", `/mailbox?after=${after}&limit=200`, undefined, MailboxPageSchema);
    const upTo = await applyItems(ctx, page.items, onOutcome);
    if (upTo > after) await ctx.api.call("POST", "/mailbox/ack", { upTo });
    if (!page.more || upTo === after) return;
  }
}

/** Opens the mailbox WebSocket with a fresh single-use ticket (PROTOCOL §5). */
export async function openMailboxSocket(ctx: CoreContext): Promise<SocketLike> {
  const { ticket } = await ctx.api.call("POST", "/ws-ticket", undefined, WsTicketResponseSchema);
  return ctx.api.openSocket(await ctx.api.socketUrl(ticket));
}

/** Reads one server frame; a frame that is not valid JSON of a known shape is dropped. */
export function parseServerFrame(data: string) {
  try {
    const parsed = v.safeParse(ServerFrameSchema, JSON.parse(data));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}
