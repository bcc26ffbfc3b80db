import type { Store } from "../../shared/client/store.js";
import { deleteMessage, history } from "../../shared/client/messages.js";
import type { ConversationSummary } from "./core-types.js";

const DAY_MS = 86_400_000;

export interface ExpiryStep {
  conversation: string;
  /** Messages written before this moment (ms) are deleted. */
  cutoff: number;
}

/**
 * Which conversations to expire and from when. A conversation's own setting (kept per friend,
 * or per conversation for groups) wins over the account's; `null` (forever) means keep all.
 */
export function expiryPlan(
  conversations: readonly Pick<ConversationSummary, "conversation" | "peer">[],
  accountDays: number | null,
  overrides: ReadonlyMap<string, number | null>,
  now: number,
): ExpiryStep[] {
  const steps: ExpiryStep[] = [];
  for (const { conversation, peer } of conversations) {
    const key = peer ?? conversation;
    const days = overrides.has(key) ? overrides.get(key)! : accountDays;
    if (days !== null) steps.push({ conversation, cutoff: now - days * DAY_MS });
  }
  return steps;
}

/**
 * Deletes the messages the plan names from this device, through the core's own message functions.
 * Favorites are separate copies, so starred messages stay in the favorites view.
 */
export async function runExpiryPlan(store: Store, steps: readonly ExpiryStep[]): Promise<string[]> {
  const removed: string[] = [];
  for (const { conversation, cutoff } of steps) {
    for (const message of await history({ store }, conversation, { before: cutoff, limit: Number.MAX_SAFE_INTEGER })) {
      await deleteMessage({ store }, message);
      removed.push(message.id);
    }
  }
  return removed;
}
