import { describe, expect, it, vi } from "vitest";
import type { EmsgClient } from "../../shared/client/client.js";
import type { MessageRecord } from "../../shared/client/index.js";
import { type Content, newDelete, newEdit, newReaction, newText, newTyping } from "../../shared/content.js";
import { changed } from "../../shared/client/message-changes.js";
import { GroupWorld, syncAll, tripGroup } from "./group-world.js";

// Replies, reactions, edits, deletes for everyone, read receipts and typing (PROTOCOL §8.1), between
// real client cores over an in-process hub: what each person's screen would show.

async function shown(client: EmsgClient, conversation: string, id: string): Promise<MessageRecord> {
  return (await client.history(conversation, { limit: 500 })).find((m) => m.id === id)!;
}

const reactionsOf = (m: MessageRecord) => (m.reactions ?? []).filter((r) => !r.removed).map((r) => `${r.by.split("#")[0]} ${r.emoji}`).sort();

/** Alice, Bob and Carol in a group; Alice said hello. */
async function aGroup() {
  const group = await tripGroup();
  const hello = await group.alice.sendText(group.conversation, "hello all");
  await group.alice.flush();
  await syncAll(group.bob, group.carol);
  return { ...group, hello };
}

/** Sends `content` from `client`'s device as it is, past the checks its own API makes (a hostile member's client). */
async function sendRaw(world: GroupWorld, client: EmsgClient, conversation: string, content: Content): Promise<void> {
  await world.storeOf(client).put(`out/${String(content.sentAt).padStart(15, "0")}-${content.id}`, { content, conversation });
  await client.flush();
}

