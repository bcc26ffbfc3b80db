import { EmsgError, RETRYABLE } from "../errors.js";
import { encodeContent } from "../content.js";
import { MAX_SESSION_SUBMITS, type SubmitAccepted } from "../wire/index.js";
import type { CoreContext } from "./context.js";
import { lastLine, leaveOrderedAt, loadConversation, saveConversation, shownAt, withLast } from "./conversation-record.js";
import { ensureConversation, sealApplication, type SealedApplication, submitApplication } from "./conversations.js";
import { TYPING_LATE_MS } from "./message-changes.js";
import { deleteMessage, findMessage, retime, saveMessage, setStatus } from "./messages.js";
import { entryKey, type OutgoingEntry, updateQueued } from "./outgoing-queue.js";
import { waitsToRejoin } from "./rejoin.js";
import { waitsForOwnCommit } from "./own-commits.js";
import { keepForwarded } from "./forwarded-sends.js";

// How flushOutgoing (outgoing-queue.ts) sends the queue's entries: made ready one at a time, and
// over a conversation's open session a window of them in flight before the hub's answers are taken.

/** Errors that mean "later": the network, an overloaded server, or a peer server that is down. */
function isTransient(error: unknown): boolean {
  return error instanceof EmsgError && (RETRYABLE.has(error.code) || error.code === "unavailable");
}

/** The entry's conversation, made now if needed; a message kept under the pending name moves into it. */
async function conversationOf(ctx: CoreContext, entry: OutgoingEntry): Promise<string> {
  if (entry.conversation) return entry.conversation;
  const record = await ensureConversation(ctx, entry.peer!);
  const { conversation } = record;
  const waiting = await findMessage(ctx, entry.content.id);
  if (waiting && waiting.conversation !== conversation) {
    await deleteMessage(ctx, waiting);
    await saveMessage(ctx, { ...waiting, conversation });
    // A timer set before the first message is the chat's first line: its notice shows in the list.
    await saveConversation(ctx, withLast(record, { ...waiting, conversation }));
  }
  return conversation;
}

/** Whether the conversation is still at or before the epoch a refused text was encrypted at. */
async function stillBehind(ctx: CoreContext, conversation: string, after: number | undefined): Promise<boolean> {
  if (after === undefined) return false;
  const record = await loadConversation(ctx, conversation);
  return record !== undefined && !record.left && record.epoch <= after;
}

/** An entry ready to submit: its conversation made, and encrypted. */
interface Ready {
  entry: OutgoingEntry;
  conversation: string;
  sealed: SealedApplication;
}

/** Makes the entry's conversation if needed, catches up first if it waits for a commit, and encrypts it unless it was. */
async function ready(ctx: CoreContext, entry: OutgoingEntry, catchUp: () => Promise<void>): Promise<Ready> {
  const conversation = await conversationOf(ctx, entry);
  if (await stillBehind(ctx, conversation, entry.after)) {
    await catchUp();
    if (await stillBehind(ctx, conversation, entry.after)) throw new EmsgError("stale_epoch", "The commit the hub is at has not reached this device yet.");
  }
  return { entry, conversation, sealed: entry.sealed ?? (await seal(ctx, entry, conversation)) };
}

const submitIdOf = ({ entry }: Ready) => entry.submitId ?? entry.content.id;

/** Hands a ready entry to the conversation's session; `undefined` when none is open (see LiveRoute). */
function submitLive(ctx: CoreContext, r: Ready): Promise<SubmitAccepted | undefined> | undefined {
  const answer = ctx.live?.submit(r.conversation, { id: submitIdOf(r), epoch: r.sealed.epoch, kind: "application", mls: r.sealed.mls });
  // Taken later, in queue order: a refusal that comes before is not left unhandled meanwhile.
  answer?.catch(() => undefined);
  return answer;
}

const isStale = (error: unknown) => error instanceof EmsgError && error.code === "stale_epoch";

/**
 * Delivers a ready entry: takes the session's answer to it if it was submitted there, else (none,
 * or the session ended unanswered) submits it now. Refused as `stale_epoch`: the hub moved on
 * (someone committed), so it is sent again from the new epoch (see sendAnew).
 */
async function deliver(ctx: CoreContext, r: Ready, catchUp: () => Promise<void>, answer?: Promise<SubmitAccepted | undefined>): Promise<void> {
  let accepted: SubmitAccepted & { epoch: number };
  try {
    const live = await answer;
    accepted = live ? { ...live, epoch: r.sealed.epoch } : await submitApplication(ctx, r.conversation, submitIdOf(r), r.sealed);
  } catch (error) {
    if (!isStale(error)) throw error;
    accepted = await sendAnew(ctx, r, catchUp);
  }
  await accept(ctx, r, accepted);
}

