import * as v from "valibot";
import { EmsgError } from "../errors.js";
import { type MailItem, MailboxPageSchema } from "../wire/mail.js";
import { parseMailboxFrame } from "../wire/server-frame.js";
import { WsTicketResponseSchema } from "../wire/account.js";
import type { ClientEvents, CoreContext } from "./context.js";
import type { ConvPayload } from "../wire/conversation.js";
import { applyConvItem, type ConvOutcome } from "./incoming-conv.js";
import { type ConversationRecord, conversationKey, loadConversation, wasApplied } from "./conversation-record.js";
import { readDirectly } from "./direct-copies.js";
import { indexKey } from "./messages.js";
import { heldChangesOf } from "./message-changes.js";
import { processMessage } from "../mls/receive.js";
import { decodeGroupState } from "../mls/state-codec.js";
import { type Content, decodeContent, RECEIPT_MAX_IDS } from "../content.js";
import { addNotice } from "./group-changes.js";
import { receiveDeleted, receiveFriendBounce, receiveFriendRequest, receiveFriendResponse } from "./friends.js";
import { type MessageRecord, setStatus, submittedAs } from "./messages.js";
import { enqueueReceipts, OUTGOING, resendStale } from "./outgoing-queue.js";
import { vetoRefused } from "./withdrawals.js";
import { rejoinRefused } from "./rejoin.js";
import { commitRefused } from "./own-commits.js";
import { redoRoster } from "./roster-jobs.js";
import { forwardedRefused } from "./forwarded-sends.js";
import { receiveMoved } from "./friend-moves.js";
import { onDeviceAdded } from "./device-jobs.js";
import type { SocketLike } from "./transport.js";
import { type BatchStore, canBatch, peekIn, StoreBatch } from "./store-batch.js";
import { Emitter } from "./events.js";
import { dueWelcomes, forgetWelcome, keepWelcome, mayRetryJoin, welcomeWaits } from "./welcome-retries.js";

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
    case "bounce": {
      if (await receiveFriendBounce(ctx, item.ref, item.to, item.error)) return {};
      const conversation = hubRefusalOf(ctx, item);
      if (conversation !== undefined && (await refusedByHub(ctx, item, conversation))) return {};
      const message = await submittedAs(ctx, item.ref);
      if (message && (await reachedNobody(ctx, item, message))) await setStatus(ctx, message.id, "failed", { error: item.error });
      return {};
    }
    case "moved":
      await receiveMoved(ctx, item.signed);
      return {};
    case "device_added":
      await onDeviceAdded(ctx, item.deviceCert, item.link);
      return {};
  }
}

/**
 * Whether the hub's refusal was of something this device sent to `conversation` and keeps until the
 * hub answers: a veto or an ask to rejoin (the conversation is stopped), a commit (dropped; one that
 * another member's came first is made again from the new state, as far as it still changes anything:
 * roster-jobs), or a send refused as stale (sent again once this device caught up).
 */
async function refusedByHub(ctx: CoreContext, item: Bounce, conversation: string): Promise<boolean> {
  const { ref, error } = item;
  if (await vetoRefused(ctx, ref, conversation, error)) return true;
  if (await rejoinRefused(ctx, ref, conversation, error)) return true;
  const commit = await commitRefused(ctx, ref, conversation);
  if (commit) {
    if (error === "stale_epoch") await redoRoster(ctx, commit);
    return true;
  }
  if (await forwardedRefused(ctx, ref, error, conversation)) return true;
  return error === "stale_epoch" && resendStale(ctx, ref, conversation);
}

type Bounce = Extract<MailItem, { kind: "bounce" }>;

/**
 * Whether a bounce means our message (its current submission: submittedAs) reached nobody: it names
 * this account (the hub, or our own server that could not reach it) or the one peer of a direct chat.
 * One member of a group not reached leaves the message delivered to the others; a member's server (or
 * a lying one) must not mark it "Not delivered" for everyone, nor stop it from being sent again when
 * the hub refuses it as stale.
 */
