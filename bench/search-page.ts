// Runs in Chromium (bench/search.ts serves it): message search over the PWA's own IndexedDB store,
// every value sealed with AES-GCM as the app seals it, holding `count` messages.
import { LINK_HISTORY_MAX_MESSAGES } from "../shared/device-link.js";
import { history, saveMessage, type MessageRecord } from "../shared/client/messages.js";
import { historyForExport } from "../shared/client/moved-history.js";
import { indexMessages, searchMessages } from "../shared/client/search.js";
import { IdbStore } from "../pwa/src/platform/idb-store.js";
import { openDatabase } from "../pwa/src/platform/database.js";

const WORDS = ["lunch", "train", "meeting", "photo", "tomorrow", "café", "ticket", "holiday", "project", "call", "dinner", "weekend", "office", "birthday", "music", "book"];

function text(n: number): string {
  const words = Array.from({ length: 6 + (n % 7) }, (_, i) => WORDS[(n * 7 + i * 13) % WORDS.length]!);
  // One message in 10,000 holds the rare word searched for.
  return `${words.join(" ")} ${n}${n % 10_000 === 4_321 ? " zanzibar" : ""}`;
}

async function timed<T>(run: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await run();
  return [result, performance.now() - start];
}

(globalThis as { runSearchBench?: unknown }).runSearchBench = async (count: number, conversations: number) => {
  const db = await openDatabase(`bench-search-${count}`);
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const store = new IdbStore(db, key);
  const ctx = { store };
  const start = Date.UTC(2026, 0, 1);
  const [, fillMs] = await timed(async () => {
    for (let from = 0; from < count; from += 1000) {
      const batch: MessageRecord[] = [];
      for (let n = from; n < Math.min(from + 1000, count); n++) {
        batch.push({ id: `m${String(n).padStart(21, "0")}`, conversation: `im.a.test/c${n % conversations}`, from: "bob#im.b.test" as MessageRecord["from"], direction: "in", text: text(n), at: start + n * 1000, status: "received" });
      }
      const entries: Array<[string, unknown]> = [];
      const memory = { store: { get: async () => undefined, put: async (k: string, v: unknown) => void entries.push([k, v]), delete: async () => undefined, list: async () => [] } };
      for (const m of batch) await saveMessage(memory, m);
      await store.putMany(entries);
      await indexMessages(ctx, batch);
    }
  });
  for (let c = 0; c < conversations; c++) {
    const conversation = `im.a.test/c${c}`;
    await store.put(`conv/${conversation}`, { conversation, members: [], kind: "group", title: `Chat ${c}`, created: start, epoch: 0, lastHubSeq: 0, unread: 0 });
  }
  // The app opened anew: a store object the search has not read yet.
  const [, firstMs] = await timed(() => searchMessages({ store: new IdbStore(db, key) }, "zanzibar"));
  const runs: Record<string, number[]> = { first: [firstMs], rare: [], common: [], twoWords: [], inConversation: [], newMessage: [], openChat: [], olderPage: [], linkHistory: [], exportHistory: [] };
  let found = { rare: 0, common: 0, twoWords: 0 };
  let carried = { link: 0, export: 0 };
  for (let i = 0; i < 5; i++) {
    const [rare, rareMs] = await timed(() => searchMessages(ctx, "Zanzibar"));
    const [common, commonMs] = await timed(() => searchMessages(ctx, "lunch"));
    const [two, twoMs] = await timed(() => searchMessages(ctx, "cafe ticket"));
    const [, convMs] = await timed(() => searchMessages(ctx, "dinner", { conversation: "im.a.test/c3" }));
    const n = count + i;
    const [, addMs] = await timed(async () => {
      const m: MessageRecord = { id: `m${String(n).padStart(21, "0")}`, conversation: "im.a.test/c0", from: "bob#im.b.test" as MessageRecord["from"], direction: "in", text: text(n), at: start + n * 1000, status: "received" };
      await saveMessage(ctx, m);
      await indexMessages(ctx, [m]);
    });
    runs.rare!.push(rareMs);
    runs.common!.push(commonMs);
    runs.twoWords!.push(twoMs);
    runs.inConversation!.push(convMs);
    runs.newMessage!.push(addMs);
    // A chat opened as the app opens one (a store object that has read nothing yet), then scrolled up a page.
    const [newest, openMs] = await timed(() => history({ store: new IdbStore(db, key) }, "im.a.test/c1", { limit: 50 }));
    const [, olderMs] = await timed(() => history(ctx, "im.a.test/c1", { limit: 50, before: newest[0]!.at, beforeId: newest[0]!.id }));
    runs.openChat!.push(openMs);
    runs.olderPage!.push(olderMs);
    // What a device link and an export carry, read as the app reads them when asked (a store object that has read nothing yet).
    const [linked, linkMs] = await timed(() => historyForExport({ store: new IdbStore(db, key) }, LINK_HISTORY_MAX_MESSAGES));
    const [exported, exportMs] = await timed(() => historyForExport({ store: new IdbStore(db, key) }));
    runs.linkHistory!.push(linkMs);
    runs.exportHistory!.push(exportMs);
    carried = { link: linked.reduce((n, c) => n + c.messages.length, 0), export: exported.reduce((n, c) => n + c.messages.length, 0) };
    found = { rare: rare.length, common: common.length, twoWords: two.length };
  }
  db.close();
  return { fillMs, runs, found, carried };
};
