import { accountRecord } from "../../shared/client/account.js";
import { describe, expect, it, vi } from "vitest";
import { type Address, asAddress } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { type Content, encodeContent, newEdit, newReceipt, newText } from "../../shared/content.js";
import { generateKeyPair, keyIdOf } from "../../shared/identity.js";
import { buildDiscoveryDoc } from "../../shared/discovery.js";
import { randomId16 } from "../../shared/ids.js";
import { addMembers, createGroup, encrypt } from "../../shared/mls/group.js";
import { epochOf } from "../../shared/mls/group-state.js";
import { makeKeyPackages } from "../../shared/mls/keypackage.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { signObject } from "../../shared/signed.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { deviceIdentityOf } from "../../shared/client/account-record.js";
import type { ClientEvents, CoreContext } from "../../shared/client/context.js";
import { loadConversation, saveConversation } from "../../shared/client/conversation-record.js";
import { Emitter } from "../../shared/client/events.js";
import { getFriend, sendFriendRequest } from "../../shared/client/friends.js";
import { type ConvOutcome } from "../../shared/client/incoming-conv.js";
import { applyFrames, applyItems } from "../../shared/client/mailbox-sync.js";
import { findMessage, history, saveMessage } from "../../shared/client/messages.js";
import { pending } from "../../shared/client/outgoing-queue.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { searchMessages } from "../../shared/client/search.js";
import { MemoryStore } from "../../shared/client/store.js";
import type { Transport } from "../../shared/client/transport.js";

// These tests feed mailbox items straight in; nothing here may reach a server.
const offline: Transport = {
  fetch: () => Promise.reject(new Error("no network in this test")),
  openSocket: () => {
    throw new Error("no network in this test");
  },
};

// KeyPackages are checked against the real clock, so the tests live in the present.
const NOW = Date.now();

function person(addressText: string): CoreContext {
  const address = asAddress(addressText);
  const accountKeys = generateKeyPair();
  const deviceKeys = generateKeyPair();
  const account = accountRecord(address, accountKeys, deviceKeys, { label: "test", origin: "http://127.0.0.1:9", now: NOW });
  const { deviceCert } = account;
  const clock = { now: () => NOW };
  return { store: new MemoryStore(), api: new ServerApi(offline, clock, account.origin, account.domain), clock, account, events: new Emitter<ClientEvents>() };
}

async function befriend(a: CoreContext, b: CoreContext): Promise<void> {
  await a.store.put(`friend/${b.account.address}`, { address: b.account.address, accountKey: b.account.accountPublicKey, state: "friend", since: NOW });
  await b.store.put(`friend/${a.account.address}`, { address: a.account.address, accountKey: a.account.accountPublicKey, state: "friend", since: NOW });
}

function convItem(seq: number, hubSeq: number, conversation: string, from: CoreContext, type: "welcome" | "application" | "commit", mls: string, epoch: number, id = randomId16()): MailItem {
  return { seq, at: NOW + seq, kind: "conv", conversation: conversation as never, id, hubSeq, from: from.account.address, deviceId: from.account.deviceId, epoch, type, mls };
}

/** Alice starts a 1:1 conversation with Bob the way the client does, and says hello. */
async function aliceWritesToBob() {
  const alice = person("alice#im.alice.test");
  const bob = person("bob#im.bob.test");
  await befriend(alice, bob);
  const [bundle] = await makeKeyPackages(deviceIdentityOf(bob.account), 1, NOW);
  await bob.store.put(`kp/${bundle!.ref}`, bundle);
  const conversation = `im.alice.test/${randomId16()}`;
  const start = await createGroup(deviceIdentityOf(alice.account), conversation);
  const added = await addMembers(start, [bundle!.keyPackage]);
  const hello = newText("hello bob", NOW);
  const sent = await encrypt(added.state, encodeContent(hello));
  await saveConversation(alice, {
    conversation, members: [alice.account.address, bob.account.address], peer: bob.account.address,
    group: encodeGroupState(sent.state), epoch: epochOf(sent.state), lastHubSeq: 1, created: NOW, unread: 0,
  });
  await saveMessage(alice, { id: hello.id, conversation, from: alice.account.address, direction: "out", text: hello.text, at: NOW, status: "sent" });
  const items = [
    convItem(1, 1, conversation, alice, "welcome", added.welcome, 1),
    convItem(2, 2, conversation, alice, "application", sent.mls, 1),
  ];
  return { alice, bob, conversation, hello, items };
}

