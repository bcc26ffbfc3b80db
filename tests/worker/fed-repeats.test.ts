import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import type { Domain } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { fedItemId } from "../../worker/fan-out.js";
import { DOMAIN, PEER, accountStub, call, enc, friendRequest, friendResponse, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";

/*
 * A peer's Outbox sends an item again when it lost the answer (PROTOCOL §7): every kind of item
 * sent again under its id gets the answer it got the first time and is applied once, whatever
 * changed here meanwhile; and one domain's ids never stand for another's.
 */

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

/** A remote user the local one counts as a friend, as after an accepted request. */
async function remoteFriend(local: Device): Promise<Device> {
  const remote = newDevice("far", PEER);
  await runInDurableObject(accountStub(local.address), (_i, state) => {
    state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
  });
  return remote;
}

type ConvItem = Extract<FedItem, { kind: "conv_deliver" }>;

function convItem(conversation: ConversationRef, hubSeq: number, author: Device, to: Device): ConvItem {
  const item = { conversation, id: randomId16(), hubSeq, from: author.address, deviceId: author.deviceId, epoch: 1, type: "application" as const, mls: "AAEC", at: Date.now() };
  return { id: fedItemId(item, DOMAIN), kind: "conv_deliver", conversation, to: [to.address], item };
}

describe("federation items sent again", () => {
  it("a friend response sent again gets its first answer and is stored once", async () => {
    const peer = await trustedPeer();
    const alice = await registered("rpresp");
    const remote = newDevice("answers", PEER);
    expect((await call(alice, "POST", "/friends/requests", { request: friendRequest(alice, remote.address) })).status).toBe(202);
    const response = friendResponse(remote, alice.address, "accept");
    const item: FedItem = { id: response.body.id, kind: "friend_response", signed: response };
    const first = await sendFederated(peer, [item]);
    expect(first).toEqual([{ id: item.id, ok: true }]);
    expect(await sendFederated(peer, [item])).toEqual(first);
    expect((await mail(alice)).filter((i) => i.kind === "friend_response")).toHaveLength(1);
  });

  it("a deletion notice sent again gets its first answer (not 'only acquaintances') and is stored once", async () => {
    const peer = await trustedPeer();
    const bob = await registered("rpdel");
    const remote = await remoteFriend(bob);
    const signed = signObject(remote.account.privateKey, "deleted", { address: remote.address, at: Date.now() });
    const item = { id: randomId16(), kind: "deleted", to: [bob.address], signed } as FedItem;
    expect(await sendFederated(peer, [item])).toEqual([{ id: item.id, ok: true }]);
    expect(await sendFederated(peer, [item])).toEqual([{ id: item.id, ok: true }]);
    expect((await mail(bob)).filter((i) => i.kind === "deleted")).toHaveLength(1);
  });

  it("a bounce sent again is stored once", async () => {
    const peer = await trustedPeer();
    const alice = await registered("rpbounce");
    const item: FedItem = { id: randomId16(), kind: "bounce", sender: alice.address, ref: randomId16(), to: newDevice("gone", PEER).address, error: "stranger_refused" };
    expect(await sendFederated(peer, [item])).toEqual([{ id: item.id, ok: true }]);
    expect(await sendFederated(peer, [item])).toEqual([{ id: item.id, ok: true }]);
    expect((await mail(alice)).filter((i) => i.kind === "bounce")).toHaveLength(1);
  });

  it("a hub's entry sent again after its recipient blocked the author is not bounced: it was delivered", async () => {
    const peer = await trustedPeer();
    const bob = await registered("rpblock");
    const remote = await remoteFriend(bob);
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const items = [convItem(conversation, 1, remote, bob), convItem(conversation, 2, remote, bob)];
    const first = await sendFederated(peer, items);
    expect(first).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect((await call(bob, "POST", `/friends/${enc(remote.address)}/block`)).status).toBe(204);
    expect(await sendFederated(peer, items)).toEqual(first);
    // What comes after the block is refused, and the author hears of that one only.
    const later = convItem(conversation, 3, remote, bob);
    expect(await sendFederated(peer, [later])).toEqual([{ id: later.id, ok: true }]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2]);
    const bounced = await runInDurableObject(env.OUTBOX.get(env.OUTBOX.idFromName(PEER)), (_i, state) =>
      state.storage.sql.exec<{ ref: string }>("SELECT ref FROM queue WHERE json_extract(item, '$.kind') = 'bounce' AND json_extract(item, '$.sender') = ?", remote.address).toArray().map((r) => r.ref),
    );
    expect(bounced).toEqual([later.item.id]);
  });

  it("a batch sent again whole, with its items in another order and a new one among them, answers each as before and stores the new one", async () => {
    const peer = await trustedPeer();
    const bob = await registered("rpwhole");
    const remote = await remoteFriend(bob);
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const items = [1, 2, 3].map((seq) => convItem(conversation, seq, remote, bob));
    const garbage = { id: randomId16(), kind: "conv_deliver", conversation } as unknown as FedItem;
    const first = await sendFederated(peer, [...items, garbage]);
    expect(first.slice(0, 3)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect(first[3]).toMatchObject({ id: garbage.id, error: "bad_request" });
    const fourth = convItem(conversation, 4, remote, bob);
    const again = await sendFederated(peer, [garbage, items[2]!, fourth, items[0]!, items[1]!]);
    expect(again).toEqual([first[3], first[2], { id: fourth.id, ok: true }, first[0], first[1]]);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2, 3, 4]);
  });

  it("an item whose id names a member every object has (toString, __proto__) is refused as any malformed item, sent first or again", async () => {
    const peer = await trustedPeer();
    const bob = await registered("rpproto");
    const remote = await remoteFriend(bob);
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const odd = ["toString", "__proto__", "constructor"].map((id) => ({ ...convItem(conversation, 1, remote, bob), id }) as FedItem);
    for (let round = 0; round < 2; round++) {
      const answers = await sendFederated(peer, odd);
      expect(answers).toMatchObject(odd.map((i) => ({ id: i.id, error: "bad_request" })));
    }
    expect((await mail(bob)).filter((i) => i.kind === "conv")).toEqual([]);
  });

  it("another domain using a hub's item ids first takes nothing from the hub: its entries are delivered", async () => {
    const hub = await trustedPeer();
    const rogue = await trustedPeer("im.carol.test" as Domain);
    const bob = await registered("rpsquat");
    const remote = await remoteFriend(bob);
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    // The ids a hub gives its entries are known in advance (fedItemId): the rogue sends them first.
    const items = [1, 2].map((seq) => convItem(conversation, seq, remote, bob));
    const squat = await sendFederated(rogue, [
      { id: items[0]!.id, kind: "bounce", sender: bob.address, ref: randomId16(), to: remote.address, error: "forbidden" },
      { ...items[1]!, conversation: `im.carol.test/${randomId16()}` } as FedItem,
    ]);
    expect(squat).toMatchObject([{ error: "forbidden" }, { error: "forbidden" }]);
    expect(await sendFederated(hub, items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 2]);
  });
});
