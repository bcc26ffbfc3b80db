import { describe, expect, it } from "vitest";
import { newText } from "../../shared/content.js";
import { randomId16 } from "../../shared/ids.js";
import { loadConversation } from "../../shared/client/conversation-record.js";
import { DirectLinks, offersTo } from "../../shared/client/direct.js";
import { applyDirectCopy } from "../../shared/client/direct-receive.js";
import { applyConvItem } from "../../shared/client/incoming-conv.js";
import { applyItems } from "../../shared/client/mailbox-sync.js";
import { findMessage, history, saveMessage } from "../../shared/client/messages.js";
import { enqueue, flushOutgoing, pending } from "../../shared/client/outgoing-queue.js";
import { OUTGOING_WINDOW } from "../../shared/client/outgoing-window.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { SessionLink } from "../../shared/client/session-link.js";
import { MAX_SESSION_SUBMITS, SESSION_BATCH_CHARS, type DirectFrame, type RtcData } from "../../shared/wire/frames.js";
import type { Submit } from "../../shared/wire/conversation.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { MemoryPeers, settle, world, type World } from "./live-world.js";

async function until(what: string, probe: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await probe()) return;
    await settle(1);
  }
  throw new Error(`never happened: ${what}`);
}

/** Bob writes `text` the way the client does: stored as sending, queued, then flushed. */
async function bobWrites(w: World, text: string): Promise<{ id: string; flushed: Promise<number> }> {
  const content = newText(text, w.clock.now());
  await saveMessage(w.bob.ctx, { id: content.id, conversation: w.conversation, from: w.bob.ctx.account.address, direction: "out", text, at: content.sentAt, status: "sending" });
  await enqueue(w.bob.ctx, { content, conversation: w.conversation });
  return { id: content.id, flushed: flushOutgoing(w.bob.ctx, async () => undefined) };
}

/** Bob writes `count` texts while nothing is sent (offline, or the app closed): all of them wait in the queue. */
async function bobQueues(w: World, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const content = newText(`queued ${i + 1}`, w.clock.now() + i);
    await saveMessage(w.bob.ctx, { id: content.id, conversation: w.conversation, from: w.bob.ctx.account.address, direction: "out", text: content.text, at: content.sentAt, status: "sending" });
    await enqueue(w.bob.ctx, { content, conversation: w.conversation });
    ids.push(content.id);
  }
  return ids;
}

const submitFrames = (w: World) => w.hub.sockets.flatMap((s) => s.frames.filter((f) => f.t === "submit" || f.t === "submits"));
const submits = (w: World) => submitFrames(w).flatMap((f) => (f.t === "submits" ? (f.submits as Submit[]) : [f.submit as Submit]));

