import fc from "fast-check";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryStore } from "../../shared/client/store.js";
import { type MessageOp, runMessageOps, runOps, type StoreOp as Op } from "./extension-store-page.js";
import { openStorePage, type StorePage } from "./extension-store-host.js";

type Lib = typeof import("./extension-store-page.js");

// The extension's store (extension/platform/extension-store.ts) on Chromium's IndexedDB, in a
// page of its own on loopback: what the background, panel and popup read and write, and the move
// of an earlier version's extension storage into it, cut short where a stopped worker would.
describe("the extension's IndexedDB store", () => {
  let host: StorePage;
  let page: Page;

  beforeAll(async () => {
    host = await openStorePage();
    page = host.page;
  }, 60_000);

  afterAll(async () => {
    await host?.close();
  });

  /** Runs `ops` on a fresh ExtensionStore in the page: what each read gave. */
  const inPage = (db: string, ops: Op[]) =>
    page.evaluate(
      async ({ db, ops }) => {
        const { ExtensionStore, pageStorageArea, runOps } = (globalThis as unknown as { lib: Lib }).lib;
        return runOps(new ExtensionStore(pageStorageArea(), db), ops);
      },
      { db, ops },
    );

  /** The same on the PWA's store (sealed values) in the page. */
  const inPwaStore = (db: string, ops: Op[]) =>
    page.evaluate(
      async ({ db, ops }) => {
        const { IdbStore, openDatabase, runOps } = (globalThis as unknown as { lib: Lib }).lib;
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        return runOps(new IdbStore(await openDatabase(db), key), ops);
      },
      { db, ops },
    );

  /** The same on a MemoryStore, the core's reference store. */
  const inMemory = (ops: Op[]) => runOps(new MemoryStore(), ops);

  // Short keys from units that sit at the edges of a key range: a prefix ending in U+FFFF, surrogates, "/".
  const anyKey = fc.array(fc.constantFrom("a", "b", "/", "\uffff", "\ud83d", "\ude00", "0", "é"), { maxLength: 4 }).map((units) => units.join(""));
  const anyValue = fc.oneof(fc.integer(), fc.string(), fc.record({ id: fc.string(), at: fc.integer(), seen: fc.array(fc.integer(), { maxLength: 4 }) }));
  const anyOp: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant("put" as const), key: anyKey, value: anyValue }),
    fc.record({ op: fc.constant("delete" as const), key: anyKey }),
    fc.record({ op: fc.constant("putMany" as const), entries: fc.array(fc.record({ key: anyKey, value: anyValue, del: fc.boolean() }), { maxLength: 6 }) }),
    fc.record({ op: fc.constant("get" as const), key: anyKey }),
    fc.record({ op: fc.constant("getMany" as const), keys: fc.array(anyKey, { maxLength: 5 }) }),
    fc.record({ op: fc.constant("list" as const), prefix: anyKey }),
    fc.record({ op: fc.constant("listLast" as const), prefix: anyKey, limit: fc.integer({ min: 0, max: 4 }), before: fc.option(anyKey) }),
  );

  it("in the PWA's store too (values sealed): reads, writes, deletes, lists and pages back as MemoryStore does", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(anyOp, { minLength: 1, maxLength: 40 }), async (ops) => {
        expect(await inPwaStore(`pwa-property-${run++}`, ops)).toEqual(await inMemory(ops));
      }),
      { numRuns: 60 },
    );
  });

  it("reads, writes, deletes, lists and pages back by prefix as the core's MemoryStore does, for any keys", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(anyOp, { minLength: 1, maxLength: 40 }), async (ops) => {
        expect(await inPage(`property-${run++}`, ops)).toEqual(await inMemory(ops));
      }),
      { numRuns: 60 },
    );
  });

  // Messages found by id as the client finds them: both stores keep no entry per id but an index of the ids each message carries.
  // Few messages and Submit ids, so that reads name what was written.
  const anyN = fc.integer({ min: 0, max: 2 });
  const anyId = fc.oneof(anyN.map((n) => `m${n}`), fc.integer({ min: 0, max: 1 }).map((k) => `s${k}`));
  const anyMessageOp: fc.Arbitrary<MessageOp> = fc.oneof(
    fc.record({ op: fc.constant("save" as const), n: anyN, at: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant("status" as const), n: anyN }),
    fc.record({ op: fc.constant("resubmit" as const), n: anyN }),
    fc.record({ op: fc.constant("retime" as const), n: anyN, at: fc.integer({ min: 1, max: 3 }) }),
    fc.record({ op: fc.constant("delete" as const), n: anyN }),
    fc.record({ op: fc.constant("find" as const), id: anyId }),
    fc.record({ op: fc.constant("submittedAs" as const), ref: anyId }),
    fc.record({ op: fc.constant("getMany" as const), ids: fc.array(anyId, { maxLength: 4 }) }),
  );

  it("finds each message by its id and its latest Submit id as MemoryStore does, in both clients' stores, through saves, resends, moves in time and deletions", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(anyMessageOp, { minLength: 1, maxLength: 40 }), async (ops) => {
        const db = `messages-${run++}`;
        const [pwa, extension] = await page.evaluate(
          async ({ db, ops }) => {
            const { ExtensionStore, IdbStore, openDatabase, pageStorageArea, runMessageOps } = (globalThis as unknown as { lib: Lib }).lib;
            const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
            return [await runMessageOps(new IdbStore(await openDatabase(`${db}-pwa`), key), ops), await runMessageOps(new ExtensionStore(pageStorageArea(), `${db}-extension`), ops)];
          },
          { db, ops },
        );
        const memory = await runMessageOps(new MemoryStore(), ops);
        expect(pwa).toEqual(memory);
        expect(extension).toEqual(memory);
      }),
      { numRuns: 60 },
    );
  });

  it("an earlier version's index entries (one a message id) become the ids of the messages they name, in both clients' stores and in a move from extension storage", async () => {
    const key = (id: string, at: number) => `msg/c1/${String(at).padStart(15, "0")}-${id}`;
    const message = (id: string, at: number, submitId?: string) => ({ id, conversation: "c1", from: "alice#im.alice.test", direction: "in", text: `text ${id}`, at, status: "received", ...(submitId ? { submitId } : {}) });
    // As the earlier versions wrote them: each message, its key under its id and Submit id, an expiry entry, and an entry naming a message gone.
    const old: Array<[string, unknown]> = [
      [key("m1", 1), message("m1", 1, "s1")],
      ["msgid/m1", key("m1", 1)],
      ["msgid/s1", key("m1", 1)],
      [key("m2", 2), { ...message("m2", 2), expiresAt: 5 }],
      ["msgid/m2", key("m2", 2)],
      [`expiring/${String(5).padStart(15, "0")}-m2`, key("m2", 2)],
      ["msgid/m3", key("m3", 3)],
    ];
    const reads: MessageOp[] = [{ op: "find", id: "m1" }, { op: "find", id: "s1" }, { op: "submittedAs", ref: "s1" }, { op: "find", id: "m2" }, { op: "find", id: "m3" }, { op: "getMany", ids: ["m1", "s1", "m2"] }];
    const memory = new MemoryStore();
    await memory.putMany(old);
    const expected = await runMessageOps(memory, reads);
    expect(expected.slice(0, 5).map((found) => (found as { id: string } | null)?.id ?? null)).toEqual(["m1", "m1", "m1", "m2", null]);

    const upgraded = await page.evaluate(
      async ({ old, reads }) => {
        const { ExtensionStore, IdbStore, openDatabase, openExtensionDb, pageStorageArea, runMessageOps } = (globalThis as unknown as { lib: Lib }).lib;
        const isIndex = (key: string) => key.startsWith("msgid/") || key.startsWith("expiring/");
        /** A database as an earlier version left it: `version`, its stores, and `write` filling its entries. */
        const earlier = (name: string, version: number, stores: string[], write: (entries: IDBObjectStore) => void) =>
          new Promise<void>((done, fail) => {
            const open = indexedDB.open(name, version);
            open.onupgradeneeded = () => {
              for (const store of stores) open.result.createObjectStore(store);
              write(open.transaction!.objectStore("entries"));
            };
            open.onsuccess = () => (open.result.close(), done());
            open.onerror = () => fail(open.error);
          });
        /** What is left under `msgid/` in the database itself, and what the store reads. */
        const left = async (db: IDBDatabase) => {
          const count = await new Promise<number>((done) => {
            const request = db.transaction("entries").objectStore("entries").count(IDBKeyRange.bound("msgid/", "msgid/\uffff"));
            request.onsuccess = () => done(request.result);
          });
          db.close();
          return count;
        };

        // The PWA's version 2: values sealed, but for index entries, kept as they are.
        const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
        const sealed = await Promise.all(old.map(async ([k, value]): Promise<[string, unknown]> => {
          if (isIndex(k)) return [k, value];
          const iv = crypto.getRandomValues(new Uint8Array(12));
          return [k, { iv, data: await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, new TextEncoder().encode(JSON.stringify(value))) }];
        }));
        await earlier("pwa-v2", 2, ["entries", "vault", "prefs", "uploads"], (entries) => sealed.forEach(([k, value]) => entries.put(value, k)));
        const pwaDb = await openDatabase("pwa-v2");
        const pwa = await runMessageOps(new IdbStore(pwaDb, key), reads);
        const pwaExpiry = await new IdbStore(pwaDb, key).list("expiring/");
        const pwaLeft = await left(unwrapDb(pwaDb));

        // The extension's version 1: JSON text, its move from extension storage done.
        await earlier("extension-v1", 1, ["entries", "meta"], (entries) => {
          old.forEach(([k, value]) => entries.put(JSON.stringify(value), k));
          entries.transaction.objectStore("meta").put("done", "migration");
        });
        const extension = await runMessageOps(new ExtensionStore(pageStorageArea(), "extension-v1"), reads);
        const extensionLeft = await left(unwrapDb(await openExtensionDb("extension-v1")));

        // Extension storage of an earlier version still: the move writes the ids, not the entries.
        localStorage.clear();
        old.forEach(([k, value]) => localStorage.setItem(`emsg:${k}`, JSON.stringify(value)));
        const moved = await runMessageOps(new ExtensionStore(pageStorageArea(), "extension-storage"), reads);
        const movedLeft = await left(unwrapDb(await openExtensionDb("extension-storage")));
        return { pwa, pwaExpiry, pwaLeft, extension, extensionLeft, moved, movedLeft };

        function unwrapDb(db: { close(): void; transaction: unknown }): IDBDatabase {
          return (globalThis as unknown as { lib: Lib }).lib.unwrap(db as never) as unknown as IDBDatabase;
        }
      },
      { old, reads },
    );
    expect(upgraded.pwa).toEqual(expected);
    expect(upgraded.extension).toEqual(expected);
    expect(upgraded.moved).toEqual(expected);
    expect(upgraded.pwaExpiry).toEqual([[`expiring/${String(5).padStart(15, "0")}-m2`, key("m2", 2)]]);
    expect([upgraded.pwaLeft, upgraded.extensionLeft, upgraded.movedLeft]).toEqual([0, 0, 0]);
  });

  it("the PWA's database waits, and says so, for a tab of an earlier version to close; a tab on it closes its own for a newer one", async () => {
    const seen = await page.evaluate(async () => {
      const { openDatabase } = (globalThis as unknown as { lib: Lib }).lib;
      const raw = (version: number, stores: string[] = []) =>
        new Promise<IDBDatabase>((done, fail) => {
          const open = indexedDB.open("tabs", version);
          open.onupgradeneeded = () => stores.forEach((store) => open.result.createObjectStore(store));
          open.onsuccess = () => done(open.result);
          open.onerror = () => fail(open.error);
        });
      const events: string[] = [];
      // A tab of version 2, open, and never told what to do when another wants a newer version.
      const earlier = await raw(2, ["entries", "vault", "prefs", "uploads"]);
      const opening = openDatabase("tabs", {
        blocked: () => {
          events.push("blocked");
          setTimeout(() => (events.push("earlier tab closed"), earlier.close()), 100);
        },
        outdated: () => events.push("outdated"),
      });
      const db = await opening;
      events.push(`opened at ${db.version}`);
      // A newer version in another tab: this one lets it in.
      const newer = await raw(4);
      events.push(`newer opened at ${newer.version}`);
      newer.close();
      return events;
    });
    expect(seen).toEqual(["blocked", "earlier tab closed", "opened at 3", "outdated", "newer opened at 4"]);
  });

  it("writes all of a putMany or, when one write fails, none of it", async () => {
    const after = await page.evaluate(async () => {
      const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
      const store = new ExtensionStore(pageStorageArea(), "all-or-none");
      await store.put("conv/1", { last: 1 });
      const failures: string[] = [];
      // A value with no JSON text, then a key IndexedDB refuses, each after writes that came first.
      for (const bad of [[["conv/1", { last: 2 }], ["m/1", { big: 1n }]], [["conv/1", { last: 2 }], [{ not: "a key" }, 1]]] as unknown as Array<Array<[string, unknown]>>) {
        await store.putMany(bad).then(
          () => failures.push("written"),
          (error: Error) => failures.push(error.name),
        );
      }
      await store.putMany([["conv/1", { last: 3 }], ["m/1", "hello"], ["m/0", undefined]]);
      return { failures, listed: await store.list(""), got: await store.getMany(["conv/1", "m/1", "m/2"]) };
    });
    expect(after.failures).toEqual(["TypeError", "DataError"]);
    expect(after.listed).toEqual([["conv/1", { last: 3 }], ["m/1", "hello"]]);
    expect(after.got).toEqual([{ last: 3 }, "hello", undefined]);
  });

  /** Fills the page's stand-in for extension storage as the old store (one "emsg:" key a value, JSON text) did. */
  const oldHistory = (count: number) =>
    page.evaluate((count) => {
      localStorage.clear();
      localStorage.setItem("other-extension-key", "kept");
      for (let i = 0; i < count; i++) localStorage.setItem(`emsg:m/${String(i).padStart(6, "0")}`, JSON.stringify({ id: `m${i}`, text: `message ${i}`, at: 1_000 + i }));
      localStorage.setItem("emsg:account", JSON.stringify({ address: "alice#im.alice.test" }));
    }, count);

  /** What the database and the old storage hold, read without the store (which would migrate). */
  const state = (db: string) =>
    page.evaluate(async (db) => {
      const handle = await (globalThis as unknown as { lib: Lib }).lib.openExtensionDb(db);
      const result = { mark: (await handle.get("meta", "migration")) ?? null, entries: await handle.count("entries"), old: Object.keys(localStorage).filter((k) => k.startsWith("emsg:")).length };
      handle.close();
      return result;
    }, db);

  const expectHistory = (listed: Array<[string, unknown]>, count: number) => {
    expect(listed).toHaveLength(count + 1);
    expect(listed[0]).toEqual(["account", { address: "alice#im.alice.test" }]);
    listed.slice(1).forEach(([key, value], i) => {
      expect(key).toBe(`m/${String(i).padStart(6, "0")}`);
      expect(value).toEqual({ id: `m${i}`, text: `message ${i}`, at: 1_000 + i });
    });
  };

  it("moves an earlier version's history into the database on first start, once, and leaves other keys", async () => {
    await oldHistory(500);
    const first = await page.evaluate(async () => {
      const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
      // The background and the panel open the store at the same time.
      const [background, panel] = [new ExtensionStore(pageStorageArea(), "moved"), new ExtensionStore(pageStorageArea(), "moved")];
      const [listed, account] = await Promise.all([background.list("m/"), panel.get("account")]);
      await background.put("m/000001", { id: "m1", text: "edited", at: 5 });
      return { listed: listed.length, account, all: await panel.list("") };
    });
    expect(first.account).toEqual({ address: "alice#im.alice.test" });
    expect(first.listed).toBe(500);
    expect(first.all).toHaveLength(501);
    expect(await state("moved")).toEqual({ mark: "done", entries: 501, old: 0 });
    expect(await page.evaluate(() => localStorage.getItem("other-extension-key"))).toBe("kept");

    // The old keys written back (as if never removed) are not read again: the edit stays.
    await oldHistory(500);
    const again = await page.evaluate(async () => {
      const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
      return new ExtensionStore(pageStorageArea(), "moved").get("m/000001");
    });
    expect(again).toEqual({ id: "m1", text: "edited", at: 5 });
  });

  it("a start stopped between the copy and the removal of the old keys is finished by the next, without copying over newer writes", async () => {
    await oldHistory(300);
    const stopped = await page.evaluate(async () => {
      const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
      const area = pageStorageArea(true);
      const store = new ExtensionStore(area, "stopped");
      Object.assign(globalThis, { stopped: { area, store } });
      return store.get("account").then(
        () => "opened",
        (error: Error) => error.message,
      );
    });
    expect(stopped).toBe("stopped");
    expect(await state("stopped")).toEqual({ mark: "copied", entries: 301, old: 301 });
    const next = await page.evaluate(async () => {
      const { openExtensionDb, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
      // Written by the new version before the next start finishes the move (the panel, say).
      const db = await openExtensionDb("stopped");
      await db.put("entries", JSON.stringify({ id: "m7", text: "newer", at: 9 }), "m/000007");
      db.close();
      // The same store tries its opening again on its next call, when the removal can go through.
      const { area, store } = (globalThis as unknown as { stopped: { area: ReturnType<Lib["pageStorageArea"]>; store: InstanceType<Lib["ExtensionStore"]> } }).stopped;
      area.remove = pageStorageArea().remove;
      return { seventh: await store.get("m/000007"), all: await store.list("") };
    });
    expect(next.seventh).toEqual({ id: "m7", text: "newer", at: 9 });
    expect(next.all).toHaveLength(301);
    expect(await state("stopped")).toEqual({ mark: "done", entries: 301, old: 0 });
  });

  it("a page closed at any moment of the move leaves all of it or none, and the next start ends with every message once", async () => {
    const count = 5_000;
    const seen = new Set<string>();
    for (const [i, delay] of [0, 40, 120, 300, 700, 1500].entries()) {
      const db = `killed-${i}`;
      await oldHistory(count);
      await page.evaluate((db) => void new (globalThis as unknown as { lib: Lib }).lib.ExtensionStore((globalThis as unknown as { lib: Lib }).lib.pageStorageArea(), db).get("account"), db);
      await new Promise((done) => setTimeout(done, delay));
      await page.reload();
      const cut = await state(db);
      seen.add(cut.mark ?? "none");
      // A copy is whole or absent; the old keys go only once it is whole.
      if (cut.mark === null) expect(cut).toEqual({ mark: null, entries: 0, old: count + 1 });
      else expect(cut.entries).toBe(count + 1);
      const listed = await page.evaluate(async (db) => {
        const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
        return new ExtensionStore(pageStorageArea(), db).list<unknown>("");
      }, db);
      expectHistory(listed, count);
      expect(await state(db)).toEqual({ mark: "done", entries: count + 1, old: 0 });
    }
    // Where the page was closed, for the record: a cut before the copy and one after it are both covered when both show.
    console.log(`extension-store: moves cut at ${[...seen].join(", ")}`);
  }, 120_000);
});
