import { EmsgError } from "../../shared/errors.js";
import type { Address } from "../../shared/address.js";
import type { Veto } from "../../shared/wire/conversation.js";

/**
 * What a hub keeps of its latest accepted commit so that a veto can withdraw it (PROTOCOL §8,
 * Vetoes): who submitted it, where it is, and the hub's state before and after it.
 */
export interface LatestCommit {
  seq: number;
  id: string;
  sender: Address;
  deviceId: string;
  /** The epoch it was submitted at, which a withdrawal puts back. */
  epoch: number;
  before: readonly Address[];
  after: readonly Address[];
}

/** Accepted vetoes one device may make in VETO_WINDOW_MS. */
export const VETOES_PER_WINDOW = 3;
export const VETO_WINDOW_MS = 24 * 3600_000;

/**
 * Whether `from`'s device may withdraw `latest` with `veto` (throws the typed refusal). Only the
 * latest commit, named exactly; not one that made the group (nobody but its creator held the group
 * before it); not by the device that submitted it; only by an account that was a member before it
 * and still is after it, so a device cannot veto its own account's removal, nor an account the
 * commit added veto its own addition; at most VETOES_PER_WINDOW accepted per device. Pure.
 */
export function judgeVeto(latest: LatestCommit | undefined, from: Address, deviceId: string, veto: Veto, recentVetoes: number): void {
  if (!latest || latest.seq !== veto.hubSeq || latest.epoch !== veto.epoch) {
    throw new EmsgError("conflict", "Only the conversation's latest commit can be vetoed, and this is not it.");
  }
  if (latest.epoch === 0) throw new EmsgError("forbidden", "The commit that made the group cannot be vetoed.");
  if (latest.sender === from && latest.deviceId === deviceId) throw new EmsgError("forbidden", "A device cannot veto its own commit.");
  if (!latest.before.includes(from) || !latest.after.includes(from)) {
    throw new EmsgError("forbidden", "Only an account that was a member before the commit and still is after it can veto it.");
  }
  if (recentVetoes >= VETOES_PER_WINDOW) throw new EmsgError("rate_limited", "This device has vetoed too many commits lately.");
}
