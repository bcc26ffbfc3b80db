import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import { ClientService } from "../../extension/background/client-service.js";
import { serveFileTransfers } from "../../extension/background/file-transfers.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import type { FileAnswer } from "../../extension/messaging/file-port.js";
import { GroupWorld } from "./group-world.js";
import { OWN, SELF, PANEL } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;

type WorkerListener = Parameters<Parameters<typeof serveFileTransfers>[0]["addEventListener"]>[1];

// The background as the panel reaches it, started while no server can be reached (a fresh service
// worker, offline), with a friend whose conversation does not exist yet on any server.
describe("the first messages to a friend, written in the extension while offline", { timeout: 60_000 }, () => {
  it("wait as sending, a text and a file, as in the PWA, and stay so after a try to send them", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    await world.befriend(aliceCore, await world.person(bob));
    const offline = { ...world.transport, fetch: async () => Promise.reject(new TypeError("fetch failed")) };
    const service = new ClientService(world.storeOf(aliceCore), offline);
    const ctx: RequestContext = { service, openPanel: async () => "side-panel" };
    await service.keepConnected();

    expect(await handleRequest({ type: "send-text", chat: bob, text: "Hello from the train" }, PANEL, SELF, ctx)).toMatchObject({ ok: true, record: { status: "sending" } });
    let handle: WorkerListener | undefined;
    serveFileTransfers({ addEventListener: (_type, listener) => (handle = listener) }, SELF.origin, service);
    const channel = new MessageChannel();
    const answer = new Promise<FileAnswer>((resolve) => (channel.port1.onmessage = (e: MessageEvent<FileAnswer>) => void (!("progress" in e.data) && resolve(e.data))));
    handle!({ data: { kind: "upload", target: bob, name: "ticket.txt", mediaType: "text/plain", file: new Blob(["seat 42"]), media: {} }, ports: [channel.port2], source: { url: PANEL.url }, waitUntil: () => undefined });
    expect(await answer).toMatchObject({ sent: { text: "ticket.txt", status: "sending" } });
    channel.port1.close();

    expect(await service.client.flush()).toBe(1);
    const shown = await handleRequest({ type: "messages", chat: bob }, PANEL, SELF, ctx);
    expect(shown).toMatchObject({ ok: true, messages: [{ text: "Hello from the train", status: "sending" }, { text: "ticket.txt", status: "sending" }] });
    expect(await handleRequest({ type: "summaries" }, PANEL, SELF, ctx)).toMatchObject({ ok: true, summaries: [{ conversation: `@${bob}`, last: { text: "ticket.txt" } }] });
  });
});
