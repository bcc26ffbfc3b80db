import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, FedItem, MailItem } from "../../shared/wire/index.js";
import { PEER, anotherDevice, call, registered, sendFederated, trustedPeer } from "./harness.js";

/*
 * A hub takes a `soleDevice` answer as the account's word for the epoch it asks in (PROTOCOL §7)
 * and then leaves that device's answered messages out of the account's mailbox. A repeat of an
 * item is answered from the peer's gate: its first answer must not tell a hub re-running its
 * fan-out (after a restart, or a failed round) that the account still has one device when it
 * has two by now, or the second device never gets the first one's messages.
 */

describe("a hub's answered item sent again after the account added a device", () => {
  it("names no sole device any more", async () => {
    const bob = await registered("srg");
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const own: FedItem = {
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address], answered: true,
      item: { conversation, id: randomId16(), hubSeq: 1, from: bob.address, deviceId: bob.deviceId, epoch: 1, type: "application", mls: "AAEC", at: Date.now() },
    };
    expect(await sendFederated(peer, [own])).toEqual([{ id: own.id, ok: true, soleDevice: bob.deviceId }]);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: anotherDevice(bob).cert })).status).toBe(201);
    expect(await sendFederated(peer, [own])).toEqual([{ id: own.id, ok: true }]);
    // Still stored once: the repeat is not applied again.
    const items = ((await (await call(bob, "GET", "/mailbox?after=0&limit=500")).json()) as { items: MailItem[] }).items;
    expect(items.filter((i) => i.kind === "conv")).toEqual([]);
  });
});
