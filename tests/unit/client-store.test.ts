import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { FileStore } from "../../cli/file-store.js";
import { MemoryStore, namespaced, type Store } from "../../shared/client/store.js";

const dirs: string[] = [];
async function fileStore(): Promise<FileStore> {
  const dir = await mkdtemp(join(tmpdir(), "emsg-store-"));
  dirs.push(dir);
  return new FileStore(dir);
}

afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

const kinds: Array<[string, () => Promise<Store>]> = [
  ["memory", async () => new MemoryStore()],
  ["file", fileStore],
];

describe.each(kinds)("%s store", (_name, make) => {
  it("gives back what was put, and nothing after delete", async () => {
    const store = await make();
    await store.put("conv/im.a.test/x", { unread: 2, last: { text: "héllo ＃ 你好" } });
    expect(await store.get("conv/im.a.test/x")).toEqual({ unread: 2, last: { text: "héllo ＃ 你好" } });
    await store.delete("conv/im.a.test/x");
    expect(await store.get("conv/im.a.test/x")).toBeUndefined();
    await store.delete("never-there");
  });

  it("lists one prefix in key order, so message keys come out oldest first", async () => {
    const store = await make();
    await store.put("msg/c/000000000000200-b", 2);
    await store.put("msg/c/000000000000100-a", 1);
    await store.put("msg/d/000000000000050-z", 9);
    await store.put("msgid/a", "x");
    expect(await store.list("msg/c/")).toEqual([
      ["msg/c/000000000000100-a", 1],
      ["msg/c/000000000000200-b", 2],
    ]);
  });

  it("keeps keys of any text apart", async () => {
    const store = await make();
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 8 }), async (keys) => {
        for (const key of keys) await store.put(`p/${key}`, key);
        const listed = await store.list<string>("p/");
        for (const key of keys) expect(listed).toContainEqual([`p/${key}`, key]);
        for (const key of keys) await store.delete(`p/${key}`);
      }),
      { numRuns: 15 },
    );
  });

  it("namespaces share one store without seeing each other", async () => {
    const store = await make();
    const a = namespaced(store, "alice/");
    const b = namespaced(store, "bob/");
    await a.put("account", "A");
    await b.put("account", "B");
    expect(await a.get("account")).toBe("A");
    expect(await b.list("")).toEqual([["account", "B"]]);
  });
});

describe("file store", () => {
  it("leaves no temporary files behind after many writes", async () => {
    const store = await fileStore();
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.put(`k${i % 3}`, i)));
    const names = await readdir(dirs[0]!);
    expect(names.filter((n) => n.endsWith(".tmp"))).toEqual([]);
    expect(names.sort()).toEqual(["k0.json", "k1.json", "k2.json"]);
  });

  it("survives being reopened, as after a restart", async () => {
    const store = await fileStore();
    await store.put("mailbox/cursor", 17);
    expect(await new FileStore(dirs[0]!).get("mailbox/cursor")).toBe(17);
  });
});
