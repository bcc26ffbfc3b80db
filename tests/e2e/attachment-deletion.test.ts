import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmsgClient } from "../../shared/client/client.js";
import type { FileSource } from "../../shared/client/attachments.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { Transport } from "../../shared/client/transport.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { befriend, clientDir, codeOf, connect, type Pair, removeClientDirs, startPair, until } from "./harness.js";

/* A blob goes from its sender's server with its message (PROTOCOL §15.4): deleted for everyone, or expired on the sender's device. */

let pair: Pair;
let alice: EmsgClient;
let bob: EmsgClient;
/** While set, Alice's link drops every request whose method and path match. */
let dropping: RegExp | undefined;

const file = (name: string): FileSource => {
  const bytes = Uint8Array.from({ length: 70_000 }, (_, i) => (i * 13) & 0xff);
  return { name, mediaType: "application/octet-stream", size: bytes.length, read: async (o, n) => bytes.slice(o, o + n) };
};

/** The open GET any reader's server makes (§15.3): the blob's status on Alice's server. */
const blobStatus = async (blob: string) => (await fetch(`${pair.alice}/emsg/v1/blobs/${blob}`)).status;

async function arrived(name: string): Promise<MessageRecord> {
  return until(`bob to receive ${name}`, async () => {
    await bob.sync();
    return (await bob.history("alice#im.alice.test", { limit: 100 })).find((m) => m.attachment?.name === name);
  }, 30_000);
}

beforeAll(async () => {
  pair = await startPair(19120, 20120);
  const dropper: Transport = {
    fetch(url, request) {
      if (dropping?.test(`${request.method} ${new URL(url).pathname}`)) return Promise.reject(new TypeError("fetch failed: the link dropped"));
      return nodeTransport.fetch(url, request);
    },
    openSocket: (url) => nodeTransport.openSocket(url),
  };
  alice = new EmsgClient({ store: new FileStore(await clientDir()), transport: dropper, resolve: pair.running.resolve });
  bob = new EmsgClient({ store: new FileStore(await clientDir()), transport: nodeTransport, resolve: pair.running.resolve });
  await alice.register("alice#im.alice.test");
  await bob.register("bob#im.bob.test");
  await befriend(alice, bob);
});

afterAll(async () => {
  for (const c of [alice, bob]) c?.disconnect();
  await pair?.stop();
  await removeClientDirs();
});

describe("blobs deleted with their messages", { timeout: 120_000 }, () => {
  it("a file deleted for everyone leaves Alice's server, and Bob, who had opened it, sees it deleted and can fetch it no more", async () => {
    const sent = await alice.sendFile("bob#im.bob.test", file("plan.bin"));
    const got = await arrived("plan.bin");
    expect((await bob.downloadAttachment(got.id)).length).toBe(70_000);
    const blob = sent.attachment!.blob;
    expect(await blobStatus(blob)).toBe(200);
    // Bob holds the pointer, but only Alice's account may delete the blob.
    expect(await codeOf(bob.deleteForEveryone(got.id))).toBe("forbidden");
    expect(await blobStatus(blob)).toBe(200);

    await alice.deleteForEveryone(sent.id);
    await until("the blob to go", async () => (await blobStatus(blob)) === 404 || undefined);
    await until("Bob to see it deleted", async () => (await bob.sync(), (await bob.history("alice#im.alice.test")).find((m) => m.id === got.id)?.deleted));
    expect(await codeOf(bob.downloadAttachment(got.id))).toBe("not_found");
  });

  it("a deletion made while Alice's server cannot be reached happens on her next connect", async () => {
    const sent = await alice.sendFile("bob#im.bob.test", file("offline.bin"));
    const blob = sent.attachment!.blob;
    dropping = /^DELETE \/emsg\/v1\/blobs\//;
    await alice.deleteForEveryone(sent.id);
    await new Promise((r) => setTimeout(r, 500));
    expect(await blobStatus(blob)).toBe(200);
    dropping = undefined;
    await connect(alice);
    await until("the blob to go", async () => (await blobStatus(blob)) === 404 || undefined);
    alice.disconnect();
  });

  it("a file that expires on Alice's device under the chat's timer leaves her server then", async () => {
    await alice.setChatRetention("bob#im.bob.test", 1);
    const sent = await alice.sendFile("bob#im.bob.test", file("brief.bin"));
    const blob = sent.attachment!.blob;
    // The server would delete it at the message's expiry even with no device of Alice's online.
    expect(sent.expiresAt).toBe(sent.at + 86_400_000);
    expect(sent.attachment!.until).toBe(sent.expiresAt);
    await arrived("brief.bin");
    expect(await alice.expire()).not.toContain(sent.id);
    expect(await blobStatus(blob)).toBe(200);
    expect(await alice.expire(Date.now() + 2 * 86_400_000)).toContain(sent.id);
    await until("the blob to go", async () => (await blobStatus(blob)) === 404 || undefined);
  });
});