async function reachedNobody(ctx: CoreContext, item: Bounce, message: MessageRecord): Promise<boolean> {
  if (item.to === ctx.account.address) return true;
  const record = await loadConversation(ctx, message.conversation);
  return record?.kind !== "group" && record?.peer === item.to;
}

/**
 * The conversation whose hub a bounce can be the refusal of, if any. A hub refuses our submission
 * with `to` = this account and the conversation set (PROTOCOL §6), and our server takes a bounce
 * naming us only from that hub (§7); a member's server refusing its own recipient names that
 * recipient, and it (or a lying peer) must not drop a commit or send the hub has ordered (our
 * device would then skip its own commit and fall out of the group), stop a conversation over a
 * veto or ask the hub never refused, or have a text sent again and again.
 */
function hubRefusalOf(ctx: CoreContext, item: Bounce): string | undefined {
  return item.to === ctx.account.address ? item.conversation : undefined;
}

/** A conversation's items waiting for a commit, in hub order: one key, read once per item, not a listing. */
const heldKey = (conversation: string) => `held/${conversation}`;

/**
 * Whether a conversation item is of an epoch this device has not reached: a commit before it is
 * missing (PROTOCOL §6), or the Welcome into its conversation waits to be tried again
 * (welcome-retries), so it waits for that instead of failing now.
 */
async function aheadOfCommit(ctx: CoreContext, item: ConvPayload): Promise<boolean> {
  if (item.type === "welcome") return false;
  // Only looked at: a batch's record is not copied for it (it is, once a message, to be applied).
  const record = await peekIn<ConversationRecord>(ctx.store, conversationKey(item.conversation));
  if (record === undefined) return welcomeWaits(ctx, item.conversation);
  // One stopped as unsafe reads nothing, and one out of step waits for a Welcome, not a commit.
  return !record.left && !record.unsafe && item.epoch > record.epoch;
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
  // What waited for the epoch a withdrawn commit brought will never be read: its senders send it again (PROTOCOL §8).
  if (item.type === "withdrawn") {
    const kept = held.filter((h) => h.hubSeq > item.hubSeq || h.epoch <= item.epoch);
    if (kept.length < held.length) await (kept.length > 0 ? ctx.store.put(key, kept) : ctx.store.delete(key));
    held.splice(0, held.length, ...kept);
  }
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
    if (mayRetryJoin(item, error)) {
      console.warn(`emsg: the Welcome to ${item.conversation} is kept to try again: ${error.message}`);
      for (const conversation of await keepWelcome(ctx, item)) {
        console.warn(`emsg: the Welcome to ${conversation} is dropped, with what waited behind it: too many wait to be tried again`);
        await ctx.store.delete(heldKey(conversation));
      }
      return;
    }
    console.warn(`emsg: conversation item ${item.hubSeq} (${item.type}) of ${item.conversation} not read: ${error.message}`);
    if (error instanceof EmsgError) await reportUnreadable(ctx, item, error);
  }
  if (item.type === "welcome") await forgetWelcome(ctx, item.conversation);
}

/**
 * Tries again the Welcomes kept for a failure of the moment (welcome-retries) that are due, each
 * followed by what waited behind it; one kept for a day is dropped with what waited behind it.
 * Returns when the next one left waiting is due (undefined: none waits).
 */
export async function retryWelcomes(ctx: CoreContext, onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<number | undefined> {
  const { due, expired, next } = await dueWelcomes(ctx);
  for (const item of expired) {
    console.warn(`emsg: the Welcome to ${item.conversation} could not be taken for a day; it is dropped, with what waited behind it`);
    await ctx.store.delete(heldKey(item.conversation));
  }
  for (const item of due) await applyConv(ctx, item, onOutcome);
  return due.length > 0 ? (await dueWelcomes(ctx)).next : next;
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
    cursor = run[0]!.kind === "conv" ? await applyBatch(ctx, base, run) : await applyEach(ctx, run, onOutcome);
    start = end;
  }
  return cursor;
}