/** Each conversation's receipt ids waiting in the outgoing queue. */
async function queuedReceipts(ctx: CoreContext): Promise<Map<string, string[]>> {
  const queued = new Map<string, string[]>();
  for (const { conversation, content } of await pending(ctx)) {
    if (content.type === "receipt" && conversation !== undefined) queued.set(conversation, [...(queued.get(conversation) ?? []), ...content.of]);
  }
  return queued;
}

/** What applying `items` asks this device to send: outcomes told, and receipts queued in the store (a batch queues its frame's there). */
async function apply(ctx: CoreContext, items: MailItem[]): Promise<ConvOutcome[]> {
  const before = await queuedReceipts(ctx);
  const outcomes: ConvOutcome[] = [];
  await applyItems(ctx, items, async (o) => void outcomes.push(o));
  for (const [conversation, ids] of await queuedReceipts(ctx)) {
    const added = ids.filter((id) => !before.get(conversation)?.includes(id));
    if (added.length > 0) outcomes.push({ receipts: { conversation, ids: added } });
  }
  return outcomes;
}

describe("incoming mailbox items", () => {
  it("joins from a Welcome and shows the friend's message once, unread, from the friend", async () => {
    const { bob, conversation, items } = await aliceWritesToBob();
    const shown: string[] = [];
    bob.events.on("message", (m) => shown.push(m.text));
    const outcomes = await apply(bob, items);
    expect(shown).toEqual(["hello bob"]);
    const [message] = await history(bob, conversation);
    expect(message).toMatchObject({ text: "hello bob", from: "alice#im.alice.test", direction: "in", status: "received" });
    const record = await loadConversation(bob, conversation);
    expect(record).toMatchObject({ peer: "alice#im.alice.test", unread: 1, lastHubSeq: 2 });
    expect(outcomes.flatMap((o) => o.receipts?.ids ?? [])).toEqual([message!.id]);
    expect(await bob.store.list("kp/")).toEqual([]);
  });

  it("shows nothing twice when the mailbox redelivers after a crash before the cursor was saved", async () => {
    const { bob, conversation, items } = await aliceWritesToBob();
    await apply(bob, items);
    const shown: string[] = [];
    bob.events.on("message", (m) => shown.push(m.text));
    await bob.store.put("mailbox/cursor", 0);
    await apply(bob, items);
    await apply(bob, items);
    expect(shown).toEqual([]);
    expect((await history(bob, conversation)).map((m) => m.text)).toEqual(["hello bob"]);
  });

  it("shows every message once when the hub's order arrives shuffled, as after a server's outbox retried", async () => {
    const { alice, bob, conversation, items } = await aliceWritesToBob();
    let group = await decodeGroupState((await loadConversation(alice, conversation))!.group);
    const later: MailItem[] = [];
    for (const [i, text] of ["one", "two", "three"].entries()) {
      const sent = await encrypt(group, encodeContent(newText(text, NOW + 1 + i)));
      group = sent.state;
      later.push(convItem(3 + i, 3 + i, conversation, alice, "application", sent.mls, 1));
    }
    await apply(bob, items);
    // The mailbox numbers items as they arrive: hub positions 5, 3, 4.
    await apply(bob, [
      { ...later[2]!, seq: 3 },
      { ...later[0]!, seq: 4 },
      { ...later[1]!, seq: 5 },
    ] as MailItem[]);
    expect((await history(bob, conversation)).map((m) => m.text)).toEqual(["hello bob", "one", "two", "three"]);
  });

  it("keeps a message that arrives before its Welcome and shows it once the Welcome comes", async () => {
    const { bob, conversation, items } = await aliceWritesToBob();
    const [welcome, hello] = items as [MailItem, MailItem];
    const early = await apply(bob, [{ ...hello, seq: 1 } as MailItem]);
    expect(await history(bob, conversation)).toEqual([]);
    const late = await apply(bob, [{ ...welcome, seq: 2 } as MailItem]);
    expect((await history(bob, conversation)).map((m) => m.text)).toEqual(["hello bob"]);
    expect([...early, ...late].flatMap((o) => o.receipts?.ids ?? [])).toHaveLength(1);
    expect(await bob.store.list("parked/")).toEqual([]);
  });

  it("marks a message delivered when the friend's device sends its receipt", async () => {
    const { alice, bob, conversation, hello, items } = await aliceWritesToBob();
    const outcomes = await apply(bob, items);
    const ids = outcomes.flatMap((o) => o.receipts?.ids ?? []);
    const bobRecord = (await loadConversation(bob, conversation))!;
    const receipt = await encrypt(await decodeGroupState(bobRecord.group), encodeContent(newReceipt(ids, "delivered", NOW)));
    const statuses: string[] = [];
    alice.events.on("status", (m) => statuses.push(m.status));
    await apply(alice, [convItem(5, 3, conversation, bob, "application", receipt.mls, 1)]);
    expect(statuses).toEqual(["delivered"]);
    expect((await findMessage(alice, hello.id))?.status).toBe("delivered");
  });

  it("reports a garbage conversation item as a message that could not be read, without stalling the mailbox", async () => {
    const { alice, bob, conversation, items } = await aliceWritesToBob();
    const garbage = convItem(3, 3, conversation, alice, "application", toB64u(new Uint8Array(40)), 1);
    const upTo = await applyItems(bob, [...items, garbage], async () => undefined);
    expect(upTo).toBe(3);
    const shown = await history(bob, conversation);
    expect(shown.filter((m) => !m.notice).map((m) => m.text)).toEqual(["hello bob"]);
    expect(shown.filter((m) => m.notice).map((m) => m.notice)).toEqual([{ type: "unreadable", by: alice.account.address }]);
  });

  it("reads a frame of many messages with a few store reads, not a few per message, each shown once and in order", async () => {
    const { alice, bob, conversation, items } = await aliceWritesToBob();
    await apply(bob, items);
    let group = await decodeGroupState((await loadConversation(alice, conversation))!.group);
    const send = async (content: Parameters<typeof encodeContent>[0]) => {
      const sent = await encrypt(group, encodeContent(content));
      group = sent.state;
      return sent.mls;
    };
    const texts = Array.from({ length: 60 }, (_, i) => newText(`word${i}`, NOW + 1 + i));
    const frame: MailItem[] = [];
    for (const text of texts.slice(0, 30)) frame.push(convItem(3 + frame.length, 3 + frame.length, conversation, alice, "application", await send(text), 1));
    // An edit of a message later in the frame (held until it comes), then one that cannot be read.
    frame.push(convItem(3 + frame.length, 3 + frame.length, conversation, alice, "application", await send(newEdit(texts[40]!.id, "changed words", NOW + 100)), 1));
    frame.push(convItem(3 + frame.length, 3 + frame.length, conversation, alice, "application", toB64u(new Uint8Array(40)), 1));
    for (const text of texts.slice(30)) frame.push(convItem(3 + frame.length, 3 + frame.length, conversation, alice, "application", await send(text), 1));
    const shown: string[] = [];
    bob.events.on("message", (m) => void (m.notice || shown.push(m.text)));
    const summaries: number[] = [];
    bob.events.on("conversation", (c) => summaries.push(c.unread));
    const reads = [vi.spyOn(bob.store, "get"), vi.spyOn(bob.store, "list"), vi.spyOn(bob.store as MemoryStore, "getMany")];

    // Read a minute after they were sent: a time to come would be placed at the reader's clock (PROTOCOL §8).
    const outcomes = await apply({ ...bob, clock: { now: () => NOW + 60_000 } }, frame);
    expect(reads.reduce((n, spy) => n + spy.mock.calls.length, 0)).toBeLessThan(20);
    expect(shown).toEqual(texts.map((t) => t.text));
    const stored = await history(bob, conversation, { limit: 100 });
    expect(stored.filter((m) => !m.notice).map((m) => m.text)).toEqual(["hello bob", ...texts.map((t, i) => (i === 40 ? "changed words" : t.text))]);
    expect(stored.filter((m) => m.notice).map((m) => m.notice)).toEqual([{ type: "unreadable", by: alice.account.address }]);
    // The chat list hears of the conversation once, as it is after the frame.
    expect(summaries).toEqual([61]);
    expect(outcomes.flatMap((o) => o.receipts?.ids ?? [])).toEqual(texts.map((t) => t.id));
    expect((await searchMessages(bob, "word40")).map((m) => m.text)).toEqual([]);
    expect((await searchMessages(bob, "changed")).map((m) => m.id)).toEqual([texts[40]!.id]);
    expect((await searchMessages(bob, "word59")).map((m) => m.id)).toEqual([texts[59]!.id]);
  });
});

