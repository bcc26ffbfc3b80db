import { describe, expect, it } from "vitest";
import { SELF, runInDurableObject } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair, type KeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { FedItem, FriendEntry, MailItem, SignedFriendRequest, SignedMoved } from "../../shared/wire/index.js";
import {
  API,
  DOMAIN,
  PEER,
  accountStub,
  anotherDevice,
  befriend,
  call,
  enc,
  errorOf,
  friendRequest,
  newDevice,
  registered,
  sendFederated,
  trustedPeer,
  type Device,
} from "./harness.js";

/** `POST /account/moved` signed as `d`, as the importing device signs it with the exporting device's key (§11). */
function handIn(notice: unknown, d: Device): Promise<Response> {
  return call(d, "POST", "/account/moved", { notice });
}

/** The same request with no signature at all. */
function handInUnsigned(notice: unknown): Promise<Response> {
  return SELF.fetch(new Request(`${API}/account/moved`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ notice }) }));
}

function moved(signer: KeyPair, body: { from: Address; to: string; accountKey: string; at: number }): SignedMoved {
  return signObject(signer.privateKey, "moved", body) as SignedMoved;
}

function moveOf(d: Device, to: string, newKey: KeyPair, at = Date.now(), signer = d.account): SignedMoved {
  return moved(signer, { from: d.address, to, accountKey: toB64u(newKey.publicKey), at });
}

async function friendsOf(d: Device): Promise<FriendEntry[]> {
  return ((await (await call(d, "GET", "/friends")).json()) as { friends: FriendEntry[] }).friends;
}

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

/** A request from the new address that carries the move, as the importing client sends it. */
function introduction(newAddress: Address, newKey: KeyPair, to: Address, notice: SignedMoved): SignedFriendRequest {
  return signObject(newKey.privateKey, "friend-request", {
    from: newAddress,
    to,
    accountKey: toB64u(newKey.publicKey),
    created: Date.now(),
    id: randomId16(),
    note: "",
    moved: notice,
  }) as SignedFriendRequest;
}

