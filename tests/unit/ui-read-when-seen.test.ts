import { describe, expect, it } from "vitest";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { chatContext } from "./chat-context.js";
import { threeFriends } from "./group-world.js";

// A chat open on screen is read only while its newest message is seen: the timeline at its
// bottom on a shown page. Messages that come while Bob reads further up are counted for the
// jump button, and Alice gets no `read` receipt for them until Bob is back at the newest.
describe("a chat marked read only while its newest message is seen", () => {
  it("counts what comes while Bob reads further up, sends no read receipt for it, and reads it at the newest", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    await alice.sendText(bob.address, "Hello Bob");
    await alice.flush();
    await bob.sync();
    const chat = (await bob.conversations()).find((c) => c.peer === alice.address)!.conversation;
    const shown = new ConversationViewModel(chatContext(bob), chat, alice.address, "alice");
    await shown.load();
    shown.seeNewest(true);
    shown.seeNewest(false);

    const later = [await alice.sendText(bob.address, "Are you still there?"), await alice.sendText(bob.address, "Hello?")];
    await alice.flush();
    await bob.sync();
    await expect.poll(() => shown.newBelow).toBe(2);
    // What the app does as each arrives in the open chat: nothing, while Bob is not at the newest.
    shown.markRead();
    await bob.flush();
    await alice.sync();
    const aliceSees = async () => {
      await bob.flush();
      await alice.sync();
      const sent = (await alice.history(bob.address)).filter((m) => later.some((l) => l.id === m.id));
      return sent.map((m) => (m.read ? "read" : m.status));
    };
    expect(await aliceSees()).toEqual(["delivered", "delivered"]);
    expect((await bob.conversations()).find((c) => c.conversation === chat)?.unread).toBe(2);

    shown.seeNewest(true);
    expect(shown.newBelow).toBe(0);
    await expect.poll(aliceSees).toEqual(["read", "read"]);
    expect((await bob.conversations()).find((c) => c.conversation === chat)?.unread).toBe(0);
    shown.dispose();
  });

  it("opens at the first message unread, under its line, and reads nothing before the history is shown", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    await alice.sendText(bob.address, "Read before");
    await alice.flush();
    await bob.sync();
    const chat = (await bob.conversations()).find((c) => c.peer === alice.address)!.conversation;
    await bob.markRead(chat);
    // More than a page of history unread: the line's message is found on an older page.
    const texts = Array.from({ length: 55 }, (_, i) => `Unread ${i + 1}`);
    for (const text of texts) await alice.sendText(bob.address, text);
    await alice.flush();
    await bob.sync();
    const unread = (await bob.conversations()).find((c) => c.conversation === chat)!.unread;
    expect(unread).toBe(55);

    const shown = new ConversationViewModel(chatContext(bob), chat, alice.address, "alice", unread);
    // The view's first frame sees an empty timeline "at its newest": that reads nothing.
    shown.seeNewest(true);
    shown.markRead();
    await shown.load();
    const lines = shown.items.flatMap((i) => (i.kind === "unread" ? [i.label] : i.kind === "message" ? [i.text] : []));
    expect(lines.slice(lines.indexOf("55 unread messages") - 1, lines.indexOf("55 unread messages") + 2)).toEqual(["Read before", "55 unread messages", "Unread 1"]);
    // The view opens at the line, away from the newest: still unread, and the jump button counts them.
    shown.openedAtUnread();
    expect(shown.newBelow).toBe(55);
    shown.markRead();
    await bob.flush();
    expect((await bob.conversations()).find((c) => c.conversation === chat)?.unread).toBe(55);

    shown.seeNewest(true);
    expect(shown.newBelow).toBe(0);
    await expect.poll(async () => (await bob.conversations()).find((c) => c.conversation === chat)?.unread).toBe(0);
    // The line stays while the chat is open, as messengers keep it.
    expect(shown.items.some((i) => i.kind === "unread")).toBe(true);
    shown.dispose();
  });
});