/**
 * A view's events, held until the batch they tell of is stored. A conversation's summary is told
 * once, as it is after the batch, where it was first told: the chat list is drawn once a frame,
 * not once a message.
 */
class HeldEvents extends Emitter<ClientEvents> {
  readonly #held: Array<[keyof ClientEvents, unknown]> = [];
  readonly #summaries = new Map<string, ClientEvents["conversation"]>();

  override emit<K extends keyof ClientEvents>(event: K, payload: ClientEvents[K]): void {
    if (event === "conversation") {
      const summary = payload as ClientEvents["conversation"];
      const told = this.#summaries.has(summary.conversation);
      this.#summaries.set(summary.conversation, summary);
      if (told) return;
    }
    this.#held.push([event, payload]);
  }

  releaseTo(events: Emitter<ClientEvents>): void {
    for (const [event, payload] of this.#held) {
      const latest = event === "conversation" ? this.#summaries.get((payload as ClientEvents["conversation"]).conversation) : payload;
      events.emit(event, latest as never);
    }
  }
}

/**
 * Reads a run's application messages ahead, the conversations side by side: each one's decrypted
 * in one loop from its state, then what storing them looks up (whether a message is known already,
 * changes held for it) read from the store at once, instead of a round trip to the store for each
 * message. Applying a message takes the result read ahead when it comes to it with that very
 * state (StoreBatch.readAhead), and reads it itself otherwise. Reading ahead stops at anything
 * applied otherwise (a commit, a Welcome, our own item, one waiting for a commit), and skips a
 * conversation with items held for a commit: each state is read from once, by the message that
 * moves it on (one that cannot be read is kept with why, and fails so again when applied).
 */
async function readAhead(ctx: CoreContext, batch: StoreBatch, items: MailItem[], readsAsked: () => void): Promise<void> {
  const cursor = await cursorOf(ctx);
  const runs = new Map<string, ConvPayload[]>();
  for (const item of items) {
    if (item.kind !== "conv" || item.seq <= cursor) continue;
    const run = runs.get(item.conversation);
    if (run) run.push(item);
    else runs.set(item.conversation, [item]);
  }
  // What the frame reads, asked of the store at once before the batch before
  // writes (see handOverBatch), and before decrypting, so that write goes on meanwhile: each
  // conversation's record, what waits in it for a commit and changes held for its messages; the
  // outgoing queue, where the frame's receipts are queued; and each message's index entry under
  // its Submit id, which is its content id but for a text sent again (looked up after decrypting).
  const conversations = [...runs.keys()];
  const submitIds = [...runs.values()].flatMap((run) => run.filter((item) => item.type === "application").map((item) => indexKey(item.id)));
  const reading = batch.prefetch([...conversations.flatMap((conversation) => [conversationKey(conversation), heldKey(conversation)]), ...submitIds], [...conversations.map(heldChangesOf), OUTGOING]);
  readsAsked();
  await reading;
  // Conversations are read side by side: each has its own state, and while one waits on the host's
  // crypto (a signature checked in WebCrypto, a thread hop each) another's messages are decrypted.
  const keys = await Promise.all([...runs].map(([conversation, run]) => readRunAhead(ctx, batch, conversation, run)));
  // Content ids other than their Submit id: rare, and read after the batch before began writing.
  await batch.prefetch(keys.flat());
}

