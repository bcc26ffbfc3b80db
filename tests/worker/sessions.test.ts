import { describe, expect, it } from "vitest";
import { SELF, env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { jcs } from "../../shared/canonical.js";
import { toB64u } from "../../shared/base64url.js";
import { generateKeyPair } from "../../shared/identity.js";
import { randomId16 } from "../../shared/ids.js";
import { signObject } from "../../shared/signed.js";
import { MAX_SESSION_SUBMITS, type SessionServerFrame } from "../../shared/wire/index.js";
import { API, anotherDevice, befriend, call, errorOf, registered, type Device } from "./harness.js";
import { frameReader } from "./hub-groups.js";
import { TestGroup } from "./mls.js";
import { HOLD_MS } from "../../worker/stored-copies.js";
import type { Sessions, SessionTag } from "../../worker/sessions.js";

async function ticketFor(d: Device, conversation: string): Promise<string> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  const { ticket, hub, api } = (await res.json()) as { ticket: unknown; hub: string; api: string };
  expect(hub).toBe(conversation.split("/")[0]);
  // The hub is this server: the client is told to open its session right here.
  expect(api).toBe(API);
  return toB64u(new TextEncoder().encode(jcs(ticket)));
}

function openSession(conversation: string, ticket: string): Promise<Response> {
  return SELF.fetch(`${API}/conversations/${conversation}/session?ticket=${ticket}`, { headers: { upgrade: "websocket" } });
}


async function conversationOf(a: Device, b: Device): Promise<string> {
  await befriend(a, b);
  const res = await call(a, "POST", "/conversations", { id: randomId16(), members: [b.address] });
  return ((await res.json()) as { conversation: string }).conversation;
}

/** Alice and Bob, friends with a conversation hosted here, each with an open session to it. */
async function twoSessions(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  const conv = await conversationOf(alice, bob);
  const a = await openSession(conv, await ticketFor(alice, conv));
  const b = await openSession(conv, await ticketFor(bob, conv));
  expect([a.status, b.status]).toEqual([101, 101]);
  const [wa, wb] = [a.webSocket!, b.webSocket!];
  wa.accept();
  wb.accept();
  return { alice, bob, conv, wa, wb, nextA: frameReader(wa, 2000), nextB: frameReader(wb, 2000), group: await TestGroup.of(alice, conv) };
}

/** The hub positions of the conversation items in someone's mailbox. */
async function convSeqsIn(d: Device): Promise<(number | undefined)[]> {
  const mailbox = (await (await call(d, "GET", "/mailbox?after=0")).json()) as { items: { kind: string; hubSeq?: number }[] };
  return mailbox.items.filter((i) => i.kind === "conv").map((i) => i.hubSeq);
}

