import * as v from "valibot";
import type { Address } from "../address.js";
import { fromB64u } from "../base64url.js";
import { EmsgError } from "../errors.js";
import { randomId16 } from "../ids.js";
import { signObject, verifyObject } from "../signed.js";
import {
  type FriendRequestBody,
  type FriendResponseBody,
  type FriendState,
  FriendsListSchema,
  SignedFriendRequestSchema,
  SignedFriendResponseSchema,
  type Verdict,
} from "../wire/friends.js";
import { DeviceListResponseSchema, type SignedDeletion } from "../wire/account.js";
import type { CoreContext } from "./context.js";
import { oweAccept } from "./friend-moves.js";

/**
 * A person as this device knows them. Beyond the server's states: `declined` (one side said no)
 * and `gone` (they deleted their account; a notice signed by their pinned key said so).
 */
export interface Friend {
  address: Address;
  /** The pinned account key (b64u); empty while an outgoing request is unanswered. */
  accountKey: string;
  state: FriendState | "declined" | "gone";
  since: number;
  note?: string;
  /** Set when a request we sent came back undelivered, e.g. `stranger_refused`. */
  bounced?: string;
  /** Id of the request we sent, to match a bounce to it. */
  requestId?: string;
  /** They moved to this address (a `moved` notice signed by the key pinned here said so, §11). */
  movedTo?: Address;
  /** When that notice was signed; an older one is ignored. */
  movedAt?: number;
  /** This address is where a friend moved from there. */
  movedFrom?: Address;
}

const key = (address: string) => `friend/${address}`;

export function getFriend(ctx: CoreContext, address: Address): Promise<Friend | undefined> {
  return ctx.store.get<Friend>(key(address));
}

export async function saveFriend(ctx: CoreContext, friend: Friend): Promise<void> {
  await ctx.store.put(key(friend.address), friend);
  ctx.events.emit("friend", friend);
}

export async function listFriends(ctx: Pick<CoreContext, "store">): Promise<Friend[]> {
  return (await ctx.store.list<Friend>("friend/")).map(([, friend]) => friend);
}

/** The account key pinned for an address, if it is a friend. */
export async function pinnedKey(ctx: CoreContext, address: Address): Promise<string | undefined> {
  const friend = await getFriend(ctx, address);
  return friend?.state === "friend" ? friend.accountKey : undefined;
}

export async function sendFriendRequest(ctx: CoreContext, to: Address, note: string): Promise<Friend> {
  if (to === ctx.account.address) throw new EmsgError("bad_request", "You cannot befriend yourself.");
  const existing = await getFriend(ctx, to);
  if (existing?.state === "friend") return existing;
  if (existing?.state === "incoming" || existing?.state === "held") return respond(ctx, to, "accept");
  const body: FriendRequestBody = {
    from: ctx.account.address,
    to,
    accountKey: ctx.account.accountPublicKey,
    created: ctx.clock.now(),
    id: randomId16(),
    note,
  };
  const request = signObject(fromB64u(ctx.account.accountPrivateKey), "friend-request", body);
  // Kept before it is sent: the refusal can come back over the mailbox socket before the server's
  // answer does, and a bounce is taken only for the request this device knows it sent.
  const friend: Friend = { address: to, accountKey: "", state: "outgoing", since: body.created, note, requestId: body.id };
  await ctx.store.put(key(to), friend);
  try {
    await ctx.api.call("POST", "/friends/requests", { request });
  } catch (error) {
    // Not sent: the device keeps what it had.
    if (existing) await ctx.store.put(key(to), existing);
    else await ctx.store.delete(key(to));
    throw error;
  }
  const sent = (await getFriend(ctx, to)) ?? friend;
  ctx.events.emit("friend", sent);
  return sent;
}

/** What an address's home server says of it; see accountStanding. */
export type AccountStanding = "exists" | "none" | "unreachable";