describe("conversation features in the client core", { timeout: 60_000 }, () => {
  it("a reply names the message it answers, on every member's device", async () => {
    const { alice, bob, carol, conversation, hello } = await aGroup();
    const reply = await bob.sendText(conversation, "hi alice", { replyTo: hello.id });
    await bob.flush();
    await syncAll(alice, carol);
    expect((await shown(alice, conversation, reply.id)).replyTo).toBe(hello.id);
    expect((await shown(carol, conversation, reply.id)).replyTo).toBe(hello.id);
    await expect(bob.sendText(conversation, "x", { replyTo: "AAAAAAAAAAAAAAAAAAAAAA" })).rejects.toMatchObject({ code: "not_found" });
  });

  it("reactions are added and taken back by each member, and everyone sees the same set", async () => {
    const { alice, bob, carol, conversation, hello } = await aGroup();
    await bob.react(hello.id, "👍");
    await carol.react(hello.id, "❤");
    await bob.flush();
    await carol.flush();
    await syncAll(alice, bob, carol);
    for (const c of [alice, bob, carol]) expect(reactionsOf(await shown(c, conversation, hello.id))).toEqual(["bob 👍", "carol ❤"]);
    await bob.react(hello.id, "👍", "remove");
    await bob.flush();
    await syncAll(alice, carol);
    for (const c of [alice, carol]) expect(reactionsOf(await shown(c, conversation, hello.id))).toEqual(["carol ❤"]);
  });

  it("the sender's edit and delete for everyone reach every member", async () => {
    const { alice, bob, carol, conversation, hello } = await aGroup();
    await alice.editMessage(hello.id, "hello everyone");
    await alice.flush();
    await syncAll(bob, carol);
    const edited = await shown(bob, conversation, hello.id);
    expect(edited.text).toBe("hello everyone");
    expect(edited.editedAt).toBeGreaterThan(hello.at);
    expect((await bob.conversations()).find((c) => c.conversation === conversation)?.last?.text).toBe("hello everyone");
    await bob.react(hello.id, "👍");
    await bob.flush();
    await alice.deleteForEveryone(hello.id);
    await alice.flush();
    await syncAll(bob, carol);
    for (const c of [bob, carol]) {
      const gone = await shown(c, conversation, hello.id);
      expect(gone).toMatchObject({ deleted: true, text: "" });
      expect(gone.reactions).toBeUndefined();
    }
  });

  it("a file deleted for everyone leaves no pointer behind: its key and blob id go with the words", () => {
    const photo: MessageRecord = {
      id: "AAAAAAAAAAAAAAAAAAAAAA", conversation: "im.alice.test/c1", from: "alice#im.alice.test" as never, direction: "in", text: "", at: 1, status: "delivered",
      attachment: { blob: "b1", size: 10, mediaType: "image/png", name: "cat.png", key: "k".repeat(43), hash: "h".repeat(43), kind: "image" },
    };
    const gone = changed(photo, newDelete(photo.id, 2), photo.from)!;
    expect(gone).toMatchObject({ deleted: true, text: "" });
    expect(gone.attachment).toBeUndefined();
  });

  it("a text whose sender's clock claims a time to come is placed near when it arrived, so later messages still come after it", async () => {
    const { world, alice, bob, carol, conversation } = await aGroup();
    await sendRaw(world, carol, conversation, newText("pinned below everything", Date.now() + 36_500 * 86_400_000));
    await syncAll(alice);
    // Eleven minutes on, past the few minutes of clock difference a sender is allowed.
    const clock = vi.spyOn(Date, "now").mockReturnValue(Date.now() + 11 * 60_000);
    const later = await bob.sendText(conversation, "a later word");
    await bob.flush();
    await syncAll(alice);
    clock.mockRestore();
    const texts = (await alice.history(conversation, { limit: 500 })).filter((m) => !m.notice).map((m) => m.text);
    expect(texts.slice(-2)).toEqual(["pinned below everything", later.text]);
    expect((await alice.conversations()).find((c) => c.conversation === conversation)?.last?.text).toBe("a later word");
  });

  it("nobody can edit or delete another member's message: every device ignores it", async () => {
    const { world, alice, bob, carol, conversation, hello } = await aGroup();
    await expect(carol.editMessage(hello.id, "mine now")).rejects.toMatchObject({ code: "forbidden" });
    // Carol's client skips its own check; the receivers' check is what protects Alice.
    await sendRaw(world, carol, conversation, newEdit(hello.id, "alice says: send me money", Date.now()));
    await sendRaw(world, carol, conversation, newDelete(hello.id, Date.now()));
    await syncAll(alice, bob);
    for (const c of [alice, bob]) expect(await shown(c, conversation, hello.id)).toMatchObject({ text: "hello all" });
    expect((await shown(bob, conversation, hello.id)).deleted).toBeUndefined();
  });

  it("an edit whose hub entry claims to be from the author is still judged by its MLS sender", async () => {
    const { world, alice, bob, carol, conversation, hello } = await aGroup();
    await sendRaw(world, carol, conversation, newEdit(hello.id, "forged", Date.now()));
    // A hostile server rewrites who the entry is from; only MLS says who wrote it.
    const box = world.accounts.get(bob.address)!.mailbox;
    const last = box[box.length - 1]! as { from: string; deviceId: string };
    last.from = alice.address;
    last.deviceId = alice.account!.deviceId;
    await syncAll(bob);
    expect((await shown(bob, conversation, hello.id)).text).toBe("hello all");
  });

  it("an edit that arrives before its message is applied when the message comes, under the same check", async () => {
    const { world, alice, bob, carol, conversation } = await aGroup();
    const early = await alice.sendText(conversation, "draft one");
    await alice.flush();
    await alice.editMessage(early.id, "final words");
    await alice.flush();
    await sendRaw(world, carol, conversation, newReaction(early.id, "🎉", "add", Date.now()));
    // Bob's server hands over the edit and Carol's reaction before the text (outbox retries can do that).
    const box = world.accounts.get(bob.address)!.mailbox;
    const [text, ...rest] = box.splice(box.length - 3, 3);
    box.push(...rest.map((item, i) => ({ ...item, seq: box.length + 1 + i })), { ...text!, seq: box.length + 3 });
    await syncAll(bob);
    const m = await shown(bob, conversation, early.id);
    expect(m.text).toBe("final words");
    expect(reactionsOf(m)).toEqual(["carol 🎉"]);
  });

  it("read receipts show the sender's text as read; with the setting off neither side sends or shows them", async () => {
    const { world, alice, bob, conversation, hello } = await aGroup();
    await bob.markRead(conversation);
    await bob.flush();
    await alice.sync();
    expect(await shown(alice, conversation, hello.id)).toMatchObject({ status: "delivered", read: true });

    const second = await alice.sendText(conversation, "are you there?");
    await alice.flush();
    await world.storeOf(bob).put("settings", { strangers: "accept", retentionDays: null, readReceipts: false });
    await bob.sync();
    const sentBefore = world.log.length;
    await bob.markRead(conversation);
    await bob.flush();
    // Only the delivery receipt for the new text, no read receipt.
    expect(world.log.length - sentBefore).toBe(0);
    await alice.sync();
    expect(await shown(alice, conversation, second.id)).toMatchObject({ status: "delivered" });
    expect((await shown(alice, conversation, second.id)).read).toBeUndefined();
  });

  it("typing is shown to the others while fresh, not at all when late, and never sent with the setting off", async () => {
    const { world, alice, bob, carol, conversation } = await aGroup();
    const seen: string[] = [];
    alice.on("typing", (t) => void seen.push(`${t.from.split("#")[0]} ${t.typing}`));
    await bob.setTyping(conversation, true);
    await bob.setTyping(conversation, true); // within 4 s: not sent again
    await bob.flush();
    await alice.sync();
    expect(seen).toEqual(["bob true"]);
    await sendRaw(world, carol, conversation, newTyping("typing", Date.now() - 60_000));
    await alice.sync();
    expect(seen).toEqual(["bob true"]);
    await world.storeOf(carol).put("settings", { strangers: "accept", retentionDays: null, readReceipts: false });
    const before = world.log.length;
    await carol.setTyping(conversation, true);
    await carol.flush();
    expect(world.log.length).toBe(before);
    await bob.setTyping(conversation, false);
    await bob.flush();
    await alice.sync();
    expect(seen).toEqual(["bob true", "bob false"]);
  });
});
