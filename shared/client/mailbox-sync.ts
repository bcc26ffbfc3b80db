import * as v from "valibot";
import { EmsgError } from "../errors.js";
import { type MailItem, MailboxPageSchema } from "../wire/mail.js";
import { ServerFrameSchema } from "../wire/frames.js";
import { WsTicketResponseSchema } from "../wire/account.js";
import type { CoreContext } from "./context.js";
import { applyConvItem, type ConvOutcome } from "./incoming-conv.js";
import { receiveDeleted, receiveFriendBounce, receiveFriendRequest, receiveFriendResponse } from "./friends.js";
import { setStatus } from "./messages.js";
import { receiveMoved } from "./friend-moves.js";
import { onDeviceAdded } from "./device-jobs.js";
import type { SocketLike } from "./transport.js";

const CURSOR = "mailbox/cursor";

export async function cursorOf(ctx: Pick<CoreContext, "store">): Promise<number> {
  return (await ctx.store.get<number>(CURSOR)) ?? 0;
}

/** A linked device starts after the mailbox backlog it cannot read (PROTOCOL §6). */
export function startCursorAt(ctx: Pick<CoreContext, "store">, seq: number): Promise<void> {
  return ctx.store.put(CURSOR, seq);
}

async function applyItem(ctx: CoreContext, item: MailItem): Promise<ConvOutcome> {
  switch (item.kind) {
    case "conv":
      return applyConvItem(ctx, item);
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
      if (!(await receiveFriendBounce(ctx, item.ref, item.to, item.error))) {
        await setStatus(ctx, item.ref, "failed", { error: item.error });
      }
      return {};
    case "moved":
      await receiveMoved(ctx, item.signed);
      return {};
    case "device_added":
      await onDeviceAdded(ctx, item.deviceCert, item.link);
      return {};
  }
}

/**
 * Applies mailbox items in order and returns the sequence number to acknowledge. The cursor is
 * stored only after an item is fully applied, and items at or below it are skipped, so an item
 * redelivered after a crash is applied at most once and an unapplied one is never acknowledged.
 * An item that cannot be read (garbage, a forgery) is logged and passed over, not retried forever.
 */
export async function applyItems(
  ctx: CoreContext,
  items: MailItem[],
  onOutcome: (outcome: ConvOutcome) => Promise<void>,
): Promise<number> {
  let cursor = await cursorOf(ctx);
  for (const item of [...items].sort((a, b) => a.seq - b.seq)) {
    if (item.seq <= cursor) continue;
    try {
      await onOutcome(await applyItem(ctx, item));
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
