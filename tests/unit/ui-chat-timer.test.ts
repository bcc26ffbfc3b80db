import { describe, expect, it } from "vitest";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { syncAll, tripGroup } from "./group-world.js";
import { chatContext } from "./chat-context.js";

describe("a group's timer in its open chat", () => {
  it("follows a timer another member set, and says why one cannot be set after leaving", { timeout: 60_000 }, async () => {
    const { alice, bob, carol, conversation } = await tripGroup();
    const shown = new ConversationViewModel(chatContext(alice), conversation, null, "Trip");
    await bob.setChatRetention(conversation, 7);
    await bob.flush();
    await syncAll(alice);
    await expect.poll(() => shown.retentionOverride).toBe(7);

    await alice.leaveGroup(conversation);
    await alice.flush();
    await syncAll(bob, carol, alice);
    await shown.setRetention(30);
    expect(shown.error).toMatch(/no longer a member/);
    expect(shown.retentionOverride).toBe(7);
    shown.dispose();
  });

  it("shows the last timer set when an earlier one's answer comes after it (the extension's panel asks its background)", { timeout: 60_000 }, async () => {
    const { alice, bob, conversation } = await tripGroup();
    let release!: () => void;
    const late = new Promise<void>((resolve) => (release = resolve));
    let holdNext = false;
    const slowFirst = new Proxy(alice, {
      get(target, key) {
        const member: unknown = Reflect.get(target, key, target);
        if (key !== "chatRetention") return typeof member === "function" ? member.bind(target) : member;
        return async (chat: string) => {
          const days = await target.chatRetention(chat);
          if (holdNext) {
            holdNext = false;
            await late;
          }
          return days;
        };
      },
    });
    const shown = new ConversationViewModel(chatContext(slowFirst), conversation, null, "Trip");
    await shown.load();
    holdNext = true;
    await bob.setChatRetention(conversation, 7);
    await bob.flush();
    await syncAll(alice);
    await bob.setChatRetention(conversation, 30);
    await bob.flush();
    await syncAll(alice);
    await expect.poll(() => shown.retentionOverride).toBe(30);
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(shown.retentionOverride).toBe(30);
    shown.dispose();
  });
});