/** Reads one conversation's run of a frame ahead (see readAhead); returns the message index keys storing it looks up. */
async function readRunAhead(ctx: CoreContext, batch: StoreBatch, conversation: string, run: ConvPayload[]): Promise<string[]> {
  const keys: string[] = [];
  const record = await loadConversation(ctx, conversation);
  if (!record || record.left || record.unsafe || ((await ctx.store.get<ConvPayload[]>(heldKey(conversation))) ?? []).length > 0) return keys;
  let group = record.group;
  // A state that cannot be read is the reader's to report, message by message, as before.
  const stored = await decodeGroupState(group).catch(() => undefined);
  if (stored === undefined) return keys;
  let state = stored;
  for (const item of run) {
    if (item.type !== "application" || item.epoch > record.epoch || item.deviceId === ctx.account.deviceId || wasApplied(record, item.hubSeq) || readDirectly(record, item.mls)) break;
    // One that cannot be read leaves the state as it was, and fails the same way when applied.
    const result = await processMessage(state, item.mls, "application").then(
      (processed) => ({ processed }),
      (error: unknown) => ({ error }),
    );
    if (!("processed" in result)) {
      batch.keepReadAhead(group, item.mls, result);
      continue;
    }
    const { processed } = result;
    // Decoded once, here: storing it takes the content with what was read ahead.
    const content = processed.kind === "application" ? contentOf(processed.plaintext) : undefined;
    batch.keepReadAhead(group, item.mls, content ? { processed, content } : result);
    state = processed.state;
    group = batch.groupText(state);
    if (content?.type === "text" || content?.type === "attachment") keys.push(indexKey(content.id));
  }
  return keys;
}

/** What `plaintext` says, if it can be read; one that cannot fails the same way when stored. */
function contentOf(plaintext: Uint8Array): Content | undefined {
  try {
    return decodeContent(plaintext);
  } catch {
    return undefined;
  }
}

/**
 * A run of conversation items applied in one StoreBatch: every record read once, written once, the
 * cursor last, all in one atomic write, so a crash leaves the run applied whole or not at all (and
 * then applied again from its start). Nothing is sent meanwhile: the receipts it asks for are
 * queued in that same write, an entry per conversation (a receipt never waits for a write of its
 * own, nor is lost between two), and the views hear of it only then. Other kinds (rare, and some
 * of them send) go one at a time.
 */
async function applyBatch(ctx: CoreContext, base: BatchStore, items: MailItem[]): Promise<number> {
  const handed = await handOverBatch(ctx, base, items);
  handed.mayWrite();
  return finishBatch(ctx, handed);
}

/** A run applied in a batch and handed over to the store (see StoreBatch.handOver): what is left once it is written. */
interface Handed {
  batch: StoreBatch;
  written: Promise<void>;
  /** Lets its writes begin: once the run after it has asked the store for what it reads, or when none follows now. */
  mayWrite: () => void;
  cursor: number;
  events: HeldEvents;
}

/**
 * Applies a run in a batch and hands its writes over; `before`: the run handed over before it,
 * maybe not written yet. Its writes wait for `mayWrite`, and once this run has asked the store for
 * what it reads, `before`'s may go: IndexedDB runs a read after any write begun before it, and
 * waiting there for a commit (~0.1 s) held up every frame of a catch-up.
 */
async function handOverBatch(ctx: CoreContext, base: BatchStore, items: MailItem[], before?: Handed): Promise<Handed> {
  const batch = new StoreBatch(base, before?.batch);
  const events = new HeldEvents();
  const receipts = new Map<string, string[]>();
  let mayWrite!: () => void;
  const allowed = new Promise<void>((resolve) => (mayWrite = resolve));
  try {
    await readAhead({ ...ctx, store: batch, events }, batch, items, () => before?.mayWrite());
    const cursor = await applyEach({ ...ctx, store: batch, events }, items, async ({ receipts: r }) => {
      if (r) receipts.set(r.conversation, [...(receipts.get(r.conversation) ?? []), ...r.ids]);
    });
    await enqueueReceipts({ store: batch }, receiptsOf(receipts), ctx.clock.now());
    const { written } = await batch.handOver(Promise.all([before?.written, allowed]).then(() => undefined));
    return { batch, written, cursor, events, mayWrite };
  } catch (error) {
    batch.discard();
    throw error;
  } finally {
    before?.mayWrite();
  }
}

