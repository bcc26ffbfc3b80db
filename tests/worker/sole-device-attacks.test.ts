import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { PEER, call, registered, sendFederated, trustedPeer, type Device } from "./harness.js";

// What a rogue hub gets from `answered` (PROTOCOL §6, §7): it may leave out only the author's own
// application message, which it could withhold anyway; nothing else of anyone's.

async function mail(d: Device): Promise<MailItem[]> {
  return ((await (await call(d, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
}

describe("answered, from a rogue hub", () => {
  it("does not keep Bob's own commit, Welcome or proposal from his mailbox, nor answer for them", async () => {
    const bob = await registered("sattk");
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const types = ["commit", "welcome", "proposal"] as const;
    // Bob's own first (a member account's own entries join it), then each marked answered.
    const items: FedItem[] = types.map((type, i) => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], answered: true,
      item: { conversation, id: randomId16(), hubSeq: i + 1, from: bob.address, deviceId: bob.deviceId, epoch: 1, type, mls: "AAEC", at: Date.now(), ...(type === "proposal" ? {} : { members: [bob.address] }) },
    }));
    expect(await sendFederated(peer, items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.type] : []))).toEqual([...types]);
  });

  it("does not keep from Bob another author's message that shares an id and device id with one of his answered ones", async () => {
    const bob = await registered("sattd");
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const shared = randomId16();
    const eve = `eve#${PEER}` as Address;
    const entry = (hubSeq: number, from: Address, type: "commit" | "application", id: string, answered: boolean): FedItem => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], ...(answered ? { answered: true as const } : {}),
      item: { conversation, id, hubSeq, from, deviceId: bob.deviceId, epoch: 1, type, mls: "AAEC", at: Date.now(), ...(type === "commit" ? { members: [bob.address, eve] } : {}) },
    });
    const items = [entry(1, bob.address, "commit", randomId16(), false), entry(2, bob.address, "application", shared, true), entry(3, eve, "application", shared, false)];
    await sendFederated(peer, items);
    expect((await mail(bob)).flatMap((i) => (i.kind === "conv" ? [i.hubSeq] : []))).toEqual([1, 3]);
  });
});
