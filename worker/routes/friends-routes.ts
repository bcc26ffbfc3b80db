import { Hono } from "hono";
import { asAddress, domainOf, type Address } from "../../shared/address.js";
import { fromB64u } from "../../shared/base64url.js";
import { EmsgError } from "../../shared/errors.js";
import { verifyObject } from "../../shared/signed.js";
import {
  FriendRequestPostSchema,
  FriendResponsePostSchema,
  type SignedFriendResponse,
  type Verdict,
} from "../../shared/wire/index.js";
import type { Env } from "../env.js";
import type { DeviceAuth } from "../auth.js";
import { json, noContent } from "../http.js";
import { unwrap } from "../outcome.js";
import { accountOf, enqueueRemote, isLocal } from "../routing.js";
import { mustBeRegistered } from "../registry.js";
import { signedBody, signedOnly, type AppContext, type AppEnv } from "./context.js";

/** Friends and strangers (PROTOCOL §6, §9): the recipient's server applies the recipient's policy. */
export const friendsRoutes = new Hono<AppEnv>();

function peerOf(c: AppContext): Address {
  return asAddress(c.req.param("address"));
}

function mustBeOwn(auth: DeviceAuth, from: Address, accountKey: string, to: Address, expectTo: Address | null): void {
  if (from !== auth.address) throw new EmsgError("forbidden", `You cannot sign as ${from}.`);
  if (accountKey !== auth.accountKey) throw new EmsgError("unauthorized", "The object carries another account key than yours.");
  if (to === auth.address) throw new EmsgError("bad_request", "That is your own address.");
  if (expectTo !== null && to !== expectTo) throw new EmsgError("bad_request", `The object is addressed to ${to}, not ${expectTo}.`);
}

friendsRoutes.get("/friends", async (c) => {
  const auth = await signedOnly(c);
  return json({ friends: unwrap(await accountOf(c.env, auth.address).listFriends()) });
});

friendsRoutes.post("/friends/requests", async (c) => {
  const { auth, body } = await signedBody(c, FriendRequestPostSchema);
  const req = body.request.body;
  mustBeOwn(auth, req.from, req.accountKey, req.to, null);
  if (!verifyObject(fromB64u(req.accountKey), "friend-request", body.request)) throw new EmsgError("unauthorized", "The friend request's signature does not verify.");
  if (isLocal(c.env, req.to)) await mustBeRegistered(c.env, req.to);
  const self = accountOf(c.env, auth.address);
  unwrap(await self.requestSent(req.to, Date.now()));
  if (isLocal(c.env, req.to)) {
    const delivered = await accountOf(c.env, req.to).receiveFriendRequest(body.request, Date.now());
    if (!delivered.ok) {
      await self.unfriend(req.to);
      unwrap(delivered);
    }
  } else {
    await enqueueRemote(c.env, domainOf(req.to), [
      { item: { id: req.id, kind: "friend_request", signed: body.request }, bounceTo: auth.address, ref: req.id, to: req.to },
    ]);
  }
  return json({ accepted: true }, 202);
});

async function answer(c: AppContext, verdict: Verdict): Promise<Response> {
  const peer = peerOf(c);
  const { auth, body } = await signedBody(c, FriendResponsePostSchema);
  const res = body.response.body;
  mustBeOwn(auth, res.from, res.accountKey, res.to, peer);
  if (res.verdict !== verdict) throw new EmsgError("bad_request", `The response says ${res.verdict}, the path ${verdict}.`);
  if (!verifyObject(fromB64u(res.accountKey), "friend-response", body.response)) throw new EmsgError("unauthorized", "The friend response's signature does not verify.");
  unwrap(await accountOf(c.env, auth.address).answer(peer, verdict, Date.now()));
  await sendResponse(c.env, auth.address, peer, body.response);
  return noContent();
}

/** Local requesters hear at once (a refusal there changes nothing here); remote ones through the Outbox. */
async function sendResponse(env: Env, self: Address, peer: Address, response: SignedFriendResponse): Promise<void> {
  if (isLocal(env, peer)) {
    await accountOf(env, peer).receiveFriendResponse(response, Date.now());
    return;
  }
  await enqueueRemote(env, domainOf(peer), [
    { item: { id: response.body.id, kind: "friend_response", signed: response }, bounceTo: self, ref: response.body.id, to: peer },
  ]);
}

friendsRoutes.post("/friends/:address/accept", (c) => answer(c, "accept"));
friendsRoutes.post("/friends/:address/decline", (c) => answer(c, "decline"));

friendsRoutes.post("/friends/:address/block", async (c) => {
  const peer = peerOf(c);
  const auth = await signedOnly(c);
  unwrap(await accountOf(c.env, auth.address).block(peer, Date.now()));
  return noContent();
});

friendsRoutes.delete("/friends/:address", async (c) => {
  const peer = peerOf(c);
  const auth = await signedOnly(c);
  unwrap(await accountOf(c.env, auth.address).unfriend(peer));
  return noContent();
});