describe("POST /account/moved, authorized by a current device and the account key", () => {
  it("takes a request signed by a device of the account whose notice the stored account key signed, tells friends, and makes the new address their friend", async () => {
    const alice = await registered("mv");
    const bob = await registered("mvfriend");
    await befriend(alice, bob);
    const newKey = generateKeyPair();
    const notice = moveOf(alice, "alice#im.bob.test", newKey);
    const res = await handIn(notice, alice);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ told: 1 });
    expect((await mail(bob)).filter((i) => i.kind === "moved")).toMatchObject([{ kind: "moved", signed: notice }]);
    expect(await friendsOf(bob)).toContainEqual(expect.objectContaining({ address: "alice#im.bob.test", state: "friend", accountKey: toB64u(newKey.publicKey) }));
    expect(await friendsOf(bob)).toContainEqual(expect.objectContaining({ address: alice.address, state: "friend" }));
  });

  it("refuses a notice signed by another key, even the account's device key", async () => {
    const alice = await registered("mvkey");
    const newKey = generateKeyPair();
    for (const signer of [generateKeyPair(), alice.device]) {
      const res = await handIn(moveOf(alice, "alice#im.bob.test", newKey, Date.now(), signer), alice);
      expect(res.status).toBe(401);
      expect(await errorOf(res)).toBe("unauthorized");
    }
  });

  it("refuses a stale notice and one from the future", async () => {
    const alice = await registered("mvstale");
    for (const at of [Date.now() - 301_000, Date.now() + 301_000]) {
      const res = await handIn(moveOf(alice, "alice#im.bob.test", generateKeyPair(), at), alice);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe("bad_request");
    }
  });

  it("refuses a notice about another account: signed by its key, or by a device of another account, remote, unknown, or itself", async () => {
    const alice = await registered("mvself");
    const mallory = await registered("mvmallory");
    const newKey = toB64u(generateKeyPair().publicKey);
    const aboutAlice = moved(mallory.account, { from: alice.address, to: "mallory#im.bob.test", accountKey: newKey, at: Date.now() });
    const byAlice = await handIn(aboutAlice, alice);
    expect([byAlice.status, await errorOf(byAlice)]).toEqual([401, "unauthorized"]);
    const byMallory = await handIn(aboutAlice, mallory);
    expect([byMallory.status, await errorOf(byMallory)]).toEqual([403, "forbidden"]);
    const remote = await handIn(moved(mallory.account, { from: `alice#${PEER}` as Address, to: "x#im.bob.test", accountKey: newKey, at: Date.now() }), mallory);
    expect([remote.status, await errorOf(remote)]).toEqual([403, "forbidden"]);
    const nobody = newDevice("nobody");
    const unknown = await handIn(moveOf(nobody, "x#im.bob.test", generateKeyPair()), nobody);
    expect([unknown.status, await errorOf(unknown)]).toEqual([401, "unauthorized"]);
    const itself = await handIn(moveOf(alice, alice.address, generateKeyPair()), alice);
    expect([itself.status, await errorOf(itself)]).toEqual([400, "bad_request"]);
  });

  it("takes each notice once: a replay is a conflict, a newly signed one goes through", async () => {
    const alice = await registered("mvreplay");
    const bob = await registered("mvreplayfriend");
    await befriend(alice, bob);
    const newKey = generateKeyPair();
    const notice = moveOf(alice, "alice#im.bob.test", newKey);
    expect((await handIn(notice, alice)).status).toBe(202);
    const replay = await handIn(notice, alice);
    expect([replay.status, await errorOf(replay)]).toEqual([409, "conflict"]);
    expect((await handIn(moveOf(alice, "alice#im.bob.test", newKey, Date.now() + 1), alice)).status).toBe(202);
    expect((await mail(bob)).filter((i) => i.kind === "moved")).toHaveLength(2);
  });

  it("refuses a notice the account key signed when no device of the account signs the request, and tells nobody", async () => {
    const alice = await registered("mvunsigned");
    const bob = await registered("mvunsignedfriend");
    await befriend(alice, bob);
    const newKey = generateKeyPair();
    const res = await handInUnsigned(moveOf(alice, "mallory#im.evil.test", newKey));
    expect([res.status, await errorOf(res)]).toEqual([401, "unauthorized"]);
    const stranger = newDevice("mvstranger", DOMAIN, alice.account);
    const forged = await call(stranger, "POST", "/account/moved", { notice: moveOf(alice, "mallory#im.evil.test", newKey) }, { keyId: `device:${alice.address}/${stranger.deviceId}` });
    expect([forged.status, await errorOf(forged)]).toEqual([401, "unauthorized"]);
    expect((await mail(bob)).filter((i) => i.kind === "moved")).toEqual([]);
    expect((await friendsOf(bob)).find((f) => f.address === "mallory#im.evil.test")).toBeUndefined();
  });

  it("refuses a device the account removed, which still holds the account key: its notice moves nobody", async () => {
    const alice = await registered("mvremoved");
    const bob = await registered("mvremovedfriend");
    await befriend(alice, bob);
    const phone = anotherDevice(alice);
    expect((await call(alice, "POST", "/account/devices", { deviceCert: phone.cert })).status).toBe(201);
    const newKey = generateKeyPair();
    // While it is a device of the account, it may announce a move (it made the export, say).
    const before = await handIn(moveOf(phone, "alice#im.bob.test", newKey), phone);
    expect(before.status).toBe(202);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);
    const after = await handIn(moveOf(phone, "mallory#im.evil.test", generateKeyPair(), Date.now() + 1), phone);
    expect([after.status, await errorOf(after)]).toEqual([401, "device_removed"]);
    expect((await mail(bob)).filter((i) => i.kind === "moved").map((i) => (i as { signed: SignedMoved }).signed.body.to)).toEqual(["alice#im.bob.test"]);
    expect((await friendsOf(bob)).find((f) => f.address === "mallory#im.evil.test")).toBeUndefined();
  });
});

