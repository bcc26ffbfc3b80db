import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openStorePage, type StorePage } from "./extension-store-host.js";

type Lib = typeof import("./extension-store-page.js");

// The move of an earlier version's extension storage into IndexedDB removes the old keys once
// the copy's transaction completes. Chromium completes a transaction of the default durability
// (relaxed since Chrome 121) once the OS has its writes, not the disk: a power cut or OS crash
// after the removal would then lose the user's whole history, which only the copy still held. So
// the copy must be a strict transaction, one Chromium completes only once its writes are flushed.
describe("the extension store's move from extension storage", () => {
  let host: StorePage;
  let page: Page;

  beforeAll(async () => {
    host = await openStorePage();
    page = host.page;
  }, 60_000);

  afterAll(async () => {
    await host?.close();
  });

  it("copies the history in a transaction flushed to disk before the old keys go", async () => {
    const seen = await page.evaluate(async () => {
      localStorage.clear();
      for (let i = 0; i < 50; i++) localStorage.setItem(`emsg:m/${i}`, JSON.stringify({ id: `m${i}`, text: `message ${i}` }));
      localStorage.setItem("emsg:account", JSON.stringify({ address: "alice#im.alice.test" }));
      // Every read-write transaction opened, with the durability Chromium gives it, and what the old storage held then.
      const opened: Array<{ stores: string[]; durability: string; oldKeys: number }> = [];
      const transaction = IDBDatabase.prototype.transaction;
      IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args: Parameters<IDBDatabase["transaction"]>) {
        const tx = transaction.apply(this, args);
        if (tx.mode === "readwrite") opened.push({ stores: [...tx.objectStoreNames], durability: tx.durability, oldKeys: Object.keys(localStorage).length });
        return tx;
      } as IDBDatabase["transaction"];
      try {
        const { ExtensionStore, pageStorageArea } = (globalThis as unknown as { lib: Lib }).lib;
        const account = await new ExtensionStore(pageStorageArea(), "durable").get("account");
        return { account, opened, oldLeft: Object.keys(localStorage).length };
      } finally {
        IDBDatabase.prototype.transaction = transaction;
      }
    });
    expect(seen.account).toEqual({ address: "alice#im.alice.test" });
    expect(seen.oldLeft).toBe(0);
    // The copy: entries and the mark together, while the old keys were all still there.
    const copy = seen.opened.find((t) => t.stores.includes("entries") && t.stores.includes("meta"));
    expect(copy).toMatchObject({ oldKeys: 51 });
    expect(copy?.durability).toBe("strict");
  }, 60_000);
});
