import { describe, expect, it, vi } from "vitest";
import type { FileSource } from "../../shared/client/attachments.js";
import type { ConversationSummary } from "../../shared/client/conversation-record.js";
import type { Address } from "../../shared/address.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { MemoryStore, Store } from "../../shared/client/store.js";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { ChatsViewModel } from "../../ui/view-models/chats-model.js";
import { translator } from "../../ui/i18n/translate.js";
import { GroupWorld } from "./group-world.js";

function photo(name = "beach.jpg", size = 2_000): FileSource {
  const bytes = new Uint8Array(size).fill(7);
  return { name, mediaType: "image/jpeg", size, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

/** The chat list over a real client core, with nothing kept on the side (no stars, drafts, marks). */
function chatList(client: EmsgClient): ChatsViewModel {
  const records = { marked: async () => new Set<string>(), favorites: async () => [], draft: async () => "", keyMemory: async () => undefined, saveDraft: async () => undefined };
  const ctx = { client, records, locale: "en", t: translator("en"), link: "online", now: () => Date.now(), favoritesChanged: () => undefined, runExpiry: () => client.expire() };
  return new ChatsViewModel(ctx as unknown as ChatContext);
}

/** Alice and Bob, friends with no conversation yet; Alice's uploads wait until `release` (then meet no server). */
async function friendsWithHeldUploads() {
  const world = new GroupWorld();
  const alice = await world.person("alice#im.alice.test");
  const bob = await world.person("bob#im.bob.test");
  await world.befriend(alice, bob);
  const serve = world.transport.fetch;
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  world.transport.fetch = async (url, request) => {
    if (url.includes("/blobs")) {
      await held;
      throw new TypeError("fetch failed");
    }
    return serve(url, request);
  };
  return { world, alice, bob, release };
}

describe("a photo as the first message of a new chat", () => {
  it("lists the chat at once, with the photo as its last line, while the upload still runs", { timeout: 60_000 }, async () => {
    const { alice, bob, release } = await friendsWithHeldUploads();
    const announced: ConversationSummary[] = [];
    alice.events.on("conversation", (summary) => announced.push(summary));
    const list = chatList(alice);
    await list.load();
    list.open(bob.address);
    const sending = alice.sendFile(bob.address, photo());
    await vi.waitFor(() => expect(announced.map((s) => [s.peer, s.last?.text, s.last?.direction, s.last?.status])).toEqual([[bob.address, "beach.jpg", "out", "sending"]]));
    expect(list.rows.map((r) => [r.id, r.preview, r.selected])).toEqual([[`@${bob.address}`, "You: beach.jpg", true]]);
    const listed = (await alice.conversations()).find((c) => c.peer === bob.address);
    expect(listed).toMatchObject({ conversation: `@${bob.address}`, kind: "direct", last: { text: "beach.jpg", status: "sending" } });
    release();
    expect(await sending).toMatchObject({ text: "beach.jpg", status: "sending", conversation: `@${bob.address}` });
    // The open chat still writes to Bob by address: `@bob` is no conversation the core could send into.
    expect([list.conversation?.conversation, list.conversation?.target]).toEqual([null, bob.address]);
  });
});

/** Alice's device opened again over what her store kept, her uploads resumed; what her chat with Bob shows then. */
async function afterReload(world: GroupWorld, store: MemoryStore, bob: Address): Promise<MessageRecord[]> {
  const reloaded = new EmsgClient({ store, transport: world.transport, clock: { now: () => Date.now() } });
  await reloaded.open();
  await reloaded.flush();
  await vi.waitFor(async () => expect(await store.list("upload/")).toEqual([]));
  return reloaded.history(bob);
}

describe("a reload while a file's message and upload job are being stored", () => {
  it("in a store that writes one key at a time, never leaves the message sending for ever with no upload behind it", { timeout: 60_000 }, async () => {
    const { world, alice, bob } = await friendsWithHeldUploads();
    const kept = world.storeOf(alice);
    // The tab closes right after the first of the two writes (the message, or its upload job).
    let first: "msg" | "upload" | undefined;
    let crashed = false;
    const oneAtATime: Store = {
      get: (key) => kept.get(key),
      delete: (key) => kept.delete(key),
      list: (prefix) => kept.list(prefix),
      put: async (key, value) => {
        const kind = key.startsWith(`msg/@${bob.address}/`) ? "msg" : key.startsWith("upload/") ? "upload" : undefined;
        if (crashed || (first !== undefined && kind !== undefined && kind !== first)) {
          crashed = true;
          throw new Error("the tab was closed");
        }
        first ??= kind;
        return kept.put(key, value);
      },
    };
    const device = new EmsgClient({ store: oneAtATime, transport: world.transport, clock: { now: () => Date.now() } });
    await device.open();
    await expect(device.sendFile(bob.address, photo())).rejects.toThrow("the tab was closed");
    expect((await afterReload(world, kept, bob.address)).filter((m) => m.status === "sending")).toEqual([]);
  });

  it("in a store that writes a set at once (IndexedDB), keeps both or neither", { timeout: 60_000 }, async () => {
    const { world, alice, bob } = await friendsWithHeldUploads();
    const kept = world.storeOf(alice);
    // The tab closes as the message's id is written (after its record, where writes go one by one).
    const put = kept.put.bind(kept);
    const putMany = kept.putMany.bind(kept);
    const closing = (keys: string[]) => {
      if (keys.some((key) => key.startsWith("msgid/"))) throw new Error("the tab was closed");
    };
    kept.put = async (key, value) => (closing([key]), put(key, value));
    kept.putMany = async (entries) => (closing(entries.map(([key]) => key)), putMany(entries));
    await expect(alice.sendFile(bob.address, photo())).rejects.toThrow("the tab was closed");
    kept.put = put;
    kept.putMany = putMany;
    expect((await afterReload(world, kept, bob.address)).filter((m) => m.status === "sending")).toEqual([]);
  });
});
