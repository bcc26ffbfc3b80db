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

describe("a delivery that fails part way", () => {
  // A delivery's rows are written in one transaction; should a later one fail (planted here: a row
  // where the second frame ends; a storage limit reached mid-delivery does the same), the device
  // must hold none of its items, whose seqs the next delivery is given.
  it("pushes nothing of a delivery whose rows were not all stored", async () => {
    const bob = await registered("pushfail");
    const remote = newDevice("far", PEER);
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO friends (address, account_key, state, since) VALUES (?, ?, 'friend', ?)", remote.address, toB64u(remote.account.publicKey), Date.now());
    });
    const peer = await trustedPeer();
    const conversation = `${PEER}/${randomId16()}` as ConversationRef;
    const entry = (hubSeq: number, size: number): FedItem => ({
      id: randomId16(), kind: "conv_deliver", conversation, to: [bob.address],
      item: { conversation, id: randomId16(), hubSeq, from: remote.address, deviceId: remote.deviceId, epoch: 1, type: "application", mls: "A".repeat(size), at: Date.now() },
    });
    const { ticket } = (await (await call(bob, "POST", "/ws-ticket")).json()) as { ticket: string };
    const res = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
    const ws = res.webSocket!;
    const pushed: number[] = [];
    ws.addEventListener("message", (e) => {
      const frame = JSON.parse(e.data as string) as ServerFrame;
      if (frame.t === "items") pushed.push(...frame.items.map((i) => i.seq));
    });
    ws.accept();
    expect(await sendFederated(peer, [entry(1, 4)])).toMatchObject([{ ok: true }]);
    // Six entries of ~85 KiB: two frames, seqs 2..6 and 7; seq 7 is taken already.
    await runInDurableObject(accountStub(bob.address), (_i, state) => {
      state.storage.sql.exec("INSERT INTO mailbox (seq, at, kind, content) VALUES (7, ?, 'bounce', ?)", Date.now(), JSON.stringify({ kind: "bounce", ref: randomId16(), to: remote.address, error: "unavailable" }));
    });
    const big = [2, 3, 4, 5, 6, 7].map((hubSeq) => entry(hubSeq, 87_000));
    expect(await sendFederated(peer, big)).toMatchObject(big.map(() => ({ error: "internal" })));
    await new Promise((r) => setTimeout(r, 200));
    ws.close(1000, "bye");
    const stored = await page(bob, 0);
    expect(stored).toEqual([1, 7]);
    expect(pushed).toEqual([1]);
  });
});