/**
 * Encrypts anew and submits an entry the hub refused as `stale_epoch`, after reading what we
 * missed. When this device is past the epoch it was encrypted at already (an entry before it in
 * the window caught up, or the commit came over the session), it goes at once: a window refused
 * whole costs one catch-up, not one a message. A catch-up follows only if the hub still finds it stale.
 */
async function sendAnew(ctx: CoreContext, r: Ready, catchUp: () => Promise<void>): Promise<SubmitAccepted & { epoch: number }> {
  const resend = async () => submitApplication(ctx, r.conversation, submitIdOf(r), await seal(ctx, r.entry, r.conversation));
  const record = await loadConversation(ctx, r.conversation);
  if (record && record.epoch > r.sealed.epoch) {
    try {
      return await resend();
    } catch (error) {
      if (!isStale(error)) throw error;
    }
  }
  await catchUp();
  return resend();
}

/** What the hub's acceptance of an entry changes on this device. */
async function accept(ctx: CoreContext, r: Ready, accepted: SubmitAccepted & { epoch: number }): Promise<void> {
  const { entry, conversation } = r;
  const id = entry.content.id;
  // Taken by our server for a remote hub, which may yet refuse it as stale: kept until it answers.
  if (accepted.seq === undefined) await keepForwarded(ctx, submitIdOf(r), { content: entry.content, conversation, epoch: accepted.epoch });
  if (entry.content.type === "text" || entry.content.type === "attachment") await setStatus(ctx, id, "sent", accepted.seq ? { hubSeq: accepted.seq } : { epoch: accepted.epoch });
  // The hub's answer orders our leave; an account's only device gets no copy of it back (PROTOCOL §6).
  if (entry.content.type === "leave" && accepted.seq !== undefined) {
    const record = await loadConversation(ctx, conversation);
    if (record) await saveConversation(ctx, leaveOrderedAt(record, id, accepted.seq), false);
  }
}

/** Encrypts the entry's content and keeps the result with the entry, for every try until one is answered. */
async function seal(ctx: CoreContext, entry: OutgoingEntry, conversation: string): Promise<SealedApplication> {
  // The entry keeps its content as queued: its key in the queue is by that content's time.
  const sealed = await sealApplication(ctx, conversation, encodeContent(await datedAfterRosterChange(ctx, entry.content, conversation)));
  await updateQueued(ctx, { ...entry, conversation, sealed });
  return sealed;
}

/**
 * Our text or file as it goes out now. One written before a roster change this device has since
 * applied (refused as stale when a removal was ordered first, and sent again) is dated just after
 * that change, here and in what receivers get: no screen shows it above the removal as if the
 * removed member had it.
 */
async function datedAfterRosterChange(ctx: CoreContext, content: OutgoingEntry["content"], conversation: string): Promise<OutgoingEntry["content"]> {
  if (content.type !== "text" && content.type !== "attachment") return content;
  const record = await loadConversation(ctx, conversation);
  if (!record) return content;
  const shown = shownAt(record, record.epoch, content.sentAt);
  if (shown.at === content.sentAt || (content.expiresAt !== undefined && content.expiresAt <= shown.at)) return content;
  const message = await findMessage(ctx, content.id);
  if (message && message.conversation === conversation) {
    const moved = await retime(ctx, message, shown.at);
    await saveConversation(ctx, record.last?.id === moved.id ? { ...shown.record, last: lastLine(moved) } : withLast(shown.record, moved));
    ctx.events.emit("status", moved);
  } else await saveConversation(ctx, shown.record, false);
  return { ...content, sentAt: shown.at };
}

/**
 * Entries a flush sends over a conversation's session before it awaits the hub's answers: one
 * full `submits` frame. Frames on a session are ordered on one socket and the hub orders them as
 * they arrive, so a queue of hundreds takes a few round trips, not one each.
 */
export const OUTGOING_WINDOW = MAX_SESSION_SUBMITS;

const isTyping = (entry: OutgoingEntry) => entry.content.type === "typing";

/** What a flush does with an entry it does not send now: keeps it, or drops it; undefined: it is sent. */
export async function notNow(ctx: CoreContext, entry: OutgoingEntry): Promise<"kept" | "dropped" | undefined> {
  // Kept for when this device is let back in: the group it holds is behind the hub's (PROTOCOL §8, Rejoining).
  if (entry.conversation && (await waitsToRejoin(ctx, entry.conversation))) return "kept";
  // Kept until a remote hub answers a commit of ours: the epoch to encrypt at is the one it leaves.
  if (entry.conversation && (await waitsForOwnCommit(ctx, entry.conversation))) return "kept";
  // Typing is news only now: one that waited is dropped unsent.
  if (isTyping(entry) && ctx.clock.now() - entry.content.sentAt > TYPING_LATE_MS) {
    await ctx.store.delete(entryKey(entry));
    return "dropped";
  }
  return undefined;
}

