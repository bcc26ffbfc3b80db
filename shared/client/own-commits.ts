import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import { epochOf, type GroupState } from "../mls/group-state.js";
import { encodeGroupState } from "../mls/state-codec.js";
import type { ConvPayload, Roster, Submit } from "../wire/conversation.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, leaveOrderedAt, loadConversation, markApplied, saveConversation } from "./conversation-record.js";
import { submitToHub } from "./conversations.js";
import { forwardedBack } from "./forwarded-sends.js";
import { ownRosterOrdered } from "./group-changes.js";
import { findMessage, setStatus } from "./messages.js";
import { rememberBefore } from "./withdrawals.js";

/**
 * A commit this device made and submitted, kept until the hub's answer is known. If the answer is
 * lost (the network failed after the hub accepted it), the commit either comes back through the
 * mailbox, and its state is adopted then, or is sent again with the same id, which the hub answers
 * with its first result: the group state never falls behind the hub.
 */
export interface PendingCommit {
  conversation: string;
  submit: Submit;
  group: string;
  epoch: number;
  /**
   * Our server took it for a remote hub (an answer without `seq`, PROTOCOL §6): the hub has not
   * ordered it yet. Its state is adopted when it comes back in hub order; a bounce drops it.
   */
  forwarded?: true;
}

const key = (conversation: string) => `commit/${conversation}`;

export function pendingCommit(ctx: Pick<CoreContext, "store">, conversation: string): Promise<PendingCommit | undefined> {
  return ctx.store.get<PendingCommit>(key(conversation));
}

/**
 * The hub ordered our commit: its state becomes the conversation's (unless the record already moved
 * past it), and so does the roster change it carries, shown only now, when it is the group's.
 */
async function adopted(ctx: CoreContext, record: ConversationRecord, pending: PendingCommit, at: number): Promise<ConversationRecord> {
  const next = rememberBefore(record, { ...record, group: pending.group, epoch: pending.epoch }, pending.submit.id, ctx.account.address, true);
  return ownRosterOrdered(ctx, next, pending.submit, at);
}

async function adopt(ctx: CoreContext, pending: PendingCommit): Promise<void> {
  const record = await loadConversation(ctx, pending.conversation);
  if (record && record.epoch < pending.epoch) await saveConversation(ctx, await adopted(ctx, record, pending, ctx.clock.now()));
  await ctx.store.delete(key(pending.conversation));
}

/**
 * What became of a commit sent: the hub ordered it (its state is then the conversation's), our
 * server took it for a remote hub (`forwarded`: it stays pending until the hub's answer comes), or
 * the hub had moved on (`stale`: the commit is dropped and the caller catches up).
 */
export type CommitAnswer = "ordered" | "forwarded" | "stale";

/** Sends a pending commit (see CommitAnswer). Network failures throw and leave it pending. */
export async function sendPendingCommit(ctx: CoreContext, pending: PendingCommit): Promise<CommitAnswer> {
  let seq: number | undefined;
  try {
    ({ seq } = await submitToHub(ctx, pending.conversation, pending.submit));
  } catch (error) {
    if (error instanceof EmsgError && !RETRYABLE.has(error.code)) {
      await ctx.store.delete(key(pending.conversation));
      if (error.code === "stale_epoch") return "stale";
    }
    throw error;
  }
  // Adopted now, a commit that another member's beat at the hub would leave this device in an epoch
  // of its own, where nobody reads what it sends.
  if (seq === undefined) {
    await ctx.store.put(key(pending.conversation), { ...pending, forwarded: true });
    return "forwarded";
  }
  await adopt(ctx, pending);
  return "ordered";
}

/**
 * Whether a commit of ours waits for a remote hub's answer: what is queued for the conversation
 * waits with it, to be encrypted at the epoch the hub's answer leaves (at the old one, a commit of
 * ours that the hub orders first makes it stale, and all but texts would be lost).
 */
export async function waitsForOwnCommit(ctx: Pick<CoreContext, "store">, conversation: string): Promise<boolean> {
  const pending = await pendingCommit(ctx, conversation);
  if (!pending?.forwarded) return false;
  // Once the conversation is at the epoch ours would make, another member's commit came first: ours can no longer be ordered.
  const record = await loadConversation(ctx, conversation);
  return record !== undefined && record.epoch < pending.epoch;
}

/**
 * A remote hub's refusal (`ref`: its Submit id) of a commit of ours in `conversation`: the commit,
 * dropped, never adopted. The caller takes only a bounce that can be the hub's (see hubRefusalOf).
 */
export async function commitRefused(ctx: Pick<CoreContext, "store">, ref: string, conversation: string): Promise<PendingCommit | undefined> {
  const pending = await pendingCommit(ctx, conversation);
  if (pending?.submit.id !== ref) return undefined;
  await ctx.store.delete(key(conversation));
  return pending;
}

/** Submits a commit made from `record`'s state (see CommitAnswer); `id` is the Submit's. */
export async function commitToHub(
  ctx: CoreContext,
  record: ConversationRecord,
  made: { state: GroupState; commit: string; welcome?: string },
  roster?: Roster,
  id = randomId16(),
): Promise<CommitAnswer> {
  const pending: PendingCommit = {
    conversation: record.conversation,
    submit: {
      id,
      epoch: record.epoch,
      kind: "commit",
      mls: made.commit,
      ...(made.welcome ? { welcome: made.welcome } : {}),
      ...(roster ? { roster } : {}),
    },
    group: encodeGroupState(made.state),
    epoch: epochOf(made.state),
  };
  await ctx.store.put(key(record.conversation), pending);
  return sendPendingCommit(ctx, pending);
}

/**
 * One of this device's own submissions came back from the hub: nothing to decrypt, but if it is
 * a commit whose answer was lost, its state becomes the conversation's now; if it is our leave,
 * its position is where the group's history ends here.
 */
export async function ownItemBack(ctx: CoreContext, record: ConversationRecord, item: ConvPayload): Promise<void> {
  const pending = await pendingCommit(ctx, item.conversation);
  const mine = pending?.submit.id === item.id && item.type === "commit" && record.epoch < pending.epoch;
  const current = mine ? await adopted(ctx, record, pending, item.at) : record;
  // A send sent again after a stale refusal has a Submit id of its own; its content's id is the one known.
  const sent = item.type === "application" ? await forwardedBack(ctx, item.id) : undefined;
  // Our own leave, now in the hub's order: what comes after it is no longer shown (PROTOCOL §12).
  const next = leaveOrderedAt(current, sent?.content.id ?? item.id, item.hubSeq);
  await saveConversation(ctx, markApplied(next, item.hubSeq), mine);
  if (pending?.submit.id === item.id) await ctx.store.delete(key(item.conversation));
  // The hub holds it: a text whose answer was lost is sent (its Submit id is its content id).
  if (item.type === "application" && (await findMessage(ctx, item.id))?.status === "sending") await setStatus(ctx, item.id, "sent", { hubSeq: item.hubSeq });
}
