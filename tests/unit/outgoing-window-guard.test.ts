import { describe, expect, it } from "vitest";
import { refreshKeys } from "../../shared/mls/group.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { epochOf } from "../../shared/mls/group-state.js";
import { loadConversation, saveConversation } from "../../shared/client/conversation-record.js";
import { applyConvItem } from "../../shared/client/incoming-conv.js";
import { findMessage } from "../../shared/client/messages.js";
import { flushOutgoing, pending, type OutgoingEntry } from "../../shared/client/outgoing-queue.js";
import type { HttpResponse, Transport } from "../../shared/client/transport.js";
import type { Submit } from "../../shared/wire/index.js";
import { ServerApi } from "../../shared/client/server-api.js";
import { type FakeHub, type HubSocket, type LoggedEntry, payloadOf, queueTexts, settle, world, type World } from "./live-world.js";

/*
 * A queue flushed over an open session, however many submissions it keeps in flight at once, does
 * what sending them one at a time did, as the people on both ends see it: each message is ordered
 * once, in the order written, and the other member reads every one (no message key used twice);
 * each message's status names the position the hub gave it. Also when, in the middle of the
 * queue, the hub refuses one for good, fails one for now, moves to a new epoch, or ends the session
 * with submissions unanswered (those then go by the mailbox path, whose requests may overtake each
 * other); and a submission leaves the device only once its ciphertext is stored with its queue
 * entry, so a crash before the answer sends the same one again (issue 15).
 */

type Fault = "unavailable" | "bad_request" | "commit" | "drop" | "dropUnordered";
type Entry = LoggedEntry;

/**
 * The hub as the real one answers, over the world's fake sockets: a repeated id gets its first seq,
 * a submission at another epoch `stale_epoch`; a `submits` frame's refusals first, then one `acks`;
 * answers a turn later. Bob's mailbox path takes the same log, its answers coming after a random
 * delay, as requests in flight together may be answered in any order.
 */
class StrictHub {
  readonly log: Entry[] = [];
  readonly byId = new Map<string, number>();
  readonly posted: Submit[] = [];
  epoch = 1;
  seq = 1;
  /** Applied once, when the submission with this id arrives (by either path). */
  readonly faults = new Map<string, Fault>();
  /** Alice's commit, ordered by the fault "commit". */
  aliceCommit: Submit | undefined;
  /** Submissions that left the device while their queue entry held another ciphertext, or none. */
  readonly unsealed: string[] = [];

  constructor(readonly w: World) {
    const hub: FakeHub = w.hub;
    const plain = hub.received.bind(hub);
    hub.received = (from, frame) => (frame.t === "submit" || frame.t === "submits" ? this.received(from, frame) : plain(from, frame));
    const inner = hub.transportFor();
    const transport: Transport = {
      openSocket: (url) => inner.openSocket(url),
      fetch: (url, request) =>
        new URL(url).pathname.endsWith("/messages") ? this.post(request.body!) : inner.fetch(url, { ...request, headers: { ...request.headers, "x-device": w.bob.device } }),
    };
    w.bob.ctx.api = new ServerApi(transport, w.clock, "http://127.0.0.2:1", w.bob.ctx.account.domain);
  }

  take(submit: Submit): { seq: number } | { error: string } {
    const first = this.byId.get(submit.id);
    if (first !== undefined) return { seq: first };
    if (submit.epoch !== this.epoch) return { error: "stale_epoch" };
    const seq = ++this.seq;
    this.byId.set(submit.id, seq);
    this.log.push({ seq, id: submit.id, from: "bob", submit });
    return { seq };
  }

  fault(submit: Submit): Fault | undefined {
    const fault = this.faults.get(submit.id);
    this.faults.delete(submit.id);
    if (fault === "commit") {
      const commit = this.aliceCommit!;
      const seq = ++this.seq;
      this.log.push({ seq, id: commit.id, from: "alice", submit: commit });
      this.byId.set(commit.id, seq);
      this.epoch++;
    }
    return fault;
  }

  checkSealed(submit: Submit): void {
    // MemoryStore reads its map as called: this is the queue as the submission left.
    void this.w.bob.ctx.store.list<OutgoingEntry>("out/").then((entries) => {
      const entry = entries.map(([, e]) => e).find((e) => (e.submitId ?? e.content.id) === submit.id);
      if (entry?.sealed?.mls !== submit.mls) this.unsealed.push(submit.id);
    });
  }

