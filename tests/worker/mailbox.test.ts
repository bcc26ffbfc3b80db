import { describe, expect, it } from "vitest";
import { SELF, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import type { Address } from "../../shared/address.js";
import { randomId16 } from "../../shared/ids.js";
import type { ConversationRef, ConvPayload, MailItem, ServerFrame } from "../../shared/wire/index.js";
import { convEntries, type ConvEntries } from "../../worker/conv-entries.js";
import { API, DOMAIN, accountStub, anotherDevice, call, errorOf, friendRequest, registered, type Device } from "./harness.js";
import { TestGroup } from "./mls.js";

/** Opens the mailbox socket as a device would: a signed ticket request, then the upgrade. */
async function connect(d: Device): Promise<{ ws: WebSocket; frames: ServerFrame[]; next: () => Promise<ServerFrame> }> {
  const { ticket } = (await (await call(d, "POST", "/ws-ticket")).json()) as { ticket: string };
  const res = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
  expect(res.status).toBe(101);
  const ws = res.webSocket!;
  ws.accept();
  const frames: ServerFrame[] = [];
  const waiting: Array<(f: ServerFrame) => void> = [];
  ws.addEventListener("message", (e) => {
    const frame = JSON.parse(e.data as string) as ServerFrame;
    const w = waiting.shift();
    if (w) w(frame);
    else frames.push(frame);
  });
  const next = () => {
    const f = frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise<ServerFrame>((resolve, reject) => {
      waiting.push(resolve);
      setTimeout(() => reject(new Error("no frame within 2 s")), 2000);
    });
  };
  return { ws, frames, next };
}

async function sendRequest(from: Device, to: Device): Promise<void> {
  expect((await call(from, "POST", "/friends/requests", { request: friendRequest(from, to.address) })).status).toBe(202);
}

function itemsOf(frame: ServerFrame): MailItem[] {
  if (frame.t !== "items") throw new Error(`expected items, got ${JSON.stringify(frame)}`);
  return frame.items;
}

describe("mailbox", () => {
  it("pushes new items to an open socket and replays unacknowledged ones on reconnect", async () => {
    const bob = await registered("wsbob");
    const alice = await registered("wsalice");
    const carol = await registered("wscarol");
    const first = await connect(bob);
    await sendRequest(alice, bob);
    const live = await first.next();
    const pushed = itemsOf(live);
    expect(pushed).toMatchObject([{ kind: "friend_request", seq: 1 }]);
    expect(live).not.toHaveProperty("left");
    first.ws.close(1000, "bye");

    await sendRequest(carol, bob);
    const second = await connect(bob);
    const replayed = itemsOf(await second.next());
    expect(replayed.map((i) => i.seq)).toEqual([1, 2]);

    second.ws.send(JSON.stringify({ t: "ack", upTo: 1 }));
    second.ws.send(JSON.stringify({ t: "ping" }));
    expect(await second.next()).toEqual({ t: "pong" });
    second.ws.close(1000, "bye");

    const third = await connect(bob);
    expect(itemsOf(await third.next()).map((i) => i.seq)).toEqual([2]);
    third.ws.close(1000, "bye");
  });

  it("keeps items until every device acknowledged them", async () => {
    const bob = await registered("twodev");
    const phone = anotherDevice(bob);
    await call(bob, "POST", "/account/devices", { deviceCert: phone.cert });
    await sendRequest(await registered("sender"), bob);
    expect((await call(bob, "POST", "/mailbox/ack", { upTo: 2 })).status).toBe(204);
    const forPhone = (await (await call(phone, "GET", "/mailbox?after=0")).json()) as { items: MailItem[]; more: boolean };
    // The phone's own arrival (device_added) came first, then the request.
    expect(forPhone.items.map((i) => [i.seq, i.kind])).toEqual([[1, "device_added"], [2, "friend_request"]]);
    await call(phone, "POST", "/mailbox/ack", { upTo: 2 });
    const after = (await (await call(bob, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] };
    expect(after.items).toEqual([]);
  });

  it("still gives a device what arrives after it acknowledged past the last item it was given", async () => {
    const bob = await registered("ackahead");
    await sendRequest(await registered("early"), bob);
    expect((await call(bob, "POST", "/mailbox/ack", { upTo: 1000 })).status).toBe(204);
    await sendRequest(await registered("late"), bob);
    const { items } = (await (await call(bob, "GET", "/mailbox?after=1")).json()) as { items: MailItem[] };
    expect(items.map((i) => [i.seq, i.kind])).toEqual([[2, "friend_request"]]);
  });

  it("pages the polling fallback, each page saying how many items come after it", async () => {
    const bob = await registered("pager");
    for (let i = 0; i < 3; i++) await sendRequest(await registered("p"), bob);
    const page = (await (await call(bob, "GET", "/mailbox?after=0&limit=2")).json()) as { items: MailItem[]; more: boolean; left: number };
    expect(page.items.map((i) => i.seq)).toEqual([1, 2]);
    expect(page.more).toBe(true);
    expect(page.left).toBe(1);
    const rest = (await (await call(bob, "GET", "/mailbox?after=2&limit=2")).json()) as { items: MailItem[]; more: boolean; left: number };
    expect(rest).toMatchObject({ items: [{ seq: 3 }], more: false, left: 0 });
    expect((await call(bob, "GET", "/mailbox?after=-1")).status).toBe(400);
  });

  it("refuses a page limit outside 1–500 instead of clamping it", async () => {
    const bob = await registered("limits");
    for (const limit of ["0", "501", "00"]) {
      const res = await call(bob, "GET", `/mailbox?after=0&limit=${limit}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toBe("bad_request");
    }
    expect((await call(bob, "GET", "/mailbox?after=0&limit=500")).status).toBe(200);
    expect((await call(bob, "GET", "/mailbox?after=0&limit=1")).status).toBe(200);
  });

  it("writes a device's acks over its socket within a second, and drops the rows every device has, with no read to ask for them", async () => {
    const bob = await registered("ackwrite");
    for (let i = 0; i < 2; i++) await sendRequest(await registered("aw"), bob);
    const c = await connect(bob);
    expect(itemsOf(await c.next()).map((i) => i.seq)).toEqual([1, 2]);
    // Both wait in memory for one write, which also drops what every device has.
    c.ws.send(JSON.stringify({ t: "ack", upTo: 1 }));
    c.ws.send(JSON.stringify({ t: "ack", upTo: 2 }));
    c.ws.send(JSON.stringify({ t: "ping" }));
    expect(await c.next()).toEqual({ t: "pong" });
    const stored = () =>
      runInDurableObject(accountStub(bob.address), async (_i, state) => state.storage.sql.exec<{ acked: number }>("SELECT acked FROM devices WHERE device_id = ?", bob.deviceId).one().acked);
    const rows = () => runInDurableObject(accountStub(bob.address), async (_i, state) => state.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM mailbox").one().n);
    expect(await rows()).toBe(2);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await stored()).toBe(2);
    expect(await rows()).toBe(0);
    c.ws.close(1000, "bye");
  });

  it("answers a bad frame with an error frame and keeps the socket", async () => {
    const bob = await registered("badframe");
    const c = await connect(bob);
    c.ws.send("not json");
    expect(await c.next()).toMatchObject({ t: "error", error: "bad_request" });
    c.ws.send(JSON.stringify({ t: "ack", upTo: "x" }));
    expect(await c.next()).toMatchObject({ t: "error", error: "bad_request" });
    c.ws.send(JSON.stringify({ t: "ping" }));
    expect(await c.next()).toEqual({ t: "pong" });
    c.ws.close(1000, "bye");
  });

  it("admits a WebSocket ticket once, and no forged one", async () => {
    const bob = await registered("ticket");
    const { ticket } = (await (await call(bob, "POST", "/ws-ticket")).json()) as { ticket: string };
    const first = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
    expect(first.status).toBe(101);
    first.webSocket!.accept();
    first.webSocket!.close(1000, "bye");
    const again = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket)}`, { headers: { upgrade: "websocket" } });
    expect(again.status).toBe(401);
    expect(await errorOf(again)).toBe("unauthorized");
    const forged = await SELF.fetch(`${API}/ws?ticket=${encodeURIComponent(ticket.replace(/\..*/, ".AAAAAAAAAAAAAAAAAAAAAA"))}`, { headers: { upgrade: "websocket" } });
    expect(forged.status).toBe(401);
    const garbage = await SELF.fetch(`${API}/ws?ticket=%%%`, { headers: { upgrade: "websocket" } });
    expect(garbage.status).toBe(401);
  });
});

describe("large backlogs", () => {
  it("replays a backlog larger than one WebSocket message (1 MiB) in several frames", async () => {
    const sender = await registered("bigsender");
    const bob = await registered("bigbob");
    const created = await call(sender, "POST", "/conversations", { id: randomId16(), members: [bob.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    // One real message of ~84,000 characters, near maxMessageBytes, sent 14 times.
    const mls = await (await TestGroup.of(sender, conversation)).message("x".repeat(63_000));
    for (let i = 0; i < 14; i++) {
      expect((await call(sender, "POST", `/conversations/${conversation}/messages`, { id: randomId16(), epoch: 0, kind: "application", mls })).status).toBe(202);
    }
    const c = await connect(bob);
    const seqs: number[] = [];
    let frames = 0;
    while (seqs.length < 14) {
      const frame = await c.next();
      seqs.push(...itemsOf(frame).map((i) => i.seq));
      frames++;
      // Each frame of the backlog says how many of its items are still to come.
      expect(frame.t === "items" && frame.left).toBe(14 - seqs.length);
    }
    expect(seqs).toEqual(Array.from({ length: 14 }, (_, i) => i + 1));
    expect(frames).toBeGreaterThan(1);
    c.ws.close(1000, "bye");
  });
});

describe("mailbox expiry", () => {
  it("bounces to its sender a message no device picked up within the TTL", async () => {
    const sender = await registered("expsender");
    const idle = await registered("expidle");
    const created = await call(sender, "POST", "/conversations", { id: randomId16(), members: [idle.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const id = randomId16();
    const mls = await (await TestGroup.of(sender, conversation)).message();
    expect((await call(sender, "POST", `/conversations/${conversation}/messages`, { id, epoch: 0, kind: "application", mls })).status).toBe(202);
    await runInDurableObject(accountStub(idle.address), async (_i, state) => {
      state.storage.sql.exec("UPDATE mailbox SET at = ?", Date.now() - 31 * 86400_000);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(accountStub(idle.address));
    expect(((await (await call(idle, "GET", "/mailbox?after=0")).json()) as { items: unknown[] }).items).toEqual([]);
    const bounced = ((await (await call(sender, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items;
    expect(bounced.filter((i) => i.kind === "bounce")).toMatchObject([{ ref: id, to: idle.address, error: "unavailable" }]);
  });

  it("takes no more of a conversation's messages from an author blocked after the first", async () => {
    const author = await registered("blockauthor");
    const reader = await registered("blockreader");
    const created = await call(author, "POST", "/conversations", { id: randomId16(), members: [reader.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(author, conversation);
    const send = async () => {
      const id = randomId16();
      expect((await call(author, "POST", `/conversations/${conversation}/messages`, { id, epoch: 0, kind: "application", mls: await group.message() })).status).toBe(202);
      return id;
    };
    const read = async () => ((await (await call(reader, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items.flatMap((i) => (i.kind === "conv" ? [i.id] : []));
    const first = await send();
    expect(await read()).toEqual([first]);
    expect((await call(reader, "POST", `/friends/${encodeURIComponent(author.address)}/block`)).status).toBe(204);
    const second = await send();
    expect(await read()).toEqual([first]);
    const bounces = ((await (await call(author, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items.filter((i) => i.kind === "bounce");
    expect(bounces).toMatchObject([{ ref: second, to: reader.address }]);
  }, 20_000);

  it("bounces nothing its devices acknowledged, however the acks came", async () => {
    const sender = await registered("acksender");
    const reader = await registered("ackreader");
    const created = await call(sender, "POST", "/conversations", { id: randomId16(), members: [reader.address] });
    const { conversation } = (await created.json()) as { conversation: string };
    const group = await TestGroup.of(sender, conversation);
    for (let n = 0; n < 3; n++) {
      expect((await call(sender, "POST", `/conversations/${conversation}/messages`, { id: randomId16(), epoch: 0, kind: "application", mls: await group.message() })).status).toBe(202);
      const items = ((await (await call(reader, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items;
      // Each ack takes what came since the last, as a device reading its socket acks frame by frame.
      expect(items).toHaveLength(1);
      expect((await call(reader, "POST", "/mailbox/ack", { upTo: items[0]!.seq })).status).toBe(204);
    }
    await runInDurableObject(accountStub(reader.address), async (_i, state) => {
      state.storage.sql.exec("UPDATE mailbox SET at = ?", Date.now() - 31 * 86400_000);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(accountStub(reader.address));
    const senderMail = ((await (await call(sender, "GET", "/mailbox?after=0")).json()) as { items: MailItem[] }).items;
    expect(senderMail.filter((i) => i.kind === "bounce")).toEqual([]);
  }, 20_000);
});

/** `count` application entries of one conversation on this domain's hub, as a hub's fan-out hands them on. */
function entries(from: Address, conversation: string, count: number, firstHubSeq = 1): ConvPayload[] {
  return Array.from({ length: count }, (_, i) => ({
    conversation: conversation as ConversationRef,
    id: randomId16(),
    hubSeq: firstHubSeq + i,
    from,
    deviceId: randomId16(),
    epoch: 0,
    type: "application" as const,
    mls: `m${firstHubSeq + i}`,
    at: Date.now(),
  }));
}

/** Hands `payloads` to `to`'s Account as one delivery (one batch of a hub's fan-out), the conversation joined. */
async function deliverBatch(to: Address, payloads: ConvPayload[]): Promise<void> {
  await runInDurableObject(accountStub(to), async (instance: { join(c: string): Promise<void>; receiveConvBatch(e: ConvEntries, now: number): Promise<{ outcomes: { ok: boolean }[] }> }) => {
    await instance.join(payloads[0]!.conversation);
    const answer = await instance.receiveConvBatch(convEntries(payloads), Date.now());
    expect(answer.outcomes.every((o) => o.ok)).toBe(true);
  });
}

/** A row as mailboxes stored each item before runs: the content alone, its seq given by SQLite. */
async function insertSingleRow(to: Address, content: object): Promise<void> {
  await runInDurableObject(accountStub(to), async (_i, state) => {
    state.storage.sql.exec("INSERT INTO mailbox (at, kind, content) VALUES (?, ?, ?)", Date.now(), "bounce", JSON.stringify(content));
  });
}

async function page(d: Device, query: string): Promise<{ items: MailItem[]; more: boolean; left?: number }> {
  return (await (await call(d, "GET", `/mailbox?${query}`)).json()) as { items: MailItem[]; more: boolean; left?: number };
}

describe("mailbox runs", () => {
  it("stores a delivery as one run, pushed as one frame, and reads runs and single rows alike, whole or in part", async () => {
    const bob = await registered("runbob");
    const alice = await registered("runalice");
    const conversation = `${DOMAIN}/${randomId16()}`;
    const bounce = (n: number) => ({ kind: "bounce", ref: randomId16(), to: alice.address, error: "unavailable", n });
    await insertSingleRow(bob.address, bounce(1));
    await insertSingleRow(bob.address, bounce(2));
    const live = await connect(bob);
    expect(itemsOf(await live.next())).toMatchObject([{ seq: 1, kind: "bounce" }, { seq: 2, kind: "bounce" }]);
    const sent = entries(alice.address, conversation, 5);
    await deliverBatch(bob.address, sent);
    // The whole delivery in one frame, each item with its seq and arrival time.
    const pushed = itemsOf(await live.next());
    expect(pushed.map((i) => [i.seq, i.kind === "conv" && i.id])).toEqual(sent.map((p, i) => [3 + i, p.id]));
    expect(pushed.every((i) => typeof i.at === "number")).toBe(true);
    live.ws.close(1000, "bye");
    await insertSingleRow(bob.address, bounce(8));

    const whole = await page(bob, "after=0");
    expect(whole.items.map((i) => i.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(whole.items.slice(2, 7)).toEqual(pushed);
    expect(whole.items[7]).toMatchObject({ kind: "bounce", n: 8, seq: 8 });
    // Pages cut inside the run, counting what is left item by item.
    expect(await page(bob, "after=0&limit=3")).toMatchObject({ items: [{ seq: 1 }, { seq: 2 }, { seq: 3 }], more: true, left: 5 });
    expect(await page(bob, "after=3&limit=3")).toMatchObject({ items: [{ seq: 4 }, { seq: 5 }, { seq: 6 }], more: true, left: 2 });
    expect(await page(bob, "after=6&limit=3")).toMatchObject({ items: [{ seq: 7 }, { seq: 8 }], more: false, left: 0 });

    // An ack inside the run hides its acknowledged part from every reader; the replay starts after it.
    expect((await call(bob, "POST", "/mailbox/ack", { upTo: 4 })).status).toBe(204);
    expect((await page(bob, "after=0")).items.map((i) => i.seq)).toEqual([5, 6, 7, 8]);
    const again = await connect(bob);
    const replayed = await again.next();
    expect(itemsOf(replayed).map((i) => i.seq)).toEqual([5, 6, 7, 8]);
    expect(replayed).toMatchObject({ left: 0 });
    again.ws.close(1000, "bye");
  });

  it("bounces, on expiry, a run's items no device acknowledged and none it did", async () => {
    const reader = await registered("runreader");
    const author = await registered("runauthor");
    const sent = entries(author.address, `${DOMAIN}/${randomId16()}`, 3);
    await deliverBatch(reader.address, sent);
    const seqs = (await page(reader, "after=0")).items.map((i) => i.seq);
    expect(seqs).toHaveLength(3);
    expect((await call(reader, "POST", "/mailbox/ack", { upTo: seqs[0] })).status).toBe(204);
    await runInDurableObject(accountStub(reader.address), async (_i, state) => {
      state.storage.sql.exec("UPDATE mailbox SET at = ?", Date.now() - 31 * 86400_000);
      await state.storage.setAlarm(Date.now());
    });
    await runDurableObjectAlarm(accountStub(reader.address));
    expect((await page(reader, "after=0")).items).toEqual([]);
    const bounced = (await page(author, "after=0")).items.filter((i) => i.kind === "bounce");
    expect(bounced.map((i) => i.kind === "bounce" && [i.ref, i.to, i.error])).toEqual(sent.slice(1).map((p) => [p.id, reader.address, "unavailable"]));
  });

  it("never gives a seq again, though every row that had it is gone", async () => {
    const bob = await registered("runseq");
    const alice = await registered("runseqa");
    await insertSingleRow(bob.address, { kind: "bounce", ref: randomId16(), to: alice.address, error: "unavailable" });
    await insertSingleRow(bob.address, { kind: "bounce", ref: randomId16(), to: alice.address, error: "unavailable" });
    await runInDurableObject(accountStub(bob.address), async (_i, state) => {
      state.storage.sql.exec("DELETE FROM mailbox");
    });
    await deliverBatch(bob.address, entries(alice.address, `${DOMAIN}/${randomId16()}`, 2));
    expect((await page(bob, "after=0")).items.map((i) => i.seq)).toEqual([3, 4]);
  });
});
