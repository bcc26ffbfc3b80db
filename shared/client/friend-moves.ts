import type { Address } from "../address.js";
import { fromB64u } from "../base64url.js";
import { EmsgError, RETRYABLE } from "../errors.js";
import { randomId16 } from "../ids.js";
import { mayAdopt, movedVerifies } from "../move.js";
import { signObject } from "../signed.js";
import type { SignedMoved } from "../wire/account.js";
import type { FriendRequestBody } from "../wire/friends.js";
import type { CoreContext } from "./context.js";
import { loadConversation } from "./conversation-record.js";
import { type Friend, getFriend, postResponse, saveFriend } from "./friends.js";

/**
 * Friends who move, seen from both sides (PROTOCOL §11): believing a friend's `moved` notice,
 * following a move when writing, introducing one's own new address to restored friends, and the
 * accept a client owes a friend who asks again with the key already pinned.
 */

/** Errors that mean "try again later". */
export function isTransient(error: unknown): boolean {
  return error instanceof EmsgError && (RETRYABLE.has(error.code) || error.code === "unavailable");
}

/**
 * A friend's move, from the `moved` item their old server delivered (PROTOCOL §11: that server took
 * it only from a current device of theirs, never from the request a new address sends), believed
 * only when signed by the key pinned for them. `to` becomes a friend with the new key (unless
 * blocked, or a friend pinned with another key; a request from `to` waiting here is so accepted)
 * and `from` is marked moved. An accept goes to `to` at once: the new address's server holds us as
 * asked (the introduction), and learns from it that we are friends before anything we write arrives
 * there. Returns whether it was applied; anything else is ignored, as a forgery must be.
 */
export async function receiveMoved(ctx: CoreContext, notice: SignedMoved): Promise<boolean> {
  const { from, to, accountKey, at } = notice.body;
  const self = ctx.account.address;
  if (from === self || to === self) return false;
  const old = await getFriend(ctx, from);
  if (old?.state !== "friend" || !movedVerifies(notice, old.accountKey)) return false;
  if (old.movedAt !== undefined && old.movedAt > at) return false;
  const existing = await getFriend(ctx, to);
  if (existing && !mayAdopt(existing, accountKey)) return false;
  const since = existing?.state === "friend" ? existing.since : at;
  await saveFriend(ctx, { ...existing, address: to, accountKey, state: "friend", since, movedFrom: from });
  await oweAccept(ctx, to);
  await saveFriend(ctx, { ...old, movedTo: to, movedAt: at });
  return true;
}

/** Where a friend lives now: their address after following every move (a loop stops where it began). */
export async function currentAddress(ctx: CoreContext, address: Address): Promise<Address> {
  const seen = new Set<Address>([address]);
  let at = address;
  for (let friend = await getFriend(ctx, at); friend?.movedTo && !seen.has(friend.movedTo); friend = await getFriend(ctx, at)) {
    at = friend.movedTo;
    seen.add(at);
  }
  return at;
}

/**
 * What a send to `target` means now: a friend who moved, addressed by their old address or by the
 * 1:1 conversation with it, is written to at the new address (a new conversation there).
 */
export async function followMove(ctx: CoreContext, target: string): Promise<string> {
  const peer = target.includes("/") ? (await loadConversation(ctx, target))?.peer : (target as Address);
  if (!peer) return target;
  const now = await currentAddress(ctx, peer);
  return now === peer ? target : now;
}

const OWED = "owed-accept/";

/** A friend asked again with the key we pinned: they lost the friendship (a move), so we say yes. */
export function oweAccept(ctx: CoreContext, to: Address): Promise<void> {
  return ctx.store.put(`${OWED}${to}`, { since: ctx.clock.now() });
}

/** Sends the accepts owed; stops at the first that must wait for the network. */
export async function payOwedAccepts(ctx: CoreContext): Promise<void> {
  for (const [entry] of await ctx.store.list(OWED)) {
    const to = entry.slice(OWED.length) as Address;
    try {
      await postResponse(ctx, to, "accept");
    } catch (error) {
      if (isTransient(error)) return;
      console.warn(`emsg: the automatic accept for ${to} was refused: ${(error as Error).message}`);
    }
    await ctx.store.delete(entry);
  }
}

/**
 * From the new address, the friend request that tells a restored friend of the move (PROTOCOL
 * §11): it carries the notice, so their server and client know it is us. Returns the request id.
 */
export async function introduceMove(ctx: CoreContext, friend: Friend, notice: SignedMoved): Promise<string> {
  const body: FriendRequestBody = {
    from: ctx.account.address,
    to: friend.address,
    accountKey: ctx.account.accountPublicKey,
    created: ctx.clock.now(),
    id: randomId16(),
    note: "",
    moved: notice,
  };
  const request = signObject(fromB64u(ctx.account.accountPrivateKey), "friend-request", body);
  await ctx.api.call("POST", "/friends/requests", { request });
  await saveFriend(ctx, { ...friend, requestId: body.id });
  return body.id;
}
