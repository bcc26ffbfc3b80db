import { describe, expect, it } from "vitest";
import { newText } from "../../shared/content.js";
import { saveMessage } from "../../shared/client/messages.js";
import { enqueue, flushOutgoing } from "../../shared/client/outgoing-queue.js";
import type { Submit } from "../../shared/wire/index.js";
import { NOW, world } from "./live-world.js";

// Found by A (session 9): the queue's key was the send time and the random id, so texts written
// within one millisecond reached the hub in random order, and the other member read them so.
describe("texts written within one millisecond", () => {
  it("reach the hub in the order written", async () => {
    const w = await world();
    await w.bob.live.open(w.conversation);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const content = newText(`same ms ${i}`, NOW);
      await saveMessage(w.bob.ctx, { id: content.id, conversation: w.conversation, from: w.bob.ctx.account.address, direction: "out", text: content.text, at: content.sentAt, status: "sending" });
      await enqueue(w.bob.ctx, { content, conversation: w.conversation });
      ids.push(content.id);
    }
    expect(await flushOutgoing(w.bob.ctx, async () => undefined)).toBe(0);
    const submitted = w.hub.sockets.flatMap((s) => s.frames).flatMap((f) => (f.t === "submits" ? (f.submits as Submit[]) : f.t === "submit" ? [f.submit as Submit] : []));
    expect(submitted.map((s) => s.id)).toEqual(ids);
  });
});
