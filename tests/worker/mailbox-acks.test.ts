import { describe, expect, it } from "vitest";
import { SELF, runInDurableObject } from "cloudflare:test";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, FedItem, MailItem, ServerFrame } from "../../shared/wire/index.js";
import { API, PEER, accountStub, anotherDevice, call, newDevice, registered, sendFederated, trustedPeer, type Device } from "./harness.js";

/*
 * What one delivery brings an account (a batch, stored together) is acknowledged item by item
 * (PROTOCOL §6): a device that acked part of a batch reads the rest, by page or by socket, and
 * nothing a device has not acked is dropped because another device acked it, or because the
 * batch it came in was acked in part.
 */

async function page(d: Device, after: number): Promise<number[]> {
  const res = (await (await call(d, "GET", `/mailbox?after=${after}&limit=500`)).json()) as { items: MailItem[] };
  return res.items.map((i) => i.seq);
}

async function ack(d: Device, upTo: number): Promise<void> {
  expect((await call(d, "POST", "/mailbox/ack", { upTo })).status).toBe(204);
}

/** The seqs a device's socket replays on connecting, and the `left` each frame says. */
async function replayed(d: Device): Promise<number[]> {
  const { ticket } = (await (await call(d, "POST", "/ws-ticket")).json()) as { ticket: string };
  const res = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  const seqs: number[] = [];
  const done = new Promise<void>((resolve) => {
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(e.data as string) as ServerFrame;
      if (frame.t === "items") seqs.push(...frame.items.map((i) => i.seq));
      if (frame.t === "items" && frame.left === 0) resolve();
    });
    setTimeout(resolve, 1500);
  });
  ws.accept();
  await done;
  ws.close(1000, "bye");
  return seqs;
}

describe("acks inside one delivered batch", () => {
  it("gives each device exactly what it has not acked, and drops an item only once every device acked it", async () => {
    const bob = await registered("ackrun");
    const phone = anotherDevice(bob);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: phone.cert })).status).toBe(201);
    const remote = newDevice("far", PEER);
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
    });
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const items: FedItem[] = Array.from({ length: 80 }, (_, i) => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address],
      item: { conversation, id: randomId16(), hubSeq: i + 1, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application", mls: "AAEC", at: Date.now() },
    }));
    expect(await sendFederated(await trustedPeer(), items)).toEqual(items.map((i) => ({ id: i.id, ok: true })));
    const from = (first: number, last = 81) => Array.from({ length: last - first + 1 }, (_, i) => first + i);
    // Seq 1 is the phone's arrival; the batch is 2..81.
    expect(await page(bob, 0)).toEqual(from(1));
    await ack(phone, 6);
    await ack(bob, 4);
    expect(await page(bob, 4)).toEqual(from(5));
    expect(await page(phone, 6)).toEqual(from(7));
    expect(await replayed(phone)).toEqual(from(7));
    // Acks far enough on drop what every device acked (here up to 6, inside the batch), and no more.
    await ack(bob, 75);
    expect(await replayed(bob)).toEqual(from(76));
    expect(await replayed(phone)).toEqual(from(7));
    expect(await page(phone, 6)).toEqual(from(7));
    // An ack goes back no further than it went.
    await ack(bob, 2);
    expect(await replayed(bob)).toEqual(from(76));
    await ack(phone, 78);
    expect(await page(phone, 78)).toEqual(from(79));
    expect(await page(bob, 75)).toEqual(from(76));
    await ack(bob, 81);
    await ack(phone, 81);
    expect(await page(bob, 0)).toEqual([]);
    expect(await replayed(phone)).toEqual([]);
  }, 20_000);
});
