import { describe, expect, it } from "vitest";
import { SELF } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { randomId16 } from "../../shared/ids.js";
import type { SessionServerFrame } from "../../shared/wire/index.js";
import { API, anotherDevice, befriend, call, registered, type Device } from "./harness.js";
import { frameReader } from "./hub-groups.js";
import { TestGroup } from "./mls.js";
import { HOLD_MS } from "../../worker/stored-copies.js";

/*
 * `got` (PROTOCOL §10) spares only the acker's own account, and only for an entry pushed to the
 * acking session: a member, a second device of the same account, or a session of another
 * conversation cannot make the hub leave someone's copy out of their mailbox.
 */

interface Session {
  ws: WebSocket;
  next: () => Promise<SessionServerFrame>;
}

async function ticketOf(d: Device, conversation: string): Promise<string> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  const { ticket } = (await res.json()) as { ticket: unknown };
  return toB64u(new TextEncoder().encode(jcs(ticket)));
}

async function open(d: Device, conversation: string, ticket?: string): Promise<Session> {
  const up = await SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${ticket ?? (await ticketOf(d, conversation))}`, { headers: { upgrade: "websocket" } });
  expect(up.status).toBe(101);
  const ws = up.webSocket!;
  ws.accept();
  const next = frameReader(ws, 2000);
  return { ws, next };
}

async function conversationOf(a: Device, b: Device): Promise<string> {
  const res = await call(a, "POST", "/conversations", { id: randomId16(), members: [b.address] });
  return ((await res.json()) as { conversation: string }).conversation;
}

async function convSeqsIn(d: Device): Promise<(number | undefined)[]> {
  const mailbox = (await (await call(d, "GET", "/mailbox?after=0")).json()) as { items: { kind: string; conversation?: string; hubSeq?: number }[] };
  return mailbox.items.filter((i) => i.kind === "conv").map((i) => i.hubSeq);
}

async function arrives(d: Device, seq: number): Promise<void> {
  for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if ((await convSeqsIn(d)).includes(seq)) return;
  throw new Error(`hub seq ${seq} never reached ${d.address}'s mailbox`);
}

const got = (s: Session, ...seqs: number[]) => s.ws.send(JSON.stringify({ t: "got", seqs }));

