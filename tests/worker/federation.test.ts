import { describe, expect, it } from "vitest";
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Address, Domain } from "../../shared/address.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { DEFAULT_LIMITS } from "../../shared/discovery.js";
import {
  PEER,
  accountStub,
  anotherDevice,
  call,
  errorOf,
  federationRequest,
  friendRequest,
  friendResponse,
  newDevice,
  registered,
  sendFederated,
  trustedPeer,
  type Device,
} from "./harness.js";
import { keyPackagesOf, TestGroup } from "./mls.js";

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

function requestItem(from: Device, to: Address): FedItem {
  const signed = friendRequest(from, to);
  return { id: signed.body.id, kind: "friend_request", signed };
}

/** Makes a remote user and a local one friends, as the two servers would after an accepted request. */
async function remoteFriend(local: Device): Promise<Device> {
  const peer = await trustedPeer();
  const remote = newDevice("far", PEER);
  expect(await sendFederated(peer, [requestItem(remote, local.address)])).toMatchObject([{ ok: true }]);
  await runInDurableObject(accountStub(local.address), (_i, state) => {
    state.storage.sql.exec("UPDATE friends SET state = 'friend' WHERE address = ?", remote.address);
  });
  return remote;
}

describe("federation inbox", () => {
  it("delivers a friend request signed by a peer whose keys it knows", async () => {
    const peer = await trustedPeer();
    const bob = await registered("fbob");
    const remote = newDevice("falice", PEER);
    const item = requestItem(remote, bob.address);
    expect(await sendFederated(peer, [item])).toEqual([{ id: item.id, ok: true }]);
    expect(await mail(bob)).toMatchObject([{ kind: "friend_request", signed: { body: { from: remote.address } } }]);
  });

  it("refuses an item whose sender is not on the signing domain, and only that item", async () => {
    const peer = await trustedPeer();
    const bob = await registered("fmis");
    const good = requestItem(newDevice("ok", PEER), bob.address);
    const bad = requestItem(newDevice("liar", "im.carol.test" as Domain), bob.address);
    const results = await sendFederated(peer, [bad, good]);
    expect(results).toMatchObject([{ id: bad.id, error: "forbidden" }, { id: good.id, ok: true }]);
  });

  it("applies each id once, answering a repeat with the first result", async () => {
    const peer = await trustedPeer();
    const bob = await registered("fdup");
    const item = requestItem(newDevice("twice", PEER), bob.address);
    expect(await sendFederated(peer, [item])).toMatchObject([{ ok: true }]);
    expect(await sendFederated(peer, [item])).toMatchObject([{ ok: true }]);
    expect(await mail(bob)).toHaveLength(1);
  });

  it("refuses forged, expired, replayed and misdirected batches", async () => {
    const peer = await trustedPeer();
    const bob = await registered("fsig");
    const body = { items: [requestItem(newDevice("s", PEER), bob.address)] };
    const forged = await SELF.fetch(federationRequest(peer, "/inbox", body, { signWith: generateKeyPair().privateKey }));
    expect(forged.status).toBe(401);
    const expired = await SELF.fetch(federationRequest(peer, "/inbox", body, { created: Math.floor(Date.now() / 1000) - 400 }));
    expect(expired.status).toBe(401);
    const misdirected = await SELF.fetch(federationRequest(peer, "/inbox", body, { emsgTo: "im.carol.test" }));
    expect(misdirected.status).toBe(401);
    const nonce = randomId16();
    expect((await SELF.fetch(federationRequest(peer, "/inbox", body, { nonce }))).status).toBe(200);
    const replayed = await SELF.fetch(federationRequest(peer, "/inbox", body, { nonce }));
    expect(replayed.status).toBe(401);
    expect(await errorOf(replayed)).toBe("unauthorized");
  });

  it("refuses an unknown kid, refetching the peer's document unless it just did", async () => {
    const fresh = await trustedPeer();
    const unknown = await SELF.fetch(federationRequest({ ...fresh, kid: "AAAAAAAAAAA" }, "/inbox", { items: [] }));
    expect(unknown.status).toBe(401);
    const older = await trustedPeer(PEER, 10_000);
    const refetched = await SELF.fetch(federationRequest({ ...older, kid: "AAAAAAAAAAA" }, "/inbox", { items: [] }));
    expect(refetched.status).toBe(502);
    expect(await errorOf(refetched)).toBe("peer_unreachable");
  });

  it("refuses oversize, empty and over-long batches as typed errors", async () => {
    const peer = await trustedPeer();
    const huge = await SELF.fetch(federationRequest(peer, "/inbox", undefined, { rawBody: new Uint8Array(4_194_305).fill(32) }));
    expect(huge.status).toBe(413);
    const empty = await SELF.fetch(federationRequest(peer, "/inbox", { items: [] }));
    expect(empty.status).toBe(400);
    const many = Array.from({ length: DEFAULT_LIMITS.maxBatchItems + 1 }, () => ({ id: randomId16(), kind: "bounce" }));
    expect((await SELF.fetch(federationRequest(peer, "/inbox", { items: many }))).status).toBe(400);
    const garbage = await sendFederated(peer, [{ id: randomId16(), kind: "nonsense" } as unknown as FedItem]);
    expect(garbage).toMatchObject([{ error: "bad_request" }]);
  });

  it("delivers a hub's conversation item to a local member who knows the sender", async () => {
    const bob = await registered("fconv");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const payload = { conversation, id: randomId16(), hubSeq: 4, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
    const ok = await sendFederated(peer, [{ id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], item: payload }]);
    expect(ok).toMatchObject([{ ok: true }]);
    expect((await mail(bob)).filter((i) => i.kind === "conv")).toMatchObject([{ kind: "conv", hubSeq: 4, from: remote.address }]);
    const notHub = `im.carol.test/${randomId16()}` as ConversationRef;
    const refused = await sendFederated(peer, [{ id: randomId16(), kind: "conv_deliver", conversation: notHub, to: [bob.address], item: { ...payload, conversation: notHub } }]);
    expect(refused).toMatchObject([{ error: "forbidden" }]);
  });

  it("takes a batch of a hub's items for several local members: each gets its own once, in hub order; one who refuses strangers gets none", async () => {
    const bob = await registered("fgb");
    const carol = await registered("fgc");
    const shy = await registered("fgs");
    await call(shy, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null });
    const remote = await remoteFriend(bob);
    await runInDurableObject(accountStub(carol.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, '', 'friend', 0)", remote.address);
    });
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const payload = (hubSeq: number) => ({ conversation, id: randomId16(), hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() });
    const items: FedItem[] = Array.from({ length: 12 }, (_, i) => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: i % 3 === 2 ? [carol.address, shy.address] : [bob.address, carol.address], item: payload(i + 1),
    }));
    expect(await sendFederated(peer, items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    const seqsOf = async (d: Device) => (await mail(d)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []));
    expect(await seqsOf(carol)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(await seqsOf(bob)).toEqual([1, 2, 4, 5, 7, 8, 10, 11]);
    expect(await seqsOf(shy)).toEqual([]);
  });

  it("stores a hub's entry once when a delivery re-run after a crash repeats it under another item id (issue 15)", async () => {
    const bob = await registered("frep");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const ids = new Map<number, string>();
    const payload = (hubSeq: number, type: "application" | "commit" | "welcome" = "application") => {
      if (!ids.has(hubSeq)) ids.set(hubSeq, randomId16());
      return { conversation, id: ids.get(hubSeq)!, hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type, mls: "AAEC", at: Date.now() };
    };
    const deliver = (...payloads: ReturnType<typeof payload>[]) =>
      sendFederated(peer, payloads.map((item) => ({ id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], item }) as FedItem));
    // The first run's answer was lost: the peer (or its re-run hub) sends 1–2 again, now with 3, a
    // commit and its Welcome (one hub position); then the same commit and Welcome once more.
    expect(await deliver(payload(1), payload(2))).toMatchObject([{ ok: true }, { ok: true }]);
    expect(await deliver(payload(1), payload(2), payload(3), payload(4, "commit"), payload(4, "welcome"))).toMatchObject(Array(5).fill({ ok: true }));
    expect(await deliver(payload(4, "commit"), payload(4, "welcome"), payload(5))).toMatchObject(Array(3).fill({ ok: true }));
    // An entry that comes late is no repeat: it is stored (the device restores the order), not dropped.
    expect(await deliver(payload(7), payload(6), payload(7))).toMatchObject(Array(3).fill({ ok: true }));
    const stored = (await mail(bob)).flatMap((i) => (i.kind === "conv" ? [`${i.hubSeq} ${i.type}`] : []));
    expect(stored).toEqual(["1 application", "2 application", "3 application", "4 commit", "4 welcome", "5 application", "7 application", "6 application"]);
  });

  it("stores an entry that comes late within the last 4096 hub positions once, and takes one older than all it keeps for a repeat", async () => {
    const bob = await registered("fwin");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const ids = new Map<number, string>();
    const deliver = (hubSeq: number) => {
      if (!ids.has(hubSeq)) ids.set(hubSeq, randomId16());
      const item = { conversation, id: ids.get(hubSeq)!, hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
      return sendFederated(peer, [{ id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], item }]);
    };
    // Positions are 2 × hubSeq: 5000 keeps 6000 (late, within 4096) and not 2900 (older than all kept).
    for (const hubSeq of [5000, 3000, 3000, 2900]) expect(await deliver(hubSeq)).toMatchObject([{ ok: true }]);
    // Moving on 200 positions drops what is more than 4096 behind: 3000 is then older than all kept.
    for (const hubSeq of [5200, 3000, 5100, 5100]) expect(await deliver(hubSeq)).toMatchObject([{ ok: true }]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([5000, 3000, 5200, 5100]);
  });

  it("takes a batch mixing a member's own entries coming back with the peer's users' ones, in hub order (issue 15: such a batch hung)", async () => {
    const bob = await registered("fmix");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    // Bob's receipts come back to his own account between the remote friend's messages.
    const items: FedItem[] = Array.from({ length: 8 }, (_, i) => {
      const author = i % 3 === 2 ? bob : remote;
      const item = { conversation, id: randomId16(), hubSeq: i + 1, from: author.address, deviceId: author.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
      return { id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], item };
    });
    expect(await sendFederated(peer, items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it("leaves out of a member's mailbox its own message the hub answered its only device for, and tells the hub that device (PROTOCOL §7)", async () => {
    const bob = await registered("fsole");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const entry = (hubSeq: number, author: Device, answered?: true): FedItem => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], ...(answered ? { answered } : {}),
      item: { conversation, id: randomId16(), hubSeq, from: author.address, deviceId: author.deviceId, epoch: 1, type: "application", mls: "AAEC", at: Date.now() },
    });
    // 1: the friend's (Bob joins); 2: Bob's own, answered; 3: Bob's own, not answered (sent through his server); 4: the friend's, marked answered.
    const items = [entry(1, remote), entry(2, bob, true), entry(3, bob), entry(4, remote, true)];
    expect(await sendFederated(peer, items)).toEqual([
      { id: items[0]!.id, ok: true },
      { id: items[1]!.id, ok: true, soleDevice: bob.deviceId },
      { id: items[2]!.id, ok: true },
      { id: items[3]!.id, ok: true },
    ]);
    // Once Bob has a second device, his own answered message is his other device's to read.
    expect((await call(bob, "POST", "/account/devices", { deviceCert: anotherDevice(bob).cert })).status).toBe(201);
    const later = entry(5, bob, true);
    expect(await sendFederated(peer, [later])).toEqual([{ id: later.id, ok: true }]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 3, 4, 5]);
  });

  it("orders a remote member's submission in a conversation hosted here", async () => {
    const alice = await registered("fhub");
    const remote = await remoteFriend(alice);
    const peer = await trustedPeer();
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [remote.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const submit = { id: randomId16(), epoch: 0, kind: "application", mls: await (await TestGroup.of(alice, conversation)).message() };
    const res = await sendFederated(peer, [{ id: submit.id, kind: "conv_submit", conversation, from: remote.address, deviceId: remote.deviceId, submit } as FedItem]);
    expect(res).toMatchObject([{ ok: true }]);
    expect((await mail(alice)).filter((i) => i.kind === "conv")).toMatchObject([{ hubSeq: 1, from: remote.address, id: submit.id }]);
    const outsider = newDevice("out", PEER);
    const denied = await sendFederated(peer, [{ id: randomId16(), kind: "conv_submit", conversation, from: outsider.address, deviceId: outsider.deviceId, submit: { ...submit, id: randomId16() } } as FedItem]);
    expect(denied).toMatchObject([{ error: "forbidden" }]);
  });

  it("answers a peer's claim for a local account", async () => {
    const peer = await trustedPeer();
    const bob = await registered("fclaim");
    const [keyPackage] = await keyPackagesOf(bob, 1);
    await call(bob, "POST", "/account/keypackages", { keyPackages: [keyPackage] });
    const res = await SELF.fetch(federationRequest(peer, "/claim", { address: bob.address }));
    expect(await res.json()).toMatchObject({ address: bob.address, devices: [{ keyPackage }] });
  });

  it("takes a remote friend's response to a request sent from here", async () => {
    const peer = await trustedPeer();
    const alice = await registered("fresp");
    const remote = newDevice("answerer", PEER);
    expect((await call(alice, "POST", "/friends/requests", { request: friendRequest(alice, remote.address) })).status).toBe(202);
    const response = friendResponse(remote, alice.address, "accept");
    expect(await sendFederated(peer, [{ id: response.body.id, kind: "friend_response", signed: response }])).toMatchObject([{ ok: true }]);
    const friends = (await (await call(alice, "GET", "/friends")).json()) as { friends: { state: string }[] };
    expect(friends.friends).toMatchObject([{ state: "friend" }]);
  });
});

