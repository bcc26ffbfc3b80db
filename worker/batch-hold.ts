import type { Domain } from "../shared/address.js";
import { EmsgError } from "../shared/errors.js";
import { MAX_BATCH_BYTES_APPLYING, MAX_PEER_BATCH_BYTES_APPLYING } from "../shared/wire/index.js";

/**
 * Bytes of federation batches being applied in this isolate, by peer and in all (PROTOCOL §7):
 * a peer may open many streams and send many POSTs at once, each parsed and held while applied.
 */
const applying = { total: 0, byPeer: new Map<Domain, number>() };

/**
 * Counts a batch of `bytes` from `from` (authenticated: a claimed name must not spend a real
 * peer's share) as being applied: the release to call once, when it is answered; null when it
 * would pass the peer's or the isolate's bound.
 */
export function holdBatch(from: Domain, bytes: number): (() => void) | null {
  const peer = applying.byPeer.get(from) ?? 0;
  if (peer + bytes > MAX_PEER_BATCH_BYTES_APPLYING || applying.total + bytes > MAX_BATCH_BYTES_APPLYING) return null;
  applying.byPeer.set(from, peer + bytes);
  applying.total += bytes;
  return () => {
    const left = applying.byPeer.get(from)! - bytes;
    if (left === 0) applying.byPeer.delete(from);
    else applying.byPeer.set(from, left);
    applying.total -= bytes;
  };
}

/** What a batch past the bounds is refused with. */
export function tooManyBatchBytes(): EmsgError {
  return new EmsgError("rate_limited", "This server is applying as many of your batches' bytes as it takes at once: send this one again once one is answered.");
}
