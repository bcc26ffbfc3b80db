import { describe, expect, it } from "vitest";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { threeFriends } from "./group-world.js";
import { chatContext } from "./chat-context.js";

const texts = (shown: ConversationViewModel) => shown.items.flatMap((item) => (item.kind === "message" ? [item.text] : []));

// A chat opened with a friend before either wrote has no conversation yet; the friend's first
// message makes one. What it says shows in the open chat, however the core told of the two.
describe("a chat open before its conversation exists", () => {
  it("shows the friend's first messages as they arrive", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    const shown = new ConversationViewModel(chatContext(bob), null, alice.address, "alice");
    bob.events.on("conversation", (summary) => shown.adopt(summary));
    await shown.load();
    expect(texts(shown)).toEqual([]);

    await alice.sendText(bob.address, "Welcome to im.bob.test!");
    await alice.sendText(bob.address, "Say hi when you are in");
    await alice.flush();
    await bob.sync();
    await expect.poll(() => texts(shown)).toEqual(["Welcome to im.bob.test!", "Say hi when you are in"]);
    expect(shown.conversation).not.toBeNull();
  });
});

// The composer is there at once; the draft kept for the chat is read while its history loads.
describe("typing while a chat opens", () => {
  it("keeps and sends what was typed before the kept draft was read", { timeout: 60_000 }, async () => {
    const { alice, bob } = await threeFriends();
    const ctx = chatContext(alice);
    const kept = ctx.records.draft.bind(ctx.records);
    let asked!: () => void;
    const askedFor = new Promise<void>((done) => (asked = done));
    let release!: () => void;
    const reading = new Promise<void>((done) => (release = done));
    ctx.records.draft = async (chat) => {
      asked();
      const text = await kept(chat);
      await reading;
      return text;
    };
    const shown = new ConversationViewModel(ctx, null, bob.address, "bob");
    const loading = shown.load();
    await askedFor;
    shown.setDraft("See you at 6");
    release();
    await loading;
    expect(shown.draft).toBe("See you at 6");
    await shown.send(shown.draft);
    expect(texts(shown)).toEqual(["See you at 6"]);
  });
});