/**
 * Runs one entry's send and settles it: sent, it leaves the queue; refused for good, a text is
 * marked failed and leaves too (a typing notice that fails leaves at once). False when the send
 * failed for now (offline, a server down, or a commit the hub is at has not reached this device
 * yet: its arrival flushes the queue again): the entry stays queued and the flush stops there.
 */
async function settle(ctx: CoreContext, entry: OutgoingEntry, send: () => Promise<void>): Promise<boolean> {
  try {
    await send();
  } catch (error) {
    if (isTyping(entry)) await ctx.store.delete(entryKey(entry));
    if (isTransient(error) || isStale(error)) return false;
    const code = error instanceof EmsgError ? error.code : "internal";
    if (!(error instanceof EmsgError)) console.error("emsg: sending failed", error);
    if (entry.content.type === "text" || entry.content.type === "attachment") await setStatus(ctx, entry.content.id, "failed", { error: code });
  }
  await ctx.store.delete(entryKey(entry));
  return true;
}

interface Sending {
  entry: OutgoingEntry;
  at: number;
  ready?: Ready;
  /** Why it could not be made ready. */
  failed?: unknown;
  answer?: Promise<SubmitAccepted | undefined>;
}

/**
 * Sends `entries[at]` and, when it went over its conversation's session, those after it that can
 * go along (up to OUTGOING_WINDOW in all): each of a conversation made already and not waiting for
 * a commit, made ready one after the other, then handed to its session in one turn (one frame for
 * each session, see SessionLink). Their answers are then taken in queue order, as one at a time
 * would: a `stale_epoch` refusal catches up and sends that entry again from the new epoch before
 * the next answer is taken, and one the session left unanswered goes by our own server then. At a
 * transient failure the flush stops (`stopped`: that entry's place): of those after it, what the
 * hub accepted is done, what it refused for good failed, and the rest stays queued (`left`: how
 * many entries from `stopped` on). `next`: where the flush goes on.
 */
export async function sendFrom(ctx: CoreContext, entries: OutgoingEntry[], at: number, catchUp: () => Promise<void>): Promise<{ next: number; stopped?: number; left: number }> {
  const burst: Sending[] = [await readied(ctx, entries[at]!, at, catchUp)];
  const dropped: number[] = [];
  let next = at + 1;
  burst[0]!.answer = burst[0]!.ready && submitLive(ctx, burst[0]!.ready);
  for (; burst[0]!.answer && next < entries.length && burst.length < OUTGOING_WINDOW; next++) {
    const entry = entries[next]!;
    if (!entry.conversation || entry.after !== undefined) break;
    const skip = await notNow(ctx, entry);
    if (skip === "dropped") dropped.push(next);
    if (skip) continue;
    const sending = await readied(ctx, entry, next, catchUp);
    // One that cannot be made ready now is left to the flush, which tells why.
    if (!sending.ready) break;
    burst.push(sending);
  }
  for (const b of burst.slice(1)) b.answer = submitLive(ctx, b.ready!);
  let stopped: number | undefined;
  let gone = 0;
  for (const b of burst) {
    if (stopped === undefined) {
      const sent = await settle(ctx, b.entry, async () => {
        if (!b.ready) throw b.failed;
        await deliver(ctx, b.ready, catchUp, b.answer);
      });
      if (!sent) stopped = b.at;
      if (!sent && isTyping(b.entry)) gone++;
      continue;
    }
    // Past the failure nothing is sent again (a typing notice not taken is dropped, as one that fails).
    const settled = await settle(ctx, b.entry, async () => {
      const took = await b.answer;
      if (!took) throw new EmsgError("unavailable", "The session ended before the hub answered.");
      await accept(ctx, b.ready!, { ...took, epoch: b.ready!.sealed.epoch });
    });
    if (settled || isTyping(b.entry)) gone++;
  }
  if (stopped === undefined) return { next, left: 0 };
  return { next, stopped, left: entries.length - stopped - gone - dropped.filter((d) => d > stopped).length };
}

async function readied(ctx: CoreContext, entry: OutgoingEntry, at: number, catchUp: () => Promise<void>): Promise<Sending> {
  try {
    return { entry, at, ready: await ready(ctx, entry, catchUp) };
  } catch (error) {
    return { entry, at, failed: error };
  }
}
