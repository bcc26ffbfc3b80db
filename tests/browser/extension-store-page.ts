// Bundled into a page by extension-store.test.ts: the extension's store and migration, run on
// Chromium's own IndexedDB, with an old storage area that outlives a reload of the page.
import type { StorageArea } from "../../extension/platform/storage-migration.js";
import type { MemoryStore } from "../../shared/client/store.js";
import { deleteMessage, findMessage, indexKey, type MessageRecord, resubmit, retime, saveMessage, submittedAs } from "../../shared/client/messages.js";

export { ExtensionStore, openExtensionDb } from "../../extension/platform/extension-store.js";
export { MemoryStore } from "../../shared/client/store.js";
export { unwrap } from "idb";
// The PWA's store too: the same listing contract, sealed values.
export { IdbStore } from "../../pwa/src/platform/idb-store.js";
export { openDatabase } from "../../pwa/src/platform/database.js";

/**
 * Extension storage as an earlier version left it, kept in the page's localStorage: it outlives a
 * reload as extension storage outlives a stopped service worker. `failRemove` stops the migration
 * where a worker stopped between its copy and its removal of the old keys would.
 */
export function pageStorageArea(failRemove = false): StorageArea {
  return {
    get: async (keys) => {
      if (keys !== null) throw new Error("the migration reads the whole area");
      const all: Record<string, unknown> = {};
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i)!;
        all[key] = localStorage.getItem(key);
      }
      return all;
    },
    remove: async (keys) => {
      if (failRemove) throw new Error("stopped");
      for (const key of typeof keys === "string" ? [keys] : keys) localStorage.removeItem(key);
    },
  };
}

/** A step of the store property tests: a write, or a read whose answer is compared. */
export type StoreOp =
  | { op: "put"; key: string; value: unknown }
  | { op: "delete"; key: string }
  | { op: "putMany"; entries: Array<{ key: string; value: unknown; del: boolean }> }
  | { op: "get"; key: string }
  | { op: "getMany"; keys: string[] }
  | { op: "list"; prefix: string }
  | { op: "listLast"; prefix: string; limit: number; before: string | null };

/** Runs `ops` on `store` (either client's, or the core's MemoryStore): what each read gave. */
export async function runOps(store: Pick<MemoryStore, "put" | "delete" | "putMany" | "get" | "getMany" | "list" | "listLast">, ops: StoreOp[]): Promise<unknown[]> {
  const seen: unknown[] = [];
  for (const o of ops) {
    if (o.op === "put") await store.put(o.key, o.value);
    else if (o.op === "delete") await store.delete(o.key);
    else if (o.op === "putMany") await store.putMany(o.entries.map(({ key, value, del }) => [key, del ? undefined : value]));
    else if (o.op === "get") seen.push((await store.get(o.key)) ?? null);
    else if (o.op === "getMany") seen.push((await store.getMany(o.keys)).map((v) => v ?? null));
    else if (o.op === "listLast") seen.push(await store.listLast(o.prefix, o.limit, o.before ?? undefined));
    else seen.push(await store.list(o.prefix));
  }
  return seen;
}

/**
 * A step of the message index tests, done through the core's own functions (shared/client/messages.ts)
 * as the client does them: message `n` is `m{n}`, always in the same chat; `s{k}` the k-th Submit id given.
 */
export type MessageOp =
  | { op: "save"; n: number; at: number }
  | { op: "status"; n: number }
  | { op: "resubmit"; n: number }
  | { op: "retime"; n: number; at: number }
  | { op: "delete"; n: number }
  | { op: "find"; id: string }
  | { op: "submittedAs"; ref: string }
  | { op: "getMany"; ids: string[] };

/** Runs `ops` on `store`: what each read gave, and then every message stored, by key. */
export async function runMessageOps(store: Pick<MemoryStore, "put" | "delete" | "get" | "getMany" | "list">, ops: MessageOp[]): Promise<unknown[]> {
  const ctx = { store } as Parameters<typeof findMessage>[0];
  const seen: unknown[] = [];
  let submits = 0;
  const record = (n: number, at: number): MessageRecord => ({ id: `m${n}`, conversation: `c${n % 2}`, from: "alice#im.alice.test" as MessageRecord["from"], direction: "in", text: `text ${n}`, at, status: "received" });
  for (const o of ops) {
    const known = "n" in o ? await findMessage(ctx, `m${o.n}`) : undefined;
    // As the client does: a message is saved once (a second copy is known by its id), then changed.
    if (o.op === "save" && !known) await saveMessage(ctx, record(o.n, o.at));
    else if (o.op === "status" && known) await saveMessage(ctx, { ...known, status: "delivered" });
    else if (o.op === "resubmit" && known) await resubmit(ctx, known, `s${submits++}`);
    else if (o.op === "retime" && known) await retime(ctx, known, o.at);
    else if (o.op === "delete" && known) await deleteMessage(ctx, known);
    else if (o.op === "find") seen.push((await findMessage(ctx, o.id)) ?? null);
    else if (o.op === "submittedAs") seen.push((await submittedAs(ctx, o.ref)) ?? null);
    else if (o.op === "getMany") seen.push((await store.getMany(o.ids.map(indexKey))).map((v) => v ?? null));
  }
  seen.push(await store.list("msg/"));
  return seen;
}
