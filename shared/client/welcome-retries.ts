import { EmsgError, RETRYABLE } from "../errors.js";
import type { ConvPayload } from "../wire/conversation.js";
import type { CoreContext } from "./context.js";

/**
 * Welcomes whose join failed for now: a device list refused as `rate_limited` (see device-lists),
 * or a server busy. A Welcome comes once, so one dropped would cost this device the conversation
 * for good; it is kept instead, the conversation's later items wait behind it, and it is tried
 * again, backing off, when due (EmsgClient.nextRetry) and whenever the client applies mail or
 * syncs, for up to a day.
 */
const WAITING = "welcomes/waiting";
const FIRST_RETRY_MS = 5_000;
const MOST_RETRY_MS = 5 * 60_000;
const GIVE_UP_MS = 24 * 60 * 60_000;
/** Kept at most: Welcomes need this device's KeyPackages, so a flood of them is bounded anyway; this bounds the record too. */
export const MOST_WAITING = 200;

interface WaitingWelcome {
  item: ConvPayload;
  /** When its first join failed. */
  since: number;
  attempts: number;
  /** Not tried again before this. */
  next: number;
}

type Waiting = Record<string, WaitingWelcome>;

/** Whether a join's failure is one to try again: a Welcome refused for now, not for good. */
export function mayRetryJoin(item: ConvPayload, error: unknown): boolean {
  return item.type === "welcome" && error instanceof EmsgError && RETRYABLE.has(error.code);
}

async function waiting(ctx: Pick<CoreContext, "store">): Promise<Waiting> {
  return (await ctx.store.get<Waiting>(WAITING)) ?? {};
}

async function save(ctx: Pick<CoreContext, "store">, all: Waiting): Promise<void> {
  await (Object.keys(all).length > 0 ? ctx.store.put(WAITING, all) : ctx.store.delete(WAITING));
}

/**
 * Keeps a Welcome whose join failed for now (a newer one of its conversation takes its place).
 * Returns the conversations whose Welcome was dropped to keep at most MOST_WAITING.
 */
export async function keepWelcome(ctx: Pick<CoreContext, "store" | "clock">, item: ConvPayload): Promise<string[]> {
  const all = await waiting(ctx);
  const before = all[item.conversation];
  const now = ctx.clock.now();
  const attempts = (before?.attempts ?? 0) + 1;
  all[item.conversation] = { item, since: before?.since ?? now, attempts, next: now + Math.min(MOST_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempts - 1)) };
  // The longest waiting go first: their day is nearest its end.
  const over = Object.keys(all).length - MOST_WAITING;
  const dropped = over > 0 ? Object.entries(all).sort(([, a], [, b]) => a.since - b.since).slice(0, over).map(([conversation]) => conversation) : [];
  for (const conversation of dropped) delete all[conversation];
  await save(ctx, all);
  return dropped;
}

/** A Welcome of `conversation` was taken, or refused for good: none waits any more. */
export async function forgetWelcome(ctx: Pick<CoreContext, "store">, conversation: string): Promise<void> {
  const all = await waiting(ctx);
  if (!Object.hasOwn(all, conversation)) return;
  delete all[conversation];
  await save(ctx, all);
}

export async function welcomeWaits(ctx: Pick<CoreContext, "store">, conversation: string): Promise<boolean> {
  return Object.hasOwn(await waiting(ctx), conversation);
}

/**
 * The Welcomes due to be tried again now, those waited for too long (forgotten here), and when the
 * next of the others is due (undefined: none waits).
 */
export async function dueWelcomes(ctx: Pick<CoreContext, "store" | "clock">): Promise<{ due: ConvPayload[]; expired: ConvPayload[]; next?: number }> {
  const all = await waiting(ctx);
  const now = ctx.clock.now();
  const due: ConvPayload[] = [];
  const expired: ConvPayload[] = [];
  let next: number | undefined;
  for (const [conversation, w] of Object.entries(all)) {
    if (now - w.since > GIVE_UP_MS) {
      expired.push(w.item);
      delete all[conversation];
    } else if (w.next <= now) due.push(w.item);
    else next = Math.min(next ?? w.next, w.next);
  }
  if (expired.length > 0) await save(ctx, all);
  return { due, expired, ...(next === undefined ? {} : { next }) };
}
