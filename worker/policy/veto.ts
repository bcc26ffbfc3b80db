import { EmsgError } from "../../shared/errors.js";
import type { Address } from "../../shared/address.js";
import type { Veto } from "../../shared/wire/conversation.js";

/**
 * What a hub keeps of each of its latest accepted commits so that a veto can withdraw it
 * (PROTOCOL §8, Vetoes): who submitted it, where it is, and the hub's members before and after it.
 */
export interface RecentCommit {
  seq: number;
  id: string;
  sender: Address;
  deviceId: string;
  /** The epoch it was submitted at, which a withdrawal puts back. */
  epoch: number;
  before: readonly Address[];
  after: readonly Address[];
}

/** Commits a hub keeps for vetoes, and clients keep their state before: the most a veto withdraws at once. */
export const COMMITS_KEPT = 4;

/** Accepted vetoes one account may make in VETO_WINDOW_MS, whatever its devices (a remote member's device ids are its server's word). */
export const VETOES_PER_WINDOW = 3;
export const VETO_WINDOW_MS = 24 * 3600_000;

/**
 * The commits `from`'s device withdraws with `veto` (the named one and every later one), or the
 * typed refusal. `recent`: the hub's latest commits since its last withdrawal, oldest first, at
 * most COMMITS_KEPT; `members`: the hub's members now. The named commit must be one of them, and
 * every commit after it by the same account (so two garbage commits in a row cannot put the first
 * out of reach, and a veto undoes one account's run of commits, never others' work on top of it);
 * not the one that made the group (nobody but its creator held the group before it); no commit
 * withdrawn submitted by the vetoing device; the vetoing account a member before the named commit
 * and now, so a device cannot veto its own account's removal, nor an account added veto its own
 * addition; at most VETOES_PER_WINDOW accepted per account. Pure.
 */
export function judgeVeto(recent: readonly RecentCommit[], members: readonly Address[], from: Address, deviceId: string, veto: Veto, recentVetoes: number): RecentCommit[] {
  const index = recent.findIndex((c) => c.seq === veto.hubSeq && c.epoch === veto.epoch);
  if (index < 0) throw new EmsgError("conflict", "That commit is not one of the conversation's latest, or was withdrawn already.");
  const run = recent.slice(index);
  const named = run[0]!;
  if (run.some((c) => c.sender !== named.sender)) throw new EmsgError("conflict", "Another account committed after that commit: it can no longer be vetoed.");
  if (named.epoch === 0) throw new EmsgError("forbidden", "The commit that made the group cannot be vetoed.");
  if (run.some((c) => c.sender === from && c.deviceId === deviceId)) throw new EmsgError("forbidden", "A device cannot veto its own commit.");
  if (!named.before.includes(from) || !members.includes(from)) {
    throw new EmsgError("forbidden", "Only an account that was a member before the commit and still is can veto it.");
  }
  if (recentVetoes >= VETOES_PER_WINDOW) throw new EmsgError("rate_limited", "This account has vetoed too many commits lately.");
  return run;
}
