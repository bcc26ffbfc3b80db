import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { Transport } from "../../shared/client/transport.js";
import { ClientService } from "../../extension/background/client-service.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import { GroupWorld } from "./group-world.js";
import { MemoryKept } from "./memory-kept.js";
import { OWN, SELF, PANEL, PAGE } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;

// The background of an extension whose device Alice removed from her account on another device:
// its server answers `device_removed` to everything it signs (PROTOCOL §6).
describe("the extension's background on a device its account removed", () => {
  it("tells offline from removed by what the server says, stops trying once removed, and clears itself only then", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    await world.befriend(aliceCore, await world.person(bob));
    let server: "down" | "removed" = "down";
    let asked = 0;
    const transport: Transport = {
      fetch: async (url, request) => {
        asked++;
        if (server === "down") throw new TypeError("fetch failed");
        if (url.includes("/.well-known/")) return world.transport.fetch(url, request);
        return { status: 401, text: async () => JSON.stringify({ error: "device_removed", message: "This device was removed from the account." }) };
      },
      openSocket: () => {
        throw new Error("no socket is opened here");
      },
    };
    const store = world.storeOf(aliceCore);
    const cleared = Object.assign(store, { clear: async () => void (await Promise.all((await store.list("")).map(([key]) => store.delete(key)))) });
    const kept = new MemoryKept();
    const service = new ClientService(cleared, transport, kept);
    const ctx: RequestContext = { service, openPanel: async () => "side-panel" };
    const status = () => handleRequest({ type: "status" }, PANEL, SELF, ctx);

    await service.keepConnected();
    expect(await status()).toMatchObject({ ok: true, account: alice, connection: "offline" });
    expect(await handleRequest({ type: "send-text", chat: bob, text: "Written on the train" }, PANEL, SELF, ctx)).toMatchObject({ ok: true, record: { status: "sending" } });
    expect(await handleRequest({ type: "forget-device" }, PANEL, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
    // A photo sealed on the train waits for a server in the platform's keeping.
    const photo = new Uint8Array(2_000).fill(7);
    await service.client.sendFile(bob, { name: "train.jpg", mediaType: "image/jpeg", size: photo.length, read: async (at, n) => photo.slice(at, at + n) });
    expect(kept.held()).toHaveLength(1);

    server = "removed";
    await service.keepConnected();
    expect(await status()).toMatchObject({ ok: true, account: alice, connection: "removed" });
    expect(service.client.removed).toBe(true);
    // Nothing more is asked of the server: no reconnecting, no polling.
    const before = asked;
    await service.keepConnected();
    expect(await handleRequest({ type: "sync" }, PANEL, SELF, ctx)).toMatchObject({ ok: true, synced: false });
    expect(asked).toBe(before);
    // What is here stays readable.
    expect(await handleRequest({ type: "messages", chat: bob }, PANEL, SELF, ctx)).toMatchObject({ ok: true, messages: [{ text: "Written on the train" }, { text: "train.jpg" }] });

    // A web page may not clear it; the extension's own page may.
    expect(await handleRequest({ type: "forget-device" }, PAGE, SELF, ctx)).toMatchObject({ ok: false, error: "forbidden" });
    expect(await handleRequest({ type: "forget-device" }, PANEL, SELF, ctx)).toEqual({ ok: true, done: true });
    expect(await status()).toMatchObject({ ok: true, account: null, connection: "none" });
    expect(await store.list("")).toEqual([]);
    // Its sealed parts go with the store that held their key.
    expect(kept.held()).toEqual([]);
    expect(service.client.removed).toBe(false);
  });
});
