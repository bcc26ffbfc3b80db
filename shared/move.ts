import type { Address } from "./address.js";
import { fromB64u, toB64u } from "./base64url.js";
import { keyPairFromSeed } from "./identity.js";
import { signObject, verifyObject } from "./signed.js";
import type { MovedBody, SignedMoved } from "./wire/account.js";
import type { FriendState, SignedFriendRequest } from "./wire/friends.js";

/**
 * Moving an account to another address (PROTOCOL §11), as pure functions shared by servers and
 * clients: the `moved` notice signed by the old account key, and what a notice vouches for.
 */

/** How far a notice's `at` may be from the old server's clock when it is handed in. */
export const MOVE_WINDOW_MS = 300_000;

/** Signs `moved { from, to, accountKey, at }` with the old account key (its 32-byte seed, b64u). */
export function signMoved(oldPrivateKey: string, body: { from: Address; to: Address; accountKey: string; at: number }): SignedMoved {
  return signObject(fromB64u(oldPrivateKey), "moved", body) as SignedMoved;
}

/** The public key (b64u) of an account private key (seed, b64u). */
export function publicKeyOf(privateKey: string): string {
  return toB64u(keyPairFromSeed(fromB64u(privateKey)).publicKey);
}

export function isFresh(at: number, now: number): boolean {
  return Math.abs(now - at) <= MOVE_WINDOW_MS;
}

/** A well-formed move: to another address. */
export function isMove(body: MovedBody): boolean {
  return body.from !== body.to;
}

/** The notice is signed by the key pinned (or stored) for its `from`. */
export function movedVerifies(notice: SignedMoved, accountKey: string): boolean {
  return accountKey !== "" && isMove(notice.body) && verifyObject(fromB64u(accountKey), "moved", notice);
}

/**
 * Whether a verified move may make `to` a friend with the notice's key, given what the receiver
 * already knows of `to`: nothing, a pending request either way, or a friend with that very key.
 * A blocked address stays blocked and a friend pinned with another key keeps it.
 */
export function mayAdopt(existing: { state: FriendState | string; accountKey: string } | undefined, newKey: string): boolean {
  if (!existing) return true;
  if (existing.state === "outgoing" || existing.state === "incoming" || existing.state === "held") return true;
  return existing.state === "friend" && existing.accountKey === newKey;
}

/**
 * The `moved` member of a friend request (PROTOCOL §9) when it is about the requester: `to` is the
 * request's `from` and `accountKey` the request's key. The receiver still checks it against the key
 * it pinned for the notice's `from` (`movedVerifies`) before believing it.
 */
export function carriedMove(request: SignedFriendRequest): SignedMoved | null {
  const moved = request.body.moved;
  if (!moved) return null;
  const { body } = moved;
  return body.to === request.body.from && body.accountKey === request.body.accountKey && isMove(body) ? moved : null;
}
