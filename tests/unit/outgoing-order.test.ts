import { describe, expect, it } from "vitest";
import { flushOutgoing } from "../../shared/client/outgoing-queue.js";
import type { Submit } from "../../shared/wire/index.js";
import { NOW, queueTexts, world } from "./live-world.js";

// Found by A (session 9): the queue's key was the send time and the random id, so texts written
// within one millisecond reached the hub in random order, and the other member read them so.
describe("texts written within one millisecond", () => {
  it("reach the hub in the order written", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const { ids } = await queueTexts(w, 10, () => NOW);
    expect(await flushOutgoing(w.bob.ctx, async () => undefined)).toBe(0);
    const submitted = w.hub.sockets.flatMap((s) => s.frames).flatMap((f) => (f.t === "submits" ? (f.submits as Submit[]) : f.t === "submit" ? [f.submit as Submit] : []));
    expect(submitted.map((s) => s.id)).toEqual(ids);
  });
});