describe("federated notices", () => {
  it("takes a remote friend's deletion notice signed by the pinned key, and no forged one", async () => {
    const bob = await registered("fnotice");
    const remote = await remoteFriend(bob);
    const peer = await trustedPeer();
    const at = Date.now();
    const forged = signObject(generateKeyPair().privateKey, "deleted", { address: remote.address, at });
    expect(await sendFederated(peer, [{ id: randomId16(), kind: "deleted", to: [bob.address], signed: forged }])).toMatchObject([{ error: "unauthorized" }]);
    const real = signObject(remote.account.privateKey, "deleted", { address: remote.address, at });
    expect(await sendFederated(peer, [{ id: randomId16(), kind: "deleted", to: [bob.address], signed: real }])).toMatchObject([{ ok: true }]);
    expect((await mail(bob)).filter((i) => i.kind === "deleted")).toHaveLength(1);
    expect(((await (await call(bob, "GET", "/friends")).json()) as { friends: unknown[] }).friends).toEqual([]);
  });

  it("hands a bounce to the local user it names", async () => {
    const peer = await trustedPeer();
    const alice = await registered("fbounce");
    const ref = randomId16();
    const to = newDevice("unreached", PEER).address;
    expect(await sendFederated(peer, [{ id: randomId16(), kind: "bounce", sender: alice.address, ref, to, error: "stranger_refused" }])).toMatchObject([{ ok: true }]);
    expect((await mail(alice)).filter((i) => i.kind === "bounce")).toMatchObject([{ ref, to, error: "stranger_refused" }]);
  });

  it("refuses a bounce from a domain that was not asked: a user's friend request to a third domain stays outgoing", async () => {
    const peer = await trustedPeer();
    const alice = await registered("fforged");
    const carol = newDevice("asked", "im.carol.test" as Domain);
    expect((await call(alice, "POST", "/friends/requests", { request: friendRequest(alice, carol.address) })).status).toBe(202);
    const ref = randomId16();
    const forged = await sendFederated(peer, [{ id: randomId16(), kind: "bounce", sender: alice.address, ref, to: carol.address, error: "stranger_refused" }]);
    expect(forged).toMatchObject([{ error: "forbidden" }]);
    const notHub = `im.carol.test/${randomId16()}`;
    const forgedConv = await sendFederated(peer, [{ id: randomId16(), kind: "bounce", sender: alice.address, ref, to: carol.address, error: "forbidden", conversation: notHub } as FedItem]);
    expect(forgedConv).toMatchObject([{ error: "forbidden" }]);
    expect((await mail(alice)).filter((i) => i.kind === "bounce")).toEqual([]);
    const friends = (await (await call(alice, "GET", "/friends")).json()) as { friends: { address: string; state: string }[] };
    expect(friends.friends).toMatchObject([{ address: carol.address, state: "outgoing" }]);
    const hubs = `${PEER}/${randomId16()}`;
    const fromHub = await sendFederated(peer, [{ id: randomId16(), kind: "bounce", sender: alice.address, ref, to: carol.address, error: "forbidden", conversation: hubs } as FedItem]);
    expect(fromHub).toMatchObject([{ ok: true }]);
  });

  it("refuses a submission whose author is not on the signing domain", async () => {
    const alice = await registered("fmisconv");
    const peer = await trustedPeer();
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [] });
    const { conversation } = (await created.json()) as { conversation: string };
    const submit = { id: randomId16(), epoch: 0, kind: "application", mls: await (await TestGroup.of(alice, conversation)).message() };
    const res = await sendFederated(peer, [{ id: submit.id, kind: "conv_submit", conversation, from: alice.address, deviceId: alice.deviceId, submit } as FedItem]);
    expect(res).toMatchObject([{ error: "forbidden" }]);
  });
});