describe("sessions", () => {
  it("lets members submit straight to the hub and see each other's entries at once", async () => {
    const { alice, bob, wa, wb, nextA, nextB, group } = await twoSessions("ses");

    const id = randomId16();
    wa.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls: await group.message() } }));
    // The submitter gets the ack, not its own entry back.
    expect(await nextA()).toEqual({ t: "ack", id, seq: 1 });
    expect(await nextB()).toMatchObject({ t: "item", item: { id, hubSeq: 1 } });

    wb.send(JSON.stringify({ t: "rtc", to: `${alice.address}/${alice.deviceId}`, data: { type: "offer", sdp: "v=0" } }));
    expect(await nextA()).toEqual({ t: "rtc", from: `${bob.address}/${bob.deviceId}`, data: { type: "offer", sdp: "v=0" } });
    wa.send(JSON.stringify({ t: "rtc", to: `${bob.address}/${bob.deviceId}`, data: { type: "hello" } }));
    expect(await nextB()).toEqual({ t: "rtc", from: `${alice.address}/${alice.deviceId}`, data: { type: "hello" } });

    const lost = await group.commit(true);
    wb.send(JSON.stringify({ t: "submit", submit: { id: randomId16(), epoch: 0, kind: "commit", mls: await group.commit() } }));
    expect(await nextB()).toMatchObject({ t: "ack", seq: 2 });
    expect(await nextA()).toMatchObject({ t: "item", item: { type: "commit", hubSeq: 2 } });
    const stale = randomId16();
    wb.send(JSON.stringify({ t: "submit", submit: { id: stale, epoch: 0, kind: "commit", mls: lost } }));
    expect(await nextB()).toMatchObject({ t: "error", error: "stale_epoch", id: stale });
    wb.send("nonsense");
    const garbage = await nextB();
    expect(garbage).toMatchObject({ t: "error", error: "bad_request" });
    expect(garbage).not.toHaveProperty("id");
    wa.close(1000, "bye");
    wb.close(1000, "bye");

    expect(await convSeqsIn(bob)).toEqual([1, 2]);
  });

  it("orders a burst sent in one frame and answers it with one acks frame, refusals apart", async () => {
    const { bob, wa, wb, nextA, nextB, group } = await twoSessions("sesb");

    const [first, second, stale, third] = [randomId16(), randomId16(), randomId16(), randomId16()];
    const mls = await group.message();
    const application = (id: string) => ({ id, epoch: 0, kind: "application", mls });
    // A commit of an epoch the hub is not at (its group went on without the hub).
    await group.commit();
    const elsewhere = { id: stale, epoch: 1, kind: "commit", mls: await group.commit(true) };
    const submits = [application(first), application(second), elsewhere, application(third)];
    wa.send(JSON.stringify({ t: "submits", submits }));
    expect(await nextA()).toMatchObject({ t: "error", error: "stale_epoch", id: stale });
    expect(await nextA()).toEqual({ t: "acks", acks: [{ id: first, seq: 1 }, { id: second, seq: 2 }, { id: third, seq: 3 }] });
    for (const [id, hubSeq] of [[first, 1], [second, 2], [third, 3]] as const) expect(await nextB()).toMatchObject({ t: "item", item: { id, hubSeq } });

    // A retry of the same frame is answered with the same positions, nothing ordered twice.
    wa.send(JSON.stringify({ t: "submits", submits: [application(first), application(third)] }));
    expect(await nextA()).toEqual({ t: "acks", acks: [{ id: first, seq: 1 }, { id: third, seq: 3 }] });

    for (const bad of [[], Array.from({ length: MAX_SESSION_SUBMITS + 1 }, () => application(randomId16()))]) {
      wa.send(JSON.stringify({ t: "submits", submits: bad }));
      const refused = await nextA();
      expect(refused).toMatchObject({ t: "error", error: "bad_request" });
      expect(refused).not.toHaveProperty("id");
    }
    wa.close(1000, "bye");
    wb.close(1000, "bye");
    expect(await convSeqsIn(bob)).toEqual([1, 2, 3]);
  });

  it("judges each submission of a burst after the commits before it, and a repeated id as a retry", async () => {
    const { wa, wb, nextA, nextB, group } = await twoSessions("sesc");

    const [twice, ahead, commit, after, late] = [randomId16(), randomId16(), randomId16(), randomId16(), randomId16()];
    const [atZero, lateOne] = [await group.message(), await group.message()];
    const theCommit = await group.commit();
    const atOne = await group.message();
    const submit = (id: string, epoch: number, mls: string, kind = "application") => ({ id, epoch, kind, mls });
    wa.send(JSON.stringify({
      t: "submits",
      submits: [submit(twice, 0, atZero), submit(twice, 0, atZero), submit(ahead, 1, atOne), submit(commit, 0, theCommit, "commit"), submit(after, 1, atOne), submit(late, 0, lateOne)],
    }));
    expect(await nextA()).toMatchObject({ t: "error", error: "bad_request", id: ahead });
    expect(await nextA()).toMatchObject({ t: "error", error: "stale_epoch", id: late });
    expect(await nextA()).toEqual({ t: "acks", acks: [{ id: twice, seq: 1 }, { id: twice, seq: 1 }, { id: commit, seq: 2 }, { id: after, seq: 3 }] });
    for (const [id, hubSeq] of [[twice, 1], [commit, 2], [after, 3]] as const) expect(await nextB()).toMatchObject({ t: "item", item: { id, hubSeq } });
    wa.close(1000, "bye");
    wb.close(1000, "bye");
  });

  it("answers a burst's retry of an earlier burst's id with its first seq, and gives the burst's new entries the next seqs, none left out", async () => {
    const { wa, wb, nextA, nextB, group } = await twoSessions("sesr");
    const [first, before, after] = [randomId16(), randomId16(), randomId16()];
    const submit = async (id: string) => ({ id, epoch: 0, kind: "application", mls: await group.message() });
    const retried = await submit(first);
    wa.send(JSON.stringify({ t: "submits", submits: [retried] }));
    expect(await nextA()).toEqual({ t: "acks", acks: [{ id: first, seq: 1 }] });
    wa.send(JSON.stringify({ t: "submits", submits: [await submit(before), retried, await submit(after)] }));
    expect(await nextA()).toEqual({ t: "acks", acks: [{ id: before, seq: 2 }, { id: first, seq: 1 }, { id: after, seq: 3 }] });
    for (const [id, hubSeq] of [[first, 1], [before, 2], [after, 3]] as const) expect(await nextB()).toMatchObject({ t: "item", item: { id, hubSeq } });
    wa.close(1000, "bye");
    wb.close(1000, "bye");
  });

  it("refuses non-members, forged and stale tickets", async () => {
    const alice = await registered("sesx");
    const bob = await registered("sesy");
    const eve = await registered("sesz");
    const conv = await conversationOf(alice, bob);
    const outsider = await openSession(conv, await ticketFor(eve, conv));
    expect(outsider.status).toBe(403);
    const forgedBody = { address: eve.address, deviceId: eve.deviceId, conversation: conv, hub: conv.split("/")[0], exp: Date.now() + 60_000 };
    const forged = toB64u(new TextEncoder().encode(jcs(signObject(generateKeyPair().privateKey, "session-ticket", { ...forgedBody, address: bob.address }))));
    const res = await openSession(conv, forged);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toBe("unauthorized");
    const other = await conversationOf(alice, await registered("sesw"));
    expect((await openSession(other, await ticketFor(bob, conv))).status).toBe(401);
  });
});

