import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { historyForExport } from "../../shared/client/moved-history.js";
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

/** A store that counts the messages its listings hand out. */
function counting(store: Store): { store: Store; read: () => number } {
  let read = 0;
  const counted = <T>(entries: Array<[string, T]>) => {
    read += entries.filter(([key]) => key.startsWith("msg/")).length;
    return entries;
  };
  return {
    store: {
      get: (k) => store.get(k),
      put: (k, v) => store.put(k, v),
      delete: (k) => store.delete(k),
      list: async (p) => counted(await store.list(p)),
      ...(store.listLast ? { listLast: async <T>(p: string, limit: number, before?: string) => counted(await store.listLast!<T>(p, limit, before)) } : {}),
    },
    read: () => read,
  };
}

/** The chats an export or link carries, where messages are filed: a group, a friend's chat before it is made, history moved in. */
async function chatsOf(store: Store): Promise<void> {
  await store.put("conv/im.a.test/g1", { conversation: "im.a.test/g1", members: [], kind: "group", title: "Trip", created: BASE, epoch: 0, lastHubSeq: 0, unread: 0 });
  await store.put("friend/bob#im.b.test", { address: "bob#im.b.test", accountKey: "k", state: "friend", since: BASE });
  await store.put("moved-chats", [{ chat: "carol#im.c.test", messages: 0 }]);
}

/** What an export held when it listed every message of the store: the reference. */
async function wholeExport(store: Store, limit: number): Promise<Array<{ chat: string; ids: string[] }>> {
  const kept = (await store.list<MessageRecord>("msg/"))
    .map(([, m]) => m)
    .filter((m) => !m.notice && !m.deleted)
    .sort((a, b) => b.at - a.at)
    .slice(0, limit)
    .reverse();
  const chats = new Map<string, string[]>();
  for (const m of kept) {
    const chat = m.conversation.startsWith("@") ? m.conversation.slice(1) : m.conversation.replace(/^moved:/, "");
    chats.set(chat, [...(chats.get(chat) ?? []), m.id]);
  }
  return [...chats].map(([chat, ids]) => ({ chat, ids }));
}

describe("an export's or a link's history, read from each chat's end", () => {
  const filed = fc.record({
    conversation: fc.constantFrom("im.a.test/g1", "@bob#im.b.test", "moved:carol#im.c.test"),
    notice: fc.boolean(),
    deleted: fc.boolean(),
  });

  it("holds the newest messages of all chats, as listing the whole store did", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 0, max: 5_000 }), { maxLength: 700 }), fc.array(filed, { minLength: 700, maxLength: 700 }), fc.integer({ min: 0, max: 800 }), async (times, how, limit) => {
        const store = new MemoryStore();
        await chatsOf(store);
        for (const [n, at] of times.entries()) {
          const { conversation, notice, deleted } = how[n]!;
          await saveMessage({ store }, { id: `m${n}`, conversation, from: "bob#im.b.test" as Address, direction: "in", text: `${n}`, at: BASE + at, status: "received", ...(notice ? { notice: { type: "created", by: "bob#im.b.test" as Address } } : {}), ...(deleted ? { deleted: true } : {}) });
        }
        const got = (await historyForExport({ store }, limit)).map((c) => ({ chat: c.chat, ids: c.messages.map((m) => m.id) }));
        expect(got).toEqual(await wholeExport(store, limit));
      }),
      { numRuns: 60 },
    );
  });

  it("reads about what it carries, not every message of a long history", async () => {
    const { store, read } = counting(new MemoryStore());
    await chatsOf(store);
    const conversations = ["im.a.test/g1", "@bob#im.b.test", "moved:carol#im.c.test"];
    for (let n = 0; n < 6_000; n++) {
      await saveMessage({ store }, { id: `m${n}`, conversation: conversations[n % 3]!, from: "bob#im.b.test" as Address, direction: "in", text: `${n}`, at: BASE + n, status: "received" });
    }
    const chats = await historyForExport({ store }, 300);
    expect(chats.flatMap((c) => c.messages.map((m) => m.text))).toHaveLength(300);
    expect(chats.find((c) => c.chat === "bob#im.b.test")!.messages.at(-1)!.text).toBe("5998");
    expect(read()).toBeLessThanOrEqual(900);
  });

  it("reads each message once from a store that can only list whole (the command line's)", async () => {
    const { store, read } = counting(listOnly(new MemoryStore()));
    await chatsOf(store);
    const conversations = ["im.a.test/g1", "@bob#im.b.test", "moved:carol#im.c.test"];
    for (let n = 0; n < 3_000; n++) {
      await saveMessage({ store }, { id: `m${n}`, conversation: conversations[n % 3]!, from: "bob#im.b.test" as Address, direction: "in", text: `${n}`, at: BASE + n, status: "received" });
    }
    const chats = await historyForExport({ store }, 2_500);
    expect(chats.flatMap((c) => c.messages)).toHaveLength(2_500);
    expect(read()).toBe(3_000);
  });
});
