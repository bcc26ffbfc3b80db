import { describe, expect, it } from "vitest";
import { refreshKeys } from "../../shared/mls/group.js";
import { decodeGroupState, encodeGroupState } from "../../shared/mls/state-codec.js";
import { loadConversation, saveConversation } from "../../shared/client/conversation-record.js";
import { applyConvItem } from "../../shared/client/incoming-conv.js";
import { findMessage } from "../../shared/client/messages.js";
import { flushOutgoing, pending, type OutgoingEntry } from "../../shared/client/outgoing-queue.js";
import { OUTGOING_WINDOW } from "../../shared/client/outgoing-window.js";
import type { Submit } from "../../shared/wire/index.js";
import { type HubSocket, type LoggedEntry, payloadOf, queueTexts, settle, world, type World } from "./live-world.js";

/*
 * A window of Bob's texts reaches the hub after Alice's commit: the hub refuses all of it as
 * stale_epoch. Bob reads the commit once (a mailbox poll) and sends the whole window again,
 * encrypted anew, in order; he polls again only when the hub still finds a text stale after that.
 */

type Entry = LoggedEntry;

/** A hub at one epoch: a submission at another is refused `stale_epoch`, answers a turn later. */
class EpochHub {
  readonly log: Entry[] = [];
  epoch = 1;
  seq = 1;
  /** Submissions that left Bob's device while his queue entry held another ciphertext. */
  readonly unsealed: string[] = [];
  /** Called as a submission arrives, before the hub takes it. */
  arriving: (submit: Submit) => void = () => undefined;

  constructor(readonly w: World) {
    const plain = w.hub.received.bind(w.hub);
    w.hub.received = (from, frame) => (frame.t === "submit" || frame.t === "submits" ? this.received(from, frame) : plain(from, frame));
  }

  commit(mls: string): void {
    this.log.push({ seq: ++this.seq, id: `commit-${this.epoch}`, from: "alice", submit: { id: `commit-${this.epoch}`, epoch: this.epoch, kind: "commit", mls } });
    this.epoch++;
  }

  received(from: HubSocket, frame: Record<string, unknown>): void {
    const submits = frame.t === "submits" ? (frame.submits as Submit[]) : [frame.submit as Submit];
    const answers: Record<string, unknown>[] = [];
    for (const submit of submits) {
      this.checkSealed(submit);
      this.arriving(submit);
      if (submit.epoch !== this.epoch) {
        answers.push({ t: "error", error: "stale_epoch", message: "stale", id: submit.id });
        continue;
      }
      this.log.push({ seq: ++this.seq, id: submit.id, from: "bob", submit });
      answers.push({ t: "ack", id: submit.id, seq: this.seq });
    }
    setTimeout(() => answers.forEach((a) => from.push(a as never)), 0);
  }

  checkSealed(submit: Submit): void {
    // MemoryStore reads its map as called: this is the queue as the submission left.
    void this.w.bob.ctx.store.list<OutgoingEntry>("out/").then((entries) => {
      const entry = entries.map(([, e]) => e).find((e) => (e.submitId ?? e.content.id) === submit.id);
      if (entry?.sealed?.mls !== submit.mls) this.unsealed.push(submit.id);
    });
  }
}

/** Alice's commits, each from the state the one before left (encoded: what she holds after each). */
async function aliceCommits(w: World, count: number): Promise<{ mls: string; state: string }[]> {
  let group = await decodeGroupState((await loadConversation(w.alice.ctx, w.conversation))!.group);
  const made: { mls: string; state: string }[] = [];
  for (let i = 0; i < count; i++) {
    const refreshed = await refreshKeys(group);
    group = refreshed.state;
    made.push({ mls: refreshed.commit, state: encodeGroupState(refreshed.state) });
  }
  return made;
}

async function setUp(count: number, commits: number) {
  const w = await world();
  const hub = new EpochHub(w);
  expect(await w.bob.live.open(w.conversation)).toBe("session");
  const { texts, ids } = await queueTexts(w, count);
  // Bob's catching up (a mailbox poll): Alice's entries he has not read, in order; counted.
  const read = new Set<number>();
  const polls = { count: 0 };
  const catchUp = async () => {
    polls.count++;
    for (const entry of hub.log) {
      if (entry.from !== "alice" || read.has(entry.seq)) continue;
      read.add(entry.seq);
      await applyConvItem(w.bob.ctx, payloadOf(w, entry));
    }
  };
  return { w, hub, texts, ids, catchUp, polls, commits: await aliceCommits(w, commits) };
}

/** What Alice is shown reading the hub's log in order, taking each of her commits' states. */
async function aliceReads(w: World, hub: EpochHub, states: string[]): Promise<string[]> {
  for (const entry of hub.log) {
    if (entry.from === "alice") {
      const record = (await loadConversation(w.alice.ctx, w.conversation))!;
      await saveConversation(w.alice.ctx, { ...record, group: states.shift()!, epoch: record.epoch + 1, lastHubSeq: entry.seq, applied: [...(record.applied ?? []), entry.seq] });
      continue;
    }
    await applyConvItem(w.alice.ctx, payloadOf(w, entry));
  }
  await settle();
  return w.alice.shown;
}

async function expectAllSent(w: World, hub: EpochHub, ids: string[]) {
  const bob = hub.log.filter((e) => e.from === "bob");
  expect(bob.map((e) => e.id)).toEqual(ids);
  const shown = await Promise.all(ids.map((id) => findMessage(w.bob.ctx, id)));
  expect(shown.map((m) => [m?.status, m?.hubSeq])).toEqual(bob.map((e) => ["sent", e.seq]));
  expect(await pending(w.bob.ctx)).toEqual([]);
  expect(hub.unsealed).toEqual([]);
}

describe("a window the hub refuses as stale_epoch", () => {
  it("is caught up on once and sent again encrypted anew, in order, each readable", { timeout: 120_000 }, async () => {
    const { w, hub, texts, ids, catchUp, polls, commits } = await setUp(OUTGOING_WINDOW + 6, 1);
    // Alice's commit is ordered before Bob's queue reaches the hub: his whole first window is stale.
    hub.commit(commits[0]!.mls);
    expect(await flushOutgoing(w.bob.ctx, catchUp)).toBe(0);
    expect(polls.count).toBe(1);
    await expectAllSent(w, hub, ids);
    expect(hub.log.map((e) => (e.from === "alice" ? "commit" : e.submit.epoch))).toEqual(["commit", ...ids.map(() => 2)]);
    expect(await aliceReads(w, hub, commits.map((c) => c.state))).toEqual(texts);
  });

  it("is caught up on again only when the hub still finds one stale after the first catch-up", { timeout: 120_000 }, async () => {
    const { w, hub, texts, ids, catchUp, polls, commits } = await setUp(OUTGOING_WINDOW, 2);
    hub.commit(commits[0]!.mls);
    // Alice commits again just before the sixth text, sent anew at epoch 2, arrives.
    hub.arriving = (submit) => {
      if (submit.id === ids[5] && submit.epoch === 2) hub.commit(commits[1]!.mls);
    };
    expect(await flushOutgoing(w.bob.ctx, catchUp)).toBe(0);
    expect(polls.count).toBe(2);
    await expectAllSent(w, hub, ids);
    expect(hub.log.map((e) => (e.from === "alice" ? "commit" : e.submit.epoch))).toEqual(["commit", 2, 2, 2, 2, 2, "commit", ...ids.slice(5).map(() => 3)]);
    expect(await aliceReads(w, hub, commits.map((c) => c.state))).toEqual(texts);
  });
});