describe("a backlog of frames", () => {
  /** Bob has read Alice's hello (seq 1-2); she writes six more texts, in two frames of three (seq 3-8). */
  async function twoFrames() {
    const { alice, bob, conversation, items } = await aliceWritesToBob();
    await apply(bob, items);
    let group = await decodeGroupState((await loadConversation(alice, conversation))!.group);
    const frames: Array<{ items: MailItem[]; left: number }> = [];
    const contents: Content[] = [];
    for (let i = 0; i < 6; i++) {
      const content = newText(`text ${i}`, NOW + 1 + i);
      contents.push(content);
      const sent = await encrypt(group, encodeContent(content));
      group = sent.state;
      if (i % 3 === 0) frames.push({ items: [], left: 3 - i });
      // Under its content id, as a client submits a text the first time.
      frames.at(-1)!.items.push(convItem(3 + i, 3 + i, conversation, alice, "application", sent.mls, 1, content.id));
    }
    return { alice, bob, conversation, frames, group, contents };
  }

  it("reads the next frame while the one before is written, and hears of each in order once it is stored", async () => {
    const { bob, conversation, frames } = await twoFrames();
    const store = bob.store as MemoryStore;
    const write = store.putMany.bind(store);
    const gates: Array<() => void> = [];
    store.putMany = async (entries) => {
      await new Promise<void>((open) => gates.push(open));
      await write(entries);
    };
    const heard: string[] = [];
    bob.events.on("message", (m) => heard.push(m.text));
    let taken = 0;
    // The caller says more may come after each frame: only the end of the frames finishes the last.
    const applying = applyFrames(
      bob,
      () => (taken++, frames.shift()),
      () => true,
      async () => undefined,
      async (_frame, upTo) => void heard.push(`stored up to ${upTo}`),
    );

    // Both frames are read (the second from what the first is still writing) before the first is in the store.
    await vi.waitFor(() => expect(taken).toBe(3));
    expect(gates).toHaveLength(1);
    expect(heard).toEqual([]);
    expect(await history(bob, conversation)).toHaveLength(1);
    gates[0]!();
    await vi.waitFor(() => expect(gates).toHaveLength(2));
    expect(heard).toEqual(["text 0", "text 1", "text 2", "stored up to 5"]);
    gates[1]!();
    await applying;
    expect(heard.slice(4)).toEqual(["text 3", "text 4", "text 5", "stored up to 8"]);
    expect((await history(bob, conversation)).map((m) => m.text)).toEqual(["hello bob", ...[0, 1, 2, 3, 4, 5].map((i) => `text ${i}`)]);
    expect((await loadConversation(bob, conversation))?.unread).toBe(7);
  });

  it("asks the store for all of a frame's reads at once, before it writes the frame before (IndexedDB holds a read back until a write begun before it commits)", async () => {
    const { bob, conversation, frames } = await twoFrames();
    const store = bob.store as MemoryStore;
    const calls: string[] = [];
    const getMany = store.getMany.bind(store);
    const putMany = store.putMany.bind(store);
    const list = store.list.bind(store);
    store.getMany = (keys) => (calls.push(`read ${keys.filter((key) => key.startsWith("msgid/")).length} message ids`), getMany(keys));
    store.list = (prefix) => (calls.push("list"), list(prefix));
    store.putMany = (entries) => (calls.push("write"), putMany(entries));
    await applyFrames(bob, () => frames.shift(), (frame) => frame.left > 0, async () => undefined, async () => undefined);
    // Each frame's records, lookups by id and listings (changes held, the outgoing queue) go before any write; none after one.
    expect(calls.filter((call) => call !== "list")).toEqual(["read 3 message ids", "read 3 message ids", "write", "write"]);
    expect(calls.lastIndexOf("list")).toBeLessThan(calls.indexOf("write"));
    expect((await history(bob, conversation)).map((m) => m.text)).toEqual(["hello bob", ...[0, 1, 2, 3, 4, 5].map((i) => `text ${i}`)]);
  });

  it("stores a text sent again under a Submit id of its own once, found by its content id", async () => {
    const { alice, bob, conversation, frames, group, contents } = await twoFrames();
    await applyFrames(bob, () => frames.shift(), (frame) => frame.left > 0, async () => undefined, async () => undefined);
    const first = await history(bob, conversation);
    // The same texts again, as a sender's Retry submits them: encrypted anew, under new Submit ids.
    let state = group;
    const again: Array<{ items: MailItem[]; left: number }> = [{ items: [], left: 0 }];
    for (const [i, content] of contents.entries()) {
      const sent = await encrypt(state, encodeContent(content));
      state = sent.state;
      again[0]!.items.push(convItem(9 + i, 9 + i, conversation, alice, "application", sent.mls, 1));
    }
    await applyFrames(bob, () => again.shift(), () => false, async () => undefined, async () => undefined);
    expect(await history(bob, conversation)).toEqual(first);
    expect(first.map((m) => m.text)).toEqual(["hello bob", ...[0, 1, 2, 3, 4, 5].map((i) => `text ${i}`)]);
  });

  it("stores and acknowledges nothing after a frame whose write failed, and takes it from there the next time", async () => {
    const { bob, conversation, frames } = await twoFrames();
    const store = bob.store as MemoryStore;
    const write = store.putMany.bind(store);
    store.putMany = async () => {
      throw new Error("the disk is full");
    };
    const stored: number[] = [];
    const again = frames.map((frame) => ({ ...frame }));
    await expect(applyFrames(bob, () => frames.shift(), (frame) => frame.left > 0, async () => undefined, async (_frame, upTo) => void stored.push(upTo))).rejects.toThrow("the disk is full");
    expect(stored).toEqual([]);
    expect(await history(bob, conversation)).toHaveLength(1);

    store.putMany = write;
    await applyFrames(bob, () => again.shift(), (frame) => frame.left > 0, async () => undefined, async (_frame, upTo) => void stored.push(upTo));
    expect(stored).toEqual([5, 8]);
    expect((await history(bob, conversation)).map((m) => m.text)).toHaveLength(7);
  });

  it("queues a frame's delivery receipts in the write that stores its messages, so neither is kept without the other", async () => {
    const { bob, conversation, frames } = await twoFrames();
    const store = bob.store as MemoryStore;
    const write = store.putMany.bind(store);
    const writes: Array<Array<[string, unknown]>> = [];
    store.putMany = async (entries) => {
      writes.push(entries);
      if (writes.length === 2) throw new Error("the disk is full");
      await write(entries);
    };
    const before = (await queuedReceipts(bob)).get(conversation) ?? [];
    await expect(applyFrames(bob, () => frames.shift(), (frame) => frame.left > 0, async () => undefined, async () => undefined)).rejects.toThrow("the disk is full");
    const stored = (await history(bob, conversation)).filter((m) => m.text.startsWith("text "));
    expect(stored.map((m) => m.text)).toEqual(["text 0", "text 1", "text 2"]);
    // The first frame's write held its messages and their receipt; the second's failed whole, receipt and all.
    expect(writes[0]!.some(([key]) => key.startsWith("out/"))).toBe(true);
    expect(((await queuedReceipts(bob)).get(conversation) ?? []).filter((id) => !before.includes(id))).toEqual(stored.map((m) => m.id));
  });
});