/** Each conversation's receipts as entries of at most RECEIPT_MAX_IDS ids. */
function receiptsOf(byConversation: Map<string, string[]>): { conversation: string; ids: string[] }[] {
  const receipts: { conversation: string; ids: string[] }[] = [];
  for (const [conversation, ids] of byConversation) {
    for (let i = 0; i < ids.length; i += RECEIPT_MAX_IDS) receipts.push({ conversation, ids: ids.slice(i, i + RECEIPT_MAX_IDS) });
  }
  return receipts;
}

/** Once a run's writes are stored, the views hear of it; returns its cursor. */
async function finishBatch(ctx: CoreContext, handed: Handed): Promise<number> {
  await handed.written;
  handed.events.releaseTo(ctx.events);
  return handed.cursor;
}

/**
 * Applies mailbox frames in order, each as applyItems does, but the next one is read while the
 * one before is still being written to the store (an IndexedDB transaction's commit took about a
 * third of a frame's time): `next` gives the frames, and may give more while this runs;
 * `onApplied` hears of each in order, with the cursor to acknowledge, once it is stored (its
 * receipts queued with it) and its views told. A frame after which `ahead` is false (the
 * backlog's last, or a live one) is finished before the next is taken, as is one of other kinds
 * than conversation items: what the caller does then (send, say) never runs beside a batch.
 * A frame that fails stops it, nothing after it is acknowledged.
 */
export async function applyFrames<F extends { items: MailItem[] }>(
  ctx: CoreContext,
  next: () => F | undefined,
  ahead: (frame: F) => boolean,
  onOutcome: (outcome: ConvOutcome) => Promise<void>,
  onApplied: (frame: F, upTo: number) => Promise<void>,
): Promise<void> {
  const base = ctx.store;
  let writing: { handed: Handed; finished: Promise<void> } | undefined;
  let failed = false;
  for (let frame = next(); frame !== undefined && !failed; frame = next()) {
    const items = [...frame.items].sort((a, b) => a.seq - b.seq);
    if (!canBatch(base) || items.length === 0 || items.some((item) => item.kind !== "conv")) {
      writing?.handed.mayWrite();
      await writing?.finished;
      writing = undefined;
      await onApplied(frame, await applyItems(ctx, items, onOutcome));
      continue;
    }
    const handed = await handOverBatch(ctx, base, items, writing?.handed);
    const applied = frame;
    const finished = (writing?.finished ?? Promise.resolve()).then(async () => onApplied(applied, await finishBatch(ctx, handed)));
    finished.catch(() => (failed = true));
    writing = { handed, finished };
    if (!ahead(frame)) {
      handed.mayWrite();
      await finished;
      writing = undefined;
    }
  }
  writing?.handed.mayWrite();
  await writing?.finished;
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

/**
 * Pulls and applies everything waiting in the mailbox over HTTP (the polling path). A backlog of
 * more than one page tells its progress (`catchUp`) page by page, as the socket's replay does.
 */
export async function pollMailbox(ctx: CoreContext, onOutcome: (outcome: ConvOutcome) => Promise<void>): Promise<void> {
  let backlog: { done: number; total: number } | undefined;
  try {
    for (;;) {
      const after = await cursorOf(ctx);
      const page = await ctx.api.call("GET", `/mailbox?after=${after}&limit=200`, undefined, MailboxPageSchema);
      if (page.more && page.left !== undefined) backlog ??= { done: 0, total: page.items.length + page.left };
      if (backlog) ctx.events.emit("catchUp", backlog);
      const upTo = await applyItems(ctx, page.items, onOutcome);
      if (upTo > after) await ctx.api.call("POST", "/mailbox/ack", { upTo });
      if (!page.more || upTo === after) return;
      if (backlog) backlog = { ...backlog, done: Math.min(backlog.done + page.items.length, backlog.total) };
    }
  } finally {
    // Read whole, or stopped by a failure: either way nothing is being caught up any more.
    if (backlog) ctx.events.emit("catchUp", { done: backlog.total, total: backlog.total });
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
    const parsed = parseMailboxFrame(JSON.parse(data));
    return parsed.success ? parsed.output : undefined;
  } catch {
    return undefined;
  }
}