  received(from: HubSocket, frame: Record<string, unknown>): void {
    const submits = frame.t === "submits" ? (frame.submits as Submit[]) : [frame.submit as Submit];
    const errors: { id: string; error: string }[] = [];
    const acks: { id: string; seq: number }[] = [];
    for (const submit of submits) {
      this.checkSealed(submit);
      const fault = this.fault(submit);
      if (fault === "dropUnordered") return from.drop(1006);
      if (fault === "unavailable" || fault === "bad_request") {
        errors.push({ id: submit.id, error: fault });
        continue;
      }
      const taken = this.take(submit);
      if ("error" in taken) errors.push({ id: submit.id, error: taken.error });
      else acks.push({ id: submit.id, seq: taken.seq });
      if (fault === "drop") return from.drop(1006);
    }
    setTimeout(() => {
      for (const { id, error } of errors) from.push({ t: "error", error: error as never, message: error, id });
      if (frame.t === "submits" && acks.length > 0) from.push({ t: "acks", acks });
      else if (frame.t === "submit") for (const ack of acks) from.push({ t: "ack", ...ack });
    }, 0);
  }

  async post(body: string): Promise<HttpResponse> {
    const submit = JSON.parse(body) as Submit;
    this.posted.push(submit);
    await new Promise((r) => setTimeout(r, Math.random() * 4));
    this.checkSealed(submit);
    const fault = this.fault(submit);
    const taken = fault === "unavailable" || fault === "bad_request" ? { error: fault } : this.take(submit);
    const [status, answer] =
      "error" in taken
        ? [taken.error === "stale_epoch" ? 409 : taken.error === "bad_request" ? 400 : 503, { error: taken.error, message: taken.error }]
        : [202, { accepted: true, seq: taken.seq }];
    return { status, text: async () => JSON.stringify(answer) };
  }
}

/** A world whose hub answers as StrictHub, Bob's session to it open, and `count` texts of Bob's queued. */
async function queued(count: number) {
  const w = await world();
  const hub = new StrictHub(w);
  expect(await w.bob.live.open(w.conversation)).toBe("session");
  const { texts, ids } = await queueTexts(w, count);
  return { w, hub, texts, ids };
}

/** Alice reads the hub's log in order (her own commit by taking its state): what she is shown. */
async function aliceReads(w: World, hub: StrictHub, committed?: string): Promise<string[]> {
  for (const entry of hub.log) {
    if (entry.from === "alice") {
      const record = (await loadConversation(w.alice.ctx, w.conversation))!;
      await saveConversation(w.alice.ctx, { ...record, group: committed!, epoch: record.epoch + 1, lastHubSeq: entry.seq, applied: [...(record.applied ?? []), entry.seq] });
      continue;
    }
    await applyConvItem(w.alice.ctx, payloadOf(w, entry));
  }
  await settle();
  return w.alice.shown;
}

/** Bob's catching up: the hub's entries of Alice's he has not read, in order. */
function catchUpOf(w: World, hub: StrictHub): () => Promise<void> {
  const read = new Set<number>();
  return async () => {
    for (const entry of hub.log) {
      if (entry.from !== "alice" || read.has(entry.seq)) continue;
      read.add(entry.seq);
      await applyConvItem(w.bob.ctx, payloadOf(w, entry));
    }
  };
}

/** Each message's status and position, as Bob's screen has them. */
async function statuses(w: World, ids: string[]) {
  return Promise.all(ids.map(async (id) => {
    const m = await findMessage(w.bob.ctx, id);
    return { status: m?.status, hubSeq: m?.hubSeq };
  }));
}

/** The log's positions of Bob's messages, by message id (each must be there once). */
function positions(hub: StrictHub, ids: string[]): (number | undefined)[] {
  const bob = hub.log.filter((e) => e.from === "bob");
  expect(new Set(bob.map((e) => e.id)).size).toBe(bob.length);
  return ids.map((id) => bob.find((e) => e.id === id)?.seq);
}

