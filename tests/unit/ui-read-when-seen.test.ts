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
});
