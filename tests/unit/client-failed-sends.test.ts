import { describe, expect, it, vi } from "vitest";
import type { FileSource } from "../../shared/client/attachments.js";
import { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/messages.js";
import { pending } from "../../shared/client/outgoing-queue.js";
import { EmsgError } from "../../shared/errors.js";
import { randomId16 } from "../../shared/ids.js";
import type { MailItem } from "../../shared/wire/mail.js";
import { friendsWhoChatted, GroupWorld, record, tripGroup } from "./group-world.js";

// A text or file of ours refused for good (status `failed`) is sent again only when its user asks
// (Retry), with the same content id and a new Submit id, and only where it can still go; or deleted
// from this device.

function file(name = "notes.txt", size = 3_000): FileSource {
  const bytes = new Uint8Array(size).fill(5);
  return { name, mediaType: "text/plain", size, read: async (offset, length) => bytes.slice(offset, offset + length) };
}

/** Alice and Bob, friends with a 1:1 where Alice said hello; Alice's server keeps blobs (PROTOCOL §15.3), and refuses a new upload while `quotaFull`. */
async function chatting() {
  const { world, alice, bob } = await friendsWhoChatted();
  const conversation = (await alice.conversations())[0]!.conversation;
  const blobs = { quotaFull: false, created: 0, blob: "", upload: randomId16() };
  const serve = world.transport.fetch;
  const json = (status: number, body: unknown) => ({ status, text: async () => JSON.stringify(body) });
  world.transport.fetch = async (url, request) => {
    const path = new URL(url).pathname.replace(/^\/emsg\/v1/, "");
    if (!path.startsWith("/blobs")) return serve(url, request);
    const until = Date.now() + 86_400_000;
    if (path === "/blobs/uploads") {
      if (blobs.quotaFull) return json(413, new EmsgError("over_quota").toJSON());
      const { size } = JSON.parse(request.body as string) as { size: number };
      blobs.created++;
      blobs.blob = randomId16();
      return json(201, { upload: blobs.upload, blob: blobs.blob, size, partBytes: 5_242_880, parts: 1, held: [], until });
    }
    if (path.endsWith("/complete")) return json(200, { blob: blobs.blob, size: 1, until });
    if (path.includes("/parts/")) return json(200, { upload: blobs.upload, blob: blobs.blob, size: 1, partBytes: 5_242_880, parts: 1, held: [1], until });
    return json(204, {});
  };
  return { world, alice, bob, conversation, blobs };
}

/** Makes the hub refuse every submission for good, as a hub does one from a non-member (`forbidden`), until the returned function is called. */
function hubRefuses(world: GroupWorld): () => void {
  const spy = vi.spyOn(world, "submit").mockImplementation(() => {
    throw new EmsgError("forbidden", "Not a member.");
  });
  return () => spy.mockRestore();
}

const find = async (client: EmsgClient, conversation: string, id: string): Promise<MessageRecord | undefined> =>
  (await client.history(conversation)).find((m) => m.id === id);

describe("a message that failed to send", { timeout: 60_000 }, () => {
  it("is sent again on Retry, with the same content id under a new Submit id and as the reply it was, and Bob gets it once", async () => {
    const { world, alice, bob, conversation } = await chatting();
    const hello = (await alice.history(conversation))[0]!;
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "are you there?", { replyTo: hello.id });
    await alice.flush();
    expect(await find(alice, conversation, sent.id)).toMatchObject({ status: "failed", error: "forbidden" });
    allow();
    expect(await alice.canRetry(sent.id)).toBe(true);

    const retried = await alice.retryMessage(sent.id);
    expect(retried.status).toBe("sending");
    expect(retried.error).toBeUndefined();
    await alice.flush();
    expect((await find(alice, conversation, sent.id))?.status).toBe("sent");
    const submits = world.log.filter((l) => l.from === alice.address && l.conversation === conversation && l.submit.kind === "application");
    expect(submits.at(-1)!.submit.id).not.toBe(sent.id);
    await bob.sync();
    expect((await bob.history(conversation)).filter((m) => m.id === sent.id).map((m) => [m.text, m.replyTo])).toEqual([["are you there?", hello.id]]);
    // Sent now: nothing more to retry.
    expect(await alice.canRetry(sent.id)).toBe(false);
    await expect(alice.retryMessage(sent.id)).rejects.toMatchObject({ code: "not_found" });
  });

  it("is never sent again by what a server says: a hub's stale_epoch bounce for it leaves it failed", async () => {
    const { world, alice, conversation } = await chatting();
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "once");
    await alice.flush();
    allow();
    const mailbox = world.accounts.get(alice.address)!.mailbox;
    for (const error of ["stale_epoch", "unavailable"]) {
      mailbox.push({ kind: "bounce", ref: sent.id, to: alice.address, error, conversation, seq: mailbox.length + 1, at: Date.now() } as MailItem);
    }
    await alice.sync();
    expect(await pending({ store: world.storeOf(alice) })).toEqual([]);
    expect((await find(alice, conversation, sent.id))?.status).toBe("failed");
  });

  it("stays sent, then delivered, when a bounce of the submission before its Retry comes late; one of the Retry's own fails it", async () => {
    const { world, alice, bob, conversation } = await chatting();
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "late news");
    await alice.flush();
    allow();
    const mailbox = world.accounts.get(alice.address)!.mailbox;
    const bounce = (ref: string) => {
      mailbox.push({ kind: "bounce", ref, to: alice.address, error: "unavailable", conversation, seq: mailbox.length + 1, at: Date.now() } as MailItem);
      return alice.sync();
    };
    const status = async () => [(await find(alice, conversation, sent.id))?.status, (await alice.conversations())[0]!.last?.status];

    await alice.retryMessage(sent.id);
    await alice.flush();
    await bounce(sent.id);
    expect(await status()).toEqual(["sent", "sent"]);
    await bob.sync();
    await bob.flush();
    await alice.sync();
    expect(await status()).toEqual(["delivered", "delivered"]);
    await bounce(sent.id);
    expect(await status()).toEqual(["delivered", "delivered"]);

    const retried = world.log.filter((l) => l.from === alice.address && l.submit.kind === "application").at(-1)!.submit.id;
    expect(retried).not.toBe(sent.id);
    await bounce(retried);
    expect(await find(alice, conversation, sent.id)).toMatchObject({ status: "failed", error: "unavailable" });
  });

  it("cannot be retried in a group this device left or one stopped as unsafe", async () => {
    const { world, alice, conversation } = await tripGroup();
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "trip?");
    await alice.flush();
    allow();
    expect(await alice.canRetry(sent.id)).toBe(true);
    const kept = (await record(world, alice, conversation))!;
    await world.storeOf(alice).put(`conv/${conversation}`, { ...kept, left: true });
    expect(await alice.canRetry(sent.id)).toBe(false);
    await expect(alice.retryMessage(sent.id)).rejects.toMatchObject({ code: "forbidden" });
    await world.storeOf(alice).put(`conv/${conversation}`, { ...kept, unsafe: "A member's key is not the one pinned." });
    expect(await alice.canRetry(sent.id)).toBe(false);
    await expect(alice.retryMessage(sent.id)).rejects.toMatchObject({ code: "unauthorized" });
    expect(await pending({ store: world.storeOf(alice) })).toEqual([]);
  });

  it("is deleted from this device on Delete, and the chat list's line goes back to the message before", async () => {
    const { world, alice, conversation } = await chatting();
    const allow = hubRefuses(world);
    const sent = await alice.sendText(conversation, "lost words");
    await alice.flush();
    allow();
    await alice.deleteFailed(sent.id);
    expect(await find(alice, conversation, sent.id)).toBeUndefined();
    expect((await alice.conversations())[0]!.last?.text).toBe("hello");
    expect(await alice.search("lost")).toEqual([]);
    // Only a failed message of one's own goes this way: a sent one is deleted for everyone.
    const hello = (await alice.history(conversation))[0]!;
    await expect(alice.deleteFailed(hello.id)).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("a file that failed to send", { timeout: 60_000 }, () => {
  it("whose upload was refused is uploaded again on Retry while the file is at hand, under a new key", async () => {
    const { alice, bob, conversation, blobs } = await chatting();
    blobs.quotaFull = true;
    const sent = await alice.sendFile(conversation, file()).catch(() => undefined);
    expect(sent).toBeUndefined();
    const failed = (await alice.history(conversation)).find((m) => m.attachment)!;
    expect(failed).toMatchObject({ status: "failed", error: "over_quota" });
    blobs.quotaFull = false;
    expect(await alice.canRetry(failed.id)).toBe(true);

    await alice.retryMessage(failed.id);
    await vi.waitFor(async () => expect((await find(alice, conversation, failed.id))?.status).toBe("sent"));
    const shown = (await find(alice, conversation, failed.id))!;
    expect(shown.attachment!.key).not.toBe(failed.attachment!.key);
    expect(shown.attachment!.until).toBeDefined();
    await bob.sync();
    expect((await bob.history(conversation)).filter((m) => m.id === failed.id).map((m) => m.attachment?.blob)).toEqual([shown.attachment!.blob]);
  });

  it("whose upload failed offers no Retry once the file is gone (the app opened again), only Delete", async () => {
    const { world, alice, conversation, blobs } = await chatting();
    blobs.quotaFull = true;
    await alice.sendFile(conversation, file()).catch(() => undefined);
    const failed = (await alice.history(conversation)).find((m) => m.attachment)!;
    const reopened = new EmsgClient({ store: world.storeOf(alice), transport: world.transport, clock: { now: () => Date.now() } });
    await reopened.open();
    expect(await reopened.canRetry(failed.id)).toBe(false);
    await expect(reopened.retryMessage(failed.id)).rejects.toMatchObject({ code: "not_found" });
    await reopened.deleteFailed(failed.id);
    expect(await find(reopened, conversation, failed.id)).toBeUndefined();
  });

  it("whose pointer the hub refused is sent again as the same blob, with no new upload", async () => {
    const { world, alice, bob, conversation, blobs } = await chatting();
    const allow = hubRefuses(world);
    const sent = await alice.sendFile(conversation, file());
    await alice.flush();
    const failed = (await find(alice, conversation, sent.id))!;
    expect(failed).toMatchObject({ status: "failed", error: "forbidden" });
    allow();
    expect(await alice.canRetry(sent.id)).toBe(true);
    await alice.retryMessage(sent.id);
    await alice.flush();
    expect((await find(alice, conversation, sent.id))?.status).toBe("sent");
    expect(blobs.created).toBe(1);
    await bob.sync();
    expect((await bob.history(conversation)).find((m) => m.id === sent.id)?.attachment?.blob).toBe(failed.attachment!.blob);
  });
});
