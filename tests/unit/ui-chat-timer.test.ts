import { describe, expect, it } from "vitest";
import type { ChatContext } from "../../ui/view-models/chat-context.js";
import { ConversationViewModel } from "../../ui/view-models/conversation-model.js";
import { translator } from "../../ui/i18n/translate.js";
import type { EmsgClient } from "../../shared/client/client.js";
import { syncAll, tripGroup } from "./group-world.js";

/** What the chat screens get from the app, over a real client core; only what a timer needs. */
function chatContext(client: EmsgClient): ChatContext {
  return {
    client,
    records: undefined as never,
    locale: "en",
    t: translator("en"),
    link: "online",
    now: () => Date.now(),
    favoritesChanged: () => undefined,
    runExpiry: () => client.expire(),
  } as unknown as ChatContext;
}

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
