import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DamagedAttachment } from "../../shared/attachment-crypto.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { FileSource } from "../../shared/client/attachments.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import type { HttpRequest, Transport } from "../../shared/client/transport.js";
import { EmsgError } from "../../shared/errors.js";
import { FileStore } from "../../cli/file-store.js";
import { nodeTransport } from "../../cli/node-transport.js";
import { runCli } from "./cli-run.js";
import { befriend, connect, type Pair, startPair, until } from "./harness.js";

/* Attachments across two real domains (PROTOCOL §15): sealed on Alice's device, held by her server, fetched by Bob's and Carol's. */

let pair: Pair;
const dirs: string[] = [];
const requests: string[] = [];
/** While set, Alice's link drops every request whose path matches. */
let dropping: RegExp | undefined;
/** Bob's link: what it does to a blob's bytes on the way in. */
let bobTamper: ((bytes: Uint8Array) => Uint8Array) | undefined;

function watched(inner: Transport, onRequest: (url: string, r: HttpRequest) => void, tamper?: () => typeof bobTamper): Transport {
  return {
    async fetch(url, request) {
      onRequest(url, request);
      const res = await inner.fetch(url, request);
      const change = tamper?.();
      if (!change || request.method !== "GET" || !/\/blobs\/(?!uploads\/)/.test(new URL(url).pathname) || !res.bytes) return res;
      const read = res.bytes;
      return { status: res.status, text: async () => "", bytes: async (max) => change(await read(max)) };
    },
    openSocket: (url) => inner.openSocket(url),
  };
}

async function client(transport: Transport): Promise<EmsgClient> {
  const dir = await mkdtemp(join(tmpdir(), "emsg-e2e-att-"));
  dirs.push(dir);
  return new EmsgClient({ store: new FileStore(dir), transport, resolve: pair.running.resolve });
}

