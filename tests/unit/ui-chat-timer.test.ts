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
});
