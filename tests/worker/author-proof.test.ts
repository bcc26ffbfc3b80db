import { describe, expect, it } from "vitest";
import { SELF, env, runInDurableObject } from "cloudflare:test";
import { sha256 } from "@noble/hashes/sha2.js";
import type { Address, Domain } from "../../shared/address.js";
import { fromB64u, toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { verifyObject } from "../../shared/signed.js";
import { signObject } from "../../shared/signed.js";
import type { ConversationRef, ConvPayload, FedItem, MailItem } from "../../shared/wire/index.js";
import { createGroup, encrypt } from "../../shared/mls/index.js";
import { jcs } from "../../shared/canonical.js";
import { API, DOMAIN, PEER, accountStub, call, newDevice, registered, sendFederated, trustedPeer, type Device, type Peer } from "./harness.js";

/**
 * Who wrote a remote hub's item (issue 14 item 2, PROTOCOL §9): a hub that names one of bob's
 * friends on another domain as author is believed only with that domain's proof.
 */

const ROGUE = "im.dave.test" as Domain;

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

async function joined(d: Device, conversation: string): Promise<boolean> {
  return runInDurableObject(accountStub(d.address), (_i, state) => state.storage.sql.exec("SELECT 1 FROM joined WHERE conversation = ?", conversation).toArray().length > 0);
}

/** A real MLS application message of `conversation` at epoch 0, as a member's client sends it. */
async function privateMessage(author: Device, conversation: string): Promise<string> {
  const group = await createGroup({ deviceCert: author.cert, devicePrivateKey: author.device.privateKey, devicePublicKey: author.device.publicKey }, conversation);
  return (await encrypt(group, new TextEncoder().encode("hi"))).mls;
}

const digest = (text: string) => toB64u(sha256(new TextEncoder().encode(text)));

/** bob, who takes friends only, and alice, his friend on PEER (pinned as the servers would have it). */
async function bobAndFriend(): Promise<{ bob: Device; alice: Device }> {
  const bob = await registered("shy");
  expect((await call(bob, "PUT", "/account/settings", { strangers: "refuse", retentionDays: null })).status).toBe(200);
  const alice = newDevice("friend", PEER);
  await runInDurableObject(accountStub(bob.address), (_i, state) => {
    state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', 0)", alice.address, toB64u(alice.account.publicKey));
  });
  return { bob, alice };
}

function payloadOf(conversation: ConversationRef, from: Device, hubSeq: number, mls = toB64u(crypto.getRandomValues(new Uint8Array(48)))): ConvPayload {
  return { conversation, id: randomId16(), hubSeq, from: from.address, deviceId: from.deviceId, epoch: 0, type: "application", mls, at: Date.now() };
}

function deliver(conversation: ConversationRef, to: Address, item: ConvPayload, extra: Partial<FedItem> = {}): FedItem {
  return { id: randomId16(), kind: "conv_deliver", conversation, to: [to], item, ...extra } as FedItem;
}

function authorProof(server: Peer, item: ConvPayload) {
  return signObject(server.key.privateKey, "conv-author", { conversation: item.conversation, id: item.id, from: item.from, deviceId: item.deviceId, mls: digest(item.mls) });
}

describe("a remote hub's word for who wrote an item", () => {
  it("does not make a claimed friend the author: refused, not joined, and a stranger after it refused too", async () => {
    const { bob, alice } = await bobAndFriend();
    const rogue = await trustedPeer(ROGUE);
    const conversation = `${ROGUE}/${randomId16()}` as ConversationRef;
    const claimed = payloadOf(conversation, alice, 1);
    expect(await sendFederated(rogue, [deliver(conversation, bob.address, claimed)])).toMatchObject([{ ok: true }]);
    const stranger = newDevice("evil", ROGUE);
    expect(await sendFederated(rogue, [deliver(conversation, bob.address, payloadOf(conversation, stranger, 2))])).toMatchObject([{ ok: true }]);
    expect((await mail(bob)).filter((i) => i.kind === "conv")).toEqual([]);
    expect(await joined(bob, conversation)).toBe(false);
    // Nor is alice told of a refusal of something she never sent.
    const outbox = env.OUTBOX.get(env.OUTBOX.idFromName(PEER));
    expect(await runInDurableObject(outbox, (_i, state) => state.storage.sql.exec("SELECT item FROM queue").toArray().length)).toBe(0);
  });

  it("believes the author's own server: a verified conv-author proof delivers and joins, then the conversation's strangers pass", async () => {
    const { bob, alice } = await bobAndFriend();
    const aliceServer = await trustedPeer(PEER);
    const hub = await trustedPeer(ROGUE);
    const conversation = `${ROGUE}/${randomId16()}` as ConversationRef;
    const item = payloadOf(conversation, alice, 1);
    // A proof of another message proves nothing.
    const other = payloadOf(conversation, alice, 1);
    const wrong = deliver(conversation, bob.address, { ...item, id: randomId16() }, { authorProof: authorProof(aliceServer, { ...other }) } as Partial<FedItem>);
    expect(await sendFederated(hub, [wrong])).toMatchObject([{ ok: true }]);
    expect(await joined(bob, conversation)).toBe(false);
    expect(await sendFederated(hub, [deliver(conversation, bob.address, item, { authorProof: authorProof(aliceServer, item) } as Partial<FedItem>)])).toMatchObject([{ ok: true }]);
    expect(await joined(bob, conversation)).toBe(true);
    const member = newDevice("member", ROGUE);
    expect(await sendFederated(hub, [deliver(conversation, bob.address, payloadOf(conversation, member, 2))])).toMatchObject([{ ok: true }]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2]);
  });

  it("takes the session ticket alice's server gave her device for that hub as proof of her session submissions", async () => {
    const { bob, alice } = await bobAndFriend();
    const aliceServer = await trustedPeer(PEER);
    const hub = await trustedPeer(ROGUE);
    const conversation = `${ROGUE}/${randomId16()}` as ConversationRef;
    const item = payloadOf(conversation, alice, 1);
    const ticketFor = (h: Domain) => signObject(aliceServer.key.privateKey, "session-ticket", { address: alice.address, deviceId: alice.deviceId, conversation, hub: h, exp: Date.now() - 3600_000 });
    expect(await sendFederated(hub, [deliver(conversation, bob.address, item, { authorTicket: ticketFor("im.carol.test" as Domain) } as Partial<FedItem>)])).toMatchObject([{ ok: true }]);
    expect(await joined(bob, conversation)).toBe(false);
    const again = { ...item, hubSeq: 2, id: randomId16() };
    expect(await sendFederated(hub, [deliver(conversation, bob.address, again, { authorTicket: ticketFor(ROGUE) } as Partial<FedItem>)])).toMatchObject([{ ok: true }]);
    expect(await joined(bob, conversation)).toBe(true);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([2]);
  });

  it("refuses an item carrying both kinds of proof as malformed", async () => {
    const { bob, alice } = await bobAndFriend();
    const aliceServer = await trustedPeer(PEER);
    const hub = await trustedPeer(ROGUE);
    const conversation = `${ROGUE}/${randomId16()}` as ConversationRef;
    const item = payloadOf(conversation, alice, 1);
    const ticket = signObject(aliceServer.key.privateKey, "session-ticket", { address: alice.address, deviceId: alice.deviceId, conversation, hub: ROGUE, exp: Date.now() });
    const both = deliver(conversation, bob.address, item, { authorProof: authorProof(aliceServer, item), authorTicket: ticket } as Partial<FedItem>);
    expect(await sendFederated(hub, [both])).toMatchObject([{ error: "bad_request" }]);
  });
});