function memoryFile(name: string, mediaType: string, bytes: Uint8Array): FileSource {
  return { name, mediaType, size: bytes.length, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

function pattern(size: number, seed: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => (i * seed + (i >> 12)) & 0xff);
}

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(a, b) === 0;

let alice: EmsgClient;
let bob: EmsgClient;
let carol: EmsgClient;

beforeAll(async () => {
  pair = await startPair(18961, 19961);
  alice = await client(
    watched(nodeTransport, (url, r) => {
      const path = `${r.method} ${new URL(url).pathname.replace(/^\/emsg\/v1/, "")}`;
      requests.push(path);
      if (dropping?.test(path)) throw new TypeError("fetch failed: the link dropped");
    }),
  );
  bob = await client(watched(nodeTransport, () => undefined, () => bobTamper));
  carol = await client(nodeTransport);
  await alice.register("alice#im.alice.test");
  await bob.register("bob#im.bob.test");
  await carol.register("carol#im.bob.test");
  await befriend(alice, bob);
  await befriend(alice, carol);
});

afterAll(async () => {
  for (const c of [alice, bob, carol]) c?.disconnect();
  await pair?.stop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
});

async function arrived(who: EmsgClient, from: string, name: string): Promise<MessageRecord> {
  return until(`${who.address} to receive ${name}`, async () => {
    await who.sync();
    return (await who.history(from, { limit: 500 })).find((m) => m.attachment?.name === name);
  }, 30_000);
}

describe("attachments across domains", { timeout: 120_000 }, () => {
  it("sends a 6 MiB file to a friend on another domain, who fetches and opens it, with progress both ways", async () => {
    const bytes = pattern(6 * 1_048_576 + 123, 7);
    const up: number[] = [];
    const sent = await alice.sendFile("bob#im.bob.test", memoryFile("report.pdf", "application/pdf", bytes), {}, { onProgress: (done, total) => up.push(done / total) });
    expect(sent.attachment).toMatchObject({ name: "report.pdf", size: bytes.length, kind: "file" });
    expect(sent.attachment?.state).toBeUndefined();
    expect(up.at(-1)).toBe(1);
    expect(up.length).toBeGreaterThanOrEqual(3);
    const got = await arrived(bob, "alice#im.alice.test", "report.pdf");
    expect((await alice.history("bob#im.bob.test")).find((m) => m.id === sent.id)?.status).toMatch(/^(sent|delivered)$/);
    expect(got).toMatchObject({ direction: "in", text: "report.pdf", attachment: { mediaType: "application/pdf", size: bytes.length } });
    const down: number[] = [];
    const plain = await bob.downloadAttachment(got.id, { onProgress: (done, total) => down.push(done / total) });
    expect(same(plain, bytes)).toBe(true);
    expect(down.at(-1)).toBe(1);
  });

  it("resumes an upload whose link dropped from the parts the server holds, instead of starting over", async () => {
    const bytes = pattern(11 * 1_048_576, 13);
    requests.length = 0;
    dropping = /^PUT \/blobs\/uploads\/[^/]+\/parts\/2$/;
    const waiting = await alice.sendFile("bob#im.bob.test", memoryFile("holiday.mov", "video/mp4", bytes));
    expect(waiting.status).toBe("sending");
    expect(waiting.attachment?.state).toBe("uploading");
    const parts = () => requests.filter((r) => r.includes("/parts/")).map((r) => r.split("/").at(-1)!).sort();
    // Part 2 was tried three times; part 3, sealed while part 2 was on its way, may have gone too.
    const first = parts();
    expect(first.filter((n) => n !== "3")).toEqual(["1", "2", "2", "2"]);
    dropping = undefined;
    requests.length = 0;
    await connect(alice);
    const got = await arrived(bob, "alice#im.alice.test", "holiday.mov");
    // Only what the server did not hold went again: never part 1.
    expect(parts()).toEqual(first.includes("3") ? ["2"] : ["2", "3"]);
    expect(requests.filter((r) => r === "POST /blobs/uploads")).toEqual([]);
    expect(got.attachment?.kind).toBe("video");
    expect(same(await bob.downloadAttachment(got.id), bytes)).toBe(true);
    alice.disconnect();
  });

  it("uploads a photo into a group once, and every member opens it", async () => {
    const group = await alice.createGroup("Trip", ["bob#im.bob.test", "carol#im.bob.test"]);
    const photo = pattern(300_000, 3);
    const thumb = pattern(900, 5);
    requests.length = 0;
    await alice.sendFile(group.conversation, memoryFile("beach.jpg", "image/jpeg", photo), { width: 4032, height: 3024, thumb });
    expect(requests.filter((r) => r === "POST /blobs/uploads")).toHaveLength(1);
    for (const member of [bob, carol]) {
      const got = await until(`${member.address} to see the photo`, async () => {
        await member.sync();
        return (await member.history(group.conversation, { limit: 50 })).find((m) => m.attachment?.name === "beach.jpg");
      }, 30_000);
      expect(got.attachment).toMatchObject({ kind: "image", width: 4032, height: 3024, thumb: Buffer.from(thumb).toString("base64url") });
      expect(same(await member.downloadAttachment(got.id), photo)).toBe(true);
    }
  });

  it("cancels an upload part way: the message shows failed as cancelled, and nothing reaches Bob", async () => {
    const abort = new AbortController();
    requests.length = 0;
    const bytes = pattern(30 * 1_048_576, 23);
    const message = await alice.sendFile("bob#im.bob.test", memoryFile("cancelled.iso", "application/octet-stream", bytes), {}, {
      signal: abort.signal,
      onProgress: (done) => done > 0 && abort.abort(),
    });
    const shown = (await alice.history("bob#im.bob.test", { limit: 500 })).find((m) => m.id === message.id);
    expect(shown).toMatchObject({ status: "failed", error: "The upload was cancelled." });
    // The server was told, so the reserved bytes are free again.
    expect(requests.filter((r) => /^DELETE \/blobs\/uploads\//.test(r))).toHaveLength(1);
    // Of its 6 parts, only those already on their way when it was cancelled (at most 3) went; it was never completed.
    expect(requests.filter((r) => r.includes("/parts/")).length).toBeLessThanOrEqual(3);
    expect(requests.filter((r) => r.endsWith("/complete"))).toEqual([]);
    await bob.sync();
    expect((await bob.history("alice#im.alice.test", { limit: 500 })).some((m) => m.attachment?.name === "cancelled.iso")).toBe(false);
  });

  it("refuses a blob changed on the way, or cut short, and shows it damaged, never its bytes", async () => {
    const bytes = pattern(200_000, 11);
    await alice.sendFile("bob#im.bob.test", memoryFile("notes.txt", "text/plain", bytes));
    const got = await arrived(bob, "alice#im.alice.test", "notes.txt");
    bobTamper = (b) => {
      const copy = new Uint8Array(b);
      copy[70_000] = copy[70_000]! ^ 0x01;
      return copy;
    };
    const error = await bob.downloadAttachment(got.id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DamagedAttachment);
    expect((await bob.history("alice#im.alice.test", { limit: 500 })).find((m) => m.id === got.id)?.attachment?.state).toBe("damaged");
    // A server that drops the tail end: the blob is shorter than the pointer says.
    bobTamper = (b) => b.subarray(0, b.length - 16);
    expect(await bob.downloadAttachment(got.id).catch((e: unknown) => e)).toBeInstanceOf(DamagedAttachment);
    bobTamper = undefined;
    expect(same(await bob.downloadAttachment(got.id), bytes)).toBe(true);
    expect((await bob.history("alice#im.alice.test", { limit: 500 })).find((m) => m.id === got.id)?.attachment?.state).toBeUndefined();
  });

  it("refuses a file over 100 MiB before reading any of it, and a name with a path in it", async () => {
    const huge: FileSource = { name: "disk.img", mediaType: "application/octet-stream", size: 100 * 1_048_576 + 1, read: () => Promise.reject(new Error("read")) };
    const tooLarge = await alice.sendFile("bob#im.bob.test", huge).catch((e: unknown) => e);
    expect(tooLarge).toBeInstanceOf(EmsgError);
    expect((tooLarge as EmsgError).code).toBe("too_large");
    const badName = await alice.sendFile("bob#im.bob.test", memoryFile("../../x.sh", "text/plain", new Uint8Array(3))).catch((e: unknown) => e);
    expect((badName as EmsgError).code).toBe("bad_request");
  });

  it("the command line sends a file with send-file, and read saves one received into a folder", { timeout: 240_000 }, async () => {
    const home = await mkdtemp(join(tmpdir(), "emsg-e2e-att-cli-"));
    dirs.push(home);
    const cli = (...args: string[]) => runCli(join(home, "state"), args, { EMSG_RESOLVE: pair.running.resolve }, 90_000);
    expect((await cli("register", "dave#im.alice.test")).code).toBe(0);
    expect((await cli("add", "carol#im.bob.test")).code).toBe(0);
    await until("Carol to see Dave's request", async () => {
      await carol.sync();
      return (await carol.friends()).some((f) => f.address === "dave#im.alice.test" && f.state === "incoming");
    });
    await carol.acceptFriend("dave#im.alice.test");
    const paper = pattern(1_500_000, 17);
    await writeFile(join(home, "paper.pdf"), paper);
    await until("Dave to send the file once the friendship is in", async () => {
      const run = await cli("send-file", "carol#im.bob.test", join(home, "paper.pdf"));
      return run.code === 0 && /me: \[file\] paper\.pdf \(1\.4 MiB\) {2}\[sent\]/.test(run.out);
    }, 120_000);
    const got = await arrived(carol, "dave#im.alice.test", "paper.pdf");
    expect(same(await carol.downloadAttachment(got.id), paper)).toBe(true);

    const song = pattern(70_000, 19);
    await carol.sendFile("dave#im.alice.test", memoryFile("song.ogg", "audio/ogg", song));
    const files = join(home, "inbox");
    const read = await until("Dave's read to save Carol's file", async () => {
      const run = await cli("read", "carol#im.bob.test", "--files", files);
      return run.out.includes("saved song.ogg") && run.out;
    }, 60_000);
    expect(read).toMatch(/carol#im\.bob\.test: \[audio\] song\.ogg \(69 KiB\)/);
    expect(same(new Uint8Array(await readFile(join(files, "song.ogg"))), song)).toBe(true);
    // Saved once: reading again does not save a second copy.
    expect((await cli("read", "carol#im.bob.test", "--files", files)).out).not.toContain("saved song.ogg");
    expect((await readdir(files)).filter((f) => !f.startsWith("."))).toEqual(["song.ogg"]);
  });

  it("when Alice's account ends, her blobs go with it: Bob sees her file as expired", async () => {
    const got = (await bob.history("alice#im.alice.test", { limit: 500 })).find((m) => m.attachment?.name === "report.pdf")!;
    await alice.deleteAccount();
    const error = await bob.downloadAttachment(got.id).catch((e: unknown) => e);
    expect((error as EmsgError).code).toBe("not_found");
    expect((await bob.history("alice#im.alice.test", { limit: 500 })).find((m) => m.id === got.id)?.attachment?.state).toBe("expired");
  });
});
