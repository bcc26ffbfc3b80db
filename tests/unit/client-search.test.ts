import { describe, expect, it } from "vitest";
import type { MessageRecord } from "../../shared/client/messages.js";
import { saveMessage } from "../../shared/client/messages.js";
import { foldText, indexMessages, searchMessages } from "../../shared/client/search.js";
import { MemoryStore } from "../../shared/client/store.js";
import { threeFriends } from "./group-world.js";

const message = (n: number, text: string, conversation = "im.a.test/c1"): MessageRecord => ({
  id: `id${String(n).padStart(20, "0")}`, conversation, from: "bob#im.b.test" as MessageRecord["from"], direction: "in", text, at: 1_000 + n, status: "received",
});

describe("message search over this device's store", () => {
  it("finds every word in any order, whatever the case and accents, newest first", async () => {
    const ctx = { store: new MemoryStore() };
    const all = [message(1, "Lunch at the Café?"), message(2, "cafe closed today"), message(3, "see you", "im.a.test/c2"), message(4, "CAFÉ lunch again")];
    for (const m of all) await saveMessage(ctx, m);
    await indexMessages(ctx, all);
    expect((await searchMessages(ctx, "cafe")).map((m) => m.text)).toEqual(["CAFÉ lunch again", "cafe closed today", "Lunch at the Café?"]);
    expect((await searchMessages(ctx, "lunch café")).map((m) => m.text)).toEqual(["CAFÉ lunch again", "Lunch at the Café?"]);
    expect((await searchMessages(ctx, "see", { conversation: "im.a.test/c1" })).length).toBe(0);
    expect(await searchMessages(ctx, "  ")).toEqual([]);
    expect(foldText("ＣＡＦＥ")).toBe("cafe");
  });

  it("indexes what was stored before search existed, across buckets, on first use", async () => {
    const ctx = { store: new MemoryStore() };
    for (let n = 0; n < 2500; n++) await saveMessage(ctx, message(n, n % 1000 === 7 ? `needle ${n}` : `hay ${n}`));
    expect((await searchMessages(ctx, "needle")).map((m) => m.text)).toEqual(["needle 2007", "needle 1007", "needle 7"]);
    await saveMessage(ctx, message(3000, "needle new"));
    await indexMessages(ctx, [message(3000, "needle new")]);
    expect((await searchMessages(ctx, "needle", { limit: 2 })).map((m) => m.text)).toEqual(["needle new", "needle 2007"]);
  });

  it("finds edited words, not the old ones, and never a message deleted for everyone", { timeout: 60_000 }, async () => {
    const { alice, bob, carol } = await threeFriends();
    const { conversation } = await alice.createGroup("Trip", [bob.address, carol.address]);
    const first = await alice.sendText(conversation, "the train leaves at nine");
    const second = await alice.sendText(conversation, "bring the tickets");
    await alice.flush();
    await bob.sync();
    expect((await bob.search("train")).map((m) => m.id)).toEqual([first.id]);
    await alice.editMessage(first.id, "the bus leaves at ten");
    await alice.deleteForEveryone(second.id);
    await alice.flush();
    await bob.sync();
    for (const who of [alice, bob]) {
      expect(await who.search("train")).toEqual([]);
      expect((await who.search("bus")).map((m) => m.text)).toEqual(["the bus leaves at ten"]);
      expect(await who.search("tickets")).toEqual([]);
    }
  });
});