describe("got spares nobody but the acking device's own account", () => {
  it("a member, a second device of the same account and another conversation's session say got in vain", async () => {
    const alice = await registered("gotxa");
    const bob = await registered("gotxb");
    await befriend(alice, bob);
    const conv = await conversationOf(alice, bob);
    const other = await conversationOf(alice, bob);
    const group = await TestGroup.of(alice, conv);
    const a = await open(alice, conv);
    const b = await open(bob, conv);
    const send = async (seq: number) => {
      const id = randomId16();
      a.ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls: await group.message() } }));
      expect(await a.next()).toEqual({ t: "ack", id, seq });
      expect(await b.next()).toMatchObject({ t: "item", item: { hubSeq: seq } });
    };

    // Bob's answered message makes his device the account's only one to the hub (PROTOCOL §7).
    const first = randomId16();
    b.ws.send(JSON.stringify({ t: "submit", submit: { id: first, epoch: 0, kind: "application", mls: await group.message() } }));
    expect(await b.next()).toEqual({ t: "ack", id: first, seq: 1 });
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 1 } });
    await arrives(alice, 1);
    // Bob's device says got once, so the hub waits for its word from now on; what it says then counts.
    await send(2);
    got(b, 2);
    await send(3);
    got(b, 3);
    await send(4);

    // Seq 4 was pushed to Bob's session, which says nothing of it. Alice, a member whose session
    // was not pushed it, says got for it; so does a second device of Bob's account, on a session
    // of its own to this conversation; and Bob's own device on a session of another conversation.
    got(a, 4);
    const phone = anotherDevice(bob);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: phone.cert })).status).toBe(201);
    const p = await open(phone, conv);
    got(p, 4);
    const elsewhere = await open(bob, other);
    got(elsewhere, 4);
    await arrives(bob, 4);
    // Bob's own word did count: seq 3, whose hold ended long before 4's, never came.
    expect(await convSeqsIn(bob)).toEqual([2, 4]);

    // The second device, pushed an entry itself, spares nothing: the hub knows Bob's first device
    // as the account's only one, so its word is not the account's. Bob's first device stays silent.
    await send(5);
    expect(await p.next()).toMatchObject({ t: "item", item: { hubSeq: 5 } });
    got(p, 5);
    await arrives(bob, 5);
    expect(await convSeqsIn(bob)).toEqual([2, 4, 5]);
    for (const s of [a, b, p, elsewhere]) s.ws.close(1000, "bye");
  }, 30_000);

  // PROTOCOL §10 lets the hub hold the acking account's share of an entry's fan-out; the Conversation
  // (30d9726, StoredCopies.settle in fanOut) holds the whole lane's batch instead, so a member that
  // says got once and then stays silent delays every other local account's copy by the hold (1 s)
  // too, message after message. Left failing for R, who is changing worker/stored-copies.ts now.
  it("holds only the silent acker's copy: another account's copy of the same entry goes at once", async () => {
    const alice = await registered("gotha");
    const bob = await registered("gothb");
    // Alice has a second device, so her own account gets a mailbox copy of what she sends (PROTOCOL §6).
    expect((await call(alice, "POST", "/account/devices", { deviceCert: anotherDevice(alice).cert })).status).toBe(201);
    await befriend(alice, bob);
    const conv = await conversationOf(alice, bob);
    const group = await TestGroup.of(alice, conv);
    const a = await open(alice, conv);
    const b = await open(bob, conv);
    const submit = async (s: Session, seq: number) => {
      const id = randomId16();
      s.ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls: await group.message() } }));
      expect(await s.next()).toEqual({ t: "ack", id, seq });
    };
    await submit(b, 1);
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 1 } });
    await arrives(alice, 1);
    await submit(a, 2);
    expect(await b.next()).toMatchObject({ t: "item", item: { hubSeq: 2 } });
    got(b, 2);
    // Bob's device now says got, then falls silent: only his copy of 3 should wait for it.
    await submit(a, 3);
    const acked = Date.now();
    expect(await b.next()).toMatchObject({ t: "item", item: { hubSeq: 3 } });
    await arrives(alice, 3);
    expect(Date.now() - acked).toBeLessThan(HOLD_MS / 2);
    for (const s of [a, b]) s.ws.close(1000, "bye");
  }, 30_000);

  // A session ticket is a bearer credential, and the hub hands a remote author's ticket to every
  // other domain of the conversation as its authorTicket (PROTOCOL §9). A ticket therefore opens one
  // session only (§10): whoever holds a copy of Bob's cannot open a session as his only device, say
  // got, and have the hub leave his mailbox copies out while his real device is away.
  it("a ticket opens one session: a copy of Bob's cannot spare Bob's mailbox its copies", async () => {
    const alice = await registered("gotta");
    const bob = await registered("gottb");
    await befriend(alice, bob);
    const conv = await conversationOf(alice, bob);
    const group = await TestGroup.of(alice, conv);
    const a = await open(alice, conv);
    const ticket = await ticketOf(bob, conv);
    const b = await open(bob, conv, ticket);
    const submit = async (s: Session, seq: number) => {
      const id = randomId16();
      s.ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls: await group.message() } }));
      expect(await s.next()).toEqual({ t: "ack", id, seq });
    };
    // Bob's answered message makes his device the account's only one to the hub (PROTOCOL §7).
    await submit(b, 1);
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 1 } });
    await arrives(alice, 1);
    // The thief's opening with the same ticket is refused, while Bob's session is open and after it closed.
    const stolen = async () => SELF.fetch(`${API}/conversations/${conv}/session?ticket=${ticket}`, { headers: { upgrade: "websocket" } });
    const refused = await stolen();
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: "unauthorized" });
    b.ws.close(1000, "bye");
    expect((await stolen()).status).toBe(401);
    await submit(a, 2);
    await submit(a, 3);
    await arrives(bob, 2);
    await arrives(bob, 3);
    // Bob himself opens sessions as before, each with a fresh ticket.
    const again = await open(bob, conv);
    again.ws.close(1000, "bye");
    a.ws.close(1000, "bye");
  }, 30_000);

  // A got may ride on a submission frame (dd88190): the same rules hold there. Alice's and a second
  // device's sessions carry got for an entry pushed to Bob's silent device on their own submissions.
  it("a got carried by another member's or another device's submissions spares nothing", async () => {
    const alice = await registered("gotca");
    const bob = await registered("gotcb");
    await befriend(alice, bob);
    const conv = await conversationOf(alice, bob);
    const group = await TestGroup.of(alice, conv);
    const mls = await group.message();
    const a = await open(alice, conv);
    const b = await open(bob, conv);
    const carrying = (s: Session, seqs: number[]) => s.ws.send(JSON.stringify({ t: "submits", submits: [{ id: randomId16(), epoch: 0, kind: "application", mls }], got: seqs }));
    // Bob's answered message makes his device the account's only one; his carried got then makes the hub wait for his word.
    const first = randomId16();
    b.ws.send(JSON.stringify({ t: "submit", submit: { id: first, epoch: 0, kind: "application", mls } }));
    expect(await b.next()).toEqual({ t: "ack", id: first, seq: 1 });
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 1 } });
    await arrives(alice, 1);
    const alicePosts = async (seq: number) => {
      a.ws.send(JSON.stringify({ t: "submit", submit: { id: randomId16(), epoch: 0, kind: "application", mls } }));
      expect(await a.next()).toMatchObject({ t: "ack", seq });
      expect(await b.next()).toMatchObject({ t: "item", item: { hubSeq: seq } });
    };
    await alicePosts(2);
    // Bob's first carried got makes the hub wait for his word; his second spares his copy of 4.
    carrying(b, [2]);
    expect(await b.next()).toMatchObject({ t: "acks", acks: [{ seq: 3 }] });
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 3 } });
    await alicePosts(4);
    carrying(b, [4]);
    expect(await b.next()).toMatchObject({ t: "acks", acks: [{ seq: 5 }] });
    expect(await a.next()).toMatchObject({ t: "item", item: { hubSeq: 5 } });
    await alicePosts(6);
    // Seq 6 went to Bob's session, which says nothing of it; Alice and Bob's phone say got for it on their submissions.
    carrying(a, [6]);
    expect(await a.next()).toMatchObject({ t: "acks", acks: [{ seq: 7 }] });
    const phone = anotherDevice(bob);
    expect((await call(bob, "POST", "/account/devices", { deviceCert: phone.cert })).status).toBe(201);
    const p = await open(phone, conv);
    carrying(p, [6]);
    expect(await p.next()).toMatchObject({ t: "acks", acks: [{ seq: 8 }] });
    await arrives(bob, 6);
    expect((await convSeqsIn(bob)).filter((seq) => seq! <= 6)).toEqual([2, 6]);
    for (const s of [a, b, p]) s.ws.close(1000, "bye");
  }, 30_000);
});
