import type { Address } from "../address.js";
import { newTimer } from "../content.js";
import { EmsgError } from "../errors.js";
import { DAY_MS, type TimerContent, type TimerDays, TIMER_MAX_DAYS, TIMER_MIN_DAYS } from "../timer.js";
import type { CoreContext } from "./context.js";
import { type ConversationRecord, listConversations, loadConversation, saveConversation, withLast } from "./conversation-record.js";
import { addNotice } from "./group-changes.js";
import { EXPIRING, type MessageRecord } from "./messages.js";
import { chatOfMoved } from "./moved-history.js";
import { enqueue } from "./outgoing-queue.js";

const RETENTION = "retention/";

/**
 * A chat's disappearing-messages timer (PROTOCOL §8.1, `timer`), shared by its members: kept per
 * friend for a 1:1 (so it holds before the conversation exists and across a new one with the same
 * friend) and per conversation for a group.
 */
export type ChatKey = Address | string;

/**
 * The timer as this device holds it: `days` as in `TimerDays` (a missing member: each device's own
 * setting); `at` is the `sentAt` of the change that set it, so an older one arriving late loses.
 * Entries kept before the timer was shared have no `at`.
 */
interface ChatTimer {
  days?: number | null;
  at?: number;
  /** The timer's content id: of two set at the same moment, the greater holds on every side. */
  id?: string;
  by?: Address;
  /** Set by this account (on any of its devices). */
  own?: true;
}

/** A chat's timer: days, `null` to keep forever; `undefined` follows the account's setting. */
export async function chatRetention(ctx: Pick<CoreContext, "store">, chat: ChatKey): Promise<TimerDays> {
  return (await ctx.store.get<ChatTimer>(RETENTION + chat))?.days;
}

/** A timer the account's setting could hold: 1 to 3650 days, forever or none; anything else is `bad_request`. */
export function checkTimerDays(days: TimerDays): void {
  if (days !== undefined && days !== null && (!Number.isSafeInteger(days) || days < TIMER_MIN_DAYS || days > TIMER_MAX_DAYS)) {
    throw new EmsgError("bad_request", `Retention is ${TIMER_MIN_DAYS} to ${TIMER_MAX_DAYS} days, or forever.`);
  }
}

/** Where a chat's timer goes: its conversation, or the friend whose first conversation it will open. */
export type TimerTarget = { conversation: string; into: string } | { peer: Address; into: string };

/**
 * Sets a chat's timer for everyone in it: kept here, sent to the others as a `timer` content, and
 * shown as a notice ("you set messages to disappear after 1 day").
 */
export async function setChatTimer(ctx: CoreContext, chat: ChatKey, target: TimerTarget, days: TimerDays): Promise<void> {
  checkTimerDays(days);
  const content = newTimer(days, ctx.clock.now());
  await keepTimer(ctx, chat, content, ctx.account.address, true);
  const notice = await addNotice(ctx, target.into, content.id, content.sentAt, { type: "timer", by: ctx.account.address, ...timerOf(content) });
  // The chat list shows it as the chat's last line; a chat still to be made takes it when it is (outgoing-queue).
  const record = "conversation" in target ? await loadConversation(ctx, target.conversation) : undefined;
  if (record && notice) await saveConversation(ctx, withLast(record, notice));
  await enqueue(ctx, "peer" in target ? { content, peer: target.peer } : { content, conversation: target.conversation });
}

const timerOf = (content: TimerContent) => (content.days === undefined ? {} : { days: content.days });

function keepTimer(ctx: Pick<CoreContext, "store">, chat: ChatKey, content: TimerContent, by: Address, own: boolean): Promise<void> {
  return ctx.store.put(RETENTION + chat, { ...timerOf(content), at: content.sentAt, id: content.id, by, ...(own ? { own: true as const } : {}) } satisfies ChatTimer);
}

/**
 * How many days this device keeps a chat's messages (`null`: forever). A timer its own account set
 * holds as set, longer than the account's setting too; another member's can only shorten what the
 * account keeps: nobody makes a device keep messages longer than its owner chose.
 */
function keptDays(timer: ChatTimer | undefined, accountDays: number | null): number | null {
  if (timer?.days === undefined) return accountDays;
  if (timer.own || timer.at === undefined) return timer.days;
  if (timer.days === null || accountDays === null) return timer.days ?? accountDays;
  return Math.min(timer.days, accountDays);
}

/** The chat a conversation's timer belongs to: the friend of a 1:1, else the conversation. */
export const chatOfRecord = (record: Pick<ConversationRecord, "conversation" | "peer" | "kind">): ChatKey =>
  record.kind !== "group" && record.peer ? record.peer : record.conversation;

