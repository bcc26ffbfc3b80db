import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { history, type HistoryPage, type MessageRecord, saveMessage } from "../../shared/client/messages.js";
import { MemoryStore, namespaced, type Store } from "../../shared/client/store.js";

/** A page as history() gave it when it listed whole conversations: the reference the paged reads must equal. */
async function wholeListing(store: Store, conversations: readonly string[], { before = Number.MAX_SAFE_INTEGER, beforeId, limit = 50 }: HistoryPage): Promise<MessageRecord[]> {
  const all = (await Promise.all(conversations.map((c) => store.list<MessageRecord>(`msg/${c}/`)))).flat().map(([, m]) => m);
  all.sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return all.filter((m) => m.at < before || (beforeId !== undefined && m.at === before && m.id < beforeId)).slice(-limit);
}

/** The store as one without listLast sees it: history() lists whole conversations there. */
const listOnly = (store: Store): Store => ({ get: (k) => store.get(k), put: (k, v) => store.put(k, v), delete: (k) => store.delete(k), list: (p) => store.list(p) });

const BASE = 1_796_000_000_000;
const message = fc.record({
  conversation: fc.constantFrom("im.a.test/c1", "im.a.test/c2", "moved:bob#im.b.test"),
  // Few times and ids, so pages end inside a millisecond and ids tie-break.
  at: fc.integer({ min: 0, max: 12 }).map((n) => BASE + n),
  id: fc.constantFrom("A", "B", "C", "a", "b", "m0", "m1", "z"),
  text: fc.string({ maxLength: 5 }),
});
const page = fc.record({
  before: fc.option(fc.integer({ min: -1, max: 13 }).map((n) => BASE + n), { nil: undefined }),
  beforeId: fc.option(fc.constantFrom("A", "B", "a", "m0", "m1", "zz", ""), { nil: undefined }),
  limit: fc.integer({ min: 1, max: 6 }),
});

describe("a chat's history, read a page at a time", () => {
  it("gives the page a whole listing gave, for one conversation or several shown as one, with and without listLast", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { maxLength: 30 }), fc.constantFrom(["im.a.test/c1"], ["im.a.test/c1", "moved:bob#im.b.test"]), page, async (messages, conversations, p) => {
        const store = new MemoryStore();
        const ctx = { store };
        for (const m of messages) await saveMessage(ctx, { ...m, from: "bob#im.b.test" as Address, direction: "in", status: "received" });
        const query = { ...p, ...(p.before === undefined ? { beforeId: undefined } : {}) };
        const target = conversations.length === 1 ? conversations[0]! : conversations;
        const expected = await wholeListing(store, conversations, query);
        expect(await history(ctx, target, query)).toEqual(expected);
        expect(await history({ store: listOnly(store) }, target, query)).toEqual(expected);
        // Through a namespaced view, as the PWA and extension hand the core its store.
        const outer = new MemoryStore();
        const inner = namespaced(outer, "acct/");
        for (const m of messages) await saveMessage({ store: inner }, { ...m, from: "bob#im.b.test" as Address, direction: "in", status: "received" });
        expect(await history({ store: inner }, target, query)).toEqual(expected);
      }),
      { numRuns: 400 },
    );
  });

  it("pages back through a long chat to its first message, each message once", async () => {
    const store = new MemoryStore();
    const ctx = { store };
    for (let n = 0; n < 230; n++) await saveMessage(ctx, { id: `m${String(n).padStart(4, "0")}`, conversation: "im.a.test/c1", from: "bob#im.b.test" as Address, direction: "in", text: `${n}`, at: BASE + Math.floor(n / 3), status: "received" });
    const seen: string[] = [];
    let last = await history(ctx, "im.a.test/c1", { limit: 50 });
    while (last.length > 0) {
      seen.unshift(...last.map((m) => m.text));
      last = await history(ctx, "im.a.test/c1", { limit: 50, before: last[0]!.at, beforeId: last[0]!.id });
    }
    expect(seen).toEqual(Array.from({ length: 230 }, (_, n) => `${n}`));
  });
});