describe("session tickets naming other domains", () => {
  it("refuses a ticket for someone who is no member before looking up the domain it names (no fetch for an open request)", async () => {
    const alice = await registered("sesfa");
    const bob = await registered("sesfb");
    const conv = await conversationOf(alice, bob);
    const hub = conv.split("/")[0]!;
    for (const domain of ["im.nowhere.test", "im.elsewhere.test"]) {
      const body = { address: `mallory#${domain}`, deviceId: randomId16(), conversation: conv, hub, exp: Date.now() + 60_000 };
      const ticket = toB64u(new TextEncoder().encode(jcs(signObject(generateKeyPair().privateKey, "session-ticket", body))));
      const res = await openSession(conv, ticket);
      expect(res.status).toBe(403);
      expect(await errorOf(res)).toBe("forbidden");
    }
  });
});

describe("idle sessions", () => {
  it("closes a session nobody used for sessionIdleSeconds", async () => {
    const alice = await registered("idlea");
    const bob = await registered("idleb");
    const conv = await conversationOf(alice, bob);
    const res = await openSession(conv, await ticketFor(alice, conv));
    const ws = res.webSocket!;
    ws.accept();
    const closed = new Promise<number>((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
    const hub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conv));
    await retagSessions(conv, { lastSeen: Date.now() - 301_000 });
    await runInDurableObject(hub, (_i, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(hub);
    expect(await closed).toBe(4004);
  });
});

/** A fresh ticket from the member's own server, as the signed object a `renew` frame carries. */
async function freshTicket(d: Device, conversation: string): Promise<{ body: { exp: number } }> {
  const res = await call(d, "POST", "/sessions/ticket", { conversation });
  expect(res.status).toBe(200);
  return ((await res.json()) as { ticket: { body: { exp: number } } }).ticket;
}

function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.addEventListener("close", (e) => resolve(e.code)));
}