describe("a queue flushed over an open session", () => {
  it("orders every message once, in the order written, each readable, its status the hub's position (two windows' worth)", { timeout: 120_000 }, async () => {
    const { w, hub, texts, ids } = await queued(70);
    expect(await flushOutgoing(w.bob.ctx, catchUpOf(w, hub))).toBe(0);
    expect(hub.log.map((e) => e.id)).toEqual(ids);
    expect(await statuses(w, ids)).toEqual(ids.map((_, i) => ({ status: "sent", hubSeq: i + 2 })));
    expect(await pending(w.bob.ctx)).toEqual([]);
    expect(hub.posted).toEqual([]);
    expect(hub.unsealed).toEqual([]);
    expect(await aliceReads(w, hub)).toEqual(texts);
  });

  it("marks a message the hub refuses for good failed and sends the others, in order", { timeout: 60_000 }, async () => {
    const { w, hub, texts, ids } = await queued(10);
    hub.faults.set(ids[3]!, "bad_request");
    expect(await flushOutgoing(w.bob.ctx, catchUpOf(w, hub))).toBe(0);
    const sent = ids.filter((_, i) => i !== 3);
    expect(hub.log.map((e) => e.id)).toEqual(sent);
    expect((await statuses(w, ids))[3]).toMatchObject({ status: "failed" });
    expect((await statuses(w, sent)).map((s) => s.status)).toEqual(sent.map(() => "sent"));
    expect(await pending(w.bob.ctx)).toEqual([]);
    expect(await aliceReads(w, hub)).toEqual(texts.filter((_, i) => i !== 3));
  });

  it("keeps what the hub failed for now, and all it did not take after it, queued; the next flush sends them; none twice, none lost", { timeout: 60_000 }, async () => {
    const { w, hub, texts, ids } = await queued(12);
    hub.faults.set(ids[4]!, "unavailable");
    const left = await flushOutgoing(w.bob.ctx, catchUpOf(w, hub));
    expect(left).toBeGreaterThan(0);
    await settle();
    // What the first flush left is exactly what the hub has not ordered, and is still "sending".
    const ordered = new Set(hub.log.map((e) => e.id));
    const queuedIds = (await pending(w.bob.ctx)).map((e) => e.submitId ?? e.content.id);
    expect(queuedIds).toContain(ids[4]);
    expect(queuedIds.filter((id) => ordered.has(id))).toEqual([]);
    expect(new Set([...queuedIds, ...ordered])).toEqual(new Set(ids));
    expect(hub.log.slice(0, 4).map((e) => e.id)).toEqual(ids.slice(0, 4));
    const first = await statuses(w, ids);
    for (const [i, id] of ids.entries()) expect(first[i], id).toEqual(ordered.has(id) ? { status: "sent", hubSeq: hub.byId.get(id) } : { status: "sending", hubSeq: undefined });

    expect(await flushOutgoing(w.bob.ctx, catchUpOf(w, hub))).toBe(0);
    const seqs = positions(hub, ids);
    expect(seqs.every((s) => s !== undefined)).toBe(true);
    expect(await statuses(w, ids)).toEqual(seqs.map((hubSeq) => ({ status: "sent", hubSeq })));
    expect(hub.unsealed).toEqual([]);
    // Every message read once (the order past the failure is the hub's).
    const read = await aliceReads(w, hub);
    expect([...read].sort()).toEqual([...texts].sort());
  });

  it("after the hub moves to a new epoch mid-queue, catches up and sends the rest encrypted anew, in order, each readable", { timeout: 60_000 }, async () => {
    const { w, hub, texts, ids } = await queued(12);
    const record = (await loadConversation(w.alice.ctx, w.conversation))!;
    const refreshed = await refreshKeys(await decodeGroupState(record.group));
    expect(epochOf(refreshed.state)).toBe(2);
    hub.aliceCommit = { id: "AAAAAAAAAAAAAAAAAAAAAA", epoch: 1, kind: "commit", mls: refreshed.commit };
    hub.faults.set(ids[3]!, "commit");
    expect(await flushOutgoing(w.bob.ctx, catchUpOf(w, hub))).toBe(0);
    expect(hub.log.filter((e) => e.from === "bob").map((e) => e.id)).toEqual(ids);
    expect(hub.log.map((e) => e.from === "alice" ? "commit" : e.submit.epoch)).toEqual([1, 1, 1, "commit", ...ids.slice(3).map(() => 2)]);
    const seqs = positions(hub, ids);
    expect(await statuses(w, ids)).toEqual(seqs.map((hubSeq) => ({ status: "sent", hubSeq })));
    expect(await pending(w.bob.ctx)).toEqual([]);
    expect(await aliceReads(w, hub, encodeGroupState(refreshed.state))).toEqual(texts);
  });

  for (const fault of ["drop", "dropUnordered"] as const) {
    it(`sends what a session ended ${fault === "drop" ? "after ordering" : "before ordering"} left unanswered by the mailbox path, with the same ids and ciphertexts, in order`, { timeout: 60_000 }, async () => {
      const { w, hub, texts, ids } = await queued(12);
      hub.faults.set(ids[4]!, fault);
      expect(await flushOutgoing(w.bob.ctx, catchUpOf(w, hub))).toBe(0);
      // However the unanswered ones went, the hub ordered each once, in the order written.
      expect(hub.log.map((e) => e.id)).toEqual(ids);
      expect(hub.posted.length).toBeGreaterThan(0);
      const bySession = new Map(w.hub.sockets.flatMap((s) => s.frames).flatMap((f) => (f.t === "submits" ? (f.submits as Submit[]) : f.t === "submit" ? [f.submit as Submit] : [])).map((s) => [s.id, s.mls]));
      for (const p of hub.posted) if (bySession.has(p.id)) expect(p.mls, "the same ciphertext by the mailbox path").toBe(bySession.get(p.id));
      expect(await statuses(w, ids)).toEqual(ids.map((_, i) => ({ status: "sent", hubSeq: i + 2 })));
      expect(await pending(w.bob.ctx)).toEqual([]);
      expect(hub.unsealed).toEqual([]);
      expect(await aliceReads(w, hub)).toEqual(texts);
    });
  }
});
