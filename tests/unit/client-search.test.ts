import { describe, expect, it } from "vitest";
import type { MessageRecord } from "../../shared/client/messages.js";
import { saveMessage } from "../../shared/client/messages.js";
import { foldText, indexMessages, searchMessages } from "../../shared/client/search.js";
import { MemoryStore } from "../../shared/client/store.js";
import { threeFriends } from "./group-world.js";
import { asAddress, domainOf } from "../../shared/address.js";
import { toB64u } from "../../shared/base64url.js";
import { certifyDevice, generateKeyPair } from "../../shared/identity.js";
import { EmsgClient } from "../../shared/client/client.js";
import { pendingConversation } from "../../shared/client/outgoing-queue.js";
import type { Transport } from "../../shared/client/transport.js";

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

describe("search words leave the device with their message", () => {
  const wordsOnDevice = async (store: MemoryStore) => JSON.stringify(await store.list("search/"));

  it("drops an edited message's old words and a deleted one's words from the index itself", async () => {
    const ctx = { store: new MemoryStore() };
    const first = message(1, "the train leaves at nine");
    const second = message(2, "bring the tickets");
    for (const m of [first, second]) await saveMessage(ctx, m);
    await indexMessages(ctx, [first, second]);
    expect((await searchMessages(ctx, "train")).map((m) => m.id)).toEqual([first.id]);
    const edited = { ...first, text: "the bus leaves at ten", editedAt: 5_000 };
    const deleted = { ...second, text: "", deleted: true as const };
    for (const m of [edited, deleted]) await saveMessage(ctx, m);
    await indexMessages(ctx, [edited, deleted]);
    expect((await searchMessages(ctx, "bus")).map((m) => m.text)).toEqual(["the bus leaves at ten"]);
    expect(await searchMessages(ctx, "train")).toEqual([]);
    const words = await wordsOnDevice(ctx.store);
    expect(words).not.toContain("train");
    expect(words).not.toContain("tickets");
  });

  it("no longer finds an expired message, and keeps none of its words", async () => {
    const store = new MemoryStore();
    const DAY = 86_400_000;
    const now = Date.now();
    const address = asAddress("alice#im.alice.test");
    const [accountKeys, deviceKeys] = [generateKeyPair(), generateKeyPair()];
    const deviceCert = certifyDevice(accountKeys, address, deviceKeys.publicKey, "test", now);
    await store.put("account", {
      address, domain: domainOf(address), origin: "http://127.0.0.1:9",
      accountPublicKey: toB64u(accountKeys.publicKey), accountPrivateKey: toB64u(accountKeys.privateKey),
      deviceId: deviceCert.body.deviceId, devicePublicKey: toB64u(deviceKeys.publicKey), devicePrivateKey: toB64u(deviceKeys.privateKey),
      deviceCert, created: now - 10 * DAY,
    });
    await store.put("settings", { strangers: "accept", retentionDays: 7 });
    const conversation = pendingConversation(asAddress("bob#im.bob.test"));
    const old = { ...message(1, "the secret plan", conversation), at: now - 8 * DAY };
    const recent = { ...message(2, "the public plan", conversation), at: now - DAY };
    for (const m of [old, recent]) await saveMessage({ store }, m);
    const offline: Transport = {
      fetch: () => Promise.reject(new Error("no network in this test")),
      openSocket: () => {
        throw new Error("no network in this test");
      },
    };
    const client = new EmsgClient({ store, transport: offline, clock: { now: () => now } });
    expect(await client.open()).toBe(true);
    expect((await client.search("plan")).map((m) => m.text)).toEqual(["the public plan", "the secret plan"]);
    expect(await client.expire()).toEqual([old.id]);
    expect((await client.search("plan")).map((m) => m.text)).toEqual(["the public plan"]);
    expect(await client.search("secret")).toEqual([]);
    expect(await wordsOnDevice(store)).not.toContain("secret");
  });
});
