import { describe, expect, it } from "vitest";
import { toB64u } from "../../shared/base64url.js";
import { befriend, call, enc, errorOf, friendRequest, friendResponse, registered } from "./harness.js";

async function friendsOf(d: Parameters<typeof call>[0]) {
  return ((await (await call(d, "GET", "/friends")).json()) as { friends: { address: string; state: string; accountKey: string }[] }).friends;
}

async function mail(d: Parameters<typeof call>[0]) {
  return ((await (await call(d, "GET", "/mailbox?after=0")).json()) as { items: { kind: string; seq: number }[] }).items;
}

describe("friends", () => {
  it("delivers a request, and accepting pins both account keys", async () => {
    const alice = await registered("alice");
    const bob = await registered("bob");
    const req = friendRequest(alice, bob.address, "it's me");
    expect((await call(alice, "POST", "/friends/requests", { request: req })).status).toBe(202);
    expect(await friendsOf(alice)).toMatchObject([{ address: bob.address, state: "outgoing", accountKey: "" }]);
    expect(await friendsOf(bob)).toMatchObject([{ address: alice.address, state: "incoming", accountKey: toB64u(alice.account.publicKey) }]);
    expect(await mail(bob)).toMatchObject([{ kind: "friend_request", signed: req }]);

    const accept = await call(bob, "POST", `/friends/${enc(alice.address)}/accept`, { response: friendResponse(bob, alice.address, "accept") });
    expect(accept.status).toBe(204);
    expect(await friendsOf(alice)).toMatchObject([{ address: bob.address, state: "friend", accountKey: toB64u(bob.account.publicKey) }]);
    expect(await friendsOf(bob)).toMatchObject([{ address: alice.address, state: "friend" }]);
    expect((await mail(alice)).map((i) => i.kind)).toEqual(["friend_response"]);
  });

  it("refuses strangers under refuse, and holds them under review", async () => {
    const shy = await registered("shy");
    const careful = await registered("careful");
    const stranger = await registered("stranger");
    await call(shy, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    await call(careful, "PUT", "/account/settings", { strangers: "review", retentionDays: null });

    const refused = await call(stranger, "POST", "/friends/requests", { request: friendRequest(stranger, shy.address) });
    expect(refused.status).toBe(403);
    expect(await errorOf(refused)).toBe("stranger_refused");
    expect(await friendsOf(stranger)).toEqual([]);

    const held = await call(stranger, "POST", "/friends/requests", { request: friendRequest(stranger, careful.address, "please") });
    expect(held.status).toBe(202);
    expect(await friendsOf(careful)).toMatchObject([{ address: stranger.address, state: "held", request: { body: { note: "please" } } }]);
    expect(await mail(careful)).toEqual([]);
    const accept = await call(careful, "POST", `/friends/${enc(stranger.address)}/accept`, { response: friendResponse(careful, stranger.address, "accept") });
    expect(accept.status).toBe(204);
    expect(await friendsOf(stranger)).toMatchObject([{ address: careful.address, state: "friend" }]);
  });

  it("applies a policy changed after mail came in to the next request at once", async () => {
    const moody = await registered("moody");
    const first = await registered("firststranger");
    const second = await registered("secondstranger");
    expect((await call(first, "POST", "/friends/requests", { request: friendRequest(first, moody.address) })).status).toBe(202);
    expect(await mail(moody)).toMatchObject([{ kind: "friend_request" }]);
    await call(moody, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    const refused = await call(second, "POST", "/friends/requests", { request: friendRequest(second, moody.address) });
    expect(await errorOf(refused)).toBe("stranger_refused");
    expect((await mail(moody)).map((i) => i.kind)).toEqual(["friend_request"]);
  });

  it("lets someone you asked answer even when you refuse strangers", async () => {
    const shy = await registered("asker");
    const other = await registered("asked");
    await call(shy, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    await befriend(shy, other);
    expect(await friendsOf(shy)).toMatchObject([{ address: other.address, state: "friend" }]);
  });

  it("answers a blocked sender with forbidden", async () => {
    const blocker = await registered("blocker");
    const pest = await registered("pest");
    expect((await call(blocker, "POST", `/friends/${enc(pest.address)}/block`)).status).toBe(204);
    const res = await call(pest, "POST", "/friends/requests", { request: friendRequest(pest, blocker.address) });
    expect(res.status).toBe(403);
    expect(await errorOf(res)).toBe("forbidden");
    expect(await friendsOf(blocker)).toMatchObject([{ address: pest.address, state: "blocked" }]);
  });

  it("declining forgets the request on both sides", async () => {
    const a = await registered("decl");
    const b = await registered("decl");
    await call(a, "POST", "/friends/requests", { request: friendRequest(a, b.address) });
    const res = await call(b, "POST", `/friends/${enc(a.address)}/decline`, { response: friendResponse(b, a.address, "decline") });
    expect(res.status).toBe(204);
    expect(await friendsOf(a)).toEqual([]);
    expect(await friendsOf(b)).toEqual([]);
  });

  it("refuses requests signed for someone else, and unsolicited answers", async () => {
    const a = await registered("forge");
    const b = await registered("forge");
    const c = await registered("forge");
    const asB = await call(a, "POST", "/friends/requests", { request: friendRequest(b, c.address) });
    expect(asB.status).toBe(403);
    const unsolicited = await call(b, "POST", `/friends/${enc(a.address)}/accept`, { response: friendResponse(b, a.address, "accept") });
    expect(unsolicited.status).toBe(404);
    const mismatched = await call(b, "POST", `/friends/${enc(a.address)}/decline`, { response: friendResponse(b, a.address, "accept") });
    expect(mismatched.status).toBe(400);
  });

  it("removes a friend", async () => {
    const a = await registered("rm");
    const b = await registered("rm");
    await befriend(a, b);
    expect((await call(a, "DELETE", `/friends/${enc(b.address)}`)).status).toBe(204);
    expect(await friendsOf(a)).toEqual([]);
    expect((await call(a, "DELETE", `/friends/${enc(b.address)}`)).status).toBe(404);
  });
});
