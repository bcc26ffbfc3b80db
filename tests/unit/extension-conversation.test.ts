import { describe, expect, it } from "vitest";
import type { Address } from "../../shared/address.js";
import type { MessageRecord } from "../../shared/client/index.js";
import { ClientService } from "../../extension/background/client-service.js";
import { serveFileTransfers } from "../../extension/background/file-transfers.js";
import { handleRequest, type RequestContext } from "../../extension/background/requests.js";
import type { FileAnswer } from "../../extension/messaging/file-port.js";
import { MemoryStore } from "../../shared/client/store.js";
import { GroupWorld, syncAll } from "./group-world.js";
import { OWN, SELF, PANEL } from "./extension-senders.js";

const alice = "alice#im.alice.test" as Address;
const bob = "bob#im.bob.test" as Address;

type Ask = (request: Record<string, unknown>) => Promise<Record<string, unknown> & { ok: boolean }>;

// What the panel's chat view models ask the background (extension/ui/remote-client.ts), answered
// by Alice's real core, with Bob's core on the other side of an in-memory server.
describe("the background acting on messages for the panel", { timeout: 60_000 }, () => {
  it("sends a reply, reacts, edits, deletes for everyone and searches, and the other side sees each", async () => {
    const world = new GroupWorld();
    const aliceCore = await world.person(alice);
    const bobClient = await world.person(bob);
    await world.befriend(aliceCore, bobClient);
    const ctx: RequestContext = { service: new ClientService(world.storeOf(aliceCore), world.transport), openPanel: async () => "side-panel" };
    const ask: Ask = async (request) => (await handleRequest(request, PANEL, SELF, ctx)) as Awaited<ReturnType<Ask>>;
    const send = async (text: string, replyTo?: string) => {
      const reply = await ask({ type: "send-text", chat: bob, text, ...(replyTo ? { replyTo } : {}) });
      expect(reply).toMatchObject({ ok: true, record: { direction: "out", text } });
      await ctx.service.client.flush();
      await syncAll(bobClient);
      return (reply.record as MessageRecord).id;
    };
    const onBob = async (id: string) => (await bobClient.history(alice)).find((m) => m.id === id);

    const first = await send("Meet at 5");
    const reply = await send("At the lake", first);
    expect(await onBob(reply)).toMatchObject({ text: "At the lake", replyTo: first });

    expect(await ask({ type: "react", id: first, emoji: "👍", op: "add" })).toMatchObject({ ok: true, record: { reactions: [{ by: alice, emoji: "👍" }] } });
    expect(await ask({ type: "edit", id: first, text: "Meet at 6" })).toMatchObject({ ok: true, record: { text: "Meet at 6" } });
    await ctx.service.client.flush();
    await syncAll(bobClient);
    expect(await onBob(first)).toMatchObject({ text: "Meet at 6", editedAt: expect.any(Number), reactions: [expect.objectContaining({ by: alice, emoji: "👍" })] });

    expect(await ask({ type: "delete-message", id: reply })).toMatchObject({ ok: true, record: { deleted: true } });
    await ctx.service.client.flush();
    await syncAll(bobClient);
    expect(await onBob(reply)).toMatchObject({ deleted: true, text: "" });

    const found = (await ask({ type: "search", query: "meet" })).messages as MessageRecord[];
    expect(found.map((m) => m.text)).toEqual(["Meet at 6"]);
    const page = (await ask({ type: "messages", chat: bob, limit: 1 })).messages as MessageRecord[];
    expect(page.map((m) => m.id)).toEqual([reply]);
    // Only the sender edits or deletes: Bob's message stays his.
    await bobClient.sendText(alice, "mine");
    await bobClient.flush();
    await ctx.service.sync();
    const bobs = ((await ask({ type: "messages", chat: bob })).messages as MessageRecord[]).find((m) => m.text === "mine")!;
    expect(await ask({ type: "edit", id: bobs.id, text: "changed" })).toMatchObject({ ok: false });
  });
});

describe("files between the panel and the background", () => {
  /** The service worker's message listener, called as the browser would, with a port to answer on. */
  function listener() {
    let handle: ((event: Parameters<Parameters<Parameters<typeof serveFileTransfers>[0]["addEventListener"]>[1]>[0]) => void) | undefined;
    serveFileTransfers({ addEventListener: (_type, l) => (handle = l) }, SELF.origin, new ClientService(new MemoryStore(), { fetch: async () => ({ status: 404, text: async () => "" }), openSocket: () => { throw new Error("no sockets here"); } }));
    return async (data: unknown, url: string): Promise<FileAnswer> => {
      const channel = new MessageChannel();
      const answer = new Promise<FileAnswer>((resolve) => (channel.port1.onmessage = (e) => resolve(e.data as FileAnswer)));
      handle!({ data, ports: [channel.port2], source: { url }, waitUntil: () => undefined });
      const got = await answer;
      channel.port1.close();
      return got;
    };
  }

  it("refuses a page of another origin, a request it does not understand, and a file that is not a Blob", async () => {
    const ask = listener();
    const upload = { kind: "upload", target: bob, name: "a.txt", mediaType: "text/plain", file: new Blob(["hi"]), media: {} };
    expect(await ask(upload, "https://example.com/")).toEqual({ failed: { ok: false, error: "forbidden", message: "Only EMSG itself may ask this." } });
    for (const bad of [{ ...upload, file: "hi" }, { ...upload, media: { thumb: new Uint8Array(9000) } }, { kind: "download" }, { kind: "delete", id: "x" }]) {
      expect(await ask(bad, PANEL.url)).toMatchObject({ failed: { ok: false, error: "bad_request" } });
    }
    // Understood, from our own page: it reaches the core, which has no account here.
    expect(await ask(upload, PANEL.url)).toMatchObject({ failed: { ok: false, error: "not_found" } });
  });
});