describe("sessions (path 2)", () => {
  it("sends over the session and learns the hub's position from the ack", async () => {
    const w = await world();
    expect(await w.bob.live.open(w.conversation)).toBe("session");
    expect(w.bob.paths).toEqual(["session"]);
    const { id, flushed } = await bobWrites(w, "over the session");
    expect(await flushed).toBe(0);
    expect(await findMessage(w.bob.ctx, id)).toMatchObject({ status: "sent", hubSeq: 101 });
    expect(w.hub.posted).toEqual([]);
  });

  it("sends a burst of submissions in order in one frame and takes one acks frame for all of them", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const burst: Submit[] = ["AAEC", "AAED", "AAEE"].map((mls) => ({ id: randomId16(), epoch: 1, kind: "application", mls }));
    const answers = await Promise.all(burst.map((submit) => w.bob.live.submit(w.conversation, submit)));
    expect(answers).toEqual([101, 102, 103].map((seq) => ({ accepted: true, seq })));
    expect(submitFrames(w)).toEqual([{ t: "submits", submits: burst }]);
  });

  it("splits a burst by size and count, a submission too large to share a frame going alone", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const sized = (chars: number): Submit => ({ id: randomId16(), epoch: 1, kind: "application", mls: "A".repeat(chars) });
    const twoFit = Math.floor(SESSION_BATCH_CHARS * 0.4);
    const burst = [sized(twoFit), sized(twoFit), sized(twoFit), sized(SESSION_BATCH_CHARS), ...Array.from({ length: MAX_SESSION_SUBMITS + 7 }, () => sized(4))];
    const answers = await Promise.all(burst.map((submit) => w.bob.live.submit(w.conversation, submit)));
    expect(answers.map((a) => a?.seq)).toEqual(burst.map((_, i) => 101 + i));
    expect(submitFrames(w).map((f) => (f.t === "submits" ? (f.submits as Submit[]).length : f.t))).toEqual([2, "submit", "submit", MAX_SESSION_SUBMITS, 7]);
    expect(submits(w)).toEqual(burst);
  });

  it("sends by the mailbox path, with the same id and ciphertext, when the hub closes the session before answering", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.hub.answering = false;
    const { id, flushed } = await bobWrites(w, "nothing lost");
    await until("the submission to reach the hub", () => submits(w).length === 1);
    w.hub.open()[0]!.drop(4004);
    expect(await flushed).toBe(0);
    expect(w.hub.posted).toHaveLength(1);
    expect(w.hub.posted[0]).toMatchObject({ id, mls: submits(w)[0]!.mls });
    expect((await findMessage(w.bob.ctx, id))?.status).toBe("sent");
    expect(w.bob.paths).toEqual(["session", "relay"]);
    expect(w.bob.live.pathOf(w.conversation)).toBe("relay");
  });

  it("after the session closed, sends go straight by the mailbox path", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.bob.live.close(w.conversation);
    const { flushed } = await bobWrites(w, "after close");
    expect(await flushed).toBe(0);
    expect(w.hub.posted).toHaveLength(1);
    expect(submits(w)).toEqual([]);
  });

  it("marks a message failed when the hub refuses it over the session", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.hub.answering = false;
    const { id, flushed } = await bobWrites(w, "refused");
    await until("the submission to reach the hub", () => submits(w).length === 1);
    w.hub.open()[0]!.push({ t: "error", error: "forbidden", message: "Not a member.", id });
    expect(await flushed).toBe(0);
    expect(await findMessage(w.bob.ctx, id)).toMatchObject({ status: "failed", error: "forbidden" });
    expect(w.hub.posted).toEqual([]);
  });

  it("shows a message that arrives over the session once, though the mailbox delivers it again", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const item = await w.fromAlice("hello over the session", 7);
    w.hub.open()[0]!.push({ t: "item", item });
    await until("Bob to see it", () => w.bob.shown.length === 1);
    await applyItems(w.bob.ctx, [{ ...item, seq: 1, kind: "conv" } as MailItem], async () => undefined);
    expect(w.bob.shown).toEqual(["hello over the session"]);
    expect((await history(w.bob.ctx, w.conversation)).map((m) => m.text)).toEqual(["hello over the session"]);
    expect((await loadConversation(w.bob.ctx, w.conversation))?.applied).toContain(7);
  });

  it("shows a message from the mailbox once when the session brings it afterwards", async () => {
    const w = await world();
    const item = await w.fromAlice("mailbox first", 8);
    await applyItems(w.bob.ctx, [{ ...item, seq: 1, kind: "conv" } as MailItem], async () => undefined);
    await w.bob.live.open(w.conversation);
    w.hub.open()[0]!.push({ t: "item", item });
    await settle();
    expect(w.bob.shown).toEqual(["mailbox first"]);
  });

  it("tells the hub it got an entry only once it has stored it, and never one it could not read", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const socket = w.hub.open()[0]!;
    const gotFrames = () => socket.frames.filter((f) => f.t === "got");
    // The store takes its time: until Bob's writes are done, the hub hears nothing.
    const store = w.bob.ctx.store;
    const put = store.put.bind(store);
    let writesDone!: () => void;
    const writable = new Promise<void>((resolve) => (writesDone = resolve));
    store.put = async (key, value) => {
      await writable;
      return put(key, value);
    };
    const item = await w.fromAlice("stored, then said", 7);
    socket.push({ t: "item", item });
    await settle();
    expect(gotFrames()).toEqual([]);
    writesDone();
    await until("Bob to see it", () => w.bob.shown.length === 1);
    await until("the hub to hear it", () => gotFrames().length === 1);
    expect(gotFrames()).toEqual([{ t: "got", seqs: [7] }]);
    expect((await loadConversation(w.bob.ctx, w.conversation))?.applied).toContain(7);

    // What Bob cannot read is left for the mailbox, unsaid.
    socket.push({ t: "item", item: { ...item, id: randomId16(), hubSeq: 8, mls: "AAAA" } });
    await settle();
    expect(gotFrames()).toHaveLength(1);
    // Entries of one turn are said in one frame.
    const [nine, ten] = [await w.fromAlice("nine", 9), await w.fromAlice("ten", 10)];
    socket.push({ t: "item", item: nine });
    socket.push({ t: "item", item: ten });
    await until("Bob to see both", () => w.bob.shown.length === 3);
    await until("the hub to hear of both", () => gotFrames().flatMap((f) => f.seqs as number[]).length === 3);
    expect(gotFrames().slice(1).flatMap((f) => f.seqs as number[])).toEqual([9, 10]);
  });

  it("tells what it stored with the turn's submissions, on their first frame, and alone when it submits nothing", async () => {
    const w = await world();
    const link = await SessionLink.open(w.bob.ctx, w.conversation, { onItem: () => {}, onRtc: () => {}, onClose: () => {} });
    const socket = w.hub.open()[0]!;
    const message = (): Submit => ({ id: randomId16(), epoch: 1, kind: "application", mls: "AAEC" });
    // Stored, then answered in the same turn: one frame, so the hub has one event to handle, not two.
    const answer = message();
    link.stored(7);
    expect(await link.submit(answer, w.clock.now())).toEqual({ accepted: true, seq: 101 });
    expect(socket.frames).toEqual([{ t: "submit", submit: answer, got: [7] }]);
    link.stored(8);
    await settle();
    expect(socket.frames.slice(1)).toEqual([{ t: "got", seqs: [8] }]);
    // More than one frame holds: the first submission frame takes 256 positions, the rest go alone.
    const seqs = Array.from({ length: 300 }, (_, i) => 1000 + i);
    const burst = [message(), message()];
    for (const seq of seqs) link.stored(seq);
    await Promise.all(burst.map((submit) => link.submit(submit, w.clock.now())));
    expect(socket.frames.slice(2)).toEqual([
      { t: "submits", submits: burst, got: seqs.slice(0, 256) },
      { t: "got", seqs: seqs.slice(256) },
    ]);
    // Held (the host's sends after an item): nothing goes alone; a submission meanwhile takes it, the rest goes on release.
    const release = link.holdGot();
    link.stored(20);
    await settle();
    expect(socket.frames).toHaveLength(4);
    const receipt = message();
    await link.submit(receipt, w.clock.now());
    link.stored(21);
    await settle();
    expect(socket.frames.slice(4)).toEqual([{ t: "submit", submit: receipt, got: [20] }]);
    release();
    release();
    await settle();
    expect(socket.frames.slice(5)).toEqual([{ t: "got", seqs: [21] }]);
    link.close();
  });

  it("keeps an active session alive with pings and closes it once idle", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const socket = w.hub.open()[0]!;
    w.clock.at += 60_000;
    w.bob.live.tick(w.clock.now(), 5 * 60_000);
    expect(socket.frames).toEqual([{ t: "ping" }]);
    w.clock.at += 5 * 60_000;
    w.bob.live.tick(w.clock.now(), 5 * 60_000);
    expect(socket.closed).toBe(true);
    expect(w.bob.paths).toEqual(["session", "relay"]);
  });

  it("renews the session's ticket from its own server once half of its life has passed, once per turn", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const socket = w.hub.open()[0]!;
    const renewals = () => socket.frames.filter((f) => f.t === "renew") as { ticket: { body: { address: string; deviceId: string; conversation: string } } }[];
    w.clock.at += 20_000;
    w.bob.live.tick(w.clock.now(), 5 * 60_000);
    await settle();
    expect(renewals()).toEqual([]);
    // The fake hub's tickets live a minute: half of it has passed.
    w.clock.at += 11_000;
    w.bob.live.tick(w.clock.now(), 5 * 60_000);
    w.bob.live.tick(w.clock.now(), 5 * 60_000);
    await until("the fresh ticket to reach the hub", () => renewals().length === 1);
    await settle();
    expect(renewals()).toHaveLength(1);
    const [address, deviceId] = w.bob.device.split("/");
    expect(renewals()[0]!.ticket.body).toMatchObject({ address, deviceId, conversation: w.conversation });
    expect(socket.closed).toBe(false);
  });

  it("flushes a queue a window of submissions at a time, in the order written, not one round trip each", { timeout: 60_000 }, async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.hub.answering = false;
    const ids = await bobQueues(w, OUTGOING_WINDOW + 6);
    const flushed = flushOutgoing(w.bob.ctx, async () => undefined);
    await until("a window of submissions to reach the hub", () => submits(w).length === OUTGOING_WINDOW);
    await settle();
    // The first goes at once, the rest of the window in one frame; no more before the hub answers.
    expect(submitFrames(w).map((f) => (f.t === "submits" ? (f.submits as Submit[]).length : f.t))).toEqual(["submit", OUTGOING_WINDOW - 1]);
    const socket = w.hub.open()[0]!;
    socket.push({ t: "acks", acks: submits(w).map((s, i) => ({ id: s.id, seq: 101 + i })) });
    await until("the rest to reach the hub", () => submits(w).length === ids.length);
    socket.push({ t: "acks", acks: submits(w).slice(OUTGOING_WINDOW).map((s, i) => ({ id: s.id, seq: 101 + OUTGOING_WINDOW + i })) });
    expect(await flushed).toBe(0);
    expect(submits(w).map((s) => s.id)).toEqual(ids);
    const shown = await Promise.all(ids.map((id) => findMessage(w.bob.ctx, id)));
    expect(shown.map((m) => [m?.status, m?.hubSeq])).toEqual(ids.map((_, i) => ["sent", 101 + i]));
    expect(w.hub.posted).toEqual([]);
  });

  it("keeps a message the hub failed for now, and what it did not take after it, for the next flush; what it took is sent", { timeout: 60_000 }, async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.hub.answering = false;
    const ids = await bobQueues(w, 5);
    const flushed = flushOutgoing(w.bob.ctx, async () => undefined);
    await until("the queue to reach the hub", () => submits(w).length === 5);
    const socket = w.hub.open()[0]!;
    socket.push({ t: "ack", id: ids[0]!, seq: 101 });
    socket.push({ t: "error", error: "rate_limited", message: "Slow down.", id: ids[1]! });
    socket.push({ t: "error", error: "rate_limited", message: "Slow down.", id: ids[3]! });
    socket.push({ t: "acks", acks: [{ id: ids[2]!, seq: 102 }, { id: ids[4]!, seq: 103 }] });
    expect(await flushed).toBe(2);
    const shown = await Promise.all(ids.map((id) => findMessage(w.bob.ctx, id)));
    expect(shown.map((m) => m?.status)).toEqual(["sent", "sending", "sent", "sending", "sent"]);
    expect((await pending(w.bob.ctx)).map((e) => e.content.id)).toEqual([ids[1], ids[3]]);
    // The next flush sends only those, as first encrypted.
    w.hub.answering = true;
    expect(await flushOutgoing(w.bob.ctx, async () => undefined)).toBe(0);
    expect(submits(w).slice(5)).toEqual([submits(w)[1], submits(w)[3]]);
  });

  it("sends a queue over the mailbox path one request at a time when no session is open", { timeout: 60_000 }, async () => {
    const w = await world();
    const ids = await bobQueues(w, 4);
    const serve = w.hub.transportFor();
    let inFlight = 0;
    let most = 0;
    const counting = {
      ...serve,
      fetch: async (url: string, request: Parameters<typeof serve.fetch>[1]) => {
        if (!url.endsWith("/messages")) return serve.fetch(url, request);
        most = Math.max(most, ++inFlight);
        await settle(2);
        inFlight--;
        return serve.fetch(url, request);
      },
    };
    w.bob.ctx.api = new ServerApi(counting, w.clock, "http://127.0.0.2:1", w.bob.ctx.account.domain);
    expect(await flushOutgoing(w.bob.ctx, async () => undefined)).toBe(0);
    expect(w.hub.posted.map((s) => s.id)).toEqual(ids);
    expect(most).toBe(1);
  });

  it("gives up on a session that stops answering and sends what waited by the mailbox path", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    w.hub.answering = false;
    const { id, flushed } = await bobWrites(w, "stuck");
    await until("the submission to reach the hub", () => submits(w).length === 1);
    w.clock.at += 20_000;
    w.bob.live.tick(w.clock.now(), 10 * 60_000);
    expect(await flushed).toBe(0);
    expect(w.hub.posted.map((s) => s.id)).toEqual([id]);
  });

  it("stays on the mailbox path when no session can be opened", async () => {
    const w = await world();
    const down = { fetch: () => Promise.reject(new Error("down")), openSocket: () => { throw new Error("down"); } };
    w.bob.ctx.api = new ServerApi(down, w.clock, "http://127.0.0.2:1", w.bob.ctx.account.domain);
    expect(await w.bob.live.open(w.conversation)).toBe("relay");
    expect(w.bob.paths).toEqual([]);
  });

  it("does not keep a session that was closed while it was opening", async () => {
    const w = await world();
    const opening = w.bob.live.open(w.conversation);
    w.bob.live.close(w.conversation);
    expect(await opening).toBe("relay");
    expect(w.hub.open()).toEqual([]);
  });
});

