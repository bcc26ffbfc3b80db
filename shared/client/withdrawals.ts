import type { Address } from "../address.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import { membersOf } from "../mls/group-state.js";
import { inspectMessage } from "../mls/inspect.js";
import { decodeGroupState } from "../mls/state-codec.js";
import { type ConvPayload, SubmitAcceptedSchema, type Veto } from "../wire/conversation.js";
import type { CoreContext } from "./context.js";
import { choosePeerConversation, type ConversationKind, type ConversationRecord, dropPeerConversation, loadConversation, saveConversation } from "./conversation-record.js";
import { hubPath } from "./conversations.js";
import { queueRemoval } from "./device-jobs.js";
import { type MessageRecord, setStatus } from "./messages.js";
import { addNotice } from "./group-changes.js";
import { requeue } from "./outgoing-queue.js";
import { askToRejoin } from "./rejoin.js";

/**
 * Vetoes and withdrawals (PROTOCOL §8, Vetoes): a commit that a member's device cannot process is
 * vetoed to the hub, which withdraws it (and the commits after it) if it is one of its latest; every
 * device then goes back to where it was before it. So each device keeps the conversation as it was
 * before each of the latest commits it applied (as many as a hub keeps for vetoes), until a
 * withdrawal: those epochs' secrets are kept longer.
 */

/** States kept: a veto withdraws at most this many commits at once (the hub's COMMITS_KEPT). */
const KEPT = 4;

/** What a withdrawal of `commit` (its Submit id) puts back: the record's group and roster before it. */
export type BeforeCommit =
  | {
      commit: string;
      /** The account that committed it (its MLS sender). */
      by?: Address;
      /** This device made the commit. */
      own?: true;
      group: string;
      epoch: number;
      members: Address[];
      kind?: ConversationKind;
      peer?: Address;
      peerKey?: string;
      left?: boolean;
      leaving?: Address[];
    }
  /** This device joined by the commit's Welcome: before it, it was not in the group (or, `rejoined`, out of step: PROTOCOL §8, Rejoining). */
  | { commit: string; joined: true; by?: Address; rejoined?: true };

/**
 * `after` (the record once `commit`, by `by`, is applied) remembering `before` as it was, for a
 * withdrawal. Only the states before the latest run of one account's commits are kept: a hub
 * withdraws no commit that another account's follows, so the secrets of the epochs before it would
 * only wait there to be stolen.
 */
export function rememberBefore(before: ConversationRecord, after: ConversationRecord, commit: string, by: Address, own = false): ConversationRecord {
  const run = (before.beforeCommits ?? []).filter((b) => b.by === by);
  const kept = [...run, snapshotOf(before, commit, by, own)].slice(-KEPT);
  return { ...after, beforeCommits: kept };
}

function snapshotOf(before: ConversationRecord, commit: string, by: Address, own: boolean): BeforeCommit {
  const { group, epoch, members, kind, peer, peerKey, left, leaving } = before;
  return {
    commit,
    by,
    ...(own ? { own: true as const } : {}),
    group, epoch, members,
    ...(kind ? { kind } : {}),
    ...(peer ? { peer } : {}),
    ...(peerKey ? { peerKey } : {}),
    ...(left ? { left } : {}),
    ...(leaving ? { leaving } : {}),
  };
}

const vetoKey = (conversation: string) => `veto/${conversation}`;

/**
 * A commit at this device's epoch failed to process (garbage, or path secrets it cannot open):
 * without a veto the group would stay at an epoch the hub left, and nothing this device sends would
 * be taken. The veto is sent after the items are applied (sendVetoes). Other failures are no cause:
 * a past or future epoch (`stale_epoch`), or this device removed (`forbidden`).
 */
export async function vetoIfUnreadable(ctx: CoreContext, record: ConversationRecord, item: ConvPayload, error: unknown): Promise<boolean> {
  if (item.type !== "commit" || !(error instanceof EmsgError) || (error.code !== "bad_request" && error.code !== "unauthorized")) return false;
  if (item.epoch !== record.epoch || record.left || !framedAsCommit(item)) return false;
  await ctx.store.put(vetoKey(item.conversation), { conversation: item.conversation, veto: { id: randomId16(), epoch: item.epoch, hubSeq: item.hubSeq } });
  return true;
}

/**
 * Whether the item's cleartext header is what the hub checks before ordering a commit (§8): one
 * of this conversation, at the item's epoch, saying `commit`. Only then was an unprocessable
 * commit ordered by the hub as one, for a veto to withdraw; a header that says otherwise is the
 * hub's (or a lying server's) mislabelling, refused unread and no cause to undo anything.
 */
function framedAsCommit(item: ConvPayload): boolean {
  try {
    const header = inspectMessage(item.mls);
    return header.conversation === item.conversation && header.type === "commit" && header.epoch === item.epoch;
  } catch (error) {
    if (error instanceof EmsgError) return false;
    throw error;
  }
}

const sentKey = (id: string) => `vetoSent/${id}`;

/**
 * Sends the vetoes waiting. One that could not reach the hub waits for the next call. One the hub
 * refuses (at once, or for a remote hub later as a bounce: see vetoRefused) leaves this device
 * behind the group for good, which the conversation then says (vetoRefused).
 */
export async function sendVetoes(ctx: CoreContext): Promise<void> {
  for (const [key, { conversation, veto }] of await ctx.store.list<{ conversation: string; veto: Veto }>("veto/")) {
    await ctx.store.put(sentKey(veto.id), conversation);
    try {
      // A hub on our own server answers for good; a remote one's refusal comes back as a bounce.
      const answer = await ctx.api.call("POST", `${hubPath(conversation)}/veto`, veto, SubmitAcceptedSchema);
      if (answer.seq !== undefined) await ctx.store.delete(sentKey(veto.id));
    } catch (error) {
      if (!(error instanceof EmsgError)) throw error;
      // Out of vetoes for the day (rate_limited) is a refusal: by the time more are allowed the commit is out of reach.
      if (RETRYABLE.has(error.code) && error.code !== "rate_limited") continue;
      await vetoRefused(ctx, veto.id, conversation, error.message);
    }
    await ctx.store.delete(key);
  }
}

