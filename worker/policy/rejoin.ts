import { EmsgError } from "../../shared/errors.js";
import type { Address } from "../../shared/address.js";

/**
 * Rejoining (PROTOCOL §8): a member device behind its group asks to be let back in, and the hub
 * orders a `rejoin` entry that an in-step member answers with a commit re-adding it. Each ask makes
 * some member commit, so an account may ask only so often, whatever its devices (a remote member's
 * device ids are its server's word). The budget is larger than the veto budget: a member that keeps
 * breaking one device's commits (or two that take turns) costs it a rejoin each time, and the
 * others can remove such a member.
 */
export const REJOINS_PER_WINDOW = 8;
export const REJOIN_WINDOW_MS = 24 * 3600_000;

/** Refuses a rejoin the hub must not order: from an account that is no member now, or over its budget. Pure. */
export function judgeRejoin(members: readonly Address[], from: Address, recentRejoins: number): void {
  if (!members.includes(from)) throw new EmsgError("forbidden", "Only a member's device can ask to be let back in.");
  if (recentRejoins >= REJOINS_PER_WINDOW) throw new EmsgError("rate_limited", "This account has asked to be let back in too often lately.");
}
