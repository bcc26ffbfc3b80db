import { RETRYABLE, type ErrorCode } from "../../shared/errors.js";

/** Outbox retry schedule (PROTOCOL §7): 1 s doubling to 10 min, for up to the mailbox TTL. */
export const FIRST_RETRY_MS = 1000;
export const MAX_RETRY_MS = 10 * 60 * 1000;

export function retryDelay(attempts: number): number {
  return Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempts - 1));
}

export type DeliveryFate = "done" | "retry" | "bounce";

/** What to do with a queued item after an attempt; `error` undefined means delivered. */
export function fateOf(error: ErrorCode | undefined, firstQueuedAt: number, now: number, ttlMs: number): DeliveryFate {
  if (error === undefined) return "done";
  if (!RETRYABLE.has(error)) return "bounce";
  return now - firstQueuedAt >= ttlMs ? "bounce" : "retry";
}