describe("direct copies (path 3)", () => {
  it("reads a direct copy at once and only marks its hub copy applied", async () => {
    const w = await world();
    const item = await w.fromAlice("first by the data channel", 9);
    const frame: DirectFrame = { t: "conv", conversation: item.conversation, id: item.id, epoch: item.epoch, mls: item.mls };
    const outcome = await applyDirectCopy(w.bob.ctx, frame, w.alice.device);
    expect(outcome.receipts?.ids).toHaveLength(1);
    expect(w.bob.shown).toEqual(["first by the data channel"]);
    await applyDirectCopy(w.bob.ctx, frame, w.alice.device);
    expect(await applyConvItem(w.bob.ctx, item)).toEqual({});
    expect(w.bob.shown).toEqual(["first by the data channel"]);
    expect((await loadConversation(w.bob.ctx, w.conversation))?.applied).toContain(9);
  });

  it("leaves a direct copy that claims another device, or arrives after its hub copy, to the hub's order", async () => {
    const w = await world();
    const item = await w.fromAlice("who sent this?", 10);
    const frame: DirectFrame = { t: "conv", conversation: item.conversation, id: item.id, epoch: item.epoch, mls: item.mls };
    expect(await applyDirectCopy(w.bob.ctx, frame, `${w.alice.ctx.account.address}/AAAAAAAAAAAAAAAAAAAAAA`)).toEqual({});
    expect(w.bob.shown).toEqual([]);
    await applyConvItem(w.bob.ctx, item);
    expect(await applyDirectCopy(w.bob.ctx, frame, w.alice.device)).toEqual({});
    expect(w.bob.shown).toEqual(["who sent this?"]);
  });
});