/**
 * A member's `timer` (its MLS sender is `sender`): the newest one holds, and each shows as a notice,
 * also as the chat's last line when nothing came after it. Returns the record with that line.
 */
export async function readTimer(ctx: CoreContext, record: ConversationRecord, received: TimerContent, sender: Address): Promise<ConversationRecord> {
  // A time to come is its sender's word only: taken as is, it would outrank every later change for good.
  const content = { ...received, sentAt: Math.min(received.sentAt, ctx.clock.now()) };
  const chat = chatOfRecord(record);
  const held = await ctx.store.get<ChatTimer>(RETENTION + chat);
  if (held?.at !== undefined && (held.at > content.sentAt || (held.at === content.sentAt && (held.id ?? "") >= content.id))) return record;
  await keepTimer(ctx, chat, content, sender, sender === ctx.account.address);
  const notice = await addNotice(ctx, record.conversation, content.id, content.sentAt, { type: "timer", by: sender, ...timerOf(content) });
  return notice ? withLast(record, notice) : record;
}

/**
 * When a message sent now into `chat` expires: as long as this device keeps the chat's messages
 * (its timer, else the account's setting). Sent with the message (`expiresAt`), so each receiver
 * deletes it then whatever it holds itself.
 */
export async function expiresAtFor(ctx: Pick<CoreContext, "store">, chat: ChatKey, accountDays: number | null, sentAt: number): Promise<number | undefined> {
  const days = keptDays(await ctx.store.get<ChatTimer>(RETENTION + chat), accountDays);
  return days === null ? undefined : sentAt + days * DAY_MS;
}

async function chatRetentions(ctx: Pick<CoreContext, "store">): Promise<Map<ChatKey, ChatTimer>> {
  const entries = await ctx.store.list<ChatTimer>(RETENTION);
  return new Map(entries.filter(([, entry]) => entry.days !== undefined).map(([key, entry]) => [key.slice(RETENTION.length), entry]));
}

/** What an expiry pass finds: the messages due now, and when the next one of those left is due. */
export interface ExpiryPlan {
  expired: MessageRecord[];
  next?: number;
}

/**
 * The stored messages past their time: their own `expiresAt` (the timer their sender had), or what
 * this device keeps of their chat (`keptDays`; `null`, forever, keeps all). A message still under its
 * pending name (`@friend`, no conversation yet) belongs to that friend's chat.
 */
export async function expiryPlan(ctx: Pick<CoreContext, "store">, accountDays: number | null, now: number): Promise<ExpiryPlan> {
  const overrides = await chatRetentions(ctx);
  if (accountDays === null && overrides.size === 0) return timedOnly(ctx, now);
  const chats = new Map((await listConversations(ctx)).map((c) => [c.conversation, chatOfRecord(c)]));
  // A first text still waiting for its conversation is the friend's chat's, as is history moved in for it.
  const chatOf = (conversation: string): ChatKey =>
    conversation.startsWith("@") ? conversation.slice(1) : (chatOfMoved(conversation) ?? chats.get(conversation) ?? conversation);
  const expired: MessageRecord[] = [];
  let next: number | undefined;
  for (const [, m] of await ctx.store.list<MessageRecord>("msg/")) {
    const chat = chatOf(m.conversation);
    const days = keptDays(overrides.get(chat), accountDays);
    const ends = [m.expiresAt, days === null ? undefined : m.at + days * DAY_MS].filter((t): t is number => t !== undefined);
    if (ends.length === 0) continue;
    const end = Math.min(...ends);
    if (end < now) expired.push(m);
    else next = Math.min(next ?? end, end);
  }
  return next === undefined ? { expired } : { expired, next };
}

/**
 * With no retention anywhere, only messages sent with a timer expire: read from their index, in
 * the order they expire, so a pass every minute (the extension's) costs what is due, not the store.
 */
async function timedOnly(ctx: Pick<CoreContext, "store">, now: number): Promise<ExpiryPlan> {
  const expired: MessageRecord[] = [];
  for (const [key, messageKey] of await ctx.store.list<string>(EXPIRING)) {
    const at = Number(key.slice(EXPIRING.length, EXPIRING.length + 15));
    if (at >= now) return { expired, next: at };
    const message = await ctx.store.get<MessageRecord>(messageKey);
    if (message) expired.push(message);
    // An entry whose message went another way (moved into its conversation, say) is dropped.
    else await ctx.store.delete(key);
  }
  return { expired };
}
