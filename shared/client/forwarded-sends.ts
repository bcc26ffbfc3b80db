import type { Content } from "../content.js";
import { randomId16 } from "../ids.js";
import type { CoreContext } from "./context.js";
import { loadConversation } from "./conversation-record.js";
import { enqueue } from "./outgoing-queue.js";

/**
 * What our server took for a remote hub (an answer without `seq`, PROTOCOL §6) other than texts and
 * files, which are kept as messages (resendStale): a name, a receipt, a reaction, a profile... kept
 * by Submit id until the hub's answer comes through the mailbox, its own entry in hub order or a
 * bounce. Refused as `stale_epoch` (another member's commit came first), it still matters: it is
 * queued again, to be encrypted anew past the epoch that beat it, as a hub on our own server has
 * us do at once (outgoing-window, sendAnew). Typing is news only now: it is not kept.
 */
export interface ForwardedSend {
  content: Content;
  conversation: string;
  /** The epoch it was encrypted at. */
  epoch: number;
}

const sendKey = (submitId: string) => `forwarded/${submitId}`;

export async function keepForwarded(ctx: Pick<CoreContext, "store">, submitId: string, sent: ForwardedSend): Promise<void> {
  const { type } = sent.content;
  if (type === "typing" || type === "text" || type === "attachment") return;
  await ctx.store.put(sendKey(submitId), sent);
}

/** Our own entry `submitId` came back in hub order: what was kept for it, now forgotten. */
export async function forwardedBack(ctx: Pick<CoreContext, "store">, submitId: string): Promise<ForwardedSend | undefined> {
  const sent = await ctx.store.get<ForwardedSend>(sendKey(submitId));
  if (sent) await ctx.store.delete(sendKey(submitId));
  return sent;
}

/**
 * A bounce of `ref`: true when it was a send kept here that the hub refused as stale, now queued
 * again under a new Submit id (the hub's server answers a repeated id as it did the first time, §7).
 * A refusal for good drops it, and the caller marks what it was about failed.
 */
export async function forwardedRefused(ctx: CoreContext, ref: string, error: string, conversation: string): Promise<boolean> {
  const sent = await ctx.store.get<ForwardedSend>(sendKey(ref));
  if (sent?.conversation !== conversation) return false;
  await ctx.store.delete(sendKey(ref));
  if (error !== "stale_epoch") return false;
  // Encrypted at an epoch this device left since (its commit was withdrawn, PROTOCOL §8): nothing to wait for.
  const record = await loadConversation(ctx, sent.conversation);
  const after = record && record.epoch < sent.epoch ? {} : { after: sent.epoch };
  await enqueue(ctx, { content: sent.content, conversation: sent.conversation, ...after, submitId: randomId16() });
  return true;
}