describe("direct channel negotiation", () => {
  it("fixes who offers by the devices' names, the same on both sides", () => {
    expect(offersTo("alice#a.test/X", "bob#b.test/Y")).toBe(true);
    expect(offersTo("bob#b.test/Y", "alice#a.test/X")).toBe(false);
    expect(offersTo("a#x.test/A", "a#x.test/AB")).toBe(true);
  });

  function linked(me: string, peers: MemoryPeers, wire: Map<string, (from: string, data: RtcData) => void>, log: string[]) {
    const received: DirectFrame[] = [];
    const links: DirectLinks = new DirectLinks(me, peers.connector(), {
      signal: (to, data) => {
        log.push(`${me.split("#")[0]}→${data.type}`);
        wire.get(to)?.(me, data);
      },
      onFrame: (_from, frame) => void received.push(frame),
      onChange: () => undefined,
    });
    return { links, received, listen: () => wire.set(me, (from, data) => links.onSignal(from, data)) };
  }

  it("connects when the answering side comes second (hello → offer → answer) and carries frames", async () => {
    const peers = new MemoryPeers();
    const wire = new Map<string, (from: string, data: RtcData) => void>();
    const log: string[] = [];
    const a = linked("alice#im.alice.test/A", peers, wire, log);
    const b = linked("bob#im.bob.test/B", peers, wire, log);
    a.listen();
    a.links.start(["bob#im.bob.test/B"]);
    await settle();
    expect(a.links.open).toBe(false);
    b.listen();
    b.links.start(["alice#im.alice.test/A"]);
    await until("both ends to open", () => a.links.open && b.links.open);
    expect(log.filter((l) => !l.endsWith("candidate"))).toEqual(["alice→offer", "bob→hello", "alice→offer", "bob→answer"]);
    expect(log).toContain("alice→candidate");
    const frame: DirectFrame = { t: "conv", conversation: "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA" as never, id: randomId16(), epoch: 1, mls: "AAEC" };
    expect(a.links.send(frame)).toBe(1);
    await until("Bob to get the frame", () => b.received.length === 1);
    expect(b.received).toEqual([frame]);
    b.links.closeAll();
    await until("Alice to see the channel close", () => !a.links.open);
  });
});

