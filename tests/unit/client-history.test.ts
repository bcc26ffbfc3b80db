import { describe, expect, it } from "vitest";
import { history, saveMessage, type MessageRecord } from "../../shared/client/messages.js";
import { MemoryStore } from "../../shared/client/store.js";

const CONVERSATION = "im.alice.test/AAAAAAAAAAAAAAAAAAAAAA";

function message(id: string, at: number, text: string): MessageRecord {
  return { id, conversation: CONVERSATION, from: "alice#im.alice.test" as MessageRecord["from"], direction: "out", text, at, status: "sent" };
}

describe("history pages", () => {
  it("go on inside a millisecond that holds several messages, skipping none and repeating none", async () => {
    const ctx = { store: new MemoryStore() };
    // Five messages, three of them written in one millisecond (ids order them, as keys do).
    const all = [message("AAAAAAAAAAAAAAAAAAAAAA", 1_000, "one"), message("BBBBBBBBBBBBBBBBBBBBBA", 2_000, "two"), message("BBBBBBBBBBBBBBBBBBBBBB", 2_000, "three"), message("BBBBBBBBBBBBBBBBBBBBBC", 2_000, "four"), message("CCCCCCCCCCCCCCCCCCCCCC", 3_000, "five")];
    for (const m of all) await saveMessage(ctx, m);
    const shown: string[] = [];
    let page = await history(ctx, CONVERSATION, { limit: 2 });
    while (page.length > 0) {
      shown.unshift(...page.map((m) => m.text));
      const oldest = page[0]!;
      page = await history(ctx, CONVERSATION, { before: oldest.at, beforeId: oldest.id, limit: 2 });
    }
    expect(shown).toEqual(["one", "two", "three", "four", "five"]);
  });
});
