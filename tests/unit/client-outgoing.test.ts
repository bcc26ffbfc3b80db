import { describe, expect, it } from "vitest";
import { randomId16 } from "../../shared/ids.js";
import { enqueueReceipt, enqueueReceipts, pending } from "../../shared/client/outgoing-queue.js";
import { MemoryStore } from "../../shared/client/store.js";
import { EmsgClient } from "../../shared/client/client.js";
import { GroupWorld } from "./group-world.js";

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

  it("of a mailbox frame's conversations fold likewise, from one listing of the queue in one write", async () => {
    const store = new MemoryStore();
    const ctx = { store };
    const [alice, bob] = ["im.alice.test/AAAAAAAAAAAAAAAAAAAAAA", "im.bob.test/AAAAAAAAAAAAAAAAAAAAAA"];
    const ids = Array.from({ length: 150 }, () => randomId16());
    await enqueueReceipt(ctx, alice, ids.slice(0, 60), 1_000);
    let listings = 0;
    let writes = 0;
    const [list, putMany] = [store.list.bind(store), store.putMany.bind(store)];
    store.list = (prefix) => (listings++, list(prefix));
    store.putMany = (entries) => (writes++, putMany(entries));
    await enqueueReceipts(ctx, [{ conversation: alice, ids: ids.slice(60, 100) }, { conversation: bob, ids: ids.slice(0, 1) }, { conversation: alice, ids: ids.slice(100) }], 2_000);
    expect([listings, writes]).toEqual([1, 1]);
    const receipts = (await pending(ctx)).map((e) => ({ conversation: e.conversation, of: e.content.type === "receipt" ? e.content.of : [] }));
    expect(receipts.map((r) => [r.conversation, r.of.length]).sort()).toEqual([
      [alice, 100],
      [alice, 50],
      [bob, 1],
    ]);
    expect(new Set(receipts.filter((r) => r.conversation === alice).flatMap((r) => r.of))).toEqual(new Set(ids));
  });
});

describe("messages written while earlier ones are being sent", () => {
  it("are stored at once, so a reload meanwhile loses none of them", { timeout: 60_000 }, async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    await world.befriend(alice, bob);
    await alice.sendText(bob.address, "first");
    await alice.flush();
    // The hub takes its time with the next submission: the send of "second" is still in flight
    // when Alice writes "third" and then reloads.
    const serve = world.transport.fetch;
    let answer: () => void = () => {};
    const held = new Promise<void>((resolve) => (answer = resolve));
    world.transport.fetch = async (url, request) => {
      if (request.method === "POST" && url.endsWith("/messages")) await held;
      return serve(url, request);
    };
    await alice.sendText(bob.address, "second");
    // A person writes the next one a moment later: texts of one millisecond have no order.
    await new Promise((r) => setTimeout(r, 5));
    const third = await Promise.race([alice.sendText(bob.address, "third"), new Promise<"waiting">((r) => setTimeout(() => r("waiting"), 5_000))]);
    expect(third).toMatchObject({ text: "third", status: "sending" });

    const reloaded = new EmsgClient({ store: world.storeOf(alice), transport: { ...world.transport, fetch: serve }, clock: { now: () => Date.now() } });
    await reloaded.open();
    expect(await reloaded.flush()).toBe(0);
    answer();
    await bob.sync();
    expect((await bob.history(alice.address)).map((m) => m.text)).toEqual(["first", "second", "third"]);
  });
});

describe("a text whose hub cannot be reached for a while", () => {
  it("goes out as first encrypted when the hub is back, so the friend reads it and what follows however often it was tried (issue 15)", { timeout: 120_000 }, async () => {
    const world = new GroupWorld();
    const alice = await world.person("alice#im.alice.test");
    const bob = await world.person("bob#im.bob.test");
    await world.befriend(alice, bob);
    await alice.sendText(bob.address, "before");
    expect(await alice.flush()).toBe(0);
    // Alice's server is down (the crash soak kills it): every flush, one per text written or
    // per tick, tries the oldest waiting text again. More tries than MLS lets a reader skip.
    const serve = world.transport.fetch;
    world.transport.fetch = async (url, request) => {
      if (request.method === "POST" && url.endsWith("/messages")) throw new TypeError("fetch failed");
      return serve(url, request);
    };
    await alice.sendText(bob.address, "while down");
    for (let i = 0; i < 250; i++) expect(await alice.flush()).toBe(1);
    world.transport.fetch = serve;
    await alice.sendText(bob.address, "after");
    expect(await alice.flush()).toBe(0);
    await bob.sync();
    const shown = await bob.history(alice.address);
    expect(shown.filter((m) => m.notice)).toEqual([]);
    expect(shown.map((m) => m.text)).toEqual(["before", "while down", "after"]);
  });
});