/**
 * What `address`'s home server says of it, asked through our own server (the device-list look-up):
 * a request to an address nobody registered is only refused later, as a bounce. `unreachable`
 * when that server cannot be reached now (a request waits for it, and comes back if it never
 * answers); any other failure to ask counts as `exists`: the request itself says so in time.
 */
export async function accountStanding(ctx: CoreContext, address: Address): Promise<AccountStanding> {
  try {
    await ctx.api.call("POST", "/directory/devices", { address }, DeviceListResponseSchema);
    return "exists";
  } catch (error) {
    if (!(error instanceof EmsgError)) throw error;
    if (error.code === "not_found") return "none";
    if (error.code === "peer_unreachable") return "unreachable";
    console.warn(`emsg: could not ask whether ${address} exists: ${error.message}`);
    return "exists";
  }
}

/** Signs and sends an answer to `to`'s request; the server checks that one is waiting. */
export async function postResponse(ctx: CoreContext, to: Address, verdict: Verdict): Promise<FriendResponseBody> {
  const body: FriendResponseBody = {
    from: ctx.account.address,
    to,
    accountKey: ctx.account.accountPublicKey,
    created: ctx.clock.now(),
    id: randomId16(),
    verdict,
  };
  const response = signObject(fromB64u(ctx.account.accountPrivateKey), "friend-response", body);
  await ctx.api.call("POST", `/friends/${encodeURIComponent(to)}/${verdict}`, { response });
  return body;
}

/** Accepts or declines a request someone sent us. */
export async function respond(ctx: CoreContext, to: Address, verdict: Verdict): Promise<Friend> {
  const friend = await getFriend(ctx, to);
  if (!friend || (friend.state !== "incoming" && friend.state !== "held")) {
    throw new EmsgError("not_found", `There is no friend request from ${to}.`);
  }
  const body = await postResponse(ctx, to, verdict);
  if (verdict === "decline") {
    await ctx.store.delete(key(to));
    const declined: Friend = { ...friend, state: "declined", since: body.created };
    ctx.events.emit("friend", declined);
    return declined;
  }
  const accepted: Friend = { ...friend, state: "friend", since: body.created };
  await saveFriend(ctx, accepted);
  return accepted;
}

export async function block(ctx: CoreContext, address: Address): Promise<Friend> {
  await ctx.api.call("POST", `/friends/${encodeURIComponent(address)}/block`);
  const friend: Friend = { address, accountKey: (await getFriend(ctx, address))?.accountKey ?? "", state: "blocked", since: ctx.clock.now() };
  await saveFriend(ctx, friend);
  return friend;
}

/**
 * Ends a friendship (or drops a request): the account's server forgets the address (PROTOCOL §6,
 * `DELETE /friends/{address}`) and so does this device. Chats with them stay readable here; writing
 * to them needs a new friend request.
 */
export async function removeFriend(ctx: CoreContext, address: Address): Promise<void> {
  await ctx.api.call("DELETE", `/friends/${encodeURIComponent(address)}`);
  await ctx.store.delete(key(address));
}

/**
 * Takes back a request we sent that is unanswered or came back: the server forgets it (PROTOCOL §6,
 * `DELETE /friends/{address}`) and so does this device. The server already dropped one that bounced,
 * so its `not_found` means done. Told as `declined`, the event a list drops a person on.
 */
export async function withdrawFriendRequest(ctx: CoreContext, address: Address): Promise<void> {
  const friend = await getFriend(ctx, address);
  if (friend?.state !== "outgoing") throw new EmsgError("not_found", `There is no request of yours to ${address}.`);
  try {
    await ctx.api.call("DELETE", `/friends/${encodeURIComponent(address)}`);
  } catch (error) {
    if (!(error instanceof EmsgError && error.code === "not_found")) throw error;
  }
  await ctx.store.delete(key(address));
  ctx.events.emit("friend", { ...friend, state: "declined", since: ctx.clock.now() });
}