/**
 * Whether `ref` is a veto of this device's that the hub of `conversation` refused: the commit it could not process
 * stays (another account committed on top of it, say), so nothing it sends or reads there can be
 * taken any more. The conversation is stopped with why, and this device asks to be let back in
 * (PROTOCOL §8, Rejoining).
 */
export async function vetoRefused(ctx: CoreContext, ref: string, conversation: string, why: string): Promise<boolean> {
  if ((await ctx.store.get<string>(sentKey(ref))) !== conversation) return false;
  await ctx.store.delete(sentKey(ref));
  const record = await loadConversation(ctx, conversation);
  if (record && !record.unsafe && !record.left) {
    await askToRejoin(ctx, { ...record, unsafe: `A change to this conversation could not be read on this device, and the server would not undo it (${why}). It has asked to be let back in.` });
  }
  return true;
}

/**
 * The hub withdrew commits (`item.withdraws`, oldest first) after a member's veto. A device that
 * applied them goes back to its state before the first it applied; one that joined by the Welcome
 * of one of them is out of the group again; one that could not apply them is there already. The
 * states kept before are dropped, as the hub forgets the commits before a withdrawal. Texts and files this account sent after the commit, which
 * members that could not apply it never read, go out again at the restored epoch (readers who did
 * read them know them by their id). A change this device committed is made again if it is its own
 * account's devices'; the rest is the user's to redo.
 */
export async function readWithdrawal(ctx: CoreContext, record: ConversationRecord, item: ConvPayload): Promise<ConversationRecord> {
  const withdrawn = item.withdraws;
  if (!withdrawn || item.mls !== "") throw new EmsgError("bad_request", "A withdrawal names the commits it withdraws and carries no message.");
  const ids = new Set(withdrawn.map((w) => w.id));
  const stack = record.beforeCommits ?? [];
  const index = stack.findIndex((b) => ids.has(b.commit));
  const { beforeCommits: _kept, rejoin, ...rest } = record;
  // A commit this device could not process, withdrawn, re-added nobody: only a device out of step still waits.
  const current: ConversationRecord = rejoin?.stuck ? { ...rest, rejoin } : rest;
  let next: ConversationRecord = current;
  const before = stack[index];
  if (!before) {
    // Never applied here (they could not be, or they wait): the group is where the hub is again.
  } else if ("joined" in before && before.rejoined) {
    // The commit that let this device back in is undone: it is behind the group again, and asks again.
    next = { ...current, unsafe: "The change that let this device back into the conversation was undone. It has asked to be let back in again." };
    await askToRejoin(ctx, next);
    next = { ...next, rejoin: { stuck: true } };
  } else if ("joined" in before) {
    next = { ...current, left: true };
    await dropPeerConversation(ctx, record);
  } else {
    const { commit: _commit, by: _by, own: _own, ...kept } = before;
    const { peer: _peer, peerKey: _peerKey, leaving: _leaving, left: _left, ...rest } = current;
    next = { ...rest, ...kept };
    if (record.kind !== next.kind || record.peer !== next.peer) await dropPeerConversation(ctx, record);
    if (next.kind === "direct" && next.peer && !next.unsafe) await choosePeerConversation(ctx, next);
    if (stack.slice(index).some((b) => "own" in b && b.own)) await redoOwnDevices(ctx, record, next);
  }
  await sendAgain(ctx, record.conversation, withdrawn[0]!.hubSeq, item.hubSeq, item.epoch);
  // Shown, so that whoever made the change knows to make it again (the same id on every device).
  await addNotice(ctx, record.conversation, item.id, item.at, { type: "undone", by: item.from });
  // A veto of ours that this withdrawal answers is no longer waiting for a refusal.
  await ctx.store.delete(sentKey(item.id));
  return next;
}

/** Our own devices that our withdrawn commits added or removed: the device jobs that made them are queued again. */
async function redoOwnDevices(ctx: CoreContext, withdrawnState: ConversationRecord, restored: ConversationRecord): Promise<void> {
  const own = async (record: ConversationRecord) =>
    new Set(membersOf(await decodeGroupState(record.group)).filter((m) => m.address === ctx.account.address).map((m) => m.deviceId));
  const [was, is] = [await own(restored), await own(withdrawnState)];
  for (const deviceId of is) if (!was.has(deviceId)) await ctx.store.put(`devjob/${deviceId}`, { kind: "add", deviceId });
  for (const deviceId of was) if (!is.has(deviceId)) await queueRemoval(ctx, deviceId);
}

/** Our texts and files ordered between the first commit withdrawn and the withdrawal (or sent at a later epoch than the restored one) go out again. */
async function sendAgain(ctx: CoreContext, conversation: string, commitSeq: number, withdrawalSeq: number, epoch: number): Promise<void> {
  for (const [, message] of await ctx.store.list<MessageRecord>(`msg/${conversation}/`)) {
    if (message.direction !== "out" || message.notice || message.deleted || (message.status !== "sent" && message.status !== "delivered")) continue;
    const withdrawn = message.hubSeq !== undefined ? message.hubSeq > commitSeq && message.hubSeq < withdrawalSeq : message.epoch !== undefined && message.epoch > epoch;
    if (!withdrawn) continue;
    await requeue(ctx, message);
    await setStatus(ctx, message.id, "sending");
  }
}