describe("a friend's server on a verified move", () => {
  async function remoteFriendOf(local: Device): Promise<Device> {
    const peer = await trustedPeer();
    const remote = newDevice("far", PEER);
    const signed = friendRequest(remote, local.address);
    expect(await sendFederated(peer, [{ id: signed.body.id, kind: "friend_request", signed }])).toMatchObject([{ ok: true }]);
    expect((await call(local, "POST", `/friends/${enc(remote.address)}/accept`, {
      response: signObject(local.account.privateKey, "friend-response", {
        from: local.address, to: remote.address, accountKey: toB64u(local.account.publicKey), created: Date.now(), id: randomId16(), verdict: "accept",
      }),
    })).status).toBe(204);
    return remote;
  }

  it("adopts the new address from a federated notice, but not from a forged one or for a blocked address", async () => {
    const bob = await registered("fedmv");
    const alice = await remoteFriendOf(bob);
    const peer = await trustedPeer();
    const newKey = generateKeyPair();
    const forged: FedItem = { id: randomId16(), kind: "moved", to: [bob.address], signed: moveOf(alice, "forged#im.carol.test", newKey, Date.now(), generateKeyPair()) };
    expect(await sendFederated(peer, [forged])).toMatchObject([{ error: "unauthorized" }]);
    await call(bob, "POST", `/friends/${enc("blocked#im.carol.test")}/block`);
    const toBlocked: FedItem = { id: randomId16(), kind: "moved", to: [bob.address], signed: moveOf(alice, "blocked#im.carol.test", newKey) };
    const real: FedItem = { id: randomId16(), kind: "moved", to: [bob.address], signed: moveOf(alice, "alice#im.carol.test", newKey) };
    expect(await sendFederated(peer, [toBlocked, real])).toMatchObject([{ ok: true }, { ok: true }]);
    const friends = await friendsOf(bob);
    expect(friends.find((f) => f.address === "forged#im.carol.test")).toBeUndefined();
    expect(friends.find((f) => f.address === "blocked#im.carol.test")).toMatchObject({ state: "blocked" });
    expect(friends.find((f) => f.address === "alice#im.carol.test")).toMatchObject({ state: "friend", accountKey: toB64u(newKey.publicKey) });
  });

  it("keeps a friend pinned with another key when a move names their address", async () => {
    const bob = await registered("mvclash");
    const alice = await registered("mvclashalice");
    const carol = await registered("mvclashcarol");
    await befriend(alice, bob);
    await befriend(carol, bob);
    expect((await handIn(moveOf(alice, carol.address, generateKeyPair()), alice)).status).toBe(202);
    expect((await friendsOf(bob)).find((f) => f.address === carol.address)).toMatchObject({ state: "friend", accountKey: toB64u(carol.account.publicKey) });
  });

  it("lets a request from the new address through a friends-only policy when it carries the move, and only then, as a request", async () => {
    const bob = await registered("mvintro");
    const alice = await remoteFriendOf(bob);
    expect((await call(bob, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null })).status).toBe(200);
    const peer = await trustedPeer("im.carol.test" as Domain);
    const newAddress = `alice${Date.now()}#im.carol.test` as Address;
    const newKey = generateKeyPair();
    const notice = moveOf(alice, newAddress, newKey);

    const send = (signed: SignedFriendRequest) => sendFederated(peer, [{ id: signed.body.id, kind: "friend_request", signed }]);
    const bare = friendRequest({ ...newDevice("x", "im.carol.test" as Domain), address: newAddress, account: newKey }, bob.address);
    expect(await send(bare)).toMatchObject([{ error: "stranger_refused" }]);
    const otherKey = generateKeyPair();
    expect(await send(introduction(newAddress, otherKey, bob.address, notice))).toMatchObject([{ error: "stranger_refused" }]);
    const forgedMove = moveOf(alice, newAddress, newKey, Date.now(), generateKeyPair());
    expect(await send(introduction(newAddress, newKey, bob.address, forgedMove))).toMatchObject([{ error: "stranger_refused" }]);

    const intro = introduction(newAddress, newKey, bob.address, notice);
    expect(await send(intro)).toMatchObject([{ ok: true }]);
    // The account key alone signed the move, which a device alice removed still holds: it waits as a request.
    expect((await friendsOf(bob)).find((f) => f.address === newAddress)).toMatchObject({ state: "incoming", accountKey: toB64u(newKey.publicKey), request: intro });
    const fromNew = (await mail(bob)).filter((i) => i.kind === "friend_request" && i.signed.body.from === newAddress);
    expect(fromNew).toMatchObject([{ signed: { body: { from: newAddress, moved: notice } } }]);
    const answered = await call(bob, "POST", `/friends/${enc(newAddress)}/accept`, {
      response: signObject(bob.account.privateKey, "friend-response", {
        from: bob.address, to: newAddress, accountKey: toB64u(bob.account.publicKey), created: Date.now(), id: randomId16(), verdict: "accept",
      }),
    });
    expect(answered.status).toBe(204);
  });

  it("makes the new address a friend when the old server's notice comes, whether before or after the request", async () => {
    const bob = await registered("mvorder");
    const alice = await remoteFriendOf(bob);
    const carol = await remoteFriendOf(bob);
    expect((await call(bob, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null })).status).toBe(200);
    const home = await trustedPeer();
    const elsewhere = await trustedPeer("im.carol.test" as Domain);
    const sendRequest = (signed: SignedFriendRequest) => sendFederated(elsewhere, [{ id: signed.body.id, kind: "friend_request", signed }]);
    const sendNotice = (signed: SignedMoved) => sendFederated(home, [{ id: randomId16(), kind: "moved", to: [bob.address], signed }]);
    const friendOf = async (address: Address) => (await friendsOf(bob)).find((f) => f.address === address);

    // Alice: the request first, her old server's notice later.
    const aliceNew = `alice${Date.now()}#im.carol.test` as Address;
    const aliceKey = generateKeyPair();
    const aliceMove = moveOf(alice, aliceNew, aliceKey);
    expect(await sendRequest(introduction(aliceNew, aliceKey, bob.address, aliceMove))).toMatchObject([{ ok: true }]);
    expect(await friendOf(aliceNew)).toMatchObject({ state: "incoming" });
    expect(await sendNotice(aliceMove)).toMatchObject([{ ok: true }]);
    expect(await friendOf(aliceNew)).toMatchObject({ state: "friend", accountKey: toB64u(aliceKey.publicKey) });

    // Carol: the notice first, the request later.
    const carolNew = `carol${Date.now()}#im.carol.test` as Address;
    const carolKey = generateKeyPair();
    const carolMove = moveOf(carol, carolNew, carolKey);
    expect(await sendNotice(carolMove)).toMatchObject([{ ok: true }]);
    expect(await friendOf(carolNew)).toMatchObject({ state: "friend", accountKey: toB64u(carolKey.publicKey) });
    expect(await sendRequest(introduction(carolNew, carolKey, bob.address, carolMove))).toMatchObject([{ ok: true }]);
    expect(await friendOf(carolNew)).toMatchObject({ state: "friend", accountKey: toB64u(carolKey.publicKey) });

    // Either way Bob's answer is allowed, and his mailbox holds the notice and the request.
    for (const to of [aliceNew, carolNew]) {
      const answered = await call(bob, "POST", `/friends/${enc(to)}/accept`, {
        response: signObject(bob.account.privateKey, "friend-response", { from: bob.address, to, accountKey: toB64u(bob.account.publicKey), created: Date.now(), id: randomId16(), verdict: "accept" }),
      });
      expect(answered.status).toBe(204);
    }
    const items = await mail(bob);
    expect(items.filter((i) => i.kind === "moved")).toHaveLength(2);
    expect(items.filter((i) => i.kind === "friend_request" && [aliceNew, carolNew].includes(i.signed.body.from))).toHaveLength(2);
  });

  it("takes a moved notice only from the old address's own domain", async () => {
    const bob = await registered("mvdomain");
    const alice = await remoteFriendOf(bob);
    const rogue = await trustedPeer("im.evil.test" as Domain);
    const notice = moveOf(alice, "mallory#im.evil.test", generateKeyPair());
    expect(await sendFederated(rogue, [{ id: randomId16(), kind: "moved", to: [bob.address], signed: notice }])).toMatchObject([{ error: "forbidden" }]);
    expect((await friendsOf(bob)).find((f) => f.address === "mallory#im.evil.test")).toBeUndefined();
  });

  it("does not let a move vouch from someone who is not a friend", async () => {
    const bob = await registered("mvnotfriend");
    expect((await call(bob, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null })).status).toBe(200);
    const stranger = newDevice("stranger", PEER);
    const peer = await trustedPeer("im.carol.test" as Domain);
    const newAddress = `s${Date.now()}#im.carol.test` as Address;
    const newKey = generateKeyPair();
    const intro = introduction(newAddress, newKey, bob.address, moveOf(stranger, newAddress, newKey));
    expect(await sendFederated(peer, [{ id: intro.body.id, kind: "friend_request", signed: intro }])).toMatchObject([{ error: "stranger_refused" }]);
    const rows = await runInDurableObject(accountStub(bob.address), (_i, state) => state.storage.sql.exec("SELECT COUNT(*) AS n FROM friends").one().n);
    expect(rows).toBe(0);
  });
});