describe("outbox", () => {
  function outbox(domain: Domain) {
    return env.OUTBOX.get(env.OUTBOX.idFromName(domain));
  }

  /** Waits for the Outbox's own alarm to have tried (and failed) to send. */
  async function firstAttempt(box: ReturnType<typeof outbox>) {
    let rows: { attempts: number; next_at: number }[] = [];
    for (let i = 0; i < 60 && !(rows[0]?.attempts ?? 0); i++) {
      await new Promise((r) => setTimeout(r, 50));
      rows = await runInDurableObject(box, (_i, state) =>
        state.storage.sql.exec<{ attempts: number; next_at: number }>("SELECT attempts, next_at FROM queue").toArray(),
      );
    }
    return rows;
  }

  it("queues remote traffic durably, sends it within milliseconds, and backs off while the peer is down", async () => {
    const alice = await registered("oq");
    const remote = newDevice("down", "im.dave.test" as Domain);
    expect((await call(alice, "POST", "/friends/requests", { request: friendRequest(alice, remote.address) })).status).toBe(202);
    const box = outbox("im.dave.test" as Domain);
    expect(await box.pending()).toBe(1);
    const rows = await firstAttempt(box);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.attempts).toBe(1);
    expect(rows[0]!.next_at).toBeGreaterThan(Date.now());
  });

  it("bounces to the sender what could not be delivered within the TTL", async () => {
    const alice = await registered("ottl");
    const remote = newDevice("gone", "im.carol.test" as Domain);
    const request = friendRequest(alice, remote.address);
    await call(alice, "POST", "/friends/requests", { request });
    const box = outbox("im.carol.test" as Domain);
    await firstAttempt(box);
    await runInDurableObject(box, (_i, state) => {
      state.storage.sql.exec("UPDATE queue SET queued = ?, next_at = 0", Date.now() - 31 * 86400_000);
    });
    await runDurableObjectAlarm(box);
    expect(await box.pending()).toBe(0);
    expect((await mail(alice)).filter((i) => i.kind === "bounce")).toMatchObject([
      { kind: "bounce", ref: request.body.id, to: remote.address, error: "peer_unreachable" },
    ]);
    expect(((await (await call(alice, "GET", "/friends")).json()) as { friends: unknown[] }).friends).toEqual([]);
  });

  it("reports an unreachable peer at once for a synchronous claim", async () => {
    const alice = await registered("oclaim");
    const res = await call(alice, "POST", "/directory/claim", { address: newDevice("x", "im.carol.test" as Domain).address });
    expect(res.status).toBe(502);
    expect(await errorOf(res)).toBe("peer_unreachable");
  });
});
