import { describe, expect, it } from "vitest";
import { answerJson, answerText, MAX_PEER_ANSWER_BYTES } from "../../worker/http.js";

// A peer's answer is read only up to a size: a rogue peer must not make the isolate that runs our
// hubs and accounts hold whatever it sends (the Outbox's batch answers, discovery documents, claims).
describe("a peer's answer", () => {
  it("is read whole within the limit, declared or streamed", async () => {
    expect(await answerText(new Response("x".repeat(1000)), 1000)).toBe("x".repeat(1000));
    const streamed = new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode('{"ok":true}')), c.close()) }));
    expect(await answerJson(streamed, 64)).toEqual({ ok: true });
  });

  it("past the limit is refused, declared or streamed, and read no further", async () => {
    await expect(answerText(new Response("x".repeat(1001)), 1000)).rejects.toMatchObject({ code: "too_large" });
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => {
        pulled++;
        c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    expect(await answerJson(new Response(endless), MAX_PEER_ANSWER_BYTES)).toBeNull();
    expect(pulled).toBeLessThanOrEqual(MAX_PEER_ANSWER_BYTES / (64 * 1024) + 2);
  });

  it("that is not JSON reads as null", async () => {
    expect(await answerJson(new Response("<html>"), 1000)).toBeNull();
  });
});
