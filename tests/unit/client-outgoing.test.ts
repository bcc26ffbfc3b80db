import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { enqueueReceipt, pending } from "../../shared/client/outgoing-queue.js";
import { MemoryStore } from "../../shared/client/store.js";

describe("queued delivery receipts", () => {
  it("fold into one receipt per conversation while waiting, up to 100 messages each", async () => {
    const ctx = { store: new MemoryStore() };
    const ids = Array.from({ length: 130 }, () => randomId16());
    for (const id of ids) await enqueueReceipt(ctx, "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", [id], 1_000);
    await enqueueReceipt(ctx, "im.bob.test/AAAAAAAAAAAAAAAAAAAAAA", [ids[0]!], 1_000);
    const receipts = (await pending(ctx)).map((e) => ({ conversation: e.conversation, of: e.content.type === "receipt" ? e.content.of : [] }));
    expect(receipts.map((r) => [r.conversation, r.of.length]).sort()).toEqual([
      ["im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", 100],
      ["im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", 30],
      ["im.bob.test/AAAAAAAAAAAAAAAAAAAAAA", 1],
    ]);
    expect(receipts.flatMap((r) => r.of).filter((id) => ids.includes(id)).length).toBe(131);
  });
});