describe("sessions with direct channels", () => {
  async function bothOpen(): Promise<World> {
    const peers = new MemoryPeers();
    const w = await world({ alice: peers.connector(), bob: peers.connector() });
    await w.alice.live.open(w.conversation);
    await w.bob.live.open(w.conversation);
    await until("both to go direct", () => w.alice.live.pathOf(w.conversation) === "direct" && w.bob.live.pathOf(w.conversation) === "direct");
    return w;
  }

  it("goes direct when both have the conversation open, and shows a message sent both ways once", async () => {
    const w = await bothOpen();
    expect(w.bob.paths).toEqual(["session", "direct"]);
    const { id, flushed } = await bobWrites(w, "direct and durable");
    expect(await flushed).toBe(0);
    await until("Alice to read it", () => w.alice.shown.includes("direct and durable"));
    await settle();
    expect(w.alice.shown).toEqual(["direct and durable"]);
    // The hub still ordered it: that is where history and the other devices get it from.
    expect(submits(w).map((s) => s.id)).toEqual([id]);
    expect((await loadConversation(w.alice.ctx, w.conversation))?.applied).toContain(101);
  });

  it("falls back to the session when the other side leaves, and to the mailbox when the hub closes", async () => {
    const w = await bothOpen();
    w.alice.live.close(w.conversation);
    await until("Bob to fall back to the session", () => w.bob.live.pathOf(w.conversation) === "session");
    w.hub.open()[0]!.drop(4004);
    expect(w.bob.paths).toEqual(["session", "direct", "session", "relay"]);
    const { flushed } = await bobWrites(w, "by mail");
    expect(await flushed).toBe(0);
    expect(w.hub.posted).toHaveLength(1);
  });
});
