import { describe, expect, it, vi } from "vitest";
import type { FileSource, KeptUploads } from "../../shared/client/attachments.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { MemoryStore } from "../../shared/client/store.js";
import { EmsgError } from "../../shared/errors.js";
import { randomId16 } from "../../shared/ids.js";
import { GroupWorld, tripGroup } from "./group-world.js";
import { MemoryKept } from "./memory-kept.js";

// A file whose upload failed keeps its bytes where the platform keeps uploads (the PWA's and the
// extension's IndexedDB), so Retry still uploads and delivers it after the app was closed and opened
// again; those bytes go once it is sent, deleted, or can no longer be sent, and are bounded.

const MIB = 1_048_576;

function file(name = "notes.txt", size = 3_000): FileSource {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31) & 0xff;
  return { name, mediaType: "text/plain", size, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

/** A file whose first read waits until `release` (it is being sealed meanwhile); its bytes are zeros, made as read. */
function slowFile(name: string, size: number) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let reading!: () => void;
  const read = new Promise<void>((r) => (reading = r));
  const source: FileSource = {
    name,
    mediaType: "application/octet-stream",
    size,
    read: async (_offset, length) => {
      reading();
      await released;
      return new Uint8Array(length);
    },
  };
  return { source, read, release };
}

/** Alice's server keeps blobs (PROTOCOL §15.3) and serves them to Bob's; it refuses new uploads while `quotaFull`. */
function blobServer(world: GroupWorld) {
  const blobs = { quotaFull: false, created: 0 };
  const uploads = new Map<string, { blob: string; size: number; parts: Map<number, Uint8Array> }>();
  const done = new Map<string, Uint8Array>();
  const serve = world.transport.fetch;
  const json = (status: number, body: unknown) => ({ status, text: async () => JSON.stringify(body) });
  const until = () => Date.now() + 86_400_000;
  const status = (upload: string) => {
    const u = uploads.get(upload)!;
    return { upload, blob: u.blob, size: u.size, partBytes: 5 * MIB, parts: Math.max(1, Math.ceil(u.size / (5 * MIB))), held: [...u.parts.keys()], until: until() };
  };
  world.transport.fetch = async (url, request) => {
    const path = new URL(url).pathname.replace(/^\/emsg\/v1/, "");
    if (!path.startsWith("/blobs")) return serve(url, request);
    if (path === "/blobs/uploads") {
      if (blobs.quotaFull) return json(413, new EmsgError("over_quota").toJSON());
      const { size } = JSON.parse(request.body as string) as { size: number };
      blobs.created++;
      const upload = randomId16();
      uploads.set(upload, { blob: randomId16(), size, parts: new Map() });
      return json(201, status(upload));
    }
    const part = /^\/blobs\/uploads\/([^/]+)\/parts\/(\d+)$/.exec(path);
    if (part) {
      uploads.get(part[1]!)!.parts.set(Number(part[2]), request.bytes!.slice());
      return json(200, status(part[1]!));
    }
    const complete = /^\/blobs\/uploads\/([^/]+)\/complete$/.exec(path);
    if (complete) {
      const u = uploads.get(complete[1]!)!;
      const whole = new Uint8Array(u.size);
      let at = 0;
      for (const n of [...u.parts.keys()].sort((a, b) => a - b)) {
        whole.set(u.parts.get(n)!, at);
        at += u.parts.get(n)!.length;
      }
      done.set(u.blob, whole);
      return json(200, { blob: u.blob, size: u.size, until: until() });
    }
    const uploadPath = /^\/blobs\/uploads\/([^/]+)$/.exec(path);
    if (uploadPath) {
      if (request.method === "DELETE") uploads.delete(uploadPath[1]!);
      return uploads.has(uploadPath[1]!) ? json(200, status(uploadPath[1]!)) : json(404, new EmsgError("not_found").toJSON());
    }
    const whole = done.get(path.split("/").at(-1)!);
    if (!whole) return json(404, new EmsgError("not_found").toJSON());
    const [from, to] = /bytes=(\d+)-(\d+)/.exec(request.headers.range!)!.slice(1).map(Number) as [number, number];
    const bytes = whole.slice(from, to + 1);
    return { status: 206, text: async () => "", bytes: async () => bytes };
  };
  return blobs;
}

/** Alice as the app opens her again: the same store and the same kept uploads, nothing in memory. */
async function reopened(world: GroupWorld, store: MemoryStore, kept: KeptUploads): Promise<EmsgClient> {
  const client = new EmsgClient({ store, transport: world.transport, clock: { now: () => Date.now() }, keptUploads: kept });
  await client.open();
  return client;
}

/** Alice (on a device that keeps uploads) and Bob, friends with a 1:1 where Alice said hello. */
async function chatting() {
  const world = new GroupWorld();
  const first = await world.person("alice#im.alice.test");
  const bob = await world.person("bob#im.bob.test");
  await world.befriend(first, bob);
  const kept = new MemoryKept();
  const store = world.storeOf(first);
  const alice = await reopened(world, store, kept);
  await alice.sendText(bob.address, "hello");
  await alice.flush();
  await bob.sync();
  const conversation = (await alice.conversations())[0]!.conversation;
  return { world, alice, bob, conversation, kept, store, blobs: blobServer(world) };
}

const find = async (client: EmsgClient, conversation: string, id: string): Promise<MessageRecord | undefined> =>
  (await client.history(conversation)).find((m) => m.id === id);