describe("incoming friend requests", () => {
  function request(from: CoreContext, to: Address, signWith = from) {
    const body = { from: from.account.address, to, accountKey: from.account.accountPublicKey, created: NOW, id: randomId16(), note: "hi, it's me" };
    return signObject(Uint8Array.from(Buffer.from(signWith.account.accountPrivateKey, "base64url")), "friend-request", body);
  }

  it("shows a signed request with its note", async () => {
    const alice = person("alice#im.alice.test");
    const bob = person("bob#im.bob.test");
    await apply(bob, [{ seq: 1, at: NOW, kind: "friend_request", signed: request(alice, bob.account.address) } as MailItem]);
    expect(await getFriend(bob, alice.account.address)).toMatchObject({ state: "incoming", note: "hi, it's me", accountKey: alice.account.accountPublicKey });
  });

  it("shows a request refused when the refusal comes back before the server's answer to sending it", async () => {
    const alice = person("alice#im.alice.test");
    const serverKey = generateKeyPair();
    const json = (status: number, body: unknown) => ({ status, text: async () => JSON.stringify(body) });
    // Erin blocked Alice: her server refuses at once, and the bounce reaches Alice's socket while her POST is still answering.
    const transport: Transport = {
      fetch: async (url, init) => {
        if (new URL(url).pathname === "/.well-known/emsg") {
          return json(200, buildDiscoveryDoc({ domain: alice.account.domain, keys: [{ kid: keyIdOf(serverKey.publicKey), key: serverKey.publicKey }], software: "test" }));
        }
        const { request } = JSON.parse(String(init.body)) as { request: { body: { id: string } } };
        await apply(alice, [{ seq: 1, at: NOW, kind: "bounce", ref: request.body.id, to: "erin#im.bob.test", error: "forbidden" } as MailItem]);
        return json(202, {});
      },
      openSocket: offline.openSocket,
    };
    const ctx = { ...alice, api: new ServerApi(transport, alice.clock, alice.account.origin, alice.account.domain) };
    const shown = await sendFriendRequest(ctx, asAddress("erin#im.bob.test"), "hello?");
    expect(shown).toMatchObject({ state: "outgoing", bounced: "forbidden" });
    expect(await getFriend(alice, asAddress("erin#im.bob.test"))).toMatchObject({ bounced: "forbidden" });
  });

  it("keeps nothing of a request the server did not take", async () => {
    const alice = person("alice#im.alice.test");
    await expect(sendFriendRequest(alice, asAddress("erin#im.bob.test"), "hello?")).rejects.toThrow(/cannot be reached/);
    expect(await getFriend(alice, asAddress("erin#im.bob.test"))).toBeUndefined();
  });

  it("ignores a request whose signature is not by the key it carries", async () => {
    const alice = person("alice#im.alice.test");
    const mallory = person("mallory#im.alice.test");
    const bob = person("bob#im.bob.test");
    await apply(bob, [{ seq: 1, at: NOW, kind: "friend_request", signed: request(alice, bob.account.address, mallory) } as MailItem]);
    expect(await getFriend(bob, alice.account.address)).toBeUndefined();
  });
});
