import { describe, expect, it } from "vitest";
import { env, runInDurableObject } from "cloudflare:test";
import { randomId16 } from "../../shared/ids.js";
import type { SessionServerFrame } from "../../shared/wire/index.js";
import { befriend, registered } from "./harness.js";
import { conversation as conversationOf, hubState, sessionOf } from "./hub-groups.js";
import { TestGroup } from "./mls.js";

/*
 * A session's frames wait in the hub's memory while it holds its acks (PROTOCOL §10): a member
 * sending frames without end then must not make the hub hold them all. Past 4 MiB of a session's
 * frames unanswered, a frame's submissions are refused `rate_limited`, each by its id, and none of
 * them is ordered; the session is taken again once its earlier frames are answered. Past 16 MiB
 * of all sessions' frames together (a member may open many), any session's frame is refused.
 */

const application = (id: string, mls: string) => ({ id, epoch: 0, kind: "application", mls });

/** Alice and Bob, friends, and the conversation Alice made with Bob. */
async function friendsTalking(prefix: string) {
  const alice = await registered(`${prefix}a`);
  const bob = await registered(`${prefix}b`);
  await befriend(alice, bob);
  return { alice, conversation: await conversationOf(alice, [bob]) };
}

const hubOf = (conversation: string) => env.CONVERSATION.get(env.CONVERSATION.idFromName(conversation));

/** Makes the hub hold its acks from now on: its fan-out never ends, and more entries wait for it than it takes. */
async function holdAcks(conversation: string): Promise<void> {
  await runInDurableObject(hubOf(conversation), (instance) => {
    const hub = instance as unknown as { fanning: Promise<void> | null; toFan: unknown[]; lanes: Record<"local" | "remote", { running: boolean; run?: Promise<void> }> };
    const never = new Promise<void>(() => {});
    for (const lane of ["local", "remote"] as const) hub.lanes[lane] = { running: true, run: never };
    hub.fanning = never;
    hub.toFan = Array.from({ length: 200 }, () => ({}));
  });
}

describe("a session's unanswered submissions", () => {
  it("past 4 MiB of a session's frames waiting for the hub's answer, a frame's submissions are refused rate_limited by id and not ordered; answered ones free the session again", async () => {
    const { alice, conversation } = await friendsTalking("sf");
    // A message of ~77,000 characters: 4 MiB holds 54 frames of one.
    const mls = await (await TestGroup.of(alice, conversation)).message("x".repeat(58_000));
    const a = await sessionOf(alice, conversation);
    const first = randomId16();
    a.ws.send(JSON.stringify({ t: "submit", submit: application(first, mls) }));
    expect(await a.next()).toEqual({ t: "ack", id: first, seq: 1 });

    await holdAcks(conversation);
    const ids = Array.from({ length: 80 }, () => randomId16());
    const frames = ids.map((id) => JSON.stringify({ t: "submit", submit: application(id, mls) }));
    const fit = Math.floor((4 * 1024 * 1024) / frames[0]!.length);
    expect(fit).toBeGreaterThan(40);
    for (const frame of frames) a.ws.send(frame);
    const answers = new Map<string, SessionServerFrame>();
    while (answers.size < ids.length) {
      const frame = await a.next();
      if (frame.t !== "ack" && frame.t !== "error") throw new Error(`unexpected frame ${JSON.stringify(frame)}`);
      expect(answers.has(frame.id!)).toBe(false);
      answers.set(frame.id!, frame);
    }
    const acked = ids.filter((id) => answers.get(id)!.t === "ack");
    const refused = ids.filter((id) => answers.get(id)!.t === "error");
    // The frames that fit in 4 MiB are ordered; the next one came while they were all unanswered.
    expect(acked.slice(0, fit)).toEqual(ids.slice(0, fit));
    expect(refused[0]).toBe(ids[fit]);
    for (const id of refused) expect(answers.get(id)).toMatchObject({ t: "error", error: "rate_limited", id });
    expect(acked.map((id) => (answers.get(id) as { seq: number }).seq)).toEqual(acked.map((_, i) => i + 2));
    expect((await hubState(alice, conversation)).lastSeq).toBe(1 + acked.length);

    const again = refused[0]!;
    a.ws.send(JSON.stringify({ t: "submit", submit: application(again, mls) }));
    expect(await a.next()).toEqual({ t: "ack", id: again, seq: acked.length + 2 });
    a.ws.close(1000, "bye");
  }, 60_000);

  it("past 16 MiB of all sessions' frames waiting, a frame is refused even on a session of its own well under 4 MiB", async () => {
    const { alice, conversation } = await friendsTalking("sg");
    const mls = await (await TestGroup.of(alice, conversation)).message();
    const a = await sessionOf(alice, conversation);
    const frameOf = (id: string) => JSON.stringify({ t: "submit", submit: application(id, mls) });
    const size = frameOf(randomId16()).length;
    // Other sessions' frames waiting, as many bytes as asked: 16 MiB can take a frame of `room` bytes more.
    const othersWaiting = (room: number) =>
      runInDurableObject(hubOf(conversation), (instance) => {
        (instance as unknown as { unansweredTotal: number }).unansweredTotal = 16 * 1024 * 1024 - room;
      });
    const refused = randomId16();
    await othersWaiting(size - 1);
    a.ws.send(frameOf(refused));
    expect(await a.next()).toMatchObject({ t: "error", error: "rate_limited", id: refused });
    const taken = randomId16();
    await othersWaiting(size);
    a.ws.send(frameOf(taken));
    expect(await a.next()).toEqual({ t: "ack", id: taken, seq: 1 });
    // Answered, its bytes are no longer counted: what the others had waiting is all that is left.
    expect(await runInDurableObject(hubOf(conversation), (instance) => (instance as unknown as { unansweredTotal: number }).unansweredTotal)).toBe(16 * 1024 * 1024 - size);
    expect((await hubState(alice, conversation)).lastSeq).toBe(1);
    a.ws.close(1000, "bye");
  });
});