/** Changes the tags of the hub's sessions (of `address` only, when given) through the hub's own Sessions, which keeps them. */
async function retagSessions(conv: string, change: Partial<SessionTag>, address?: string): Promise<void> {
  await runInDurableObject(env.CONVERSATION.get(env.CONVERSATION.idFromName(conv)), (instance, state) => {
    const { sessions } = instance as unknown as { sessions: Sessions };
    for (const s of state.getWebSockets(address)) sessions.retag(s, { ...sessions.tag(s)!, ...change });
  });
}

/** Sets when the tickets of the hub's sessions (of `address` only, when given) expire, as if time had passed. */
function ticketsExpire(conv: string, exp: number, address?: string): Promise<void> {
  return retagSessions(conv, { exp }, address);
}

/** A ping the hub reads itself (not the exact keep-alive text it answers without waking). */
const SPACED_PING = '{ "t": "ping" }';

describe("session tickets: a session lasts as long as its latest ticket", () => {
  it("closes a session whose ticket expired (4001) on its next frame, and instead of relaying to it", async () => {
    const { alice, conv, wa, wb, nextA, nextB } = await twoSessions("exp");
    const [closedA, closedB] = [closeCode(wa), closeCode(wb)];
    await ticketsExpire(conv, Date.now() - 1, alice.address);
    // Bob's relay finds Alice's ticket expired: she is closed, not sent it.
    wb.send(JSON.stringify({ t: "rtc", to: `${alice.address}/${alice.deviceId}`, data: { type: "hello" } }));
    expect(await closedA).toBe(4001);
    await expect(nextA()).rejects.toThrow(/no frame/);
    wb.send(SPACED_PING);
    expect(await nextB()).toEqual({ t: "pong" });
    // Bob's own next frame after his ticket ran out closes his.
    await ticketsExpire(conv, Date.now() - 1);
    wb.send(SPACED_PING);
    expect(await closedB).toBe(4001);
  });

  it("closes an expired session that only pings, by the hub's alarm", async () => {
    const { conv, wa } = await twoSessions("expalarm");
    const closed = closeCode(wa);
    wa.send(JSON.stringify({ t: "ping" }));
    await ticketsExpire(conv, Date.now() - 1);
    const hub = env.CONVERSATION.get(env.CONVERSATION.idFromName(conv));
    await runInDurableObject(hub, (_i, state) => state.storage.setAlarm(Date.now()));
    await runDurableObjectAlarm(hub);
    expect(await closed).toBe(4001);
  });

  it("keeps a session open past its first ticket when a fresh one renews it", async () => {
    const { alice, conv, wa, wb, nextA, nextB, group } = await twoSessions("renew");
    await ticketsExpire(conv, Date.now() + 500, alice.address);
    const ticket = await freshTicket(alice, conv);
    wa.send(JSON.stringify({ t: "renew", ticket }));
    expect(await nextA()).toEqual({ t: "renewed", exp: ticket.body.exp });
    expect(ticket.body.exp - Date.now()).toBeGreaterThan(4 * 60_000);
    await new Promise((r) => setTimeout(r, 700));
    wa.send(SPACED_PING);
    expect(await nextA()).toEqual({ t: "pong" });
    // Pushed to as well: the hub's push reads the renewed session, not the one it first knew.
    const id = randomId16();
    wb.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls: await group.message() } }));
    expect(await nextB()).toEqual({ t: "ack", id, seq: 1 });
    expect(await nextA()).toMatchObject({ t: "item", item: { id, hubSeq: 1 } });
  });

  it("refuses a renewal with another device's, another conversation's or a forged ticket; the session still ends", async () => {
    const { alice, bob, conv, wa, nextA } = await twoSessions("renewbad");
    const other = await conversationOf(alice, await registered("renewc"));
    const forged = signObject(generateKeyPair().privateKey, "session-ticket", (await freshTicket(alice, conv)).body);
    for (const ticket of [await freshTicket(bob, conv), await freshTicket(alice, other), forged]) {
      wa.send(JSON.stringify({ t: "renew", ticket }));
      const refused = await nextA();
      expect(refused).toMatchObject({ t: "error", error: "unauthorized" });
      expect(refused).not.toHaveProperty("id");
    }
    const closed = closeCode(wa);
    await ticketsExpire(conv, Date.now() - 1);
    wa.send(SPACED_PING);
    expect(await closed).toBe(4001);
  });

  it("takes no renewal once the ticket has run out: the session is closed instead", async () => {
    const { alice, conv, wa } = await twoSessions("renewlate");
    const ticket = await freshTicket(alice, conv);
    const closed = closeCode(wa);
    await ticketsExpire(conv, Date.now() - 1);
    wa.send(JSON.stringify({ t: "renew", ticket }));
    expect(await closed).toBe(4001);
  });

  it("leaves out of a mailbox only what the account's only device said it stored over its session", async () => {
    const { alice, bob, wa, wb, nextA, nextB, group } = await twoSessions("got");
    const mls = await group.message();
    const send = async (ws: WebSocket, next: () => Promise<SessionServerFrame>, seq: number) => {
      const id = randomId16();
      ws.send(JSON.stringify({ t: "submit", submit: { id, epoch: 0, kind: "application", mls } }));
      expect(await next()).toEqual({ t: "ack", id, seq });
    };
    const got = (...seqs: number[]) => wb.send(JSON.stringify({ t: "got", seqs }));
    const arrives = async (d: Device, seq: number) => {
      for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if ((await convSeqsIn(d)).includes(seq)) return;
      throw new Error(`hub seq ${seq} never reached ${d.address}'s mailbox`);
    };

    // Bob's own message, answered over his session: his account tells the hub this is its only device (PROTOCOL §7).
    await send(wb, nextB, 1);
    expect(await nextA()).toMatchObject({ t: "item", item: { hubSeq: 1 } });
    await arrives(alice, 1);
    // Until his device first says `got`, nothing waits for it: this copy goes as before.
    await send(wa, nextA, 2);
    expect(await nextB()).toMatchObject({ t: "item", item: { hubSeq: 2 } });
    await arrives(bob, 2);
    got(2);
    // Stored and said so: no mailbox copy.
    await send(wa, nextA, 3);
    expect(await nextB()).toMatchObject({ t: "item", item: { hubSeq: 3 } });
    got(3);
    // A `got` before the entry was pushed counts for nothing; unsaid, the copy waits for the hold, then goes.
    got(4);
    // Answered after the `got` by the hub: it read that first.
    wb.send("nonsense");
    expect(await nextB()).toMatchObject({ t: "error", error: "bad_request" });
    await send(wa, nextA, 4);
    expect(await nextB()).toMatchObject({ t: "item", item: { hubSeq: 4 } });
    expect(await convSeqsIn(bob)).toEqual([2]);
    await arrives(bob, 4);
    // A session closed before its `got`: the copy goes at once, not only when the hold ends.
    await send(wa, nextA, 5);
    expect(await nextB()).toMatchObject({ t: "item", item: { hubSeq: 5 } });
    const closedAt = Date.now();
    wb.close(1000, "bye");
    await arrives(bob, 5);
    expect(Date.now() - closedAt).toBeLessThan(HOLD_MS);
    wa.close(1000, "bye");

    expect(await convSeqsIn(bob)).toEqual([2, 4, 5]);
    // A bad `got` is refused like any bad frame.
    const { wa: again, nextA: nextAgain } = await twoSessions("gotbad");
    for (const seqs of [[], [-1], Array.from({ length: 257 }, (_, i) => i)]) {
      again.send(JSON.stringify({ t: "got", seqs }));
      expect(await nextAgain()).toMatchObject({ t: "error", error: "bad_request" });
    }
  }, 20_000);

  it("reads a got carried by a submission as a got frame, and refuses the frame whole when that got is bad", async () => {
    const { alice, bob, wa, wb, nextA, nextB, group } = await twoSessions("gotwith");
    const mls = await group.message();
    const message = () => ({ id: randomId16(), epoch: 0, kind: "application", mls });
    const arrives = async (d: Device, seq: number) => {
      for (const end = Date.now() + 5000; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if ((await convSeqsIn(d)).includes(seq)) return;
      throw new Error(`hub seq ${seq} never reached ${d.address}'s mailbox`);
    };
    /** Alice writes; Bob's session gets it at `seq`. */
    const aliceWrites = async (seq: number) => {
      const submit = message();
      wa.send(JSON.stringify({ t: "submit", submit }));
      expect(await nextA()).toEqual({ t: "ack", id: submit.id, seq });
      expect(await nextB()).toMatchObject({ t: "item", item: { hubSeq: seq } });
    };
    /** Bob answers, saying in the same frame that he stored `got` (if given); his answer is ordered at `seq`. */
    const bobAnswers = async (frame: "submit" | "submits", got: number[] | undefined, seq: number) => {
      const submit = message();
      wb.send(JSON.stringify(frame === "submit" ? { t: "submit", submit, got } : { t: "submits", submits: [submit], got }));
      expect(await nextB()).toEqual(frame === "submit" ? { t: "ack", id: submit.id, seq } : { t: "acks", acks: [{ id: submit.id, seq }] });
      expect(await nextA()).toMatchObject({ t: "item", item: { hubSeq: seq } });
    };

    // Bob's own message tells the hub his account has this one device (PROTOCOL §7).
    await bobAnswers("submit", undefined, 1);
    await arrives(alice, 1);
    // Until his device first says `got` (here with his answer), nothing waits for it: this copy goes as before.
    await aliceWrites(2);
    await bobAnswers("submit", [2], 3);
    await arrives(bob, 2);
    // Stored and said so with his answers, alone or in a burst: no mailbox copies.
    await aliceWrites(4);
    await bobAnswers("submit", [4], 5);
    await aliceWrites(6);
    await bobAnswers("submits", [6], 7);
    // Unsaid, the copy waits for the hold, then goes; it comes after those he said he stored.
    await aliceWrites(8);
    await arrives(bob, 8);
    expect(await convSeqsIn(bob)).toEqual([2, 8]);
    // A bad `got` refuses its whole frame: the submission is not ordered.
    for (const got of [[], [-1], [1.5], Array.from({ length: 257 }, (_, i) => i)]) {
      wb.send(JSON.stringify({ t: "submit", submit: message(), got }));
      expect(await nextB()).toMatchObject({ t: "error", error: "bad_request" });
    }
    await aliceWrites(9);
    wa.close(1000, "bye");
    wb.close(1000, "bye");
  }, 20_000);

  it("closes a removed device's session at once, and gives it no fresh ticket", async () => {
    const alice = await registered("remses");
    const bob = await registered("remsesb");
    const phone = anotherDevice(alice);
    expect((await call(alice, "POST", "/account/devices", { deviceCert: phone.cert })).status).toBe(201);
    const conv = await conversationOf(alice, bob);
    const res = await openSession(conv, await ticketFor(phone, conv));
    expect(res.status).toBe(101);
    const ws = res.webSocket!;
    ws.accept();
    const closed = closeCode(ws);
    expect((await call(alice, "DELETE", `/account/devices/${phone.deviceId}`)).status).toBe(204);
    expect(await closed).toBe(4001);
    expect((await call(phone, "POST", "/sessions/ticket", { conversation: conv })).status).toBe(401);
  });
});