describe("the proofs this server gives and passes on", () => {
  /** The item for submission `id` waiting in the Outbox of `domain` (whose server is down), once it is there. */
  async function queued(domain: Domain, id: string): Promise<FedItem | undefined> {
    const outbox = env.OUTBOX.get(env.OUTBOX.idFromName(domain));
    for (let i = 0; i < 100; i++) {
      const items = await runInDurableObject(outbox, (_i, state) => state.storage.sql.exec<{ item: string }>("SELECT item FROM queue").toArray().map((r) => JSON.parse(r.item) as FedItem));
      const found = items.find((item) => (item.kind === "conv_submit" ? item.id : item.kind === "conv_deliver" ? item.item.id : "") === id);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 20));
    }
    return undefined;
  }

  it("signs a conv-author proof with its key when it forwards a user's Submit to a remote hub", async () => {
    const alice = await registered("sender");
    const conversation = `im.carol.test/${randomId16()}`;
    const submit = { id: randomId16(), epoch: 0, kind: "application", mls: await privateMessage(alice, conversation) };
    expect((await call(alice, "POST", `/conversations/${conversation}/messages`, submit)).status).toBe(202);
    const item = await queued("im.carol.test" as Domain, submit.id);
    expect(item).toMatchObject({ kind: "conv_submit", authorProof: { body: { conversation, id: submit.id, from: alice.address, deviceId: alice.deviceId, mls: digest(submit.mls) } } });
    const ownKey = (await env.SERVER.get(env.SERVER.idFromName("server")).signingKey()).publicKey;
    expect(verifyObject(fromB64u(ownKey), "conv-author", (item as Extract<FedItem, { kind: "conv_submit" }>).authorProof!)).toBe(true);
  });

  it("keeps a remote member's proof with the entry and passes it on in the conv_deliver to other domains", async () => {
    const alice = await registered("hubowner");
    const peer = await trustedPeer(PEER);
    const remote = newDevice("far", PEER);
    const third = newDevice("third", "im.carol.test" as Domain);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [remote.address, third.address] });
    const { conversation } = (await created.json()) as { conversation: ConversationRef };
    const submit = { id: randomId16(), epoch: 0, kind: "application" as const, mls: await privateMessage(remote, conversation) };
    const proof = signObject(peer.key.privateKey, "conv-author", { conversation, id: submit.id, from: remote.address, deviceId: remote.deviceId, mls: digest(submit.mls) });
    const res = await sendFederated(peer, [{ id: submit.id, kind: "conv_submit", conversation, from: remote.address, deviceId: remote.deviceId, submit, authorProof: proof } as FedItem]);
    expect(res).toMatchObject([{ ok: true }]);
    const item = await queued("im.carol.test" as Domain, submit.id);
    expect(item).toMatchObject({ kind: "conv_deliver", to: [third.address], item: { id: submit.id, from: remote.address }, authorProof: proof });
  });

  it("keeps the ticket a remote member opened its session with, and passes it on with what it submitted there", async () => {
    const alice = await registered("sessionhub");
    const peer = await trustedPeer(PEER);
    const remote = newDevice("sessionfar", PEER);
    const third = newDevice("sessionthird", "im.carol.test" as Domain);
    const created = await call(alice, "POST", "/conversations", { id: randomId16(), members: [remote.address, third.address] });
    const { conversation } = (await created.json()) as { conversation: ConversationRef };
    const ticket = signObject(peer.key.privateKey, "session-ticket", { address: remote.address, deviceId: remote.deviceId, conversation, hub: DOMAIN, exp: Date.now() + 60_000 });
    const res = await SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${toB64u(new TextEncoder().encode(jcs(ticket)))}`, { headers: { upgrade: "websocket" } });
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const answered = new Promise<string>((resolve) => ws.addEventListener("message", (e) => resolve(e.data as string)));
    const submit = { id: randomId16(), epoch: 0, kind: "application" as const, mls: await privateMessage(remote, conversation) };
    ws.send(JSON.stringify({ t: "submit", submit }));
    expect(JSON.parse(await answered)).toMatchObject({ t: "ack", id: submit.id });
    ws.close();
    const item = await queued("im.carol.test" as Domain, submit.id);
    expect(item).toMatchObject({ kind: "conv_deliver", item: { id: submit.id, from: remote.address }, authorTicket: ticket });
  });
});