/** Sends a file its server refuses for good (over quota); the failed message. */
async function refused(alice: EmsgClient, conversation: string, blobs: { quotaFull: boolean }, source = file()): Promise<MessageRecord> {
  blobs.quotaFull = true;
  await alice.sendFile(conversation, source).catch(() => undefined);
  blobs.quotaFull = false;
  const failed = (await alice.history(conversation)).findLast((m) => m.attachment)!;
  expect(failed).toMatchObject({ status: "failed", error: "over_quota" });
  return failed;
}

describe("a file that failed to send, on a device that keeps uploads", { timeout: 60_000 }, () => {
  it("is uploaded again on Retry after the app was opened again, and Bob gets it whole; nothing stays kept", async () => {
    const { world, alice, bob, conversation, kept, store, blobs } = await chatting();
    const failed = await refused(alice, conversation, blobs);
    expect(kept.held()).toEqual([failed.id]);

    const again = await reopened(world, store, kept);
    expect(await again.canRetry(failed.id)).toBe(true);
    await again.retryMessage(failed.id);
    await vi.waitFor(async () => expect((await find(again, conversation, failed.id))?.status).toBe("sent"));
    expect(blobs.created).toBe(1);
    await bob.sync();
    const got = (await bob.history(conversation)).find((m) => m.id === failed.id)!;
    expect(got.attachment?.name).toBe("notes.txt");
    const bytes = await bob.downloadAttachment(got.id);
    const original = file();
    expect(bytes).toEqual(await original.read(0, original.size));
    expect(kept.held()).toEqual([]);
    expect(await store.list("unsent/")).toEqual([]);
  });

  it("leaves nothing kept once the user deletes it after a reopen", async () => {
    const { world, alice, conversation, kept, store, blobs } = await chatting();
    const failed = await refused(alice, conversation, blobs);
    const again = await reopened(world, store, kept);
    expect(kept.held()).toEqual([failed.id]);
    await again.deleteFailed(failed.id);
    expect(await find(again, conversation, failed.id)).toBeUndefined();
    expect(kept.held()).toEqual([]);
    expect(await store.list("unsent/")).toEqual([]);
  });

  it("cancelled while being sealed, keeps the file and seals it again on Retry after a reopen", async () => {
    const { world, alice, bob, conversation, kept, store } = await chatting();
    const slow = slowFile("video.bin", 2 * MIB);
    const ids: string[] = [];
    alice.events.on("message", (m) => ids.push(m.id));
    const sending = alice.sendFile(conversation, slow.source);
    await slow.read;
    await alice.cancelUpload(ids[0]!);
    slow.release();
    await sending;
    expect(await find(alice, conversation, ids[0]!)).toMatchObject({ status: "failed" });
    expect([...kept.files.keys()]).toEqual([ids[0]]);

    const again = await reopened(world, store, kept);
    await again.retryMessage(ids[0]!);
    await vi.waitFor(async () => expect((await find(again, conversation, ids[0]!))?.status).toBe("sent"));
    await bob.sync();
    // Compared as one Buffer: toEqual walks two million bytes one by one.
    expect(Buffer.from(await bob.downloadAttachment(ids[0]!)).equals(Buffer.alloc(2 * MIB))).toBe(true);
    expect(kept.held()).toEqual([]);
  });

  it("keeps at most 100 MiB of failed files: one past that offers Delete only after a reopen", async () => {
    const { world, alice, conversation, kept, store } = await chatting();
    const ids: string[] = [];
    alice.events.on("message", (m) => ids.push(m.id));
    for (const name of ["first.bin", "second.bin"]) {
      const slow = slowFile(name, 60 * MIB);
      const sending = alice.sendFile(conversation, slow.source);
      await slow.read;
      await alice.cancelUpload(ids.at(-1)!);
      slow.release();
      await sending;
    }
    expect(kept.held()).toEqual([ids[0]]);
    // While this process lives it still holds the second file.
    expect(await alice.canRetry(ids[1]!)).toBe(true);
    const again = await reopened(world, store, kept);
    expect(await again.canRetry(ids[0]!)).toBe(true);
    expect(await again.canRetry(ids[1]!)).toBe(false);
    await expect(again.retryMessage(ids[1]!)).rejects.toMatchObject({ code: "not_found" });
  });

  it("leaves nothing kept once the account is deleted", async () => {
    const { world, alice, conversation, kept, blobs } = await chatting();
    await refused(alice, conversation, blobs);
    const serve = world.transport.fetch;
    world.transport.fetch = async (url, request) => (request.method === "DELETE" && url.endsWith("/account") ? { status: 204, text: async () => "" } : serve(url, request));
    await alice.deleteAccount();
    expect(kept.held()).toEqual([]);
  });

  it("drops its kept bytes when the message is past the account's retention and expires", async () => {
    const { alice, conversation, kept, store, blobs } = await chatting();
    const failed = await refused(alice, conversation, blobs);
    await store.put("settings", { ...(await store.get<object>("settings")), retentionDays: 1 });
    expect(await alice.expire(Date.now() + 2 * 86_400_000)).toContain(failed.id);
    expect(kept.held()).toEqual([]);
    expect(await store.list("unsent/")).toEqual([]);
  });

  it("drops its kept bytes once it can no longer be sent: Alice left the group", async () => {
    const { world, alice: first, conversation } = await tripGroup();
    const kept = new MemoryKept();
    const store = world.storeOf(first);
    const alice = await reopened(world, store, kept);
    const blobs = blobServer(world);
    const failed = await refused(alice, conversation, blobs);
    expect(kept.held()).toEqual([failed.id]);
    await alice.leaveGroup(conversation);
    await alice.idle();
    expect(kept.held()).toEqual([]);
    expect(await store.list("unsent/")).toEqual([]);
    expect(await alice.canRetry(failed.id)).toBe(false);
  });
});