/**
 * A friend request from the mailbox: self-certifying, so its signature is checked with the key it
 * carries. A `moved` member it carries is not believed here: the account key alone signs it, which a
 * device the friend removed still holds, so only the old server's `moved` item moves a friend (§11).
 * Until it comes, the request waits as any other does.
 */
export async function receiveFriendRequest(ctx: CoreContext, signed: unknown, at: number): Promise<void> {
  const request = v.parse(SignedFriendRequestSchema, signed);
  const body = request.body;
  if (body.to !== ctx.account.address) return;
  if (!verifyObject(fromB64u(body.accountKey), "friend-request", request)) return;
  const existing = await getFriend(ctx, body.from);
  if (existing?.state === "blocked") return;
  if (existing?.state === "friend" && existing.accountKey === body.accountKey) return oweAccept(ctx, body.from);
  await saveFriend(ctx, { address: body.from, accountKey: body.accountKey, state: "incoming", since: at, note: body.note });
}

/**
 * The answer to a request we sent. One this device knows nothing of came from a request another
 * device of the account sent (the server passes on only answers to the account's own requests);
 * an answer to someone this device knows in another state is ignored.
 */
export async function receiveFriendResponse(ctx: CoreContext, signed: unknown, at: number): Promise<void> {
  const response = v.parse(SignedFriendResponseSchema, signed);
  const body = response.body;
  if (body.to !== ctx.account.address) return;
  if (!verifyObject(fromB64u(body.accountKey), "friend-response", response)) return;
  const existing: Friend = (await getFriend(ctx, body.from)) ?? { address: body.from, accountKey: "", state: "outgoing", since: at };
  if (existing.state !== "outgoing") return;
  if (body.verdict === "decline") {
    await saveFriend(ctx, { ...existing, state: "declined", since: at });
    return;
  }
  await saveFriend(ctx, { ...existing, accountKey: body.accountKey, state: "friend", since: at });
}

/** A friend deleted their account; believed only when signed by the key we pinned for them. */
export async function receiveDeleted(ctx: CoreContext, signed: SignedDeletion): Promise<void> {
  const friend = await getFriend(ctx, signed.body.address);
  if (!friend?.accountKey) return;
  if (!verifyObject(fromB64u(friend.accountKey), "deleted", signed)) return;
  await saveFriend(ctx, { ...friend, state: "gone", since: signed.body.at });
}

/** Something we sent came back: if it was a friend request, say so on that friend. */
export async function receiveFriendBounce(ctx: CoreContext, ref: string, to: Address, error: string): Promise<boolean> {
  const friend = await getFriend(ctx, to);
  if (friend?.requestId !== ref) return false;
  await saveFriend(ctx, { ...friend, bounced: error });
  return true;
}

/**
 * Requests the server held for review (strangers = `review`) never pass through the mailbox;
 * they are read from the server's friend list, checked like any request, and shown as `held`.
 */
export async function fetchHeldRequests(ctx: CoreContext): Promise<void> {
  const { friends } = await ctx.api.call("GET", "/friends", undefined, FriendsListSchema);
  for (const entry of friends) {
    // Another device of the account accepted a request this device also holds: same key, now a friend.
    const known = await getFriend(ctx, entry.address);
    if (entry.state === "friend" && (known?.state === "incoming" || known?.state === "held") && known.accountKey === entry.accountKey) {
      await saveFriend(ctx, { ...known, state: "friend", since: entry.since });
      continue;
    }
    if (entry.state !== "held" || !entry.request || (await getFriend(ctx, entry.address))) continue;
    const { body } = entry.request;
    if (body.from !== entry.address || body.to !== ctx.account.address) continue;
    if (!verifyObject(fromB64u(body.accountKey), "friend-request", entry.request)) continue;
    await saveFriend(ctx, { address: body.from, accountKey: body.accountKey, state: "held", since: entry.since, note: body.note });
  }
}
